/**
 * The timers of one connection, each a deadline in milliseconds (Infinity when off). The connection never
 * starts a real timer: its owner asks `earliest()` (through `TcpConnection.nextDeadline()`) and calls back
 * at that time, which is what makes runs on a virtual clock reproducible.
 *
 * Timers are addressed by small integer ids on the hot path (re-arming the retransmission timer on every
 * ACK, cancelling the delayed ACK on every segment sent); their names are for STATUS and traces.
 */

import type { CurrentTime } from '../time/clock.js';

export const NEVER = Number.POSITIVE_INFINITY;

export type TimerName =
  /** RFC 6298 retransmission timer: SYN, SYN-ACK, data and FIN (RFC 9293 §3.8.1, §3.10.8). */
  | 'retransmission'
  /** Zero-window probe timer (RFC 9293 §3.8.6.1, MUST-36) and the sender SWS override (§3.8.6.2.1). */
  | 'persist'
  /** Delayed acknowledgment (RFC 9293 §3.8.6.3, MUST-40). */
  | 'delayed-ack'
  /** Keepalive probes (RFC 9293 §3.8.4). */
  | 'keepalive'
  /** Orphaned FIN-WAIT-2 connections give up after a while (as BSD and Linux do). */
  | 'fin-wait-2'
  /** TIME-WAIT lasts 2*MSL (MUST-13). */
  | 'time-wait'
  /** Pacing: the earliest departure time of the next segment (held back until then). */
  | 'pacing'
  /** RACK's reordering timer: segments not yet overdue are judged when it fires (RFC 8985 §6.2 step 5). */
  | 'reorder'
  /** The tail loss probe (RFC 8985 §7.2). */
  | 'loss-probe'
  /**
   * 'readable' for the in-order data a burst brought, once the burst has been processed (set for now,
   * like the delayed ACK with one ACK per burst: TcpConfig.ackPerBurst).
   */
  | 'readable';

export const RETRANSMISSION = 0;
export const PERSIST = 1;
export const DELAYED_ACK = 2;
export const KEEPALIVE = 3;
export const FIN_WAIT_2 = 4;
export const TIME_WAIT = 5;
export const PACING = 6;
export const REORDER = 7;
export const LOSS_PROBE = 8;
export const READABLE = 9;
export type TimerId = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
/** How many timers a connection has. */
const TIMER_COUNT = 10;
/**
 * Index of a deadline array's last slot: not a timer but the earliest deadline of them all, kept so that
 * `earliest()` need not scan; NaN when it must be computed again.
 */
const EARLIEST = TIMER_COUNT;
/**
 * A deadline array with no timer armed: the template each array is copied from. Filled by pushes, not
 * `new Array(n).fill()`: that array (and its copies) would be holey, and optimized code reading a double
 * from a holey array allows for the hole, so the value it returns is a heap number made per read.
 */
const UNARMED: readonly number[] = [];
for (let i = 0; i <= TIMER_COUNT; i++) (UNARMED as number[]).push(NEVER);
/**
 * Deadline arrays no connection holds, shared by all: a connection takes one when it arms a timer and
 * gives it back once none is armed, so the many idle connections of a server hold none, and one that
 * alternates between busy and idle allocates nothing. A few are kept; more are left to the collector.
 */
const SPARE_DEADLINES: number[][] = [];
const SPARE_DEADLINES_KEPT = 64;

function releaseDeadlines(d: number[]): void {
  if (SPARE_DEADLINES.length >= SPARE_DEADLINES_KEPT) return;
  for (let i = 0; i <= TIMER_COUNT; i++) d[i] = NEVER;
  SPARE_DEADLINES.push(d);
}

/** Names by id. */
export const TIMER_NAMES: readonly TimerName[] = [
  'retransmission',
  'persist',
  'delayed-ack',
  'keepalive',
  'fin-wait-2',
  'time-wait',
  'pacing',
  'reorder',
  'loss-probe',
  'readable',
];

