import { describe, expect, it } from 'vitest';
import { DEFAULT_TCP_CONFIG, resolveTcpConfig } from '../../src/tcp/config.js';
import { DeadlineQueue, deadlineQueueCounters } from '../../src/tcp/deadline-queue.js';
import { EphemeralPortAllocator } from '../../src/tcp/ephemeral-ports.js';
import type { TcpError } from '../../src/tcp/errors.js';
import { RttEstimator } from '../../src/tcp/rtt-estimator.js';
import { windowScaleFor } from '../../src/tcp/tcb.js';

describe('RttEstimator (RFC 6298)', () => {
  const config = { initialRtoMs: 1000, minRtoMs: 200, maxRtoMs: 120_000, clockGranularityMs: 1 };

  it('starts at 1 s, follows §2.2/2.3, clamps to [min, max], backs off by doubling', () => {
    const r = new RttEstimator(config);
    expect(r.rto).toBe(1000);
    r.backoff();
    expect(r.rto).toBe(2000);
    r.sample(400);
    expect([r.srtt, r.rttvar, r.rto]).toEqual([400, 200, 1200]);
    r.sample(200);
    expect([r.srtt, r.rttvar, r.rto]).toEqual([375, 200, 1175]);
    for (let i = 0; i < 20; i++) r.backoff();
    expect(r.rto).toBe(120_000);
    const fast = new RttEstimator(config);
    fast.sample(1);
    expect(fast.rto).toBe(200);
  });

  it('re-initializes to 3 s after a SYN timeout when no sample exists (§5.7)', () => {
    const r = new RttEstimator(config);
    r.backoff();
    r.resetAfterSynTimeout();
    expect(r.rto).toBe(3000);
    const s = new RttEstimator(config);
    s.sample(100);
    s.resetAfterSynTimeout();
    expect(s.rto).toBe(300);
  });

  it('ignores invalid samples', () => {
    const r = new RttEstimator(config);
    r.sample(Number.NaN);
    r.sample(-5);
    expect(r.hasSample).toBe(false);
  });
});

describe('EphemeralPortAllocator (RFC 6056 algorithm 3)', () => {
  it('starts each destination at its own hashed offset and walks the range when ports are taken', () => {
    const p = new EphemeralPortAllocator(new Uint8Array(16).fill(9));
    const first = p.select(1, 2, 80, () => true)!;
    const other = new EphemeralPortAllocator(new Uint8Array(16).fill(9)).select(1, 3, 80, () => true)!;
    expect(first).not.toBe(other);
    const taken = new Set([first + 1, first + 2].map((x) => (x > 65535 ? x - 16384 : x)));
    const q = new EphemeralPortAllocator(new Uint8Array(16).fill(9));
    q.select(1, 2, 80, () => true);
    const next = q.select(1, 2, 80, (port) => !taken.has(port))!;
    expect(taken.has(next)).toBe(false);
    expect(next).toBeGreaterThanOrEqual(49152);
  });

  it('starts each destination at the same offset whatever destinations were asked for in between', () => {
    const secret = new Uint8Array(16).fill(9);
    // The n-th selection is offset(destination) + n: a fresh allocator's first port gives the offset.
    const offset = (local: number, remote: number, port: number) =>
      new EphemeralPortAllocator(secret).select(local, remote, port, () => true)! - 49152;
    const asked: [number, number, number][] = [
      [1, 2, 80],
      [1, 2, 80],
      [1, 2, 81],
      [1, 3, 80],
      [1, 2, 80],
      [4, 2, 80],
    ];
    const p = new EphemeralPortAllocator(secret);
    expect(asked.map(([l, r, port]) => p.select(l, r, port, () => true)! - 49152)).toEqual(
      asked.map(([l, r, port], n) => (offset(l, r, port) + n) % 16384),
    );
  });

  it('returns undefined when every port is taken', () => {
    const p = new EphemeralPortAllocator(new Uint8Array(16), 60000, 60003);
    expect(p.select(1, 2, 80, () => false)).toBeUndefined();
  });
});

