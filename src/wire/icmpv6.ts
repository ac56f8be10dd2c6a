/**
 * ICMPv6 (RFC 4443) with the Neighbor Discovery messages of RFC 4861 §4 and the Multicast Listener
 * Discovery messages of RFC 2710 (MLDv1) and RFC 3810 (MLDv2).
 *
 * Every message starts with type, code and a checksum over an IPv6 pseudo-header (RFC 4443 §2.3, RFC 8200
 * §8.1) and the whole message, so parsing and emitting need the packet's addresses. Error messages (types
 * 0-127) quote as much of the offending packet as fits the minimum MTU; informational messages (128-255)
 * carry their own bodies. Types this stack does not interpret are kept as `kind: 'other'`; an unknown
 * error type must still reach the upper layer (RFC 4443 §2.4(d)), which is why `isIcmpv6Error` exists.
 */

import { checksumAdd, checksumFinish, pseudoHeaderSum } from './checksum.js';
import { copyInto, requireSpace, requireValid } from './emit-buffer.js';
import { IcmpHeaderView } from './icmp.js';
import { IPV6_NEXT_ICMPV6 } from './ipv6.js';
import { type Ipv6Address, readIpv6, writeIpv6 } from './ipv6-address.js';
import { emitNdpOptions, type NdpOption, ndpOptionsLength, parseNdpOptions } from './ndp.js';
import { malformed, type ParseResult, parsed } from './parse-result.js';

export const ICMPV6_HEADER_LENGTH = 8;
/** The shortest MLDv2 query (RFC 3810 §5.1), no sources; MLDv1 queries are 24 bytes. */
const MLDV2_QUERY_LENGTH = 28;

/** MLDv2's Maximum Response Code in milliseconds: itself below 32768, else exponent and mantissa (§5.1.3). */
export function mldMaxResponseDelay(code: number): number {
  if (code < 32768) return code;
  return ((code & 0x0fff) | 0x1000) << (((code >>> 12) & 0x07) + 3);
}

export const ICMPV6_DESTINATION_UNREACHABLE = 1;
export const ICMPV6_PACKET_TOO_BIG = 2;
export const ICMPV6_TIME_EXCEEDED = 3;
export const ICMPV6_PARAMETER_PROBLEM = 4;
export const ICMPV6_ECHO_REQUEST = 128;
export const ICMPV6_ECHO_REPLY = 129;
export const ICMPV6_MLD_QUERY = 130;
export const ICMPV6_MLD_REPORT = 131;
export const ICMPV6_MLD_DONE = 132;
export const ICMPV6_ROUTER_SOLICITATION = 133;
export const ICMPV6_ROUTER_ADVERTISEMENT = 134;
export const ICMPV6_NEIGHBOR_SOLICITATION = 135;
export const ICMPV6_NEIGHBOR_ADVERTISEMENT = 136;
export const ICMPV6_REDIRECT = 137;
export const ICMPV6_MLDV2_REPORT = 143;

/** Destination Unreachable codes (RFC 4443 §3.1). */
export const ICMPV6_NO_ROUTE = 0;
export const ICMPV6_ADMINISTRATIVELY_PROHIBITED = 1;
export const ICMPV6_BEYOND_SCOPE = 2;
export const ICMPV6_ADDRESS_UNREACHABLE = 3;
export const ICMPV6_PORT_UNREACHABLE = 4;
export const ICMPV6_SOURCE_POLICY_FAILED = 5;
export const ICMPV6_REJECT_ROUTE = 6;

/** Time Exceeded codes (RFC 4443 §3.3). */
export const ICMPV6_HOP_LIMIT_EXCEEDED = 0;
export const ICMPV6_REASSEMBLY_TIME_EXCEEDED = 1;

/** Parameter Problem codes (RFC 4443 §3.4, RFC 7112 §3). */
export const ICMPV6_ERRONEOUS_HEADER_FIELD = 0;
export const ICMPV6_UNRECOGNIZED_NEXT_HEADER = 1;
export const ICMPV6_UNRECOGNIZED_OPTION = 2;
export const ICMPV6_INCOMPLETE_HEADER_CHAIN = 3;

