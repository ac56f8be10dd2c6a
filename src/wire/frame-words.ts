/**
 * Headers written as whole 32-bit words into frames of the checksum memory.
 *
 * Every datagram sent is a frame just carved (link/frame-allocator.ts), into which IP and then the
 * transport write their headers. Written byte by byte, each of a header's 20 bytes is a checked store of
 * its own, with the shifts that cut the values into bytes on top; a DataView's setUint32 stores four bytes
 * in network order at once. A DataView needs the frame's ArrayBuffer and where the frame starts in it, and
 * reading either from the frame (`buffer`, `byteOffset`) is a call into the runtime that costs more than
 * the stores it would save; nor can a DataView be made per frame without allocating. MTU-sized frames are
 * carved from the checksum memory (frameMemory in wire/checksum-simd.ts), one ArrayBuffer that never
 * changes, so one DataView covers them all, and the frame allocator tells where in it the frame it just
 * carved starts (carvedPlace in link/frame-allocator.ts). An emitter given that place writes through
 * `frameMemoryData`; any other buffer is written byte by byte (`writeWord`).
 */

import { writeIpv4 } from './address.js';
import { frameMemory } from './checksum-simd.js';

/** A DataView over the checksum memory (empty where there is none). */
export const frameMemoryData: DataView = new DataView(
  frameMemory === undefined ? new ArrayBuffer(0) : frameMemory.buffer,
);

/** Writes `value` at `offset` of `buf` in network byte order, byte by byte (as an IPv4 address is). */
export const writeWord: (buf: Uint8Array, offset: number, value: number) => void = writeIpv4;

/** The two 16-bit words of a 32-bit word, summed (RFC 1071 §2: words may be summed in any grouping). */
export function wordSum(value: number): number {
  return (value >>> 16) + (value & 0xffff);
}
