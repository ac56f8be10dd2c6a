/**
 * UDP (RFC 768, RFC 1122 §4.1).
 *
 * - Sending: the header and payload are written straight into the outgoing frame with the checksum over
 *   the pseudo-header (left out only on links that offload it); IP fragments datagrams larger than the
 *   path MTU. DF is clear unless asked for.
 * - Receiving: the length field is checked and a non-zero checksum verified (a zero checksum means the
 *   sender computed none and is accepted, RFC 768). Errors count in UdpInErrors (and UdpInCsumErrors).
 * - Demultiplexing: among sockets bound to the destination port, a connected socket whose peer is the
 *   sender beats one bound to the destination address, which beats one bound to 0.0.0.0 (BSD's and Linux's
 *   scoring); equal scores go to the socket bound first. Broadcast and multicast datagrams go to every
 *   socket bound to the wildcard or to that very address (RFC 1122 §4.1.3.5 hands them to the application).
 * - No socket: UdpNoPorts, and ICMP port unreachable (RFC 1122 §4.1.3.1) unless the datagram was
 *   broadcast or multicast (the ICMP layer applies the full rule set and the rate limit).
 * - Ports: 0 asks for an ephemeral port from 49152-65535 (RFC 6335), found from a random starting point
 *   (RFC 6056 §3.3.1, "simple port randomization").
 * - IPv6 (RFC 8200 §8.1): the same sockets and ports serve both versions (addresses are numbers for IPv4,
 *   bigints for IPv6). The checksum is mandatory: computed on every send, a zero one refused. A socket
 *   bound to :: (0n) receives IPv6 datagrams and, unless `ipv6Only`, IPv4 ones too (a dual-stack socket,
 *   RFC 3493 §3.7); no socket for an IPv6 datagram is answered with ICMPv6 port unreachable.
 */
import { type AddressInput, toAddress } from '../ip/address-prefix.js';
import type {
  IpProtocolHandler,
  PayloadWriter,
  ReceivedDatagram,
  TransportErrorReport,
} from '../ip/datagram.js';
import { errnoError } from '../ip/errors.js';
import type { Ipv4Layer } from '../ip/ipv4-layer.js';
import type { StackContext } from '../ip/stack-context.js';
import type { Ipv6Layer } from '../ipv6/ipv6-layer.js';
import {
  FRAME_RELEASED,
  type FrameDisposition,
  type Ipv6PayloadWriter,
  type Ipv6ProtocolHandler,
  type Ipv6ReceivedPacket,
} from '../seams.js';
import { IPV4_BROADCAST, type Ipv4Address, ipv4ToString, isMulticast } from '../wire/address.js';
import { ICMP_DESTINATION_UNREACHABLE, ICMP_PORT_UNREACHABLE } from '../wire/icmp.js';
import { ICMPV6_DESTINATION_UNREACHABLE, ICMPV6_PORT_UNREACHABLE } from '../wire/icmpv6.js';
import { IP_PROTOCOL_UDP } from '../wire/ipv4.js';
import {
  type IpAddress,
  type Ipv6Address,
  ipAddressToString,
  isIpv6Multicast,
  parseIpv6,
} from '../wire/ipv6-address.js';
import { emitUdp, parseUdp, UDP_HEADER_LENGTH, type UdpDatagram } from '../wire/udp.js';
import {
  type UdpBindOptions,
  type UdpMessageInfo,
  type UdpSendOptions,
  UdpSocket,
  type UdpSocketHandlers,
} from './udp-socket.js';

export const EPHEMERAL_PORT_FIRST = 49152;
export const EPHEMERAL_PORT_LAST = 65535;
/** Largest UDP payload over IPv4: 65535 minus the 20-byte IP and 8-byte UDP headers. */
export const UDP_MAX_PAYLOAD = 65507;
/** Largest UDP payload over IPv6 (no jumbograms): the 65535-byte payload length minus the UDP header. */
export const UDP6_MAX_PAYLOAD = 65527;

/** True for either version's unspecified address (0.0.0.0, ::). */
function isUnspecified(address: IpAddress): boolean {
  return address === 0 || address === 0n;
}

/** True for either version's multicast addresses. */
function isAnyMulticast(address: IpAddress): boolean {
  return typeof address === 'bigint' ? isIpv6Multicast(address) : isMulticast(address);
}

