/**
 * ARP for one interface (RFC 826, with the cache rules of RFC 1122 §2.3.2).
 *
 * - Cache entries are learned by the RFC 826 merge rule: an ARP packet updates an existing entry for its
 *   sender whatever its target; it creates one only when it targets our address. A gratuitous ARP (sender
 *   address = target address) therefore refreshes an entry we hold but adds none.
 * - An entry is trusted for `reachableTimeMs` (default 60 s) after it was last confirmed by an ARP packet,
 *   then forgotten: the next datagram resolves afresh (RFC 1122 §2.3.2.1 allows a timeout as the
 *   validation mechanism). Expiry is checked when an entry is used, so the cache needs no timers.
 * - A resolution broadcasts a request, then repeats it every `retransmitTimeMs` up to `maxRequests`
 *   requests in all (defaults 1 s and 3, as Linux's mcast_solicit); after that the datagrams waiting for it
 *   are dropped and reported to the IP layer (which tells local senders EHOSTUNREACH).
 * - Datagrams waiting for a resolution are queued as finished Ethernet frames with an empty destination
 *   MAC. RFC 1122 §2.3.2.2 asks to keep at least one; we keep up to `queuePerDestination` per next hop,
 *   dropping the oldest when it is full (as Linux does), and at most `queueTotal` on the interface,
 *   refusing new ones past that. Every drop is counted in ArpQueueDrops.
 */

import type { TimerHandle } from '../time/clock.js';
import type { Ipv4Address, MacAddress } from '../wire/address.js';
import { ipv4ToString, isGroupMac, MAC_BROADCAST, MAC_ZERO, writeMac } from '../wire/address.js';
import { ARP_PACKET_LENGTH, ARP_REPLY, ARP_REQUEST, type ArpPacket, emitArp } from '../wire/arp.js';
import { ETHERNET_HEADER_LENGTH, ETHERTYPE_ARP, emitEthernetHeader } from '../wire/ethernet.js';
import { isUnicastHostAddress } from './address-prefix.js';
import type { IpInterface } from './ip-interface.js';
import type { StackContext } from './stack-context.js';

export interface ArpOptions {
  /** How long a learned entry is used without being confirmed again. Default 60 000 ms. */
  reachableTimeMs?: number;
  /** Interval between requests of one resolution. Default 1000 ms. */
  retransmitTimeMs?: number;
  /** Requests sent before a resolution fails. Default 3. */
  maxRequests?: number;
  /** Frames kept per unresolved next hop (oldest dropped). Default 64: a 64 KiB datagram's fragments fit. */
  queuePerDestination?: number;
  /** Frames kept for all unresolved next hops of the interface (new ones refused). Default 512. */
  queueTotal?: number;
  /** Cache size bound; the least recently learned entry goes first. Default 1024. */
  maxEntries?: number;
}

export const ARP_DEFAULTS: Required<ArpOptions> = {
  reachableTimeMs: 60_000,
  retransmitTimeMs: 1000,
  maxRequests: 3,
  queuePerDestination: 64,
  queueTotal: 512,
  maxEntries: 1024,
};

export type ArpEntryState = 'incomplete' | 'reachable' | 'static';

export interface ArpEntryInfo {
  readonly address: Ipv4Address;
  readonly mac: MacAddress | undefined;
  readonly state: ArpEntryState;
  /** Milliseconds until the entry expires (Infinity for static entries, undefined while incomplete). */
  readonly expiresInMs: number | undefined;
}

interface ArpEntry {
  readonly address: Ipv4Address;
  mac: MacAddress;
  state: ArpEntryState;
  expiresAt: number;
  /** Frames waiting for this resolution (incomplete entries only). */
  queue: Uint8Array[];
  requestsSent: number;
  timer: TimerHandle | undefined;
}

/** Called with the frames a failed resolution drops, so the IP layer can report them. */
export type ArpFailureHandler = (nextHop: Ipv4Address, frames: readonly Uint8Array[]) => void;

