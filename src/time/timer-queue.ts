/**
 * A priority queue of timers ordered by (due time, insertion sequence): a binary min-heap in a plain array.
 *
 * The sequence number makes the order total, so timers due at the same instant come out in the order they
 * were added — the FIFO guarantee `Clock.setTimer` promises. Cancellation is lazy and O(1): the entry is
 * only marked, and skipped when it reaches the top. So that a stack which re-arms a retransmission timer on
 * every ACK cannot grow the heap without bound, the heap is rebuilt without the dead entries whenever they
 * outnumber the live ones.
 *
 * Timers due at the very instant the queue last ran one (a link delivering a frame with no delay, a
 * connection deferring work to "now") skip the heap: they wait in a FIFO of their own, which is already in
 * (time, sequence) order because every one of them was added for that instant or a later one, each after the
 * one before. `takeDue` takes whichever of the heap's top and the FIFO's head comes first, so the order is
 * exactly the heap-only order; a window of hundreds of segments sent at one instant costs O(1) per timer
 * instead of O(log n).
 */
import { ArrayQueue } from '../util/array-queue.js';
import { objectArray } from '../util/arrays.js';
import type { PostedTimer, TimerTarget } from './clock.js';

/**
 * The time a timer set `delayMs` from `now` is due, for both clocks: a negative delay (a deadline worked
 * out a rounding error in the past) counts as zero, as host timers do; NaN or an infinite delay is an
 * EINVAL error.
 */
export function dueTime(now: number, delayMs: number): number {
  if (!Number.isFinite(delayMs)) throw invalidDelay(delayMs);
  return now + Math.max(0, delayMs);
}

function invalidDelay(delayMs: number): Error {
  return Object.assign(new Error(`timer delay must be finite, got ${delayMs}`), { code: 'EINVAL' });
}

export class TimerEntry {
  /** Set once the entry has been cancelled or has been taken out of the queue to run. */
  done = false;
  /**
   * The queue's heap or FIFO holds the entry (a cancelled entry stays there until it reaches the top or a
   * compaction drops it): only an entry no longer held may be set again (see `TimerQueue.reset`).
   */
  queued = false;
  /** For a posted timer (`TimerQueue.post`): what to call, and with what; the callback is then unused. */
  target: TimerTarget<unknown> | undefined = undefined;
  argument: unknown = undefined;
  /**
   * When the timer is due. A double field, started as one (a fraction), so V8 writes each due time in
   * place: a fractional due time costs no heap number, and the virtual clock copies it into its reading
   * (VirtualClock.reading) in place too.
   */
  time = 0.5;
  constructor(
    time: number,
    public sequence: number,
    /** Replaced by a no-op on cancel: a dead entry waiting for compaction must not keep its owner alive. */
    public callback: () => void,
  ) {
    this.time = time;
  }
}

function nothing(): void {}

/**
 * Posted entries kept for reuse. A link delivering a window of frames posts one timer per frame and
 * they all run within one instant, so the pool need not be deep; beyond this the collector takes them.
 */
const ENTRY_POOL_LIMIT = 1024;

/** Rebuilding costs O(n); below this many entries the dead ones are simply left to be skipped. */
const COMPACT_MIN_SIZE = 64;

export class TimerQueue {
  private heap: TimerEntry[] = objectArray();
  /** Timers added for the instant `lastTakenTime`, in order. */
  private readonly fifo = new ArrayQueue<TimerEntry>();
  /** Due time of the timer taken last (the clock's reading while it runs): never decreases. */
  private lastTakenTime = Number.NEGATIVE_INFINITY;
  private nextSequence = 0;
  private live = 0;
  /** Posted entries that have run, for `post` to reuse. */
  private readonly pool: TimerEntry[] = objectArray();
  /** The entry added last (set, posted or set again), for `followsLastPost`. */
  private lastAdded: TimerEntry | undefined = undefined;

  /** Number of timers that are neither cancelled nor taken. */
  get size(): number {
    return this.live;
  }

  add(time: number, callback: () => void): TimerEntry {
    const entry = new TimerEntry(time, this.nextSequence++, callback);
    this.insert(entry);
    return entry;
  }

