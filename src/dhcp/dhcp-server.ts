/**
 * A DHCP server (RFC 2131 §4.3) for the one link a gateway serves: a pool of addresses handed out by
 * client hardware address, with the router, DNS server, MTU and lease times of RFC 2132.
 *
 * What it answers (RFC 2131 §4.3.1-§4.3.5):
 * - DISCOVER: OFFER of the client's current or last address, else the address it asked for (option 50)
 *   when free, else the lowest free one. An offer holds its address for `offerHoldMs`.
 * - REQUEST, SELECTING (server identifier present): ACK when it names us and the offered address, nothing
 *   when it names another server (the client chose it; our offer is withdrawn).
 * - REQUEST, INIT-REBOOT (requested address, no ciaddr): ACK when the address is the client's or free in
 *   the pool, NAK when it is on another network or taken.
 * - REQUEST, RENEWING/REBINDING (ciaddr): ACK when the lease is the client's, else NAK.
 * - RELEASE frees the lease; DECLINE takes the address out of the pool for `declineHoldMs`; INFORM gets
 *   the configuration without a lease.
 * Replies go to ciaddr when the client has one, else to the broadcast address (RFC 2131 §4.1 allows a
 * broadcast whenever a unicast to a client without an address is not possible); NAKs are broadcast.
 *
 * Bounds: the pool itself (`poolSize`, QEMU gives 16) — a client arriving when every address is leased or
 * held gets no offer (counter `poolExhausted`).
 */
import type { Stack } from '../stack.js';
import type { UdpSocket } from '../udp/udp-socket.js';
import { IPV4_BROADCAST, type Ipv4Address, type MacAddress, prefixMask } from '../wire/address.js';
import {
  addressOption,
  DHCP_CLIENT_PORT,
  DHCP_SERVER_PORT,
  DHCPACK,
  DHCPDECLINE,
  DHCPDISCOVER,
  DHCPINFORM,
  DHCPNAK,
  DHCPOFFER,
  DHCPRELEASE,
  DHCPREQUEST,
  type DhcpMessage,
  dhcpAddressOption,
  dhcpMessageType,
  emitDhcp,
  OPTION_BROADCAST,
  OPTION_DNS,
  OPTION_DOMAIN_NAME,
  OPTION_INTERFACE_MTU,
  OPTION_LEASE_TIME,
  OPTION_MESSAGE,
  OPTION_MESSAGE_TYPE,
  OPTION_REBINDING_TIME,
  OPTION_RENEWAL_TIME,
  OPTION_REQUESTED_ADDRESS,
  OPTION_ROUTER,
  OPTION_SERVER_ID,
  OPTION_SUBNET_MASK,
  parseDhcp,
  uint16Option,
  uint32Option,
} from './dhcp-message.js';

export interface DhcpServerOptions {
  /** Our address on the link: the server identifier (option 54). */
  serverAddress: Ipv4Address;
  prefixLength: number;
  /** First address of the pool (QEMU: 10.0.2.15). */
  poolStart: Ipv4Address;
  /** Addresses in the pool. Default 16 (QEMU's). */
  poolSize?: number;
  /** Router (option 3). Default: `serverAddress`. */
  router?: Ipv4Address;
  /** DNS servers (option 6). Default: none. */
  dnsServers?: Ipv4Address[];
  /** Interface MTU (option 26). Default: not sent. */
  mtu?: number;
  /** Domain name (option 15). Default: not sent. */
  domainName?: string;
  /** Lease length in seconds (option 51). Default 86400 (QEMU's); T1 and T2 are 1/2 and 7/8 of it. */
  leaseSeconds?: number;
  /** How long an offer holds its address, ms. Default 60000. */
  offerHoldMs?: number;
  /** How long a declined address stays out of the pool, ms. Default 600000. */
  declineHoldMs?: number;
}

export interface DhcpLease {
  address: Ipv4Address;
  client: MacAddress;
  /** 'offered' until the client requests it; 'bound' after the ACK; 'declined' after a DECLINE. */
  state: 'offered' | 'bound' | 'declined';
  expiresAt: number;
}

export interface DhcpServerCounters {
  received: number;
  malformed: number;
  offers: number;
  acks: number;
  naks: number;
  releases: number;
  declines: number;
  poolExhausted: number;
}

export class DhcpServer {
  readonly counters: DhcpServerCounters = {
    received: 0,
    malformed: 0,
    offers: 0,
    acks: 0,
    naks: 0,
    releases: 0,
    declines: 0,
    poolExhausted: 0,
  };
  private readonly socket: UdpSocket;
  private readonly poolSize: number;
  private readonly leaseSeconds: number;
  private readonly offerHoldMs: number;
  private readonly declineHoldMs: number;
  /** Address -> lease (offered, bound or declined). */
  private readonly leases = new Map<Ipv4Address, DhcpLease>();

