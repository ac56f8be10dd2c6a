/**
 * The SYN flood scenario, shared by the test suite (scaled down) and `npm run flood` (full scale): a
 * listener receives spoofed SYNs from addresses nobody answers from, while a legitimate client connects
 * during the flood and after it. The figures it returns are what docs/hardening.md reports.
 */
import type { TcpLimits } from '../../src/tcp/limits.js';
import { Random } from '../../src/util/random.js';
import { TCP_SYN, type TcpSegment } from '../../src/wire/tcp.js';
import { FakeNetwork, ip } from '../tcp/network.js';

export interface SynFloodOptions {
  /** Spoofed SYNs in all. */
  syns: number;
  /** Spoofed SYNs per second. */
  rate: number;
  /** Times (ms from the start) at which the legitimate client connects. */
  connectAt: number[];
  /** How long to run after the flood ends (ms); half-open entries must be gone by then. */
  tailMs: number;
  limits?: Partial<TcpLimits>;
  seed?: number;
}

export interface SynFloodResult {
  floodEndMs: number;
  /** Per connect: ms from `connect()` until the server handed the connection over; Infinity: never. */
  connectMs: number[];
  /** Largest number of half-open connections the listener held at once. */
  maxHalfOpen: number;
  synQueueLimit: number;
  /** Connections in the server's table at the end (the client's are closed by then). */
  connectionsAtEnd: number;
  cookiesSent: number;
  cookiesReceived: number;
  synAckTimeouts: number;
  listenDrops: number;
  /** Segments the server sent in all (its reflection towards the spoofed addresses). */
  serverSegmentsOut: number;
}

export function runSynFlood(options: SynFloodOptions): SynFloodResult {
  const net = new FakeNetwork();
  const random = new Random(options.seed ?? 1);
  const client = net.addHost(['10.0.0.1']);
  const server = net.addHost(['10.0.0.2'], options.limits ? { limits: options.limits } : {});
  const listener = server.listen({ port: 80 });
  const serverAddress = ip('10.0.0.2');
  const connectMs: number[] = options.connectAt.map(() => Number.POSITIVE_INFINITY);
  const pending = new Map<number, { index: number; start: number }>();
  listener.on('connection', (conn) => {
    const waiting = pending.get(conn.remote.port);
    if (waiting !== undefined) {
      connectMs[waiting.index] = net.clock.now() - waiting.start;
      pending.delete(conn.remote.port);
    }
    conn.on('end', () => conn.close(net.clock.now()));
  });
  options.connectAt.forEach((at, index) => {
    net.clock.setTimerAt(at, () => {
      const conn = client.connect({ remoteAddress: serverAddress, remotePort: 80 });
      pending.set(conn.local.port, { index, start: net.clock.now() });
      conn.on('connected', () => conn.close(net.clock.now()));
    });
  });
  // The flood, injected in 1 ms ticks. Spoofed sources lie in 10.1.0.0/16, where no host answers.
  const perTick = options.rate / 1000;
  let sent = 0;
  let due = 0;
  let maxHalfOpen = 0;
  const tick = (): void => {
    due += perTick;
    while (sent < options.syns && sent < due) {
      const syn: TcpSegment = {
        srcPort: 1024 + random.int(64512),
        dstPort: 80,
        seq: random.next(),
        ack: 0,
        flags: TCP_SYN,
        window: 64240,
        urgentPointer: 0,
        options: { mss: 1460, windowScale: 7 },
        payload: new Uint8Array(0),
      };
      server.receive(ip('10.1.0.0') + random.int(65536), serverAddress, syn);
      sent++;
    }
    maxHalfOpen = Math.max(maxHalfOpen, listener.halfOpenCount);
    if (sent < options.syns) net.clock.setTimer(1, tick);
  };
  net.clock.setTimer(0, tick);
  const floodEndMs = Math.ceil((options.syns / options.rate) * 1000);
  const end = Math.max(floodEndMs, ...options.connectAt) + options.tailMs;
  // Only the listener's own table is kept: the recorded packets of a large flood are not needed.
  net.drop = (p) => {
    net.packets.length = 0;
    return p.dst !== serverAddress && p.dst !== ip('10.0.0.1');
  };
  net.runUntil(end);
  return {
    floodEndMs,
    connectMs,
    maxHalfOpen,
    synQueueLimit: listener.synQueueLimit,
    connectionsAtEnd: server.connectionCount,
    cookiesSent: server.counters.syncookiesSent,
    cookiesReceived: server.counters.syncookiesRecv,
    synAckTimeouts: server.counters.synAckTimeouts,
    listenDrops: server.counters.listenDrops,
    serverSegmentsOut: server.counters.segmentsOut,
  };
}
