/**
 * The neutral model every picture is drawn from: who sent which packet to whom and when, when it arrived
 * (or why it was lost), and what each side's TCP said about itself meanwhile (states, retransmissions,
 * congestion and RTT metrics, notes).
 *
 * It is built either from the trace of a simulated network (conversation-from-trace.ts), where every
 * frame has a send time and an arrival time, or from a capture (conversation-from-pcap.ts), where a
 * packet has the single time at which one vantage point saw it. Renderers never look at raw frames.
 *
 * Times are milliseconds on the producer's clock; `timeOrigin` is what renderers subtract for display.
 */
import type { TcpStateName } from '../trace/events.js';

/** 'icmp' covers ICMPv6 too (NDP and MLD included); 'ipv4'/'ipv6': other IP packets and fragments. */
export type PacketProtocol = 'tcp' | 'udp' | 'icmp' | 'arp' | 'ipv4' | 'ipv6' | 'other';

/** Why a link did not deliver a frame, as the link reported it. */
export type LinkDropReason = 'loss' | 'burst-loss' | 'queue-full' | 'mtu' | 'link-down';

/** How a TCP segment came to repeat sequence space it had already sent (RFC 9293 §3.8.1, RFC 5681). */
export type RetransmissionCause = 'rto' | 'fast-retransmit' | 'syn' | 'fin' | 'detected';

export interface TcpSummary {
  /** Index into `Conversation.flows`. */
  readonly flowId: number;
  /** True when the segment travels from the flow's endpoint `a` to `b`. */
  readonly fromA: boolean;
  readonly srcPort: number;
  readonly dstPort: number;
  /** Names of the set flags in a fixed order, comma separated: 'SYN,ACK', 'FIN,ACK', 'PSH,ACK'. */
  readonly flags: string;
  /** Bitwise OR of TCP_FIN ... TCP_CWR. */
  readonly flagBits: number;
  /** Absolute sequence number. */
  readonly seq: number;
  /** Absolute acknowledgment number, or undefined when the ACK flag is clear. */
  readonly ack: number | undefined;
  /** Sequence number relative to the sender's initial sequence number (the SYN counts as 0). */
  readonly relativeSeq: number;
  /** Acknowledgment number relative to the peer's initial sequence number. */
  readonly relativeAck: number | undefined;
  /** The raw 16-bit window field. */
  readonly window: number;
  /** The window in bytes: the raw field shifted by the sender's window scale once both SYNs agreed on it. */
  readonly effectiveWindow: number;
  /** Payload bytes. */
  readonly length: number;
  /** Options in one line, e.g. 'mss=1460 ws=7 sackOK ts=100/0 sack=1025-2049' (SACK edges relative). */
  readonly options: string;
  readonly mss?: number;
  readonly windowScale?: number;
  readonly sackPermitted?: boolean;
  readonly timestamp?: { readonly value: number; readonly echo: number };
  /** SACK blocks relative to the peer's initial sequence number. */
  readonly sack?: readonly { readonly left: number; readonly right: number }[];
  /** The same SACK blocks as absolute sequence numbers. */
  readonly absoluteSack?: readonly { readonly left: number; readonly right: number }[];
  /** Set when the segment resends sequence space already sent; the cause comes from the sender's trace. */
  readonly retransmission?: RetransmissionCause;
  /** 1 for the first duplicate of an ACK, 2 for the second, ... (RFC 5681 §2 definition of duplicate ACK). */
  readonly dupAck?: number;
  /** The segment advertises a zero window. */
  readonly zeroWindow?: boolean;
  /**
   * A zero-window probe (RFC 9293 §3.8.6.1): one octet at the next sequence number (or none at one below
   * it, as Linux probes) while the peer advertises window 0. Never also a retransmission.
   */
  readonly windowProbe?: boolean;
  /** A retransmission of octets that had all been acknowledged already (Wireshark's definition). */
  readonly spurious?: boolean;
  /** A pure ACK that only changes the window. */
  readonly windowUpdate?: boolean;
  /** The first payload bytes as printable text ('.' for the rest), for tooltips and tables. */
  readonly preview?: string;
}

export interface UdpSummary {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly length: number;
  readonly preview?: string;
}

export interface IcmpSummary {
  /** e.g. 'echo request', 'port unreachable', 'fragmentation needed', 'time exceeded'. */
  readonly description: string;
  readonly type: number;
  readonly code: number;
  readonly identifier?: number;
  readonly sequence?: number;
  readonly nextHopMtu?: number;
}

export interface ArpSummary {
  readonly operation: 'request' | 'reply' | number;
  readonly senderIp: string;
  readonly senderMac: string;
  readonly targetIp: string;
  readonly targetMac: string;
}

