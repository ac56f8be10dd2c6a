/**
 * IPv4 output (RFC 791 §3.2, RFC 1122 §3.3.1): one of the IPv4 layer's jobs, beside input
 * (ipv4-input.ts), forwarding (ipv4-forwarding.ts) and offload (ipv4-offload.ts).
 *
 * `sendIpv4` picks the route, the source address and the next hop, allocates the frame once and lets the
 * transport write its header and payload straight into it (`PayloadWriter`), then fragments if the
 * datagram exceeds the path MTU and DF is clear, or hands it to an offloading device; `transmitFrame`
 * fills in the Ethernet header and sends through ARP; `reportResolutionFailure` tells the sender of each
 * datagram ARP could not deliver.
 */
import type { FrameTransmitOptions } from '../link/device.js';
import { allocateFrame, carvedPlace, recycleFrame } from '../link/frame-allocator.js';
import {
  IPV4_BROADCAST,
  type Ipv4Address,
  isMulticast,
  MAC_BROADCAST,
  MAC_ZERO,
  type MacAddress,
} from '../wire/address.js';
import { ETHERNET_HEADER_LENGTH, ETHERTYPE_IPV4 } from '../wire/ethernet.js';
import { ICMP_DESTINATION_UNREACHABLE, ICMP_HOST_UNREACHABLE } from '../wire/icmp.js';
import {
  emitIpv4Header,
  IP_PROTOCOL_TCP,
  IPV4_HEADER_LENGTH,
  IPV4_MAX_TOTAL_LENGTH,
  type Ipv4Header,
  parseIpv4,
} from '../wire/ipv4.js';
import { TCP_HEADER_LENGTH } from '../wire/tcp.js';
import { isLoopback } from './address-prefix.js';
import type { IpSendOptions, IpSendStatus, PayloadWriter, TransportErrorReport } from './datagram.js';
import { fragmentDatagram } from './fragmentation.js';
import type { IcmpLayer } from './icmp-layer.js';
import type { IpInterface } from './ip-interface.js';
import {
  type Ipv4Transmitter,
  MAX_TRANSPORT_HEADER,
  sendOffloaded,
  sendSegmented,
  withoutOffloads,
  writePayload,
} from './ipv4-offload.js';
import type { PathMtuCache } from './path-mtu-cache.js';
import type { RoutingTable } from './routing-table.js';

/** What output needs of the layer. @internal */
export interface Ipv4Sender extends Ipv4Transmitter {
  readonly loopback: IpInterface;
  readonly interfaces: readonly IpInterface[];
  readonly routes: RoutingTable;
  readonly pathMtu: PathMtuCache;
  readonly defaultTtl: number;
  readonly icmp: IcmpLayer;
  /** The header record `sendIpv4` refills for each datagram. */
  readonly outputHeader: Ipv4Header;
  /** The path of the last datagram sent, for the next one to the same destination. */
  readonly lastPath: Ipv4Path;
  isLocalAddress(address: Ipv4Address): boolean;
  deliverError(report: TransportErrorReport): void;
}

/** 127.0.0.1: the loopback interface's address, and the source of local traffic to 127/8. */
export const LOOPBACK_ADDRESS = 0x7f000001;

/**
 * Sends one datagram whose payload is `payload` (copied into the frame) or written in place by a
 * PayloadWriter. See IpSendStatus for the outcomes; this never throws for network conditions.
 */
