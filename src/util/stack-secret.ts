/**
 * The one secret of a stack, from which every number an outsider must not predict is keyed: TCP initial
 * sequence numbers (RFC 6528), ephemeral ports (RFC 6056), IPv4 identifications (RFC 7739 §5.3), SYN
 * cookies (RFC 4987) and the starting points of other counters. It comes from `crypto.getRandomValues`
 * (Web Crypto, in Node and browsers alike), never from the seeded generator that drives a simulation: a
 * simulation that wants its runs to repeat injects secret bytes of its own, knowingly.
 *
 * Each use gets its own key derived with a label, so no use reveals another's key.
 */
import { deriveSecretBytes, type SipHashKey, sipHash24, sipHashKey } from './siphash.js';

/** Bytes of a stack secret. */
export const STACK_SECRET_LENGTH = 32;

/** `length` bytes from the platform's cryptographic generator (crypto.getRandomValues). */
export function cryptoRandomBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  globalThis.crypto.getRandomValues(bytes);
  return bytes;
}

export class StackSecret {
  /** Whether the bytes came from crypto.getRandomValues (false: injected, e.g. by a simulation). */
  readonly fromCrypto: boolean;
  private readonly key: SipHashKey;
  private readonly randomKey: SipHashKey;
  private readonly counter = new Uint8Array(8);
  private readonly word = new Uint32Array(2);
  private draws = 0;

  /** `bytes`: 32 injected bytes; absent, fresh ones from crypto.getRandomValues. */
  constructor(bytes?: Uint8Array) {
    if (bytes !== undefined && bytes.length !== STACK_SECRET_LENGTH) {
      const message = `a stack secret must be ${STACK_SECRET_LENGTH} bytes, got ${bytes.length}`;
      throw Object.assign(new RangeError(message), { code: 'EINVAL' });
    }
    this.fromCrypto = bytes === undefined;
    const secret = bytes ?? cryptoRandomBytes(STACK_SECRET_LENGTH);
    // One 128-bit key for every derivation: the second half hashed under the first (SipHash as a PRF),
    // so every byte of the secret counts.
    const first = sipHashKey(secret.subarray(0, 16));
    const input = new Uint8Array(17);
    input.set(secret.subarray(16, 32), 1);
    const master = new Uint8Array(16);
    const word = new Uint32Array(2);
    for (let i = 0; i < 2; i++) {
      input[0] = i;
      sipHash24(first, input, word);
      master.set(new Uint8Array(word.buffer), i * 8);
    }
    this.key = sipHashKey(master);
    this.randomKey = sipHashKey(this.derive('unpredictable numbers', 16));
  }

  /** `length` bytes of key material for the use named by `label` (e.g. 'tcp', 'ipv4 id'). */
  derive(label: string, length: number): Uint8Array {
    return deriveSecretBytes(this.key, label, length);
  }

  /** An unpredictable 32-bit number (SipHash of a counter under a derived key): random starting points. */
  randomUint32(): number {
    const c = this.counter;
    let n = this.draws++;
    for (let i = 0; i < 8; i++) {
      c[i] = n & 0xff;
      n = Math.floor(n / 256);
    }
    return sipHash24(this.randomKey, c, this.word)[0]! >>> 0;
  }
}
