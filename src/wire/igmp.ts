/**
 * IGMP (IP protocol 2): the Membership Query of every version and the IGMPv3 Membership Report (RFC 3376
 * §4), with which a host tells multicast routers which groups it receives, and from which sources.
 *
 * A query is 8 bytes in IGMPv1/v2 (RFC 2236 §2) and at least 12 in IGMPv3 (RFC 3376 §7.1 tells them
 * apart by length); its Max Resp Code is tenths of a second below 128 and a floating-point value above
 * (§4.1.1). A v3 report carries group records, each a record type, a group and a source list (§4.2.4).
 * Every message is covered by the Internet checksum of its own bytes (no pseudo-header).
 */

import { type Ipv4Address, readIpv4, writeIpv4 } from './address.js';
import { checksumAdd, checksumFinish } from './checksum.js';
import { malformed, type ParseResult, parsed } from './parse-result.js';

export const IP_PROTOCOL_IGMP = 2;
export const IGMP_MEMBERSHIP_QUERY = 0x11;
export const IGMPV1_MEMBERSHIP_REPORT = 0x12;
export const IGMPV2_MEMBERSHIP_REPORT = 0x16;
export const IGMPV2_LEAVE_GROUP = 0x17;
export const IGMPV3_MEMBERSHIP_REPORT = 0x22;
/** 224.0.0.22: every IGMPv3-capable multicast router; v3 reports go there (RFC 3376 §4.2.14). */
export const IGMPV3_ALL_ROUTERS = 0xe0_00_00_16;

/**
 * Group record types, shared with MLDv2 (RFC 3810 §5.2.12): the current state, in answer to a query
 * (MODE_IS_*), a filter mode change (CHANGE_TO_*), and a source list change (ALLOW/BLOCK).
 */
export const MODE_IS_INCLUDE = 1;
export const MODE_IS_EXCLUDE = 2;
export const CHANGE_TO_INCLUDE_MODE = 3;
export const CHANGE_TO_EXCLUDE_MODE = 4;
export const ALLOW_NEW_SOURCES = 5;
export const BLOCK_OLD_SOURCES = 6;

const PROTOCOL = 'igmp';
const QUERY_V2_LENGTH = 8;
const QUERY_V3_MIN_LENGTH = 12;
const REPORT_HEADER_LENGTH = 8;
const RECORD_HEADER_LENGTH = 8;

export interface IgmpQuery {
  kind: 'query';
  /** 1, 2 or 3: an 8-byte query with Max Resp Code 0 is IGMPv1's, other 8-byte ones IGMPv2's. */
  version: 1 | 2 | 3;
  /** The longest a host may wait before answering, in milliseconds (decoded Max Resp Code). */
  maxResponseMs: number;
  /** 0 in a general query. */
  group: Ipv4Address;
  /** v3: the sources of a group-and-source-specific query; else empty. */
  sources: Ipv4Address[];
}

export interface IgmpGroupRecord {
  recordType: number;
  group: Ipv4Address;
  sources: Ipv4Address[];
}

export interface IgmpV3Report {
  kind: 'v3-report';
  records: IgmpGroupRecord[];
}

/** IGMPv1/v2 reports and leaves (what other hosts on the link send): only their group is read. */
export interface IgmpOther {
  kind: 'other';
  type: number;
  group: Ipv4Address;
}

export type IgmpMessage = IgmpQuery | IgmpV3Report | IgmpOther;

/** Max Resp Code to milliseconds (RFC 3376 §4.1.1: an exponent and mantissa from 128 on). */
export function igmpMaxResponseMs(code: number): number {
  if (code < 128) return code * 100;
  const mantissa = code & 0x0f;
  const exponent = (code >>> 4) & 0x07;
  return ((mantissa | 0x10) << (exponent + 3)) * 100;
}

