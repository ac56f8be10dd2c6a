/**
 * IPv6 reassembly (RFC 8200 §4.5) with RFC 5722's rule: a fragment that overlaps another of the same
 * packet discards the whole packet (and every later fragment of it, until the timer would have run out),
 * because overlapping fragments are how filters are evaded. Bounded: at most `maxPackets` packets in
 * progress and `maxBytes` buffered (Linux: ip6frag_high_thresh 4 MB); a packet incomplete after
 * `timeoutMs` (60 s, RFC 8200 §4.5) is dropped, and if its first fragment had arrived the sender hears
 * ICMPv6 Time Exceeded code 1 quoting it.
 */
import type { Clock, TimerHandle } from '../time/clock.js';
import type { Ipv6Address } from '../wire/ipv6-address.js';

/** Bytes charged per fragment on top of what it copies: the piece record and its array slot. */
const FRAGMENT_OVERHEAD = 64;

export interface Ipv6ReassemblyOptions {
  /** Default 60000 (RFC 8200 §4.5). */
  timeoutMs?: number;
  /** Packets being reassembled at once. Default 64. */
  maxPackets?: number;
  /** Bytes held at once (data, first-fragment copies, 64 per fragment). Default 4 MiB (Linux ip6frag_high_thresh). */
  maxBytes?: number;
}

export interface Ipv6Fragment {
  src: Ipv6Address;
  dst: Ipv6Address;
  identification: number;
  /** Offset in bytes, a multiple of 8. */
  offset: number;
  moreFragments: boolean;
  /** The Next Header of the fragmentable part (from the Fragment header). */
  nextHeader: number;
  /** The fragment's data (after the Fragment header). */
  data: Uint8Array;
  /**
   * For the first fragment: the packet from its IPv6 header to the end of the fragment, which a Time
   * Exceeded message quotes.
   */
  packet: Uint8Array;
}

export interface Ipv6Reassembled {
  nextHeader: number;
  data: Uint8Array;
}

interface Pending {
  pieces: { offset: number; data: Uint8Array }[];
  totalLength: number | undefined;
  /** Data bytes received so far (complete when it reaches totalLength). */
  bytes: number;
  /** What the packet holds against `maxBytes`: copied data, the first fragment's copy, bookkeeping. */
  charged: number;
  nextHeader: number;
  firstPacket: Uint8Array | undefined;
  /** RFC 5722: a packet with an overlap is discarded; later fragments of it are dropped too. */
  discarded: boolean;
  timer: TimerHandle;
}

export type ReassemblyOutcome =
  | { kind: 'complete'; value: Ipv6Reassembled }
  | { kind: 'pending' }
  | { kind: 'dropped'; reason: string };

export class Ipv6Reassembler {
  private readonly pending = new Map<string, Pending>();
  private bytes = 0;
  private readonly timeoutMs: number;
  private readonly maxPackets: number;
  private readonly maxBytes: number;

  constructor(
    private readonly clock: Clock,
    /** A packet timed out; `firstPacket` is set when its first fragment had arrived. */
    private readonly timedOut: (firstPacket: Uint8Array | undefined) => void,
    options: Ipv6ReassemblyOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.maxPackets = options.maxPackets ?? 64;
    this.maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
  }

  get packetsInProgress(): number {
    return this.pending.size;
  }

  get bytesHeld(): number {
    return this.bytes;
  }

  add(f: Ipv6Fragment): ReassemblyOutcome {
    const key = `${f.src}/${f.dst}/${f.identification}`;
    let p = this.pending.get(key);
    if (p === undefined) {
      if (this.pending.size >= this.maxPackets) return { kind: 'dropped', reason: 'reassembly-table-full' };
      p = {
        pieces: [],
        totalLength: undefined,
        bytes: 0,
        charged: 0,
        nextHeader: f.nextHeader,
        firstPacket: undefined,
        discarded: false,
        timer: this.clock.setTimer(this.timeoutMs, () => this.expire(key)),
      };
      this.pending.set(key, p);
    }
    if (p.discarded) return { kind: 'dropped', reason: 'overlapping-fragments' };
    const end = f.offset + f.data.length;
    if (!f.moreFragments) {
      if (p.totalLength !== undefined && p.totalLength !== end) return this.discard(p, 'inconsistent-length');
      p.totalLength = end;
    }
    if (p.totalLength !== undefined && end > p.totalLength) return this.discard(p, 'beyond-last-fragment');
    for (const piece of p.pieces) {
      if (f.offset < piece.offset + piece.data.length && piece.offset < end) {
        // RFC 5722 §4: exact duplicates may be dropped alone; anything else overlapping kills the packet.
        if (piece.offset === f.offset && piece.data.length === f.data.length) {
          return { kind: 'dropped', reason: 'duplicate-fragment' };
        }
        return this.discard(p, 'overlapping-fragments');
      }
    }
    // Data is copied out of the received frame (a view would pin the whole device buffer), so a fragment
    // holds its data, the first one also its packet copy, plus the bookkeeping of one piece.
    const cost = f.data.length + FRAGMENT_OVERHEAD + (f.offset === 0 ? f.packet.length : 0);
    if (this.bytes + cost > this.maxBytes) return { kind: 'dropped', reason: 'reassembly-memory-full' };
    p.pieces.push({ offset: f.offset, data: f.data.slice() });
    p.bytes += f.data.length;
    p.charged += cost;
    this.bytes += cost;
    if (f.offset === 0) {
      p.firstPacket = f.packet.slice();
      p.nextHeader = f.nextHeader;
    }
    if (p.totalLength === undefined) return { kind: 'pending' };
    if (p.bytes !== p.totalLength) return { kind: 'pending' };
    const data = new Uint8Array(p.totalLength);
    for (const piece of p.pieces) data.set(piece.data, piece.offset);
    this.forget(key, p);
    return { kind: 'complete', value: { nextHeader: p.nextHeader, data } };
  }

  clear(): void {
    for (const p of this.pending.values()) p.timer.cancel();
    this.pending.clear();
    this.bytes = 0;
  }

  private discard(p: Pending, reason: string): ReassemblyOutcome {
    p.discarded = true;
    this.bytes -= p.charged;
    p.bytes = 0;
    p.charged = 0;
    p.pieces = [];
    p.firstPacket = undefined;
    return { kind: 'dropped', reason };
  }

  private forget(key: string, p: Pending): void {
    p.timer.cancel();
    this.bytes -= p.charged;
    this.pending.delete(key);
  }

  private expire(key: string): void {
    const p = this.pending.get(key);
    if (p === undefined) return;
    const first = p.discarded ? undefined : p.firstPacket;
    this.forget(key, p);
    this.timedOut(first);
  }
}
