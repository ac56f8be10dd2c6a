/**
 * The counts a reader is shown — lost packets, retransmissions by cause, spurious retransmissions,
 * zero-window probes, duplicate ACKs — computed in one place, so the terminal ladders, the HTML report,
 * `tcpts view`, `tcpts sim` and the lab never disagree.
 *
 * Definitions (decided per segment by tcp-flow-analysis.ts, the same as Wireshark's tcp.analysis.*):
 * - retransmission: a segment with data, SYN or FIN that starts below the highest sequence number its
 *   sender had already put on that link; its cause comes from the sender's trace (timeout, fast
 *   retransmit, SYN, FIN) or is unknown in a capture. Wireshark splits these: one sent less than an RTT
 *   after the highest segment it calls out-of-order (tcp.analysis.out_of_order), a guess that suits a
 *   capture taken mid-path; at the sender, as in a simulation's capture, it is a retransmission sent soon
 *   after new data, so its retransmissions plus its out-of-order segments are ours;
 * - zero-window probe: one octet at the next sequence number while the peer advertises window 0; never a
 *   retransmission, and the data sent later at the same number is new data (the receiver refused the
 *   probe's octet), which is also how the stack's `retransmittedSegments` counter counts;
 * - spurious retransmission: one whose octets had all been acknowledged already;
 * - duplicate ACK: an ACK with no data that repeats the sender's previous acknowledgment number and
 *   window (not a zero window);
 * - lost: dropped by a simulated link (a capture cannot know).
 *
 * A packet forwarded by a router is seen once per link: only the copy its sender put on the wire counts.
 */
import type { Conversation, PacketRecord, RetransmissionCause } from './conversation.js';

export interface ConversationCounts {
  readonly packets: number;
  /** Dropped by a link (simulations only). */
  readonly lost: number;
  readonly retransmissions: number;
  readonly retransmissionsByCause: Readonly<Partial<Record<RetransmissionCause, number>>>;
  readonly spuriousRetransmissions: number;
  readonly zeroWindowProbes: number;
  readonly duplicateAcks: number;
  readonly zeroWindows: number;
  readonly windowUpdates: number;
}

/** The causes in the order they are listed, with their names in prose. */
export const CAUSE_NAMES: readonly [RetransmissionCause, string, string][] = [
  ['rto', 'timeout', 'timeouts'],
  ['fast-retransmit', 'fast retransmit', 'fast retransmits'],
  ['syn', 'SYN', 'SYN'],
  ['fin', 'FIN', 'FIN'],
  ['detected', 'cause unknown', 'cause unknown'],
];

/**
 * Counts `packets` (a whole conversation's or a window of it). `conversation` names the flows' hosts, so
 * a forwarded copy is told from the sender's own; without it every packet counts.
 */
export function countPackets(
  packets: readonly PacketRecord[],
  conversation?: Pick<Conversation, 'flows'>,
  flowId?: number,
): ConversationCounts {
  let lost = 0;
  let total = 0;
  let retransmissions = 0;
  let spurious = 0;
  let probes = 0;
  let dupAcks = 0;
  let zeroWindows = 0;
  let windowUpdates = 0;
  const byCause: Partial<Record<RetransmissionCause, number>> = {};
  for (const p of packets) {
    const s = p.tcp;
    if (flowId !== undefined && s?.flowId !== flowId) continue;
    total++;
    if (p.dropped) lost++;
    if (!s) continue;
    const flow = conversation?.flows[s.flowId];
    if (flow && p.from !== (s.fromA ? flow.a.host : flow.b.host)) continue;
    if (s.retransmission) {
      retransmissions++;
      byCause[s.retransmission] = (byCause[s.retransmission] ?? 0) + 1;
      if (s.spurious) spurious++;
    }
    if (s.windowProbe) probes++;
    if (s.dupAck) dupAcks++;
    if (s.zeroWindow) zeroWindows++;
    if (s.windowUpdate) windowUpdates++;
  }
  return {
    packets: total,
    lost,
    retransmissions,
    retransmissionsByCause: byCause,
    spuriousRetransmissions: spurious,
    zeroWindowProbes: probes,
    duplicateAcks: dupAcks,
    zeroWindows,
    windowUpdates,
  };
}

export function countConversation(c: Conversation, flowId?: number): ConversationCounts {
  return countPackets(c.packets, c, flowId);
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** '3 retransmissions (1 timeout, 1 fast retransmit, 1 FIN)', or '' when there is none. */
export function retransmissionText(c: ConversationCounts): string {
  if (c.retransmissions === 0) return '';
  const causes = CAUSE_NAMES.filter(([cause]) => c.retransmissionsByCause[cause]).map(
    ([cause, one, many]) => {
      const n = c.retransmissionsByCause[cause]!;
      return `${n} ${n === 1 ? one : many}`;
    },
  );
  if (c.spuriousRetransmissions) causes.push(`${c.spuriousRetransmissions} spurious`);
  return `${plural(c.retransmissions, 'retransmission')} (${causes.join(', ')})`;
}

/**
 * The counts in one line: '18 packets, 1 lost, 1 retransmission (1 fast retransmit), 3 duplicate ACKs'.
 * What is zero is left out, except the packets.
 */
export function countsText(
  c: ConversationCounts,
  options: { packets?: boolean; lost?: boolean } = {},
): string {
  const parts: string[] = [];
  if (options.packets !== false) parts.push(plural(c.packets, 'packet'));
  if (c.lost && options.lost !== false) parts.push(`${c.lost} lost`);
  const resent = retransmissionText(c);
  if (resent) parts.push(resent);
  if (c.zeroWindowProbes) parts.push(plural(c.zeroWindowProbes, 'zero-window probe'));
  if (c.duplicateAcks) parts.push(plural(c.duplicateAcks, 'duplicate ACK'));
  return parts.join(', ');
}
