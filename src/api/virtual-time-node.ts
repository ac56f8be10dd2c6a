/**
 * Running Node code (streams, `http`, `ws`) over a simulated network on virtual time.
 *
 * Node's libraries do part of their work in `process.nextTick`, promise jobs and `setImmediate`
 * callbacks, which a VirtualClock knows nothing about. `settleOnVirtualTime` alternates the two: it lets
 * Node's event loop run until it has nothing more to do (without waiting for any real-time timer), then
 * moves virtual time to the next instant a stack timer is due and runs those timers, and repeats until
 * the awaited promise settles. No real-time sleep is involved, so a minute of simulated traffic takes
 * only as long as the computation it needs.
 */
import { errnoError } from '../ip/errors.js';
import type { VirtualClock } from '../time/virtual-clock.js';
import { watchSettlement } from '../util/settlement.js';

export interface SettleOptions {
  /** Virtual time (ms) after which to give up with ETIMEDOUT. Default one hour. */
  maxDurationMs?: number;
  /**
   * Event-loop turns without any progress (no timer due, nothing scheduled) before concluding the work
   * is stuck, with ETIMEDOUT. Default 50.
   */
  idleTurns?: number;
}

/** One trip round Node's event loop: every pending nextTick, promise job and immediate has run. */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Drives `clock` until `work` settles, letting Node's event loop run between timer instants; resolves or
 * rejects as `work` does. `work` may be a promise or a function starting the work.
 */
export async function settleOnVirtualTime<T>(
  clock: VirtualClock,
  work: Promise<T> | (() => Promise<T>),
  options: SettleOptions = {},
): Promise<T> {
  const promise = typeof work === 'function' ? work() : work;
  const watched = watchSettlement(promise);
  const deadline = clock.now() + (options.maxDurationMs ?? 3_600_000);
  const idleLimit = options.idleTurns ?? 50;
  let idle = 0;
  while (!watched.settled) {
    await quiesce(clock);
    if (watched.settled) break;
    const next = clock.nextTimerTime();
    if (next === undefined) {
      // Nothing scheduled on virtual time: the work may still be finishing on Node's side.
      if (++idle > idleLimit) {
        throw errnoError(
          'ETIMEDOUT',
          `nothing left to run at virtual time ${clock.now()} ms, work unsettled`,
        );
      }
      continue;
    }
    idle = 0;
    if (next > deadline) {
      throw errnoError(
        'ETIMEDOUT',
        `work unsettled after ${options.maxDurationMs ?? 3_600_000} ms of virtual time`,
      );
    }
    clock.runUntil(next);
  }
  return watched.outcome;
}

/**
 * Lets Node's event loop run until a turn schedules nothing new on the clock: a chain of nextTicks and
 * immediates started by the last timers (stream internals, a library's setImmediate) completes before
 * virtual time moves on.
 */
async function quiesce(clock: VirtualClock): Promise<void> {
  for (let turns = 0; turns < 64; turns++) {
    const pending = clock.pendingTimers;
    const next = clock.nextTimerTime();
    await turn();
    if (clock.pendingTimers === pending && clock.nextTimerTime() === next && turns > 0) return;
  }
}