export function sendIpv4(
  layer: Ipv4Sender,
  options: IpSendOptions,
  payload: PayloadWriter | Uint8Array,
): IpSendStatus {
  const { counters } = layer.ctx;
  const dst = options.dst;
  const length = payload.length;
  const ttl = options.ttl ?? layer.defaultTtl;
  const tos = options.tos ?? 0;
  const segmentSize = options.segmentSize ?? 0;
  if (!isAddress(dst) || !isByte(options.protocol) || !isByte(tos) || !isByte(ttl) || ttl === 0)
    return 'EINVAL';
  if (!Number.isInteger(segmentSize) || segmentSize < 0 || segmentSize > IPV4_MAX_TOTAL_LENGTH)
    return 'EINVAL';
  if (IPV4_HEADER_LENGTH + length > IPV4_MAX_TOTAL_LENGTH) return 'EMSGSIZE';
  const requestedSrc = options.src ?? 0;
  const path = layer.lastPath;
  if (
    path.dst !== dst ||
    path.requestedSrc !== requestedSrc ||
    path.routesGeneration !== layer.routes.generation ||
    path.pathMtuGeneration !== layer.pathMtu.generation ||
    options.interface !== undefined
  ) {
    const status = resolvePath(layer, path, dst, requestedSrc, options.interface);
    if (status !== 'ok') return status;
  }
  const iface = path.iface!;
  const mac = path.mac;
  const nextHop = path.nextHop;
  const src = path.src;
  const mtu = path.mtu;
  const dontFragment = options.dontFragment === true;
  const header = layer.outputHeader;
  header.tos = tos;
  header.id = layer.ids.next(src, dst, options.protocol);
  header.dontFragment = dontFragment;
  header.ttl = ttl;
  header.protocol = options.protocol;
  header.src = src;
  header.dst = dst;
  const offload = iface.checksumOffload;
  counters.IpOutRequests++;
  // Unicast through ARP (no MAC yet) is tested first: comparing `undefined` with a number took V8's
  // generic equality, a call for every datagram.
  if (mac !== undefined) {
    if (mac === MAC_BROADCAST) counters.IpOutBcastPkts++;
    else if (mac !== 0) counters.IpOutMcastPkts++;
  }

  const totalLength = IPV4_HEADER_LENGTH + length;
  const deviceOffload = iface === layer.loopback ? undefined : iface.device.offload;
  // A TSO request (`segmentSize`) is honoured whenever the segment may carry more payload than one
  // piece, whatever its size relative to the MTU: a peer's MSS (536 when it sent none, or clamped on
  // the way) can be far below MTU - 40, and it is the MSS the peer must never receive more than
  // (RFC 9293 §3.7.1, MUST-16). The exact test needs the TCP header length, known once written.
  const segmentation =
    segmentSize > 0 &&
    options.protocol === IP_PROTOCOL_TCP &&
    (totalLength > mtu || length - TCP_HEADER_LENGTH > segmentSize);
  if (deviceOffload !== undefined && (totalLength <= mtu || segmentation)) {
    return sendOffloaded(layer, iface, deviceOffload, header, payload, mtu, segmentSize, nextHop, mac);
  }
  if (segmentation) return sendSegmented(layer, iface, header, payload, mtu, segmentSize, nextHop, mac);
  if (totalLength <= mtu) {
    // The transport writes every byte of its payload (PayloadWriter): only the headers start from zeros
    // (a frame from a reused slab is cleared that far, not over the whole segment it is about to carry),
    // and none of it when the transport sets every byte of its header too, as IP and Ethernet do theirs.
    const cleared =
      !(payload instanceof Uint8Array) && payload.writesEveryByte === true
        ? 0
        : ETHERNET_HEADER_LENGTH + IPV4_HEADER_LENGTH + Math.min(length, MAX_TRANSPORT_HEADER);
    const frame = allocateFrame(ETHERNET_HEADER_LENGTH + totalLength, 0, cleared);
    // Where the frame lies in the checksum memory, if there: the headers are then written as whole words.
    const place = carvedPlace(ETHERNET_HEADER_LENGTH);
    emitIpv4Header(header, length, frame, ETHERNET_HEADER_LENGTH, place);
    const transportPlace = place >= 0 ? place + IPV4_HEADER_LENGTH : -1;
    writePayload(
      payload,
      frame,
      ETHERNET_HEADER_LENGTH + IPV4_HEADER_LENGTH,
      src,
      dst,
      offload,
      transportPlace,
    );
    layer.transmit(iface, frame, nextHop, mac);
    return 'ok';
  }
  if (dontFragment) {
    counters.IpFragFails++;
    return 'EMSGSIZE';
  }
  // Fragments may be forwarded onto links that cannot offload, and a router can only complete the
  // checksum of a whole datagram: fragmented datagrams always carry a computed checksum.
  const data = new Uint8Array(length);
  writePayload(payload, data, 0, src, dst, false);
  const frames = fragmentDatagram(header, data, mtu, ETHERNET_HEADER_LENGTH);
  if (frames === undefined) {
    counters.IpFragFails++;
    return 'EMSGSIZE';
  }
  counters.IpFragOKs++;
  counters.IpFragCreates += frames.length;
  for (const frame of frames) layer.transmit(iface, frame, nextHop, mac);
  return 'ok';
}

