/**
 * What an ICMP or ICMPv6 error means to a socket — the one table for both IP versions and every
 * transport: which kind of error it is, the errno an application sees (the conversion Linux uses, so code
 * written for it sees what it expects: ECONNREFUSED after port unreachable, EHOSTUNREACH after host
 * unreachable ...), and whether it is hard or soft.
 *
 * The hard/soft rule (RFC 1122 §4.2.3.9, RFC 4443 §3.1 and §3.4): an error saying the destination host
 * itself refused the protocol or port — IPv4 protocol and port unreachable, ICMPv6 port unreachable and
 * parameter problem (unrecognized next header is ICMPv6's protocol unreachable) — is hard: a connection
 * attempt may be ended by it. Everything else (unreachable networks and hosts, time exceeded, source
 * quench) is soft: likely transient, reported but not fatal. Fragmentation needed / Packet Too Big are
 * neither: they lower the path MTU (RFC 1191, RFC 8201) and are acted on, not reported. TCP adds its own
 * policy on top (RFC 5461: soft once established; tcpts aborts attempts on any error by default).
 */
import {
  ICMP_COMMUNICATION_ADMINISTRATIVELY_PROHIBITED,
  ICMP_DESTINATION_HOST_UNKNOWN,
  ICMP_DESTINATION_NETWORK_UNKNOWN,
  ICMP_DESTINATION_UNREACHABLE,
  ICMP_FRAGMENTATION_NEEDED,
  ICMP_HOST_ADMINISTRATIVELY_PROHIBITED,
  ICMP_HOST_PRECEDENCE_VIOLATION,
  ICMP_HOST_UNREACHABLE,
  ICMP_HOST_UNREACHABLE_FOR_TOS,
  ICMP_NET_UNREACHABLE,
  ICMP_NETWORK_ADMINISTRATIVELY_PROHIBITED,
  ICMP_NETWORK_UNREACHABLE_FOR_TOS,
  ICMP_PORT_UNREACHABLE,
  ICMP_PRECEDENCE_CUTOFF_IN_EFFECT,
  ICMP_PROTOCOL_UNREACHABLE,
  ICMP_SOURCE_HOST_ISOLATED,
  ICMP_SOURCE_ROUTE_FAILED,
  ICMP_TIME_EXCEEDED,
} from '../wire/icmp.js';
import {
  ICMPV6_ADDRESS_UNREACHABLE,
  ICMPV6_ADMINISTRATIVELY_PROHIBITED,
  ICMPV6_BEYOND_SCOPE,
  ICMPV6_DESTINATION_UNREACHABLE,
  ICMPV6_NO_ROUTE,
  ICMPV6_PACKET_TOO_BIG,
  ICMPV6_PARAMETER_PROBLEM,
  ICMPV6_PORT_UNREACHABLE,
  ICMPV6_REJECT_ROUTE,
  ICMPV6_SOURCE_POLICY_FAILED,
  ICMPV6_TIME_EXCEEDED,
} from '../wire/icmpv6.js';
import type { ErrnoCode } from './errors.js';

const ICMP_SOURCE_QUENCH = 4;
const ICMP_PARAMETER_PROBLEM = 12;

/** The kinds of error a transport tells apart. */
export type IcmpErrorKind =
  | 'net-unreachable'
  | 'host-unreachable'
  | 'protocol-unreachable'
  | 'port-unreachable'
  | 'fragmentation-needed'
  | 'source-route-failed'
  | 'other-unreachable'
  | 'time-exceeded'
  | 'parameter-problem'
  | 'source-quench';

export interface IcmpErrorMeaning {
  readonly kind: IcmpErrorKind;
  /** The errno a socket reports. */
  readonly code: ErrnoCode;
  /** Hard (the destination refused: may end an attempt) or soft (see the module comment). */
  readonly hard: boolean;
}

const meaning = (kind: IcmpErrorKind, code: ErrnoCode): IcmpErrorMeaning => ({
  kind,
  code,
  hard: HARD_KINDS.has(kind),
});

/** The hard/soft rule, by kind: the destination itself refused the protocol or the port. */
const HARD_KINDS: ReadonlySet<IcmpErrorKind> = new Set<IcmpErrorKind>([
  'protocol-unreachable',
  'port-unreachable',
  'parameter-problem',
]);

/** True for the kinds the hard/soft rule calls hard. */
export function isHardIcmpKind(kind: IcmpErrorKind): boolean {
  return HARD_KINDS.has(kind);
}

/** The errno for a kind, when the reporter gave no type and code (one representative per kind). */
export function errnoForIcmpKind(kind: IcmpErrorKind): ErrnoCode {
  switch (kind) {
    case 'net-unreachable':
      return 'ENETUNREACH';
    case 'port-unreachable':
      return 'ECONNREFUSED';
    case 'protocol-unreachable':
      return 'ENOPROTOOPT';
    case 'fragmentation-needed':
      return 'EMSGSIZE';
    case 'source-route-failed':
      return 'EOPNOTSUPP';
    case 'parameter-problem':
      return 'EPROTO';
    default:
      return 'EHOSTUNREACH';
  }
}

