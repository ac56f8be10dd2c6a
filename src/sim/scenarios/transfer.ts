/**
 * A custom transfer between `client` and `server`: the client connects, each side sends its share of
 * bytes (a pattern whose every byte is checked on arrival) while reading everything the other sends. The
 * client closes once it has sent all of its own; the server once it has sent all of its own and read the
 * client's end of data, as a typical server does. The cable's delay, loss, rate and the hosts' buffers come from the
 * options; everything is seeded, so a run repeats exactly.
 *
 * The scenario runs in slices (`advance`), so a caller can draw progress between them: a progress bar in
 * the terminal, a live ladder in the browser. It ends when both directions are closed (the client may
 * still be in TIME-WAIT, which is reported, not waited for), when a connection fails, or at the time limit.
 */

import type { LinkImpairments } from '../../link/impairments.js';
import type { TcpConfig } from '../../tcp/config.js';
import { CONGESTION_CONTROL_NAMES, type CongestionControlName } from '../../tcp/congestion/registry.js';
import type { TcpConnection } from '../../tcp/connection.js';
import type { VirtualClock } from '../../time/virtual-clock.js';
import type { TcpStateName } from '../../trace/events.js';
import { type ConversationCounts, countConversation } from '../../viz/conversation-counts.js';
import { TwoHostNetwork } from './two-hosts.js';

/** Congestion controllers a scenario may ask for. */
export const CONGESTION_CONTROLS = CONGESTION_CONTROL_NAMES;
export type { CongestionControlName };

export interface TransferOptions {
  /** Bytes the client sends to the server. Default 256 KiB. */
  clientBytes?: number;
  /** Bytes the server sends back. Default 0. */
  serverBytes?: number;
  /** One-way delay, ms. Default 10. */
  delayMs?: number;
  /** Random extra delay per frame, [0, jitterMs) ms, never reordering. Default 0. */
  jitterMs?: number;
  /** Probability each frame is lost, in each direction. Default 0. */
  loss?: number;
  /** Probability each frame is delivered twice. Default 0. */
  duplicate?: number;
  /** Probability each frame is held back so later ones overtake it. Default 0. */
  reorder?: number;
  /** Probability a frame arrives with a flipped bit (the checksum catches it). Default 0. */
  corrupt?: number;
  /** Bottleneck rate in bits per second, each direction; unset: no limit. */
  rateBitsPerSecond?: number;
  /** Frames the bottleneck queue holds (with a rate). Default 1000. */
  queueFrames?: number;
  /**
   * ECN marking at the bottleneck (with a rate): ECN-capable packets that find at least this many frames
   * queued are marked CE (LinkImpairments.ecnMarkThresholdFrames). Default: none, drop-tail only.
   */
  ecnMarkFrames?: number;
  /** MTU of the cable: the MSS is this minus 40. Default 1500. */
  mtu?: number;
  /**
   * Receive buffers (the largest window each side advertises; 65535 at most without window scaling),
   * fixed at this size as SO_RCVBUF does. Default: autotuned, as Linux's tcp_rmem: TcpConfig's 256 KiB
   * at first, grown with the measured bandwidth-delay product up to `receiveBufferMax` (6 MiB).
   */
  clientReceiveBuffer?: number;
  serverReceiveBuffer?: number;
  /** Send buffers of both sides, fixed (SO_SNDBUF). Default: autotuned up to `sendBufferMax` (4 MiB). */
  sendBuffer?: number;
  /** Seed of every random choice. Default 1. */
  seed?: number;
  /** Congestion control. Default 'cubic'. */
  congestionControl?: CongestionControlName;
  /** Give up after this much virtual time, ms. Default 600 000 (ten minutes). */
  timeLimitMs?: number;
  /**
   * Further TCP settings of both hosts (SACK, timestamps, window scaling, ECN ...), over tcpts's
   * defaults — the modern set. The buffers and the algorithm above take precedence.
   */
  tcp?: Partial<TcpConfig>;
}

export type TransferPhase = 'connecting' | 'transferring' | 'closing' | 'done' | 'failed';

export interface TransferProgress {
  readonly phase: TransferPhase;
  /** Virtual time, ms. */
  readonly time: number;
  readonly clientBytesSent: number;
  readonly serverBytesReceived: number;
  readonly serverBytesSent: number;
  readonly clientBytesReceived: number;
  /** Bytes both directions must deliver. */
  readonly totalBytes: number;
  /** Delivered bytes over total bytes (1 when there is nothing to send and the handshake is done). */
  readonly fraction: number;
  /** Why the run failed: a connection error code, or 'time limit'. */
  readonly failure?: string;
}

