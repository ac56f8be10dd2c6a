/**
 * IPv4 forwarding (RFC 1812 §5.2-5.3): a router's job of the IPv4 layer, kept apart from input, output
 * and offload. What arrived for another host goes out the route's interface with its TTL decremented, or
 * is dropped with the ICMP error RFC 1812 prescribes (no route, TTL exceeded, fragmentation needed); a
 * large coalesced TCP packet from an offloading device is cut back into the segments it stands for.
 */
import type { ReceivedFrameInfo } from '../link/device.js';
import { allocateFrame } from '../link/frame-allocator.js';
import { segmentTcpPacket } from '../tcp/ip-glue/tcp-segmentation.js';
import { checksumAdjust } from '../wire/checksum.js';
import { ETHERNET_HEADER_LENGTH } from '../wire/ethernet.js';
import {
  ICMP_DESTINATION_UNREACHABLE,
  ICMP_FRAGMENTATION_NEEDED,
  ICMP_NET_UNREACHABLE,
  ICMP_TIME_EXCEEDED,
  ICMP_TTL_EXCEEDED_IN_TRANSIT,
} from '../wire/icmp.js';
import { IP_PROTOCOL_TCP, type Ipv4Header, type Ipv4Packet } from '../wire/ipv4.js';
import { tcpHeaderLengthAt } from '../wire/tcp.js';
import { isClassE, isLoopback } from './address-prefix.js';
import { fragmentDatagram } from './fragmentation.js';
import type { IcmpLayer } from './icmp-layer.js';
import type { IpInterface } from './ip-interface.js';
import { completeTransportChecksum, type Ipv4Transmitter } from './ipv4-offload.js';
import type { RoutingTable } from './routing-table.js';

/** What forwarding needs of the layer: routes, ICMP errors, and the link output. @internal */
export interface Ipv4Router extends Ipv4Transmitter {
  readonly routes: RoutingTable;
  readonly icmp: IcmpLayer;
}

