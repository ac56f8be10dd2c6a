/**
 * The IPv6 neighbor cache with Neighbor Unreachability Detection (RFC 4861 §7.3, appendix C): per
 * neighbor a link-layer address and one of the states
 *
 *   INCOMPLETE  solicited (multicast NS every RetransTimer, MAX_MULTICAST_SOLICIT times); frames wait
 *   REACHABLE   confirmed within ReachableTime (a solicited NA, or upper-layer progress)
 *   STALE       address known, reachability not confirmed; nothing is sent until a packet goes out
 *   DELAY       a packet went out while STALE: wait DELAY_FIRST_PROBE_TIME for upper-layer confirmation
 *   PROBE       unicast NS every RetransTimer, MAX_UNICAST_SOLICIT times, then the entry is deleted
 *
 * Frames waiting for resolution are bounded per neighbor (the oldest is dropped, RFC 4861 §7.2.2 lets a
 * node keep only the most recent) and are reported back when resolution fails, so the sender can be told
 * (ICMPv6 address unreachable, RFC 4861 §7.2.2, or EHOSTUNREACH locally). Timers run on the stack's Clock.
 */
import type { Clock, TimerHandle } from '../time/clock.js';
import type { MacAddress } from '../wire/address.js';
import type { Ipv6Address } from '../wire/ipv6-address.js';

export type NeighborState = 'incomplete' | 'reachable' | 'stale' | 'delay' | 'probe';

export interface NeighborOptions {
  /** Multicast solicitations before giving up (RFC 4861 §10 MAX_MULTICAST_SOLICIT). Default 3. */
  maxMulticastSolicit?: number;
  /** Unicast probes before giving up (MAX_UNICAST_SOLICIT). Default 3. */
  maxUnicastSolicit?: number;
  /** Between solicitations, ms (RetransTimer). Default 1000. */
  retransTimerMs?: number;
  /** Base ReachableTime, ms (REACHABLE_TIME); each entry uses 0.5-1.5 times it. Default 30000. */
  reachableTimeMs?: number;
  /** DELAY_FIRST_PROBE_TIME, ms. Default 5000. */
  delayFirstProbeMs?: number;
  /** Frames queued per unresolved neighbor (Linux: unres_qlen_bytes). Default 8. */
  maxQueued?: number;
  /** Entries kept at most; the least recently used STALE one goes first. Default 1024. */
  maxEntries?: number;
}

export interface NeighborEntryInfo {
  readonly address: Ipv6Address;
  readonly mac: MacAddress | undefined;
  readonly state: NeighborState;
  readonly isRouter: boolean;
}

interface Entry {
  address: Ipv6Address;
  mac: MacAddress | undefined;
  state: NeighborState;
  isRouter: boolean;
  queue: Uint8Array[];
  probes: number;
  timer: TimerHandle | undefined;
}

export interface NeighborCacheHooks {
  /** Send a Neighbor Solicitation for `target`: multicast when `mac` is undefined, else unicast to it. */
  solicit(target: Ipv6Address, mac: MacAddress | undefined): void;
  /** Send a frame whose destination MAC is now known (the cache has written it). */
  transmit(frame: Uint8Array, mac: MacAddress): void;
  /** Resolution failed: these frames will never go. */
  failed(target: Ipv6Address, frames: readonly Uint8Array[]): void;
  /** Called when a queued frame is dropped to bound the queue, and when the table is full. */
  dropped(reason: string): void;
}

export class NeighborCache {
  private readonly entries = new Map<Ipv6Address, Entry>();
  private readonly o: Required<NeighborOptions>;

  constructor(
    private readonly clock: Clock,
    private readonly random: () => number,
    private readonly hooks: NeighborCacheHooks,
    options: NeighborOptions = {},
  ) {
    this.o = {
      maxMulticastSolicit: options.maxMulticastSolicit ?? 3,
      maxUnicastSolicit: options.maxUnicastSolicit ?? 3,
      retransTimerMs: options.retransTimerMs ?? 1000,
      reachableTimeMs: options.reachableTimeMs ?? 30_000,
      delayFirstProbeMs: options.delayFirstProbeMs ?? 5000,
      maxQueued: options.maxQueued ?? 8,
      maxEntries: options.maxEntries ?? 1024,
    };
  }

  /** RetransTimer, which a router advertisement may change (RFC 4861 §6.3.4). */
  set retransTimerMs(ms: number) {
    this.o.retransTimerMs = ms;
  }

  set reachableTimeMs(ms: number) {
    this.o.reachableTimeMs = ms;
  }

  /** The MAC of a neighbor in a state that may be used without waiting, or undefined. */
  lookup(address: Ipv6Address): MacAddress | undefined {
    const e = this.entries.get(address);
    return e === undefined || e.state === 'incomplete' ? undefined : e.mac;
  }

  /**
   * Sends `frame` (destination MAC to be written at offset 0) to `address`, resolving it first when needed
   * (RFC 4861 §7.2.2), and starting NUD for a STALE entry (§7.3.3: STALE -> DELAY).
   */
  send(address: Ipv6Address, frame: Uint8Array): void {
    let e = this.entries.get(address);
    if (e === undefined) {
      e = this.create(address, undefined, 'incomplete');
      if (e === undefined) {
        this.hooks.failed(address, [frame]);
        return;
      }
      this.enqueue(e, frame);
      this.hooks.solicit(address, undefined);
      e.probes = 1;
      this.arm(e, this.o.retransTimerMs);
      return;
    }
    if (e.state === 'incomplete') {
      this.enqueue(e, frame);
      return;
    }
    if (e.state === 'stale') {
      e.state = 'delay';
      this.arm(e, this.o.delayFirstProbeMs);
    }
    this.hooks.transmit(frame, e.mac!);
  }

