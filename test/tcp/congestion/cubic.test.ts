import { describe, expect, it } from 'vitest';
import {
  CUBIC_ALPHA,
  CUBIC_BETA,
  CubicCongestionControl,
  cubicK,
  cubicWindow,
} from '../../../src/tcp/congestion/cubic.js';
import { HYSTART, HyStartPlusPlus } from '../../../src/tcp/congestion/hystart.js';
import { ackEvent, dupAckEvent } from './events.js';

const MSS = 1000;

/** A CUBIC sender grown to `segments` in slow start (no RTT samples, so HyStart++ stays quiet). */
function grownTo(segments: number): CubicCongestionControl {
  const cc = new CubicCongestionControl(MSS, 10);
  cc.onAck(ackEvent({ bytesAcked: (segments - 10) * MSS, abcLimit: 1e9 }));
  expect(cc.cwnd).toBe(segments * MSS);
  return cc;
}

/** A loss at `segments` (three dupacks), then the full ACK that ends recovery at time `now`. */
function afterLoss(segments: number, now: number): CubicCongestionControl {
  const cc = grownTo(segments);
  const flight = segments * MSS;
  for (let count = 1; count <= 3; count++) {
    cc.onDuplicateAck(
      dupAckEvent({ count, flightSize: flight, pipe: flight, sndMax: flight, sentTotal: flight }),
    );
  }
  expect(cc.inRecovery).toBe(true);
  cc.onAck(ackEvent({ bytesAcked: flight, ack: flight, sndMax: flight, pipe: 0, sentTotal: flight, now }));
  expect(cc.inRecovery).toBe(false);
  return cc;
}

/**
 * Congestion avoidance with ACKs spread evenly over each RTT (one ACK per ms, each for cwnd/RTT bytes),
 * starting at `from` ms; returns cwnd in segments at each whole second up to `seconds`.
 */
function windowsOverTime(cc: CubicCongestionControl, from: number, seconds: number, rttMs: number) {
  const out: number[] = [];
  let acked = 0;
  for (let ms = 1; ms <= seconds * 1000; ms++) {
    const bytes = cc.cwnd / rttMs;
    acked += bytes;
    cc.onAck(ackEvent({ bytesAcked: bytes, ack: acked, sndMax: acked + cc.cwnd, rttMs, now: from + ms }));
    if (ms % 1000 === 0) out.push(cc.cwnd / MSS);
  }
  return out;
}

