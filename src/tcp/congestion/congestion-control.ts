/**
 * The congestion controller interface (RFC 5681 and its successors).
 *
 * The connection owns loss detection (duplicate-ACK counting, the retransmission timer) and asks the
 * controller what the congestion window is and how it changes. The events carry enough context (flight
 * size, SND.UNA, the highest sequence number sent) for NewReno (RFC 6582, which needs the "recover" point),
 * CUBIC (RFC 9438, which needs time and RTT) and SACK-based recovery (RFC 6675) to be added behind the
 * same interface.
 */

/** Passed to `onAck`; the object is reused for the next ACK, so read it during the call. */
export interface AckEvent {
  /** Bytes newly acknowledged by this ACK (SYN and FIN count 1 each). */
  bytesAcked: number;
  /** Bytes in flight before this ACK (SND.NXT - SND.UNA). */
  flightSizeBefore: number;
  /** The cumulative acknowledgment (the new SND.UNA). */
  ack: number;
  /** Highest sequence number sent so far (SND.MAX). */
  sndMax: number;
  /** A valid RTT sample taken from this ACK (Karn-filtered), if any. */
  rttMs: number | undefined;
  now: number;
}

export interface DuplicateAckEvent {
  /** Consecutive duplicate ACKs so far, this one included. */
  count: number;
  flightSize: number;
  sndUna: number;
  sndMax: number;
  now: number;
}

/** What the connection should do after a duplicate ACK. */
export type DuplicateAckAction =
  /** Nothing beyond what the (possibly grown) window allows. */
  | 'none'
  /** Retransmit the segment at SND.UNA now (fast retransmit, RFC 5681 §3.2 step 3). */
  | 'fast-retransmit';

export interface CongestionControl {
  /** Algorithm name for STATUS and traces, e.g. 'reno'. */
  readonly name: string;
  /** Congestion window in bytes. */
  readonly cwnd: number;
  /** Slow start threshold in bytes. */
  readonly ssthresh: number;
  /** True between a fast retransmit and the ACK that ends fast recovery. */
  readonly inRecovery: boolean;
  /** New data was acknowledged. */
  onAck(event: AckEvent): void;
  /** A duplicate ACK (RFC 5681 §2 definition) arrived. */
  onDuplicateAck(event: DuplicateAckEvent): DuplicateAckAction;
  /**
   * The retransmission timer expired (RFC 5681 §3.1, equation 4 and the loss window). `repeated` is true
   * when the segment had already been retransmitted by the timer: ssthresh is then held constant.
   */
  onRetransmitTimeout(flightSize: number, repeated: boolean, now: number): void;
  /** The sender MSS changed (path MTU discovery lowered it, or the handshake fixed it). */
  onMssChanged(mss: number): void;
  /**
   * The connection was idle (nothing sent) for more than one RTO: RFC 5681 §4.1 restarts from the
   * restart window.
   */
  onIdleRestart(now: number): void;
}

/** Builds a controller for a connection; `mss` is the effective send MSS at the time. */
export type CongestionControlFactory = (
  mss: number,
  initialWindowSegments: number | undefined,
) => CongestionControl;
