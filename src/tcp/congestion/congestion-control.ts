/**
 * The congestion controller interface (RFC 5681 and its successors).
 *
 * The connection owns loss detection (duplicate-ACK counting, SACK scoreboard, RACK, the retransmission
 * timer) and tells the controller what happened; the controller owns the congestion window, the slow
 * start threshold, the recovery episode (RFC 6582's "recover" point) and the pacing rate.
 *
 * One measure of "bytes in flight" is shared by both sides: `pipe` in the events below is exactly what
 * the output path subtracts from cwnd before sending (Tcb.pipe). Without SACK it is SND.NXT - SND.UNA
 * (RFC 5681's FlightSize); with SACK it is RFC 6675's pipe. Controllers that set cwnd from the flight
 * (PRR: cwnd = pipe + sndcnt) rely on this.
 */

/**
 * A delivery-rate sample (the BBR draft §4.5.2, Linux's `struct rate_sample`), taken when an ACK
 * delivers data. Filled by the connection's send records; absent where it has none.
 */
export interface RateSample {
  /** Bytes delivered over the interval. */
  delivered: number;
  /** The interval the delivery took, ms (max of send and ACK intervals). */
  intervalMs: number;
  /** The sender was application-limited when the newest acknowledged segment was sent. */
  isAppLimited: boolean;
  /** Bytes in flight when the newest acknowledged segment was sent. */
  priorInFlight: number;
  /** Bytes newly marked lost by this ACK. */
  lost: number;
  /** RTT of the newest acknowledged segment, ms, or -1 (retransmitted). */
  rttMs: number;
  /** Total bytes delivered over the connection when the newest acknowledged segment was sent. */
  priorDelivered: number;
}

/** Passed to `onAck`; the object is reused for the next ACK, so read it during the call. */
export interface AckEvent {
  /** Bytes newly acknowledged cumulatively by this ACK (SYN and FIN count 1 each). */
  bytesAcked: number;
  /**
   * Bytes newly delivered by this ACK: the cumulative part plus bytes newly selectively acknowledged
   * (RFC 6937's DeliveredData). Without SACK it equals `bytesAcked`.
   */
  delivered: number;
  /** Bytes in flight before this ACK (SND.NXT - SND.UNA). */
  flightSizeBefore: number;
  /** Bytes in flight after this ACK, in the measure the output path uses (see the file comment). */
  pipe: number;
  /** The cumulative acknowledgment (the new SND.UNA). */
  ack: number;
  /** Highest sequence number sent so far (SND.MAX). */
  sndMax: number;
  /** Bytes ever sent, retransmissions included (PRR's prr_out is a difference of two readings). */
  sentTotal: number;
  /**
   * RFC 7661: the sender used at least half of cwnd during the flight this ACK belongs to. When false
   * the application or the peer's receive window limited it, and cwnd must not grow.
   */
  cwndLimited: boolean;
  /**
   * Most bytes one ACK may add to cwnd in slow start: RFC 3465's L x SMSS, with L = 2 or, when the
   * sender hands TSO super-segments to IP, the segments of one of them (an ACK per super-segment must
   * open room for the next one).
   */
  abcLimit: number;
  /**
   * A valid RTT sample taken from this ACK (Karn-filtered), ms, or -1 without one. Not `undefined`: the
   * sample is a fraction on any real path, and a field that can hold either keeps each one as a heap
   * number made per ACK; a field that only holds numbers stores it in place.
   */
  rttMs: number;
  /** The ACK carried ECE (RFC 3168 §6.1.2) for data sent since the last window reduction. */
  ece: boolean;
  /** A delivery-rate sample, when the connection keeps send records. */
  rate: RateSample | undefined;
  now: number;
}

export interface DuplicateAckEvent {
  /** Consecutive duplicate ACKs so far, this one included. */
  count: number;
  flightSize: number;
  /** Bytes in flight in the output path's measure (see the file comment). */
  pipe: number;
  sndUna: number;
  sndMax: number;
  sentTotal: number;
  now: number;
}

/** What the connection should do after a duplicate ACK. */
export type DuplicateAckAction =
  /** Nothing beyond what the (possibly grown) window allows. */
  | 'none'
  /** Retransmit the segment at SND.UNA now (fast retransmit, RFC 5681 §3.2 step 3). */
  | 'fast-retransmit';