/**
 * Parses an address of either version given as text ('10.0.0.1', 'fd00::1'), number or bigint; throws
 * EINVAL for anything else.
 */
export function toIpAddress(input: AddressInput | bigint, what = 'address'): IpAddress {
  if (typeof input === 'bigint') {
    if (input >= 0n && input < 1n << 128n) return input;
    throw errnoError('EINVAL', `invalid IPv6 ${what}`);
  }
  if (typeof input === 'string' && input.includes(':')) {
    const parsed = parseIpv6(input);
    if (parsed !== undefined) return parsed;
    throw errnoError('EINVAL', `invalid IPv6 ${what}: ${input}`);
  }
  return toAddress(input, what);
}

/** Writes one UDP datagram into the frame; reused for every send (sends are synchronous). */
class UdpWriter implements PayloadWriter, Ipv6PayloadWriter {
  readonly datagram: UdpDatagram = { srcPort: 0, dstPort: 0, payload: new Uint8Array(0) };
  get length(): number {
    return UDP_HEADER_LENGTH + this.datagram.payload.length;
  }
  write(buf: Uint8Array, offset: number, src: IpAddress, dst: IpAddress, offloadChecksum = false): void {
    // Over IPv6 the checksum is always computed (RFC 8200 §8.1).
    emitUdp(this.datagram, src, dst, buf, offset, {
      computeChecksum: !offloadChecksum || typeof src === 'bigint',
    });
  }
}

export class UdpLayer implements IpProtocolHandler {
  /** What the IPv6 layer holds as next header 17: the same sockets, reached from IPv6. */
  readonly ipv6Handler: Ipv6ProtocolHandler = {
    receive: (packet) => this.receiveIpv6(packet),
    receiveError: (report) => this.receiveError(report),
  };
  private readonly byPort = new Map<number, UdpSocket[]>();
  private readonly writer = new UdpWriter();
  /**
   * Takes unicast datagrams no socket wants, in place of ICMP port unreachable: a user-mode gateway's NAT
   * relays its guests' datagrams for every destination with it. `payload` is a view into the frame.
   */
  unclaimed: ((payload: Uint8Array, info: UdpMessageInfo) => void) | undefined;

  constructor(
    private readonly ctx: StackContext,
    private readonly ip: Ipv4Layer,
    private readonly ipv6?: Ipv6Layer,
  ) {}

  /**
   * Opens a socket bound to `options.address`:`options.port`. Throws EINVAL (bad address or port),
   * EADDRNOTAVAIL (an address that is not ours), or EADDRINUSE (taken, see `reuseAddress`; or, for port
   * 0, no ephemeral port free).
   */
  bind(options: UdpBindOptions = {}, handlers: UdpSocketHandlers = {}): UdpSocket {
    const address = options.address === undefined ? 0 : toIpAddress(options.address, 'address');
    const ipv6Only = address === 0n && options.ipv6Only === true;
    if (!isUnspecified(address) && !isAnyMulticast(address) && !this.isLocalAddress(address)) {
      throw errnoError('EADDRNOTAVAIL', `${ipAddressToString(address)} is not an address of this host`);
    }
    const reuse = options.reuseAddress === true;
    let port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw errnoError('EINVAL', `invalid port ${port}`);
    if (port === 0) {
      port = this.ephemeralPort();
    } else if (this.conflicts(address, port, reuse, ipv6Only)) {
      throw errnoError('EADDRINUSE', `${ipAddressToString(address)}:${port} is already bound`);
    }
    const socket = new UdpSocket(this, address, port, reuse, handlers);
    socket.ipv6Only = ipv6Only;
    const list = this.byPort.get(port);
    if (list) list.push(socket);
    else this.byPort.set(port, [socket]);
    return socket;
  }

  /** Every open socket. */
  sockets(): UdpSocket[] {
    return [...this.byPort.values()].flat();
  }