/**
 * The path of the last datagram a layer sent (`Ipv4Sender.lastPath`): its egress interface, next hop,
 * destination MAC when known without ARP, source address and MTU. A run of datagrams to one destination
 * (a connection's segments) takes it again as long as the routing table and the path MTUs are unchanged:
 * each counts its changes (`generation`), and adding or removing an interface, and so an address, changes
 * the routing table. A neighbour change needs nothing here: ARP resolves the next hop after this.
 * Datagrams that name an interface, leave from a foreign source (gateway mode) or have a learned path
 * MTU are worked out every time.
 */
export class Ipv4Path {
  /** The key: the destination and the source asked for (0 for any). */
  dst: Ipv4Address;
  requestedSrc: Ipv4Address;
  /** The tables' generations the path was worked out under; -1 when it is not to be reused. */
  routesGeneration = -1;
  pathMtuGeneration = -1;
  iface: IpInterface | undefined = undefined;
  mac: MacAddress | undefined = undefined;
  nextHop: Ipv4Address;
  src: Ipv4Address;
  mtu = 0;

  /**
   * The addresses start as NaN (no datagram matches it): a heap number, so V8 makes the fields tagged at
   * once and they take any address, a small integer or not, without a change of hidden class, and are
   * passed on as they are (a double field would box each address it hands to a call).
   */
  constructor() {
    this.dst = Number.NaN;
    this.requestedSrc = Number.NaN;
    this.nextHop = Number.NaN;
    this.src = Number.NaN;
  }
}

/** Works out the path of a datagram into `path`, or says why there is none (RFC 1122 §3.3.1). */
function resolvePath(
  layer: Ipv4Sender,
  path: Ipv4Path,
  dst: Ipv4Address,
  requestedSrc: Ipv4Address,
  requested: IpInterface | undefined,
): IpSendStatus {
  path.routesGeneration = -1;
  let src = requestedSrc === 0 ? undefined : requestedSrc;
  const foreignSource = src !== undefined && !layer.isLocalAddress(src);
  if (foreignSource && !mayUseAnySource(layer, dst, requested)) return 'EADDRNOTAVAIL';

  // Egress interface, then either a known destination MAC (broadcast, multicast) or an ARP next hop.
  let iface: IpInterface | undefined;
  let mac: MacAddress | undefined;
  let nextHop = dst;
  if (layer.isLocalAddress(dst)) {
    iface = layer.loopback;
    mac = 0;
    src ??= isLoopback(dst) ? LOOPBACK_ADDRESS : dst;
  } else if (dst === IPV4_BROADCAST || isMulticast(dst)) {
    iface =
      requested ??
      layer.interfaces.find((i) => i.address === src) ??
      layer.routes.lookup(dst)?.interface ??
      layer.interfaces[0];
    mac = dst === IPV4_BROADCAST ? MAC_BROADCAST : multicastMac(dst);
  } else {
    const route = layer.routes.lookup(dst);
    if (requested !== undefined && route?.interface !== requested) {
      iface = requested.isOnLink(dst) ? requested : undefined;
    } else if (route !== undefined) {
      iface = route.interface;
      nextHop = route.gateway ?? dst;
    }
    if (iface?.isDirectedBroadcast(dst)) mac = MAC_BROADCAST;
  }
  if (iface === undefined) {
    layer.ctx.counters.IpOutNoRoutes++;
    return 'ENETUNREACH';
  }
  path.iface = iface;
  path.mac = mac;
  path.nextHop = nextHop;
  path.src = src ?? iface.address;
  const learned = iface === layer.loopback ? undefined : layer.pathMtu.get(dst);
  path.mtu = learned === undefined ? iface.mtu : Math.min(iface.mtu, learned);
  path.dst = dst;
  path.requestedSrc = requestedSrc;
  if (requested === undefined && learned === undefined && !foreignSource) {
    path.routesGeneration = layer.routes.generation;
    path.pathMtuGeneration = layer.pathMtu.generation;
  }
  return 'ok';
}

