/**
 * Turns one frame into what a picture needs to know about it, using the stack's own wire parsers.
 *
 * Pictures show what was on the wire, good or bad, so checksums are not verified here (a capture taken on
 * a host with checksum offload carries unfinished checksums on every outgoing packet) and TCP options are
 * parsed leniently. A frame that cannot be decoded still gets a record saying how far decoding got.
 */

import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_RAW } from '../pcap/pcap-reader.js';
import { ipv4ToString, macToString } from '../wire/address.js';
import { ARP_REPLY, ARP_REQUEST, parseArp } from '../wire/arp.js';
import {
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  ETHERTYPE_VLAN,
  parseEthernet,
} from '../wire/ethernet.js';
import {
  ICMP_FRAGMENT_REASSEMBLY_TIME_EXCEEDED,
  ICMP_FRAGMENTATION_NEEDED,
  ICMP_HOST_UNREACHABLE,
  ICMP_NET_UNREACHABLE,
  ICMP_PORT_UNREACHABLE,
  ICMP_PROTOCOL_UNREACHABLE,
  type IcmpMessage,
  parseIcmp,
} from '../wire/icmp.js';
import { type Icmpv6Message, parseIcmpv6 } from '../wire/icmpv6.js';
import {
  IP_PROTOCOL_ICMP,
  IP_PROTOCOL_TCP,
  IP_PROTOCOL_UDP,
  parseIpv4,
  parseQuotedIpv4,
} from '../wire/ipv4.js';
import { IPV6_NEXT_FRAGMENT, IPV6_NEXT_ICMPV6, parseIpv6, parseQuotedIpv6 } from '../wire/ipv6.js';
import { type IpAddress, ipv6ToString } from '../wire/ipv6-address.js';
import { parseIpv6FragmentHeader, walkIpv6Headers } from '../wire/ipv6-extension-headers.js';
import { parseTcp, type TcpOptions } from '../wire/tcp.js';
import { parseUdp } from '../wire/udp.js';
import type {
  ArpSummary,
  IcmpSummary,
  Ipv4Summary,
  Ipv6Summary,
  PacketProtocol,
  UdpSummary,
} from './conversation.js';

/** What the TCP flow analysis needs from a segment, before relative numbers are known. */
export interface DecodedTcp {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  readonly flags: number;
  readonly window: number;
  readonly options: TcpOptions;
  readonly length: number;
  readonly preview?: string;
}

export interface DecodedFrame {
  readonly protocol: PacketProtocol;
  readonly frameLength: number;
  readonly ipv4?: Ipv4Summary;
  readonly ipv6?: Ipv6Summary;
  /** Numeric addresses (a number for IPv4 and ARP, a bigint for IPv6), for flow keys. */
  readonly srcAddress?: IpAddress;
  readonly dstAddress?: IpAddress;
  readonly tcp?: DecodedTcp;
  readonly udp?: UdpSummary;
  readonly icmp?: IcmpSummary;
  readonly arp?: ArpSummary;
  readonly undecoded?: string;
}

/**
 * Link-layer header types (the pcap LINKTYPE_ values) a capture may use, beyond those the pcap reader
 * names. A capture made with `tcpdump -i any` is Linux cooked (SLL, or SLL2 in newer versions); one made
 * on a tunnel is raw IP; one made on BSD loopback is NULL.
 */
export const LINKTYPE_NULL = 0;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_LINUX_SLL2 = 276;

const PREVIEW_BYTES = 32;

/** Printable ASCII of the first payload bytes, other bytes as '.', for tooltips. */
export function payloadPreview(payload: Uint8Array): string | undefined {
  if (payload.length === 0) return undefined;
  let text = '';
  const n = Math.min(payload.length, PREVIEW_BYTES);
  for (let i = 0; i < n; i++) {
    const b = payload[i]!;
    text += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
  }
  return payload.length > n ? `${text}…` : text;
}

/** Decodes an Ethernet frame down to its transport header. Never throws. */
export function decodeEthernetFrame(frame: Uint8Array): DecodedFrame {
  return decodeLinkFrame(frame, LINKTYPE_ETHERNET);
}