  /**
   * A datagram from IPv4. FRAME_RELEASED when it went to no socket (a bad checksum, no port: the port
   * unreachable error copies its quote); nothing when a socket's handler was given the payload, which
   * it may keep.
   */
  receive(datagram: ReceivedDatagram): FrameDisposition {
    const { counters } = this.ctx;
    const packet = datagram.packet;
    const udp = this.parseCounted(packet.payload, packet.src, packet.dst, !datagram.checksumOffloaded);
    if (udp === undefined) return FRAME_RELEASED;
    const sockets = this.byPort.get(udp.dstPort);
    const info = {
      address: packet.src,
      port: udp.srcPort,
      localAddress: packet.dst,
      localPort: udp.dstPort,
      destination: datagram.destination,
      size: udp.payload.length,
      ttl: packet.ttl,
      interfaceName: datagram.interface.name,
    };
    if (datagram.destination !== 'unicast') {
      if (!this.deliverToGroup(sockets, packet.dst, packet.src, udp.srcPort, udp.payload, info)) {
        return FRAME_RELEASED;
      }
      return;
    }
    const socket = sockets && this.bestMatch(sockets, packet.dst, packet.src, udp.srcPort);
    if (socket === undefined && this.unclaimed !== undefined) {
      counters.UdpInDatagrams++;
      this.unclaimed(udp.payload, info);
      return;
    }
    if (socket === undefined) {
      counters.UdpNoPorts++;
      this.ctx.drop('udp', 'no-port');
      this.ip.sendErrorAbout(datagram, ICMP_DESTINATION_UNREACHABLE, ICMP_PORT_UNREACHABLE);
      return FRAME_RELEASED;
    }
    counters.UdpInDatagrams++;
    socket.handlers.message?.(udp.payload, info);
  }

  /**
   * An IPv6 packet for next header 17 (RFC 8200 §8.1: the checksum must be there and right).
   * FRAME_RELEASED as for IPv4 (see receive).
   */
  receiveIpv6(received: Ipv6ReceivedPacket): FrameDisposition {
    const { counters } = this.ctx;
    const udp = this.parseCounted(received.payload, received.src, received.dst, !received.checksumOffloaded);
    if (udp === undefined) return FRAME_RELEASED;
    const sockets = this.byPort.get(udp.dstPort);
    const info: UdpMessageInfo = {
      address: received.src,
      port: udp.srcPort,
      localAddress: received.dst,
      localPort: udp.dstPort,
      destination: received.destination,
      size: udp.payload.length,
      ttl: received.hopLimit,
      interfaceName: received.interface.name,
    };
    if (received.destination === 'multicast') {
      if (!this.deliverToGroup(sockets, received.dst, received.src, udp.srcPort, udp.payload, info)) {
        return FRAME_RELEASED;
      }
      return;
    }
    const socket = sockets && this.bestMatch(sockets, received.dst, received.src, udp.srcPort);
    if (socket === undefined && this.unclaimed !== undefined) {
      counters.UdpInDatagrams++;
      this.unclaimed(udp.payload, info);
      return;
    }
    if (socket === undefined) {
      counters.UdpNoPorts++;
      this.ctx.drop('udp', 'no-port');
      this.ipv6?.sendErrorAbout(received, ICMPV6_DESTINATION_UNREACHABLE, ICMPV6_PORT_UNREACHABLE);
      return FRAME_RELEASED;
    }
    counters.UdpInDatagrams++;
    socket.handlers.message?.(udp.payload, info);
  }

  /** Parses a datagram of either version; what fails is counted (UdpInErrors, UdpInCsumErrors) and dropped. */
  private parseCounted(
    payload: Uint8Array,
    src: IpAddress,
    dst: IpAddress,
    verifyChecksum: boolean,
  ): UdpDatagram | undefined {
    const result = parseUdp(payload, src, dst, { verifyChecksum });
    if (result.ok) return result.value;
    this.ctx.counters.UdpInErrors++;
    if (result.error.kind === 'bad-checksum') this.ctx.counters.UdpInCsumErrors++;
    this.ctx.drop('udp', result.error.kind);
    return undefined;
  }

  /**
   * A broadcast or multicast datagram goes to every socket bound to the wildcard of its version or to
   * that very address (RFC 1122 §4.1.3.5), connected ones only when it comes from their peer. False
   * when no socket took it.
   */
  private deliverToGroup(
    sockets: readonly UdpSocket[] | undefined,
    dst: IpAddress,
    src: IpAddress,
    srcPort: number,
    payload: Uint8Array,
    info: UdpMessageInfo,
  ): boolean {
    let delivered = false;
    for (const socket of sockets ?? []) {
      if (!this.wildcardFor(socket, dst) && socket.localAddress !== dst) continue;
      if (socket.connected && (socket.remoteAddress !== src || socket.remotePort !== srcPort)) continue;
      delivered = true;
      socket.handlers.message?.(payload, info);
    }
    if (delivered) this.ctx.counters.UdpInDatagrams++;
    else {
      this.ctx.counters.UdpNoPorts++;
      this.ctx.drop('udp', 'no-port');
    }
    return delivered;
  }

