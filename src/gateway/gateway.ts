/**
 * A user-mode gateway (what slirp, passt and gvisor-tap-vsock do), built from an ordinary tcpts Stack: the
 * guest's link is an interface in gateway mode (`terminateAnyDestination`), so every guest TCP connection,
 * whatever its destination, terminates in this stack's TCP, and every guest UDP datagram reaches its UDP
 * layer. Each flow is then relayed over an Upstream (host sockets, WISP, another stack).
 *
 * Addressing follows QEMU's user networking unless configured otherwise: network 10.0.2.0/24, the gateway
 * 10.0.2.2 (also the host's loopback: a guest connecting to 10.0.2.2:PORT reaches 127.0.0.1:PORT), DNS
 * 10.0.2.3 (forwarded to an upstream resolver), leases from 10.0.2.15.
 *
 * A guest's SYN is held until the upstream connection is open: the guest gets its SYN-ACK only when the
 * far end accepted, and a reset when it refused (ECONNREFUSED in the guest, as with a kernel NAT).
 *
 * Bounds (each with a counter when hit): `maxTcpFlows` relayed connections (Linux's nf_conntrack_max is
 * 65536 by default; QEMU's slirp has none), `maxPendingConnects` SYNs waiting for their upstream,
 * `maxUdpFlows` guest UDP endpoints, each dropped after `udpIdleMs` without traffic (Linux's
 * nf_conntrack_udp_timeout: 30 s). Memory per TCP flow is bounded by the TCP buffers plus one chunk each
 * way (see TcpRelay).
 */

import { DhcpServer } from '../dhcp/dhcp-server.js';
import { Dhcp6Server } from '../dhcp/dhcp6-server.js';
import { type AddressInput, type PrefixInput, toAddress, toPrefix } from '../ip/address-prefix.js';
import { errnoError } from '../ip/errors.js';
import type { ForeignEchoRequest } from '../ip/icmp-layer.js';
import type { IpInterface } from '../ip/ip-interface.js';
import type { Ipv6Interface } from '../ipv6/ipv6-interface.js';
import { type ForeignEcho6Request, parseIpv6Prefix } from '../ipv6/ipv6-layer.js';
import type { NetworkDevice } from '../link/device.js';
import type { Stack } from '../stack.js';
import type { TcpConfig } from '../tcp/config.js';
import type { TcpConnection } from '../tcp/connection.js';
import type { TcpListener } from '../tcp/tcp-layer.js';
import type { TimerHandle } from '../time/clock.js';
import type { UdpMessageInfo } from '../udp/udp-socket.js';
import { type Ipv4Address, ipv4ToString, parseIpv4, prefixMask } from '../wire/address.js';
import {
  ICMP_COMMUNICATION_ADMINISTRATIVELY_PROHIBITED,
  ICMP_DESTINATION_UNREACHABLE,
  ICMP_HOST_UNREACHABLE,
  ICMP_NET_UNREACHABLE,
  ICMP_PORT_UNREACHABLE,
  ICMP_TIME_EXCEEDED,
  ICMP_TTL_EXCEEDED_IN_TRANSIT,
} from '../wire/icmp.js';
import {
  ICMPV6_ADDRESS_UNREACHABLE,
  ICMPV6_ADMINISTRATIVELY_PROHIBITED,
  ICMPV6_DESTINATION_UNREACHABLE,
  ICMPV6_HOP_LIMIT_EXCEEDED,
  ICMPV6_NO_ROUTE,
  ICMPV6_PORT_UNREACHABLE,
  ICMPV6_TIME_EXCEEDED,
} from '../wire/icmpv6.js';
import {
  emitIpv4Header,
  IP_PROTOCOL_TCP,
  IP_PROTOCOL_UDP,
  IPV4_HEADER_LENGTH,
  parseQuotedIpv4,
} from '../wire/ipv4.js';
import { emitIpv6Header, IPV6_HEADER_LENGTH, IPV6_NEXT_TCP, IPV6_NEXT_UDP } from '../wire/ipv6.js';
import {
  IPV6_ALL_NODES,
  IPV6_ALL_ROUTERS,
  type IpAddress,
  type Ipv6Address,
  ipv6ToString,
  parseIpv6,
  writeIpv6,
} from '../wire/ipv6-address.js';
import { emitTcp, TCP_ACK, TCP_RST, type TcpSegment, tcpHeaderLength } from '../wire/tcp.js';
import { emitUdp, UDP_HEADER_LENGTH } from '../wire/udp.js';
import { allowAll, type DestinationPolicy, type FlowDestination } from './policy.js';
import { TcpRelay } from './tcp-relay.js';

/** fe80::/64, the upper half of a link-local address (RFC 4291 §2.5.6). */
const LINK_LOCAL_PREFIX = 0xfe80_0000_0000_0000n;

/** RFC 8106 §5.1: Recursive DNS Server option. */
const NDP_OPTION_RDNSS = 25;

import type {
  Upstream,
  UpstreamDatagramSocket,
  UpstreamDestination,
  UpstreamStream,
  UpstreamStreamHandlers,
} from './upstream.js';

