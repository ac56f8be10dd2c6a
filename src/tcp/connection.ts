/**
 * TcpConnection: one TCP connection as a pure state machine (RFC 9293 §3.10).
 *
 * Inputs are the user calls of §3.10.1-3.10.6 (OPEN via the static constructors, SEND = `send`,
 * RECEIVE = `receive`, CLOSE = `close`, ABORT = `abort`, STATUS = `status`), SEGMENT ARRIVES
 * (`handleSegment`) and TIMEOUTS (`onTimer`). Every input carries the current time `now` in milliseconds
 * (kept in `Tcb.now` while it runs), or reads it from the clock its owner gave it (see below); the
 * connection never starts a timer. Outputs are segments (through the `output` callback given at
 * creation) and events (below). The same inputs always give the same outputs.
 *
 * Its owner (normally TcpLayer) must call `onTimer(now)` at or after `nextDeadline()`; the
 * `onDeadlineChange` callback says when that deadline moves. `now` comes after a method's required
 * arguments and before its optional ones (`send(data, now, options?)`, `receive(now, maxBytes?)`).
 * In `send`, `receive`, `receiveChunk` and `receiveInto` it may be left out (undefined): the call then
 * reads the owner's clock (TcpConnectionOptions.clock; a TCP layer gives its own), or without one takes
 * the time of the last input. Reading the clock's reading in place (Clock.reading) rather than being
 * handed the time spares a fractional time its boxing into a heap number, one per read on a busy path.
 * API misuse throws a TcpError with a Node-style code; no segment content ever throws.
 *
 * Events (delivered after the call that caused them has finished, so listeners may call back in; a call
 * made from a listener delivers nothing itself, its events follow those already queued):
 * - 'state' (from, to): every state change, for tracing.
 * - 'connected': the handshake completed (ESTABLISHED).
 * - 'readable': new in-order bytes can be read with `receive()`.
 * - 'end': the peer's FIN arrived in order; after the bytes already buffered, the stream ends.
 * - 'drain': room in the send buffer again after a `send()` took less than it was given.
 * - 'retransmission-warning' (count): R1 retransmissions of one segment (§3.8.3, SHLD-9).
 * - 'urgent' (pending): the peer signalled urgent data; `pending` bytes up to the urgent pointer (MUST-32).
 * - 'soft-error' (error): an ICMP soft error (§3.9.2.2); the connection goes on (MUST-56).
 * - 'error' (error): the connection failed: ECONNRESET, ECONNREFUSED, ETIMEDOUT (or the soft error that
 *   explains the timeout), ECONNABORTED. Always followed by 'closed'.
 * - 'closed': the connection reached CLOSED; it may be forgotten.
 */

import { type IcmpErrorKind, isHardIcmpKind } from '../ip/icmp-errors.js';
import type { Clock } from '../time/clock.js';
import type { ConnectionId, Endpoint, TcpStateName, Tracer } from '../trace/events.js';
import { NO_TRACE } from '../trace/events.js';
import type { TcpSegment } from '../wire/tcp.js';
import type { ChallengeAckBudget } from './ack-rate-limits.js';
import { MIN_SEND_MSS, resolveTcpConfig, type TcpConfig } from './config.js';
import type { CongestionControlFactory } from './congestion/congestion-control.js';
import { newTcpCounters, type TcpCounters } from './counters.js';
import { negotiateEcnOnSyn } from './ecn.js';
import { TcpError, type TcpErrorCode } from './errors.js';
import { errnoForIcmpKind } from './icmp-report.js';
import type { TcpMemoryAccount } from './memory.js';
import { keepMtuSearchRange } from './mtu-probing.js';
import {
  ackSeq,
  armRetransmissionTimer,
  selectWindow,
  sendAck,
  sendReset,
  sendSyn,
  transmitPending,
  windowIfAdvertisedNow,
} from './output.js';
import { DUP_THRESH } from './scoreboard.js';
import { segmentArrives } from './segment-arrives.js';
import { seqAdd, seqDiff, seqGe, seqLe, seqLt } from './seq.js';
import { CLOSED_EVENT, type ConnectionEvent, READABLE_EVENT, Tcb, type TcbEnvironment } from './tcb.js';
import type { TcpSendStatus } from './tcp-layer.js';
import type { TimeWaitFields } from './time-wait.js';
import { timersExpired } from './timeouts.js';
import { FIN_WAIT_2, KEEPALIVE, READABLE, TIMER_NAMES, type TimerId, type TimerName } from './timers.js';
import { TypedEmitter } from './typed-emitter.js';

/** What `receiveChunk` returns while nothing is buffered (shared: it holds no byte to write into). */
const EMPTY_CHUNK = new Uint8Array(0);

export type TcpConnectionEvents = {
  state: [from: TcpStateName, to: TcpStateName];
  connected: [];
  readable: [];
  end: [];
  drain: [];
  'retransmission-warning': [retransmissions: number];
  urgent: [pending: number];
  'soft-error': [error: TcpError];
  error: [error: TcpError];
  closed: [];
};

export interface TcpConnectionOptions {
  local: Endpoint;
  remote: Endpoint;
  /**
   * Segments to send. The segment object and its payload view are valid only during the call (the same
   * object is refilled for the next segment): serialize them, or copy what you keep. May return IP's
   * verdict ('ok', or an errno such as ENETUNREACH when the segment could not be sent). `ecn` is the
   * ECN field for the IP header (RFC 3168 §5; 2 = ECT(0)), absent for Not-ECT.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: callbacks that return nothing (`=> void`, the type before IP reported a status) must stay assignable
  output?: (segment: TcpSegment, segmentSize?: number, ecn?: number) => TcpSendStatus | undefined | void;
  /**
   * The connection's owner as one object (the TCP layer's entry for it): when given it takes the place of
   * `output`, `onDeadlineChange` and `admitOrphan`, so an owner of many connections keeps no closures per
   * connection. One of `owner` and `output` is required.
   */
  owner?: TcpConnectionOwner;
  /** Path MTU towards the remote address: what our segments must fit. */
  pathMtu: number;
  /**
   * MTU of the interface toward the remote address, whatever the path: the MSS we announce is this minus
   * 40 (MUST-67), so a path MTU learned from ICMP never shrinks what peers may send us. Default `pathMtu`.
   */
  interfaceMtu?: number;
  /**
   * Largest IP datagram IP takes for one segment that it cuts into MSS-sized ones on the way (TCP
   * segmentation offload, TcpIpBinding.tsoSizeFor). Such segments come to `output` with `segmentSize`
   * (the effective MSS). Default `pathMtu`: every segment fits the MTU.
   */
  tsoSize?: number;
  /**
   * Offset added to the clock for this connection's TSval (RFC 7323 §7.1): the TCP layer derives it from
   * a secret and the addresses. Default 0.
   */
  timestampOffset?: number;
  /** Overrides of the defaults, or a complete configuration. */
  config?: Partial<TcpConfig>;
  /** Shared counters (the layer's); a private set when absent. */
  counters?: TcpCounters;
  tracer?: Tracer;
  /** Host name for trace events. */
  host?: string;
  /** Congestion controller factory; when absent, the one `config.congestionControl` names. */
  congestionControl?: CongestionControlFactory;
  /** The stack-wide challenge ACK budget (RFC 5961 §7) the layer shares between its connections. */
  challengeAckBudget?: ChallengeAckBudget;
  /** Called whenever `nextDeadline()` changes, after the call that changed it. */
  onDeadlineChange?: (connection: TcpConnection, deadline: number) => void;
  /** See TcbEnvironment.admitOrphan: the owner's orphan limit. */
  admitOrphan?: () => boolean;
  /** See TcbEnvironment.tooManyOrphans. */
  tooManyOrphans?: (backoffs: number) => boolean;
  /** See TcbEnvironment.memory: the stack's TCP memory this connection's buffers are charged to. */
  memory?: TcpMemoryAccount;
  /** See TcbEnvironment.random: random numbers for the congestion controller. */
  random?: () => number;
  /** See TcbEnvironment.clock: the time of a user call made without one (`send(data)`, `receiveInto(dst)`). */
  clock?: Clock;
  /**
   * `counters`, `tracer`, `host`, `congestionControl`, `challengeAckBudget`, `tooManyOrphans`, `memory`
   * and `random` as one object, shared by all the connections of one owner (a TCP layer): given, those
   * fields are not read, and each connection holds one reference instead of a copy of each.
   */
  shared?: TcpConnectionShared;
}

