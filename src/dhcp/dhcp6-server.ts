/**
 * A stateless DHCPv6 server (RFC 8415 §6.1, the "stateless DHCP" of RFC 8736's list) for the one link a
 * gateway serves: guests take their addresses from the router advertisement (SLAAC), and the O flag
 * there (RFC 4861 §4.2) tells them to ask this server for the rest — the DNS servers (RFC 3646 §3) and
 * the domain search list (RFC 3646 §4).
 *
 * What it answers:
 * - Information-request (RFC 8415 §18.3.6): Reply with our Server Identifier, the client's Client
 *   Identifier when it sent one, the DNS servers, the domain list when configured, and the Information
 *   Refresh Time when the client's Option Request asks for it (RFC 8415 §21.23). Discarded (RFC 8415
 *   §16.12) when it names another server or carries an IA option.
 * - Solicit (RFC 8415 §18.3.1, §18.3.9): an Advertise that assigns nothing — our Server Identifier, the
 *   Client Identifier and a top-level Status Code NoAddrsAvail — so a client configured for addresses
 *   learns at once that this link has none to give. Discarded without a Client Identifier, or with a
 *   Server Identifier (RFC 8415 §16.2).
 * - Everything else a client may send (Request, Renew, Rebind, Release, Decline, Confirm) refers to
 *   leases this server never gave: not answered, counted in `unanswered`.
 *
 * With an address `pool` it is stateful too (RFC 8415 §6.2; the gateway then sets M in its
 * advertisements): one address per IA_NA (RFC 8415 §21.4), by client DUID and IAID.
 * - Solicit: Advertise of the IA's current address, else its hint when free in the pool, else the lowest
 *   free one, held `offerHoldMs` (RFC 8415 §18.3.1; Rapid Commit is not done, which §18.3.1 allows);
 *   an IA with no address to give carries NoAddrsAvail (§18.3.9).
 * - Request (§18.3.2): the same choice, bound for the valid lifetime; Renew (§18.3.4) and Rebind
 *   (§18.3.5) extend a binding, NoBinding when there is none (Rebind: addresses off this prefix come back
 *   with lifetimes 0); Release (§18.3.7) frees, Decline (§18.3.8) takes the address out of the pool for
 *   `declineHoldMs`, both answered Success; Confirm (§18.3.3) is Success when every address is on the
 *   prefix, else NotOnLink. IA_TA and IA_PD are not served: they come back empty with NoAddrsAvail and
 *   NoPrefixAvail.
 * T1 and T2 are 0.5 and 0.8 of the preferred lifetime (RFC 8415 §21.4's recommendation).
 * Replies go to the client's source address and port (RFC 8415 §18.3.10: a unicast to the address the
 * message came from, normally its link-local one), sent from our link-local address.
 *
 * Bounds: stateless, nothing is held per client. Stateful, the pool (`pool.size`, 16 as the IPv4 pool)
 * bounds the leases; a client arriving when all are leased, offered or declined gets NoAddrsAvail
 * (counter `poolExhausted`).
 */
import type { Stack } from '../stack.js';
import type { UdpMessageInfo, UdpSocket } from '../udp/udp-socket.js';
import type { MacAddress } from '../wire/address.js';
import type { Ipv6Address } from '../wire/ipv6-address.js';
import {
  ALL_DHCP_RELAY_AGENTS_AND_SERVERS,
  addressListOption,
  DHCP6_ADVERTISE,
  DHCP6_CONFIRM,
  DHCP6_DECLINE,
  DHCP6_INFORMATION_REQUEST,
  DHCP6_REBIND,
  DHCP6_RELEASE,
  DHCP6_RENEW,
  DHCP6_REPLY,
  DHCP6_REQUEST,
  DHCP6_SERVER_PORT,
  DHCP6_SOLICIT,
  type Dhcp6IaNa,
  type Dhcp6Message,
  type Dhcp6Option,
  dhcp6Option,
  domainListOption,
  duidFromMac,
  emitDhcp6,
  emptyIaOption,
  iaNaOption,
  OPTION6_CLIENTID,
  OPTION6_DNS_SERVERS,
  OPTION6_DOMAIN_LIST,
  OPTION6_IA_NA,
  OPTION6_IA_PD,
  OPTION6_IA_TA,
  OPTION6_INFORMATION_REFRESH_TIME,
  OPTION6_SERVERID,
  OPTION6_STATUS_CODE,
  parseDhcp6,
  parseIaNa,
  requestedOptions,
  STATUS6_NO_ADDRS_AVAIL,
  STATUS6_NO_BINDING,
  STATUS6_NO_PREFIX_AVAIL,
  STATUS6_NOT_ON_LINK,
  STATUS6_SUCCESS,
  statusCodeOption,
  uint32Option6,
} from './dhcp6-message.js';

