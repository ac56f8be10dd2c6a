/**
 * The timers of one connection, each a deadline in milliseconds (Infinity when off). The connection never
 * starts a real timer: its owner asks `earliest()` (through `TcpConnection.nextDeadline()`) and calls back
 * at that time, which is what makes runs on a virtual clock reproducible.
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
  | 'time-wait';

/** The order in which timers due at the same instant are handled. */
export const TIMER_ORDER: readonly TimerName[] = [
  'time-wait',
  'fin-wait-2',
  'retransmission',
  'persist',
  'delayed-ack',
  'keepalive',
];

export class ConnectionTimers {
  private readonly deadlines: Record<TimerName, number> = {
    retransmission: NEVER,
    persist: NEVER,
    'delayed-ack': NEVER,
    keepalive: NEVER,
    'fin-wait-2': NEVER,
    'time-wait': NEVER,
  };

  get(name: TimerName): number {
    return this.deadlines[name];
  }

  isArmed(name: TimerName): boolean {
    return this.deadlines[name] !== NEVER;
  }

  set(name: TimerName, deadline: number): void {
    this.deadlines[name] = deadline;
  }

  cancel(name: TimerName): void {
    this.deadlines[name] = NEVER;
  }

  cancelAll(): void {
    for (const name of TIMER_ORDER) this.deadlines[name] = NEVER;
  }

  /** The earliest deadline of any timer, or Infinity. */
  earliest(): number {
    let min = NEVER;
    for (const name of TIMER_ORDER) {
      const d = this.deadlines[name];
      if (d < min) min = d;
    }
    return min;
  }

  /** The first timer (in TIMER_ORDER) due at or before `now`, if any. */
  due(now: number): TimerName | undefined {
    for (const name of TIMER_ORDER) {
      if (this.deadlines[name] <= now) return name;
    }
    return undefined;
  }
}