/** The values of TcpConnectionOptions that every connection of one owner has in common. */
export interface TcpConnectionShared {
  readonly counters: TcpCounters;
  readonly tracer: Tracer;
  readonly host: string;
  readonly congestionControl: CongestionControlFactory | undefined;
  readonly challengeAckBudget: ChallengeAckBudget | undefined;
  readonly tooManyOrphans: ((backoffs: number) => boolean) | undefined;
  readonly memory: TcpMemoryAccount | undefined;
  readonly random: (() => number) | undefined;
  /** See TcpConnectionOptions.clock. */
  readonly clock: Clock | undefined;
}

/** What the owner of a connection does for it: `TcpConnectionOptions.output` and its two hooks, as methods. */
export interface TcpConnectionOwner {
  /** See TcpConnectionOptions.output. */
  // biome-ignore lint/suspicious/noConfusingVoidType: as TcpConnectionOptions.output
  output(segment: TcpSegment, segmentSize?: number, ecn?: number): TcpSendStatus | undefined | void;
  /**
   * See TcpConnectionOptions.onDeadlineChange: the new deadline is `connection.reportedDeadline`. It is
   * read there rather than passed: a double passed to a call that is not inlined is copied to a heap
   * number, once per ACK burst on a busy connection, while a field read is not.
   */
  deadlineChanged(connection: TcpConnection): void;
  /** See TcbEnvironment.admitOrphan: true when one more orphan fits (always, for an owner without a limit). */
  admitOrphan(): boolean;
  /** 'connected', told to the owner before the connection's listeners. */
  connected?(): void;
  /** 'state', told to the owner before the connection's listeners. */
  stateChanged?(from: TcpStateName, to: TcpStateName): void;
  /** 'closed', told to the owner before the connection's listeners. */
  closed?(): void;
  /** See TcbEnvironment.timersAfterBurst. Absent: false. */
  readonly timersAfterBurst?: boolean;
  /**
   * In TIME-WAIT, for an owner that does not tell the connection when the wait ends: true once it has
   * (then false again: the connection is told once).
   */
  timeWaitEnded?(): boolean;
  /** In TIME-WAIT: tell the connection when the wait ends from now on. False if it has already ended. */
  watchTimeWait?(): boolean;
  /** See TcbEnvironment.timersAfterBatch. Absent: false. */
  readonly timersAfterBatch?: boolean;
}

/** The events a byte stream over the connection acts on (see the event list at the top of this file). */
export type TcpStreamEvent = 'connected' | 'readable' | 'end' | 'drain' | 'error' | 'closed';

/**
 * One object told of the stream events, after the connection's listeners: what a `net.Socket` needs, as
 * one method on its prototype instead of six listener closures and a listener table per connection.
 */
export interface TcpStreamObserver {
  streamEvent(event: TcpStreamEvent, error?: TcpError): void;
}

/** The owner of a connection made from separate callbacks (connections outside a TCP layer, tests). */
class CallbackOwner implements TcpConnectionOwner {
  constructor(
    private readonly send: NonNullable<TcpConnectionOptions['output']>,
    private readonly onDeadlineChange: ((connection: TcpConnection, deadline: number) => void) | undefined,
    private readonly admit: (() => boolean) | undefined,
  ) {}
  // biome-ignore lint/suspicious/noConfusingVoidType: as TcpConnectionOptions.output
  output(segment: TcpSegment, segmentSize?: number, ecn?: number): TcpSendStatus | undefined | void {
    // The callback sees as many arguments as the connection passed (its arity says what was asked).
    if (ecn !== undefined) return this.send(segment, segmentSize, ecn);
    return segmentSize !== undefined ? this.send(segment, segmentSize) : this.send(segment);
  }
  deadlineChanged(connection: TcpConnection): void {
    this.onDeadlineChange?.(connection, connection.reportedDeadline);
  }
  admitOrphan(): boolean {
    return this.admit === undefined || this.admit();
  }
}

/**
 * A connection's TcbEnvironment: a class, so its methods live once on the prototype and an idle
 * connection holds no closures for sending, events or orphan accounting, and its owner's values are
 * read through one shared object (TcpConnectionOptions.shared) rather than copied into each connection.
 */
class ConnectionEnvironment implements TcbEnvironment {
  constructor(
    private readonly connection: TcpConnection,
    readonly owner: TcpConnectionOwner,
    private readonly shared: TcpConnectionShared,
  ) {}

  get counters(): TcpCounters {
    return this.shared.counters;
  }

  get tracer(): Tracer {
    return this.shared.tracer;
  }

  get host(): string {
    return this.shared.host;
  }

  get congestionControl(): CongestionControlFactory | undefined {
    return this.shared.congestionControl;
  }

  get challengeAckBudget(): ChallengeAckBudget | undefined {
    return this.shared.challengeAckBudget;
  }

  get tooManyOrphans(): ((backoffs: number) => boolean) | undefined {
    return this.shared.tooManyOrphans;
  }

  get memory(): TcpMemoryAccount | undefined {
    return this.shared.memory;
  }

  get random(): (() => number) | undefined {
    return this.shared.random;
  }

  get clock(): Clock | undefined {
    return this.shared.clock;
  }

  /** Read from the owner (a getter: no field per connection). */
  get timersAfterBurst(): boolean {
    return this.owner.timersAfterBurst === true;
  }

  get timersAfterBatch(): boolean {
    return this.owner.timersAfterBatch === true;
  }

  // biome-ignore lint/suspicious/noConfusingVoidType: as TcbEnvironment.transmit
  transmit(segment: TcpSegment, segmentSize?: number, ecn?: number): string | undefined | void {
    return this.owner.output(segment, segmentSize, ecn);
  }

  event(event: ConnectionEvent): void {
    this.connection.queueEvent(event);
  }

  admitOrphan(): boolean {
    return this.owner.admitOrphan();
  }
}

