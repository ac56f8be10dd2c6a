/**
 * The TCP layer of one stack: it owns the connections and listeners, demultiplexes arriving segments by
 * 4-tuple, answers segments that match nothing, picks ephemeral ports and ISNs, and runs every
 * connection's timers from a single Clock timer.
 *
 * ## Plugging it into IP
 *
 * A Stack owns one (`stack.tcp`, created on first use). Elsewhere, the IP layer implements `TcpIpBinding`
 * and hands arriving TCP segments (already parsed and checksum-verified) to `receive(src, dst, segment)`,
 * and its error reports about segments we sent to `receiveIcmpError(report)` (the two methods of IP's
 * TcpReceiver):
 *
 *     const tcp = new TcpLayer({ ip: binding, clock });
 *     // IP, for each arriving TCP segment:  tcp.receive(ipHeader.src, ipHeader.dst, parsedSegment)
 *     // IP, for errors about a TCP segment we sent:  tcp.receiveIcmpError(report)
 *     // or, already decoded:  tcp.handleIcmpError({ kind: 'port-unreachable' }, { src, dst, srcPort, dstPort, seq })
 *
 * `binding.send(src, dst, segment)` must serialize the segment (the payload view is only valid during
 * the call) and should not deliver anything back into this layer synchronously; a loopback path should
 * go through the clock (a 0 ms timer). Re-entrant calls are queued and handled in order, but a segment a
 * connection sends to itself while inside one of its own calls is only safe that way.
 *
 * ## Demultiplexing (RFC 9293 §3.10.7)
 *
 * A segment goes to the connection with its exact 4-tuple; otherwise to the listener on its destination
 * port with the same local address, else the wildcard listener (MUST-42: both may exist, the specific
 * one wins); otherwise it gets the reset of §3.10.7.1 (never a reset for a reset). Segments to or from
 * broadcast and multicast addresses are dropped (MUST-57).
 */
import type { TransportErrorReport } from '../ip/datagram.js';
import {
  FRAME_HELD,
  FRAME_RELEASED,
  type FrameDisposition,
  type TcpIpBinding,
  type TcpSendStatus,
} from '../seams.js';
import type { Clock, ReusableTimer, TimerHandle } from '../time/clock.js';
import type { ConnectionId, TcpStateName, Tracer } from '../trace/events.js';
import { NO_TRACE } from '../trace/events.js';
import { Random } from '../util/random.js';
import { deriveSecretBytes, sipHashKey } from '../util/siphash.js';
import { type IpAddress, isLoopbackIp } from '../wire/ipv6-address.js';
import {
  copyTcpSegment,
  TCP_ACK,
  TCP_CWR,
  TCP_ECE,
  TCP_FIN,
  TCP_RST,
  TCP_SYN,
  type TcpOptions,
  type TcpSegment,
} from '../wire/tcp.js';
import { ChallengeAckBudget, type InvalidSegmentAnswer, invalidAnswerVerdict } from './ack-rate-limits.js';
import {
  DEFAULT_IPV4_MSS,
  DEFAULT_IPV6_MSS,
  DEFAULT_TCP_CONFIG,
  IPV4_TCP_HEADERS,
  IPV6_TCP_HEADERS,
  receiveBufferCeiling,
  resolveTcpConfig,
  type TcpConfig,
} from './config.js';
import type { CongestionControlFactory } from './congestion/congestion-control.js';
import {
  TcpConnection,
  type TcpConnectionOptions,
  type TcpConnectionOwner,
  type TcpConnectionShared,
  type TcpIcmpError,
} from './connection.js';
import { newTcpCounters, type TcpCounters } from './counters.js';
import { DeadlineQueue } from './deadline-queue.js';
import { ecnRequested } from './ecn.js';
import { EphemeralPortAllocator } from './ephemeral-ports.js';
import { TcpError } from './errors.js';
import { decodeErrorReport } from './icmp-report.js';
import { IsnGenerator } from './isn.js';
import { resolveTcpLimits, type TcpLimits } from './limits.js';
import { TcpMemory } from './memory.js';
import { MAX_UNSCALED_WINDOW } from './output.js';
import { receiveBufferCounters } from './receive-buffer.js';
import { PAWS_IDLE_LIMIT_MS } from './segment-arrives.js';
import { seqAdd, seqGe, seqGt, seqInRange, seqLe, seqLt } from './seq.js';
import {
  cookieMssIndex,
  decodeCookieTimestamp,
  encodeCookieTimestamp,
  SYN_COOKIE_MSS_TABLE,
  SynCookieCodec,
} from './syn-cookies.js';
import { windowScaleFor } from './tcb.js';
import { type TimeWaitFields, TimeWaitTable } from './time-wait.js';
import { TypedEmitter } from './typed-emitter.js';

export type { TcpIpBinding, TcpSendStatus } from '../seams.js';

export interface TcpLayerOptions {
  ip: TcpIpBinding;
  clock: Clock;
  /** Defaults for every connection of this layer. */
  config?: Partial<TcpConfig>;
  /**
   * 32 secret bytes: the first 16 key the ISN hash (RFC 6528), the last 16 the ephemeral port hash
   * (RFC 6056). Fixed for the life of the stack. When absent, taken from `crypto.getRandomValues`; a
   * simulation passes bytes from its seeded generator so runs repeat exactly.
   */
  secret?: Uint8Array;
  tracer?: Tracer;
  /** Host name for trace events. */
  host?: string;
  congestionControl?: CongestionControlFactory;
  /** Stack-wide limits (SYN cookies, queue bounds, challenge ACK budget ...); see TcpLimits. */
  limits?: Partial<TcpLimits>;
}

export interface ListenOptions {
  /** Port to listen on; 0 picks a free ephemeral port. */
  port: number;
  /**
   * Local address, or a wildcard for every local address: 0 (default) for every IPv4 address, 0n for
   * every IPv6 address and — unless `ipv6Only` — every IPv4 address too (a dual-stack listener, as a
   * Linux AF_INET6 socket bound to :: with IPV6_V6ONLY off).
   */
  address?: IpAddress;
  /** For the IPv6 wildcard 0n: take IPv6 connections only (IPV6_V6ONLY). Default false. */
  ipv6Only?: boolean;
  /**
   * Established connections not yet accepted (the accept queue), capped by `TcpLimits.somaxconn`, as
   * listen(2)'s backlog. It also bounds the connections still in the handshake (the SYN queue), together
   * with `TcpLimits.maxSynBacklog`. Default 128.
   */
  backlog?: number;
  /** Configuration overrides for the connections this listener accepts. */
  config?: Partial<TcpConfig>;
}

export interface AnyDestinationListenOptions extends Omit<ListenOptions, 'port' | 'address'> {
  /**
   * Asked for each SYN before a connection is made for it: false drops the SYN (the caller may hand it
   * to `receive` again later, e.g. once the gateway's upstream connection is open, so the guest gets its
   * SYN-ACK only when the far end accepted — or a reset when it refused). Only a SYN turned away may be
   * kept as it is: one admitted goes back to its device (FRAME_RELEASED), so a hook that keeps it copies it.
   */
  admit?: (src: IpAddress, dst: IpAddress, syn: TcpSegment) => boolean;
}

export interface ConnectOptions {
  remoteAddress: IpAddress;
  remotePort: number;
  /** Local address; default: the address of the route towards the remote (MUST-44). */
  localAddress?: IpAddress;
  /** Local port; default: an ephemeral port (RFC 6056). */
  localPort?: number;
  config?: Partial<TcpConfig>;
}

/** The quoted segment of an ICMP error: the addresses and ports as we sent them. */
export interface QuotedTcpSegment {
  /** Our address (the quoted packet's source). */
  src: IpAddress;
  /** The remote address (the quoted packet's destination). */
  dst: IpAddress;
  srcPort: number;
  dstPort: number;
  seq: number;
}

export type TcpListenerEvents = {
  /** A connection completed its handshake. Taking it from this event accepts it. */
  connection: [connection: TcpConnection];
  close: [];
};

export const DEFAULT_BACKLOG = 128;

/** A passive OPEN (§3.10.1) on a port, spawning a connection per arriving SYN. */
export class TcpListener extends TypedEmitter<TcpListenerEvents> {
  readonly address: IpAddress;
  readonly port: number;
  /** A listener on the IPv6 wildcard that does not take IPv4 connections (IPV6_V6ONLY). */
  ipv6Only = false;
  /** Bound of the accept queue: the backlog asked for, capped by `somaxconn`. */
  readonly backlog: number;
  /** Bound of the SYN queue (connections in SYN-RECEIVED): min(backlog, `maxSynBacklog`). */
  readonly synQueueLimit: number;
  /** When a SYN cookie was last sent (-Infinity: never); cookies are accepted only for a while after. */
  lastCookieTime = Number.NEGATIVE_INFINITY;
  /** @internal */
  readonly config: TcpConfig;
  /** Connections in SYN-RECEIVED. @internal */
  readonly embryonic = new Set<TcpConnection>();
  /** Established, not yet accepted. @internal */
  readonly acceptQueue: TcpConnection[] = [];
  private readonly layer: TcpLayer;
  private closed = false;

  /** @internal */
  constructor(
    layer: TcpLayer,
    address: IpAddress,
    port: number,
    backlog: number,
    synQueueLimit: number,
    config: TcpConfig,
  ) {
    super();
    this.layer = layer;
    this.address = address;
    this.port = port;
    this.backlog = backlog;
    this.synQueueLimit = synQueueLimit;
    this.config = config;
  }

  /** Connections in the handshake (SYN-RECEIVED). */
  get halfOpenCount(): number {
    return this.embryonic.size;
  }

