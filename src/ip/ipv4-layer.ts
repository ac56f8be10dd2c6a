/**
 * The IPv4 layer (RFC 791, RFC 1122 §3.2-3.3): interfaces, addresses, routes and output. Its other jobs
 * live beside it: input (validation, local delivery, reassembly hand-off) in ipv4-input.ts, forwarding
 * (RFC 1812) in ipv4-forwarding.ts, work for offloading devices (TSO, checksum completion, and both done
 * in software) in ipv4-offload.ts; Ethernet framing is link/ethernet-layer.ts's, ARP the interfaces'.
 *
 * Send path: `send` picks the route, the source address and the next hop, allocates the frame once and
 * lets the transport write its header and payload straight into it (`PayloadWriter`), then fragments if
 * the datagram exceeds the path MTU and DF is clear, and hands the frame to ARP.
 *
 * Device offloads (a device with `offload`, such as a TAP with virtio-net headers): TCP and UDP leave their
 * checksums partial for the device to complete; a TCP segment larger than the MTU (`segmentSize`, TSO) goes
 * to the device as one frame, which cuts it into segments — or is cut in software (ipv4-offload.ts) when
 * the device cannot. Received frames whose checksum the device vouches for skip transport verification, and a
 * large (GSO) packet may exceed the MTU. Nothing changes for devices without `offload`.
 *
 * Nothing here reads a clock or starts a timer on its own: ARP retries, reassembly timeouts and loopback
 * delivery all go through the stack's Clock. Bad input is counted, traced and dropped, never thrown.
 */

import type { FrameTransmitOptions, NetworkDevice, ReceivedFrameInfo } from '../link/device.js';
import { EthernetLayer } from '../link/ethernet-layer.js';
import {
  IPV4_BROADCAST,
  type Ipv4Address,
  ipv4ToString,
  isMulticast,
  MAC_BROADCAST,
  MAC_ZERO,
  type MacAddress,
  prefixMask,
} from '../wire/address.js';
import { parseArp } from '../wire/arp.js';
import {
  ETHERNET_HEADER_LENGTH,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  emitEthernetHeader,
} from '../wire/ethernet.js';
import { ICMP_DESTINATION_UNREACHABLE, ICMP_HOST_UNREACHABLE } from '../wire/icmp.js';
import {
  emitIpv4Header,
  IP_PROTOCOL_TCP,
  IPV4_HEADER_LENGTH,
  IPV4_MAX_TOTAL_LENGTH,
  type Ipv4Header,
  newIpv4HeaderRecord,
  parseIpv4,
} from '../wire/ipv4.js';
import { TCP_HEADER_LENGTH } from '../wire/tcp.js';
import { isLoopback, isUnicastHostAddress, type PrefixInput, toAddress, toPrefix } from './address-prefix.js';
import { type ArpOptions, ArpResolver } from './arp-resolver.js';
import type {
  IpProtocolHandler,
  IpSendOptions,
  IpSendStatus,
  PayloadWriter,
  TransportErrorReport,
} from './datagram.js';
import { errnoError } from './errors.js';
import { fragmentDatagram } from './fragmentation.js';
import type { IcmpLayer } from './icmp-layer.js';
import { IpInterface } from './ip-interface.js';
import { Ipv4IdGenerator } from './ipv4-id.js';
import { type Ipv4Receiver, receiveIpv4 } from './ipv4-input.js';
import { sendOffloaded, sendSegmented, withoutOffloads, writePayload } from './ipv4-offload.js';
import { LoopbackDevice } from './loopback-device.js';
import { PathMtuCache, type PathMtuOptions } from './path-mtu-cache.js';
import { Reassembler, type ReassemblyOptions } from './reassembly.js';
import { RoutingTable } from './routing-table.js';
import type { StackContext } from './stack-context.js';

/** RFC 1700 / RFC 1122 §3.2.1.7: the TTL we send with unless told otherwise (Linux's default too). */
export const DEFAULT_TTL = 64;

/** 127.0.0.1, the source of datagrams to the loopback network. */
const LOOPBACK_ADDRESS = 0x7f000001;
/** 224.0.0.1, all-systems: every host is a member (RFC 1112 §4). */
const ALL_SYSTEMS_GROUP = 0xe0000001;