/** Decodes a frame of the given link type down to its transport header. Never throws. */
export function decodeLinkFrame(frame: Uint8Array, linkType: number): DecodedFrame {
  const frameLength = frame.length;
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      const eth = parseEthernet(frame);
      if (!eth.ok) return { protocol: 'other', frameLength, undecoded: `ethernet: ${eth.error.message}` };
      let etherType = eth.value.etherType;
      let payload = eth.value.payload;
      // One 802.1Q tag (IEEE 802.1Q §9.6): skip its 4 bytes to reach the real EtherType.
      if (etherType === ETHERTYPE_VLAN && payload.length >= 4) {
        etherType = (payload[2]! << 8) | payload[3]!;
        payload = payload.subarray(4);
      }
      return decodeByEtherType(etherType, payload, frameLength);
    }
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
      return decodeByEtherType(
        frame.length > 0 && frame[0]! >>> 4 === 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4,
        frame,
        frameLength,
      );
    case LINKTYPE_LINUX_SLL:
      if (frame.length < 16)
        return { protocol: 'other', frameLength, undecoded: 'linux cooked header truncated' };
      return decodeByEtherType((frame[14]! << 8) | frame[15]!, frame.subarray(16), frameLength);
    case LINKTYPE_LINUX_SLL2:
      if (frame.length < 20)
        return { protocol: 'other', frameLength, undecoded: 'linux cooked header truncated' };
      return decodeByEtherType((frame[0]! << 8) | frame[1]!, frame.subarray(20), frameLength);
    case LINKTYPE_NULL: {
      if (frame.length < 4) return { protocol: 'other', frameLength, undecoded: 'loopback header truncated' };
      // The address family is in the capturing host's byte order; AF_INET is 2 everywhere.
      const family = frame[0] === 2 || frame[3] === 2 ? ETHERTYPE_IPV4 : -1;
      return decodeByEtherType(family, frame.subarray(4), frameLength);
    }
    default:
      return { protocol: 'other', frameLength, undecoded: `link type ${linkType}` };
  }
}

function decodeByEtherType(etherType: number, payload: Uint8Array, frameLength: number): DecodedFrame {
  if (etherType === ETHERTYPE_ARP) {
    const arp = parseArp(payload);
    if (!arp.ok) return { protocol: 'arp', frameLength, undecoded: `arp: ${arp.error.message}` };
    const p = arp.value;
    return {
      protocol: 'arp',
      frameLength,
      arp: {
        operation:
          p.operation === ARP_REQUEST ? 'request' : p.operation === ARP_REPLY ? 'reply' : p.operation,
        senderIp: ipv4ToString(p.senderIp),
        senderMac: macToString(p.senderMac),
        targetIp: ipv4ToString(p.targetIp),
        targetMac: macToString(p.targetMac),
      },
      srcAddress: p.senderIp,
      dstAddress: p.targetIp,
    };
  }
  if (etherType === ETHERTYPE_IPV6) return decodeIpv6(payload, frameLength);
  if (etherType !== ETHERTYPE_IPV4) {
    return {
      protocol: 'other',
      frameLength,
      undecoded: `ethertype 0x${etherType.toString(16).padStart(4, '0')}`,
    };
  }
  let ip = parseIpv4(payload, { verifyChecksum: false });
  // A capture with a short snap length (tcpdump -s 96) keeps only the headers: decode what is there and
  // take lengths from the length fields.
  let cut = false;
  if (!ip.ok && ip.error.kind === 'bad-total-length') {
    const quoted = parseQuotedIpv4(payload);
    if (quoted.ok && quoted.value.totalLength > quoted.value.headerLength + quoted.value.payload.length) {
      ip = quoted;
      cut = true;
    }
  }
  if (!ip.ok) return { protocol: 'ipv4', frameLength, undecoded: `ipv4: ${ip.error.message}` };
  const packet = ip.value;
  const transportLength = packet.totalLength - packet.headerLength;
  const ipv4: Ipv4Summary = {
    src: ipv4ToString(packet.src),
    dst: ipv4ToString(packet.dst),
    id: packet.id,
    ttl: packet.ttl,
    totalLength: packet.totalLength,
    dontFragment: packet.dontFragment,
    moreFragments: packet.moreFragments,
    fragmentOffset: packet.fragmentOffset,
  };
  const base = { frameLength, ipv4, srcAddress: packet.src, dstAddress: packet.dst };
  // A fragment carries only part of a transport message: RFC 791 reassembly happens at the receiver, so a
  // picture of the wire shows the fragments themselves.
  if (packet.moreFragments || packet.fragmentOffset > 0) {
    return { ...base, protocol: 'ipv4', undecoded: `fragment of ${protocolName(packet.protocol)}` };
  }
  switch (packet.protocol) {
    case IP_PROTOCOL_TCP:
      // A cut capture: the payload length comes from the IP header, less the TCP header.
      return decodeTcp(
        base,
        packet.payload,
        packet.src,
        packet.dst,
        cut ? transportLength - (packet.payload[12]! >>> 4) * 4 : undefined,
      );
    case IP_PROTOCOL_UDP: {
      if (cut && packet.payload.length >= 8) {
        const b = packet.payload;
        const udp = {
          srcPort: (b[0]! << 8) | b[1]!,
          dstPort: (b[2]! << 8) | b[3]!,
          length: transportLength - 8,
        };
        return { ...base, protocol: 'udp', udp: { ...udp, preview: payloadPreview(b.subarray(8)) } };
      }
      return decodeUdp(base, packet.payload, packet.src, packet.dst);
    }
    case IP_PROTOCOL_ICMP: {
      const icmp = parseIcmp(packet.payload, { verifyChecksum: false });
      if (!icmp.ok) return { ...base, protocol: 'icmp', undecoded: `icmp: ${icmp.error.message}` };
      return { ...base, protocol: 'icmp', icmp: summarizeIcmp(icmp.value) };
    }
    default:
      return { ...base, protocol: 'ipv4', undecoded: protocolName(packet.protocol) };
  }
}

