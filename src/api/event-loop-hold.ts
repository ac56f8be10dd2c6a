/**
 * What keeps a Node process alive, for sockets on a tcpts stack.
 *
 * In Node an open server, socket or bound dgram socket is a libuv handle: while it is "ref'd" the event
 * loop does not end, `unref()` releases it, `ref()` takes it back, closing it releases it for good. A
 * tcpts socket has no libuv handle, so on a stack running in real time each one opens a LoopHandle here
 * instead: while at least one LoopHandle is ref'd and open, one host interval timer (armed far in the
 * future, never firing in practice) holds the event loop; when the last one goes, the timer is unref'd and
 * the process may exit — exactly when Node's would, provided the stack's own timers do not hold it
 * (a RealClock made with `unref: true`, as `createRealTimeStack` does: the kernel's TCP timers do not
 * keep a Node process alive either).
 *
 * On virtual time there is no event loop to hold: the harness driving the clock decides when the work is
 * done, so `ref()`/`unref()` are recorded (`hasRef()`) but hold nothing.
 */

import type { Clock } from '../time/clock.js';
import { VirtualClock } from '../time/virtual-clock.js';

/** One socket's hold on the event loop. */
export interface LoopHandle {
  ref(): void;
  unref(): void;
  /** True while the handle is ref'd (whether or not it holds anything: see above). */
  hasRef(): boolean;
  /**
   * Whether the handle has work under way (libuv's "active"): a socket that is reading or writing. An
   * inactive handle holds nothing even when ref'd — a socket that read its peer's FIN and has nothing
   * left to write does not keep Node alive. Handles start active.
   */
  setActive(active: boolean): void;
  /** Releases the handle for good; ref() afterwards does nothing. */
  close(): void;
}

/** Where the socket APIs get their handles. */
export interface EventLoopHolds {
  open(): LoopHandle;
  /** Handles open and ref'd now (for tests and diagnostics). */
  readonly active: number;
}

/** A handle that reports to `change` each time it starts (+1) or stops (-1) holding: ref'd, active, open. */
function trackedHandle(change: (delta: number) => void): LoopHandle {
  let referenced = true;
  let active = true;
  let closed = false;
  const holding = () => referenced && active && !closed;
  const update = (apply: () => void) => {
    const before = holding();
    apply();
    const after = holding();
    if (before !== after) change(after ? +1 : -1);
  };
  change(+1);
  return {
    ref: () =>
      update(() => {
        referenced = true;
      }),
    unref: () =>
      update(() => {
        referenced = false;
      }),
    hasRef: () => referenced && !closed,
    setActive: (value) =>
      update(() => {
        active = value;
      }),
    close: () =>
      update(() => {
        closed = true;
      }),
  };
}

/** ~12 days: the longest interval Node accepts without warning; the timer only exists to be ref'd. */
const FAR_FUTURE_MS = 2 ** 30;

/** The holds for a real-time process: one shared host timer, ref'd while any handle is. */
class ProcessHolds implements EventLoopHolds {
  private count = 0;
  private timer: ReturnType<typeof setInterval> | undefined;

  get active(): number {
    return this.count;
  }

  open(): LoopHandle {
    return trackedHandle((delta) => this.change(delta));
  }

  private change(delta: number): void {
    this.count += delta;
    if (this.count > 0) {
      this.timer ??= setInterval(() => {}, FAR_FUTURE_MS);
      this.timer.ref();
    } else if (this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

/** Handles that only remember their state: virtual time holds no event loop. */
class RecordedHolds implements EventLoopHolds {
  private count = 0;

  get active(): number {
    return this.count;
  }

  open(): LoopHandle {
    return trackedHandle((delta) => {
      this.count += delta;
    });
  }
}

const processHolds = new ProcessHolds();

/**
 * The holds of the sockets on one real-time clock. Closing the clock ends the stack on it for good (no
 * timer fires, no frame is read), so its sockets can never do anything again: their holds are released
 * then, as Node releases the handles of a closed libuv loop. Without this, a program that tears its
 * stack down with servers or sockets still open would never exit.
 */
class ClockHolds implements EventLoopHolds {
  private readonly handles = new Set<LoopHandle>();
  private released = false;

  constructor(clock: { onClose(listener: () => void): void }) {
    clock.onClose(() => {
      this.released = true;
      for (const handle of this.handles) handle.close();
      this.handles.clear();
    });
  }

  get active(): number {
    let count = 0;
    for (const handle of this.handles) if (handle.hasRef()) count++;
    return count;
  }

  open(): LoopHandle {
    const handle = processHolds.open();
    if (this.released) {
      handle.close();
      return handle;
    }
    this.handles.add(handle);
    return {
      ref: () => handle.ref(),
      unref: () => handle.unref(),
      hasRef: () => handle.hasRef(),
      setActive: (active) => handle.setActive(active),
      close: () => {
        handle.close();
        this.handles.delete(handle);
      },
    };
  }
}

const holdsByClock = new WeakMap<Clock, EventLoopHolds>();

/** The holds for sockets on a stack running on `clock`: the process's for real time, none for virtual. */
export function eventLoopHoldsFor(clock: Clock): EventLoopHolds {
  if (clock instanceof VirtualClock) return new RecordedHolds();
  const closable = clock as Clock & { onClose?: (listener: () => void) => void };
  if (typeof closable.onClose !== 'function') return processHolds;
  let holds = holdsByClock.get(clock);
  if (holds === undefined) {
    holds = new ClockHolds(closable as { onClose(listener: () => void): void });
    holdsByClock.set(clock, holds);
  }
  return holds;
}
