/**
 * Reno (RFC 5681) and NewReno (RFC 6582).
 *
 * Both grow the window the same way: slow start by bytes acknowledged (RFC 3465), then congestion
 * avoidance of about one SMSS per round trip, counted in acknowledged bytes (the byte-counting form RFC
 * 5681 §3.1 recommends over equation 3). On a congestion event ssthresh = max(FlightSize / 2, 2 SMSS)
 * (equation 4). They differ in recovery: Reno leaves fast recovery on the first ACK of new data; NewReno
 * stays until everything outstanding when it began is acknowledged ("recover"), retransmitting on each
 * partial ACK. Without SACK the window follows the RFCs' inflation and deflation; with SACK, PRR.
 */
import type { AckEvent, CongestionControl, CongestionControlContext } from './congestion-control.js';
import { LossBasedCongestionControl } from './loss-based.js';

export { DUPLICATE_ACK_THRESHOLD, rfc5681InitialWindow } from './loss-based.js';

export class RenoCongestionControl extends LossBasedCongestionControl {
  readonly name: string = 'reno';
  /** Bytes acknowledged during congestion avoidance not yet turned into window growth. */
  private avoidanceCredit = 0;

  constructor(
    mss: number,
    initialWindowSegments?: number,
    context?: CongestionControlContext,
    endRecoveryOnPartialAck = true,
  ) {
    super(mss, initialWindowSegments, context, { classicRecovery: true, endRecoveryOnPartialAck });
  }

  protected reducedSsthresh(flightSize: number): number {
    return flightSize / 2;
  }

  protected congestionAvoidance(_event: AckEvent, bytes: number): void {
    this.avoidanceCredit += bytes;
    if (this.avoidanceCredit >= this.cwndBytes) {
      this.avoidanceCredit -= this.cwndBytes;
      this.cwndBytes += this.mss;
    }
  }

  protected override reduced(): void {
    this.avoidanceCredit = 0;
  }
}

export class NewRenoCongestionControl extends RenoCongestionControl {
  override readonly name: string = 'newreno';

  constructor(mss: number, initialWindowSegments?: number, context?: CongestionControlContext) {
    super(mss, initialWindowSegments, context, false);
  }
}

export function createRenoCongestionControl(
  mss: number,
  initialWindowSegments: number | undefined,
  context?: CongestionControlContext,
): CongestionControl {
  return new RenoCongestionControl(mss, initialWindowSegments, context);
}

export function createNewRenoCongestionControl(
  mss: number,
  initialWindowSegments: number | undefined,
  context?: CongestionControlContext,
): CongestionControl {
  return new NewRenoCongestionControl(mss, initialWindowSegments, context);
}