type FrameBase = Omit<DecodedFrame, 'protocol'>;

/** A TCP segment of either IP version; `length` overrides the payload length (a cut capture). */
function decodeTcp(
  base: FrameBase,
  bytes: Uint8Array,
  src: IpAddress,
  dst: IpAddress,
  length: number | undefined,
): DecodedFrame {
  const tcp = parseTcp(bytes, src, dst, { verifyChecksum: false, lenientOptions: true });
  if (!tcp.ok) return { ...base, protocol: 'tcp', undecoded: `tcp: ${tcp.error.message}` };
  const s = tcp.value;
  return {
    ...base,
    protocol: 'tcp',
    tcp: {
      srcPort: s.srcPort,
      dstPort: s.dstPort,
      seq: s.seq,
      ack: s.ack,
      flags: s.flags,
      window: s.window,
      options: s.options,
      length: length ?? s.payload.length,
      preview: payloadPreview(s.payload),
    },
  };
}

/** A UDP datagram of either IP version. */
function decodeUdp(base: FrameBase, bytes: Uint8Array, src: IpAddress, dst: IpAddress): DecodedFrame {
  const udp = parseUdp(bytes, src, dst, { verifyChecksum: false });
  if (!udp.ok) return { ...base, protocol: 'udp', undecoded: `udp: ${udp.error.message}` };
  const d = udp.value;
  return {
    ...base,
    protocol: 'udp',
    udp: {
      srcPort: d.srcPort,
      dstPort: d.dstPort,
      length: d.payload.length,
      preview: payloadPreview(d.payload),
    },
  };
}

/**
 * An IPv6 packet (RFC 8200): the extension headers walked to the upper layer, which is decoded as for
 * IPv4 (TCP and UDP over the IPv6 pseudo-header, ICMPv6 by its own table). A fragment other than the
 * first, like an IPv4 fragment, is drawn as the fragment it is.
 */
