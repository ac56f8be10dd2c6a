/**
 * Seeded pseudo-random numbers for simulations: xoshiro128** (Blackman and Vigna, 2018), a 128-bit-state
 * generator with good statistical quality, seeded through splitmix32 so that similar seeds give unrelated
 * streams. Every operation is 32-bit integer arithmetic (`Math.imul`, shifts), so the same seed yields the
 * same sequence on every JavaScript engine and platform. Not for cryptography.
 *
 * `fork(label)` derives an independent stream from the seed and a label without drawing from the parent, so
 * giving a new consumer its own fork never changes what existing consumers draw.
 */

export type Seed = number | string;

const TWO_POW_32 = 0x1_0000_0000;
const TWO_POW_53 = 2 ** 53;

export class Random {
  /** 32-bit identity of this stream: derived from the seed and, for forks, the labels. */
  private readonly key: number;
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /**
   * @param seed an integer (any safe integer, negative allowed) or a string. Anything else is an EINVAL
   *   error: a seed that silently became NaN would make every run identical by accident.
   */
  constructor(seed: Seed) {
    this.key = seedKey(seed);
    let x = this.key;
    // splitmix32 expands the 32-bit key into the 128-bit state; it cannot produce four zero words in a
    // row, the one state xoshiro must avoid.
    x = (x + 0x9e3779b9) | 0;
    this.s0 = splitmixOutput(x);
    x = (x + 0x9e3779b9) | 0;
    this.s1 = splitmixOutput(x);
    x = (x + 0x9e3779b9) | 0;
    this.s2 = splitmixOutput(x);
    x = (x + 0x9e3779b9) | 0;
    this.s3 = splitmixOutput(x);
  }

  /** An independent stream named by `label`: the same seed and label always give the same stream. */
  fork(label: string): Random {
    return new Random(`${this.key.toString(16)}/${label}`);
  }

  /** Next unsigned 32-bit integer. */
  next(): number {
    const s0 = this.s0;
    const s1 = this.s1;
    const s2 = this.s2;
    const s3 = this.s3;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
    const t = s1 << 9;
    const n2 = s2 ^ s0;
    const n3 = s3 ^ s1;
    this.s1 = s1 ^ n2;
    this.s0 = s0 ^ n3;
    this.s2 = n2 ^ t;
    this.s3 = rotl(n3, 11);
    return result >>> 0;
  }

  /** Uniform in [0, 1) with 53 bits of precision (two draws). */
  float(): number {
    const high = this.next() >>> 5; // 27 bits
    const low = this.next() >>> 6; // 26 bits
    return (high * 67108864 + low) / TWO_POW_53;
  }

  /** Uniform integer in [0, maxExclusive), without modulo bias. `maxExclusive` is an integer in 1..2^53. */
  int(maxExclusive: number): number {
    if (!Number.isInteger(maxExclusive) || maxExclusive < 1 || maxExclusive > TWO_POW_53) {
      throw invalid(`int() needs an integer bound in 1..2^53, got ${maxExclusive}`);
    }
    if (maxExclusive <= TWO_POW_32) {
      // Reject the top partial block of 2^32 so every residue is equally likely.
      const limit = TWO_POW_32 - (TWO_POW_32 % maxExclusive);
      for (;;) {
        const r = this.next();
        if (r < limit) return r % maxExclusive;
      }
    }
    const limit = TWO_POW_53 - (TWO_POW_53 % maxExclusive);
    for (;;) {
      const r = (this.next() >>> 11) * TWO_POW_32 + this.next();
      if (r < limit) return r % maxExclusive;
    }
  }

  /** Uniform integer in [min, maxInclusive]. */
  intBetween(min: number, maxInclusive: number): number {
    if (!Number.isInteger(min) || !Number.isInteger(maxInclusive) || maxInclusive < min) {
      throw invalid(`intBetween() needs integers min <= max, got ${min}, ${maxInclusive}`);
    }
    return min + this.int(maxInclusive - min + 1);
  }

  /** Uniform real number in [min, max). */
  range(min: number, max: number): number {
    if (!Number.isFinite(min) || !Number.isFinite(max) || max < min) {
      throw invalid(`range() needs finite min <= max, got ${min}, ${max}`);
    }
    return min + (max - min) * this.float();
  }

  /**
   * True with probability p. p <= 0 and p >= 1 decide without drawing, so an impairment set to 0 costs
   * nothing and consumes nothing from the stream.
   */
  chance(p: number): boolean {
    if (!(p > 0)) return false;
    if (p >= 1) return true;
    return this.float() < p;
  }

  /**
   * Standard normal variate (Box-Muller, two uniform draws per call). Depends on Math.log/cos/sqrt, whose
   * last bits the language lets engines choose, so unlike the rest it is only guaranteed identical across
   * runs on the same engine.
   */
  normal(mean = 0, standardDeviation = 1): number {
    const u1 = 1 - this.float(); // (0, 1]: log(0) is avoided
    const u2 = this.float();
    return mean + standardDeviation * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Exponential variate with the given mean (one uniform draw). Same engine caveat as `normal`. */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.float());
  }

  /** Fills `buf` with random bytes and returns it. */
  fill(buf: Uint8Array): Uint8Array {
    let i = 0;
    for (; i + 4 <= buf.length; i += 4) {
      const r = this.next();
      buf[i] = r;
      buf[i + 1] = r >>> 8;
      buf[i + 2] = r >>> 16;
      buf[i + 3] = r >>> 24;
    }
    if (i < buf.length) {
      let r = this.next();
      for (; i < buf.length; i++, r >>>= 8) buf[i] = r;
    }
    return buf;
  }

  /** `n` fresh random bytes. */
  bytes(n: number): Uint8Array {
    return this.fill(new Uint8Array(n));
  }

  /** A uniformly chosen element; EINVAL for an empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw invalid('pick() from an empty array');
    return items[this.int(items.length)]!;
  }

  /** Shuffles in place (Fisher-Yates) and returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i]!;
      items[i] = items[j]!;
      items[j] = tmp;
    }
    return items;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** The splitmix32 finaliser (a variant of MurmurHash3's fmix32 with better constants). */
function splitmixOutput(z: number): number {
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

function seedKey(seed: Seed): number {
  if (typeof seed === 'number') {
    if (!Number.isSafeInteger(seed)) throw invalid(`seed must be a safe integer or a string, got ${seed}`);
    const low = seed >>> 0;
    const high = Math.floor(seed / TWO_POW_32) >>> 0;
    // Mixing the high word first keeps seeds below 2^32 mapping to themselves before the splitmix step.
    return (low ^ (high === 0 ? 0 : splitmixOutput(high))) >>> 0;
  }
  if (typeof seed === 'string') {
    // FNV-1a over UTF-16 code units, then a finaliser so short strings spread over all 32 bits.
    let h = 0x811c9dc5;
    for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193);
    return (splitmixOutput(h) ^ 0x5bd1e995) >>> 0;
  }
  throw invalid(`seed must be a safe integer or a string, got ${typeof seed}`);
}

function invalid(message: string): Error {
  return Object.assign(new Error(message), { code: 'EINVAL' });
}
