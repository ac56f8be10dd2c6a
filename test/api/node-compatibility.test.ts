/**
 * `stack.net` is a drop-in for Node's `net`: every public method of Node's Socket and Server exists on
 * ours, and every public export of the module exists on the API. The type-level half of the check is
 * helpers/node-type-compatibility.ts (our classes assignable to Node's types).
 */
import * as net from 'node:net';
import { expect, test } from 'vitest';
import { createDgramApi } from '../../src/api/dgram/dgram-api.js';
import { createNetApi } from '../../src/api/net/net-api.js';
import { simPair } from './helpers/sim-pair.js';

function publicMembers(prototype: object): Set<string> {
  const names = new Set<string>();
  for (let p = prototype; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const name of Object.getOwnPropertyNames(p)) if (!name.startsWith('_')) names.add(name);
  }
  return names;
}

test('Socket, Server and the module have every public member of Node’s', () => {
  const api = createNetApi(simPair().client);
  const socketMembers = publicMembers(api.Socket.prototype);
  expect([...publicMembers(net.Socket.prototype)].filter((name) => !socketMembers.has(name))).toEqual([]);
  const serverMembers = publicMembers(api.Server.prototype);
  expect([...publicMembers(net.Server.prototype)].filter((name) => !serverMembers.has(name))).toEqual([]);
  expect(
    Object.keys(net).filter((name) => !name.startsWith('_') && name !== 'default' && !(name in api)),
  ).toEqual([]);
});

test('the dgram Socket and module have every public member of Node’s', async () => {
  const dgram = await import('node:dgram');
  const api = createDgramApi(simPair().client);
  const members = publicMembers(api.Socket.prototype);
  expect([...publicMembers(dgram.Socket.prototype)].filter((name) => !members.has(name))).toEqual([]);
  expect(
    Object.keys(dgram).filter((name) => !name.startsWith('_') && name !== 'default' && !(name in api)),
  ).toEqual([]);
});
