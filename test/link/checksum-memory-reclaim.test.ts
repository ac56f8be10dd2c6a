/**
 * Slabs of MTU-sized frames in the checksum memory (link/frame-allocator.ts) that leave the waiting list
 * with frames out: their regions are reclaimed once every frame is back, and carved again before ordinary
 * slabs, never while a frame of theirs is still held. A file of its own: the allocator is one per process,
 * and the figures here count from a fresh one.
 */
import { describe, expect, it } from 'vitest';
import { giveBackFrame } from '../../src/link/device.js';
import {
  allocateFrame,
  frameAllocatorCounters,
  frameDelivered,
  frameDelivering,
  recycleFrame,
} from '../../src/link/frame-allocator.js';
import { SimulatedNetwork } from '../../src/sim/network.js';
import { FRAME_MEMORY_BYTES, simdSummer } from '../../src/wire/checksum-simd.js';
import { bulkTransfers } from '../tcp/bulk-transfers.js';
import { pattern } from '../tcp/dialogue.js';
import { sameSlab } from './link-fixtures.js';

/** Regions of the checksum memory (RESIDENT_SLAB_BYTES each). */
const REGIONS = FRAME_MEMORY_BYTES / (256 * 1024);
/** 1514-byte frames a 256 KiB slab holds, one every 1520 bytes (8-byte aligned). */
const FRAMES_PER_SLAB = Math.floor((256 * 1024 - 1514) / 1520) + 1;

function fillFor(i: number): number {
  return (i % 251) + 1;
}

function holdsFill(frame: Uint8Array, fill: number): boolean {
  return frame.every((b) => b === fill);
}

