import { describe, expect, it } from 'vitest';
import { Random } from '../../src/util/random.js';

describe('Random', () => {
  it('is xoshiro128** seeded by splitmix32 (known answers from the reference C code)', () => {
    // State = four splitmix32 outputs from 42, then xoshiro128** — computed with the authors' C code.
    const r = new Random(42);
    expect([r.next(), r.next(), r.next(), r.next(), r.next(), r.next()]).toEqual([
      660444221, 3652823732, 77672526, 910233633, 2297337756, 3786072677,
    ]);
  });

  it('gives the same sequence for the same seed (number or string) and different ones otherwise', () => {
    const draw = (seed: number | string): number[] => {
      const r = new Random(seed);
      return Array.from({ length: 8 }, () => r.next());
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw('scenario-a')).toEqual(draw('scenario-a'));
    expect(draw(7)).not.toEqual(draw(8));
    expect(draw('scenario-a')).not.toEqual(draw('scenario-b'));
    expect(draw(2 ** 40)).not.toEqual(draw(0));
    expect(draw(-1)).not.toEqual(draw(0xffffffff + 1));
    // Locked values: a change to seeding would silently change every simulation.
    expect(new Random('hello').next()).toBe(516110825);
    expect(new Random(-1).next()).toBe(2220985655);
  });

  it('rejects seeds that are not safe integers or strings (EINVAL)', () => {
    for (const seed of [1.5, Number.NaN, 2 ** 60]) {
      expect(() => new Random(seed)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    }
  });

  it('forks streams by label without drawing from the parent', () => {
    const parent = new Random(99);
    const untouched = new Random(99);
    const a1 = parent.fork('loss');
    parent.next();
    parent.next();
    const a2 = parent.fork('loss');
    const b = parent.fork('delay');
    const seqA1 = Array.from({ length: 5 }, () => a1.next());
    expect(Array.from({ length: 5 }, () => a2.next())).toEqual(seqA1);
    expect(Array.from({ length: 5 }, () => b.next())).not.toEqual(seqA1);
    // Forking did not move the parent: it is two draws along, like a fresh generator after two draws.
    untouched.next();
    untouched.next();
    expect(parent.next()).toBe(untouched.next());
    // Forks of forks are distinct streams too.
    expect(new Random(99).fork('loss').fork('x').next()).not.toBe(new Random(99).fork('x').next());
  });

  it('draws floats uniformly in [0, 1)', () => {
    const r = new Random(1);
    let sum = 0;
    const buckets = new Array<number>(10).fill(0);
    let min = 1;
    let max = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = r.float();
      min = Math.min(min, x);
      max = Math.max(max, x);
      sum += x;
      buckets[Math.floor(x * 10)]!++;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(sum / 100_000).toBeCloseTo(0.5, 2);
    for (const count of buckets) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });

  it('draws integers in range without bias, including bounds above 2^32', () => {
    const r = new Random(2);
    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 60_000; i++) counts[r.int(6)]!++;
    // Chi-square with 5 degrees of freedom; 20.5 is the 0.1% critical value.
    const chi = counts.reduce((acc, c) => acc + (c - 10_000) ** 2 / 10_000, 0);
    expect(chi).toBeLessThan(20.5);
    expect(r.int(1)).toBe(0);
    let sawHigh = false;
    for (let i = 0; i < 100; i++) {
      const big = r.int(2 ** 40);
      expect(Number.isInteger(big) && big >= 0 && big < 2 ** 40).toBe(true);
      if (big >= 2 ** 32) sawHigh = true;
    }
    expect(sawHigh).toBe(true);
    for (let i = 0; i < 1000; i++) {
      const v = r.intBetween(-3, 3);
      expect(v >= -3 && v <= 3).toBe(true);
    }
    for (const bad of [0, -1, 1.5, 2 ** 54]) {
      expect(() => r.int(bad)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    }
  });

  it('draws reals in [min, max)', () => {
    const r = new Random(3);
    for (let i = 0; i < 1000; i++) {
      const v = r.range(10, 12.5);
      expect(v >= 10 && v < 12.5).toBe(true);
    }
    expect(() => r.range(2, 1)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('decides chance(0) and chance(1) without drawing', () => {
    const r = new Random(4);
    const reference = new Random(4);
    expect(r.chance(0)).toBe(false);
    expect(r.chance(-1)).toBe(false);
    expect(r.chance(1)).toBe(true);
    expect(r.next()).toBe(reference.next());
    let hits = 0;
    for (let i = 0; i < 100_000; i++) if (r.chance(0.25)) hits++;
    expect(Math.abs(hits - 25_000)).toBeLessThan(700);
  });

  it('fills bytes deterministically, including lengths that are not a multiple of 4', () => {
    const a = new Random(5).bytes(11);
    const b = new Random(5).bytes(11);
    expect(a).toHaveLength(11);
    expect(a).toEqual(b);
    // Little-endian bytes of the first words.
    const words = new Random(5);
    const w0 = words.next();
    expect([a[0], a[1], a[2], a[3]]).toEqual([w0 & 0xff, (w0 >>> 8) & 0xff, (w0 >>> 16) & 0xff, w0 >>> 24]);
    expect(new Set(new Random(6).bytes(4096)).size).toBeGreaterThan(250);
  });

  it('draws normal and exponential variates with the right moments', () => {
    const r = new Random(7);
    const n = 50_000;
    let sum = 0;
    let squares = 0;
    let expSum = 0;
    for (let i = 0; i < n; i++) {
      const x = r.normal(10, 2);
      sum += x;
      squares += x * x;
      expSum += r.exponential(3);
    }
    const mean = sum / n;
    expect(mean).toBeCloseTo(10, 1);
    expect(Math.sqrt(squares / n - mean * mean)).toBeCloseTo(2, 1);
    expect(expSum / n).toBeCloseTo(3, 1);
  });

  it('picks and shuffles', () => {
    const r = new Random(8);
    const items = Array.from({ length: 50 }, (_, i) => i);
    const shuffled = r.shuffle([...items]);
    expect(shuffled).not.toEqual(items);
    expect([...shuffled].sort((a, b) => a - b)).toEqual(items);
    expect(items).toContain(r.pick(items));
    expect(() => r.pick([])).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});
