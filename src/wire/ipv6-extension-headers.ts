/**
 * IPv6 extension headers (RFC 8200 §4): Hop-by-Hop Options (0), Routing (43), Fragment (44), Destination
 * Options (60), and the length rule of Authentication (51, RFC 4302 §2.2) so a chain through it can be
 * walked. Each header starts with Next Header; all but Fragment then give their length in 8-octet units
 * not counting the first 8 (Authentication: 4-octet units less 2).
 *
 * This module reads and writes the bytes. What to do with them — process Hop-by-Hop first, answer an
 * unknown option by its action bits, send Parameter Problem with a pointer — is the IPv6 layer's job, so
 * every header and option here carries its offset from the start of the IPv6 payload.
 */

import { copyInto, requireSpace, requireValid } from './emit-buffer.js';
import {
  IPV6_HEADER_LENGTH,
  IPV6_NEXT_AUTHENTICATION,
  IPV6_NEXT_DESTINATION_OPTIONS,
  IPV6_NEXT_FRAGMENT,
  IPV6_NEXT_HOP_BY_HOP,
  IPV6_NEXT_ROUTING,
} from './ipv6.js';
import { malformed, type ParseResult, parsed } from './parse-result.js';

export const IPV6_FRAGMENT_HEADER_LENGTH = 8;

/** Option types (RFC 8200 §4.2, RFC 2711, RFC 2675). */
export const IPV6_OPTION_PAD1 = 0;
export const IPV6_OPTION_PADN = 1;
export const IPV6_OPTION_ROUTER_ALERT = 5;
export const IPV6_OPTION_JUMBO = 0xc2;

const PROTOCOL = 'ipv6-extension';

/** True for the extension headers this module can measure. */
export function isIpv6ExtensionHeader(nextHeader: number): boolean {
  return (
    nextHeader === IPV6_NEXT_HOP_BY_HOP ||
    nextHeader === IPV6_NEXT_ROUTING ||
    nextHeader === IPV6_NEXT_FRAGMENT ||
    nextHeader === IPV6_NEXT_DESTINATION_OPTIONS ||
    nextHeader === IPV6_NEXT_AUTHENTICATION
  );
}

export interface Ipv6ExtensionHeader {
  /** Which header this is (its protocol number, the previous header's Next Header). */
  protocol: number;
  /** The protocol of what follows. */
  nextHeader: number;
  /** Where the header starts, counted from the start of the IPv6 payload. */
  offset: number;
  /** Its whole length in bytes. */
  length: number;
  /** The bytes after Next Header and the length byte; a view. */
  body: Uint8Array;
}

/**
 * Reads the extension header of type `protocol` at `offset` in the IPv6 payload. Checks 'truncated' (the
 * header or its declared length runs past the payload). Never throws.
 */
export function readIpv6ExtensionHeader(
  payload: Uint8Array,
  offset: number,
  protocol: number,
): ParseResult<Ipv6ExtensionHeader> {
  if (offset + 8 > payload.length) {
    return malformed(PROTOCOL, 'truncated', `header ${protocol} at ${offset} runs past ${payload.length}`);
  }
  let length: number;
  if (protocol === IPV6_NEXT_FRAGMENT) length = IPV6_FRAGMENT_HEADER_LENGTH;
  else if (protocol === IPV6_NEXT_AUTHENTICATION) length = (payload[offset + 1]! + 2) * 4;
  else length = (payload[offset + 1]! + 1) * 8;
  if (offset + length > payload.length) {
    return malformed(
      PROTOCOL,
      'truncated',
      `header ${protocol} of ${length} bytes at ${offset} runs past ${payload.length}`,
    );
  }
  return parsed({
    protocol,
    nextHeader: payload[offset]!,
    offset,
    length,
    body: payload.subarray(offset + 2, offset + length),
  });
}