/** What an ICMP (`version` 4) or ICMPv6 (6) error of this type and code means; undefined: not an error. */
export function icmpErrorMeaning(version: 4 | 6, type: number, code: number): IcmpErrorMeaning | undefined {
  return version === 4 ? icmpv4Meaning(type, code) : icmpv6Meaning(type, code);
}

function icmpv4Meaning(type: number, code: number): IcmpErrorMeaning | undefined {
  switch (type) {
    case ICMP_TIME_EXCEEDED:
      return meaning('time-exceeded', 'EHOSTUNREACH');
    case ICMP_PARAMETER_PROBLEM:
      return meaning('parameter-problem', 'EPROTO');
    case ICMP_SOURCE_QUENCH:
      return meaning('source-quench', 'EHOSTUNREACH');
    case ICMP_DESTINATION_UNREACHABLE:
      break;
    default:
      return undefined;
  }
  switch (code) {
    case ICMP_NET_UNREACHABLE:
      return meaning('net-unreachable', 'ENETUNREACH');
    case ICMP_DESTINATION_NETWORK_UNKNOWN:
    case ICMP_NETWORK_ADMINISTRATIVELY_PROHIBITED:
    case ICMP_NETWORK_UNREACHABLE_FOR_TOS:
      return meaning('other-unreachable', 'ENETUNREACH');
    case ICMP_HOST_UNREACHABLE:
      return meaning('host-unreachable', 'EHOSTUNREACH');
    case ICMP_HOST_ADMINISTRATIVELY_PROHIBITED:
    case ICMP_HOST_UNREACHABLE_FOR_TOS:
    case ICMP_COMMUNICATION_ADMINISTRATIVELY_PROHIBITED:
    case ICMP_HOST_PRECEDENCE_VIOLATION:
    case ICMP_PRECEDENCE_CUTOFF_IN_EFFECT:
      return meaning('other-unreachable', 'EHOSTUNREACH');
    case ICMP_PROTOCOL_UNREACHABLE:
      return meaning('protocol-unreachable', 'ENOPROTOOPT');
    case ICMP_PORT_UNREACHABLE:
      return meaning('port-unreachable', 'ECONNREFUSED');
    case ICMP_FRAGMENTATION_NEEDED:
      return meaning('fragmentation-needed', 'EMSGSIZE');
    case ICMP_SOURCE_ROUTE_FAILED:
      return meaning('source-route-failed', 'EOPNOTSUPP');
    case ICMP_DESTINATION_HOST_UNKNOWN:
      return meaning('other-unreachable', 'EHOSTDOWN');
    case ICMP_SOURCE_HOST_ISOLATED:
      return meaning('other-unreachable', 'ENONET');
    default:
      return meaning('other-unreachable', 'EHOSTUNREACH');
  }
}

function icmpv6Meaning(type: number, code: number): IcmpErrorMeaning | undefined {
  switch (type) {
    case ICMPV6_PACKET_TOO_BIG:
      return meaning('fragmentation-needed', 'EMSGSIZE');
    case ICMPV6_TIME_EXCEEDED:
      return meaning('time-exceeded', 'EHOSTUNREACH');
    case ICMPV6_PARAMETER_PROBLEM:
      return meaning('parameter-problem', 'EPROTO');
    case ICMPV6_DESTINATION_UNREACHABLE:
      break;
    default:
      // RFC 4443 §2.4(d): an unknown error type (0-127) still reaches the upper layer.
      return type < 128 ? meaning('other-unreachable', 'EHOSTUNREACH') : undefined;
  }
  switch (code) {
    case ICMPV6_NO_ROUTE:
      return meaning('net-unreachable', 'ENETUNREACH');
    case ICMPV6_BEYOND_SCOPE:
    case ICMPV6_ADDRESS_UNREACHABLE:
      return meaning('host-unreachable', 'EHOSTUNREACH');
    case ICMPV6_PORT_UNREACHABLE:
      return meaning('port-unreachable', 'ECONNREFUSED');
    case ICMPV6_ADMINISTRATIVELY_PROHIBITED:
    case ICMPV6_SOURCE_POLICY_FAILED:
    case ICMPV6_REJECT_ROUTE:
      return meaning('other-unreachable', 'EACCES');
    default:
      return meaning('other-unreachable', 'EHOSTUNREACH');
  }
}

/** The errno for an ICMP (IPv4) error of this type and code. */
export function errnoForIcmp(type: number, code: number): ErrnoCode {
  return icmpv4Meaning(type, code)?.code ?? 'EPROTO';
}

/** The hard/soft rule for an ICMP (IPv4) error of this type and code. */
export function isHardIcmpError(type: number, code: number): boolean {
  return icmpv4Meaning(type, code)?.hard === true;
}
