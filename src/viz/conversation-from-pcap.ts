/**
 * Builds a `Conversation` from a packet capture (e.g. tcpdump on a real network). A capture is taken at
 * one vantage point, so each packet has a single time: it is both the send and the arrival time, and a
 * ladder diagram of a capture draws level arrows. Hosts are the IP addresses (or the names given for
 * them); by default only the hosts that take part in TCP conversations are kept, so the background
 * chatter of a real network (DNS, multicast, other peers' ARP) stays out of the picture.
 */

import { LINKTYPE_ETHERNET } from '../pcap/pcap-reader.js';
import { ipAddressToString } from '../wire/ipv6-address.js';
import { TCP_ACK, TCP_SYN } from '../wire/tcp.js';
import { assembleConversation } from './assemble-conversation.js';
import type { Conversation } from './conversation.js';
import { type DecodedFrame, decodeLinkFrame } from './decode-frame.js';
import type { ObservedPacket } from './observed-packet.js';

/** One captured frame: when it was seen (ms since the epoch, fractions allowed) and its bytes. */
export interface CapturedFrame {
  readonly timestampMs: number;
  /** The same time split exactly, when the reader provides it (pcap records do). */
  readonly seconds?: number;
  readonly nanoseconds?: number;
  readonly data: Uint8Array;
  /** The frame's link type, when captures mix them (pcapng interfaces); default the option's. */
  readonly linkType?: number;
}

export interface ConversationFromPcapOptions {
  /** The capture's link type (pcap LINKTYPE_*); default Ethernet. */
  readonly linkType?: number;
  /** Names for addresses, e.g. { '10.0.0.1': 'client' }; others are named by their address. */
  readonly hostNames?: Readonly<Record<string, string>>;
  /**
   * 'tcp-hosts' (default): only packets between hosts that take part in a TCP conversation (everything
   * when the capture holds no TCP); 'all': every IPv4 and ARP packet.
   */
  readonly include?: 'tcp-hosts' | 'all';
}

export function conversationFromPcap(
  records: Iterable<CapturedFrame>,
  options: ConversationFromPcapOptions = {},
): Conversation {
  const linkType = options.linkType ?? LINKTYPE_ETHERNET;
  const named = (address: string) => options.hostNames?.[address];
  const decoded: { time: number; frame: DecodedFrame; from: string; to: string }[] = [];
  const skipped: Record<string, number> = {};
  const skip = (reason: string) => {
    skipped[reason] = (skipped[reason] ?? 0) + 1;
  };
  // Times become milliseconds since the first record: an epoch time in milliseconds as a double only
  // resolves about a quarter of a microsecond, and differences of such numbers show the rounding.
  let first: CapturedFrame | undefined;
  for (const record of records) {
    first ??= record;
    const time = elapsedMs(first, record);
    const frame = decodeLinkFrame(record.data, record.linkType ?? linkType);
    // Frames without IP or ARP addresses (other EtherTypes, undecodable ones) have no place on a ladder.
    if (frame.srcAddress === undefined || frame.dstAddress === undefined) {
      skip(skipReason(frame));
      continue;
    }
    const src = ipAddressToString(frame.srcAddress);
    const dst = ipAddressToString(frame.dstAddress);
    // An endpoint is an address, or address:port when both ends of a TCP or UDP packet share the address
    // (a client and a server on one host, e.g. curl to a server on 127.0.0.1): one lifeline each.
    const ports = frame.tcp ?? frame.udp;
    const split = src === dst && ports !== undefined;
    // RFC 3986 §3.2.2: an IPv6 address beside a port goes in brackets.
    const withPort = (address: string, port: number) =>
      address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
    const from = split ? withPort(src, ports.srcPort) : src;
    const to = split ? withPort(dst, ports.dstPort) : dst;
    decoded.push({ time, frame, from: named(from) ?? from, to: named(to) ?? to });
  }

  // The TCP hosts, the first active opener first, so the client is drawn on the left.
  const tcpHosts: string[] = [];
  const addTcpHost = (h: string) => {
    if (!tcpHosts.includes(h)) tcpHosts.push(h);
  };
  for (const d of decoded) {
    const t = d.frame.tcp;
    if (t && (t.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN) {
      addTcpHost(d.from);
      addTcpHost(d.to);
    }
  }
  for (const d of decoded) {
    if (d.frame.protocol === 'tcp') {
      addTcpHost(d.from);
      addTcpHost(d.to);
    }
  }
  const keepAll = options.include === 'all' || tcpHosts.length === 0;
  const kept = new Set(tcpHosts);

  const packets: ObservedPacket[] = [];
  let order = 0;
  for (const d of decoded) {
    order++;
    if (!keepAll && !(kept.has(d.from) && kept.has(d.to))) {
      skip('not between the hosts of the TCP connections (--all keeps them)');
      continue;
    }
    packets.push({
      id: packets.length + 1,
      order,
      from: d.from,
      to: d.to,
      sentAt: d.time,
      arrivedAt: d.time,
      arrivalOrder: order,
      decoded: d.frame,
    });
  }
  return assembleConversation({
    packets,
    states: [],
    retransmits: [],
    metrics: [],
    notes: [],
    drops: [],
    vantage: 'capture',
    timeOrigin: 0,
    ...(first ? { wallClockStart: first.timestampMs } : {}),
    hostOrder: tcpHosts,
    ...(Object.keys(skipped).length ? { skipped } : {}),
  });
}

/** Why a frame without IP or ARP addresses is not drawn, in words a user acts on. */
function skipReason(frame: DecodedFrame): string {
  const why = frame.undecoded ?? 'no IP or ARP addresses';
  if (why.startsWith('link type ')) return `${why}: a link type tcpts does not read`;
  if (why.startsWith('ethertype ')) return `${why}: neither IPv4, IPv6 nor ARP`;
  return `undecodable: ${why}`;
}

/** Milliseconds from `first` to `r`, exact when both carry whole seconds and nanoseconds. */
function elapsedMs(first: CapturedFrame, r: CapturedFrame): number {
  if (
    r.seconds !== undefined &&
    r.nanoseconds !== undefined &&
    first.seconds !== undefined &&
    first.nanoseconds !== undefined
  ) {
    return (r.seconds - first.seconds) * 1000 + (r.nanoseconds - first.nanoseconds) / 1e6;
  }
  return r.timestampMs - first.timestampMs;
}
