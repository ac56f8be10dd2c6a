import { describe, expect, it } from 'vitest';
import {
  seqAdd,
  seqDiff,
  seqGe,
  seqGt,
  seqInRange,
  seqLe,
  seqLt,
  seqMax,
  seqMin,
} from '../../src/tcp/seq.js';

describe('sequence arithmetic modulo 2^32 (RFC 9293 §3.4)', () => {
  it('compares across the wrap', () => {
    expect(seqLt(0xffff_fff0, 0x10)).toBe(true);
    expect(seqGt(0x10, 0xffff_fff0)).toBe(true);
    expect(seqLe(5, 5)).toBe(true);
    expect(seqGe(5, 5)).toBe(true);
    expect(seqLt(5, 5)).toBe(false);
    expect(seqMax(0xffff_ffff, 3)).toBe(3);
    expect(seqMin(0xffff_ffff, 3)).toBe(0xffff_ffff);
  });

  it('adds and subtracts modulo 2^32, giving the signed form', () => {
    expect(seqAdd(0xffff_ffff, 1)).toBe(0);
    expect(seqAdd(-1, 1)).toBe(0);
    expect(seqAdd(0, -1)).toBe(-1);
    expect(seqAdd(0x7fff_ffff, 1)).toBe(-0x8000_0000);
    expect(seqAdd(0x8000_0000, 0)).toBe(-0x8000_0000);
    expect(seqAdd(-0x8000_0000, -1)).toBe(0x7fff_ffff);
    expect(seqDiff(0x10, 0xffff_fff0)).toBe(0x20);
    expect(seqDiff(0xffff_fff0, 0x10)).toBe(-0x20);
  });

  it('compares signed, unsigned and mixed forms of the same numbers alike', () => {
    // 0x7fff_fff0 .. 0x8000_0010 crosses the sign of the signed form; 0xffff_fff0 .. 0x10 the 2^32 wrap.
    for (const [lo, hi] of [
      [0x7fff_fff0, 0x8000_0010],
      [0xffff_fff0, 0x10],
    ] as const) {
      for (const a of [lo, lo | 0]) {
        for (const b of [hi, hi | 0]) {
          expect(seqLt(a, b)).toBe(true);
          expect(seqLe(a, b)).toBe(true);
          expect(seqGt(b, a)).toBe(true);
          expect(seqGe(b, a)).toBe(true);
          expect(seqGt(a, b)).toBe(false);
          expect(seqDiff(b, a)).toBe(0x20);
          expect(seqInRange(a, lo, hi)).toBe(true);
          expect(seqInRange(b, lo | 0, hi >>> 0)).toBe(false);
          expect(seqMax(a, b)).toBe(b);
          expect(seqMin(a, b)).toBe(a);
          expect(seqAdd(a, 0x20)).toBe(hi | 0);
        }
      }
    }
  });

  it('tests half-open ranges across the wrap', () => {
    expect(seqInRange(0, 0xffff_fff0, 0x10)).toBe(true);
    expect(seqInRange(0x10, 0xffff_fff0, 0x10)).toBe(false);
    expect(seqInRange(0xffff_fff0, 0xffff_fff0, 0x10)).toBe(true);
    expect(seqInRange(7, 7, 7)).toBe(false);
  });
});