  /**
   * What a Neighbor Advertisement says about `address` (RFC 4861 §7.2.5): `solicited` confirms
   * reachability, `override` lets a new link-layer address replace the cached one.
   */
  advertised(
    address: Ipv6Address,
    mac: MacAddress | undefined,
    flags: { solicited: boolean; override: boolean; router: boolean },
  ): void {
    const e = this.entries.get(address);
    if (e === undefined) return; // §7.2.5: an unsolicited NA creates no entry
    if (e.state === 'incomplete') {
      if (mac === undefined) return;
      e.mac = mac;
      e.isRouter = flags.router;
      this.enter(e, flags.solicited ? 'reachable' : 'stale');
      this.flush(e);
      return;
    }
    const changed = mac !== undefined && mac !== e.mac;
    if (!flags.override && changed) {
      if (e.state === 'reachable') this.enter(e, 'stale');
      return;
    }
    if (mac !== undefined) e.mac = mac;
    e.isRouter = flags.router;
    if (flags.solicited) this.enter(e, 'reachable');
    else if (changed) this.enter(e, 'stale');
  }

  /**
   * A link-layer address learned from a solicitation, an RS, an RA or a redirect (RFC 4861 §7.2.3, §6.3.4):
   * creates a STALE entry, or makes an existing one STALE when the address changed.
   */
  learned(address: Ipv6Address, mac: MacAddress, isRouter?: boolean): void {
    const e = this.entries.get(address);
    if (e === undefined) {
      const created = this.create(address, mac, 'stale');
      if (created && isRouter !== undefined) created.isRouter = isRouter;
      return;
    }
    if (isRouter !== undefined) e.isRouter = isRouter;
    if (e.state === 'incomplete') {
      e.mac = mac;
      this.enter(e, 'stale');
      this.flush(e);
    } else if (e.mac !== mac) {
      e.mac = mac;
      this.enter(e, 'stale');
    }
  }

  /** Upper-layer progress (a TCP ACK for new data, RFC 4861 §7.3.1) confirms reachability. */
  confirm(address: Ipv6Address): void {
    const e = this.entries.get(address);
    if (e !== undefined && e.state !== 'incomplete') this.enter(e, 'reachable');
  }

  isRouter(address: Ipv6Address): boolean {
    return this.entries.get(address)?.isRouter === true;
  }

  list(): NeighborEntryInfo[] {
    return [...this.entries.values()].map((e) => ({
      address: e.address,
      mac: e.mac,
      state: e.state,
      isRouter: e.isRouter,
    }));
  }

  clear(): void {
    for (const e of this.entries.values()) e.timer?.cancel();
    this.entries.clear();
  }

  private create(address: Ipv6Address, mac: MacAddress | undefined, state: NeighborState): Entry | undefined {
    if (this.entries.size >= this.o.maxEntries) {
      // Make room by forgetting the oldest STALE entry; never an entry being resolved.
      const victim = [...this.entries.values()].find((x) => x.state === 'stale');
      if (victim === undefined) {
        this.hooks.dropped('neighbor-table-full');
        return undefined;
      }
      this.remove(victim);
    }
    const e: Entry = { address, mac, state, isRouter: false, queue: [], probes: 0, timer: undefined };
    this.entries.set(address, e);
    return e;
  }

  private remove(e: Entry): void {
    e.timer?.cancel();
    this.entries.delete(e.address);
  }

  private enqueue(e: Entry, frame: Uint8Array): void {
    if (e.queue.length >= this.o.maxQueued) {
      e.queue.shift();
      this.hooks.dropped('neighbor-queue-full');
    }
    e.queue.push(frame);
  }

  private flush(e: Entry): void {
    const frames = e.queue;
    e.queue = [];
    for (const frame of frames) this.hooks.transmit(frame, e.mac!);
  }

  private enter(e: Entry, state: NeighborState): void {
    e.state = state;
    e.probes = 0;
    e.timer?.cancel();
    e.timer = undefined;
    if (state === 'reachable') {
      // RFC 4861 §6.3.2: a random ReachableTime between 0.5 and 1.5 times the base.
      this.arm(e, Math.round(this.o.reachableTimeMs * (0.5 + this.random())));
    }
  }

  private arm(e: Entry, ms: number): void {
    e.timer?.cancel();
    e.timer = this.clock.setTimer(ms, () => this.expire(e));
  }

  private expire(e: Entry): void {
    e.timer = undefined;
    switch (e.state) {
      case 'reachable':
        this.enter(e, 'stale');
        return;
      case 'delay':
        e.state = 'probe';
        e.probes = 1;
        this.hooks.solicit(e.address, e.mac);
        this.arm(e, this.o.retransTimerMs);
        return;
      case 'probe':
        if (e.probes >= this.o.maxUnicastSolicit) {
          this.remove(e);
          return;
        }
        e.probes++;
        this.hooks.solicit(e.address, e.mac);
        this.arm(e, this.o.retransTimerMs);
        return;
      case 'incomplete':
        if (e.probes >= this.o.maxMulticastSolicit) {
          this.remove(e);
          this.hooks.failed(e.address, e.queue);
          return;
        }
        e.probes++;
        this.hooks.solicit(e.address, undefined);
        this.arm(e, this.o.retransTimerMs);
        return;
      case 'stale':
        return;
    }
  }
}
