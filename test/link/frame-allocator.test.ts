import { describe, expect, it } from 'vitest';
import { allocateFrame, recycleFrame } from '../../src/link/frame-allocator.js';

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

  /** Large frames until one starts a slab of its own (the allocator is shared by the whole process). */
  function firstOfFreshSlab(): Uint8Array {
    const previous = allocateFrame(65549, 12).buffer;
    for (;;) {
      const frame = allocateFrame(65549, 12);
      if (frame.buffer !== previous) return frame;
    }
  }

  it('carves a slab again once every frame from it was given back in order, zeroing its frames', () => {
    let frame = firstOfFreshSlab();
    const slab = frame.buffer;
    const firstOffset = frame.byteOffset;
    let carved = 0;
    // A device that writes each frame out at once gives it back right away.
    do {
      expect(frame.buffer).toBe(slab);
      frame.fill(0xee);
      recycleFrame(frame);
      carved++;
      frame = allocateFrame(65549, 12);
    } while (frame.byteOffset !== firstOffset);
    expect(frame.buffer).toBe(slab);
    expect(carved).toBeGreaterThanOrEqual(8);
    expect(frame.every((b) => b === 0)).toBe(true);
    // A caller that writes the rest itself asks for only its headers cleared: the rest is left as it was.
    const partly = allocateFrame(65549, 12, 100);
    expect(partly.buffer).toBe(slab);
    expect(partly.subarray(0, 100).every((b) => b === 0)).toBe(true);
    expect(partly.subarray(100).every((b) => b === 0xee)).toBe(true);
  });

  it('leaves a slab to the collector when a frame from it is kept or given back out of order', () => {
    for (const misuse of ['first kept', 'out of order', 'first twice, second kept'] as const) {
      const first = firstOfFreshSlab();
      const second = allocateFrame(65549, 12);
      expect(second.buffer).toBe(first.buffer);
      if (misuse === 'out of order') {
        recycleFrame(second);
        recycleFrame(first);
      }
      if (misuse === 'first twice, second kept') {
        recycleFrame(first);
        recycleFrame(first);
      }
      const frames = [first, second];
      // The rest of the slab is given back as it is carved, in order.
      let next = allocateFrame(65549, 12);
      while (next.buffer === first.buffer) {
        expect(frames.length).toBeLessThan(32); // a slab reused too early would never end
        frames.push(next);
        recycleFrame(next);
        next = allocateFrame(65549, 12);
      }
      expect(frames.length).toBeGreaterThanOrEqual(8);
      for (const [i, f] of frames.entries()) f.fill(i + 1);
      // `next` opened a new buffer; frames given back late count for nothing, and the bytes stay.
      for (const f of frames) recycleFrame(f);
      let later = allocateFrame(65549, 12);
      while (later.buffer === next.buffer) later = allocateFrame(65549, 12);
      expect(later.buffer).not.toBe(first.buffer);
      for (const [i, f] of frames.entries()) expect(f.every((b) => b === i + 1)).toBe(true);
    }
  });
});
