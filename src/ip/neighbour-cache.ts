/**
 * A neighbour cache with Neighbor Unreachability Detection (RFC 4861 §7.3), independent of the protocol
 * that resolves addresses: ARP (RFC 826) uses it for IPv4 (ArpResolver), NDP (RFC 4861) for IPv6
 * (ipv6/neighbor-discovery.ts) — the protocol only says how to solicit (`NeighbourSolicitor`) and feeds in
 * what it hears. Both share its bounds and counters.
 *
 * States, as RFC 4861 §7.3.2 and Linux's NUD_*:
 * - INCOMPLETE: resolving; frames wait in a bounded queue; solicitations are broadcast (multicast for
 *   NDP) every `retransmitTimeMs`, `maxRequests` in all, then the frames are dropped and reported.
 * - REACHABLE: confirmed within `reachableTimeMs` — by a solicited answer, or by upper-layer progress
 *   (`confirm`, e.g. TCP's ACK of new data, RFC 4861 §7.3.1), so established traffic keeps its entry
 *   REACHABLE and never waits on a new resolution.
 * - STALE: the confirmation is old; the address is still used. The first frame sent makes it DELAY.
 * - DELAY: waits `delayFirstProbeTimeMs` for an upper-layer confirmation before probing.
 * - PROBE: unicast solicitations to the cached address (`maxUnicastProbes`, `retransmitTimeMs` apart);
 *   frames still go to it. No answer: the entry is removed, and the next frame resolves afresh.
 * - STATIC: configured by hand (Linux's PERMANENT), never changed by what arrives.
 *
 * What arrives (`heard`): a solicited answer confirms (REACHABLE); anything else a neighbour says only
 * refreshes. A different link-layer address for an entry is handled as the protocol says (`NeighbourUpdate`):
 * - 'guarded' (ARP, which has no override flag): believed only while the entry is not known to be good
 *   (INCOMPLETE or STALE); a REACHABLE, DELAY or PROBE entry keeps its address (counted in
 *   `NeighbourUpdatesRefused`), so an unsolicited or forged reply cannot redirect a flowing conversation;
 *   if the neighbour really moved, probing the old address fails and the next resolution learns the new one;
 * - 'override' (NDP: an advertisement with the O flag, or a source link-layer option, RFC 4861 §7.2.5,
 *   §7.2.3): replaces the address in any state (STALE unless solicited);
 * - 'no-override' (NDP: an advertisement without the O flag): not taken; a REACHABLE entry turns STALE so
 *   that NUD checks the address it has (counted in `NeighbourUpdatesRefused`).
 *
 * Expiry is checked on use; only resolutions and probes start timers, on the stack's clock.
 */
import type { TimerHandle } from '../time/clock.js';
import type { MacAddress } from '../wire/address.js';
import { MAC_ZERO } from '../wire/address.js';
import { macHalves, writeDestinationAt } from '../wire/ethernet.js';
import type { StackContext } from './stack-context.js';

export interface NeighbourOptions {
  /** How long a confirmation keeps an entry REACHABLE. Default 30 000 ms (Linux base_reachable_time_ms). */
  reachableTimeMs?: number;
  /** Interval between solicitations (broadcast while resolving, unicast while probing). Default 1000 ms. */
  retransmitTimeMs?: number;
  /** Broadcast solicitations before a resolution fails. Default 3 (Linux mcast_solicit). */
  maxRequests?: number;
  /** Unicast probes of a STALE entry before it is dropped. Default 3 (Linux ucast_solicit). */
  maxUnicastProbes?: number;
  /** Wait in DELAY for an upper-layer confirmation before probing. Default 5000 ms (Linux delay_first_probe_time). */
  delayFirstProbeTimeMs?: number;
  /** Frames kept per unresolved neighbour (oldest dropped). Default 64: a 64 KiB datagram's fragments fit. */
  queuePerDestination?: number;
  /** Frames kept for all unresolved neighbours of the interface (new ones refused). Default 512. */
  queueTotal?: number;
  /** Cache size bound; stale entries go first, then the least recently confirmed. Default 1024. */
  maxEntries?: number;
  /**
   * Announce an address when it is added: one gratuitous ARP (an RFC 5227 §2.3 announcement, without
   * §2.1's probing first). Linux sends these only with arp_notify=1 (default 0), when a device comes up or
   * its MAC changes. Default false in a Stack, so simulations keep their exact frame sequences; a TAP
   * host (createTapHost, `tcpts nc`) turns it on, since a kernel may still hold an earlier run's MAC.
   */
  announce?: boolean;
}

