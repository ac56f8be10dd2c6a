/**
 * TIME-WAIT as compact records (RFC 9293 §3.6, §3.10.7.4), as Linux keeps its `tcp_timewait_sock`: once a
 * connection enters TIME-WAIT its buffers, timers and congestion state are of no more use; what the
 * 2*MSL wait needs is the 4-tuple, the sequence numbers to acknowledge a retransmitted FIN and to judge
 * a new SYN (MAY-2, RFC 6191), the timestamps (PAWS, RFC 7323 §5), the rate limit's last answer and the
 * deadline. A TcpLayer keeps them here, in typed arrays (about 100 bytes a record), instead of a
 * TcpConnection of several kilobytes.
 *
 * Records are found by 4-tuple through a map keyed by a hash of the remote endpoint (a small integer,
 * cheap as a map key), chained when several share it. Every record waits exactly 2*MSL from its last
 * restart, so expiry order is restart order: a FIFO queue replaces a heap, and a record restarted (a
 * retransmitted FIN) is queued again at the tail.
 *
 * IPv6 records keep a 32-bit fold of each address in the typed arrays (to hash and to compare first) and
 * the addresses themselves in a side map: a record of either version costs the same in the arrays.
 */
import type { IpAddress, Ipv6Address } from '../wire/ipv6-address.js';

/** What a record keeps of a connection entering TIME-WAIT. */
export interface TimeWaitFields {
  localAddress: IpAddress;
  localPort: number;
  remoteAddress: IpAddress;
  remotePort: number;
  /** Our SND.NXT (our FIN acknowledged): the sequence number of our ACKs. */
  sndNxt: number;
  /** RCV.NXT, just past the peer's FIN. */
  rcvNxt: number;
  /** Receive window last advertised, in bytes (acceptability test). */
  rcvWnd: number;
  /** The window field our ACKs carry. */
  windowField: number;
  /** Largest window the peer offered (RFC 5961 §5.2 ACK check). */
  maxSndWnd: number;
  tsEnabled: boolean;
  tsRecent: number;
  tsRecentAt: number;
  tsOffset: number;
  lastInvalidAnswerTime: number;
  mslMs: number;
  invalidRateLimitMs: number;
}

// Per-record 32-bit fields.
const LOCAL_ADDRESS = 0;
const REMOTE_ADDRESS = 1;
const PORTS = 2;
const SND_NXT = 3;
const RCV_NXT = 4;
const RCV_WND = 5;
const WINDOW_FIELD = 6;
const MAX_SND_WND = 7;
const TS_RECENT = 8;
const TS_OFFSET = 9;
const FLAGS = 10;
const RATE_LIMIT = 11;
const U32_FIELDS = 12;
// Per-record 64-bit (time) fields.
const DEADLINE = 0;
const TS_RECENT_AT = 1;
const LAST_ANSWER = 2;
const MSL = 3;
const F64_FIELDS = 4;

const TS_ENABLED = 1;
/** The record is IPv6: its addresses are in `wide`. */
const IPV6 = 2;
const NONE = -1;

export class TimeWaitTable {
  private u32 = new Uint32Array(0);
  private f64 = new Float64Array(0);
  /** Next record in the same hash chain, or NONE; for free slots, the next free slot. */
  private next = new Int32Array(0);
  /**
   * Per slot, how many records it held have ended (wrapping at 2^32): a slot and its serial name one
   * record, so a holder of both can ask whether that record is still here (`holds`) after the slot was
   * reused.
   */
  private serials = new Uint32Array(0);
  private capacity = 0;
  private freeHead = NONE;
  private used = 0;
  private readonly heads = new Map<number, number>();
  /** Slots in expiry order (a ring); each also carries the deadline it was queued with. */
  private queueSlots = new Int32Array(0);
  private queueDeadlines = new Float64Array(0);
  private queueHead = 0;
  private queueLength = 0;
  /** The addresses of IPv6 records, by slot. */
  private readonly wide = new Map<number, { local: Ipv6Address; remote: Ipv6Address }>();

  /** Records held. */
  get size(): number {
    return this.used;
  }

  /** Stores a record; returns its slot. */
  add(f: TimeWaitFields, deadline: number): number {
    if (this.freeHead === NONE) this.grow();
    const slot = this.freeHead;
    this.freeHead = this.next[slot]!;
    const u = slot * U32_FIELDS;
    const u32 = this.u32;
    u32[u + LOCAL_ADDRESS] = fold(f.localAddress);
    u32[u + REMOTE_ADDRESS] = fold(f.remoteAddress);
    u32[u + PORTS] = ((f.localPort << 16) | f.remotePort) >>> 0;
    u32[u + SND_NXT] = f.sndNxt;
    u32[u + RCV_NXT] = f.rcvNxt;
    u32[u + RCV_WND] = f.rcvWnd;
    u32[u + WINDOW_FIELD] = f.windowField;
    u32[u + MAX_SND_WND] = f.maxSndWnd;
    u32[u + TS_RECENT] = f.tsRecent;
    u32[u + TS_OFFSET] = f.tsOffset;
    const ipv6 = typeof f.localAddress === 'bigint';
    u32[u + FLAGS] = (f.tsEnabled ? TS_ENABLED : 0) | (ipv6 ? IPV6 : 0);
    if (ipv6) this.wide.set(slot, { local: f.localAddress as bigint, remote: f.remoteAddress as bigint });
    u32[u + RATE_LIMIT] = f.invalidRateLimitMs;
    const t = slot * F64_FIELDS;
    this.f64[t + DEADLINE] = deadline;
    this.f64[t + TS_RECENT_AT] = f.tsRecentAt;
    this.f64[t + LAST_ANSWER] = f.lastInvalidAnswerTime;
    this.f64[t + MSL] = f.mslMs;
    const key = chainKey(u32[u + REMOTE_ADDRESS]!, u32[u + PORTS]!);
    this.next[slot] = this.heads.get(key) ?? NONE;
    this.heads.set(key, slot);
    this.used++;
    this.enqueue(slot, deadline);
    return slot;
  }

