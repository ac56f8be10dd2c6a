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
 * the queue first, so the first ACKs of each of the second flow's rounds carry the first flow's burst,
 * while a few segments of each round, sent into the emptied queue after it, come back at the path's
 * 50 ms. HyStart++ (RFC 9406 §4.2) judges a round by its first N_RTT_SAMPLE samples; against the whole
 * previous round's minimum (those stragglers) the second flow entered CSS at 172 segments (0.37 s),
 * grew half as fast until a straggler ended CSS again, and was 255 when the first flow left slow start
 * on its ACK train at 528 (0.43 s); it entered CSS for good at 278 and took its first loss at 448,
 * against 530. Judged against the previous round's first samples (hystart.ts), it keeps doubling until
 * the first flow's last slow-start burst (0.44 s, 343 segments) and loses at 487 (0.54 s), against
 * 529 (0.53 s); the next shared losses (1.8 s) take 435 and 401, and 12.7 s 428 and 405.
 * The split closes by a few hundredths an epoch. A flow that loses below its previous W_max restarts at
 * 0.7 of its window and plateaus at W_max = 0.85 of it (§4.7) for K = cbrt(0.15 W / C), about 5 s
 * here; together that is 0.85 of what the path holds, so the next loss waits for the convex part,
 * which the smaller flow reaches sooner. Epochs last 11 s, and a loss that only one flow takes swings
 * the split: the second flow alone at 17.7 s (403 -> 282, W_max 343) leaves seconds 10-20 at 0.89
 * (50.7 / 45.0 Mbit/s), and 20-30 at 0.83. Over seconds 10-60 the split is 0.86 (each 10 s window 0.79
 * to 0.97); with the whole round as the baseline it was 0.73 (0.69 to 0.85, 0.85 over seconds 10-20).
 * Once a delay rise below what the path delivers in a minimum RTT no longer starts CSS (hystart.ts),
 * the second flow slow-starts on to 528 segments against 529, both lose at 0.5 and 1.5 s, and seconds
 * 10-20 give 0.99 (48.1 / 47.5 Mbit/s), seconds 10-60 0.95.
 * Neither RFC 9438 nor Linux's CUBIC has anything that brings two flows within 10% in 10 s on this
 * path whatever the draw of lone losses. The kernel's CUBIC pair, started together on the bench's
 * bridged path, measured 0.62, 0.82, 0.96 and 0.51 over seconds 10-20 in four bench runs.
 * Opened 0.11 s apart the second flow enters CSS at 112 segments, drops back to slow start twice as
 * its RTT falls below the baseline again, and reaches 455 by its first loss (0.64 s), the first 523:
 * 0.96 over seconds 10-20 (0.81 with CSS at a quarter).
 * Without random loss the seed changes nothing.
 *
 * Paced (TcpConfig.pacing), the start is even but the losses are not. Spread over the round trip, the
 * two flows' segments meet the queue interleaved, so each sees the same delay: both leave slow start on
 * their ACK trains at 415 segments (0.46 s) and share the first loss (0.56 s). From then on an overflow
 * drops one or two frames of one flow only: at 5.66 s only the second loses (413 -> 289, W_max lowered
 * to 351 by fast convergence) while the first grows on to 477 and loses alone at 12.8 s; seconds 10-20
 * give 0.90 (50.3 / 45.3 Mbit/s, 18 queue drops instead of 168 unpaced). Which flow a lone drop hits,
 * and when, decides the window's split: it moves about 15% of the link for up to an epoch.
 *
 * Neither arrangement is within 10% robustly. Seconds 10-20 over start gaps of 0, 110, 150, 200, 250,
 * 300, 400, 500, 700, 1000, 1500 and 2000 ms: unpaced 0.99, 0.92, 0.94, 0.94, 0.99, 0.98, 0.96, 0.97,
 * 0.97, 0.98, 0.90, 0.86 (eleven of twelve at 0.9, mean 0.95) since another flow's queue no longer
 * starts CSS (hystart.ts); before that 0.89, 0.96, 0.97, 0.95, 1.00, 0.98, 0.94, 0.96,
 * 0.97, 0.95, 0.86, 0.86 (nine of twelve at 0.9, mean 0.94; 250 ms was 0.95 before the ACK train's
 * rate test, hystart.ts; 200, 250 and 300 ms were 0.83, 0.93 and
 * 0.84, seven of twelve and mean 0.91, before a CSS round whose delivery rate still grew sent the
 * second flow back to slow start; only the first moves with the round's first samples as the
 * baseline, from 0.84; with CSS at a quarter 0.49 to 0.97, one of twelve, mean 0.77); paced 0.90, 0.90,
 * 0.85, 0.81, 0.75, 0.35, 0.82, 0.58, 0.77, 0.85, 0.80, 1.00.
 * Small changes move single figures far: with CSS at a quarter, pacing gave nine of twelve at 0.9, and
 * a slow-start pacing ratio of 1.25 or 1.5 instead of 2, or an SRTT that follows each sample, moved
 * them anywhere from 0.16 to 0.99: over ten seconds the split is the draw of two or three
 * congestion events. With 0.01% random loss each flow is held by its own losses: 0.53 to 0.95 over
 * three seeds and three gaps (0.65 to 0.98 with the whole round as HyStart++'s baseline, the same gaps
 * and seeds drawing differently at the start; 0.53 to 0.98 with CSS at a quarter, 0.46 to 0.97 paced),
 * as one flow
 * alone at 0.1% gets 11.7 to 20.0 Mbit/s over ten seconds depending on the seed.
 * The paced start is even partly by accident: the SYN waits for address resolution, so SRTT starts at
 * 100 ms and, weighted over a window's samples (RFC 7323 Appendix G), still reads 80 ms at 0.45 s;
 * slow start is then paced at 1 to 1.25 x cwnd / RTT rather than 2 x, and its ACKs arrive as one train
 * per round. With the address already resolved a lone paced flow overshoots to 991 segments (173 queue
 * drops; 10 unpaced). Pacing also costs goodput at random loss (18.4 instead of 19.5 Mbit/s at 0.1%,
 * 2.92 instead of 3.01 at 1%; 2.7% and 4.1% on average over eight seeds), so it stays off by default,
 * as on Linux.
 */
