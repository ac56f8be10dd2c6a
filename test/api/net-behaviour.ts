/**
 * The behaviours Node's `net` module guarantees, written once and run against two implementations: Node's
 * own `net` over the kernel's loopback (proving every assertion true of the reference) and `stack.net`
 * over a simulated network on virtual time. A difference between the two shows up as a failing case.
 *
 * A harness supplies the module under test, the addresses to use, and how time passes: the Node harness
 * waits in real time (only where a case needs a timer to fire), the simulated one pumps a VirtualClock.
 */
import { createHash } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { describe, expect, test } from 'vitest';

export interface AddressInfoLike {
  address: string;
  family: string;
  port: number;
}

/** The part of `net.Socket` the cases use; Node's Socket and ours both satisfy it. */
export interface SocketLike extends Duplex {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly remoteFamily?: string | undefined;
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  readonly readyState: string;
  readonly pending: boolean;
  readonly connecting: boolean;
  address(): AddressInfoLike | object;
  setTimeout(timeout: number, callback?: () => void): this;
  setNoDelay(noDelay?: boolean): this;
  setKeepAlive(enable?: boolean, initialDelay?: number): this;
  resetAndDestroy(): this;
  ref(): this;
  unref(): this;
  connect(port: number, host: string, connectionListener?: () => void): this;
  connect(options: ConnectOptionsLike, connectionListener?: () => void): this;
}

export interface ServerLike extends EventEmitter {
  listen(port: number, host: string, callback?: () => void): this;
  listen(options: { port: number; host: string; signal?: AbortSignal }, callback?: () => void): this;
  close(callback?: (error?: Error) => void): this;
  address(): AddressInfoLike | string | null;
  getConnections(callback: (error: Error | null, count: number) => void): void;
  maxConnections: number;
  readonly listening: boolean;
}

export interface ServerOptionsLike {
  allowHalfOpen?: boolean;
  pauseOnConnect?: boolean;
}

export interface ConnectOptionsLike {
  port: number;
  host?: string;
  allowHalfOpen?: boolean;
  localAddress?: string;
  localPort?: number;
  lookup?: (
    hostname: string,
    options: { family?: number; hints?: number; all?: boolean },
    callback: (error: Error | null, address?: unknown, family?: number) => void,
  ) => void;
  autoSelectFamily?: boolean;
  signal?: AbortSignal;
  onread?: { buffer: Uint8Array; callback: (count: number, buffer: Buffer) => boolean };
}

export interface NetModuleLike {
  Socket: new (options?: { allowHalfOpen?: boolean }) => SocketLike;
  /** The module's Server class (server host) and Node's old name for Socket (client host). */
  Server: new (
    listener?: (socket: SocketLike) => void,
  ) => ServerLike;
  Stream: new (options?: { allowHalfOpen?: boolean }) => SocketLike;
  createServer(options?: ServerOptionsLike, connectionListener?: (socket: SocketLike) => void): ServerLike;
  connect(options: ConnectOptionsLike, connectionListener?: () => void): SocketLike;
  createConnection(port: number, host?: string, connectionListener?: () => void): SocketLike;
}

export interface NetHarness {
  readonly net: NetModuleLike;
  /** Address servers listen on and clients connect to. */
  readonly serverHost: string;
  /** Local address a client connecting to `serverHost` gets. */
  readonly clientHost: string;
  /** The module on the client's own host (servers there hold ports clients could bind). */
  readonly localNet: NetModuleLike;
  /** A port on `serverHost` where nothing listens. */
  closedPort(): Promise<number>;
  /** Runs a case to completion, driving the implementation's time. */
  run<T>(body: () => Promise<T>): Promise<T>;
  /** Resolves after `ms` of the implementation's time. */
  delay(ms: number): Promise<void>;
  /** The implementation's clock, in ms. */
  now(): number;
  /** Releases whatever the harness holds (called after each case). */
  dispose(): Promise<void>;
}

/** The family of the harness's addresses, as Node names it ('IPv4' or 'IPv6'). */
function familyOf(h: NetHarness): 'IPv4' | 'IPv6' {
  return h.serverHost.includes(':') ? 'IPv6' : 'IPv4';
}

/** The same as the number lookups and connection attempt events carry (4 or 6). */
function familyNumber(h: NetHarness): 4 | 6 {
  return h.serverHost.includes(':') ? 6 : 4;
}

export interface NetBehaviourCase {
  readonly name: string;
  run(h: NetHarness): Promise<void>;
}

/** Declares one vitest test per case; a fresh harness each. */
export function describeNetBehaviour(
  title: string,
  makeHarness: () => NetHarness | Promise<NetHarness>,
): void {
  describe(title, () => {
    for (const c of netBehaviourCases) {
      test(c.name, async () => {
        const h = await makeHarness();
        try {
          await h.run(() => c.run(h));
        } finally {
          await h.dispose();
        }
      });
    }
  });
}

// ---------------------------------------------------------------------------------------------------
// Helpers

/** Resolves with the arguments of the next `event`. */
function next<T extends unknown[] = unknown[]>(emitter: EventEmitter, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, (...args: unknown[]) => resolve(args as T)));
}

/** Records every event of interest, in order, with its first argument. */
function recordEvents(emitter: EventEmitter, events: readonly string[]): Array<[string, unknown]> {
  const log: Array<[string, unknown]> = [];
  for (const name of events) emitter.on(name, (arg: unknown) => log.push([name, arg]));
  return log;
}

interface Collected {
  readonly chunks: Buffer[];
  readonly ended: Promise<Buffer>;
  bytes(): Buffer;
}

/** Reads a socket to its end. */
function collect(socket: SocketLike): Collected {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<Buffer>((resolve) => socket.once('end', () => resolve(Buffer.concat(chunks))));
  return { chunks, ended, bytes: () => Buffer.concat(chunks) };
}

/** Starts a server on `h.serverHost`, ephemeral port; resolves once it listens. */
async function startServer(
  h: NetHarness,
  cleanup: Cleanup,
  options: ServerOptionsLike,
  onConnection?: (socket: SocketLike) => void,
): Promise<{ server: ServerLike; port: number; accepted: SocketLike[] }> {
  const accepted: SocketLike[] = [];
  const server = h.net.createServer(options, (socket) => {
    accepted.push(socket);
    cleanup.sockets.push(socket);
    onConnection?.(socket);
  });
  cleanup.servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, h.serverHost, resolve));
  const address = server.address() as AddressInfoLike;
  return { server, port: address.port, accepted };
}

class Cleanup {
  readonly sockets: SocketLike[] = [];
  readonly servers: ServerLike[] = [];
  connect(h: NetHarness, options: ConnectOptionsLike, listener?: () => void): SocketLike {
    const socket = h.net.connect(options, listener);
    this.sockets.push(socket);
    return socket;
  }
  done(): void {
    for (const socket of this.sockets) socket.destroy();
    for (const server of this.servers) if (server.listening) server.close();
  }
}