/** An ICMP error about a segment of this connection, as IP decoded it (RFC 9293 §3.9.2.2, RFC 5927). */
export interface TcpIcmpError {
  /** The kind from the one ICMP/ICMPv6 table (ip/icmp-errors.ts). */
  kind: IcmpErrorKind;
  /** Sequence number of the segment quoted in the ICMP message. */
  seq: number;
  /** Next-hop MTU for 'fragmentation-needed' (0 or absent when the router did not say). */
  mtu?: number;
  /** For 'fragmentation-needed': the total length of the datagram that was too big, when known. */
  datagramLength?: number;
  /**
   * The errno the application should see, when the reporter knows it precisely (IP's conversion of the
   * ICMP code); otherwise it follows from `kind`.
   */
  code?: TcpErrorCode;
}

export interface SendOptions {
  /** Mark the bytes of this call as urgent (§3.7.5): the urgent pointer goes past its last byte. */
  urgent?: boolean;
}

/** STATUS (§3.10.6): a snapshot like Linux's TCP_INFO. */
export interface TcpConnectionStatus {
  state: TcpStateName;
  local: Endpoint;
  remote: Endpoint;
  iss: number;
  irs: number;
  sndUna: number;
  sndNxt: number;
  sndMax: number;
  sndWnd: number;
  /** Window scale shifts in use (RFC 7323), 0 when not negotiated. */
  sndWindowScale: number;
  rcvWindowScale: number;
  /** Options both ends agreed on: SACK (RFC 2018), timestamps and window scaling (RFC 7323). */
  sackEnabled: boolean;
  timestampsEnabled: boolean;
  windowScalingEnabled: boolean;
  /** Both SYNs agreed to ECN (RFC 3168 §6.1.1). */
  ecnEnabled: boolean;
  /** Loss recovery's scoreboard: bytes SACKed, judged lost, and retransmitted still outstanding. */
  sackedBytes: number;
  lostBytes: number;
  retransmittedOutstandingBytes: number;
  /** Times reordering was detected (RACK, RFC 8985 §6.2 step 3). */
  reorderingSeen: number;
  /** The path's reordering degree in segments (Linux's tcpi_reordering): 3, raised as reordering is seen. */
  reordering: number;
  /** Smallest RTT measured, ms (0 before any). */
  minRtt: number;
  /** Last valid delivery-rate sample, bytes per ms, and whether the application limited it. */
  deliveryRate: number;
  deliveryRateAppLimited: boolean;
  /** The congestion control algorithm's own state, e.g. 'slow-start', 'recovery', 'probe-bw'. */
  congestionState: string;
  rcvNxt: number;
  rcvWnd: number;
  effectiveMss: number;
  advertisedMss: number;
  peerMss: number;
  pathMtu: number;
  srtt: number;
  rttvar: number;
  rto: number;
  congestionControl: string;
  cwnd: number;
  ssthresh: number;
  inRecovery: boolean;
  bytesInFlight: number;
  /** Bytes in the send buffer (unacknowledged plus unsent). */
  sendQueued: number;
  /** Bytes in the send buffer not yet sent. */
  sendUnsent: number;
  /** In-order bytes waiting to be read. */
  receiveQueued: number;
  /** Bytes up to the urgent pointer not yet read (MUST-33); 0 when none. */
  urgentPending: number;
  finSent: boolean;
  finAcked: boolean;
  remoteFinReceived: boolean;
  noDelay: boolean;
  keepAlive: boolean;
  orphaned: boolean;
  retransmissions: number;
  /** Bytes the application gave to `send()` (Node's bytesWritten). */
  bytesWritten: number;
  /** Bytes the application took with `receive()` (Node's bytesRead). */
  bytesRead: number;
  segmentsSent: number;
  segmentsReceived: number;
  bytesSent: number;
  bytesRetransmitted: number;
  bytesAcked: number;
  bytesReceived: number;
  /** Deadlines of the armed timers (ms). */
  timers: Partial<Record<TimerName, number>>;
  lastSoftError: string | undefined;
  error: string | undefined;
}

/**
 * Event queues not in use, shared by every connection: one is in use per connection in the middle of a
 * call (nested calls on other connections take their own), so a few suffice; more are not kept.
 */
const EVENT_QUEUES: ConnectionEvent[][] = [];
const EVENT_QUEUES_KEPT = 64;

export class TcpConnection extends TypedEmitter<TcpConnectionEvents> {
  private readonly tcb: Tcb;
  /**
   * Events queued by the call in progress: the first `pendingCount` entries, in an array taken from
   * EVENT_QUEUES with the first event and given back once they are delivered, so an idle connection holds
   * none and a busy one allocates none.
   */
  private pending: ConnectionEvent[] | undefined;
  private pendingCount = 0;
  private depth = 0;
  /** What the buffers held when last reported to the stack's TCP memory; undefined once detached. */
  private memoryReported: number | undefined = 0;
  private readonly owner: TcpConnectionOwner;
  private observer: TcpStreamObserver | undefined;

  private constructor(options: TcpConnectionOptions, passive: boolean) {
    super();
    const config = resolveTcpConfig(options.config);
    let owner = options.owner;
    if (owner === undefined) {
      if (options.output === undefined)
        throw new TcpError('EINVAL', 'a connection needs an owner or an output');
      owner = new CallbackOwner(options.output, options.onDeadlineChange, options.admitOrphan);
    }
    this.owner = owner;
    const shared: TcpConnectionShared = options.shared ?? {
      counters: options.counters ?? newTcpCounters(),
      tracer: options.tracer ?? NO_TRACE,
      host: options.host ?? '',
      congestionControl: options.congestionControl,
      challengeAckBudget: options.challengeAckBudget,
      tooManyOrphans: options.tooManyOrphans,
      memory: options.memory,
      random: options.random,
      clock: options.clock,
    };
    const env = new ConnectionEnvironment(this, owner, shared);
    if (!Number.isInteger(options.pathMtu) || options.pathMtu < 68) {
      throw new TcpError('EINVAL', `path MTU must be an integer >= 68, got ${options.pathMtu}`);
    }
    this.tcb = new Tcb(
      env,
      config,
      options.local,
      options.remote,
      passive,
      options.pathMtu,
      options.tsoSize ?? options.pathMtu,
      options.timestampOffset ?? 0,
      options.interfaceMtu ?? options.pathMtu,
    );
  }

  /** Queues an event for delivery once the current call has finished (the environment's `event`). */
  queueEvent(event: ConnectionEvent): void {
    const tcb = this.tcb;
    if (event !== READABLE_EVENT && tcb.timers.isArmed(READABLE)) {
      // A 'readable' deferred to the end of the burst (segment-arrives.ts announceReadable) is for data
      // that arrived before this event: it goes first.
      tcb.timers.cancel(READABLE);
      if (tcb.receiveBuffer.readable > 0) this.queueEvent(READABLE_EVENT);
    }
    this.pending ??= EVENT_QUEUES.pop() ?? [];
    this.pending[this.pendingCount++] = event;
  }

