/**
 * The Transmission Control Block (RFC 9293 §3.3.1): every variable of one connection, and the small set
 * of effects the protocol code may cause (send a segment, change state, report an event, end the
 * connection). The protocol logic itself lives in modules named after RFC 9293 §3.10's event kinds:
 * user-calls in connection.ts, segment-arrives.ts, output.ts (segmentation and retransmission) and
 * timeouts.ts.
 *
 * Internal to src/tcp: applications use TcpConnection.
 */
import type { Clock } from '../time/clock.js';
import type { ConnectionId, Endpoint, TcpStateName, Tracer } from '../trace/events.js';
import {
  type SackBlock,
  TCP_ACK,
  TCP_ECE,
  TCP_RST,
  TCP_SYN,
  type TcpOptions,
  type TcpSegment,
  type TcpTimestamp,
} from '../wire/tcp.js';
import type { ChallengeAckBudget } from './ack-rate-limits.js';
import { ReceiveAutotuner, sendBufferFor } from './buffer-autotuning.js';
import {
  DEFAULT_IPV4_MSS,
  DEFAULT_IPV6_MSS,
  IPV4_TCP_HEADERS,
  IPV6_TCP_HEADERS,
  receiveBufferCeiling,
  type TcpConfig,
} from './config.js';
import type {
  AckEvent,
  CongestionControl,
  CongestionControlFactory,
  RateSample,
} from './congestion/congestion-control.js';
import { congestionControlFactory } from './congestion/registry.js';
import type { TcpCounters } from './counters.js';
import { TcpError, type TcpErrorCode } from './errors.js';
import type { TcpMemoryAccount } from './memory.js';
import { type MtuProbeState, mtuProbeMssCap, newMtuProbeState } from './mtu-probing.js';
import { ReceiveBuffer } from './receive-buffer.js';
import { RttEstimator } from './rtt-estimator.js';
import { DUP_THRESH, Scoreboard, scoreboardCounters } from './scoreboard.js';
import { SendBuffer } from './send-buffer.js';
import { seqAdd, seqDiff } from './seq.js';
import { type RttTiming, TcbRareState, TcbTransferState } from './tcb-state.js';
import { ConnectionTimers } from './timers.js';

/** What a connection reports to its owner; TcpConnection turns these into its events. */
export type ConnectionEvent =
  | { type: 'state'; from: TcpStateName; to: TcpStateName }
  | { type: 'connected' }
  | { type: 'readable' }
  | { type: 'end' }
  | { type: 'drain' }
  | { type: 'retransmission-warning'; retransmissions: number }
  | { type: 'urgent'; pending: number }
  | { type: 'soft-error'; error: TcpError }
  | { type: 'error'; error: TcpError }
  | { type: 'closed' };

/** The events without data, shared: reporting one allocates nothing. */
export const CONNECTED_EVENT: ConnectionEvent = Object.freeze({ type: 'connected' });
export const READABLE_EVENT: ConnectionEvent = Object.freeze({ type: 'readable' });
export const END_EVENT: ConnectionEvent = Object.freeze({ type: 'end' });
export const DRAIN_EVENT: ConnectionEvent = Object.freeze({ type: 'drain' });
export const CLOSED_EVENT: ConnectionEvent = Object.freeze({ type: 'closed' });

/** What the connection needs from its surroundings. */
export interface TcbEnvironment {
  /**
   * Hands a segment to IP. The segment object and its payload view are valid only during this call (the
   * connection refills the same object for its next segment): serialize them, or copy what you keep.
   * `segmentSize`, when given, says the payload exceeds one MSS and is to be cut into segments of that
   * many bytes on the way (TSO). `ecn`, when given, is the ECN field for the IP header (RFC 3168 §5:
   * 2 for ECT(0)); otherwise 0, Not-ECT. Returns IP's verdict when it has one: anything but 'ok' means the segment
   * did not leave.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: an environment that returns nothing stays valid
  transmit(segment: TcpSegment, segmentSize?: number, ecn?: number): string | undefined | void;
  /** Queues an event for delivery once the current call has finished. */
  event(event: ConnectionEvent): void;
  readonly counters: TcpCounters;
  readonly tracer: Tracer;
  /** Host name used in trace events. */
  readonly host: string;
  /** A controller factory that overrides `config.congestionControl` (tests, custom algorithms). */
  readonly congestionControl?: CongestionControlFactory | undefined;
  /** The stack-wide challenge ACK budget (RFC 5961 §7); none for a connection outside a layer. */
  readonly challengeAckBudget?: ChallengeAckBudget;
  /**
   * The application released the connection before it closed (an orphan): the owner says whether one
   * more orphan fits its limit (Linux tcp_max_orphans) and, if so, counts it. Absent: no limit.
   */
  readonly admitOrphan?: () => boolean;
  /**
   * Whether an orphan whose timer backed off `backoffs` times should be reset: orphans x 2^backoffs over
   * the owner's limit (Linux tcp_out_of_resources).
   */
  readonly tooManyOrphans?: (backoffs: number) => boolean;
  /**
   * The stack's TCP memory (Linux's tcp_mem; tcp/memory.ts): the connection reports what its buffers hold,
   * and under pressure autotuning grows nothing and the receive window is clamped; at its maximum no more
   * data is taken in. None: unlimited.
   */
  readonly memory?: TcpMemoryAccount;
  /**
   * Random numbers in [0, 1) handed to the congestion controller (CongestionControlContext.random); one
   * function for the whole layer. Absent: the controller uses Math.random.
   */
  readonly random?: () => number;
  /**
   * The owner's clock: the time of a user call (send, receive ...) made without one. Absent: such a call
   * takes the time of the last input.
   */
  readonly clock?: Clock;
  /**
   * A timer the connection sets for now runs once the segments that arrived in the same instant have been
   * processed (the owner's clock says so: Clock.zeroDelayInSameInstant), so an ACK may wait for the end
   * of a burst (TcpConfig.ackPerBurst). Absent: false.
   */
  readonly timersAfterBurst?: boolean;
  /**
   * On a real clock: a timer the connection sets for now runs once the code that is running has
   * returned to the event loop (the owner runs it from a microtask: TcpLayer.armClock), so after the
   * rest of a batch of segments a device handed over at once, with no time waited. Absent: false.
   */
  readonly timersAfterBatch?: boolean;
}

const OUTPUT_FAILURES: Partial<Record<TcpErrorCode, string>> = {
  ENETUNREACH: 'no route to the remote address',
  EADDRNOTAVAIL: 'the local address is no longer assigned to this host',
  EMSGSIZE: 'segment too large for IP',
};

const EMPTY_OPTIONS: TcpOptions = Object.freeze({}) as TcpOptions;

/**
 * The options of a segment being sent with a timestamp or SACK blocks: one set of objects for the whole
 * process, refilled for each such segment (every segment, once timestamps are on), so sending allocates no
 * option objects. Like the segment record (`outgoingSegment`), they are valid only until the environment's
 * `transmit` returns: IP serializes them at once, and an environment that keeps a segment copies it.
 */
const outgoingOptions: TcpOptions = {
  mss: undefined,
  windowScale: undefined,
  sackPermitted: undefined,
  sack: undefined,
  timestamp: undefined,
};
const outgoingTimestamp = { value: 0, echo: 0 };
const outgoingSackBlocks = [
  { left: 0, right: 0 },
  { left: 0, right: 0 },
  { left: 0, right: 0 },
  { left: 0, right: 0 },
];
/** One array per block count (1-4), so a list never changes length while it is being read. */
const outgoingSackLists: SackBlock[][] = [[], [], [], [], []];
/** Scratch for SACK block offsets (pairs), filled and read within `sackBlocks`. */
const sackScratch: number[] = [];
const EMPTY_PAYLOAD = new Uint8Array(0);
/**
 * Scoreboards of connections that are done, for the next connections to take (reset) instead of making
 * new ones: process-wide, as the stack runs on one thread, and at most SPARE_SCOREBOARDS_KEPT (what
 * happens to them is counted in `scoreboardCounters`).
 */