export interface Dhcp6ServerOptions {
  /** The link's Ethernet address: our DUID-LL, the Server Identifier (RFC 8415 §11.4). */
  mac: MacAddress;
  /** DNS servers (OPTION_DNS_SERVERS, RFC 3646 §3). */
  dnsServers: Ipv6Address[];
  /** Domain search list (OPTION_DOMAIN_LIST, RFC 3646 §4). Default: not sent. */
  domainList?: string[];
  /**
   * Information Refresh Time in seconds (RFC 8415 §21.23), sent when requested. Default 86400
   * (IRT_DEFAULT, RFC 8415 §7.6).
   */
  informationRefreshSeconds?: number;
  /** Hand out addresses (stateful DHCPv6). Default: none, stateless only. */
  pool?: Dhcp6AddressPool;
}

/** Addresses handed out by IA_NA (stateful DHCPv6, RFC 8415 §6.2). */
export interface Dhcp6AddressPool {
  /** First address; the pool is `size` consecutive addresses in its /64. */
  first: Ipv6Address;
  /** Addresses in the pool. Default 16. */
  size?: number;
  /** Preferred lifetime, s. Default 14400 (radvd's AdvPreferredLifetime). */
  preferredSeconds?: number;
  /** Valid lifetime, s. Default 86400 (the IPv4 lease). */
  validSeconds?: number;
  /** How long an Advertise holds its address, ms. Default 60000. */
  offerHoldMs?: number;
  /** How long a declined address stays out of the pool, ms. Default 600000. */
  declineHoldMs?: number;
}

export interface Dhcp6Lease {
  address: Ipv6Address;
  /** The client's DUID, hex. */
  client: string;
  iaid: number;
  state: 'offered' | 'bound' | 'declined';
  expiresAt: number;
}

export interface Dhcp6ServerCounters {
  received: number;
  /** Not a DHCPv6 client message, or one RFC 8415 §16 says to discard. */
  malformed: number;
  /** Replies to Information-requests. */
  replies: number;
  /** Advertises with NoAddrsAvail, answering Solicits. */
  advertises: number;
  /** Requests, Renews and the other lease messages of clients this stateless server does not answer. */
  unanswered: number;
  /** IA_NAs that found no free address (stateful). */
  poolExhausted: number;
  /** Addresses bound by a Request (stateful). */
  bindings: number;
  releases: number;
  declines: number;
  /** Replies the IPv6 layer could not send (no route back to the client): it retransmits. */
  sendFailures: number;
}

export class Dhcp6Server {
  readonly counters: Dhcp6ServerCounters = {
    received: 0,
    malformed: 0,
    replies: 0,
    advertises: 0,
    unanswered: 0,
    sendFailures: 0,
    poolExhausted: 0,
    bindings: 0,
    releases: 0,
    declines: 0,
  };
  readonly duid: Uint8Array;
  private readonly socket: UdpSocket;
  private readonly domainList: Uint8Array | undefined;
  private readonly refreshSeconds: number;
  /** Address -> lease (stateful). */
  private readonly leases = new Map<Ipv6Address, Dhcp6Lease>();

  constructor(
    private readonly stack: Stack,
    private readonly options: Dhcp6ServerOptions,
  ) {
    this.duid = duidFromMac(options.mac);
    this.domainList =
      options.domainList && options.domainList.length > 0 ? domainListOption(options.domainList) : undefined;
    this.refreshSeconds = options.informationRefreshSeconds ?? 86_400;
    // Clients send to All_DHCP_Relay_Agents_and_Servers (RFC 8415 §7.1, §13), and only there while no
    // Server Unicast option (RFC 8415 §21.12) is given; bound to the group, not to ::, so a gateway's
    // guest writing to port 547 of an outside host is still relayed there.
    this.socket = stack.udp.bind(
      { address: ALL_DHCP_RELAY_AGENTS_AND_SERVERS, port: DHCP6_SERVER_PORT, reuseAddress: true },
      { message: (payload, info) => this.receive(payload, info) },
    );
    stack.ipv6.joinGroup(ALL_DHCP_RELAY_AGENTS_AND_SERVERS);
  }