export interface InterfaceConfig {
  /** 'a.b.c.d/prefix' or `{ address, prefixLength }`. */
  address: PrefixInput;
  /** Adds a default route through this gateway (which must be on the interface's subnet). */
  gateway?: string | Ipv4Address;
  /** Lowers the interface MTU below the device's. */
  mtu?: number;
  /** ARP tuning for this interface. */
  arp?: ArpOptions;
  /** Gateway mode: terminate datagrams for any destination, send from any source (IpInterface). */
  terminateAnyDestination?: boolean;
  /** Extra addresses this interface answers ARP requests for (IpInterface.proxyArp). */
  proxyArp?: (address: Ipv4Address) => boolean;
}

export interface Ipv4LayerOptions {
  defaultTtl?: number;
  reassembly?: ReassemblyOptions;
  pathMtu?: PathMtuOptions;
  /** ARP tuning applied to every interface (per-interface settings override it). */
  arp?: ArpOptions;
  /** The Ethernet layer shared with the stack's other network protocols; default: one of its own. */
  ethernet?: EthernetLayer;
}

export class Ipv4Layer implements Ipv4Receiver {
  readonly routes: RoutingTable;
  readonly pathMtu: PathMtuCache;
  readonly reassembler: Reassembler;
  /** The loopback interface (127.0.0.1/8); local traffic to any of our addresses goes through it. */
  readonly loopback: IpInterface;
  /** When true, datagrams for other hosts are forwarded between interfaces (RFC 1812). Default false. */
  forwarding = false;
  defaultTtl: number;
  /** Set by the stack: generates ICMP errors. */
  icmp!: IcmpLayer;
  /** Framing and EtherType demux of every device this layer uses (shared with IPv6). */
  readonly ethernet: EthernetLayer;

  private readonly ifaces: IpInterface[] = [];
  private readonly handlers = new Map<number, IpProtocolHandler>();
  private readonly groups = new Set<Ipv4Address>([ALL_SYSTEMS_GROUP]);
  private readonly arpDefaults: ArpOptions;
  private readonly ids: Ipv4IdGenerator;
  private nextIndex = 1;
  /**
   * The header of the datagram `send` is building, refilled for each: every path reads it only while
   * writing the frames, before the first frame is transmitted (so a send made from a device's transmit
   * cannot disturb one in progress).
   */
  private readonly outputHeader: Ipv4Header = newIpv4HeaderRecord();
  /** Offload requests for the frame being handed to a device; devices read it during `send` only. @internal */
  readonly transmitOptions: FrameTransmitOptions = {
    checksumStart: 0,
    checksumOffset: 0,
    segmentSize: 0,
    headroom: 0,
  };

  constructor(
    /** @internal */
    readonly ctx: StackContext,
    options: Ipv4LayerOptions = {},
  ) {
    this.defaultTtl = options.defaultTtl ?? DEFAULT_TTL;
    this.arpDefaults = options.arp ?? {};
    this.routes = new RoutingTable(() => this.ifaces);
    this.pathMtu = new PathMtuCache(ctx.clock, options.pathMtu);
    this.reassembler = new Reassembler(
      ctx,
      (_src, quote) => this.icmp.sendReassemblyTimeout(quote),
      options.reassembly,
    );
    this.ids = new Ipv4IdGenerator(ctx.secret.derive('ipv4 id', 16));
    this.ethernet = options.ethernet ?? new EthernetLayer(ctx);
    const lo = new LoopbackDevice(ctx.clock);
    const loopback = new IpInterface(0, lo, LOOPBACK_ADDRESS, 8, lo.mtu);
    loopback.port = this.ethernet.portFor(lo, { loopback: true });
    loopback.port.register(ETHERTYPE_IPV4, (packet, linkBroadcast, info) =>
      receiveIpv4(this, loopback, packet, linkBroadcast, info),
    );
    this.loopback = loopback;
  }

  /** The configured interfaces (loopback excluded), in the order they were added. */
  get interfaces(): readonly IpInterface[] {
    return this.ifaces;
  }

