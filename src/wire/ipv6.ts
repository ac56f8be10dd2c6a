/**
 * IPv6 fixed header (RFC 8200 §3).
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * |Version| Traffic Class |           Flow Label                  |
 * |         Payload Length        |  Next Header  |   Hop Limit   |
 * |                  Source Address (128 bits)                    |
 * |               Destination Address (128 bits)                  |
 *
 * There is no header checksum and no options field: options travel in extension headers (see
 * `ipv6-extension-headers.ts`), which are part of the payload Payload Length counts. The payload ends at
 * Payload Length, so Ethernet padding never reaches the layers above. A Payload Length of zero with a
 * Hop-by-Hop Jumbo Payload option (RFC 2675) is not supported: such a packet parses as having no payload,
 * and the Hop-by-Hop processing rejects the option it does not know.
 */

import { requireSpace, requireValid } from './emit-buffer.js';
import { type Ipv6Address, readIpv6, writeIpv6 } from './ipv6-address.js';
import { malformed, type ParseResult, parsed } from './parse-result.js';

export const IPV6_HEADER_LENGTH = 40;
/** Every link carrying IPv6 must carry packets of this size (RFC 8200 §5). */
export const IPV6_MIN_MTU = 1280;
export const IPV6_MAX_PAYLOAD_LENGTH = 0xffff;

/** Next Header values (IANA "Assigned Internet Protocol Numbers"). */
export const IPV6_NEXT_HOP_BY_HOP = 0;
export const IPV6_NEXT_TCP = 6;
export const IPV6_NEXT_UDP = 17;
export const IPV6_NEXT_ROUTING = 43;
export const IPV6_NEXT_FRAGMENT = 44;
export const IPV6_NEXT_ESP = 50;
export const IPV6_NEXT_AUTHENTICATION = 51;
export const IPV6_NEXT_ICMPV6 = 58;
export const IPV6_NEXT_NONE = 59;
export const IPV6_NEXT_DESTINATION_OPTIONS = 60;

export interface Ipv6Header {
  /** DSCP and ECN (RFC 2474, RFC 3168). */
  trafficClass: number;
  /** 20 bits (RFC 6437). */
  flowLabel: number;
  nextHeader: number;
  hopLimit: number;
  src: Ipv6Address;
  dst: Ipv6Address;
}

export interface Ipv6Packet extends Ipv6Header {
  payloadLength: number;
  /** Extension headers and upper-layer data, bounded by Payload Length; a view. */
  payload: Uint8Array;
}

const PROTOCOL = 'ipv6';

function checkIpv6(buf: Uint8Array, quoted: boolean): ParseResult<never> | undefined {
  if (buf.length < IPV6_HEADER_LENGTH) {
    return malformed(PROTOCOL, 'truncated', `${buf.length} bytes, the IPv6 header needs 40`);
  }
  const version = buf[0]! >>> 4;
  if (version !== 6) return malformed(PROTOCOL, 'bad-version', `version ${version}`);
  const payloadLength = (buf[4]! << 8) | buf[5]!;
  // A packet quoted in an ICMPv6 error is cut to fit the minimum MTU (RFC 4443 §2.4(c)).
  if (!quoted && IPV6_HEADER_LENGTH + payloadLength > buf.length) {
    return malformed(
      PROTOCOL,
      'bad-total-length',
      `payload length ${payloadLength} > ${buf.length - IPV6_HEADER_LENGTH} bytes received`,
    );
  }
  return undefined;
}

/** Zero-copy typed access to a checked IPv6 header and its payload. */
export class Ipv6View {
  private constructor(readonly bytes: Uint8Array) {}

  /** Checks the length and version once. */
  static fromBytes(buf: Uint8Array): ParseResult<Ipv6View> {
    return checkIpv6(buf, false) ?? parsed(new Ipv6View(buf));
  }

  get version(): number {
    return this.bytes[0]! >>> 4;
  }

  get trafficClass(): number {
    return ((this.bytes[0]! & 0x0f) << 4) | (this.bytes[1]! >>> 4);
  }

