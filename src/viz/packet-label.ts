/**
 * The words written on a packet's arrow: 'SYN seq=0 win=65535 <mss 1460>', 'ACK seq=1 ack=3073 win=3072
 * len=0', 'UDP 5000 > 53 len=12', 'ARP who-has 10.0.0.2 tell 10.0.0.1', and the remarks a reader needs
 * about it ('retransmission (timeout)', 'dup ACK #2', 'zero window').
 */
import { TCP_SYN } from '../wire/tcp.js';
import type { PacketRecord, TcpSummary } from './conversation.js';

export interface PacketLabelOptions {
  /** Sequence and acknowledgment numbers relative to each side's ISN (default true), or absolute. */
  readonly relative?: boolean;
  /**
   * Which TCP options to show: 'handshake' (default) shows the SYN options (mss, ws, sackOK, ts) and SACK
   * blocks; 'all' adds timestamp values on every segment; 'none' shows no options.
   */
  readonly tcpOptions?: 'handshake' | 'all' | 'none';
  /** Prefix TCP labels with the ports, for diagrams holding several connections between two hosts. */
  readonly ports?: boolean;
}

/**
 * Says which sequence numbering the labels use, so a reader never has to guess: '' when no TCP segment
 * is shown.
 */
export function numberingText(packets: readonly PacketRecord[], options: PacketLabelOptions = {}): string {
  if (!packets.some((p) => p.tcp)) return '';
  return (options.relative ?? true)
    ? "seq/ack relative: 0 is each side's initial sequence number (its SYN)"
    : 'seq/ack absolute, as on the wire';
}

export function packetLabel(p: PacketRecord, options: PacketLabelOptions = {}): string {
  if (p.tcp) return tcpLabel(p.tcp, options);
  if (p.udp) return `UDP ${p.udp.srcPort} > ${p.udp.dstPort} len=${p.udp.length}`;
  if (p.icmp) {
    const i = p.icmp;
    let text = `ICMP ${i.description}`;
    if (i.identifier !== undefined) text += ` id=${i.identifier} seq=${i.sequence}`;
    if (i.nextHopMtu !== undefined) text += ` mtu=${i.nextHopMtu}`;
    return text;
  }
  if (p.arp) {
    const a = p.arp;
    if (a.operation === 'request') return `ARP who-has ${a.targetIp} tell ${a.senderIp}`;
    if (a.operation === 'reply') return `ARP ${a.senderIp} is-at ${a.senderMac}`;
    return `ARP operation ${a.operation}`;
  }
  if (p.ipv4 && p.undecoded?.startsWith('fragment')) {
    const ip = p.ipv4;
    return `IPv4 ${p.undecoded} id=${ip.id} off=${ip.fragmentOffset}${ip.moreFragments ? ' MF' : ''} len=${ip.totalLength}`;
  }
  if (p.ipv6?.fragment && p.undecoded?.startsWith('fragment')) {
    const f = p.ipv6.fragment;
    return `IPv6 ${p.undecoded} id=${f.identification} off=${f.offset}${f.more ? ' M' : ''} plen=${p.ipv6.payloadLength}`;
  }
  return p.undecoded ?? p.protocol;
}

export function tcpLabel(s: TcpSummary, options: PacketLabelOptions = {}): string {
  const relative = options.relative ?? true;
  const mode = options.tcpOptions ?? 'handshake';
  const parts: string[] = [];
  if (options.ports) parts.push(`${s.srcPort} > ${s.dstPort}`);
  parts.push(s.flags);
  parts.push(`seq=${relative ? s.relativeSeq : s.seq}`);
  if (s.ack !== undefined) parts.push(`ack=${relative ? s.relativeAck : s.ack}`);
  parts.push(`win=${s.effectiveWindow}`);
  const syn = (s.flagBits & TCP_SYN) !== 0;
  // A SYN carries no data in practice, so its 'len=0' would only be noise.
  if (!syn || s.length > 0) parts.push(`len=${s.length}`);
  if (mode !== 'none') {
    const opts: string[] = [];
    if (s.mss !== undefined) opts.push(`mss ${s.mss}`);
    if (s.windowScale !== undefined) opts.push(`ws ${s.windowScale}`);
    if (s.sackPermitted) opts.push('sackOK');
    if (s.timestamp && (syn || mode === 'all')) {
      opts.push(mode === 'all' ? `ts ${s.timestamp.value}/${s.timestamp.echo}` : 'ts');
    }
    const sack = relative ? s.sack : s.absoluteSack;
    if (sack?.length) opts.push(`sack ${sack.map((b) => `${b.left}-${b.right}`).join(' ')}`);
    if (opts.length) parts.push(`<${opts.join(',')}>`);
  }
  return parts.join(' ');
}