  /** @internal The accept queue is full: no connection may complete its handshake now. */
  get acceptQueueFull(): boolean {
    return this.acceptQueue.length >= this.backlog;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Established connections waiting for `accept()`. */
  get pendingCount(): number {
    return this.acceptQueue.length;
  }

  /** Takes the oldest established connection not yet accepted, if any. */
  accept(): TcpConnection | undefined {
    return this.acceptQueue.shift();
  }

  /**
   * Stops listening. Connections already accepted are untouched; those not yet accepted (and those still
   * in the handshake) are aborted with RST, as there is no one left to take them.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.layer.unlisten(this);
    const now = this.layer.now();
    for (const conn of [...this.embryonic, ...this.acceptQueue]) conn.abort(now);
    this.embryonic.clear();
    this.acceptQueue.length = 0;
    this.emit('close');
  }

  /** @internal */
  established(conn: TcpConnection): void {
    this.embryonic.delete(conn);
    if (this.listenerCount('connection') > 0) this.emit('connection', conn);
    else this.acceptQueue.push(conn);
  }

  /** @internal */
  forget(conn: TcpConnection): void {
    this.embryonic.delete(conn);
    const i = this.acceptQueue.indexOf(conn);
    if (i >= 0) this.acceptQueue.splice(i, 1);
  }
}

/** What a connection entry asks of its layer: one object per layer, so entries hold no closures. */
interface EntryHost {
  readonly ip: TcpIpBinding;
  /** The layer's clock runs a timer for now in the same instant (Clock.zeroDelayInSameInstant). */
  readonly timersAfterBurst: boolean;
  /** It does not, and the layer runs connections' timers for now from a microtask (see `armClock`). */
  readonly timersAfterBatch: boolean;
  deadlineChanged(entry: ConnectionEntry): void;
  admitOrphan(entry: ConnectionEntry): boolean;
  connected(entry: ConnectionEntry): void;
  toTimeWait(entry: ConnectionEntry): void;
  unregister(entry: ConnectionEntry): void;
  /** True while the TIME-WAIT record in `slot` with `serial` is held. */
  timeWaitHolds(slot: number, serial: number): boolean;
  /** From now on the end of that record is told to `conn` (false: it has already ended). */
  watchTimeWait(slot: number, serial: number, conn: TcpConnection): boolean;
}

/** ConnectionEntry.flags. */
const ENTRY_REMOVED = 1;
const ENTRY_ATTACHED = 2;
const ENTRY_ORPHAN = 4;

/** The layer's record of one connection, and that connection's owner (TcpConnectionOwner). */
class ConnectionEntry implements TcpConnectionOwner {
  conn: TcpConnection = undefined as unknown as TcpConnection;
  /** When the layer will next look at the connection: a heap entry with this deadline (Infinity: none). */
  scheduled = Number.POSITIVE_INFINITY;
  /**
   * REMOVED, ATTACHED and ORPHAN (see their getters) in one number: a field per flag would be 16 B more
   * per connection (100,000 idle connections are 1.6 MB).
   */
  private flags = 0;
  /** The listener that spawned the connection, while it is in the handshake. */
  listener: TcpListener | undefined = undefined;
  /** The listener that spawned the connection (its accept queue may still hold it once established). */
  spawnedBy: TcpListener | undefined = undefined;
  /** Neighbours in the layer's list of connections, oldest first (see TcpLayer.oldestEntry). */
  older: ConnectionEntry | undefined = undefined;
  newer: ConnectionEntry | undefined = undefined;
  /**
   * The TIME-WAIT record (slot and serial, see TimeWaitTable.holds) doing the wait of a connection that
   * the layer does not tell when the record ends: the connection asks (`timeWaitEnded`). -1: none.
   */
  timeWaitSlot = -1;
  timeWaitSerial = 0;

  constructor(
    private readonly host: EntryHost,
    readonly localAddress: IpAddress,
    readonly localPort: number,
    readonly remoteAddress: IpAddress,
    readonly remotePort: number,
  ) {}

  /** Taken out of the layer (closed, or its TIME-WAIT went to a record). */
  get removed(): boolean {
    return (this.flags & ENTRY_REMOVED) !== 0;
  }
  set removed(value: boolean) {
    this.flags = value ? this.flags | ENTRY_REMOVED : this.flags & ~ENTRY_REMOVED;
  }

  /** In the layer's table: the connection's events reach the layer (see `register`). */
  get attached(): boolean {
    return (this.flags & ENTRY_ATTACHED) !== 0;
  }
  set attached(value: boolean) {
    this.flags = value ? this.flags | ENTRY_ATTACHED : this.flags & ~ENTRY_ATTACHED;
  }

  /** Counted in the layer's orphans (the application released it before it closed). */
  get orphan(): boolean {
    return (this.flags & ENTRY_ORPHAN) !== 0;
  }
  set orphan(value: boolean) {
    this.flags = value ? this.flags | ENTRY_ORPHAN : this.flags & ~ENTRY_ORPHAN;
  }

  // biome-ignore lint/suspicious/noConfusingVoidType: as TcpConnectionOwner.output
  output(segment: TcpSegment, segmentSize?: number, ecn?: number): TcpSendStatus | undefined | void {
    return ecn === undefined
      ? this.host.ip.send(this.localAddress, this.remoteAddress, segment, segmentSize)
      : this.host.ip.send(this.localAddress, this.remoteAddress, segment, segmentSize, ecn);
  }

  deadlineChanged(_connection: TcpConnection): void {
    this.host.deadlineChanged(this);
  }

  get timersAfterBurst(): boolean {
    return this.host.timersAfterBurst;
  }

  get timersAfterBatch(): boolean {
    return this.host.timersAfterBatch;
  }

  admitOrphan(): boolean {
    return this.host.admitOrphan(this);
  }

  connected(): void {
    if (this.attached && !this.removed) this.host.connected(this);
  }

  stateChanged(_from: TcpStateName, to: TcpStateName): void {
    if (to === 'TIME-WAIT' && this.attached && !this.removed) this.host.toTimeWait(this);
  }

  closed(): void {
    if (this.attached) this.host.unregister(this);
  }

  timeWaitEnded(): boolean {
    const slot = this.timeWaitSlot;
    if (slot < 0 || this.host.timeWaitHolds(slot, this.timeWaitSerial)) return false;
    this.timeWaitSlot = -1;
    return true;
  }

  watchTimeWait(): boolean {
    const slot = this.timeWaitSlot;
    if (slot < 0) return true;
    this.timeWaitSlot = -1;
    return this.host.watchTimeWait(slot, this.timeWaitSerial, this.conn);
  }
}

interface QueuedSegment {
  src: IpAddress;
  dst: IpAddress;
  segment: TcpSegment;
  ecn: number;
}

/** How long after its last SYN cookie a listener still accepts ACKs returning one (Linux: 2 minutes). */
const COOKIE_ACCEPT_WINDOW_MS = 120_000;

/** The MSS announced on SYN-ACKs over a path of this MTU (MUST-67), as a connection computes it. */
function advertisedMssFor(mtu: number, remote: IpAddress): number {
  const headers = typeof remote === 'bigint' ? IPV6_TCP_HEADERS : IPV4_TCP_HEADERS;
  return Math.max(1, Math.min(mtu - headers, 65535));
}

/** The window of a cookie SYN-ACK: the whole (empty) receive buffer, unscaled (RFC 7323 §2.2). */
function cookieWindow(config: TcpConfig): number {
  return Math.min(config.receiveBufferSize, MAX_UNSCALED_WINDOW);
}

/** Stale deadline-heap entries tolerated beyond two per connection before a sweep (see `unregister`). */
const STALE_DEADLINES_SWEPT_ABOVE = 64;

/** Longest list of due connections `clockFired` keeps for its next call (see there). */
const DUE_LIST_KEPT = 1024;

/**
 * One map key for an endpoint: a number for IPv4 (exact below 2^48), a bigint for IPv6. A Map tells
 * 1 and 1n apart, so the two versions never collide.
 */
function endpointKey(address: IpAddress, port: number): number | bigint {
  return typeof address === 'number' ? address * 65536 + port : (address << 16n) | BigInt(port);
}

/** True for either version's unspecified address (0.0.0.0, ::). */
function isUnspecified(address: IpAddress): boolean {
  return address === 0 || address === 0n;
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 0 && port <= 65535;
}

export class TcpLayer {
  readonly counters: TcpCounters = newTcpCounters();
  /** Orphans now counted against `limits.maxOrphans`. */
  private orphans = 0;
  /** TcbEnvironment.tooManyOrphans, one function for every connection (it reads only the layer's counts). */
  private readonly tooManyOrphans = (backoffs: number): boolean =>
    this.orphans * 2 ** Math.min(backoffs, 30) > this.limits.maxOrphans;
  readonly config: TcpConfig;
  readonly limits: TcpLimits;
  private readonly ip: TcpIpBinding;
  private readonly clock: Clock;
  private readonly tracer: Tracer;
  private readonly host: string;
  private readonly congestionControl: CongestionControlFactory | undefined;
  private readonly isn: IsnGenerator;
  private readonly ports: EphemeralPortAllocator;
  private readonly cookies: SynCookieCodec;
  /** TIME-WAIT records (see time-wait.ts), and the connections of those the application still watches. */
  private readonly timeWait = new TimeWaitTable();
  /** What a connection entering TIME-WAIT hands to `timeWait` (refilled each time, copied at once). */
  private readonly timeWaitRecord: TimeWaitFields = {
    localAddress: 0,
    localPort: 0,
    remoteAddress: 0,
    remotePort: 0,
    sndNxt: 0,
    rcvNxt: 0,
    rcvWnd: 0,
    windowField: 0,
    maxSndWnd: 0,
    tsEnabled: false,
    tsRecent: 0,
    tsRecentAt: 0,
    tsOffset: 0,
    lastInvalidAnswerTime: 0,
    mslMs: 0,
    invalidRateLimitMs: 0,
  };
  private readonly timeWaitConnections = new Map<number, TcpConnection | WeakRef<TcpConnection>>();
  private readonly challengeAckBudget: ChallengeAckBudget;
  /** What every connection's buffers hold, against `limits.memoryMin/Pressure/Max` (tcp/memory.ts). */
  readonly memory: TcpMemory;
  /**
   * Random numbers for the congestion controllers (CongestionControlContext.random): one stream for the
   * layer, seeded from its secret, so a simulation repeats exactly and each connection draws its own.
   */
  private readonly ccRandom: () => number;
  /** What every connection of this layer shares (TcpConnectionOptions.shared). */
  private readonly connectionShared: TcpConnectionShared;
  /**
   * remote endpoint key -> the entry, or (when several local endpoints talk to that remote endpoint, as a
   * client's connections to one server do) local endpoint key -> entry. A server sees each client
   * endpoint once, so most remote endpoints hold one entry, kept without a map of its own.
   */
  private readonly table = new Map<
    number | bigint,
    ConnectionEntry | Map<number | bigint, ConnectionEntry>
  >();
  /**
   * The connections in the table, as a list through their entries, oldest first. A map would do, but one
   * that empties reallocates its hash table, and a layer that opens and closes connections one at a time
   * empties it every time.
   */
  private oldestEntry: ConnectionEntry | undefined;
  private newestEntry: ConnectionEntry | undefined;
  private entryCount = 0;
  /**
   * Connections (TIME-WAIT records included) using each local port, indexed by port: 256 KiB, taken with
   * the first connection. Every connection opened and closed counts in and out here, and an array index
   * costs less than a hash map entry that churns.
   */
  private localPortUse: Uint32Array | undefined;
  /** port -> local address (0 = IPv4 wildcard, 0n = IPv6 or dual-stack wildcard) -> listener. */
  private readonly listeners = new Map<number, Map<IpAddress, TcpListener>>();
  /** See `listenAnyDestination`. */
  private anyDestinationListener: TcpListener | undefined;
  private anyDestinationAdmit: AnyDestinationListenOptions['admit'];
  private readonly timers = new DeadlineQueue<ConnectionEntry>();
  /** What the clock is armed with now (`wakeUp`, `soon`, or a `setTimer` timer), undefined when nothing. */
  private timerHandle: TimerHandle | undefined;
  /**
   * The layer's wake-up on a clock that offers reusable timers, made at the first arming: set again after
   * every run, it allocates nothing, where a `setTimer` timer and its handle were two objects per arming
   * (a bulk transfer arms the clock about once per burst).
   */
  private wakeUp: ReusableTimer | undefined;
  /** The wake-up from a microtask (see `armClock`), made at its first use. */
  private soon: MicrotaskTimer | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private busy = false;
  private readonly queued: QueuedSegment[] = [];
  /** The entry the last segment went to (see `demultiplex`). */
  private lastEntry: ConnectionEntry | undefined;
  /** What every connection entry asks of this layer (one object, not closures per connection). */
  private readonly entryHost: EntryHost;

