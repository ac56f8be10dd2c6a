/**
 * CUBIC (RFC 9438), the default controller, with HyStart++ (RFC 9406) in the initial slow start and PRR
 * (RFC 6937) in recovery.
 *
 * In congestion avoidance the window follows W_cubic(t) = C (t - K)^3 + W_max (§4.2, in segments, t in
 * seconds since the congestion avoidance stage began): concave up to W_max, the window before the last
 * reduction, then convex beyond it. Each ACK moves cwnd a fraction of the way to W_cubic(t + RTT),
 * clamped to [cwnd, 1.5 cwnd] (§4.4, §4.5). The Reno-friendly estimate W_est (§4.3) keeps CUBIC at least
 * as fast as Reno where Reno would be faster (short RTTs, small windows). On a congestion event ssthresh
 * = cwnd * 0.7 and W_max remembers the window, lowered further by fast convergence (§4.6, §4.7) when
 * the window had not regained the previous W_max (a new flow has joined).
 *
 * After a timeout the next stage starts the same way (§4.8).
 *
 * When HyStart++ ends the first slow start without a loss, W_max is not known: the stage starts with
 * K = 0 and W_max = cwnd, so the window probes beyond it along the convex part alone (§4.10), or by
 * W_est where that is faster. Linux's CUBIC instead grows at least 5% a round until its first loss (its
 * HyStart leaves slow start at once, with no conservative phase). That is not RFC 9438, and on a shared
 * bottleneck it hurts: the first flow pushes the queue up round after round, so a flow that joins sees
 * the rising delay, leaves slow start small and takes the first drops with a small window, and
 * synchronized drop-tail losses then keep that split for tens of seconds.
 */
import type { AckEvent, CongestionControl, CongestionControlContext } from './congestion-control.js';
import { HyStartPlusPlus } from './hystart.js';
import { LossBasedCongestionControl } from './loss-based.js';

/** RFC 9438 §5: C = 0.4 and beta_cubic = 0.7. */
export const CUBIC_C = 0.4;
export const CUBIC_BETA = 0.7;
/** §4.3: alpha_cubic = 3 (1 - beta) / (1 + beta), Reno's average rate for CUBIC's beta. */
export const CUBIC_ALPHA = (3 * (1 - CUBIC_BETA)) / (1 + CUBIC_BETA);

/** W_cubic(t) of §4.2 (segments), for `t` seconds into the congestion avoidance stage. */
export function cubicWindow(t: number, k: number, wMax: number): number {
  return CUBIC_C * (t - k) ** 3 + wMax;
}

/** K of §4.2: the time (s) the cubic takes to grow from `cwndEpoch` back to `wMax` (segments). */
export function cubicK(wMax: number, cwndEpoch: number): number {
  return wMax > cwndEpoch ? Math.cbrt((wMax - cwndEpoch) / CUBIC_C) : 0;
}

interface CubicState {
  wMax: number;
  epochStart: number | undefined;
  cwndPrior: number;
}

export class CubicCongestionControl extends LossBasedCongestionControl {
  readonly name = 'cubic';
  /** W_max (§4.1): the window, in segments, just before the last reduction. */
  private wMax = 0;
  /** When the current congestion avoidance stage began (t_epoch, ms); undefined until it does. */
  private epochStart: number | undefined;
  /** K (s) of the current stage. */
  private k = 0;
  /** W_est (§4.3), in segments. */
  private wEst = 0;
  /**
   * cwnd_prior (§4.6): the window, in segments, when ssthresh was last set (by a reduction, or by
   * HyStart++ ending slow start, §4.10). W_est grows by alpha_cubic until it reaches it, then by one.
   */
  private cwndPrior = 0;
  /** When the sender stopped being cwnd-limited (RFC 7661); the epoch moves on by the pause. */
  private pausedAt: number | undefined;
  /** Smoothed RTT from the samples the ACKs carried, ms. */
  private srttMs = 0;
  private readonly hystart: HyStartPlusPlus;
  /** State before the last reduction, for undo (§4.9). */
  private prior: CubicState = { wMax: 0, epochStart: undefined, cwndPrior: 0 };

  constructor(mss: number, initialWindowSegments?: number, context?: CongestionControlContext) {
    super(mss, initialWindowSegments, context, { classicRecovery: false, endRecoveryOnPartialAck: false });
    this.hystart = new HyStartPlusPlus(context?.paced ?? false);
  }

  override get phase(): string {
    if (this.recovering) return 'recovery';
    if (this.cwndBytes < this.ssthreshBytes) {
      return this.hystart.phase === 'css' ? 'conservative-slow-start' : 'slow-start';
    }
    return 'congestion-avoidance';
  }

  /** Current K, W_max, epoch, W_est and cwnd_prior, for tests and tracing. */
  get cubicState(): {
    k: number;
    wMax: number;
    epochStart: number | undefined;
    wEst: number;
    cwndPrior: number;
  } {
    return {
      k: this.k,
      wMax: this.wMax,
      epochStart: this.epochStart,
      wEst: this.wEst,
      cwndPrior: this.cwndPrior,
    };
  }

