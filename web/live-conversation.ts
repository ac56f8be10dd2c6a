/**
 * The lab's model of a conversation that is still going on: it reads the network's trace from where it
 * stopped last time, so each animation frame pays only for what happened since the previous one.
 * (`TwoHostNetwork.conversation()` rebuilds the whole conversation on every call: two seconds at the end
 * of a 16 MiB run, far too much for a frame.)
 *
 * Packets are labelled by the same flow analysis as every other picture (TcpFlowAnalyzer, so relative
 * numbers, duplicate ACKs, window probes and retransmissions are defined once), and retransmission causes
 * come from the sender's trace, as in assemble-conversation.ts. A packet's record changes after it is
 * sent: its arrival or loss is filled in when the link reports it.
 */
import type { TraceEvent } from '../src/trace/events.js';
import type { MetricsSample, PacketRecord, RetransmissionCause, TcpFlow } from '../src/viz/conversation.js';
import { hostOfDevice } from '../src/viz/conversation-from-trace.js';
import { decodeEthernetFrame } from '../src/viz/decode-frame.js';
import type { ObservedPacket } from '../src/viz/observed-packet.js';
import { TcpFlowAnalyzer } from '../src/viz/tcp-flow-analysis.js';
import { type IpAddress, ipAddressToString } from '../src/wire/ipv6-address.js';
import { TCP_FIN, TCP_SYN } from '../src/wire/tcp.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A packet as the lab keeps it: a conversation's PacketRecord whose fate may still be unknown. */
export type LivePacket = Mutable<PacketRecord>;

/** Something in the event list: a packet sent, or a connection changing state. */
export type LiveEvent =
  | { readonly kind: 'packet'; readonly time: number; readonly packet: LivePacket }
  | {
      readonly kind: 'state';
      readonly time: number;
      readonly host: string;
      readonly from: string;
      readonly to: string;
      readonly flowId: number | undefined;
    };

/** An RTT measured from the packets (Karn's rule: never from a segment that was sent twice). */
export interface LiveRttSample {
  readonly flowId: number;
  readonly host: string;
  readonly time: number;
  readonly rtt: number;
}

export type LiveMetrics = MetricsSample;

export interface LiveConversationOptions {
  /** Hosts left to right. */
  readonly hosts: readonly string[];
}

/** Where a sent segment waits for the first ACK covering it, to give an RTT sample. */
interface PendingRtt {
  end: number;
  sentAt: number;
  resent: boolean;
}

const MAX_SEQ_DISTANCE = 0x7fffffff;

/** a <= b in sequence space (RFC 9293 §3.4). */
function seqLe(a: number, b: number): boolean {
  return (b - a) >>> 0 <= MAX_SEQ_DISTANCE;
}

export class LiveConversation {
  readonly packets: LivePacket[] = [];
  readonly events: LiveEvent[] = [];
  readonly metrics: LiveMetrics[] = [];
  readonly rttSamples: LiveRttSample[] = [];
  /** Called for each packet as it is sent, and again when the link delivers or loses it. */
  onPacket: ((p: LivePacket) => void) | undefined;
  onLanded: ((p: LivePacket) => void) | undefined;
  onMetrics: ((m: LiveMetrics) => void) | undefined;
  onRtt: ((s: LiveRttSample) => void) | undefined;
  onState: ((e: Extract<LiveEvent, { kind: 'state' }>) => void) | undefined;

  private consumed = 0;
  private order = 0;
  private readonly owners = new Map<IpAddress, string>();
  private readonly analyzer = new TcpFlowAnalyzer(this.owners);
  private readonly byFrame = new Map<string, LivePacket>();
  /** tcp.retransmit causes waiting for their segment, by 'host seq'. */
  private readonly causes = new Map<string, RetransmitCause[]>();
  /** Flow of a connection, by 'host local>remote'. */
  private readonly flowOfConn = new Map<string, number>();
  private readonly rttPending = new Map<string, PendingRtt[]>();
  private flowsCache: TcpFlow[] | undefined;

  constructor(private readonly source: readonly TraceEvent[]) {}

  /** Time of the latest event read. */
  lastTime = 0;

  /** Reads the trace events recorded since the last call. */
  pump(): void {
    const events = this.source;
    for (; this.consumed < events.length; this.consumed++) this.take(events[this.consumed]!);
  }

  /** The flows seen so far (cached until the next packet). */
  flows(): TcpFlow[] {
    this.flowsCache ??= this.analyzer.flows();
    return this.flowsCache;
  }

  private take(event: TraceEvent): void {
    const order = this.order++;
    this.lastTime = event.time;
    switch (event.kind) {
      case 'link.sent':
        this.sent(event, order);
        return;
      case 'link.delivered':
      case 'link.dropped': {
        const p = this.byFrame.get(`${event.link}#${event.frameId}`);
        if (!p) return;
        if (event.kind === 'link.dropped') p.dropped = event.reason;
        else if (p.arrivedAt === undefined) {
          p.arrivedAt = event.time;
          p.arrivalOrder = order;
          this.rttOnArrival(p);
        }
        this.onLanded?.(p);
        return;
      }
      case 'link.duplicated':
      case 'link.corrupted':
      case 'link.reordered': {
        const p = this.byFrame.get(`${event.link}#${event.frameId}`);
        if (!p) return;
        if (event.kind === 'link.duplicated') p.duplicate = true;
        else if (event.kind === 'link.corrupted') p.corrupted = true;
        else p.reordered = true;
        return;
      }
      case 'tcp.retransmit': {
        const key = `${event.host} ${event.seq}`;
        const list = this.causes.get(key);
        const cause = { cause: event.cause, time: event.time };
        if (list) list.push(cause);
        else this.causes.set(key, [cause]);
        return;
      }
      case 'tcp.state': {
        const flowId = this.flowOfConn.get(connKey(event.host, event.conn));
        const e = {
          kind: 'state' as const,
          time: event.time,
          host: event.host,
          from: event.from,
          to: event.to,
          flowId,
        };
        this.events.push(e);
        this.onState?.(e);
        return;
      }
      case 'tcp.metrics': {
        const { kind: _, conn, ...values } = event;
        const sample: Mutable<LiveMetrics> = {
          ...values,
          local: endpointText(conn.local),
          remote: endpointText(conn.remote),
        };
        const flowId = this.flowOfConn.get(connKey(event.host, conn));
        if (flowId !== undefined) sample.flowId = flowId;
        this.metrics.push(sample);
        this.onMetrics?.(sample);
        return;
      }
      default:
        return;
    }
  }