  /** True when it hands out addresses (a `pool` was given). */
  get stateful(): boolean {
    return this.options.pool !== undefined;
  }

  /** Current leases (stateful), like a lease file. */
  list(): Dhcp6Lease[] {
    this.expire();
    return [...this.leases.values()].map((lease) => ({ ...lease }));
  }

  close(): void {
    this.socket.close();
    this.stack.ipv6.leaveGroup(ALL_DHCP_RELAY_AGENTS_AND_SERVERS);
  }

  private receive(payload: Uint8Array, info: UdpMessageInfo): void {
    this.counters.received++;
    const result = parseDhcp6(payload);
    if (!result.ok || typeof info.address !== 'bigint') {
      this.counters.malformed++;
      return;
    }
    const message = result.value;
    const serverId = dhcp6Option(message, OPTION6_SERVERID);
    const clientId = dhcp6Option(message, OPTION6_CLIENTID);
    switch (message.type) {
      case DHCP6_INFORMATION_REQUEST: {
        // RFC 8415 §16.12: discard when it names another server or asks for addresses or prefixes.
        const hasIa = message.options.some(
          (o) => o.code === OPTION6_IA_NA || o.code === OPTION6_IA_TA || o.code === OPTION6_IA_PD,
        );
        if ((serverId !== undefined && !sameBytes(serverId, this.duid)) || hasIa) {
          this.counters.malformed++;
          return;
        }
        const options = this.identifiers(clientId);
        options.push(...this.configuration(message));
        this.counters.replies++;
        this.send(info, { type: DHCP6_REPLY, transactionId: message.transactionId, options });
        return;
      }
      case DHCP6_SOLICIT: {
        // RFC 8415 §16.2: a Solicit must identify its client and must not name a server.
        if (clientId === undefined || serverId !== undefined) {
          this.counters.malformed++;
          return;
        }
        if (this.options.pool !== undefined && message.options.some((o) => o.code === OPTION6_IA_NA)) {
          this.counters.advertises++;
          this.answer(info, message, clientId, DHCP6_ADVERTISE, this.assign(message, clientId, 'offered'));
          return;
        }
        const options = this.identifiers(clientId);
        options.push({
          code: OPTION6_STATUS_CODE,
          data: statusCodeOption(STATUS6_NO_ADDRS_AVAIL, 'addresses come from SLAAC on this link'),
        });
        options.push(...this.configuration(message));
        this.counters.advertises++;
        this.send(info, { type: DHCP6_ADVERTISE, transactionId: message.transactionId, options });
        return;
      }
      default:
        if (
          this.options.pool !== undefined &&
          clientId !== undefined &&
          this.leaseMessage(message, info, clientId, serverId)
        )
          return;
        // Server messages (Advertise, Reply, Reconfigure) and lease messages: nothing for us to say.
        this.counters.unanswered++;
    }
  }

