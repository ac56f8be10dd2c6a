/**
 * What every loss-based controller (Reno, NewReno, CUBIC) shares: slow start with appropriate byte
 * counting (RFC 3465), the recovery episode and its "recover" point (RFC 6582), the window during
 * recovery (PRR, RFC 6937, or RFC 5681/6582's inflation when the peer has no SACK and the algorithm asks
 * for the classic rules), the loss window after a timeout, congestion window validation (RFC 7661), the
 * restart window after idle (RFC 5681 §4.1) and undo of a spurious reduction (RFC 3708, Linux's undo).
 *
 * A subclass decides the new ssthresh on a congestion event and how the window grows in congestion
 * avoidance, and may take over slow start (HyStart++).
 */
import type {
  AckEvent,
  CongestionControl,
  CongestionControlContext,
  CongestionEvent,
  DuplicateAckAction,
  DuplicateAckEvent,
} from './congestion-control.js';
import { ProportionalRateReduction } from './prr.js';

/** Duplicate ACKs that trigger fast retransmit (RFC 5681 §3.2). */
export const DUPLICATE_ACK_THRESHOLD = 3;

/** The initial ssthresh (see LossBasedCongestionControl.ssthreshBytes). */
const INITIAL_SSTHRESH = 0x3fffffff;

/** RFC 6928's initial window: 10 segments (the default), or RFC 5681's when the configuration says so. */
export const IW10_SEGMENTS = 10;

/**
 * RFC 5681 §3.1 initial window: 2, 3 or 4 segments depending on the MSS (the same values as RFC 3390's
 * min(4*MSS, max(2*MSS, 4380))).
 */
export function rfc5681InitialWindow(mss: number): number {
  if (mss > 2190) return 2 * mss;
  if (mss > 1095) return 3 * mss;
  return 4 * mss;
}

