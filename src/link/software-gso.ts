/**
 * Software GSO for a device without TCP segmentation in hardware: a TCP super-segment (one IPv4 or IPv6
 * packet of up to 64 KiB, built by TCP and IP once for many segments) is cut into wire-size frames just
 * before it enters the path, each with its full IP header and TCP checksum computed here, as Linux cuts a
 * GSO packet in software in front of a device that cannot take it (`validate_xmit_skb` ->
 * `skb_gso_segment`, with `tcp_gso_segment` for TCP) and completes each frame's checksum when the device
 * does not. The pieces are the segments TCP would have sent one by one (RFC 9293 §3.7: the stream may be
 * cut anywhere): per piece the sequence number advances by the payload before it, the IPv4
 * identification by one (the IP layer set aside as many, see ipv4-offload.ts), PSH and FIN stay on the
 * last piece only and CWR on the first only (RFC 3168 §6.1.2: CWR marks the first new segment after a
 * reduction), and the IPv4 header checksum and the TCP checksum are computed in full.
 *
 * Per piece nothing is allocated and nothing is parsed. The super-segment was carved in the checksum
 * memory's staged region (`allocateStagedFrame`) and each piece is an MTU-sized frame of the same memory
 * (`allocateFrame`), so the headers and the payload are copied and the payload summed by one call into
 * the SIMD summer (`copyAndSum`: two memmoves within that memory, no view cut, and the sum of the copied
 * payload, where two `copyWithin` and a checksumAdd were three calls); the fields that differ are then
 * written over through one DataView, and the checksums are finished from sums taken once per
 * super-segment (RFC 1071 §2: the header's words that stay the same, the addresses of the pseudo-header)
 * plus the piece's payload sum. The super-segment goes back to the frame allocator once cut, to be
 * carved again at the same place for the next one; the pieces are recycled by the link as any frame it
 * delivers.
 */