const SPARE_SCOREBOARDS: Scoreboard[] = [];
const SPARE_SCOREBOARDS_KEPT = 16;

/**
 * The segment `Tcb.transmit` fills and hands over, one for the whole process like the options above (a
 * record per connection cost each idle connection 160 bytes). A transmit made while the environment
 * still holds it (one that answers synchronously, from inside its `transmit`) fills a fresh one instead.
 */
const outgoingSegment: TcpSegment = newOutgoingSegment();
let outgoingInUse = false;

function newOutgoingSegment(): TcpSegment {
  return {
    srcPort: 0,
    dstPort: 0,
    seq: 0,
    ack: 0,
    flags: 0,
    window: 0,
    urgentPointer: 0,
    options: EMPTY_OPTIONS,
    payload: EMPTY_PAYLOAD,
  };
}

/**
 * Only what every connection sets by the end of its handshake is a field of the Tcb itself; the rest
 * (recovery and retransmission state, urgent data, ECN marks, errors, statistics, pacing ...) lives in
 * records made on first use (tcb-state.ts), behind accessors of the same names at the end of the class.
 */
export class Tcb {
  readonly env: TcbEnvironment;
  readonly config: TcpConfig;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  /** True for connections spawned from a listener (a passive OPEN): RST in SYN-RECEIVED returns to LISTEN. */
  readonly passive: boolean;

  state: TcpStateName = 'CLOSED';
  /**
   * Time of the input being processed (ms); never decreases. Each input (TcpConnection's `handleSegment`,
   * `onTimer` and user calls) stores it here once, and the engine behind it (segment arrives, output,
   * timeouts, loss recovery, PLPMTUD) reads it here rather than being handed it from call to call: a
   * fractional time passed to a call V8 does not inline is boxed into a new heap number, so a time that
   * travels by argument can cost an allocation per call once it is kept as a double.
   * The scoreboard, the receive autotuner and the timers read it here too (CurrentTime).
   * Started as a small integer: on a clock that only ever reads whole milliseconds (a zero-delay path)
   * it stays one, and its value passes to any call as it is; the first fractional time makes it a double
   * field, which V8 then writes in place, so a fractional time stored here costs no heap number either.
   * (Started as a double, the zero-delay bench row went from 0.015 to 0.060 objects per segment: its
   * whole-millisecond times boxed where the field was read outside optimised code.)
   */
  now = 0;

  // Send sequence space (§3.3.1, figure 3). SND.NXT may be pulled back to SND.UNA after a timeout
  // (go-back-N); `sndMax` is the highest sequence number ever sent, the RFC's SND.NXT for acceptability.
  iss = 0;
  sndUna = 0;
  sndNxt = 0;
  sndMax = 0;
  /** Send window in bytes (already scaled). */
  sndWnd = 0;
  sndWl1 = 0;
  sndWl2 = 0;
  /** Largest window the peer ever offered (sender SWS avoidance, RFC 5961 §5.2 ACK check). */
  maxSndWnd = 0;

  // Receive sequence space (§3.3.1, figure 4).
  irs = 0;
  rcvNxt = 0;
  /** Window scale shift we offer on our SYN or SYN-ACK (RFC 7323 §2.2); undefined when not offered. */
  offeredWindowScale: number | undefined;
  /** Shift applied to windows the peer advertises (its Window Scale option), 0 unless negotiated. */
  sndWindowScale = 0;
  /** Shift applied to windows we advertise (the value we offered), 0 unless negotiated. */
  rcvWindowScale = 0;
  /** Window announced on our SYN (SYN-SENT): the right edge once the peer's ISN is known. */
  initialReceiveWindow = 0;
  /** Right edge of the last window advertised (RCV.NXT + RCV.WND at that time); never moves left (SHLD-14). */
  rcvAdvRight = 0;

  // Selective acknowledgment (RFC 2018, RFC 2883).
  /** Both SYNs carried SACK-permitted: we report out-of-order data in SACK blocks, and read the peer's. */
  sackEnabled = false;

  /**
   * Smallest RTT measured (ms), Infinity before any: RACK's min_RTT, tcpInfo's min_rtt. The handshake
   * sets it, so it stays here rather than with the transfer state. Set in the constructor, tagged as
   * `now` is (see there): it changes rarely and is passed to the scoreboard with every ACK.
   */
  minRttMs: number;

  // Explicit Congestion Notification (RFC 3168 §6.1; see ecn.ts).
  /** Both SYNs agreed to ECN: new data leaves as ECT(0), ECE and CWR mean what §6.1 says. */
  ecnEnabled = false;

  // Timestamps (RFC 7323 §3-5).
  /** Both SYNs carried the Timestamps option: every segment but a RST carries one from now on (§3.2). */
  tsEnabled = false;
  /**
   * Added to the clock (ms) to make our TSval: a per-connection offset, so the values reveal nothing about
   * the host's clock and other connections (RFC 7323 §7.1 and Appendix A; Linux's per-address-pair offset).
   */
  readonly tsOffset: number;
  /** TS.Recent: the peer's timestamp we echo (§4.3), updated only from in-order segments. */
  tsRecent = 0;
  /**
   * When TS.Recent was last set: PAWS stops trusting a value older than 24 days (§5.5). A time, so a
   * double field from the start, like the two below (see `startTimesAsDoubles`).
   */
  tsRecentAt = Number.NaN;
  /** Last.ACK.sent: the acknowledgment field of the last segment we sent (§4.3). */
  lastAckSent = 0;

  readonly sendBuffer: SendBuffer;
  readonly receiveBuffer: ReceiveBuffer;

  /** CLOSE was called: a FIN follows the last byte of the send buffer. */
  finQueued = false;
  /** The FIN has been sent at least once. Its sequence number is then sendBuffer.endSeq. */
  finSent = false;
  /** The FIN has been acknowledged. */
  finAcked = false;
  /** The peer's FIN was received in order (no more data will come). */
  remoteFinReceived = false;

  /** MSS the peer announced (or `defaultPeerMss` when it did not, MUST-15). */
  peerMss = 536;
  /**
   * IP and TCP fixed headers: 40 over IPv4, 60 over IPv6 (MSS = MTU - 60, RFC 8200 §8.3). The MSS we
   * announce and the effective MSS are the MTU minus these (MUST-16, MUST-67).
   */
  readonly headersLength: number;
  /**
   * The MSS assumed when the peer's SYN carries none: 536 over IPv4 (MUST-15), 1220 over IPv6 (RFC 8200
   * §8.3). Told by the headers' length, read at the handshake only: no field of its own.
   */
  get defaultPeerMss(): number {
    return this.headersLength === IPV6_TCP_HEADERS ? DEFAULT_IPV6_MSS : DEFAULT_IPV4_MSS;
  }
  /** Path MTU towards the peer (from IP, lowered by ICMP fragmentation-needed). */
  pathMtu: number;
  /** Effective send MSS (MUST-16): the most payload one segment on the wire carries. */
  effMss = 536;
  /**
   * Bytes of TCP options every data segment carries (e.g. 12 for timestamps, RFC 7323 §3): MUST-16's
   * TCPhdrsize counts them, so they come off the effective MSS. Set it before `updateEffectiveMss`.
   */
  dataOptionsLength = 0;
  /**
   * Largest IP datagram one segment may be handed to IP in when IP cuts it into MSS-sized segments on
   * the way (TCP segmentation offload, TcpIpBinding.tsoSizeFor); 0 when it does not.
   */
  readonly tsoSize: number;
  /** Most payload bytes in one segment handed to IP: the MSS, or a multiple of it with TSO. */
  maxSegmentPayload = 536;
  /** The MSS we announce: our MTU minus 40 (MUST-67). */
  advertisedMss: number;
  /** Estimate of the segment size the peer sends us: "full-sized" for ACK-every-second-segment. */
  rcvMssEstimate: number;