  override onAck(event: AckEvent): void {
    // Two stores, not one of a conditional: the conditional joins the event's number with the computed
    // one, and optimized code then makes a heap number of the computed one on every ACK.
    if (event.rttMs >= 0) {
      if (this.srttMs === 0) this.srttMs = event.rttMs;
      else this.srttMs += (event.rttMs - this.srttMs) / 8;
    }
    if (this.pausedAt !== undefined && event.cwndLimited && !this.recovering) {
      if (this.epochStart !== undefined) this.epochStart += event.now - this.pausedAt;
      this.pausedAt = undefined;
    }
    super.onAck(event);
  }

  protected override applicationLimited(event: AckEvent): void {
    if (this.pausedAt === undefined) this.pausedAt = event.now;
  }

  protected override slowStart(event: AckEvent, bytes: number): number {
    const divisor = this.hystart.onAck(
      event.ack,
      event.sndMax,
      event.rttMs,
      event.now,
      event.delivered,
      this.cwndBytes,
    );
    if (divisor === 0) {
      // HyStart++ §4.2: CSS_ROUNDS rounds of CSS are over: congestion avoidance from here.
      this.ssthreshBytes = Math.floor(this.cwndBytes);
      return bytes;
    }
    if (divisor === 1) return super.slowStart(event, bytes);
    this.cwndBytes += Math.min(bytes, event.abcLimit) / divisor;
    return 0;
  }

  protected reducedSsthresh(_flightSize: number, _now: number): number {
    // §4.6: ssthresh = cwnd * beta; §4.7 fast convergence lowers W_max when the window had not regained
    // the previous one.
    const cwndSegments = this.cwndBytes / this.mss;
    this.prior = { wMax: this.wMax, epochStart: this.epochStart, cwndPrior: this.cwndPrior };
    this.cwndPrior = cwndSegments;
    this.wMax = cwndSegments < this.wMax ? (cwndSegments * (1 + CUBIC_BETA)) / 2 : cwndSegments;
    return this.cwndBytes * CUBIC_BETA;
  }

  protected override reduced(): void {
    this.epochStart = undefined;
    this.pausedAt = undefined;
    this.hystart.stop();
  }

  protected override undone(): void {
    this.wMax = this.prior.wMax;
    this.epochStart = this.prior.epochStart;
    this.cwndPrior = this.prior.cwndPrior;
  }

  protected congestionAvoidance(event: AckEvent, bytes: number): void {
    const mss = this.mss;
    const cwnd = this.cwndBytes / mss;
    if (this.epochStart === undefined) {
      // §4.2: a new stage. K from the window it starts at; a window already past W_max starts the
      // convex part at once (W_max becomes the origin). That includes the stage after a slow start that
      // HyStart++ ended without a loss (W_max still 0): K = 0, W_max = cwnd (§4.10).
      this.epochStart = event.now;
      if (cwnd < this.wMax) {
        this.k = cubicK(this.wMax, cwnd);
      } else {
        this.k = 0;
        // No congestion event yet: HyStart++ ended slow start, and cwnd_prior = cwnd (§4.10).
        if (this.cwndPrior === 0) this.cwndPrior = cwnd;
        this.wMax = cwnd;
      }
      this.wEst = cwnd;
    }
    const t = (event.now - this.epochStart) / 1000;
    const rtt = (this.srttMs > 0 ? this.srttMs : 100) / 1000;
    // §4.3 Reno-friendly region: W_est grows by alpha per window acknowledged, by one once it has
    // reached cwnd_prior. (Not W_max: after fast convergence lowered W_max, switching at W_max would
    // make the flow that should yield grow faster than Reno sooner.)
    const alpha = this.wEst >= this.cwndPrior ? 1 : CUBIC_ALPHA;
    this.wEst += (alpha * bytes) / this.cwndBytes;
    const wCubic = cubicWindow(t, this.k, this.wMax);
    if (wCubic < this.wEst) {
      this.cwndBytes = Math.max(this.cwndBytes, this.wEst * mss);
    } else {
      // §4.4 / §4.5: move towards the target one RTT ahead, clamped to [cwnd, 1.5 cwnd].
      const target = Math.min(Math.max(cubicWindow(t + rtt, this.k, this.wMax), cwnd), 1.5 * cwnd);
      this.cwndBytes += ((target - cwnd) / cwnd) * bytes;
    }
  }

  override onRetransmitTimeout(flightSize: number, repeated: boolean, now: number, sndMax?: number): void {
    super.onRetransmitTimeout(flightSize, repeated, now, sndMax);
    // §4.8: the first congestion avoidance stage after a timeout starts with K = 0 and W_max = the
    // window it starts at, as after a slow start without a loss (Linux forgets its last_max_cwnd on a
    // timeout too). ssthresh and cwnd_prior were set above; undo (a spurious timeout) restores W_max.
    if (!repeated) this.wMax = 0;
  }

  override onIdleRestart(now: number): void {
    super.onIdleRestart(now);
    // The stage starts afresh from the restart window (Linux resets the epoch after idle too).
    this.epochStart = undefined;
  }
}

export function createCubicCongestionControl(
  mss: number,
  initialWindowSegments: number | undefined,
  context?: CongestionControlContext,
): CongestionControl {
  return new CubicCongestionControl(mss, initialWindowSegments, context);
}