  addInterface(device: NetworkDevice, config: InterfaceConfig): IpInterface {
    const { address, prefixLength } = toPrefix(config.address);
    const hostBits = ~prefixMask(prefixLength) >>> 0;
    const hostPart = (address & hostBits) >>> 0;
    // RFC 1122 §3.2.1.3: all-zeros and all-ones host parts name the network and its broadcast.
    if (!isUnicastHostAddress(address) || (prefixLength < 31 && (hostPart === 0 || hostPart === hostBits))) {
      throw errnoError('EINVAL', `${ipv4ToString(address)}/${prefixLength} cannot be an interface address`);
    }
    if (this.ifaces.some((i) => i.device === device)) {
      throw errnoError('EEXIST', `device ${device.name} already has an address`);
    }
    if (this.isLocalAddress(address))
      throw errnoError('EADDRINUSE', `${ipv4ToString(address)} is already ours`);
    const mtu = Math.min(device.mtu, config.mtu ?? device.mtu);
    if (!Number.isInteger(mtu) || mtu < 68)
      throw errnoError('EINVAL', `MTU must be an integer >= 68, got ${mtu}`);
    const iface = new IpInterface(this.nextIndex++, device, address, prefixLength, mtu);
    iface.terminateAnyDestination = config.terminateAnyDestination === true;
    iface.proxyArp = config.proxyArp;
    iface.port = this.ethernet.portFor(device);
    iface.arp = new ArpResolver(
      this.ctx,
      iface,
      (frame) => iface.port.sendFrame(frame),
      (_nextHop, frames) => this.resolutionFailed(frames),
      { ...this.arpDefaults, ...config.arp },
    );
    this.ifaces.push(iface);
    this.routes.addConnected(iface);
    if (config.gateway !== undefined) {
      try {
        this.routes.add({
          destination: 'default',
          gateway: toAddress(config.gateway, 'gateway'),
          interface: iface,
        });
      } catch (error) {
        this.removeInterface(iface);
        throw error;
      }
    }
    iface.port.register(ETHERTYPE_IPV4, (packet, linkBroadcast, info) =>
      receiveIpv4(this, iface, packet, linkBroadcast, info),
    );
    iface.port.register(ETHERTYPE_ARP, (packet) => this.receiveArp(iface, packet));
    // RFC 5227 §2.3: announce the new address, so neighbours holding another MAC for it update. Sent
    // through the clock, after the caller has finished configuring (static entries, routes).
    if (config.arp?.announce ?? this.arpDefaults.announce ?? false) {
      this.ctx.clock.setTimer(0, () => {
        if (this.ifaces.includes(iface)) iface.arp.announce();
      });
    }
    return iface;
  }

  /** Takes an interface down: its routes, ARP entries and queued frames go; its device stops delivering. */
  removeInterface(iface: IpInterface): void {
    const i = this.ifaces.indexOf(iface);
    if (i < 0) return;
    this.ifaces.splice(i, 1);
    this.routes.removeInterface(iface);
    iface.arp.clear();
    iface.port.unregister(ETHERTYPE_IPV4);
    iface.port.unregister(ETHERTYPE_ARP);
    this.ethernet.release(iface.device);
  }

  registerProtocol(protocol: number, handler: IpProtocolHandler): void {
    if (!Number.isInteger(protocol) || protocol < 0 || protocol > 255) {
      throw errnoError('EINVAL', `IP protocol must be 0-255, got ${protocol}`);
    }
    if (this.handlers.has(protocol))
      throw errnoError('EADDRINUSE', `protocol ${protocol} already has a handler`);
    this.handlers.set(protocol, handler);
  }

  unregisterProtocol(protocol: number): void {
    this.handlers.delete(protocol);
  }

  joinGroup(group: Ipv4Address): void {
    if (!isMulticast(group)) throw errnoError('EINVAL', `${ipv4ToString(group)} is not a multicast group`);
    this.groups.add(group);
  }

  leaveGroup(group: Ipv4Address): void {
    if (group !== ALL_SYSTEMS_GROUP) this.groups.delete(group);
  }

  /** True for the addresses of our interfaces and the loopback network 127.0.0.0/8. */
  isLocalAddress(address: Ipv4Address): boolean {
    if (isLoopback(address)) return true;
    for (const iface of this.ifaces) if (iface.address === address) return true;
    return false;
  }

  /** True for limited broadcast, any interface's directed broadcast, and multicast (RFC 9293 MUST-46/57). */
  isBroadcastOrMulticast(address: Ipv4Address): boolean {
    if (address === IPV4_BROADCAST || isMulticast(address)) return true;
    for (const iface of this.ifaces) if (iface.isDirectedBroadcast(address)) return true;
    return false;
  }