describe('CUBIC (RFC 9438)', () => {
  it('a loss sets ssthresh = 0.7 cwnd and W_max = cwnd (§4.6); K from §4.2', () => {
    const cc = afterLoss(100, 0);
    expect(cc.ssthresh).toBe(70_000);
    expect(cc.cwnd).toBe(70_000);
    expect(cubicK(100, 70)).toBeCloseTo(Math.cbrt((100 * (1 - CUBIC_BETA)) / 0.4), 12);
  });

  it('follows W_cubic(t) = C (t - K)^3 + W_max, or the Reno-friendly W_est where larger (§4.2, §4.3)', () => {
    const cc = afterLoss(100, 0);
    const rtt = 100;
    const k = cubicK(100, 70); // 4.217 s
    const seen = windowsOverTime(cc, 0, 8, rtt);
    expect(cc.cubicState.k).toBeCloseTo(k, 9);
    // W_est grows by alpha per RTT from 70 until it reaches W_max = 100, then by one per RTT.
    const reach = ((100 - 70) / CUBIC_ALPHA) * (rtt / 1000);
    const wEst = (t: number) =>
      t < reach ? 70 + (CUBIC_ALPHA * t * 1000) / rtt : 100 + ((t - reach) * 1000) / rtt;
    for (let second = 1; second <= 8; second++) {
      // cwnd moves towards W_cubic(t + RTT) within about one RTT, so at time t it is close to W_cubic(t).
      const expected = Math.max(cubicWindow(second, k, 100), wEst(second));
      expect(Math.abs(seen[second - 1]! - expected) / expected, `t=${second}s`).toBeLessThan(0.01);
    }
    // The plateau: around t = K the window is W_max; the concave part is below W_est's reach.
    expect(seen[3]).toBeGreaterThan(99.9);
    expect(seen[4]).toBeLessThan(100.5);
    expect(cubicWindow(3, k, 100)).toBeGreaterThan(wEst(3));
  });

  it('uses the Reno-friendly estimate W_est where Reno would be faster (§4.3)', () => {
    // Small window, short RTT: W_est (alpha per RTT up to W_max = 10, then one per RTT) far exceeds
    // W_cubic, which needs K = 1.96 s just to regain 10.
    const cc = afterLoss(10, 0);
    const rtt = 20;
    const seen = windowsOverTime(cc, 0, 1, rtt);
    const reach = (3 / CUBIC_ALPHA) * rtt; // ms to regain W_max
    const wEst = 10 + (1000 - reach) / rtt;
    expect(cubicWindow(1, cubicK(10, 7), 10)).toBeLessThan(10);
    expect(Math.abs(seen[0]! - wEst)).toBeLessThan(1);
  });

  it('fast convergence: a loss before regaining W_max lowers W_max to cwnd (1 + beta) / 2 (§4.7)', () => {
    const cc = afterLoss(100, 0); // cwnd 70, W_max 100
    for (let count = 1; count <= 3; count++) {
      cc.onDuplicateAck(
        dupAckEvent({ count, flightSize: 70_000, pipe: 70_000, sndMax: 200_000, sndUna: 130_000 }),
      );
    }
    expect(cc.cubicState.wMax).toBeCloseTo((70 * (1 + CUBIC_BETA)) / 2, 9);
    expect(cc.ssthresh).toBe(49_000);
  });

  it('W_est grows by alpha until it reaches cwnd_prior, not the W_max fast convergence lowered (§4.3)', () => {
    // A second loss at 70, before regaining W_max = 100: W_max 59.5, cwnd_prior 70, ssthresh 49.
    const cc = afterLoss(100, 0);
    for (let count = 1; count <= 3; count++) {
      cc.onDuplicateAck(
        dupAckEvent({ count, flightSize: 70_000, pipe: 70_000, sndMax: 200_000, sndUna: 130_000 }),
      );
    }
    cc.onAck(ackEvent({ bytesAcked: 70_000, ack: 200_000, sndMax: 200_000, pipe: 0, now: 0 }));
    expect(cc.cwnd).toBe(49_000);
    expect(cc.cubicState.cwndPrior).toBe(70);
    // Round trips of 20 ms, so W_est leads W_cubic (K = 2.97 s): alpha per RTT from 49 to 70 (0.79 s),
    // then one per RTT: 80.3 at 1 s. Switching at W_max (59.5, reached at 0.4 s) would give 89.6.
    const rtt = 20;
    const [oneSecond] = windowsOverTime(cc, 0, 1, rtt);
    const reach = ((70 - 49) / CUBIC_ALPHA) * rtt;
    const expected = 70 + (1000 - reach) / rtt;
    expect(cubicWindow(1, cubicK(59.5, 49), 59.5)).toBeLessThan(60);
    expect(Math.abs(oneSecond! - expected)).toBeLessThan(1);
  });

  it('after a timeout the next stage starts from K = 0 and W_max = its own window (§4.8)', () => {
    const cc = grownTo(100);
    cc.onRetransmitTimeout(100_000, false, 0, 100_000);
    expect([cc.cwnd, cc.ssthresh]).toEqual([1000, 70_000]);
    // Slow start back to ssthresh (about 0.6 s at one ACK a ms), then congestion avoidance.
    const [oneSecond, twoSeconds] = windowsOverTime(cc, 0, 2, 100);
    expect(cc.phase).toBe('congestion-avoidance');
    expect(cc.cubicState.k).toBe(0);
    expect(cc.cubicState.wMax).toBeCloseTo(70, 0);
    // Growth by W_est, alpha (0.53) per RTT below cwnd_prior = 100: about 7 segments in the 1.4 s since
    // slow start ended. With the W_max of before the timeout (100, K = 4.2 s) the concave curve would
    // have taken it to 91.
    expect(oneSecond).toBeGreaterThanOrEqual(70);
    expect(twoSeconds! - 70).toBeGreaterThan(5);
    expect(twoSeconds! - 70).toBeLessThan(9);
  });

  it('does not grow while application- or receive-window-limited, and the cubic does not run on (RFC 7661)', () => {
    const cc = afterLoss(100, 0);
    windowsOverTime(cc, 0, 1, 100);
    const before = cc.cwnd;
    for (let ms = 1; ms <= 5000; ms++)
      cc.onAck(ackEvent({ bytesAcked: 100, cwndLimited: false, now: 1000 + ms }));
    expect(cc.cwnd).toBe(before);
    // Growth resumes where it paused: the 5 s pause does not count towards t.
    const after = windowsOverTime(cc, 6000, 1, 100);
    expect(Math.abs(after[0]! - cubicWindow(2, cubicK(100, 70), 100))).toBeLessThan(2);
  });

  it('after HyStart++ ends slow start without a loss, grows from K = 0 and W_max = cwnd (§4.10), not 5% a round', () => {
    // Slow start to 100 segments, ended by HyStart++ (a round at 50 ms, then 70 ms: CSS, CSS_ROUNDS
    // rounds, then congestion avoidance with ssthresh = cwnd), and no loss yet.
    const cc = grownTo(100);
    let r = 0;
    while (cc.phase !== 'congestion-avoidance' && r < 50) {
      r++;
      for (let i = 1; i <= 10; i++) {
        const ack = r * 1000 + 100 * i;
        cc.onAck(ackEvent({ bytesAcked: 100, ack, sndMax: ack + 999, rttMs: r === 1 ? 50 : 70, now: r }));
      }
    }
    expect(cc.phase).toBe('congestion-avoidance');
    const start = cc.cwnd / MSS;
    // The stage began when the last CSS round ended, 7 ms into this clock. Over seconds 1-2, twenty
    // rounds of 100 ms: W_cubic from an origin at cwnd (K = 0) is 3.7 segments past it at t = 2.1 s,
    // W_est (alpha 1, since W_est starts at cwnd_prior = cwnd) one a round: twenty. Linux's 5% a
    // round, ACK by ACK, would have compounded to e^1 = 2.7 x.
    expect(cc.cubicState.epochStart).toBe(7);
    const [oneSecond, twoSeconds] = windowsOverTime(cc, 7, 2, 100);
    expect(cc.cubicState.k).toBe(0);
    expect(cc.cubicState.wMax).toBeCloseTo(start, 1);
    expect(oneSecond! - start).toBeCloseTo(10, 0);
    expect(twoSeconds! - start).toBeCloseTo(20, 0);
    // Then the convex part takes over: at t = 6 s W_cubic(t + RTT) is 91 segments past the origin,
    // W_est 60.
    const [, , , sixSeconds] = windowsOverTime(cc, 2007, 4, 100);
    expect(sixSeconds! - start).toBeGreaterThan(80);
    expect(sixSeconds! - start).toBeLessThan(cubicWindow(6.1, 0, 0) + 1);
    // After a loss the cubic sets the pace again: one second after the reduction from 100 the window
    // is W_cubic(1 s) = 86.7.
    const lossy = afterLoss(100, 0);
    const [afterLossOneSecond] = windowsOverTime(lossy, 0, 1, 100);
    expect(Math.abs(afterLossOneSecond! - cubicWindow(1, cubicK(100, 70), 100))).toBeLessThan(1);
  });

  it('undo restores the window and W_max from before a spurious reduction', () => {
    const cc = grownTo(100);
    for (let count = 1; count <= 3; count++) {
      cc.onDuplicateAck(dupAckEvent({ count, flightSize: 100_000, pipe: 100_000, sndMax: 100_000 }));
    }
    cc.onUndo(0);
    expect([cc.cwnd, cc.inRecovery]).toEqual([100_000, false]);
  });
});