  /**
   * OPEN, active (§3.10.1): sends <SEQ=ISS><CTL=SYN> and enters SYN-SENT. `iss` comes from the ISN
   * generator (RFC 6528); tests pass fixed values.
   */
  static connect(options: TcpConnectionOptions, iss: number, now: number): TcpConnection {
    const conn = new TcpConnection(options, false);
    conn.run(now, () => {
      const tcb = conn.tcb;
      tcb.env.counters.activeOpens++;
      initSend(tcb, iss, now);
      tcb.setState('SYN-SENT');
      sendSyn(tcb);
      const failure = tcb.lastOutputError;
      if (failure !== undefined && (failure.code === 'ENETUNREACH' || failure.code === 'EADDRNOTAVAIL')) {
        // No route for the SYN (or the local address is gone): connect fails at once, as connect(2) does.
        tcb.env.counters.attemptFails++;
        tcb.terminate(failure);
        return;
      }
      armRetransmissionTimer(tcb);
    });
    return conn;
  }

  /**
   * A connection spawned by a listener for an arriving SYN (§3.10.7.2, third step): RCV.NXT = SEG.SEQ+1,
   * IRS = SEG.SEQ, <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> sent, SYN-RECEIVED. Text on the SYN is not accepted
   * (it is not acknowledged, so the peer sends it again).
   */
  static accept(options: TcpConnectionOptions, syn: TcpSegment, iss: number, now: number): TcpConnection {
    const conn = new TcpConnection(options, true);
    conn.run(now, () => {
      const tcb = conn.tcb;
      tcb.env.counters.passiveOpens++;
      tcb.state = 'LISTEN';
      tcb.segmentsReceived++;
      tcb.irs = syn.seq | 0;
      tcb.rcvNxt = seqAdd(syn.seq, 1);
      tcb.rcvAdvRight = tcb.rcvNxt;
      tcb.lastReceiveTime = now;
      const mss = syn.options.mss;
      tcb.peerMss = mss !== undefined && mss > 0 ? mss : tcb.defaultPeerMss;
      tcb.negotiateTimestamps(syn.options.timestamp);
      tcb.negotiateSack(syn.options.sackPermitted);
      negotiateEcnOnSyn(tcb, syn.flags);
      tcb.updateEffectiveMss(MIN_SEND_MSS);
      tcb.negotiateWindowScale(syn.options.windowScale);
      initSend(tcb, iss, now);
      tcb.setState('SYN-RECEIVED');
      sendSyn(tcb);
      armRetransmissionTimer(tcb);
    });
    return conn;
  }

  /**
   * The connection a valid SYN cookie stands for (RFC 4987 §3.6): a listener answered `syn` (rebuilt from
   * the cookie: the peer's sequence number and the options the cookie carried) with a SYN-ACK of sequence
   * number `iss` and window `window`, keeping no state. The connection is rebuilt in SYN-RECEIVED as if
   * it had sent that SYN-ACK itself, without sending anything; the owner then hands it the ACK that
   * returned the cookie, which completes the handshake. No RTT sample comes from the handshake: its
   * start was not recorded.
   */
  static fromSynCookie(
    options: TcpConnectionOptions,
    syn: TcpSegment,
    iss: number,
    window: number,
    now: number,
  ): TcpConnection {
    const conn = new TcpConnection(options, true);
    conn.run(now, () => {
      const tcb = conn.tcb;
      tcb.env.counters.passiveOpens++;
      tcb.state = 'LISTEN';
      tcb.irs = syn.seq | 0;
      tcb.rcvNxt = seqAdd(syn.seq, 1);
      tcb.rcvAdvRight = seqAdd(tcb.rcvNxt, window);
      tcb.lastReceiveTime = now;
      const mss = syn.options.mss;
      tcb.peerMss = mss !== undefined && mss > 0 ? mss : tcb.defaultPeerMss;
      tcb.negotiateTimestamps(syn.options.timestamp);
      tcb.negotiateSack(syn.options.sackPermitted);
      negotiateEcnOnSyn(tcb, syn.flags);
      tcb.updateEffectiveMss(MIN_SEND_MSS);
      tcb.negotiateWindowScale(syn.options.windowScale);
      initSend(tcb, iss, now);
      tcb.timing = undefined;
      tcb.setState('SYN-RECEIVED');
    });
    return conn;
  }

  get state(): TcpStateName {
    const state = this.tcb.state;
    if (state === 'TIME-WAIT' && this.timeWaitOver()) return this.tcb.state;
    return state;
  }

  /** Listens for `event`; in TIME-WAIT, a listener for its end makes the owner tell this connection. */
  override on<K extends keyof TcpConnectionEvents>(
    event: K,
    listener: (...args: TcpConnectionEvents[K]) => void,
  ): this {
    if ((event === 'closed' || event === 'state') && this.tcb.state === 'TIME-WAIT') this.watchTimeWait();
    return super.on(event, listener);
  }

  override once<K extends keyof TcpConnectionEvents>(
    event: K,
    listener: (...args: TcpConnectionEvents[K]) => void,
  ): this {
    if ((event === 'closed' || event === 'state') && this.tcb.state === 'TIME-WAIT') this.watchTimeWait();
    return super.once(event, listener);
  }

  /**
   * In TIME-WAIT with an owner that does not tell this connection when the wait ends (nobody listened
   * for it when it began): ends it here if the owner says it has. True when it did.
   */
  private timeWaitOver(): boolean {
    if (this.owner.timeWaitEnded?.() !== true) return false;
    this.endTimeWait(this.tcb.now);
    return true;
  }

  /** From now on the owner tells this connection when TIME-WAIT ends (or it has ended already). */
  private watchTimeWait(): void {
    if (this.owner.watchTimeWait?.() === false) this.endTimeWait(this.tcb.now);
  }

  /** @internal A stream observer is set (see `observe`). */
  get observed(): boolean {
    return this.observer !== undefined;
  }

  get local(): Endpoint {
    return this.tcb.local;
  }

  get remote(): Endpoint {
    return this.tcb.remote;
  }

  get id(): ConnectionId {
    return this.tcb.id;
  }

  /** True for connections spawned by a listener. */
  get passive(): boolean {
    return this.tcb.passive;
  }

  /** The error the connection ended with, if it failed. */
  get error(): TcpError | undefined {
    return this.tcb.closeError;
  }

  /** In-order bytes ready for `receive()`. */
  get readableLength(): number {
    return this.tcb.receiveBuffer.readable;
  }

  /** Bytes in the send buffer (sent but unacknowledged, plus unsent). */
  get writableLength(): number {
    return this.tcb.sendBuffer.length;
  }

  /**
   * Bytes the send and receive buffers hold allocated now: storage is taken as data arrives or is written
   * and given back once it has been acknowledged or read, so an idle connection holds none.
   */
  get bufferMemory(): number {
    return this.tcb.sendBuffer.allocated + this.tcb.receiveBuffer.allocated;
  }

  /** Room left in the send buffer. */
  get writableFree(): number {
    return this.tcb.sendBuffer.free;
  }

  /** The peer's FIN has arrived and every byte before it has been read: RECEIVE returns null. */
  get readableEnded(): boolean {
    return this.tcb.remoteFinReceived && this.tcb.receiveBuffer.readable === 0;
  }

  /** The earliest time `onTimer` must be called, or Infinity when no timer is armed. */
  nextDeadline(): number {
    return this.tcb.timers.earliest();
  }

