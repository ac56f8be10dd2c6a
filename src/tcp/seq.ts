/**
 * Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4).
 *
 * TCP sequence numbers wrap, so "a is before b" means the signed 32-bit difference a - b is negative. This
 * holds whenever the two numbers are less than 2^31 apart, which every window TCP uses guarantees.
 * All functions take and return unsigned 32-bit integers (0 .. 2^32 - 1).
 */

/** Signed distance from `b` to `a` (a - b), in the range -2^31 .. 2^31 - 1. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** `seq + n` modulo 2^32; `n` may be negative. */
export function seqAdd(seq: number, n: number): number {
  return (seq + n) >>> 0;
}

/** a < b modulo 2^32. */
export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** a <= b modulo 2^32. */
export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

/** a > b modulo 2^32. */
export function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

/** a >= b modulo 2^32. */
export function seqGe(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

/** The later of two sequence numbers. */
export function seqMax(a: number, b: number): number {
  return seqGe(a, b) ? a : b;
}

/** The earlier of two sequence numbers. */
export function seqMin(a: number, b: number): number {
  return seqLe(a, b) ? a : b;
}

/** lo <= x < hi modulo 2^32 (an empty interval when lo === hi). */
export function seqInRange(x: number, lo: number, hi: number): boolean {
  return seqLe(lo, x) && seqLt(x, hi);
}