export interface Ipv6HeaderChain {
  headers: Ipv6ExtensionHeader[];
  /** Next Header of the last extension header (or of the fixed header when there is none). */
  upperLayerProtocol: number;
  /** Where the upper-layer header starts in the IPv6 payload. */
  upperLayerOffset: number;
}

/**
 * Walks the extension headers from the fixed header's Next Header to the first protocol that is not one
 * (for inspection: the IPv6 layer walks step by step to apply RFC 8200 §4's rules as it goes). A chain
 * through a non-first Fragment header stops there, since what follows is only whole after reassembly.
 */
export function walkIpv6Headers(payload: Uint8Array, firstNextHeader: number): ParseResult<Ipv6HeaderChain> {
  const headers: Ipv6ExtensionHeader[] = [];
  let protocol = firstNextHeader;
  let offset = 0;
  while (isIpv6ExtensionHeader(protocol)) {
    const header = readIpv6ExtensionHeader(payload, offset, protocol);
    if (!header.ok) return header;
    headers.push(header.value);
    offset += header.value.length;
    protocol = header.value.nextHeader;
    if (header.value.protocol === IPV6_NEXT_FRAGMENT && parseIpv6FragmentHeader(header.value).offset > 0)
      break;
  }
  return parsed({ headers, upperLayerProtocol: protocol, upperLayerOffset: offset });
}

export interface Ipv6Option {
  type: number;
  /** Option data; a view. */
  data: Uint8Array;
  /** Offset of the option's type byte from the start of the IPv6 payload (Parameter Problem's pointer). */
  offset: number;
}

/**
 * What a node must do with an option it does not recognize, from the two high bits of its type
 * (RFC 8200 §4.2).
 */
export type Ipv6UnknownOptionAction =
  | 'skip'
  | 'discard'
  | 'discard-and-report'
  | 'discard-and-report-unicast';

export function ipv6UnknownOptionAction(type: number): Ipv6UnknownOptionAction {
  switch (type >>> 6) {
    case 0:
      return 'skip';
    case 1:
      return 'discard';
    case 2:
      return 'discard-and-report';
    default:
      return 'discard-and-report-unicast';
  }
}

/** RFC 8200 §4.2: the third-highest bit says whether option data may change en route. */
export function ipv6OptionMayChange(type: number): boolean {
  return (type & 0x20) !== 0;
}

/**
 * Parses the options of a Hop-by-Hop or Destination Options header, padding left out. Checks 'bad-option'
 * (an option running past the header). Never throws.
 */
export function parseIpv6Options(header: Ipv6ExtensionHeader): ParseResult<Ipv6Option[]> {
  const options: Ipv6Option[] = [];
  const bytes = header.body;
  let i = 0;
  while (i < bytes.length) {
    const type = bytes[i]!;
    if (type === IPV6_OPTION_PAD1) {
      i++;
      continue;
    }
    if (i + 2 > bytes.length || i + 2 + bytes[i + 1]! > bytes.length) {
      return malformed(
        PROTOCOL,
        'bad-option',
        `option ${type} at ${header.offset + 2 + i} runs past the header`,
      );
    }
    const length = bytes[i + 1]!;
    if (type !== IPV6_OPTION_PADN) {
      options.push({ type, data: bytes.subarray(i + 2, i + 2 + length), offset: header.offset + 2 + i });
    }
    i += 2 + length;
  }
  return parsed(options);
}

/** Bytes an options header needs for these options, padded to a multiple of 8 (RFC 8200 §4.3). */
export function ipv6OptionsHeaderLength(options: readonly Pick<Ipv6Option, 'data'>[]): number {
  let length = 2;
  for (const option of options) length += 2 + option.data.length;
  return (length + 7) & ~7;
}

/**
 * Writes a Hop-by-Hop or Destination Options header holding `options` in order, padded with Pad1/PadN to
 * a multiple of 8 bytes, and returns its length.
 */
