/**
 * Reno congestion control as RFC 5681 specifies it: slow start, congestion avoidance, fast retransmit on
 * the third duplicate ACK and fast recovery, plus the loss window after a retransmission timeout.
 */
import type {
  AckEvent,
  CongestionControl,
  DuplicateAckAction,
  DuplicateAckEvent,
} from './congestion-control.js';

/** Duplicate ACKs that trigger fast retransmit (RFC 5681 §3.2). */
export const DUPLICATE_ACK_THRESHOLD = 3;

/**
 * RFC 5681 §3.1 initial window: 2, 3 or 4 segments depending on the MSS (the same values as RFC 3390's
 * min(4*MSS, max(2*MSS, 4380))).
 */
export function rfc5681InitialWindow(mss: number): number {
  if (mss > 2190) return 2 * mss;
  if (mss > 1095) return 3 * mss;
  return 4 * mss;
}

export class RenoCongestionControl implements CongestionControl {
  readonly name: string = 'reno';
  protected mss: number;
  protected readonly initialWindowSegments: number | undefined;
  protected cwndBytes: number;
  protected ssthreshBytes = Number.MAX_SAFE_INTEGER;
  protected recovering = false;
  /** Bytes acknowledged during congestion avoidance not yet turned into window growth. */
  private avoidanceCredit = 0;

  constructor(mss: number, initialWindowSegments?: number) {
    this.mss = mss;
    this.initialWindowSegments = initialWindowSegments;
    this.cwndBytes = this.initialWindow();
  }

  get cwnd(): number {
    return this.cwndBytes;
  }

  get ssthresh(): number {
    return this.ssthreshBytes;
  }

  get inRecovery(): boolean {
    return this.recovering;
  }

  onAck(event: AckEvent): void {
    if (this.recovering) {
      // §3.2 step 6: the first ACK of new data ends fast recovery and deflates the window.
      this.recovering = false;
      this.cwndBytes = this.ssthreshBytes;
      this.avoidanceCredit = 0;
      return;
    }
    if (this.cwndBytes < this.ssthreshBytes) {
      // §3.1 slow start: grow by at most one SMSS per ACK (equation 2).
      this.cwndBytes += Math.min(event.bytesAcked, this.mss);
      return;
    }
    // §3.1 congestion avoidance: about one SMSS per RTT, counted in acknowledged bytes (the byte-counting
    // form the RFC recommends over equation 3).
    this.avoidanceCredit += event.bytesAcked;
    if (this.avoidanceCredit >= this.cwndBytes) {
      this.avoidanceCredit -= this.cwndBytes;
      this.cwndBytes += this.mss;
    }
  }

  onDuplicateAck(event: DuplicateAckEvent): DuplicateAckAction {
    if (this.recovering) {
      // §3.2 step 4: each further duplicate ACK means a segment left the network; inflate.
      this.cwndBytes += this.mss;
      return 'none';
    }
    if (event.count !== DUPLICATE_ACK_THRESHOLD) return 'none';
    // §3.2 steps 2 and 3.
    this.ssthreshBytes = Math.max(Math.floor(event.flightSize / 2), 2 * this.mss);
    this.cwndBytes = this.ssthreshBytes + DUPLICATE_ACK_THRESHOLD * this.mss;
    this.recovering = true;
    return 'fast-retransmit';
  }

  onRetransmitTimeout(flightSize: number, repeated: boolean, _now?: number): void {
    // §3.1 equation 4 (only on the first timeout of a segment), then the loss window of one segment.
    if (!repeated) this.ssthreshBytes = Math.max(Math.floor(flightSize / 2), 2 * this.mss);
    this.cwndBytes = this.mss;
    this.recovering = false;
    this.avoidanceCredit = 0;
  }

  onMssChanged(mss: number): void {
    if (mss <= 0 || mss === this.mss) return;
    const segments = this.cwndBytes / this.mss;
    this.mss = mss;
    this.cwndBytes = Math.max(mss, Math.round(segments * mss));
  }

  onIdleRestart(_now?: number): void {
    // §4.1: after an idle period longer than the RTO, cwnd = min(RW, cwnd) with RW the initial window.
    this.cwndBytes = Math.min(this.cwndBytes, this.initialWindow());
  }

  private initialWindow(): number {
    return this.initialWindowSegments !== undefined
      ? this.initialWindowSegments * this.mss
      : rfc5681InitialWindow(this.mss);
  }
}

export function createRenoCongestionControl(
  mss: number,
  initialWindowSegments: number | undefined,
): CongestionControl {
  return new RenoCongestionControl(mss, initialWindowSegments);
}
