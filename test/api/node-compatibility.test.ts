/**
 * The whole surface of Node's `net` and `dgram`, compared member by member with tcpts's: the modules'
 * exports, every member of the classes' prototypes (underscore ones and registered symbols included —
 * libraries read `_connecting`, `_getpeername()`, `_handle`, `_bindState`...), every property a fresh
 * instance has, and the statics of the classes. What Node has and tcpts lacks must be exactly the list
 * below, each with its reason (docs/sockets.md repeats them). Node's private symbols (unregistered, like
 * `kHandle`) are internals no library can reach and are not compared. The type-level half of the check
 * is helpers/node-type-compatibility.ts (our classes assignable to Node's types).
 */
import * as dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import { Duplex } from 'node:stream';
import { expect, test } from 'vitest';
import { createDgramApi } from '../../src/api/dgram/dgram-api.js';
import { createNetApi } from '../../src/api/net/net-api.js';
import { simPair } from './helpers/sim-pair.js';

/** Members of Node's that tcpts does not have, and why. */
const KNOWN_ABSENT: Readonly<Record<string, string>> = {
  'net.Socket.prototype._writeGeneric': 'libuv write path (tcpts writes through _write/_writev)',
  'net.Server.prototype._listen2': "Node's handle setup (tcpts listens on its own TCP layer)",
  'net.Server.prototype._setupWorker': 'cluster (tcpts servers are not shared with workers)',
};

/** The names of a prototype chain's members from `from` up to (not including) `stop`. */
function memberNames(from: object, stop: object | null): Set<string> {
  const names = new Set<string>();
  for (let p: object | null = from; p !== null && p !== stop; p = Object.getPrototypeOf(p)) {
    for (const key of Reflect.ownKeys(p)) {
      const name = keyName(key);
      if (name !== undefined) names.add(name);
    }
  }
  return names;
}

/** A key's name, or undefined for Node's private symbols (registered and well-known ones are public). */
function keyName(key: string | symbol): string | undefined {
  if (typeof key === 'string') return key;
  const registered = Symbol.keyFor(key);
  if (registered !== undefined) return `Symbol.for(${registered})`;
  const wellKnown = Object.getOwnPropertyNames(Symbol).find(
    (name) => (Symbol as unknown as Record<string, unknown>)[name] === key,
  );
  return wellKnown === undefined ? undefined : `Symbol.${wellKnown}`;
}

/** Node's names (prefixed with `label`) that tcpts's `has` answers false for. */
function absent(label: string, nodeNames: Iterable<string>, has: (name: string) => boolean): string[] {
  return [...nodeNames].filter((name) => !has(name)).map((name) => `${label}${name}`);
}

function has(target: object, name: string): boolean {
  if (name.startsWith('Symbol.for(')) return Symbol.for(name.slice(11, -1)) in target;
  if (name.startsWith('Symbol.')) {
    return (Symbol as unknown as Record<string, symbol>)[name.slice(7)]! in target;
  }
  return name in target;
}

function compare(found: string[]): void {
  const expected = Object.keys(KNOWN_ABSENT).filter((name) => found.includes(name));
  expect(found.sort()).toEqual(expected.sort());
}

test('net: the exports, Socket and Server prototypes, instances and statics have every member of Node’s', () => {
  const api = createNetApi(simPair().client) as unknown as Record<string, unknown> & {
    Socket: new () => object;
    Server: new () => object;
    createServer(): object;
  };
  const found = [
    ...absent(
      'net.',
      Object.keys(net).filter((name) => name !== 'default'),
      (name) => name in api,
    ),
    ...absent('net.Socket.prototype.', memberNames(net.Socket.prototype, Duplex.prototype), (name) =>
      has(api.Socket.prototype as object, name),
    ),
    ...absent('net.Server.prototype.', memberNames(net.Server.prototype, EventEmitter.prototype), (name) =>
      has(api.Server.prototype as object, name),
    ),
    ...absent('net.Socket#', memberNames(new net.Socket(), net.Socket.prototype), (name) =>
      has(new api.Socket(), name),
    ),
    ...absent('net.Server#', memberNames(net.createServer(), net.Server.prototype), (name) =>
      has(api.createServer(), name),
    ),
    ...absent('net.Socket.', memberNames(net.Socket, Function.prototype), (name) => has(api.Socket, name)),
    ...absent('net.Server.', memberNames(net.Server, Function.prototype), (name) => has(api.Server, name)),
  ];
  compare(found);
});

test('net: BlockList and SocketAddress have every member of Node’s', () => {
  const api = createNetApi(simPair().client);
  const found = [
    ...absent('net.BlockList.prototype.', memberNames(net.BlockList.prototype, Object.prototype), (name) =>
      has(api.BlockList.prototype, name),
    ),
    ...absent('net.BlockList.', memberNames(net.BlockList, Function.prototype), (name) =>
      has(api.BlockList, name),
    ),
    ...absent(
      'net.SocketAddress.prototype.',
      memberNames(net.SocketAddress.prototype, Object.prototype),
      (name) => has(api.SocketAddress.prototype, name),
    ),
    ...absent('net.SocketAddress.', memberNames(net.SocketAddress, Function.prototype), (name) =>
      has(api.SocketAddress, name),
    ),
  ];
  compare(found);
});

test('dgram: the exports, the Socket prototype, instances and statics have every member of Node’s', () => {
  const api = createDgramApi(simPair().client) as unknown as Record<string, unknown> & {
    Socket: { prototype: object } & (new (type: string) => object);
  };
  const found = [
    ...absent(
      'dgram.',
      Object.keys(dgram).filter((name) => name !== 'default'),
      (name) => name in api,
    ),
    ...absent(
      'dgram.Socket.prototype.',
      memberNames(dgram.Socket.prototype, EventEmitter.prototype),
      (name) => has(api.Socket.prototype, name),
    ),
    ...absent('dgram.Socket#', memberNames(dgram.createSocket('udp4'), dgram.Socket.prototype), (name) =>
      has(new api.Socket('udp4'), name),
    ),
    ...absent('dgram.Socket.', memberNames(dgram.Socket, Function.prototype), (name) =>
      has(api.Socket, name),
    ),
  ];
  compare(found);
});
