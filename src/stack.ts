/**
 * A host: one TCP/IP stack with its interfaces, routes, ARP caches, IPv4, ICMP, UDP and TCP (`stack.tcp`,
 * created on first use). Everything runs on the Clock it is given — virtual in simulations, real on
 * a TAP device — and everything it sees can be traced and counted.
 *
 *   const stack = new Stack({ name: 'a', clock });
 *   stack.addInterface(link.a, { address: '10.0.1.2/24', gateway: '10.0.1.1' });
 *   const reply = await stack.ping('10.0.2.2');
 *   const socket = stack.udp.bind({ port: 53 }, { message(data, from) { ... } });
 *   const listener = stack.tcp.listen({ port: 80 });
 */
import { type AddressInput, toAddress } from './ip/address-prefix.js';
import type { ArpEntryInfo, ArpOptions } from './ip/arp-resolver.js';
import type { IpProtocolHandler, IpSendOptions, IpSendStatus, PayloadWriter } from './ip/datagram.js';
import { errnoError } from './ip/errors.js';
import { IcmpLayer, type IcmpOptions, type PingOptions, type PingReply } from './ip/icmp-layer.js';
import type { IpInterface } from './ip/ip-interface.js';
import { type InterfaceConfig, Ipv4Layer } from './ip/ipv4-layer.js';
import type { PathMtuOptions } from './ip/path-mtu-cache.js';
import type { ReassemblyOptions } from './ip/reassembly.js';
import type { RoutingTable } from './ip/routing-table.js';
import type { StackContext } from './ip/stack-context.js';
import type { Ipv6Interface } from './ipv6/ipv6-interface.js';
import {
  type Ipv6InterfaceConfig,
  Ipv6Layer,
  type Ipv6LayerOptions,
  type Ping6Reply,
  parseIpv6Prefix,
} from './ipv6/ipv6-layer.js';
import type { NetworkDevice } from './link/device.js';
import { EthernetLayer } from './link/ethernet-layer.js';
import type { TcpConfig } from './tcp/config.js';
import {
  StackTcpBinding,
  Tcp6ProtocolHandler,
  type TcpIpBinding,
  TcpProtocolHandler,
  type TcpReceiver,
} from './tcp/ip-glue/tcp-attachment.js';
import type { TcpLimits } from './tcp/limits.js';
import { TcpLayer } from './tcp/tcp-layer.js';
import type { Clock } from './time/clock.js';
import { StackCounters } from './trace/counters.js';
import { NO_TRACE, type Tracer } from './trace/events.js';
import { UdpLayer } from './udp/udp-layer.js';
import { Random, type Seed } from './util/random.js';
import { StackSecret } from './util/stack-secret.js';
import type { Ipv4Address } from './wire/address.js';
import { IP_PROTOCOL_IGMP } from './wire/igmp.js';
import { IP_PROTOCOL_ICMP, IP_PROTOCOL_TCP, IP_PROTOCOL_UDP } from './wire/ipv4.js';
import { parseIpv6 } from './wire/ipv6-address.js';

