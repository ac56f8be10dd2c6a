import { describe, expect, it } from 'vitest';
import {
  checksumAdd,
  checksumAdjust,
  checksumAdjust32,
  checksumCombine,
  checksumFinish,
  internetChecksum,
  pseudoHeaderSum,
} from '../../src/wire/checksum.js';
import { frameMemory, frameMemoryView, SIMD_LARGEST_VIEW, simdSummer } from '../../src/wire/checksum-simd.js';
import { TestRandom } from './test-random.js';

/** Textbook RFC 1071 sum: 16-bit big-endian words, carries folded one at a time. */
function referenceSum(buf: Uint8Array, offset: number, length: number): number {
  let sum = 0;
  for (let k = 0; k < length; k += 2) {
    const word = (buf[offset + k]! << 8) | (k + 1 < length ? buf[offset + k + 1]! : 0);
    sum += word;
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  return sum;
}

describe('internet checksum (RFC 1071)', () => {
  it('matches the worked example of RFC 1071 §3', () => {
    const data = Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
    expect(checksumAdd(0, data, 0, data.length)).toBe(0xddf2);
    expect(internetChecksum(data, 0, data.length)).toBe(0x220d);
  });

  it('pads an odd final byte with a zero low byte', () => {
    expect(checksumAdd(0, Uint8Array.of(0x12, 0x34, 0x56), 0, 3)).toBe(0x1234 + 0x5600);
    expect(checksumAdd(0, Uint8Array.of(0xab), 0, 1)).toBe(0xab00);
    expect(internetChecksum(new Uint8Array(0), 0, 0)).toBe(0xffff);
  });

  it('agrees with the reference for every length 0-300 at offsets 0-7 of views at byteOffsets 0-3', () => {
    const random = new TestRandom(1071);
    const backing = random.bytes(400);
    for (let byteOffset = 0; byteOffset < 4; byteOffset++) {
      const view = backing.subarray(byteOffset);
      for (let offset = 0; offset < 8; offset++) {
        for (let length = 0; length <= 300; length++) {
          const expected = referenceSum(view, offset, length);
          const actual = checksumAdd(0, view, offset, length);
          if (actual !== expected) {
            throw new Error(
              `byteOffset ${byteOffset} offset ${offset} length ${length}: ${actual} != ${expected}`,
            );
          }
        }
      }
    }
  });

  it('agrees with the reference on 64 KiB and 5 MiB buffers at odd byteOffsets (chunked folding)', () => {
    const random = new TestRandom(7);
    for (const size of [65536, 5 * 1024 * 1024 + 3]) {
      const backing = new Uint8Array(size + 8);
      // Mostly 0xff bytes push the 32-bit word sums to their maximum, the worst case for the accumulator.
      backing.fill(0xff);
      for (let i = 0; i < 1000; i++) backing[random.below(backing.length)] = random.below(256);
      for (const byteOffset of [1, 3]) {
        const view = backing.subarray(byteOffset, byteOffset + size);
        expect(checksumAdd(0, view, 0, size)).toBe(referenceSum(view, 0, size));
        expect(checksumAdd(0, view, 5, size - 5)).toBe(referenceSum(view, 5, size - 5));
      }
    }
  });

  it('stays right when sums alternate between buffers, and over a resizable buffer that shrank', () => {
    const random = new TestRandom(21);
    const a = random.bytes(3000);
    const b = random.bytes(200);
    for (const [buf, offset, length] of [
      [a, 1, 2999],
      [b, 4, 150],
      [a, 1000, 1500],
      [a, 2, 100],
      [b, 0, 200],
    ] as const) {
      expect(checksumAdd(0, buf, offset, length)).toBe(referenceSum(buf, offset, length));
    }
    // Resizable buffers (ES2024) are in Node 20; the compiler's library here predates them.
    const Resizable = ArrayBuffer as unknown as new (
      length: number,
      options: { maxByteLength: number },
    ) => ArrayBuffer & { resize(length: number): void };
    const resizable = new Resizable(4096, { maxByteLength: 8192 });
    const big = new Uint8Array(resizable);
    big.set(random.bytes(4096));
    expect(checksumAdd(0, big, 0, 4096)).toBe(referenceSum(big, 0, 4096));
    resizable.resize(1024);
    const small = new Uint8Array(resizable);
    small.set(random.bytes(1024));
    expect(checksumAdd(0, small, 0, 1024)).toBe(referenceSum(small, 0, 1024));
    resizable.resize(6000);
    const grown = new Uint8Array(resizable);
    expect(checksumAdd(0, grown, 0, 6000)).toBe(referenceSum(grown, 0, 6000));
  });

  it('stays right when sums go round more buffers than it keeps word views of, and back', () => {
    // A sender's ring, its wrap scratch and two frame slabs in turn, and then a fifth buffer and a sixth:
    // the views kept must always be of the buffer summed.
    const random = new TestRandom(33);
    const buffers = [3000, 2048, 4096, 4096, 1500, 600].map((n) => random.bytes(n));
    for (let round = 0; round < 200; round++) {
      const buf = buffers[round < 100 ? round % 4 : random.below(buffers.length)]!;
      const offset = random.below(64);
      const length = 64 + random.below(buf.length - offset - 64);
      expect(checksumAdd(0, buf, offset, length)).toBe(referenceSum(buf, offset, length));
    }
  });

  it('distinguishes all-zero data (sum 0) from data summing to 0xffff', () => {
    expect(checksumAdd(0, new Uint8Array(100), 0, 100)).toBe(0);
    expect(checksumAdd(0, Uint8Array.of(0xff, 0xff, 0xff, 0xff), 0, 4)).toBe(0xffff);
    expect(checksumAdd(0, Uint8Array.of(0x80, 0x00, 0x7f, 0xff), 0, 4)).toBe(0xffff);
  });

  it('chains ranges and combines partial sums like a single pass', () => {
    const data = new TestRandom(3).bytes(1001);
    const whole = checksumAdd(0, data, 0, data.length);
    expect(checksumAdd(checksumAdd(0, data, 0, 500), data, 500, 501)).toBe(whole);
    expect(checksumCombine(checksumAdd(0, data, 0, 200), checksumAdd(0, data, 200, 801))).toBe(whole);
  });

  it('verifies to zero once the checksum is written into the data', () => {
    const random = new TestRandom(11);
    for (let trial = 0; trial < 200; trial++) {
      const data = random.bytes(2 + random.below(200));
      data[0] = 0;
      data[1] = 0;
      const sum = internetChecksum(data, 0, data.length);
      data[0] = sum >>> 8;
      data[1] = sum & 0xff;
      expect(internetChecksum(data, 0, data.length)).toBe(0);
    }
  });

  it('sums the IPv4 pseudo-header (src, dst, zero, protocol, length)', () => {
    // 10.77.0.1 -> 10.77.0.2, TCP, 40 bytes: 0x0a4d + 0x0001 + 0x0a4d + 0x0002 + 0x0006 + 0x0028
    expect(pseudoHeaderSum(0x0a4d0001, 0x0a4d0002, 6, 40)).toBe(0x0a4d + 1 + 0x0a4d + 2 + 6 + 40);
    const bytes = Uint8Array.of(0xc0, 0xa8, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff, 0x00, 0x11, 0xff, 0xf7);
    expect(pseudoHeaderSum(0xc0a80001, 0xffffffff, 17, 0xfff7)).toBe(checksumAdd(0, bytes, 0, bytes.length));
  });

  it('turns a partial sum into the inverted 16-bit field', () => {
    expect(checksumFinish(0xddf2)).toBe(0x220d);
    expect(checksumFinish(0)).toBe(0xffff);
    expect(checksumFinish(0xffff)).toBe(0);
  });

  it('updates incrementally exactly as a full recomputation (RFC 1624)', () => {
    const random = new TestRandom(1624);
    for (let trial = 0; trial < 2000; trial++) {
      const header = random.bytes(20);
      header[10] = 0;
      header[11] = 0;
      const before = internetChecksum(header, 0, 20);
      // Change one 16-bit word and one 32-bit field, then compare against summing the header again.
      const word = 2 * random.below(10);
      if (word === 10) continue;
      const oldWord = (header[word]! << 8) | header[word + 1]!;
      const newWord = random.below(0x10000);
      header[word] = newWord >>> 8;
      header[word + 1] = newWord & 0xff;
      const adjusted = checksumAdjust(before, oldWord, newWord);
      expect(adjusted).toBe(internetChecksum(header, 0, 20));

      const oldAddress = ((header[12]! << 24) | (header[13]! << 16) | (header[14]! << 8) | header[15]!) >>> 0;
      const newAddress = random.nextUint32();
      header[12] = newAddress >>> 24;
      header[13] = (newAddress >>> 16) & 0xff;
      header[14] = (newAddress >>> 8) & 0xff;
      header[15] = newAddress & 0xff;
      expect(checksumAdjust32(adjusted, oldAddress, newAddress)).toBe(internetChecksum(header, 0, 20));
    }
  });
});

describe('checksum in WebAssembly lanes', () => {
  // Node has WebAssembly with SIMD: were the module refused, checksumAdd would quietly take the slower
  // word loop, and the tests here would test nothing.
  const summer = simdSummer!;
  const folded = (sum: number): number => {
    const once = (sum & 0xffff) + (sum >>> 16);
    return (once & 0xffff) + (once >>> 16);
  };

  it('compiles here', () => {
    expect(simdSummer).toBeDefined();
  });

  it('agrees with the reference for lengths 0-300 at every offset of views up to 64 bytes longer', () => {
    const random = new TestRandom(128);
    const backing = random.bytes(400);
    for (let byteOffset = 0; byteOffset < 4; byteOffset++) {
      for (let length = 0; length <= 300; length++) {
        for (const slack of [0, 1, 2, 3, 5, 17, 63, 64]) {
          const view = backing.subarray(byteOffset, byteOffset + length + slack);
          const offset = random.below(slack + 1);
          const expected = referenceSum(view, offset, length);
          const actual = folded(summer.sum(view, offset, length));
          if (actual !== expected) {
            throw new Error(
              `byteOffset ${byteOffset} offset ${offset} length ${length}: ${actual} != ${expected}`,
            );
          }
        }
      }
    }
  });

  it('adds nothing from bytes after the range, whatever an earlier sum left in its memory', () => {
    const random = new TestRandom(64);
    const ones = new Uint8Array(4096).fill(0xff);
    for (let trial = 0; trial < 200; trial++) {
      summer.sum(ones, 0, ones.length);
      const length = random.below(1600);
      const view = random.bytes(length + random.below(80));
      expect(folded(summer.sum(view, 0, length))).toBe(referenceSum(view, 0, length));
    }
  });

  it('keeps every lane exact over the largest view it takes, all bytes 0xff', () => {
    const view = new Uint8Array(SIMD_LARGEST_VIEW).fill(0xff);
    view[12345] = 0x12;
    expect(folded(summer.sum(view, 0, view.length))).toBe(referenceSum(view, 0, view.length));
    expect(folded(summer.sum(view, 1, view.length - 1))).toBe(referenceSum(view, 1, view.length - 1));
  });

  it('sums a view of its frame memory where it lies, reading and writing nothing outside the range', () => {
    const random = new TestRandom(4096);
    // The last bytes of the frame memory, so that the farthest read a range could make is checked too.
    const base = frameMemory!.length - 2048;
    const region = frameMemory!.subarray(base);
    const saved = region.slice();
    try {
      for (let trial = 0; trial < 300; trial++) {
        const bytes = random.bytes(region.length);
        region.set(bytes);
        const start = random.below(region.length);
        const length = random.below(region.length - start + 1);
        const view = frameMemoryView(base + start, base + start + length);
        expect(summer.holds(view)).toBe(true);
        const offset = random.below(length + 1);
        const expected = referenceSum(view, offset, length - offset);
        expect(folded(summer.sum(view, offset, length - offset))).toBe(expected);
        expect(checksumAdd(0, view, offset, length - offset)).toBe(length - offset === 0 ? 0 : expected);
        // Bytes around the range, poisoned: they change nothing, and none was written.
        region.fill(0xff, 0, start + offset);
        region.fill(0xff, start + length);
        expect(folded(summer.sum(view, offset, length - offset))).toBe(expected);
        expect(region.subarray(0, start + offset).every((b) => b === 0xff)).toBe(true);
        expect(region.subarray(start + length).every((b) => b === 0xff)).toBe(true);
        expect(region.subarray(start + offset, start + length)).toEqual(
          bytes.subarray(start + offset, start + length),
        );
      }
    } finally {
      region.set(saved);
    }
    // Other views, even of the same bytes, are copied to be summed.
    expect(summer.holds(region)).toBe(false);
    expect(summer.holds(new Uint8Array(16))).toBe(false);
  });

  it('copies two ranges of its frame memory back to back and sums the second copy, touching nothing else', () => {
    const random = new TestRandom(2048);
    const base = frameMemory!.length - 8192;
    const region = frameMemory!.subarray(base);
    const saved = region.slice();
    try {
      for (let trial = 0; trial < 200; trial++) {
        region.set(random.bytes(region.length));
        const before = region.slice();
        const headerLength = random.below(129);
        const length = random.below(2049);
        const headerFrom = random.below(4096 - headerLength + 1);
        const from = random.below(4096 - length + 1);
        const to = 4096 + random.below(4096 - headerLength - length + 1);
        const sum = summer.copyAndSum(base + to, base + headerFrom, headerLength, base + from, length);
        const end = to + headerLength + length;
        expect(region.subarray(to, to + headerLength)).toEqual(
          before.subarray(headerFrom, headerFrom + headerLength),
        );
        expect(region.subarray(to + headerLength, end)).toEqual(before.subarray(from, from + length));
        expect(folded(sum)).toBe(referenceSum(before, from, length));
        // Everything but the copies' destination is as it was.
        expect(region.subarray(0, to)).toEqual(before.subarray(0, to));
        expect(region.subarray(end)).toEqual(before.subarray(end));
      }
    } finally {
      region.set(saved);
    }
  });

  it('is what checksumAdd gives for a segment in its frame, and one byte changed changes the sum', () => {
    const random = new TestRandom(1500);
    const frame = random.bytes(1514);
    const sum = checksumAdd(0, frame, 34, 1480);
    expect(sum).toBe(referenceSum(frame, 34, 1480));
    frame[1000] = frame[1000]! ^ 0x01;
    expect(checksumAdd(0, frame, 34, 1480)).not.toBe(sum);
    expect(checksumAdd(0, frame, 34, 1480)).toBe(referenceSum(frame, 34, 1480));
  });
});

describe('checksum range checks', () => {
  it('refuses a range outside the buffer with ERR_OUT_OF_RANGE', () => {
    const buf = new Uint8Array(10);
    for (const [offset, length] of [
      [-1, 2],
      [0, 11],
      [9, 2],
      [0, -1],
    ]) {
      expect(() => checksumAdd(0, buf, offset!, length!)).toThrow(
        expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
      );
    }
    expect(checksumAdd(0, buf, 10, 0)).toBe(0);
  });
});