export function emitIpv6OptionsHeader(
  nextHeader: number,
  options: readonly Pick<Ipv6Option, 'type' | 'data'>[],
  buf: Uint8Array,
  offset: number,
): number {
  const length = ipv6OptionsHeaderLength(options);
  requireValid(length <= 2048, `ipv6: options header of ${length} bytes exceeds 2048`);
  requireSpace(buf, offset, length, 'ipv6 options header');
  buf[offset] = nextHeader;
  buf[offset + 1] = length / 8 - 1;
  let i = offset + 2;
  for (const option of options) {
    requireValid(option.data.length <= 255, `ipv6: option ${option.type} data exceeds 255 bytes`);
    buf[i] = option.type;
    buf[i + 1] = option.data.length;
    copyInto(option.data, buf, i + 2);
    i += 2 + option.data.length;
  }
  const padding = offset + length - i;
  if (padding === 1) buf[i] = IPV6_OPTION_PAD1;
  else if (padding > 1) {
    buf[i] = IPV6_OPTION_PADN;
    buf[i + 1] = padding - 2;
    buf.fill(0, i + 2, offset + length);
  }
  return length;
}

export interface Ipv6FragmentHeader {
  nextHeader: number;
  /** Offset of this fragment's data in the fragmentable part, in bytes (a multiple of 8). */
  offset: number;
  moreFragments: boolean;
  identification: number;
}

/** The fields of a Fragment header (RFC 8200 §4.5) read by `readIpv6ExtensionHeader`. */
export function parseIpv6FragmentHeader(header: Ipv6ExtensionHeader): Ipv6FragmentHeader {
  const b = header.body;
  const offsetAndFlags = (b[0]! << 8) | b[1]!;
  return {
    nextHeader: header.nextHeader,
    offset: offsetAndFlags & 0xfff8,
    moreFragments: (offsetAndFlags & 1) === 1,
    identification: ((b[2]! << 24) | (b[3]! << 16) | (b[4]! << 8) | b[5]!) >>> 0,
  };
}

/** Writes an 8-byte Fragment header; returns 8. */
export function emitIpv6FragmentHeader(h: Ipv6FragmentHeader, buf: Uint8Array, offset: number): number {
  requireValid(
    h.offset % 8 === 0 && h.offset >= 0 && h.offset <= 0xfff8,
    `ipv6: fragment offset ${h.offset} is not a multiple of 8 in 0-65528`,
  );
  requireSpace(buf, offset, IPV6_FRAGMENT_HEADER_LENGTH, 'ipv6 fragment header');
  const offsetAndFlags = h.offset | (h.moreFragments ? 1 : 0);
  buf[offset] = h.nextHeader;
  buf[offset + 1] = 0;
  buf[offset + 2] = offsetAndFlags >>> 8;
  buf[offset + 3] = offsetAndFlags;
  buf[offset + 4] = h.identification >>> 24;
  buf[offset + 5] = h.identification >>> 16;
  buf[offset + 6] = h.identification >>> 8;
  buf[offset + 7] = h.identification;
  return IPV6_FRAGMENT_HEADER_LENGTH;
}

export interface Ipv6RoutingHeader {
  nextHeader: number;
  routingType: number;
  segmentsLeft: number;
  /** Type-specific data after Segments Left; a view. */
  data: Uint8Array;
}

/** The fields of a Routing header (RFC 8200 §4.4) read by `readIpv6ExtensionHeader`. */
export function parseIpv6RoutingHeader(header: Ipv6ExtensionHeader): Ipv6RoutingHeader {
  return {
    nextHeader: header.nextHeader,
    routingType: header.body[0]!,
    segmentsLeft: header.body[1]!,
    data: header.body.subarray(2),
  };
}

/** Offset of a payload position from the start of the IPv6 packet (Parameter Problem counts from there). */
export function pointerFromPayloadOffset(payloadOffset: number): number {
  return IPV6_HEADER_LENGTH + payloadOffset;
}