  /** The source address a datagram to `dst` would carry, or undefined when there is no route. */
  sourceAddressFor(dst: Ipv4Address): Ipv4Address | undefined {
    if (isLoopback(dst)) return LOOPBACK_ADDRESS;
    if (this.isLocalAddress(dst)) return dst;
    if (dst === IPV4_BROADCAST || isMulticast(dst)) {
      return (this.routes.lookup(dst)?.interface ?? this.ifaces[0])?.address;
    }
    return this.routes.lookup(dst)?.interface.address;
  }

  /**
   * Largest datagram that can be sent to `dst` unfragmented: the outgoing interface's MTU lowered by any
   * path MTU learned from ICMP (RFC 1191). 576 (RFC 1122 §3.3.3's safe size) when there is no route.
   */
  mtuFor(dst: Ipv4Address): number {
    if (this.isLocalAddress(dst)) return this.loopback.mtu;
    const route = this.routes.lookup(dst);
    const ifaceMtu = (
      route?.interface ?? (isMulticast(dst) || dst === IPV4_BROADCAST ? this.ifaces[0] : undefined)
    )?.mtu;
    if (ifaceMtu === undefined) return 576;
    return Math.min(ifaceMtu, this.pathMtu.get(dst) ?? ifaceMtu);
  }

  /**
   * Largest TCP datagram (IP header included) that may be handed to `send` toward `dst` as one segment
   * with `segmentSize`: up to 65535 when the outgoing device segments TCP itself (TSO), else `mtuFor(dst)`.
   */
  tsoSizeFor(dst: Ipv4Address): number {
    const mtu = this.mtuFor(dst);
    if (this.isLocalAddress(dst)) return mtu;
    const offload = this.routes.lookup(dst)?.interface.device.offload;
    if (offload === undefined || !offload.transmitChecksum) return mtu;
    return Math.max(mtu, Math.min(offload.tcpSegmentationMax, IPV4_MAX_TOTAL_LENGTH));
  }

  /**
   * Learns a lower path MTU toward `dst` from an ICMP "fragmentation needed" report (`reportedMtu`, see
   * TransportErrorReport) that a transport has matched to a flow of its own (RFC 5927 §4.1): IP never
   * learns from an unchecked report, so a forged one changes nothing. The MTU never goes below the floor
   * (`pathMtu.minimumMtu`, Linux's min_pmtu 552); a report below it is counted (PathMtuFloorClamps). Returns
   * the MTU now in effect toward `dst` (`mtuFor`).
   */
  learnPathMtu(dst: Ipv4Address, reportedMtu: number): number {
    if (Number.isFinite(reportedMtu) && reportedMtu > 0 && !this.isLocalAddress(dst)) {
      if (reportedMtu < this.pathMtu.minimumMtu) this.ctx.counters.PathMtuFloorClamps++;
      this.pathMtu.lower(dst, reportedMtu, this.interfaceMtuFor(dst));
    }
    return this.mtuFor(dst);
  }

  /**
   * Upper-layer confirmation (RFC 4861 §7.3.1): a transport saw `dst` make progress (TCP: an ACK of new
   * data), so the neighbour that is the next hop toward it is REACHABLE again, without ARP.
   */
  confirmNeighbour(dst: Ipv4Address): void {
    if (this.isLocalAddress(dst)) return;
    const route = this.routes.lookup(dst);
    if (route !== undefined) route.interface.arp.confirm(route.gateway ?? dst);
  }

  /** The MTU of the interface toward `dst`, ignoring learned path MTUs. */
  interfaceMtuFor(dst: Ipv4Address): number {
    if (this.isLocalAddress(dst)) return this.loopback.mtu;
    return this.routes.lookup(dst)?.interface.mtu ?? 576;
  }

