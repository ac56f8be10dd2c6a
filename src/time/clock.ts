/**
 * Every timer in tcpts goes through a Clock, so a whole network can run on virtual time: the same seed
 * gives the same run, to the microsecond, every time. Times are milliseconds (fractions allowed).
 */

export interface TimerHandle {
  /** Cancelling twice, or after the timer fired, is harmless. */
  cancel(): void;
}

/**
 * One timer set again and again (`Clock.reusableTimer`): each setting replaces the one before, as
 * cancelling a `setTimer` timer and setting a new one would, without a new handle each time.
 */
export interface ReusableTimer extends TimerHandle {
  /** Runs the callback once, `delayMs` (>= 0) from now, instead of when it was set for (if still pending). */
  set(delayMs: number): void;
}

/** Receives a posted timer (`Clock.post`): one object can take many, told apart by their argument. */
export interface TimerTarget<T> {
  onTimer(argument: T): void;
}

/**
 * What a timer is posted with (`Clock.post`): a record that carries the timer's delay, read when it is
 * posted. The delay travels in the record rather than as an argument because a fractional number passed
 * to a call V8 does not inline is boxed, an allocation per frame for a link posting a delivery each.
 */
export interface PostedTimer {
  /** Milliseconds from now (>= 0) until the timer runs; read once, by `post`. */
  readonly postDelayMs: number;
}

export interface Clock {
  /** Current time in milliseconds. Monotonic; the origin is arbitrary. */
  now(): number;
  /**
   * For a clock that keeps its time (a virtual clock): the time `now()` returns, in a one-slot array the
   * clock keeps current. Code on the data path reads it there: a fractional time returned from, or passed
   * to, a call V8 does not inline is boxed into a new heap number, one per segment on a fractional path.
   */
  readonly reading?: Float64Array;
  /** Runs `callback` once, `delayMs` (>= 0) from now. Callbacks due at the same instant run in the order they were set. */
  setTimer(delayMs: number, callback: () => void): TimerHandle;
  /**
   * True when a timer set for now always runs within the same instant, right after the callbacks already
   * due (a virtual clock): work deferred to it waits for nothing but the rest of what arrived at once.
   * Absent or false: it may wait for the host's next timer turn (a real clock, when called from an I/O
   * callback: a millisecond or more in Node).
   */
  readonly zeroDelayInSameInstant?: boolean;
  /**
   * Optional: runs `target.onTimer(argument)` once, `argument.postDelayMs` from now, in the same order as
   * `setTimer` timers. It has no handle (`cancelPosts` cancels all of a target's at once), and in
   * exchange costs no allocation (no closure, no handle): for per-frame work such as a link's deliveries.
   */
  post?<T extends PostedTimer>(target: TimerTarget<T>, argument: T): void;
  /** Cancels every timer posted for `target` that has not run yet. Present wherever `post` is. */
  cancelPosts?(target: TimerTarget<never>): void;
  /**
   * Optional, with `post`: whether a timer posted now for `target` with `argument` would run right after
   * the one `target` posted last with `previous` (it has not run, nothing was set or posted since, and the
   * new one would be due at the same time). Then nothing can run between the two, and the target may do
   * both timers' work in the first one's run: a link delivers the frames due at one instant as a batch.
   */
  followsLastPost?<T extends PostedTimer>(target: TimerTarget<T>, previous: T, argument: T): boolean;
  /**
   * Optional: a timer for `callback` that is not set yet (see ReusableTimer), run in the same order as
   * `setTimer` timers. Setting it again once it ran costs no allocation: for a wake-up that a stack sets
   * again after every run (a TCP layer's next deadline).
   */
  reusableTimer?(callback: () => void): ReusableTimer;
}

/**
 * The time of the input being processed, as a field (a connection's Tcb): the parts of a connection that
 * need the time read it here where they use it rather than being handed it, since a fractional time
 * passed to a call V8 does not inline is boxed into a new heap number.
 */
export interface CurrentTime {
  readonly now: number;
}