function decodeIpv6(payload: Uint8Array, frameLength: number): DecodedFrame {
  const ip = parseIpv6(payload);
  if (!ip.ok) return { protocol: 'ipv6', frameLength, undecoded: `ipv6: ${ip.error.message}` };
  const packet = ip.value;
  const chain = walkIpv6Headers(packet.payload, packet.nextHeader);
  const fragmentHeader = chain.ok
    ? chain.value.headers.find((h) => h.protocol === IPV6_NEXT_FRAGMENT)
    : undefined;
  const fragment = fragmentHeader === undefined ? undefined : parseIpv6FragmentHeader(fragmentHeader);
  const upper = chain.ok ? chain.value.upperLayerProtocol : packet.nextHeader;
  const ipv6: Ipv6Summary = {
    src: ipv6ToString(packet.src),
    dst: ipv6ToString(packet.dst),
    hopLimit: packet.hopLimit,
    payloadLength: packet.payloadLength,
    nextHeader: upper,
    ...(fragment !== undefined
      ? {
          fragment: {
            identification: fragment.identification,
            offset: fragment.offset,
            more: fragment.moreFragments,
          },
        }
      : {}),
  };
  const base = { frameLength, ipv6, srcAddress: packet.src, dstAddress: packet.dst };
  if (!chain.ok) return { ...base, protocol: 'ipv6', undecoded: `ipv6: ${chain.error.message}` };
  if (fragment !== undefined && (fragment.moreFragments || fragment.offset > 0)) {
    return { ...base, protocol: 'ipv6', undecoded: `fragment of ${protocolName(upper)}` };
  }
  const body = packet.payload.subarray(chain.value.upperLayerOffset);
  switch (upper) {
    case IP_PROTOCOL_TCP:
      return decodeTcp(base, body, packet.src, packet.dst, undefined);
    case IP_PROTOCOL_UDP:
      return decodeUdp(base, body, packet.src, packet.dst);
    case IPV6_NEXT_ICMPV6: {
      const icmp = parseIcmpv6(body, packet.src, packet.dst, { verifyChecksum: false });
      if (!icmp.ok) return { ...base, protocol: 'icmp', undecoded: `icmpv6: ${icmp.error.message}` };
      return { ...base, protocol: 'icmp', icmp: summarizeIcmpv6(icmp.value, body[0]!, body[1]!) };
    }
    default:
      return { ...base, protocol: 'ipv6', undecoded: protocolName(upper) };
  }
}

/** An ICMPv6 message (RFC 4443, RFC 4861, RFC 3810) in the words the pictures use. */
function summarizeIcmpv6(m: Icmpv6Message, type: number, code: number): IcmpSummary {
  const described = (description: string) => ({ description, type, code });
  switch (m.kind) {
    case 'echo-request':
    case 'echo-reply':
      return {
        ...described(m.kind === 'echo-request' ? 'echo request' : 'echo reply'),
        identifier: m.identifier,
        sequence: m.sequence,
      };
    case 'destination-unreachable':
      return described(
        withQuotedIpv6(UNREACHABLE6_NAMES[m.code] ?? `destination unreachable (code ${m.code})`, m.original),
      );
    case 'packet-too-big':
      return { ...described(withQuotedIpv6('packet too big', m.original)), nextHopMtu: m.mtu };
    case 'time-exceeded':
      return described(
        withQuotedIpv6(m.code === 1 ? 'reassembly time exceeded' : 'hop limit exceeded', m.original),
      );
    case 'parameter-problem':
      return described(withQuotedIpv6(`parameter problem (pointer ${m.pointer})`, m.original));
    case 'neighbor-solicitation':
      return described(`neighbor solicitation for ${ipv6ToString(m.target)}`);
    case 'neighbor-advertisement':
      return described(`neighbor advertisement of ${ipv6ToString(m.target)}`);
    case 'router-solicitation':
      return described('router solicitation');
    case 'router-advertisement':
      return described('router advertisement');
    case 'redirect':
      return described(`redirect to ${ipv6ToString(m.target)}`);
    case 'mld-query':
      return described('MLD query');
    case 'mld-report':
    case 'mldv2-report':
      return described('MLD report');
    case 'mld-done':
      return described('MLD done');
    default:
      return described(`ICMPv6 type ${type} code ${code}`);
  }
}

/** RFC 4443 §3.1 codes. */
const UNREACHABLE6_NAMES: Record<number, string> = {
  0: 'no route',
  1: 'administratively prohibited',
  2: 'beyond scope',
  3: 'address unreachable',
  4: 'port unreachable',
};