  get flowLabel(): number {
    return ((this.bytes[1]! & 0x0f) << 16) | (this.bytes[2]! << 8) | this.bytes[3]!;
  }

  get payloadLength(): number {
    return (this.bytes[4]! << 8) | this.bytes[5]!;
  }

  get nextHeader(): number {
    return this.bytes[6]!;
  }

  get hopLimit(): number {
    return this.bytes[7]!;
  }

  get src(): Ipv6Address {
    return readIpv6(this.bytes, 8);
  }

  get dst(): Ipv6Address {
    return readIpv6(this.bytes, 24);
  }

  get payload(): Uint8Array {
    return this.bytes.subarray(IPV6_HEADER_LENGTH, IPV6_HEADER_LENGTH + this.payloadLength);
  }

  /**
   * Decrements Hop Limit in place for forwarding (RFC 8200 §3: "decremented by 1 by each node that
   * forwards the packet"). Returns the new value; a Hop Limit already 0 is left alone.
   */
  decrementHopLimit(): number {
    const hopLimit = this.bytes[7]!;
    if (hopLimit === 0) return 0;
    this.bytes[7] = hopLimit - 1;
    return hopLimit - 1;
  }
}

function readPacket(buf: Uint8Array, payloadEnd: number): Ipv6Packet {
  return {
    trafficClass: ((buf[0]! & 0x0f) << 4) | (buf[1]! >>> 4),
    flowLabel: ((buf[1]! & 0x0f) << 16) | (buf[2]! << 8) | buf[3]!,
    payloadLength: (buf[4]! << 8) | buf[5]!,
    nextHeader: buf[6]!,
    hopLimit: buf[7]!,
    src: readIpv6(buf, 8),
    dst: readIpv6(buf, 24),
    payload: buf.subarray(IPV6_HEADER_LENGTH, payloadEnd),
  };
}

/**
 * Parses an IPv6 packet (an Ethernet payload, padding allowed after Payload Length). Checks 'truncated',
 * 'bad-version', then 'bad-total-length'. Never throws.
 */
export function parseIpv6(buf: Uint8Array): ParseResult<Ipv6Packet> {
  const error = checkIpv6(buf, false);
  if (error) return error;
  return parsed(readPacket(buf, IPV6_HEADER_LENGTH + ((buf[4]! << 8) | buf[5]!)));
}

/**
 * Parses the packet quoted in an ICMPv6 error: Payload Length may exceed what was quoted; `payload` is
 * what is there. Never throws.
 */
export function parseQuotedIpv6(buf: Uint8Array): ParseResult<Ipv6Packet> {
  const error = checkIpv6(buf, true);
  if (error) return error;
  const end = Math.min(IPV6_HEADER_LENGTH + ((buf[4]! << 8) | buf[5]!), buf.length);
  return parsed(readPacket(buf, end));
}

/** Writes the 40-byte header for a payload of `payloadLength` bytes at `offset`; returns 40. */
export function emitIpv6Header(
  h: Ipv6Header,
  payloadLength: number,
  buf: Uint8Array,
  offset: number,
): number {
  requireValid(
    payloadLength >= 0 && payloadLength <= IPV6_MAX_PAYLOAD_LENGTH,
    `ipv6: payload of ${payloadLength} bytes exceeds 65535 (jumbograms are not supported)`,
  );
  requireSpace(buf, offset, IPV6_HEADER_LENGTH, 'ipv6 header');
  const flowLabel = h.flowLabel & 0xfffff;
  buf[offset] = 0x60 | ((h.trafficClass >>> 4) & 0x0f);
  buf[offset + 1] = ((h.trafficClass & 0x0f) << 4) | (flowLabel >>> 16);
  buf[offset + 2] = flowLabel >>> 8;
  buf[offset + 3] = flowLabel;
  buf[offset + 4] = payloadLength >>> 8;
  buf[offset + 5] = payloadLength;
  buf[offset + 6] = h.nextHeader;
  buf[offset + 7] = h.hopLimit;
  writeIpv6(buf, offset + 8, h.src);
  writeIpv6(buf, offset + 24, h.dst);
  return IPV6_HEADER_LENGTH;
}