export interface GatewayOptions {
  /** The gateway's stack (a Stack of its own; the gateway adds the guest interface to it). */
  stack: Stack;
  /** The guest's link. */
  device: NetworkDevice;
  /** Carries the guests' flows onward. */
  upstream: Upstream;
  /** The gateway's address and the guest network. Default '10.0.2.2/24'. */
  address?: PrefixInput;
  /** The DNS forwarder's address on the guest network. Default 10.0.2.3. */
  dnsAddress?: AddressInput;
  /** The upstream resolver DNS queries are forwarded to (UDP). Default: none (DNS unanswered). */
  dnsUpstream?: UpstreamDestination;
  /** What the gateway's own address stands for upstream. Default '127.0.0.1' (QEMU's host loopback alias). */
  hostLoopback?: string;
  /** First DHCP lease. Default 10.0.2.15. */
  firstLease?: AddressInput;
  /** DHCP pool size. Default 16. */
  leaseCount?: number;
  /** DHCP lease time in seconds. Default 86400. */
  leaseSeconds?: number;
  /** MTU announced by DHCP and used on the link. Default: the device's. */
  mtu?: number;
  /** Serve DHCP. Default true. */
  dhcp?: boolean;
  /**
   * DHCPv6 on the IPv6 link. true (default with IPv6): stateless (DNS servers), the advertisements' O
   * flag set. 'stateful': also addresses PREFIX::100 and up (`leaseCount` of them) by IA_NA, M set too.
   * false: none (DNS by RDNSS only).
   */
  dhcp6?: boolean | 'stateful';
  /** Which flows may leave. Default: all. */
  policy?: DestinationPolicy;
  /** TCP settings of the guest connections the gateway terminates (buffer sizes ...). Default: the stack's. */
  tcp?: Partial<TcpConfig>;
  maxTcpFlows?: number;
  maxPendingConnects?: number;
  maxUdpFlows?: number;
  udpIdleMs?: number;
  /**
   * The guests' IPv6 prefix (a /64: SLAAC needs 64-bit interface identifiers), announced by router
   * advertisements; the gateway is PREFIX::2 (the host's ::1 upstream) and DNS PREFIX::3, as QEMU's user
   * networking. Default 'fec0::/64' (QEMU's); false: no IPv6.
   */
  ipv6Prefix?: string | false;
  /** What the gateway's IPv6 address stands for upstream. Default '::1'. */
  hostLoopback6?: string;
  /** Guest echo requests beyond the gateway waiting for the upstream's answer. Default 64. */
  maxPendingEchoes?: number;
  /** How long the upstream waits for an echo reply beyond the gateway. Default 2000 ms. */
  echoTimeoutMs?: number;
}

export interface GatewayCounters {
  tcpFlowsOpened: number;
  tcpFlowsActive: number;
  tcpRefusedByPolicy: number;
  tcpUpstreamFailures: number;
  tcpFlowLimitHits: number;
  tcpPendingLimitHits: number;
  tcpInbound: number;
  /** Inbound IPv6 forwards with no guest address to go to (the guest has not sent anything yet). */
  tcpInboundNoGuest: number;
  udpFlowsOpened: number;
  udpFlowsActive: number;
  udpRefusedByPolicy: number;
  udpFlowLimitHits: number;
  udpDatagramsToUpstream: number;
  udpDatagramsToGuest: number;
  udpUnreachableToGuest: number;
  dnsQueries: number;
  /** Guest echo requests to destinations beyond the gateway handed to the upstream. */
  icmpEchoForwarded: number;
  /** ... answered there, and so answered to the guest. */
  icmpEchoReplies: number;
  /** ... refused by the policy, not carried by the upstream (WISP), or not permitted on the host. */
  icmpEchoRefusedByPolicy: number;
  icmpEchoUnavailable: number;
  icmpEchoLimitHits: number;
  /** ICMP errors sent to the guest about its flows (upstream connect failures, echoes, UDP). */
  icmpErrorsToGuest: number;
}

interface UdpFlow {
  guestAddress: IpAddress;
  guestPort: number;
  socket: UpstreamDatagramSocket;
  lastUsed: number;
  /**
   * The guest's last datagram, as an ICMP error about it quotes it (rebuilt only when one comes), and
   * the upstream destination it went to. Updated in place for every datagram.
   */
  lastSent: {
    upstreamAddress: string;
    upstreamPort: number;
    guestDestination: IpAddress;
    guestDestinationPort: number;
    length: number;
  };
}

export class Gateway {
  readonly stack: Stack;
  readonly interface: IpInterface;
  readonly dhcp: DhcpServer | undefined;
  /** The stateless DHCPv6 server of the IPv6 link, when IPv6 and `dhcp6` are on. */
  readonly dhcp6: Dhcp6Server | undefined;
  readonly address: Ipv4Address;
  readonly dnsAddress: Ipv4Address;
  readonly firstLease: Ipv4Address;
  /** The gateway's and the DNS forwarder's IPv6 addresses (undefined without IPv6). */
  readonly address6: Ipv6Address | undefined;
  readonly dnsAddress6: Ipv6Address | undefined;
  readonly ipv6Prefix: Ipv6Address | undefined;
  readonly ipv6Interface: Ipv6Interface | undefined;
  readonly counters: GatewayCounters = {
    tcpFlowsOpened: 0,
    tcpFlowsActive: 0,
    tcpRefusedByPolicy: 0,
    tcpUpstreamFailures: 0,
    tcpFlowLimitHits: 0,
    tcpPendingLimitHits: 0,
    tcpInbound: 0,
    tcpInboundNoGuest: 0,
    udpFlowsOpened: 0,
    udpFlowsActive: 0,
    udpRefusedByPolicy: 0,
    udpFlowLimitHits: 0,
    udpDatagramsToUpstream: 0,
    udpDatagramsToGuest: 0,
    udpUnreachableToGuest: 0,
    dnsQueries: 0,
    icmpEchoForwarded: 0,
    icmpEchoReplies: 0,
    icmpEchoRefusedByPolicy: 0,
    icmpEchoUnavailable: 0,
    icmpEchoLimitHits: 0,
    icmpErrorsToGuest: 0,
  };
  /** Why echoes beyond the gateway cannot be forwarded, once the upstream said so (undefined: they can). */
  echoUnavailableReason: string | undefined;
  private readonly upstream: Upstream;
  private readonly policy: DestinationPolicy;
  private readonly hostLoopback: string;
  private readonly hostLoopback6: string;
  private routerAdvertisementTimer: TimerHandle | undefined;
  private routerAdvertisementsSent = 0;
  private readonly dnsUpstream: UpstreamDestination | undefined;
  private readonly maxTcpFlows: number;
  private readonly maxPendingConnects: number;
  private readonly maxUdpFlows: number;
  private readonly udpIdleMs: number;
  private readonly maxPendingEchoes: number;
  private readonly echoTimeoutMs: number;
  private pendingEchoes = 0;
  private lastGuestAddress6: Ipv6Address | undefined;
  private readonly listener: TcpListener;
  /** SYNs held while their upstream connects, by 4-tuple. */
  private readonly pending = new Map<string, { relay: TcpRelay; syn: TcpSegment; ready: boolean }>();
  /** Relays whose held SYN was replayed, waiting for the guest's handshake to complete, by 4-tuple. */
  private readonly admitted = new Map<string, TcpRelay>();
  private readonly relays = new Set<TcpRelay>();
  private readonly udpFlows = new Map<string, UdpFlow>();
  private sweepTimer: TimerHandle | undefined;
  private closed = false;