  readonly rtt: RttEstimator;
  /**
   * The handshake completed, so the connection has congestion control (RFC 5681 §3.1): `cc` makes it at
   * its first use. An established connection that sends nothing never needs one, and a server holds many
   * such: made on demand, they cost nothing (several hundred bytes each otherwise).
   */
  ccReady = false;
  readonly timers = new ConnectionTimers(this);
  timing: RttTiming | undefined;
  /** When the oldest unacknowledged segment was first sent or SND.UNA last advanced: R2 counts from here. */
  stallSince = Number.NaN;

  /** An ACK must go out now (out-of-order data, gap filled, FIN, unacceptable segment, ...). */
  ackNow = false;
  /** In-order bytes received since we last sent an ACK. */
  bytesSinceAck = 0;
  /**
   * When the last acceptable segment was received: keepalive idleness, and the peer's silence that ends
   * a zero-window persist (in a synchronized state every segment that counts carries an ACK, so no field
   * of its own for the last ACK: a double field is 24 B per connection).
   */
  lastReceiveTime = Number.NaN;

  // Per-connection statistics (STATUS, §3.10.6).
  segmentsSent = 0;
  segmentsReceived = 0;

  constructor(
    env: TcbEnvironment,
    config: TcpConfig,
    local: Endpoint,
    remote: Endpoint,
    passive: boolean,
    pathMtu: number,
    tsoSize = pathMtu,
    tsOffset = 0,
    interfaceMtu = pathMtu,
  ) {
    this.now = 0;
    this.minRttMs = Number.POSITIVE_INFINITY;
    this.startTimesAsDoubles();
    this.env = env;
    this.config = config;
    this.local = local;
    this.remote = remote;
    this.passive = passive;
    this.pathMtu = pathMtu;
    this.tsOffset = tsOffset | 0;
    // Offered only when IP takes more than the path MTU; 0 otherwise (a later, lower path MTU from ICMP
    // must not turn the old MTU into an offer).
    this.tsoSize = tsoSize > pathMtu ? Math.min(tsoSize, 65535) : 0;
    const ipv6 = typeof local.address === 'bigint';
    this.headersLength = ipv6 ? IPV6_TCP_HEADERS : IPV4_TCP_HEADERS;
    this.peerMss = this.defaultPeerMss;
    this.advertisedMss = Math.max(1, Math.min(interfaceMtu - this.headersLength, 65535));
    this.rcvMssEstimate = Math.min(this.advertisedMss, 536);
    this.sendBuffer = new SendBuffer(config.sendBufferSize, 0);
    this.receiveBuffer = new ReceiveBuffer(config.receiveBufferSize, config.maxOutOfOrderRanges);
    this.rtt = new RttEstimator(config);
    this.offeredWindowScale = config.windowScaling ? windowScaleFor(receiveBufferCeiling(config)) : undefined;
  }

  /**
   * The times stored from `now` start at 0, but in double fields: the fields are declared with NaN, which
   * only a double field holds, and set to 0 here. Declared as 0 they were small-integer fields, and the
   * first time stored as a heap number (any fractional time, or a whole one that optimised code boxed)
   * gave every Tcb a new hidden class: code optimised for the old one deoptimised at once (35 functions
   * when the second connection since start-up began). `now` stays a small integer on purpose (see there).
   */
  private startTimesAsDoubles(): void {
    this.tsRecentAt = 0;
    this.stallSince = 0;
    this.lastReceiveTime = 0;
  }

  /**
   * The connection's congestion control: undefined before the handshake completes, then made on first
   * use, starting from that moment (an algorithm that was never called has seen nothing happen since the
   * handshake, so it starts from the same state; an idle restart would reset it anyway, RFC 5681 §4.1).
   */
  get cc(): CongestionControl | undefined {
    return this.ccInstance ?? (this.ccReady ? this.makeCongestionControl() : undefined);
  }

  /** The congestion control if one was made so far (reads that must not make one). */
  get existingCc(): CongestionControl | undefined {
    return this.ccInstance;
  }

  private makeCongestionControl(): CongestionControl {
    const env = this.env;
    const config = this.config;
    const factory = env.congestionControl ?? congestionControlFactory(config.congestionControl);
    const cc = factory(this.effMss, config.initialWindowSegments, {
      sack: this.sackPermitted,
      paced: config.pacing,
      random: env.random,
      now: this.now,
    });
    this.ccInstance = cc;
    return cc;
  }

  /**
   * Receive buffer autotuning, when on (config.receiveBufferAutotuning): made when data first arrives
   * (it hears only of data and reads), so a connection that receives nothing holds none.
   */
  get receiveTuner(): ReceiveAutotuner | undefined {
    // Read twice per data segment received: kept small enough for V8 to inline, the making apart.
    return this.tuner ?? this.makeReceiveTuner();
  }

  private makeReceiveTuner(): ReceiveAutotuner | undefined {
    const config = this.config;
    if (config.receiveBufferAutotuning && config.receiveBufferMax > config.receiveBufferSize) {
      // Linux starts rcvq_space at the initial window it can take: ten segments.
      this.tuner = new ReceiveAutotuner(10 * this.advertisedMss, this);
    }
    return this.tuner;
  }

  /** The delivery-rate sample handed to congestion control with `ackEvent`: made with the first, then reused. */
  get rateSample(): RateSample {
    this.rateRecord ??= {
      delivered: 0,
      intervalMs: 0,
      isAppLimited: false,
      priorInFlight: 0,
      lost: 0,
      rttMs: -1,
      priorDelivered: 0,
    };
    return this.rateRecord;
  }

  /**
   * The ACK event handed to congestion control: made for the first ACK of data, then refilled for every
   * ACK (a connection that sends nothing never needs one).
   */
  get ackEvent(): AckEvent {
    this.ackRecord ??= {
      bytesAcked: 0,
      flightSizeBefore: 0,
      delivered: 0,
      pipe: 0,
      ack: 0,
      sndMax: 0,
      sentTotal: 0,
      cwndLimited: true,
      abcLimit: 0,
      rttMs: -1,
      ece: false,
      rate: undefined,
      now: 0,
    };
    return this.ackRecord;
  }

  /** Bytes sent and not yet acknowledged (SYN and FIN included). */
  get flightSize(): number {
    return seqDiff(this.sndNxt, this.sndUna);
  }

  /**
   * Bytes in flight as the output path and congestion control count them: RFC 6675's pipe (outstanding
   * bytes less those SACKed or judged lost, plus lost ones retransmitted) when SACK recovery runs (SACK
   * and RACK); otherwise RFC 5681's FlightSize less what duplicate ACKs said has left (below).
   */
  get pipe(): number {
    if (!this.sackPermitted) return this.flightSize - this.dupAckedBytes;
    const outstanding = seqDiff(this.sndMax, this.sndUna);
    // No scoreboard yet: nothing was SACKed or judged lost, so pipe is what is outstanding.
    return this.board === undefined ? Math.max(0, outstanding) : this.board.pipe(outstanding);
  }

  /** The scoreboard, created (with this connection's segment size and reordering cap) on first use. */
  get scoreboard(): Scoreboard {
    return this.board ?? this.createScoreboard();
  }

  /** The scoreboard if one was needed so far (reads that must not create one: tcpInfo, teardown). */
  get existingScoreboard(): Scoreboard | undefined {
    return this.board;
  }

  private createScoreboard(): Scoreboard {
    const spare = SPARE_SCOREBOARDS.pop();
    let board: Scoreboard;
    if (spare !== undefined) {
      spare.reset(this, this.effMss, this.config.maxReordering);
      scoreboardCounters.scoreboardsReused++;
      board = spare;
    } else {
      board = new Scoreboard(this, this.effMss, this.config.maxReordering);
    }
    this.board = board;
    return board;
  }