  private sent(event: Extract<TraceEvent, { kind: 'link.sent' }>, order: number): void {
    const from = hostOfDevice(event.from);
    const to = hostOfDevice(event.to);
    const decoded = decodeEthernetFrame(event.frame);
    const src = decoded.srcAddress;
    if (src !== undefined && src !== 0 && src !== 0n && !this.owners.has(src)) this.owners.set(src, from);
    // What the flow analysis reads and what the pictures keep start with the same fields.
    const seen = {
      id: this.packets.length + 1,
      order,
      from,
      to,
      link: event.link,
      frameId: event.frameId,
      sentAt: event.time,
    };
    const observed: ObservedPacket = { ...seen, decoded };
    const record: LivePacket = { ...seen, frameLength: decoded.frameLength, protocol: decoded.protocol };
    if (decoded.ipv4) record.ipv4 = decoded.ipv4;
    if (decoded.udp) record.udp = decoded.udp;
    if (decoded.icmp) record.icmp = decoded.icmp;
    if (decoded.arp) record.arp = decoded.arp;
    if (decoded.undecoded) record.undecoded = decoded.undecoded;
    let summary = this.analyzer.analyze(observed);
    if (summary) {
      this.flowsCache = undefined;
      // The stack's own word on why it resent (or probed) decides the cause, as in every other picture.
      const key = `${from} ${summary.seq}`;
      const waiting = this.causes.get(key);
      const stated = waiting?.shift();
      if (waiting && waiting.length === 0) this.causes.delete(key);
      if (stated?.cause === 'probe') {
        const { retransmission: _, ...rest } = summary;
        summary = { ...rest, windowProbe: true };
      } else if (stated && summary.retransmission !== undefined) {
        summary = { ...summary, retransmission: stated.cause };
      }
      record.tcp = summary;
      if (decoded.ipv4 && decoded.tcp) {
        const local = `${decoded.ipv4.src}:${decoded.tcp.srcPort}`;
        const remote = `${decoded.ipv4.dst}:${decoded.tcp.dstPort}`;
        this.flowOfConn.set(`${from} ${local}>${remote}`, summary.flowId);
        this.flowOfConn.set(`${to} ${remote}>${local}`, summary.flowId);
      }
      this.rttOnSend(record);
    }
    this.packets.push(record);
    this.byFrame.set(`${event.link}#${event.frameId}`, record);
    this.events.push({ kind: 'packet', time: event.time, packet: record });
    this.onPacket?.(record);
  }

  private rttOnSend(p: LivePacket): void {
    const s = p.tcp!;
    const seqLength = s.length + (s.flagBits & TCP_SYN ? 1 : 0) + (s.flagBits & TCP_FIN ? 1 : 0);
    if (seqLength === 0) return;
    const key = `${s.flowId} ${s.fromA}`;
    let list = this.rttPending.get(key);
    if (!list) {
      list = [];
      this.rttPending.set(key, list);
    }
    const end = (s.seq + seqLength) >>> 0;
    // A resend taints every pending segment it overlaps (Karn's rule, RFC 6298 §3).
    if (s.retransmission || s.windowProbe) {
      for (const pending of list) if (seqLe(s.seq, pending.end - 1)) pending.resent = true;
      return;
    }
    list.push({ end, sentAt: p.sentAt, resent: false });
  }

  private rttOnArrival(p: LivePacket): void {
    const s = p.tcp;
    if (!s || s.ack === undefined || p.arrivedAt === undefined) return;
    const list = this.rttPending.get(`${s.flowId} ${!s.fromA}`);
    if (!list?.length) return;
    let covered: PendingRtt | undefined;
    let taken = 0;
    while (taken < list.length && seqLe(list[taken]!.end, s.ack)) covered = list[taken++];
    if (!covered) return;
    list.splice(0, taken);
    if (covered.resent) return;
    const sample = { flowId: s.flowId, host: p.to, time: p.arrivedAt, rtt: p.arrivedAt - covered.sentAt };
    this.rttSamples.push(sample);
    this.onRtt?.(sample);
  }
}

interface RetransmitCause {
  cause: Exclude<RetransmissionCause, 'detected'> | 'probe';
  time: number;
}

type Endpoint = { address: IpAddress; port: number };

function endpointText(e: Endpoint): string {
  const address = ipAddressToString(e.address);
  return typeof e.address === 'bigint' ? `[${address}]:${e.port}` : `${address}:${e.port}`;
}

function connKey(host: string, conn: { local: Endpoint; remote: Endpoint }): string {
  return `${host} ${endpointText(conn.local)}>${endpointText(conn.remote)}`;
}