  /**
   * Sends one datagram whose payload is `payload` (copied into the frame) or written in place by a
   * PayloadWriter. See IpSendStatus for the outcomes; this never throws for network conditions.
   */
  send(options: IpSendOptions, payload: PayloadWriter | Uint8Array): IpSendStatus {
    const { counters } = this.ctx;
    const dst = options.dst;
    const length = payload.length;
    const ttl = options.ttl ?? this.defaultTtl;
    const tos = options.tos ?? 0;
    const segmentSize = options.segmentSize ?? 0;
    if (!isAddress(dst) || !isByte(options.protocol) || !isByte(tos) || !isByte(ttl) || ttl === 0)
      return 'EINVAL';
    if (!Number.isInteger(segmentSize) || segmentSize < 0 || segmentSize > IPV4_MAX_TOTAL_LENGTH)
      return 'EINVAL';
    if (IPV4_HEADER_LENGTH + length > IPV4_MAX_TOTAL_LENGTH) return 'EMSGSIZE';
    let src = options.src === 0 ? undefined : options.src;
    if (src !== undefined && !this.isLocalAddress(src) && !this.mayUseAnySource(dst, options.interface))
      return 'EADDRNOTAVAIL';

    // Egress interface, then either a known destination MAC (broadcast, multicast) or an ARP next hop.
    let iface: IpInterface | undefined;
    let mac: MacAddress | undefined;
    let nextHop = dst;
    if (this.isLocalAddress(dst)) {
      iface = this.loopback;
      mac = 0;
      src ??= isLoopback(dst) ? LOOPBACK_ADDRESS : dst;
    } else if (dst === IPV4_BROADCAST || isMulticast(dst)) {
      iface =
        options.interface ??
        this.ifaces.find((i) => i.address === src) ??
        this.routes.lookup(dst)?.interface ??
        this.ifaces[0];
      mac = dst === IPV4_BROADCAST ? MAC_BROADCAST : multicastMac(dst);
    } else {
      const route = this.routes.lookup(dst);
      if (options.interface !== undefined && route?.interface !== options.interface) {
        iface = options.interface.isOnLink(dst) ? options.interface : undefined;
      } else if (route !== undefined) {
        iface = route.interface;
        nextHop = route.gateway ?? dst;
      }
      if (iface?.isDirectedBroadcast(dst)) mac = MAC_BROADCAST;
    }
    if (iface === undefined) {
      counters.IpOutNoRoutes++;
      return 'ENETUNREACH';
    }
    src ??= iface.address;
    const dontFragment = options.dontFragment === true;
    const mtu = iface === this.loopback ? iface.mtu : Math.min(iface.mtu, this.pathMtu.get(dst) ?? iface.mtu);
    const header = this.outputHeader;
    header.tos = tos;
    header.id = this.ids.next(src, dst, options.protocol);
    header.dontFragment = dontFragment;
    header.ttl = ttl;
    header.protocol = options.protocol;
    header.src = src;
    header.dst = dst;
    const offload = iface.checksumOffload;
    counters.IpOutRequests++;
    if (mac === MAC_BROADCAST) counters.IpOutBcastPkts++;
    else if (mac !== undefined && mac !== 0) counters.IpOutMcastPkts++;

    const totalLength = IPV4_HEADER_LENGTH + length;
    const deviceOffload = iface === this.loopback ? undefined : iface.device.offload;
    // A TSO request (`segmentSize`) is honoured whenever the segment may carry more payload than one
    // piece, whatever its size relative to the MTU: a peer's MSS (536 when it sent none, or clamped on
    // the way) can be far below MTU - 40, and it is the MSS the peer must never receive more than
    // (RFC 9293 §3.7.1, MUST-16). The exact test needs the TCP header length, known once written.
    const segmentation =
      segmentSize > 0 &&
      options.protocol === IP_PROTOCOL_TCP &&
      (totalLength > mtu || length - TCP_HEADER_LENGTH > segmentSize);
    if (deviceOffload !== undefined && (totalLength <= mtu || segmentation)) {
      return sendOffloaded(this, iface, deviceOffload, header, payload, mtu, segmentSize, nextHop, mac);
    }
    if (segmentation) return sendSegmented(this, iface, header, payload, mtu, segmentSize, nextHop, mac);
    if (totalLength <= mtu) {
      const frame = new Uint8Array(ETHERNET_HEADER_LENGTH + totalLength);
      emitIpv4Header(header, length, frame, ETHERNET_HEADER_LENGTH);
      writePayload(payload, frame, ETHERNET_HEADER_LENGTH + IPV4_HEADER_LENGTH, src, dst, offload);
      this.transmit(iface, frame, nextHop, mac);
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
    for (const frame of frames) this.transmit(iface, frame, nextHop, mac);
    return 'ok';
  }

  /** Hands an error report to the protocol that sent the datagram it is about. */
  deliverError(report: TransportErrorReport): void {
    const handler = this.handlers.get(report.protocol);
    if (handler?.receiveError === undefined) {
      this.ctx.drop('icmp', 'error-for-unhandled-protocol');
      return;
    }
    handler.receiveError(report);
  }

  /** Stops every timer and forgets all state; devices deliver nothing afterwards. */
  close(): void {
    for (const iface of [...this.ifaces]) this.removeInterface(iface);
    this.reassembler.clear();
    this.pathMtu.clear();
    this.loopback.device.close?.();
  }

  // ---------------------------------------------------------------------------------------------------
  // Receive path

  /**
   * Entry point for a frame from `iface`'s device, as if the device had delivered it (the Ethernet layer
   * filters and demultiplexes it). `info`, from a device with offloads, may say that the transport
   * checksum is vouched for, and that the frame is a large (GSO) packet beyond the MTU.
   */
  receiveFrame(iface: IpInterface, frame: Uint8Array, info?: ReceivedFrameInfo): void {
    iface.port.receive(frame, info);
  }

  private receiveArp(iface: IpInterface, bytes: Uint8Array): void {
    const arp = parseArp(bytes);
    if (!arp.ok) {
      this.ctx.counters.ArpInErrors++;
      this.ctx.drop('arp', arp.error.kind);
      return;
    }
    iface.arp.receive(arp.value);
  }

  /** @internal A multicast group joined on this host. */
  isMember(group: Ipv4Address): boolean {
    return this.groups.has(group);
  }

  /** @internal The handler registered for an IP protocol number. */
  handlerFor(protocol: number): IpProtocolHandler | undefined {
    return this.handlers.get(protocol);
  }

  /** A gateway-mode interface sends from any source (see IpInterface.terminateAnyDestination). */
  private mayUseAnySource(dst: Ipv4Address, iface: IpInterface | undefined): boolean {
    return (iface ?? this.routes.lookup(dst)?.interface)?.terminateAnyDestination === true;
  }

  // ---------------------------------------------------------------------------------------------------
  // Link output

  /**
   * Fills in the Ethernet header and sends, through ARP unless the destination MAC is known. A frame with
   * offload requests (`options`) goes to the device only when the MAC is known now: frames waiting for
   * ARP are plain, so one that would have to wait is finished here first (segmented, checksummed).
   */
  /** @internal The link output every job of the layer sends through. */
  transmit(
    iface: IpInterface,
    frame: Uint8Array,
    nextHop: Ipv4Address,
    mac: MacAddress | undefined,
    options?: FrameTransmitOptions,
  ): void {
    if (options !== undefined && mac === undefined) mac = iface.arp.lookup(nextHop);
    if (mac !== undefined) {
      iface.port.send(frame, mac, ETHERTYPE_IPV4, options);
    } else if (options === undefined) {
      // ARP fills in the destination once it knows it.
      emitEthernetHeader({ dst: MAC_ZERO, src: iface.mac, etherType: ETHERTYPE_IPV4 }, frame, 0);
      iface.arp.send(nextHop, frame);
    } else {
      for (const plain of withoutOffloads(frame, options)) this.transmit(iface, plain, nextHop, undefined);
    }
  }

  /**
   * ARP gave up on `nextHop`: each dropped datagram is reported — to the local protocol that sent it
   * (EHOSTUNREACH, as Linux reports a failed neighbour), or, for a forwarded one, to its source with ICMP
   * host unreachable (RFC 1812 §5.2.7.1). Only first fragments are reported, once per datagram.
   */
  private resolutionFailed(frames: readonly Uint8Array[]): void {
    for (const frame of frames) {
      const bytes = frame.subarray(ETHERNET_HEADER_LENGTH);
      const parsedPacket = parseIpv4(bytes, { verifyChecksum: false });
      if (!parsedPacket.ok) continue;
      const packet = parsedPacket.value;
      if (packet.fragmentOffset !== 0) continue;
      if (this.isLocalAddress(packet.src)) {
        this.deliverError({
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
        this.icmp.sendError(ICMP_DESTINATION_UNREACHABLE, ICMP_HOST_UNREACHABLE, {
          packet,
          bytes,
          linkBroadcast: false,
          destination: 'unicast',
        });
      }
    }
  }
}

function isByte(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 255;
}

function isAddress(a: number): boolean {
  return Number.isInteger(a) && a >= 0 && a <= 0xffffffff;
}

/** RFC 1112 §6.4: 01:00:5e followed by the low 23 bits of the group address. */
export function multicastMac(group: Ipv4Address): MacAddress {
  return 0x01005e000000 + (group & 0x7fffff);
}