import { describe, expect, it } from 'vitest';
import {
  type BulkFlowsOptions,
  type BulkFlowsResult,
  runBulkFlows,
} from '../../src/sim/scenarios/bulk-flows.js';
import { ISSUE_PATH, MODERN_TCP } from './issue-path.js';

/**
 * Two CUBIC flows over the issue's path (100 Mbit/s, RTT 50 ms, one-BDP queue) with the modern TCP
 * settings, measured over seconds 10-20 of a 20 s run unless `options` says otherwise.
 */
function cubicPair(options: Partial<BulkFlowsOptions>): BulkFlowsResult {
  return runBulkFlows({
    flows: ['cubic', 'cubic'],
    ...ISSUE_PATH,
    durationMs: 20_000,
    measureFromMs: 10_000,
    tcp: MODERN_TCP,
    ...options,
  });
}

/**
 * Two CUBIC flows over 100 Mbit/s with 40 ms each way (RTT 80 ms), the second opened `startGapMs` after
 * the first, for `durationMs`: each flow's window (segments) before its first loss, and whether it lost.
 */
function pairAt80Ms(startGapMs: number, durationMs: number) {
  const beforeFirstLoss = [0, 0];
  const lost = [false, false];
  const result = runBulkFlows({
    flows: ['cubic', 'cubic'],
    ...ISSUE_PATH,
    delayMs: 40,
    durationMs,
    startGapMs,
    tcp: MODERN_TCP,
    sampleEveryMs: 5,
    onSample: (_now, senders) => {
      senders.forEach((conn, i) => {
        const status = conn.status();
        if (status.congestionState === 'recovery') lost[i] = true;
        if (!lost[i]) beforeFirstLoss[i] = status.cwnd / status.effectiveMss;
      });
    },
  });
  return { beforeFirstLoss, lost, result };
}

/**
 * When each of two flows entered recovery (ms, virtual time), from samples of their congestion state:
 * `sample` goes in runBulkFlows' onSample.
 */