  constructor(
    private readonly stack: Stack,
    private readonly options: DhcpServerOptions,
  ) {
    this.poolSize = options.poolSize ?? 16;
    this.leaseSeconds = options.leaseSeconds ?? 86_400;
    this.offerHoldMs = options.offerHoldMs ?? 60_000;
    this.declineHoldMs = options.declineHoldMs ?? 600_000;
    this.socket = stack.udp.bind(
      { port: DHCP_SERVER_PORT, reuseAddress: true },
      { message: (payload) => this.receive(payload) },
    );
    this.socket.broadcast = true;
  }

  /** Current leases (bound and offered), like a lease file. */
  list(): DhcpLease[] {
    this.expire();
    return [...this.leases.values()].map((lease) => ({ ...lease }));
  }

  /** The bound address of `client`, if any. */
  addressOf(client: MacAddress): Ipv4Address | undefined {
    for (const lease of this.leases.values())
      if (lease.client === client && lease.state === 'bound') return lease.address;
    return undefined;
  }

  close(): void {
    this.socket.close();
  }

  private receive(payload: Uint8Array): void {
    this.counters.received++;
    const result = parseDhcp(payload);
    if (!result.ok || result.value.reply) {
      this.counters.malformed++;
      return;
    }
    const message = result.value;
    this.expire();
    switch (dhcpMessageType(message)) {
      case DHCPDISCOVER:
        this.discover(message);
        return;
      case DHCPREQUEST:
        this.request(message);
        return;
      case DHCPRELEASE:
        this.release(message);
        return;
      case DHCPDECLINE:
        this.decline(message);
        return;
      case DHCPINFORM:
        this.reply(message, DHCPACK, 0, false);
        return;
      default:
        this.counters.malformed++;
    }
  }

  private discover(message: DhcpMessage): void {
    const address = this.choose(message.chaddr, dhcpAddressOption(message, OPTION_REQUESTED_ADDRESS));
    if (address === undefined) {
      this.counters.poolExhausted++;
      return;
    }
    const now = this.stack.clock.now();
    const existing = this.leases.get(address);
    if (existing === undefined || existing.state !== 'bound') {
      this.leases.set(address, {
        address,
        client: message.chaddr,
        state: 'offered',
        expiresAt: now + this.offerHoldMs,
      });
    }
    this.counters.offers++;
    this.reply(message, DHCPOFFER, address, true);
  }

  private request(message: DhcpMessage): void {
    const serverId = dhcpAddressOption(message, OPTION_SERVER_ID);
    const requested = dhcpAddressOption(message, OPTION_REQUESTED_ADDRESS);
    if (serverId !== undefined) {
      // SELECTING (§4.3.2): a request naming another server withdraws our offer.
      if (serverId !== this.options.serverAddress) {
        for (const lease of [...this.leases.values()]) {
          if (lease.client === message.chaddr && lease.state === 'offered') this.leases.delete(lease.address);
        }
        return;
      }
      const lease = requested === undefined ? undefined : this.leases.get(requested);
      if (lease === undefined || lease.client !== message.chaddr || lease.state === 'declined') {
        this.nak(message, 'no offer for that address');
        return;
      }
      this.bind(message, lease.address);
      return;
    }
    if (message.ciaddr === 0) {
      // INIT-REBOOT (§4.3.2): the client asks to keep the address it remembers.
      if (requested === undefined) {
        this.counters.malformed++;
        return;
      }
      if (!this.inPool(requested)) {
        this.nak(message, 'wrong network');
        return;
      }
      const lease = this.leases.get(requested);
      if (lease !== undefined && lease.client !== message.chaddr) {
        this.nak(message, 'address in use');
        return;
      }
      this.bind(message, requested);
      return;
    }
    // RENEWING (unicast to us) or REBINDING (broadcast): ciaddr is the lease being extended.
    const lease = this.leases.get(message.ciaddr);
    if (lease === undefined || lease.client !== message.chaddr || lease.state !== 'bound') {
      if (this.inPool(message.ciaddr) && lease === undefined) {
        // A lease we lost (a restarted gateway): the address is free, so take the client at its word.
        this.bind(message, message.ciaddr);
        return;
      }
      this.nak(message, 'no such lease');
      return;
    }
    this.bind(message, message.ciaddr);
  }

  private release(message: DhcpMessage): void {
    const lease = this.leases.get(message.ciaddr);
    if (lease !== undefined && lease.client === message.chaddr) {
      this.leases.delete(message.ciaddr);
      this.counters.releases++;
    }
  }

