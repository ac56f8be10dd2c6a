import type { ConnectionId, TcpStateName } from '../trace/events.js';
import type { LinkDropReason, NoteRecord, StackDrop } from './conversation.js';
import type { DecodedFrame } from './decode-frame.js';

/** A frame as a builder saw it, before the conversation-wide analysis (flows, relative numbers). */
export interface ObservedPacket {
  id: number;
  order: number;
  from: string;
  to: string;
  link?: string;
  frameId?: number;
  sentAt: number;
  arrivedAt?: number;
  arrivalOrder?: number;
  dropped?: LinkDropReason;
  duplicate?: boolean;
  corrupted?: boolean;
  reordered?: boolean;
  decoded: DecodedFrame;
}

export interface ObservedStateChange {
  time: number;
  order: number;
  host: string;
  conn: ConnectionId;
  from: TcpStateName;
  to: TcpStateName;
}

export interface ObservedRetransmit {
  time: number;
  order: number;
  host: string;
  conn: ConnectionId;
  seq: number;
  length: number;
  cause: 'rto' | 'fast-retransmit' | 'probe' | 'syn' | 'fin';
}

export interface ObservedMetrics {
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

/** Everything a builder collected; `assembleConversation` turns it into a `Conversation`. */
export interface ConversationParts {
  packets: readonly ObservedPacket[];
  states: readonly ObservedStateChange[];
  retransmits: readonly ObservedRetransmit[];
  metrics: readonly ObservedMetrics[];
  notes: readonly NoteRecord[];
  drops: readonly StackDrop[];
  vantage: 'link' | 'capture';
  timeOrigin?: number;
  wallClockStart?: number;
  /** Hosts to draw first, in this order; the rest follow in order of appearance. */
  hostOrder?: readonly string[];
}
