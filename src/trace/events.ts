/**
 * Typed trace events: everything that happens in a stack or on a simulated link can be observed as one of
 * these. Producers check `tracer.enabled` before building an event, so tracing costs nothing when off.
 *
 * Hosts are named by the stack's `name`; connections by their 4-tuple.
 */
import type { IpAddress } from '../wire/ipv6-address.js';

export interface Endpoint {
  /** A number for IPv4, a bigint for IPv6. */
  readonly address: IpAddress;
  readonly port: number;
}

export interface ConnectionId {
  readonly local: Endpoint;
  readonly remote: Endpoint;
}

export type TcpStateName =
  | 'CLOSED'
  | 'LISTEN'
  | 'SYN-SENT'
  | 'SYN-RECEIVED'
  | 'ESTABLISHED'
  | 'FIN-WAIT-1'
  | 'FIN-WAIT-2'
  | 'CLOSE-WAIT'
  | 'CLOSING'
  | 'LAST-ACK'
  | 'TIME-WAIT';

/** Every TCP state, in the order RFC 9293 §3.3.2 introduces them. */
export const TCP_STATE_NAMES: readonly TcpStateName[] = [
  'CLOSED',
  'LISTEN',
  'SYN-SENT',
  'SYN-RECEIVED',
  'ESTABLISHED',
  'FIN-WAIT-1',
  'FIN-WAIT-2',
  'CLOSE-WAIT',
  'CLOSING',
  'LAST-ACK',
  'TIME-WAIT',
];

export type TraceEvent =
  /** A frame entered a link from `from`. `frameId` is unique per link and ties the later delivery/drop to it. */
  | {
      kind: 'link.sent';
      time: number;
      link: string;
      from: string;
      to: string;
      frameId: number;
      frame: Uint8Array;
    }
  | {
      kind: 'link.delivered';
      time: number;
      link: string;
      from: string;
      to: string;
      frameId: number;
      frame: Uint8Array;
    }
  | {
      kind: 'link.dropped';
      time: number;
      link: string;
      from: string;
      to: string;
      frameId: number;
      reason: 'loss' | 'burst-loss' | 'queue-full' | 'mtu' | 'link-down';
    }
  | {
      kind: 'link.duplicated' | 'link.corrupted' | 'link.reordered';
      time: number;
      link: string;
      frameId: number;
    }
  /** A malformed or unwanted packet was dropped by a stack layer. */
  | { kind: 'drop'; time: number; host: string; layer: string; reason: string }
  | {
      kind: 'tcp.state';
      time: number;
      host: string;
      conn: ConnectionId;
      from: TcpStateName;
      to: TcpStateName;
    }
  | {
      kind: 'tcp.retransmit';
      time: number;
      host: string;
      conn: ConnectionId;
      seq: number;
      length: number;
      cause: 'rto' | 'fast-retransmit' | 'probe' | 'syn' | 'fin';
    }
  | {
      kind: 'tcp.metrics';
      time: number;
      host: string;
      conn: ConnectionId;
      cwnd: number;
      ssthresh: number;
      srtt: number;
      rttvar: number;
      rto: number;
      sendWindow: number;
      receiveWindow: number;
      bytesInFlight: number;
    }
  /** Something a reader of a ladder diagram should be told, e.g. 'delayed ACK timer fired'. */
  | { kind: 'note'; time: number; host: string; text: string };

export interface Tracer {
  readonly enabled: boolean;
  emit(event: TraceEvent): void;
}

export const NO_TRACE: Tracer = { enabled: false, emit() {} };

/** Collects every event in memory, for tests, reports and diagrams. */
export class TraceRecorder implements Tracer {
  readonly enabled = true;
  readonly events: TraceEvent[] = [];
  emit(event: TraceEvent): void {
    this.events.push(event);
  }
}
