import { objectArray } from '../util/arrays.js';

/**
 * A min-heap of (deadline, item) used by the TCP layer to run every connection's timers from ONE clock
 * timer. Entries are never removed eagerly: when an item's deadline changes a new entry is pushed, and
 * stale entries (whose deadline no longer matches the item's current one) are skipped when they surface.
 * Their owner sweeps them out with `retain` once they outnumber the live ones: a stale entry may lie far
 * in the future (a closed connection's retransmission deadline) and would otherwise keep its item alive.
 */
export class DeadlineQueue<T> {
  /**
   * The heap is the first `count` slots of these arrays. Slots past it are spare: popping does not
   * shorten the arrays, because V8 gives an array's storage back when it empties, and a connection's
   * queue goes empty and back to one entry every time its clock fires (a new 17-slot store for each
   * array each time). They are shortened only when far larger than the heap (see `pop`).
   * The deadlines are kept as tagged elements (see `taggedNumbers`).
   */
  private deadlines: number[] = taggedNumbers();
  private items: (T | undefined)[] = objectArray();
  private count = 0;

  get size(): number {
    return this.count;
  }

  push(deadline: number, item: T): void {
    const d = this.deadlines;
    const it = this.items;
    let i = this.count++;
    if (i === d.length) {
      d.push(deadline);
      it.push(item);
    }
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (d[parent]! <= deadline) break;
      d[i] = d[parent]!;
      it[i] = it[parent];
      i = parent;
    }
    d[i] = deadline;
    it[i] = item;
  }

  /** Earliest deadline, or Infinity when empty. */
  peekDeadline(): number {
    return this.count === 0 ? Number.POSITIVE_INFINITY : this.deadlines[0]!;
  }

  peekItem(): T | undefined {
    return this.count === 0 ? undefined : this.items[0];
  }

  /** Removes the earliest entry. */
  pop(): void {
    const d = this.deadlines;
    const it = this.items;
    const n = this.count - 1;
    if (n < 0) return;
    const lastDeadline = d[n]!;
    const lastItem = it[n] as T;
    it[n] = undefined; // a spare slot keeps no item alive
    this.count = n;
    if (n > 0) this.siftDown(0, lastDeadline, lastItem);
    // Spare slots are bounded: arrays grown by thousands of connections shrink once mostly unused.
    if (d.length > SPARE_SLOTS_KEPT && n < d.length >>> 2) {
      d.length = n;
      it.length = n;
      deadlineQueueCounters.shrinks++;
    }
  }

  /** Puts (deadline, item) at `i` or below it, moving smaller children up (heap order below `i` holds). */
  private siftDown(i: number, deadline: number, item: T): void {
    const d = this.deadlines;
    const it = this.items;
    const n = this.count;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && d[right]! < d[left]! ? right : left;
      if (d[child]! >= deadline) break;
      d[i] = d[child]!;
      it[i] = it[child];
      i = child;
    }
    d[i] = deadline;
    it[i] = item;
  }

  /** Keeps only the entries `keep` accepts, in heap order again (O(n)). */
  retain(keep: (deadline: number, item: T) => boolean): void {
    const d: number[] = taggedNumbers();
    const it: T[] = objectArray();
    for (let i = 0; i < this.count; i++) {
      if (!keep(this.deadlines[i]!, this.items[i] as T)) continue;
      d.push(this.deadlines[i]!);
      it.push(this.items[i] as T);
    }
    this.deadlines = d;
    this.items = it;
    this.count = d.length;
    // Floyd's bottom-up construction: sift each parent down, last first.
    for (let i = (d.length >>> 1) - 1; i >= 0; i--) this.siftDown(i, d[i]!, it[i]!);
  }

  clear(): void {
    this.deadlines = taggedNumbers();
    this.items = objectArray();
    this.count = 0;
  }
}

/**
 * An empty array of numbers whose elements V8 keeps tagged, as references to heap numbers, rather than
 * as raw doubles: it held something else once. The TCP layer's wake-up reads the queue a few times per
 * round trip, too rarely to be optimised, and unoptimised code copies each element it reads from an
 * array of doubles into a new heap number (four or five a wake-up over 1 Gbit/s, 20 ms, where times
 * have fractions); a tagged element is read as it is. A deadline pushed from optimised code is boxed
 * once instead, and pushes are rare (a deadline moved earlier).
 */
function taggedNumbers(): number[] {
  return objectArray<number>();
}

/** Slots a queue keeps past its heap however little of them it uses (see `DeadlineQueue.pop`). */
const SPARE_SLOTS_KEPT = 256;

/** Process-wide: times a queue's arrays, grown past SPARE_SLOTS_KEPT and then mostly unused, were shortened. */
export const deadlineQueueCounters = { shrinks: 0 };
