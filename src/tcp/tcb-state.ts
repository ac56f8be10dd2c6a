/**
 * The parts of a connection's state (tcb.ts) that a connection which only opened and then sits idle never
 * sets, in two records a Tcb makes the first time one of their fields takes a value other than its initial
 * one (the Tcb's accessors read the initial value while there is none). A server holds many idle
 * connections: each field costs 8 bytes in every one of them, and a number that is not a small integer
 * (a sequence number, Infinity) 16 more, so these stay out of the Tcb until the connection needs them.
 *
 * Internal to src/tcp.
 */
import type { ConnectionId } from '../trace/events.js';
import type { ReceiveAutotuner } from './buffer-autotuning.js';
import type { TcpConfig } from './config.js';
import type { AckEvent, CongestionControl, RateSample } from './congestion/congestion-control.js';
import type { TcpError } from './errors.js';
import type { MtuProbeState } from './mtu-probing.js';
import type { Scoreboard } from './scoreboard.js';

/** An RTT measurement in progress: the time `seq` (the end of a segment) was first sent. */
export interface RttTiming {
  endSeq: number;
  sentAt: number;
}

/**
 * What only something out of the ordinary sets: loss, recovery and retransmission, reordering, D-SACK,
 * ECN marks, urgent data, zero-window probes, keepalive probes, invalid segments, errors, an orphaned
 * connection, and per-connection options changed from the configuration's.
 */
export class TcbRareState {
  /** Send urgent pointer: sequence number just past the last urgent byte, when `sndUrgent`. */
  sndUp: number = 0;
  sndUrgent: boolean = false;
  /** Receive urgent pointer: sequence number just past the urgent data, when `rcvUrgent`. */
  rcvUp: number = 0;
  rcvUrgent: boolean = false;
  /**
   * A duplicate segment to report in the first block of the next ACK (D-SACK, RFC 2883 §4), once: its
   * sequence range, or `dsackPending` false.
   */
  dsackPending: boolean = false;
  dsackLeft: number = 0;
  dsackRight: number = 0;
  /** RFC 6675 RecoveryPoint: a SACK-based recovery episode lasts until SND.UNA reaches it. */
  recoveryPoint: number | undefined = undefined;
  /** Bytes retransmitted in the current episode and not yet shown spurious by a D-SACK (RFC 3708). */
  undoRetransmitted: number = 0;
  /** The episode retransmitted something: an undo needs every one of them D-SACKed. */
  undoPossible: boolean = false;
  /** RACK's reordering window multiplier and its persistence (RFC 8985 §6.2 step 4). */
  reoWndMult: number = 1;
  /** The scoreboard's reordering counts already added to the layer's counters (see countReordering). */
  reorderingRaisedCounted: number = 0;
  reorderingCappedCounted: number = 0;
  reoWndPersist: number = 0;
  dsackRound: number | undefined = undefined;
  /** RFC 6675 §5 DupAcks: ACKs in a row that SACKed new data without moving SND.UNA. */
  sackDupAcks: number = 0;
  /** SND.NXT after the outstanding tail loss probe, if one is (RFC 8985 §7: TLPRxtOut). */
  tlpEndSeq: number | undefined = undefined;
  /** The outstanding probe was a retransmission (so a D-SACK for it may show no loss happened). */
  tlpRetransmitted: boolean = false;
  /** Receiver: a CE mark arrived and the sender's CWR has not: every ACK carries ECE (§6.1.3). */
  ecnEcho: boolean = false;
  /** Sender: the window was reduced; the next new data segment carries CWR (§6.1.2). */
  cwrPending: boolean = false;
  /** Sender: SND.MAX at the last reduction; ECE reduces nothing more until SND.UNA passes it (§6.1.2). */
  ecnReducedUntil: number | undefined = undefined;
  /** Sender: congestion control is in a reduction ECE alone caused (no loss): it ends at `ecnReducedUntil`. */
  ecnCwr: boolean = false;
  /**
   * Our TSval on the latest retransmission, if any. An echo older than it answers a transmission made
   * before that retransmission (the peer echoes the original's TSval when only our ACK was lost): the
   * time since then is no RTT, so such echoes give no sample (Karn's ambiguity, RFC 7323 §4.1).
   */
  tsRetransmitted: number | undefined = undefined;
  /** Sequence number of a FIN that arrived ahead of a gap, if any. */
  pendingFinSeq: number | undefined = undefined;
  /** The SYN (or SYN-ACK) was retransmitted: no RTT sample from the handshake, RTO reset to 3 s. */
  synRetransmitted: boolean = false;
  /** Consecutive duplicate ACKs. */
  dupAcks: number = 0;
  /** Retransmission timeouts since SND.UNA last advanced (R1/R2 bookkeeping, §3.8.3). */
  retransmitCount: number = 0;
  r1Reported: boolean = false;
  /** Persist timer backoff exponent. */
  persistBackoff: number = 0;
  /** When the last zero-window probe was sent. */
  lastProbeTime: number = 0;
  /** Zero-window probes sent since the peer last acknowledged anything (persist abort, like R2). */
  unansweredProbes: number = 0;
  /** When an ACK last answered an invalid segment (RFC 5961 §7 rate limit, see answerInvalidSegment). */
  lastInvalidAnswerTime: number = Number.NEGATIVE_INFINITY;
  keepaliveProbesSent: number = 0;
  nagle: boolean;
  keepAlive: boolean;
  keepAliveIdleMs: number;
  /** The application released the connection: it will neither read nor write again. */
  orphaned: boolean = false;
  /** The last ICMP soft error (§3.9.2.2), reported instead of ETIMEDOUT if the connection times out. */
  softError: TcpError | undefined = undefined;
  /** Why the connection ended, when it ended with an error. */
  closeError: TcpError | undefined = undefined;
  /** The last segment IP refused to send, as an error (see `outputFailed`). */
  lastOutputError: TcpError | undefined = undefined;
  /**
   * Without SACK, each duplicate ACK says a segment above the hole has left the network: one MSS each,
   * as Linux counts them (its "reno SACKs"), so pipe falls while a window's worth of duplicates arrive
   * and the sender keeps sending during recovery. A cumulative ACK takes back what it covers.
   */
  dupAckedBytes: number = 0;

