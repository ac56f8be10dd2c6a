/**
 * Turns what a builder observed (decoded frames with their times, and the stacks' own trace events) into
 * a `Conversation`: TCP flows with relative numbers, retransmissions attributed to their cause, state
 * changes and metrics tied to their flow, and round-trip times measured from the packets.
 */
import type { ConnectionId, Endpoint } from '../trace/events.js';
import { ipv4ToString } from '../wire/address.js';
import { type IpAddress, ipAddressToString, ipv6ToString } from '../wire/ipv6-address.js';
import { TCP_ACK, TCP_FIN, TCP_SYN } from '../wire/tcp.js';
import type {
  Conversation,
  MetricsSample,
  PacketRecord,
  RetransmitRecord,
  RttSample,
  StateChange,
  TcpFlow,
  TcpSummary,
} from './conversation.js';
import { countPackets } from './conversation-counts.js';
import type { ConversationParts, ObservedPacket } from './observed-packet.js';
import { analyzeTcpFlows, seqLt } from './tcp-flow-analysis.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function assembleConversation(parts: ConversationParts): Conversation {
  // Numbered in send order, like a capture's frame numbers (a duplicate follows its original).
  const observed = [...parts.packets].sort((x, y) => x.order - y.order).map((p, i) => ({ ...p, id: i + 1 }));
  // In a simulation the host that first sent from an address owns it, and routers forward others'
  // packets. A capture is one vantage point: every packet is an original, its ends named as the capture
  // names them (which may be address:port when both ends share an address, as on loopback).
  const owners = parts.vantage === 'capture' ? new Map<IpAddress, string>() : addressOwners(observed);
  const { flows, summaries } = analyzeTcpFlows(observed, owners);
  const flowIndex = new FlowIndex(flows);

  const retransmits = attributeRetransmissions(parts, observed, summaries, flowIndex);

  const packets: PacketRecord[] = observed.map((p) => {
    const d = p.decoded;
    const record: Mutable<PacketRecord> = {
      id: p.id,
      order: p.order,
      from: p.from,
      to: p.to,
      sentAt: p.sentAt,
      frameLength: d.frameLength,
      protocol: d.protocol,
    };
    if (p.link !== undefined) record.link = p.link;
    if (p.frameId !== undefined) record.frameId = p.frameId;
    if (p.arrivedAt !== undefined) record.arrivedAt = p.arrivedAt;
    if (p.arrivalOrder !== undefined) record.arrivalOrder = p.arrivalOrder;
    if (p.dropped) record.dropped = p.dropped;
    if (p.duplicate) record.duplicate = true;
    if (p.corrupted) record.corrupted = true;
    if (p.reordered) record.reordered = true;
    if (d.ipv4) record.ipv4 = d.ipv4;
    if (d.ipv6) record.ipv6 = d.ipv6;
    const tcp = summaries.get(p.id);
    if (tcp) record.tcp = tcp;
    if (d.udp) record.udp = d.udp;
    if (d.icmp) record.icmp = d.icmp;
    if (d.arp) record.arp = d.arp;
    if (d.undecoded) record.undecoded = d.undecoded;
    return record;
  });

  // A flow's retransmissions as every count defines them (after the stack's causes were applied).
  const counted = { flows };
  const flowsCounted = flows.map((f) => ({
    ...f,
    retransmissions: countPackets(packets, counted, f.id).retransmissions,
  }));

  const states: StateChange[] = parts.states
    .map((s) => {
      const change: Mutable<StateChange> = {
        time: s.time,
        order: s.order,
        host: s.host,
        local: endpointText(s.conn.local),
        remote: endpointText(s.conn.remote),
        from: s.from,
        to: s.to,
      };
      const flowId = flowIndex.find(s.conn, s.time);
      if (flowId !== undefined) change.flowId = flowId;
      return change;
    })
    .sort(byTimeThenOrder);

  const metrics: MetricsSample[] = parts.metrics
    .map((m) => {
      const { conn, ...values } = m;
      const sample: Mutable<MetricsSample> = {
        ...values,
        local: endpointText(conn.local),
        remote: endpointText(conn.remote),
      };
      const flowId = flowIndex.find(conn, m.time);
      if (flowId !== undefined) sample.flowId = flowId;
      return sample;
    })
    .sort((x, y) => x.time - y.time);

  const notes = [...parts.notes].sort(byTimeThenOrder);
  const hosts = orderHosts(parts, packets);
  const addresses: Record<string, string[]> = {};
  const addAddress = (host: string, address: IpAddress) => {
    const list = addresses[host] ?? [];
    const text = ipAddressToString(address);
    if (!list.includes(text)) list.push(text);
    addresses[host] = list;
  };
  for (const [address, host] of owners) addAddress(host, address);
  if (parts.vantage === 'capture') {
    for (const p of observed)
      if (p.decoded.srcAddress !== undefined) addAddress(p.from, p.decoded.srcAddress);
  }

  const times: number[] = [];
  for (const p of packets) times.push(p.sentAt, p.arrivedAt ?? p.sentAt);
  for (const s of states) times.push(s.time);
  for (const n of notes) times.push(n.time);
  for (const m of metrics) times.push(m.time);
  let startTime = Number.POSITIVE_INFINITY;
  let endTime = Number.NEGATIVE_INFINITY;
  for (const t of times) {
    if (t < startTime) startTime = t;
    if (t > endTime) endTime = t;
  }
  if (!Number.isFinite(startTime)) startTime = endTime = parts.timeOrigin ?? 0;

  return {
    hosts,
    addresses,
    packets,
    flows: flowsCounted,
    states,
    retransmits,
    metrics,
    rttSamples: measureRtt(packets, flows),
    notes,
    drops: [...parts.drops],
    ...(parts.skipped ? { skipped: parts.skipped } : {}),
    vantage: parts.vantage,
    timeOrigin: parts.timeOrigin ?? 0,
    ...(parts.wallClockStart !== undefined ? { wallClockStart: parts.wallClockStart } : {}),
    startTime,
    endTime,
  };
}

