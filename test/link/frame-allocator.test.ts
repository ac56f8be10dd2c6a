import { describe, expect, it } from 'vitest';
import { allocateFrame } from '../../src/link/frame-allocator.js';

describe('allocateFrame', () => {
  it('hands out zero-filled frames of the length asked, each region once', () => {
    const frames: Uint8Array[] = [];
    // Enough 1514-byte frames to fill several slabs.
    for (let i = 0; i < 600; i++) {
      const frame = allocateFrame(1514);
      expect(frame.length).toBe(1514);
      expect(frame.every((b) => b === 0)).toBe(true);
      frame.fill(i & 0xff || 1);
      frames.push(frame);
    }
    // Writing one frame never touched another: every frame still holds only its own fill byte.
    for (const [i, frame] of frames.entries()) expect(frame.every((b) => b === (i & 0xff || 1))).toBe(true);
    const sameBuffer = frames.filter((f) => f.buffer === frames[0]!.buffer).length;
    expect(sameBuffer).toBeGreaterThan(1);
    expect(sameBuffer).toBeLessThan(600);
  });

  it('starts frames on 8-byte boundaries and leaves the headroom free in front of them', () => {
    allocateFrame(3); // leaves the slab's offset unaligned
    const frame = allocateFrame(66, 12);
    expect(frame.byteOffset % 8).toBe(0);
    expect(frame.byteOffset).toBeGreaterThanOrEqual(12);
    const withHeadroom = new Uint8Array(frame.buffer, frame.byteOffset - 12, 12 + frame.length);
    withHeadroom.fill(0xab);
    // The next frame does not overlap the previous frame's headroom or body.
    const next = allocateFrame(66, 12);
    expect(next.every((b) => b === 0)).toBe(true);
    expect(withHeadroom.every((b) => b === 0xab)).toBe(true);
  });

  it('gives a frame larger than a quarter slab a buffer of its own', () => {
    const frame = allocateFrame(65549, 10);
    expect(frame.length).toBe(65549);
    expect(frame.byteOffset).toBe(10);
    expect(frame.buffer.byteLength).toBe(65559);
    expect(frame.every((b) => b === 0)).toBe(true);
  });
});
