/**
 * TCP header (RFC 9293 §3.1) and options (RFC 9293 §3.2, RFC 7323, RFC 2018).
 *
 * The plain representation below is what the TCP state machine consumes and produces.
 * Sequence and acknowledgment numbers are unsigned 32-bit integers; the window is the raw 16-bit field
 * (the connection applies any window scale).
 */

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

export const TCP_HEADER_LENGTH = 20;
export const TCP_MAX_HEADER_LENGTH = 60;

export interface SackBlock {
  /** First sequence number of the block. */
  readonly left: number;
  /** Sequence number just past the block. */
  readonly right: number;
}

export interface TcpTimestamp {
  readonly value: number;
  readonly echo: number;
}

export interface TcpOptions {
  /** Maximum segment size (kind 2), only meaningful on SYN. */
  mss?: number;
  /** Window scale shift count (kind 3), only meaningful on SYN. */
  windowScale?: number;
  /** SACK permitted (kind 4), only meaningful on SYN. */
  sackPermitted?: boolean;
  /** SACK blocks (kind 5). */
  sack?: readonly SackBlock[];
  /** Timestamps (kind 8). */
  timestamp?: TcpTimestamp;
}

export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** Bitwise OR of TCP_FIN ... TCP_CWR. */
  flags: number;
  /** Raw 16-bit window field. */
  window: number;
  urgentPointer: number;
  options: TcpOptions;
  /** Segment text; a view into the received frame (never copied by the parser). */
  payload: Uint8Array;
}
