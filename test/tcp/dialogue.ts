/**
 * Segment-dialogue harness: drives ONE TcpConnection with hand-built segments at explicit virtual times
 * and checks the exact segments it answers with (flags, seq, ack, window, options, payload length).
 *
 * Flags are written as letters in a fixed order: S (SYN), F (FIN), R (RST), P (PSH), A (ACK), U (URG),
 * E (ECE), C (CWR), so a SYN-ACK is 'SA', a FIN-ACK 'FA', data with PSH 'PA', an ECN-setup SYN 'SEC'.
 */
import { expect } from 'vitest';
import { DEFAULT_TCP_CONFIG, type TcpConfig } from '../../src/tcp/config.js';
import type { CongestionControlFactory } from '../../src/tcp/congestion/congestion-control.js';
import { TcpConnection } from '../../src/tcp/connection.js';
import { newTcpCounters, type TcpCounters } from '../../src/tcp/counters.js';
import { windowScaleFor } from '../../src/tcp/tcb.js';
import type { Clock } from '../../src/time/clock.js';
import type { Endpoint } from '../../src/trace/events.js';
import { TraceRecorder } from '../../src/trace/events.js';
import {
  copyTcpSegment,
  TCP_ACK,
  TCP_CWR,
  TCP_ECE,
  TCP_FIN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  TCP_URG,
  type TcpOptions,
  type TcpSegment,
} from '../../src/wire/tcp.js';

export const LOCAL: Endpoint = { address: 0x0a000001, port: 40000 }; // 10.0.0.1
export const REMOTE: Endpoint = { address: 0x0a000002, port: 80 }; // 10.0.0.2

const FLAG_LETTERS: Array<[string, number]> = [
  ['S', TCP_SYN],
  ['F', TCP_FIN],
  ['R', TCP_RST],
  ['P', TCP_PSH],
  ['A', TCP_ACK],
  ['U', TCP_URG],
  ['E', TCP_ECE],
  ['C', TCP_CWR],
];

export function flagsToString(flags: number): string {
  let s = '';
  for (const [letter, bit] of FLAG_LETTERS) if (flags & bit) s += letter;
  return s;
}

export function parseFlags(text: string): number {
  let flags = 0;
  for (const ch of text) {
    const entry = FLAG_LETTERS.find(([letter]) => letter === ch);
    if (!entry) throw new Error(`unknown flag letter ${ch}`);
    flags |= entry[1];
  }
  return flags;
}

/** Bytes 0, 1, 2, ... (mod 256) starting at `start`: easy to check for order and duplication. */
export function pattern(length: number, start = 0): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (start + i) & 0xff;
  return out;
}

export interface SegmentSpec {
  flags: string;
  seq: number;
  ack?: number;
  window?: number;
  /** Payload bytes, or a length (filled with `pattern`). */
  payload?: Uint8Array | number;
  options?: TcpOptions;
  urgentPointer?: number;
  srcPort?: number;
  dstPort?: number;
  /** The ECN field of the IP header it arrives in (3 = CE); default 0, Not-ECT. */
  ecn?: number;
}

/** A segment from REMOTE to LOCAL. */
export function segment(spec: SegmentSpec): TcpSegment {
  const payload =
    spec.payload === undefined
      ? new Uint8Array(0)
      : typeof spec.payload === 'number'
        ? pattern(spec.payload)
        : spec.payload;
  return {
    srcPort: spec.srcPort ?? REMOTE.port,
    dstPort: spec.dstPort ?? LOCAL.port,
    seq: spec.seq >>> 0,
    ack: (spec.ack ?? 0) >>> 0,
    flags: parseFlags(spec.flags),
    window: spec.window ?? 65535,
    urgentPointer: spec.urgentPointer ?? 0,
    options: spec.options ?? {},
    payload,
  };
}

/** What a test asserts about a segment the connection sent. */
export interface Expected {
  flags: string;
  seq: number;
  /** Required when the flags include A. */
  ack?: number;
  /** Compared when given. */
  window?: number;
  /** Payload length; default 0. */
  len?: number;
  /** Default {}. */
  options?: TcpOptions;
  /** Default 0. */
  urgentPointer?: number;
  /** When given, the payload bytes must equal these. */
  payload?: Uint8Array;
}

export interface Summary {
  flags: string;
  seq: number;
  ack: number;
  window: number;
  len: number;
  options: TcpOptions;
  urgentPointer: number;
}