  /**
   * The connection is done sending (closed, or handed to a TIME-WAIT record): a scoreboard that ended
   * empty and saw no reordering (so STATUS reads the same without it) is kept for the next connection
   * that needs one (SPARE_SCOREBOARDS). Short connections each send a FIN at least, so each used to
   * make one.
   */
  releaseScoreboard(): void {
    const board = this.board;
    if (
      board === undefined ||
      !board.isEmpty ||
      board.reorderEvents !== 0 ||
      board.reordering !== DUP_THRESH ||
      board.reorderingRaised !== 0 ||
      board.reorderingCapped !== 0
    )
      return;
    this.board = undefined;
    if (SPARE_SCOREBOARDS.length < SPARE_SCOREBOARDS_KEPT) {
      board.forgetTime();
      SPARE_SCOREBOARDS.push(board);
      scoreboardCounters.scoreboardsKept++;
    } else {
      scoreboardCounters.scoreboardsDropped++;
    }
  }

  /**
   * SACK was negotiated, so loss recovery is the scoreboard's (RFC 6675 pipe and NextSeg, with RACK-TLP
   * or RFC 6675's IsLost marking) and `pipe` is RFC 6675's; otherwise recovery is NewReno's (RFC 6582).
   */
  get sackPermitted(): boolean {
    return this.sackEnabled;
  }

  /** Receive window still open from the last advertisement (RCV.WND). */
  /**
   * After the application read: once per receiver RTT the receive buffer may grow to what the path's
   * measured bandwidth-delay product calls for (tcp/buffer-autotuning.ts), unless the stack is under
   * memory pressure.
   */
  autotuneReceiveBuffer(): void {
    const tuner = this.receiveTuner;
    if (tuner === undefined) return;
    const size = tuner.onRead(this.bytesRead, this.advertisedMss, this.config.receiveBufferMax);
    if (size > this.receiveBuffer.capacity && this.env.memory?.underPressure !== true) {
      this.receiveBuffer.growCapacity(size);
      this.env.counters.receiveBufferGrowths++;
    }
  }

  /** After an ACK: the send buffer holds twice the congestion window, up to sendBufferMax. */
  autotuneSendBuffer(): void {
    const config = this.config;
    // Before congestion control is made nothing was sent: the buffer grows from the first ACK of data.
    const cc = this.ccInstance;
    if (!config.sendBufferAutotuning || cc === undefined) return;
    const size = sendBufferFor(cc.cwnd, this.sendBuffer.capacity, config.sendBufferMax);
    if (size > 0 && this.env.memory?.underPressure !== true) {
      this.sendBuffer.growCapacity(size);
      this.env.counters.sendBufferGrowths++;
    }
  }

  get rcvWnd(): number {
    return Math.max(0, seqDiff(this.rcvAdvRight, this.rcvNxt));
  }

  /** Sequence number the FIN occupies (meaningful once `finQueued`). */
  get finSeq(): number {
    return this.sendBuffer.endSeq;
  }

  /** The peer's FIN is still to be sent (first time, or again after SND.NXT was pulled back). */
  get finPending(): boolean {
    return this.finQueued && seqDiff(this.sndNxt, this.finSeq) <= 0;
  }

  /** States in which the connection is synchronized (§3.3.2). */
  get synchronized(): boolean {
    return this.state !== 'CLOSED' && this.state !== 'LISTEN' && this.state !== 'SYN-SENT';
  }

  setState(to: TcpStateName): void {
    const from = this.state;
    if (from === to) return;
    this.state = to;
    const tracer = this.env.tracer;
    if (tracer.enabled) {
      tracer.emit({ kind: 'tcp.state', time: this.now, host: this.env.host, conn: this.id, from, to });
    }
    this.env.event({ type: 'state', from, to });
  }

  /** Counts and traces a dropped segment. */
  drop(reason: string): void {
    this.env.counters.segmentsDropped++;
    const tracer = this.env.tracer;
    if (tracer.enabled)
      tracer.emit({ kind: 'drop', time: this.now, host: this.env.host, layer: 'tcp', reason });
  }

  note(text: string): void {
    const tracer = this.env.tracer;
    if (tracer.enabled) tracer.emit({ kind: 'note', time: this.now, host: this.env.host, text });
  }

  traceMetrics(): void {
    const tracer = this.env.tracer;
    if (!tracer.enabled) return;
    tracer.emit({
      kind: 'tcp.metrics',
      time: this.now,
      host: this.env.host,
      conn: this.id,
      cwnd: this.cc?.cwnd ?? 0,
      ssthresh: Math.min(this.cc?.ssthresh ?? 0, 0x7fffffff),
      srtt: this.rtt.srtt,
      rttvar: this.rtt.rttvar,
      rto: this.rtt.rto,
      sendWindow: this.sndWnd,
      receiveWindow: this.rcvWnd,
      bytesInFlight: this.flightSize,
    });
  }

  /**
   * Sends a segment built from the arguments; the window field is filled by the caller. A segment with
   * ACK acknowledges RCV.NXT, as every segment TCP sends does (§3.10.7.4). It is read here rather than
   * passed (one argument fewer per segment).
   */
  transmit(
    flags: number,
    seq: number,
    window: number,
    payload: Uint8Array = EMPTY_PAYLOAD,
    options: TcpOptions = EMPTY_OPTIONS,
    urgentPointer = 0,
    segmentSize = 0,
    ecn = 0,
  ): void {
    // A segment cut by TSO leaves as several: count them all, as Linux's OutSegs does.
    const pieces = segmentSize > 0 ? Math.ceil(payload.length / segmentSize) : 1;
    this.segmentsSent += pieces;
    this.env.counters.segmentsOut += pieces;
    if (flags & TCP_RST) this.env.counters.resetsSent++;
    // One segment object, refilled for every segment: the environment must consume it (serialize it, or
    // copy what it keeps) before it returns, as it must the payload view.
    const shared = !outgoingInUse;
    const segment = shared ? outgoingSegment : newOutgoingSegment();
    const ack = flags & TCP_ACK ? this.rcvNxt : 0;
    segment.srcPort = this.local.port;
    segment.dstPort = this.remote.port;
    segment.seq = seq | 0;
    segment.ack = ack;
    segment.flags = flags;
    segment.window = window;
    segment.urgentPointer = urgentPointer;
    if (flags & TCP_ACK) {
      this.lastAckSent = ack;
      // RFC 3168 §6.1.3: ECE on every ACK until the sender's CWR arrives (SYN-ACKs set it themselves).
      if (this.ecnEcho && (flags & (TCP_SYN | TCP_RST)) === 0) segment.flags = flags | TCP_ECE;
    }
    if ((flags & (TCP_RST | TCP_SYN)) === 0 && options.timestamp === undefined) {
      // RFC 7323 §3.2: once negotiated, the TSopt is sent on every segment except a RST.
      const timestamp = this.tsEnabled ? this.timestampOption() : undefined;
      // RFC 2018 §4: every ACK while out-of-order data is held carries SACK blocks.
      const sack = this.sackEnabled && flags & TCP_ACK ? this.sackBlocks() : undefined;
      if (timestamp !== undefined || sack !== undefined) {
        const extended = outgoingOptions;
        extended.mss = options.mss;
        extended.windowScale = options.windowScale;
        extended.sackPermitted = options.sackPermitted;
        extended.timestamp = timestamp;
        extended.sack = sack ?? options.sack;
        options = extended;
      }
    }
    segment.options = options;
    segment.payload = payload;
    let status: ReturnType<TcbEnvironment['transmit']>;
    if (shared) outgoingInUse = true;
    try {
      status =
        ecn !== 0
          ? this.env.transmit(segment, segmentSize > 0 ? segmentSize : undefined, ecn)
          : segmentSize > 0
            ? this.env.transmit(segment, segmentSize)
            : this.env.transmit(segment);
    } finally {
      if (shared) outgoingInUse = false;
      segment.payload = EMPTY_PAYLOAD;
    }
    if (status !== undefined && status !== 'ok') this.outputFailed(status);
  }