/** Sequence-space comparison a >= b (mod 2^32), as in ../seq.ts, without importing the TCP core. */
function seqGe(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

/** How the window behaves during recovery. */
export type RecoveryWindow =
  /** RFC 6937 PRR: cwnd = pipe + sndcnt on every ACK. */
  | 'prr'
  /**
   * RFC 5681 §3.2 / RFC 6582 §3.2 with the output path's pipe counting every duplicate ACK as a segment
   * delivered (as Linux does): cwnd = ssthresh throughout. That sends exactly what the RFCs' inflation
   * (ssthresh + 3 MSS + one per further duplicate, deflated by partial ACKs) against FlightSize sends.
   */
  | 'inflation';

export abstract class LossBasedCongestionControl implements CongestionControl {
  abstract readonly name: string;
  readonly pacingRate: number = 0;
  protected mss: number;
  protected readonly initialWindowSegments: number | undefined;
  /**
   * Given a number here, not only in the constructor: a field declared without one starts undefined, V8
   * then keeps it as a tagged value, and each fractional window stored (CUBIC's growth) is a new heap
   * number. Starting as a number, it is kept as a double updated in place.
   */
  protected cwndBytes = 0;
  /**
   * RFC 5681 §3.1: arbitrarily high at first, "e.g., the size of the largest possible advertised window"
   * (65,535 << 14, RFC 7323 §2.3). 2^30 - 1, just above it, is the largest value V8 keeps as a small
   * integer: a larger one is a double, and code not yet optimised that reads a double field makes a heap
   * number per read (slow start's check, one per ACK in slow start when that call was not inlined).
   */
  protected ssthreshBytes = INITIAL_SSTHRESH;
  protected recovering = false;
  /** RFC 6582's "recover": SND.MAX when the recovery (or the last timeout) began. */
  protected recover: number | undefined;
  protected readonly recoveryWindow: RecoveryWindow;
  /** The peer agreed to SACK: `delivered` counts selectively acknowledged bytes and pipe is RFC 6675's. */
  protected readonly sack: boolean;
  /** Reno (RFC 5681) ends recovery on the first ACK of new data; NewReno waits for `recover`. */
  protected readonly endRecoveryOnPartialAck: boolean;
  protected readonly prr = new ProportionalRateReduction();
  /** SND.MAX at the last retransmission timeout, until the cumulative ACK passes it (RFC 6582 §3.2). */
  private recoverAfterTimeout: number | undefined;
  /** The episode under way is an ECN reduction (RFC 3168 §6.1.2): nothing was lost, nothing resent. */
  private ecnReduction = false;
  /** cwnd and ssthresh before the last reduction (undo). */
  private priorCwnd = 0;
  private priorSsthresh = 0;

  constructor(
    mss: number,
    initialWindowSegments: number | undefined,
    context: CongestionControlContext | undefined,
    options: { classicRecovery: boolean; endRecoveryOnPartialAck: boolean },
  ) {
    this.mss = mss;
    this.initialWindowSegments = initialWindowSegments;
    this.cwndBytes = this.initialWindow();
    // The classic rules count dupacks; with SACK, pipe is known and PRR is used (as Linux does for every
    // algorithm).
    this.sack = context?.sack ?? false;
    this.recoveryWindow = options.classicRecovery && !this.sack ? 'inflation' : 'prr';
    this.endRecoveryOnPartialAck = options.endRecoveryOnPartialAck;
  }

  get cwnd(): number {
    return Math.floor(this.cwndBytes);
  }

  get ssthresh(): number {
    return this.ssthreshBytes;
  }

  get inRecovery(): boolean {
    return this.recovering;
  }

  get phase(): string {
    if (this.recovering) return 'recovery';
    return this.cwndBytes < this.ssthreshBytes ? 'slow-start' : 'congestion-avoidance';
  }

  /** The new ssthresh after a congestion event (RFC 5681 equation 4 for Reno). */
  protected abstract reducedSsthresh(flightSize: number, now: number): number;
  /** Window growth in congestion avoidance for one ACK. */
  protected abstract congestionAvoidance(event: AckEvent, bytes: number): void;

  /** Slow start for one ACK; returns the bytes not used because ssthresh was reached. */
  protected slowStart(event: AckEvent, bytes: number): number {
    // RFC 3465 appropriate byte counting: grow by the bytes acknowledged, at most L*SMSS per ACK.
    const grow = Math.min(bytes, event.abcLimit);
    const room = this.ssthreshBytes - this.cwndBytes;
    if (grow <= room) {
      this.cwndBytes += grow;
      return 0;
    }
    this.cwndBytes = this.ssthreshBytes;
    return Math.min(bytes, grow - room);
  }

  /** Hook: the sender was not cwnd-limited for this ACK (RFC 7661): no growth. */
  protected applicationLimited(_event: AckEvent): void {}

  /** Hook: a reduction happened (congestion event or timeout). */
  protected reduced(_now: number): void {}

  /** Hook: the last reduction was undone. */
  protected undone(): void {}

  onAck(event: AckEvent): void {
    if (this.recovering) {
      if (this.endRecoveryOnPartialAck || this.recover === undefined || seqGe(event.ack, this.recover)) {
        this.endRecovery(event);
      } else {
        this.partialAck(event);
      }
      return;
    }
    if (!event.cwndLimited) {
      // RFC 7661 §4.3: in the non-validated phase cwnd is not increased.
      this.applicationLimited(event);
      return;
    }
    const bytes = event.delivered;
    if (this.cwndBytes < this.ssthreshBytes) {
      const left = this.slowStart(event, bytes);
      if (left > 0) this.congestionAvoidance(event, left);
      return;
    }
    this.congestionAvoidance(event, bytes);
  }

  /** RFC 6582 §3.2 step 5 / RFC 6937: an ACK that acknowledges some but not all of the recovery window. */
  private partialAck(event: AckEvent): void {
    if (this.recoveryWindow === 'prr') {
      // Without SACK, `delivered` is the cumulative part, part of which dupacks already counted.
      const delivered = this.sack
        ? event.delivered
        : this.prr.deliveredByCumulativeAck(event.bytesAcked, this.mss);
      this.cwndBytes = this.prr.window(delivered, event.pipe, this.ssthreshBytes, event.sentTotal, this.mss);
      return;
    }
    // RFC 6582 §3.2 step 5 (deflate by the data acknowledged, add back one SMSS): pipe fell by the
    // data acknowledged less the duplicates already counted, which is the same thing; cwnd stays.
  }

  private endRecovery(event: AckEvent): void {
    this.recovering = false;
    if (this.recoveryWindow === 'prr') {
      // RFC 6937 §3: at the end of recovery cwnd = ssthresh.
      this.cwndBytes = this.ssthreshBytes;
    } else if (this.endRecoveryOnPartialAck) {
      // RFC 5681 §3.2 step 6: deflate to ssthresh.
      this.cwndBytes = this.ssthreshBytes;
    } else {
      // RFC 6582 §3.2 step 3 (full ACK), option 1: min(ssthresh, max(FlightSize, SMSS) + SMSS), which
      // avoids a burst when little is in flight.
      this.cwndBytes = Math.min(this.ssthreshBytes, Math.max(event.pipe, this.mss) + this.mss);
    }
  }

  onDuplicateAck(event: DuplicateAckEvent): DuplicateAckAction {
    if (this.recovering && this.ecnReduction && event.count === DUPLICATE_ACK_THRESHOLD) {
      // A loss inside the window an ECE already reduced: the segment is resent and the episode now lasts
      // until everything sent is acknowledged, without a second reduction (one per window, RFC 3168
      // §6.1.2; Linux moves from CWR to Recovery the same way).
      this.ecnReduction = false;
      this.recover = event.sndMax;
      return 'fast-retransmit';
    }
    if (this.recovering) {
      if (this.recoveryWindow === 'prr') {
        const delivered = this.prr.deliveredByDuplicateAck(this.mss);
        this.cwndBytes = this.prr.window(
          delivered,
          event.pipe,
          this.ssthreshBytes,
          event.sentTotal,
          this.mss,
        );
      } else {
        // RFC 5681 §3.2 step 4: each further duplicate ACK means a segment left the network; pipe
        // counts it, which is the inflation.
      }
      return 'none';
    }
    if (event.count !== DUPLICATE_ACK_THRESHOLD) return 'none';
    // RFC 6582 §3.2 step 2 (and §4.1): after a timeout, no fast retransmit until the cumulative ACK
    // covers more than "recover": duplicates caused by go-back-N retransmissions say nothing new.
    if (this.recoverAfterTimeout !== undefined && !this.endRecoveryOnPartialAck) {
      if (!seqGt(event.sndUna, this.recoverAfterTimeout)) return 'none';
      this.recoverAfterTimeout = undefined;
    }
    this.beginReduction(event.flightSize, event.sndMax, event.now);
    if (this.recoveryWindow === 'prr') {
      this.prr.start(event.flightSize, event.sentTotal);
      for (let i = 0; i < DUPLICATE_ACK_THRESHOLD; i++) {
        this.prr.delivered += this.prr.deliveredByDuplicateAck(this.mss);
      }
      // The fast retransmission that follows is sent whatever the window says; nothing else yet.
      this.cwndBytes = event.pipe;
    } else {
      // RFC 5681 §3.2 step 3: ssthresh + 3 SMSS against FlightSize, i.e. ssthresh against pipe.
      this.cwndBytes = this.ssthreshBytes;
    }
    return 'fast-retransmit';
  }

  onEnterRecovery(event: CongestionEvent): void {
    // One reduction per window of data (RFC 6582 / RFC 3168 §6.1.2).
    if (this.recovering) {
      if (event.kind === 'loss') this.ecnReduction = false;
      return;
    }
    this.ecnReduction = event.kind === 'ecn';
    this.beginReduction(event.flightSize, event.sndMax, event.now);
    this.prr.start(event.flightSize, event.sentTotal);
    this.cwndBytes = this.prr.window(0, event.pipe, this.ssthreshBytes, event.sentTotal, this.mss);
  }

  private beginReduction(flightSize: number, sndMax: number, now: number): void {
    this.priorCwnd = this.cwndBytes;
    this.priorSsthresh = this.ssthreshBytes;
    this.ssthreshBytes = Math.max(Math.floor(this.reducedSsthresh(flightSize, now)), 2 * this.mss);
    this.recover = sndMax;
    this.recovering = true;
    this.reduced(now);
  }

  onRetransmitTimeout(flightSize: number, repeated: boolean, now: number, sndMax?: number): void {
    // RFC 5681 §3.1 equation 4 (only on the first timeout of a segment), then the loss window.
    if (!repeated) {
      this.priorCwnd = this.cwndBytes;
      this.priorSsthresh = this.ssthreshBytes;
      this.ssthreshBytes = Math.max(Math.floor(this.reducedSsthresh(flightSize, now)), 2 * this.mss);
      this.reduced(now);
    }
    this.cwndBytes = this.mss;
    this.recovering = false;
    // RFC 6582 §3.2 step 4 of the timeout: recover = the highest sequence number sent.
    if (sndMax !== undefined) this.recoverAfterTimeout = sndMax;
  }

  onExitRecovery(_now: number): void {
    if (!this.recovering) return;
    this.recovering = false;
    this.cwndBytes = this.ssthreshBytes;
  }

  onUndo(_now: number): void {
    if (this.priorCwnd === 0) return;
    this.cwndBytes = Math.max(this.cwndBytes, this.priorCwnd);
    this.ssthreshBytes = Math.max(this.ssthreshBytes, this.priorSsthresh);
    this.recovering = false;
    this.priorCwnd = 0;
    this.undone();
  }

  onMssChanged(mss: number): void {
    if (mss <= 0 || mss === this.mss) return;
    const segments = this.cwndBytes / this.mss;
    this.mss = mss;
    this.cwndBytes = Math.max(mss, Math.round(segments * mss));
  }

  onIdleRestart(_now: number): void {
    // §4.1: after an idle period longer than the RTO, cwnd = min(RW, cwnd) with RW the initial window.
    this.cwndBytes = Math.min(this.cwndBytes, this.initialWindow());
  }

  protected initialWindow(): number {
    return this.initialWindowSegments !== undefined
      ? this.initialWindowSegments * this.mss
      : rfc5681InitialWindow(this.mss);
  }
}
