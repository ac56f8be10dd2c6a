import { describe, expect, it } from 'vitest';
import { ArrayQueue } from '../../src/util/array-queue.js';

describe('ArrayQueue', () => {
  it('takes items out in the order they went in, across the bulk compaction of taken slots', () => {
    const q = new ArrayQueue<number>();
    expect(q.shift()).toBeUndefined();
    expect(q.peek()).toBeUndefined();
    const taken: number[] = [];
    for (let i = 0; i < 5000; i++) {
      q.push(i);
      if (i % 3 !== 0) taken.push(q.shift()!);
    }
    expect(q.length).toBe(5000 - taken.length);
    expect(q.peek()).toBe(taken.length);
    while (q.length > 0) taken.push(q.shift()!);
    expect(taken).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });

  it('retains the accepted items in order, and clears', () => {
    const q = new ArrayQueue<number>();
    for (let i = 0; i < 10; i++) q.push(i);
    q.shift();
    q.retain((n) => n % 2 === 0);
    expect(q.toArray()).toEqual([2, 4, 6, 8]);
    q.clear();
    expect(q.length).toBe(0);
    expect(q.shift()).toBeUndefined();
  });

  it('retains in place across the end of a wrapped ring, and goes on in order', () => {
    const q = new ArrayQueue<number>();
    for (let i = 0; i < 12; i++) q.push(i);
    for (let i = 0; i < 10; i++) q.shift();
    // 16 slots, head at 10: items 10..25 wrap around the end.
    for (let i = 12; i < 26; i++) q.push(i);
    expect(q.slots).toBe(16);
    q.retain((n) => n % 3 !== 0);
    const kept = Array.from({ length: 16 }, (_, i) => 10 + i).filter((n) => n % 3 !== 0);
    expect(q.toArray()).toEqual(kept);
    expect(q.slots).toBe(16);
    for (let i = 26; i < 30; i++) q.push(i);
    expect(q.slots).toBe(16);
    const taken: number[] = [];
    while (q.length > 0) taken.push(q.shift()!);
    expect(taken).toEqual([...kept, 26, 27, 28, 29]);
    q.push(1);
    q.retain(() => false);
    expect(q.length).toBe(0);
    expect(q.peek()).toBeUndefined();
    q.push(7);
    expect(q.shift()).toBe(7);
  });

  it('keeps its slots when it empties and fills again, growing only to the most items held at once', () => {
    const q = new ArrayQueue<number>();
    // Filled and drained a thousand times (a clock's timers for one instant after another): one ring of 16.
    for (let round = 0; round < 1000; round++) {
      for (let i = 0; i < 10; i++) q.push(round * 10 + i);
      for (let i = 0; i < 10; i++) expect(q.shift()).toBe(round * 10 + i);
    }
    expect(q.slots).toBe(16);
    // Wrapped around its end when it grows: the items keep their order.
    for (let i = 0; i < 12; i++) q.push(i);
    for (let i = 0; i < 10; i++) q.shift();
    for (let i = 12; i < 40; i++) q.push(i);
    expect(q.slots).toBe(32);
    expect(q.toArray()).toEqual(Array.from({ length: 30 }, (_, i) => i + 10));
    // A burst beyond 4096 items is let go once drained; the ring starts small again.
    for (let i = 0; i < 5000; i++) q.push(i);
    expect(q.slots).toBe(8192);
    while (q.length > 0) q.shift();
    expect(q.slots).toBe(0);
    q.push(1);
    expect(q.slots).toBe(16);
  });
});