export interface Ipv4Summary {
  readonly src: string;
  readonly dst: string;
  readonly id: number;
  readonly ttl: number;
  readonly totalLength: number;
  readonly dontFragment: boolean;
  readonly moreFragments: boolean;
  /** Fragment offset in bytes. */
  readonly fragmentOffset: number;
}

export interface Ipv6Summary {
  readonly src: string;
  readonly dst: string;
  readonly hopLimit: number;
  readonly payloadLength: number;
  /** The upper-layer protocol after the extension headers. */
  readonly nextHeader: number;
  /** The Fragment header, when there is one (RFC 8200 §4.5). */
  readonly fragment?: { readonly identification: number; readonly offset: number; readonly more: boolean };
}

export interface PacketRecord {
  /** 1-based, in the order packets were sent (or captured), like a capture's frame number. */
  readonly id: number;
  /** Position of the send among everything the builder observed; orders events that share a time. */
  readonly order: number;
  readonly from: string;
  readonly to: string;
  readonly link?: string;
  readonly frameId?: number;
  readonly sentAt: number;
  /** When the frame reached `to`; for a capture the same as `sentAt`; undefined while in flight or lost. */
  readonly arrivedAt?: number;
  readonly arrivalOrder?: number;
  /** Set when the link lost the frame. */
  readonly dropped?: LinkDropReason;
  /** A second copy made by a duplicating link. */
  readonly duplicate?: boolean;
  /** The link flipped bits in this frame (the receiver's checksum should reject it). */
  readonly corrupted?: boolean;
  /** The link delivered this frame after a later one. */
  readonly reordered?: boolean;
  /** Frame length in bytes, link header included. */
  readonly frameLength: number;
  readonly protocol: PacketProtocol;
  readonly ipv4?: Ipv4Summary;
  readonly ipv6?: Ipv6Summary;
  readonly tcp?: TcpSummary;
  readonly udp?: UdpSummary;
  readonly icmp?: IcmpSummary;
  readonly arp?: ArpSummary;
  /** Why the frame could not be decoded further, e.g. 'ipv4 fragment' or 'tcp: truncated ...'. */
  readonly undecoded?: string;
}

export interface FlowEndpoint {
  readonly host: string;
  readonly address: string;
  readonly port: number;
}

/** One TCP connection: a 4-tuple from its first segment (a new SYN on a reused 4-tuple starts another). */
export interface TcpFlow {
  readonly id: number;
  /** The endpoint that sent the first segment seen (the active opener when the SYN was seen). */
  readonly a: FlowEndpoint;
  readonly b: FlowEndpoint;
  /** Initial sequence numbers when the SYNs were seen. */
  readonly isnA?: number;
  readonly isnB?: number;
  /** Window scale shift counts in use (RFC 7323 §2.2), once both SYNs carried the option. */
  readonly windowScaleA?: number;
  readonly windowScaleB?: number;
  readonly firstTime: number;
  readonly lastTime: number;
  readonly packets: number;
  /** Payload bytes sent a->b and b->a, retransmissions included. */
  readonly bytesAtoB: number;
  readonly bytesBtoA: number;
  readonly retransmissions: number;
}

export interface StateChange {
  readonly time: number;
  readonly order: number;
  readonly host: string;
  /** The flow the connection belongs to, when its segments were seen. */
  readonly flowId?: number;
  /** 'ip:port' of the connection's local and remote ends ('0.0.0.0:0' remote for a listener). */
  readonly local: string;
  readonly remote: string;
  readonly from: TcpStateName;
  readonly to: TcpStateName;
}

export interface RetransmitRecord {
  readonly time: number;
  readonly host: string;
  readonly flowId?: number;
  /** Absolute sequence number. */
  readonly seq: number;
  readonly length: number;
  readonly cause: Exclude<RetransmissionCause, 'detected'> | 'probe';
  /** The packet that carried it, when found. */
  readonly packetId?: number;
}

export interface MetricsSample {
  readonly time: number;
  readonly host: string;
  readonly flowId?: number;
  readonly local: string;
  readonly remote: string;
  readonly cwnd: number;
  readonly ssthresh: number;
  readonly srtt: number;
  readonly rttvar: number;
  readonly rto: number;
  readonly sendWindow: number;
  readonly receiveWindow: number;
  readonly bytesInFlight: number;
}

/** A round-trip time measured from the packets: data sent, then the first ACK covering it (Karn's rule). */
export interface RttSample {
  readonly flowId: number;
  /** The data sender. */
  readonly host: string;
  /** When the ACK reached the sender. */
  readonly time: number;
  readonly rtt: number;
  /** The packet whose acknowledgment produced the sample. */
  readonly packetId: number;
}

