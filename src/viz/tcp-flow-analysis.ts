/**
 * Follows each TCP connection through the packets, as a capture analyser does, to give every segment
 * the numbers a reader wants: sequence and acknowledgment numbers relative to each side's initial
 * sequence number, the window in bytes once window scaling is agreed, and what the segment is in the
 * conversation (a retransmission, a duplicate ACK, a window probe, a window update).
 *
 * Packets are analysed in the order they were sent. On a path through routers the same segment is seen
 * once per link; only the copy sent by the host that owns the source address (the first hop) moves the
 * connection's bookkeeping, while retransmissions are recognised per link, so a forwarded copy is not
 * mistaken for a resend.
 */
import { type IpAddress, ipAddressToString } from '../wire/ipv6-address.js';
import { TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG } from '../wire/tcp.js';
import type { TcpFlow, TcpSummary } from './conversation.js';
import type { DecodedTcp } from './decode-frame.js';
import type { ObservedPacket } from './observed-packet.js';

/** RFC 7323 §2.3: a shift count above 14 is used as 14. */
const MAX_WINDOW_SCALE = 14;

const FLAG_NAMES: readonly [number, string][] = [
  [TCP_SYN, 'SYN'],
  [TCP_FIN, 'FIN'],
  [TCP_RST, 'RST'],
  [TCP_PSH, 'PSH'],
  [TCP_ACK, 'ACK'],
  [TCP_URG, 'URG'],
  [TCP_ECE, 'ECE'],
  [TCP_CWR, 'CWR'],
];

/** 'SYN,ACK', 'FIN,PSH,ACK', ... ('none' for a segment with no flag set). */
export function tcpFlagNames(flags: number): string {
  const names: string[] = [];
  for (const [bit, name] of FLAG_NAMES) if (flags & bit) names.push(name);
  return names.length ? names.join(',') : 'none';
}

/** Sequence-space comparisons modulo 2^32 (RFC 9293 §3.4). */
export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

function seqMax(a: number, b: number): number {
  return seqLt(a, b) ? b : a;
}

interface DirectionState {
  /** What relative numbers count from: the ISN, or one below the first number seen mid-connection. */
  base?: number;
  isn?: number;
  /** undefined: no SYN seen; null: a SYN without the window scale option. */
  synWindowScale?: number | null;
  /** One past the highest sequence number sent (per link, for retransmission detection). */
  nextSeqByLink: Map<string, number>;
  /** The same, as seen at the sender. */
  nextSeq?: number;
  lastAck?: number;
  lastWindow?: number;
  dupAcks: number;
  /** The latest window this side advertised, in bytes. */
  advertised?: number;
}

interface FlowTracker {
  id: number;
  a: { address: IpAddress; port: number; host: string };
  b: { address: IpAddress; port: number; host: string };
  dirs: [DirectionState, DirectionState];
  firstTime: number;
  lastTime: number;
  packets: number;
  bytes: [number, number];
  retransmissions: number;
}

export interface TcpAnalysis {
  readonly flows: TcpFlow[];
  /** By packet id. */
  readonly summaries: Map<number, TcpSummary>;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function newDirection(): DirectionState {
  return { nextSeqByLink: new Map(), dupAcks: 0 };
}

/**
 * Analyses TCP packets one at a time, in send order, so a live view can label each packet as it is sent
 * without going over the whole conversation again. `owners` maps an IP address to the host that first
 * sent from it, so a flow's endpoints are named after the hosts, not the routers in between; a live
 * caller may add owners as it goes.
 */
export class TcpFlowAnalyzer {
  private readonly trackers: FlowTracker[] = [];
  private readonly byKey = new Map<string, FlowTracker>();

  constructor(private readonly owners: Map<IpAddress, string>) {}

