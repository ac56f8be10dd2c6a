/**
 * One ACK per burst (TcpConfig.ackPerBurst): segments that reach a receiver in the same instant are
 * answered by one ACK once all of them have been processed, instead of one per two segments, on a path
 * that takes no time; segments that arrive one by one, and segments on a path with any delay, are still
 * acknowledged every second one (RFC 9293 §3.8.6.3, SHLD-19). Likewise one 'readable' per burst, in
 * the order of the connection's other events.
 */
import { describe, expect, it } from 'vitest';
import type { LinkImpairments } from '../../src/link/impairments.js';
import { SimulatedNetwork } from '../../src/sim/network.js';
import type { TcpConfig } from '../../src/tcp/config.js';
import { parseIpv4 } from '../../src/wire/address.js';
import { pattern } from './dialogue.js';

const BYTES = 512 * 1024;

interface Outcome {
  /** Segments the receiver sent after the handshake (ACKs and window updates). */
  acks: number;
  /** Data segments the sender sent. */
  dataSegments: number;
  /** Every byte arrived, in order. */
  intact: boolean;
  /** Virtual time when the last byte was read. */
  doneAt: number;
  /** 'readable' events the receiving application was given. */
  readables: number;
  /**
   * Pure ACKs from the receiver (after its SYN-ACK) that offered a smaller window than the one before:
   * sent before the application read what had arrived. Counted with `watchAcks` only.
   */
  windowShrinks: number;
}

/** Sends BYTES from a to b over one link and records what b's TCP sent back. */
function transfer(tcp: Partial<TcpConfig>, impairments: LinkImpairments = {}, watchAcks = false): Outcome {
  const net = new SimulatedNetwork({ seed: 1, trace: false, stack: { tcp } });
  const a = net.host('a', '10.0.0.1/24');
  const b = net.host('b', '10.0.0.2/24');
  const link = net.link(a, b, { impairments });
  let windowShrinks = 0;
  let lastWindow = -1;
  if (watchAcks) {
    link.link.tap((_time, frame) => {
      const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
      if (view.getUint16(12) !== 0x0800 || frame[14 + 9] !== 6) return;
      if (view.getUint32(14 + 12) !== parseIpv4('10.0.0.2')) return;
      const ipHeader = (frame[14]! & 0x0f) * 4;
      const tcpAt = 14 + ipHeader;
      const payload = view.getUint16(14 + 2) - ipHeader - (frame[tcpAt + 12]! >>> 4) * 4;
      if (payload !== 0 || (frame[tcpAt + 13]! & 0x02) !== 0) return; // data, or the SYN-ACK
      const window = view.getUint16(tcpAt + 14);
      if (window < lastWindow) windowShrinks++;
      lastWindow = window;
    });
  }
  const received = new Uint8Array(BYTES);
  let at = 0;
  let doneAt = 0;
  let readables = 0;
  b.tcp.listen({ port: 80 }).on('connection', (conn) => {
    conn.on('readable', () => {
      readables++;
      for (;;) {
        const n = conn.receiveInto(received.subarray(at), net.clock.now());
        if (n <= 0) break;
        at += n;
      }
      if (at === BYTES && doneAt === 0) doneAt = net.clock.now();
    });
  });
  const conn = a.tcp.connect({ remoteAddress: parseIpv4('10.0.0.2')!, remotePort: 80 });
  const data = pattern(BYTES);
  let sent = 0;
  const write = (): void => {
    while (sent < BYTES) {
      const n = conn.send(data.subarray(sent), net.clock.now());
      sent += n;
      if (n === 0) return;
    }
  };
  conn.on('connected', write);
  conn.on('drain', write);
  let acksBefore = 0;
  conn.on('connected', () => {
    acksBefore = b.tcp.counters.segmentsOut;
  });
  net.clock.runUntilIdle({ maxEvents: 10_000_000, maxTime: 60_000 });
  expect(at).toBe(BYTES);
  return {
    acks: b.tcp.counters.segmentsOut - acksBefore,
    dataSegments: a.tcp.counters.segmentsOut,
    intact: sameBytes(received, data),
    doneAt,
    readables,
    windowShrinks,
  };
}

function sameBytes(x: Uint8Array, y: Uint8Array): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

