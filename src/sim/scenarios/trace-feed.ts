/**
 * Feeds a growing trace (e.g. `SimulatedNetwork.trace.events`) into a ConversationBuilder a little at a
 * time, so a live view can redraw from fresh snapshots without decoding any frame twice.
 *
 * Two adjustments are made on the way, both about `tcp.retransmit` events:
 * - The pictures attribute a retransmission to the first segment its sender puts on the wire at or after
 *   the event, while the TCP engine emits the event just after handing the segment to IP; the segment's
 *   `link.sent` then precedes the event and the cause (timeout, fast retransmit, window probe) would be
 *   lost. So an event that directly follows the `link.sent` of the very segment it names (same host, same
 *   instant, same sequence number) is moved in front of it.
 * - When a closed window opens, the engine resends the byte its last window probe carried together with
 *   new data, and reports that as a timeout ('rto') although no timer expired. Such an event (cause 'rto',
 *   the connection's previous retransmission being a probe of the same sequence number) is left out, so
 *   the segment is still shown as a retransmission, found from its sequence number, without a wrong cause.
 */
import type { TraceEvent } from '../../trace/events.js';
import type { Conversation } from '../../viz/conversation.js';
import {
  ConversationBuilder,
  type ConversationFromTraceOptions,
  hostOfDevice,
} from '../../viz/conversation-from-trace.js';
import { decodeEthernetFrame } from '../../viz/decode-frame.js';

/** How far back (in events) the segment of a retransmission event is looked for. */
const LOOKBACK = 4;

export class TraceFeed {
  private readonly builder: ConversationBuilder;
  private consumed = 0;
  /** Events read but not yet handed on: the last few, in case a retransmission event follows them. */
  private readonly held: TraceEvent[] = [];
  /** The latest retransmission event of each connection (by host and 4-tuple). */
  private readonly lastRetransmit = new Map<string, { cause: string; seq: number }>();

  constructor(
    private readonly events: readonly TraceEvent[],
    options: ConversationFromTraceOptions = {},
  ) {
    this.builder = new ConversationBuilder(options);
  }

  /** Everything recorded so far, as a conversation. */
  conversation(): Conversation {
    this.pump();
    for (const e of this.held) this.builder.emit(e);
    this.held.length = 0;
    return this.builder.conversation();
  }

  private pump(): void {
    const events = this.events;
    for (; this.consumed < events.length; this.consumed++) {
      const event = events[this.consumed]!;
      if (event.kind === 'tcp.retransmit') {
        if (!this.probeResentOnOpening(event)) this.placeRetransmit(event);
      } else {
        this.held.push(event);
      }
      while (this.held.length > LOOKBACK) this.builder.emit(this.held.shift()!);
    }
  }

  private probeResentOnOpening(event: Extract<TraceEvent, { kind: 'tcp.retransmit' }>): boolean {
    const { local, remote } = event.conn;
    const key = `${event.host} ${local.address}:${local.port} ${remote.address}:${remote.port}`;
    const previous = this.lastRetransmit.get(key);
    this.lastRetransmit.set(key, { cause: event.cause, seq: event.seq });
    return event.cause === 'rto' && previous?.cause === 'probe' && previous.seq === event.seq;
  }

  private placeRetransmit(event: Extract<TraceEvent, { kind: 'tcp.retransmit' }>): void {
    for (let i = this.held.length - 1; i >= 0; i--) {
      const e = this.held[i]!;
      if (e.time !== event.time) break;
      if (e.kind !== 'link.sent' || hostOfDevice(e.from) !== event.host) continue;
      const tcp = decodeEthernetFrame(e.frame).tcp;
      if (tcp && tcp.seq === event.seq) {
        this.held.splice(i, 0, event);
        return;
      }
      break;
    }
    this.held.push(event);
  }
}

/** Builds a conversation from a finished trace, with the adjustment described above. */
export function conversationOfTrace(
  events: readonly TraceEvent[],
  options: ConversationFromTraceOptions = {},
): Conversation {
  return new TraceFeed(events, options).conversation();
}
