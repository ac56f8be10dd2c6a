/**
 * Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4); TCP timestamps (RFC 7323 §5.2) use it too.
 *
 * TCP sequence numbers wrap, so "a is before b" means the signed 32-bit difference a - b is negative. This
 * holds whenever the two numbers are less than 2^31 apart, which every window TCP uses guarantees.
 *
 * TCP stores and passes every sequence number and timestamp in the signed form of its 32 bits
 * (-2^31 .. 2^31 - 1, what `x | 0` gives), and `seqAdd` returns that form: such a number is a small integer
 * to the JavaScript engine, while an unsigned one of 2^31 or more is a heap number, boxed when stored in
 * an object or passed to a call, and a field or function that meets one after small integers is
 * deoptimized. The comparisons take either form (mixed, too), since only the 32 bits of the difference
 * count. Equality does not: `a === b` holds only between numbers of one form. The unsigned form (`>>> 0`)
 * is for what people see: tcpInfo, trace events, messages.
 */

/** Signed distance from `b` to `a` (a - b), in the range -2^31 .. 2^31 - 1. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** `seq + n` modulo 2^32, in the signed form; `n` may be negative. */
export function seqAdd(seq: number, n: number): number {
  return (seq + n) | 0;
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