  /**
   * IP could not send a segment (no route any more, our address gone ...). The segment counts as lost:
   * whatever the retransmission or persist timer covers is sent again when it fires, by which time the
   * route may be back. The failure is counted, traced, and remembered as a soft error, so a connection
   * that finally times out reports why (as Linux reports EHOSTUNREACH or ENETUNREACH then). An active
   * OPEN whose very first SYN has no route fails at once (see TcpConnection.connect).
   */
  private outputFailed(status: string): void {
    this.env.counters.outputErrors++;
    const code: TcpErrorCode =
      status === 'ENETUNREACH' || status === 'EADDRNOTAVAIL' || status === 'EMSGSIZE' ? status : 'EINVAL';
    this.lastOutputError = new TcpError(code, OUTPUT_FAILURES[code] ?? 'IP refused the segment');
    this.softError = this.lastOutputError;
    this.note(`IP could not send a segment: ${status}`);
  }

  /**
   * Completes window scale negotiation (RFC 7323 §2.2): both sides must have sent the option on their SYN.
   * A shift above 14 is treated as 14 (§2.3).
   */
  negotiateWindowScale(peerShift: number | undefined): void {
    if (this.offeredWindowScale !== undefined && peerShift !== undefined && peerShift >= 0) {
      this.sndWindowScale = Math.min(peerShift, 14);
      this.rcvWindowScale = this.offeredWindowScale;
    } else {
      this.sndWindowScale = 0;
      this.rcvWindowScale = 0;
      this.offeredWindowScale = undefined;
    }
  }

  /** Most SACK blocks one segment carries: 4, or 3 beside timestamps (RFC 2018 §3). */
  get maxSackBlocks(): number {
    return this.tsEnabled ? 3 : 4;
  }

  /** SACK blocks the next segment will carry (0 when SACK is off or nothing is to be reported). */
  get sackBlockCount(): number {
    if (!this.sackEnabled) return 0;
    const wanted = (this.dsackPending ? 1 : 0) + this.receiveBuffer.outOfOrderRangeCount;
    return Math.min(wanted, this.maxSackBlocks);
  }

  /**
   * Bytes of options the next data segment carries beyond those of every segment: the SACK blocks
   * (2 NOPs, kind, length, 8 per block). A segment's payload shrinks by as much, so it still fits the MSS.
   */
  get sackOptionLength(): number {
    const blocks = this.sackBlockCount;
    return blocks === 0 ? 0 : 4 + 8 * blocks;
  }

  /**
   * The SACK blocks for the segment being sent (RFC 2018 §4), or undefined when there is nothing to
   * report: a pending D-SACK block first (RFC 2883 §4, reported once), then the out-of-order ranges, the
   * most recently grown first (it holds the segment that triggered this ACK; after a D-SACK for data
   * above RCV.NXT, it is the range holding the duplicate, as §4 asks for the second block).
   */
  private sackBlocks(): readonly SackBlock[] | undefined {
    const max = this.maxSackBlocks;
    let count = 0;
    if (this.dsackPending) {
      const block = outgoingSackBlocks[count++]!;
      block.left = this.dsackLeft;
      block.right = this.dsackRight;
      this.dsackPending = false;
    }
    const out = sackScratch;
    const n = this.receiveBuffer.recentOutOfOrderRanges(max - count, out);
    for (let i = 0; i < n; i++) {
      const block = outgoingSackBlocks[count++]!;
      block.left = seqAdd(this.rcvNxt, out[2 * i]!);
      block.right = seqAdd(this.rcvNxt, out[2 * i + 1]!);
    }
    if (count === 0) return undefined;
    const list = outgoingSackLists[count]!;
    for (let i = 0; i < count; i++) list[i] = outgoingSackBlocks[i]!;
    return list;
  }

  /** Remembers a duplicate [left, right) for the D-SACK block of the next ACK (RFC 2883 §4). */
  reportDuplicate(left: number, right: number): void {
    if (!this.sackEnabled || left === right) return;
    this.dsackPending = true;
    // Reported at once: the sender learns promptly that a retransmission was spurious (RFC 3708).
    this.ackNow = true;
    this.dsackLeft = left | 0;
    this.dsackRight = right | 0;
    this.env.counters.dsacksSent++;
  }

  /** SACK is in use when we offer it (the configuration) and the peer's SYN said SACK-permitted. */
  negotiateSack(peerPermitted: boolean | undefined): void {
    this.sackEnabled = this.config.sack && peerPermitted === true;
  }

  /** Our TSval now: the clock in milliseconds plus this connection's offset (RFC 7323 §3, §5.4). */
  tsVal(): number {
    return (Math.floor(this.now) + this.tsOffset) | 0;
  }

  /** The Timestamps option for a segment sent now: our clock, and TS.Recent echoed (§3.2). */
  timestampOption(): TcpTimestamp {
    // Refilled for each segment (see outgoingOptions).
    outgoingTimestamp.value = this.tsVal();
    outgoingTimestamp.echo = this.tsRecent;
    return outgoingTimestamp;
  }

  /**
   * Completes timestamps negotiation (RFC 7323 §3.2): on when we offer them (the configuration) and the
   * peer's SYN carried a TSopt, whose TSval becomes TS.Recent.
   */
  negotiateTimestamps(peer: TcpTimestamp | undefined): void {
    this.tsEnabled = this.config.timestamps && peer !== undefined;
    // RFC 7323 §3.2: the 12 bytes (aligned) ride on every segment; they come off the effective MSS.
    this.dataOptionsLength = this.tsEnabled ? 12 : 0;
    if (this.tsEnabled) {
      this.tsRecent = peer!.value | 0;
      this.tsRecentAt = this.now;
    }
  }

  /** Recomputes the effective send MSS (MUST-16) from the peer's MSS and the path MTU. */
  updateEffectiveMss(minimum: number): void {
    // min(SendMSS + 20, MMS_S) - TCP header - IP options, with MMS_S = MTU - 20 and the TCP header 20
    // bytes plus the options data segments carry. The peer's MSS (536 when it sent none, MUST-15) bounds
    // every segment on the wire, TSO or not: IP cuts a TSO segment into pieces of exactly this size.
    // While PLPMTUD searches (tcp/mtu-probing.ts), what is known to pass bounds it as well.
    const mss = Math.max(
      minimum,
      Math.min(this.peerMss, this.pathMtu - this.headersLength, mtuProbeMssCap(this)) -
        this.dataOptionsLength,
    );
    if (this.board !== undefined) this.board.segmentSize = mss;
    this.sendBuffer.segmentSize = mss;
    if (mss !== this.effMss) {
      this.effMss = mss;
      this.cc?.onMssChanged(mss);
    }
    // With segmentation offload, one segment handed to IP may carry as many whole MSS-sized pieces as
    // the largest datagram IP takes allows; IP (or the device) cuts it into ordinary segments.
    const tsoPayload = this.config.segmentationOffload
      ? this.tsoSize - this.headersLength - this.dataOptionsLength
      : 0;
    this.maxSegmentPayload = tsoPayload > mss ? tsoPayload - (tsoPayload % mss) : mss;
  }