/** MLDv2 multicast address record types (RFC 3810 §5.2.12). */
export const MLD_MODE_IS_INCLUDE = 1;
export const MLD_MODE_IS_EXCLUDE = 2;
export const MLD_CHANGE_TO_INCLUDE = 3;
export const MLD_CHANGE_TO_EXCLUDE = 4;

export interface Icmpv6Echo {
  kind: 'echo-request' | 'echo-reply';
  identifier: number;
  sequence: number;
  /** Echo data; a view. A reply returns it unchanged (RFC 4443 §4.2). */
  data: Uint8Array;
}

export interface Icmpv6Error {
  kind: 'destination-unreachable' | 'time-exceeded';
  code: number;
  /** The quoted packet (see `parseQuotedIpv6`); a view. */
  original: Uint8Array;
}

export interface Icmpv6PacketTooBig {
  kind: 'packet-too-big';
  /** The next-hop link's MTU (RFC 4443 §3.2). */
  mtu: number;
  original: Uint8Array;
}

export interface Icmpv6ParameterProblem {
  kind: 'parameter-problem';
  code: number;
  /** Offset in the original packet of the octet where the problem was found. */
  pointer: number;
  original: Uint8Array;
}

export interface Icmpv6RouterSolicitation {
  kind: 'router-solicitation';
  options: NdpOption[];
}

export interface Icmpv6RouterAdvertisement {
  kind: 'router-advertisement';
  /** 0 means unspecified (RFC 4861 §4.2). */
  curHopLimit: number;
  managed: boolean;
  other: boolean;
  /** Seconds; 0 means "not a default router". */
  routerLifetime: number;
  /** Milliseconds; 0 means unspecified. */
  reachableTime: number;
  /** Milliseconds; 0 means unspecified. */
  retransTimer: number;
  options: NdpOption[];
}

export interface Icmpv6NeighborSolicitation {
  kind: 'neighbor-solicitation';
  target: Ipv6Address;
  options: NdpOption[];
}

export interface Icmpv6NeighborAdvertisement {
  kind: 'neighbor-advertisement';
  router: boolean;
  solicited: boolean;
  override: boolean;
  target: Ipv6Address;
  options: NdpOption[];
}

export interface Icmpv6Redirect {
  kind: 'redirect';
  /** The better first hop. */
  target: Ipv6Address;
  /** The destination being redirected. */
  destination: Ipv6Address;
  options: NdpOption[];
}

export interface Icmpv6MldV1 {
  kind: 'mld-query' | 'mld-report' | 'mld-done';
  /** Maximum Response Delay in milliseconds (queries; 0 in reports), decoded from MLDv2's code. */
  maxResponseDelay: number;
  /** The group; unspecified (::) in a general query. */
  group: Ipv6Address;
  /**
   * An MLDv2 query (28 bytes or more, RFC 3810 §8.1 tells the versions apart by length): the sources of
   * a group-and-source-specific query (empty for the others). Absent: an MLDv1 message.
   */
  sources?: Ipv6Address[];
}

export interface MldAddressRecord {
  recordType: number;
  group: Ipv6Address;
  sources: Ipv6Address[];
}

export interface Icmpv6MldV2Report {
  kind: 'mldv2-report';
  records: MldAddressRecord[];
}

export interface Icmpv6Other {
  kind: 'other';
  type: number;
  code: number;
  restOfHeader: number;
  body: Uint8Array;
}

export type Icmpv6Message =
  | Icmpv6Echo
  | Icmpv6Error
  | Icmpv6PacketTooBig
  | Icmpv6ParameterProblem
  | Icmpv6RouterSolicitation
  | Icmpv6RouterAdvertisement
  | Icmpv6NeighborSolicitation
  | Icmpv6NeighborAdvertisement
  | Icmpv6Redirect
  | Icmpv6MldV1
  | Icmpv6MldV2Report
  | Icmpv6Other;