  private decline(message: DhcpMessage): void {
    const address = dhcpAddressOption(message, OPTION_REQUESTED_ADDRESS);
    const lease = address === undefined ? undefined : this.leases.get(address);
    if (lease === undefined || lease.client !== message.chaddr) return;
    this.counters.declines++;
    lease.state = 'declined';
    lease.expiresAt = this.stack.clock.now() + this.declineHoldMs;
  }

  private bind(message: DhcpMessage, address: Ipv4Address): void {
    // The client holds one address at a time: its other leases go.
    for (const lease of [...this.leases.values()]) {
      if (lease.client === message.chaddr && lease.address !== address) this.leases.delete(lease.address);
    }
    this.leases.set(address, {
      address,
      client: message.chaddr,
      state: 'bound',
      expiresAt: this.stack.clock.now() + this.leaseSeconds * 1000,
    });
    this.counters.acks++;
    this.reply(message, DHCPACK, address, true);
  }

  private nak(message: DhcpMessage, why: string): void {
    this.counters.naks++;
    const options = new Map<number, Uint8Array>([
      [OPTION_MESSAGE_TYPE, Uint8Array.of(DHCPNAK)],
      [OPTION_SERVER_ID, addressOption(this.options.serverAddress)],
      [OPTION_MESSAGE, new TextEncoder().encode(why)],
    ]);
    this.send({ ...this.replyHeader(message, 0), options }, IPV4_BROADCAST);
  }

  /** The address for `client`: its lease, its request when free, else the lowest free one. */
  private choose(client: MacAddress, requested: Ipv4Address | undefined): Ipv4Address | undefined {
    for (const lease of this.leases.values()) {
      if (lease.client === client && lease.state !== 'declined') return lease.address;
    }
    if (requested !== undefined && this.inPool(requested) && !this.leases.has(requested)) return requested;
    for (let i = 0; i < this.poolSize; i++) {
      const address = (this.options.poolStart + i) >>> 0;
      if (!this.leases.has(address)) return address;
    }
    return undefined;
  }

  private inPool(address: Ipv4Address): boolean {
    const offset = address - this.options.poolStart;
    return offset >= 0 && offset < this.poolSize;
  }

  private expire(): void {
    const now = this.stack.clock.now();
    for (const lease of [...this.leases.values()])
      if (lease.expiresAt <= now) this.leases.delete(lease.address);
  }

  private replyHeader(message: DhcpMessage, yiaddr: Ipv4Address): Omit<DhcpMessage, 'options'> {
    return {
      reply: true,
      xid: message.xid,
      secs: 0,
      flags: message.flags,
      ciaddr: 0,
      yiaddr,
      siaddr: 0,
      giaddr: message.giaddr,
      chaddr: message.chaddr,
    };
  }

  private reply(message: DhcpMessage, type: number, yiaddr: Ipv4Address, withLease: boolean): void {
    const o = this.options;
    const options = new Map<number, Uint8Array>([
      [OPTION_MESSAGE_TYPE, Uint8Array.of(type)],
      [OPTION_SERVER_ID, addressOption(o.serverAddress)],
      [OPTION_SUBNET_MASK, addressOption(prefixMask(o.prefixLength))],
      [OPTION_ROUTER, addressOption(o.router ?? o.serverAddress)],
      [OPTION_BROADCAST, addressOption((o.serverAddress | ~prefixMask(o.prefixLength)) >>> 0)],
    ]);
    if (o.dnsServers !== undefined && o.dnsServers.length > 0)
      options.set(OPTION_DNS, addressOption(...o.dnsServers));
    if (o.mtu !== undefined) options.set(OPTION_INTERFACE_MTU, uint16Option(o.mtu));
    if (o.domainName !== undefined) options.set(OPTION_DOMAIN_NAME, new TextEncoder().encode(o.domainName));
    if (withLease) {
      // RFC 2131 §4.4.5: T1 defaults to half the lease, T2 to 7/8 of it.
      options.set(OPTION_LEASE_TIME, uint32Option(this.leaseSeconds));
      options.set(OPTION_RENEWAL_TIME, uint32Option(Math.floor(this.leaseSeconds / 2)));
      options.set(OPTION_REBINDING_TIME, uint32Option(Math.floor((this.leaseSeconds * 7) / 8)));
    }
    const header = this.replyHeader(message, yiaddr);
    this.send({ ...header, options }, message.ciaddr !== 0 ? message.ciaddr : IPV4_BROADCAST);
  }

  private send(message: DhcpMessage, dst: Ipv4Address): void {
    try {
      this.socket.send(emitDhcp(message), DHCP_CLIENT_PORT, dst);
    } catch {
      // No route or a full queue: the client retransmits (RFC 2131 §4.1), nothing to keep.
    }
  }
}