export interface TransferResult extends TransferProgress {
  /** From the first SYN to the end of the run, ms. */
  readonly durationMs: number;
  /** Every byte arrived once, in order, unchanged. */
  readonly intact: boolean;
  readonly clientState: TcpStateName;
  readonly serverState: TcpStateName;
  readonly packets: number;
  readonly lostOnLink: number;
  /** Retransmitted segments as the stacks count them (`retransmittedSegments`). */
  readonly retransmissions: number;
  /** What the packets show, counted as every picture counts (conversation-counts.ts). */
  readonly counts: ConversationCounts;
}

export const TRANSFER_PORT = 5001;

type Resolved = Required<
  Omit<
    TransferOptions,
    | 'rateBitsPerSecond'
    | 'tcp'
    | 'ecnMarkFrames'
    | 'clientReceiveBuffer'
    | 'serverReceiveBuffer'
    | 'sendBuffer'
  >
> & {
  /** Undefined: autotuned. */
  clientReceiveBuffer?: number;
  serverReceiveBuffer?: number;
  sendBuffer?: number;
  rateBitsPerSecond?: number;
  ecnMarkFrames?: number;
  tcp: Partial<TcpConfig>;
};

export function resolveTransferOptions(options: TransferOptions = {}): Resolved {
  const resolved: Resolved = {
    clientBytes: options.clientBytes ?? 256 * 1024,
    serverBytes: options.serverBytes ?? 0,
    delayMs: options.delayMs ?? 10,
    jitterMs: options.jitterMs ?? 0,
    loss: options.loss ?? 0,
    duplicate: options.duplicate ?? 0,
    reorder: options.reorder ?? 0,
    corrupt: options.corrupt ?? 0,
    queueFrames: options.queueFrames ?? 1000,
    mtu: options.mtu ?? 1500,
    seed: options.seed ?? 1,
    congestionControl: options.congestionControl ?? 'cubic',
    timeLimitMs: options.timeLimitMs ?? 600_000,
    tcp: options.tcp ?? {},
  };
  // Sizes given are fixed (SO_RCVBUF / SO_SNDBUF); those left out are autotuned.
  if (options.clientReceiveBuffer !== undefined) resolved.clientReceiveBuffer = options.clientReceiveBuffer;
  if (options.serverReceiveBuffer !== undefined) resolved.serverReceiveBuffer = options.serverReceiveBuffer;
  if (options.sendBuffer !== undefined) resolved.sendBuffer = options.sendBuffer;
  if (options.rateBitsPerSecond !== undefined) resolved.rateBitsPerSecond = options.rateBitsPerSecond;
  if (options.ecnMarkFrames !== undefined) resolved.ecnMarkFrames = options.ecnMarkFrames;
  if (!CONGESTION_CONTROLS.includes(resolved.congestionControl)) {
    throw Object.assign(new Error(`unknown congestion control '${resolved.congestionControl}'`), {
      code: 'EINVAL',
    });
  }
  return resolved;
}

/** The byte at `position` of a side's stream: varies with position, so a misplaced byte is caught. */
function patternByte(position: number, salt: number): number {
  return (position * 31 + (position >>> 8) * 7 + salt) & 0xff;
}

const CHUNK = 16 * 1024;

/** One direction's sender: writes its share in chunks whenever the send buffer has room (a byte pattern). */
export class PatternSender {
  sent = 0;
  private readonly chunk = new Uint8Array(CHUNK);

  constructor(
    private readonly conn: TcpConnection,
    private readonly total: number,
    private readonly salt: number,
    private readonly now: () => number,
    private readonly finished: () => void,
  ) {
    conn.on('drain', () => this.pump());
  }

  pump(): void {
    while (this.sent < this.total) {
      const length = Math.min(CHUNK, this.total - this.sent);
      for (let i = 0; i < length; i++) this.chunk[i] = patternByte(this.sent + i, this.salt);
      const accepted = this.conn.send(this.chunk.subarray(0, length), this.now());
      this.sent += accepted;
      if (accepted < length) return;
    }
    this.finished();
  }
}

/** One direction's receiver: reads everything, checks every byte against the pattern. */
export class PatternReceiver {
  received = 0;
  intact = true;
  ended = false;