export const NEIGHBOUR_DEFAULTS: Required<NeighbourOptions> = {
  reachableTimeMs: 30_000,
  retransmitTimeMs: 1000,
  maxRequests: 3,
  maxUnicastProbes: 3,
  delayFirstProbeTimeMs: 5000,
  queuePerDestination: 64,
  queueTotal: 512,
  maxEntries: 1024,
  announce: false,
};

export type NeighbourState = 'incomplete' | 'reachable' | 'stale' | 'delay' | 'probe' | 'static';

export interface NeighbourEntryInfo<A> {
  readonly address: A;
  readonly mac: MacAddress | undefined;
  readonly state: NeighbourState;
  /** Milliseconds until a REACHABLE entry turns STALE (Infinity for static ones; undefined otherwise). */
  readonly expiresInMs: number | undefined;
}

/** How a different link-layer address for a known neighbour is taken (see the file comment). */
export type NeighbourUpdate = 'guarded' | 'override' | 'no-override';

/** What the resolving protocol (ARP, NDP) does for the cache. */
export interface NeighbourSolicitor<A> {
  /** The protocol's name in drop reasons ('arp', 'ndp'). */
  readonly name: string;
  /** Sends a solicitation for `address`: broadcast/multicast when `unicastTo` is undefined, else to it. */
  solicit(address: A, unicastTo: MacAddress | undefined): void;
  /** Sends a finished frame (destination MAC filled in). */
  transmit(frame: Uint8Array): void;
  /** A resolution failed: the frames it held are dropped; the IP layer reports them. */
  failed(address: A, frames: readonly Uint8Array[]): void;
  /** Short text for trace notes. */
  describe(address: A): string;
}

interface Entry<A> {
  readonly address: A;
  /** Set with `setMac` only, which keeps `macHigh` and `macLow` in step. */
  mac: MacAddress;
  /**
   * `mac` as its two 24-bit halves (macHalves), what frames are addressed from: small integers never
   * box, while the 48-bit number, loaded from its field as a raw double, was boxed into a fresh heap
   * number per frame whenever the optimiser did not inline the write it was passed to.
   */
  macHigh: number;
  macLow: number;
  state: NeighbourState;
  /** REACHABLE: when it turns STALE. */
  reachableUntil: number;
  queue: Uint8Array[];
  solicitations: number;
  timer: TimerHandle | undefined;
}

export class NeighbourCache<A> {
  private readonly options: Required<NeighbourOptions>;
  private readonly entries = new Map<A, Entry<A>>();
  private queuedFrames = 0;

  constructor(
    private readonly ctx: StackContext,
    private readonly protocol: NeighbourSolicitor<A>,
    options: NeighbourOptions = {},
  ) {
    this.options = { ...NEIGHBOUR_DEFAULTS, ...options };
  }

  /** How long a confirmation keeps an entry REACHABLE from now on (a router may say, RFC 4861 §6.3.4). */
  set reachableTimeMs(ms: number) {
    this.options.reachableTimeMs = ms;
  }

  get reachableTimeMs(): number {
    return this.options.reachableTimeMs;
  }

  /** The interval between solicitations from now on (RetransTimer, which a router may set, §6.3.4). */
  set retransmitTimeMs(ms: number) {
    this.options.retransmitTimeMs = ms;
  }