  /** ICMP errors about our datagrams go to the connected socket they concern (see UdpSocketHandlers.error). */
  receiveError(report: TransportErrorReport): void {
    const t = report.transport;
    if (t.length < 4) return;
    const srcPort = (t[0]! << 8) | t[1]!;
    const dstPort = (t[2]! << 8) | t[3]!;
    const sockets = this.byPort.get(srcPort) ?? [];
    // "Fragmentation needed" about a datagram from a port one of our sockets holds: the only check UDP can
    // make (RFC 5927 §4.1; Linux's udp_err makes the same), so the path MTU is learned; otherwise not.
    if (
      report.reportedMtu !== undefined &&
      sockets.some((s) => this.wildcardFor(s, report.src) || s.localAddress === report.src)
    ) {
      if (typeof report.dst === 'bigint') this.ipv6?.learnPathMtu(report.dst, report.reportedMtu);
      else this.ip.learnPathMtu(report.dst, report.reportedMtu);
    }
    for (const socket of sockets) {
      if (!this.wildcardFor(socket, report.src) && socket.localAddress !== report.src) continue;
      if (!socket.connected || socket.remoteAddress !== report.dst || socket.remotePort !== dstPort) continue;
      socket.handlers.error?.(
        errnoError(
          report.code,
          `ICMP from ${ipAddressToString(report.reporter)} about ${ipAddressToString(report.dst)}:${dstPort}`,
          {
            icmpType: report.icmpType,
            icmpCode: report.icmpCode,
            reporter: report.reporter,
          },
        ),
        report,
      );
      return;
    }
  }

  /** @internal UdpSocket.connect */
  connect(socket: UdpSocket, addressInput: AddressInput | bigint, port: number): void {
    if (socket.closed) throw errnoError('EBADF', 'socket is closed');
    const address = toIpAddress(addressInput, 'address');
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw errnoError('EINVAL', `invalid port ${port}`);
    if (isUnspecified(address)) throw errnoError('EINVAL', 'cannot connect to an unspecified address');
    this.checkFamily(socket, address);
    if (this.wildcardFor(socket, address) && !isAnyMulticast(address) && address !== IPV4_BROADCAST) {
      const source = this.sourceAddressFor(address);
      if (source === undefined) throw errnoError('ENETUNREACH', `no route to ${ipAddressToString(address)}`);
      socket.localAddress = source;
    }
    socket.remoteAddress = address;
    socket.remotePort = port;
  }

