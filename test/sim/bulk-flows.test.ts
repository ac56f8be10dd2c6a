/**
 * Bulk flows through one simulated bottleneck (virtual time): the path of issue 9, 100 Mbit/s with a
 * 50 ms round trip and a drop-tail queue of one bandwidth-delay product.
 */
import { describe, expect, it } from 'vitest';
import type { SimulatedLink } from '../../src/sim/network.js';
import { type FlowResult, runBulkFlows } from '../../src/sim/scenarios/bulk-flows.js';
import type { TcpConfig } from '../../src/tcp/config.js';
import type { TcpConnection } from '../../src/tcp/connection.js';
import { ISSUE_PATH, MODERN_TCP } from './issue-path.js';

/** The issue path's bandwidth-delay product in 1448-byte segments (432). */
const BDP_SEGMENTS = (100e6 * 0.05) / 8 / 1448;

/**
 * One BBR flow for 10 s on the issue's path at 1% random loss both ways, and the smallest window (in
 * segments) it had in ProbeBW, sampled every 50 ms: over the whole run, in its first 1.5 s (Drain
 * ends at about 0.8 s), in ProbeBW_DOWN, and in the first 100 ms of each CRUISE that follows DOWN
 * (where the round in which DOWN handed over ends).
 */
function bbrAtOnePercentLoss(seed: number) {
  let smallestWindow = Number.POSITIVE_INFINITY;
  let smallestEarlyWindow = Number.POSITIVE_INFINITY;
  let smallestDownWindow = Number.POSITIVE_INFINITY;
  let smallestHandoverWindow = Number.POSITIVE_INFINITY;
  let previousState = '';
  let cruiseFrom = Number.NEGATIVE_INFINITY;
  const lossy = runBulkFlows({
    flows: ['bbr'],
    ...ISSUE_PATH,
    durationMs: 10_000,
    measureFromMs: 0,
    loss: 0.01,
    ackLoss: 0.01,
    seed,
    tcp: MODERN_TCP,
    sampleEveryMs: 50,
    onSample: (now, [sender]) => {
      const status = sender?.status();
      if (status?.congestionState.startsWith('probe-bw')) {
        smallestWindow = Math.min(smallestWindow, status.cwnd / status.effectiveMss);
        if (now < 1500)
          smallestEarlyWindow = Math.min(smallestEarlyWindow, status.cwnd / status.effectiveMss);
        if (status.congestionState === 'probe-bw-down')
          smallestDownWindow = Math.min(smallestDownWindow, status.cwnd / status.effectiveMss);
        if (status.congestionState === 'probe-bw-cruise') {
          if (previousState === 'probe-bw-down') cruiseFrom = now;
          if (now - cruiseFrom <= 100)
            smallestHandoverWindow = Math.min(smallestHandoverWindow, status.cwnd / status.effectiveMss);
        }
      }
      previousState = status?.congestionState ?? '';
    },
  });
  return { lossy, smallestWindow, smallestEarlyWindow, smallestDownWindow, smallestHandoverWindow };
}

