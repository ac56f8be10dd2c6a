/**
 * The timers of one connection, each a deadline in milliseconds (Infinity when off). The connection never
 * starts a real timer: its owner asks `earliest()` (through `TcpConnection.nextDeadline()`) and calls back
 * at that time, which is what makes runs on a virtual clock reproducible.
 *
 * Timers are addressed by small integer ids on the hot path (re-arming the retransmission timer on every
 * ACK, cancelling the delayed ACK on every segment sent); their names are for STATUS and traces.
 */

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
  | 'loss-probe';

export const RETRANSMISSION = 0;
export const PERSIST = 1;
export const DELAYED_ACK = 2;
export const KEEPALIVE = 3;
export const FIN_WAIT_2 = 4;
export const TIME_WAIT = 5;
export const PACING = 6;
export const REORDER = 7;
export const LOSS_PROBE = 8;
export type TimerId = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;
/** How many timers a connection has. */
const TIMER_COUNT = 9;
/** Every timer's deadline while none is armed: the template each connection's deadlines start from. */
const UNARMED: readonly number[] = new Array<number>(TIMER_COUNT).fill(NEVER);

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
];

/** The order in which timers due at the same instant are handled. */
export const TIMER_ORDER: readonly TimerName[] = [
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
  /**
   * Deadline of each timer (NEVER when not armed), by id. A plain array of doubles rather than a
   * Float64Array: a typed array of more than 64 bytes gets a backing store outside the heap, which
   * costs far more to create and collect than the array itself, once per connection. Copied from a
   * template (one native copy) rather than built with `Array.from` and a callback per element, which
   * took a twentieth of the time of a connection opened and closed.
   */
  private readonly deadlines: number[] = UNARMED.slice();
  /** The earliest deadline, valid unless `stale`. */
  private cached = NEVER;
  private stale = false;

  get(id: TimerId): number {
    return this.deadlines[id]!;
  }

  isArmed(id: TimerId): boolean {
    return this.deadlines[id] !== NEVER;
  }

  set(id: TimerId, deadline: number): void {
    const old = this.deadlines[id]!;
    this.deadlines[id] = deadline;
    if (deadline <= this.cached) this.cached = deadline;
    else if (old === this.cached) this.stale = true;
  }

  cancel(id: TimerId): void {
    const old = this.deadlines[id]!;
    if (old === NEVER) return;
    this.deadlines[id] = NEVER;
    if (old === this.cached) this.stale = true;
  }

  cancelAll(): void {
    for (let i = 0; i < TIMER_COUNT; i++) this.deadlines[i] = NEVER;
    this.cached = NEVER;
    this.stale = false;
  }

  /** The earliest deadline of any timer, or Infinity. */
  earliest(): number {
    if (this.stale) {
      const d = this.deadlines;
      let min = d[0]!;
      for (let i = 1; i < TIMER_COUNT; i++) if (d[i]! < min) min = d[i]!;
      this.cached = min;
      this.stale = false;
    }
    return this.cached;
  }

  /** The first timer (in TIMER_ORDER) due at or before `now`, if any. */
  due(now: number): TimerId | undefined {
    if (this.earliest() > now) return undefined;
    for (const id of ORDER_IDS) if (this.deadlines[id]! <= now) return id;
    return undefined;
  }
}