  /** The packet's TCP summary, or undefined when it carries no TCP segment. */
  analyze(p: ObservedPacket): TcpSummary | undefined {
    const tcp = p.decoded.tcp;
    const src = p.decoded.srcAddress;
    const dst = p.decoded.dstAddress;
    if (!tcp || src === undefined || dst === undefined) return undefined;
    const owners = this.owners;
    const forward = `${src}:${tcp.srcPort}>${dst}:${tcp.dstPort}`;
    const reverse = `${dst}:${tcp.dstPort}>${src}:${tcp.srcPort}`;
    let flow = this.byKey.get(forward) ?? this.byKey.get(reverse);
    const isOriginal = (owners.get(src) ?? p.from) === p.from;
    const pureSyn = (tcp.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN;
    if (flow && pureSyn && isOriginal) {
      // A SYN with a new ISN on a known 4-tuple opens a new incarnation of the connection (RFC 9293
      // §3.10.7.4 lets a SYN reopen a connection in TIME-WAIT); a resent SYN keeps its ISN.
      const d = flow.a.address === src && flow.a.port === tcp.srcPort ? 0 : 1;
      const isn = flow.dirs[d].isn;
      if ((isn !== undefined && isn !== tcp.seq) || (isn === undefined && flow.packets > 0 && d === 0)) {
        flow = undefined;
      }
    }
    if (!flow) {
      flow = {
        id: this.trackers.length,
        a: { address: src, port: tcp.srcPort, host: owners.get(src) ?? p.from },
        b: { address: dst, port: tcp.dstPort, host: owners.get(dst) ?? p.to },
        dirs: [newDirection(), newDirection()],
        firstTime: p.sentAt,
        lastTime: p.sentAt,
        packets: 0,
        bytes: [0, 0],
        retransmissions: 0,
      };
      this.trackers.push(flow);
      this.byKey.set(forward, flow);
      this.byKey.delete(reverse);
    }
    const fromA = flow.a.address === src && flow.a.port === tcp.srcPort;
    return analyzeSegment(flow, fromA, tcp, p, isOriginal);
  }

  /** The flows seen so far. */
  flows(): TcpFlow[] {
    return this.trackers.map(
      (t): TcpFlow => ({
        id: t.id,
        a: { host: t.a.host, address: ipAddressToString(t.a.address), port: t.a.port },
        b: { host: t.b.host, address: ipAddressToString(t.b.address), port: t.b.port },
        ...(t.dirs[0].isn !== undefined ? { isnA: t.dirs[0].isn } : {}),
        ...(t.dirs[1].isn !== undefined ? { isnB: t.dirs[1].isn } : {}),
        ...(windowScaling(t) ? { windowScaleA: scaleOf(t.dirs[0]), windowScaleB: scaleOf(t.dirs[1]) } : {}),
        firstTime: t.firstTime,
        lastTime: t.lastTime,
        packets: t.packets,
        bytesAtoB: t.bytes[0],
        bytesBtoA: t.bytes[1],
        retransmissions: t.retransmissions,
      }),
    );
  }
}

/**
 * Analyses the TCP packets of `packets` (in send order). `owners` maps an IP address to the host that
 * first sent from it, so a flow's endpoints are named after the hosts, not the routers in between.
 */
export function analyzeTcpFlows(
  packets: readonly ObservedPacket[],
  owners: Map<IpAddress, string>,
): TcpAnalysis {
  const analyzer = new TcpFlowAnalyzer(owners);
  const summaries = new Map<number, TcpSummary>();
  for (const p of packets) {
    const summary = analyzer.analyze(p);
    if (summary) summaries.set(p.id, summary);
  }
  return { flows: analyzer.flows(), summaries };
}

function windowScaling(flow: FlowTracker): boolean {
  // RFC 7323 §2.2: scaling is in effect only when both SYNs carried the option.
  return typeof flow.dirs[0].synWindowScale === 'number' && typeof flow.dirs[1].synWindowScale === 'number';
}

function scaleOf(dir: DirectionState): number {
  return Math.min(MAX_WINDOW_SCALE, dir.synWindowScale ?? 0);
}

function analyzeSegment(
  flow: FlowTracker,
  fromA: boolean,
  tcp: DecodedTcp,
  p: ObservedPacket,
  isOriginal: boolean,
): TcpSummary {
  const d = fromA ? 0 : 1;
  const me = flow.dirs[d];
  const peer = flow.dirs[1 - d]!;
  const syn = (tcp.flags & TCP_SYN) !== 0;
  const fin = (tcp.flags & TCP_FIN) !== 0;
  const rst = (tcp.flags & TCP_RST) !== 0;
  const hasAck = (tcp.flags & TCP_ACK) !== 0;
  const seqLength = tcp.length + (syn ? 1 : 0) + (fin ? 1 : 0);

  if (isOriginal) flow.packets++;
  flow.lastTime = Math.max(flow.lastTime, p.arrivedAt ?? p.sentAt);
  if (isOriginal) flow.bytes[d] += tcp.length;

  if (isOriginal && syn) {
    me.isn = tcp.seq;
    me.base = tcp.seq;
    me.synWindowScale = tcp.options.windowScale ?? null;
  }
  // Mid-connection (a capture that missed the SYN): count from one below the first number seen, so the
  // first byte seen is byte 1, as if the SYN had been there.
  if (me.base === undefined) me.base = (tcp.seq - 1) >>> 0;
  if (hasAck && peer.base === undefined) peer.base = (tcp.ack - 1) >>> 0;

  // RFC 7323 §2.2: the window field of a SYN is never scaled.
  const shift = !syn && windowScaling(flow) ? scaleOf(me) : 0;
  const effectiveWindow = tcp.window * 2 ** shift;

  // The definitions below are the ones every count in tcpts uses (conversation-counts.ts), and those of
  // Wireshark's TCP analysis (tcp.analysis.*), so a report can be checked against tshark on the same pcap.
  //
  // Zero-window probe (RFC 9293 §3.8.6.1): while the peer advertises window 0, one octet at the next
  // sequence number (Linux's form: no data at SND.NXT - 1). The receiver refuses the octet, so a probe
  // does not move what counts as sent: the data that later goes out at the same number is new data.
  const link = p.link ?? '';
  const linkNext = me.nextSeqByLink.get(link);
  const end = (tcp.seq + seqLength) >>> 0;
  const windowProbe =
    !syn &&
    !rst &&
    !fin &&
    peer.advertised === 0 &&
    linkNext !== undefined &&
    ((tcp.length === 1 && tcp.seq === linkNext) || (tcp.length === 0 && tcp.seq === (linkNext - 1) >>> 0));
  // Retransmission: sequence space below what this link already carried from this side. Per link, so a
  // copy forwarded by a router is not mistaken for a resend.
  let retransmission: TcpSummary['retransmission'];
  if (!windowProbe && seqLength > 0 && linkNext !== undefined && seqLt(tcp.seq, linkNext)) {
    retransmission = 'detected';
  }
  if (seqLength > 0 && !windowProbe) {
    me.nextSeqByLink.set(link, linkNext === undefined ? end : seqMax(linkNext, end));
  }
  // Spurious: every octet it carries had already been acknowledged (Wireshark's spurious retransmission).
  const spurious =
    retransmission !== undefined && tcp.length > 0 && peer.lastAck !== undefined && !seqLt(peer.lastAck, end);

  let dupAck: number | undefined;
  let windowUpdate: boolean | undefined;
  if (isOriginal) {
    if (seqLength > 0 && !windowProbe) me.nextSeq = me.nextSeq === undefined ? end : seqMax(me.nextSeq, end);
    if (hasAck) {
      const pureAck = seqLength === 0 && !rst && !windowProbe;
      if (pureAck && me.lastAck === tcp.ack) {
        if (me.lastWindow === tcp.window) {
          // A duplicate ACK acknowledges nothing new and carries no data and no window change (RFC 5681
          // §2; like Wireshark, without asking whether data is outstanding). A zero window is never one.
          if (tcp.window !== 0) {
            me.dupAcks++;
            dupAck = me.dupAcks;
          }
        } else {
          windowUpdate = true;
        }
      } else if (me.lastAck !== tcp.ack) {
        me.dupAcks = 0;
      }
      me.lastAck = tcp.ack;
      me.lastWindow = tcp.window;
    }
    if (!rst) me.advertised = effectiveWindow;
  }
  if (retransmission) flow.retransmissions++;

  const relativeSack = tcp.options.sack?.map((b) => ({
    left: (b.left - (peer.base ?? 0)) >>> 0,
    right: (b.right - (peer.base ?? 0)) >>> 0,
  }));
  const summary: Mutable<TcpSummary> = {
    flowId: flow.id,
    fromA,
    srcPort: tcp.srcPort,
    dstPort: tcp.dstPort,
    flags: tcpFlagNames(tcp.flags),
    flagBits: tcp.flags,
    seq: tcp.seq,
    ack: hasAck ? tcp.ack : undefined,
    relativeSeq: (tcp.seq - me.base) >>> 0,
    relativeAck: hasAck ? (tcp.ack - peer.base!) >>> 0 : undefined,
    window: tcp.window,
    effectiveWindow,
    length: tcp.length,
    options: optionsText(tcp, relativeSack),
  };
  const o = tcp.options;
  if (o.mss !== undefined) summary.mss = o.mss;
  if (o.windowScale !== undefined) summary.windowScale = o.windowScale;
  if (o.sackPermitted) summary.sackPermitted = true;
  if (o.timestamp) summary.timestamp = { value: o.timestamp.value, echo: o.timestamp.echo };
  if (relativeSack?.length) {
    summary.sack = relativeSack;
    summary.absoluteSack = o.sack!.map((b) => ({ left: b.left, right: b.right }));
  }
  if (retransmission) summary.retransmission = retransmission;
  if (dupAck) summary.dupAck = dupAck;
  if (tcp.window === 0 && !rst) summary.zeroWindow = true;
  if (windowProbe) summary.windowProbe = true;
  if (spurious) summary.spurious = true;
  if (windowUpdate) summary.windowUpdate = true;
  if (tcp.preview !== undefined) summary.preview = tcp.preview;
  return summary;
}

function optionsText(tcp: DecodedTcp, relativeSack: { left: number; right: number }[] | undefined): string {
  const o = tcp.options;
  const parts: string[] = [];
  if (o.mss !== undefined) parts.push(`mss=${o.mss}`);
  if (o.windowScale !== undefined) parts.push(`ws=${o.windowScale}`);
  if (o.sackPermitted) parts.push('sackOK');
  if (o.timestamp) parts.push(`ts=${o.timestamp.value}/${o.timestamp.echo}`);
  if (relativeSack?.length) parts.push(`sack=${relativeSack.map((b) => `${b.left}-${b.right}`).join(',')}`);
  return parts.join(' ');
}
