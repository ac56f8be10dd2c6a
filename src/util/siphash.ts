/**
 * SipHash-2-4 (Aumasson and Bernstein, 2012): a fast keyed pseudorandom function over short inputs.
 *
 * TCP uses it where an outside observer must not be able to predict a value computed from public inputs:
 * the hash part of initial sequence numbers (RFC 6528 §3) and the port offset of ephemeral port selection
 * (RFC 6056 §3.3.3). The 64-bit state words are kept as pairs of 32-bit halves so the function
 * runs without BigInt on every JavaScript engine.
 */

/** A prepared 128-bit key: [k0 low, k0 high, k1 low, k1 high] (little-endian words). */
export type SipHashKey = Uint32Array;

/** Builds a key from 16 bytes (read little-endian, as the reference implementation does). */
export function sipHashKey(bytes: Uint8Array): SipHashKey {
  if (bytes.length !== 16) throw new RangeError(`SipHash key must be 16 bytes, got ${bytes.length}`);
  const key = new Uint32Array(4);
  for (let i = 0; i < 4; i++) key[i] = readUint32Le(bytes, i * 4, 4);
  return key;
}

function readUint32Le(buf: Uint8Array, offset: number, count: number): number {
  let value = 0;
  for (let i = count - 1; i >= 0; i--) value = (value << 8) | buf[offset + i]!;
  return value | 0;
}

/**
 * SipHash-2-4 of the first `length` bytes of `data` (all of it by default) under `key`. Writes the 64-bit
 * result into `out` as [low 32 bits, high 32 bits] and returns `out`. (A length instead of a subarray: a
 * caller hashing a reused buffer makes no view per call.)
 *
 * The whole computation is one function whose state lives in local int32 variables: nothing is allocated
 * and nothing leaves the registers (module-level state would be boxed on every assignment). The message
 * words are fed by a single loop that runs 2 rounds per word (SipHash-2) and 4 more at the end (-4).
 */
export function sipHash24(
  key: SipHashKey,
  data: Uint8Array,
  out: Uint32Array = new Uint32Array(2),
  length = data.length,
): Uint32Array {
  const k0l = key[0]! | 0;
  const k0h = key[1]! | 0;
  const k1l = key[2]! | 0;
  const k1h = key[3]! | 0;
  // The constants spell "somepseudorandomlygeneratedbytes".
  let v0h = k0h ^ 0x736f6d65;
  let v0l = k0l ^ 0x70736575;
  let v1h = k1h ^ 0x646f7261;
  let v1l = k1l ^ 0x6e646f6d;
  let v2h = k0h ^ 0x6c796765;
  let v2l = k0l ^ 0x6e657261;
  let v3h = k1h ^ 0x74656462;
  let v3l = k1l ^ 0x79746573;

  const whole = length - (length % 8);
  // Words 0 .. words-1: the whole 8-byte words, then the last one (the remaining 0-7 bytes,
  // little-endian, with the length mod 256 in the top byte).
  const words = whole / 8 + 1;
  let mh = 0;
  let ml = 0;
  for (let word = 0; word <= words; word++) {
    let rounds: number;
    if (word < words) {
      if (word < words - 1) {
        ml = readUint32Le(data, word * 8, 4);
        mh = readUint32Le(data, word * 8 + 4, 4);
      } else {
        const rest = length - whole;
        ml = 0;
        mh = 0;
        if (rest > 4) {
          ml = readUint32Le(data, whole, 4);
          mh = readUint32Le(data, whole + 4, rest - 4);
        } else if (rest > 0) {
          ml = readUint32Le(data, whole, rest);
        }
        mh |= (length & 0xff) << 24;
      }
      v3h ^= mh;
      v3l ^= ml;
      rounds = 2;
    } else {
      // Finalization.
      v2l ^= 0xff;
      rounds = 4;
    }
    for (let r = 0; r < rounds; r++) {
      let lo: number;
      let th: number;
      let tl: number;
      // v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
      lo = (v0l + v1l) | 0;
      v0h = (v0h + v1h + (lo >>> 0 < v0l >>> 0 ? 1 : 0)) | 0;
      v0l = lo;
      th = (v1h << 13) | (v1l >>> 19);
      tl = (v1l << 13) | (v1h >>> 19);
      v1h = th ^ v0h;
      v1l = tl ^ v0l;
      th = v0h;
      v0h = v0l;
      v0l = th;
      // v2 += v3; v3 = rotl(v3, 16); v3 ^= v2
      lo = (v2l + v3l) | 0;
      v2h = (v2h + v3h + (lo >>> 0 < v2l >>> 0 ? 1 : 0)) | 0;
      v2l = lo;
      th = (v3h << 16) | (v3l >>> 16);
      tl = (v3l << 16) | (v3h >>> 16);
      v3h = th ^ v2h;
      v3l = tl ^ v2l;
      // v0 += v3; v3 = rotl(v3, 21); v3 ^= v0
      lo = (v0l + v3l) | 0;
      v0h = (v0h + v3h + (lo >>> 0 < v0l >>> 0 ? 1 : 0)) | 0;
      v0l = lo;
      th = (v3h << 21) | (v3l >>> 11);
      tl = (v3l << 21) | (v3h >>> 11);
      v3h = th ^ v0h;
      v3l = tl ^ v0l;
      // v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)
      lo = (v2l + v1l) | 0;
      v2h = (v2h + v1h + (lo >>> 0 < v2l >>> 0 ? 1 : 0)) | 0;
      v2l = lo;
      th = (v1h << 17) | (v1l >>> 15);
      tl = (v1l << 17) | (v1h >>> 15);
      v1h = th ^ v2h;
      v1l = tl ^ v2l;
      th = v2h;
      v2h = v2l;
      v2l = th;
    }
    if (word < words) {
      v0h ^= mh;
      v0l ^= ml;
    }
  }
  out[0] = v0l ^ v1l ^ v2l ^ v3l;
  out[1] = v0h ^ v1h ^ v2h ^ v3h;
  return out;
}

/**
 * `length` bytes derived from `key` for the purpose named by `label` (SipHash as a PRF in counter mode):
 * one stack secret yields independent keys for each use (ISNs, ports, SYN cookies ...), none of which
 * reveals another.
 */
export function deriveSecretBytes(key: SipHashKey, label: string, length: number): Uint8Array {
  const labelBytes = new TextEncoder().encode(label);
  const input = new Uint8Array(labelBytes.length + 1);
  input.set(labelBytes, 1);
  const out = new Uint8Array(length);
  const word = new Uint32Array(2);
  for (let offset = 0, block = 0; offset < length; offset += 8, block++) {
    input[0] = block;
    sipHash24(key, input, word);
    const bytes = new Uint8Array(word.buffer);
    out.set(bytes.subarray(0, Math.min(8, length - offset)), offset);
  }
  return out;
}
