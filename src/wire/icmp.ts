/**
 * ICMPv4 messages (RFC 792), with the destination-unreachable codes of RFC 792, RFC 1122 §3.2.2.1 and
 * RFC 1812 §5.2.7.1, and the Next-Hop MTU of "fragmentation needed" (RFC 1191 §4).
 *
 * Every message starts with type, code and a checksum over the whole ICMP message (RFC 792). The four
 * bytes after the checksum depend on the type: identifier and sequence number for echo, the next-hop MTU
 * (low 16 bits) for fragmentation needed, unused otherwise. Error messages then quote the offending
 * datagram's IP header and at least its first 8 data bytes.
 *
 * Types this stack does not interpret are kept as `kind: 'other'` with their raw 4-byte word and body,
 * so they can be counted, traced and re-emitted unchanged.
 */

import { checksumAdd, checksumFinish, internetChecksum } from './checksum.js';
import { copyInto, requireSpace } from './emit-buffer.js';
import { malformed, type ParseResult, parsed } from './parse-result.js';

export const ICMP_HEADER_LENGTH = 8;

export const ICMP_ECHO_REPLY = 0;
export const ICMP_DESTINATION_UNREACHABLE = 3;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_TIME_EXCEEDED = 11;
/** RFC 792: a header field the receiver could not process; the pointer names the octet. */
export const ICMP_PARAMETER_PROBLEM = 12;

/** Destination unreachable codes. */
export const ICMP_NET_UNREACHABLE = 0;
export const ICMP_HOST_UNREACHABLE = 1;
export const ICMP_PROTOCOL_UNREACHABLE = 2;
export const ICMP_PORT_UNREACHABLE = 3;
export const ICMP_FRAGMENTATION_NEEDED = 4;
export const ICMP_SOURCE_ROUTE_FAILED = 5;
export const ICMP_DESTINATION_NETWORK_UNKNOWN = 6;
export const ICMP_DESTINATION_HOST_UNKNOWN = 7;
export const ICMP_SOURCE_HOST_ISOLATED = 8;
export const ICMP_NETWORK_ADMINISTRATIVELY_PROHIBITED = 9;
export const ICMP_HOST_ADMINISTRATIVELY_PROHIBITED = 10;
export const ICMP_NETWORK_UNREACHABLE_FOR_TOS = 11;
export const ICMP_HOST_UNREACHABLE_FOR_TOS = 12;
export const ICMP_COMMUNICATION_ADMINISTRATIVELY_PROHIBITED = 13;
export const ICMP_HOST_PRECEDENCE_VIOLATION = 14;
export const ICMP_PRECEDENCE_CUTOFF_IN_EFFECT = 15;

/** Time exceeded codes. */
export const ICMP_TTL_EXCEEDED_IN_TRANSIT = 0;
export const ICMP_FRAGMENT_REASSEMBLY_TIME_EXCEEDED = 1;

export interface IcmpEcho {
  kind: 'echo-request' | 'echo-reply';
  identifier: number;
  sequence: number;
  /** Echo data; a view. A reply must return it unchanged (RFC 792). */
  data: Uint8Array;
}

export interface IcmpDestinationUnreachable {
  kind: 'destination-unreachable';
  /** ICMP_NET_UNREACHABLE ... ICMP_PRECEDENCE_CUTOFF_IN_EFFECT. */
  code: number;
  /**
   * Next-Hop MTU of code 4 (RFC 1191 §4); 0 when the router predates RFC 1191 or for any other code
   * (the field is unused there and emitted as zero).
   */
  nextHopMtu: number;
  /** The quoted datagram: its IP header and leading data; a view. See `parseQuotedIpv4`. */
  original: Uint8Array;
}

export interface IcmpTimeExceeded {
  kind: 'time-exceeded';
  /** ICMP_TTL_EXCEEDED_IN_TRANSIT or ICMP_FRAGMENT_REASSEMBLY_TIME_EXCEEDED. */
  code: number;
  original: Uint8Array;
}

export interface IcmpOther {
  kind: 'other';
  type: number;
  code: number;
  /** The 32 bits after the checksum, as an unsigned number. */
  restOfHeader: number;
  body: Uint8Array;
}

export type IcmpMessage = IcmpEcho | IcmpDestinationUnreachable | IcmpTimeExceeded | IcmpOther;

export interface IcmpParseOptions {
  /** Verify the checksum (default true). */
  verifyChecksum?: boolean;
}

const PROTOCOL = 'icmp';

function checkIcmp(buf: Uint8Array): ParseResult<never> | undefined {
  if (buf.length < ICMP_HEADER_LENGTH) {
    return malformed(PROTOCOL, 'truncated', `${buf.length} bytes, an ICMP message needs at least 8`);
  }
  return undefined;
}

/**
 * The header ICMP and ICMPv6 share (RFC 792, RFC 4443 §2.1): type, code, checksum, 32 bits of
 * type-specific data, then the body. Views of either version extend it.
 */
export abstract class IcmpHeaderView {
  protected constructor(readonly bytes: Uint8Array) {}

  get type(): number {
    return this.bytes[0]!;
  }

  get code(): number {
    return this.bytes[1]!;
  }

  get checksum(): number {
    return (this.bytes[2]! << 8) | this.bytes[3]!;
  }

  /** The 32 bits after the checksum. */
  get restOfHeader(): number {
    return ((this.bytes[4]! << 24) | (this.bytes[5]! << 16) | (this.bytes[6]! << 8) | this.bytes[7]!) >>> 0;
  }