export interface StackOptions {
  /** Host name in trace events, e.g. 'client'. */
  name: string;
  clock: Clock;
  tracer?: Tracer;
  /** Randomness (IP IDs, ephemeral ports, echo identifiers); the stack forks its own stream from it. */
  random?: Random;
  /** Seed for the stack's randomness when `random` is not given. Default: the stack's name. */
  seed?: Seed;
  /**
   * 32 bytes keying every number an outsider must not predict: TCP ISNs (RFC 6528), ephemeral ports
   * (RFC 6056), IPv4 IDs (RFC 7739), SYN cookies. Default: fresh bytes from `crypto.getRandomValues` —
   * never the seeded randomness. Inject bytes only to make runs repeat (a simulation does).
   */
  secret?: Uint8Array;
  /** Default TTL of datagrams we originate. Default 64. */
  ttl?: number;
  /** Forward datagrams between interfaces (a router). Default false. */
  forwarding?: boolean;
  /** ARP timing and queue bounds, for every interface. See ArpResolver. */
  arp?: ArpOptions;
  /** Reassembly timeout and memory bounds. See Reassembler. */
  reassembly?: ReassemblyOptions;
  /** Path MTU expiry and floor. See PathMtuCache. */
  pathMtu?: PathMtuOptions;
  /** ICMP error rate limit. See IcmpLayer. */
  icmp?: IcmpOptions;
  /** Defaults for every TCP connection of this stack (buffer sizes, timers, Nagle ...). See TcpConfig. */
  tcp?: Partial<TcpConfig>;
  /** Stack-wide TCP limits (SYN queue, ephemeral port range ...). See TcpLimits and docs/limits.md. */
  tcpLimits?: Partial<TcpLimits>;
  /** IPv6 tuning: NDP and DAD timing, neighbor cache bounds, reassembly, interface identifiers. */
  ipv6?: Omit<Ipv6LayerOptions, 'ethernet'>;
}

export class Stack {
  readonly name: string;
  /** See StackOptions.secret. */
  readonly secret: StackSecret;
  readonly clock: Clock;
  readonly tracer: Tracer;
  readonly random: Random;
  readonly counters = new StackCounters();
  /** The IPv4 layer: interfaces, routes, send/receive, fragmentation, forwarding. */
  readonly ip: Ipv4Layer;
  /** The IPv6 layer: interfaces, NDP, SLAAC, ICMPv6, extension headers, fragmentation, forwarding. */
  readonly ipv6: Ipv6Layer;
  /** Framing and EtherType demux shared by IPv4, ARP and IPv6. */
  readonly ethernet: EthernetLayer;
  readonly icmp: IcmpLayer;
  readonly udp: UdpLayer;
  /** What the TCP layer uses to send and to ask about addresses and MTUs. */
  readonly tcpBinding: TcpIpBinding;
  private readonly context: StackContext;
  private readonly tcpConfig: Partial<TcpConfig> | undefined;
  private readonly tcpLimits: Partial<TcpLimits> | undefined;
  private tcpLayer: TcpLayer | undefined;
  /** A TCP of the caller's own, attached with `attachTcp` instead of `stack.tcp`. */
  private tcpReceiver: TcpReceiver | undefined;
  private closed = false;

