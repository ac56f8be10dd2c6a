/**
 * Software GSO when the checksum memory has no region left for the pieces (every MTU-sized slab there is
 * held by frames still out): the pieces are ordinary frames, written byte by byte, and still exactly the
 * segments TCP would have sent. A file of its own: it holds the frame allocator's regions for good.
 */
import { expect, it } from 'vitest';
import {
  allocateFrame,
  allocateStagedFrame,
  frameAllocatorCounters,
} from '../../src/link/frame-allocator.js';
import { segmentInSoftware } from '../../src/link/software-gso.js';
import { FRAME_MEMORY_BYTES, frameMemory } from '../../src/wire/checksum-simd.js';
import { ACK, CWR, FIN, PSH, tcpFrame, timestamps } from './tcp-frame-builder.js';
import { pattern } from './tcp-wire.js';

it.skipIf(frameMemory === undefined)(
  'cuts into ordinary frames, byte for byte the same, once the checksum memory is all held',
  () => {
    // Frames kept (never given back) until every region of the checksum memory is carved and held.
    const held: Uint8Array[] = [];
    for (let i = 0; i < FRAME_MEMORY_BYTES / 1520 + 200; i++) held.push(allocateFrame(1514));
    const outside = frameAllocatorCounters.framesOutsideChecksumMemory;
    expect(outside).toBeGreaterThan(0);
    const data = pattern(2500);
    const spec = { seq: 77, flags: ACK | PSH | FIN | CWR, id: 9, options: timestamps(3, 4) };
    const frame = tcpFrame({ ...spec, data });
    const superSegment = allocateStagedFrame(frame.length);
    superSegment.set(frame);
    const pieces: Uint8Array[] = [];
    const options = { checksumStart: 34, checksumOffset: 16, segmentSize: 1000, headroom: 0 };
    expect(segmentInSoftware(superSegment, options, { send: (f) => pieces.push(f.slice()) })).toBe(true);
    expect(frameAllocatorCounters.framesOutsideChecksumMemory - outside).toBe(3);
    expect(pieces).toEqual([
      tcpFrame({ ...spec, flags: ACK | CWR, data: data.subarray(0, 1000) }),
      tcpFrame({ ...spec, seq: 1077, id: 10, flags: ACK, data: data.subarray(1000, 2000) }),
      tcpFrame({ ...spec, seq: 2077, id: 11, flags: ACK | PSH | FIN, data: data.subarray(2000) }),
    ]);
  },
);
