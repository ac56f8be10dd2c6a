import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/time/virtual-clock.js';
import { Random } from '../../src/util/random.js';

function codeOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return 'no error';
}

describe('VirtualClock', () => {
  it('runs timers in time order, with now() equal to each timer due time', () => {
    const clock = new VirtualClock();
    const log: Array<[string, number]> = [];
    clock.setTimer(30, () => log.push(['c', clock.now()]));
    clock.setTimer(10, () => log.push(['a', clock.now()]));
    clock.setTimer(20.5, () => log.push(['b', clock.now()]));
    expect(clock.pendingTimers).toBe(3);
    expect(clock.nextTimerTime()).toBe(10);
    expect(clock.advance(25)).toBe(2);
    expect(log).toEqual([
      ['a', 10],
      ['b', 20.5],
    ]);
    expect(clock.now()).toBe(25);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(5);
    expect(log.at(-1)).toEqual(['c', 30]);
    expect(clock.pendingTimers).toBe(0);
    expect(clock.nextTimerTime()).toBeUndefined();
  });

  it('starts at the given time', () => {
    const clock = new VirtualClock(1000);
    let firedAt = -1;
    clock.setTimer(5, () => {
      firedAt = clock.now();
    });
    clock.runUntil(1005);
    expect(firedAt).toBe(1005);
  });

  it('runs timers due at the same instant in the order they were set', () => {
    const clock = new VirtualClock();
    const order: number[] = [];
    for (let i = 0; i < 20; i++) clock.setTimer(7, () => order.push(i));
    // Set later with a shorter delay, landing on the same instant: still after the others.
    clock.advance(2);
    clock.setTimer(5, () => order.push(100));
    clock.advance(10);
    expect(order).toEqual([...Array.from({ length: 20 }, (_, i) => i), 100]);
  });

  it('runs timers set from a callback for the same instant in the same advance, after those already due', () => {
    const clock = new VirtualClock();
    const order: string[] = [];
    clock.setTimer(5, () => {
      order.push('first');
      clock.setTimer(0, () => order.push(`nested@${clock.now()}`));
      clock.setTimer(1, () => order.push(`later@${clock.now()}`));
    });
    clock.setTimer(5, () => order.push('second'));
    clock.advance(5);
    expect(order).toEqual(['first', 'second', 'nested@5']);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(1);
    expect(order.at(-1)).toBe('later@6');
  });

  it('cancels timers; cancelling twice or after firing is harmless', () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    const a = clock.setTimer(1, () => fired.push('a'));
    const b = clock.setTimer(2, () => fired.push('b'));
    const c = clock.setTimer(3, () => fired.push('c'));
    b.cancel();
    b.cancel();
    expect(clock.pendingTimers).toBe(2);
    clock.advance(1);
    a.cancel();
    expect(clock.pendingTimers).toBe(1);
    expect(clock.nextTimerTime()).toBe(3);
    clock.advance(10);
    c.cancel();
    expect(fired).toEqual(['a', 'c']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('lets a callback cancel a timer due at the same instant', () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.setTimer(1, () => {
      fired.push('x');
      y.cancel();
    });
    const y = clock.setTimer(1, () => fired.push('y'));
    clock.advance(1);
    expect(fired).toEqual(['x']);
  });

  it('treats negative delays as zero and rejects NaN and infinite ones with EINVAL', () => {
    const clock = new VirtualClock(10);
    let at = -1;
    clock.setTimer(-3, () => {
      at = clock.now();
    });
    clock.advance(0);
    expect(at).toBe(10);
    expect(codeOf(() => clock.setTimer(Number.NaN, () => {}))).toBe('EINVAL');
    expect(codeOf(() => clock.setTimer(Number.POSITIVE_INFINITY, () => {}))).toBe('EINVAL');
    expect(codeOf(() => clock.advance(-1))).toBe('EINVAL');
    expect(codeOf(() => clock.runUntil(5))).toBe('EINVAL');
    expect(codeOf(() => new VirtualClock(Number.NaN))).toBe('EINVAL');
  });

  it('schedules at absolute times with setTimerAt', () => {
    const clock = new VirtualClock(100);
    const log: number[] = [];
    clock.setTimerAt(150, () => log.push(clock.now()));
    clock.setTimerAt(50, () => log.push(clock.now())); // in the past: runs now
    clock.advance(100);
    expect(log).toEqual([100, 150]);
  });

  it('refuses to advance from inside a callback (EBUSY)', () => {
    const clock = new VirtualClock();
    let code: unknown;
    clock.setTimer(1, () => {
      code = codeOf(() => clock.advance(1));
    });
    clock.advance(1);
    expect(code).toBe('EBUSY');
    // The clock still works afterwards.
    clock.setTimer(1, () => {});
    expect(clock.advance(1)).toBe(1);
  });

  it('steps one timer at a time', () => {
    const clock = new VirtualClock();
    const log: number[] = [];
    clock.setTimer(4, () => log.push(4));
    clock.setTimer(2, () => log.push(2));
    expect(clock.step()).toBe(true);
    expect(clock.now()).toBe(2);
    expect(clock.step()).toBe(true);
    expect(clock.step()).toBe(false);
    expect(log).toEqual([2, 4]);
  });

  describe('runUntilIdle', () => {
    it('runs to idle and says so', () => {
      const clock = new VirtualClock();
      let n = 0;
      const tick = (): void => {
        n++;
        if (n < 5) clock.setTimer(100, tick);
      };
      clock.setTimer(100, tick);
      expect(clock.runUntilIdle()).toEqual({ reason: 'idle', events: 5, now: 500 });
    });

    it('stops at maxEvents for a timer that re-arms forever', () => {
      const clock = new VirtualClock();
      const forever = (): void => {
        clock.setTimer(1, forever);
      };
      clock.setTimer(1, forever);
      expect(clock.runUntilIdle({ maxEvents: 1000 })).toEqual({
        reason: 'max-events',
        events: 1000,
        now: 1000,
      });
      expect(clock.pendingTimers).toBe(1);
    });

    it('stops at maxTime (absolute) and leaves the clock there', () => {
      const clock = new VirtualClock();
      const forever = (): void => {
        clock.setTimer(300, forever);
      };
      clock.setTimer(300, forever);
      expect(clock.runUntilIdle({ maxTime: 1000 })).toEqual({ reason: 'max-time', events: 3, now: 1000 });
      expect(clock.nextTimerTime()).toBe(1200);
      // maxDuration is relative to now; the earlier of the two bounds wins.
      expect(clock.runUntilIdle({ maxDuration: 500, maxTime: 10_000 })).toEqual({
        reason: 'max-time',
        events: 2,
        now: 1500,
      });
    });

    it('runs a timer due exactly at maxTime', () => {
      const clock = new VirtualClock();
      clock.setTimer(1000, () => {});
      expect(clock.runUntilIdle({ maxTime: 1000 })).toEqual({ reason: 'idle', events: 1, now: 1000 });
    });

    it('rejects a time bound in the past', () => {
      const clock = new VirtualClock(50);
      expect(codeOf(() => clock.runUntilIdle({ maxTime: 10 }))).toBe('EINVAL');
    });
  });

  it('orders 20,000 random timers by (time, insertion) despite random cancellations', () => {
    const random = new Random('timer-stress');
    const clock = new VirtualClock();
    const expected: Array<{ time: number; seq: number }> = [];
    const fired: number[] = [];
    const handles: Array<{ cancel(): void; seq: number }> = [];
    for (let seq = 0; seq < 20_000; seq++) {
      const time = random.int(500); // many ties
      const handle = clock.setTimer(time, () => fired.push(seq));
      handles.push({ cancel: () => handle.cancel(), seq });
      expected.push({ time, seq });
    }
    const cancelled = new Set<number>();
    for (let i = 0; i < 12_000; i++) {
      const h = handles[random.int(handles.length)]!;
      h.cancel();
      cancelled.add(h.seq);
    }
    expect(clock.pendingTimers).toBe(20_000 - cancelled.size);
    clock.runUntilIdle();
    const want = expected
      .filter((e) => !cancelled.has(e.seq))
      .sort((x, y) => x.time - y.time || x.seq - y.seq)
      .map((e) => e.seq);
    expect(fired).toEqual(want);
  });

  describe('post', () => {
    it('runs a posted record after its postDelayMs, read when posted, in order with setTimer timers', () => {
      const clock = new VirtualClock(100);
      const log: string[] = [];
      const target = {
        onTimer: (record: { name: string; postDelayMs: number }) => log.push(`${record.name}@${clock.now()}`),
      };
      const early = { name: 'early', postDelayMs: 0.25 };
      const late = { name: 'late', postDelayMs: 7.125 };
      const past = { name: 'past', postDelayMs: -3 };
      clock.post(target, late);
      clock.setTimer(7.125, () => log.push(`timer@${clock.now()}`));
      clock.post(target, early);
      clock.post(target, past);
      // The delay was taken when posted: changing the record afterwards moves nothing.
      late.postDelayMs = 1;
      expect(clock.pendingTimers).toBe(4);
      clock.runUntilIdle();
      expect(log).toEqual(['past@100', 'early@100.25', 'late@107.125', 'timer@107.125']);
      expect(codeOf(() => clock.post(target, { name: 'nan', postDelayMs: Number.NaN }))).toBe('EINVAL');
      expect(clock.pendingTimers).toBe(0);
    });

    it('reuses the entries of posted timers that ran: a stream of posts takes no new ones', () => {
      const clock = new VirtualClock();
      const records = Array.from({ length: 8 }, (_, i) => ({ postDelayMs: i + 0.5 }));
      let ran = 0;
      const target = { onTimer: () => ran++ };
      for (const record of records) clock.post(target, record);
      clock.runUntilIdle();
      const queue = (clock as unknown as { queue: { pooledEntries: number } }).queue;
      expect(queue.pooledEntries).toBe(8);
      for (let round = 0; round < 100; round++) {
        for (const record of records) clock.post(target, record);
        expect(queue.pooledEntries).toBe(0);
        clock.runUntilIdle();
        expect(queue.pooledEntries).toBe(8);
      }
      expect(ran).toBe(808);
    });
  });

  describe('reusableTimer', () => {
    it('runs once per setting, each setting replacing the one before, in order with setTimer timers', () => {
      const clock = new VirtualClock();
      const log: string[] = [];
      const timer = clock.reusableTimer(() => log.push(`wake@${clock.now()}`));
      timer.set(10);
      clock.setTimer(10, () => log.push(`x@${clock.now()}`));
      // Set earlier: it runs then, not at 10 as well.
      timer.set(5);
      expect(clock.pendingTimers).toBe(2);
      clock.advance(20);
      expect(log).toEqual(['wake@5', 'x@10']);
      expect(clock.pendingTimers).toBe(0);
      // Set later than pending, at an instant shared with a timer set before it: runs after that one.
      timer.set(1);
      clock.setTimer(3, () => log.push(`y@${clock.now()}`));
      timer.set(3);
      clock.advance(5);
      expect(log.slice(2)).toEqual(['y@23', 'wake@23']);
    });

    it('is set again from its own callback, and cancelled, as often as asked', () => {
      const clock = new VirtualClock();
      const runs: number[] = [];
      const timer = clock.reusableTimer(() => {
        runs.push(clock.now());
        if (runs.length < 3) timer.set(2);
      });
      timer.set(1);
      expect(clock.runUntilIdle().events).toBe(3);
      expect(runs).toEqual([1, 3, 5]);
      timer.set(4);
      timer.cancel();
      timer.cancel();
      expect(clock.pendingTimers).toBe(0);
      expect(clock.runUntilIdle().now).toBe(5);
      timer.set(-3);
      clock.runUntilIdle();
      expect(runs).toEqual([1, 3, 5, 5]);
      expect(codeOf(() => timer.set(Number.NaN))).toBe('EINVAL');
      expect(codeOf(() => timer.set(Number.POSITIVE_INFINITY))).toBe('EINVAL');
    });

    it('keeps (time, setting) order among thousands of settings and cancellations of many timers', () => {
      // Settings replace pending ones, which stay in the queue as dead entries until they reach the top
      // or the queue is compacted: an entry used again while still held would run twice or never.
      const random = new Random('reusable-timers');
      const clock = new VirtualClock();
      const fired: Array<[number, number]> = [];
      const timers = Array.from({ length: 40 }, (_, id) =>
        clock.reusableTimer(() => fired.push([id, clock.now()])),
      );
      const expected: Array<[number, number]> = [];
      // The pending setting of each timer: due time and the order it was made in.
      const pending: Array<{ time: number; order: number } | undefined> = timers.map(() => undefined);
      let order = 0;
      const runDue = (until: number): void => {
        const due = pending
          .map((p, id) => ({ id, p }))
          .filter((e) => e.p !== undefined && e.p.time <= until)
          .sort((a, b) => a.p!.time - b.p!.time || a.p!.order - b.p!.order);
        for (const { id, p } of due) {
          expected.push([id, p!.time]);
          pending[id] = undefined;
        }
      };
      for (let step = 0; step < 6000; step++) {
        const id = random.int(timers.length);
        const what = random.int(10);
        if (what < 7) {
          const delay = random.int(30);
          timers[id]!.set(delay);
          pending[id] = { time: clock.now() + delay, order: order++ };
        } else if (what < 9) {
          timers[id]!.cancel();
          pending[id] = undefined;
        } else {
          const until = clock.now() + random.int(8);
          runDue(until);
          clock.runUntil(until);
        }
      }
      runDue(Number.POSITIVE_INFINITY);
      clock.runUntilIdle();
      expect(fired.length).toBe(expected.length);
      expect(fired).toEqual(expected);
    });
  });
});

describe('VirtualClock.followsLastPost', () => {
  it('is true only while the timer posted last is the latest set, has not run and is due at the same time', () => {
    const clock = new VirtualClock(5);
    const ran: number[] = [];
    const target = { onTimer: (p: { id: number; postDelayMs: number }) => ran.push(p.id) };
    const first = { id: 1, postDelayMs: 2 };
    clock.post(target, first);
    expect(clock.followsLastPost(target, first, { id: 2, postDelayMs: 2 })).toBe(true);
    // Another due time, another previous timer, another target.
    expect(clock.followsLastPost(target, first, { id: 2, postDelayMs: 3 })).toBe(false);
    expect(clock.followsLastPost(target, { id: 9, postDelayMs: 2 }, { id: 2, postDelayMs: 2 })).toBe(false);
    expect(clock.followsLastPost({ onTimer: () => {} }, first, { id: 2, postDelayMs: 2 })).toBe(false);
    // A timer set since would come between.
    clock.setTimer(2, () => ran.push(0));
    expect(clock.followsLastPost(target, first, { id: 2, postDelayMs: 2 })).toBe(false);
    const second = { id: 3, postDelayMs: 2 };
    clock.post(target, second);
    expect(clock.followsLastPost(target, second, { id: 4, postDelayMs: 2 })).toBe(true);
    clock.runUntilIdle();
    expect(ran).toEqual([1, 0, 3]);
    // Once it ran, nothing follows it.
    expect(clock.followsLastPost(target, second, { id: 4, postDelayMs: 0 })).toBe(false);
    clock.post(target, second);
    clock.cancelPosts(target);
    expect(clock.followsLastPost(target, second, { id: 4, postDelayMs: 2 })).toBe(false);
  });
});