export interface NoteRecord {
  readonly time: number;
  readonly order: number;
  readonly host: string;
  readonly text: string;
}

/** A stack layer dropping something it received (bad checksum, no listener, ...). */
export interface StackDrop {
  readonly time: number;
  readonly host: string;
  readonly layer: string;
  readonly reason: string;
}

export interface Conversation {
  /** Host names, left to right as a ladder diagram draws them. */
  readonly hosts: readonly string[];
  /** IPv4 addresses each host used as a source. */
  readonly addresses: Readonly<Record<string, readonly string[]>>;
  /** In send order. */
  readonly packets: readonly PacketRecord[];
  readonly flows: readonly TcpFlow[];
  readonly states: readonly StateChange[];
  readonly retransmits: readonly RetransmitRecord[];
  readonly metrics: readonly MetricsSample[];
  readonly rttSamples: readonly RttSample[];
  readonly notes: readonly NoteRecord[];
  readonly drops: readonly StackDrop[];
  /** Frames of a capture that are not drawn, counted by why (e.g. 'ethertype 0x88cc: neither IPv4, IPv6 nor ARP'). */
  readonly skipped?: Readonly<Record<string, number>>;
  /** 'link': send and arrival times from a simulated link; 'capture': one time per packet. */
  readonly vantage: 'link' | 'capture';
  /** Renderers display `time - timeOrigin` (0 for simulations and captures). */
  readonly timeOrigin: number;
  /** For a capture: when its time 0 was, in milliseconds since the Unix epoch (times count from its first frame). */
  readonly wallClockStart?: number;
  /** Span of everything recorded (equal when nothing was). */
  readonly startTime: number;
  readonly endTime: number;
}

export { TCP_STATE_NAMES } from '../trace/events.js';

/**
 * The state of each connection end at `time`: the latest change at or before it (strictly before it when
 * `inclusive` is false, i.e. the states a window starting at `time` begins with).
 */
export function statesAt(
  conversation: Conversation,
  time: number,
  inclusive = true,
): { host: string; flowId?: number; local: string; remote: string; state: TcpStateName }[] {
  const latest = new Map<string, StateChange>();
  for (const change of conversation.states) {
    if (inclusive ? change.time > time : change.time >= time) continue;
    const key = `${change.host} ${change.local} ${change.remote}`;
    const previous = latest.get(key);
    if (
      !previous ||
      change.time > previous.time ||
      (change.time === previous.time && change.order >= previous.order)
    ) {
      latest.set(key, change);
    }
  }
  return [...latest.values()].map((c) => ({
    host: c.host,
    flowId: c.flowId,
    local: c.local,
    remote: c.remote,
    state: c.to,
  }));
}

export interface TimeWindow {
  /** Inclusive start (absolute time, same clock as the records). */
  readonly from?: number;
  /** Exclusive end. */
  readonly to?: number;
}

/**
 * The part of a conversation inside a time window: packets sent in it, state changes, notes, metrics and
 * samples inside it. Flows and hosts are kept whole so relative sequence numbers stay those of the whole
 * connection (a chapter about data transfer still counts from the SYN of an earlier chapter).
 */
export function sliceConversation(conversation: Conversation, window: TimeWindow): Conversation {
  const from = window.from ?? Number.NEGATIVE_INFINITY;
  const to = window.to ?? Number.POSITIVE_INFINITY;
  const inside = (t: number) => t >= from && t < to;
  const packets = conversation.packets.filter((p) => inside(p.sentAt));
  const times: number[] = [];
  for (const p of packets) times.push(p.sentAt, p.arrivedAt ?? p.sentAt);
  const states = conversation.states.filter((s) => inside(s.time));
  const notes = conversation.notes.filter((n) => inside(n.time));
  const metrics = conversation.metrics.filter((m) => inside(m.time));
  for (const s of states) times.push(s.time);
  for (const n of notes) times.push(n.time);
  for (const m of metrics) times.push(m.time);
  const start = Number.isFinite(from) ? from : times.length ? Math.min(...times) : conversation.startTime;
  const end = times.length ? Math.max(...times) : start;
  return {
    ...conversation,
    packets,
    states,
    notes,
    metrics,
    retransmits: conversation.retransmits.filter((r) => inside(r.time)),
    rttSamples: conversation.rttSamples.filter((r) => inside(r.time)),
    drops: conversation.drops.filter((d) => inside(d.time)),
    startTime: start,
    endTime: Math.max(start, end),
  };
}
