/**
 * The behaviours of Node's `dgram` (udp4), written once and run against Node's own module on loopback
 * and against `stack.dgram` over a simulated network. A harness gives a module for the "server" side
 * and one for the "client" side (the same module for Node).
 */
import type { EventEmitter } from 'node:events';
import { describe, expect, test } from 'vitest';

export interface RemoteInfoLike {
  address: string;
  family: string;
  port: number;
  size: number;
}

export interface DgramAddressLike {
  address: string;
  family: string;
  port: number;
}

/** The part of `dgram.Socket` the cases use. */
export interface DgramSocketLike extends EventEmitter {
  bind(port?: number, address?: string, callback?: () => void): this;
  send(msg: unknown, ...args: unknown[]): void;
  connect(port: number, address?: string, callback?: () => void): void;
  disconnect(): void;
  remoteAddress(): DgramAddressLike;
  close(callback?: () => void): this;
  address(): DgramAddressLike;
  setBroadcast(flag: boolean): void;
  setTTL(ttl: number): number;
  setMulticastTTL(ttl: number): number;
  setMulticastLoopback(flag: boolean): boolean;
  setMulticastInterface(address: string): void;
  addMembership(group: string, iface?: string): void;
  dropMembership(group: string, iface?: string): void;
  addSourceSpecificMembership(source: string, group: string, iface?: string): void;
  dropSourceSpecificMembership(source: string, group: string, iface?: string): void;
  setRecvBufferSize(size: number): void;
  getRecvBufferSize(): number;
  setSendBufferSize(size: number): void;
  getSendBufferSize(): number;
  getSendQueueSize(): number;
  getSendQueueCount(): number;
}

export interface DgramModuleLike {
  createSocket(
    type: 'udp4' | { type: 'udp4'; signal?: AbortSignal; recvBufferSize?: number },
    listener?: (msg: Buffer, rinfo: RemoteInfoLike) => void,
  ): DgramSocketLike;
}

export interface DgramHarness {
  readonly serverDgram: DgramModuleLike;
  readonly clientDgram: DgramModuleLike;
  readonly serverHost: string;
  readonly clientHost: string;
  /** A UDP port on serverHost nobody listens on. */
  readonly closedPort: number;
  run<T>(body: () => Promise<T>): Promise<T>;
  delay(ms: number): Promise<void>;
}

export interface DgramBehaviourCase {
  readonly name: string;
  run(h: DgramHarness): Promise<void>;
}

export function describeDgramBehaviour(title: string, makeHarness: () => DgramHarness): void {
  describe(title, () => {
    for (const c of dgramBehaviourCases) {
      test(c.name, async () => {
        const h = makeHarness();
        await h.run(() => c.run(h));
      });
    }
  });
}

// ---------------------------------------------------------------------------------------------------
// Helpers

function next<T extends unknown[] = unknown[]>(emitter: EventEmitter, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, (...args: unknown[]) => resolve(args as T)));
}

