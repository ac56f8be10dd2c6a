/**
 * The tcpts side of the TCP benchmarks (bench/suites/tcp.ts): two in-process stacks on one MemoryLink,
 * driven by a VirtualClock run as fast as it goes, timed in real (wall-clock) milliseconds. Core code only,
 * so the suite can bundle this module as plain ESM and measure the stack as an application would run it.
 */

import { createNetApi } from '../src/api/net/net-api.js';
import { SimulatedNetwork, type SimulatedNetworkOptions } from '../src/sim/network.js';
import type { Stack } from '../src/stack.js';

const CLIENT = 0x0a000001; // 10.0.0.1
const SERVER = 0x0a000002; // 10.0.0.2
const PORT = 5001;
const CHUNK = 64 * 1024;
/** Listening ports used to spread many connections over distinct 4-tuples. */
const MANY_PORTS = 8;

/** The link ends' offloads a bulk workload runs with (the SimulatedNetwork options; all off by default). */
export type LinkOffloads = Pick<SimulatedNetworkOptions, 'checksumOffload' | 'offload' | 'gro' | 'gso'>;

function pair(
  offloads: LinkOffloads,
  path?: BulkPath,
): { net: SimulatedNetwork; client: Stack; server: Stack } {
  const net = new SimulatedNetwork({ seed: 1, trace: false, ...offloads });
  const client = net.host('client', '10.0.0.1/24');
  const server = net.host('server', '10.0.0.2/24');
  const impairments =
    path === undefined
      ? undefined
      : {
          delayMs: path.delayMs,
          rateBitsPerSecond: path.rateBitsPerSecond,
          queueLimitFrames: path.queueFrames,
        };
  const link = net.link(client, server, { mtu: 1500, impairments });
  // Static neighbours: kernel loopback, the comparison, has no ARP either.
  link.a.interface.arp.addStatic(SERVER, link.link.b.mac);
  link.b.interface.arp.addStatic(CLIENT, link.link.a.mac);
  return { net, client, server };
}

/**
 * A pair for many connections: the whole port range (1024-65535) on the client, so that with
 * `MANY_PORTS` server ports 100,000 connections get distinct 4-tuples, even while earlier ones wait out
 * TIME-WAIT.
 */
function manyPortsPair(): { net: SimulatedNetwork; client: Stack; server: Stack } {
  const net = new SimulatedNetwork({
    seed: 1,
    trace: false,
    stack: { tcpLimits: { ephemeralPortMin: 1024, ephemeralPortMax: 65535 } },
  });
  const client = net.host('client', '10.0.0.1/24');
  const server = net.host('server', '10.0.0.2/24');
  const link = net.link(client, server, { mtu: 1500 });
  link.a.interface.arp.addStatic(SERVER, link.link.b.mac);
  link.b.interface.arp.addStatic(CLIENT, link.link.a.mac);
  return { net, client, server };
}

/**
 * Sends `totalBytes` from one stack to the other over one connection (MTU 1500, no impairments, default
 * TCP settings) and returns the wall-clock milliseconds from connect() until the receiver has read the
 * last byte. Of `offloads`: with `checksumOffload` the link lets both ends skip the TCP checksum, as
 * Linux does on loopback; without, every segment's checksum is computed by the sender and verified by
 * the receiver. With `offload` the link ends offer TSO and checksum offload (MemoryLinkOptions.offload): segments of
 * up to 64 KiB cross whole, as on Linux loopback or a veth pair. With `gro` the link ends coalesce what
 * arrives together (MemoryLinkOptions.gro): the receiver's IP and TCP see one packet per batch; every
 * frame's checksum is still verified, by the coalescer. With `gso` (and `offload` off) they offer TSO
 * and checksum offload and do both in software (MemoryLinkOptions.gso): TCP and IP build super-segments,
 * the link carries the 1500-byte frames cut from them, with full checksums, that the receiver verifies.
 */
export function bulkTransferMs(totalBytes: number, offloads: LinkOffloads = {}): number {
  const { net, client, server } = pair(offloads);
  const chunk = new Uint8Array(CHUNK);
  const sink = new Uint8Array(CHUNK);
  let received = 0;
  let doneAt = 0;
  server.tcp.listen({ port: PORT }).on('connection', (conn) => {
    conn.on('readable', () => {
      for (;;) {
        const n = conn.receiveInto(sink);
        if (n <= 0) break;
        received += n;
      }
      if (received === totalBytes && doneAt === 0) doneAt = performance.now();
    });
  });
  const started = performance.now();
  const conn = client.tcp.connect({ remoteAddress: SERVER, remotePort: PORT });
  let sent = 0;
  const write = (): void => {
    while (sent < totalBytes) {
      const wanted = Math.min(CHUNK, totalBytes - sent);
      const accepted = conn.send(chunk.subarray(0, wanted), net.clock.now());
      sent += accepted;
      if (accepted < wanted) return;
    }
  };
  conn.on('connected', write);
  conn.on('drain', write);
  net.clock.runUntilIdle({ maxEvents: Number.MAX_SAFE_INTEGER });
  if (received !== totalBytes) throw new Error(`bulk transfer: ${received} of ${totalBytes} bytes arrived`);
  return doneAt - started;
}