function byTimeThenOrder(x: { time: number; order: number }, y: { time: number; order: number }): number {
  return x.time - y.time || x.order - y.order;
}

function endpointText(e: Endpoint): string {
  // RFC 3986 §3.2.2: an IPv6 address beside a port goes in brackets.
  if (typeof e.address === 'bigint') return `[${ipv6ToString(e.address)}]:${e.port}`;
  return `${ipv4ToString(e.address)}:${e.port}`;
}

/** The host that first sent from an address owns it (routers forward others' packets later). */
function addressOwners(packets: readonly ObservedPacket[]): Map<IpAddress, string> {
  const owners = new Map<IpAddress, string>();
  for (const p of packets) {
    const d = p.decoded;
    if (d.protocol === 'arp' && d.srcAddress !== undefined) {
      if (!owners.has(d.srcAddress) && d.srcAddress !== 0) owners.set(d.srcAddress, p.from);
    } else if (
      (d.ipv4 || d.ipv6) &&
      d.srcAddress !== undefined &&
      d.srcAddress !== 0 &&
      d.srcAddress !== 0n &&
      !owners.has(d.srcAddress)
    ) {
      owners.set(d.srcAddress, p.from);
    }
  }
  return owners;
}

function orderHosts(parts: ConversationParts, packets: readonly PacketRecord[]): string[] {
  const hosts: string[] = [];
  const seen = new Set<string>();
  const add = (h: string) => {
    if (!seen.has(h)) {
      seen.add(h);
      hosts.push(h);
    }
  };
  for (const h of parts.hostOrder ?? []) add(h);
  for (const p of packets) {
    add(p.from);
    add(p.to);
  }
  for (const s of parts.states) add(s.host);
  for (const n of parts.notes) add(n.host);
  for (const m of parts.metrics) add(m.host);
  return hosts;
}

