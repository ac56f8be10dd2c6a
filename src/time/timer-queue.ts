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

export class TimerEntry {
  /** Set once the entry has been cancelled or has been taken out of the queue to run. */
  done = false;
  constructor(
    readonly time: number,
    readonly sequence: number,
    /** Replaced by a no-op on cancel: a dead entry waiting for compaction must not keep its owner alive. */
    public callback: () => void,
  ) {}
}

function nothing(): void {}

/** Rebuilding costs O(n); below this many entries the dead ones are simply left to be skipped. */
const COMPACT_MIN_SIZE = 64;

export class TimerQueue {
  private heap: TimerEntry[] = [];
  /** Timers added for the instant `lastTakenTime`, in order. */
  private readonly fifo = new ArrayQueue<TimerEntry>();
  /** Due time of the timer taken last (the clock's reading while it runs): never decreases. */
  private lastTakenTime = Number.NEGATIVE_INFINITY;
  private nextSequence = 0;
  private live = 0;

  /** Number of timers that are neither cancelled nor taken. */
  get size(): number {
    return this.live;
  }

  add(time: number, callback: () => void): TimerEntry {
    const entry = new TimerEntry(time, this.nextSequence++, callback);
    this.live++;
    if (time === this.lastTakenTime) {
      // Every FIFO entry was added for an instant no later than this one (lastTakenTime never
      // decreases), and with a smaller sequence: appending keeps the FIFO ordered.
      this.fifo.push(entry);
      return entry;
    }
    this.heap.push(entry);
    this.siftUp(this.heap.length - 1);
    return entry;
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
    this.live--;
    this.lastTakenTime = top.time;
    return top;
  }

  /** Cancels everything. */
  clear(): void {
    for (const entry of this.heap) entry.done = true;
    for (const entry of this.fifo.toArray()) entry.done = true;
    this.heap = [];
    this.fifo.clear();
    this.live = 0;
  }

  /** The earliest live timer (heap top or FIFO head), after dropping dead ones from both. */
  private first(): TimerEntry | undefined {
    while (this.heap.length > 0 && this.heap[0]!.done) this.removeTop();
    while (this.fifo.peek()?.done) this.fifo.shift();
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

  private compact(): void {
    this.heap = this.heap.filter((entry) => !entry.done);
    this.fifo.retain((entry) => !entry.done);
    // Floyd's bottom-up heap construction: O(n).
    for (let i = (this.heap.length >>> 1) - 1; i >= 0; i--) this.siftDown(i);
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

function before(x: TimerEntry, y: TimerEntry): boolean {
  return x.time < y.time || (x.time === y.time && x.sequence < y.sequence);
}
