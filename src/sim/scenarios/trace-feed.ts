/**
 * Feeds a growing trace (e.g. `SimulatedNetwork.trace.events`) into a ConversationBuilder a little at a
 * time, so a live view can redraw from fresh snapshots without decoding any frame twice.
 *
 * One adjustment is made on the way: when a closed window opens, the engine resends the byte its last
 * window probe carried together with new data, and reports that as a timeout ('rto') although no timer
 * expired. Such an event (cause 'rto', the connection's previous retransmission being a probe of the same
 * sequence number) is left out, so the segment is still shown as a retransmission, found from its
 * sequence number, without a wrong cause.
 */
import type { TraceEvent } from '../../trace/events.js';
import type { Conversation } from '../../viz/conversation.js';
import { ConversationBuilder, type ConversationFromTraceOptions } from '../../viz/conversation-from-trace.js';

export class TraceFeed {
  private readonly builder: ConversationBuilder;
  private consumed = 0;
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
    return this.builder.conversation();
  }

  private pump(): void {
    const events = this.events;
    for (; this.consumed < events.length; this.consumed++) {
      const event = events[this.consumed]!;
      if (event.kind !== 'tcp.retransmit' || !this.probeResentOnOpening(event)) this.builder.emit(event);
    }
  }

  private probeResentOnOpening(event: Extract<TraceEvent, { kind: 'tcp.retransmit' }>): boolean {
    const { local, remote } = event.conn;
    const key = `${event.host} ${local.address}:${local.port} ${remote.address}:${remote.port}`;
    const previous = this.lastRetransmit.get(key);
    this.lastRetransmit.set(key, { cause: event.cause, seq: event.seq });
    return event.cause === 'rto' && previous?.cause === 'probe' && previous.seq === event.seq;
  }
}

/** Builds a conversation from a finished trace, with the adjustment described above. */
export function conversationOfTrace(
  events: readonly TraceEvent[],
  options: ConversationFromTraceOptions = {},
): Conversation {
  return new TraceFeed(events, options).conversation();
}