  /** The slot of the record for this 4-tuple, or -1. */
  find(local: IpAddress, localPort: number, remote: IpAddress, remotePort: number): number {
    const remoteFold = fold(remote);
    const localFold = fold(local);
    const ports = ((localPort << 16) | remotePort) >>> 0;
    let slot = this.heads.get(chainKey(remoteFold, ports)) ?? NONE;
    const ipv6 = typeof local === 'bigint' ? IPV6 : 0;
    const u32 = this.u32;
    while (slot !== NONE) {
      const u = slot * U32_FIELDS;
      if (
        u32[u + PORTS] === ports &&
        u32[u + REMOTE_ADDRESS] === remoteFold &&
        u32[u + LOCAL_ADDRESS] === localFold &&
        (u32[u + FLAGS]! & IPV6) === ipv6
      ) {
        if (ipv6 === 0) return slot;
        const wide = this.wide.get(slot)!;
        if (wide.local === local && wide.remote === remote) return slot;
      }
      slot = this.next[slot]!;
    }
    return NONE;
  }

  /** Forgets a record (expired, or taken over by a new connection). */
  remove(slot: number): void {
    const u = slot * U32_FIELDS;
    const remote = this.u32[u + REMOTE_ADDRESS]!;
    const key = chainKey(remote, this.u32[u + PORTS]!);
    let cur = this.heads.get(key) ?? NONE;
    let prev = NONE;
    while (cur !== NONE && cur !== slot) {
      prev = cur;
      cur = this.next[cur]!;
    }
    if (cur === NONE) return;
    if (prev === NONE) {
      const after = this.next[slot]!;
      if (after === NONE) this.heads.delete(key);
      else this.heads.set(key, after);
    } else {
      this.next[prev] = this.next[slot]!;
    }
    this.f64[slot * F64_FIELDS + DEADLINE] = Number.NaN; // marks the queue entries stale
    this.wide.delete(slot);
    this.serials[slot] = this.serials[slot]! + 1;
    this.next[slot] = this.freeHead;
    this.freeHead = slot;
    this.used--;
  }

  /** The serial of the record in `slot` (see `holds`). */
  serial(slot: number): number {
    return this.serials[slot]!;
  }

  /** True while the record that had `serial` in `slot` when it was added is still held. */
  holds(slot: number, serial: number): boolean {
    return this.serials[slot] === serial;
  }

  /** Restarts the 2*MSL wait (a retransmitted FIN was acknowledged again). */
  restart(slot: number, now: number): void {
    const deadline = now + 2 * this.f64[slot * F64_FIELDS + MSL]!;
    this.f64[slot * F64_FIELDS + DEADLINE] = deadline;
    this.enqueue(slot, deadline);
  }

  /**
   * True when a deadline is queued (stale entries are discarded on the way); `headDeadline` is then the
   * earliest. Not one call answering Infinity for none: optimized code that joins that constant with a
   * double read from the queue returns the result as a heap number made per call (each clock firing).
   */
  hasDeadline(): boolean {
    while (this.queueLength > 0) {
      const slot = this.queueSlots[this.queueHead]!;
      if (this.f64[slot * F64_FIELDS + DEADLINE] === this.queueDeadlines[this.queueHead]) return true;
      this.dequeue();
    }
    return false;
  }

  /** The earliest deadline queued; read only after `hasDeadline()` answered true. */
  get headDeadline(): number {
    return this.queueDeadlines[this.queueHead]!;
  }

  /** Takes the slot of a record whose deadline is at or before `now`, or -1 when none is due. */
  takeExpired(now: number): number {
    if (!this.hasDeadline() || this.headDeadline > now) return NONE;
    const slot = this.queueSlots[this.queueHead]!;
    this.dequeue();
    return slot;
  }