  constructor(options: TcpLayerOptions) {
    this.ip = options.ip;
    this.entryHost = {
      ip: options.ip,
      // A deadline for now reaches the connection through this clock (see `armClock`).
      timersAfterBurst: options.clock.zeroDelayInSameInstant === true,
      timersAfterBatch: options.clock.zeroDelayInSameInstant !== true,
      deadlineChanged: (entry) => this.deadlineChanged(entry),
      admitOrphan: (entry) => this.admitOrphan(entry),
      connected: (entry) => this.established(entry),
      toTimeWait: (entry) => this.toTimeWait(entry, entry.spawnedBy),
      unregister: (entry) => this.unregister(entry, entry.spawnedBy),
      timeWaitHolds: (slot, serial) => this.timeWait.holds(slot, serial),
      watchTimeWait: (slot, serial, conn) => {
        if (!this.timeWait.holds(slot, serial)) return false;
        this.timeWaitConnections.set(slot, conn);
        return true;
      },
    };
    this.clock = options.clock;
    this.tracer = options.tracer ?? NO_TRACE;
    this.host = options.host ?? '';
    this.congestionControl = options.congestionControl;
    this.config = resolveTcpConfig(options.config ?? {}, DEFAULT_TCP_CONFIG);
    let secret = options.secret;
    if (secret === undefined) {
      secret = new Uint8Array(32);
      globalThis.crypto.getRandomValues(secret);
    }
    if (secret.length !== 32)
      throw new TcpError('EINVAL', `TCP secret must be 32 bytes, got ${secret.length}`);
    this.isn = new IsnGenerator(secret.subarray(0, 16));
    this.limits = resolveTcpLimits(options.limits);
    this.ports = new EphemeralPortAllocator(
      secret.subarray(16, 32),
      this.limits.ephemeralPortMin,
      this.limits.ephemeralPortMax,
    );
    // Keys for the other secrets are derived from the same secret, each for its own purpose.
    const derivation = sipHashKey(secret.subarray(0, 16));
    this.cookies = new SynCookieCodec(deriveSecretBytes(derivation, 'tcp syn cookies', 32));
    this.challengeAckBudget = new ChallengeAckBudget(
      this.limits.challengeAckLimit,
      deriveSecretBytes(derivation, 'tcp challenge ack budget', 16),
    );
    this.memory = new TcpMemory(this.limits, this.counters);
    const seed = new DataView(deriveSecretBytes(derivation, 'tcp congestion control', 4).buffer).getInt32(0);
    const random = new Random(seed);
    this.ccRandom = () => random.float();
    this.connectionShared = {
      counters: this.counters,
      tracer: this.tracer,
      host: this.host,
      congestionControl: this.congestionControl,
      challengeAckBudget: this.challengeAckBudget,
      tooManyOrphans: this.tooManyOrphans,
      memory: this.memory,
      random: this.ccRandom,
      clock: this.clock,
    };
  }

  /** The layer's clock reading (ms). */
  now(): number {
    return this.clock.now();
  }

  /** Number of connections in the table, TIME-WAIT records included. */
  get connectionCount(): number {
    return this.entryCount + this.timeWait.size;
  }

  /** Number of TIME-WAIT records (connections whose 2 MSL wait a compact record does). */
  get timeWaitCount(): number {
    return this.timeWait.size;
  }

  /** Bytes the TIME-WAIT records' storage takes. */
  get timeWaitStorageBytes(): number {
    return this.timeWait.storageBytes;
  }

  /**
   * Wake-ups held in the layer's deadline heap, stale ones (of connections gone, or moved) included:
   * bounded by twice the connections plus a few dozen (see `unregister`).
   */
  get scheduledWakeups(): number {
    return this.timers.size;
  }

  /** Every connection in the table (those in TIME-WAIT are records, not connections: see timeWaitCount). */
  connections(): TcpConnection[] {
    const list: TcpConnection[] = [];
    for (let e = this.oldestEntry; e !== undefined; e = e.newer) list.push(e.conn);
    return list;
  }

  get listenerCount(): number {
    let n = 0;
    for (const byAddress of this.listeners.values()) n += byAddress.size;
    return n;
  }

  /** True while some connection has a timer armed. */
  get hasPendingTimers(): boolean {
    if (this.timeWait.size > 0) return true;
    for (let e = this.oldestEntry; e !== undefined; e = e.newer) {
      if (e.conn.nextDeadline() !== Number.POSITIVE_INFINITY) return true;
    }
    return false;
  }

  /**
   * Passive OPEN (§3.10.1): listens on `port` (0 picks an ephemeral one) at `address` (0 = all local
   * addresses). A specific and a wildcard listener may share a port (MUST-42); the same pair twice is
   * EADDRINUSE.
   */
  listen(options: ListenOptions): TcpListener {
    const address = options.address ?? 0;
    const ipv6Only = address === 0n && options.ipv6Only === true;
    let port = options.port;
    if (!validPort(port)) throw new TcpError('EINVAL', `port must be 0-65535, got ${port}`);
    if (!isUnspecified(address) && !this.ip.isLocalAddress(address)) {
      throw new TcpError('EADDRNOTAVAIL', 'listen address is not a local address');
    }
    const backlog = this.checkedBacklog(options.backlog);
    if (port === 0) {
      const chosen = this.ports.select(address, 0, 0, (p) => this.portUnused(p));
      if (chosen === undefined) {
        this.counters.ephemeralPortsExhausted++;
        throw new TcpError('EADDRNOTAVAIL', 'no free ephemeral port');
      }
      port = chosen;
    }
    let byAddress = this.listeners.get(port);
    if (byAddress !== undefined && this.listenConflict(byAddress, address, ipv6Only)) {
      throw new TcpError('EADDRINUSE', `port ${port} is already listened on`);
    }
    const config = resolveTcpConfig(options.config ?? {}, this.config);
    const synQueueLimit = Math.min(backlog, this.limits.maxSynBacklog);
    const listener = new TcpListener(this, address, port, backlog, synQueueLimit, config);
    listener.ipv6Only = ipv6Only;
    if (!byAddress) {
      byAddress = new Map();
      this.listeners.set(port, byAddress);
    }
    byAddress.set(address, listener);
    return listener;
  }

  /**
   * The same address twice is taken; so are the two wildcards that both cover IPv4 (0.0.0.0 and a
   * dual-stack ::), as Linux refuses an AF_INET6 socket on [::]:p without V6ONLY beside one on 0.0.0.0:p.
   */
  private listenConflict(
    byAddress: Map<IpAddress, TcpListener>,
    address: IpAddress,
    ipv6Only: boolean,
  ): boolean {
    if (byAddress.has(address)) return true;
    if (address === 0n && !ipv6Only) return byAddress.has(0);
    if (address === 0) {
      const dual = byAddress.get(0n);
      return dual !== undefined && !dual.ipv6Only;
    }
    return false;
  }

  /** A listener's accept queue bound: as listen(2), a backlog above somaxconn is silently capped. */
  private checkedBacklog(requested = DEFAULT_BACKLOG): number {
    if (!Number.isInteger(requested) || requested < 1)
      throw new TcpError('EINVAL', `backlog must be >= 1, got ${requested}`);
    return Math.min(requested, this.limits.somaxconn);
  }

  /**
   * A listener for every SYN that no connection or other listener takes, whatever its destination address
   * and port: a user-mode gateway terminates its guests' connections with it (the IP interface must be in
   * gateway mode, `terminateAnyDestination`, for such segments to reach TCP at all). Its connections'
   * local endpoint is the SYN's destination. One per layer (EADDRINUSE); `listener.port` reads 0.
   */
  listenAnyDestination(options: AnyDestinationListenOptions = {}): TcpListener {
    if (this.anyDestinationListener !== undefined && !this.anyDestinationListener.isClosed) {
      throw new TcpError('EADDRINUSE', 'a listener for any destination already exists');
    }
    const backlog = this.checkedBacklog(options.backlog);
    const config = resolveTcpConfig(options.config ?? {}, this.config);
    const synQueueLimit = Math.min(backlog, this.limits.maxSynBacklog);
    const listener = new TcpListener(this, 0, 0, backlog, synQueueLimit, config);
    this.anyDestinationListener = listener;
    this.anyDestinationAdmit = options.admit;
    return listener;
  }