  /**
   * Sends `frame` (a complete Ethernet frame whose first six bytes, the destination MAC, are ours to fill)
   * to neighbour `address`, resolving it first when needed (RFC 4861 §7.3.3 "Node Behavior").
   */
  send(address: A, frame: Uint8Array): void {
    let entry = this.current(address);
    if (entry === undefined) {
      entry = this.startResolution(address);
      if (entry === undefined) {
        // The table is full of entries that may not be evicted (Linux: "neighbour table overflow").
        this.protocol.failed(address, [frame]);
        return;
      }
    }
    if (entry.state === 'incomplete') {
      this.enqueue(entry, frame);
      return;
    }
    if (entry.state === 'stale') this.usedWhileStale(entry);
    writeDestinationAt(frame, entry.macHigh, entry.macLow);
    this.protocol.transmit(frame);
  }

  /**
   * First use of a stale entry (RFC 4861 §7.3.3): the frame goes, and upper layers get a moment to
   * confirm reachability before a probe is sent.
   */
  private usedWhileStale(entry: Entry<A>): void {
    this.enter(entry, 'delay');
    entry.timer = this.ctx.clock.setTimer(this.options.delayFirstProbeTimeMs, () => this.delayExpired(entry));
  }

  /** The link-layer address to use now for `address`, if one is known (any state but INCOMPLETE). */
  lookup(address: A): MacAddress | undefined {
    const entry = this.current(address);
    if (entry === undefined || entry.state === 'incomplete') return undefined;
    return entry.mac;
  }

  /**
   * Whether `lookup` would give an address for `address` now: for a sender that chooses how to build a
   * frame by whether it can go at once, asked without the 48-bit number (see Entry.macHigh).
   */
  knows(address: A): boolean {
    const entry = this.current(address);
    return entry !== undefined && entry.state !== 'incomplete';
  }

  /**
   * Writes the address `lookup` would give into the destination of `frame` (its first six bytes) and
   * returns true, or returns false when none is known: for frames sent without waiting for resolution,
   * addressed from the MAC's halves as `send` does (see Entry.macHigh). A use as `send`'s: a stale
   * entry goes to DELAY, so frames sent this way (with offloads) verify the neighbour as others do.
   */
  addressFrame(address: A, frame: Uint8Array): boolean {
    const entry = this.current(address);
    if (entry === undefined || entry.state === 'incomplete') return false;
    if (entry.state === 'stale') this.usedWhileStale(entry);
    writeDestinationAt(frame, entry.macHigh, entry.macLow);
    return true;
  }

  /**
   * Upper-layer confirmation (RFC 4861 §7.3.1): the neighbour forwarded something a peer acknowledged
   * (TCP's ACK of new data), so its entry is REACHABLE again without a solicitation.
   */
  confirm(address: A): void {
    const entry = this.entries.get(address);
    if (entry === undefined || entry.state === 'incomplete' || entry.state === 'static') return;
    this.makeReachable(entry);
  }

  /**
   * The protocol heard `address` at `mac`. `solicited`: an answer to our solicitation, addressed to us
   * (confirms reachability). `create`: make an entry if there is none (RFC 826: only when we were the
   * target; RFC 4861 §7.2.3: from a source link-layer option). `update`: how a different address is
   * taken (see the file comment). Returns false when a changed address was refused.
   */
  heard(
    address: A,
    mac: MacAddress,
    solicited: boolean,
    create: boolean,
    update: NeighbourUpdate = 'guarded',
  ): boolean {
    const entry = this.entries.get(address);
    if (entry === undefined) {
      if (!create) return true;
      const fresh = this.newEntry(address, mac, 'stale');
      if (fresh !== undefined && solicited) this.makeReachable(fresh);
      return true;
    }
    if (entry.state === 'static') return true;
    if (entry.state === 'incomplete') {
      setMac(entry, mac);
      if (solicited) this.makeReachable(entry);
      else this.enter(entry, 'stale');
      this.flush(entry);
      return true;
    }
    if (mac !== entry.mac) {
      if (update === 'no-override') {
        // RFC 4861 §7.2.5: the cached address stays; a REACHABLE entry is no longer known to be good.
        this.ctx.counters.NeighbourUpdatesRefused++;
        if (entry.state === 'reachable') this.enter(entry, 'stale');
        return false;
      }
      if (
        update === 'guarded' &&
        entry.state !== 'stale' &&
        !(entry.state === 'reachable' && this.expired(entry))
      ) {
        this.ctx.counters.NeighbourUpdatesRefused++;
        this.ctx.drop('neighbour', 'address-change-refused');
        return false;
      }
      setMac(entry, mac);
      if (solicited) this.makeReachable(entry);
      else this.enter(entry, 'stale');
      return true;
    }
    // The same address: a solicited answer confirms; anything else only refreshes recency.
    if (solicited) this.makeReachable(entry);
    return true;
  }

