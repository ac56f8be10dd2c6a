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

  it('adds and subtracts modulo 2^32', () => {
    expect(seqAdd(0xffff_ffff, 1)).toBe(0);
    expect(seqAdd(0, -1)).toBe(0xffff_ffff);
    expect(seqDiff(0x10, 0xffff_fff0)).toBe(0x20);
    expect(seqDiff(0xffff_fff0, 0x10)).toBe(-0x20);
  });

  it('tests half-open ranges across the wrap', () => {
    expect(seqInRange(0, 0xffff_fff0, 0x10)).toBe(true);
    expect(seqInRange(0x10, 0xffff_fff0, 0x10)).toBe(false);
    expect(seqInRange(0xffff_fff0, 0xffff_fff0, 0x10)).toBe(true);
    expect(seqInRange(7, 7, 7)).toBe(false);
  });
});