/** The order in which timers due at the same instant are handled. */
export const TIMER_ORDER: readonly TimerName[] = [
  // First: the application hears of data that arrived before anything a timer does (as it would have
  // without the deferral), and reads it before the burst's ACK, which then carries the window it opened.
  'readable',
  'time-wait',
  'fin-wait-2',
  'retransmission',
  'reorder',
  'loss-probe',
  'persist',
  'delayed-ack',
  'keepalive',
  'pacing',
];

const ORDER_IDS: readonly TimerId[] = [
  READABLE,
  TIME_WAIT,
  FIN_WAIT_2,
  RETRANSMISSION,
  REORDER,
  LOSS_PROBE,
  PERSIST,
  DELAYED_ACK,
  KEEPALIVE,
  PACING,
];

export class ConnectionTimers {
  /** `time`: the time `setAfterNow` and `updateLossProbe` count from (the connection's Tcb). */
  constructor(private readonly time: CurrentTime) {}

  /**
   * Deadline of each timer (NEVER when not armed), by id, then the earliest of them (see EARLIEST); none
   * while no timer is armed (see SPARE_DEADLINES). A plain array of doubles rather than a Float64Array: a
   * typed array of more than 64 bytes gets a backing store outside the heap, which costs far more to
   * create and collect than the array itself.
   */
  private deadlines: number[] | undefined = undefined;

  get(id: TimerId): number {
    const d = this.deadlines;
    return d === undefined ? Number.POSITIVE_INFINITY : d[id]!;
  }

  isArmed(id: TimerId): boolean {
    // Not `get(id) !== NEVER`: once inlined, get's result joins the constant NEVER and a double read from
    // the array, which optimized code boxes (a heap number per call) before comparing.
    const d = this.deadlines;
    return d !== undefined && d[id]! !== NEVER;
  }

  /**
   * The deadline `armNext` stores, written just before it is called. Deadlines reach the array through
   * this field, not as an argument: a double passed to a call that is not inlined is a heap number made
   * per call once times have fractions (on any path with delay), and which calls a caller inlines
   * depends on how its inlining budget went, which varies from run to run (a 20 ms path made one object
   * per ACK or per segment in some runs and none in others). A field of doubles is written in place.
   * The callers below are small enough to be inlined wherever they are called often.
   */
  next = Number.POSITIVE_INFINITY;

  set(id: TimerId, deadline: number): void {
    this.next = deadline;
    this.armNext(id);
  }

  /** Arms timer `id` for `delay` ms after `base` (see `next`). */
  setAfter(id: TimerId, base: number, delay: number): void {
    this.next = base + delay;
    this.armNext(id);
  }

  /** `setAfter(id, now, delay)`, the time read here (see `next`). */
  setAfterNow(id: TimerId, delay: number): void {
    this.next = this.time.now + delay;
    this.armNext(id);
  }

  /** Arms timer `id` for the deadline in `next`. */
  armNext(id: TimerId): void {
    const deadline = this.next;
    let d = this.deadlines;
    if (d === undefined) {
      if (deadline === NEVER) return;
      d = SPARE_DEADLINES.pop() ?? UNARMED.slice();
      this.deadlines = d;
    }
    const old = d[id]!;
    d[id] = deadline;
    const earliest = d[EARLIEST]!;
    // While the earliest is unknown (NaN) both comparisons are false and it stays unknown.
    if (deadline <= earliest) d[EARLIEST] = deadline;
    else if (old === earliest) d[EARLIEST] = Number.NaN;
  }