/** Finds the flow of a connection named by a stack (its local and remote ends) at a given time. */
class FlowIndex {
  private readonly byTuple = new Map<string, TcpFlow[]>();

  constructor(flows: readonly TcpFlow[]) {
    for (const f of flows) {
      for (const key of [
        `${f.a.address}:${f.a.port}>${f.b.address}:${f.b.port}`,
        `${f.b.address}:${f.b.port}>${f.a.address}:${f.a.port}`,
      ]) {
        const list = this.byTuple.get(key);
        if (list) list.push(f);
        else this.byTuple.set(key, [f]);
      }
    }
  }

  find(conn: ConnectionId, time: number): number | undefined {
    const list = this.byTuple.get(`${endpointText(conn.local)}>${endpointText(conn.remote)}`);
    if (!list) return undefined;
    // A reused 4-tuple has several incarnations: take the latest one that had begun by `time` (a state
    // change into SYN-SENT comes just before the SYN itself).
    let chosen = list[0]!;
    for (const f of list) if (f.firstTime <= time) chosen = f;
    return chosen.id;
  }
}

/**
 * Ties each `tcp.retransmit` event to the segment that carried it (the first one the host sent at or after
 * the event with that sequence number) and marks the segment with the event's cause. Forwarded copies of
 * that segment on later links inherit the cause.
 */
function attributeRetransmissions(
  parts: ConversationParts,
  packets: readonly ObservedPacket[],
  summaries: Map<number, TcpSummary>,
  flowIndex: FlowIndex,
): RetransmitRecord[] {
  const claimed = new Set<number>();
  const records: RetransmitRecord[] = [];
  // Candidates by sender and sequence number, in send order.
  const bySenderSeq = new Map<string, ObservedPacket[]>();
  const bySeq = new Map<number, ObservedPacket[]>();
  for (const p of packets) {
    const s = summaries.get(p.id);
    if (!s) continue;
    const key = `${p.from} ${s.seq}`;
    const list = bySenderSeq.get(key);
    if (list) list.push(p);
    else bySenderSeq.set(key, [p]);
    const sameSeq = bySeq.get(s.seq);
    if (sameSeq) sameSeq.push(p);
    else bySeq.set(s.seq, [p]);
  }
  const events = [...parts.retransmits].sort(byTimeThenOrder);
  for (const event of events) {
    const flowId = flowIndex.find(event.conn, event.time);
    let packetId: number | undefined;
    for (const p of bySenderSeq.get(`${event.host} ${event.seq}`) ?? []) {
      if (p.sentAt < event.time || (p.sentAt === event.time && p.order < event.order)) continue;
      if (claimed.has(p.id)) continue;
      const s = summaries.get(p.id)!;
      if (flowId !== undefined && s.flowId !== flowId) continue;
      claimed.add(p.id);
      packetId = p.id;
      // The stack's word decides the cause; a probe is a probe, not a retransmission, whatever its octet.
      if (event.cause === 'probe') {
        if (s.windowProbe) break;
        const { retransmission: _, ...rest } = s;
        summaries.set(p.id, { ...rest, windowProbe: true });
        break;
      }
      if (s.retransmission === undefined) break; // the stack resent octets the receiver never took
      summaries.set(p.id, { ...s, retransmission: event.cause });
      propagateToCopies(p, s, event.cause, bySeq.get(s.seq)!, summaries);
      break;
    }
    const record: Mutable<RetransmitRecord> = {
      time: event.time,
      host: event.host,
      seq: event.seq,
      length: event.length,
      cause: event.cause,
    };
    if (flowId !== undefined) record.flowId = flowId;
    if (packetId !== undefined) record.packetId = packetId;
    records.push(record);
  }
  return records;
}