  constructor(options: GatewayOptions) {
    const stack = options.stack;
    this.stack = stack;
    this.upstream = options.upstream;
    this.policy = options.policy ?? allowAll;
    const { address, prefixLength } = toPrefix(options.address ?? '10.0.2.2/24');
    this.address = address;
    const network = (address & prefixMask(prefixLength)) >>> 0;
    this.dnsAddress = toAddress(options.dnsAddress ?? (network | 3) >>> 0, 'DNS address');
    this.firstLease = toAddress(options.firstLease ?? (network | 15) >>> 0, 'first lease');
    for (const [what, a] of [
      ['DNS address', this.dnsAddress],
      ['first lease', this.firstLease],
    ] as const) {
      if ((a & prefixMask(prefixLength)) >>> 0 !== network || a === address) {
        throw errnoError('EINVAL', `${what} ${ipv4ToString(a)} is not a free address of the guest network`);
      }
    }
    this.hostLoopback = options.hostLoopback ?? '127.0.0.1';
    if (parseIpv4(this.hostLoopback) === undefined)
      throw errnoError('EINVAL', `host loopback ${this.hostLoopback} is not an IPv4 address`);
    this.dnsUpstream = options.dnsUpstream;
    this.maxTcpFlows = options.maxTcpFlows ?? 65_536;
    this.maxPendingConnects = options.maxPendingConnects ?? 1024;
    this.maxUdpFlows = options.maxUdpFlows ?? 4096;
    this.udpIdleMs = options.udpIdleMs ?? 30_000;
    this.maxPendingEchoes = options.maxPendingEchoes ?? 64;
    this.echoTimeoutMs = options.echoTimeoutMs ?? 2000;
    if (this.upstream.echo === undefined) this.echoUnavailableReason = 'the upstream carries no ICMP';
    const dnsAddress = this.dnsAddress;
    this.interface = stack.addInterface(options.device, {
      address: { address, prefixLength },
      mtu: options.mtu,
      terminateAnyDestination: true,
      proxyArp: (target) => target === dnsAddress,
    });
    this.listener = stack.tcp.listenAnyDestination({
      backlog: this.maxPendingConnects,
      config: options.tcp,
      admit: (src, dst, syn) => this.admit(src, dst, syn),
    });
    this.listener.on('connection', (conn) => this.established(conn));
    stack.udp.unclaimed = (payload, info) => this.guestDatagram(payload, info);
    stack.icmp.echoForOthers = (request) => this.guestEcho(request);
    this.hostLoopback6 = options.hostLoopback6 ?? '::1';
    if (options.ipv6Prefix !== false) {
      const { address: prefix, prefixLength } = parseIpv6Prefix(options.ipv6Prefix ?? 'fec0::/64');
      if (prefixLength !== 64)
        throw errnoError('EINVAL', `the guests' IPv6 prefix must be a /64, got /${prefixLength}`);
      const network = prefix & ~((1n << 64n) - 1n);
      this.ipv6Prefix = network;
      this.address6 = network | 2n;
      this.dnsAddress6 = network | 3n;
      // The gateway is a router on this link: it announces, it does not learn from announcements.
      stack.ipv6.ndp.acceptRouterAdvertisements = false;
      this.ipv6Interface = stack.addIpv6Interface(options.device, {
        addresses: [`${ipv6ToString(this.address6)}/64`, `${ipv6ToString(this.dnsAddress6)}/64`],
        terminateAnyDestination: true,
      });
      stack.ipv6.ndp.routerSolicited = (iface) => {
        if (iface === this.ipv6Interface) this.advertiseRouter();
      };
      // Routers listen on all-routers (RFC 4291 §2.7.1): that is where guests send their solicitations.
      this.ipv6Interface.groups.add(IPV6_ALL_ROUTERS);
      stack.ipv6.echoForOthers = (request) => this.guestEcho6(request);
      this.dhcp6 =
        options.dhcp6 === false
          ? undefined
          : new Dhcp6Server(stack, {
              mac: this.ipv6Interface.device.mac,
              dnsServers: [this.dnsAddress6],
              pool:
                options.dhcp6 === 'stateful'
                  ? { first: network | 0x100n, size: options.leaseCount, validSeconds: options.leaseSeconds }
                  : undefined,
            });
      this.scheduleRouterAdvertisement();
    }
    this.dhcp =
      options.dhcp === false
        ? undefined
        : new DhcpServer(stack, {
            serverAddress: address,
            prefixLength,
            poolStart: this.firstLease,
            poolSize: options.leaseCount,
            leaseSeconds: options.leaseSeconds,
            dnsServers: [this.dnsAddress],
            mtu: this.interface.mtu,
          });
  }

  /** Relayed TCP connections right now. */
  get tcpFlowCount(): number {
    return this.relays.size;
  }

  /** Where a guest's destination goes upstream: the gateway's address is the host's loopback. */
  upstreamAddressOf(address: IpAddress): string {
    if (typeof address === 'bigint') {
      return address === this.address6 ? this.hostLoopback6 : ipv6ToString(address);
    }
    return address === this.address ? this.hostLoopback : ipv4ToString(address);
  }

  /**
   * Inbound forwarding: opens a TCP connection from the gateway to `guestPort` on the guest (default: the
   * first lease) and relays it to the stream `open` makes (e.g. an accepted host socket, or a stream a
   * page hands in). If the guest refuses, the outside stream is destroyed.
   */
  connectToGuest(
    guestPort: number,
    open: (handlers: UpstreamStreamHandlers) => UpstreamStream,
    guestAddress?: AddressInput,
  ): void {
    const remoteAddress =
      guestAddress !== undefined ? toAddress(guestAddress) : (this.dhcpGuestAddress() ?? this.firstLease);
    this.relayToGuest(remoteAddress, this.address, guestPort, open);
  }

