import { objectArray } from './arrays.js';

/**
 * A first-in first-out queue in a ring: `shift` is O(1) (Array#shift moves every element), and the ring
 * keeps its slots when it empties, so a queue that fills and drains again and again (a clock's timers
 * for the current instant, once per instant) allocates nothing once it has grown to the most items it
 * held at once. It grows by doubling; a ring grown past `KEPT_SLOTS` is let go when it empties, so one
 * burst does not pin a large array for good.
 */
const INITIAL_SLOTS = 16;
const KEPT_SLOTS = 4096;

export class ArrayQueue<T> {
  /** The ring; its length is zero or a power of two. */
  private items: (T | undefined)[] = objectArray();
  private head = 0;
  private count = 0;

  /** Items queued. */
  get length(): number {
    return this.count;
  }

  push(item: T): void {
    if (this.count === this.items.length) this.grow();
    const items = this.items;
    items[(this.head + this.count) & (items.length - 1)] = item;
    this.count++;
  }

  /** The oldest item, or undefined when empty. */
  peek(): T | undefined {
    return this.count > 0 ? this.items[this.head] : undefined;
  }

  /** Removes and returns the oldest item (undefined when empty). */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const items = this.items;
    const item = items[this.head];
    items[this.head] = undefined; // not kept alive by the ring
    this.head = (this.head + 1) & (items.length - 1);
    this.count--;
    if (this.count === 0) {
      this.head = 0;
      if (items.length > KEPT_SLOTS) this.items = objectArray();
    }
    return item;
  }

  /**
   * Keeps only the items `keep` accepts, in order, in place: each kept item moves down to the slot after
   * the one kept before it, and the ring keeps its slots.
   */
  retain(keep: (item: T) => boolean): void {
    const items = this.items;
    const mask = items.length - 1;
    const head = this.head;
    let kept = 0;
    for (let i = 0; i < this.count; i++) {
      const item = items[(head + i) & mask] as T;
      if (keep(item)) items[(head + kept++) & mask] = item;
    }
    for (let i = kept; i < this.count; i++) items[(head + i) & mask] = undefined;
    this.count = kept;
    if (kept === 0) {
      this.head = 0;
      if (items.length > KEPT_SLOTS) this.items = objectArray();
    }
  }

  /** The queued items, oldest first (a copy). */
  toArray(): T[] {
    const items = this.items;
    const out: T[] = [];
    for (let i = 0; i < this.count; i++) out.push(items[(this.head + i) & (items.length - 1)] as T);
    return out;
  }

  /** Slots in the ring (it grows to the most items held at once, and lets a large ring go when emptied). */
  get slots(): number {
    return this.items.length;
  }

  clear(): void {
    this.items = objectArray();
    this.head = 0;
    this.count = 0;
  }

  /** Doubles the ring, its items moved to the start in order. */
  private grow(): void {
    const old = this.items;
    const slots = old.length === 0 ? INITIAL_SLOTS : old.length * 2;
    // Filled with undefined, packed: the kind of elements the empty ring has (see objectArray).
    const items = Array.from<T | undefined>({ length: slots });
    for (let i = 0; i < this.count; i++) items[i] = old[(this.head + i) & (old.length - 1)];
    this.items = items;
    this.head = 0;
  }
}