export class ArpResolver {
  private readonly options: Required<ArpOptions>;
  private readonly entries = new Map<Ipv4Address, ArpEntry>();
  private queuedFrames = 0;

  constructor(
    private readonly ctx: StackContext,
    private readonly iface: IpInterface,
    private readonly transmit: (frame: Uint8Array) => void,
    private readonly onFailure: ArpFailureHandler,
    options: ArpOptions = {},
  ) {
    this.options = { ...ARP_DEFAULTS, ...options };
  }

  /**
   * Sends `frame` (a complete Ethernet frame whose first six bytes, the destination MAC, are ours to fill)
   * to `nextHop` on this link, resolving its MAC first when the cache has no valid entry.
   */
  send(nextHop: Ipv4Address, frame: Uint8Array): void {
    let entry = this.entries.get(nextHop);
    if (entry !== undefined && entry.state === 'reachable' && this.ctx.clock.now() >= entry.expiresAt) {
      this.entries.delete(nextHop);
      entry = undefined;
    }
    if (entry === undefined) {
      entry = this.startResolution(nextHop);
    } else if (entry.state !== 'incomplete') {
      writeMac(frame, 0, entry.mac);
      this.transmit(frame);
      return;
    }
    this.enqueue(entry, frame);
  }

  /** The MAC cached for `address`, if a valid entry exists. */
  lookup(address: Ipv4Address): MacAddress | undefined {
    const entry = this.entries.get(address);
    if (entry === undefined || entry.state === 'incomplete') return undefined;
    if (entry.state === 'reachable' && this.ctx.clock.now() >= entry.expiresAt) return undefined;
    return entry.mac;
  }

  /** Adds a permanent entry (like `ip neigh add ... nud permanent`), flushing any waiting frames. */
  addStatic(address: Ipv4Address, mac: MacAddress): void {
    this.learn(address, mac, 'static');
  }

  /** Forgets one entry; frames waiting for it are dropped. Returns whether it existed. */
  delete(address: Ipv4Address): boolean {
    const entry = this.entries.get(address);
    if (entry === undefined) return false;
    this.discardQueue(entry, 'flushed');
    entry.timer?.cancel();
    this.entries.delete(address);
    return true;
  }

  /** Forgets everything and cancels every timer (the interface is going away). */
  clear(): void {
    for (const address of [...this.entries.keys()]) this.delete(address);
  }

  /** A snapshot of the cache, like `ip neigh show`; expired entries are left out. */
  list(): ArpEntryInfo[] {
    const now = this.ctx.clock.now();
    const out: ArpEntryInfo[] = [];
    for (const e of this.entries.values()) {
      if (e.state === 'reachable' && now >= e.expiresAt) continue;
      out.push({
        address: e.address,
        mac: e.state === 'incomplete' ? undefined : e.mac,
        state: e.state,
        expiresInMs: e.state === 'incomplete' ? undefined : e.expiresAt - now,
      });
    }
    return out;
  }

  /** Frames currently waiting for resolutions. */
  get queuedFrameCount(): number {
    return this.queuedFrames;
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
    let merged = false;
    if (senderUsable) {
      const existing = this.entries.get(packet.senderIp);
      if (existing !== undefined && existing.state !== 'static') {
        this.learn(packet.senderIp, packet.senderMac, 'reachable');
        merged = true;
      } else if (existing !== undefined) {
        merged = true;
      }
    }
    if (packet.targetIp !== this.iface.address) {
      // Proxy ARP (RFC 1027) for the extra addresses a gateway serves on this link.
      if (packet.operation === ARP_REQUEST && this.iface.proxyArp?.(packet.targetIp) === true) {
        this.sendReply(packet);
      }
      return;
    }
    if (senderUsable && !merged) this.learn(packet.senderIp, packet.senderMac, 'reachable');
    if (packet.operation === ARP_REQUEST) this.sendReply(packet);
  }