/**
 * Opens and closes `count` connections one after the other: handshake, FIN from the client, FIN from the
 * server, and the next connection as soon as the server's side is closed and the client's is in
 * TIME-WAIT (as with a kernel, TIME-WAIT connections pile up meanwhile; they run out in virtual time at
 * the end, inside the measurement). Returns the wall-clock milliseconds it all took.
 *
 * Every `YIELD_EVERY` connections the run returns to the event loop, as an application does between
 * events (on a real clock every timer and every frame is an event of its own). Within one job the
 * JavaScript engine keeps every object a WeakRef was made for alive until the job ends (ECMA-262
 * ClearKeptObjects), and the TCP layer holds the TIME-WAIT connections a stream observer (a net.Socket)
 * watches through WeakRefs: in one long synchronous run each of them would stay in the heap, and the
 * collector would mark them all again and again. (The raw connections here make none.)
 */
export async function connectionsMs(count: number): Promise<number> {
  const { net, client, server } = manyPortsPair();
  let serverClosed = 0;
  for (let p = 0; p < MANY_PORTS; p++) {
    server.tcp.listen({ port: PORT + p, backlog: 1024 }).on('connection', (conn) => {
      conn.on('end', () => conn.close(net.clock.now()));
      conn.on('closed', () => serverClosed++);
    });
  }
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const conn = client.tcp.connect({ remoteAddress: SERVER, remotePort: PORT + (i % MANY_PORTS) });
    conn.on('connected', () => conn.close(net.clock.now()));
    while (serverClosed === i || conn.state !== 'TIME-WAIT') {
      if (!net.clock.step()) throw new Error(`connection ${i} stalled in ${conn.state}`);
    }
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await endOfJob();
  }
  net.clock.runUntilIdle({ maxEvents: Number.MAX_SAFE_INTEGER });
  const elapsed = performance.now() - started;
  const closed = serverClosed;
  if (closed !== count || client.tcp.connectionCount + server.tcp.connectionCount !== 0) {
    throw new Error(`connections: ${closed} of ${count} closed`);
  }
  return elapsed;
}

/** Connections opened between two returns to the event loop in `connectionsMs`. */
const YIELD_EVERY = 1000;