  /** Tcb.mtuProbe, once made. */
  mtuProbe: MtuProbeState | undefined = undefined;
  /** Tcb.id, made when first asked for (by tracing). */
  id: ConnectionId | undefined = undefined;

  constructor(config: TcpConfig) {
    this.nagle = config.nagle;
    this.keepAlive = config.keepAlive;
    this.keepAliveIdleMs = config.keepAliveIdleMs;
  }
}

/**
 * What moving data sets: the byte counts, RTT and delivery-rate figures, pacing and congestion window
 * validation, and the records made with the first data (scoreboard, congestion control, autotuner).
 */
export class TcbTransferState {
  /**
   * One record per segment in flight (see scoreboard.ts), created with the first segment that needs one
   * (data sent, or an ACK that reports something): an idle connection never has one, as most of the
   * connections a server holds never send (Linux keeps its retransmission queue in the socket and grows
   * it only as data goes out).
   */
  board: Scoreboard | undefined = undefined;
  /** See `receiveTuner`. */
  tuner: ReceiveAutotuner | undefined = undefined;
  /** Congestion control, once made (see `cc`). */
  ccInstance: CongestionControl | undefined = undefined;
  /** The delivery-rate sample and the ACK event handed to congestion control (see Tcb.rateSample, ackEvent). */
  rateRecord: RateSample | undefined = undefined;
  ackRecord: AckEvent | undefined = undefined;
  /** The record `Tcb.timing` points to while a data segment is timed, refilled each time. */
  timingRecord: RttTiming | undefined = undefined;
  /** The last valid delivery-rate sample, bytes per ms (tcpInfo's delivery_rate), and whether it was app-limited. */
  deliveryRate: number = 0;
  deliveryRateAppLimited: boolean = false;
  /** SND.NXT after the last segment shorter than the MSS (Nagle, Minshall's variant). */
  shortSegmentEnd: number;
  /** When data was last sent (RFC 5681 §4.1 idle restart). */
  lastSendTime: number = 0;
  /** `send()` accepted less than it was given: tell the application when room frees up. */
  writeBlocked: boolean = false;
  /**
   * RFC 7661: the sender used at least half of cwnd (it was not limited by the application or the
   * peer's window) since `cwndLimitedUntil` was sent; reported to congestion control with each ACK.
   */
  cwndLimited: boolean = false;
  /** SND.MAX when `cwndLimited` was last set: the flag lasts until the ACK passes it. */
  cwndLimitedUntil: number = 0;
  /** Pacing: the earliest departure time of the next segment (ms). */
  pacingNext: number = 0;
  /**
   * Pacing held data back (its timer set for `pacingNext`), as opposed to the windows or the application
   * having nothing to send: a departure after `pacingNext` then comes from a late timer, and the schedule
   * is kept (see PACING_MAX_LAG_MS).
   */
  pacingHeld: boolean = false;
  /** Bytes the application handed to SEND (accepted into the buffer). */
  bytesWritten: number = 0;
  /** Bytes the application took with RECEIVE. */
  bytesRead: number = 0;
  bytesSent: number = 0;
  bytesRetransmitted: number = 0;
  bytesAcked: number = 0;
  bytesReceived: number = 0;
  retransmissions: number = 0;

  constructor(iss: number) {
    this.shortSegmentEnd = iss;
  }
}