function recoveryStarts() {
  const starts: number[][] = [[], []];
  const inRecovery = [false, false];
  return {
    starts,
    sample(now: number, senders: readonly { status(): { congestionState: string } }[]): void {
      senders.forEach((conn, i) => {
        const recovering = conn.status().congestionState === 'recovery';
        if (recovering && !inRecovery[i]) starts[i]!.push(now);
        inRecovery[i] = recovering;
      });
    },
  };
}

describe('two CUBIC flows through one bottleneck', () => {
  it('lose together at each overflow, so the split the start sets up fades only partly', () => {
    /** bytesAcked of each flow, once a second (virtual time, ms). */
    const acked = new Map<number, number[]>();
    /** When each flow entered recovery (ms), and its window (segments) 10 ms before its first. */
    const recovery = recoveryStarts();
    const recoveries = recovery.starts;
    const beforeFirstLoss = [0, 0];
    const result = cubicPair({
      durationMs: 60_000,
      startGapMs: 0,
      sampleEveryMs: 10,
      onSample: (now, senders) => {
        recovery.sample(now, senders);
        senders.forEach((conn, i) => {
          const status = conn.status();
          if (recoveries[i]!.length === 0) beforeFirstLoss[i] = status.cwnd / status.effectiveMss;
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
    // Slow start leaves the flows within 10% of each other at their first loss: 529 and 528 segments
    // (529 and 487 while the first flow's queue started the second's CSS, hystart.ts; 530 and 427, 0.80,
    // with the whole previous round as HyStart++'s baseline).
    const [first, second] = beforeFirstLoss as [number, number];
    expect(Math.min(first, second) / Math.max(first, second)).toBeGreaterThan(0.9);
    // Global synchronization: most congestion events of either flow fall within 200 ms (a few round
    // trips at the full queue's 100 ms) of one of the other's (6 of 8 for each flow in 60 s here: at
    // 0.5, 1.8, 12.7, 27.8, 38.3 and 50.6 s). Linux's CUBIC has no random element that would break this,
    // and neither does RFC 9438.
    expect(recoveries[0]!.length).toBeGreaterThanOrEqual(6);
    for (const [mine, theirs] of [
      [recoveries[0]!, recoveries[1]!],
      [recoveries[1]!, recoveries[0]!],
    ] as const) {
      const shared = mine.filter((t) => theirs.some((u) => Math.abs(u - t) < 200));
      expect(shared.length).toBeGreaterThanOrEqual(0.7 * mine.length);
    }
    // Seconds 10-20 (the issue asks for 0.9): 1.00 here, 48.1 / 47.5 Mbit/s in the bench's measure
    // (0.89 and 50.7 / 45.0 while the first flow's queue started the second's CSS; 0.85 with the whole
    // previous round as HyStart++'s baseline, 0.79 with CSS at a quarter).
    expect(ratio(10, 20)).toBeGreaterThan(0.9);
    // Lone losses swing the later windows: 0.99, 0.85, 0.95 and 0.95 over the next four 10 s windows,
    // 0.95 over seconds 10-60 (0.83, 0.97, 0.81, 0.79 and 0.86 before; 0.70, 0.69, 0.70, 0.71 and 0.73
    // with the whole round as the baseline, where the second flow's lone loss at 18.1 s set the rest).
    for (let from = 20; from < 60; from += 10) expect(ratio(from, from + 10)).toBeGreaterThan(0.8);
    expect(ratio(10, 60)).toBeGreaterThan(0.9);
  });

  it('paced, start together and share the first loss, then lose one at a time', () => {
    /** Each flow's window (segments) when it left slow start, and when it entered recovery (ms). */
    const exits: (number | undefined)[] = [undefined, undefined];
    const recovery = recoveryStarts();
    const recoveries = recovery.starts;
    const result = cubicPair({
      startGapMs: 0,
      tcp: { ...MODERN_TCP, pacing: true },
      sampleEveryMs: 10,
      onSample: (now, senders) => {
        senders.forEach((conn, i) => {
          const status = conn.status();
          if (exits[i] === undefined && status.cwnd > 0 && !status.congestionState.includes('slow-start')) {
            exits[i] = status.cwnd / status.effectiveMss;
          }
        });
        recovery.sample(now, senders);
      },
    });
    // The same window when slow start ends (415 and 415; unpaced 528 and, still in CSS, 447).
    const [first, second] = exits as [number, number];
    expect(Math.min(first, second) / Math.max(first, second)).toBeGreaterThan(0.98);
    // The first loss is shared (0.56 and 0.57 s)...
    expect(Math.abs(recoveries[0]![0]! - recoveries[1]![0]!)).toBeLessThan(200);
    // ...later ones are not all: 5.66 s the second flow alone, 12.8 s the first alone.
    const alone = [0, 1].flatMap((i) =>
      recoveries[i]!.filter((t) => recoveries[1 - i]!.every((u) => Math.abs(u - t) > 1000)),
    );
    expect(alone.length).toBeGreaterThanOrEqual(1);
    // Seconds 10-20: 0.90 (50.3 / 45.3 Mbit/s), with 18 queue drops in all (168 unpaced).
    const [a, b] = result.flows.map((f) => f.goodputBitsPerSecond) as [number, number];
    expect(Math.min(a, b) / Math.max(a, b)).toBeGreaterThan(0.85);
    expect(result.queueDrops).toBeLessThan(40);
    expect(result.linkShare).toBeGreaterThan(0.9);
  });

  it("at RTT 80 ms, opened 0.2 s apart: the second flow's bursts do not hide the first's window passing the path", () => {
    // The second flow's bursts cross the bottleneck between the first flow's segments and break up its
    // ACK train (gaps of 2.2 ms); the gap is bridged when the ACK after it carries that much queueing
    // delay (hystart.ts). Without that, the first flow's train broke, its delay test saw the rise one
    // round late, and it doubled on to 1,639 segments by its first loss, 1,163 frames dropped in 3 s.
    const { beforeFirstLoss, result } = pairAt80Ms(200, 3_000);
    // 894 and 846 segments, against a path of 685 plus a queue of 685; 534 frames dropped (631 and 233
    // while the first flow's queue started the second's CSS, hystart.ts; 958 and 538, 185 dropped, when
    // the second flow's bursts in the first's train kept its rate test from ending slow start).
    expect(beforeFirstLoss[0]).toBeLessThan(1_100);
    expect(result.queueDrops).toBeLessThan(700);
  });

  it("at RTT 80 ms, opened 0.15 s apart: the first flow's queue does not start the second's CSS", () => {
    // The second flow's RTT rises with the first flow's last slow-start burst and the queue its 892
    // segments keep standing; at 334 segments, below what the path delivers in a minimum RTT, that rise
    // cannot be its own queue (hystart.ts). It entered CSS there and lost first at 639 against 894, and
    // shared losses kept the split (0.77 over seconds 10-20). Now it slow-starts on to 822.
    const { beforeFirstLoss, lost } = pairAt80Ms(150, 2_000);
    expect(lost).toEqual([true, true]);
    const [first, second] = beforeFirstLoss as [number, number];
    expect(second / first).toBeGreaterThan(0.85);
    // Seconds 10-20: 0.96 (48.9 / 46.8 Mbit/s).
    const result = cubicPair({ delayMs: 40, startGapMs: 150 });
    const [a, b] = result.flows.map((f) => f.goodputBitsPerSecond) as [number, number];
    expect(Math.min(a, b) / Math.max(a, b)).toBeGreaterThan(0.9);
  });

  it("at RTT 80 ms, opened 0.45 s apart: the second flow's train, which the first flow's segments cross, is judged on its own time", () => {
    // The first flow leaves slow start on its ACK train's rate; the second's train is cut by the first
    // flow's segments, bridged gaps (hystart.ts). Counting those gaps as its own made its train reach
    // half the minimum RTT early: it left slow start at 386 segments against 886, the two together
    // short of the 1,320 the path holds with its queue, and no loss came for 5 s (0.36 over seconds
    // 10-20). With the gaps taken out it leaves at 740, both lose within 50 ms at 1.4 s, and seconds
    // 10-20 give 0.86.
    const { beforeFirstLoss, lost } = pairAt80Ms(450, 2_000);
    expect(lost).toEqual([true, true]);
    const [first, second] = beforeFirstLoss as [number, number];
    // 891 and 740 segments before the first losses (0.83).
    expect(second / first).toBeGreaterThan(0.75);
  });

  it("a flow opening 0.35 s after the first, into its slow-start overshoot, takes no CSS from the first flow's queue", () => {
    // The first flow's last slow-start rounds raise the second's RTT at 36 segments. Its runs of
    // back-to-back ACKs show the bottleneck's rate, so a window that small cannot hold that queue
    // (hystart.ts): it slow-starts on and leaves on its ACK train at 528 against 528. While its trains,
    // crossed by the first flow's segments, gave only its share, it entered CSS there, resumed slow start
    // at 93 as its delivery rate still grew, and left on its train at 427 (0.80 over seconds 10-20; at
    // 215 and 0.60 while the first flow's segments crossing its train counted as its own time; 0.36
    // when it stayed in CSS to 184).
    const phases: string[] = [];
    let lost = false;
    const result = cubicPair({
      startGapMs: 350,
      sampleEveryMs: 5,
      onSample: (_now, senders) => {
        const state = senders[1]?.status().congestionState;
        // Empty until the connection is established.
        if (!state || lost) return;
        if (state === 'recovery') lost = true;
        else if (phases.at(-1) !== state) phases.push(state);
      },
    });
    expect(phases).toEqual(['slow-start', 'congestion-avoidance']);
    // 1.00 (47.9 / 47.8 Mbit/s).
    const [a, b] = result.flows.map((f) => f.goodputBitsPerSecond) as [number, number];
    expect(Math.min(a, b) / Math.max(a, b)).toBeGreaterThan(0.9);
  });

  it('a flow opening 0.11 s, 0.5 s or 1 s after the first, into its queue, gets within 10% of its goodput over seconds 10-20', () => {
    for (const startGapMs of [110, 500, 1000]) {
      const result = cubicPair({ startGapMs });
      // 0.92, 0.97 and 0.98 (0.96, 0.96 and 0.95 when it entered CSS on the first flow's queue and
      // caught up there, before that queue stopped starting CSS below the path's window; 0.81, 0.77
      // and 0.80 with CSS at a quarter; 0.64, 0.51 and 0.27 when the first flow grew 5% a round before
      // its first loss and had the queue overflowing when the second opened).
      const [a, b] = result.flows.map((f) => f.goodputBitsPerSecond) as [number, number];
      expect(Math.min(a, b) / Math.max(a, b)).toBeGreaterThan(0.9);
      expect(result.linkShare).toBeGreaterThan(0.9);
    }
  });
});

describe('three CUBIC flows through one bottleneck', () => {
  it("a flow opening into two flows' standing queue sees the bottleneck's rate in its back-to-back ACKs", () => {
    // Opened 0.5 s apart. The second slow-starts beside the first's 536 segments to 548, and the third
    // opens at 1.1 s into the overflow that follows. Its trains cross the queue of the other two, so
    // their rate is only its share; judged on that, its first samples' rise (the others' queue) started
    // CSS at 36 segments, and it lost at 37 with no room left to grow (15.4 Mbit/s against 42.8 and
    // 37.4; Jain 0.879). Runs of back-to-back ACKs give the bottleneck's rate (hystart.ts): the rise is
    // not its own queue, it slow-starts on, and it keeps 24.5 against 34.4 and 36.7 (Jain 0.973).
    const result = cubicPair({ flows: ['cubic', 'cubic', 'cubic'], startGapMs: 500 });
    const goodputs = result.flows.map((f) => f.goodputBitsPerSecond);
    expect(result.fairness).toBeGreaterThan(0.95);
    expect(Math.min(...goodputs) / Math.max(...goodputs)).toBeGreaterThan(0.6);
    expect(result.linkShare).toBeGreaterThan(0.9);
  });
});