/** Parses one IGMP message (the IPv4 payload). Checks length and checksum; never throws. */
export function parseIgmp(buf: Uint8Array): ParseResult<IgmpMessage> {
  if (buf.length < QUERY_V2_LENGTH)
    return malformed(PROTOCOL, 'truncated', `${buf.length} bytes, IGMP needs at least 8`);
  if (checksumFinish(checksumAdd(0, buf, 0, buf.length)) !== 0)
    return malformed(PROTOCOL, 'bad-checksum', 'IGMP checksum does not verify');
  const type = buf[0]!;
  if (type === IGMP_MEMBERSHIP_QUERY) {
    const group = readIpv4(buf, 4);
    if (buf.length === QUERY_V2_LENGTH) {
      // RFC 3376 §7.1: Max Resp Code 0 means IGMPv1 (which answers within 10 s).
      const v1 = buf[1] === 0;
      return parsed({
        kind: 'query',
        version: v1 ? 1 : 2,
        maxResponseMs: v1 ? 10_000 : buf[1]! * 100,
        group,
        sources: [],
      });
    }
    if (buf.length < QUERY_V3_MIN_LENGTH)
      return malformed(PROTOCOL, 'truncated', `query of ${buf.length} bytes (9-11 is no version)`);
    const count = (buf[10]! << 8) | buf[11]!;
    if (QUERY_V3_MIN_LENGTH + count * 4 > buf.length)
      return malformed(PROTOCOL, 'truncated', `query lists ${count} sources past its end`);
    const sources: Ipv4Address[] = [];
    for (let i = 0; i < count; i++) sources.push(readIpv4(buf, QUERY_V3_MIN_LENGTH + i * 4));
    return parsed({ kind: 'query', version: 3, maxResponseMs: igmpMaxResponseMs(buf[1]!), group, sources });
  }
  if (type === IGMPV3_MEMBERSHIP_REPORT) {
    const count = (buf[6]! << 8) | buf[7]!;
    const records: IgmpGroupRecord[] = [];
    let i = REPORT_HEADER_LENGTH;
    for (let r = 0; r < count; r++) {
      if (i + RECORD_HEADER_LENGTH > buf.length)
        return malformed(PROTOCOL, 'truncated', `group record ${r} cut at ${i}`);
      const sourceCount = (buf[i + 2]! << 8) | buf[i + 3]!;
      const end = i + RECORD_HEADER_LENGTH + sourceCount * 4 + buf[i + 1]! * 4;
      if (end > buf.length) return malformed(PROTOCOL, 'truncated', `group record ${r} runs past the end`);
      const sources: Ipv4Address[] = [];
      for (let s = 0; s < sourceCount; s++) sources.push(readIpv4(buf, i + RECORD_HEADER_LENGTH + s * 4));
      records.push({ recordType: buf[i]!, group: readIpv4(buf, i + 4), sources });
      i = end;
    }
    return parsed({ kind: 'v3-report', records });
  }
  return parsed({ kind: 'other', type, group: readIpv4(buf, 4) });
}

/** Bytes an IGMPv3 report of `records` takes. */
export function igmpV3ReportLength(records: readonly IgmpGroupRecord[]): number {
  let length = REPORT_HEADER_LENGTH;
  for (const record of records) length += RECORD_HEADER_LENGTH + record.sources.length * 4;
  return length;
}

/** Writes an IGMPv3 Membership Report (RFC 3376 §4.2) at `buf[offset]`, checksum included. */
export function emitIgmpV3Report(
  records: readonly IgmpGroupRecord[],
  buf: Uint8Array,
  offset: number,
): number {
  const length = igmpV3ReportLength(records);
  buf.fill(0, offset, offset + length);
  buf[offset] = IGMPV3_MEMBERSHIP_REPORT;
  buf[offset + 6] = records.length >>> 8;
  buf[offset + 7] = records.length & 0xff;
  let i = offset + REPORT_HEADER_LENGTH;
  for (const record of records) {
    buf[i] = record.recordType;
    buf[i + 2] = record.sources.length >>> 8;
    buf[i + 3] = record.sources.length & 0xff;
    writeIpv4(buf, i + 4, record.group);
    i += RECORD_HEADER_LENGTH;
    for (const source of record.sources) {
      writeIpv4(buf, i, source);
      i += 4;
    }
  }
  const sum = checksumFinish(checksumAdd(0, buf, offset, length));
  buf[offset + 2] = sum >>> 8;
  buf[offset + 3] = sum & 0xff;
  return length;
}

/**
 * Writes an 8-byte IGMPv1/v2 message (RFC 2236 §2): a Membership Report of `group` (v1 0x12, v2 0x16) or
 * a v2 Leave Group (0x17), Max Resp Time 0, checksum included.
 */
export function emitIgmpV2Message(type: number, group: Ipv4Address, buf: Uint8Array, offset: number): number {
  buf.fill(0, offset, offset + QUERY_V2_LENGTH);
  buf[offset] = type;
  writeIpv4(buf, offset + 4, group);
  const sum = checksumFinish(checksumAdd(0, buf, offset, QUERY_V2_LENGTH));
  buf[offset + 2] = sum >>> 8;
  buf[offset + 3] = sum & 0xff;
  return QUERY_V2_LENGTH;
}

/** Writes an IGMP query (v3 when `version` is 3, else the 8-byte form) — what a querier sends; for tests. */
export function emitIgmpQuery(query: Omit<IgmpQuery, 'kind'>, buf: Uint8Array, offset: number): number {
  const length = query.version === 3 ? QUERY_V3_MIN_LENGTH + query.sources.length * 4 : QUERY_V2_LENGTH;
  buf.fill(0, offset, offset + length);
  buf[offset] = IGMP_MEMBERSHIP_QUERY;
  // Below 12.8 s the code is tenths of a second in every version.
  buf[offset + 1] = query.version === 1 ? 0 : Math.min(127, Math.round(query.maxResponseMs / 100));
  writeIpv4(buf, offset + 4, query.group);
  if (query.version === 3) {
    buf[offset + 8] = 2; // QRV 2
    buf[offset + 9] = 125; // QQIC 125 s
    buf[offset + 10] = query.sources.length >>> 8;
    buf[offset + 11] = query.sources.length & 0xff;
    for (let i = 0; i < query.sources.length; i++)
      writeIpv4(buf, offset + QUERY_V3_MIN_LENGTH + i * 4, query.sources[i]!);
  }
  const sum = checksumFinish(checksumAdd(0, buf, offset, length));
  buf[offset + 2] = sum >>> 8;
  buf[offset + 3] = sum & 0xff;
  return length;
}