export function forwardIpv4(
  router: Ipv4Router,
  ingress: IpInterface,
  packet: Ipv4Packet,
  datagram: Uint8Array,
  linkBroadcast: boolean,
  info: ReceivedFrameInfo | undefined,
): void {
  const { counters } = router.ctx;
  const original = { packet, bytes: datagram, linkBroadcast, destination: 'unicast' as const };
  // RFC 1812 §5.3.4: what arrived as a link-layer broadcast is not forwarded (unless IP multicast).
  if (linkBroadcast) {
    counters.IpInAddrErrors++;
    router.ctx.drop('ipv4', 'forward-link-broadcast');
    return;
  }
  const dst = packet.dst;
  if (dst === 0 || isClassE(dst) || isLoopback(dst)) {
    counters.IpInAddrErrors++;
    router.ctx.drop('ipv4', 'martian-destination');
    return;
  }
  const route = router.routes.lookup(dst);
  if (route === undefined) {
    counters.IpOutNoRoutes++;
    router.ctx.drop('ipv4', 'no-route');
    router.icmp.sendError(ICMP_DESTINATION_UNREACHABLE, ICMP_NET_UNREACHABLE, original);
    return;
  }
  const egress = route.interface;
  // RFC 1812 §5.3.5.2: forwarding directed broadcasts MUST be off by default (smurf amplification).
  if (egress.isDirectedBroadcast(dst)) {
    counters.IpInAddrErrors++;
    router.ctx.drop('ipv4', 'forward-directed-broadcast');
    return;
  }
  // RFC 1812 §5.3.1: a datagram whose TTL would reach 0 is discarded with Time Exceeded.
  if (packet.ttl <= 1) {
    counters.IpInHdrErrors++;
    router.ctx.drop('ipv4', 'ttl-exceeded');
    router.icmp.sendError(ICMP_TIME_EXCEEDED, ICMP_TTL_EXCEEDED_IN_TRANSIT, original);
    return;
  }
  const mtu = egress.mtu;
  // A large (GSO) TCP packet from an offloading device stands for segments of `segmentSize` payload
  // bytes: it is those segments, not the packet, that must fit the next hop (as Linux's ip_forward
  // checks with skb_gso_validate_network_len).
  const gsoSegmentSize =
    info !== undefined && info.segmentSize > 0 && packet.protocol === IP_PROTOCOL_TCP ? info.segmentSize : 0;
  const wireLength =
    gsoSegmentSize > 0
      ? Math.min(
          packet.totalLength,
          packet.headerLength + tcpHeaderLengthAt(datagram, packet.headerLength) + gsoSegmentSize,
        )
      : packet.totalLength;
  if (wireLength > mtu && packet.dontFragment) {
    // RFC 1191 §4: say how large a datagram the next hop takes.
    counters.IpFragFails++;
    router.ctx.drop('ipv4', 'fragmentation-needed');
    router.icmp.sendError(ICMP_DESTINATION_UNREACHABLE, ICMP_FRAGMENTATION_NEEDED, original, mtu);
    return;
  }

  // A copy: received frames may still be referenced (traces, captures), so they are never modified.
  const frame = allocateFrame(ETHERNET_HEADER_LENGTH + packet.totalLength);
  frame.set(datagram, ETHERNET_HEADER_LENGTH);
  decrementTtl(frame, ETHERNET_HEADER_LENGTH);
  const nextHop = route.gateway ?? dst;
  counters.IpForwDatagrams++;
  if (
    gsoSegmentSize > 0 &&
    (packet.totalLength > mtu ||
      packet.totalLength - packet.headerLength - tcpHeaderLengthAt(datagram, packet.headerLength) >
        gsoSegmentSize)
  ) {
    // Cut into the segments it stands for (checksums computed in full), whatever its size relative to
    // the next hop's MTU: the sender's segment size is the receiver's MSS, which may be far below it.
    // A segment size the next hop cannot carry (DF clear here) is lowered to what it can.
    const perSegment = Math.min(
      gsoSegmentSize,
      mtu - packet.headerLength - tcpHeaderLengthAt(datagram, packet.headerLength),
    );
    const pieces =
      perSegment > 0
        ? segmentTcpPacket(frame.subarray(ETHERNET_HEADER_LENGTH), perSegment, ETHERNET_HEADER_LENGTH)
        : undefined;
    if (pieces === undefined) {
      counters.IpFragFails++;
      router.ctx.drop('ipv4', 'cannot-segment');
      return;
    }
    for (const piece of pieces) router.transmit(egress, piece, nextHop, undefined);
    return;
  }
  const trusted = ingress.checksumOffload || info?.checksumTrusted === true;
  if (trusted && !egress.checksumOffload) completeTransportChecksum(frame, packet);

  if (packet.totalLength <= mtu) {
    router.transmit(egress, frame, nextHop, undefined);
    return;
  }
  const ip = frame.subarray(ETHERNET_HEADER_LENGTH);
  const header: Ipv4Header = {
    tos: packet.tos,
    id: packet.id,
    dontFragment: false,
    moreFragments: packet.moreFragments,
    fragmentOffset: packet.fragmentOffset,
    ttl: ip[8]!,
    protocol: packet.protocol,
    src: packet.src,
    dst,
    options: packet.options,
  };
  const frames = fragmentDatagram(header, ip.subarray(packet.headerLength), mtu, ETHERNET_HEADER_LENGTH);
  if (frames === undefined) {
    counters.IpFragFails++;
    router.ctx.drop('ipv4', 'cannot-fragment');
    return;
  }
  counters.IpFragOKs++;
  counters.IpFragCreates += frames.length;
  for (const f of frames) router.transmit(egress, f, nextHop, undefined);
}

/** Decrements TTL in the header at `offset` and patches its checksum incrementally (RFC 1624). */
function decrementTtl(buf: Uint8Array, offset: number): void {
  const ttl = buf[offset + 8]!;
  const protocol = buf[offset + 9]!;
  const checksum = (buf[offset + 10]! << 8) | buf[offset + 11]!;
  const updated = checksumAdjust(checksum, (ttl << 8) | protocol, ((ttl - 1) << 8) | protocol);
  buf[offset + 8] = ttl - 1;
  buf[offset + 10] = updated >>> 8;
  buf[offset + 11] = updated & 0xff;
}