  /**
   * Active OPEN (§3.10.1): creates a connection in SYN-SENT and sends its SYN. Throws EADDRNOTAVAIL for
   * a broadcast/multicast remote (MUST-46) or a local address that is not ours, ENETUNREACH without a
   * route, EADDRINUSE when the 4-tuple exists, EINVAL for bad ports.
   */
  connect(options: ConnectOptions): TcpConnection {
    const { remoteAddress, remotePort } = options;
    if (!validPort(remotePort) || remotePort === 0)
      throw new TcpError('EINVAL', `remote port must be 1-65535, got ${remotePort}`);
    if (isUnspecified(remoteAddress)) throw new TcpError('EINVAL', 'remote address unspecified');
    if (this.ip.isBroadcastOrMulticast(remoteAddress)) {
      throw new TcpError('EADDRNOTAVAIL', 'cannot open a TCP connection to a broadcast or multicast address');
    }
    let localAddress = options.localAddress ?? 0;
    if (typeof localAddress !== typeof remoteAddress && !isUnspecified(localAddress)) {
      throw new TcpError('EINVAL', 'local and remote addresses are of different IP versions');
    }
    if (isUnspecified(localAddress)) {
      const source = this.ip.sourceAddressFor(remoteAddress);
      if (source === undefined) throw new TcpError('ENETUNREACH', 'no route to the remote address');
      localAddress = source;
    } else if (!this.ip.isLocalAddress(localAddress)) {
      throw new TcpError('EADDRNOTAVAIL', 'local address is not assigned to this host');
    }
    let localPort = options.localPort ?? 0;
    if (!validPort(localPort)) throw new TcpError('EINVAL', `local port must be 0-65535, got ${localPort}`);
    const now = this.clock.now();
    const config = resolveTcpConfig(options.config ?? {}, this.config);
    // A TIME-WAIT record this open may take over (tcp_tw_reuse); its SND.NXT bounds the new ISS.
    let reused = -1;
    if (localPort === 0) {
      // RFC 6056 §2.1: a connection is unique by its 4-tuple, so a port in use toward other destinations
      // (or in TIME-WAIT with them) serves this one too; only listeners' ports are left alone.
      const chosen = this.ports.select(localAddress, remoteAddress, remotePort, (p) => {
        if (this.listeners.has(p) || this.lookup(localAddress, p, remoteAddress, remotePort) !== undefined)
          return false;
        const slot = this.timeWait.find(localAddress, p, remoteAddress, remotePort);
        if (slot < 0) return true;
        if (!this.timeWaitReusable(slot, localAddress, remoteAddress, config, now)) return false;
        reused = slot;
        return true;
      });
      if (chosen === undefined) {
        this.counters.ephemeralPortsExhausted++;
        throw new TcpError('EADDRNOTAVAIL', `no free ephemeral port toward this destination`);
      }
      localPort = chosen;
    } else if (this.lookup(localAddress, localPort, remoteAddress, remotePort) !== undefined) {
      throw new TcpError('EADDRINUSE', 'a connection with this 4-tuple exists');
    } else {
      const slot = this.timeWait.find(localAddress, localPort, remoteAddress, remotePort);
      if (slot >= 0 && !this.timeWaitReusable(slot, localAddress, remoteAddress, config, now))
        throw new TcpError('EADDRINUSE', 'a connection with this 4-tuple exists');
      reused = slot;
    }
    let iss = this.isn.next(localAddress, localPort, remoteAddress, remotePort, now);
    if (reused >= 0) {
      // As a takeover by a SYN (RFC 6191): the new incarnation's sequence space starts beyond the old one.
      const oldSndMax = this.timeWait.sndNxt(reused);
      if (!seqGt(iss, oldSndMax)) iss = seqAdd(oldSndMax, 65537);
      this.counters.timeWaitReused++;
      this.endTimeWaitRecord(reused, now, 'TIME-WAIT reused by a new connection');
    }
    return this.guard(() => {
      const entry = this.newEntry(localAddress, localPort, remoteAddress, remotePort);
      const conn = TcpConnection.connect(this.connectionOptions(entry, config), iss, now);
      this.register(entry, conn, undefined);
      return conn;
    });
  }

  /**
   * A TCP segment from IP, already checksum-verified. Never throws: whatever the segment holds, it is
   * processed, answered or dropped (and counted). Returns FRAME_RELEASED when nothing holds the segment's
   * bytes any more: a connection processed it and its payload is one the receive buffer copies; FRAME_HELD
   * when a connection's receive buffer kept the payload as its view and nothing else holds the frame (the
   * buffer gives it back once a read copied it out, see ReceiveBuffer.readInto).
   */
  receive(src: IpAddress, dst: IpAddress, segment: TcpSegment, ecn = 0): FrameDisposition {
    if (this.busy) {
      // The record is IP's again once this returns (it parses the next segment into it).
      this.queued.push({ src, dst, segment: copyTcpSegment(segment), ecn });
      return;
    }
    // What `guard` does, spelled out: this runs for every segment, and a closure per call would show.
    this.busy = true;
    let disposition: FrameDisposition;
    try {
      disposition = this.dispatch(src, dst, segment, ecn);
      if (this.queued.length > 0) this.dispatchQueued();
    } finally {
      this.busy = false;
    }
    return disposition;
  }

  /**
   * An ICMP error quoting one of our segments (RFC 9293 §3.9.2.2). Goes to the connection it names;
   * ignored when there is none.
   */
  handleIcmpError(error: Omit<TcpIcmpError, 'seq'>, quoted: QuotedTcpSegment): void {
    this.guard(() => {
      const entry = this.lookup(quoted.src, quoted.srcPort, quoted.dst, quoted.dstPort);
      const now = this.clock.now();
      // RFC 5927 §4.1: nothing changes for a report that does not name a connection of ours, or quotes
      // a sequence number not in flight on it (a blind attacker guesses neither).
      if (!entry) {
        this.counters.icmpNoConnection++;
        this.dropped(`ICMP ${error.kind} for no connection`);
        return;
      }
      const full: TcpIcmpError = { ...error, seq: quoted.seq };
      if (!entry.conn.acceptsIcmpError(full)) {
        this.counters.icmpOutOfWindow++;
        this.dropped(`ICMP ${error.kind}: quoted sequence number not in flight`);
        return;
      }
      if (error.kind === 'fragmentation-needed' && error.mtu !== undefined && error.mtu > 0) {
        // Validated: IP learns the path MTU (floored), and every connection to that destination takes it
        // at once (Linux leaves the others to find out on their next ICMP; sharing avoids their losses).
        const mtu = this.ip.learnPathMtu?.(quoted.dst, error.mtu) ?? error.mtu;
        full.mtu = mtu;
        for (let other = this.oldestEntry; other !== undefined; ) {
          const newer = other.newer;
          if (other !== entry && other.remoteAddress === quoted.dst) other.conn.lowerPathMtu(mtu, now);
          other = newer;
        }
      }
      entry.conn.handleIcmpError(full, now);
    });
  }

  /**
   * IP's report of an error about a segment we sent (an ICMP message quoting it, or a local failure such
   * as an ARP resolution that found nobody): the TcpReceiver side of the attachment to a Stack. Decoded
   * and handed to `handleIcmpError`; reports TCP has no use for are ignored.
   */
  receiveIcmpError(report: TransportErrorReport): void {
    const decoded = decodeErrorReport(report);
    if (decoded === undefined) return;
    this.handleIcmpError(decoded.error, decoded.quoted);
  }

  /** Aborts every connection and closes every listener (the stack is shutting down). */
  shutdown(): void {
    for (const byAddress of [...this.listeners.values()]) {
      for (const listener of [...byAddress.values()]) listener.close();
    }
    this.anyDestinationListener?.close();
    const now = this.clock.now();
    for (const conn of this.connections()) conn.abort(now);
    for (let slot = this.timeWait.takeExpired(Number.POSITIVE_INFINITY); slot >= 0; ) {
      this.endTimeWaitRecord(slot, now, 'TIME-WAIT ended: shutdown');
      slot = this.timeWait.takeExpired(Number.POSITIVE_INFINITY);
    }
    this.timerHandle?.cancel();
    this.timerHandle = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    this.timers.clear();
  }

  /** @internal Called by TcpListener.close. */
  unlisten(listener: TcpListener): void {
    if (listener === this.anyDestinationListener) {
      this.anyDestinationListener = undefined;
      return;
    }
    const byAddress = this.listeners.get(listener.port);
    if (byAddress?.get(listener.address) === listener) {
      byAddress.delete(listener.address);
      if (byAddress.size === 0) this.listeners.delete(listener.port);
    }
  }

  /** Runs a layer operation; segments arriving re-entrantly meanwhile are handled afterwards, in order. */
  private guard<T>(body: () => T): T {
    if (this.busy) return body();
    this.busy = true;
    let result: T;
    try {
      result = body();
      if (this.queued.length > 0) this.dispatchQueued();
    } finally {
      this.busy = false;
    }
    return result;
  }

  /** Handles the segments that arrived re-entrantly, in order (`busy` is set). */
  private dispatchQueued(): void {
    const queued = this.queued;
    for (let i = 0; i < queued.length; i++) {
      const q = queued[i]!;
      this.dispatch(q.src, q.dst, q.segment, q.ecn);
    }
    queued.length = 0;
  }

  /** Any exception becomes a counted, traced internal error: a segment never throws out of the layer. */
  private internalError(error: unknown): void {
    this.counters.internalErrors++;
    this.dropped(`internal error: ${error instanceof Error ? error.message : String(error)}`);
  }

  /** Hands the segment on (see `demultiplex`, whose answer it returns: nothing after an internal error). */
  private dispatch(src: IpAddress, dst: IpAddress, seg: TcpSegment, ecn: number): FrameDisposition {
    try {
      return this.demultiplex(src, dst, seg, ecn);
    } catch (error) {
      this.internalError(error);
      return;
    }
  }