  /**
   * Arms the tail loss probe (RFC 8985 §7.2) PTO ms after now when `due`, or cancels it. PTO = 2 SRTT,
   * or 1 s before any RTT sample, plus `allowanceMs` (the caller's worst-case delayed ACK when one segment
   * is in flight), at least 1 ms. When that is not before the retransmission timer's deadline the probe
   * is cancelled instead: the RTO then stays in charge. Loss recovery decides whether a probe is due.
   *
   * The PTO is computed here, next to the store, for the reason setAfter gives: SRTT, the PTO and the
   * deadline are doubles, and passing any of them to a call that is not inlined (as a store would be,
   * called from the sender's output path) makes a heap number for every segment sent. And the sender
   * calls this whether or not a probe is due: a call made on only some of its caller's runs is not
   * inlined, and is then too rare to be optimized by itself, and unoptimized each SRTT read makes a heap
   * number (a zero-delay transfer, where no probe is ever due, paid about 0.14 per segment).
   */
  updateLossProbe(due: boolean, rtt: { readonly srtt: number }, allowanceMs: number): void {
    if (!due) {
      this.cancel(LOSS_PROBE);
      return;
    }
    const d = this.deadlines;
    // No deadline array means no retransmission timer either: nothing for a probe to come before.
    if (d === undefined) return;
    const srtt = rtt.srtt;
    const pto = (srtt > 0 ? 2 * srtt : 1000) + allowanceMs;
    const deadline = this.time.now + Math.max(pto, 1);
    const old = d[LOSS_PROBE]!;
    const earliest = d[EARLIEST]!;
    if (deadline >= d[RETRANSMISSION]!) {
      if (old === NEVER) return;
      d[LOSS_PROBE] = NEVER;
      if (old === earliest) d[EARLIEST] = Number.NaN;
      return;
    }
    // As in setAfter.
    d[LOSS_PROBE] = deadline;
    if (deadline <= earliest) d[EARLIEST] = deadline;
    else if (old === earliest) d[EARLIEST] = Number.NaN;
  }

  cancel(id: TimerId): void {
    const d = this.deadlines;
    if (d === undefined) return;
    const old = d[id]!;
    if (old === NEVER) return;
    d[id] = NEVER;
    if (old === d[EARLIEST]) d[EARLIEST] = Number.NaN;
  }

  cancelAll(): void {
    const d = this.deadlines;
    if (d === undefined) return;
    this.deadlines = undefined;
    releaseDeadlines(d);
  }

  /** The earliest deadline of any timer, or Infinity (then the deadline array is given back). */
  earliest(): number {
    this.findEarliest();
    const d = this.deadlines;
    // Number.POSITIVE_INFINITY, not NEVER: a bundle makes NEVER a module variable, whose value optimized
    // code loads as a heap object; joined with the double read below, the result became a heap number
    // made per call once deadlines had fractions (on any real path; a zero-delay clock keeps integers).
    return d === undefined ? Number.POSITIVE_INFINITY : d[EARLIEST]!;
  }

  /**
   * The earliest deadline as last reported (`reportMoved`), Infinity before any. The owner's record of
   * it is here, next to the deadlines, for the reason `next` gives: compared and stored where it is
   * found, no deadline is returned from a call.
   */
  reported = Number.POSITIVE_INFINITY;

  /** Whether the earliest deadline is no longer `reported`; `reported` then takes it. */
  reportMoved(): boolean {
    this.findEarliest();
    const d = this.deadlines;
    const earliest = d === undefined ? Number.POSITIVE_INFINITY : d[EARLIEST]!;
    if (earliest === this.reported) return false;
    this.reported = earliest;
    return true;
  }

  /** Computes the earliest deadline into its slot if unknown; gives the array back if none is armed. */
  private findEarliest(): void {
    const d = this.deadlines;
    if (d === undefined) return;
    let earliest = d[EARLIEST]!;
    if (Number.isNaN(earliest)) {
      earliest = d[0]!;
      for (let i = 1; i < TIMER_COUNT; i++) if (d[i]! < earliest) earliest = d[i]!;
      d[EARLIEST] = earliest;
    }
    if (earliest === NEVER) {
      this.deadlines = undefined;
      releaseDeadlines(d);
    }
  }

  /** The first timer (in TIMER_ORDER) due at or before `now`, if any. */
  due(now: number): TimerId | undefined {
    if (this.earliest() > now) return undefined;
    const d = this.deadlines;
    if (d === undefined) return undefined;
    for (const id of ORDER_IDS) if (d[id]! <= now) return id;
    return undefined;
  }
}
