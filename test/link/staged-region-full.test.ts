/**
 * The checksum memory's staged region (STAGED_FRAME_BYTES) when staged frames are kept out until it is
 * full: further super-segments are ordinary frames, counted in
 * frameAllocatorCounters.stagedFramesOutsideRegion, and a GSO link cuts them the general way into the very
 * frames it cuts in place; once they come back the region is carved again (after the ordinary slab carved
 * meanwhile). A file of its own: it holds the staged region while it runs.
 */
import { expect, it } from 'vitest';
import { allocateStagedFrame, frameAllocatorCounters, recycleFrame } from '../../src/link/frame-allocator.js';
import { frameMemory, STAGED_FRAME_BYTES } from '../../src/wire/checksum-simd.js';
import { pattern, tappedPair, transfer } from './tcp-wire.js';

function run(gso: boolean) {
  const { net, client, server, frames } = tappedPair({ gso });
  const data = pattern(200_000);
  const received = transfer(net, client, server, data);
  return { data, received, frames };
}

it.skipIf(frameMemory === undefined)(
  'a staged region full of frames still out: super-segments carved elsewhere, counted, nothing lost',
  () => {
    const before = frameAllocatorCounters.stagedFramesOutsideRegion;
    // Super-segments of 64,000 bytes: four fit the region; kept out, never given back.
    const held: Uint8Array[] = [];
    for (let i = 0; i < 4; i++) held.push(allocateStagedFrame(64_000));
    expect(4 * 64_008).toBeLessThanOrEqual(STAGED_FRAME_BYTES);
    expect(frameAllocatorCounters.stagedFramesOutsideRegion).toBe(before);
    held.push(allocateStagedFrame(64_000));
    expect(frameAllocatorCounters.stagedFramesOutsideRegion).toBe(before + 1);

    // A bulk transfer over a GSO link now has every super-segment outside the region...
    const gso = run(true);
    const outside = frameAllocatorCounters.stagedFramesOutsideRegion - before - 1;
    expect(outside).toBeGreaterThan(0);
    // ...each cut by the general path: every byte arrives, and the path saw what it sees without GSO.
    expect(gso.received).toEqual(gso.data);
    const plain = run(false);
    expect(frameAllocatorCounters.stagedFramesOutsideRegion - before - 1).toBe(outside);
    expect(gso.frames).toEqual(plain.frames);

    // Once the frames kept out come back, the region is carved again when the ordinary slab carved
    // meanwhile is full (6 more super-segments outside it, here), then none.
    for (const frame of held) recycleFrame(frame);
    const counted = frameAllocatorCounters.stagedFramesOutsideRegion;
    for (let i = 0; i < 2; i++) {
      const again = run(true);
      expect(again.received).toEqual(again.data);
      expect(again.frames).toEqual(plain.frames);
    }
    const afterwards = frameAllocatorCounters.stagedFramesOutsideRegion;
    expect(afterwards).toBeGreaterThan(counted);
    expect(run(true).received).toEqual(gso.data);
    expect(frameAllocatorCounters.stagedFramesOutsideRegion).toBe(afterwards);
  },
);

it('a super-segment larger than the region is an ordinary frame, counted', () => {
  const before = frameAllocatorCounters.stagedFramesOutsideRegion;
  const frame = allocateStagedFrame(STAGED_FRAME_BYTES);
  expect(frame.length).toBe(STAGED_FRAME_BYTES);
  expect(frameAllocatorCounters.stagedFramesOutsideRegion).toBe(before + 1);
});
