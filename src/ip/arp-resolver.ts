/**
 * ARP for one interface (RFC 826): the resolving protocol of a NeighbourCache (RFC 4861 §7.3's
 * Neighbor Unreachability Detection, shared with NDP), which keeps the entries, their states and timers.
 *
 * - What ARP packets say is fed to the cache by the RFC 826 merge rule: a packet updates an existing entry
 *   for its sender whatever its target; it creates one only when it targets our address. A reply to us
 *   confirms reachability; anything else refreshes at most. A new MAC for an entry the cache knows to be
 *   good (REACHABLE, DELAY, PROBE) is refused and counted (NeighbourUpdatesRefused).
 * - Resolution broadcasts requests (`retransmitTimeMs` apart, `maxRequests` in all); probing a STALE
 *   entry sends unicast requests to its cached MAC (`maxUnicastProbes`), as Linux does.
 * - Frames waiting for a resolution are queued as finished Ethernet frames (RFC 1122 §2.3.2.2), bounded
 *   per neighbour and per interface; every drop is counted in NeighbourQueueDrops.
 * - `announce()` sends a gratuitous ARP (RFC 5227 §2.3 announcement) when an address is added, so
 *   neighbours holding an old MAC for it update.
 */

import type { Ipv4Address, MacAddress } from '../wire/address.js';
import { ipv4ToString, isGroupMac, MAC_BROADCAST, MAC_ZERO } from '../wire/address.js';
import { ARP_PACKET_LENGTH, ARP_REPLY, ARP_REQUEST, type ArpPacket, emitArp } from '../wire/arp.js';
import { ETHERNET_HEADER_LENGTH, ETHERTYPE_ARP, emitEthernetHeader } from '../wire/ethernet.js';
import { isUnicastHostAddress } from './address-prefix.js';
import type { IpInterface } from './ip-interface.js';
import {
  NEIGHBOUR_DEFAULTS,
  NeighbourCache,
  type NeighbourEntryInfo,
  type NeighbourOptions,
  type NeighbourState,
} from './neighbour-cache.js';
import type { StackContext } from './stack-context.js';

/** ARP timing and bounds: the neighbour cache's (see NeighbourOptions). */
export type ArpOptions = NeighbourOptions;

export const ARP_DEFAULTS: Required<ArpOptions> = NEIGHBOUR_DEFAULTS;

export type ArpEntryState = NeighbourState;

export type ArpEntryInfo = NeighbourEntryInfo<Ipv4Address>;

/** Called with the frames a failed resolution drops, so the IP layer can report them. */
export type ArpFailureHandler = (nextHop: Ipv4Address, frames: readonly Uint8Array[]) => void;

export class ArpResolver {
  private readonly cache: NeighbourCache<Ipv4Address>;

  constructor(
    private readonly ctx: StackContext,
    private readonly iface: IpInterface,
    private readonly transmit: (frame: Uint8Array) => void,
    onFailure: ArpFailureHandler,
    options: ArpOptions = {},
  ) {
    this.cache = new NeighbourCache(
      ctx,
      {
        name: 'arp',
        solicit: (address, unicastTo) => this.sendRequest(address, unicastTo),
        transmit,
        failed: onFailure,
        describe: ipv4ToString,
      },
      options,
    );
  }

  /**
   * Sends `frame` (a complete Ethernet frame whose first six bytes, the destination MAC, are ours to fill)
   * to `nextHop` on this link, resolving its MAC first when the cache has no usable entry.
   */
  send(nextHop: Ipv4Address, frame: Uint8Array): void {
    this.cache.send(nextHop, frame);
  }

  /** The MAC to use now for `address`, if one is known. */
  lookup(address: Ipv4Address): MacAddress | undefined {
    return this.cache.lookup(address);
  }

  /** Addresses `frame` to `address` if its MAC is known now (see NeighbourCache.addressFrame). */
  addressFrame(address: Ipv4Address, frame: Uint8Array): boolean {
    return this.cache.addressFrame(address, frame);
  }

  /** Upper-layer confirmation that `address` is reachable (TCP progress through it, RFC 4861 §7.3.1). */
  confirm(address: Ipv4Address): void {
    this.cache.confirm(address);
  }

  /** Adds a permanent entry (like `ip neigh add ... nud permanent`), flushing any waiting frames. */
  addStatic(address: Ipv4Address, mac: MacAddress): void {
    this.cache.addStatic(address, mac);
  }