describe('DeadlineQueue', () => {
  it('keeps at most 256 spare slots once mostly unused, and counts each shortening', () => {
    const q = new DeadlineQueue<number>();
    const before = deadlineQueueCounters.shrinks;
    for (let i = 0; i < 1000; i++) q.push(i, i);
    // Shortened when under a quarter of the 1,000 slots is in use (at 249), never again below 256 slots.
    for (let i = 0; i < 900; i++) q.pop();
    expect(deadlineQueueCounters.shrinks - before).toBe(1);
    expect((q as unknown as { deadlines: number[] }).deadlines.length).toBe(249);
    expect(q.peekDeadline()).toBe(900);
    expect(q.size).toBe(100);
  });

  it('pops in deadline order', () => {
    const q = new DeadlineQueue<string>();
    const values = [50, 10, 40, 20, 30, 10];
    for (const [i, d] of values.entries()) q.push(d, `x${i}`);
    const out: number[] = [];
    while (q.size > 0) {
      out.push(q.peekDeadline());
      q.pop();
    }
    expect(out).toEqual([10, 10, 20, 30, 40, 50]);
    expect(q.peekDeadline()).toBe(Number.POSITIVE_INFINITY);
  });

  it('pops fractional deadlines in order, mixed with whole ones, after a clear and a retain too', () => {
    const q = new DeadlineQueue<number>();
    const values = [20.5, 3, 10.25, 10.125, 3.000001, 7, 0.5];
    const drain = (): number[] => {
      const out: number[] = [];
      while (q.size > 0) {
        out.push(q.peekDeadline());
        q.pop();
      }
      return out;
    };
    const sorted = [...values].sort((a, b) => a - b);
    for (const [i, d] of values.entries()) q.push(d, i);
    expect(drain()).toEqual(sorted);
    q.clear();
    for (const [i, d] of values.entries()) q.push(d, i);
    q.retain(() => true);
    expect(drain()).toEqual(sorted);
  });

  it('retain keeps only the accepted entries, still popping in deadline order', () => {
    const q = new DeadlineQueue<number>();
    for (let i = 0; i < 200; i++) q.push((i * 7919) % 1000, i);
    q.retain((_deadline, item) => item % 3 === 0);
    expect(q.size).toBe(67);
    const out: number[] = [];
    while (q.size > 0) {
      expect(q.peekItem()! % 3).toBe(0);
      out.push(q.peekDeadline());
      q.pop();
    }
    expect(out).toEqual([...out].sort((a, b) => a - b));
    expect(out).toHaveLength(67);
  });

  it('stays in deadline order through rounds of growing and draining (reused and shrunk slots)', () => {
    const q = new DeadlineQueue<number>();
    const reference: number[] = [];
    let x = 12345;
    const next = (): number => {
      x = (x * 1103515245 + 12345) % 2147483648;
      return x % 10_000;
    };
    // Rounds of 1, 1000 (past the spare slots a queue keeps) and 3 entries, each drained to empty.
    for (const size of [1, 1000, 3, 1, 600, 2]) {
      for (let i = 0; i < size; i++) {
        const d = next();
        q.push(d, d);
        reference.push(d);
      }
      reference.sort((a, b) => a - b);
      // Pop half, push a few more, then drain.
      for (let i = 0; i < size >> 1; i++) {
        expect(q.peekItem()).toBe(reference.shift());
        q.pop();
      }
      for (let i = 0; i < 5; i++) {
        const d = next();
        q.push(d, d);
        reference.push(d);
      }
      reference.sort((a, b) => a - b);
      expect(q.size).toBe(reference.length);
      while (reference.length > 0) {
        expect(q.peekDeadline()).toBe(reference[0]);
        expect(q.peekItem()).toBe(reference.shift());
        q.pop();
      }
      expect(q.size).toBe(0);
      expect(q.peekItem()).toBeUndefined();
      expect(q.peekDeadline()).toBe(Number.POSITIVE_INFINITY);
    }
  });
});

describe('TcpConfig', () => {
  it('documents its defaults', () => {
    expect(DEFAULT_TCP_CONFIG).toMatchObject({
      initialRtoMs: 1000,
      minRtoMs: 200,
      maxRtoMs: 120_000,
      r1Retransmissions: 3,
      r2TimeoutMs: 100_000,
      synR2TimeoutMs: 180_000,
      mslMs: 30_000,
      delayedAckMs: 40,
      nagle: true,
      keepAlive: false,
      keepAliveIdleMs: 7_200_000,
      keepAliveIntervalMs: 75_000,
      keepAliveProbes: 9,
      finWait2TimeoutMs: 60_000,
    });
  });

  it('rejects bad values with EINVAL, including a delayed ACK of 500 ms or more (MUST-40)', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as TcpError).code;
      }
      return undefined;
    };
    expect(code(() => resolveTcpConfig({ delayedAckMs: 500 }))).toBe('EINVAL');
    expect(code(() => resolveTcpConfig({ sendBufferSize: 0 }))).toBe('EINVAL');
    expect(code(() => resolveTcpConfig({ minRtoMs: 500, maxRtoMs: 100 }))).toBe('EINVAL');
    expect(resolveTcpConfig({ mslMs: 1000 }).mslMs).toBe(1000);
  });
});

describe('windowScaleFor', () => {
  it('picks the smallest shift whose scaled 65535 covers the buffer, at most 14', () => {
    expect(windowScaleFor(65535)).toBe(0);
    expect(windowScaleFor(65536)).toBe(1);
    expect(windowScaleFor(262144)).toBe(3);
    expect(windowScaleFor(2 ** 40)).toBe(14);
  });
});