  /**
   * `nextDeadline()` as last told to the owner (TcpConnectionOwner.deadlineChanged), at the end of the
   * input that moved it; Infinity before any.
   */
  get reportedDeadline(): number {
    return this.tcb.timers.reported;
  }

  /**
   * SEGMENT ARRIVES (§3.10.7) for this connection. Never throws for any segment content. `ecn` is the ECN
   * field of the IP header that carried it (RFC 3168 §5), 0 when unknown. `now` undefined: the time is
   * read from the owner's clock, as for `send` (see the class comment).
   */
  handleSegment(segment: TcpSegment, now: number | undefined, ecn = 0): void {
    // The per-segment entry points spell out what `run` does, without a closure per call.
    if (this.enter(now)) {
      segmentArrives(this.tcb, segment, ecn);
      return;
    }
    try {
      segmentArrives(this.tcb, segment, ecn);
      this.settle();
    } finally {
      this.depth = 0;
    }
  }

  /** TIMEOUTS (§3.10.8): runs every timer due at `now`. Harmless when none is. */
  onTimer(now: number): void {
    if (this.enter(now)) {
      timersExpired(this.tcb);
      return;
    }
    try {
      timersExpired(this.tcb);
      this.settle();
    } finally {
      this.depth = 0;
    }
  }

  /**
   * Sets (or, with undefined, removes) the one stream observer, told of 'connected', 'readable', 'end',
   * 'drain', 'error' and 'closed' after the listeners of each.
   */
  observe(observer: TcpStreamObserver | undefined): void {
    if (observer !== undefined && this.tcb.state === 'TIME-WAIT') this.watchTimeWait();
    this.observer = observer;
  }

  /**
   * SEND (§3.10.2): copies as much of `data` as the send buffer has room for and returns that count;
   * when it is less than `data.length`, 'drain' follows once room frees up. Data sent before the
   * connection is established is queued. Throws EPIPE after CLOSE, ENOTCONN on a closed connection.
   */
  send(data: Uint8Array, now?: number, options?: SendOptions): number {
    if (this.enter(now)) return this.sendNow(data, options);
    try {
      const accepted = this.sendNow(data, options);
      this.settle();
      return accepted;
    } finally {
      this.depth = 0;
    }
  }

  private sendNow(data: Uint8Array, options: SendOptions | undefined): number {
    const tcb = this.tcb;
    if (tcb.state === 'CLOSED' || tcb.state === 'LISTEN') {
      throw tcb.closeError ?? new TcpError('ENOTCONN', 'connection does not exist');
    }
    if (tcb.finQueued) throw new TcpError('EPIPE', 'connection closing: no more data may be sent');
    let offered = data;
    if (tcb.env.memory?.exhausted === true && data.length > 0) {
      // The stack's TCP memory is at its maximum (tcp/memory.ts): with data still queued the write waits
      // for 'drain', which this connection's own acknowledgments bring (Linux's sk_stream_wait_memory);
      // into an empty buffer one segment goes, so every connection keeps moving (as Linux forces one).
      tcb.env.counters.memoryLimitWrites++;
      if (tcb.sendBuffer.length > 0) {
        tcb.writeBlocked = true;
        return 0;
      }
      offered = data.subarray(0, tcb.effMss);
    }
    const accepted = tcb.sendBuffer.write(offered, tcb.effMss);
    tcb.bytesWritten += accepted;
    if (accepted < data.length) tcb.writeBlocked = true;
    if (options?.urgent && accepted > 0) {
      tcb.sndUp = tcb.sendBuffer.endSeq;
      tcb.sndUrgent = true;
    }
    if (tcb.state === 'ESTABLISHED' || tcb.state === 'CLOSE-WAIT') transmitPending(tcb);
    return accepted;
  }

  /**
   * RECEIVE (§3.10.3): up to `maxBytes` in-order bytes as a new array the caller owns. An empty array
   * means nothing is buffered yet; null means the stream has ended (the peer's FIN was received and every
   * byte before it has been read, or the connection is closed). Reading frees buffer space, which may
   * send a window update.
   */
  receive(now?: number, maxBytes = Number.POSITIVE_INFINITY): Uint8Array | null {
    const tcb = this.tcb;
    const buffer = tcb.receiveBuffer;
    if (buffer.readable === 0) {
      // Nothing changes: no need to enter the connection at all.
      return tcb.remoteFinReceived || tcb.state === 'CLOSED' ? null : new Uint8Array(0);
    }
    const data = buffer.read(Math.max(0, Math.floor(maxBytes)));
    tcb.bytesRead += data.length;
    this.readDone(now);
    return data;
  }

  /**
   * Like `receive`, but hands over the next bytes as they are held: a large segment as the view it
   * arrived in (no copy, see ReceiveBuffer.readChunk), otherwise a copy of up to `maxBytes` in storage
   * from `allocate`, which need not be zeroed. May return fewer bytes than are readable; call again.
   */
  receiveChunk(
    now: number | undefined,
    maxBytes: number,
    allocate: (length: number) => Uint8Array,
  ): Uint8Array | null {
    const tcb = this.tcb;
    const buffer = tcb.receiveBuffer;
    if (buffer.readable === 0) return tcb.remoteFinReceived || tcb.state === 'CLOSED' ? null : EMPTY_CHUNK;
    const data = buffer.readChunk(Math.max(1, Math.floor(maxBytes)), allocate);
    tcb.bytesRead += data.length;
    this.readDone(now);
    return data;
  }

  /** Like `receive` into a caller's buffer: returns the byte count, or -1 at end of stream. */
  receiveInto(dst: Uint8Array, now?: number): number {
    const tcb = this.tcb;
    if (tcb.receiveBuffer.readable === 0) return tcb.remoteFinReceived || tcb.state === 'CLOSED' ? -1 : 0;
    const n = tcb.receiveBuffer.readInto(dst);
    tcb.bytesRead += n;
    this.readDone(now);
    return n;
  }

  /** After bytes were read: the window may open (an ACK), run as an input of its own. */
  private readDone(now: number | undefined): void {
    if (this.enter(now)) {
      this.afterRead();
      return;
    }
    try {
      this.afterRead();
      this.settle();
    } finally {
      this.depth = 0;
    }
  }

  /**
   * CLOSE (§3.10.4): no more data will be sent; a FIN follows the data already queued. Receiving goes on
   * (half-close, MAY-1) until the peer's FIN. In SYN-SENT the connection simply goes away; in
   * SYN-RECEIVED the FIN waits for ESTABLISHED. Calling it again, or when closed, does nothing.
   */
  close(now: number): void {
    this.run(now, () => {
      const tcb = this.tcb;
      switch (tcb.state) {
        case 'SYN-SENT':
          tcb.terminate();
          return;
        case 'SYN-RECEIVED':
          tcb.finQueued = true;
          return;
        case 'ESTABLISHED':
          tcb.finQueued = true;
          tcb.setState('FIN-WAIT-1');
          transmitPending(tcb);
          return;
        case 'CLOSE-WAIT':
          tcb.finQueued = true;
          tcb.setState('LAST-ACK');
          transmitPending(tcb);
          return;
        default:
          return;
      }
    });
  }