  /**
   * Request, Renew, Rebind, Release, Decline and Confirm of a stateful server; false for anything else,
   * or for one that must be discarded because of its Server Identifier (RFC 8415 §16.4-§16.9: required
   * and ours in Request, Renew, Release and Decline; absent in Rebind and Confirm).
   */
  private leaseMessage(
    message: Dhcp6Message,
    info: UdpMessageInfo,
    clientId: Uint8Array,
    serverId: Uint8Array | undefined,
  ): boolean {
    const ours = serverId !== undefined && sameBytes(serverId, this.duid);
    const client = hex(clientId);
    const ias = message.options
      .filter((o) => o.code === OPTION6_IA_NA)
      .map((o) => parseIaNa(o.data))
      .filter((ia): ia is Dhcp6IaNa => ia !== undefined);
    const success = (text: string): Dhcp6Option => ({
      code: OPTION6_STATUS_CODE,
      data: statusCodeOption(STATUS6_SUCCESS, text),
    });
    switch (message.type) {
      case DHCP6_REQUEST:
        if (!ours) return false;
        this.answer(info, message, clientId, DHCP6_REPLY, this.assign(message, clientId, 'bound'));
        return true;
      case DHCP6_RENEW:
      case DHCP6_REBIND: {
        if (message.type === DHCP6_RENEW ? !ours : serverId !== undefined) return false;
        const options = ias.map((ia) => {
          const lease = this.leaseOf(client, ia.iaid);
          if (lease !== undefined && lease.state === 'bound') return this.bind(lease, ia);
          // RFC 8415 §18.3.5: addresses not for this link come back with lifetimes 0 on a Rebind.
          const offLink = ia.addresses.find((a) => !this.onLink(a));
          if (message.type === DHCP6_REBIND && offLink !== undefined)
            return iaNaOption(ia, { address: offLink, preferred: 0, valid: 0 });
          return iaNaOption(ia, undefined, { code: STATUS6_NO_BINDING, message: 'no binding for this IA' });
        });
        this.answer(info, message, clientId, DHCP6_REPLY, options);
        return true;
      }
      case DHCP6_RELEASE:
      case DHCP6_DECLINE: {
        if (!ours) return false;
        const declined = message.type === DHCP6_DECLINE;
        const options: Dhcp6Option[] = [success(declined ? 'declined' : 'released')];
        for (const ia of ias) {
          const lease = this.leaseOf(client, ia.iaid);
          if (lease === undefined || !ia.addresses.includes(lease.address)) {
            options.push(iaNaOption(ia, undefined, { code: STATUS6_NO_BINDING, message: 'no binding' }));
            continue;
          }
          if (declined) {
            // Someone else holds it (DAD failed, RFC 8415 §18.2.8): out of the pool for a while.
            this.counters.declines++;
            lease.state = 'declined';
            lease.client = '';
            lease.expiresAt = this.stack.clock.now() + (this.options.pool!.declineHoldMs ?? 600_000);
          } else {
            this.counters.releases++;
            this.leases.delete(lease.address);
          }
        }
        this.answer(info, message, clientId, DHCP6_REPLY, options);
        return true;
      }
      case DHCP6_CONFIRM: {
        if (serverId !== undefined) return false;
        const addresses = ias.flatMap((ia) => ia.addresses);
        // RFC 8415 §18.3.3: no addresses, no reply.
        if (addresses.length === 0) return false;
        const onLink = addresses.every((a) => this.onLink(a));
        const status = onLink
          ? success('all addresses on link')
          : {
              code: OPTION6_STATUS_CODE,
              data: statusCodeOption(STATUS6_NOT_ON_LINK, 'not this link'),
            };
        this.answer(info, message, clientId, DHCP6_REPLY, [status]);
        return true;
      }
      default:
        return false;
    }
  }

  /**
   * One IA_NA answer per IA of a Solicit ('offered') or Request ('bound'): the IA's address, its hint, or
   * the lowest free one (RFC 8415 §18.3.1, §18.3.2); NoAddrsAvail inside the IA when the pool is full.
   */
  private assign(message: Dhcp6Message, clientId: Uint8Array, state: 'offered' | 'bound'): Dhcp6Option[] {
    const client = hex(clientId);
    const options: Dhcp6Option[] = [];
    for (const option of message.options) {
      // No temporary addresses or prefixes here: those IAs come back empty with their status
      // (RFC 8415 §18.3.2, §18.3.9: NoAddrsAvail for an IA_TA, NoPrefixAvail for an IA_PD).
      if (option.code === OPTION6_IA_TA || option.code === OPTION6_IA_PD) {
        const empty =
          option.code === OPTION6_IA_TA
            ? emptyIaOption(option, STATUS6_NO_ADDRS_AVAIL, 'no temporary addresses')
            : emptyIaOption(option, STATUS6_NO_PREFIX_AVAIL, 'no prefixes delegated');
        if (empty !== undefined) options.push(empty);
        continue;
      }
      if (option.code !== OPTION6_IA_NA) continue;
      const ia = parseIaNa(option.data);
      if (ia === undefined) continue;
      this.expire();
      let lease = this.leaseOf(client, ia.iaid);
      if (lease === undefined) {
        const address = ia.addresses.find((a) => this.inPool(a) && !this.leases.has(a)) ?? this.lowestFree();
        if (address === undefined) {
          this.counters.poolExhausted++;
          options.push(iaNaOption(ia, undefined, { code: STATUS6_NO_ADDRS_AVAIL, message: 'pool full' }));
          continue;
        }
        lease = { address, client, iaid: ia.iaid, state: 'offered', expiresAt: 0 };
        this.leases.set(address, lease);
      }
      if (state === 'bound') {
        if (lease.state !== 'bound') this.counters.bindings++;
        options.push(this.bind(lease, ia));
      } else {
        if (lease.state !== 'bound')
          lease.expiresAt = this.stack.clock.now() + (this.options.pool!.offerHoldMs ?? 60_000);
        options.push(this.iaFor(lease, ia));
      }
    }
    return options;
  }