  constructor(
    private readonly conn: TcpConnection,
    private readonly salt: number,
    private readonly now: () => number,
    onEnd?: () => void,
  ) {
    conn.on('readable', () => this.drain());
    conn.on('end', () => {
      this.drain();
      this.ended = true;
      onEnd?.();
    });
  }

  private drain(): void {
    for (;;) {
      const data = this.conn.receive(this.now());
      if (data === null || data.length === 0) return;
      for (let i = 0; i < data.length; i++) {
        if (data[i] !== patternByte(this.received + i, this.salt)) {
          this.intact = false;
          break;
        }
      }
      this.received += data.length;
    }
  }
}

/**
 * Runs `clock` up to `stop`, while `finished()` is false: the slice of a scenario's `advance`. Without
 * `enough` it runs one instant with work at a time. With it, one timer at a time, asking `enough()` after
 * each: on a link without a rate a whole window of segments arrives at one instant (hundreds of
 * callbacks, tens of milliseconds of work), too much to do between two checks of a frame's budget.
 * When the run finishes in the middle of an instant, the rest of that instant is run too.
 */
export function runSlice(
  clock: VirtualClock,
  stop: number,
  finished: () => boolean,
  enough?: () => boolean,
): void {
  while (!finished()) {
    const next = clock.nextTimerTime();
    if (next === undefined) break;
    if (next > stop) {
      clock.runUntil(stop);
      break;
    }
    if (!enough) {
      clock.runUntil(next);
      continue;
    }
    clock.step();
    if (finished()) {
      clock.runUntil(clock.now());
      break;
    }
    if (enough()) break;
  }
}

const CLIENT_SALT = 17;
const SERVER_SALT = 101;

export class TransferScenario {
  readonly network: TwoHostNetwork;
  readonly options: Resolved;
  private readonly client: TcpConnection;
  private server: TcpConnection | undefined;
  private clientSender: PatternSender | undefined;
  private serverSender: PatternSender | undefined;
  private readonly clientReceiver: PatternReceiver;
  private serverReceiver: PatternReceiver | undefined;
  private failure: string | undefined;
  private readonly startTime: number;

  constructor(options: TransferOptions = {}) {
    const o = resolveTransferOptions(options);
    this.options = o;
    const impairments: LinkImpairments = {
      delayMs: o.delayMs,
      ...(o.jitterMs > 0 ? { jitterMs: o.jitterMs } : {}),
      ...(o.loss > 0 ? { loss: o.loss } : {}),
      ...(o.duplicate > 0 ? { duplicate: o.duplicate } : {}),
      ...(o.reorder > 0 ? { reorder: o.reorder } : {}),
      ...(o.corrupt > 0 ? { corrupt: o.corrupt } : {}),
      ...(o.rateBitsPerSecond !== undefined
        ? { rateBitsPerSecond: o.rateBitsPerSecond, queueLimitFrames: o.queueFrames }
        : {}),
      ...(o.rateBitsPerSecond !== undefined && o.ecnMarkFrames !== undefined
        ? { ecnMarkThresholdFrames: o.ecnMarkFrames }
        : {}),
    };
    this.network = new TwoHostNetwork({
      seed: o.seed,
      delayMs: o.delayMs,
      mtu: o.mtu,
      impairments,
      tcp: { ...o.tcp, congestionControl: o.congestionControl },
    });
    const now = () => this.network.now();
    const config = (receiveBufferSize: number | undefined): Partial<TcpConfig> => ({
      ...(receiveBufferSize !== undefined ? { receiveBufferSize } : {}),
      ...(o.sendBuffer !== undefined ? { sendBufferSize: o.sendBuffer } : {}),
    });
    const listener = this.network.serverTcp.listen({
      port: TRANSFER_PORT,
      config: config(o.serverReceiveBuffer),
    });
    listener.on('connection', (conn) => {
      if (this.server) return;
      this.server = conn;
      const receiver = new PatternReceiver(conn, CLIENT_SALT, now, () => closeWhenDone());
      this.serverReceiver = receiver;
      this.watch(conn);
      // Like most servers, it closes once it has sent everything and the client has finished too.
      let allSent = false;
      const closeWhenDone = () => {
        if (allSent && receiver.ended) conn.close(now());
      };
      this.serverSender = new PatternSender(conn, o.serverBytes, SERVER_SALT, now, () => {
        allSent = true;
        closeWhenDone();
      });
      this.serverSender.pump();
      listener.close();
    });
    this.startTime = now();
    this.client = this.network.clientTcp.connect({
      remoteAddress: this.network.serverAddress,
      remotePort: TRANSFER_PORT,
      config: config(o.clientReceiveBuffer),
    });
    this.clientReceiver = new PatternReceiver(this.client, SERVER_SALT, now);
    this.watch(this.client);
    const client = this.client;
    client.on('connected', () => {
      this.clientSender = new PatternSender(client, o.clientBytes, CLIENT_SALT, now, () =>
        client.close(now()),
      );
      this.clientSender.pump();
    });
  }