/** Ends the current job: resolves from a macrotask (setTimeout is in browsers and Node alike). */
function endOfJob(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * A path with a bottleneck for `bulkSteadyState`: a one-way delay in both directions and a rate limiter
 * with a queue of `queueFrames` on each side.
 */
export interface BulkPath {
  delayMs: number;
  rateBitsPerSecond: number;
  queueFrames: number;
}

/** Start and stop of a measurement taken around a workload's steady state (see `bulkSteadyState`). */
export interface SteadyStateMeter {
  start(): void;
  stop(): void;
}

/**
 * A bulk transfer (MTU 1500, checksums verified, no offload) in which `meter` runs only while the
 * connection is in its steady state: started once `warmBytes` have been read, stopped when `stopBytes`
 * have (by default all `totalBytes`; less keeps the end of the transfer out: its last, shorter chunk and
 * segments, cut once at lengths the steady state never had). Returns the TCP segments both stacks sent
 * meanwhile (data one way, ACKs the other; a TSO segment counts as the pieces it stands for). With
 * `offloads.gro`, the link ends coalesce what arrives together, with `offloads.gso` they cut
 * super-segments (as in `bulkTransferMs`).
 */
export function bulkSteadyState(
  totalBytes: number,
  warmBytes: number,
  meter: SteadyStateMeter,
  path?: BulkPath,
  stopBytes = totalBytes,
  offloads: LinkOffloads = {},
): number {
  const { net, client, server } = pair(offloads, path);
  const chunk = new Uint8Array(CHUNK);
  const sink = new Uint8Array(CHUNK);
  const segments = (): number => client.tcp.counters.segmentsOut + server.tcp.counters.segmentsOut;
  let received = 0;
  let atStart = 0;
  let atStop = -1;
  // The reader calls `step` each time it has read `stepAt` bytes: at the first byte (nothing to do
  // yet), at `warmBytes` (start) and at `stopBytes` (stop). The first call gives V8 the call's feedback
  // before the reader is optimised, so starting the meter does not deoptimise the reader: its code,
  // compiled again inside the window, would be counted against the stack code that called it (about 10
  // objects of 56 to 1,408 bytes in the path's window).
  let stepAt = 1;
  const step = (): void => {
    if (stepAt === 1) {
      stepAt = warmBytes;
    } else if (stepAt === warmBytes) {
      atStart = segments();
      meter.start();
      stepAt = stopBytes;
    } else {
      meter.stop();
      atStop = segments();
      stepAt = Number.POSITIVE_INFINITY;
    }
  };
  server.tcp.listen({ port: PORT }).on('connection', (conn) => {
    conn.on('readable', () => {
      for (;;) {
        const n = conn.receiveInto(sink);
        if (n <= 0) break;
        received += n;
      }
      while (received >= stepAt) step();
    });
  });
  const conn = client.tcp.connect({ remoteAddress: SERVER, remotePort: PORT });
  let sent = 0;
  const write = (): void => {
    while (sent < totalBytes) {
      // The whole chunk while a whole one is left: a view per call would be the application's allocation.
      const left = totalBytes - sent;
      const accepted = conn.send(left >= CHUNK ? chunk : chunk.subarray(0, left));
      sent += accepted;
      if (accepted === 0) return;
    }
  };
  conn.on('connected', write);
  conn.on('drain', write);
  net.clock.runUntilIdle({ maxEvents: Number.MAX_SAFE_INTEGER });
  if (atStop < 0) throw new Error(`steady state: ${received} of ${totalBytes} bytes arrived`);
  return atStop - atStart;
}

/**
 * Opens `count` connections between two stacks and leaves them established and idle; calls
 * `measure()` (which takes a heap measurement) before the first and again once all are established,
 * while the connections are still referenced, then aborts them all. Connections use the whole port
 * range (1024-65535) and `MANY_PORTS` server ports, so that 100,000 fit in distinct 4-tuples.
 */
export function idleConnections(count: number, measure: () => void): void {
  const { net, client, server } = manyPortsPair();
  const accepted: unknown[] = [];
  for (let p = 0; p < MANY_PORTS; p++) {
    server.tcp.listen({ port: PORT + p, backlog: 65535 }).on('connection', (c) => accepted.push(c));
  }
  measure();
  const opened = [];
  for (let i = 0; i < count; i++) {
    opened.push(client.tcp.connect({ remoteAddress: SERVER, remotePort: PORT + (i % MANY_PORTS) }));
    // Handshakes in batches keep the listeners' queues short.
    if (i % 1000 === 999) net.clock.runUntilIdle({ maxEvents: Number.MAX_SAFE_INTEGER });
  }
  net.clock.runUntilIdle({ maxEvents: Number.MAX_SAFE_INTEGER });
  const established = opened.filter((c) => c.state === 'ESTABLISHED').length;
  if (established !== count || accepted.length !== count) {
    throw new Error(`idle connections: ${established} established, ${accepted.length} accepted of ${count}`);
  }
  measure();
  for (const c of opened) c.abort(net.clock.now());
  net.clock.runUntilIdle({ maxEvents: Number.MAX_SAFE_INTEGER });
}

/**
 * As `idleConnections`, with a Node-style `net.Socket` (createNetApi) on each end of every connection:
 * a server socket from `createServer` and a client socket from `net.connect`. Node callbacks run
 * between virtual-time steps, so this one is asynchronous.
 */
export async function idleSockets(count: number, measure: () => void): Promise<void> {
  const { net, client, server } = manyPortsPair();
  const clientNet = createNetApi(client);
  const serverNet = createNetApi(server);
  const accepted: unknown[] = [];
  const servers = [];
  for (let p = 0; p < MANY_PORTS; p++) {
    const s = serverNet.createServer((socket) => {
      // The client ends are destroyed at the end: a reset, which is expected here.
      socket.on('error', () => {});
      accepted.push(socket);
    });
    s.listen({ port: PORT + p, host: '10.0.0.2', backlog: 65535 });
    servers.push(s);
  }
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 3; i++) {
      net.clock.runUntilIdle({ maxEvents: Number.MAX_SAFE_INTEGER });
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  await settle();
  measure();
  const opened = [];
  let connected = 0;
  for (let i = 0; i < count; i++) {
    opened.push(
      clientNet.connect(PORT + (i % MANY_PORTS), '10.0.0.2', () => {
        connected++;
      }),
    );
    if (i % 1000 === 999) await settle();
  }
  await settle();
  if (connected !== count || accepted.length !== count) {
    throw new Error(`idle sockets: ${connected} connected, ${accepted.length} accepted of ${count}`);
  }
  measure();
  for (const socket of opened) socket.destroy();
  for (const s of servers) s.close();
  await settle();
}