async function withCleanup(body: (cleanup: Cleanup) => Promise<void>): Promise<void> {
  const cleanup = new Cleanup();
  try {
    await body(cleanup);
  } finally {
    cleanup.done();
  }
}

/** A deterministic, non-repeating-looking payload. */
function pattern(length: number, seed = 7): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Waits for `promise` up to `ms` of the implementation's time; resolves 'timeout' if it has not settled. */
async function within<T>(h: NetHarness, promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  return Promise.race([promise, h.delay(ms).then(() => 'timeout' as const)]);
}

function errorFields(error: unknown): Record<string, unknown> {
  const e = error as Record<string, unknown>;
  return { code: e.code, errno: e.errno, syscall: e.syscall };
}

// Linux errno values, negated as libuv reports them in `error.errno`.
const UV_ECONNREFUSED = -111;
const UV_ECONNRESET = -104;
const UV_EADDRINUSE = -98;

// ---------------------------------------------------------------------------------------------------
// The cases

export const netBehaviourCases: readonly NetBehaviourCase[] = [
  {
    name: 'listen(0) picks an ephemeral port and reports it in address() and "listening"',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const server = h.net.createServer();
        cleanup.servers.push(server);
        expect(server.listening).toBe(false);
        expect(server.address()).toBe(null);
        const listening = next(server, 'listening');
        let callbackRan = false;
        server.listen(0, h.serverHost, () => {
          callbackRan = true;
        });
        await listening;
        expect(callbackRan).toBe(true);
        expect(server.listening).toBe(true);
        const address = server.address() as AddressInfoLike;
        expect(address.address).toBe(h.serverHost);
        expect(address.family).toBe(familyOf(h));
        expect(address.port).toBeGreaterThanOrEqual(1024);
        expect(address.port).toBeLessThanOrEqual(65535);
        const closed = next(server, 'close');
        server.close();
        await closed;
        expect(server.listening).toBe(false);
        expect(server.address()).toBe(null);
      }),
  },
  {
    name: 'listening twice on one port fails with EADDRINUSE (syscall listen)',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const { port } = await startServer(h, cleanup, {});
        const second = h.net.createServer();
        cleanup.servers.push(second);
        const failed = next<[Error]>(second, 'error');
        second.listen(port, h.serverHost);
        const [error] = await failed;
        expect(errorFields(error)).toEqual({ code: 'EADDRINUSE', errno: UV_EADDRINUSE, syscall: 'listen' });
        expect((error as unknown as { address: string }).address).toBe(h.serverHost);
        expect((error as unknown as { port: number }).port).toBe(port);
        expect(error.message).toBe(`listen EADDRINUSE: address already in use ${h.serverHost}:${port}`);
        expect(second.listening).toBe(false);
      }),
  },
  {
    name: 'connecting to a closed port fails with ECONNREFUSED, then "close" with hadError',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const port = await h.closedPort();
        const socket = cleanup.connect(h, { port, host: h.serverHost });
        const log = recordEvents(socket, ['connect', 'error', 'close']);
        expect(socket.connecting).toBe(true);
        await next(socket, 'close');
        expect(log.map(([name]) => name)).toEqual(['error', 'close']);
        const error = log[0]![1] as Error & { address: string; port: number };
        expect(errorFields(error)).toEqual({
          code: 'ECONNREFUSED',
          errno: UV_ECONNREFUSED,
          syscall: 'connect',
        });
        expect(error.address).toBe(h.serverHost);
        expect(error.port).toBe(port);
        expect(error.message).toBe(`connect ECONNREFUSED ${h.serverHost}:${port}`);
        expect(log[1]![1]).toBe(true);
        expect(socket.connecting).toBe(false);
        expect(socket.destroyed).toBe(true);
        expect(socket.readyState).toBe('closed');
      }),
  },
  {
    name: 'socket properties at each phase: opening, open, readOnly, closed',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const { port, accepted } = await startServer(h, cleanup, { allowHalfOpen: true });
        const client = cleanup.connect(h, { port, host: h.serverHost });
        // Before the handshake.
        expect(client.connecting).toBe(true);
        expect(client.pending).toBe(true);
        expect(client.readyState).toBe('opening');
        expect(client.remoteAddress).toBe(undefined);
        expect(client.remotePort).toBe(undefined);
        expect(client.localPort).toBe(undefined);
        expect(client.bytesRead).toBe(0);
        expect(client.bytesWritten).toBe(0);
        const events = recordEvents(client, ['connect', 'ready']);
        await next(client, 'connect');
        await Promise.resolve();
        expect(events.map(([name]) => name)).toEqual(['connect', 'ready']);
        expect(client.connecting).toBe(false);
        expect(client.pending).toBe(false);
        expect(client.readyState).toBe('open');
        expect(client.remoteAddress).toBe(h.serverHost);
        expect(client.remotePort).toBe(port);
        expect(client.remoteFamily).toBe(familyOf(h));
        expect(client.localAddress).toBe(h.clientHost);
        expect(client.localPort).toBeGreaterThan(0);
        expect(client.address()).toEqual({
          address: h.clientHost,
          family: familyOf(h),
          port: client.localPort,
        });

        while (accepted.length === 0) await h.delay(1);
        const peer = accepted[0]!;
        expect(peer.remoteAddress).toBe(h.clientHost);
        expect(peer.remotePort).toBe(client.localPort);
        expect(peer.remoteFamily).toBe(familyOf(h));
        expect(peer.localAddress).toBe(h.serverHost);
        expect(peer.localPort).toBe(port);
        expect(peer.readyState).toBe('open');
        expect(peer.connecting).toBe(false);
        expect(peer.pending).toBe(false);

        // Counting bytes.
        const received = collect(peer);
        client.write('hello, ');
        client.write(Buffer.from('world'));
        expect(client.bytesWritten).toBe(12);
        client.end();
        expect(client.readyState).toBe('readOnly');
        await received.ended;
        expect(received.bytes().toString()).toBe('hello, world');
        expect(peer.bytesRead).toBe(12);
        expect(peer.readyState).toBe('writeOnly');

        const clientData = collect(client);
        const clientClosed = next<[boolean]>(client, 'close');
        peer.end('bye');
        expect(peer.bytesWritten).toBe(3);
        await clientData.ended;
        expect(clientData.bytes().toString()).toBe('bye');
        expect(client.bytesRead).toBe(3);
        expect(await clientClosed).toEqual([false]);
        expect(client.readyState).toBe('closed');
        expect(client.destroyed).toBe(true);
        expect(client.pending).toBe(true);
        expect(client.bytesRead).toBe(3);
        expect(client.bytesWritten).toBe(12);
      }),
  },
  {
    name: 'createConnection(port, host, listener) connects and calls the listener',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const { port } = await startServer(h, cleanup, {}, (socket) => socket.end('greeting'));
        let connected = false;
        const client = h.net.createConnection(port, h.serverHost, () => {
          connected = true;
        });
        cleanup.sockets.push(client);
        const data = collect(client);
        expect((await data.ended).toString()).toBe('greeting');
        expect(connected).toBe(true);
      }),
  },
  {
    name: 'new Socket() then connect(port, host, listener): an echo round trip',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const { port } = await startServer(h, cleanup, {}, (socket) => socket.pipe(socket));
        const client = new h.net.Socket();
        cleanup.sockets.push(client);
        // Node reports a fresh, unconnected socket as 'open' (readable and writable, not connecting).
        expect(client.readyState).toBe('open');
        expect(client.pending).toBe(true);
        expect(client.connecting).toBe(false);
        const connected = new Promise<void>((resolve) => client.connect(port, h.serverHost, resolve));
        expect(client.connecting).toBe(true);
        const data = collect(client);
        await connected;
        client.end('echo me');
        expect((await data.ended).toString()).toBe('echo me');
      }),
  },
  {
    name: 'allowHalfOpen: the side that received FIN keeps writing; both close without error',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const serverLog: string[] = [];
        const { port } = await startServer(h, cleanup, { allowHalfOpen: true }, (socket) => {
          const data = collect(socket);
          socket.on('close', (hadError: boolean) => serverLog.push(`close:${hadError}`));
          void data.ended.then(async (request) => {
            serverLog.push(`end:${request.toString()}`);
            // Half-open: our side is still writable after the peer's FIN.
            expect(socket.writable).toBe(true);
            socket.write('pong-1 ');
            await h.delay(5);
            socket.end('pong-2');
          });
        });
        const client = cleanup.connect(h, { port, host: h.serverHost, allowHalfOpen: true });
        const clientLog = recordEvents(client, ['end', 'close']);
        const data = collect(client);
        client.end('ping');
        await next(client, 'close');
        expect(data.bytes().toString()).toBe('pong-1 pong-2');
        expect(clientLog).toEqual([
          ['end', undefined],
          ['close', false],
        ]);
        while (serverLog.length < 2) await h.delay(1);
        expect(serverLog).toEqual(['end:ping', 'close:false']);
      }),
  },
  {
    name: 'without allowHalfOpen the receiver of a FIN ends its side too',
    run: (h) =>
      withCleanup(async (cleanup) => {
        let serverEnded = false;
        const { port } = await startServer(h, cleanup, {}, (socket) => {
          socket.resume();
          socket.on('end', () => {
            serverEnded = true;
          });
        });
        const client = cleanup.connect(h, { port, host: h.serverHost, allowHalfOpen: true });
        client.resume();
        const clientLog = recordEvents(client, ['end', 'close']);
        await next(client, 'connect');
        client.end('x');
        await next(client, 'close');
        expect(serverEnded).toBe(true);
        expect(clientLog).toEqual([
          ['end', undefined],
          ['close', false],
        ]);
      }),
  },
  {
    name: 'without allowHalfOpen, a write after the automatic end() fails with EPIPE',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const { port } = await startServer(h, cleanup, {}, (socket) => socket.end('bye'));
        const client = cleanup.connect(h, { port, host: h.serverHost });
        client.resume();
        const log = recordEvents(client, ['end', 'error', 'close']);
        const late = new Promise<Error | null | undefined>((resolve) => {
          client.on('end', () => {
            // The automatic end() runs on the next tick after 'end'; this write comes just after it.
            process.nextTick(() => process.nextTick(() => client.write('late', resolve)));
          });
        });
        const error = (await late) as Error & { code?: string };
        expect(error.code).toBe('EPIPE');
        expect(error.message).toBe('This socket has been ended by the other party');
        await next(client, 'close');
        expect(log.map(([name]) => name)).toEqual(['end', 'error', 'close']);
        expect(log[1]![1]).toBe(error);
        expect(log[2]![1]).toBe(true);
      }),
  },
  {
    name: 'data written before end() arrives in full and in order before "end"',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const payload = pattern(256 * 1024);
        let serverData: Collected | undefined;
        const { port } = await startServer(h, cleanup, {}, (socket) => {
          serverData = collect(socket);
        });
        const client = cleanup.connect(h, { port, host: h.serverHost });
        // Many writes, some before the connection is up, then end() right away.
        for (let offset = 0; offset < payload.length; offset += 10_000) {
          client.write(payload.subarray(offset, offset + 10_000));
        }
        client.end();
        await next(client, 'close');
        while (serverData === undefined) await h.delay(1);
        const received = await serverData.ended;
        expect(received.length).toBe(payload.length);
        expect(sha256(received)).toBe(sha256(payload));
        expect(client.bytesWritten).toBe(payload.length);
      }),
  },
  {
    name: 'destroy() while connecting: "close" without error, no "connect", no connection at the server',
    run: (h) =>
      withCleanup(async (cleanup) => {
        let connections = 0;
        const { port } = await startServer(h, cleanup, {}, () => {
          connections++;
        });
        const client = cleanup.connect(h, { port, host: h.serverHost });
        const log = recordEvents(client, ['connect', 'error', 'close']);
        expect(client.connecting).toBe(true);
        client.destroy();
        expect(client.destroyed).toBe(true);
        expect(client.connecting).toBe(false);
        await next(client, 'close');
        await h.delay(20);
        expect(log).toEqual([['close', false]]);
        expect(connections).toBe(0);
      }),
  },
  {
    name: 'write after end() fails with ERR_STREAM_WRITE_AFTER_END through the callback and "error"',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const { port } = await startServer(h, cleanup, { allowHalfOpen: true }, (socket) => socket.resume());
        const client = cleanup.connect(h, { port, host: h.serverHost });
        await next(client, 'connect');
        client.end('last');
        const log = recordEvents(client, ['error', 'close']);
        const callbackError = new Promise<Error | null | undefined>((resolve) =>
          client.write('late', resolve),
        );
        const error = await callbackError;
        expect((error as { code?: string } | null)?.code).toBe('ERR_STREAM_WRITE_AFTER_END');
        await next(client, 'close');
        expect(log.map(([name]) => name)).toEqual(['error', 'close']);
        expect(log[0]![1]).toBe(error);
        expect(log[1]![1]).toBe(true);
      }),
  },
  {
    name: '"close" follows "end", once, with hadError false',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const { port } = await startServer(h, cleanup, {}, (socket) => socket.end('bye'));
        const client = cleanup.connect(h, { port, host: h.serverHost });
        client.resume();
        const log = recordEvents(client, ['connect', 'end', 'finish', 'close', 'error']);
        await next(client, 'close');
        await h.delay(5);
        expect(log.map(([name]) => name)).toEqual(['connect', 'end', 'finish', 'close']);
        expect(log[3]![1]).toBe(false);
      }),
  },
  {
    name: 'resetAndDestroy() resets the peer: ECONNRESET (syscall read), "close" with hadError there',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const { port, accepted } = await startServer(h, cleanup, {});
        const client = cleanup.connect(h, { port, host: h.serverHost });
        await next(client, 'connect');
        while (accepted.length === 0) await h.delay(1);
        const peer = accepted[0]!;
        const peerLog = recordEvents(peer, ['end', 'error', 'close']);
        const clientLog = recordEvents(client, ['error', 'close']);
        peer.resume();
        client.resetAndDestroy();
        await next(client, 'close');
        while (!peer.destroyed) await h.delay(1);
        await h.delay(1);
        expect(clientLog).toEqual([['close', false]]);
        expect(peerLog.map(([name]) => name)).toEqual(['error', 'close']);
        const error = peerLog[0]![1] as Error;
        expect(errorFields(error)).toEqual({ code: 'ECONNRESET', errno: UV_ECONNRESET, syscall: 'read' });
        expect(error.message).toBe('read ECONNRESET');
        expect(peerLog[1]![1]).toBe(true);
      }),
  },
  {
    name: 'setTimeout(ms) emits "timeout" after ms of inactivity and leaves the socket open',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const { port } = await startServer(h, cleanup, {}, (socket) => socket.resume());
        const client = cleanup.connect(h, { port, host: h.serverHost });
        await next(client, 'connect');
        const start = h.now();
        let callbackRan = false;
        client.setTimeout(40, () => {
          callbackRan = true;
        });
        await next(client, 'timeout');
        const elapsed = h.now() - start;
        expect(elapsed).toBeGreaterThanOrEqual(39);
        expect(callbackRan).toBe(true);
        expect(client.destroyed).toBe(false);
        expect(client.readyState).toBe('open');
        // Activity restarts the idle timer; setTimeout(0) turns it off.
        let timeouts = 0;
        client.on('timeout', () => timeouts++);
        client.setTimeout(0);
        await h.delay(80);
        expect(timeouts).toBe(0);
      }),
  },
  {
    name: 'backpressure: a paused reader makes write() return false; "drain" follows when it resumes',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const { port, accepted } = await startServer(h, cleanup, { pauseOnConnect: true });
        const client = cleanup.connect(h, { port, host: h.serverHost });
        await next(client, 'connect');
        while (accepted.length === 0) await h.delay(1);
        const reader = accepted[0]!;
        const chunk = pattern(16 * 1024, 3);
        let written = 0;
        let stuck = false;
        // Write until the path is full: write() returns false and no "drain" comes while nobody reads.
        for (let rounds = 0; rounds < 4096 && !stuck; rounds++) {
          if (client.write(chunk)) {
            written += chunk.length;
            continue;
          }
          written += chunk.length;
          const drained = await within(h, next(client, 'drain'), 200);
          if (drained === 'timeout') stuck = true;
        }
        expect(stuck).toBe(true);
        expect(reader.bytesRead).toBeLessThan(written);
        // Resume: the reader consumes; the writer hears "drain" and everything arrives.
        const drain = next(client, 'drain');
        const data = collect(reader);
        reader.resume();
        await drain;
        client.end();
        const received = await data.ended;
        expect(received.length).toBe(written);
        for (let offset = 0; offset < written; offset += chunk.length) {
          expect(received.subarray(offset, offset + chunk.length).equals(chunk)).toBe(true);
        }
      }),
  },
  {
    name: 'maxConnections refuses connections beyond the limit; getConnections counts the live ones',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const { server, port, accepted } = await startServer(h, cleanup, {});
        server.maxConnections = 1;
        const drops: unknown[] = [];
        server.on('drop', (info: unknown) => drops.push(info));
        const first = cleanup.connect(h, { port, host: h.serverHost });
        await next(first, 'connect');
        while (accepted.length === 0) await h.delay(1);
        const second = cleanup.connect(h, { port, host: h.serverHost });
        second.resume();
        const secondLog = recordEvents(second, ['connect', 'end', 'close']);
        let secondPort: number | undefined;
        second.on('connect', () => {
          secondPort = second.localPort;
        });
        await next(second, 'close');
        expect(secondLog.map(([name]) => name)).toEqual(['connect', 'end', 'close']);
        expect(accepted.length).toBe(1);
        expect(drops).toEqual([
          {
            localAddress: h.serverHost,
            localPort: port,
            localFamily: familyOf(h),
            remoteAddress: h.clientHost,
            remotePort: secondPort,
            remoteFamily: familyOf(h),
          },
        ]);
        const count = await new Promise<number>((resolve, reject) =>
          server.getConnections((error, n) => (error ? reject(error) : resolve(n))),
        );
        expect(count).toBe(1);
      }),
  },
  {
    name: 'server.close() stops accepting at once, calls back after the last connection ends',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const { server, port, accepted } = await startServer(h, cleanup, {});
        const client = cleanup.connect(h, { port, host: h.serverHost });
        client.resume();
        await next(client, 'connect');
        while (accepted.length === 0) await h.delay(1);
        accepted[0]!.resume();
        const order: string[] = [];
        server.on('close', () => order.push('close-event'));
        server.close((error) =>
          order.push(`callback:${error === undefined ? 'ok' : (error as Error).message}`),
        );
        expect(server.listening).toBe(false);
        expect(server.address()).toBe(null);
        // Listening stopped: a new connection is refused.
        const late = cleanup.connect(h, { port, host: h.serverHost });
        const [error] = await next<[Error]>(late, 'error');
        expect((error as Error & { code: string }).code).toBe('ECONNREFUSED');
        await h.delay(10);
        expect(order).toEqual([]);
        // The existing connection still works; when it closes, the server finishes closing ("close"
        // listeners in the order added: the callback was added after ours).
        client.end();
        while (order.length < 2) await h.delay(1);
        expect(order).toEqual(['close-event', 'callback:ok']);
        // Closing again: ERR_SERVER_NOT_RUNNING.
        const again = await new Promise<Error | undefined>((resolve) => server.close(resolve));
        expect((again as Error & { code: string }).code).toBe('ERR_SERVER_NOT_RUNNING');
      }),
  },
  {
    name: 'getConnections counts accepted connections until they close',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const { server, port, accepted } = await startServer(h, cleanup, {}, (socket) => socket.resume());
        const count = () =>
          new Promise<number>((resolve, reject) =>
            server.getConnections((error, n) => (error ? reject(error) : resolve(n))),
          );
        expect(await count()).toBe(0);
        const clients = [0, 1, 2].map(() => cleanup.connect(h, { port, host: h.serverHost }));
        while (accepted.length < 3) await h.delay(1);
        expect(await count()).toBe(3);
        const closed = next(accepted[1]!, 'close');
        clients[1]!.end();
        await closed;
        expect(await count()).toBe(2);
      }),
  },
  {
    name: 'Socket, Server and Stream construct when called without new',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const callable = <T>(Class: unknown, ...args: unknown[]) =>
          (Class as (...a: unknown[]) => T)(...args);
        const server = callable<ServerLike>(h.net.Server, (socket: SocketLike) => socket.end('hi'));
        cleanup.servers.push(server);
        expect(server).toBeInstanceOf(h.net.Server);
        await new Promise<void>((resolve) => server.listen(0, h.serverHost, resolve));
        const { port } = server.address() as AddressInfoLike;
        const socket = callable<SocketLike>(h.net.Socket);
        cleanup.sockets.push(socket);
        expect(socket).toBeInstanceOf(h.net.Socket);
        expect(callable<SocketLike>(h.net.Stream)).toBeInstanceOf(h.net.Socket);
        const data = collect(socket);
        socket.connect(port, h.serverHost);
        expect((await data.ended).toString()).toBe('hi');
      }),
  },
  {
    name: 'a closed socket connects again with connect(): the same object, a new connection',
    run: (h) =>
      withCleanup(async (cleanup) => {
        let served = 0;
        const { port } = await startServer(h, cleanup, {}, (socket) => socket.end(`reply ${++served}`));
        const socket = new h.net.Socket();
        cleanup.sockets.push(socket);
        const log = recordEvents(socket, ['connect', 'ready', 'end', 'close']);
        const replies: string[] = [];
        socket.on('data', (chunk: Buffer) => replies.push(chunk.toString()));
        socket.connect(port, h.serverHost);
        await next(socket, 'close');
        expect(socket.destroyed).toBe(true);
        const firstLocalPort = log.length;
        socket.connect(port, h.serverHost);
        expect(socket.destroyed).toBe(false);
        expect(socket.connecting).toBe(true);
        await next(socket, 'close');
        expect(firstLocalPort).toBe(4);
        expect(log.map(([name]) => name)).toEqual([
          'connect',
          'ready',
          'end',
          'close',
          'connect',
          'ready',
          'end',
          'close',
        ]);
        expect(replies).toEqual(['reply 1', 'reply 2']);
        expect(log[7]![1]).toBe(false);
      }),
  },
  {
    name: 'connect({ localPort }) onto a port a listener holds fails with EADDRINUSE (syscall bind)',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const { port } = await startServer(h, cleanup, {});
        const holder = h.localNet.createServer();
        cleanup.servers.push(holder);
        await new Promise<void>((resolve) => holder.listen(0, h.clientHost, resolve));
        const held = (holder.address() as AddressInfoLike).port;
        for (const [localAddress, shown] of [
          [undefined, familyOf(h) === 'IPv6' ? '::' : '0.0.0.0'],
          [h.clientHost, h.clientHost],
        ] as const) {
          const socket = cleanup.connect(h, { port, host: h.serverHost, localAddress, localPort: held });
          const log = recordEvents(socket, ['connect', 'error', 'close']);
          await next(socket, 'close');
          expect(log.map(([name]) => name)).toEqual(['error', 'close']);
          const error = log[0]![1] as Error & Record<string, unknown>;
          expect([error.code, error.errno, error.syscall, error.address, error.port, error.message]).toEqual([
            'EADDRINUSE',
            UV_EADDRINUSE,
            'bind',
            shown,
            held,
            `bind EADDRINUSE ${shown}:${held}`,
          ]);
        }
      }),
  },
  {
    name: 'a refused connect with localAddress and localPort names them: " - Local (address:port)"',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const port = await h.closedPort();
        const spare = h.localNet.createServer();
        await new Promise<void>((resolve) => spare.listen(0, h.clientHost, resolve));
        const localPort = (spare.address() as AddressInfoLike).port;
        await new Promise<void>((resolve) => spare.close(() => resolve()));
        const socket = cleanup.connect(h, {
          port,
          host: h.serverHost,
          localAddress: h.clientHost,
          localPort,
        });
        const [error] = await next<[Error & Record<string, unknown>]>(socket, 'error');
        expect([error.code, error.syscall, error.message, error.localAddress, error.localPort]).toEqual([
          'ECONNREFUSED',
          'connect',
          `connect ECONNREFUSED ${h.serverHost}:${port} - Local (${h.clientHost}:${localPort})`,
          h.clientHost,
          localPort,
        ]);
        // Only a local address: no suffix, no local fields (Node needs both).
        const other = cleanup.connect(h, { port, host: h.serverHost, localAddress: h.clientHost });
        const [plain] = await next<[Error & Record<string, unknown>]>(other, 'error');
        expect([plain.message, plain.localAddress, plain.localPort]).toEqual([
          `connect ECONNREFUSED ${h.serverHost}:${port}`,
          undefined,
          undefined,
        ]);
      }),
  },
  {
    name: 'custom lookup without autoSelectFamily: one answer, "lookup" (null, address, 4, host), bad answers fail',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const { port } = await startServer(h, cleanup, {}, (socket) => socket.end('ok'));
        const asked: unknown[] = [];
        const connectWith = (answer: unknown[]) => {
          const socket = new h.net.Socket();
          cleanup.sockets.push(socket);
          const log = recordEvents(socket, ['connect', 'error', 'close']);
          const lookups: unknown[][] = [];
          socket.on('lookup', (...args: unknown[]) => lookups.push(args));
          socket.on('data', () => {});
          socket.connect({
            port,
            host: 'server.test',
            autoSelectFamily: false,
            lookup: (hostname, options, callback) => {
              asked.push([hostname, options]);
              (callback as (...a: unknown[]) => void)(...answer);
            },
          });
          return { socket, log, lookups };
        };
        const good = connectWith([null, h.serverHost, familyNumber(h)]);
        await next(good.socket, 'close');
        expect(good.log.map(([name]) => name)).toEqual(['connect', 'close']);
        expect(good.lookups).toEqual([[null, h.serverHost, familyNumber(h), 'server.test']]);
        expect(asked[0]).toEqual(['server.test', { hints: 32 }]);
        for (const [answer, message] of [
          [[null, undefined, 4], 'Invalid IP address: undefined'],
          [[null, 'not-an-address', 4], 'Invalid IP address: not-an-address'],
        ] as const) {
          const bad = connectWith([...answer]);
          await next(bad.socket, 'close');
          expect(bad.log.map(([name]) => name)).toEqual(['error', 'close']);
          const error = bad.log[0]![1] as Error & { code: string };
          expect([error.name, error.code, error.message]).toEqual([
            'TypeError',
            'ERR_INVALID_IP_ADDRESS',
            message,
          ]);
        }
      }),
  },
  {
    name: 'custom lookup with autoSelectFamily (the default): asked for all, answers a list, errors pass through',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const { port } = await startServer(h, cleanup, {}, (socket) => socket.end('ok'));
        const asked: unknown[] = [];
        const socket = new h.net.Socket();
        cleanup.sockets.push(socket);
        const lookups: unknown[][] = [];
        socket.on('lookup', (...args: unknown[]) => lookups.push(args));
        const data = collect(socket);
        socket.connect({
          port,
          host: 'server.test',
          lookup: (hostname, options, callback) => {
            asked.push([hostname, options]);
            callback(null, [{ address: h.serverHost, family: familyNumber(h) }]);
          },
        });
        expect((await data.ended).toString()).toBe('ok');
        expect(asked).toEqual([['server.test', { hints: 32, all: true }]]);
        expect(lookups).toEqual([[null, h.serverHost, familyNumber(h), 'server.test']]);
        const failing = new h.net.Socket();
        cleanup.sockets.push(failing);
        const failLookups: unknown[][] = [];
        failing.on('lookup', (...args: unknown[]) => failLookups.push(args));
        const failure = Object.assign(new Error('no such name'), { code: 'ENOTFOUND' });
        failing.connect({
          port,
          host: 'nowhere.test',
          lookup: (_hostname, _options, callback) => callback(failure),
        });
        const [error] = await next<[Error]>(failing, 'error');
        expect(error).toBe(failure);
        expect(failLookups).toEqual([[failure, undefined, undefined, 'nowhere.test']]);
      }),
  },
  {
    name: 'an AbortSignal aborts a connect (AbortError, then "close" with hadError) and closes a listening server',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const { port } = await startServer(h, cleanup, {});
        const controller = new AbortController();
        const socket = cleanup.connect(h, { port, host: h.serverHost, signal: controller.signal });
        const log = recordEvents(socket, ['error', 'close']);
        controller.abort();
        await next(socket, 'close');
        expect(log.map(([name]) => name)).toEqual(['error', 'close']);
        const error = log[0]![1] as Error & { code: string };
        expect([error.name, error.code, error.message]).toEqual([
          'AbortError',
          'ABORT_ERR',
          'The operation was aborted',
        ]);
        expect(log[1]![1]).toBe(true);
        const serverController = new AbortController();
        const server = h.net.createServer();
        cleanup.servers.push(server);
        await new Promise<void>((resolve) =>
          server.listen({ port: 0, host: h.serverHost, signal: serverController.signal }, resolve),
        );
        expect(server.listening).toBe(true);
        const closed = next(server, 'close');
        serverController.abort();
        await closed;
        expect(server.listening).toBe(false);
      }),
  },
  {
    name: 'listen() with a host is asynchronous (address() null on return); without one it is immediate',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const withHost = h.net.createServer();
        cleanup.servers.push(withHost);
        withHost.listen(0, h.serverHost);
        expect(withHost.address()).toBe(null);
        expect(withHost.listening).toBe(false);
        await next(withHost, 'listening');
        expect((withHost.address() as AddressInfoLike).address).toBe(h.serverHost);
      }),
  },
  {
    name: 'connection attempt events: "connectionAttempt", then "connectionAttemptFailed" before "error"',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const port = await h.closedPort();
        const socket = new h.net.Socket();
        cleanup.sockets.push(socket);
        const log: unknown[][] = [];
        for (const name of [
          'lookup',
          'connectionAttempt',
          'connectionAttemptFailed',
          'connect',
          'error',
          'close',
        ]) {
          socket.on(name, (...args: unknown[]) =>
            log.push([
              name,
              ...args.map((arg) => (arg instanceof Error ? (arg as Error & { code: string }).code : arg)),
            ]),
          );
        }
        socket.connect(port, h.serverHost);
        await next(socket, 'close');
        expect(log).toEqual([
          ['connectionAttempt', h.serverHost, port, familyNumber(h)],
          ['connectionAttemptFailed', h.serverHost, port, familyNumber(h), 'ECONNREFUSED'],
          ['error', 'ECONNREFUSED'],
          ['close', true],
        ]);
        // A name: the lookup first ('localhost' is the client host's own loopback).
        const local = h.localNet.createServer();
        cleanup.servers.push(local);
        await new Promise<void>((resolve) => local.listen(0, '127.0.0.1', resolve));
        const localPort = (local.address() as AddressInfoLike).port;
        const named = new h.localNet.Socket();
        cleanup.sockets.push(named);
        const events: unknown[][] = [];
        for (const name of ['lookup', 'connectionAttempt', 'connect', 'ready']) {
          named.on(name, (...args: unknown[]) => events.push([name, ...args]));
        }
        named.connect(localPort, 'localhost');
        await next(named, 'ready');
        // What 'localhost' resolves to depends on the host (127.0.0.1 alone, or ::1 too — tcpts answers
        // both, IPv6 first): every answer is announced, then tried in order until 127.0.0.1 connects
        // (a ::1 attempt is refused: the server listens on 127.0.0.1 only).
        const lookups = events.filter((e) => e[0] === 'lookup');
        expect(lookups).toContainEqual(['lookup', null, '127.0.0.1', 4, 'localhost']);
        const tried = lookups.map((e) => e[2] as string);
        const attempts = tried.slice(0, tried.indexOf('127.0.0.1') + 1);
        expect(events).toEqual([
          ...lookups,
          ...attempts.map((address) => [
            'connectionAttempt',
            address,
            localPort,
            address.includes(':') ? 6 : 4,
          ]),
          ['connect'],
          ['ready'],
        ]);
      }),
  },
  {
    name: 'onread: bytes land in the given buffer, not in "data"; returning false pauses until resume()',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const payload = pattern(20_000);
        const { port } = await startServer(h, cleanup, {}, (socket) => socket.end(payload));
        const buffer = Buffer.alloc(4096);
        const received: Buffer[] = [];
        let calls = 0;
        let paused = false;
        const socket = h.net.connect({
          port,
          host: h.serverHost,
          onread: {
            buffer,
            callback: (count: number, into: Buffer) => {
              expect(into).toBe(buffer);
              received.push(Buffer.from(into.subarray(0, count)));
              calls++;
              if (calls === 1) {
                paused = true;
                return false;
              }
              return true;
            },
          },
        } as ConnectOptionsLike);
        cleanup.sockets.push(socket);
        let dataEvents = 0;
        socket.on('data', () => dataEvents++);
        while (!paused) await h.delay(1);
        await h.delay(20);
        expect(calls).toBe(1);
        const ended = next(socket, 'end');
        socket.resume();
        await ended;
        expect(dataEvents).toBe(0);
        expect(sha256(Buffer.concat(received))).toBe(sha256(payload));
        expect(received.every((chunk) => chunk.length <= buffer.length)).toBe(true);
      }),
  },
  {
    name: 'onread: pause() inside the callback stops the callbacks until resume(); a buffer function is asked once a read',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const payload = pattern(11);
        const { port } = await startServer(h, cleanup, {}, (socket) => socket.end(payload));
        const pool = [Buffer.alloc(2), Buffer.alloc(2)];
        let asked = 0;
        let paused = false;
        let pausedCalls = 0;
        const received: Buffer[] = [];
        const socket = h.net.connect({
          port,
          host: h.serverHost,
          onread: {
            buffer: (() => pool[asked++ % 2]!) as unknown as Uint8Array,
            callback(this: SocketLike, count: number, into: Buffer) {
              if (paused) pausedCalls++;
              received.push(Buffer.from(into.subarray(0, count)));
              if (received.length === 1) {
                paused = true;
                this.pause();
              }
              return true;
            },
          },
        } as ConnectOptionsLike);
        cleanup.sockets.push(socket);
        while (!paused) await h.delay(1);
        await h.delay(20);
        expect(received.length).toBe(1);
        const ended = next(socket, 'end');
        paused = false;
        socket.resume();
        await ended;
        expect(pausedCalls).toBe(0);
        expect(Buffer.concat(received)).toEqual(payload);
        // Six reads of at most 2 bytes, and one that found the end: libuv allocates for each.
        expect([received.length, asked]).toEqual([6, 7]);
      }),
  },
  {
    name: 'event order of a whole conversation on both ends (server ends first, client auto-ends)',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const EVENTS = ['connect', 'ready', 'data', 'end', 'finish', 'close', 'error', 'timeout'];
        const serverLog: string[] = [];
        const serverClosed = new Promise<void>((resolve) => {
          void startServer(h, cleanup, {}, (socket) => {
            for (const name of EVENTS) socket.on(name, () => serverLog.push(name));
            socket.on('close', () => resolve());
            socket.end('hi');
          }).then(({ port }) => {
            const client = cleanup.connect(h, { port, host: h.serverHost });
            for (const name of EVENTS) client.on(name, () => clientLog.push(name));
            clientClosed = new Promise((done) => client.on('close', () => done()));
          });
        });
        const clientLog: string[] = [];
        let clientClosed: Promise<void> | undefined;
        await serverClosed;
        while (clientClosed === undefined) await h.delay(1);
        await clientClosed;
        expect(clientLog).toEqual(['connect', 'ready', 'data', 'end', 'finish', 'close']);
        expect(serverLog).toEqual(['finish', 'end', 'close']);
      }),
  },
  {
    name: 'Symbol.asyncDispose: `await server[Symbol.asyncDispose]()` closes the server',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const { server } = await startServer(h, cleanup, {});
        const closed = next(server, 'close');
        const disposed = (server as unknown as AsyncDisposable)[Symbol.asyncDispose]();
        expect(server.listening).toBe(false);
        await Promise.all([disposed, closed]);
      }),
  },
  {
    name: 'captureRejections: a rejected async "connection" listener destroys that socket with the error',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const events = (await import('node:events')).EventEmitter;
        const previous = events.captureRejections;
        events.captureRejections = true;
        let server: ServerLike;
        try {
          server = h.net.createServer();
        } finally {
          events.captureRejections = previous;
        }
        cleanup.servers.push(server);
        const failure = new Error('kaboom');
        const accepted = new Promise<SocketLike>((resolve) =>
          server.on('connection', async (socket: SocketLike) => {
            resolve(socket);
            throw failure;
          }),
        );
        await new Promise<void>((resolve) => server.listen(0, h.serverHost, resolve));
        const port = (server.address() as AddressInfoLike).port;
        const client = cleanup.connect(h, { port, host: h.serverHost });
        client.on('error', () => {});
        const socket = await accepted;
        const [error] = await next<[Error]>(socket, 'error');
        expect(error).toBe(failure);
        await next(socket, 'close');
        expect(socket.destroyed).toBe(true);
      }),
  },
  {
    name: 'underscore members libraries read: _getpeername(), _getsockname(), _pendingData, _bytesDispatched, server _listeningId/_unref',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const server = h.net.createServer() as ServerLike &
          Record<string, unknown> & {
            ref(): unknown;
            unref(): unknown;
          };
        cleanup.servers.push(server);
        expect([server._listeningId, server._unref, server._usingWorkers, server._workers]).toEqual([
          1,
          false,
          false,
          [],
        ]);
        const received = new Promise<Buffer>((resolve) =>
          server.on('connection', (socket: SocketLike) => {
            cleanup.sockets.push(socket);
            socket.once('data', resolve);
          }),
        );
        await new Promise<void>((resolve) => server.listen(0, h.serverHost, resolve));
        const port = (server.address() as AddressInfoLike).port;
        expect(server._listeningId).toBe(2);
        server.unref();
        expect(server._unref).toBe(true);
        server.ref();
        expect(server._unref).toBe(false);
        const client = new h.net.Socket() as SocketLike & Record<string, unknown> & Internals;
        cleanup.sockets.push(client);
        expect([client._getpeername(), client._getsockname(), client._pendingData, client._sockname]).toEqual(
          [{}, {}, null, null],
        );
        expect([client._bytesDispatched, client._hadError, client._parent]).toEqual([0, false, null]);
        client.connect(port, h.serverHost);
        client.write('early');
        // Held until the connection exists (Node keeps the string, tcpts the bytes: the same text).
        expect(String(client._pendingData)).toBe('early');
        expect([client._bytesDispatched, client._getpeername(), client._getsockname()]).toEqual([0, {}, {}]);
        await next(client, 'connect');
        expect(client._pendingData).toBe(null);
        expect(client._getpeername()).toEqual({ address: h.serverHost, family: familyOf(h), port });
        const local = { address: h.clientHost, family: familyOf(h), port: client.localPort };
        expect(client._getsockname()).toEqual(local);
        expect(client._sockname).toEqual(local);
        expect(String(await received)).toBe('early');
        expect(client._bytesDispatched).toBe(5);
        client.destroy();
        await next(client, 'close');
        expect(client._getpeername()).toEqual({ address: h.serverHost, family: familyOf(h), port });
      }),
  },
  {
    name: '_reset() closes with a RST like resetAndDestroy(): the peer reads ECONNRESET',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const { port, accepted } = await startServer(h, cleanup, {});
        const client = cleanup.connect(h, { port, host: h.serverHost }) as SocketLike & Internals;
        await next(client, 'connect');
        while (accepted.length === 0) await h.delay(1);
        const peer = accepted[0]!;
        peer.resume();
        const failed = next<[Error & { code: string }]>(peer, 'error');
        client._reset();
        expect(client.destroyed).toBe(true);
        expect((await failed)[0].code).toBe('ECONNRESET');
      }),
  },
  {
    name: 'connect to the wildcard address reaches this host over loopback: peer 127.0.0.1 (::1), refused as ECONNREFUSED 0.0.0.0:port',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const v6 = familyOf(h) === 'IPv6';
        const [wildcard, loopback] = v6 ? ['::', '::1'] : ['0.0.0.0', '127.0.0.1'];
        const local = h.localNet.createServer();
        cleanup.servers.push(local);
        await new Promise<void>((resolve) => local.listen(0, wildcard, resolve));
        const port = (local.address() as AddressInfoLike).port;
        const accepted = next<[SocketLike]>(local, 'connection');
        const socket = cleanup.connect(h, { port, host: wildcard });
        await next(socket, 'connect');
        const [peer] = await accepted;
        cleanup.sockets.push(peer);
        expect([socket.remoteAddress, socket.remotePort, socket.localAddress]).toEqual([
          loopback,
          port,
          loopback,
        ]);
        socket.destroy();
        peer.destroy();
        await new Promise<void>((resolve) => local.close(() => resolve()));
        const refused = cleanup.connect(h, { port, host: wildcard });
        const [error] = await next<[Error & Record<string, unknown>]>(refused, 'error');
        expect([error.code, error.syscall, error.address, error.port, error.message]).toEqual([
          'ECONNREFUSED',
          'connect',
          wildcard,
          port,
          `connect ECONNREFUSED ${wildcard}:${port}`,
        ]);
      }),
  },
  {
    name: '_handle: null before connect and after close; Node calls its setNoDelay/setKeepAlive once connected and on changes only; getsockname/getpeername fill an object',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const { port, accepted } = await startServer(h, cleanup, {});
        const fresh = new h.net.Socket() as SocketLike & HandleOwner;
        expect(fresh._handle).toBe(null);
        const calls: unknown[][] = [];
        const socket = cleanup.connect(h, {
          port,
          host: h.serverHost,
          noDelay: true,
          keepAlive: true,
          keepAliveInitialDelay: 5500,
        } as ConnectOptionsLike) as SocketLike & HandleOwner;
        const handle = socket._handle!;
        expect(handle).not.toBe(null);
        expect(socket._handle).toBe(handle);
        for (const member of ['ref', 'unref', 'hasRef', 'getAsyncId', 'close', 'readStart', 'readStop']) {
          expect(typeof handle[member], member).toBe('function');
        }
        expect(typeof handle.fd).toBe('number');
        expect(typeof (handle.getAsyncId as () => unknown)()).toBe('number');
        const setNoDelay = handle.setNoDelay as (enable: boolean) => number;
        const setKeepAlive = handle.setKeepAlive as (enable: boolean, delay: number) => number;
        handle.setNoDelay = (...args: unknown[]) => {
          calls.push(['setNoDelay', ...args]);
          return setNoDelay.apply(handle, args as [boolean]);
        };
        handle.setKeepAlive = (...args: unknown[]) => {
          calls.push(['setKeepAlive', ...args]);
          return setKeepAlive.apply(handle, args as [boolean, number]);
        };
        await next(socket, 'connect');
        expect(calls).toEqual([
          ['setNoDelay', true],
          ['setKeepAlive', true, 5],
        ]);
        socket.setNoDelay(true);
        socket.setKeepAlive(true, 5900);
        expect(calls.length).toBe(2);
        socket.setNoDelay(false);
        socket.setKeepAlive(true, 7000);
        socket.setKeepAlive(false);
        expect(calls.slice(2)).toEqual([
          ['setNoDelay', false],
          ['setKeepAlive', true, 7],
          ['setKeepAlive', false, 0],
        ]);
        const local: Record<string, unknown> = {};
        const peer: Record<string, unknown> = {};
        expect([
          (handle.getsockname as (out: object) => number)(local),
          (handle.getpeername as (out: object) => number)(peer),
        ]).toEqual([0, 0]);
        expect(local).toEqual({ address: h.clientHost, family: familyOf(h), port: socket.localPort });
        expect(peer).toEqual({ address: h.serverHost, family: familyOf(h), port });
        expect((handle.hasRef as () => boolean)()).toBe(true);
        socket.unref();
        expect((handle.hasRef as () => boolean)()).toBe(false);
        socket.ref();
        while (accepted.length === 0) await h.delay(1);
        socket.destroy();
        await next(socket, 'close');
        expect(socket._handle).toBe(null);
      }),
  },
  {
    name: 'server._handle.onconnection gets each accepted handle; the server applies noDelay/keepAlive to it; writes after _handle.close() fail with "write EBADF", with _handle null with ERR_SOCKET_CLOSED',
    run: (h) =>
      withCleanup(async (cleanup) => {
        const server = h.net.createServer({
          noDelay: true,
          keepAlive: true,
          keepAliveInitialDelay: 3000,
        } as ServerOptionsLike) as ServerLike & HandleOwner;
        cleanup.servers.push(server);
        const connections: Array<SocketLike & HandleOwner> = [];
        server.on('connection', (socket: SocketLike & HandleOwner) => {
          cleanup.sockets.push(socket);
          connections.push(socket);
        });
        expect(server._handle).toBe(null);
        await new Promise<void>((resolve) => server.listen(0, h.serverHost, resolve));
        const port = (server.address() as AddressInfoLike).port;
        const serverHandle = server._handle!;
        const onconnection = serverHandle.onconnection as (error: unknown, client: HandleLike) => void;
        const calls: unknown[][] = [];
        const handles: HandleLike[] = [];
        serverHandle.onconnection = (error: unknown, client: HandleLike) => {
          handles.push(client);
          for (const method of ['setNoDelay', 'setKeepAlive'] as const) {
            const original = client[method] as (...args: unknown[]) => unknown;
            client[method] = (...args: unknown[]) => {
              calls.push([method, ...args]);
              return original.apply(client, args);
            };
          }
          onconnection.call(serverHandle, error, client);
        };
        const clients = [0, 1].map(() => cleanup.connect(h, { port, host: h.serverHost }));
        await Promise.all(clients.map((client) => next(client, 'connect')));
        while (connections.length < 2) await h.delay(1);
        expect(handles.length).toBe(2);
        expect(connections.map((socket) => socket._handle)).toEqual(handles);
        expect(calls).toEqual([
          ['setNoDelay', true],
          ['setKeepAlive', true, 3],
          ['setNoDelay', true],
          ['setKeepAlive', true, 3],
        ]);
        const [first, second] = clients as Array<SocketLike & HandleOwner>;
        (first!._handle!.close as () => void)();
        first!.write('after close');
        const [closedError] = await next<[Error & Record<string, unknown>]>(first!, 'error');
        expect([closedError.constructor, closedError.message, closedError.code, closedError.syscall]).toEqual(
          [Error, 'write EBADF', 'EBADF', 'write'],
        );
        (second!._handle!.close as () => void)();
        second!._handle = null;
        second!.write('after close');
        const [nulled] = await next<[Error & Record<string, unknown>]>(second!, 'error');
        expect([nulled.message, nulled.code]).toEqual(['Socket is closed', 'ERR_SOCKET_CLOSED']);
        server.close();
        expect(server._handle).toBe(null);
      }),
  },
  {
    name: 'new Socket({ handle }): the object is _handle; reading starts on it at once; setNoDelay reaches it on changes only',
    run: async (h) => {
      const calls: unknown[][] = [];
      const handle = {
        readStart: () => {
          calls.push(['readStart']);
          return 0;
        },
        setNoDelay: (enable: unknown) => {
          calls.push(['setNoDelay', enable]);
          return 0;
        },
      };
      const Socket = h.net.Socket as unknown as new (options: object) => SocketLike & HandleOwner;
      const socket = new Socket({ handle });
      expect(socket._handle).toBe(handle);
      socket.setNoDelay();
      socket.setNoDelay(1 as unknown as boolean);
      socket.setNoDelay(false);
      socket.setNoDelay('' as unknown as boolean);
      expect(calls).toEqual([['readStart'], ['setNoDelay', true], ['setNoDelay', false]]);
      const bare = new Socket({ handle: { setNoDelay: null, readStart() {} } });
      expect(bare.setNoDelay(true)).toBe(bare);
    },
  },
];

/** A handle as the cases touch it (Node's TCPWrap and tcpts's TcpHandle). */
type HandleLike = Record<string, unknown>;

/** The `_handle` of a socket or server. */
interface HandleOwner {
  _handle: HandleLike | null;
}

/** Node's internal members the cases read (present on Node's socket and on tcpts's). */
interface Internals {
  _getpeername(): object;
  _getsockname(): object;
  _reset(): unknown;
  readonly _pendingData: unknown;
  readonly _bytesDispatched: number;
}
