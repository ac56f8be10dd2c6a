import type { Clock, PostedTimer, ReusableTimer, TimerHandle, TimerTarget } from './clock.js';
import { dueTime, type TimerEntry, TimerQueue } from './timer-queue.js';

/**
 * A deterministic scheduler: time stands still until the owner moves it, and then every timer due on the
 * way runs in (time, insertion) order with `now()` equal to that timer's own due time. Nothing depends on
 * the host's clock, so a simulation driven by one VirtualClock and seeded randomness replays exactly.
 */

export interface RunUntilIdleOptions {
  /** Absolute virtual time (ms) not to run past. When reached, the clock stops there. */
  maxTime?: number;
  /** Virtual time (ms) from now not to run past; combined with `maxTime`, the earlier bound wins. */
  maxDuration?: number;
  /** Most timer callbacks to run. Default 10,000,000: a safety net against timers that re-arm forever. */
  maxEvents?: number;
}

export interface RunResult {
  /**
   * Why the run stopped: 'idle' when no timer is pending, 'max-time' when the next timer lies beyond the
   * time bound, 'max-events' when the event budget ran out with timers still due.
   */
  readonly reason: 'idle' | 'max-time' | 'max-events';
  /** Callbacks run. */
  readonly events: number;
  /** Virtual time when the run stopped. */
  readonly now: number;
}

export const DEFAULT_MAX_EVENTS = 10_000_000;

export class VirtualClock implements Clock {
  /**
   * The time, in a one-slot array of doubles (see Clock.reading): a fractional time is kept without a heap
   * number of its own, copied in place from each timer's entry as it runs (TimerEntry.time).
   */
  readonly reading = new Float64Array(1);
  private readonly queue = new TimerQueue();
  private running = false;
  /** See Clock.zeroDelayInSameInstant: a timer for now runs in the same advance, after those due. */
  readonly zeroDelayInSameInstant = true;

  /** @param startMs the initial reading of `now()`. */
  constructor(startMs = 0) {
    if (!Number.isFinite(startMs)) throw invalid(`start time must be finite, got ${startMs}`);
    this.reading[0] = startMs;
  }

  now(): number {
    return this.reading[0]!;
  }

  /**
   * Schedules `callback` at now + delayMs. A negative delay (typically a deadline computed a rounding
   * error in the past) is treated as zero, as host timers do; NaN or an infinite delay is an EINVAL error.
   * A timer set for the current instant from inside a callback still runs in the same advance.
   */
  setTimer(delayMs: number, callback: () => void): TimerHandle {
    return this.schedule(dueTime(this.reading[0]!, delayMs), callback);
  }

  /** As `setTimer`, without a handle or a closure (see `Clock.post`). */
  post<T extends PostedTimer>(target: TimerTarget<T>, argument: T): void {
    this.queue.post(this.reading, target, argument);
  }

  /** See `Clock.followsLastPost`. */
  followsLastPost<T extends PostedTimer>(target: TimerTarget<T>, previous: T, argument: T): boolean {
    return this.queue.followsLastPost(this.reading, target, previous, argument);
  }

  /** Schedules `callback` at an absolute virtual time; a time in the past means now. */
  setTimerAt(timeMs: number, callback: () => void): TimerHandle {
    if (!Number.isFinite(timeMs)) throw invalid(`timer time must be finite, got ${timeMs}`);
    return this.schedule(Math.max(this.reading[0]!, timeMs), callback);
  }

  cancelPosts(target: TimerTarget<never>): void {
    this.queue.cancelPosts(target as TimerTarget<unknown>);
  }

  /** See `Clock.reusableTimer`; its delays are checked as `setTimer`'s. */
  reusableTimer(callback: () => void): ReusableTimer {
    return new VirtualReusableTimer(this, this.queue, callback);
  }

  /** Timers neither run nor cancelled. */
  get pendingTimers(): number {
    return this.queue.size;
  }

