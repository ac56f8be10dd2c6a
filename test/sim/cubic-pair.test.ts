/**
 * Two CUBIC flows through one simulated bottleneck (virtual time): issue 9's path, 100 Mbit/s with a
 * 50 ms round trip and a drop-tail queue of one bandwidth-delay product, the second flow opening 0.1 s
 * after the first as the goodput bench does.
 *
 * What decides the shares here (RFC 9438): the drop-tail queue overflows for both flows at once, so
 * most congestion events cut both windows by the same beta of 0.7 (§4.6), which keeps their ratio. The
 * ratio moves only through the cubic's shape (the smaller flow has the smaller K, so it reaches the
 * convex region first) and through fast convergence (§4.7), which lowers W_max of a flow that lost
 * before regaining its previous one. Each epoch lasts K ~ 5-7 s at this BDP (~430 segments), so the
 * split the start sets up is what the first seconds show. The first flow leaves slow start at about
 * 1.2 BDP (HyStart++'s ACK train) and, with W_max unknown, grows from there along the convex curve
 * (K = 0, §4.10), hardly at all in the first second; the second flow's slow start then fills the queue
 * and takes it to 0.7 of the first's window at the first loss. When the first flow grew 5% a round
 * instead (Linux's rule before its first loss), its queue put the second flow into HyStart++'s CSS
 * early and the first loss came at 0.47 of the first's window: the smaller flow had 0.64, 0.51 and
 * 0.27 of the larger flow's goodput over seconds 10-20 at start gaps of 0.1, 0.5 and 1 s, against
 * 0.81, 0.77 and 0.80 now (the kernel's CUBIC pair, started together, measured 0.62, 0.82 and 0.96
 * in three bench runs).
 * From there the split wanders between 0.7 and 0.95 of each other: with losses this synchronized,
 * neither RFC 9438 nor Linux's CUBIC has anything that brings two flows within 10% in 10 s. At a start
 * gap of 0.3 s the second flow's slow start ends in CSS without a loss at 147 segments, and both
 * then grow by about a segment a round: 0.48 over seconds 10-20, 0.92 only by seconds 50-60.
 * Without random loss the seed changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { runBulkFlows } from '../../src/sim/scenarios/bulk-flows.js';
import { ISSUE_PATH, MODERN_TCP } from './issue-path.js';

describe('two CUBIC flows through one bottleneck', () => {
  it('lose together at each overflow, so the split the start sets up fades only partly', () => {
    /** bytesAcked of each flow, once a second (virtual time, ms). */
    const acked = new Map<number, number[]>();
    /** When each flow entered recovery (ms). */
    const recoveries: number[][] = [[], []];
    const inRecovery = [false, false];
    const result = runBulkFlows({
      flows: ['cubic', 'cubic'],
      ...ISSUE_PATH,
      durationMs: 60_000,
      measureFromMs: 10_000,
      startGapMs: 100,
      tcp: MODERN_TCP,
      sampleEveryMs: 10,
      onSample: (now, senders) => {
        senders.forEach((conn, i) => {
          const recovering = conn.status().congestionState === 'recovery';
          if (recovering && !inRecovery[i]) recoveries[i]!.push(now);
          inRecovery[i] = recovering;
        });
        const second = Math.round(now / 1000);
        if (!acked.has(second) && Math.abs(now - second * 1000) < 10) {
          acked.set(
            second,
            senders.map((conn) => conn.status().bytesAcked),
          );
        }
      },
    });
    /** The smaller flow's goodput over the larger's, from second `from` to second `to`. */
    const ratio = (from: number, to: number) => {
      const [a, b] = [0, 1].map((i) => acked.get(to)![i]! - acked.get(from)![i]!) as [number, number];
      return Math.min(a, b) / Math.max(a, b);
    };
    // The link stays full through the congestion events (payload is 94.8% of the frames at most).
    expect(result.linkShare).toBeGreaterThan(0.85);
    // Global synchronization: most congestion events of either flow fall within 200 ms (a few round
    // trips at the full queue's 100 ms) of one of the other's (6 of 8 each in 60 s here: at 0.8, 3.5,
    // 14.4, 26.6, 38.9 and 54.1 s). Linux's CUBIC has no random element that would break this, and
    // neither does RFC 9438.
    expect(recoveries[0]!.length).toBeGreaterThanOrEqual(6);
    for (const [mine, theirs] of [
      [recoveries[0]!, recoveries[1]!],
      [recoveries[1]!, recoveries[0]!],
    ] as const) {
      const shared = mine.filter((t) => theirs.some((u) => Math.abs(u - t) < 200));
      expect(shared.length).toBeGreaterThanOrEqual(0.7 * mine.length);
    }
    // Seconds 10-20 (the issue asks for 0.9): 53.1 / 42.6 Mbit/s here (62.4 / 33.2 when the first flow
    // grew 5% a round before its first loss).
    expect(ratio(10, 20)).toBeGreaterThan(0.75);
    // Later the split wanders (0.95, 0.92, 0.72 and 0.80 over the next four 10 s windows) but never
    // comes back to the start's.
    for (let from = 20; from < 60; from += 10) expect(ratio(from, from + 10)).toBeGreaterThan(0.7);
    expect(ratio(10, 60)).toBeGreaterThan(0.82);
  });

  it('a flow opening 0.5 s or 1 s after the first, into its queue, still gets 0.75 of its goodput over seconds 10-20', () => {
    for (const startGapMs of [500, 1000]) {
      const result = runBulkFlows({
        flows: ['cubic', 'cubic'],
        ...ISSUE_PATH,
        durationMs: 20_000,
        measureFromMs: 10_000,
        startGapMs,
        tcp: MODERN_TCP,
      });
      // 0.77 and 0.80 (0.51 and 0.27 when the first flow grew 5% a round before its first loss and had
      // the queue overflowing when the second opened).
      const [a, b] = result.flows.map((f) => f.goodputBitsPerSecond) as [number, number];
      expect(Math.min(a, b) / Math.max(a, b)).toBeGreaterThan(0.75);
      expect(result.linkShare).toBeGreaterThan(0.9);
    }
  });
});
