/**
 * The header a TAP descriptor opened with IFF_VNET_HDR puts before every frame, in both directions:
 * `struct virtio_net_hdr` of linux/virtio_net.h (the virtio specification's "legacy" header, 10 bytes),
 * optionally followed by the 2-byte `num_buffers` of virtio 1.0 (12 bytes, chosen with TUNSETVNETHDRSZ;
 * the TAP driver ignores it). It is how the kernel and tcpts tell each other about offloads per packet:
 *
 *   offset 0  flags        u8   NEEDS_CSUM: the checksum is partial (see csum_start / csum_offset);
 *                                DATA_VALID: the checksum was already verified
 *   offset 1  gso_type     u8   NONE, TCPV4, TCPV6, UDP ... (| ECN): what kind of large packet this is
 *   offset 2  hdr_len      u16  bytes of headers (Ethernet + IP + TCP) every segment repeats
 *   offset 4  gso_size     u16  payload bytes per segment
 *   offset 6  csum_start   u16  where checksumming starts, from the start of the frame
 *   offset 8  csum_offset  u16  where the checksum field is, from csum_start
 *   offset 10 num_buffers  u16  (12-byte header only; 0)
 *
 * The 16-bit fields are in the device's virtio byte order: little-endian on x86 and ARM, and on any host
 * after TUNSETVNETLE.
 */
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6, etherTypeAt } from '../../wire/ethernet.js';
import { tcpHeaderLengthAt } from '../../wire/tcp.js';
import type { FrameTransmitOptions, ReceivedFrameInfo } from '../device.js';

export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 0x01;
export const VIRTIO_NET_HDR_F_DATA_VALID = 0x02;
export const VIRTIO_NET_HDR_GSO_NONE = 0;
export const VIRTIO_NET_HDR_GSO_TCPV4 = 1;
export const VIRTIO_NET_HDR_GSO_TCPV6 = 4;
/** Bit ORed into gso_type when the packet carries CWR (TSO_ECN); not offered, so never expected. */
export const VIRTIO_NET_HDR_GSO_ECN = 0x80;

/** sizeof(struct virtio_net_hdr). */
export const VIRTIO_NET_HEADER_LENGTH = 10;
/** sizeof(struct virtio_net_hdr_mrg_rxbuf), the size tcpts asks for. */
export const VIRTIO_NET_HEADER_LENGTH_V1 = 12;

const ETHERNET_HEADER_LENGTH = 14;
const IPV6_HEADER_LENGTH = 40;
const IP_PROTOCOL_TCP = 6;

function read16(buf: Uint8Array, offset: number, littleEndian: boolean): number {
  return littleEndian ? buf[offset]! | (buf[offset + 1]! << 8) : (buf[offset]! << 8) | buf[offset + 1]!;
}

function write16(buf: Uint8Array, offset: number, value: number, littleEndian: boolean): void {
  if (littleEndian) {
    buf[offset] = value & 0xff;
    buf[offset + 1] = value >>> 8;
  } else {
    buf[offset] = value >>> 8;
    buf[offset + 1] = value & 0xff;
  }
}

/**
 * Reads the header at `buf[offset]` into `info` (reused by the caller). Returns the gso_type, so the
 * caller can count or refuse kinds it did not ask for.
 */
export function readVirtioNetHeader(
  buf: Uint8Array,
  offset: number,
  littleEndian: boolean,
  info: ReceivedFrameInfo,
): number {
  const flags = buf[offset]!;
  const gsoType = buf[offset + 1]!;
  info.checksumTrusted = (flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID)) !== 0;
  info.segmentSize = gsoType === VIRTIO_NET_HDR_GSO_NONE ? 0 : read16(buf, offset + 4, littleEndian);
  return gsoType;
}

/**
 * Writes the header for `frame` (which follows it in `buf` at `offset + length`) at `buf[offset]`,
 * `length` bytes (10 or 12). Without options, or with all of them 0, the header is all zeros: a plain frame
 * with a complete checksum. A TSO request becomes gso_type TCPV4 (TCPV6 for an IPv6 frame) with hdr_len
 * covering the Ethernet, IP and TCP headers (the TCP data offset is read from the frame), which the kernel
 * repeats in every segment.
 */
export function writeVirtioNetHeader(
  buf: Uint8Array,
  offset: number,
  length: number,
  littleEndian: boolean,
  frame: Uint8Array,
  options: FrameTransmitOptions | undefined,
): void {
  buf.fill(0, offset, offset + length);
  if (options === undefined || options.checksumStart === 0) return;
  const start = options.checksumStart;
  buf[offset] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
  write16(buf, offset + 6, start, littleEndian);
  write16(buf, offset + 8, options.checksumOffset, littleEndian);
  if (options.segmentSize === 0) {
    // hdr_len is only a hint for a plain frame; the kernel derives what it needs from csum_start.
    write16(buf, offset + 2, start + options.checksumOffset + 2, littleEndian);
    return;
  }
  buf[offset + 1] = isIpv6Frame(frame) ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
  write16(buf, offset + 2, start + tcpHeaderLengthAt(frame, start), littleEndian);
  write16(buf, offset + 4, options.segmentSize, littleEndian);
}

function isIpv6Frame(frame: Uint8Array): boolean {
  return etherTypeAt(frame) === ETHERTYPE_IPV6;
}

/**
 * True when `frame` holds what a TSO request must: an IPv4 TCP packet, unfragmented, or an IPv6 one whose
 * fixed header is followed directly by TCP (no extension headers), whose TCP header starts at
 * `checksumStart` and fits the frame. The kernel checks the same and refuses the write with EINVAL
 * otherwise; checking first turns a stack bug into a counted drop with a reason.
 */
export function isTsoCandidate(frame: Uint8Array, options: FrameTransmitOptions): boolean {
  const start = options.checksumStart;
  const ip = ETHERNET_HEADER_LENGTH;
  if (isIpv6Frame(frame)) {
    if (frame.length < ip + IPV6_HEADER_LENGTH || frame[ip]! >>> 4 !== 6) return false;
    if (frame[ip + 6] !== IP_PROTOCOL_TCP || ip + IPV6_HEADER_LENGTH !== start) return false;
  } else {
    if (frame.length < ip + 20 || etherTypeAt(frame) !== ETHERTYPE_IPV4) return false;
    const headerLength = (frame[ip]! & 0x0f) * 4;
    if (frame[ip]! >>> 4 !== 4 || frame[ip + 9] !== IP_PROTOCOL_TCP || ip + headerLength !== start)
      return false;
    // More-fragments or a fragment offset: a fragment cannot be segmented.
    if ((frame[ip + 6]! & 0x3f) !== 0 || frame[ip + 7] !== 0) return false;
  }
  return (
    options.checksumOffset === 16 &&
    start + 20 <= frame.length &&
    start + tcpHeaderLengthAt(frame, start) <= frame.length
  );
}