function propagateToCopies(
  original: ObservedPacket,
  s: TcpSummary,
  cause: Exclude<RetransmitRecord['cause'], 'probe'>,
  sameSeq: readonly ObservedPacket[],
  summaries: Map<number, TcpSummary>,
): void {
  const ipId = original.decoded.ipv4?.id;
  for (const p of sameSeq) {
    if (p.order <= original.order || p.from === original.from) continue;
    const c = summaries.get(p.id);
    if (!c || c.flowId !== s.flowId || c.fromA !== s.fromA || c.seq !== s.seq || c.length !== s.length)
      continue;
    if (c.flagBits !== s.flagBits || p.decoded.ipv4?.id !== ipId) continue;
    summaries.set(p.id, { ...c, retransmission: cause });
  }
}

/**
 * RTT samples as a capture tool measures them at the data sender: from a segment's transmission to the
 * arrival of the first ACK covering it, skipping segments that were ever retransmitted (Karn's rule, as
 * RFC 6298 §3 applies it).
 */
function measureRtt(packets: readonly PacketRecord[], flows: readonly TcpFlow[]): RttSample[] {
  const samples: RttSample[] = [];
  const byFlow = new Map<number, PacketRecord[]>();
  for (const p of packets) {
    if (!p.tcp) continue;
    const list = byFlow.get(p.tcp.flowId);
    if (list) list.push(p);
    else byFlow.set(p.tcp.flowId, [p]);
  }
  for (const flow of flows) {
    const flowPackets = byFlow.get(flow.id) ?? [];
    for (const fromA of [true, false]) {
      const sender = fromA ? flow.a.host : flow.b.host;
      type Step = { time: number; order: number; packet: PacketRecord; isAck: boolean };
      const steps: Step[] = [];
      for (const p of flowPackets) {
        const s = p.tcp!;
        if (s.fromA === fromA && p.from === sender) {
          const seqLength = s.length + (s.flagBits & TCP_SYN ? 1 : 0) + (s.flagBits & TCP_FIN ? 1 : 0);
          if (seqLength > 0) steps.push({ time: p.sentAt, order: p.order, packet: p, isAck: false });
        } else if (
          s.fromA !== fromA &&
          p.to === sender &&
          p.arrivedAt !== undefined &&
          s.flagBits & TCP_ACK
        ) {
          steps.push({ time: p.arrivedAt, order: p.arrivalOrder ?? p.order, packet: p, isAck: true });
        }
      }
      steps.sort((x, y) => x.time - y.time || x.order - y.order);
      const outstanding: {
        start: number;
        end: number;
        sentAt: number;
        retransmitted: boolean;
        id: number;
      }[] = [];
      for (const step of steps) {
        const s = step.packet.tcp!;
        if (!step.isAck) {
          const seqLength = s.length + (s.flagBits & TCP_SYN ? 1 : 0) + (s.flagBits & TCP_FIN ? 1 : 0);
          const end = (s.seq + seqLength) >>> 0;
          const resent = s.retransmission !== undefined;
          if (resent) {
            for (const o of outstanding)
              if (seqLt(o.start, end) && seqLt(s.seq, o.end)) o.retransmitted = true;
          }
          outstanding.push({
            start: s.seq,
            end,
            sentAt: step.time,
            retransmitted: resent,
            id: step.packet.id,
          });
          continue;
        }
        const ack = s.ack!;
        let covered: (typeof outstanding)[number] | undefined;
        let tainted = false;
        for (let i = 0; i < outstanding.length; ) {
          const o = outstanding[i]!;
          if (!seqLt(ack, o.end)) {
            if (o.retransmitted) tainted = true;
            if (!covered || seqLt(covered.end, o.end) || o.end === ack) covered = o;
            outstanding.splice(i, 1);
          } else {
            i++;
          }
        }
        if (covered && !tainted) {
          samples.push({
            flowId: flow.id,
            host: sender,
            time: step.time,
            rtt: step.time - covered.sentAt,
            packetId: covered.id,
          });
        }
      }
    }
  }
  return samples.sort((x, y) => x.time - y.time);
}
