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

/** Where a handle reports each time it starts (+1) or stops (-1) holding. */
interface HoldCounter {
  change(delta: number): void;
}

/**
 * A handle that reports to its counter each time it starts or stops holding: ref'd, active and open. One
 * object with three flags (not a closure per method): every socket has one, and an idle server may hold
 * a hundred thousand sockets. `registry`, when given, is the set it leaves when closed.
 */
class TrackedHandle implements LoopHandle {
  private referenced = true;
  private active = true;
  private closed = false;

  constructor(
    private readonly counter: HoldCounter,
    private readonly registry?: Set<LoopHandle>,
  ) {
    counter.change(+1);
  }

  private get holding(): boolean {
    return this.referenced && this.active && !this.closed;
  }

  ref(): void {
    const before = this.holding;
    this.referenced = true;
    this.report(before);
  }

  unref(): void {
    const before = this.holding;
    this.referenced = false;
    this.report(before);
  }

  hasRef(): boolean {
    return this.referenced && !this.closed;
  }

  setActive(active: boolean): void {
    const before = this.holding;
    this.active = active;
    this.report(before);
  }

  close(): void {
    const before = this.holding;
    this.closed = true;
    this.report(before);
    this.registry?.delete(this);
  }

  private report(before: boolean): void {
    const after = this.holding;
    if (before !== after) this.counter.change(after ? +1 : -1);
  }
}

/** ~12 days: the longest interval Node accepts without warning; the timer only exists to be ref'd. */
const FAR_FUTURE_MS = 2 ** 30;

/** The holds for a real-time process: one shared host timer, ref'd while any handle is. */
class ProcessHolds implements EventLoopHolds, HoldCounter {
  private count = 0;
  private timer: ReturnType<typeof setInterval> | undefined;

  get active(): number {
    return this.count;
  }

  open(registry?: Set<LoopHandle>): LoopHandle {
    return new TrackedHandle(this, registry);
  }

  change(delta: number): void {
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
class RecordedHolds implements EventLoopHolds, HoldCounter {
  private count = 0;

  get active(): number {
    return this.count;
  }

  open(): LoopHandle {
    return new TrackedHandle(this);
  }

  change(delta: number): void {
    this.count += delta;
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
    if (this.released) {
      const handle = processHolds.open();
      handle.close();
      return handle;
    }
    // Closed, the handle leaves the set by itself.
    const handle = processHolds.open(this.handles);
    this.handles.add(handle);
    return handle;
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