  /**
   * The application is done with the connection in both directions (like close(2) on a socket). If
   * received data was never read, the connection is aborted with RST to say it was lost (RFC 1122
   * §4.2.2.13, SHLD-3); otherwise it closes (FIN) and, once orphaned, data arriving later is answered
   * with RST and FIN-WAIT-2 is limited to `finWait2TimeoutMs`.
   */
  release(now: number): void {
    this.run(now, () => {
      const tcb = this.tcb;
      if (tcb.state === 'CLOSED') return;
      const wasOrphaned = tcb.orphaned;
      tcb.orphaned = true;
      if (tcb.receiveBuffer.readable > 0) {
        this.abortNow();
        return;
      }
      if (!wasOrphaned && tcb.state !== 'TIME-WAIT' && tcb.env.admitOrphan?.() === false) {
        // Too many orphans already (Linux tcp_max_orphans, "too many orphaned sockets"): this one is
        // reset rather than left to finish its close on its own (RFC 6429 §2 allows resource-based aborts).
        tcb.env.counters.orphansReset++;
        tcb.note('too many orphaned connections: reset');
        this.abortNow();
        return;
      }
      if (tcb.state === 'FIN-WAIT-2') tcb.timers.set(FIN_WAIT_2, now + tcb.config.finWait2TimeoutMs);
      this.close(now);
    });
  }

  /**
   * ABORT (§3.10.5): in SYN-RECEIVED, ESTABLISHED, FIN-WAIT-1/2 and CLOSE-WAIT a RST is sent
   * (<SEQ=SND.NXT><CTL=RST>, MUST-12 tells the peer); in every state the connection goes to CLOSED at
   * once and all queued data is discarded. The caller knows it aborted: 'closed' follows, no 'error'.
   */
  abort(now: number): void {
    this.run(now, () => this.abortNow());
  }

  /** Turns Nagle's algorithm off (true) or on (false) for this connection (MUST-17). */
  setNoDelay(noDelay: boolean, now: number): void {
    this.run(now, () => {
      this.tcb.nagle = !noDelay;
      if (noDelay) transmitPending(this.tcb);
    });
  }

  /**
   * Keepalives on or off for this connection (MUST-24), with an optional idle time before the first
   * probe (MUST-27).
   */
  setKeepAlive(enable: boolean, now: number, idleMs?: number): void {
    this.run(now, () => {
      const tcb = this.tcb;
      if (idleMs !== undefined) {
        if (!(idleMs > 0)) throw new TcpError('EINVAL', `keepalive idle time must be > 0, got ${idleMs}`);
        tcb.keepAliveIdleMs = idleMs;
      }
      tcb.keepAlive = enable;
      tcb.keepaliveProbesSent = 0;
      if (enable && tcb.synchronized && tcb.state !== 'TIME-WAIT') {
        tcb.timers.set(
          KEEPALIVE,
          Math.max(tcb.lastReceiveTime, now - tcb.keepAliveIdleMs) + tcb.keepAliveIdleMs,
        );
      } else {
        tcb.timers.cancel(KEEPALIVE);
      }
    });
  }

  /**
   * An ICMP error quoting one of our segments (§3.9.2.2). Errors whose quoted sequence number is not in
   * flight are ignored (RFC 5927 §4.1); source quench is ignored (MUST-55). Fragmentation-needed lowers
   * the MSS and resends (RFC 1191).
   *
   * During a connection attempt (SYN-SENT, or SYN-RECEIVED after a simultaneous open) any other error
   * ends the attempt at once with its errno (EHOSTUNREACH, ENETUNREACH, ECONNREFUSED ...), as Linux does:
   * RFC 5461 §4.1 describes this widespread choice, which spares an application minutes of SYN retries
   * towards a host a router already said it cannot reach. It departs from MUST-56 (soft errors never
   * abort) for the handshake only; `abortConnectOnIcmpError: false` restores the letter of the RFC, where
   * only the hard errors (protocol and port unreachable, SHLD-26) end an attempt. An embryonic connection
   * of a listener is dropped, silently, on a hard error. In synchronized states every error is soft
   * (MUST-56, and RFC 5927 §4.2 for the hard ones): it is reported and remembered, and explains a later
   * timeout, but never aborts.
   */
  /**
   * RFC 5927 §4.1: an ICMP error is believed only when the sequence number it quotes is in flight
   * (SND.UNA <= seq < SND.MAX); a blind attacker cannot guess one. Nothing is believed in CLOSED or
   * TIME-WAIT.
   */
  acceptsIcmpError(error: TcpIcmpError): boolean {
    const tcb = this.tcb;
    if (tcb.state === 'CLOSED' || tcb.state === 'TIME-WAIT') return false;
    return seqGe(error.seq, tcb.sndUna) && seqLt(error.seq, tcb.sndMax);
  }

  /**
   * The path MTU toward the peer went down to `mtu` (learned from a validated ICMP report, possibly one
   * about another connection to the same host): later segments are cut to the new MSS. Returns whether
   * the MSS went down. Ignored when `mtu` is not lower.
   */
  lowerPathMtu(mtu: number, now: number): boolean {
    let lowered = false;
    this.run(now, () => {
      const tcb = this.tcb;
      if (tcb.state === 'CLOSED' || tcb.state === 'TIME-WAIT' || !(mtu >= 68) || mtu >= tcb.pathMtu) return;
      keepMtuSearchRange(tcb);
      tcb.pathMtu = mtu;
      const before = tcb.effMss;
      tcb.updateEffectiveMss(MIN_SEND_MSS);
      lowered = tcb.effMss < before;
    });
    return lowered;
  }

  handleIcmpError(error: TcpIcmpError, now: number): void {
    this.run(now, () => {
      const tcb = this.tcb;
      if (error.kind === 'source-quench') return;
      if (!this.acceptsIcmpError(error)) {
        tcb.drop(`ICMP ${error.kind}: quoted sequence number not in flight`);
        return;
      }
      if (error.kind === 'fragmentation-needed') {
        const before = tcb.pathMtu;
        this.lowerPathMtu(error.mtu ?? 0, now);
        // RFC 1191 §6.4: what was sent too big is sent again, re-cut to the new MSS (the send queue is
        // cut when segments are built, so re-sending from SND.UNA re-segments it): when this report's
        // datagram no longer fits, or (length unknown) when the MTU just went down.
        const tooBig =
          error.datagramLength !== undefined ? error.datagramLength > tcb.pathMtu : tcb.pathMtu < before;
        if (tooBig && tcb.ccReady && tcb.flightSize > 0) {
          tcb.timing = undefined;
          tcb.sndNxt = tcb.sndUna;
          transmitPending(tcb, true);
        }
        return;
      }
      const tcpError = new TcpError(error.code ?? errnoForIcmpKind(error.kind), `ICMP ${error.kind}`);
      const hard = isHardIcmpKind(error.kind); // the one hard/soft rule (ip/icmp-errors.ts)
      const attempt = tcb.state === 'SYN-SENT' || (tcb.state === 'SYN-RECEIVED' && !tcb.passive);
      if (attempt && (hard || tcb.config.abortConnectOnIcmpError)) {
        tcb.env.counters.attemptFails++;
        tcb.terminate(tcpError);
        return;
      }
      if (tcb.state === 'SYN-RECEIVED' && tcb.passive && hard) {
        // The application never saw this connection: it simply goes away (the listener stays).
        tcb.env.counters.attemptFails++;
        tcb.terminate();
        return;
      }
      tcb.softError = tcpError;
      tcb.env.event({ type: 'soft-error', error: tcpError });
    });
  }

