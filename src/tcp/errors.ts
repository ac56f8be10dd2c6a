/**
 * Errors the TCP layer reports to applications, with the Node-style `code` the sockets API expects.
 * RFC 9293 §3.10 names the conditions ("connection reset", "connection refused", ...); the codes are the
 * POSIX names applications already handle: a subset of the stack's one vocabulary (ErrnoCode, seams.ts).
 */
import type { ErrnoCode } from '../seams.js';

export type TcpErrorCode = Extract<
  ErrnoCode,
  | 'ECONNRESET' // the peer reset an established connection (§3.10.7.4, second check)
  | 'ECONNREFUSED' // a RST answered our SYN (§3.10.7.3), or ICMP port/protocol unreachable during SYN-SENT
  | 'ECONNABORTED' // the application aborted, or a listener closed with connections not yet accepted
  | 'ETIMEDOUT' // R2 reached (§3.8.3), keepalive probes unanswered, or a zero-window probe never answered
  | 'EHOSTUNREACH' // ICMP host unreachable (or ARP failure) during the handshake, or a timeout after it
  | 'ENETUNREACH' // the same for network unreachable; also no route for the SYN
  | 'ENOPROTOOPT' // ICMP protocol unreachable during the handshake (Linux's errno for it)
  | 'EOPNOTSUPP' // ICMP source route failed during the handshake
  | 'EHOSTDOWN' // ICMP destination host unknown during the handshake
  | 'ENONET' // ICMP source host isolated during the handshake
  | 'EPROTO' // ICMP parameter problem during the handshake
  | 'EPIPE' // SEND after CLOSE: "connection closing" (§3.10.2)
  | 'ENOTCONN' // a call on a connection that does not exist (CLOSED)
  | 'EISCONN' // OPEN on a connection that already exists (§3.10.1)
  | 'EINVAL' // a bad argument (port out of range, zero address, bad configuration)
  | 'EADDRINUSE' // the local port/4-tuple is taken
  | 'EMSGSIZE' // IP refused a segment as too large (reported as a soft error only)
  | 'EADDRNOTAVAIL' // the address is not ours, is broadcast/multicast (MUST-46), or no ephemeral port is free
>;

export class TcpError extends Error {
  readonly code: TcpErrorCode;
  constructor(code: TcpErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'TcpError';
    this.code = code;
  }
}
