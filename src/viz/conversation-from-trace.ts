/**
 * Builds a `Conversation` from the trace of a simulated network. A frame's life on a link is three
 * events sharing the link name and frame id: `link.sent`, then `link.delivered` or `link.dropped`; a
 * duplicating link delivers the same frame id twice. Frames are decoded as they are sent, so the builder
 * keeps no reference to the frame buffers.
 *
 * `ConversationBuilder` is itself a `Tracer`, so a live view (the web lab) can hand it to the network and
 * take a fresh snapshot with `conversation()` whenever it redraws.
 */
import type { TraceEvent, Tracer } from '../trace/events.js';
import { assembleConversation } from './assemble-conversation.js';
import type { Conversation, NoteRecord, StackDrop } from './conversation.js';
import { decodeEthernetFrame } from './decode-frame.js';
import type {
  ObservedMetrics,
  ObservedPacket,
  ObservedRetransmit,
  ObservedStateChange,
} from './observed-packet.js';

export interface ConversationFromTraceOptions {
  /** Hosts to draw first, in this order (e.g. ['client', 'server']); the rest follow as they appear. */
  readonly hosts?: readonly string[];
  /** Only frames on these links (by link name); default all. */
  readonly links?: readonly string[];
  /** Displayed times are `time - timeOrigin`; default 0 (the virtual clock's own origin). */
  readonly timeOrigin?: number;
  /**
   * The host a link end belongs to. Links name their ends after devices while stacks name themselves;
   * the default, `hostOfDevice`, follows the simulator's naming ('client-eth0' is host 'client', switch
   * port 'lan.port2' is the switch 'lan').
   */
  readonly hostOfDevice?: (device: string) => string;
}

/** 'client-eth0' -> 'client', 'lan.port2' -> 'lan'; any other name is taken to be a host already. */
export function hostOfDevice(device: string): string {
  return device.replace(/-eth\d+$/, '').replace(/\.port\d+$/, '');
}

export class ConversationBuilder implements Tracer {
  readonly enabled = true;
  private readonly packets: ObservedPacket[] = [];
  /** The latest record of each frame on each link (a duplicate replaces the original here). */
  private readonly byFrame = new Map<string, ObservedPacket>();
  private readonly states: ObservedStateChange[] = [];
  private readonly retransmits: ObservedRetransmit[] = [];
  private readonly metrics: ObservedMetrics[] = [];
  private readonly notes: NoteRecord[] = [];
  private readonly drops: StackDrop[] = [];
  private readonly links: ReadonlySet<string> | undefined;
  private readonly hostOf: (device: string) => string;
  private order = 0;

  constructor(private readonly options: ConversationFromTraceOptions = {}) {
    this.links = options.links ? new Set(options.links) : undefined;
    this.hostOf = options.hostOfDevice ?? hostOfDevice;
  }

  emit(event: TraceEvent): void {
    const order = this.order++;
    switch (event.kind) {
      case 'link.sent': {
        if (this.links && !this.links.has(event.link)) return;
        const packet: ObservedPacket = {
          id: this.packets.length + 1,
          order,
          from: this.hostOf(event.from),
          to: this.hostOf(event.to),
          link: event.link,
          frameId: event.frameId,
          sentAt: event.time,
          decoded: decodeEthernetFrame(event.frame),
        };
        this.packets.push(packet);
        this.byFrame.set(frameKey(event.link, event.frameId), packet);
        return;
      }
      case 'link.delivered':
      case 'link.dropped': {
        if (this.links && !this.links.has(event.link)) return;
        const key = frameKey(event.link, event.frameId);
        let packet = this.byFrame.get(key);
        if (!packet) return;
        if (packet.arrivedAt !== undefined || packet.dropped !== undefined) {
          // The second outcome of one frame: the copy a duplicating link made.
          packet = { ...packet, id: this.packets.length + 1, duplicate: true };
          delete packet.arrivedAt;
          delete packet.arrivalOrder;
          delete packet.dropped;
          this.packets.push(packet);
          this.byFrame.set(key, packet);
        }
        if (event.kind === 'link.delivered') {
          packet.arrivedAt = event.time;
          packet.arrivalOrder = order;
        } else {
          packet.dropped = event.reason;
        }
        return;
      }
      case 'link.corrupted':
      case 'link.reordered': {
        if (this.links && !this.links.has(event.link)) return;
        const packet = this.byFrame.get(frameKey(event.link, event.frameId));
        if (!packet) return;
        if (event.kind === 'link.corrupted') packet.corrupted = true;
        else packet.reordered = true;
        return;
      }
      case 'link.duplicated':
        // The copy shows up as a second delivery (or drop) of the same frame id.
        return;
      case 'tcp.state':
        this.states.push({
          time: event.time,
          order,
          host: event.host,
          conn: event.conn,
          from: event.from,
          to: event.to,
        });
        return;
      case 'tcp.retransmit':
        this.retransmits.push({
          time: event.time,
          order,
          host: event.host,
          conn: event.conn,
          seq: event.seq,
          length: event.length,
          cause: event.cause,
        });
        return;
      case 'tcp.metrics': {
        const { kind: _kind, ...sample } = event;
        this.metrics.push(sample);
        return;
      }
      case 'note':
        this.notes.push({ time: event.time, order, host: event.host, text: event.text });
        return;
      case 'drop':
        this.drops.push({ time: event.time, host: event.host, layer: event.layer, reason: event.reason });
        return;
    }
  }

  /** A snapshot of everything so far; later events do not change it. */
  conversation(): Conversation {
    return assembleConversation({
      packets: this.packets.map((p) => ({ ...p })),
      states: this.states,
      retransmits: this.retransmits,
      metrics: this.metrics,
      notes: this.notes,
      drops: this.drops,
      vantage: 'link',
      timeOrigin: this.options.timeOrigin ?? 0,
      ...(this.options.hosts ? { hostOrder: this.options.hosts } : {}),
    });
  }
}

function frameKey(link: string, frameId: number): string {
  return `${link}#${frameId}`;
}

/** Builds a conversation from recorded trace events (e.g. `TraceRecorder.events`). */
export function conversationFromTrace(
  events: Iterable<TraceEvent>,
  options: ConversationFromTraceOptions = {},
): Conversation {
  const builder = new ConversationBuilder(options);
  for (const event of events) builder.emit(event);
  return builder.conversation();
}