  /** Binds (or extends) `lease` for the valid lifetime and returns its IA_NA. */
  private bind(lease: Dhcp6Lease, ia: Dhcp6IaNa): Dhcp6Option {
    lease.state = 'bound';
    lease.expiresAt = this.stack.clock.now() + this.validSeconds() * 1000;
    return this.iaFor(lease, ia);
  }

  private iaFor(lease: Dhcp6Lease, ia: Dhcp6IaNa): Dhcp6Option {
    const preferred = this.options.pool!.preferredSeconds ?? 14_400;
    return iaNaOption(
      { iaid: ia.iaid, t1: Math.floor(preferred * 0.5), t2: Math.floor(preferred * 0.8) },
      { address: lease.address, preferred, valid: this.validSeconds() },
    );
  }

  private validSeconds(): number {
    return this.options.pool!.validSeconds ?? 86_400;
  }

  private leaseOf(client: string, iaid: number): Dhcp6Lease | undefined {
    for (const lease of this.leases.values())
      if (lease.client === client && lease.iaid === iaid && lease.state !== 'declined') return lease;
    return undefined;
  }

  private inPool(address: Ipv6Address): boolean {
    const pool = this.options.pool!;
    return address >= pool.first && address < pool.first + BigInt(pool.size ?? 16);
  }

  private onLink(address: Ipv6Address): boolean {
    return address >> 64n === this.options.pool!.first >> 64n;
  }

  private lowestFree(): Ipv6Address | undefined {
    const pool = this.options.pool!;
    for (let i = 0n; i < BigInt(pool.size ?? 16); i++)
      if (!this.leases.has(pool.first + i)) return pool.first + i;
    return undefined;
  }

  /** Drops offers, bindings and declines past their time. */
  private expire(): void {
    const now = this.stack.clock.now();
    for (const [address, lease] of this.leases) if (lease.expiresAt <= now) this.leases.delete(address);
  }

  /** Server and Client Identifiers, the IA answers, then the configuration options (RFC 8415 §18.3). */
  private answer(
    info: UdpMessageInfo,
    message: Dhcp6Message,
    clientId: Uint8Array,
    type: number,
    body: Dhcp6Option[],
  ): void {
    const options = this.identifiers(clientId);
    options.push(...body, ...this.configuration(message));
    if (type === DHCP6_REPLY) this.counters.replies++;
    this.send(info, { type, transactionId: message.transactionId, options });
  }

  /** Server Identifier first, then the client's own Client Identifier echoed (RFC 8415 §18.3). */
  private identifiers(clientId: Uint8Array | undefined): Dhcp6Option[] {
    const options: Dhcp6Option[] = [{ code: OPTION6_SERVERID, data: this.duid }];
    if (clientId !== undefined) options.push({ code: OPTION6_CLIENTID, data: clientId });
    return options;
  }

  /** The configuration options: DNS servers always, the rest as configured and requested. */
  private configuration(message: Dhcp6Message): Dhcp6Option[] {
    const requested = requestedOptions(message);
    const options: Dhcp6Option[] = [];
    if (this.options.dnsServers.length > 0)
      options.push({ code: OPTION6_DNS_SERVERS, data: addressListOption(this.options.dnsServers) });
    if (this.domainList !== undefined) options.push({ code: OPTION6_DOMAIN_LIST, data: this.domainList });
    // RFC 8415 §21.23: only in a Reply to an Information-request, and only when the client asked.
    if (message.type === DHCP6_INFORMATION_REQUEST && requested.has(OPTION6_INFORMATION_REFRESH_TIME))
      options.push({ code: OPTION6_INFORMATION_REFRESH_TIME, data: uint32Option6(this.refreshSeconds) });
    return options;
  }

  private send(info: UdpMessageInfo, message: Dhcp6Message): void {
    try {
      this.socket.send(emitDhcp6(message), info.port, info.address);
    } catch {
      // A client gone from the link (no route back): it retransmits, and the next one may be answered.
      this.counters.sendFailures++;
    }
  }
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
