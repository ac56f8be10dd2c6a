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

  it('carves segmentation-offload packets (up to 64 KiB) from large slabs apart from small frames', () => {
    const small = allocateFrame(1514);
    const packets = Array.from({ length: 10 }, (_, i) => {
      const packet = allocateFrame(65549, 12);
      expect(packet.length).toBe(65549);
      expect(packet.byteOffset % 8).toBe(0);
      expect(packet.every((b) => b === 0)).toBe(true);
      packet.fill(i + 1);
      return packet;
    });
    for (const [i, packet] of packets.entries()) expect(packet.every((b) => b === i + 1)).toBe(true);
    expect(packets.every((p) => p.buffer !== small.buffer)).toBe(true);
    // 1 MiB slabs: at least eight packets share one, so ten take two or three buffers, not ten.
    const buffers = new Set(packets.map((p) => p.buffer));
    expect(buffers.size).toBeLessThanOrEqual(3);
    expect([...buffers].every((b) => b.byteLength === 1024 * 1024)).toBe(true);
  });

  it('gives a frame larger than an eighth of a large slab a buffer of its own', () => {
    const frame = allocateFrame(131_072, 10);
    expect(frame.length).toBe(131_072);
    expect(frame.byteOffset).toBe(10);
    expect(frame.buffer.byteLength).toBe(131_082);
    expect(frame.every((b) => b === 0)).toBe(true);
  });
});
