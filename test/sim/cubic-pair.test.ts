/**
 * Two CUBIC flows through one simulated bottleneck (virtual time): issue 9's path, 100 Mbit/s with a
 * 50 ms round trip and a drop-tail queue of one bandwidth-delay product, both flows opening at the same
 * instant as the goodput bench starts them (and its kernel pair).
 *
 * What decides the shares here (RFC 9438): the drop-tail queue overflows for both flows at once, so
 * most congestion events cut both windows by the same beta of 0.7 (§4.6), which keeps their ratio. The
 * ratio moves only through the cubic's shape (the smaller flow has the smaller K, so it reaches the
 * convex region first) and through fast convergence (§4.7), which lowers W_max of a flow that lost
 * before regaining its previous one.
 *
 * The start sets the split. Both flows' bursts leave together every round and the first flow's reach
 * the queue first, so each round's smallest RTT of the second flow carries the first flow's burst: it
 * enters HyStart++'s CSS at 184 segments (0.38 s), while the first leaves slow start on its ACK train
 * only at 528. The first losses (0.64 and 0.72 s) take 369 and 531 segments, the next shared ones
 * (3.4 s) 346 and 486: 0.71.
 * The split closes by a few hundredths an epoch. A flow that loses below its previous W_max restarts at
 * 0.7 of its window and plateaus at W_max = 0.85 of it (§4.7) for K = cbrt(0.15 W / C), 5.1 and 5.6 s
 * here (294 and 413 segments from 3.5 s to 10 s); together that is 0.85 of what the path holds, so the
 * next loss waits for the convex part, which the smaller flow reaches about 0.5 s sooner: the next
 * shared loss (14.3 s) comes at 367 and 468 (0.78). Epochs last 11 s, so seconds 10-20 see the split of
 * the second, and later losses that only one flow takes (19.2 and 26.5 s) swing it either way: neither
 * RFC 9438 nor Linux's CUBIC has anything that brings two flows within 10% in 10 s on this path. The
 * kernel's CUBIC pair, started together on the bench's bridged path, measured 0.62, 0.82, 0.96 and 0.51
 * over seconds 10-20 in four bench runs.
 * Opened 0.11 s apart the second flow finds the first's queue instead; at 0.3 s its slow start ends in CSS
 * without a loss at 147 segments, and both then grow by about a segment a round: 0.48 over seconds
 * 10-20, 0.92 only by seconds 50-60.
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
      startGapMs: 0,
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
    // trips at the full queue's 100 ms) of one of the other's (7 of 8 each in 60 s here: at 0.7, 3.4,
    // 14.3, 29.2, 39.6, 44.8 and 55.7 s). Linux's CUBIC has no random element that would break this, and
    // neither does RFC 9438.
    expect(recoveries[0]!.length).toBeGreaterThanOrEqual(6);
    for (const [mine, theirs] of [
      [recoveries[0]!, recoveries[1]!],
      [recoveries[1]!, recoveries[0]!],
    ] as const) {
      const shared = mine.filter((t) => theirs.some((u) => Math.abs(u - t) < 200));
      expect(shared.length).toBeGreaterThanOrEqual(0.7 * mine.length);
    }
    // Seconds 10-20 (the issue asks for 0.9): 0.79 here, 53.3 / 42.3 Mbit/s.
    expect(ratio(10, 20)).toBeGreaterThan(0.75);
    // Later the split wanders (0.96, 0.83, 0.88 and 0.89 over the next four 10 s windows) but never
    // comes back to the start's; 0.87 over seconds 10-60.
    for (let from = 20; from < 60; from += 10) expect(ratio(from, from + 10)).toBeGreaterThan(0.75);
    expect(ratio(10, 60)).toBeGreaterThan(0.82);
  });

  it('a flow opening 0.11 s, 0.5 s or 1 s after the first, into its queue, still gets 0.75 of its goodput over seconds 10-20', () => {
    for (const startGapMs of [110, 500, 1000]) {
      const result = runBulkFlows({
        flows: ['cubic', 'cubic'],
        ...ISSUE_PATH,
        durationMs: 20_000,
        measureFromMs: 10_000,
        startGapMs,
        tcp: MODERN_TCP,
      });
      // 0.80, 0.77 and 0.80 (0.64, 0.51 and 0.27 when the first flow grew 5% a round before its first
      // loss and had the queue overflowing when the second opened).
      const [a, b] = result.flows.map((f) => f.goodputBitsPerSecond) as [number, number];
      expect(Math.min(a, b) / Math.max(a, b)).toBeGreaterThan(0.75);
      expect(result.linkShare).toBeGreaterThan(0.9);
    }
  });
});