  /** Adds a permanent entry (like `ip neigh add ... nud permanent`), flushing any waiting frames. */
  addStatic(address: A, mac: MacAddress): void {
    // A configured entry is never refused: it may take the table one past its bound.
    let entry = this.entries.get(address) ?? this.newEntry(address, mac, 'static');
    if (entry === undefined) {
      entry = this.createEntry(address, mac, 'static');
    }
    setMac(entry, mac);
    this.enter(entry, 'static');
    this.flush(entry);
  }

  /** Forgets one entry; frames waiting for it are dropped. Returns whether it existed. */
  delete(address: A): boolean {
    const entry = this.entries.get(address);
    if (entry === undefined) return false;
    this.discardQueue(entry, 'flushed');
    entry.timer?.cancel();
    this.entries.delete(address);
    return true;
  }

  clear(): void {
    for (const address of [...this.entries.keys()]) this.delete(address);
  }

  /** A snapshot of the cache, like `ip neigh show`. */
  list(): NeighbourEntryInfo<A>[] {
    const now = this.ctx.clock.now();
    return [...this.entries.keys()].flatMap((address) => {
      const e = this.current(address);
      if (e === undefined) return [];
      let expiresInMs: number | undefined;
      if (e.state === 'static') expiresInMs = Number.POSITIVE_INFINITY;
      else if (e.state === 'reachable') expiresInMs = e.reachableUntil - now;
      return [{ address, mac: e.state === 'incomplete' ? undefined : e.mac, state: e.state, expiresInMs }];
    });
  }

  get queuedFrameCount(): number {
    return this.queuedFrames;
  }

  /** The entry for `address`, with a REACHABLE one whose time is up turned STALE (RFC 4861 §7.3.3). */
  private current(address: A): Entry<A> | undefined {
    const entry = this.entries.get(address);
    if (entry !== undefined && entry.state === 'reachable' && this.expired(entry)) this.enter(entry, 'stale');
    return entry;
  }

  private expired(entry: Entry<A>): boolean {
    return this.ctx.clock.now() >= entry.reachableUntil;
  }

  /** A new entry, or undefined when the table is full of INCOMPLETE and STATIC entries. */
  private newEntry(address: A, mac: MacAddress, state: NeighbourState): Entry<A> | undefined {
    if (!this.makeRoom()) return undefined;
    return this.createEntry(address, mac, state);
  }

  private createEntry(address: A, mac: MacAddress, state: NeighbourState): Entry<A> {
    const { high, low } = macHalves(mac);
    const entry: Entry<A> = {
      address,
      mac,
      macHigh: high,
      macLow: low,
      state,
      reachableUntil: 0,
      queue: [],
      solicitations: 0,
      timer: undefined,
    };
    this.entries.set(address, entry);
    return entry;
  }

  private enter(entry: Entry<A>, state: NeighbourState): void {
    entry.timer?.cancel();
    entry.timer = undefined;
    entry.solicitations = 0;
    entry.state = state;
  }

  private makeReachable(entry: Entry<A>): void {
    this.enter(entry, 'reachable');
    entry.reachableUntil = this.ctx.clock.now() + this.options.reachableTimeMs;
    // Map order = order of last confirmation, so eviction removes the least recently confirmed.
    this.entries.delete(entry.address);
    this.entries.set(entry.address, entry);
  }

  private startResolution(address: A): Entry<A> | undefined {
    const entry = this.newEntry(address, MAC_ZERO, 'incomplete');
    if (entry === undefined) return undefined;
    this.solicit(entry, undefined);
    return entry;
  }