  private startResolution(address: Ipv4Address): ArpEntry {
    this.makeRoom();
    const entry: ArpEntry = {
      address,
      mac: MAC_ZERO,
      state: 'incomplete',
      expiresAt: 0,
      queue: [],
      requestsSent: 0,
      timer: undefined,
    };
    this.entries.set(address, entry);
    this.sendRequest(entry);
    return entry;
  }

  private sendRequest(entry: ArpEntry): void {
    entry.requestsSent++;
    this.ctx.counters.ArpOutRequests++;
    this.transmitArp(MAC_BROADCAST, {
      operation: ARP_REQUEST,
      senderMac: this.iface.mac,
      senderIp: this.iface.address,
      targetMac: MAC_ZERO,
      targetIp: entry.address,
    });
    entry.timer = this.ctx.clock.setTimer(this.options.retransmitTimeMs, () => this.retry(entry));
  }

  private retry(entry: ArpEntry): void {
    entry.timer = undefined;
    if (this.entries.get(entry.address) !== entry || entry.state !== 'incomplete') return;
    if (entry.requestsSent < this.options.maxRequests) {
      this.sendRequest(entry);
      return;
    }
    this.entries.delete(entry.address);
    this.ctx.counters.ArpResolutionFailures++;
    if (this.ctx.tracer.enabled) {
      this.ctx.note(`ARP: no answer for ${ipv4ToString(entry.address)} after ${entry.requestsSent} requests`);
    }
    const frames = entry.queue;
    this.discardQueue(entry, 'resolution-failed');
    this.onFailure(entry.address, frames);
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

  private learn(address: Ipv4Address, mac: MacAddress, state: 'reachable' | 'static'): void {
    let entry = this.entries.get(address);
    if (entry === undefined) {
      this.makeRoom();
      entry = { address, mac, state, expiresAt: 0, queue: [], requestsSent: 0, timer: undefined };
      this.entries.set(address, entry);
    } else {
      // Re-inserting keeps Map order = order of last confirmation, so eviction removes the stalest entry.
      this.entries.delete(address);
      this.entries.set(address, entry);
    }
    entry.mac = mac;
    entry.state = state;
    entry.expiresAt =
      state === 'static' ? Number.POSITIVE_INFINITY : this.ctx.clock.now() + this.options.reachableTimeMs;
    entry.timer?.cancel();
    entry.timer = undefined;
    if (entry.queue.length > 0) {
      const frames = entry.queue;
      entry.queue = [];
      this.queuedFrames -= frames.length;
      for (const frame of frames) {
        writeMac(frame, 0, mac);
        this.transmit(frame);
      }
    }
  }

  private enqueue(entry: ArpEntry, frame: Uint8Array): void {
    if (entry.queue.length >= this.options.queuePerDestination) {
      entry.queue.shift();
      this.queuedFrames--;
      this.ctx.counters.ArpQueueDrops++;
      this.ctx.drop('arp', 'queue-full');
    }
    if (this.queuedFrames >= this.options.queueTotal) {
      this.ctx.counters.ArpQueueDrops++;
      this.ctx.drop('arp', 'queue-total-full');
      return;
    }
    entry.queue.push(frame);
    this.queuedFrames++;
  }

  private discardQueue(entry: ArpEntry, reason: string): void {
    for (let i = 0; i < entry.queue.length; i++) {
      this.ctx.counters.ArpQueueDrops++;
      this.ctx.drop('arp', reason);
    }
    this.queuedFrames -= entry.queue.length;
    entry.queue = [];
  }

  /** Keeps the cache within its bound: expired entries go first, then the least recently confirmed. */
  private makeRoom(): void {
    if (this.entries.size < this.options.maxEntries) return;
    const now = this.ctx.clock.now();
    for (const [address, e] of this.entries) {
      if (e.state === 'reachable' && now >= e.expiresAt) this.entries.delete(address);
    }
    for (const [address, e] of this.entries) {
      if (this.entries.size < this.options.maxEntries) break;
      if (e.state === 'reachable') this.entries.delete(address);
    }
  }
}
