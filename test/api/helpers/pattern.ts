/**
 * Deterministic test payloads: a seeded xorshift32 byte stream, produced in chunks so 20 MB never sits in
 * memory at once, and its sha256 computed the same way for the expectation.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

export const CHUNK = 64 * 1024;

/** Fills `out` from the generator state; returns the new state. */
function fill(out: Uint8Array, state: number): number {
  const words = new Uint32Array(out.buffer, out.byteOffset, out.byteLength >>> 2);
  let x = state;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return x;
}

/** The chunks of a `total`-byte pattern (total a multiple of 4), each a fresh Buffer. */
export function* patternChunks(seed: number, total: number): Generator<Buffer> {
  let state = seed >>> 0 || 1;
  for (let offset = 0; offset < total; offset += CHUNK) {
    const chunk = Buffer.allocUnsafe(Math.min(CHUNK, total - offset));
    state = fill(chunk, state);
    yield chunk;
  }
}

/** A Readable of the pattern. */
export function patternStream(seed: number, total: number): Readable {
  return Readable.from(patternChunks(seed, total), { objectMode: false });
}

export function patternSha256(seed: number, total: number): string {
  const hash = createHash('sha256');
  for (const chunk of patternChunks(seed, total)) hash.update(chunk);
  return hash.digest('hex');
}