  /** Due time of the next pending timer, or undefined when there is none. */
  nextTimerTime(): number | undefined {
    return this.queue.peekTime();
  }

  /** Runs every timer due within the next `ms` milliseconds, then leaves `now()` at now + ms. */
  advance(ms: number): number {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw invalid(`advance needs a finite ms >= 0, got ${ms}`);
    return this.runUntil(this.reading[0]! + ms);
  }

  /** Runs every timer due at or before `timeMs`, then leaves `now()` at `timeMs`. Returns callbacks run. */
  runUntil(timeMs: number): number {
    if (!Number.isFinite(timeMs) || timeMs < this.reading[0]!) {
      throw invalid(`runUntil needs a finite time >= now (${this.reading[0]!}), got ${timeMs}`);
    }
    const events = this.run(timeMs, Number.POSITIVE_INFINITY);
    this.reading[0] = timeMs;
    return events;
  }

  /** Runs the single next timer, whenever it is due. Returns false when none is pending. */
  step(): boolean {
    return this.run(Number.POSITIVE_INFINITY, 1) === 1;
  }

  /**
   * Runs timers until none is pending or a bound is hit, and says which. Never loops forever: a timer that
   * re-arms itself endlessly exhausts `maxEvents`.
   */
  runUntilIdle(options: RunUntilIdleOptions = {}): RunResult {
    const maxEvents = options.maxEvents ?? DEFAULT_MAX_EVENTS;
    if (!(maxEvents >= 0)) throw invalid(`maxEvents must be >= 0, got ${maxEvents}`);
    let limit = options.maxTime ?? Number.POSITIVE_INFINITY;
    if (options.maxDuration !== undefined) limit = Math.min(limit, this.reading[0]! + options.maxDuration);
    if (Number.isNaN(limit) || limit < this.reading[0]!) {
      throw invalid(`runUntilIdle time bound must be >= now (${this.reading[0]!}), got ${limit}`);
    }
    const events = this.run(limit, maxEvents);
    const next = this.queue.peekTime();
    if (next === undefined) return { reason: 'idle', events, now: this.reading[0]! };
    if (next > limit) {
      this.reading[0] = limit;
      return { reason: 'max-time', events, now: this.reading[0]! };
    }
    return { reason: 'max-events', events, now: this.reading[0]! };
  }

  private schedule(time: number, callback: () => void): TimerHandle {
    const entry = this.queue.add(time, callback);
    return new VirtualTimerHandle(this.queue, entry);
  }

  private run(limit: number, maxEvents: number): number {
    if (this.running) {
      // A callback moving time itself would run later timers before earlier ones finished.
      throw Object.assign(new Error('VirtualClock is already running timers (re-entrant advance)'), {
        code: 'EBUSY',
      });
    }
    this.running = true;
    let events = 0;
    try {
      while (events < maxEvents) {
        const entry = this.queue.takeDue(limit);
        if (entry === undefined) break;
        this.reading[0] = entry.time;
        events++;
        this.queue.run(entry);
      }
    } finally {
      this.running = false;
    }
    return events;
  }
}

class VirtualTimerHandle implements TimerHandle {
  constructor(
    private readonly queue: TimerQueue,
    private readonly entry: TimerEntry,
  ) {}
  cancel(): void {
    this.queue.cancel(this.entry);
  }
}

class VirtualReusableTimer implements ReusableTimer {
  private entry: TimerEntry | undefined = undefined;
  constructor(
    private readonly clock: VirtualClock,
    private readonly queue: TimerQueue,
    private readonly callback: () => void,
  ) {}
  set(delayMs: number): void {
    this.entry = this.queue.reset(this.entry, dueTime(this.clock.now(), delayMs), this.callback);
  }
  cancel(): void {
    if (this.entry !== undefined) this.queue.cancel(this.entry);
  }
}

function invalid(message: string): Error {
  return Object.assign(new Error(message), { code: 'EINVAL' });
}