import type { FrameTransmitOptions } from '../seams.js';
import { copyBytes, viewBytes } from '../util/bytes.js';
import { checksumAdd, checksumFinish } from '../wire/checksum.js';
import { frameMemory, simdSummer } from '../wire/checksum-simd.js';
import { ETHERNET_HEADER_LENGTH, ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from '../wire/ethernet.js';
import { frameMemoryData, wordSum } from '../wire/frame-words.js';
import { IP_PROTOCOL_TCP } from '../wire/ipv4.js';
import { TCP_CWR, TCP_FIN, TCP_HEADER_LENGTH, TCP_PSH } from '../wire/tcp.js';
import { allocateFrame, carvedPlace, recycleFrame, stagedPlace } from './frame-allocator.js';

/** Where a piece goes: the path the device sends into. */
export interface FrameSink {
  send(frame: Uint8Array): void;
}

const IPV6_HEADER_LENGTH = 40;

/**
 * Cuts `frame`, sent with `options` (TSO: `segmentSize`; or a checksum to complete alone, one piece), into
 * frames of at most `segmentSize` bytes of payload each, hands them to `sink` in order and gives `frame`
 * back to the frame allocator. False, with nothing done, for a frame this cannot cut in place: one not
 * carved by `allocateStagedFrame` in the checksum memory (no WebAssembly here), or one that is not an
 * unfragmented IPv4 or IPv6 TCP packet whose lengths agree; the device then does the same work the
 * general way (ipv4-offload.ts, `withoutOffloads`).
 */
export function segmentInSoftware(
  frame: Uint8Array,
  options: FrameTransmitOptions,
  sink: FrameSink,
): boolean {
  const from = stagedPlace(frame);
  if (from < 0) return false;
  const memory = frameMemory!;
  const summer = simdSummer!;
  const data = frameMemoryData;
  const frameLength = frame.length;
  const ip = from + ETHERNET_HEADER_LENGTH;
  const etherType = data.getUint16(from + 12);
  let ipHeaderLength: number;
  let addressSum: number;
  let ipSum = 0;
  let id = 0;
  const ipv4 = etherType === ETHERTYPE_IPV4;
  if (ipv4) {
    ipHeaderLength = (memory[ip]! & 0x0f) * 4;
    if (memory[ip]! >>> 4 !== 4 || ipHeaderLength < 20 || memory[ip + 9] !== IP_PROTOCOL_TCP) return false;
    if (data.getUint16(ip + 2) !== frameLength - ETHERNET_HEADER_LENGTH) return false;
    if ((data.getUint16(ip + 6) & 0x3fff) !== 0) return false; // a fragment
    id = data.getUint16(ip + 4);
    // The header's words but the total length, the identification and the checksum, set per piece.
    for (let at = ip; at < ip + ipHeaderLength; at += 2) ipSum += data.getUint16(at);
    ipSum -= data.getUint16(ip + 2) + id + data.getUint16(ip + 10);
    addressSum = sumWords(data, ip + 12, 8);
  } else if (etherType === ETHERTYPE_IPV6) {
    ipHeaderLength = IPV6_HEADER_LENGTH;
    if (memory[ip]! >>> 4 !== 6 || memory[ip + 6] !== IP_PROTOCOL_TCP) return false;
    if (data.getUint16(ip + 4) !== frameLength - ETHERNET_HEADER_LENGTH - IPV6_HEADER_LENGTH) return false;
    addressSum = sumWords(data, ip + 8, 32);
  } else {
    return false;
  }
  const tcp = ip + ipHeaderLength;
  const tcpOffset = tcp - from;
  if (tcpOffset + TCP_HEADER_LENGTH > frameLength) return false;
  const tcpHeaderLength = (memory[tcp + 12]! >>> 4) * 4;
  const headersLength = tcpOffset + tcpHeaderLength;
  if (tcpHeaderLength < TCP_HEADER_LENGTH || headersLength > frameLength) return false;
  const seq = data.getInt32(tcp + 4);
  const flags = memory[tcp + 13]!;
  // The TCP header's words but the sequence number, the flags and the checksum, set per piece; the
  // pseudo-header's addresses and protocol (RFC 9293 §3.1, RFC 8200 §8.1), its length added per piece.
  const tcpSum =
    sumWords(data, tcp, tcpHeaderLength) - wordSum(seq) - flags - data.getUint16(tcp + 16) + addressSum;
  const payloadLength = frameLength - headersLength;
  const segmentSize = options.segmentSize > 0 ? options.segmentSize : Math.max(payloadLength, 1);
  const count = Math.max(1, Math.ceil(payloadLength / segmentSize));
  const payloadFrom = from + headersLength;
  for (let i = 0, offset = 0; i < count; i++, offset += segmentSize) {
    const chunk = Math.min(segmentSize, payloadLength - offset);
    const pieceLength = headersLength + chunk;
    // Every byte is written below: nothing to clear.
    const piece = allocateFrame(pieceLength, 0, 0);
    const to = carvedPlace(0);
    let payloadSum = 0;
    if (to >= 0) {
      payloadSum = summer.copyAndSum(to, from, headersLength, payloadFrom + offset, chunk);
    } else {
      // Out of the checksum memory's slabs (a path holding more than it in flight): copied through views.
      copyBytes(piece, viewBytes(memory, from, payloadFrom), 0);
      copyBytes(piece, viewBytes(memory, payloadFrom + offset, payloadFrom + offset + chunk), headersLength);
    }
    const ipLength = pieceLength - ETHERNET_HEADER_LENGTH;
    const tcpLength = pieceLength - tcpOffset;
    let pieceFlags = flags;
    if (i < count - 1) pieceFlags &= ~(TCP_FIN | TCP_PSH);
    if (i > 0) pieceFlags &= ~TCP_CWR;
    const pieceSeq = (seq + offset) | 0;
    if (to >= 0) {
      const pieceIp = to + ETHERNET_HEADER_LENGTH;
      const pieceTcp = to + tcpOffset;
      if (ipv4) {
        const pieceId = (id + i) & 0xffff;
        data.setUint16(pieceIp + 2, ipLength);
        data.setUint16(pieceIp + 4, pieceId);
        data.setUint16(pieceIp + 10, checksumFinish(ipSum + ipLength + pieceId));
      } else {
        data.setUint16(pieceIp + 4, ipLength - IPV6_HEADER_LENGTH);
      }
      data.setInt32(pieceTcp + 4, pieceSeq);
      memory[pieceTcp + 13] = pieceFlags;
      const sum = tcpSum + IP_PROTOCOL_TCP + tcpLength + wordSum(pieceSeq) + pieceFlags + payloadSum;
      data.setUint16(pieceTcp + 16, checksumFinish(sum));
    } else {
      writeFields(piece, ipv4, tcpOffset, ipLength, (id + i) & 0xffff, ipSum, pieceSeq, pieceFlags);
      const sum = tcpSum + IP_PROTOCOL_TCP + tcpLength + wordSum(pieceSeq) + pieceFlags;
      const checksum = checksumFinish(checksumAdd(sum, piece, headersLength, chunk));
      piece[tcpOffset + 16] = checksum >>> 8;
      piece[tcpOffset + 17] = checksum & 0xff;
    }
    sink.send(piece);
  }
  recycleFrame(frame);
  return true;
}

/** The 16-bit words of `length` (even) bytes of the checksum memory from `at`, added up (not folded). */
function sumWords(data: DataView, at: number, length: number): number {
  let sum = 0;
  for (let end = at + length; at < end; at += 2) sum += data.getUint16(at);
  return sum;
}

/** The per-piece fields of a piece outside the checksum memory, byte by byte (see segmentInSoftware). */
function writeFields(
  piece: Uint8Array,
  ipv4: boolean,
  tcpOffset: number,
  ipLength: number,
  id: number,
  ipSum: number,
  seq: number,
  flags: number,
): void {
  const ip = ETHERNET_HEADER_LENGTH;
  if (ipv4) {
    const checksum = checksumFinish(ipSum + ipLength + id);
    piece[ip + 2] = ipLength >>> 8;
    piece[ip + 3] = ipLength & 0xff;
    piece[ip + 4] = id >>> 8;
    piece[ip + 5] = id & 0xff;
    piece[ip + 10] = checksum >>> 8;
    piece[ip + 11] = checksum & 0xff;
  } else {
    const payloadLength = ipLength - IPV6_HEADER_LENGTH;
    piece[ip + 4] = payloadLength >>> 8;
    piece[ip + 5] = payloadLength & 0xff;
  }
  piece[tcpOffset + 4] = seq >>> 24;
  piece[tcpOffset + 5] = (seq >>> 16) & 0xff;
  piece[tcpOffset + 6] = (seq >>> 8) & 0xff;
  piece[tcpOffset + 7] = seq & 0xff;
  piece[tcpOffset + 13] = flags;
}