/** Names the packet an ICMPv6 error quotes (as much of it as fits, RFC 4443 §2.4(c)). */
function withQuotedIpv6(name: string, original: Uint8Array): string {
  const quoted = parseQuotedIpv6(original);
  if (!quoted.ok) return name;
  const q = quoted.value;
  const chain = walkIpv6Headers(q.payload, q.nextHeader);
  const protocol = chain.ok ? chain.value.upperLayerProtocol : q.nextHeader;
  const src = ipv6ToString(q.src);
  const dst = ipv6ToString(q.dst);
  const t = chain.ok ? q.payload.subarray(chain.value.upperLayerOffset) : new Uint8Array(0);
  if ((protocol === IP_PROTOCOL_TCP || protocol === IP_PROTOCOL_UDP) && t.length >= 4) {
    const sport = (t[0]! << 8) | t[1]!;
    const dport = (t[2]! << 8) | t[3]!;
    return `${name} for ${protocolName(protocol)} [${src}]:${sport} > [${dst}]:${dport}`;
  }
  return `${name} for ${protocolName(protocol)} ${src} > ${dst}`;
}

function protocolName(protocol: number): string {
  switch (protocol) {
    case IP_PROTOCOL_TCP:
      return 'tcp';
    case IP_PROTOCOL_UDP:
      return 'udp';
    case IP_PROTOCOL_ICMP:
      return 'icmp';
    case IPV6_NEXT_ICMPV6:
      return 'icmpv6';
    default:
      return `protocol ${protocol}`;
  }
}

const UNREACHABLE_NAMES: Record<number, string> = {
  [ICMP_NET_UNREACHABLE]: 'net unreachable',
  [ICMP_HOST_UNREACHABLE]: 'host unreachable',
  [ICMP_PROTOCOL_UNREACHABLE]: 'protocol unreachable',
  [ICMP_PORT_UNREACHABLE]: 'port unreachable',
  [ICMP_FRAGMENTATION_NEEDED]: 'fragmentation needed',
};

function summarizeIcmp(m: IcmpMessage): IcmpSummary {
  switch (m.kind) {
    case 'echo-request':
    case 'echo-reply':
      return {
        description: m.kind === 'echo-request' ? 'echo request' : 'echo reply',
        type: m.kind === 'echo-request' ? 8 : 0,
        code: 0,
        identifier: m.identifier,
        sequence: m.sequence,
      };
    case 'destination-unreachable': {
      const name = UNREACHABLE_NAMES[m.code] ?? `destination unreachable (code ${m.code})`;
      return {
        description: withQuoted(name, m.original),
        type: 3,
        code: m.code,
        ...(m.code === ICMP_FRAGMENTATION_NEEDED ? { nextHopMtu: m.nextHopMtu } : {}),
      };
    }
    case 'time-exceeded': {
      const name =
        m.code === ICMP_FRAGMENT_REASSEMBLY_TIME_EXCEEDED ? 'reassembly time exceeded' : 'ttl exceeded';
      return { description: withQuoted(name, m.original), type: 11, code: m.code };
    }
    default:
      return { description: `type ${m.type} code ${m.code}`, type: m.type, code: m.code };
  }
}

/** Names the datagram an ICMP error quotes (RFC 792: its header and first 8 data bytes, ports included). */
function withQuoted(name: string, original: Uint8Array): string {
  const quoted = parseQuotedIpv4(original);
  if (!quoted.ok) return name;
  const q = quoted.value;
  const proto = protocolName(q.protocol);
  const src = ipv4ToString(q.src);
  const dst = ipv4ToString(q.dst);
  if ((q.protocol === IP_PROTOCOL_TCP || q.protocol === IP_PROTOCOL_UDP) && q.payload.length >= 4) {
    const sport = (q.payload[0]! << 8) | q.payload[1]!;
    const dport = (q.payload[2]! << 8) | q.payload[3]!;
    return `${name} for ${proto} ${src}:${sport} > ${dst}:${dport}`;
  }
  return `${name} for ${proto} ${src} > ${dst}`;
}
