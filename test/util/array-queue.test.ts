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
});