  /**
   * Adds a timer that runs `target.onTimer(argument)` (see `run`) and can never be cancelled: nobody
   * holds its entry but the queue, so the entry is reused once it has run, and a caller that posts a
   * timer for every frame it forwards allocates nothing for it. The due time is `argument.postDelayMs`
   * after the time in `now[0]` (as `dueTime`), worked out here: a fractional time passed to a call V8
   * does not inline would be boxed into a heap number.
   */
  post<T extends PostedTimer>(now: Float64Array, target: TimerTarget<T>, argument: T): void {
    const delay = argument.postDelayMs;
    if (!Number.isFinite(delay)) throw invalidDelay(delay);
    let entry = this.pool.pop();
    if (entry === undefined) {
      entry = new TimerEntry(now[0]! + Math.max(0, delay), this.nextSequence++, nothing);
    } else {
      entry.time = now[0]! + Math.max(0, delay);
      entry.sequence = this.nextSequence++;
      entry.done = false;
    }
    entry.target = target as TimerTarget<unknown>;
    entry.argument = argument;
    this.insert(entry);
  }

  /**
   * Whether a timer posted now for `target` with `argument` would run right after the one `target` posted
   * with `previous`: that one is the last timer added to the queue, it has not run and was not cancelled,
   * and the new one would be due at the same time. Timers run in (time, sequence) order, so nothing can
   * ever come between two such timers: the target may do the second's work in the first's run instead
   * of posting it, and everything still runs in the same order. `now` as in `post`.
   */
  followsLastPost<T extends PostedTimer>(
    now: Float64Array,
    target: TimerTarget<T>,
    previous: T,
    argument: T,
  ): boolean {
    const entry = this.lastAdded;
    // A posted entry that ran or was cancelled has no target any more (see `run`, `cancelPosts`).
    return (
      entry !== undefined &&
      entry.target === target &&
      entry.argument === previous &&
      entry.time === now[0]! + Math.max(0, argument.postDelayMs)
    );
  }

  /** Entries of posted timers kept for reuse (they come back when their timer runs). */
  get pooledEntries(): number {
    return this.pool.length;
  }

  /**
   * Sets a timer that is set again and again (see Clock.reusableTimer) for `time`: `entry` is its entry
   * from the last setting (undefined the first time), cancelled if still pending; the entry to keep is
   * returned. An entry that ran, or was cancelled and has left the queue since, is used again, so a timer
   * set again once it ran (a stack's wake-up, set again by its own callback) allocates nothing.
   */
  reset(entry: TimerEntry | undefined, time: number, callback: () => void): TimerEntry {
    if (entry !== undefined && !entry.done) this.cancel(entry);
    if (entry === undefined || entry.queued) {
      entry = new TimerEntry(time, this.nextSequence++, callback);
    } else {
      entry.time = time;
      entry.sequence = this.nextSequence++;
      entry.done = false;
      entry.callback = callback;
    }
    this.insert(entry);
    return entry;
  }

  /**
   * Cancels every posted timer of `target` that has not run (a link going down loses what is on its
   * way). O(n) in the timers held: for rare events, never per frame.
   */
  cancelPosts(target: TimerTarget<unknown>): void {
    let cancelled = false;
    const mark = (entry: TimerEntry): void => {
      if (entry.done || entry.target !== target) return;
      entry.done = true;
      entry.target = undefined;
      entry.argument = undefined;
      this.live--;
      cancelled = true;
    };
    for (const entry of this.heap) mark(entry);
    for (const entry of this.fifo.toArray()) mark(entry);
    const held = this.heap.length + this.fifo.length;
    if (cancelled && held >= COMPACT_MIN_SIZE && held - this.live > this.live) this.compact();
  }

  /**
   * Runs an entry `takeDue` returned. A posted entry goes back to the pool first (it is out of the queue
   * and nobody else refers to it), so a timer posted by its own target reuses it at once.
   */
  run(entry: TimerEntry): void {
    const target = entry.target;
    if (target === undefined) {
      entry.callback();
      return;
    }
    const argument = entry.argument;
    entry.target = undefined;
    entry.argument = undefined;
    if (this.pool.length < ENTRY_POOL_LIMIT) this.pool.push(entry);
    target.onTimer(argument);
  }