  /** Forgets one entry; frames waiting for it are dropped. Returns whether it existed. */
  delete(address: Ipv4Address): boolean {
    return this.cache.delete(address);
  }

  /** Forgets everything and cancels every timer (the interface is going away). */
  clear(): void {
    this.cache.clear();
  }

  /** A snapshot of the cache, like `ip neigh show`. */
  list(): ArpEntryInfo[] {
    return this.cache.list();
  }

  /** Frames currently waiting for resolutions. */
  get queuedFrameCount(): number {
    return this.cache.queuedFrameCount;
  }

  /**
   * A gratuitous ARP for our address (RFC 5227 §2.3 announcement: a broadcast request whose sender and
   * target address are both ours), so neighbours that cached another MAC for it update.
   */
  announce(): void {
    this.ctx.counters.ArpOutAnnouncements++;
    this.ctx.counters.ArpOutRequests++;
    this.transmitArp(MAC_BROADCAST, {
      operation: ARP_REQUEST,
      senderMac: this.iface.mac,
      senderIp: this.iface.address,
      targetMac: MAC_ZERO,
      targetIp: this.iface.address,
    });
  }

  /** Processes a parsed ARP packet that arrived on this interface (RFC 826 "Packet Reception"). */
  receive(packet: ArpPacket): void {
    const { counters } = this.ctx;
    if (packet.operation === ARP_REQUEST) counters.ArpInRequests++;
    else if (packet.operation === ARP_REPLY) counters.ArpInReplies++;
    else {
      counters.ArpInErrors++;
      this.ctx.drop('arp', 'bad-operation');
      return;
    }
    if (packet.senderMac === this.iface.mac) {
      this.ctx.drop('arp', 'own-packet');
      return;
    }
    if (isGroupMac(packet.senderMac) || packet.senderMac === MAC_ZERO) {
      counters.ArpInErrors++;
      this.ctx.drop('arp', 'bad-sender-mac');
      return;
    }
    if (packet.senderIp === this.iface.address) {
      // Another station claims our address (RFC 5227 §2.4 conflict). Learning it would hijack our own
      // traffic; we keep our address and count the conflict.
      counters.ArpAddressConflicts++;
      this.ctx.drop('arp', 'address-conflict');
      return;
    }
    // An ARP probe (RFC 5227) has sender address 0.0.0.0: nothing to learn, but it is still answered.
    const senderUsable =
      isUnicastHostAddress(packet.senderIp) && !this.iface.isDirectedBroadcast(packet.senderIp);
    const forUs = packet.targetIp === this.iface.address;
    if (senderUsable) {
      // RFC 826 merge: an entry is updated whatever the target; a request to us creates one (as Linux,
      // a reply creates none: only an answer to a request of ours, whose entry exists, is believed). A
      // reply to us confirms reachability.
      const reply = packet.operation === ARP_REPLY;
      this.cache.heard(packet.senderIp, packet.senderMac, forUs && reply, forUs && !reply);
    }
    if (!forUs) {
      // Proxy ARP (RFC 1027) for the extra addresses a gateway serves on this link.
      if (packet.operation === ARP_REQUEST && this.iface.proxyArp?.(packet.targetIp) === true) {
        this.sendReply(packet);
      }
      return;
    }
    if (packet.operation === ARP_REQUEST) this.sendReply(packet);
  }

  private sendRequest(address: Ipv4Address, unicastTo: MacAddress | undefined): void {
    this.ctx.counters.ArpOutRequests++;
    this.transmitArp(unicastTo ?? MAC_BROADCAST, {
      operation: ARP_REQUEST,
      senderMac: this.iface.mac,
      senderIp: this.iface.address,
      targetMac: MAC_ZERO,
      targetIp: address,
    });
  }

  private sendReply(request: ArpPacket): void {
    this.ctx.counters.ArpOutReplies++;
    this.transmitArp(request.senderMac, {
      operation: ARP_REPLY,
      senderMac: this.iface.mac,
      senderIp: request.targetIp,
      targetMac: request.senderMac,
      targetIp: request.senderIp,
    });
  }

  private transmitArp(dst: MacAddress, packet: ArpPacket): void {
    const frame = new Uint8Array(ETHERNET_HEADER_LENGTH + ARP_PACKET_LENGTH);
    emitEthernetHeader({ dst, src: this.iface.mac, etherType: ETHERTYPE_ARP }, frame, 0);
    emitArp(packet, frame, ETHERNET_HEADER_LENGTH);
    this.transmit(frame);
  }
}