  /**
   * Ends the connection: CLOSED, every timer off, unsent data discarded, then the error (if any) and
   * 'closed' reported. With an error (reset, abort, timeout) unread received data is discarded too (§3.10.7.4
   * "all segment queues should be flushed"); after an orderly close it stays readable.
   */
  terminate(error?: TcpError): void {
    if (this.state === 'CLOSED') return;
    this.timers.cancelAll();
    this.sendBuffer.clear();
    this.board?.clear();
    this.timing = undefined;
    if (error !== undefined) {
      this.receiveBuffer.clear();
      this.closeError = error;
    }
    this.setState('CLOSED');
    if (error !== undefined) this.env.event({ type: 'error', error });
    this.env.event(CLOSED_EVENT);
  }

  /** Starts RTT timing of a segment ending at `endSeq` if nothing is being timed (one sample per RTT). */
  startTiming(endSeq: number): void {
    if (this.timing !== undefined) return;
    // The handshake's timing takes a record of its own, given up once established: an idle connection
    // keeps none. Data segments share one in the transfer state.
    const transfer = this.transfer;
    let timing = transfer?.timingRecord;
    if (timing === undefined) {
      timing = { endSeq: 0, sentAt: 0 };
      if (transfer !== undefined) transfer.timingRecord = timing;
    }
    timing.endSeq = seqAdd(endSeq, 0);
    timing.sentAt = this.now;
    this.timing = timing;
  }

  // The fields of the two records below (tcb-state.ts), read as their initial values while the record
  // does not exist; setting one to anything else makes the record.
  private rare: TcbRareState | undefined = undefined;
  private transfer: TcbTransferState | undefined = undefined;

  private rareState(): TcbRareState {
    this.rare ??= new TcbRareState(this.config);
    return this.rare;
  }

  private transferState(): TcbTransferState {
    this.transfer ??= new TcbTransferState(this.iss);
    return this.transfer;
  }

  /**
   * Packetization Layer Path MTU Discovery's search (RFC 4821, tcp/mtu-probing.ts), made on first use as
   * establishment would have set it up (newMtuProbeState).
   */
  get mtuProbe(): MtuProbeState {
    return this.rare?.mtuProbe ?? this.makeMtuProbe();
  }

  /** The search state if one was made (reads that must not make one). */
  get existingMtuProbe(): MtuProbeState | undefined {
    return this.rare?.mtuProbe;
  }

  makeMtuProbe(): MtuProbeState {
    const probe = newMtuProbeState(this);
    this.rareState().mtuProbe = probe;
    return probe;
  }

  /** The connection's endpoints for trace events, made when the first is emitted. */
  get id(): ConnectionId {
    const rare = this.rareState();
    rare.id ??= { local: this.local, remote: this.remote };
    return rare.id;
  }