export function summarize(seg: TcpSegment): Summary {
  return {
    flags: flagsToString(seg.flags),
    seq: seg.seq,
    ack: seg.ack,
    window: seg.window,
    len: seg.payload.length,
    options: seg.options,
    urgentPointer: seg.urgentPointer,
  };
}

/**
 * What a dialogue's connection runs with under the test's own `config`: RFC 9293's baseline wire, without
 * the timestamp and SACK options tcpts sends by default (as Linux), and with fixed buffers (no
 * autotuning, whose 6 MiB cap would change the window scale and every window), so that each segment a
 * test spells out carries only what its subject needs. Tests of those mechanisms switch them on.
 */
export const DIALOGUE_BASELINE: Partial<TcpConfig> = {
  timestamps: false,
  sack: false,
  rack: false,
  receiveBufferAutotuning: false,
  sendBufferAutotuning: false,
};

export interface DialogueOptions {
  iss?: number;
  config?: Partial<TcpConfig>;
  mtu?: number;
  /** Largest datagram IP would take for one TSO segment (TcpConnectionOptions.tsoSize). */
  tsoSize?: number;
  now?: number;
  local?: Endpoint;
  remote?: Endpoint;
  congestionControl?: CongestionControlFactory;
  /** TcpConnectionOptions.timestampOffset. */
  timestampOffset?: number;
  /** TcpConnectionOptions.clock: what an input handed over without a time reads. */
  clock?: Clock;
}

export class Dialogue {
  now: number;
  readonly sent: TcpSegment[] = [];
  /** Events in order, e.g. 'connected', 'readable', 'error:ECONNRESET', 'closed'. */
  readonly events: string[] = [];
  /** States visited, starting with the first one entered. */
  readonly states: string[] = [];
  readonly counters: TcpCounters = newTcpCounters();
  readonly trace = new TraceRecorder();
  readonly deadlineChanges: number[] = [];
  /** The `segmentSize` (TSO) each sent segment was handed over with, when it had one. */
  readonly segmentSizes = new Map<TcpSegment, number>();
  /** The ECN field (RFC 3168 §5) each sent segment was handed over with, when it had one. */
  readonly ecnFields = new Map<TcpSegment, number>();
  conn!: TcpConnection;

  private constructor(now: number) {
    this.now = now;
  }

  private options(o: DialogueOptions) {
    return {
      local: o.local ?? LOCAL,
      remote: o.remote ?? REMOTE,
      pathMtu: o.mtu ?? 1500,
      tsoSize: o.tsoSize,
      timestampOffset: o.timestampOffset,
      clock: o.clock,
      config: { ...DIALOGUE_BASELINE, ...o.config },
      counters: this.counters,
      tracer: this.trace,
      host: 'local',
      congestionControl: o.congestionControl,
      output: (seg: TcpSegment, segmentSize?: number, ecn?: number) => {
        // The segment and its payload are only valid during the call: keep a copy.
        const copy = copyTcpSegment(seg);
        this.sent.push(copy);
        if (segmentSize !== undefined) this.segmentSizes.set(copy, segmentSize);
        if (ecn !== undefined) this.ecnFields.set(copy, ecn);
      },
      onDeadlineChange: (_c: TcpConnection, d: number) => this.deadlineChanges.push(d),
    };
  }

  private listen(conn: TcpConnection): void {
    this.conn = conn;
    conn.on('state', (from, to) => {
      if (this.states.length === 0) this.states.push(from);
      this.states.push(to);
    });
    for (const name of ['connected', 'readable', 'end', 'drain', 'closed'] as const) {
      conn.on(name, () => this.events.push(name));
    }
    conn.on('error', (e) => this.events.push(`error:${e.code}`));
    conn.on('soft-error', (e) => this.events.push(`soft-error:${e.code}`));
    conn.on('retransmission-warning', (n) => this.events.push(`retransmission-warning:${n}`));
    conn.on('urgent', (n) => this.events.push(`urgent:${n}`));
  }

  /** An active OPEN at time `now` (default 0). The SYN is in `sent`. */
  static active(o: DialogueOptions = {}): Dialogue {
    const d = new Dialogue(o.now ?? 0);
    const opts = d.options(o);
    // The listener must be attached before the first state change is delivered, which happens at the end
    // of connect(); events are queued until then, so attaching right after is in time.
    const conn = TcpConnection.connect(
      { ...opts, output: opts.output, onDeadlineChange: opts.onDeadlineChange },
      o.iss ?? 1000,
      d.now,
    );
    d.listen(conn);
    d.states.push('CLOSED', 'SYN-SENT');
    return d;
  }

