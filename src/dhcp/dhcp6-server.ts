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
 * Replies go to the client's source address and port (RFC 8415 §18.3.10: a unicast to the address the
 * message came from, normally its link-local one), sent from our link-local address.
 *
 * Bounds: nothing is held per client, so there is no table to bound; every reply is one datagram built
 * from the request and fixed configuration.
 */
import type { Stack } from '../stack.js';
import type { UdpMessageInfo, UdpSocket } from '../udp/udp-socket.js';
import type { MacAddress } from '../wire/address.js';
import type { Ipv6Address } from '../wire/ipv6-address.js';
import {
  ALL_DHCP_RELAY_AGENTS_AND_SERVERS,
  addressListOption,
  DHCP6_ADVERTISE,
  DHCP6_INFORMATION_REQUEST,
  DHCP6_REPLY,
  DHCP6_SERVER_PORT,
  DHCP6_SOLICIT,
  type Dhcp6Message,
  type Dhcp6Option,
  dhcp6Option,
  domainListOption,
  duidFromMac,
  emitDhcp6,
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
  requestedOptions,
  statusCodeOption,
  uint32Option6,
} from './dhcp6-message.js';

/** Status code NoAddrsAvail (RFC 8415 §21.13). */
const STATUS_NO_ADDRS_AVAIL = 2;

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
  };
  readonly duid: Uint8Array;
  private readonly socket: UdpSocket;
  private readonly domainList: Uint8Array | undefined;
  private readonly refreshSeconds: number;

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
        const options = this.identifiers(clientId);
        options.push({
          code: OPTION6_STATUS_CODE,
          data: statusCodeOption(STATUS_NO_ADDRS_AVAIL, 'addresses come from SLAAC on this link'),
        });
        options.push(...this.configuration(message));
        this.counters.advertises++;
        this.send(info, { type: DHCP6_ADVERTISE, transactionId: message.transactionId, options });
        return;
      }
      default:
        // Server messages (Advertise, Reply, Reconfigure) and lease messages: nothing for us to say.
        this.counters.unanswered++;
    }
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

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