  get sndUp(): number {
    const r = this.rare;
    return r === undefined ? 0 : r.sndUp;
  }
  set sndUp(value: number) {
    const r = this.rare;
    if (r !== undefined) r.sndUp = value;
    else if (value !== 0) this.rareState().sndUp = value;
  }
  get sndUrgent(): boolean {
    const r = this.rare;
    return r === undefined ? false : r.sndUrgent;
  }
  set sndUrgent(value: boolean) {
    const r = this.rare;
    if (r !== undefined) r.sndUrgent = value;
    else if (value !== false) this.rareState().sndUrgent = value;
  }
  get rcvUp(): number {
    const r = this.rare;
    return r === undefined ? 0 : r.rcvUp;
  }
  set rcvUp(value: number) {
    const r = this.rare;
    if (r !== undefined) r.rcvUp = value;
    else if (value !== 0) this.rareState().rcvUp = value;
  }
  get rcvUrgent(): boolean {
    const r = this.rare;
    return r === undefined ? false : r.rcvUrgent;
  }
  set rcvUrgent(value: boolean) {
    const r = this.rare;
    if (r !== undefined) r.rcvUrgent = value;
    else if (value !== false) this.rareState().rcvUrgent = value;
  }
  get dsackPending(): boolean {
    const r = this.rare;
    return r === undefined ? false : r.dsackPending;
  }
  set dsackPending(value: boolean) {
    const r = this.rare;
    if (r !== undefined) r.dsackPending = value;
    else if (value !== false) this.rareState().dsackPending = value;
  }
  get dsackLeft(): number {
    const r = this.rare;
    return r === undefined ? 0 : r.dsackLeft;
  }
  set dsackLeft(value: number) {
    const r = this.rare;
    if (r !== undefined) r.dsackLeft = value;
    else if (value !== 0) this.rareState().dsackLeft = value;
  }
  get dsackRight(): number {
    const r = this.rare;
    return r === undefined ? 0 : r.dsackRight;
  }
  set dsackRight(value: number) {
    const r = this.rare;
    if (r !== undefined) r.dsackRight = value;
    else if (value !== 0) this.rareState().dsackRight = value;
  }
  get recoveryPoint(): number | undefined {
    return this.rare?.recoveryPoint;
  }
  set recoveryPoint(value: number | undefined) {
    const r = this.rare;
    if (r !== undefined) r.recoveryPoint = value;
    else if (value !== undefined) this.rareState().recoveryPoint = value;
  }
  get undoRetransmitted(): number {
    const r = this.rare;
    return r === undefined ? 0 : r.undoRetransmitted;
  }
  set undoRetransmitted(value: number) {
    const r = this.rare;
    if (r !== undefined) r.undoRetransmitted = value;
    else if (value !== 0) this.rareState().undoRetransmitted = value;
  }
  get undoPossible(): boolean {
    const r = this.rare;
    return r === undefined ? false : r.undoPossible;
  }
  set undoPossible(value: boolean) {
    const r = this.rare;
    if (r !== undefined) r.undoPossible = value;
    else if (value !== false) this.rareState().undoPossible = value;
  }
  get reoWndMult(): number {
    const r = this.rare;
    return r === undefined ? 1 : r.reoWndMult;
  }
  set reoWndMult(value: number) {
    const r = this.rare;
    if (r !== undefined) r.reoWndMult = value;
    else if (value !== 1) this.rareState().reoWndMult = value;
  }
  get reorderingRaisedCounted(): number {
    const r = this.rare;
    return r === undefined ? 0 : r.reorderingRaisedCounted;
  }
  set reorderingRaisedCounted(value: number) {
    const r = this.rare;
    if (r !== undefined) r.reorderingRaisedCounted = value;
    else if (value !== 0) this.rareState().reorderingRaisedCounted = value;
  }
  get reorderingCappedCounted(): number {
    const r = this.rare;
    return r === undefined ? 0 : r.reorderingCappedCounted;
  }
  set reorderingCappedCounted(value: number) {
    const r = this.rare;
    if (r !== undefined) r.reorderingCappedCounted = value;
    else if (value !== 0) this.rareState().reorderingCappedCounted = value;
  }
  get reoWndPersist(): number {
    const r = this.rare;
    return r === undefined ? 0 : r.reoWndPersist;
  }
  set reoWndPersist(value: number) {
    const r = this.rare;
    if (r !== undefined) r.reoWndPersist = value;
    else if (value !== 0) this.rareState().reoWndPersist = value;
  }
  get dsackRound(): number | undefined {
    return this.rare?.dsackRound;
  }
  set dsackRound(value: number | undefined) {
    const r = this.rare;
    if (r !== undefined) r.dsackRound = value;
    else if (value !== undefined) this.rareState().dsackRound = value;
  }
  get sackDupAcks(): number {
    const r = this.rare;
    return r === undefined ? 0 : r.sackDupAcks;
  }
  set sackDupAcks(value: number) {
    const r = this.rare;
    if (r !== undefined) r.sackDupAcks = value;
    else if (value !== 0) this.rareState().sackDupAcks = value;
  }
  get tlpEndSeq(): number | undefined {
    return this.rare?.tlpEndSeq;
  }
  set tlpEndSeq(value: number | undefined) {
    const r = this.rare;
    if (r !== undefined) r.tlpEndSeq = value;
    else if (value !== undefined) this.rareState().tlpEndSeq = value;
  }
  get tlpRetransmitted(): boolean {
    const r = this.rare;
    return r === undefined ? false : r.tlpRetransmitted;
  }
  set tlpRetransmitted(value: boolean) {
    const r = this.rare;
    if (r !== undefined) r.tlpRetransmitted = value;
    else if (value !== false) this.rareState().tlpRetransmitted = value;
  }
  get ecnEcho(): boolean {
    const r = this.rare;
    return r === undefined ? false : r.ecnEcho;
  }
  set ecnEcho(value: boolean) {
    const r = this.rare;
    if (r !== undefined) r.ecnEcho = value;
    else if (value !== false) this.rareState().ecnEcho = value;
  }
  get cwrPending(): boolean {
    const r = this.rare;
    return r === undefined ? false : r.cwrPending;
  }
  set cwrPending(value: boolean) {
    const r = this.rare;
    if (r !== undefined) r.cwrPending = value;
    else if (value !== false) this.rareState().cwrPending = value;
  }
  get ecnReducedUntil(): number | undefined {
    return this.rare?.ecnReducedUntil;
  }
  set ecnReducedUntil(value: number | undefined) {
    const r = this.rare;
    if (r !== undefined) r.ecnReducedUntil = value;
    else if (value !== undefined) this.rareState().ecnReducedUntil = value;
  }
  get ecnCwr(): boolean {
    const r = this.rare;
    return r === undefined ? false : r.ecnCwr;
  }
  set ecnCwr(value: boolean) {
    const r = this.rare;
    if (r !== undefined) r.ecnCwr = value;
    else if (value !== false) this.rareState().ecnCwr = value;
  }
  get tsRetransmitted(): number | undefined {
    return this.rare?.tsRetransmitted;
  }
  set tsRetransmitted(value: number | undefined) {
    const r = this.rare;
    if (r !== undefined) r.tsRetransmitted = value;
    else if (value !== undefined) this.rareState().tsRetransmitted = value;
  }
  get pendingFinSeq(): number | undefined {
    return this.rare?.pendingFinSeq;
  }
  set pendingFinSeq(value: number | undefined) {
    const r = this.rare;
    if (r !== undefined) r.pendingFinSeq = value;
    else if (value !== undefined) this.rareState().pendingFinSeq = value;
  }
  get synRetransmitted(): boolean {
    const r = this.rare;
    return r === undefined ? false : r.synRetransmitted;
  }
  set synRetransmitted(value: boolean) {
    const r = this.rare;
    if (r !== undefined) r.synRetransmitted = value;
    else if (value !== false) this.rareState().synRetransmitted = value;
  }
  get dupAcks(): number {
    const r = this.rare;
    return r === undefined ? 0 : r.dupAcks;
  }
  set dupAcks(value: number) {
    const r = this.rare;
    if (r !== undefined) r.dupAcks = value;
    else if (value !== 0) this.rareState().dupAcks = value;
  }
  get retransmitCount(): number {
    const r = this.rare;
    return r === undefined ? 0 : r.retransmitCount;
  }
  set retransmitCount(value: number) {
    const r = this.rare;
    if (r !== undefined) r.retransmitCount = value;
    else if (value !== 0) this.rareState().retransmitCount = value;
  }
  get r1Reported(): boolean {
    const r = this.rare;
    return r === undefined ? false : r.r1Reported;
  }
  set r1Reported(value: boolean) {
    const r = this.rare;
    if (r !== undefined) r.r1Reported = value;
    else if (value !== false) this.rareState().r1Reported = value;
  }
  get persistBackoff(): number {
    const r = this.rare;
    return r === undefined ? 0 : r.persistBackoff;
  }
  set persistBackoff(value: number) {
    const r = this.rare;
    if (r !== undefined) r.persistBackoff = value;
    else if (value !== 0) this.rareState().persistBackoff = value;
  }
  get lastProbeTime(): number {
    const r = this.rare;
    return r === undefined ? 0 : r.lastProbeTime;
  }
  set lastProbeTime(value: number) {
    const r = this.rare;
    if (r !== undefined) r.lastProbeTime = value;
    else if (value !== 0) this.rareState().lastProbeTime = value;
  }
  get unansweredProbes(): number {
    const r = this.rare;
    return r === undefined ? 0 : r.unansweredProbes;
  }
  set unansweredProbes(value: number) {
    const r = this.rare;
    if (r !== undefined) r.unansweredProbes = value;
    else if (value !== 0) this.rareState().unansweredProbes = value;
  }
  get lastInvalidAnswerTime(): number {
    const r = this.rare;
    return r === undefined ? Number.NEGATIVE_INFINITY : r.lastInvalidAnswerTime;
  }
  set lastInvalidAnswerTime(value: number) {
    const r = this.rare;
    if (r !== undefined) r.lastInvalidAnswerTime = value;
    else if (value !== Number.NEGATIVE_INFINITY) this.rareState().lastInvalidAnswerTime = value;
  }
  get keepaliveProbesSent(): number {
    const r = this.rare;
    return r === undefined ? 0 : r.keepaliveProbesSent;
  }
  set keepaliveProbesSent(value: number) {
    const r = this.rare;
    if (r !== undefined) r.keepaliveProbesSent = value;
    else if (value !== 0) this.rareState().keepaliveProbesSent = value;
  }
  get nagle(): boolean {
    const r = this.rare;
    return r === undefined ? this.config.nagle : r.nagle;
  }
  set nagle(value: boolean) {
    const r = this.rare;
    if (r !== undefined) r.nagle = value;
    else if (value !== this.config.nagle) this.rareState().nagle = value;
  }
  get keepAlive(): boolean {
    const r = this.rare;
    return r === undefined ? this.config.keepAlive : r.keepAlive;
  }
  set keepAlive(value: boolean) {
    const r = this.rare;
    if (r !== undefined) r.keepAlive = value;
    else if (value !== this.config.keepAlive) this.rareState().keepAlive = value;
  }
  get keepAliveIdleMs(): number {
    const r = this.rare;
    return r === undefined ? this.config.keepAliveIdleMs : r.keepAliveIdleMs;
  }
  set keepAliveIdleMs(value: number) {
    const r = this.rare;
    if (r !== undefined) r.keepAliveIdleMs = value;
    else if (value !== this.config.keepAliveIdleMs) this.rareState().keepAliveIdleMs = value;
  }
  get orphaned(): boolean {
    const r = this.rare;
    return r === undefined ? false : r.orphaned;
  }
  set orphaned(value: boolean) {
    const r = this.rare;
    if (r !== undefined) r.orphaned = value;
    else if (value !== false) this.rareState().orphaned = value;
  }
  get softError(): TcpError | undefined {
    return this.rare?.softError;
  }
  set softError(value: TcpError | undefined) {
    const r = this.rare;
    if (r !== undefined) r.softError = value;
    else if (value !== undefined) this.rareState().softError = value;
  }
  get closeError(): TcpError | undefined {
    return this.rare?.closeError;
  }
  set closeError(value: TcpError | undefined) {
    const r = this.rare;
    if (r !== undefined) r.closeError = value;
    else if (value !== undefined) this.rareState().closeError = value;
  }
  get lastOutputError(): TcpError | undefined {
    return this.rare?.lastOutputError;
  }
  set lastOutputError(value: TcpError | undefined) {
    const r = this.rare;
    if (r !== undefined) r.lastOutputError = value;
    else if (value !== undefined) this.rareState().lastOutputError = value;
  }
  get dupAckedBytes(): number {
    const r = this.rare;
    return r === undefined ? 0 : r.dupAckedBytes;
  }
  set dupAckedBytes(value: number) {
    const r = this.rare;
    if (r !== undefined) r.dupAckedBytes = value;
    else if (value !== 0) this.rareState().dupAckedBytes = value;
  }
  private get board(): Scoreboard | undefined {
    return this.transfer?.board;
  }
  private set board(value: Scoreboard | undefined) {
    const r = this.transfer;
    if (r !== undefined) r.board = value;
    else if (value !== undefined) this.transferState().board = value;
  }
  private get tuner(): ReceiveAutotuner | undefined {
    return this.transfer?.tuner;
  }
  private set tuner(value: ReceiveAutotuner | undefined) {
    const r = this.transfer;
    if (r !== undefined) r.tuner = value;
    else if (value !== undefined) this.transferState().tuner = value;
  }
  private get ccInstance(): CongestionControl | undefined {
    return this.transfer?.ccInstance;
  }
  private set ccInstance(value: CongestionControl | undefined) {
    const r = this.transfer;
    if (r !== undefined) r.ccInstance = value;
    else if (value !== undefined) this.transferState().ccInstance = value;
  }
  private get rateRecord(): RateSample | undefined {
    return this.transfer?.rateRecord;
  }
  private set rateRecord(value: RateSample | undefined) {
    const r = this.transfer;
    if (r !== undefined) r.rateRecord = value;
    else if (value !== undefined) this.transferState().rateRecord = value;
  }
  private get ackRecord(): AckEvent | undefined {
    return this.transfer?.ackRecord;
  }
  private set ackRecord(value: AckEvent | undefined) {
    const r = this.transfer;
    if (r !== undefined) r.ackRecord = value;
    else if (value !== undefined) this.transferState().ackRecord = value;
  }
  get deliveryRate(): number {
    const r = this.transfer;
    return r === undefined ? 0 : r.deliveryRate;
  }
  set deliveryRate(value: number) {
    const r = this.transfer;
    if (r !== undefined) r.deliveryRate = value;
    else if (value !== 0) this.transferState().deliveryRate = value;
  }
  /**
   * Keeps the delivery rate of an ACK's rate sample (with whether it was application-limited). Takes the
   * sample rather than the rate: a double passed to a call that is not inlined is copied to a heap
   * number (once per ACK), and this copies it field to field.
   */
  keepRateSample(sample: { readonly deliveryRate: number; readonly isAppLimited: boolean }): void {
    const r = this.transfer ?? this.transferState();
    r.deliveryRate = sample.deliveryRate;
    r.deliveryRateAppLimited = sample.isAppLimited;
  }
  get deliveryRateAppLimited(): boolean {
    const r = this.transfer;
    return r === undefined ? false : r.deliveryRateAppLimited;
  }
  set deliveryRateAppLimited(value: boolean) {
    const r = this.transfer;
    if (r !== undefined) r.deliveryRateAppLimited = value;
    else if (value !== false) this.transferState().deliveryRateAppLimited = value;
  }
  get shortSegmentEnd(): number {
    const r = this.transfer;
    return r === undefined ? this.iss : r.shortSegmentEnd;
  }
  set shortSegmentEnd(value: number) {
    const r = this.transfer;
    if (r !== undefined) r.shortSegmentEnd = value;
    else if (value !== this.iss) this.transferState().shortSegmentEnd = value;
  }
  get lastSendTime(): number {
    const r = this.transfer;
    return r === undefined ? 0 : r.lastSendTime;
  }
  set lastSendTime(value: number) {
    const r = this.transfer;
    if (r !== undefined) r.lastSendTime = value;
    else if (value !== 0) this.transferState().lastSendTime = value;
  }
  /**
   * `lastSendTime = now`, with the time read here: a fractional time passed to the setter, when it is not
   * inlined, is boxed into a new heap number.
   */
  sentNow(): void {
    const r = this.transfer;
    if (r !== undefined) r.lastSendTime = this.now;
    else if (this.now !== 0) this.transferState().lastSendTime = this.now;
  }
  get writeBlocked(): boolean {
    const r = this.transfer;
    return r === undefined ? false : r.writeBlocked;
  }
  set writeBlocked(value: boolean) {
    const r = this.transfer;
    if (r !== undefined) r.writeBlocked = value;
    else if (value !== false) this.transferState().writeBlocked = value;
  }
  get cwndLimited(): boolean {
    const r = this.transfer;
    return r === undefined ? false : r.cwndLimited;
  }
  set cwndLimited(value: boolean) {
    const r = this.transfer;
    if (r !== undefined) r.cwndLimited = value;
    else if (value !== false) this.transferState().cwndLimited = value;
  }
  get cwndLimitedUntil(): number {
    const r = this.transfer;
    return r === undefined ? 0 : r.cwndLimitedUntil;
  }
  set cwndLimitedUntil(value: number) {
    const r = this.transfer;
    if (r !== undefined) r.cwndLimitedUntil = value;
    else if (value !== 0) this.transferState().cwndLimitedUntil = value;
  }
  get pacingNext(): number {
    const r = this.transfer;
    return r === undefined ? 0 : r.pacingNext;
  }
  set pacingNext(value: number) {
    const r = this.transfer;
    if (r !== undefined) r.pacingNext = value;
    else if (value !== 0) this.transferState().pacingNext = value;
  }
  get pacingHeld(): boolean {
    const r = this.transfer;
    return r === undefined ? false : r.pacingHeld;
  }
  set pacingHeld(value: boolean) {
    const r = this.transfer;
    if (r !== undefined) r.pacingHeld = value;
    else if (value !== false) this.transferState().pacingHeld = value;
  }
  get bytesWritten(): number {
    const r = this.transfer;
    return r === undefined ? 0 : r.bytesWritten;
  }
  set bytesWritten(value: number) {
    const r = this.transfer;
    if (r !== undefined) r.bytesWritten = value;
    else if (value !== 0) this.transferState().bytesWritten = value;
  }
  get bytesRead(): number {
    const r = this.transfer;
    return r === undefined ? 0 : r.bytesRead;
  }
  set bytesRead(value: number) {
    const r = this.transfer;
    if (r !== undefined) r.bytesRead = value;
    else if (value !== 0) this.transferState().bytesRead = value;
  }
  get bytesSent(): number {
    const r = this.transfer;
    return r === undefined ? 0 : r.bytesSent;
  }
  set bytesSent(value: number) {
    const r = this.transfer;
    if (r !== undefined) r.bytesSent = value;
    else if (value !== 0) this.transferState().bytesSent = value;
  }
  get bytesRetransmitted(): number {
    const r = this.transfer;
    return r === undefined ? 0 : r.bytesRetransmitted;
  }
  set bytesRetransmitted(value: number) {
    const r = this.transfer;
    if (r !== undefined) r.bytesRetransmitted = value;
    else if (value !== 0) this.transferState().bytesRetransmitted = value;
  }
  get bytesAcked(): number {
    const r = this.transfer;
    return r === undefined ? 0 : r.bytesAcked;
  }
  set bytesAcked(value: number) {
    const r = this.transfer;
    if (r !== undefined) r.bytesAcked = value;
    else if (value !== 0) this.transferState().bytesAcked = value;
  }
  get bytesReceived(): number {
    const r = this.transfer;
    return r === undefined ? 0 : r.bytesReceived;
  }
  set bytesReceived(value: number) {
    const r = this.transfer;
    if (r !== undefined) r.bytesReceived = value;
    else if (value !== 0) this.transferState().bytesReceived = value;
  }
  get retransmissions(): number {
    const r = this.transfer;
    return r === undefined ? 0 : r.retransmissions;
  }
  set retransmissions(value: number) {
    const r = this.transfer;
    if (r !== undefined) r.retransmissions = value;
    else if (value !== 0) this.transferState().retransmissions = value;
  }
}

/** The smallest shift that lets a window field describe the whole buffer (at most 14, RFC 7323 §2.3). */
export function windowScaleFor(bufferSize: number): number {
  let shift = 0;
  let largest = 65535;
  while (shift < 14 && largest < bufferSize) {
    shift++;
    largest *= 2;
  }
  return shift;
}