/** A gateway-mode interface sends from any source (see IpInterface.terminateAnyDestination). */
function mayUseAnySource(layer: Ipv4Sender, dst: Ipv4Address, iface: IpInterface | undefined): boolean {
  return (iface ?? layer.routes.lookup(dst)?.interface)?.terminateAnyDestination === true;
}

/**
 * Fills in the Ethernet header and sends, through ARP unless the destination MAC is known. A frame with
 * offload requests (`options`) goes to the device only when the MAC is known now: frames waiting for
 * ARP are plain, so one that would have to wait is finished here first (segmented, checksummed).
 */
export function transmitFrame(
  layer: Ipv4Sender,
  iface: IpInterface,
  frame: Uint8Array,
  nextHop: Ipv4Address,
  mac: MacAddress | undefined,
  options?: FrameTransmitOptions,
): void {
  if (mac !== undefined) {
    iface.port.send(frame, mac, ETHERTYPE_IPV4, options);
    return;
  }
  // ARP fills in the destination: once it knows it, or now for a frame with offload requests.
  iface.port.writeHeader(frame, MAC_ZERO, ETHERTYPE_IPV4);
  if (options === undefined) {
    iface.arp.send(nextHop, frame);
  } else if (iface.arp.addressFrame(nextHop, frame)) {
    iface.port.sendFrame(frame, options);
  } else {
    const pieces = withoutOffloads(frame, options);
    for (const plain of pieces) transmitFrame(layer, iface, plain, nextHop, undefined);
    // Cut into copies: the frame itself is no one's any more (a staged one is carved again at its place).
    if (pieces.length === 0 || pieces[0] !== frame) recycleFrame(frame);
  }
}

/**
 * ARP gave up on `nextHop`: each dropped datagram is reported — to the local protocol that sent it
 * (EHOSTUNREACH, as Linux reports a failed neighbour), or, for a forwarded one, to its source with ICMP
 * host unreachable (RFC 1812 §5.2.7.1). Only first fragments are reported, once per datagram.
 */
export function reportResolutionFailure(layer: Ipv4Sender, frames: readonly Uint8Array[]): void {
  for (const frame of frames) {
    const bytes = frame.subarray(ETHERNET_HEADER_LENGTH);
    const parsedPacket = parseIpv4(bytes, { verifyChecksum: false });
    if (!parsedPacket.ok) continue;
    const packet = parsedPacket.value;
    if (packet.fragmentOffset !== 0) continue;
    if (layer.isLocalAddress(packet.src)) {
      layer.deliverError({
        code: 'EHOSTUNREACH',
        origin: 'local',
        icmpType: ICMP_DESTINATION_UNREACHABLE,
        icmpCode: ICMP_HOST_UNREACHABLE,
        reporter: packet.src,
        src: packet.src,
        dst: packet.dst,
        protocol: packet.protocol,
        transport: packet.payload,
      });
    } else {
      layer.icmp.sendError(ICMP_DESTINATION_UNREACHABLE, ICMP_HOST_UNREACHABLE, {
        packet,
        bytes,
        linkBroadcast: false,
        destination: 'unicast',
      });
    }
  }
}

// Both tests are one operation and one comparison, so V8 inlines them (its bytecode limit for always
// inlining a function is 27 bytes; the Number.isInteger form took 28 and 30, and was called): only an
// integer in range survives the conversion unchanged (NaN, fractions, negatives and values past the
// top come back different; -0 compares equal to 0, as Number.isInteger(-0) accepts it).
function isByte(n: number): boolean {
  return (n & 0xff) === n;
}

function isAddress(a: number): boolean {
  return a >>> 0 === a;
}

/** RFC 1112 §6.4: 01:00:5e followed by the low 23 bits of the group address. */
export function multicastMac(group: Ipv4Address): MacAddress {
  return 0x01005e000000 + (group & 0x7fffff);
}