  constructor(options: StackOptions) {
    if (typeof options.name !== 'string' || options.name === '')
      throw errnoError('EINVAL', 'a stack needs a name');
    this.name = options.name;
    this.clock = options.clock;
    this.tracer = options.tracer ?? NO_TRACE;
    this.random = options.random
      ? options.random.fork(`stack/${options.name}`)
      : new Random(options.seed ?? options.name);
    const counters = this.counters;
    const tracer = this.tracer;
    const clock = this.clock;
    const host = this.name;
    this.secret = new StackSecret(options.secret);
    this.context = {
      name: host,
      clock,
      tracer,
      counters,
      random: this.random,
      secret: this.secret,
      drop(layer, reason) {
        counters.countDrop(layer, reason);
        if (tracer.enabled) tracer.emit({ kind: 'drop', time: clock.now(), host, layer, reason });
      },
      note(text) {
        if (tracer.enabled) tracer.emit({ kind: 'note', time: clock.now(), host, text });
      },
    };
    this.ethernet = new EthernetLayer(this.context);
    this.ipv6 = new Ipv6Layer(this.context, {
      hopLimit: options.ttl,
      ...options.ipv6,
      ethernet: this.ethernet,
    });
    this.ipv6.forwarding = options.forwarding === true;
    this.ip = new Ipv4Layer(this.context, {
      ethernet: this.ethernet,
      defaultTtl: options.ttl,
      arp: options.arp,
      reassembly: options.reassembly,
      pathMtu: options.pathMtu,
    });
    this.icmp = new IcmpLayer(this.context, this.ip, options.icmp);
    this.ip.icmp = this.icmp;
    this.ip.forwarding = options.forwarding === true;
    this.udp = new UdpLayer(this.context, this.ip, this.ipv6);
    this.ip.registerProtocol(IP_PROTOCOL_ICMP, this.icmp);
    this.ip.registerProtocol(IP_PROTOCOL_UDP, this.udp);
    this.ip.registerProtocol(IP_PROTOCOL_IGMP, this.ip.igmp);
    this.ipv6.registerProtocol(IP_PROTOCOL_UDP, this.udp.ipv6Handler);
    this.tcpBinding = new StackTcpBinding(this.ip, this.ipv6);
    this.tcpConfig = options.tcp;
    this.tcpLimits = options.tcpLimits;
    // Protocol 6 is always served, as on any host: a segment for a stack that never used TCP creates its
    // layer, which answers with the RST of a closed port (RFC 9293 §3.10.7.1) rather than leaving IP to
    // say "protocol unreachable". `attachTcp` may put a TCP of the caller's own in its place.
    const tcpReceiver: TcpReceiver = {
      receive: (src, dst, segment, ecn) => (this.tcpReceiver ?? this.tcp).receive(src, dst, segment, ecn),
      receiveIcmpError: (report) => {
        // Without a layer there is no connection the report could be about.
        if (this.tcpReceiver !== undefined) this.tcpReceiver.receiveIcmpError?.(report);
        else this.tcpLayer?.receiveIcmpError(report);
      },
    };
    // One TCP for both versions, attached the same way to each (RFC 8200 §8: only the pseudo-header and
    // the header sizes differ).
    this.ip.registerProtocol(IP_PROTOCOL_TCP, new TcpProtocolHandler(this.context, tcpReceiver));
    this.ipv6.registerProtocol(IP_PROTOCOL_TCP, new Tcp6ProtocolHandler(this.context, tcpReceiver));
  }

  /**
   * The stack's TCP layer (listen, connect, counters), created and attached as protocol 6 on first use,
   * so a stack that never speaks TCP carries none, and a test may attach a TCP of its own instead (then
   * this throws EADDRINUSE). Its ISN, ephemeral-port and cookie keys derive from the stack's secret.
   */
  get tcp(): TcpLayer {
    let layer = this.tcpLayer;
    if (layer === undefined) {
      this.checkOpen();
      if (this.tcpReceiver !== undefined) {
        throw errnoError('EADDRINUSE', 'a TCP of its own is attached to this stack (attachTcp)');
      }
      layer = new TcpLayer({
        ip: this.tcpBinding,
        clock: this.clock,
        tracer: this.tracer,
        host: this.name,
        config: this.tcpConfig,
        limits: this.tcpLimits,
        secret: this.secret.derive('tcp', 32),
      });
      this.tcpLayer = layer;
    }
    return layer;
  }

  /**
   * Gives `device` an IPv4 address and starts receiving its frames. `gateway` adds a default route.
   * Throws EINVAL (bad address, prefix or MTU), EEXIST (device already configured), EADDRINUSE (address
   * already ours) or ENETUNREACH (gateway not on the subnet).
   */
  addInterface(device: NetworkDevice, config: InterfaceConfig): IpInterface {
    this.checkOpen();
    return this.ip.addInterface(device, config);
  }

  /**
   * Starts IPv6 on `device` (a link-local address, then `addresses`, each through DAD; router
   * solicitation and SLAAC from advertisements), or adds `addresses` to a device already running it.
   * Throws EINVAL (bad address or MTU) or EADDRINUSE (address already ours).
   */
  addIpv6Interface(device: NetworkDevice, config: Ipv6InterfaceConfig = {}): Ipv6Interface {
    this.checkOpen();
    const existing = this.ipv6.interfaces.find((i) => i.device === device);
    if (existing === undefined) return this.ipv6.addInterface(device, config);
    for (const text of config.addresses ?? []) {
      const { address, prefixLength } = parseIpv6Prefix(text);
      this.ipv6.addAddress(existing, address, prefixLength);
    }
    return existing;
  }