  /**
   * Finds who the segment is for and hands it over. When that was a connection: FRAME_RELEASED if the
   * segment's bytes are not held afterwards, FRAME_HELD if its receive buffer kept the payload as its view
   * (see `receive`). FRAME_RELEASED too for a segment dropped here, answered by a reset for no
   * connection, or handled by a listener or a TIME-WAIT record (all of these read numbers out of it: a
   * SYN-RECEIVED connection keeps the SYN's option values, never a view), as `listenArrives` says.
   */
  private demultiplex(src: IpAddress, dst: IpAddress, seg: TcpSegment, ecn: number): FrameDisposition {
    this.counters.segmentsIn++;
    if (seg.srcPort === 0 || seg.dstPort === 0) {
      this.dropped('port 0');
      return FRAME_RELEASED;
    }
    // The connection of the previous segment is the likeliest match (a bulk transfer); the table otherwise.
    let entry = this.lastEntry;
    if (
      entry === undefined ||
      entry.removed ||
      entry.remotePort !== seg.srcPort ||
      entry.localPort !== seg.dstPort ||
      entry.remoteAddress !== src ||
      entry.localAddress !== dst
    ) {
      entry = this.lookup(dst, seg.dstPort, src, seg.srcPort);
      if (entry !== undefined) this.lastEntry = entry;
    }
    if (entry) {
      // No broadcast check is needed here: a connection's addresses are a unicast address of ours and a
      // peer that was checked when the connection was opened (MUST-46, MUST-57).
      const conn = entry.conn;
      const listener = entry.listener;
      if (
        listener?.acceptQueueFull &&
        conn.state === 'SYN-RECEIVED' &&
        (seg.flags & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_ACK
      ) {
        // The ACK would complete the handshake, but the accept queue has no room: drop it, as Linux does
        // (tcp_abort_on_overflow off). The SYN-ACK retransmission asks the peer for it again later.
        this.counters.listenOverflows++;
        this.counters.listenDrops++;
        this.dropped('accept queue full: handshake ACK dropped');
        return FRAME_RELEASED;
      }
      // A connection keeps no part of a segment but the payload its receive buffer may keep as a view.
      const kept = receiveBufferCounters.viewsKept;
      // The connection reads the time from this layer's clock itself (its TcpConnectionOptions.clock): a
      // fractional time read here and passed on would be boxed into a heap number for every segment.
      if (this.ip.confirmReachable === undefined) {
        conn.handleSegment(seg, undefined, ecn);
        return connectionDisposition(kept);
      }
      // RFC 4861 §7.3.1 upper-layer confirmation: an ACK of new data proves the path to the peer works,
      // so the neighbour toward it stays REACHABLE and established traffic never waits on a resolution.
      const acked = conn.acknowledgedBytes;
      conn.handleSegment(seg, undefined, ecn);
      if (conn.acknowledgedBytes !== acked) this.ip.confirmReachable(src);
      return connectionDisposition(kept);
    }
    const now = this.clock.now();
    if (this.timeWait.size > 0) {
      const slot = this.timeWait.find(dst, seg.dstPort, src, seg.srcPort);
      if (slot >= 0) {
        return this.timeWaitArrives(slot, src, dst, seg, now);
      }
    }
    if (this.ip.isBroadcastOrMulticast(dst) || this.ip.isBroadcastOrMulticast(src) || isUnspecified(src)) {
      // MUST-57: segments to broadcast/multicast are silently discarded; a source address of that kind
      // (or 0.0.0.0) cannot be a TCP peer either.
      this.dropped('broadcast, multicast or unspecified address');
      return FRAME_RELEASED;
    }
    const listener = this.findListener(dst, seg.dstPort);
    if (listener) return this.listenArrives(listener, src, dst, seg, now, undefined);
    // Dropped, or answered by a reset made of the segment's numbers alone.
    this.closedArrives(src, dst, seg);
    return FRAME_RELEASED;
  }

  /** §3.10.7.1 CLOSED: no connection, no listener. A reset answers anything but a reset. */
  private closedArrives(src: IpAddress, dst: IpAddress, seg: TcpSegment): void {
    if (seg.flags & TCP_RST) {
      this.dropped('RST for no connection');
      return;
    }
    this.dropped('no connection: reset sent');
    this.sendResetFor(src, dst, seg);
  }

  /** The reset §3.10.7.1 prescribes for `seg` (which arrived from `src` to `dst`). */
  private sendResetFor(src: IpAddress, dst: IpAddress, seg: TcpSegment): void {
    let reset: TcpSegment;
    if (seg.flags & TCP_ACK) {
      // <SEQ=SEG.ACK><CTL=RST>
      reset = this.resetSegment(seg, seg.ack, 0, TCP_RST);
    } else {
      // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
      const segLen = seg.payload.length + (seg.flags & TCP_SYN ? 1 : 0) + (seg.flags & TCP_FIN ? 1 : 0);
      reset = this.resetSegment(seg, 0, seqAdd(seg.seq, segLen), TCP_RST | TCP_ACK);
    }
    this.counters.segmentsOut++;
    this.counters.resetsSent++;
    // A reset that cannot be sent is simply lost (the peer's next segment gets another): only counted.
    const status = this.ip.send(dst, src, reset);
    if (status !== undefined && status !== 'ok') this.counters.outputErrors++;
  }

  private resetSegment(seg: TcpSegment, seq: number, ack: number, flags: number): TcpSegment {
    return {
      srcPort: seg.dstPort,
      dstPort: seg.srcPort,
      seq: seq | 0,
      ack: ack | 0,
      flags,
      window: 0,
      urgentPointer: 0,
      options: {},
      payload: new Uint8Array(0),
    };
  }

  /**
   * §3.10.7.2 LISTEN. `iss` overrides the ISN (TIME-WAIT takeover). Returns FRAME_RELEASED unless the
   * admission hook turned the SYN away (it may keep the segment to hand it back later: nothing then) or a
   * cookie ACK's payload stayed in the new connection's receive buffer as a view (FRAME_HELD). A SYN
   * queue entry, a cookie and a reset are made of the SYN's numbers; its payload is not taken.
   */
  private listenArrives(
    listener: TcpListener,
    src: IpAddress,
    dst: IpAddress,
    seg: TcpSegment,
    now: number,
    iss: number | undefined,
  ): FrameDisposition {
    const flags = seg.flags;
    if (flags & TCP_RST) {
      this.dropped('RST to a listener');
      return FRAME_RELEASED;
    }
    if (flags & TCP_ACK) {
      if ((flags & TCP_SYN) === 0) {
        const kept = receiveBufferCounters.viewsKept;
        if (this.cookieAckArrives(listener, src, dst, seg, now)) return connectionDisposition(kept);
      }
      // An ACK to a listener: a half-open connection from the peer's point of view (§3.5.1). Reset it.
      this.dropped('ACK to a listener: reset sent');
      this.sendResetFor(src, dst, seg);
      return FRAME_RELEASED;
    }
    if ((flags & TCP_SYN) === 0) {
      this.dropped('segment to a listener without SYN');
      return FRAME_RELEASED;
    }
    if (listener.acceptQueueFull) {
      // No room for the connection once established: drop the SYN (Linux does the same); the peer
      // retransmits it.
      this.counters.listenOverflows++;
      this.counters.listenDrops++;
      this.dropped('accept queue full: SYN dropped');
      return FRAME_RELEASED;
    }
    if (listener === this.anyDestinationListener && this.anyDestinationAdmit?.(src, dst, seg) === false) {
      this.dropped('SYN held by the admission hook');
      return;
    }
    const cookies = this.limits.synCookies;
    if (cookies === 'always' || listener.embryonic.size >= listener.synQueueLimit) {
      if (cookies === 'off') {
        this.counters.listenDrops++;
        this.dropped('SYN queue full: SYN dropped');
        return FRAME_RELEASED;
      }
      this.sendSynCookie(listener, src, dst, seg, now);
      return FRAME_RELEASED;
    }
    const localAddress = dst;
    const localPort = seg.dstPort; // the listener's port, or any port for listenAnyDestination
    const entry = this.newEntry(localAddress, localPort, src, seg.srcPort);
    const isn = iss ?? this.isn.next(localAddress, localPort, src, seg.srcPort, now);
    const conn = TcpConnection.accept(this.connectionOptions(entry, listener.config), seg, isn, now);
    this.register(entry, conn, listener);
    if (conn.state === 'SYN-RECEIVED') listener.embryonic.add(conn);
    return FRAME_RELEASED;
  }

  /**
   * The SYN queue is full (or cookies are always on): answer the SYN with a SYN-ACK whose sequence number
   * is a SYN cookie, keeping no state (RFC 4987 §3.6; see syn-cookies.ts). The SYN-ACK offers what the
   * rebuilt connection will use: the MSS we announce on any SYN-ACK and, only when the SYN carried a
   * timestamp to echo our options back, window scaling (and SACK, once supported).
   */
  private sendSynCookie(
    listener: TcpListener,
    src: IpAddress,
    dst: IpAddress,
    seg: TcpSegment,
    now: number,
  ): void {
    const config = listener.config;
    const defaultMss = typeof src === 'bigint' ? DEFAULT_IPV6_MSS : DEFAULT_IPV4_MSS;
    const peerMss = seg.options.mss !== undefined && seg.options.mss > 0 ? seg.options.mss : defaultMss;
    const cookie = this.cookies.encode(
      dst,
      seg.dstPort,
      src,
      seg.srcPort,
      seg.seq,
      cookieMssIndex(peerMss),
      now,
    );
    const options: TcpOptions = { mss: advertisedMssFor(this.ip.mtuFor(src), src) };
    // ECN is agreed to only when the timestamp can carry it back (RFC 3168 §6.1.1 setup, as Linux).
    let ecn = false;
    const echo = seg.options.timestamp;
    if (echo !== undefined && config.timestamps) {
      // The options the cookie cannot hold travel in our timestamp (RFC 7323 TSval), echoed in the ACK.
      const windowScale = config.windowScaling ? seg.options.windowScale : undefined;
      const clock = Math.floor(now) + this.isn.timestampOffset(dst, src);
      ecn = ecnRequested(config, seg.flags);
      const tsval = encodeCookieTimestamp(clock, {
        windowScale,
        sackPermitted: config.sack && seg.options.sackPermitted === true,
        ecn,
      });
      options.timestamp = { value: tsval, echo: echo.value };
      if (windowScale !== undefined) options.windowScale = windowScaleFor(receiveBufferCeiling(config));
      if (config.sack && seg.options.sackPermitted === true) options.sackPermitted = true;
    }
    const synAck: TcpSegment = {
      srcPort: seg.dstPort,
      dstPort: seg.srcPort,
      seq: cookie,
      ack: seqAdd(seg.seq, 1),
      flags: TCP_SYN | TCP_ACK | (ecn ? TCP_ECE : 0),
      window: cookieWindow(config),
      urgentPointer: 0,
      options,
      payload: new Uint8Array(0),
    };
    listener.lastCookieTime = now;
    this.counters.syncookiesSent++;
    this.counters.segmentsOut++;
    this.traceNote('SYN queue full: SYN cookie sent');
    const status = this.ip.send(dst, src, synAck);
    if (status !== undefined && status !== 'ok') this.counters.outputErrors++;
  }

  /**
   * An ACK without SYN to a listener that sent cookies lately: if it returns a valid cookie, the
   * connection it stands for is rebuilt and the ACK completes its handshake. Returns false when the ACK
   * holds no valid cookie (the caller answers it as any stray ACK).
   */
  private cookieAckArrives(
    listener: TcpListener,
    src: IpAddress,
    dst: IpAddress,
    seg: TcpSegment,
    now: number,
  ): boolean {
    // Linux accepts cookies for two minutes after the last one it sent: a listener that never needed
    // them gives blind guessers nothing to aim at.
    if (now - listener.lastCookieTime > COOKIE_ACCEPT_WINDOW_MS) return false;
    if (seg.flags & TCP_RST) return false;
    const synSeq = seqAdd(seg.seq, -1);
    const cookie = seqAdd(seg.ack, -1);
    const mssIndex = this.cookies.decode(dst, seg.dstPort, src, seg.srcPort, synSeq, cookie, now);
    if (mssIndex < 0) {
      this.counters.syncookiesFailed++;
      return false;
    }
    if (listener.acceptQueueFull) {
      this.counters.listenOverflows++;
      this.counters.listenDrops++;
      this.dropped('accept queue full: cookie ACK dropped');
      return true;
    }
    const config = listener.config;
    const options: TcpOptions = { mss: SYN_COOKIE_MSS_TABLE[mssIndex]! };
    let synFlags = TCP_SYN;
    const echoed = seg.options.timestamp;
    if (echoed !== undefined && config.timestamps) {
      const carried = decodeCookieTimestamp(echoed.echo);
      if (carried.windowScale !== undefined && config.windowScaling)
        options.windowScale = carried.windowScale;
      if (carried.sackPermitted && config.sack) options.sackPermitted = true;
      // The SYN asked for ECN and we agreed (the SYN-ACK said ECE): rebuild it as an ECN-setup SYN.
      if (carried.ecn && config.ecn !== false) synFlags |= TCP_ECE | TCP_CWR;
      options.timestamp = { value: echoed.value, echo: 0 };
    }
    const syn: TcpSegment = {
      ...seg,
      seq: synSeq,
      ack: 0,
      flags: synFlags,
      options,
      payload: new Uint8Array(0),
    };
    this.counters.syncookiesRecv++;
    const entry = this.newEntry(dst, seg.dstPort, src, seg.srcPort);
    const conn = TcpConnection.fromSynCookie(
      this.connectionOptions(entry, config),
      syn,
      cookie,
      cookieWindow(config),
      now,
    );
    this.register(entry, conn, listener);
    listener.embryonic.add(conn);
    conn.handleSegment(seg, now);
    return true;
  }

  /**
   * The connection of this 4-tuple has left TIME-WAIT to a compact record (time-wait.ts), the way Linux
   * keeps TIME-WAIT. RFC 9293 §3.10.7.4 in TIME-WAIT: a retransmitted FIN is acknowledged again and the
   * 2 MSL wait restarts; a new SYN may reopen the 4-tuple (MAY-2, RFC 6191); RST is ignored (RFC 1337);
   * anything else unacceptable is answered with an ACK within the rate limit of RFC 5961 §7; the rest is
   * dropped. The record keeps numbers only: FRAME_RELEASED, but for a takeover what the listener answers.
   */
  private timeWaitArrives(
    slot: number,
    src: IpAddress,
    dst: IpAddress,
    seg: TcpSegment,
    now: number,
  ): FrameDisposition {
    const tw = this.timeWait;
    const flags = seg.flags;
    const rst = (flags & TCP_RST) !== 0;
    const syn = (flags & TCP_SYN) !== 0;
    const fin = (flags & TCP_FIN) !== 0;
    if ((flags & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_SYN) {
      const taken = this.timeWaitTakeover(slot, src, dst, seg, now);
      if (taken !== false) return taken;
    }
    const rcvNxt = tw.rcvNxt(slot);
    const segLen = seg.payload.length + (syn ? 1 : 0) + (fin ? 1 : 0);
    if (fin && !rst && !syn && seqAdd(seg.seq, segLen) === rcvNxt) {
      // The peer did not get our last ACK and sent its FIN again: acknowledge it, wait 2 MSL anew.
      this.sendTimeWaitAck(slot, now);
      tw.restart(slot, now);
      this.armIfEarlier(tw.deadline(slot));
      return FRAME_RELEASED;
    }
    const ts = seg.options.timestamp;
    if (tw.tsEnabled(slot) && !rst) {
      // RFC 7323 §3.2 and §5.3 (PAWS), as for a connection.
      if (ts === undefined) {
        this.counters.timestampMissingDrops++;
        this.dropped('TIME-WAIT: no timestamp option');
        return FRAME_RELEASED;
      }
      if (seqLt(ts.value, tw.tsRecent(slot)) && now - tw.tsRecentAt(slot) <= PAWS_IDLE_LIMIT_MS) {
        this.counters.pawsDrops++;
        this.answerInTimeWait(slot, 'paws', now);
        this.dropped('TIME-WAIT: PAWS');
        return FRAME_RELEASED;
      }
    }
    const rcvWnd = tw.rcvWnd(slot);
    const length = rst ? 0 : segLen;
    const right = seqAdd(rcvNxt, rcvWnd);
    const acceptable =
      length === 0
        ? seqGe(seg.seq, rcvNxt) && seqLe(seg.seq, right)
        : rcvWnd > 0 &&
          (seqInRange(seg.seq, rcvNxt, right) || seqInRange(seqAdd(seg.seq, length - 1), rcvNxt, right));
    if (!acceptable) {
      if (!rst) this.answerInTimeWait(slot, syn ? 'challenge' : 'time-wait', now);
      this.dropped(rst ? 'RST outside the window' : 'TIME-WAIT: segment outside the window');
      return FRAME_RELEASED;
    }
    if (rst) {
      this.dropped('RST in TIME-WAIT ignored (RFC 1337)');
      return FRAME_RELEASED;
    }
    if (syn) {
      this.answerInTimeWait(slot, 'challenge', now);
      this.dropped('SYN in TIME-WAIT: challenge ACK');
      return FRAME_RELEASED;
    }
    if ((flags & TCP_ACK) === 0) {
      this.dropped('no ACK bit');
      return FRAME_RELEASED;
    }
    const sndNxt = tw.sndNxt(slot);
    if (!(seqGe(seg.ack, seqAdd(sndNxt, -tw.maxSndWnd(slot))) && seqLe(seg.ack, sndNxt))) {
      this.answerInTimeWait(slot, 'challenge', now);
      this.dropped('TIME-WAIT: unacceptable ACK');
      return FRAME_RELEASED;
    }
    if (seg.payload.length > 0) this.dropped('text after FIN ignored');
    return FRAME_RELEASED;
  }

  /** An ACK answering an invalid segment in TIME-WAIT, within the limits of RFC 5961 §7. */
  private answerInTimeWait(slot: number, why: InvalidSegmentAnswer, now: number): void {
    const tw = this.timeWait;
    const verdict = invalidAnswerVerdict(
      why,
      now,
      tw.lastInvalidAnswerTime(slot),
      tw.invalidRateLimitMs(slot),
      this.counters,
      this.challengeAckBudget,
    );
    if (verdict === 'skip') return;
    tw.setLastInvalidAnswerTime(slot, now);
    if (verdict === 'send') this.sendTimeWaitAck(slot, now);
  }

  /** <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> from a TIME-WAIT record, with timestamps when they are on. */
  private sendTimeWaitAck(slot: number, now: number): void {
    const tw = this.timeWait;
    const options: TcpOptions = tw.tsEnabled(slot)
      ? { timestamp: { value: (Math.floor(now) + tw.tsOffset(slot)) | 0, echo: tw.tsRecent(slot) } }
      : {};
    const ack: TcpSegment = {
      srcPort: tw.localPort(slot),
      dstPort: tw.remotePort(slot),
      seq: tw.sndNxt(slot),
      ack: tw.rcvNxt(slot),
      flags: TCP_ACK,
      window: tw.windowField(slot),
      urgentPointer: 0,
      options,
      payload: new Uint8Array(0),
    };
    this.counters.segmentsOut++;
    const status = this.ip.send(tw.localAddress(slot), tw.remoteAddress(slot), ack);
    if (status !== undefined && status !== 'ok') this.counters.outputErrors++;
  }

  /**
   * MAY-2 (RFC 9293 §3.6.1) and RFC 6191: a new SYN for a 4-tuple in TIME-WAIT may reopen it when a
   * listener wants it and the SYN cannot belong to the old incarnation: its timestamp is newer than the
   * last one seen (when both use timestamps), or else its sequence number is above everything the old
   * incarnation received. The new ISS is chosen above the old connection's highest sequence number, so
   * old duplicates cannot be mistaken for new data in either direction. False when the SYN does not take
   * the record over; otherwise what the listener answered for it.
   */
  private timeWaitTakeover(
    slot: number,
    src: IpAddress,
    dst: IpAddress,
    seg: TcpSegment,
    now: number,
  ): FrameDisposition | false {
    const tw = this.timeWait;
    const ts = seg.options.timestamp;
    const newer =
      tw.tsEnabled(slot) && ts !== undefined
        ? seqGt(ts.value, tw.tsRecent(slot))
        : seqGt(seg.seq, tw.rcvNxt(slot));
    if (!newer) return false;
    const listener = this.findListener(dst, seg.dstPort);
    if (!listener) return false;
    const oldSndMax = tw.sndNxt(slot);
    let iss = this.isn.next(dst, seg.dstPort, src, seg.srcPort, now);
    if (!seqGt(iss, oldSndMax)) iss = seqAdd(oldSndMax, 65537);
    this.counters.timeWaitTakeovers++;
    this.endTimeWaitRecord(slot, now, 'TIME-WAIT taken over by a new SYN');
    return this.listenArrives(listener, src, dst, seg, now, iss);
  }

  /**
   * A connection entered TIME-WAIT: a compact record takes over the 2 MSL wait, and the connection's
   * timers and buffers are let go. It stays in TIME-WAIT for the application until the record ends
   * ('state' and 'closed' then). When the table is full (`maxTimeWait`, Linux tcp_max_tw_buckets) the connection
   * closes at once, as Linux does, and the overflow is counted.
   */
  private toTimeWait(entry: ConnectionEntry, listener: TcpListener | undefined): void {
    const conn = entry.conn;
    const now = this.clock.now();
    this.unregister(entry, listener);
    if (this.timeWait.size >= this.limits.maxTimeWait) {
      this.counters.timeWaitOverflows++;
      this.traceNote('TIME-WAIT table full: connection closed at once');
      // The endpoints record (conn.id) is made only here: a connection that never traced has none.
      if (this.tracer.enabled) this.traceState(conn.id, now);
      conn.endTimeWait(now);
      return;
    }
    const fields = conn.timeWaitFields(this.timeWaitRecord);
    conn.releaseForTimeWait(now);
    const slot = this.timeWait.add(fields, now + 2 * fields.mslMs);
    this.usePort(fields.localPort);
    // Held strongly when someone listens for the end of TIME-WAIT, and weakly when a stream observer (a
    // net.Socket) may still pull on it: an application that still holds the connection sees it reach
    // CLOSED, and one that let it go does not pay for it. Otherwise the layer keeps no reference at all:
    // the connection asks whether its record has ended when its state is read or it is called (and a
    // listener added later makes the layer tell it, see TcpConnection.on). A WeakRef costs a collector's
    // attention for every connection, and keeps its target alive until the current job ends (ECMA-262
    // ClearKeptObjects): in a burst of short connections, every one of them.
    if (conn.listenerCount('closed') + conn.listenerCount('state') > 0) {
      this.timeWaitConnections.set(slot, conn);
    } else if (conn.observed) {
      this.timeWaitConnections.set(slot, new WeakRef(conn));
    } else {
      entry.timeWaitSlot = slot;
      entry.timeWaitSerial = this.timeWait.serial(slot);
    }
    this.armIfEarlier(this.timeWait.deadline(slot));
  }

  /** A TIME-WAIT record ends (2 MSL passed, or a new SYN took the 4-tuple over). */
  private endTimeWaitRecord(slot: number, now: number, why: string): void {
    const tw = this.timeWait;
    if (this.tracer.enabled) {
      // The record's 4-tuple is only spelled out for the trace: most records end untraced.
      const id: ConnectionId = {
        local: { address: tw.localAddress(slot), port: tw.localPort(slot) },
        remote: { address: tw.remoteAddress(slot), port: tw.remotePort(slot) },
      };
      this.traceNote(why);
      this.traceState(id, now);
    }
    this.releasePort(tw.localPort(slot));
    tw.remove(slot);
    const held = this.timeWaitConnections.get(slot);
    this.timeWaitConnections.delete(slot);
    const conn = held instanceof WeakRef ? held.deref() : held;
    conn?.endTimeWait(now);
  }

  private traceState(conn: ConnectionId, now: number): void {
    if (this.tracer.enabled) {
      this.tracer.emit({
        kind: 'tcp.state',
        time: now,
        host: this.host,
        conn,
        from: 'TIME-WAIT',
        to: 'CLOSED',
      });
    }
  }

  /** Arms the clock for `deadline` when it is earlier than the wake-up already set. */
  private armIfEarlier(deadline: number): void {
    if (deadline < this.timerAt) this.armClock(deadline);
  }

  /**
   * The listener for a SYN to `address`:`port`: one bound to that address, else the wildcard of its
   * version, else (IPv4) a dual-stack IPv6 wildcard, whose connections the application sees with
   * IPv4-mapped addresses (RFC 4038 §4.2).
   */
  private findListener(address: IpAddress, port: number): TcpListener | undefined {
    const byAddress = this.listeners.get(port);
    if (!byAddress) return this.anyDestinationListener;
    const exact = byAddress.get(address);
    if (exact !== undefined) return exact;
    if (typeof address === 'bigint') return byAddress.get(0n) ?? this.anyDestinationListener;
    const wildcard = byAddress.get(0);
    if (wildcard !== undefined) return wildcard;
    const dual = byAddress.get(0n);
    if (dual !== undefined && !dual.ipv6Only) return dual;
    return this.anyDestinationListener;
  }

  private lookup(
    localAddress: IpAddress,
    localPort: number,
    remoteAddress: IpAddress,
    remotePort: number,
  ): ConnectionEntry | undefined {
    const held = this.table.get(endpointKey(remoteAddress, remotePort));
    if (held === undefined || held instanceof Map) return held?.get(endpointKey(localAddress, localPort));
    return held.localPort === localPort && held.localAddress === localAddress ? held : undefined;
  }

  /**
   * True when a listener holds `port` on `address` or on the wildcard (or on any address, for a wildcard
   * `address`): binding a connecting socket there fails with EADDRINUSE, as Linux refuses to bind a port
   * a listening socket holds even with SO_REUSEADDR.
   */
  listenerHolds(address: IpAddress, port: number): boolean {
    const byAddress = this.listeners.get(port);
    if (byAddress === undefined) return false;
    if (isUnspecified(address) || byAddress.has(address)) return true;
    if (typeof address === 'bigint') return byAddress.has(0n);
    const dual = byAddress.get(0n);
    return byAddress.has(0) || (dual !== undefined && !dual.ipv6Only);
  }

  /** A connection or a TIME-WAIT record holds this 4-tuple. */
  /**
   * Whether an active open may take over this TIME-WAIT record (Linux tcp_tw_reuse): allowed by the
   * configuration (everywhere, or between loopback addresses only), the old connection used timestamps
   * and its last timestamp arrived more than a second ago — the timestamp clock has moved on, so PAWS
   * (RFC 7323 §5) rejects any old duplicate segment that reaches the new connection.
   */
  private timeWaitReusable(
    slot: number,
    localAddress: IpAddress,
    remoteAddress: IpAddress,
    config: Readonly<TcpConfig>,
    now: number,
  ): boolean {
    if (config.timeWaitReuse === 'off') return false;
    if (config.timeWaitReuse === 'loopback' && !(isLoopbackIp(localAddress) && isLoopbackIp(remoteAddress)))
      return false;
    return this.timeWait.tsEnabled(slot) && now - this.timeWait.tsRecentAt(slot) > 1000;
  }

  private usePort(port: number): void {
    this.localPortUse ??= new Uint32Array(65536);
    this.localPortUse[port]!++;
  }

  private releasePort(port: number): void {
    const use = this.localPortUse;
    if (use !== undefined && use[port]! > 0) use[port]!--;
  }

  /** A port no listener and no connection uses (for ephemeral selection). */
  private portUnused(port: number): boolean {
    return !this.listeners.has(port) && !(this.localPortUse !== undefined && this.localPortUse[port]! > 0);
  }

  private newEntry(
    localAddress: IpAddress,
    localPort: number,
    remoteAddress: IpAddress,
    remotePort: number,
  ): ConnectionEntry {
    return new ConnectionEntry(this.entryHost, localAddress, localPort, remoteAddress, remotePort);
  }

  private connectionOptions(entry: ConnectionEntry, config: TcpConfig): TcpConnectionOptions {
    return {
      local: { address: entry.localAddress, port: entry.localPort },
      remote: { address: entry.remoteAddress, port: entry.remotePort },
      owner: entry,
      pathMtu: this.ip.mtuFor(entry.remoteAddress),
      interfaceMtu: this.ip.interfaceMtuFor?.(entry.remoteAddress),
      tsoSize: this.ip.tsoSizeFor?.(entry.remoteAddress),
      timestampOffset: this.isn.timestampOffset(entry.localAddress, entry.remoteAddress),
      config,
      shared: this.connectionShared,
    };
  }

  private register(entry: ConnectionEntry, conn: TcpConnection, listener: TcpListener | undefined): void {
    entry.conn = conn;
    entry.listener = listener;
    if (conn.state === 'CLOSED') return;
    const remoteKey = endpointKey(entry.remoteAddress, entry.remotePort);
    const localKey = endpointKey(entry.localAddress, entry.localPort);
    const held = this.table.get(remoteKey);
    if (held instanceof Map) {
      held.set(localKey, entry);
    } else if (
      held === undefined ||
      (held.localPort === entry.localPort && held.localAddress === entry.localAddress)
    ) {
      this.table.set(remoteKey, entry);
    } else {
      const byLocal = new Map<number | bigint, ConnectionEntry>();
      byLocal.set(endpointKey(held.localAddress, held.localPort), held);
      byLocal.set(localKey, entry);
      this.table.set(remoteKey, byLocal);
    }
    entry.older = this.newestEntry;
    if (this.newestEntry === undefined) this.oldestEntry = entry;
    else this.newestEntry.newer = entry;
    this.newestEntry = entry;
    this.entryCount++;
    this.usePort(entry.localPort);
    // The deadline was reported before the entry existed (at the end of OPEN): schedule it now.
    this.deadlineChanged(entry);
    // From now on the connection tells the layer (its owner) of 'connected', TIME-WAIT and 'closed'
    // through the entry's methods, before its own listeners hear them: no listener or closure per connection.
    entry.spawnedBy = listener;
    entry.attached = true;
  }

  /** A connection a listener spawned completed its handshake: it joins the accept queue. */
  private established(entry: ConnectionEntry): void {
    const listener = entry.listener;
    if (listener === undefined) return;
    entry.listener = undefined;
    if (listener.isClosed) return;
    listener.established(entry.conn);
  }

  /** One more orphan, if it fits `maxOrphans` (see TcbEnvironment.admitOrphan). */
  private admitOrphan(entry: ConnectionEntry): boolean {
    if (entry.removed || entry.orphan) return true;
    if (this.orphans >= this.limits.maxOrphans) return false;
    entry.orphan = true;
    this.orphans++;
    return true;
  }

  /** Orphans now held: released connections that have not yet reached CLOSED or TIME-WAIT. */
  get orphanCount(): number {
    return this.orphans;
  }

  private unregister(entry: ConnectionEntry, listener: TcpListener | undefined): void {
    if (entry.removed) return;
    entry.removed = true;
    if (entry.orphan) {
      entry.orphan = false;
      this.orphans--;
    }
    entry.scheduled = Number.POSITIVE_INFINITY;
    if (this.lastEntry === entry) this.lastEntry = undefined;
    this.removeEntry(entry);
    // Buffers of a connection the layer no longer holds are the application's (unread data) or gone.
    entry.conn.detachMemory();
    entry.conn.releaseSendRecords();
    this.releasePort(entry.localPort);
    const remoteKey = endpointKey(entry.remoteAddress, entry.remotePort);
    const held = this.table.get(remoteKey);
    const localKey = endpointKey(entry.localAddress, entry.localPort);
    if (held === entry) {
      this.table.delete(remoteKey);
    } else if (held instanceof Map && held.get(localKey) === entry) {
      held.delete(localKey);
      if (held.size === 0) this.table.delete(remoteKey);
    }
    listener?.forget(entry.conn);
    // The entry may still sit in the deadline heap (for a wake-up due later): once such stale entries
    // outnumber the connections, sweep them, or every closed connection stays reachable until its old
    // deadline passes (a retransmission timeout away, for thousands of connections opened in that time).
    if (this.timers.size > 2 * this.entryCount + STALE_DEADLINES_SWEPT_ABOVE) {
      this.timers.retain((deadline, item) => !item.removed && item.scheduled === deadline);
    }
  }

  /** Takes a registered entry out of the list of connections (see `register`). */
  private removeEntry(entry: ConnectionEntry): void {
    if (entry.older === undefined) {
      if (this.oldestEntry !== entry) return; // never listed (closed before it was registered)
      this.oldestEntry = entry.newer;
    } else {
      entry.older.newer = entry.newer;
    }
    if (entry.newer === undefined) this.newestEntry = entry.older;
    else entry.newer.older = entry.older;
    entry.older = undefined;
    entry.newer = undefined;
    this.entryCount--;
  }

  /**
   * A connection's earliest deadline moved. The heap needs a new entry only when it moved EARLIER than
   * the wake-up already scheduled for the connection: a deadline that moved later (the retransmission
   * timer restarted by every ACK, RFC 6298 §5.3) is found out when the earlier wake-up comes, and the
   * connection is then scheduled again for its real deadline. So a busy connection costs no heap work
   * per segment. The deadline is read from the connection (see TcpConnectionOwner.deadlineChanged).
   */
  private deadlineChanged(entry: ConnectionEntry): void {
    const conn = entry.conn;
    if (entry.removed || conn === undefined) return;
    const deadline = conn.reportedDeadline;
    if (deadline < entry.scheduled) this.schedule(entry, deadline);
  }

  private schedule(entry: ConnectionEntry, deadline: number): void {
    entry.scheduled = deadline;
    this.timers.push(deadline, entry);
    if (deadline < this.timerAt) this.armClock(deadline);
  }

  private armClock(deadline: number): void {
    this.timerHandle?.cancel();
    this.timerAt = deadline;
    // Not Math.max(0, ...): in unoptimised code (the clock fires a few times per round trip) its result
    // is one more heap number when the times have fractions.
    let delay = deadline - this.clock.now();
    if (delay < 0) delay = 0;
    if (delay === 0 && this.entryHost.timersAfterBatch && !this.firingFromMicrotask) {
      // Due now on a real clock, whose timer for now would wait for the host's next timer turn (a
      // millisecond or more in Node): the deadlines run from a microtask instead, once the code running
      // now (a device's whole batch of frames) has returned. An ACK owed for a batch of large segments
      // then goes after the batch (TcbEnvironment.timersAfterBatch). A deadline that comes due again
      // while they run waits for the clock, so microtasks never chain.
      const soon = this.soon ?? new MicrotaskTimer(this.microtaskCallback);
      this.soon = soon;
      soon.arm();
      this.timerHandle = soon;
      return;
    }
    if (this.wakeUp === undefined && this.clock.reusableTimer !== undefined) {
      this.wakeUp = this.clock.reusableTimer(this.clockCallback);
    }
    if (this.wakeUp !== undefined) {
      this.wakeUp.set(delay);
      this.timerHandle = this.wakeUp;
    } else {
      this.timerHandle = this.clock.setTimer(delay, this.clockCallback);
    }
  }

  private readonly clockCallback = (): void => this.clockFired();
  /** True while `clockFired` runs from a microtask (see `armClock`). */
  private firingFromMicrotask = false;
  private readonly microtaskCallback = (): void => {
    this.firingFromMicrotask = true;
    try {
      this.clockFired();
    } finally {
      this.firingFromMicrotask = false;
    }
  };

  /** `clockFired`'s list of due connections, kept empty between calls; undefined while one runs. */
  private dueScratch: (ConnectionEntry | undefined)[] | undefined = [];

  private clockFired(): void {
    this.timerHandle = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    for (let slot = this.timeWait.takeExpired(now); slot >= 0; slot = this.timeWait.takeExpired(now)) {
      this.endTimeWaitRecord(slot, now, 'TIME-WAIT expired');
    }
    // Collect the due connections first: a timer that re-arms for `now` again runs on the next clock
    // callback rather than looping here. The list is kept between calls (a bulk transfer fires the clock
    // about once per burst, and a fresh array, its storage and the for-of iterators were objects each
    // time); a nested call, which no clock makes today, would find it taken and use one of its own.
    const due = this.dueScratch ?? [];
    this.dueScratch = undefined;
    let dueCount = 0;
    for (;;) {
      const deadline = this.timers.peekDeadline();
      if (deadline > now) break;
      const entry = this.timers.peekItem()!;
      this.timers.pop();
      // Stale: the connection is gone, or an earlier wake-up superseded this one.
      if (entry.removed || entry.scheduled !== deadline) continue;
      entry.scheduled = Number.POSITIVE_INFINITY;
      // Read once: this code runs a few times per round trip and is not optimised, and each read of a
      // fractional time there makes a heap number. Read from the connection (its timers cache their
      // earliest deadline): an entry holds no copy, a double field that cost each connection 24 B.
      const current = entry.conn.nextDeadline();
      if (current <= now) due[dueCount++] = entry;
      else if (current !== Number.POSITIVE_INFINITY) this.schedule(entry, current); // moved later
    }
    if (dueCount > 0) {
      this.busy = true;
      try {
        for (let i = 0; i < dueCount; i++) {
          const entry = due[i]!;
          if (entry.removed) continue;
          try {
            entry.conn.onTimer(now);
          } catch (error) {
            this.internalError(error);
          }
        }
        if (this.queued.length > 0) this.dispatchQueued();
      } finally {
        this.busy = false;
      }
      for (let i = 0; i < dueCount; i++) {
        const entry = due[i]!;
        // A connection whose deadline did not change during onTimer reported nothing: schedule it again.
        if (!entry.removed && entry.scheduled === Number.POSITIVE_INFINITY) {
          const deadline = entry.conn.nextDeadline();
          if (deadline !== Number.POSITIVE_INFINITY) this.schedule(entry, deadline);
        }
      }
    }
    // Kept for the next call with its slots cleared, so it holds no connection alive. Its length stays:
    // setting it to 0 would give the array's storage back, and the next call would allocate it again.
    // One grown by thousands of connections due at once is left to the collector instead.
    for (let i = 0; i < dueCount; i++) due[i] = undefined;
    if (due.length <= DUE_LIST_KEPT) this.dueScratch = due;
    else {
      this.dueScratch = [];
      this.counters.dueListsDropped++;
    }
    this.rearm();
  }

  /** Arms the clock for the earliest live wake-up, discarding stale heap entries on the way. */
  private rearm(): void {
    if (this.timeWait.hasDeadline()) this.armIfEarlier(this.timeWait.headDeadline);
    for (;;) {
      const deadline = this.timers.peekDeadline();
      if (deadline === Number.POSITIVE_INFINITY) return;
      const entry = this.timers.peekItem()!;
      if (entry.removed || entry.scheduled !== deadline) {
        this.timers.pop();
        continue;
      }
      if (deadline < this.timerAt) this.armClock(deadline);
      return;
    }
  }

  private traceNote(text: string): void {
    if (this.tracer.enabled)
      this.tracer.emit({ kind: 'note', time: this.clock.now(), host: this.host, text });
  }

  private dropped(reason: string): void {
    this.counters.segmentsDropped++;
    if (this.tracer.enabled) {
      this.tracer.emit({ kind: 'drop', time: this.clock.now(), host: this.host, layer: 'tcp', reason });
    }
  }
}

/**
 * The layer's wake-up for deadlines due now on a real clock (see TcpLayer.armClock): a microtask that can
 * be cancelled, one object armed again and again. Each arming queues a microtask, and only the last one
 * queued runs the callback (if not cancelled since), as a timer of its own per arming would.
 */
class MicrotaskTimer implements TimerHandle {
  /** Microtasks queued and not run yet. */
  private queued = 0;
  private armed = false;
  constructor(private readonly callback: () => void) {}
  arm(): void {
    this.armed = true;
    this.queued++;
    queueMicrotask(this.run);
  }
  private readonly run = (): void => {
    if (--this.queued > 0 || !this.armed) return;
    this.armed = false;
    this.callback();
  };
  cancel(): void {
    this.armed = false;
  }
}

/**
 * What a connection that just handled a segment holds of its frame (a connection keeps no part of a
 * segment but the payload its receive buffer may keep as a view; `kept` is receiveBufferCounters.viewsKept
 * before). A payload the buffer did not keep was copied (into the ring, or a chunk of its own out of
 * order) or dropped: a large one too, when the views' pin charge was full or the ring held bytes before it.
 * Left to the collector instead, such a super-segment's frame kept its whole slab from being carved again.
 */
function connectionDisposition(kept: number): FrameDisposition {
  return receiveBufferCounters.viewsKept !== kept ? FRAME_HELD : FRAME_RELEASED;
}