describe('one ACK per burst (TcpConfig.ackPerBurst)', () => {
  it('answers the segments that arrive in one instant with one ACK; every byte arrives in order', () => {
    const burst = transfer({});
    expect(burst.intact).toBe(true);
    const classic = transfer({ ackPerBurst: false });
    expect(classic.intact).toBe(true);
    // Classic: about one ACK per two data segments.
    expect(classic.acks).toBeGreaterThan(classic.dataSegments * 0.4);
    // Per burst: a small fraction of that (a burst is capped at 64 KiB: at least 8 ACKs for 512 KiB).
    expect(burst.acks).toBeLessThan(classic.acks / 5);
    expect(burst.acks).toBeGreaterThanOrEqual(BYTES / 65535);
  });

  it('acknowledges segments that arrive one by one every second segment, as without it', () => {
    // A 100 Mbit/s bottleneck spaces the segments 0.12 ms apart: no two arrive in the same instant.
    const paced = { rateBitsPerSecond: 100e6, delayMs: 1 };
    const burst = transfer({}, paced);
    const classic = transfer({ ackPerBurst: false }, paced);
    expect(burst.intact).toBe(true);
    expect(burst.acks).toBe(classic.acks);
    expect(burst.acks).toBeGreaterThan(burst.dataSegments * 0.4);
  });

  it('acknowledges every second segment on a path with delay, so slow start grows as fast as without it', () => {
    // Bursts arrive in one instant here too, but the handshake measured 10 ms: a sender growing by at most
    // two segments per ACK (RFC 3465) would need more rounds with fewer ACKs.
    const delayed = { delayMs: 5 };
    const burst = transfer({}, delayed);
    const classic = transfer({ ackPerBurst: false }, delayed);
    expect(burst.intact).toBe(true);
    expect(burst.acks).toBe(classic.acks);
    expect(burst.doneAt).toBe(classic.doneAt);
  });
});

describe("one 'readable' per burst", () => {
  it('tells the application once per burst of what arrived in one instant, every byte in order', () => {
    const burst = transfer({});
    const classic = transfer({ ackPerBurst: false });
    expect(burst.intact).toBe(true);
    // Classic: one event per data segment (its 1,448 bytes are read at once).
    expect(classic.readables).toBeGreaterThan(classic.dataSegments * 0.9);
    expect(burst.readables).toBeLessThan(classic.readables / 5);
    expect(burst.doneAt).toBe(classic.doneAt);
  });

  it("answers a burst with one ACK sent after the application's read, carrying the window it opened", () => {
    const burst = transfer({}, {}, true);
    expect(burst.intact).toBe(true);
    // The reader takes all it is given at once: an ACK sent before its read offers less window.
    expect(burst.windowShrinks).toBe(0);
    expect(burst.acks).toBeLessThan(burst.dataSegments / 20);
  });

  it('tells of each segment that arrives on its own, as without it', () => {
    const paced = { rateBitsPerSecond: 100e6, delayMs: 1 };
    const burst = transfer({}, paced);
    const classic = transfer({ ackPerBurst: false }, paced);
    expect(burst.readables).toBe(classic.readables);
    expect(burst.readables).toBeGreaterThan(burst.dataSegments * 0.9);
  });

  it("delivers 'readable' before an 'end' that followed the data in the same burst", () => {
    const net = new SimulatedNetwork({ seed: 1, trace: false });
    const a = net.host('a', '10.0.0.1/24');
    const b = net.host('b', '10.0.0.2/24');
    net.link(a, b);
    const bytes = 20 * 1448;
    const events: string[] = [];
    let read = 0;
    const sink = new Uint8Array(bytes);
    b.tcp.listen({ port: 80 }).on('connection', (conn) => {
      conn.on('readable', () => {
        events.push('readable');
        for (;;) {
          const n = conn.receiveInto(sink, net.clock.now());
          if (n <= 0) break;
          read += n;
        }
      });
      conn.on('end', () => events.push(`end after ${read} bytes`));
    });
    const conn = a.tcp.connect({ remoteAddress: parseIpv4('10.0.0.2')!, remotePort: 80 });
    // After the handshake (whose RTT on this link is 0), the data and the FIN leave in one instant.
    conn.on('connected', () => {
      net.clock.setTimer(1, () => {
        expect(conn.send(pattern(bytes), net.clock.now())).toBe(bytes);
        conn.close(net.clock.now());
      });
    });
    net.clock.runUntilIdle({ maxEvents: 100_000, maxTime: 10_000 });
    expect(read).toBe(bytes);
    // The initial window lets 10 segments go in the first burst, the rest and the FIN in the next ones.
    expect(events.length).toBeLessThan(6);
    expect(events.at(-1)).toBe(`end after ${bytes} bytes`);
    expect(events.slice(0, -1).every((e) => e === 'readable')).toBe(true);
  });
});
