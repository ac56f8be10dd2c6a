/**
 * What an ICMP error means to a socket: the errno conversion BSD and Linux use, so applications written
 * for them see the codes they expect (a UDP socket sees ECONNREFUSED after port unreachable, TCP's SYN
 * sees EHOSTUNREACH after host unreachable ...).
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
import type { ErrnoCode } from './errors.js';

/** The errno for an ICMP error of this type and code. */
export function errnoForIcmp(type: number, code: number): ErrnoCode {
  if (type === ICMP_TIME_EXCEEDED) return 'EHOSTUNREACH';
  if (type !== ICMP_DESTINATION_UNREACHABLE) return 'EPROTO';
  switch (code) {
    case ICMP_NET_UNREACHABLE:
    case ICMP_DESTINATION_NETWORK_UNKNOWN:
    case ICMP_NETWORK_ADMINISTRATIVELY_PROHIBITED:
    case ICMP_NETWORK_UNREACHABLE_FOR_TOS:
      return 'ENETUNREACH';
    case ICMP_HOST_UNREACHABLE:
    case ICMP_HOST_ADMINISTRATIVELY_PROHIBITED:
    case ICMP_HOST_UNREACHABLE_FOR_TOS:
    case ICMP_COMMUNICATION_ADMINISTRATIVELY_PROHIBITED:
    case ICMP_HOST_PRECEDENCE_VIOLATION:
    case ICMP_PRECEDENCE_CUTOFF_IN_EFFECT:
      return 'EHOSTUNREACH';
    case ICMP_PROTOCOL_UNREACHABLE:
      return 'ENOPROTOOPT';
    case ICMP_PORT_UNREACHABLE:
      return 'ECONNREFUSED';
    case ICMP_FRAGMENTATION_NEEDED:
      return 'EMSGSIZE';
    case ICMP_SOURCE_ROUTE_FAILED:
      return 'EOPNOTSUPP';
    case ICMP_DESTINATION_HOST_UNKNOWN:
      return 'EHOSTDOWN';
    case ICMP_SOURCE_HOST_ISOLATED:
      return 'ENONET';
    default:
      return 'EHOSTUNREACH';
  }
}

/**
 * RFC 1122 §4.2.3.9: destination unreachable codes 2 (protocol), 3 (port) and 4 (fragmentation needed)
 * are "hard" errors a connection may abort on; the rest (and time exceeded) are "soft", likely transient.
 * (RFC 5461 recommends that TCP treat even hard errors as soft once established; that choice is TCP's.)
 */
export function isHardIcmpError(type: number, code: number): boolean {
  return (
    type === ICMP_DESTINATION_UNREACHABLE &&
    (code === ICMP_PROTOCOL_UNREACHABLE ||
      code === ICMP_PORT_UNREACHABLE ||
      code === ICMP_FRAGMENTATION_NEEDED)
  );
}