  /** @internal UdpSocket.send */
  send(
    socket: UdpSocket,
    payload: Uint8Array,
    port: number | undefined,
    addressInput: AddressInput | bigint | undefined,
    options: UdpSendOptions | undefined,
  ): void {
    if (socket.closed) throw errnoError('EBADF', 'socket is closed');
    let dst: IpAddress;
    let dstPort: number;
    if (port === undefined && addressInput === undefined) {
      if (!socket.connected)
        throw errnoError('EDESTADDRREQ', 'no destination and the socket is not connected');
      dst = socket.remoteAddress!;
      dstPort = socket.remotePort!;
    } else {
      if (socket.connected)
        throw errnoError('EISCONN', 'the socket is connected; send without a destination');
      if (port === undefined || addressInput === undefined) {
        throw errnoError('EDESTADDRREQ', 'both a destination port and address are needed');
      }
      dst = toIpAddress(addressInput, 'destination');
      dstPort = port;
      this.checkFamily(socket, dst);
    }
    if (!Number.isInteger(dstPort) || dstPort < 1 || dstPort > 65535) {
      throw errnoError('EINVAL', `invalid destination port ${dstPort}`);
    }
    if (isUnspecified(dst)) throw errnoError('EINVAL', 'cannot send to an unspecified address');
    if (typeof dst === 'bigint') {
      this.send6(socket, payload, dst, dstPort, options);
      return;
    }
    if (payload.length > UDP_MAX_PAYLOAD) {
      throw errnoError('EMSGSIZE', `${payload.length} bytes exceed the UDP maximum of ${UDP_MAX_PAYLOAD}`);
    }
    const multicast = isMulticast(dst);
    if (!multicast && this.ip.isBroadcastOrMulticast(dst) && !socket.broadcast) {
      throw errnoError('EACCES', `sending to broadcast ${ipv4ToString(dst)} needs the broadcast option`);
    }
    const writer = this.writer;
    writer.datagram.srcPort = socket.localPort;
    writer.datagram.dstPort = dstPort;
    writer.datagram.payload = payload;
    const local = socket.localAddress;
    const ttl = options?.ttl ?? (multicast ? socket.multicastTtl : socket.ttl);
    // RFC 1112 §6.1: a group datagram with TTL 0 is restricted to this host (only the loop below).
    const status =
      multicast && ttl === 0
        ? 'ok'
        : this.ip.send(
            {
              src: typeof local === 'bigint' || local === 0 || isMulticast(local) ? undefined : local,
              dst,
              protocol: IP_PROTOCOL_UDP,
              ttl,
              tos: socket.tos,
              dontFragment: options?.dontFragment,
            },
            writer,
          );
    writer.datagram.payload = EMPTY;
    if (status !== 'ok') {
      this.ctx.counters.UdpSndbufErrors++;
      throw errnoError(status, `cannot send to ${ipv4ToString(dst)}:${dstPort}`);
    }
    this.ctx.counters.UdpOutDatagrams++;
    // As Linux: a copy of a broadcast, and of a group datagram (IP_MULTICAST_LOOP) when this host is a
    // member, is delivered to this host's own sockets too — the wire never brings our frames back.
    const loopBack = multicast
      ? socket.multicastLoop && this.ip.isMember(dst)
      : this.ip.isBroadcastOrMulticast(dst);
    if (loopBack) {
      const src =
        typeof local === 'number' && local !== 0 && !isMulticast(local)
          ? local
          : this.ip.sourceAddressFor(dst);
      // A source-specific membership of this host filters its own datagrams too (RFC 3376 §3.2).
      if (src !== undefined && (!multicast || this.ip.acceptsMulticast(dst, src)))
        this.loopBack(
          payload.slice(),
          src,
          socket.localPort,
          dst,
          dstPort,
          multicast,
          ttl ?? this.ip.defaultTtl,
        );
    }
  }

  /** Delivers a looped-back broadcast or group datagram to the sockets on its port, a moment later. */
  private loopBack(
    payload: Uint8Array,
    src: Ipv4Address,
    srcPort: number,
    dst: Ipv4Address,
    dstPort: number,
    multicast: boolean,
    ttl: number,
  ): void {
    this.ctx.clock.setTimer(0, () => {
      const info: UdpMessageInfo = {
        address: src,
        port: srcPort,
        localAddress: dst,
        localPort: dstPort,
        destination: multicast ? 'multicast' : 'broadcast',
        size: payload.length,
        ttl,
        interfaceName: 'lo',
      };
      let delivered = false;
      for (const socket of this.byPort.get(dstPort) ?? []) {
        if (socket.closed) continue;
        if (!this.wildcardFor(socket, dst) && socket.localAddress !== dst) continue;
        if (socket.connected && (socket.remoteAddress !== src || socket.remotePort !== srcPort)) continue;
        delivered = true;
        socket.handlers.message?.(payload, info);
      }
      if (delivered) this.ctx.counters.UdpInDatagrams++;
    });
  }

  private send6(
    socket: UdpSocket,
    payload: Uint8Array,
    dst: Ipv6Address,
    dstPort: number,
    options: UdpSendOptions | undefined,
  ): void {
    if (payload.length > UDP6_MAX_PAYLOAD) {
      throw errnoError('EMSGSIZE', `${payload.length} bytes exceed the UDP maximum of ${UDP6_MAX_PAYLOAD}`);
    }
    if (this.ipv6 === undefined) throw errnoError('ENETUNREACH', 'this stack has no IPv6');
    const writer = this.writer;
    writer.datagram.srcPort = socket.localPort;
    writer.datagram.dstPort = dstPort;
    writer.datagram.payload = payload;
    const local = socket.localAddress;
    const multicast = isIpv6Multicast(dst);
    const status = this.ipv6.send(
      {
        src: typeof local === 'bigint' && local !== 0n && !isIpv6Multicast(local) ? local : undefined,
        dst,
        nextHeader: IP_PROTOCOL_UDP,
        hopLimit: options?.ttl ?? (multicast ? socket.multicastTtl : socket.ttl),
        trafficClass: socket.tos,
        // IPV6_MULTICAST_LOOP (default on, as Linux): the IPv6 layer hands members on this host a copy.
        multicastLoop: multicast && socket.multicastLoop,
      },
      writer,
    );
    writer.datagram.payload = EMPTY;
    if (status !== 'ok') {
      this.ctx.counters.UdpSndbufErrors++;
      throw errnoError(status, `cannot send to [${ipAddressToString(dst)}]:${dstPort}`);
    }
    this.ctx.counters.UdpOutDatagrams++;
  }