function thrown(fn: () => unknown): Error & { code?: string; syscall?: string; errno?: number } {
  try {
    fn();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected an exception');
}

class Sockets {
  private readonly all: DgramSocketLike[] = [];
  add(socket: DgramSocketLike): DgramSocketLike {
    this.all.push(socket);
    return socket;
  }
  closeAll(): void {
    for (const socket of this.all) {
      try {
        socket.close();
      } catch {
        // already closed
      }
    }
  }
}

async function withSockets(body: (sockets: Sockets) => Promise<void>): Promise<void> {
  const sockets = new Sockets();
  try {
    await body(sockets);
  } finally {
    sockets.closeAll();
  }
}

async function bound(socket: DgramSocketLike, host: string, port = 0): Promise<number> {
  await new Promise<void>((resolve) => socket.bind(port, host, resolve));
  return socket.address().port;
}

/** Collects messages until `count` arrived. */
function messages(socket: DgramSocketLike, count: number): Promise<Array<[Buffer, RemoteInfoLike]>> {
  const got: Array<[Buffer, RemoteInfoLike]> = [];
  return new Promise((resolve) => {
    socket.on('message', (msg: Buffer, rinfo: RemoteInfoLike) => {
      got.push([msg, rinfo]);
      if (got.length === count) resolve(got);
    });
  });
}

function sendAsync(socket: DgramSocketLike, ...args: unknown[]): Promise<[Error | null, number | undefined]> {
  return new Promise((resolve) =>
    socket.send(args[0], ...args.slice(1), (error: Error | null, bytes?: number) => resolve([error, bytes])),
  );
}

const UV_EADDRINUSE = -98;
const UV_ECONNREFUSED = -111;
const UV_EMSGSIZE = -90;
const UV_EACCES = -13;

// ---------------------------------------------------------------------------------------------------
// The cases

export const dgramBehaviourCases: readonly DgramBehaviourCase[] = [
  {
    name: 'bind(0, host, callback): "listening", callback, ephemeral port in address()',
    run: (h) =>
      withSockets(async (sockets) => {
        const socket = sockets.add(h.serverDgram.createSocket('udp4'));
        let callbackRan = false;
        const listening = next(socket, 'listening');
        socket.bind(0, h.serverHost, () => {
          callbackRan = true;
        });
        await listening;
        expect(callbackRan).toBe(true);
        const address = socket.address();
        expect(address.address).toBe(h.serverHost);
        expect(address.family).toBe('IPv4');
        expect(address.port).toBeGreaterThanOrEqual(1024);
        expect(address.port).toBeLessThanOrEqual(65535);
        expect(thrown(() => socket.bind(0)).code).toBe('ERR_SOCKET_ALREADY_BOUND');
      }),
  },
  {
    name: 'binding a port in use: "error" EADDRINUSE (syscall bind); the socket can bind again',
    run: (h) =>
      withSockets(async (sockets) => {
        const first = sockets.add(h.serverDgram.createSocket('udp4'));
        const port = await bound(first, h.serverHost);
        const second = sockets.add(h.serverDgram.createSocket('udp4'));
        let callbackRan = false;
        second.bind(port, h.serverHost, () => {
          callbackRan = true;
        });
        const [error] = await next<
          [Error & { code: string; errno: number; syscall: string; address: string; port: number }]
        >(second, 'error');
        expect([error.code, error.errno, error.syscall, error.address, error.port]).toEqual([
          'EADDRINUSE',
          UV_EADDRINUSE,
          'bind',
          h.serverHost,
          port,
        ]);
        expect(error.message).toBe(`bind EADDRINUSE ${h.serverHost}:${port}`);
        expect(callbackRan).toBe(false);
        expect(await bound(second, h.serverHost)).not.toBe(port);
      }),
  },
  {
    name: 'send forms (string, offset/length, buffer list, Uint8Array) arrive with rinfo; callbacks get bytes',
    run: (h) =>
      withSockets(async (sockets) => {
        const server = sockets.add(h.serverDgram.createSocket('udp4'));
        const port = await bound(server, h.serverHost);
        const client = sockets.add(h.clientDgram.createSocket('udp4'));
        const clientPort = await bound(client, h.clientHost);
        const arriving = messages(server, 4);
        expect(await sendAsync(client, 'hello', port, h.serverHost)).toEqual([null, 5]);
        expect(await sendAsync(client, Buffer.from('0123456789'), 2, 3, port, h.serverHost)).toEqual([
          null,
          3,
        ]);
        expect(
          await sendAsync(client, [Buffer.from('ab'), 'cd', new Uint8Array([0x65])], port, h.serverHost),
        ).toEqual([null, 5]);
        expect(await sendAsync(client, new Uint8Array([1, 2, 3, 4]), port, h.serverHost)).toEqual([null, 4]);
        const got = await arriving;
        expect(got.map(([msg]) => msg.toString('latin1'))).toEqual([
          'hello',
          '234',
          'abcde',
          '\x01\x02\x03\x04',
        ]);
        for (const [msg, rinfo] of got) {
          expect(Buffer.isBuffer(msg)).toBe(true);
          expect(rinfo).toEqual({
            address: h.clientHost,
            family: 'IPv4',
            port: clientPort,
            size: msg.length,
          });
        }
      }),
  },
  {
    name: 'send on an unbound socket binds it first ("listening", 0.0.0.0 and an ephemeral port)',
    run: (h) =>
      withSockets(async (sockets) => {
        const server = sockets.add(h.serverDgram.createSocket('udp4'));
        const port = await bound(server, h.serverHost);
        const client = sockets.add(h.clientDgram.createSocket('udp4'));
        const listening = next(client, 'listening');
        const arriving = messages(server, 1);
        client.send('implicit', port, h.serverHost);
        await listening;
        const address = client.address();
        expect(address.address).toBe('0.0.0.0');
        const [[msg, rinfo]] = (await arriving) as [[Buffer, RemoteInfoLike]];
        expect(msg.toString()).toBe('implicit');
        expect(rinfo.port).toBe(address.port);
        expect(rinfo.address).toBe(h.clientHost);
      }),
  },
  {
    name: 'a lookup option is called as Node calls it: (host, 4, callback) at bind (0.0.0.0 for none) and at each send',
    run: (h) =>
      withSockets(async (sockets) => {
        const server = sockets.add(h.serverDgram.createSocket('udp4'));
        const port = await bound(server, h.serverHost);
        const calls: unknown[][] = [];
        const lookup = (host: string, family: unknown, callback: (...answer: unknown[]) => void) => {
          calls.push([host, family, typeof callback]);
          setImmediate(() => callback(null, host === 'server.test' ? h.serverHost : host, 4));
        };
        const client = sockets.add(
          h.clientDgram.createSocket({ type: 'udp4', lookup } as unknown as { type: 'udp4' }),
        );
        const bindWithoutHost = client.bind as unknown as (port: number, callback: () => void) => void;
        await new Promise<void>((resolve) => bindWithoutHost.call(client, 0, resolve));
        const arriving = messages(server, 2);
        client.send('by name', port, 'server.test');
        client.send('by address', port, h.serverHost);
        const got = await arriving;
        expect(got.map(([msg]) => msg.toString())).toEqual(['by name', 'by address']);
        expect(calls).toEqual([
          ['0.0.0.0', 4, 'function'],
          ['server.test', 4, 'function'],
          [h.serverHost, 4, 'function'],
        ]);
      }),
  },
  {
    name: 'connect: "connect", remoteAddress(), sends without a destination, filters other senders, disconnect',
    run: (h) =>
      withSockets(async (sockets) => {
        const server = sockets.add(h.serverDgram.createSocket('udp4'));
        const port = await bound(server, h.serverHost);
        const other = sockets.add(h.serverDgram.createSocket('udp4'));
        await bound(other, h.serverHost);
        const client = sockets.add(h.clientDgram.createSocket('udp4'));
        let callbackRan = false;
        const connected = next(client, 'connect');
        client.connect(port, h.serverHost, () => {
          callbackRan = true;
        });
        await connected;
        expect(callbackRan).toBe(true);
        expect(client.remoteAddress()).toEqual({ address: h.serverHost, family: 'IPv4', port });
        expect(client.address().address).toBe(h.clientHost);
        expect(thrown(() => client.connect(port, h.serverHost)).code).toBe('ERR_SOCKET_DGRAM_IS_CONNECTED');
        expect(thrown(() => client.send(Buffer.from('x'), 0, 1, port, h.serverHost)).code).toBe(
          'ERR_SOCKET_DGRAM_IS_CONNECTED',
        );
        // Sends go to the peer; replies from the peer arrive, datagrams from anyone else do not.
        const atServer = messages(server, 2);
        expect(await sendAsync(client, 'one')).toEqual([null, 3]);
        client.send('two');
        const got = await atServer;
        expect(got.map(([msg]) => msg.toString())).toEqual(['one', 'two']);
        const clientPort = got[0]![1].port;
        const atClient: string[] = [];
        client.on('message', (msg: Buffer) => atClient.push(msg.toString()));
        other.send('intruder', clientPort, h.clientHost);
        await h.delay(20);
        server.send('reply', clientPort, h.clientHost);
        while (atClient.length === 0) await h.delay(1);
        await h.delay(20);
        expect(atClient).toEqual(['reply']);
        client.disconnect();
        expect(thrown(() => client.remoteAddress()).code).toBe('ERR_SOCKET_DGRAM_NOT_CONNECTED');
        expect(thrown(() => client.disconnect()).code).toBe('ERR_SOCKET_DGRAM_NOT_CONNECTED');
      }),
  },
  {
    name: 'a connected socket hears port unreachable as "error" ECONNREFUSED (syscall recvmsg) and stays open',
    run: (h) =>
      withSockets(async (sockets) => {
        const client = sockets.add(h.clientDgram.createSocket('udp4'));
        await new Promise<void>((resolve) => client.connect(h.closedPort, h.serverHost, resolve));
        const failed = next<[Error & { code: string; errno: number; syscall: string }]>(client, 'error');
        client.send('anyone?');
        const [error] = await failed;
        expect([error.code, error.errno, error.syscall, error.message]).toEqual([
          'ECONNREFUSED',
          UV_ECONNREFUSED,
          'recvmsg',
          'recvmsg ECONNREFUSED',
        ]);
        expect(client.address().port).toBeGreaterThan(0);
        expect(client.remoteAddress().port).toBe(h.closedPort);
      }),
  },
  {
    name: 'an unconnected socket hears nothing about a closed port',
    run: (h) =>
      withSockets(async (sockets) => {
        const client = sockets.add(h.clientDgram.createSocket('udp4'));
        const errors: unknown[] = [];
        client.on('error', (error) => errors.push(error));
        expect(await sendAsync(client, 'anyone?', h.closedPort, h.serverHost)).toEqual([null, 7]);
        await h.delay(50);
        expect(errors).toEqual([]);
      }),
  },
  {
    name: 'close(): callback and "close"; afterwards send, address and close throw ERR_SOCKET_DGRAM_NOT_RUNNING',
    run: async (h) => {
      const socket = h.clientDgram.createSocket('udp4');
      await bound(socket, h.clientHost);
      let callbackRan = false;
      const closed = next(socket, 'close');
      socket.close(() => {
        callbackRan = true;
      });
      await closed;
      expect(callbackRan).toBe(true);
      expect(thrown(() => socket.send('x', 9, h.serverHost)).code).toBe('ERR_SOCKET_DGRAM_NOT_RUNNING');
      expect(thrown(() => socket.address()).code).toBe('ERR_SOCKET_DGRAM_NOT_RUNNING');
      expect(thrown(() => socket.close()).code).toBe('ERR_SOCKET_DGRAM_NOT_RUNNING');
    },
  },
  {
    name: 'unbound sockets: address() and setBroadcast() throw EBADF',
    run: (h) =>
      withSockets(async (sockets) => {
        const socket = sockets.add(h.clientDgram.createSocket('udp4'));
        const address = thrown(() => socket.address());
        expect([address.code, address.syscall, address.message]).toEqual([
          'EBADF',
          'getsockname',
          'getsockname EBADF',
        ]);
        const broadcast = thrown(() => socket.setBroadcast(true));
        expect([broadcast.code, broadcast.syscall]).toEqual(['EBADF', 'setBroadcast']);
      }),
  },
  {
    name: 'argument errors: port 0 is ERR_SOCKET_BAD_PORT; setTTL outside 1-255 is EINVAL',
    run: (h) =>
      withSockets(async (sockets) => {
        const socket = sockets.add(h.clientDgram.createSocket('udp4'));
        await bound(socket, h.clientHost);
        const port = thrown(() => socket.send('x', 0, h.serverHost));
        expect([port.code, port.name, port.message]).toEqual([
          'ERR_SOCKET_BAD_PORT',
          'RangeError',
          'Port should be > 0 and < 65536. Received type number (0).',
        ]);
        expect(thrown(() => socket.connect(0, h.serverHost)).code).toBe('ERR_SOCKET_BAD_PORT');
        expect(socket.setTTL(64)).toBe(64);
        for (const ttl of [0, 256]) {
          const error = thrown(() => socket.setTTL(ttl));
          expect([error.code, error.syscall, error.message]).toEqual(['EINVAL', 'setTTL', 'setTTL EINVAL']);
        }
      }),
  },
  {
    name: 'send errors reach the callback: EMSGSIZE over 65507 bytes, EACCES to broadcast without setBroadcast',
    run: (h) =>
      withSockets(async (sockets) => {
        const socket = sockets.add(h.clientDgram.createSocket('udp4'));
        await bound(socket, h.clientHost);
        const [tooBig] = (await sendAsync(socket, Buffer.alloc(65508), 9, h.serverHost)) as [
          Error & { code: string; errno: number; syscall: string },
          unknown,
        ];
        expect([tooBig.code, tooBig.errno, tooBig.syscall, tooBig.message]).toEqual([
          'EMSGSIZE',
          UV_EMSGSIZE,
          'send',
          `send EMSGSIZE ${h.serverHost}:9`,
        ]);
        const [denied] = (await sendAsync(socket, 'x', 9, '255.255.255.255')) as [
          Error & { code: string; errno: number; syscall: string },
          unknown,
        ];
        expect([denied.code, denied.errno, denied.syscall, denied.message]).toEqual([
          'EACCES',
          UV_EACCES,
          'send',
          'send EACCES 255.255.255.255:9',
        ]);
      }),
  },
  {
    name: 'a 60000-byte datagram arrives whole',
    run: (h) =>
      withSockets(async (sockets) => {
        const server = sockets.add(h.serverDgram.createSocket('udp4'));
        const port = await bound(server, h.serverHost);
        const client = sockets.add(h.clientDgram.createSocket('udp4'));
        const payload = Buffer.alloc(60000);
        for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + (i >> 8)) & 0xff;
        const arriving = messages(server, 1);
        expect(await sendAsync(client, payload, port, h.serverHost)).toEqual([null, 60000]);
        const [[msg, rinfo]] = (await arriving) as [[Buffer, RemoteInfoLike]];
        expect(rinfo.size).toBe(60000);
        expect(msg.equals(payload)).toBe(true);
      }),
  },
  {
    name: 'multicast options on a bound socket: memberships, TTLs, loopback, interface, with the kernel errors',
    run: (h) =>
      withSockets(async (sockets) => {
        const socket = sockets.add(h.clientDgram.createSocket('udp4'));
        await bound(socket, h.clientHost);
        const errorOf = (call: () => unknown) => {
          const error = thrown(call);
          return [error.code, error.syscall, error.message];
        };
        socket.addMembership('239.1.2.3');
        expect(errorOf(() => socket.addMembership('239.1.2.3'))).toEqual([
          'EADDRINUSE',
          'addMembership',
          'addMembership EADDRINUSE',
        ]);
        socket.dropMembership('239.1.2.3');
        expect(errorOf(() => socket.dropMembership('239.1.2.3'))).toEqual([
          'EADDRNOTAVAIL',
          'dropMembership',
          'dropMembership EADDRNOTAVAIL',
        ]);
        for (const bad of ['foo', '10.0.0.1']) {
          expect(errorOf(() => socket.addMembership(bad))).toEqual([
            'EINVAL',
            'addMembership',
            'addMembership EINVAL',
          ]);
        }
        expect(errorOf(() => socket.addMembership('239.1.2.3', 'foo'))[0]).toBe('EINVAL');
        socket.addSourceSpecificMembership('10.0.0.9', '232.1.1.1');
        socket.dropSourceSpecificMembership('10.0.0.9', '232.1.1.1');
        expect(errorOf(() => socket.addSourceSpecificMembership('10.0.0.9', '10.1.1.1'))[0]).toBe('EINVAL');
        // Source-specific memberships, as Linux keeps them per socket (ip_mc_source).
        const ssm = (call: () => unknown) => errorOf(call)[0];
        const add = (source: string, group = '232.1.1.1') =>
          socket.addSourceSpecificMembership(source, group);
        const drop = (source: string, group = '232.1.1.1') =>
          socket.dropSourceSpecificMembership(source, group);
        expect(ssm(() => drop('10.0.0.9'))).toBe('EINVAL'); // no membership of the group
        add('10.0.0.9');
        expect(errorOf(() => add('10.0.0.9'))).toEqual([
          'EADDRNOTAVAIL',
          'addSourceSpecificMembership',
          'addSourceSpecificMembership EADDRNOTAVAIL',
        ]);
        expect(ssm(() => socket.addMembership('232.1.1.1'))).toBe('EADDRINUSE');
        expect(ssm(() => drop('10.0.0.11'))).toBe('EADDRNOTAVAIL');
        add('232.1.1.1'); // a multicast source is taken as any address
        for (const bad of ['x', '::1']) expect(ssm(() => add(bad))).toBe('EINVAL');
        expect(ssm(() => socket.addSourceSpecificMembership('10.0.0.9', '232.1.1.2', 'foo'))).toBe('EINVAL');
        // An IPv6 group on a udp4 socket: an IPv6 option on an IPv4 socket.
        expect(ssm(() => add('fd00::9', 'ff3e::1'))).toBe('ENOPROTOOPT');
        expect(ssm(() => socket.addMembership('ff3e::1'))).toBe('ENOPROTOOPT');
        // net.ipv4.igmp_max_msf: 10 sources per group and socket.
        for (let i = 1; i <= 8; i++) add(`10.0.1.${i}`);
        expect(ssm(() => add('10.0.1.9'))).toBe('ENOBUFS');
        drop('232.1.1.1');
        for (let i = 1; i <= 8; i++) drop(`10.0.1.${i}`);
        // The last source dropped leaves the group.
        drop('10.0.0.9');
        expect(ssm(() => drop('10.0.0.9'))).toBe('EINVAL');
        // A membership for every source becomes a source-specific one; dropMembership ends either.
        socket.addMembership('232.1.1.3');
        add('10.0.0.9', '232.1.1.3');
        expect(ssm(() => socket.addMembership('232.1.1.3'))).toBe('EADDRINUSE');
        socket.dropMembership('232.1.1.3');
        expect(ssm(() => drop('10.0.0.9', '232.1.1.3'))).toBe('EINVAL');
        // net.ipv4.igmp_max_memberships: 20 groups per socket.
        for (let i = 1; i <= 20; i++) socket.addMembership(`239.2.2.${i}`);
        expect(ssm(() => socket.addMembership('239.2.2.21'))).toBe('ENOBUFS');
        expect(ssm(() => add('10.0.0.9', '232.1.1.4'))).toBe('ENOBUFS');
        for (let i = 1; i <= 20; i++) socket.dropMembership(`239.2.2.${i}`);
        expect(socket.setMulticastTTL(0)).toBe(0);
        expect(socket.setMulticastTTL(255)).toBe(255);
        expect(errorOf(() => socket.setMulticastTTL(256))).toEqual([
          'EINVAL',
          'setMulticastTTL',
          'setMulticastTTL EINVAL',
        ]);
        expect(socket.setTTL(1.5)).toBe(1.5);
        expect(socket.setMulticastLoopback(false)).toBe(false);
        socket.setMulticastInterface(h.clientHost);
        socket.setMulticastInterface('0.0.0.0');
        expect(errorOf(() => socket.setMulticastInterface('foo'))[0]).toBe('EINVAL');
        socket.setBroadcast(true);
        socket.setBroadcast(false);
      }),
  },
  {
    name: 'udp6 setMulticastInterface: IPv6 text with or without a zone (an unknown one is the default), IPv4 text as on udp4; EINVAL otherwise',
    run: (h) =>
      withSockets(async (sockets) => {
        const socket = sockets.add(h.clientDgram.createSocket('udp6' as 'udp4'));
        await new Promise<void>((resolve) => socket.bind(0, '::', resolve));
        socket.setMulticastInterface('::');
        socket.setMulticastInterface('::%lo0');
        socket.setMulticastInterface('::%no-such-interface');
        // IPv4 text is IP_MULTICAST_IF, as on a udp4 socket: an address of this host or the wildcard.
        socket.setMulticastInterface('0.0.0.0');
        const failures = ['', 'undefined', 'fe80::1::2', '1.2.3', '192.0.2.9'].map((text) => {
          const error = thrown(() => socket.setMulticastInterface(text));
          return [text, error.code, error.syscall, error.message];
        });
        expect(failures).toEqual([
          ['', 'EINVAL', 'setMulticastInterface', 'setMulticastInterface EINVAL'],
          ['undefined', 'EINVAL', 'setMulticastInterface', 'setMulticastInterface EINVAL'],
          ['fe80::1::2', 'EINVAL', 'setMulticastInterface', 'setMulticastInterface EINVAL'],
          ['1.2.3', 'EINVAL', 'setMulticastInterface', 'setMulticastInterface EINVAL'],
          ['192.0.2.9', 'EADDRNOTAVAIL', 'setMulticastInterface', 'setMulticastInterface EADDRNOTAVAIL'],
        ]);
      }),
  },
  {
    name: 'buffer sizes as Linux reports them (doubled, with a floor); send queue counters at rest are 0',
    run: (h) =>
      withSockets(async (sockets) => {
        const socket = sockets.add(h.clientDgram.createSocket('udp4'));
        await bound(socket, h.clientHost);
        socket.setSendBufferSize(8192);
        expect(socket.getSendBufferSize()).toBe(16384);
        socket.setRecvBufferSize(1);
        expect(socket.getRecvBufferSize()).toBe(2304);
        const bad = thrown(() => socket.setRecvBufferSize(1.5));
        expect([bad.name, bad.code, bad.message]).toEqual([
          'TypeError',
          'ERR_SOCKET_BAD_BUFFER_SIZE',
          'Buffer size must be a positive integer',
        ]);
        expect([socket.getSendQueueSize(), socket.getSendQueueCount()]).toEqual([0, 0]);
        const sized = sockets.add(h.clientDgram.createSocket({ type: 'udp4', recvBufferSize: 10000 }));
        await bound(sized, h.clientHost);
        expect(sized.getRecvBufferSize()).toBe(20000);
      }),
  },
  {
    name: 'an AbortSignal closes a socket; an aborted one closes at once',
    run: (h) =>
      withSockets(async (sockets) => {
        const controller = new AbortController();
        const socket = sockets.add(h.clientDgram.createSocket({ type: 'udp4', signal: controller.signal }));
        await bound(socket, h.clientHost);
        const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
        controller.abort();
        await closed;
        expect(thrown(() => socket.address()).code).toBe('ERR_SOCKET_DGRAM_NOT_RUNNING');
        const early = h.clientDgram.createSocket({ type: 'udp4', signal: AbortSignal.abort() });
        expect(thrown(() => early.address()).code).toBe('ERR_SOCKET_DGRAM_NOT_RUNNING');
      }),
  },
  {
    name: 'Symbol.asyncDispose closes a bound socket ("close" first); disposing again is harmless',
    run: (h) =>
      withSockets(async (sockets) => {
        const socket = sockets.add(h.clientDgram.createSocket('udp4'));
        await bound(socket, h.clientHost);
        let closed = false;
        socket.once('close', () => {
          closed = true;
        });
        await (socket as unknown as AsyncDisposable)[Symbol.asyncDispose]();
        expect(closed).toBe(true);
        expect(thrown(() => socket.address()).code).toBe('ERR_SOCKET_DGRAM_NOT_RUNNING');
        await (socket as unknown as AsyncDisposable)[Symbol.asyncDispose]();
      }),
  },
  {
    name: 'deprecated internals (DEP0112): _bindState 0/1/2, _queue while binding, _receiving, _stopReceiving()',
    run: (h) =>
      withSockets(async (sockets) => {
        const socket = sockets.add(h.clientDgram.createSocket('udp4')) as DgramSocketLike & DgramInternals;
        expect([socket._bindState, socket._queue, socket._receiving, socket._reuseAddr]).toEqual([
          0,
          undefined,
          false,
          undefined,
        ]);
        const listening = next(socket, 'listening');
        socket.bind(0, h.clientHost);
        expect(socket._bindState).toBe(1);
        await listening;
        expect([socket._bindState, socket._receiving]).toEqual([2, true]);
        // A send on an unbound socket waits in _queue while the implicit bind runs.
        const sender = sockets.add(h.serverDgram.createSocket('udp4')) as DgramSocketLike & DgramInternals;
        const sent = sendAsync(sender, 'one', socket.address().port, h.clientHost);
        expect([sender._bindState, sender._queue?.length]).toEqual([1, 1]);
        const first = messages(socket, 1);
        expect((await sent)[0]).toBe(null);
        expect(String((await first)[0]![0])).toBe('one');
        expect(sender._queue).toBe(undefined);
        // After _stopReceiving() nothing is delivered.
        socket._stopReceiving();
        expect(socket._receiving).toBe(false);
        let heard = 0;
        socket.on('message', () => heard++);
        await sendAsync(sender, 'two', socket.address().port, h.clientHost);
        await h.delay(20);
        expect(heard).toBe(0);
        socket.close();
        expect(socket._receiving).toBe(false);
        expect(thrown(() => socket._healthCheck()).code).toBe('ERR_SOCKET_DGRAM_NOT_RUNNING');
      }),
  },
];

/** Node's deprecated dgram internals (DEP0112), present on Node's socket and on tcpts's. */
interface DgramInternals {
  readonly _bindState: number;
  readonly _queue: unknown[] | undefined;
  readonly _receiving: boolean;
  readonly _reuseAddr: boolean | undefined;
  _healthCheck(): void;
  _stopReceiving(): void;
}