  /**
   * @internal What a compact TIME-WAIT record keeps of this connection (see time-wait.ts), taken by the
   * layer when the connection enters TIME-WAIT: written into `into` (the layer's one scratch record,
   * copied into the table at once), so entering TIME-WAIT allocates no record.
   */
  timeWaitFields(into: TimeWaitFields): TimeWaitFields {
    const tcb = this.tcb;
    into.localAddress = tcb.local.address;
    into.localPort = tcb.local.port;
    into.remoteAddress = tcb.remote.address;
    into.remotePort = tcb.remote.port;
    into.sndNxt = ackSeq(tcb);
    into.rcvNxt = tcb.rcvNxt;
    into.rcvWnd = tcb.rcvWnd;
    into.windowField = selectWindow(tcb);
    into.maxSndWnd = tcb.maxSndWnd;
    into.tsEnabled = tcb.tsEnabled;
    into.tsRecent = tcb.tsRecent;
    into.tsRecentAt = tcb.tsRecentAt;
    into.tsOffset = tcb.tsOffset;
    into.lastInvalidAnswerTime = tcb.lastInvalidAnswerTime;
    into.mslMs = tcb.config.mslMs;
    into.invalidRateLimitMs = tcb.config.invalidRateLimitMs;
    return into;
  }

  /**
   * @internal A record now does this connection's TIME-WAIT: its timers stop and its send storage is
   * given back. Received data not yet read stays readable; the state reads TIME-WAIT until `endTimeWait`.
   */
  releaseForTimeWait(now: number): void {
    this.run(now, () => {
      this.tcb.timers.cancelAll();
      this.tcb.sendBuffer.clear();
      this.tcb.sendBuffer.releaseStorage();
    });
  }

  /**
   * @internal TIME-WAIT is over (expired, taken over by a new SYN, or not kept: the TIME-WAIT table was
   * full): CLOSED, with 'state' and 'closed' for the application. The layer traces the change itself.
   */
  endTimeWait(now: number): void {
    this.run(now, () => {
      const tcb = this.tcb;
      if (tcb.state !== 'TIME-WAIT') return;
      tcb.timers.cancelAll();
      tcb.state = 'CLOSED';
      tcb.env.event({ type: 'state', from: 'TIME-WAIT', to: 'CLOSED' });
      tcb.env.event(CLOSED_EVENT);
    });
  }

  /** Bytes of ours the peer has acknowledged so far (grows with every ACK of new data). */
  get acknowledgedBytes(): number {
    return this.tcb.bytesAcked;
  }

  /** STATUS (§3.10.6). */
  status(): TcpConnectionStatus {
    if (this.tcb.state === 'TIME-WAIT') this.timeWaitOver();
    const tcb = this.tcb;
    const timers: Partial<Record<TimerName, number>> = {};
    for (let id = 0 as TimerId; id < TIMER_NAMES.length; id++) {
      if (tcb.timers.isArmed(id)) timers[TIMER_NAMES[id]!] = tcb.timers.get(id);
    }
    const readSeq = seqAdd(tcb.rcvNxt, -tcb.receiveBuffer.readable - (tcb.remoteFinReceived ? 1 : 0));
    // Reading the figures must not create the scoreboard of a connection that never needed one.
    const board = tcb.existingScoreboard;
    return {
      state: tcb.state,
      local: tcb.local,
      remote: tcb.remote,
      // Sequence numbers as people read them: unsigned (TCP keeps them signed, see seq.ts).
      iss: tcb.iss >>> 0,
      irs: tcb.irs >>> 0,
      sndUna: tcb.sndUna >>> 0,
      sndNxt: tcb.sndNxt >>> 0,
      sndMax: tcb.sndMax >>> 0,
      sndWnd: tcb.sndWnd,
      sndWindowScale: tcb.sndWindowScale,
      rcvWindowScale: tcb.rcvWindowScale,
      sackEnabled: tcb.sackEnabled,
      timestampsEnabled: tcb.tsEnabled,
      windowScalingEnabled: tcb.synchronized && tcb.offeredWindowScale !== undefined,
      ecnEnabled: tcb.ecnEnabled,
      sackedBytes: board?.sackedBytes ?? 0,
      lostBytes: board?.lostBytes ?? 0,
      retransmittedOutstandingBytes: board?.retransmittedOutstanding ?? 0,
      reorderingSeen: board?.reorderEvents ?? 0,
      reordering: board?.reordering ?? DUP_THRESH,
      minRtt: Number.isFinite(tcb.minRttMs) ? tcb.minRttMs : 0,
      deliveryRate: tcb.deliveryRate,
      deliveryRateAppLimited: tcb.deliveryRateAppLimited,
      congestionState: tcb.cc?.phase ?? '',
      rcvNxt: tcb.rcvNxt >>> 0,
      rcvWnd: tcb.rcvWnd,
      effectiveMss: tcb.effMss,
      advertisedMss: tcb.advertisedMss,
      peerMss: tcb.peerMss,
      pathMtu: tcb.pathMtu,
      srtt: tcb.rtt.srtt,
      rttvar: tcb.rtt.rttvar,
      rto: tcb.rtt.rto,
      congestionControl: tcb.cc?.name ?? '',
      cwnd: tcb.cc?.cwnd ?? 0,
      ssthresh: tcb.cc?.ssthresh ?? 0,
      inRecovery: tcb.cc?.inRecovery ?? false,
      bytesInFlight: tcb.flightSize,
      sendQueued: tcb.sendBuffer.length,
      sendUnsent: tcb.sendBuffer.bytesFrom(tcb.sndNxt),
      receiveQueued: tcb.receiveBuffer.readable,
      urgentPending: tcb.rcvUrgent ? Math.max(0, seqDiff(tcb.rcvUp, readSeq)) : 0,
      finSent: tcb.finSent,
      finAcked: tcb.finAcked,
      remoteFinReceived: tcb.remoteFinReceived,
      noDelay: !tcb.nagle,
      keepAlive: tcb.keepAlive,
      orphaned: tcb.orphaned,
      retransmissions: tcb.retransmissions,
      bytesWritten: tcb.bytesWritten,
      bytesRead: tcb.bytesRead,
      segmentsSent: tcb.segmentsSent,
      segmentsReceived: tcb.segmentsReceived,
      bytesSent: tcb.bytesSent,
      bytesRetransmitted: tcb.bytesRetransmitted,
      bytesAcked: tcb.bytesAcked,
      bytesReceived: tcb.bytesReceived,
      timers,
      lastSoftError: tcb.softError?.code,
      error: tcb.closeError?.code,
    };
  }

