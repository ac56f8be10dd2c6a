/**
 * What a ladder diagram draws, the same for the terminal and the SVG renderer: which hosts (left to
 * right), which stretch of time, which protocols, and whether the stacks' notes.
 */
import type { Conversation, PacketProtocol, PacketRecord } from './conversation.js';
import { sliceConversation } from './conversation.js';

export interface LadderSelectionOptions {
  /** Which hosts to draw, left to right (default: all, in the conversation's order). */
  readonly hosts?: readonly string[];
  /** Only what happened in [from, to) (absolute times). */
  readonly from?: number;
  readonly to?: number;
  /** Only packets of these protocols (default all). */
  readonly protocols?: readonly PacketProtocol[];
  /** Show the stacks' notes (default true). */
  readonly notes?: boolean;
}

export interface LadderSelection {
  /** The conversation cut to [from, to); the whole of it when neither is given. */
  readonly view: Conversation;
  readonly hosts: readonly string[];
  /** Each drawn host's column, 0 being the leftmost. */
  readonly hostIndex: ReadonlyMap<string, number>;
  readonly protocols: ReadonlySet<PacketProtocol> | undefined;
  readonly notes: boolean;
}

export function selectLadder(conversation: Conversation, options: LadderSelectionOptions): LadderSelection {
  const view =
    options.from !== undefined || options.to !== undefined
      ? sliceConversation(conversation, { from: options.from, to: options.to })
      : conversation;
  const hosts = options.hosts ?? conversation.hosts;
  return {
    view,
    hosts,
    hostIndex: new Map(hosts.map((h, i) => [h, i])),
    protocols: options.protocols ? new Set(options.protocols) : undefined,
    notes: options.notes ?? true,
  };
}

/**
 * The columns of a packet's sender and receiver, or undefined when the diagram leaves it out: an end not
 * drawn, a packet a host sent itself, or a protocol not chosen.
 */
export function packetColumns(
  selection: LadderSelection,
  packet: PacketRecord,
): { from: number; to: number } | undefined {
  const from = selection.hostIndex.get(packet.from);
  const to = selection.hostIndex.get(packet.to);
  if (from === undefined || to === undefined || from === to) return undefined;
  if (selection.protocols && !selection.protocols.has(packet.protocol)) return undefined;
  return { from, to };
}