  /**
   * connectToGuest over IPv6: to `guestAddress`, or else to the address the guest itself uses
   * (`guestAddress6()`), from the gateway's PREFIX::2. With no IPv6 on the gateway or no guest address
   * known, the outside stream is destroyed at once (counted in `tcpInboundNoGuest`).
   */
  connectToGuest6(
    guestPort: number,
    open: (handlers: UpstreamStreamHandlers) => UpstreamStream,
    guestAddress?: string,
  ): void {
    let remoteAddress: Ipv6Address | undefined;
    if (guestAddress !== undefined) {
      remoteAddress = parseIpv6(guestAddress);
      if (remoteAddress === undefined) throw errnoError('EINVAL', `${guestAddress} is not an IPv6 address`);
    } else remoteAddress = this.guestAddress6();
    const local =
      remoteAddress !== undefined && remoteAddress >> 64n === LINK_LOCAL_PREFIX ? undefined : this.address6;
    this.relayToGuest(this.address6 === undefined ? undefined : remoteAddress, local, guestPort, open);
  }

  /**
   * The guest's IPv6 address, as inbound forwards find it (the gateway leases no IPv6 addresses: the
   * guest makes its own by SLAAC): the last source in the guest prefix it sent from; else a neighbour in
   * that prefix (the guest resolved the gateway from it); else the guest's link-local address, learned
   * from its router solicitation. Undefined until the guest has said anything.
   */
  guestAddress6(): Ipv6Address | undefined {
    const prefix = this.ipv6Prefix;
    if (prefix === undefined) return undefined;
    if (this.lastGuestAddress6 !== undefined) return this.lastGuestAddress6;
    const neighbours = this.stack.ipv6
      .neighbors()
      .filter((n) => n.interfaceName === this.ipv6Interface?.name && !n.isRouter && n.mac !== undefined);
    return (
      neighbours.find((n) => n.address >> 64n === prefix >> 64n)?.address ??
      neighbours.find((n) => n.address >> 64n === LINK_LOCAL_PREFIX)?.address
    );
  }

  /** Notes an IPv6 source the guest sent from, for `guestAddress6`. */
  private sawGuest6(address: Ipv6Address): void {
    if (this.ipv6Prefix !== undefined && address >> 64n === this.ipv6Prefix >> 64n)
      this.lastGuestAddress6 = address;
  }