export interface Icmpv6ParseOptions {
  /** Verify the checksum (default true). */
  verifyChecksum?: boolean;
}

/** Types 0-127 are errors (RFC 4443 §2.1). */
export function isIcmpv6Error(type: number): boolean {
  return type < 128;
}

const PROTOCOL = 'icmpv6';

function u32(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

function putU32(b: Uint8Array, i: number, v: number): void {
  b[i] = v >>> 24;
  b[i + 1] = v >>> 16;
  b[i + 2] = v >>> 8;
  b[i + 3] = v;
}

function checksumOk(buf: Uint8Array, src: Ipv6Address, dst: Ipv6Address): boolean {
  const sum = pseudoHeaderSum(src, dst, IPV6_NEXT_ICMPV6, buf.length);
  return checksumFinish(checksumAdd(sum, buf, 0, buf.length)) === 0;
}

/** Zero-copy typed access to an ICMPv6 message's common header. */
export class Icmpv6View extends IcmpHeaderView {
  private constructor(bytes: Uint8Array) {
    super(bytes);
  }

  static fromBytes(buf: Uint8Array): ParseResult<Icmpv6View> {
    if (buf.length < ICMPV6_HEADER_LENGTH) {
      return malformed(PROTOCOL, 'truncated', `${buf.length} bytes, an ICMPv6 message needs at least 8`);
    }
    return parsed(new Icmpv6View(buf));
  }

  checksumValid(src: Ipv6Address, dst: Ipv6Address): boolean {
    return checksumOk(this.bytes, src, dst);
  }
}

function needs(type: string, length: number, have: number): ParseResult<never> | undefined {
  if (have >= length) return undefined;
  return malformed(PROTOCOL, 'truncated', `${type} of ${have} bytes, needs ${length}`);
}

function withOptions(
  make: (options: NdpOption[]) => Icmpv6Message,
  optionBytes: Uint8Array,
): ParseResult<Icmpv6Message> {
  const options = parseNdpOptions(optionBytes);
  if (!options.ok) return options;
  return parsed(make(options.value));
}

function parseMldV2Report(buf: Uint8Array): ParseResult<Icmpv6MldV2Report> {
  const count = (buf[6]! << 8) | buf[7]!;
  const records: MldAddressRecord[] = [];
  let i = ICMPV6_HEADER_LENGTH;
  for (let r = 0; r < count; r++) {
    if (i + 20 > buf.length) return malformed(PROTOCOL, 'truncated', `MLDv2 record ${r} cut at ${i}`);
    const auxLength = buf[i + 1]! * 4;
    const sourceCount = (buf[i + 2]! << 8) | buf[i + 3]!;
    const end = i + 20 + sourceCount * 16 + auxLength;
    if (end > buf.length)
      return malformed(PROTOCOL, 'truncated', `MLDv2 record ${r} runs past ${buf.length}`);
    const sources: Ipv6Address[] = [];
    for (let s = 0; s < sourceCount; s++) sources.push(readIpv6(buf, i + 20 + s * 16));
    records.push({ recordType: buf[i]!, group: readIpv6(buf, i + 4), sources });
    i = end;
  }
  return parsed({ kind: 'mldv2-report', records });
}

/**
 * Parses an ICMPv6 message: `buf` is the upper-layer payload, `src`/`dst` the packet's addresses for the
 * pseudo-header. Checks 'truncated', 'bad-checksum', then the message's own layout ('truncated',
 * 'bad-option' for NDP options). Unknown types and codes become `kind: 'other'`. Never throws.
 *
 * Validity rules of the receiver (hop limit 255 for NDP, RFC 4861 §6.1.1 and §7.1.1; code 0) are checked
 * by the layer that acts on the message, not here.
 */
export function parseIcmpv6(
  buf: Uint8Array,
  src: Ipv6Address,
  dst: Ipv6Address,
  options?: Icmpv6ParseOptions,
): ParseResult<Icmpv6Message> {
  if (buf.length < ICMPV6_HEADER_LENGTH) {
    return malformed(PROTOCOL, 'truncated', `${buf.length} bytes, an ICMPv6 message needs at least 8`);
  }
  if (options?.verifyChecksum !== false && !checksumOk(buf, src, dst)) {
    const field = (buf[2]! << 8) | buf[3]!;
    return malformed(PROTOCOL, 'bad-checksum', `checksum 0x${field.toString(16).padStart(4, '0')}`);
  }
  const type = buf[0]!;
  const code = buf[1]!;
  const rest = u32(buf, 4);
  const body = buf.subarray(ICMPV6_HEADER_LENGTH);
  const other = (): ParseResult<Icmpv6Message> =>
    parsed({ kind: 'other', type, code, restOfHeader: rest, body });
  switch (type) {
    case ICMPV6_ECHO_REQUEST:
    case ICMPV6_ECHO_REPLY:
      return parsed({
        kind: type === ICMPV6_ECHO_REQUEST ? 'echo-request' : 'echo-reply',
        identifier: rest >>> 16,
        sequence: rest & 0xffff,
        data: body,
      });
    case ICMPV6_DESTINATION_UNREACHABLE:
      return parsed({ kind: 'destination-unreachable', code, original: body });
    case ICMPV6_TIME_EXCEEDED:
      return parsed({ kind: 'time-exceeded', code, original: body });
    case ICMPV6_PACKET_TOO_BIG:
      return parsed({ kind: 'packet-too-big', mtu: rest, original: body });
    case ICMPV6_PARAMETER_PROBLEM:
      return parsed({ kind: 'parameter-problem', code, pointer: rest, original: body });
    case ICMPV6_ROUTER_SOLICITATION:
      return withOptions((o) => ({ kind: 'router-solicitation', options: o }), body);
    case ICMPV6_ROUTER_ADVERTISEMENT:
      return (
        needs('router advertisement', 16, buf.length) ??
        withOptions(
          (o) => ({
            kind: 'router-advertisement',
            curHopLimit: buf[4]!,
            managed: (buf[5]! & 0x80) !== 0,
            other: (buf[5]! & 0x40) !== 0,
            routerLifetime: (buf[6]! << 8) | buf[7]!,
            reachableTime: u32(buf, 8),
            retransTimer: u32(buf, 12),
            options: o,
          }),
          buf.subarray(16),
        )
      );
    case ICMPV6_NEIGHBOR_SOLICITATION:
      return (
        needs('neighbor solicitation', 24, buf.length) ??
        withOptions(
          (o) => ({ kind: 'neighbor-solicitation', target: readIpv6(buf, 8), options: o }),
          buf.subarray(24),
        )
      );
    case ICMPV6_NEIGHBOR_ADVERTISEMENT:
      return (
        needs('neighbor advertisement', 24, buf.length) ??
        withOptions(
          (o) => ({
            kind: 'neighbor-advertisement',
            router: (buf[4]! & 0x80) !== 0,
            solicited: (buf[4]! & 0x40) !== 0,
            override: (buf[4]! & 0x20) !== 0,
            target: readIpv6(buf, 8),
            options: o,
          }),
          buf.subarray(24),
        )
      );
    case ICMPV6_REDIRECT:
      return (
        needs('redirect', 40, buf.length) ??
        withOptions(
          (o) => ({ kind: 'redirect', target: readIpv6(buf, 8), destination: readIpv6(buf, 24), options: o }),
          buf.subarray(40),
        )
      );
    case ICMPV6_MLD_QUERY:
    case ICMPV6_MLD_REPORT:
    case ICMPV6_MLD_DONE: {
      const short = needs('MLD message', 24, buf.length);
      if (short) return short;
      const kind =
        type === ICMPV6_MLD_QUERY ? 'mld-query' : type === ICMPV6_MLD_REPORT ? 'mld-report' : 'mld-done';
      const group = readIpv6(buf, 8);
      if (kind !== 'mld-query' || buf.length < MLDV2_QUERY_LENGTH)
        return parsed({ kind, maxResponseDelay: rest >>> 16, group });
      // RFC 3810 §5.1: S/QRV, QQIC, Number of Sources, then the sources.
      const count = (buf[26]! << 8) | buf[27]!;
      if (MLDV2_QUERY_LENGTH + count * 16 > buf.length)
        return malformed(PROTOCOL, 'truncated', `MLDv2 query lists ${count} sources past its end`);
      const sources: Ipv6Address[] = [];
      for (let i = 0; i < count; i++) sources.push(readIpv6(buf, MLDV2_QUERY_LENGTH + i * 16));
      return parsed({ kind, maxResponseDelay: mldMaxResponseDelay(rest >>> 16), group, sources });
    }
    case ICMPV6_MLDV2_REPORT:
      return parseMldV2Report(buf);
    default:
      return other();
  }
}

function mldV2ReportLength(m: Icmpv6MldV2Report): number {
  let length = ICMPV6_HEADER_LENGTH;
  for (const record of m.records) length += 20 + record.sources.length * 16;
  return length;
}

/** Bytes `emitIcmpv6` writes for this message. */
export function icmpv6Length(m: Icmpv6Message): number {
  switch (m.kind) {
    case 'echo-request':
    case 'echo-reply':
      return ICMPV6_HEADER_LENGTH + m.data.length;
    case 'destination-unreachable':
    case 'time-exceeded':
    case 'packet-too-big':
    case 'parameter-problem':
      return ICMPV6_HEADER_LENGTH + m.original.length;
    case 'router-solicitation':
      return ICMPV6_HEADER_LENGTH + ndpOptionsLength(m.options);
    case 'router-advertisement':
      return 16 + ndpOptionsLength(m.options);
    case 'neighbor-solicitation':
    case 'neighbor-advertisement':
      return 24 + ndpOptionsLength(m.options);
    case 'redirect':
      return 40 + ndpOptionsLength(m.options);
    case 'mld-query':
    case 'mld-report':
    case 'mld-done':
      return m.kind === 'mld-query' && m.sources !== undefined
        ? MLDV2_QUERY_LENGTH + m.sources.length * 16
        : 24;
    case 'mldv2-report':
      return mldV2ReportLength(m);
    case 'other':
      return ICMPV6_HEADER_LENGTH + m.body.length;
  }
}

const MLD_TYPES = {
  'mld-query': ICMPV6_MLD_QUERY,
  'mld-report': ICMPV6_MLD_REPORT,
  'mld-done': ICMPV6_MLD_DONE,
};

/** Writes the type-specific part after the checksum; returns [type, code]. */
function writeBody(m: Icmpv6Message, buf: Uint8Array, o: number): [number, number] {
  switch (m.kind) {
    case 'echo-request':
    case 'echo-reply':
      putU32(buf, o + 4, (((m.identifier & 0xffff) << 16) | (m.sequence & 0xffff)) >>> 0);
      copyInto(m.data, buf, o + 8);
      return [m.kind === 'echo-request' ? ICMPV6_ECHO_REQUEST : ICMPV6_ECHO_REPLY, 0];
    case 'destination-unreachable':
    case 'time-exceeded':
      putU32(buf, o + 4, 0);
      copyInto(m.original, buf, o + 8);
      return [
        m.kind === 'destination-unreachable' ? ICMPV6_DESTINATION_UNREACHABLE : ICMPV6_TIME_EXCEEDED,
        m.code,
      ];
    case 'packet-too-big':
      putU32(buf, o + 4, m.mtu);
      copyInto(m.original, buf, o + 8);
      return [ICMPV6_PACKET_TOO_BIG, 0];
    case 'parameter-problem':
      putU32(buf, o + 4, m.pointer);
      copyInto(m.original, buf, o + 8);
      return [ICMPV6_PARAMETER_PROBLEM, m.code];
    case 'router-solicitation':
      putU32(buf, o + 4, 0);
      emitNdpOptions(m.options, buf, o + 8);
      return [ICMPV6_ROUTER_SOLICITATION, 0];
    case 'router-advertisement':
      buf[o + 4] = m.curHopLimit;
      buf[o + 5] = (m.managed ? 0x80 : 0) | (m.other ? 0x40 : 0);
      buf[o + 6] = m.routerLifetime >>> 8;
      buf[o + 7] = m.routerLifetime;
      putU32(buf, o + 8, m.reachableTime);
      putU32(buf, o + 12, m.retransTimer);
      emitNdpOptions(m.options, buf, o + 16);
      return [ICMPV6_ROUTER_ADVERTISEMENT, 0];
    case 'neighbor-solicitation':
      putU32(buf, o + 4, 0);
      writeIpv6(buf, o + 8, m.target);
      emitNdpOptions(m.options, buf, o + 24);
      return [ICMPV6_NEIGHBOR_SOLICITATION, 0];
    case 'neighbor-advertisement':
      putU32(buf, o + 4, 0);
      buf[o + 4] = (m.router ? 0x80 : 0) | (m.solicited ? 0x40 : 0) | (m.override ? 0x20 : 0);
      writeIpv6(buf, o + 8, m.target);
      emitNdpOptions(m.options, buf, o + 24);
      return [ICMPV6_NEIGHBOR_ADVERTISEMENT, 0];
    case 'redirect':
      putU32(buf, o + 4, 0);
      writeIpv6(buf, o + 8, m.target);
      writeIpv6(buf, o + 24, m.destination);
      emitNdpOptions(m.options, buf, o + 40);
      return [ICMPV6_REDIRECT, 0];
    case 'mld-query':
    case 'mld-report':
    case 'mld-done':
      putU32(buf, o + 4, (Math.min(m.maxResponseDelay, 32767) & 0xffff) << 16);
      writeIpv6(buf, o + 8, m.group);
      if (m.kind === 'mld-query' && m.sources !== undefined) {
        // MLDv2 (RFC 3810 §5.1): QRV 2, QQIC 125 s, the sources.
        buf[o + 24] = 2;
        buf[o + 25] = 125;
        buf[o + 26] = m.sources.length >>> 8;
        buf[o + 27] = m.sources.length & 0xff;
        for (let i = 0; i < m.sources.length; i++)
          writeIpv6(buf, o + MLDV2_QUERY_LENGTH + i * 16, m.sources[i]!);
      }
      return [MLD_TYPES[m.kind], 0];
    case 'mldv2-report': {
      buf[o + 4] = 0;
      buf[o + 5] = 0;
      buf[o + 6] = m.records.length >>> 8;
      buf[o + 7] = m.records.length;
      let i = o + 8;
      for (const record of m.records) {
        buf[i] = record.recordType;
        buf[i + 1] = 0;
        buf[i + 2] = record.sources.length >>> 8;
        buf[i + 3] = record.sources.length;
        writeIpv6(buf, i + 4, record.group);
        i += 20;
        for (const source of record.sources) {
          writeIpv6(buf, i, source);
          i += 16;
        }
      }
      return [ICMPV6_MLDV2_REPORT, 0];
    }
    case 'other':
      putU32(buf, o + 4, m.restOfHeader);
      copyInto(m.body, buf, o + 8);
      return [m.type, m.code];
  }
}

/** Writes the whole message with its checksum over the IPv6 pseudo-header; returns its length. */
export function emitIcmpv6(
  m: Icmpv6Message,
  src: Ipv6Address,
  dst: Ipv6Address,
  buf: Uint8Array,
  offset: number,
): number {
  const length = icmpv6Length(m);
  requireValid(length <= 0xffff, `icmpv6: message of ${length} bytes exceeds 65535`);
  requireSpace(buf, offset, length, 'icmpv6 message');
  const [type, code] = writeBody(m, buf, offset);
  buf[offset] = type;
  buf[offset + 1] = code;
  buf[offset + 2] = 0;
  buf[offset + 3] = 0;
  const sum = checksumFinish(
    checksumAdd(pseudoHeaderSum(src, dst, IPV6_NEXT_ICMPV6, length), buf, offset, length),
  );
  buf[offset + 2] = sum >>> 8;
  buf[offset + 3] = sum;
  return length;
}
