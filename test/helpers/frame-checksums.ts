/**
 * Recomputes the IPv4 header checksum and the ICMP, UDP or TCP checksum of an Ethernet frame in place, so
 * that a fuzzer's damage reaches the layers behind the checksums. Frames that are not IPv4 are left alone.
 */
import { checksumAdd, checksumFinish, internetChecksum, pseudoHeaderSum } from '../../src/wire/checksum.js';

export function repairChecksums(frame: Uint8Array): void {
  if (frame.length < 34 || frame[12] !== 0x08 || frame[13] !== 0x00) return;
  const ihl = (frame[14]! & 0x0f) * 4;
  if (ihl < 20 || frame.length < 14 + ihl) return;
  frame[24] = 0;
  frame[25] = 0;
  const sum = internetChecksum(frame, 14, ihl);
  frame[24] = sum >>> 8;
  frame[25] = sum & 0xff;
  const total = (frame[16]! << 8) | frame[17]!;
  const end = Math.min(frame.length, 14 + total);
  const start = 14 + ihl;
  const length = end - start;
  const protocol = frame[23]!;
  const src = ((frame[26]! << 24) | (frame[27]! << 16) | (frame[28]! << 8) | frame[29]!) >>> 0;
  const dst = ((frame[30]! << 24) | (frame[31]! << 16) | (frame[32]! << 8) | frame[33]!) >>> 0;
  let field = -1;
  let base = 0;
  if (protocol === 1 && length >= 8) field = start + 2;
  else if (protocol === 17 && length >= 8) {
    field = start + 6;
    base = pseudoHeaderSum(src, dst, 17, length);
  } else if (protocol === 6 && length >= 20) {
    field = start + 16;
    base = pseudoHeaderSum(src, dst, 6, length);
  }
  if (field < 0) return;
  frame[field] = 0;
  frame[field + 1] = 0;
  const c = checksumFinish(checksumAdd(base, frame, start, length));
  frame[field] = c >>> 8;
  frame[field + 1] = c & 0xff;
}