  removeInterface(iface: IpInterface): void {
    this.ip.removeInterface(iface);
  }

  get interfaces(): readonly IpInterface[] {
    return this.ip.interfaces;
  }

  /** The address of the first interface (undefined before one is added): handy for single-homed hosts. */
  get address(): Ipv4Address | undefined {
    return this.ip.interfaces[0]?.address;
  }

  /** The routing table: `stack.routes.add({ destination: '10.0.2.0/24', gateway: '10.0.1.1' })`. */
  get routes(): RoutingTable {
    return this.ip.routes;
  }

  /** True makes this stack a router (RFC 1812 forwarding between its interfaces). */
  get forwarding(): boolean {
    return this.ip.forwarding;
  }

  set forwarding(on: boolean) {
    this.ip.forwarding = on;
    this.ipv6.forwarding = on;
    // RFC 4861 §6.3.4: routers do not configure themselves from other routers' advertisements.
    this.ipv6.ndp.acceptRouterAdvertisements = !on;
  }

  /**
   * Installs the handler of an IP protocol number (1, 6 and 17 are taken by ICMP, TCP and UDP).
   * It receives every valid datagram for us with that protocol and the errors about datagrams it sent.
   */
  registerProtocol(protocol: number, handler: IpProtocolHandler): void {
    this.ip.registerProtocol(protocol, handler);
  }

  unregisterProtocol(protocol: number): void {
    this.ip.unregisterProtocol(protocol);
  }

  /**
   * The TCP hook: puts `tcp`, a TCP of the caller's own, in place of the stack's layer (`stack.tcp`). It
   * receives parsed, checksum-verified unicast segments (`receive(src, dst, segment)`) and errors about
   * segments it sent (`receiveIcmpError`); it sends through `stack.tcpBinding`. Throws EADDRINUSE when a
   * TCP is already attached, or `stack.tcp` was already used.
   */
  attachTcp(tcp: TcpReceiver): TcpIpBinding {
    if (this.tcpReceiver !== undefined || this.tcpLayer !== undefined) {
      throw errnoError('EADDRINUSE', 'a TCP layer is already attached to this stack');
    }
    this.tcpReceiver = tcp;
    return this.tcpBinding;
  }

  /**
   * Sends one IP datagram. `payload` is copied, or — as a PayloadWriter — written straight into the frame.
   * Returns 'ok' or an errno (see IpSendStatus); never throws for network conditions.
   */
  sendIp(options: IpSendOptions, payload: PayloadWriter | Uint8Array): IpSendStatus {
    if (this.closed) return 'ENETUNREACH';
    return this.ip.send(options, payload);
  }

  /** Sends an ICMP echo request and resolves with the reply (see IcmpLayer.ping for the errors). */
  ping(dst: AddressInput, options?: PingOptions): Promise<PingReply> {
    if (this.closed) return Promise.reject(errnoError('ENETUNREACH', 'the stack is closed'));
    return this.icmp.ping(dst, options);
  }

  /** Sends an ICMPv6 echo request and resolves with the reply (see Ipv6Layer.ping for the errors). */
  ping6(
    dst: string,
    options?: { size?: number; timeoutMs?: number; hopLimit?: number },
  ): Promise<Ping6Reply> {
    if (this.closed) return Promise.reject(errnoError('ENETUNREACH', 'the stack is closed'));
    const address = parseIpv6(dst);
    if (address === undefined) return Promise.reject(errnoError('EINVAL', `${dst} is not an IPv6 address`));
    return this.ipv6.ping(address, options);
  }

  /** True for an address of ours: IPv4 (text or number) or IPv6 (text with ':' or bigint, ::1 included). */
  isLocalAddress(address: AddressInput | bigint): boolean {
    if (typeof address === 'bigint') return this.ipv6.isLocalAddress(address);
    if (typeof address === 'string' && address.includes(':')) {
      const v6 = parseIpv6(address);
      return v6 !== undefined && this.ipv6.isLocalAddress(v6);
    }
    return this.ip.isLocalAddress(toAddress(address));
  }

