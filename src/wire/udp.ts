/**
 * UDP (RFC 768): source port, destination port, length (header plus data), checksum.
 *
 * The checksum covers an IPv4 pseudo-header (source, destination, zero, protocol 17, UDP length), the UDP
 * header and the data. A transmitted checksum of zero means the sender computed none (RFC 768), and the
 * receiver accepts the datagram unverified (RFC 1122 §4.1.3.4 lets a host refuse that; this stack follows
 * Linux and accepts). A computed checksum of zero is therefore sent as 0xffff, its ones'-complement twin.
 *
 * Over IPv6 (`bigint` addresses) the pseudo-header is RFC 8200 §8.1's and the checksum is mandatory: a zero
 * checksum is refused on receipt and always computed on send.
 */

import { checksumAdd, checksumFinish, pseudoHeaderSum } from './checksum.js';
import { codedError, copyInto, requireSpace } from './emit-buffer.js';
import { IP_PROTOCOL_UDP } from './ipv4.js';
import type { IpAddress } from './ipv6-address.js';
import { malformed, type ParseResult, parsed } from './parse-result.js';

export const UDP_HEADER_LENGTH = 8;
export const UDP_MAX_LENGTH = 0xffff;

export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  /** The data, bounded by the UDP length field; a view. */
  payload: Uint8Array;
}

export interface UdpParseOptions {
  /** Verify a non-zero checksum (default true). */
  verifyChecksum?: boolean;
}

export interface UdpEmitOptions {
  /**
   * Compute the checksum (default true). When false the field is 0, "no checksum" in RFC 768, which every
   * receiver accepts: for links that cannot corrupt.
   */
  computeChecksum?: boolean;
}

const PROTOCOL = 'udp';

function checkUdp(buf: Uint8Array): ParseResult<never> | undefined {
  if (buf.length < UDP_HEADER_LENGTH) {
    return malformed(PROTOCOL, 'truncated', `${buf.length} bytes, the UDP header needs 8`);
  }
  const length = (buf[4]! << 8) | buf[5]!;
  if (length < UDP_HEADER_LENGTH) {
    return malformed(PROTOCOL, 'bad-total-length', `length field ${length} is smaller than the header`);
  }
  if (length > buf.length) {
    return malformed(PROTOCOL, 'bad-total-length', `length field ${length} > ${buf.length} bytes received`);
  }
  return undefined;
}

/** Zero-copy typed access to a checked UDP datagram (the IPv4 payload). */
export class UdpView {
  private constructor(readonly bytes: Uint8Array) {}

  static fromBytes(buf: Uint8Array): ParseResult<UdpView> {
    return checkUdp(buf) ?? parsed(new UdpView(buf));
  }

  get srcPort(): number {
    return (this.bytes[0]! << 8) | this.bytes[1]!;
  }

  get dstPort(): number {
    return (this.bytes[2]! << 8) | this.bytes[3]!;
  }

  get length(): number {
    return (this.bytes[4]! << 8) | this.bytes[5]!;
  }

  get checksum(): number {
    return (this.bytes[6]! << 8) | this.bytes[7]!;
  }

  get payload(): Uint8Array {
    return this.bytes.subarray(UDP_HEADER_LENGTH, this.length);
  }

  /**
   * True when the checksum verifies against the pseudo-header, or is absent (zero) over IPv4. Over IPv6 a
   * zero checksum is invalid (RFC 8200 §8.1).
   */
  checksumValid(src: IpAddress, dst: IpAddress): boolean {
    if (this.checksum === 0) return typeof src !== 'bigint';
    return udpChecksumOk(this.bytes, this.length, src, dst);
  }
}

function udpChecksumOk(buf: Uint8Array, length: number, src: IpAddress, dst: IpAddress): boolean {
  return (
    checksumFinish(checksumAdd(pseudoHeaderSum(src, dst, IP_PROTOCOL_UDP, length), buf, 0, length)) === 0
  );
}

/**
 * Parses a UDP datagram: `buf` is the IPv4 payload, `src`/`dst` its addresses for the pseudo-header.
 * Checks 'truncated', 'bad-total-length' (length field below 8 or beyond the packet), then 'bad-checksum'.
 * Bytes after the length field's end are ignored. Never throws.
 */
export function parseUdp(
  buf: Uint8Array,
  src: IpAddress,
  dst: IpAddress,
  options?: UdpParseOptions,
): ParseResult<UdpDatagram> {
  const error = checkUdp(buf);
  if (error) return error;
  const length = (buf[4]! << 8) | buf[5]!;
  const checksum = (buf[6]! << 8) | buf[7]!;
  if (checksum === 0 && typeof src === 'bigint' && options?.verifyChecksum !== false) {
    // RFC 8200 §8.1: "IPv6 receivers must discard UDP packets containing a zero checksum".
    return malformed(PROTOCOL, 'bad-checksum', 'zero checksum, which IPv6 does not allow');
  }
  if (checksum !== 0 && options?.verifyChecksum !== false && !udpChecksumOk(buf, length, src, dst)) {
    return malformed(PROTOCOL, 'bad-checksum', `checksum 0x${checksum.toString(16).padStart(4, '0')}`);
  }
  return parsed({
    srcPort: (buf[0]! << 8) | buf[1]!,
    dstPort: (buf[2]! << 8) | buf[3]!,
    payload: buf.subarray(UDP_HEADER_LENGTH, length),
  });
}

/** Writes header and payload at `offset` and returns 8 + payload length. */
export function emitUdp(
  d: UdpDatagram,
  src: IpAddress,
  dst: IpAddress,
  buf: Uint8Array,
  offset: number,
  options?: UdpEmitOptions,
): number {
  const length = UDP_HEADER_LENGTH + d.payload.length;
  // Built only on failure: every datagram sent passes here.
  if (length > UDP_MAX_LENGTH) throw codedError('EINVAL', `udp: datagram of ${length} bytes exceeds 65535`);
  requireSpace(buf, offset, length, 'udp datagram');
  buf[offset] = d.srcPort >>> 8;
  buf[offset + 1] = d.srcPort;
  buf[offset + 2] = d.dstPort >>> 8;
  buf[offset + 3] = d.dstPort;
  buf[offset + 4] = length >>> 8;
  buf[offset + 5] = length;
  buf[offset + 6] = 0;
  buf[offset + 7] = 0;
  copyInto(d.payload, buf, offset + UDP_HEADER_LENGTH);
  // Over IPv6 the checksum is mandatory (RFC 8200 §8.1), whatever the link.
  if (options?.computeChecksum !== false || typeof src === 'bigint') {
    const sum = checksumFinish(
      checksumAdd(pseudoHeaderSum(src, dst, IP_PROTOCOL_UDP, length), buf, offset, length),
    );
    // RFC 768: an all-zero result is transmitted as all ones; zero would mean "no checksum".
    const field = sum === 0 ? 0xffff : sum;
    buf[offset + 6] = field >>> 8;
    buf[offset + 7] = field;
  }
  return length;
}
