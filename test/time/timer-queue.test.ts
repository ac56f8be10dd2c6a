import { describe, expect, it } from 'vitest';
import { TimerQueue } from '../../src/time/timer-queue.js';

describe('TimerQueue', () => {
  it('takes entries in (time, insertion) order and only when due', () => {
    const q = new TimerQueue();
    const noop = (): void => {};
    const e3 = q.add(3, noop);
    const e1a = q.add(1, noop);
    const e1b = q.add(1, noop);
    expect(q.size).toBe(3);
    expect(q.peekTime()).toBe(1);
    expect(q.takeDue(0.5)).toBeUndefined();
    expect(q.takeDue(1)).toBe(e1a);
    expect(q.takeDue(1)).toBe(e1b);
    expect(q.takeDue(2)).toBeUndefined();
    expect(q.takeDue(10)).toBe(e3);
    expect(q.size).toBe(0);
    expect(q.peekTime()).toBeUndefined();
  });

  it('cancels lazily and compacts when dead entries dominate', () => {
    const q = new TimerQueue();
    const entries = Array.from({ length: 1000 }, (_, i) => q.add(i, () => {}));
    for (let i = 0; i < 990; i++) q.cancel(entries[i]!);
    expect(q.size).toBe(10);
    // Compaction keeps the heap from holding the 990 dead entries.
    expect((q as unknown as { heap: unknown[] }).heap.length).toBeLessThan(100);
    expect(q.peekTime()).toBe(990);
    const taken: number[] = [];
    for (let e = q.takeDue(Infinity); e; e = q.takeDue(Infinity)) taken.push(e.time);
    expect(taken).toEqual(Array.from({ length: 10 }, (_, i) => 990 + i));
    // Cancelling a taken entry changes nothing.
    q.cancel(entries[995]!);
    expect(q.size).toBe(0);
  });

  it('clears everything', () => {
    const q = new TimerQueue();
    const e = q.add(1, () => {});
    q.clear();
    expect(q.size).toBe(0);
    expect(e.done).toBe(true);
    expect(q.takeDue(Infinity)).toBeUndefined();
  });
});