  /**
   * A socket bound to an IPv4 address cannot reach IPv6 and one bound to an IPv6 address (or an
   * IPv6-only ::) cannot reach IPv4: EINVAL, as Linux answers an address of the other family.
   */
  private checkFamily(socket: UdpSocket, address: IpAddress): void {
    const local = socket.localAddress;
    if (
      typeof address === 'bigint'
        ? typeof local === 'number' && local !== 0
        : typeof local === 'bigint' && (local !== 0n || socket.ipv6Only)
    ) {
      throw errnoError('EINVAL', `${ipAddressToString(address)} is not of the socket's address family`);
    }
  }

  /** The socket is bound to the wildcard that covers `address`'s version (a dual-stack :: covers both). */
  private wildcardFor(socket: UdpSocket, address: IpAddress): boolean {
    const local = socket.localAddress;
    if (local === 0n) return typeof address === 'bigint' || !socket.ipv6Only;
    return local === 0 && typeof address === 'number';
  }

  private isLocalAddress(address: IpAddress): boolean {
    if (typeof address === 'bigint') return this.ipv6?.isLocalAddress(address) === true;
    return this.ip.isLocalAddress(address);
  }

  private sourceAddressFor(address: IpAddress): IpAddress | undefined {
    if (typeof address === 'bigint') return this.ipv6?.sourceAddressFor(address);
    return this.ip.sourceAddressFor(address);
  }

  /** @internal UdpSocket.close */
  release(socket: UdpSocket): void {
    const list = this.byPort.get(socket.localPort);
    if (!list) return;
    const i = list.indexOf(socket);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.byPort.delete(socket.localPort);
  }

  /** Closes every socket. */
  close(): void {
    for (const socket of this.sockets()) socket.close();
  }

  private bestMatch(
    sockets: readonly UdpSocket[],
    dst: IpAddress,
    src: IpAddress,
    srcPort: number,
  ): UdpSocket | undefined {
    let best: UdpSocket | undefined;
    let bestScore = -1;
    for (const socket of sockets) {
      let score = 0;
      if (!this.wildcardFor(socket, dst)) {
        if (socket.localAddress !== dst) continue;
        score += 2;
      }
      if (socket.connected) {
        if (socket.remoteAddress !== src || socket.remotePort !== srcPort) continue;
        score += 4;
      }
      if (score > bestScore) {
        best = socket;
        bestScore = score;
      }
    }
    return best;
  }

  /**
   * Two sockets on one port conflict when the addresses they are bound to overlap: the same address, or
   * a wildcard covering the other's (0.0.0.0 covers IPv4, :: covers IPv6 and, unless IPv6-only, IPv4).
   */
  private conflicts(address: IpAddress, port: number, reuse: boolean, ipv6Only: boolean): boolean {
    const covers = (wildcard: IpAddress, only: boolean, other: IpAddress): boolean =>
      wildcard === 0n ? typeof other === 'bigint' || !only : wildcard === 0 && typeof other === 'number';
    for (const other of this.byPort.get(port) ?? []) {
      if (reuse && other.reuseAddress) continue;
      if (
        other.localAddress === address ||
        covers(other.localAddress, other.ipv6Only, address) ||
        covers(address, ipv6Only, other.localAddress)
      )
        return true;
    }
    return false;
  }

  private ephemeralPort(): number {
    const count = EPHEMERAL_PORT_LAST - EPHEMERAL_PORT_FIRST + 1;
    // RFC 6056 §3.3.1 (Algorithm 1): an unpredictable starting point, keyed by the stack secret.
    const start = this.ctx.secret.randomUint32() % count;
    for (let i = 0; i < count; i++) {
      const port = EPHEMERAL_PORT_FIRST + ((start + i) % count);
      if (!this.byPort.has(port)) return port;
    }
    throw errnoError('EADDRINUSE', 'no free ephemeral UDP port');
  }
}

const EMPTY = new Uint8Array(0);