describe('bulk flows through one bottleneck', () => {
  it('BBR fills a 100 Mbit/s x 50 ms path without a loss', () => {
    const path = { ...ISSUE_PATH, durationMs: 3000, measureFromMs: 1500 };
    const clean = runBulkFlows({
      ...path,
      flows: ['bbr'],
      tcp: MODERN_TCP,
    });
    // TCP/IP/Ethernet headers take 78 of every 1514 bytes: 94.8% of the link is payload at most.
    expect(clean.linkShare).toBeGreaterThan(0.8);
    // Startup keeps 2 x BDP + 2 segments in flight, a few segments more than this path holds (one BDP on
    // the wire, one in the queue): it leaves Startup at the first loss once the bandwidth has stopped
    // growing. The loss is seen a round after it happened, so the queue overflows once or twice: 6 drops
    // with an ACK for every 1.5 segments, 10 with one for every 2 (it overflowed in 3-5 rounds, 18-30
    // drops, before; Linux's BBR drops 41 on this path).
    // Startup's slow-start growth (until its RTTs show a queue) made the last round overshoot once, 78
    // drops, while its pace (half of 2.77 x cwnd per min RTT) trailed the window and the queue showed
    // only once the window had grown to ~900 segments; paced at 2 x cwnd per min RTT the rounds leave
    // as their ACKs open them and the window stops near the model's 2 x BDP (830): 8 drops.
    expect(clean.queueDrops).toBeLessThanOrEqual(20);
    // Only what the queue dropped is sent again: no spurious retransmission.
    expect(clean.flows[0]!.retransmissions).toBe(clean.queueDrops);
    // Without SACK, the sampler of ACK arrivals alone estimates the bandwidth a little low, and the
    // queue never overflows.
    const classic = runBulkFlows({ ...path, flows: ['bbr'], tcp: { timestamps: true, sack: false } });
    expect(classic.linkShare).toBeGreaterThan(0.8);
    expect(classic.queueDrops).toBe(0);
  });

  it('BBR keeps the link busy while it cruises between probes (10 s from the accept, the goodput bench row)', () => {
    // ProbeBW_CRUISE paces at the rate the flow delivered plus a share of the gap to its queue target
    // (a few segments queued): the link stays busy. Pacing 1% below an estimate that decays (the 10-round
    // max filter only sees those paced samples), the link was idle 4% of the time in CRUISE: 88.5 and
    // 88.8 Mbit/s at 0 and 0.1% random loss both ways, 91.4 and 91.3 with the queue target. DOWN
    // empties the queue each cycle, and its RTT samples at the minimum now postpone ProbeRTT, which came
    // every 5 s (230 ms at half the rate): 92.6 and 92.5. The rest of the 95.6 Mbit/s payload ceiling
    // goes to Startup from IW10 (93.41 Mbit/s at no loss: the bottleneck idles 228 ms of the 10 s while
    // the window doubles, against 224 for a perfect doubling, and 3-4 ms in ProbeBW).
    for (const loss of [0, 0.001]) {
      const result = runBulkFlows({
        flows: ['bbr'],
        ...ISSUE_PATH,
        durationMs: 10_000,
        measureFromMs: 0,
        loss,
        ackLoss: loss,
        tcp: MODERN_TCP,
      });
      expect(result.totalBitsPerSecond).toBeGreaterThan(93.3e6);
      // 8 and 80: Startup's overshoot (8 queue drops) and the random losses; Linux's BBR: 1,675 and 1,004.
      expect(result.flows[0]!.retransmissions).toBeLessThan(100);
    }
  });

  it("BBR's Startup is not held back by its first, short delivery-rate samples (pacing only rises until the pipe is full)", () => {
    // The first round's samples measure IW10 over more than an RTT (2 Mbit/s on this path), and pacing
    // at 2.77 x that held the second round at the first one's size. With the draft's rule (the pacing
    // rate starts at 2.77 x IW over the RTT and only rises until the pipe is full) the link fills a round
    // sooner: 92.83 Mbit/s over 10 s from the accept with 8 queue drops (92.61 and 10 before).
    const result = runBulkFlows({
      flows: ['bbr'],
      ...ISSUE_PATH,
      durationMs: 10_000,
      measureFromMs: 0,
      tcp: MODERN_TCP,
    });
    expect(result.totalBitsPerSecond).toBeGreaterThan(92.7e6);
    expect(result.queueDrops).toBeLessThanOrEqual(85);
  });

  it('BBR keeps the link through 1% random loss, retransmitting about what was lost (SACK, RACK)', () => {
    // Draft v3 §4.5.10: only a probe that loses more than 2% a round bounds inflight. Before, a round
    // that lost more than 2% by chance cut inflight_hi to 0.7 x inflight until the next probe, and the
    // rate sank with each such round (68 Mbit/s over 10 s here).
    const lossy = runBulkFlows({
      flows: ['bbr'],
      ...ISSUE_PATH,
      durationMs: 6000,
      measureFromMs: 2000,
      loss: 0.01,
      tcp: MODERN_TCP,
    });
    expect(lossy.randomDrops).toBeGreaterThan(300);
    // Loss-based algorithms are held near the Mathis bound here (about 2.5 Mbit/s at 1%); the payload
    // ceiling is 94.8 Mbit/s.
    expect(lossy.totalBitsPerSecond).toBeGreaterThan(85e6);
    expect(lossy.queueDrops).toBeLessThanOrEqual(70);
    // Every loss (random, or a queue drop of the probes) is retransmitted once, give or take a few: no
    // retransmission storm.
    expect(lossy.flows[0]!.retransmissions).toBeGreaterThanOrEqual(lossy.randomDrops * 0.95);
    expect(lossy.flows[0]!.retransmissions).toBeLessThanOrEqual(
      (lossy.randomDrops + lossy.queueDrops) * 1.05,
    );
  });

  it('BBR at 1% random loss both ways keeps its bandwidth estimate through recovery (no ratchet down)', () => {
    // The goodput benchmark's row. At 1% loss and ~400 segments a round the flow is in recovery ~90% of
    // the time. Samples taken in recovery are capped (late SACK blocks overstate them); capped at the
    // filter's current best, the estimate could only fall once the 10-round max filter aged out its best
    // sample (96 -> 89 Mbit/s over the run, 86.3 Mbit/s delivered). Capped at the highest estimate
    // measured outside recovery, it stays at the link rate (88.8 Mbit/s; seeds 1-5 mean 88.8 -> 89.6).
    // Nor do the rounds that lose more than 2% by chance cut the window: they see no queue (89.4 Mbit/s;
    // each such round cut inflight_lo to about one BDP until the next probe, 88.3).
    const { lossy, smallestWindow } = bbrAtOnePercentLoss(1);
    expect(smallestWindow).toBeGreaterThan(1.5 * BDP_SEGMENTS);
    expect(lossy.randomDrops).toBeGreaterThan(600);
    expect(lossy.totalBitsPerSecond).toBeGreaterThan(89e6);
    expect(lossy.queueDrops).toBeLessThanOrEqual(70);
    expect(lossy.flows[0]!.retransmissions).toBeLessThanOrEqual(lossy.randomDrops * 1.1);
  });

  it('BBR at 1% random loss both ways: a random loss does not end Startup early', () => {
    // Startup left at the first loss once a round had not grown the bandwidth by 25%. Early rounds may
    // not (the first ACKs measure the initial window over a whole RTT), and with 1% random loss seeds 2
    // and 4 left Startup at 12 Mbit/s, then probed up from there every 2-3 s: 36.2 and 33.5 Mbit/s over
    // 10 s. Now that rule needs a queue in sight (a full bottleneck queue delays before it drops; random
    // loss does not): 90.0 and 90.2 Mbit/s (seeds 1-5 at 1% both ways: mean 65.5 -> 87.9). The same
    // holds for the loss-rate bound (inflight_hi): with seed 7 Startup's fifth round lost 6 of ~100
    // segments by chance, set inflight_hi to 99 segments and left Startup: 52.9 Mbit/s, window down to
    // 84 segments; 92.0 now that such a round needs a queue in sight too.
    for (const seed of [2, 4, 7]) {
      const { lossy, smallestWindow } = bbrAtOnePercentLoss(seed);
      // In ProbeBW the window stays near the path's BDP and above (it was 55-67 segments).
      expect(smallestWindow).toBeGreaterThan(0.75 * BDP_SEGMENTS);
      expect(lossy.totalBitsPerSecond).toBeGreaterThan(85e6);
    }
  });

  it("BBR at 1% random loss both ways: Startup's own losses, acknowledged in Drain, leave the lower bounds alone", () => {
    // Startup's last rounds overflow the queue; those losses are found in Drain and the round after it,
    // rounds that also see the queue Startup built. Counted against the lower bounds, they cut bw_lo to
    // ~70 Mbit/s until the first probe 2-3 s later (seed 3: 80.2 Mbit/s over 10 s); counted as Startup's
    // (the draft's ACKS_PROBE_STOPPING), 89.9 (91.2 with CRUISE's queue target). The window is judged
    // where those losses surface, up to 1.5 s: later, with the link busy at 1% random loss, a round may
    // lose more than 2% with a queue in sight and cut inflight_lo by 30% until the next probe (seed 3:
    // once, at 3.3 s).
    const { lossy, smallestEarlyWindow } = bbrAtOnePercentLoss(3);
    expect(lossy.totalBitsPerSecond).toBeGreaterThan(88e6);
    expect(smallestEarlyWindow).toBeGreaterThan(1.5 * BDP_SEGMENTS);
  });

  it("BBR at 1% random loss both ways: a chance lossy round while DOWN drains the probe's queue leaves the lower bounds alone", () => {
    // Seed 4: 6 rounds after a probe (UP), with UP's queue still draining in sight, a round lost more than
    // 2% by chance and cut inflight_lo to 579 segments and bw_lo to ~67 Mbit/s until ProbeRTT (88.2
    // Mbit/s over 10 s). In DOWN such a round now counts only as the second lossy round in a row: 90.2
    // (91.3 once samples at the minimum RTT postpone ProbeRTT; a lossy round with a queue in CRUISE then
    // cuts inflight_lo once, at 9.3 s, so the window is judged in DOWN).
    const { lossy, smallestDownWindow } = bbrAtOnePercentLoss(4);
    expect(lossy.totalBitsPerSecond).toBeGreaterThan(89.5e6);
    expect(smallestDownWindow).toBeGreaterThan(1.5 * BDP_SEGMENTS);
  });

  it('BBR at 1% random loss both ways: a chance lossy round in which DOWN hands over to CRUISE leaves the lower bounds alone', () => {
    // The round in which DOWN ends (inflight down to the BDP) ends in CRUISE, and its largest RTT, from
    // the queue DOWN has just drained, counted as a queue in sight: one that lost more than 2% by chance
    // cut bw_lo to DOWN's own rate (~85 Mbit/s) and inflight_lo to ~580 segments for the seconds to the
    // next probe (seed 8 until Startup's growth changed, seed 18 now, at 5.6 s). Judged as DOWN's rounds
    // are, it needs a second lossy round in a row. The window is judged where that round ends, the first
    // 100 ms of CRUISE: later rounds may lose more than 2% by chance two or three in a row (seed 8, from
    // the second round of CRUISE at 6.3 s: 2.2-2.4% with the queue at 2 segments) and cut as the draft
    // has them cut.
    for (const seed of [8, 18]) {
      const { lossy, smallestHandoverWindow } = bbrAtOnePercentLoss(seed);
      expect(lossy.totalBitsPerSecond).toBeGreaterThan(91.5e6);
      expect(smallestHandoverWindow).toBeGreaterThan(1.5 * BDP_SEGMENTS);
    }
  });

  it("BBR's lower bounds (bw_lo, inflight_lo): persistent loss holds the window down, the next probe releases it", () => {
    // Draft §4.5.10.3: rounds that lose more than 2% outside a probe cap inflight at what they
    // delivered, down by at most 30% a round. Two seconds of 5% loss, then none.
    let link: SimulatedLink | undefined;
    const cwnd = new Map<number, number>();
    const states = new Map<number, string>();
    const result = runBulkFlows({
      flows: ['bbr'],
      ...ISSUE_PATH,
      durationMs: 12_000,
      measureFromMs: 9500,
      tcp: MODERN_TCP,
      observe: (l) => {
        link = l;
      },
      sampleEveryMs: 50,
      onSample: (now, [sender]) => {
        if (now === 3000) link!.link.updateImpairments('a->b', { loss: 0.05 });
        if (now === 5000) link!.link.updateImpairments('a->b', { loss: 0 });
        if (sender === undefined) return;
        const status = sender.status();
        cwnd.set(now, status.cwnd / status.effectiveMss);
        states.set(now, status.congestionState);
      },
    });
    const bdp = (100e6 * 0.05) / 8 / 1448; // 432 segments
    // Before the loss: about 2 x BDP.
    expect(cwnd.get(3000)!).toBeGreaterThan(1.7 * bdp);
    // After two lossy seconds (no probe in between: the window stayed capped from one round to the
    // next): under half of it. Without the bounds it stayed at 2 x BDP and BBR kept sending into 5% loss.
    expect(cwnd.get(4750)!).toBeLessThan(0.5 * cwnd.get(3000)!);
    // The loss stops at 5 s; the next probe (UP) forgets the bounds (draft §4.3.3.6) and the window
    // refills the path. It comes 2-3 s after its cycle began (a random wait, draft §4.3.3.5); the cycle
    // may have begun after 5 s, when ProbeRTT ended (§4.3.4.6), so the probe comes before 8.5 s or so.
    const times = [...states.keys()];
    const up = times.find((t) => t > 5000 && states.get(t) === 'probe-bw-up');
    expect(up).toBeDefined();
    const down = times.filter((t) => t < up! && states.get(t) === 'probe-bw-down').at(-1)!;
    expect(up! - down).toBeLessThanOrEqual(3000 + 150);
    expect(up!).toBeLessThan(9000);
    // The window after the probe: more than the path holds (one BDP, and CRUISE's queue target). It was
    // above 1.7 BDP when CRUISE paced at the held-down estimate (37 Mbit/s until the probe, which then
    // raised inflight_hi from 327 to 932 segments); CRUISE now follows the delivery rate up to where
    // inflight_hi's headroom holds it (74 Mbit/s), and the probe ends once the rate stops growing
    // with inflight_hi at 1.5 BDP.
    const refilled = Math.max(...[...cwnd].filter(([t]) => t > up!).map(([, c]) => c));
    expect(refilled).toBeGreaterThan(1.3 * bdp);
    // From 9.5 s on the path is full again (ProbeRTT, every 5 s, may take 5% of these 2.5 s; with the
    // bounds still holding the window it was 36 Mbit/s).
    expect(result.totalBitsPerSecond).toBeGreaterThan(85e6);
  });

  it('two BBR flows share the path within 10% of each other over seconds 10-20', () => {
    // The issue's path; the second flow opens 0.1 s after the first. Each connection draws its own
    // ProbeBW waits (2-3 s) from the stack's seeded source, so the seed changes the run without any loss.
    // Over seeds 1-3 and start gaps 0.1/0.5/1 s the smaller flow gets 0.62-0.99 of the larger (mean
    // 0.86); before ProbeBW_UP probed until the rate stopped growing it was 0.19-0.77 (53/39 Mbit/s for
    // every seed at 0.1 s). Which seed lands closest depends on where each flow's probes fall, and that
    // phase moves with the receiver's ACK pattern: with an ACK for every 2 segments (window updates only
    // when the window doubles) seeds 1-5 give 0.72/0.97/0.87/0.93/0.80 (mean 0.86), with the former
    // ~1.5 segments per ACK 0.95/0.97/0.62/0.79/0.91 (mean 0.85). So the bound holds the mean over five
    // seeds and each run, not a chosen seed's phase. With CRUISE pacing at the delivery rate plus a share
    // of the gap to a queue target (the larger flow queues more and slows, the smaller speeds up), seeds
    // 1-5 give 0.93/1.00/0.80/0.94/0.98 (mean 0.93; before, 0.72/0.97/0.87/0.93/0.80, mean 0.86), and
    // over start gaps 0/0.1/0.5/1 s 0.75-1.00 (mean 0.91; before, 0.51-0.98, mean 0.75). With CRUISE's
    // rate no longer held at bw_lo after a lossy round (its rate froze there until the next probe),
    // seeds 1-5 give 0.94/0.95/0.90/0.89/1.00 (before, 0.93/0.77/0.94/0.86/1.00). With CRUISE's yield
    // to a queue bounded at 4% of its rate a round (another flow's probe no longer takes a quarter of
    // it), 0.94/0.94/0.99/0.98/0.98 (before, 0.96/0.90/0.90/0.90/0.89). With CRUISE closing half the gap
    // to its queue target a round instead of a quarter, 0.98/0.94/0.93/0.99/0.99 (before,
    // 0.94/0.95/0.99/0.98/0.98; over seeds 1-60 mean 0.939 -> 0.946, runs below 0.90 14 -> 5). With a
    // probe that falls due deferred while another flow's probe fills the queue, 0.99/0.93/0.92/0.97/0.98
    // (over seeds 1-60 mean 0.946 -> 0.956, runs below 0.90 5 -> 2, below 0.85 3 -> 0).
    const ratios: number[] = [];
    for (const seed of [1, 2, 3, 4, 5]) {
      const result = runBulkFlows({
        flows: ['bbr', 'bbr'],
        ...ISSUE_PATH,
        durationMs: 20_000,
        measureFromMs: 10_000,
        startGapMs: 100,
        seed,
        tcp: MODERN_TCP,
      });
      const [a, b] = result.flows.map((f) => f.goodputBitsPerSecond) as [number, number];
      ratios.push(Math.min(a, b) / Math.max(a, b));
      expect(a + b).toBeGreaterThan(88e6);
    }
    expect(Math.min(...ratios)).toBeGreaterThan(0.85);
    expect(ratios.reduce((sum, r) => sum + r, 0) / ratios.length).toBeGreaterThan(0.9);
  });

  it('two BBR flows, and CUBIC beside BBR, both keep delivering through one bottleneck (RACK on)', () => {
    // RACK once took ACKs of original transmissions for ACKs of their retransmissions (RFC 8985 §6.2
    // step 2): every flow here fell into a retransmission storm and delivered nothing after startup.
    for (const flows of [
      ['bbr', 'bbr'],
      ['cubic', 'bbr'],
    ] as const) {
      const result = runBulkFlows({
        flows,
        rateBitsPerSecond: 20e6,
        delayMs: 25,
        durationMs: 10_000,
        measureFromMs: 5000,
        tcp: MODERN_TCP,
      });
      for (const flow of result.flows) expect(flow.goodputBitsPerSecond).toBeGreaterThan(0.1 * 20e6);
      expect(result.linkShare).toBeGreaterThan(0.85);
    }
  });

  it('CUBIC leaves slow start before the one-BDP queue overflows, and fills the link (HyStart++, ACK train)', () => {
    /** One CUBIC flow on the issue's path, and the queue drops when it left slow start. */
    const run = (tcp: Partial<TcpConfig>, durationMs: number) => {
      let link: SimulatedLink | undefined;
      let dropsAtSlowStartExit: number | undefined;
      const result = runBulkFlows({
        flows: ['cubic'],
        ...ISSUE_PATH,
        durationMs,
        measureFromMs: 1000,
        tcp: { ...MODERN_TCP, ...tcp },
        observe: (l) => {
          link = l;
        },
        sampleEveryMs: 10,
        onSample: (_now, [sender]) => {
          if (
            dropsAtSlowStartExit === undefined &&
            sender?.status().congestionState === 'congestion-avoidance'
          )
            dropsAtSlowStartExit = link!.link.counters('a->b').dropped['queue-full'];
        },
      });
      return { ...result, dropsAtSlowStartExit };
    };
    const result = run({}, 10_000);
    // Slow start used to double past the queue (its rounds were aligned on the ends of ACK trains, so
    // each round's minimum RTT saw an empty queue): about 490 queue drops and 2,100 retransmissions.
    expect(result.dropsAtSlowStartExit).toBe(0);
    // Congestion avoidance then starts with W_max unknown: K = 0 and W_max = cwnd (RFC 9438 §4.10), so
    // the window creeps past the ~1.2 BDP it left slow start at along the convex curve and fills the
    // queue only after about 9.5 s (C t^3 = 0.4 x 9.5^3 = 340 segments), overflowing it by a few
    // frames (10 here). Linux's 5% a round before the first loss overflowed it within a second.
    expect(result.queueDrops).toBeGreaterThan(0);
    expect(result.queueDrops).toBeLessThan(30);
    // Each drop is sent again once: the receiver keeps every out-of-order segment (with at most 32
    // out-of-order ranges it refused all data past the 32nd hole, and RACK resent about 190 more).
    expect(result.flows[0]!.retransmissions).toBe(result.queueDrops);
    // From second 1 on the window keeps the link busy: the payload ceiling is 94.8% of it.
    expect(result.linkShare).toBeGreaterThan(0.93);
    // Paced (2 x cwnd / SRTT in slow start), the ACKs of a round are spread over half the RTT: the
    // train that ends slow start must then last a whole minimum RTT (half of it ended slow start at
    // 0.45 BDP, and the link was half used for seconds).
    const paced = run({ pacing: true }, 3000);
    expect(paced.dropsAtSlowStartExit).toBe(0);
    expect(paced.flows[0]!.retransmissions).toBe(paced.queueDrops);
    expect(paced.linkShare).toBeGreaterThan(0.85);
  });

  it("CUBIC's ACK train ends slow start by the train's delivery rate below 1.35 BDP at RTT 80 ms (HyStart++)", () => {
    // 100 Mbit/s x 80 ms: one BDP is 1,000,000 bytes (690 segments). The round that passes the BDP
    // starts at 640 segments; its train lasts half the minimum RTT only at 972 segments (1.41 BDP),
    // while 1.35 x the train's delivery rate x the minimum RTT is reached at 892.
    let exitCwnd: number | undefined;
    const exit = (_now: number, [sender]: readonly TcpConnection[]) => {
      const status = sender?.status();
      if (exitCwnd === undefined && status?.congestionState === 'congestion-avoidance')
        exitCwnd = status.cwnd;
    };
    const path = { ...ISSUE_PATH, delayMs: 40 };
    const result = runBulkFlows({
      flows: ['cubic'],
      ...path,
      durationMs: 2000,
      tcp: MODERN_TCP,
      sampleEveryMs: 1,
      onSample: exit,
    });
    expect(exitCwnd).toBeGreaterThan(1_000_000);
    expect(exitCwnd).toBeLessThan(1_350_000);
    expect(result.queueDrops).toBe(0);
  });

  it('times a flow whose handshake was lost from when the server accepted it, as a receiver timing from accept() does', () => {
    // The link is down for the first 500 ms: the first SYN is lost and sent again after the initial RTO
    // (1 s, RFC 6298 §2.1); the server accepts at about 1050 ms (address resolution, then SYN, SYN-ACK and
    // ACK, each crossing 10 ms).
    let cable: SimulatedLink | undefined;
    const result = runBulkFlows({
      flows: ['cubic'],
      rateBitsPerSecond: 10e6,
      delayMs: 10,
      durationMs: 3000,
      measureFromMs: 0,
      observe: (link) => {
        cable = link;
        link.link.setDown(true);
      },
      onSample: (now) => {
        if (now >= 500) cable!.link.setDown(false);
      },
    });
    const flow = result.flows[0]!;
    // The window runs from the accept to the end (the run starts at 50 ms and lasts 3000): about 2000 ms
    // rather than the whole 3000.
    expect(flow.bytes).toBeGreaterThan(1_000_000);
    const windowMs = (flow.bytes * 8 * 1000) / flow.goodputBitsPerSecond;
    expect(windowMs).toBeGreaterThan(1950);
    expect(windowMs).toBeLessThan(2050);
  });

  it('opens the flows at the same instant when startGapMs is 0, and credits each accepted connection to the flow that opened it', () => {
    /** The client's SYNs on the wire: when, and from which port. */
    const syns: [number, number][] = [];
    let acked: number[] = [];
    const result = runBulkFlows({
      flows: ['cubic', 'bbr'],
      rateBitsPerSecond: 20e6,
      delayMs: 10,
      durationMs: 2000,
      startGapMs: 0,
      tcp: { timestamps: true },
      observe: (link) =>
        link.link.path('a->b').addTap('sent', (time, frame) => {
          if (frame[12] !== 0x08 || frame[13] !== 0x00) return;
          const tcp = 14 + (frame[14]! & 0x0f) * 4;
          if ((frame[tcp + 13]! & 0x12) === 0x02) syns.push([time, (frame[tcp]! << 8) | frame[tcp + 1]!]);
        }),
      onSample: (_now, senders) => {
        acked = senders.map((conn) => conn.status().bytesAcked);
      },
    });
    // Both SYNs leave once the address is resolved, at the same virtual time (two flows, two ports).
    expect(syns).toHaveLength(2);
    expect(syns[0]![0]).toBe(syns[1]![0]);
    expect(syns[0]![1]).not.toBe(syns[1]![1]);
    // The handshakes overlap, so accept order says nothing: each flow's bytes are those its own sender
    // had acknowledged at the end (to the last window in flight; here the flows differ by 25%).
    const [cubic, bbr] = result.flows as [FlowResult, FlowResult];
    expect(cubic.bytes).toBeGreaterThan(0.95 * acked[0]!);
    expect(cubic.bytes).toBeLessThan(1.05 * acked[0]!);
    expect(bbr.bytes).toBeGreaterThan(0.95 * acked[1]!);
    expect(bbr.bytes).toBeLessThan(1.05 * acked[1]!);
    expect(Math.abs(acked[0]! - acked[1]!)).toBeGreaterThan(0.15 * Math.max(acked[0]!, acked[1]!));
  });

  it('reports each flow of several sharing the bottleneck, and their fairness', () => {
    const result = runBulkFlows({
      flows: ['bbr', 'bbr'],
      rateBitsPerSecond: 20e6,
      delayMs: 10,
      durationMs: 2000,
      tcp: { timestamps: true },
    });
    expect(result.flows.map((f) => f.congestionControl)).toEqual(['bbr', 'bbr']);
    expect(result.flows.every((f) => f.goodputBitsPerSecond > 0 && f.bytes > 0)).toBe(true);
    const rates = result.flows.map((f) => f.goodputBitsPerSecond);
    const total = rates[0]! + rates[1]!;
    expect(result.totalBitsPerSecond).toBeCloseTo(total, 6);
    // The rates count bytes delivered in order within the last second: a retransmission that fills a
    // hole there delivers data that crossed the link before it, so their sum may exceed the link's rate
    // (20.9 Mbit/s here). What the flows received over the whole run cannot exceed what the link
    // carried: 20 Mbit/s from the first handshake (at most 2.1 s).
    expect(result.flows[0]!.bytes + result.flows[1]!.bytes).toBeLessThan((20e6 / 8) * 2.1);
    expect(total).toBeLessThan(1.1 * 20e6);
    expect(result.linkShare).toBeCloseTo(total / 20e6, 9);
    // Jain's index: (sum x)^2 / (n sum x^2).
    expect(result.fairness).toBeCloseTo((total * total) / (2 * (rates[0]! ** 2 + rates[1]! ** 2)), 9);
  });
});
