/**
 * Every timer in tcpts goes through a Clock, so a whole network can run on virtual time: the same seed
 * gives the same run, to the microsecond, every time. Times are milliseconds (fractions allowed).
 */

export interface TimerHandle {
  /** Cancelling twice, or after the timer fired, is harmless. */
  cancel(): void;
}

export interface Clock {
  /** Current time in milliseconds. Monotonic; the origin is arbitrary. */
  now(): number;
  /** Runs `callback` once, `delayMs` (>= 0) from now. Callbacks due at the same instant run in the order they were set. */
  setTimer(delayMs: number, callback: () => void): TimerHandle;
}