  isBroadcastOrMulticast(address: AddressInput): boolean {
    return this.ip.isBroadcastOrMulticast(toAddress(address));
  }

  sourceAddressFor(dst: AddressInput): Ipv4Address | undefined {
    return this.ip.sourceAddressFor(toAddress(dst));
  }

  mtuFor(dst: AddressInput): number {
    return this.ip.mtuFor(toAddress(dst));
  }

  /** Every ARP cache entry of every interface, like `ip neigh show`. */
  neighbors(): Array<ArpEntryInfo & { interfaceName: string }> {
    return this.ip.interfaces.flatMap((iface) =>
      iface.arp.list().map((entry) => ({ ...entry, interfaceName: iface.name })),
    );
  }

  /**
   * Joins a multicast group so datagrams sent to it are delivered here (UDP): an IPv4 group, or an IPv6
   * one (a bigint or ff00::/8 text) on every IPv6 interface, announced with an MLDv2 report (RFC 3810).
   */
  joinMulticastGroup(group: AddressInput | bigint): void {
    const v6 = this.ipv6GroupOf(group);
    if (v6 !== undefined) this.ipv6.joinGroup(v6);
    else this.ip.joinGroup(toAddress(group as AddressInput, 'group'));
  }

  leaveMulticastGroup(group: AddressInput | bigint): void {
    const v6 = this.ipv6GroupOf(group);
    if (v6 !== undefined) this.ipv6.leaveGroup(v6);
    else this.ip.leaveGroup(toAddress(group as AddressInput, 'group'));
  }

  /**
   * Receives `group` from `source` (a source-specific join, RFC 4607; IGMPv3/MLDv2 report the change),
   * counted; `group` and `source` are of one IP version.
   */
  addMulticastSource(group: AddressInput | bigint, source: AddressInput | bigint): void {
    const v6 = this.ipv6GroupOf(group);
    if (v6 !== undefined) this.ipv6.addGroupSource(v6, this.ipv6Source(source));
    else
      this.ip.addGroupSource(
        toAddress(group as AddressInput, 'group'),
        toAddress(source as AddressInput, 'source'),
      );
  }

  /** Undoes one `addMulticastSource`. */
  dropMulticastSource(group: AddressInput | bigint, source: AddressInput | bigint): void {
    const v6 = this.ipv6GroupOf(group);
    if (v6 !== undefined) this.ipv6.dropGroupSource(v6, this.ipv6Source(source));
    else
      this.ip.dropGroupSource(
        toAddress(group as AddressInput, 'group'),
        toAddress(source as AddressInput, 'source'),
      );
  }

  private ipv6Source(source: AddressInput | bigint): bigint {
    const address =
      typeof source === 'bigint' ? source : typeof source === 'string' ? parseIpv6(source) : undefined;
    if (address === undefined) throw errnoError('EINVAL', `${String(source)} is not an IPv6 source address`);
    return address;
  }

  private ipv6GroupOf(group: AddressInput | bigint): bigint | undefined {
    if (typeof group === 'bigint') return group;
    return typeof group === 'string' && group.includes(':') ? parseIpv6(group) : undefined;
  }

  /**
   * Shuts the stack down: TCP connections aborted (with RST) and listeners closed, UDP sockets closed, pending pings failed (ECANCELED), ARP and reassembly timers
   * cancelled, devices detached. Idempotent.
   */
  close(): void {
    if (this.closed) return;
    // TCP first, while IP can still carry the resets of the connections it aborts.
    this.tcpLayer?.shutdown();
    this.closed = true;
    this.udp.close();
    this.icmp.close();
    this.ipv6.close();
    this.ip.close();
  }

  private checkOpen(): void {
    if (this.closed) throw errnoError('EBADF', 'the stack is closed');
  }
}