  localAddress(slot: number): IpAddress {
    return this.wide.get(slot)?.local ?? this.u32[slot * U32_FIELDS + LOCAL_ADDRESS]!;
  }
  remoteAddress(slot: number): IpAddress {
    return this.wide.get(slot)?.remote ?? this.u32[slot * U32_FIELDS + REMOTE_ADDRESS]!;
  }
  localPort(slot: number): number {
    return this.u32[slot * U32_FIELDS + PORTS]! >>> 16;
  }
  remotePort(slot: number): number {
    return this.u32[slot * U32_FIELDS + PORTS]! & 0xffff;
  }
  // Sequence numbers and timestamps come back in the signed form TCP keeps them in (seq.ts).
  sndNxt(slot: number): number {
    return this.u32[slot * U32_FIELDS + SND_NXT]! | 0;
  }
  rcvNxt(slot: number): number {
    return this.u32[slot * U32_FIELDS + RCV_NXT]! | 0;
  }
  rcvWnd(slot: number): number {
    return this.u32[slot * U32_FIELDS + RCV_WND]!;
  }
  windowField(slot: number): number {
    return this.u32[slot * U32_FIELDS + WINDOW_FIELD]!;
  }
  maxSndWnd(slot: number): number {
    return this.u32[slot * U32_FIELDS + MAX_SND_WND]!;
  }
  tsEnabled(slot: number): boolean {
    return (this.u32[slot * U32_FIELDS + FLAGS]! & TS_ENABLED) !== 0;
  }
  tsRecent(slot: number): number {
    return this.u32[slot * U32_FIELDS + TS_RECENT]! | 0;
  }
  tsRecentAt(slot: number): number {
    return this.f64[slot * F64_FIELDS + TS_RECENT_AT]!;
  }
  tsOffset(slot: number): number {
    return this.u32[slot * U32_FIELDS + TS_OFFSET]! | 0;
  }
  invalidRateLimitMs(slot: number): number {
    return this.u32[slot * U32_FIELDS + RATE_LIMIT]!;
  }
  lastInvalidAnswerTime(slot: number): number {
    return this.f64[slot * F64_FIELDS + LAST_ANSWER]!;
  }
  setLastInvalidAnswerTime(slot: number, time: number): void {
    this.f64[slot * F64_FIELDS + LAST_ANSWER] = time;
  }
  deadline(slot: number): number {
    return this.f64[slot * F64_FIELDS + DEADLINE]!;
  }

  /**
   * Bytes the table's storage takes (its arrays; the map adds a few dozen bytes per chain), and for IPv6
   * records the two 16-byte addresses they keep beside them.
   */
  get storageBytes(): number {
    return (
      this.wide.size * 32 +
      this.u32.byteLength +
      this.f64.byteLength +
      this.next.byteLength +
      this.serials.byteLength +
      this.queueSlots.byteLength +
      this.queueDeadlines.byteLength
    );
  }

  private grow(): void {
    const old = this.capacity;
    const capacity = Math.max(64, old * 2);
    const u32 = new Uint32Array(capacity * U32_FIELDS);
    u32.set(this.u32);
    const f64 = new Float64Array(capacity * F64_FIELDS);
    f64.set(this.f64);
    const next = new Int32Array(capacity);
    next.set(this.next);
    const serials = new Uint32Array(capacity);
    serials.set(this.serials);
    this.serials = serials;
    for (let slot = capacity - 1; slot >= old; slot--) {
      next[slot] = this.freeHead;
      this.freeHead = slot;
    }
    this.u32 = u32;
    this.f64 = f64;
    this.next = next;
    this.capacity = capacity;
  }

  private enqueue(slot: number, deadline: number): void {
    if (this.queueLength === this.queueSlots.length) {
      // Grow the ring, unwrapping it. Restarts can queue a slot twice, so the ring may outgrow the slots.
      const size = Math.max(64, this.queueSlots.length * 2);
      const slots = new Int32Array(size);
      const deadlines = new Float64Array(size);
      for (let i = 0; i < this.queueLength; i++) {
        const at = (this.queueHead + i) % this.queueSlots.length;
        slots[i] = this.queueSlots[at]!;
        deadlines[i] = this.queueDeadlines[at]!;
      }
      this.queueSlots = slots;
      this.queueDeadlines = deadlines;
      this.queueHead = 0;
    }
    const at = (this.queueHead + this.queueLength) % this.queueSlots.length;
    this.queueSlots[at] = slot;
    this.queueDeadlines[at] = deadline;
    this.queueLength++;
  }

  private dequeue(): void {
    this.queueHead = (this.queueHead + 1) % this.queueSlots.length;
    this.queueLength--;
  }
}

/** An IPv4 address as is; an IPv6 address folded to 32 bits (its four words XORed). */
function fold(address: IpAddress): number {
  if (typeof address === 'number') return address >>> 0;
  return Number(BigInt.asUintN(32, address ^ (address >> 32n) ^ (address >> 64n) ^ (address >> 96n)));
}

/**
 * A small integer (a cheap map key) from the remote address (folded) and both ports (local << 16 |
 * remote); collisions share a chain. The local port is part of it: a client that closes first holds its
 * TIME-WAIT records towards a handful of server endpoints, one per local port, and a key of the remote
 * endpoint alone put them all in a few chains walked on every lookup.
 */
function chainKey(address: number, ports: number): number {
  return (Math.imul(address ^ ports, 0x9e3779b1) ^ (ports >>> 16) ^ (ports << 13)) & 0x3fffffff;
}
