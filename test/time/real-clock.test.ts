/**
 * RealClock runs on the host's time, so these tests wait for real — a few milliseconds each.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RealClock } from '../../src/time/real-clock.js';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('RealClock', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('reads a monotonic millisecond clock', () => {
    const clock = new RealClock();
    const a = clock.now();
    const b = clock.now();
    expect(b).toBeGreaterThanOrEqual(a);
    expect(Math.abs(a - performance.now())).toBeLessThan(50);
  });

  it('fires timers no earlier than their delay, in time order and FIFO for the same instant', async () => {
    const clock = new RealClock();
    const start = clock.now();
    const log: Array<[string, number]> = [];
    // Deadlines are taken from the clock when each timer is set: hold the clock still while setting
    // them, so that a slow machine cannot reorder the deadlines themselves.
    const setting = vi.spyOn(globalThis.performance, 'now').mockReturnValue(start);
    clock.setTimer(20, () => log.push(['late', clock.now() - start]));
    clock.setTimer(5, () => log.push(['early-1', clock.now() - start]));
    clock.setTimer(5, () => log.push(['early-2', clock.now() - start]));
    clock.setTimer(0, () => log.push(['zero', clock.now() - start]));
    setting.mockRestore();
    expect(clock.pendingTimers).toBe(4);
    await sleep(60);
    expect(log.map(([name]) => name)).toEqual(['zero', 'early-1', 'early-2', 'late']);
    expect(log[1]![1]).toBeGreaterThanOrEqual(5);
    expect(log[3]![1]).toBeGreaterThanOrEqual(20);
    expect(clock.pendingTimers).toBe(0);
  });

  it('runs timers set from a callback and skips cancelled ones', async () => {
    const clock = new RealClock();
    const log: string[] = [];
    const cancelled = clock.setTimer(5, () => log.push('cancelled'));
    clock.setTimer(2, () => {
      log.push('outer');
      clock.setTimer(0, () => log.push('inner'));
    });
    cancelled.cancel();
    cancelled.cancel();
    await sleep(30);
    expect(log).toEqual(['outer', 'inner']);
  });

  it('keeps firing after a callback throws', async () => {
    const clock = new RealClock();
    const log: string[] = [];
    const errors: unknown[] = [];
    const onError = (error: unknown): void => {
      errors.push(error);
    };
    const listeners = process.listeners('uncaughtException');
    // vitest reports uncaught exceptions as failures: intercept this one.
    process.removeAllListeners('uncaughtException');
    process.on('uncaughtException', onError);
    try {
      clock.setTimer(1, () => {
        throw new Error('boom');
      });
      clock.setTimer(10, () => log.push('after'));
      await sleep(40);
    } finally {
      process.removeAllListeners('uncaughtException');
      for (const listener of listeners) if (listener !== onError) process.on('uncaughtException', listener);
    }
    expect((errors[0] as Error).message).toBe('boom');
    expect(log).toEqual(['after']);
  });

  it('unrefs its host timer when asked, so timers alone do not keep Node alive', () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const plain = new RealClock();
    plain.setTimer(10_000, () => {});
    const unrefd = new RealClock({ unref: true });
    unrefd.setTimer(10_000, () => {});
    const timers = spy.mock.results.map((r) => r.value as NodeJS.Timeout);
    expect(timers).toHaveLength(2);
    expect(timers[0]!.hasRef()).toBe(true);
    expect(timers[1]!.hasRef()).toBe(false);
    plain.close();
    unrefd.close();
    expect(plain.pendingTimers).toBe(0);
  });

  it('arms one host timer for many stack timers', () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const clock = new RealClock();
    for (let i = 0; i < 100; i++) clock.setTimer(1000 + i, () => {});
    expect(spy).toHaveBeenCalledTimes(1);
    clock.setTimer(500, () => {}); // earlier: re-armed once
    expect(spy).toHaveBeenCalledTimes(2);
    clock.close();
  });

  it('runs a reusable timer once per setting, set again from its callback, re-arming the host for an earlier one', async () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const clock = new RealClock();
    const runs: number[] = [];
    const start = clock.now();
    const timer = clock.reusableTimer(() => {
      runs.push(clock.now() - start);
      if (runs.length < 2) timer.set(3);
    });
    timer.set(10_000);
    expect(spy).toHaveBeenCalledTimes(1);
    // Earlier than the host timer is armed for: armed again; the setting for 10 s is gone.
    timer.set(2);
    expect(spy).toHaveBeenCalledTimes(2);
    expect(clock.pendingTimers).toBe(1);
    await sleep(40);
    expect(runs).toHaveLength(2);
    expect(runs[0]).toBeGreaterThanOrEqual(2);
    expect(runs[1]! - runs[0]!).toBeGreaterThanOrEqual(3);
    expect(clock.pendingTimers).toBe(0);
    timer.set(1);
    timer.cancel();
    expect(clock.pendingTimers).toBe(0);
    await sleep(10);
    expect(runs).toHaveLength(2);
    expect(() => timer.set(Number.NaN)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    clock.close();
  });

  it('rejects NaN delays with EINVAL', () => {
    const clock = new RealClock();
    expect(() => clock.setTimer(Number.NaN, () => {})).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('with earlyMs runs every timer due within the window in one wake-up, up to that much early', async () => {
    const clock = new RealClock({ earlyMs: 1 });
    const start = clock.now();
    const setting = vi.spyOn(globalThis.performance, 'now').mockReturnValue(start);
    const ran: number[] = [];
    const spy = vi.spyOn(globalThis, 'setTimeout');
    for (const delay of [10, 10.3, 10.9]) clock.setTimer(delay, () => ran.push(clock.now() - start));
    clock.setTimer(12.5, () => ran.push(clock.now() - start));
    setting.mockRestore();
    // The host timer is armed for the first deadline less the window. The deadline is an absolute time
    // (start + 10), so the delay worked out from it carries start's rounding: 9 to within 1e-9 ms.
    expect(spy.mock.calls.at(-1)![1]).toBeCloseTo(9, 9);
    await sleep(40);
    expect(ran).toHaveLength(4);
    expect(ran[0]).toBeGreaterThanOrEqual(9);
    expect(ran[3]).toBeGreaterThanOrEqual(11.5);
    clock.close();
  });
  it('with earlyMs counts the window from the start of a pass: a timer re-set just ahead does not spin', () => {
    const clock = new RealClock({ earlyMs: 1 });
    // The host's time moves on 0.01 ms with every reading, as work in a pass takes time.
    let time = 1000;
    vi.spyOn(globalThis.performance, 'now').mockImplementation(() => (time += 0.01));
    let runs = 0;
    // Each run sets the next one 0.5 ms ahead of the time it reads: within the window of a pass that
    // started up to 0.5 ms earlier, but never reached while the pass goes on.
    const again = (): void => {
      runs++;
      if (runs > 1000) throw new Error('the pass spins');
      clock.setTimer(0.5, again);
    };
    clock.setTimer(0, again);
    (clock as unknown as { fire(): void }).fire();
    // Runs while the pass is within 1 ms of its start (each run reads the time twice: about 0.02 ms).
    expect(runs).toBeGreaterThan(1);
    expect(runs).toBeLessThan(60);
    expect(clock.pendingTimers).toBe(1);
    clock.close();
  });
});