  private abortNow(): void {
    const tcb = this.tcb;
    switch (tcb.state) {
      case 'SYN-RECEIVED':
      case 'ESTABLISHED':
      case 'FIN-WAIT-1':
      case 'FIN-WAIT-2':
      case 'CLOSE-WAIT':
        sendReset(tcb, tcb.sndMax);
        break;
      default:
        break;
    }
    tcb.receiveBuffer.clear();
    tcb.terminate();
  }

  /** After the application read: the urgent mark may be passed, and the window may have opened. */
  private afterRead(): void {
    const tcb = this.tcb;
    if (tcb.rcvUrgent) {
      const readSeq = seqAdd(tcb.rcvNxt, -tcb.receiveBuffer.readable - (tcb.remoteFinReceived ? 1 : 0));
      if (seqLe(tcb.rcvUp, readSeq)) tcb.rcvUrgent = false;
    }
    const state = tcb.state;
    if (state !== 'ESTABLISHED' && state !== 'FIN-WAIT-1' && state !== 'FIN-WAIT-2') return;
    if (tcb.remoteFinReceived) return;
    tcb.autotuneReceiveBuffer();
    // Window update (RFC 9293 §3.8.6.2.2): tell the peer once the window has at least doubled (or opened
    // from nothing), as Linux's tcp_cleanup_rbuf does. A reader that keeps up never gets there: the ACKs
    // the data calls for (one per two segments, §3.8.6.3) carry the opened window, so the receiver sends
    // ~0.5 segments per data segment; an update for every read worth two MSS made it ~0.67.
    const current = tcb.rcvWnd;
    const next = windowIfAdvertisedNow(tcb);
    if (next > current && next >= 2 * current) sendAck(tcb);
  }

  /**
   * Runs one input, then reports a moved deadline and delivers the events it caused. Only the outermost
   * call delivers: a listener that calls back into the connection (a 'readable' listener calling
   * `receive()`, say) runs its call to completion with its events queued behind the ones still waiting, so
   * no listener ever sees an event from inside its own call, and events keep the order they happened in
   * ('end' after the last 'readable' whose bytes it follows).
   */
  private run<T>(now: number, body: () => T): T {
    if (this.enter(now)) return body();
    try {
      const result = body();
      this.settle();
      return result;
    } finally {
      this.depth = 0;
    }
  }

  /**
   * Starts an input at `now` (undefined: the clock's time, see the class comment). Returns true for a
   * nested call (made from a listener), which must neither settle nor leave; otherwise the caller is the
   * outermost call and must settle and reset the depth.
   */
  private enter(now: number | undefined): boolean {
    // The time of the input being processed; output code reads it from here (e.g. for timestamps).
    // A whole time is stored as a small integer. It can come as a heap number (read by code not yet
    // optimised from the clock's Float64Array, or a deadline such as a delayed ACK's 40 ms passed to
    // onTimer); stored as it came it made `now` a double field although no time had a fraction, and code
    // optimised on connections whose `now` was a small integer deoptimised ("wrong map") on later ones.
    // Two stores, not one store of a value that is either: optimised code would box that value into a
    // heap number on every input once times have fractions (on any path with delay).
    const tcb = this.tcb;
    if (now === undefined) {
      const clock = tcb.env.clock;
      if (clock !== undefined) {
        const reading = clock.reading;
        const time = reading !== undefined ? reading[0]! : clock.now();
        if (time > tcb.now) {
          if ((time | 0) === time) tcb.now = time | 0;
          else tcb.now = time;
        }
      }
    } else if (now > tcb.now) {
      if ((now | 0) === now) tcb.now = now | 0;
      else tcb.now = now;
    }
    // A call on a connection whose TIME-WAIT ended unseen finds it CLOSED (see `state`).
    if (this.tcb.state === 'TIME-WAIT' && this.depth === 0) this.timeWaitOver();
    if (this.depth > 0) return true;
    this.depth = 1;
    return false;
  }

  /** @internal The layer let go of this connection (see Tcb.releaseScoreboard). */
  releaseSendRecords(): void {
    this.tcb.releaseScoreboard();
  }

  /**
   * Stops charging this connection's buffers to the stack's TCP memory (its owner let it go: closed, or
   * handed to TIME-WAIT); what they hold is taken off the total.
   */
  detachMemory(): void {
    const reported = this.memoryReported;
    if (reported === undefined) return;
    this.memoryReported = undefined;
    if (reported !== 0) this.tcb.env.memory?.adjust(-reported);
  }

  private reportMemory(reported: number): void {
    const memory = this.tcb.env.memory;
    if (memory === undefined) return;
    const held = this.tcb.sendBuffer.allocated + this.tcb.receiveBuffer.allocated;
    if (held === reported) return;
    memory.adjust(held - reported);
    this.memoryReported = held;
  }

  /**
   * Delivers queued events (listeners may queue more), reports the deadline whenever it moved, and what
   * the buffers hold to the stack's TCP memory.
   */
  private settle(): void {
    let failure: unknown;
    let failed = false;
    let next = 0;
    for (;;) {
      if (this.tcb.timers.reportMoved()) this.owner.deadlineChanged(this);
      if (next === this.pendingCount) {
        // Once per input, after its listeners (which may have written or read on this connection).
        if (this.memoryReported !== undefined) this.reportMemory(this.memoryReported);
        break;
      }
      const event = this.pending![next++]!;
      try {
        this.deliver(event);
      } catch (error) {
        if (!failed) {
          failed = true;
          failure = error;
        }
      }
    }
    const pending = this.pending;
    if (pending !== undefined) {
      // Delivered: the queue keeps its storage (its length stays) but not the events.
      for (let i = 0; i < this.pendingCount; i++) pending[i] = undefined as unknown as ConnectionEvent;
      this.pending = undefined;
      if (EVENT_QUEUES.length < EVENT_QUEUES_KEPT) EVENT_QUEUES.push(pending);
    }
    this.pendingCount = 0;
    if (failed) throw failure;
  }

  private deliver(event: ConnectionEvent): void {
    switch (event.type) {
      case 'state':
        this.owner.stateChanged?.(event.from, event.to);
        this.emit('state', event.from, event.to);
        return;
      case 'retransmission-warning':
        this.emit('retransmission-warning', event.retransmissions);
        return;
      case 'urgent':
        this.emit('urgent', event.pending);
        return;
      case 'soft-error':
        this.emit('soft-error', event.error);
        return;
      case 'error':
        this.emit('error', event.error);
        this.observer?.streamEvent('error', event.error);
        return;
      case 'connected':
        this.owner.connected?.();
        this.call('connected', 0);
        break;
      case 'closed':
        this.owner.closed?.();
        this.call('closed', 0);
        break;
      default:
        this.call(event.type, 0);
    }
    this.observer?.streamEvent(event.type);
  }
}

/** Sets up the send sequence space for a new connection with initial sequence number `iss`. */
function initSend(tcb: Tcb, iss: number, now: number): void {
  tcb.iss = iss | 0;
  tcb.sndUna = tcb.iss;
  tcb.sndNxt = seqAdd(tcb.iss, 1);
  tcb.sndMax = tcb.sndNxt;
  tcb.shortSegmentEnd = tcb.iss;
  tcb.sendBuffer.resetStart(tcb.sndNxt);
  tcb.stallSince = now;
  tcb.startTiming(tcb.sndNxt);
}
