import type { TraceEvent } from '../trace/events.js';
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

/** A trace event of `kind` as a builder keeps it: every field but the `kind` tag. */
type TraceEventFields<K extends TraceEvent['kind']> = Omit<Extract<TraceEvent, { kind: K }>, 'kind'>;

/** A `tcp.state` event, with its place in the order of all events. */
export type ObservedStateChange = TraceEventFields<'tcp.state'> & { order: number };

/** A `tcp.retransmit` event, with its place in the order of all events. */
export type ObservedRetransmit = TraceEventFields<'tcp.retransmit'> & { order: number };

/** A `tcp.metrics` sample. */
export type ObservedMetrics = TraceEventFields<'tcp.metrics'>;

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
  /** Frames of a capture left out of the pictures, counted by reason. */
  skipped?: Readonly<Record<string, number>>;
}
