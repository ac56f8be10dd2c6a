/**
 * TCP's reading of the error reports IP hands it (an ICMP message quoting one of our segments, or a local
 * failure IP reports the same way, such as ARP finding nobody): which connection it is about, what kind
 * of error it is (RFC 9293 §3.9.2.2, RFC 1122 §4.2.3.9), and the errno an application should see.
 */
import type { TransportErrorReport } from '../ip/datagram.js';
import { errnoForIcmpKind as errnoForKind, icmpErrorMeaning } from '../ip/icmp-errors.js';
import type { TcpIcmpError } from './connection.js';
import type { TcpErrorCode } from './errors.js';
import type { QuotedTcpSegment } from './tcp-layer.js';

/** The error codes an ICMP report may carry to a TCP application. */
const REPORTABLE: ReadonlySet<string> = new Set<TcpErrorCode>([
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ECONNREFUSED',
  'ENOPROTOOPT',
  'EOPNOTSUPP',
  'EHOSTDOWN',
  'ENONET',
  'EPROTO',
]);

/** The errno of an ICMP error kind when the reporter gave none: the one table's (ip/icmp-errors.ts). */
export function errnoForIcmpKind(kind: TcpIcmpError['kind']): TcpErrorCode {
  return errnoForKind(kind) as TcpErrorCode;
}

/** The kind of error a report describes, or undefined for reports TCP has no use for. */
function icmpKind(report: TransportErrorReport): TcpIcmpError['kind'] | undefined {
  const version = typeof report.src === 'bigint' ? 6 : 4;
  return icmpErrorMeaning(version, report.icmpType, report.icmpCode)?.kind;
}

/**
 * Decodes an IP error report about a TCP segment into the error and the quoted segment's identity (RFC
 * 5927 §4.1: ports and sequence number, from the first 8 bytes of the quoted TCP header). Undefined when
 * the quote is too short or the error means nothing to TCP.
 */
export function decodeErrorReport(
  report: TransportErrorReport,
): { error: Omit<TcpIcmpError, 'seq'>; quoted: QuotedTcpSegment } | undefined {
  const t = report.transport;
  if (t.length < 8) return undefined;
  const kind = icmpKind(report);
  if (kind === undefined) return undefined;
  const error: Omit<TcpIcmpError, 'seq'> = { kind };
  if (REPORTABLE.has(report.code)) error.code = report.code as TcpErrorCode;
  if (kind === 'fragmentation-needed' && report.reportedMtu !== undefined) {
    error.mtu = report.reportedMtu;
    error.datagramLength = report.datagramLength;
  }
  return {
    error,
    quoted: {
      src: report.src,
      dst: report.dst,
      srcPort: (t[0]! << 8) | t[1]!,
      dstPort: (t[2]! << 8) | t[3]!,
      seq: ((t[4]! << 24) | (t[5]! << 16) | (t[6]! << 8) | t[7]!) >>> 0,
    },
  };
}