const CAUSE_TEXT: Record<NonNullable<TcpSummary['retransmission']>, string> = {
  rto: 'retransmission (timeout)',
  'fast-retransmit': 'fast retransmit',
  syn: 'SYN retransmission',
  fin: 'FIN retransmission',
  detected: 'retransmission',
};

export type RemarkKind = 'retransmission' | 'dup-ack' | 'window' | 'link';

export interface PacketRemark {
  readonly kind: RemarkKind;
  readonly text: string;
}

/** What is special about a packet, in the order a reader should learn it. */
export function packetRemarks(p: PacketRecord): PacketRemark[] {
  const remarks: PacketRemark[] = [];
  const s = p.tcp;
  if (s) {
    if (s.retransmission) {
      const text = CAUSE_TEXT[s.retransmission];
      remarks.push({ kind: 'retransmission', text: s.spurious ? `spurious ${text}` : text });
    }
    if (s.windowProbe) remarks.push({ kind: 'window', text: 'zero-window probe' });
    if (s.dupAck) remarks.push({ kind: 'dup-ack', text: `dup ACK #${s.dupAck}` });
    if (s.zeroWindow) remarks.push({ kind: 'window', text: 'zero window' });
    if (s.windowUpdate) remarks.push({ kind: 'window', text: 'window update' });
  }
  if (p.duplicate) remarks.push({ kind: 'link', text: 'duplicated by the link' });
  if (p.corrupted) remarks.push({ kind: 'link', text: 'corrupted by the link' });
  if (p.reordered) remarks.push({ kind: 'link', text: 'reordered by the link' });
  return remarks;
}

/** What the link did with a lost frame, in words. */
export function dropText(reason: NonNullable<PacketRecord['dropped']>): string {
  switch (reason) {
    case 'loss':
    case 'burst-loss':
      return 'lost';
    case 'queue-full':
      return 'lost (queue full)';
    case 'mtu':
      return 'lost (too big for the link)';
    case 'link-down':
      return 'lost (link down)';
  }
}

/** The kind of arrow a packet gets, which picks its color. */
export type PacketKind = 'syn' | 'fin' | 'rst' | 'data' | 'ack' | 'udp' | 'icmp' | 'arp' | 'other';

export function packetKind(p: PacketRecord): PacketKind {
  const s = p.tcp;
  if (s) {
    if (s.flags.includes('RST')) return 'rst';
    if (s.flags.includes('SYN')) return 'syn';
    if (s.flags.includes('FIN')) return 'fin';
    return s.length > 0 ? 'data' : 'ack';
  }
  if (p.protocol === 'udp') return 'udp';
  if (p.protocol === 'icmp') return 'icmp';
  if (p.protocol === 'arp') return 'arp';
  return 'other';
}

/**
 * Time as displayed: `time - origin` in milliseconds with the given decimals. Whole milliseconds are the
 * rule in simulations; captures carry microseconds.
 */
export function formatTime(time: number, origin: number, decimals: number): string {
  const value = time - origin;
  return (Object.is(value, -0) ? 0 : value).toFixed(decimals);
}

/** 0 when every time is a whole millisecond, else 3 (microseconds). */
export function timeDecimals(times: Iterable<number>, origin: number): number {
  for (const t of times) if (!Number.isInteger(Math.round((t - origin) * 1e6) / 1e6)) return 3;
  return 0;
}