  /** A connection spawned by a listener for `syn` (SYN-RECEIVED; the SYN-ACK is in `sent`). */
  static passive(syn: SegmentSpec, o: DialogueOptions = {}): Dialogue {
    const d = new Dialogue(o.now ?? 0);
    const conn = TcpConnection.accept(d.options(o), segment(syn), o.iss ?? 5000, d.now);
    d.listen(conn);
    d.states.push('LISTEN', 'SYN-RECEIVED');
    return d;
  }

  /** Advances virtual time to `t`, running every timer due on the way at its own deadline. */
  at(t: number): this {
    if (t < this.now) throw new Error(`time goes forward only: ${t} < ${this.now}`);
    for (let guard = 0; ; guard++) {
      if (guard > 100_000) throw new Error('timer loop');
      const deadline = this.conn.nextDeadline();
      if (deadline > t) break;
      this.now = Math.max(this.now, deadline);
      this.conn.onTimer(this.now);
    }
    this.now = t;
    return this;
  }

  advance(ms: number): this {
    return this.at(this.now + ms);
  }

  /** Delivers a segment from the peer at the current time. */
  recv(spec: SegmentSpec): this {
    this.conn.handleSegment(segment(spec), this.now, spec.ecn ?? 0);
    return this;
  }

  /** Removes and returns the next segment sent, failing if there is none. */
  next(): TcpSegment {
    const seg = this.sent.shift();
    if (!seg) throw new Error(`expected a segment at t=${this.now}, none was sent`);
    return seg;
  }

  /** Asserts the next segment sent is exactly `e`. */
  expect(e: Expected): TcpSegment {
    const seg = this.next();
    const actual = summarize(seg);
    const wanted: Summary = {
      flags: e.flags,
      seq: e.seq >>> 0,
      ack: (e.ack ?? 0) >>> 0,
      window: e.window ?? actual.window,
      len: e.len ?? 0,
      options: e.options ?? {},
      urgentPointer: e.urgentPointer ?? 0,
    };
    expect(actual, `segment sent at t=${this.now}`).toEqual(wanted);
    if (e.payload) expect(Array.from(seg.payload)).toEqual(Array.from(e.payload));
    return seg;
  }

  /** Asserts nothing (more) was sent. */
  expectNone(): this {
    expect(this.sent.map(summarize), `segments sent by t=${this.now}`).toEqual([]);
    return this;
  }

  /** Removes and returns everything sent so far. */
  takeAll(): TcpSegment[] {
    return this.sent.splice(0, this.sent.length);
  }

  /** Returns and clears the events recorded so far. */
  takeEvents(): string[] {
    return this.events.splice(0, this.events.length);
  }

  get state(): string {
    return this.conn.state;
  }
}

/**
 * The options our SYN carries with this configuration: the MSS (MTU - 40) and, with window scaling on
 * (the default), the smallest shift that covers the receive buffer (RFC 7323 §2.3).
 */
export function synOptionsFor(o: { config?: Partial<TcpConfig>; mtu?: number } = {}): TcpOptions {
  const config = { ...DEFAULT_TCP_CONFIG, ...DIALOGUE_BASELINE, ...o.config };
  const options: TcpOptions = { mss: (o.mtu ?? 1500) - 40 };
  if (config.windowScaling) options.windowScale = windowScaleFor(config.receiveBufferSize);
  if (config.sack) options.sackPermitted = true;
  return options;
}

/**
 * An established connection: active open with ISS `iss`, the peer's ISN `irs`, both MSS `mss` (our MTU
 * is mss + 40). Data sequence numbers start at iss + 1 and irs + 1. All segments and events so far are
 * consumed.
 */
export function established(
  o: DialogueOptions & { irs?: number; peerWindow?: number; peerMss?: number | null } = {},
): Dialogue {
  const iss = o.iss ?? 1000;
  const irs = o.irs ?? 9000;
  const d = Dialogue.active({ ...o, iss });
  d.expect({ flags: 'S', seq: iss, options: synOptionsFor(o) });
  d.recv({
    flags: 'SA',
    seq: irs,
    ack: iss + 1,
    window: o.peerWindow ?? 65535,
    options: o.peerMss === null ? {} : { mss: o.peerMss ?? 1460 },
  });
  d.expect({ flags: 'A', seq: iss + 1, ack: irs + 1 });
  d.takeEvents();
  return d;
}