  private insert(entry: TimerEntry): void {
    const time = entry.time;
    this.live++;
    entry.queued = true;
    this.lastAdded = entry;
    if (time === this.lastTakenTime) {
      // Every FIFO entry was added for an instant no later than this one (lastTakenTime never
      // decreases), and with a smaller sequence: appending keeps the FIFO ordered.
      this.fifo.push(entry);
      return;
    }
    this.heap.push(entry);
    this.siftUp(this.heap.length - 1);
  }

  /** Marks the entry dead. Harmless for an entry that already ran or was already cancelled. */
  cancel(entry: TimerEntry): void {
    if (entry.done) return;
    entry.done = true;
    entry.callback = nothing;
    this.live--;
    const held = this.heap.length + this.fifo.length;
    if (held >= COMPACT_MIN_SIZE && held - this.live > this.live) this.compact();
  }

  /** Due time of the earliest live timer, or undefined when none is pending. */
  peekTime(): number | undefined {
    return this.first()?.time;
  }

  /**
   * Removes and returns the earliest live timer if it is due at or before `limit`; the entry is marked
   * done, so cancelling it afterwards does nothing.
   */
  takeDue(limit: number): TimerEntry | undefined {
    const top = this.first();
    if (top === undefined || top.time > limit) return undefined;
    if (top === this.heap[0]) this.removeTop();
    else this.fifo.shift();
    top.done = true;
    top.queued = false;
    this.live--;
    this.lastTakenTime = top.time;
    return top;
  }

  /** Cancels everything. */
  clear(): void {
    for (const entry of this.heap) leave(entry);
    for (const entry of this.fifo.toArray()) leave(entry);
    this.heap = objectArray();
    this.fifo.clear();
    this.live = 0;
  }

  /** The earliest live timer (heap top or FIFO head), after dropping dead ones from both. */
  private first(): TimerEntry | undefined {
    while (this.heap.length > 0 && this.heap[0]!.done) {
      this.heap[0]!.queued = false;
      this.removeTop();
    }
    for (let head = this.fifo.peek(); head?.done; head = this.fifo.peek()) {
      head.queued = false;
      this.fifo.shift();
    }
    const top = this.heap[0];
    const head = this.fifo.peek();
    if (top === undefined) return head;
    return head !== undefined && before(head, top) ? head : top;
  }

  private removeTop(): void {
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.siftDown(0);
    }
  }

  /**
   * Drops the dead entries from the heap and the FIFO in place: a compaction runs whenever a stack that
   * re-arms its timers has cancelled as many as it holds, and a filtered copy of the heap was a new array
   * (and the old one garbage) each time.
   */
  private compact(): void {
    const heap = this.heap;
    let kept = 0;
    for (let i = 0; i < heap.length; i++) {
      const entry = heap[i]!;
      if (isLive(entry)) heap[kept++] = entry;
    }
    heap.length = kept;
    this.fifo.retain(isLive);
    // Floyd's bottom-up heap construction: O(n).
    for (let i = (kept >>> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  private siftUp(index: number): void {
    const heap = this.heap;
    const entry = heap[index]!;
    while (index > 0) {
      const parentIndex = (index - 1) >>> 1;
      const parent = heap[parentIndex]!;
      if (!before(entry, parent)) break;
      heap[index] = parent;
      index = parentIndex;
    }
    heap[index] = entry;
  }

  private siftDown(index: number): void {
    const heap = this.heap;
    const length = heap.length;
    const entry = heap[index]!;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && before(heap[right]!, heap[left]!) ? right : left;
      if (!before(heap[child]!, entry)) break;
      heap[index] = heap[child]!;
      index = child;
    }
    heap[index] = entry;
  }
}

/** Whether `entry` stays in the queue when it is compacted; a dead one leaves it. */
function isLive(entry: TimerEntry): boolean {
  if (!entry.done) return true;
  entry.queued = false;
  return false;
}

/** Takes `entry` out of the queue as cleared: cancelled if pending, no longer held. */
function leave(entry: TimerEntry): void {
  entry.done = true;
  entry.queued = false;
}

function before(x: TimerEntry, y: TimerEntry): boolean {
  return x.time < y.time || (x.time === y.time && x.sequence < y.sequence);
}