describe('regions of the checksum memory left waiting', () => {
  it('are reclaimed once every frame is back, carved before ordinary slabs, never under a frame still held', () => {
    expect(REGIONS).toBe(16);
    expect(FRAMES_PER_SLAB).toBe(172);
    // Every frame kept (a path's delay line holding them): the sixteen regions are carved once each.
    const inMemory: Uint8Array[] = [];
    for (let i = 0; i < REGIONS * FRAMES_PER_SLAB; i++) {
      const frame = allocateFrame(1514);
      expect(simdSummer!.holds(frame)).toBe(true);
      frame.fill(fillFor(i));
      inMemory.push(frame);
    }
    expect(frameAllocatorCounters.slabsInChecksumMemory).toBe(REGIONS);
    expect(frameAllocatorCounters.framesOutsideChecksumMemory).toBe(0);
    // Sixteen ordinary slabs more, kept too: each one filled pushes the oldest region out of the waiting
    // list (sixteen slabs of this kind wait), with all its frames still out.
    const outside: Uint8Array[] = [];
    for (let i = 0; i < REGIONS * FRAMES_PER_SLAB + 1; i++) {
      const frame = allocateFrame(1514);
      expect(simdSummer!.holds(frame)).toBe(false);
      frame.fill(0x80);
      outside.push(frame);
    }
    expect(frameAllocatorCounters.waitingSlabsDropped).toBe(REGIONS);
    expect(frameAllocatorCounters.framesOutsideChecksumMemory).toBe(REGIONS * FRAMES_PER_SLAB + 1);
    expect(frameAllocatorCounters.checksumSlabsReclaimed).toBe(0);

    // One frame of region 5 arrives late at a receiver that holds it (FRAME_HELD): lent, though its slab
    // no longer waits. Every other frame in the memory comes back: fifteen regions are reclaimed.
    const held = inMemory[5 * FRAMES_PER_SLAB + 17]!;
    frameDelivering(held);
    expect(frameDelivered(held, true)).toBe(true);
    for (const frame of inMemory) if (frame !== held) recycleFrame(frame);
    expect(frameAllocatorCounters.checksumSlabsReclaimed).toBe(REGIONS - 1);

    // The ordinary slab being carved fills first; then the fifteen reclaimed regions are carved, zeroed,
    // one after the other while their frames are kept, none of them the held frame's.
    let frame = allocateFrame(1514);
    let fallback = 0;
    while (!simdSummer!.holds(frame)) {
      fallback++;
      frame.fill(0x80);
      outside.push(frame);
      frame = allocateFrame(1514);
    }
    expect(fallback).toBe(FRAMES_PER_SLAB - 1);
    const outsideBefore = frameAllocatorCounters.framesOutsideChecksumMemory;
    const again: Uint8Array[] = [];
    while (simdSummer!.holds(frame)) {
      expect(holdsFill(frame, 0)).toBe(true);
      expect(sameSlab(frame, held)).toBe(false);
      frame.fill(0xee);
      again.push(frame);
      frame = allocateFrame(1514);
    }
    expect(again.length).toBe((REGIONS - 1) * FRAMES_PER_SLAB);
    expect(frameAllocatorCounters.framesOutsideChecksumMemory).toBe(outsideBefore + 1);
    // The held frame, and the ordinary ones still out, kept every byte.
    expect(holdsFill(held, fillFor(5 * FRAMES_PER_SLAB + 17))).toBe(true);
    expect(outside.every((f) => holdsFill(f, 0x80))).toBe(true);

    // Given back by its receiver at last: its region is reclaimed, and carved next.
    giveBackFrame(held.subarray(54));
    expect(frameAllocatorCounters.checksumSlabsReclaimed).toBe(REGIONS);
    outside.push(frame);
    for (let i = 1; i < FRAMES_PER_SLAB; i++) {
      outside.push(allocateFrame(1514));
      expect(simdSummer!.holds(outside.at(-1)!)).toBe(false);
    }
    const next = allocateFrame(1514);
    expect(simdSummer!.holds(next)).toBe(true);
    expect(sameSlab(next, held)).toBe(true);
    expect(holdsFill(next, 0)).toBe(true);
    // Nothing else was ever carved twice: the sixteen regions are the first ones.
    expect(frameAllocatorCounters.slabsInChecksumMemory).toBe(REGIONS);
    for (const f of [...outside, ...again, next]) recycleFrame(f);
  });

  it('a transfer with more than the memory on its way drops regions, gets them back, and the next runs in them', () => {
    // 1 Gbit/s, 30 ms each way, buffers of 16 MiB: the window grows past the 4 MiB of the memory, so
    // slabs leave the waiting list with their frames still on the delay line.
    const transfer = (data: Uint8Array): boolean => {
      const net = new SimulatedNetwork({ seed: 5, trace: false });
      const tcp = { sendBufferSize: 16 << 20, receiveBufferSize: 16 << 20 };
      const a = net.host('a', '10.0.0.1/24', { tcp });
      const b = net.host('b', '10.0.0.2/24', { tcp });
      net.link(a, b, { delayMs: 30, impairments: { rateBitsPerSecond: 1e9 } });
      const { exact } = bulkTransfers(net, a.tcp, b.tcp, 1, data);
      net.run(10_000);
      return exact()[0]!;
    };
    // 12 MiB: up to 6 MB on its way at once, more than the memory's sixteen slabs of frames.
    const first = pattern(12 << 20, 3);
    expect(transfer(first)).toBe(true);
    const afterFirst = { ...frameAllocatorCounters };
    expect(afterFirst.slabsInChecksumMemory).toBe(REGIONS);
    expect(afterFirst.waitingSlabsDropped).toBeGreaterThan(0);
    expect(afterFirst.framesOutsideChecksumMemory).toBeGreaterThan(0);
    // Every frame came back once delivered: the regions dropped were reclaimed as their frames arrived.
    expect(afterFirst.checksumSlabsReclaimed).toBeGreaterThan(0);
    // A transfer of 2 MiB, all of it on its way at once, fits in the memory: every one of its frames is
    // carved there (without reclaiming, 421 of them were not; 784 for a third such transfer).
    const second = pattern(2 << 20, 11);
    expect(transfer(second)).toBe(true);
    expect(frameAllocatorCounters.framesOutsideChecksumMemory).toBe(afterFirst.framesOutsideChecksumMemory);
    expect(frameAllocatorCounters.slabsInChecksumMemory).toBe(REGIONS);
  });
});
