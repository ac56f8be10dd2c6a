import { describe, expect, it } from 'vitest';
import { IsnGenerator } from '../../src/tcp/isn.js';
import { sipHash24, sipHashKey } from '../../src/util/siphash.js';

function hex(out: Uint32Array): string {
  return out[1]!.toString(16).padStart(8, '0') + out[0]!.toString(16).padStart(8, '0');
}

describe('SipHash-2-4', () => {
  // Reference vectors (key 00..0f, message 00..n-1) from the SipHash paper and its reference code.
  const key = sipHashKey(Uint8Array.from({ length: 16 }, (_, i) => i));
  const message = (n: number) => Uint8Array.from({ length: n }, (_, i) => i);
  it.each([
    [0, '726fdb47dd0e0e31'],
    [1, '74f839c593dc67fd'],
    [7, 'ab0200f58b01d137'],
    [8, '93f5f5799a932462'],
    [15, 'a129ca6149be45e5'],
    [63, '958a324ceb064572'],
  ])('matches the reference output for a %i-byte message', (n, expected) => {
    expect(hex(sipHash24(key, message(n)))).toBe(expected);
  });

  it('hashes the first `length` bytes of a longer buffer as that message alone', () => {
    const buffer = message(64);
    buffer.fill(0xee, 15);
    expect(hex(sipHash24(key, buffer, new Uint32Array(2), 15))).toBe('a129ca6149be45e5');
    expect(hex(sipHash24(key, buffer, new Uint32Array(2), 7))).toBe('ab0200f58b01d137');
    expect(hex(sipHash24(key, buffer, new Uint32Array(2), 0))).toBe('726fdb47dd0e0e31');
  });

  it('rejects keys that are not 16 bytes', () => {
    expect(() => sipHashKey(new Uint8Array(8))).toThrow();
  });
});

describe('ISN generator (RFC 6528, MUST-8, SHLD-1, MUST-9)', () => {
  const secret = Uint8Array.from({ length: 16 }, (_, i) => i * 7);
  const a = 0x0a000001;
  const b = 0x0a000002;

  it('advances with a 4 microsecond clock for one 4-tuple', () => {
    const g = new IsnGenerator(secret);
    const first = g.next(a, 1000, b, 80, 0);
    expect((g.next(a, 1000, b, 80, 1) - first) >>> 0).toBe(250);
    expect((g.next(a, 1000, b, 80, 4000) - first) >>> 0).toBe(1_000_000);
  });

  it('gives unrelated values to different 4-tuples and different secrets', () => {
    const g = new IsnGenerator(secret);
    const values = new Set([
      g.next(a, 1000, b, 80, 0),
      g.next(a, 1001, b, 80, 0),
      g.next(b, 1000, a, 80, 0),
      g.next(a, 1000, b, 81, 0),
      new IsnGenerator(new Uint8Array(16)).next(a, 1000, b, 80, 0),
    ]);
    expect(values.size).toBe(5);
  });

  it('gives each address pair its own timestamp offset, the same whatever was asked in between', () => {
    const g = new IsnGenerator(secret);
    const fresh = (x: number | bigint, y: number | bigint) => new IsnGenerator(secret).timestampOffset(x, y);
    const c = 0x0a000003;
    const pairs: [number | bigint, number | bigint][] = [
      [a, b],
      [a, b],
      [a, c],
      [b, a],
      [a, b],
      [0xfe80n, 1n],
      [a, b],
    ];
    expect(pairs.map(([x, y]) => g.timestampOffset(x, y))).toEqual(pairs.map(([x, y]) => fresh(x, y)));
    expect(new Set(pairs.map(([x, y]) => fresh(x, y))).size).toBe(4);
  });
});