  /** What follows the 8-byte header. */
  get body(): Uint8Array {
    return this.bytes.subarray(ICMP_HEADER_LENGTH);
  }
}

/** Zero-copy typed access to a checked ICMP message (the whole IPv4 payload). */
export class IcmpView extends IcmpHeaderView {
  private constructor(bytes: Uint8Array) {
    super(bytes);
  }

  static fromBytes(buf: Uint8Array): ParseResult<IcmpView> {
    return checkIcmp(buf) ?? parsed(new IcmpView(buf));
  }

  /** Echo identifier (first half of the rest of header). */
  get identifier(): number {
    return (this.bytes[4]! << 8) | this.bytes[5]!;
  }

  /** Echo sequence number, or the Next-Hop MTU of fragmentation needed (second half). */
  get sequence(): number {
    return (this.bytes[6]! << 8) | this.bytes[7]!;
  }

  /** Next-Hop MTU of a fragmentation-needed message (RFC 1191 §4); the same bits as `sequence`. */
  get nextHopMtu(): number {
    return (this.bytes[6]! << 8) | this.bytes[7]!;
  }

  checksumValid(): boolean {
    return internetChecksum(this.bytes, 0, this.bytes.length) === 0;
  }
}

/**
 * Parses an ICMP message: `buf` is the IPv4 payload (the checksum covers all of it). Checks 'truncated'
 * then 'bad-checksum'. Unknown types become `kind: 'other'`. Never throws.
 */
export function parseIcmp(buf: Uint8Array, options?: IcmpParseOptions): ParseResult<IcmpMessage> {
  const error = checkIcmp(buf);
  if (error) return error;
  if (options?.verifyChecksum !== false && internetChecksum(buf, 0, buf.length) !== 0) {
    const field = (buf[2]! << 8) | buf[3]!;
    return malformed(PROTOCOL, 'bad-checksum', `checksum 0x${field.toString(16).padStart(4, '0')}`);
  }
  const type = buf[0]!;
  const code = buf[1]!;
  const high = (buf[4]! << 8) | buf[5]!;
  const low = (buf[6]! << 8) | buf[7]!;
  const body = buf.subarray(ICMP_HEADER_LENGTH);
  switch (type) {
    case ICMP_ECHO_REQUEST:
    case ICMP_ECHO_REPLY:
      return parsed({
        kind: type === ICMP_ECHO_REQUEST ? 'echo-request' : 'echo-reply',
        identifier: high,
        sequence: low,
        data: body,
      });
    case ICMP_DESTINATION_UNREACHABLE:
      return parsed({
        kind: 'destination-unreachable',
        code,
        nextHopMtu: code === ICMP_FRAGMENTATION_NEEDED ? low : 0,
        original: body,
      });
    case ICMP_TIME_EXCEEDED:
      return parsed({ kind: 'time-exceeded', code, original: body });
    default:
      return parsed({ kind: 'other', type, code, restOfHeader: ((high << 16) | low) >>> 0, body });
  }
}

/** Bytes `emitIcmp` writes for this message. */
export function icmpLength(m: IcmpMessage): number {
  switch (m.kind) {
    case 'echo-request':
    case 'echo-reply':
      return ICMP_HEADER_LENGTH + m.data.length;
    case 'destination-unreachable':
    case 'time-exceeded':
      return ICMP_HEADER_LENGTH + m.original.length;
    case 'other':
      return ICMP_HEADER_LENGTH + m.body.length;
  }
}

/** Writes the whole message with its checksum at `offset` and returns its length. */
export function emitIcmp(m: IcmpMessage, buf: Uint8Array, offset: number): number {
  const length = icmpLength(m);
  requireSpace(buf, offset, length, 'icmp message');
  let type: number;
  let code: number;
  let restOfHeader: number;
  let body: Uint8Array;
  switch (m.kind) {
    case 'echo-request':
    case 'echo-reply':
      type = m.kind === 'echo-request' ? ICMP_ECHO_REQUEST : ICMP_ECHO_REPLY;
      code = 0;
      restOfHeader = (((m.identifier & 0xffff) << 16) | (m.sequence & 0xffff)) >>> 0;
      body = m.data;
      break;
    case 'destination-unreachable':
      type = ICMP_DESTINATION_UNREACHABLE;
      code = m.code;
      restOfHeader = m.code === ICMP_FRAGMENTATION_NEEDED ? m.nextHopMtu & 0xffff : 0;
      body = m.original;
      break;
    case 'time-exceeded':
      type = ICMP_TIME_EXCEEDED;
      code = m.code;
      restOfHeader = 0;
      body = m.original;
      break;
    case 'other':
      type = m.type;
      code = m.code;
      restOfHeader = m.restOfHeader;
      body = m.body;
      break;
  }
  buf[offset] = type;
  buf[offset + 1] = code;
  buf[offset + 2] = 0;
  buf[offset + 3] = 0;
  buf[offset + 4] = restOfHeader >>> 24;
  buf[offset + 5] = restOfHeader >>> 16;
  buf[offset + 6] = restOfHeader >>> 8;
  buf[offset + 7] = restOfHeader;
  copyInto(body, buf, offset + ICMP_HEADER_LENGTH);
  const sum = checksumFinish(checksumAdd(0, buf, offset, length));
  buf[offset + 2] = sum >>> 8;
  buf[offset + 3] = sum;
  return length;
}
