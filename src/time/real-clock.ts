import type { Clock, PostedTimer, ReusableTimer, TimerHandle, TimerTarget } from './clock.js';
import { dueTime, type TimerEntry, TimerQueue } from './timer-queue.js';

/**
 * The host's monotonic clock (`performance.now()`), for stacks talking to real peers. Runs in Node and in
 * browsers: it uses only `globalThis.performance` and `globalThis.setTimeout`.
 *
 * Timers live in our own queue and a single host timeout is armed for the earliest one. That keeps the
 * `Clock` promise that timers due at the same instant run in the order they were set (host timers only
 * promise it for equal delays), and a stack with thousands of connections costs the host one timer.
 */

export interface RealClockOptions {
  /**
   * When true, the host timer is unref'd (where the host supports it, as Node does), so pending stack
   * timers alone do not keep the process alive — sockets and other handles still do. Default false.
   */
  unref?: boolean;
  /**
   * Timers may run up to this many ms before they are due, so one wake-up serves every timer due within
   * the host timer's granularity (whole milliseconds in Node) instead of waking again for each: a
   * deadline then lands within about half a millisecond either side instead of 0-2 ms late. For clocks
   * that pace many events (`tcpts bridge` forwards thousands of frames a second); default 0, never early.
   */
  earlyMs?: number;
}

type HostTimer = ReturnType<typeof globalThis.setTimeout>;

/** setTimeout stores its delay in a signed 32-bit integer; longer waits are done in steps. */
const MAX_HOST_DELAY_MS = 0x7fffffff;

export class RealClock implements Clock {
  private readonly queue = new TimerQueue();
  private readonly unref: boolean;
  private readonly early: number;
  private hostTimer: HostTimer | undefined;
  /** Due time the host timer is armed for; Infinity when it is not armed. */
  private armedFor = Number.POSITIVE_INFINITY;
  /** True while due callbacks run; the host timer is armed once, after them. */
  private firing = false;
  private readonly closeListeners: Array<() => void> = [];
  /** The time a posted timer counts from (TimerQueue.post). */
  private readonly postTime = new Float64Array(1);

  constructor(options: RealClockOptions = {}) {
    this.unref = options.unref ?? false;
    this.early = Math.max(0, options.earlyMs ?? 0);
  }

  now(): number {
    return globalThis.performance.now();
  }

  /** Negative delays count as zero; NaN or infinite delays are an EINVAL error. */
  setTimer(delayMs: number, callback: () => void): TimerHandle {
    const entry = this.queue.add(dueTime(this.now(), delayMs), callback);
    if (!this.firing && entry.time < this.armedFor) this.arm();
    return new RealTimerHandle(this, entry);
  }

  /** As `setTimer`, without a handle or a closure (see `Clock.post`). */
  post<T extends PostedTimer>(target: TimerTarget<T>, argument: T): void {
    this.postTime[0] = this.now();
    this.queue.post(this.postTime, target, argument);
    if (!this.firing && this.postTime[0] + Math.max(0, argument.postDelayMs) < this.armedFor) this.arm();
  }

  cancelPosts(target: TimerTarget<never>): void {
    this.queue.cancelPosts(target as TimerTarget<unknown>);
    if (this.queue.size === 0 && !this.firing) this.disarm();
  }

  /** See `Clock.reusableTimer`; its delays are checked as `setTimer`'s. */
  reusableTimer(callback: () => void): ReusableTimer {
    return new RealReusableTimer(this, callback);
  }

  /** @internal used by RealReusableTimer: sets its entry (see TimerQueue.reset) and returns it. */
  resetEntry(entry: TimerEntry | undefined, delayMs: number, callback: () => void): TimerEntry {
    const reset = this.queue.reset(entry, dueTime(this.now(), delayMs), callback);
    if (!this.firing && reset.time < this.armedFor) this.arm();
    return reset;
  }

  /** Timers neither run nor cancelled. */
  get pendingTimers(): number {
    return this.queue.size;
  }

  /**
   * Cancels every pending timer and releases the host timer; then tells those who asked (`onClose`): the
   * stack on this clock is over, so whatever it kept the event loop alive for is released.
   */
  close(): void {
    this.queue.clear();
    this.disarm();
    for (const listener of this.closeListeners.splice(0)) listener();
  }

  /** Runs `listener` once, when the clock is closed. */
  onClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  /** @internal used by RealTimerHandle */
  cancelEntry(entry: TimerEntry): void {
    this.queue.cancel(entry);
    // The host timer is left armed: waking once for nothing is cheaper than re-arming on every cancel,
    // which a TCP stack does on every ACK. It is released once nothing at all is pending.
    if (this.queue.size === 0 && !this.firing) this.disarm();
  }

  private arm(): void {
    this.disarm();
    const next = this.queue.peekTime();
    if (next === undefined) return;
    const delay = Math.min(MAX_HOST_DELAY_MS, Math.max(0, next - this.early - this.now()));
    this.armedFor = next;
    const timer = globalThis.setTimeout(() => this.fire(), delay);
    if (this.unref) (timer as { unref?: () => void }).unref?.();
    this.hostTimer = timer;
  }

  private disarm(): void {
    if (this.hostTimer !== undefined) globalThis.clearTimeout(this.hostTimer);
    this.hostTimer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  private fire(): void {
    this.hostTimer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    this.firing = true;
    try {
      // Timers set by these callbacks for "now" are due too and run in this same pass. The early window
      // is counted from the start of the pass: a callback that sets a timer for a moment just ahead
      // (within the window, not yet reached) must not run again and again until that moment comes, a
      // busy wait that would keep the host from reading its devices.
      const horizon = this.now() + this.early;
      for (;;) {
        const entry = this.queue.takeDue(Math.max(horizon, this.now()));
        if (entry === undefined) break;
        this.queue.run(entry);
      }
    } finally {
      // Host timers may fire slightly early or a callback may throw: either way, wait for what is left.
      this.firing = false;
      this.arm();
    }
  }
}

class RealTimerHandle implements TimerHandle {
  constructor(
    private readonly clock: RealClock,
    private readonly entry: TimerEntry,
  ) {}
  cancel(): void {
    this.clock.cancelEntry(this.entry);
  }
}

class RealReusableTimer implements ReusableTimer {
  private entry: TimerEntry | undefined = undefined;
  constructor(
    private readonly clock: RealClock,
    private readonly callback: () => void,
  ) {}
  set(delayMs: number): void {
    this.entry = this.clock.resetEntry(this.entry, delayMs, this.callback);
  }
  cancel(): void {
    if (this.entry !== undefined) this.clock.cancelEntry(this.entry);
  }
}