describe('HyStart++ (RFC 9406)', () => {
  /**
   * One round of slow start, round `r`: ten ACKs (r*1000 + 100 i) with RTT `rtt`, SND.MAX 999 ahead, so
   * each round's first ACK passes the SND.MAX recorded at the previous round's first ACK.
   */
  function round(h: HyStartPlusPlus, r: number, rtt: number): number[] {
    const divisors: number[] = [];
    for (let i = 1; i <= 10; i++) divisors.push(h.onAck(r * 1000 + 100 * i, r * 1000 + 100 * i + 999, rtt));
    return divisors;
  }

  /**
   * Round 0: ten ACKs of 1448 bytes at `trainTimes` (ms), RTT 50 ms, cwnd 20 segments. Rounds 1 and 2
   * from 100 and 200 ms: ACKs 3 ms apart (no train), RTT 50 then 70 ms (a rise of the threshold), cwnd
   * `cwndSegments`. The phase after them.
   */
  function riseAfterTrain(trainTimes: readonly number[], cwndSegments: number, paced = false): string {
    const h = new HyStartPlusPlus(paced);
    let ack = 0;
    for (const t of trainTimes) h.onAck(++ack, 10, 50, t, 1448, 20 * 1448);
    for (const [start, rtt] of [
      [100, 50],
      [200, 70],
    ] as const) {
      const end = ack + 10;
      for (let i = 0; i < 10; i++) h.onAck(++ack, end, rtt, start + i * 3, 1448, cwndSegments * 1448);
    }
    return h.phase;
  }

  it('a round begins with the first ACK beyond the SND.MAX recorded at its start, not one equal to it', () => {
    const h = new HyStartPlusPlus();
    h.onAck(100, 1000, 50);
    // Round 1's minimum is 50; ACKs for exactly 1000 still belong to round 1 (as round 2, their eight
    // samples of 70 would have made it CSS).
    for (let i = 1; i <= 8; i++) h.onAck(1000, 2000, 70);
    expect(h.phase).toBe('slow-start');
    // The next ACK starts round 2: eight samples of 70 >= 50 + 6.25 make it CSS.
    for (let i = 1; i <= 8; i++) h.onAck(2000 + i, 3000, 70);
    expect(h.phase).toBe('css');
    expect(h.exit).toBe('delay');
  });

  it('ends slow start on an ACK train longer than half the minimum RTT (cwnd at about the BDP)', () => {
    const h = new HyStartPlusPlus();
    // Rounds of 8, 16, 32 then 64 ACKs, 0.5 ms apart (back to back), RTT 50 ms: the window doubles
    // each round. A round's train lasts 0.5 ms per ACK; the 64-ACK round passes 25 ms at its 52nd.
    let ack = 0;
    let now = 0;
    for (const acks of [8, 16, 32]) {
      const end = ack + acks;
      for (let i = 0; i < acks; i++) {
        expect(h.onAck(++ack, end, 50, now)).toBe(1);
        now += 0.5;
      }
      // The gap before the next round's train: more than ACK_TRAIN_GAP_MS.
      now += 50 - acks * 0.5;
    }
    expect(h.phase).toBe('slow-start');
    const divisors: number[] = [];
    const end = ack + 64;
    for (let i = 0; i < 64 && h.phase === 'slow-start'; i++) {
      divisors.push(h.onAck(++ack, end, 50, now));
      now += 0.5;
    }
    expect(divisors.length).toBe(52);
    expect(divisors.at(-1)).toBe(0);
    expect(h.phase).toBe('done');
    expect(h.exit).toBe('ack-train');
  });

  it("ends slow start once cwnd reaches 1.35 x the train's delivery rate x the minimum RTT, another flow's burst in the train not counted", () => {
    // Round 0 sets the minimum RTT, 50 ms. Round 1 from 50 ms: ACKs 0.5 ms apart, each delivering one
    // segment of 1448 bytes (2896 bytes a ms), cwnd 100 segments at the first and one more at each.
    // 1.35 x 2896 x 50 = 135 segments: the 36th ACK (17.5 ms into the train) ends slow start, where
    // the train's length alone (half the minimum RTT) waited for the 52nd, at cwnd 151.
    // `bridgeAt`: the ACK before which 2.2 ms pass, its sample carrying that much queueing delay.
    const run = (bridgeAt?: number): number | undefined => {
      const h = new HyStartPlusPlus();
      let ack = 0;
      for (let i = 0; i < 8; i++) h.onAck(++ack, 8, 50, i * 0.25, 1448, 20 * 1448);
      const end = ack + 400;
      let now = 50;
      for (let i = 0; i < 400; i++) {
        if (i === bridgeAt) now += 2.2 - 0.5;
        const rtt = i === bridgeAt ? 53 : 50;
        if (h.onAck(++ack, end, rtt, now, 1448, (100 + i) * 1448) === 0) {
          expect(h.exit).toBe('ack-train');
          return i + 1;
        }
        now += 0.5;
      }
      return undefined;
    };
    expect(run()).toBe(36);
    // Bridged after 10 ACKs: the 2.2 ms the other flow's burst took are not this train's, so its rate
    // is still 1448 bytes per 0.5 ms and the same ACK ends slow start (counted in, they made the rate
    // the other flow's share of the path, and only the train's length ended slow start, at the 48th).
    expect(run(10)).toBe(36);
  });

  it("a paced sender's train must last a whole minimum RTT", () => {
    // ACKs 0.5 ms apart from the round's first, minimum RTT 50 ms: unpaced, the train ends slow start
    // past 25 ms; paced, past 50 ms.
    for (const [paced, acks] of [
      [false, 52],
      [true, 102],
    ] as const) {
      const h = new HyStartPlusPlus(paced);
      let ack = 0;
      let count = 0;
      while (h.phase === 'slow-start' && count < 1000) {
        h.onAck(++ack, 10_000, 50, count * 0.5);
        count++;
      }
      expect(count).toBe(acks);
      expect(h.exit).toBe('ack-train');
    }
  });

  it('a gap of more than 2 ms breaks the train: paced ACKs never end slow start by it', () => {
    const h = new HyStartPlusPlus();
    let ack = 0;
    for (let i = 0; i < 1000; i++) h.onAck(++ack, ack + 10_000, 50, i * (HYSTART.ACK_TRAIN_GAP_MS + 0.5));
    expect(h.phase).toBe('slow-start');
  });

  it("bridges a gap in the train that the next ACK's queueing delay covers (another flow's burst)", () => {
    // Round 0 at the bare 80 ms. Round 1 starts at 80 ms: ACKs 0.25 ms apart whose RTT rises with
    // the queue (80 to 87 ms over 13 ms), then nothing for 2.2 ms while another flow's burst crosses
    // the bottleneck, then the train goes on. Returns the time past the round's start at which slow
    // start ended, or undefined.
    const run = (rttAfterGap: number): number | undefined => {
      const h = new HyStartPlusPlus();
      let ack = 0;
      for (let i = 0; i < 8; i++) h.onAck(++ack, 8, 80, i * 0.25);
      const end = ack + 400;
      let now = 80;
      for (let i = 0; i < 400; i++) {
        const rtt = i < 52 ? 80 + i * 0.14 : i === 52 ? rttAfterGap : rttAfterGap + (i - 52) * 0.1;
        if (h.onAck(++ack, end, rtt, now) === 0) return now - 80;
        now += i === 51 ? 2.2 : 0.25;
      }
      return undefined;
    };
    // 87 ms after the gap: 7 ms of queue was ahead of it, so the bottleneck never idled (the gap was the
    // other flow's): the train goes on, and ends slow start once it has lasted 40 ms (half the minimum
    // RTT) of its own, the 2.2 ms of the other flow's burst not counted: at the first ACK past 42.2 ms.
    expect(run(87)).toBeCloseTo(42.45, 5);
    // 81 ms: the queue had nearly drained, and the bottleneck may have idled: the train is over.
    expect(run(81)).toBeUndefined();
  });

  it("a delayed ACK's straggler ends no train, though its sample carries the wait", () => {
    const h = new HyStartPlusPlus();
    let ack = 0;
    for (let i = 0; i < 8; i++) h.onAck(++ack, 8, 50, i * 0.25);
    const end = ack + 100;
    // 40 ACKs back to back over 10 ms, then one held 40 ms by the peer's delayed-ACK timer (its sample
    // 50 + 40 ms), 50 ms past the round's start: bridged, but not back to back with anything.
    for (let i = 0; i < 40; i++) h.onAck(++ack, end, 50, 50 + i * 0.25);
    expect(h.onAck(++ack, end, 90, 100)).toBe(1);
    // The next ACK 3 ms later, on an empty queue: no train.
    expect(h.onAck(++ack, end, 50, 103)).toBe(1);
    for (let i = 1; i < 20; i++) expect(h.onAck(++ack, end, 50, 103 + i * 0.25)).toBe(1);
    expect(h.phase).toBe('slow-start');
  });

  it('leaves slow start for CSS when the round minimum RTT rises by the threshold, then for CA after 5 rounds', () => {
    const h = new HyStartPlusPlus();
    round(h, 0, 50);
    // Round 1: RTT 56 ms, below 50 + max(4, 50/8 = 6.25): still slow start.
    round(h, 1, 56);
    expect(h.phase).toBe('slow-start');
    // Round 2: minimum 63 >= 56 + 7: after N_RTT_SAMPLE samples, CSS (growth divided by 4).
    const divisors = round(h, 2, 63);
    expect(divisors.slice(0, HYSTART.N_RTT_SAMPLE - 1)).toEqual(Array(HYSTART.N_RTT_SAMPLE - 1).fill(1));
    expect(divisors.slice(HYSTART.N_RTT_SAMPLE - 1)).toEqual(
      Array(10 - HYSTART.N_RTT_SAMPLE + 1).fill(HYSTART.CSS_GROWTH_DIVISOR),
    );
    expect(h.phase).toBe('css');
    // CSS_ROUNDS round starts later slow start is over (0: the caller sets ssthresh = cwnd).
    for (let r = 3; r < 3 + HYSTART.CSS_ROUNDS - 1; r++) {
      expect(round(h, r, 63)).toEqual(Array(10).fill(HYSTART.CSS_GROWTH_DIVISOR));
    }
    expect(h.onAck((3 + HYSTART.CSS_ROUNDS - 1) * 1000 + 100, 0, 63)).toBe(0);
    expect(h.phase).toBe('done');
  });

  it("a delay rise while cwnd is below 1.35 x the fastest train's rate x the minimum RTT is another flow's queue: no CSS", () => {
    // Round 0: ten ACKs 0.25 ms apart, 1448 bytes each, RTT 50 ms: the train delivers 9 x 1448 bytes
    // in 2.25 ms, 5792 bytes a ms, and 1.35 x 5792 x 50 = 390,960 bytes (270 segments). Then the rise
    // (riseAfterTrain).
    const train = Array.from({ length: 10 }, (_, i) => i * 0.25);
    const run = (cwndSegments: number, paced = false) => riseAfterTrain(train, cwndSegments, paced);
    // 260 segments cannot hold a queue of their own: the rise is another flow's, slow start goes on.
    expect(run(260)).toBe('slow-start');
    expect(run(280)).toBe('css');
    // A paced train's rate is the pacing rate: RFC 9406's test alone.
    expect(run(260, true)).toBe('css');
  });

  it("the fastest train counts runs of back-to-back ACKs: other flows' segments in the train do not hide the bottleneck's rate", () => {
    // Round 0: five ACKs 0.25 ms apart, another flow's segments for 1.75 ms (a gap short of a break),
    // five more 0.25 ms apart; 1448 bytes each, RTT 50 ms. The whole train delivers 9 x 1448 bytes in
    // 3.75 ms, 3475 bytes a ms (1.35 x 3475 x 50 ms: 162 segments); its first run of four gaps delivers
    // 4 x 1448 bytes in 1 ms, 5792 bytes a ms (1.35 x 5792 x 50 ms: 270 segments). Then the rise
    // (riseAfterTrain).
    const train = Array.from({ length: 10 }, (_, i) => (i < 5 ? i * 0.25 : 2.75 + (i - 5) * 0.25));
    const run = (cwndSegments: number) => riseAfterTrain(train, cwndSegments);
    // 200 segments: above what the whole train's rate says the path holds, below what its back-to-back
    // run says: the rise is another flow's queue, slow start goes on.
    expect(run(200)).toBe('slow-start');
    expect(run(280)).toBe('css');
  });

  it('clamps the RTT threshold to [4, 16] ms (RttThresh = max(4, min(lastRoundMinRTT / 8, 16)))', () => {
    // lastRoundMinRTT 20 ms: 20/8 = 2.5, clamped up to 4. A rise of 3.9 ms is not enough, 4 is.
    const low = new HyStartPlusPlus();
    round(low, 0, 20);
    round(low, 1, 23.9);
    expect(low.phase).toBe('slow-start');
    round(low, 2, 27.9);
    expect(low.phase).toBe('css');
    // lastRoundMinRTT 200 ms: 200/8 = 25, clamped down to 16.
    const high = new HyStartPlusPlus();
    round(high, 0, 200);
    round(high, 1, 215.9);
    expect(high.phase).toBe('slow-start');
    round(high, 2, 231.9);
    expect(high.phase).toBe('css');
  });

  it('returns to slow start when the RTT falls below the CSS baseline', () => {
    const h = new HyStartPlusPlus();
    round(h, 0, 50);
    round(h, 1, 70);
    expect(h.phase).toBe('css');
    round(h, 2, 52);
    expect(h.phase).toBe('slow-start');
  });

  it('a whole CSS round delivering 25% more than the last resumes slow start; a flat rate stays in CSS', () => {
    // Rounds of 200 ms, ACKs 3 ms apart (no ACK train), 1,000 bytes each: rounds 0 and 1 at 50 ms
    // with 10 and 20 ACKs, round 2 at 70 ms with 40 (CSS from its eighth), then round 3, CSS
    // throughout, with `acks`; the phase once round 4 has begun.
    const run = (acks: number): string => {
      const h = new HyStartPlusPlus();
      const plan: [number, number][] = [
        [10, 50],
        [20, 50],
        [40, 70],
        [acks, 70],
        [1, 70],
      ];
      plan.forEach(([count, rtt], r) => {
        for (let i = 1; i <= count; i++)
          h.onAck(r * 1000 + i, (r + 1) * 1000, rtt, r * 200 + 3 * (i - 1), 1000);
        if (r === 2) expect(h.phase).toBe('css');
      });
      return h.phase;
    };
    // 50 ACKs against 40: 1.25 times the rate. The path is not full and the RTT rise is not this
    // flow's queue (another flow's): slow start again.
    expect(run(50)).toBe('slow-start');
    // 49 ACKs: less than 25% more. As a flow whose own window fills the bottleneck, whose rate stays
    // flat: still CSS.
    expect(run(49)).toBe('css');
    expect(run(40)).toBe('css');
  });

  it("judges a round's first N_RTT_SAMPLE samples against the same samples of the last round", () => {
    // Each round: eight ACKs of the burst (queued behind another flow's burst), then two of segments
    // sent into the emptied queue (50 ms).
    const headAndTail = (h: HyStartPlusPlus, r: number, head: number) => {
      const divisors: number[] = [];
      for (let i = 1; i <= 10; i++) {
        divisors.push(h.onAck(r * 1000 + 100 * i, r * 1000 + 100 * i + 999, i <= 8 ? head : 50));
      }
      return divisors;
    };
    const h = new HyStartPlusPlus();
    headAndTail(h, 0, 50);
    headAndTail(h, 1, 54);
    // 59 against 54 + 6.75, not against the tail's 50 + 6.25: slow start throughout (against the whole
    // round's minimum it would be CSS from the eighth ACK until the tail's first).
    expect(headAndTail(h, 2, 59)).toEqual(Array(10).fill(1));
    // 68 >= 59 + 7.4: CSS, with the baseline at 68.
    for (let i = 1; i <= 8; i++) h.onAck(3000 + 100 * i, 3999 + 100 * i, 68);
    expect(h.phase).toBe('css');
    // Every sample of a CSS round counts for the spurious test (§4.2): the tail at 50 < 68 ends CSS.
    for (let i = 9; i <= 10; i++) h.onAck(3000 + 100 * i, 3999 + 100 * i, 50);
    expect(h.phase).toBe('slow-start');
  });

  it('in CUBIC: the window stops doubling once the queue builds, with ssthresh = cwnd after CSS', () => {
    const cc = new CubicCongestionControl(MSS, 10);
    // Segment by segment: every ACK acknowledges the oldest segment and the sender fills the window
    // again. A segment's RTT is 50 ms while fewer than 40 are in flight, then grows by 1 ms for every
    // further segment, as behind a bottleneck queue.
    let acked = 0;
    let sent = 10 * MSS;
    let segments = 0;
    while (cc.cwnd < cc.ssthresh && segments < 100_000) {
      const inFlight = (sent - acked) / MSS;
      const rtt = 50 + Math.max(0, inFlight - 40);
      acked += MSS;
      // ACKs 3 ms apart: no ACK train (that test is above); the delay test alone acts.
      cc.onAck(ackEvent({ bytesAcked: MSS, ack: acked, sndMax: sent, rttMs: rtt, now: 3 * segments }));
      while (sent - acked + MSS <= cc.cwnd) sent += MSS;
      segments++;
    }
    // Without HyStart++ nothing would end slow start here. The RTT rises past the threshold in the round
    // that reaches about 80 segments; CSS then grows by half per round for CSS_ROUNDS rounds
    // (80 * 1.5^5 = 607; 624 here), where slow start would have doubled five more times (2560).
    expect(cc.phase).toBe('congestion-avoidance');
    expect(cc.ssthresh).toBeGreaterThan(80 * MSS);
    expect(cc.ssthresh).toBeLessThan(650 * MSS);
    expect(cc.cwnd - cc.ssthresh).toBeLessThan(2 * MSS);
  });
});
