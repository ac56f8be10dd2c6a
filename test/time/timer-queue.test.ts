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

  it('compacts in place, keeping the (time, insertion) order of heap and FIFO timers that still run', () => {
    const q = new TimerQueue();
    const ran: number[] = [];
    q.add(0, () => {});
    q.takeDue(0)!; // now = 0: timers for 0 from here on wait in the FIFO
    const entries = Array.from({ length: 400 }, (_, i) =>
      q.add(i % 4 === 0 ? 0 : 400 - i, () => ran.push(i)),
    );
    const heap = (q as unknown as { heap: unknown[] }).heap;
    // Cancelling all but every fifth entry makes the dead outnumber the live: the queue compacts.
    for (let i = 0; i < 400; i++) if (i % 5 !== 0) q.cancel(entries[i]!);
    expect(q.size).toBe(80);
    expect((q as unknown as { heap: unknown[] }).heap).toBe(heap);
    expect(heap.length).toBeLessThan(80);
    for (let e = q.takeDue(Infinity); e; e = q.takeDue(Infinity)) q.run(e);
    const live = Array.from({ length: 80 }, (_, k) => 5 * k);
    const atZero = live.filter((i) => i % 4 === 0);
    const later = live.filter((i) => i % 4 !== 0).sort((a, b) => b - a);
    expect(ran).toEqual([...atZero, ...later]);
  });

  it('clears everything', () => {
    const q = new TimerQueue();
    const e = q.add(1, () => {});
    q.clear();
    expect(q.size).toBe(0);
    expect(e.done).toBe(true);
    expect(q.takeDue(Infinity)).toBeUndefined();
  });

  it('orders timers for the current instant (FIFO) against heap timers exactly by (time, insertion)', () => {
    const q = new TimerQueue();
    const noop = (): void => {};
    const first = q.add(5, noop);
    const heapAt7 = q.add(7, noop);
    const heapAt5 = q.add(5, noop); // added before 5 was "now": kept in the heap
    expect(q.takeDue(Infinity)).toBe(first); // now = 5
    const fifoA = q.add(5, noop); // due now: FIFO
    const fifoB = q.add(5, noop);
    const later = q.add(6, noop);
    q.cancel(fifoA);
    expect(q.size).toBe(4);
    // The heap's earlier entry for 5 comes before the FIFO's, a cancelled one is skipped.
    const taken = [];
    for (let e = q.takeDue(Infinity); e; e = q.takeDue(Infinity)) taken.push(e);
    expect(taken).toEqual([heapAt5, fifoB, later, heapAt7]);
    expect(q.size).toBe(0);
  });

  it('takes many timers for one instant in insertion order, with cancellations and compaction', () => {
    const q = new TimerQueue();
    q.add(0, () => {});
    q.takeDue(0); // now = 0
    const entries = Array.from({ length: 3000 }, (_, i) => q.add(i % 3 === 0 ? 1 : 0, () => {}));
    for (let i = 0; i < 3000; i += 2) q.cancel(entries[i]!);
    const taken: number[] = [];
    for (let e = q.takeDue(Infinity); e; e = q.takeDue(Infinity)) taken.push(entries.indexOf(e));
    const live = entries.map((_, i) => i).filter((i) => i % 2 === 1);
    // All of time 0 (in insertion order), then all of time 1.
    expect(taken).toEqual([...live.filter((i) => i % 3 !== 0), ...live.filter((i) => i % 3 === 0)]);
  });

  type Named = { name: string; postDelayMs: number };
  it('runs posted timers in (time, insertion) order with the others, reusing their entries, and cancels them by target', () => {
    const q = new TimerQueue();
    const order: string[] = [];
    const target = { onTimer: (timer: Named) => void order.push(timer.name) };
    const other = { onTimer: (timer: Named) => void order.push(`other ${timer.name}`) };
    // Posted at time 1 with delay `time - 1`: the queue counts from the time in the array it is given.
    const now = Float64Array.of(1);
    const timer = (name: string, time: number): Named => ({ name, postDelayMs: time - 1 });
    q.post(now, target, timer('p2', 2));
    q.add(1, () => order.push('a1'));
    q.post(now, target, timer('p1', 1));
    q.post(now, other, timer('o1', 1));
    q.add(2, () => order.push('a2'));
    expect(q.size).toBe(5);
    const runAll = (): void => {
      for (let e = q.takeDue(Infinity); e; e = q.takeDue(Infinity)) q.run(e);
    };
    runAll();
    expect(order).toEqual(['a1', 'p1', 'other o1', 'p2', 'a2']);
    // A post after the others ran takes an entry they gave back: the heap holds the same object again.
    q.post(now, target, timer('p3', 3));
    const reused = (q as unknown as { heap: unknown[] }).heap[0];
    q.post(now, target, timer('p4', 4));
    q.post(now, other, timer('o4', 4));
    expect((q as unknown as { pool: unknown[] }).pool).not.toContain(reused);
    q.cancelPosts(target);
    expect(q.size).toBe(1);
    runAll();
    expect(order.slice(5)).toEqual(['other o4']);
    expect(q.size).toBe(0);
  });
});