  private relayToGuest(
    remoteAddress: IpAddress | undefined,
    localAddress: IpAddress | undefined,
    guestPort: number,
    open: (handlers: UpstreamStreamHandlers) => UpstreamStream,
  ): void {
    const relay = new TcpRelay(this.stack.clock, { finished: (r) => this.relayFinished(r) });
    relay.upstream = open(relay);
    relay.upstream.pause();
    this.counters.tcpInbound++;
    if (remoteAddress === undefined) {
      this.counters.tcpInboundNoGuest++;
      relay.upstream.destroy();
      return;
    }
    let conn: TcpConnection;
    try {
      conn = this.stack.tcp.connect({ remoteAddress, remotePort: guestPort, localAddress });
    } catch {
      relay.upstream.destroy();
      return;
    }
    this.relays.add(relay);
    this.counters.tcpFlowsActive = this.relays.size;
    conn.once('connected', () => relay.attach(conn));
    conn.once('closed', () => {
      if (relay.conn === undefined) {
        relay.upstream.destroy();
        this.relayFinished(relay);
      }
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sweepTimer?.cancel();
    this.routerAdvertisementTimer?.cancel();
    if (this.ipv6Interface !== undefined) {
      this.stack.ipv6.ndp.routerSolicited = undefined;
      this.stack.ipv6.echoForOthers = undefined;
    }
    this.listener.close();
    this.dhcp?.close();
    this.dhcp6?.close();
    this.stack.udp.unclaimed = undefined;
    this.stack.icmp.echoForOthers = undefined;
    for (const { relay } of this.pending.values()) relay.upstream.destroy();
    this.pending.clear();
    for (const relay of [...this.relays]) {
      relay.upstream.destroy();
      relay.conn?.abort(this.stack.clock.now());
    }
    for (const flow of this.udpFlows.values()) flow.socket.close();
    this.udpFlows.clear();
  }

  // --- TCP ---

  private admit(src: IpAddress, dst: IpAddress, syn: TcpSegment): boolean {
    // IPv6 SYNs only from a gateway that serves IPv6 (its interface terminates them).
    if (typeof src !== typeof dst || (typeof src === 'bigint' && this.ipv6Interface === undefined))
      return false;
    if (typeof src === 'bigint') this.sawGuest6(src);
    const key = `${src}:${syn.srcPort}>${dst}:${syn.dstPort}`;
    const held = this.pending.get(key);
    if (held !== undefined) {
      if (!held.ready) return false; // a retransmitted SYN while the upstream connects
      this.pending.delete(key);
      this.admitted.set(key, held.relay);
      return true;
    }
    if (this.closed) return false;
    // `relays` holds the pending ones too (a relay exists from the SYN on).
    if (this.relays.size >= this.maxTcpFlows) {
      this.counters.tcpFlowLimitHits++;
      this.resetGuest(src, dst, syn);
      return false;
    }
    if (this.pending.size >= this.maxPendingConnects) {
      this.counters.tcpPendingLimitHits++;
      return false; // the guest retries its SYN
    }
    const destination: FlowDestination = {
      protocol: 'tcp',
      address: this.upstreamAddressOf(dst),
      port: syn.dstPort,
    };
    if (!this.policy(destination)) {
      this.counters.tcpRefusedByPolicy++;
      this.resetGuest(src, dst, syn);
      return false;
    }
    const saved: TcpSegment = { ...syn, options: { ...syn.options }, payload: syn.payload.slice() };
    const entry = { relay: undefined as unknown as TcpRelay, syn: saved, ready: false };
    const relay = new TcpRelay(this.stack.clock, {
      upstreamConnected: (r) => {
        r.upstream.pause();
        entry.ready = true;
        // Replay the SYN: admitted now, the listener makes the connection and answers SYN-ACK.
        this.stack.tcp.receive(src, dst, saved);
      },
      upstreamFailed: (_r, error) => {
        this.counters.tcpUpstreamFailures++;
        if (this.pending.get(key) === entry) this.pending.delete(key);
        this.refuseGuest(src, dst, saved, error?.code);
      },
      finished: (r) => this.relayFinished(r),
    });
    entry.relay = relay;
    this.pending.set(key, entry);
    this.relays.add(relay);
    this.counters.tcpFlowsOpened++;
    this.counters.tcpFlowsActive = this.relays.size;
    relay.upstream = this.upstream.openStream(
      { address: destination.address, port: destination.port },
      relay,
    );
    this.armSweep();
    return false;
  }

  private established(conn: TcpConnection): void {
    const key = `${conn.remote.address}:${conn.remote.port}>${conn.local.address}:${conn.local.port}`;
    const relay = this.admitted.get(key);
    if (relay === undefined) {
      conn.abort(this.stack.clock.now());
      return;
    }
    this.admitted.delete(key);
    relay.attach(conn);
  }

  private relayFinished(relay: TcpRelay): void {
    this.relays.delete(relay);
    this.counters.tcpFlowsActive = this.relays.size;
    for (const [key, r] of this.admitted) if (r === relay) this.admitted.delete(key);
  }

  /**
   * Tells the guest its connection attempt failed upstream the way slirp does: a refused connection is a
   * reset; a destination the host cannot reach is ICMP host unreachable (EHOSTUNREACH) or, for any other
   * failure, net unreachable (RFC 792; RFC 1122 §4.2.3.9 makes them soft errors, Linux ends a SYN-SENT
   * connection on them at once); a destination the WISP server's policy blocks is "communication
   * administratively prohibited" (RFC 1812 §5.2.7.1). An IPv6 guest gets ICMPv6's codes for the same
   * (RFC 4443 §3.1: address unreachable, no route, administratively prohibited); see unreachableCode.
   */
  private refuseGuest(src: IpAddress, dst: IpAddress, syn: TcpSegment, code: string | undefined): void {
    const icmpCode =
      typeof src === typeof dst ? unreachableCode(typeof src === 'bigint' ? 6 : 4, code, false) : undefined;
    if (icmpCode === undefined) {
      this.resetGuest(src, dst, syn);
    } else if (typeof src === 'bigint') {
      // The quote is the guest's SYN as it was sent, options included (RFC 4443 §2.4(c)).
      this.sendGuestError6(ICMPV6_DESTINATION_UNREACHABLE, icmpCode, quoteSyn6(src, dst as Ipv6Address, syn));
    } else {
      const first8 = new Uint8Array(8);
      const view = new DataView(first8.buffer);
      view.setUint16(0, syn.srcPort);
      view.setUint16(2, syn.dstPort);
      view.setUint32(4, syn.seq);
      this.sendGuestError(
        ICMP_DESTINATION_UNREACHABLE,
        icmpCode,
        quoteDatagram(src, dst as Ipv4Address, IP_PROTOCOL_TCP, first8),
      );
    }
  }

  /** Sends an ICMP error about a guest datagram (its quote) to the guest, from `source` if given. */
  private sendGuestError(type: number, code: number, quote: Uint8Array, source?: Ipv4Address): void {
    const parsed = parseQuotedIpv4(quote);
    if (!parsed.ok) return;
    const sent = this.stack.icmp.sendError(
      type,
      code,
      { packet: parsed.value, bytes: quote, linkBroadcast: false, destination: 'unicast' },
      0,
      source,
    );
    if (sent) this.counters.icmpErrorsToGuest++;
  }

  /**
   * Sends an ICMPv6 error about a guest datagram (its quote) to the guest: from `source` when it reports
   * what a far host said (as NAT66 would translate it), else from the gateway's own address.
   */
  private sendGuestError6(type: number, code: number, quote: Uint8Array, source?: Ipv6Address): void {
    const iface = this.ipv6Interface;
    if (iface === undefined || this.address6 === undefined) return;
    if (this.stack.ipv6.sendErrorAboutQuote(iface, quote, type, code, source ?? this.address6))
      this.counters.icmpErrorsToGuest++;
  }

  // --- ICMP ---

  /**
   * An echo request to a destination beyond the gateway: answered only when the destination answers the
   * upstream's own echo (slirp and passt use the host's ping sockets the same way), with the guest's
   * identifier, sequence and data. An ICMP error the upstream got comes back to the guest from its
   * reporter; no answer, no reply. The DNS address is the gateway's own and answered at once.
   */
  private guestEcho(request: ForeignEchoRequest): void {
    const icmp = this.stack.icmp;
    const answer = () =>
      icmp.sendEchoReply(
        request.dst,
        request.src,
        request.identifier,
        request.sequence,
        request.data,
        request.tos,
      );
    if (request.dst === this.dnsAddress) {
      answer();
      return;
    }
    const reporter = (from: string | undefined) => {
      const a = from === undefined ? undefined : parseIpv4(from);
      return a === undefined || from === this.hostLoopback ? undefined : a;
    };
    // RFC 1812 §5.3.1: the gateway is a hop; a datagram with no hops left ends here (time exceeded).
    this.relayEcho(request.dst, request.data.length, request.ttl, {
      reply: answer,
      unreachable: (code, from) =>
        this.sendGuestError(ICMP_DESTINATION_UNREACHABLE, code, request.quote, reporter(from)),
      timeExceeded: (from) =>
        this.sendGuestError(ICMP_TIME_EXCEEDED, ICMP_TTL_EXCEEDED_IN_TRANSIT, request.quote, reporter(from)),
    });
  }

  /**
   * guestEcho's IPv6 twin: an ICMPv6 echo request beyond the gateway, answered when the destination
   * answers the upstream's echo; the upstream's errors come back as ICMPv6 errors (RFC 4443 §3.1 and
   * §3.3 codes) from their reporter, or from the gateway when the host itself gave up.
   */
  private guestEcho6(request: ForeignEcho6Request): void {
    if (this.closed) return;
    this.sawGuest6(request.src);
    const reporter = (from: string | undefined) => {
      const a = from === undefined ? undefined : parseIpv6(from);
      return a === undefined || from === this.hostLoopback6 ? undefined : a;
    };
    // RFC 8200 §3 / RFC 4443 §3.3: the gateway is a hop; a packet with no hops left ends here.
    this.relayEcho(request.dst, request.data.length, request.hopLimit, {
      reply: () =>
        this.stack.ipv6.sendEchoReply(
          request.interface,
          request.dst,
          request.src,
          request.identifier,
          request.sequence,
          request.data,
        ),
      unreachable: (code, from) =>
        this.sendGuestError6(ICMPV6_DESTINATION_UNREACHABLE, code, request.quote, reporter(from)),
      timeExceeded: (from) =>
        this.sendGuestError6(ICMPV6_TIME_EXCEEDED, ICMPV6_HOP_LIMIT_EXCEEDED, request.quote, reporter(from)),
    });
  }

  /**
   * A guest's echo to `dst`, of either IP version, handed to the upstream: after the policy, the
   * upstream's ability and `maxPendingEchoes`; one with `hops` (TTL or hop limit) of 1 or less ends at the
   * gateway (`timeExceeded` with no reporter). The upstream's result comes back through `answer`, whose
   * `from` is the reporter the upstream named (codes in the destination's ICMP numbering).
   */
  private relayEcho(
    dst: IpAddress,
    size: number,
    hops: number,
    answer: {
      reply(): void;
      unreachable(code: number, from: string | undefined): void;
      timeExceeded(from: string | undefined): void;
    },
  ): void {
    if (this.closed) return;
    const address = this.upstreamAddressOf(dst);
    if (!this.policy({ protocol: 'icmp', address, port: 0 })) {
      this.counters.icmpEchoRefusedByPolicy++;
      return;
    }
    const echo = this.upstream.echo;
    if (echo === undefined || this.echoUnavailableReason !== undefined) {
      this.counters.icmpEchoUnavailable++;
      return;
    }
    if (this.pendingEchoes >= this.maxPendingEchoes) {
      this.counters.icmpEchoLimitHits++;
      return;
    }
    if (hops <= 1) {
      answer.timeExceeded(undefined);
      return;
    }
    this.pendingEchoes++;
    this.counters.icmpEchoForwarded++;
    echo
      .call(this.upstream, { address, size, ttl: hops - 1, timeoutMs: this.echoTimeoutMs })
      .then((result) => {
        this.pendingEchoes--;
        if (this.closed) return;
        switch (result.kind) {
          case 'reply':
            this.counters.icmpEchoReplies++;
            answer.reply();
            return;
          case 'unreachable':
            answer.unreachable(result.code, result.from);
            return;
          case 'time-exceeded':
            answer.timeExceeded(result.from);
            return;
          case 'unavailable':
            this.counters.icmpEchoUnavailable++;
            this.echoUnavailableReason ??= result.reason;
            return;
          case 'timeout':
            return;
        }
      });
  }

  /** RFC 9293 §3.10.7.1's answer to a SYN nobody takes: <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>. */
  private resetGuest(src: IpAddress, dst: IpAddress, syn: TcpSegment): void {
    const reset: TcpSegment = {
      srcPort: syn.dstPort,
      dstPort: syn.srcPort,
      seq: 0,
      ack: (syn.seq + 1 + syn.payload.length) >>> 0,
      flags: TCP_RST | TCP_ACK,
      window: 0,
      urgentPointer: 0,
      options: {},
      payload: new Uint8Array(0),
    };
    this.stack.tcpBinding.send(dst, src, reset);
  }

  // --- UDP ---

  private guestDatagram(payload: Uint8Array, info: UdpMessageInfo): void {
    if (this.closed || typeof info.address !== typeof info.localAddress) return;
    if (typeof info.address === 'bigint') {
      if (this.ipv6Interface === undefined) return;
      this.sawGuest6(info.address);
    }
    let destination: UpstreamDestination;
    if (info.localAddress === this.dnsAddress || info.localAddress === this.dnsAddress6) {
      if (this.dnsUpstream === undefined || info.localPort !== 53) return;
      this.counters.dnsQueries++;
      destination = this.dnsUpstream!;
    } else {
      destination = { address: this.upstreamAddressOf(info.localAddress), port: info.localPort };
      if (!this.policy({ protocol: 'udp', ...destination })) {
        this.counters.udpRefusedByPolicy++;
        return;
      }
    }
    // One host socket per guest endpoint and upstream address family (an IPv6 guest's DNS may go to an
    // IPv4 resolver).
    const family = destination.address.includes(':') ? 6 : 4;
    const key = `${info.address}:${info.port}/${family}`;
    let flow = this.udpFlows.get(key);
    if (flow === undefined) {
      if (this.udpFlows.size >= this.maxUdpFlows) {
        this.counters.udpFlowLimitHits++;
        return;
      }
      const guestAddress = info.address;
      const guestPort = info.port;
      const socket = this.upstream.openDatagram?.(
        {
          message: (data, from) => this.upstreamDatagram(guestAddress, guestPort, family, data, from),
          unreachable: (to, code) => this.upstreamUnreachable(guestAddress, guestPort, family, to, code),
        },
        family,
      );
      if (socket === undefined) return;
      flow = {
        guestAddress,
        guestPort,
        socket,
        lastUsed: 0,
        lastSent: {
          upstreamAddress: '',
          upstreamPort: 0,
          guestDestination: 0,
          guestDestinationPort: 0,
          length: 0,
        },
      };
      this.udpFlows.set(key, flow);
      this.counters.udpFlowsOpened++;
      this.counters.udpFlowsActive = this.udpFlows.size;
      this.armSweep();
    }
    flow.lastUsed = this.stack.clock.now();
    const last = flow.lastSent;
    last.upstreamAddress = destination.address;
    last.upstreamPort = destination.port;
    last.guestDestination = info.localAddress;
    last.guestDestinationPort = info.localPort;
    last.length = UDP_HEADER_LENGTH + payload.length;
    this.counters.udpDatagramsToUpstream++;
    flow.socket.send(payload.slice(), destination);
  }

  private upstreamDatagram(
    guestAddress: IpAddress,
    guestPort: number,
    family: 4 | 6,
    data: Uint8Array,
    from: UpstreamDestination,
  ): void {
    const flow = this.udpFlows.get(`${guestAddress}:${guestPort}/${family}`);
    if (flow !== undefined) flow.lastUsed = this.stack.clock.now();
    if (typeof guestAddress === 'bigint') {
      this.upstreamDatagram6(guestAddress, guestPort, data, from);
      return;
    }
    let src: Ipv4Address | undefined;
    let srcPort = from.port;
    const dns = this.dnsUpstream;
    if (dns !== undefined && from.address === dns.address && from.port === dns.port) {
      src = this.dnsAddress;
      srcPort = 53;
    } else if (from.address === this.hostLoopback) src = this.address;
    else src = parseIpv4(from.address);
    if (src === undefined) return;
    const datagram = { srcPort, dstPort: guestPort, payload: data };
    this.counters.udpDatagramsToGuest++;
    this.stack.sendIp(
      { src, dst: guestAddress, protocol: IP_PROTOCOL_UDP },
      {
        length: UDP_HEADER_LENGTH + data.length,
        write: (buf, offset, s, d, offload) =>
          emitUdp(datagram, s, d, buf, offset, { computeChecksum: !offload }),
      },
    );
  }

  /**
   * The host refused a datagram of this guest endpoint (its connected socket got the ICMP error): the
   * guest gets the same error about its last datagram to that destination, from that destination, as a
   * NAT translating the error would deliver it (port unreachable -> ECONNREFUSED in the guest).
   */
  private upstreamUnreachable(
    guestAddress: IpAddress,
    guestPort: number,
    family: 4 | 6,
    to: UpstreamDestination,
    code: string,
  ): void {
    const flow = this.udpFlows.get(`${guestAddress}:${guestPort}/${family}`);
    const last = flow?.lastSent;
    if (last === undefined || last.upstreamAddress !== to.address || last.upstreamPort !== to.port) return;
    const dst = last.guestDestination;
    if (typeof dst !== typeof guestAddress) return;
    const version = typeof dst === 'bigint' ? 6 : 4;
    const icmpCode = unreachableCode(version, code, true);
    if (icmpCode === undefined) return;
    this.counters.udpUnreachableToGuest++;
    const udpHeader = new Uint8Array(UDP_HEADER_LENGTH);
    const header = new DataView(udpHeader.buffer);
    header.setUint16(0, guestPort);
    header.setUint16(2, last.guestDestinationPort);
    header.setUint16(4, last.length);
    // Port unreachable comes from the host the guest wrote to (a NAT's translation); others from the
    // gateway.
    const fromDestination = icmpCode === (version === 6 ? ICMPV6_PORT_UNREACHABLE : ICMP_PORT_UNREACHABLE);
    if (typeof guestAddress === 'bigint') {
      const quote = quoteDatagram6(guestAddress, dst as Ipv6Address, IPV6_NEXT_UDP, udpHeader, last.length);
      const source = fromDestination ? (dst as Ipv6Address) : undefined;
      this.sendGuestError6(ICMPV6_DESTINATION_UNREACHABLE, icmpCode, quote, source);
    } else {
      const quote = quoteDatagram(guestAddress, dst as Ipv4Address, IP_PROTOCOL_UDP, udpHeader, last.length);
      const source = fromDestination ? (dst as Ipv4Address) : undefined;
      this.sendGuestError(ICMP_DESTINATION_UNREACHABLE, icmpCode, quote, source);
    }
  }

  /** A datagram from upstream to an IPv6 guest, from the address the guest sent to (as NAT66 would). */
  private upstreamDatagram6(
    guestAddress: Ipv6Address,
    guestPort: number,
    data: Uint8Array,
    from: UpstreamDestination,
  ): void {
    let src: Ipv6Address | undefined;
    let srcPort = from.port;
    const dns = this.dnsUpstream;
    if (dns !== undefined && from.address === dns.address && from.port === dns.port) {
      src = this.dnsAddress6;
      srcPort = 53;
    } else if (from.address === this.hostLoopback6) src = this.address6;
    else src = parseIpv6(from.address);
    if (src === undefined) return;
    const datagram = { srcPort, dstPort: guestPort, payload: data };
    this.counters.udpDatagramsToGuest++;
    this.stack.ipv6.send(
      { src, dst: guestAddress, nextHeader: IPV6_NEXT_UDP, interface: this.ipv6Interface },
      {
        length: UDP_HEADER_LENGTH + data.length,
        // RFC 8200 §8.1: the UDP checksum is mandatory over IPv6.
        write: (buf, offset, s, d) => emitUdp(datagram, s, d, buf, offset),
      },
    );
  }

  // --- IPv6 router advertisements ---

  /**
   * Unsolicited advertisements (RFC 4861 §6.2.4): the first three 4 s apart (MAX_INITIAL_RTR_ADVERT_INTERVAL
   * is 16 s; a guest coming up sooner solicits one anyway), then every 200 s (MaxRtrAdvInterval 600 s,
   * MinRtrAdvInterval 0.33 of it: radvd's and the RFC's defaults).
   */
  private scheduleRouterAdvertisement(): void {
    const delay = this.routerAdvertisementsSent < 3 ? 4000 : 200_000;
    this.routerAdvertisementTimer = this.stack.clock.setTimer(delay, () => {
      this.routerAdvertisementTimer = undefined;
      if (this.closed) return;
      this.advertiseRouter();
      this.scheduleRouterAdvertisement();
    });
  }

  /**
   * One router advertisement to all nodes (RFC 4861 §4.2, §6.2.3): the gateway as default router, the
   * prefix on-link and for SLAAC (RFC 4862 §5.5.3), the link MTU, and the DNS forwarder by RDNSS
   * (RFC 8106 §5.1), as QEMU's slirp announces them.
   */
  private advertiseRouter(): void {
    const iface = this.ipv6Interface;
    const prefix = this.ipv6Prefix;
    if (iface === undefined || prefix === undefined || this.closed) return;
    const src = iface.linkLocal();
    if (src === undefined) return; // still in DAD: the next advertisement or solicitation will do
    this.routerAdvertisementsSent++;
    const rdnss = new Uint8Array(22);
    const view = new DataView(rdnss.buffer);
    view.setUint32(2, 1800); // lifetime, s (RFC 8106 §5.1: at most MaxRtrAdvInterval x 3 is advised)
    writeIpv6(rdnss, 6, this.dnsAddress6!);
    this.stack.ipv6.sendIcmpv6(iface, src, IPV6_ALL_NODES, {
      kind: 'router-advertisement',
      curHopLimit: 64,
      // M (RFC 4861 §4.2): addresses from DHCPv6 too (RFC 8415 §6.2), when it hands them out; the
      // prefix stays autonomous, so a guest without a DHCPv6 client still has its SLAAC address.
      managed: this.dhcp6?.stateful === true,
      // O: other configuration from DHCPv6 (RFC 8415 §6.1).
      other: this.dhcp6 !== undefined,
      routerLifetime: 1800,
      reachableTime: 0,
      retransTimer: 0,
      options: [
        { kind: 'source-link-layer', mac: iface.device.mac },
        { kind: 'mtu', mtu: iface.mtu },
        {
          kind: 'prefix-information',
          prefixLength: 64,
          onLink: true,
          autonomous: true,
          validLifetime: 86_400,
          preferredLifetime: 14_400,
          prefix,
        },
        { kind: 'other', type: NDP_OPTION_RDNSS, data: rdnss },
      ],
    });
  }

  // --- housekeeping ---

  private dhcpGuestAddress(): Ipv4Address | undefined {
    return this.dhcp?.list().find((lease) => lease.state === 'bound')?.address;
  }

  /** One timer for idle UDP flows while any exist. */
  private armSweep(): void {
    if (this.sweepTimer !== undefined || this.closed) return;
    this.sweepTimer = this.stack.clock.setTimer(Math.max(1000, this.udpIdleMs / 2), () => {
      this.sweepTimer = undefined;
      const now = this.stack.clock.now();
      for (const [key, flow] of this.udpFlows) {
        if (now - flow.lastUsed >= this.udpIdleMs) {
          flow.socket.close();
          this.udpFlows.delete(key);
        }
      }
      this.counters.udpFlowsActive = this.udpFlows.size;
      if (this.udpFlows.size > 0) this.armSweep();
    });
  }
}

/**
 * The destination-unreachable code a NAT answers its guest with for the errno its upstream reported, in
 * ICMP's numbering (`version` 4: RFC 792, RFC 1812 §5.2.7.1) or ICMPv6's (6: RFC 4443 §3.1): the host
 * unreachable (EHOSTUNREACH), the network (ENETUNREACH), a policy (EACCES, EPERM: administratively
 * prohibited) and, for UDP (`udp`), a closed port (ECONNREFUSED). Undefined where there is no such
 * error to give: a refused or reset TCP connection (answered with a reset), or an errno UDP cannot
 * name. For TCP any other failure is the network's.
 */
function unreachableCode(version: 4 | 6, errno: string | undefined, udp: boolean): number | undefined {
  switch (errno) {
    case 'EHOSTUNREACH':
      return version === 6 ? ICMPV6_ADDRESS_UNREACHABLE : ICMP_HOST_UNREACHABLE;
    case 'ENETUNREACH':
      return version === 6 ? ICMPV6_NO_ROUTE : ICMP_NET_UNREACHABLE;
    case 'EACCES':
    case 'EPERM':
      return version === 6
        ? ICMPV6_ADMINISTRATIVELY_PROHIBITED
        : ICMP_COMMUNICATION_ADMINISTRATIVELY_PROHIBITED;
    case 'ECONNREFUSED':
      return udp ? (version === 6 ? ICMPV6_PORT_UNREACHABLE : ICMP_PORT_UNREACHABLE) : undefined;
    case 'ECONNRESET':
    case undefined:
      return undefined;
    default:
      return udp ? undefined : version === 6 ? ICMPV6_NO_ROUTE : ICMP_NET_UNREACHABLE;
  }
}

/**
 * The start of a guest datagram as an ICMP error quotes it (RFC 792): an IPv4 header and the first 8
 * transport bytes. Rebuilt from what the gateway kept, since the guest's frame is long gone.
 */
function quoteDatagram(
  src: Ipv4Address,
  dst: Ipv4Address,
  protocol: number,
  first8: Uint8Array,
  transportLength = 8,
): Uint8Array {
  const quote = new Uint8Array(IPV4_HEADER_LENGTH + 8);
  emitIpv4Header(
    {
      tos: 0,
      id: 0,
      dontFragment: true,
      moreFragments: false,
      fragmentOffset: 0,
      ttl: 64,
      protocol,
      src,
      dst,
    },
    Math.min(transportLength, 0xffff - IPV4_HEADER_LENGTH),
    quote,
    0,
  );
  quote.set(first8, IPV4_HEADER_LENGTH);
  return quote;
}

/** quoteDatagram's IPv6 twin (RFC 4443 §2.4(c): the invoking packet's start): header and first 8 bytes. */
function quoteDatagram6(
  src: Ipv6Address,
  dst: Ipv6Address,
  nextHeader: number,
  first8: Uint8Array,
  transportLength: number,
): Uint8Array {
  const quote = new Uint8Array(IPV6_HEADER_LENGTH + 8);
  emitIpv6Header(
    { trafficClass: 0, flowLabel: 0, nextHeader, hopLimit: 64, src, dst },
    Math.min(transportLength, 0xffff),
    quote,
    0,
  );
  quote.set(first8, IPV6_HEADER_LENGTH);
  return quote;
}

/** A guest's SYN as an ICMPv6 error quotes it: rebuilt whole (header and options) from what was kept. */
function quoteSyn6(src: Ipv6Address, dst: Ipv6Address, syn: TcpSegment): Uint8Array {
  const length = tcpHeaderLength(syn.options) + syn.payload.length;
  const quote = new Uint8Array(IPV6_HEADER_LENGTH + length);
  emitIpv6Header(
    { trafficClass: 0, flowLabel: 0, nextHeader: IPV6_NEXT_TCP, hopLimit: 64, src, dst },
    length,
    quote,
    0,
  );
  emitTcp(syn, src, dst, quote, IPV6_HEADER_LENGTH);
  return quote;
}