/** A congestion signal found by loss detection (SACK, RACK) or by ECN, outside the dupack path. */
export interface CongestionEvent {
  kind: 'loss' | 'ecn';
  /** Bytes in flight in the output path's measure, after the losses were marked. */
  pipe: number;
  /** SND.NXT - SND.UNA. */
  flightSize: number;
  sndUna: number;
  sndMax: number;
  sentTotal: number;
  now: number;
}

export interface CongestionControl {
  /** Algorithm name for STATUS and traces, e.g. 'cubic'. */
  readonly name: string;
  /** Congestion window in bytes. */
  readonly cwnd: number;
  /** Slow start threshold in bytes. */
  readonly ssthresh: number;
  /** True between the start of loss recovery and the ACK that ends it. */
  readonly inRecovery: boolean;
  /**
   * Pacing rate in bytes per ms, or 0 for none: the output path spaces segments so that they leave no
   * faster than this (an earliest departure time per segment).
   */
  readonly pacingRate: number;
  /** The algorithm's own state, for STATUS and tcpInfo (e.g. 'slow-start', 'probe-bw'). */
  readonly phase: string;
  /** An ACK acknowledged new data (cumulatively or selectively). */
  onAck(event: AckEvent): void;
  /**
   * A duplicate ACK (RFC 5681 §2 definition) arrived and the peer has no SACK. The controller enters
   * recovery on the third (RFC 6582 §3.2 step 2) and says so; during recovery each counts one MSS
   * delivered. (Kept until the connection decides recovery entry itself and calls onEnterRecovery.)
   */
  onDuplicateAck(event: DuplicateAckEvent): DuplicateAckAction;
  /**
   * Loss detection found a loss (third duplicate ACK, RFC 6675 IsLost, RACK), or an ECE arrived: a
   * congestion event. Sets ssthresh and starts the recovery episode; nothing happens if one is under way.
   */
  onEnterRecovery(event: CongestionEvent): void;
  /** The cumulative ACK reached the recovery point (RFC 6582, RFC 6675): the episode ends. */
  onExitRecovery(now: number): void;
  /**
   * The retransmission timer expired (RFC 5681 §3.1, equation 4 and the loss window). `repeated` is true
   * when the segment had already been retransmitted by the timer: ssthresh is then held constant.
   */
  onRetransmitTimeout(flightSize: number, repeated: boolean, now: number, sndMax?: number): void;
  /**
   * The last window reduction was spurious (D-SACK, RFC 3708; or Eifel): restore cwnd and ssthresh from
   * before it, as Linux's undo does.
   */
  onUndo(now: number): void;
  /** The sender MSS changed (path MTU discovery lowered it, or the handshake fixed it). */
  onMssChanged(mss: number): void;
  /**
   * The connection was idle (nothing sent) for more than one RTO: RFC 5681 §4.1 restarts from the
   * restart window.
   */
  onIdleRestart(now: number): void;
  /**
   * Data is about to leave (new or retransmitted): `inFlight` is the pipe before it. Rate-based
   * algorithms use it; others may ignore it.
   */
  onSend?(bytes: number, inFlight: number, now: number): void;
}

/** What a connection tells a factory about itself. */
export interface CongestionControlContext {
  /** The peer agreed to SACK (RFC 2018): loss recovery follows RFC 6675 rather than RFC 6582. */
  sack: boolean;
  /**
   * The output path paces this connection's segments even when the controller sets no rate
   * (TcpConfig.pacing): ACKs then come back spread over the RTT rather than in trains.
   */
  paced?: boolean;
  /**
   * Uniform random numbers in [0, 1) for the controller's randomized timing (BBR's ProbeBW wait, draft
   * §4.3.3.5), so that flows sharing a bottleneck do not probe in lockstep. Not a secret: any generator
   * will do. The stack's TCP layer draws it from a generator seeded by its secret, so a simulation with a
   * fixed seed repeats exactly while each connection still draws its own values. Absent: Math.random.
   */
  random?: () => number;
  now: number;
}

/** Builds a controller for a connection; `mss` is the effective send MSS at the time. */
export type CongestionControlFactory = (
  mss: number,
  initialWindowSegments: number | undefined,
  context?: CongestionControlContext,
) => CongestionControl;