  private solicit(entry: Entry<A>, unicastTo: MacAddress | undefined): void {
    entry.solicitations++;
    this.protocol.solicit(entry.address, unicastTo);
    entry.timer = this.ctx.clock.setTimer(this.options.retransmitTimeMs, () =>
      this.solicitationTimedOut(entry),
    );
  }

  private delayExpired(entry: Entry<A>): void {
    entry.timer = undefined;
    if (this.entries.get(entry.address) !== entry || entry.state !== 'delay') return;
    this.enter(entry, 'probe');
    this.solicit(entry, entry.mac);
  }

  private solicitationTimedOut(entry: Entry<A>): void {
    entry.timer = undefined;
    if (this.entries.get(entry.address) !== entry) return;
    if (entry.state === 'incomplete' && entry.solicitations < this.options.maxRequests) {
      this.solicit(entry, undefined);
      return;
    }
    if (entry.state === 'probe' && entry.solicitations < this.options.maxUnicastProbes) {
      this.solicit(entry, entry.mac);
      return;
    }
    if (entry.state !== 'incomplete' && entry.state !== 'probe') return;
    this.entries.delete(entry.address);
    this.ctx.counters.NeighbourResolutionFailures++;
    if (this.ctx.tracer.enabled) {
      this.ctx.note(
        `neighbour ${this.protocol.describe(entry.address)}: no answer to ${entry.solicitations} ${entry.state === 'probe' ? 'unicast probes' : 'requests'}`,
      );
    }
    const frames = entry.queue;
    this.discardQueue(entry, 'resolution-failed');
    if (frames.length > 0) this.protocol.failed(entry.address, frames);
  }

  private flush(entry: Entry<A>): void {
    if (entry.queue.length === 0) return;
    const frames = entry.queue;
    entry.queue = [];
    this.queuedFrames -= frames.length;
    for (const frame of frames) {
      writeDestinationAt(frame, entry.macHigh, entry.macLow);
      this.protocol.transmit(frame);
    }
  }

  private enqueue(entry: Entry<A>, frame: Uint8Array): void {
    if (entry.queue.length >= this.options.queuePerDestination) {
      entry.queue.shift();
      this.queuedFrames--;
      this.ctx.counters.NeighbourQueueDrops++;
      this.ctx.drop(this.protocol.name, 'queue-full');
    }
    if (this.queuedFrames >= this.options.queueTotal) {
      this.ctx.counters.NeighbourQueueDrops++;
      this.ctx.drop(this.protocol.name, 'queue-total-full');
      return;
    }
    entry.queue.push(frame);
    this.queuedFrames++;
  }

  private discardQueue(entry: Entry<A>, reason: string): void {
    for (let i = 0; i < entry.queue.length; i++) {
      this.ctx.counters.NeighbourQueueDrops++;
      this.ctx.drop(this.protocol.name, reason);
    }
    this.queuedFrames -= entry.queue.length;
    entry.queue = [];
  }

  /**
   * Keeps the cache within `maxEntries` (Linux gc_thresh3) before an entry is added: STALE entries go
   * first (nothing is flowing to them), then REACHABLE/DELAY/PROBE ones, least recently confirmed first.
   * INCOMPLETE entries hold waiting frames and STATIC ones were configured, so neither is evicted; when
   * only those are left the new entry is refused (Linux refuses too, "neighbour table overflow").
   * Returns whether there is room.
   */
  private makeRoom(): boolean {
    if (this.entries.size < this.options.maxEntries) return true;
    this.ctx.counters.NeighbourTableFull++;
    for (const address of [...this.entries.keys()]) {
      const e = this.current(address)!;
      if (e.state === 'stale') this.delete(address);
    }
    for (const [address, e] of this.entries) {
      if (this.entries.size < this.options.maxEntries) break;
      if (e.state === 'reachable' || e.state === 'delay' || e.state === 'probe') this.delete(address);
    }
    if (this.entries.size < this.options.maxEntries) return true;
    this.ctx.drop('neighbour', 'table-full');
    return false;
  }
}

function setMac<A>(entry: Entry<A>, mac: MacAddress): void {
  const { high, low } = macHalves(mac);
  entry.mac = mac;
  entry.macHigh = high;
  entry.macLow = low;
}