  private watch(conn: TcpConnection): void {
    conn.on('error', (error) => {
      this.failure ??= error.code;
    });
  }

  /** True once the run is over (done or failed). */
  get finished(): boolean {
    const phase = this.phase();
    return phase === 'done' || phase === 'failed';
  }

  /**
   * Runs up to `ms` of virtual time, stopping early when the run finishes. Returns true when finished.
   *
   * `enough`, asked after each instant of virtual time that had work, stops the slice early when it says
   * so (the clock then stays at that instant): a page simulating between frames uses it to hand the
   * thread back to the browser before a frame is missed, however much happens in the slice.
   */
  advance(ms: number, enough?: () => boolean): boolean {
    const clock = this.network.clock;
    const stop = Math.min(clock.now() + ms, this.startTime + this.options.timeLimitMs);
    runSlice(clock, stop, () => this.finished, enough);
    if (!this.finished && clock.now() >= this.startTime + this.options.timeLimitMs)
      this.failure ??= 'time limit';
    if (!this.finished && clock.nextTimerTime() === undefined) this.failure ??= 'stalled';
    return this.finished;
  }

  /** Runs to the end, calling `onSlice` between slices of `sliceMs` virtual ms. */
  runToEnd(onSlice?: (progress: TransferProgress) => void, sliceMs = 100): TransferResult {
    while (!this.advance(sliceMs)) onSlice?.(this.progress());
    return this.result();
  }

  private phase(): TransferPhase {
    if (this.failure !== undefined) return 'failed';
    const c = this.client.state;
    const s = this.server?.state;
    if (c === 'SYN-SENT' || s === undefined || s === 'SYN-RECEIVED') return 'connecting';
    const closed = (state: TcpStateName | undefined) => state === 'CLOSED' || state === 'TIME-WAIT';
    if (closed(c) && closed(s)) return 'done';
    if (this.clientReceiver.ended || this.serverReceiver?.ended) return 'closing';
    return 'transferring';
  }

  progress(): TransferProgress {
    const o = this.options;
    const total = o.clientBytes + o.serverBytes;
    const delivered = (this.serverReceiver?.received ?? 0) + this.clientReceiver.received;
    const phase = this.phase();
    const progress: TransferProgress = {
      phase,
      time: this.network.now(),
      clientBytesSent: this.clientSender?.sent ?? 0,
      serverBytesReceived: this.serverReceiver?.received ?? 0,
      serverBytesSent: this.serverSender?.sent ?? 0,
      clientBytesReceived: this.clientReceiver.received,
      totalBytes: total,
      fraction: total === 0 ? (phase === 'connecting' ? 0 : 1) : delivered / total,
    };
    return this.failure !== undefined ? { ...progress, failure: this.failure } : progress;
  }

  /** Every byte arrived once, in order, unchanged (cheap: result() also analyses the packets). */
  intact(): boolean {
    const o = this.options;
    return (
      (this.serverReceiver?.intact ?? true) &&
      this.clientReceiver.intact &&
      (this.serverReceiver?.received ?? 0) === o.clientBytes &&
      this.clientReceiver.received === o.serverBytes
    );
  }

  result(): TransferResult {
    const progress = this.progress();
    const conversation = this.network.conversation();
    const counters = [this.network.clientTcp.counters, this.network.serverTcp.counters];
    return {
      ...progress,
      durationMs: this.network.now() - this.startTime,
      intact: this.intact(),
      clientState: this.client.state,
      serverState: this.server?.state ?? 'CLOSED',
      packets: conversation.packets.length,
      lostOnLink: conversation.packets.filter((p) => p.dropped).length,
      retransmissions: counters.reduce((n, c) => n + c.retransmittedSegments, 0),
      counts: countConversation(conversation),
    };
  }
}
