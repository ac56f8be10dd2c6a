/**
 * IPv4 reassembly (RFC 791 §3.2 "Fragmentation and Reassembly", RFC 815 hole tracking, RFC 1122 §3.3.2).
 *
 * Fragments are keyed by (source, destination, protocol, identification). Policy, chosen so hostile
 * fragments can neither corrupt a datagram nor exhaust memory:
 * - An exact duplicate of a fragment we hold (same offset, same bytes) is ignored.
 * - Any other overlap, including a duplicate range with different bytes, discards the whole datagram, and
 *   later fragments of it are dropped until its timer expires (the rule RFC 5722 sets for IPv6 and Linux
 *   applies to IPv4 since 2018). Overlapping data never reaches a protocol.
 * - A fragment that would extend the datagram past 65 535 bytes ("ping of death"), a non-final fragment
 *   whose length is not a multiple of 8, and fragments contradicting the known end discard the datagram.
 * - Each partial datagram lives at most `timeoutMs` (default 30 s, as Linux; RFC 1122 suggests 60-120 s).
 *   When it expires and its first fragment had arrived, ICMP Time Exceeded code 1 is sent (RFC 792).
 * - All partial datagrams together hold at most `maxBytes` (default 4 MiB, Linux's ipfrag_high_thresh),
 *   each fragment charged what it keeps alive plus what its records cost, and at most `maxDatagrams`; past
 *   either bound the oldest partial datagram is discarded.
 *
 * What a fragment keeps alive is not its length: a view pins the whole buffer the device received it in
 * (a 1514-byte frame holding 8 bytes of data, or a TAP read of 64 KiB holding several frames). A fragment
 * that fills most of its buffer is kept as a view and charged the whole buffer; one that uses less than
 * half is copied out and charged its length, so the budget bounds the memory really held (Linux charges
 * each fragment's skb truesize against ipfrag_high_thresh for the same reason).
 */

import type { TimerHandle } from '../time/clock.js';
import type { Ipv4Address } from '../wire/address.js';
import { internetChecksum } from '../wire/checksum.js';
import type { StackContext } from './stack-context.js';

export interface ReassemblyOptions {
  /** Lifetime of a partial datagram. Default 30 000 ms. */
  timeoutMs?: number;
  /** Byte budget for all partial datagrams. Default 4 MiB. */
  maxBytes?: number;
  /** Bound on partial datagrams (including discarded ones remembered until their timeout). Default 1024. */
  maxDatagrams?: number;
}

/** What the IP layer hands over for each fragment it receives. */
export interface IncomingFragment {
  readonly src: Ipv4Address;
  readonly dst: Ipv4Address;
  readonly protocol: number;
  readonly id: number;
  /** Offset of this fragment's data in the original datagram, in bytes. */
  readonly offset: number;
  readonly moreFragments: boolean;
  /** The fragment's IP header (with options), a view. */
  readonly header: Uint8Array;
  /** The fragment's data, a view. */
  readonly payload: Uint8Array;
}

/**
 * Bytes charged on top of the data for the objects that hold it, measured on V8 (Node 20): a partial
 * datagram (its record, map entry, key and timer) about 768 bytes, each fragment (its piece record and the
 * typed array with its backing store) about 256. With them the charge tracks the heap really used: 100k
 * single 8-byte fragments under the 4 MiB budget hold about the budget (test/flood/fragment-flood.ts).
 */
const DATAGRAM_OVERHEAD = 768;
const FRAGMENT_OVERHEAD = 256;
/**
 * The bytes to keep for a fragment's data and what keeping them costs: the view itself when it uses at
 * least half of the buffer behind it (charged the whole buffer), otherwise a copy (charged its length).
 */
function retained(payload: Uint8Array): { data: Uint8Array; held: number } {
  const pinned = payload.buffer.byteLength;
  if (payload.length * 2 >= pinned) return { data: payload, held: pinned };
  return { data: payload.slice(), held: payload.length };
}

/** The largest datagram IPv4 can describe (16-bit total length). */
const MAX_DATAGRAM = 65535;

interface Piece {
  readonly start: number;
  readonly end: number;
  readonly data: Uint8Array;
}

interface PartialDatagram {
  readonly key: string;
  pieces: Piece[];
  /** Data length, known once the last fragment (MF = 0) arrived. */
  dataLength: number | undefined;
  received: number;
  charged: number;
  /** Header of the fragment at offset 0, copied. */
  firstHeader: Uint8Array | undefined;
  /** First fragment's header plus 8 data bytes, copied, to quote in Time Exceeded. */
  firstQuote: Uint8Array | undefined;
  src: Ipv4Address;
  /** Set once the datagram was discarded: later fragments are dropped until the timer removes it. */
  discarded: boolean;
  timer: TimerHandle;
}

/** Called when a partial datagram expires; `quote` is its first fragment's header + 8 bytes, if it came. */
export type ReassemblyTimeoutHandler = (src: Ipv4Address, quote: Uint8Array | undefined) => void;

export class Reassembler {
  private readonly partial = new Map<string, PartialDatagram>();
  private charged = 0;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly maxDatagrams: number;

  constructor(
    private readonly ctx: StackContext,
    private readonly onTimeout: ReassemblyTimeoutHandler,
    options: ReassemblyOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
    this.maxDatagrams = options.maxDatagrams ?? 1024;
  }

  /** Bytes charged to partial datagrams now held. */
  get bytesHeld(): number {
    return this.charged;
  }

  /** Partial datagrams now tracked (including discarded ones awaiting their timeout). */
  get datagramCount(): number {
    return this.partial.size;
  }

  /**
   * Adds one fragment. Returns the complete datagram (header with MF and offset cleared, then data, in a
   * new buffer) when this fragment completed it, otherwise undefined.
   */
  add(fragment: IncomingFragment): Uint8Array | undefined {
    const { counters } = this.ctx;
    counters.IpReasmReqds++;
    const key = `${fragment.src}/${fragment.dst}/${fragment.protocol}/${fragment.id}`;
    let datagram = this.partial.get(key);
    if (datagram === undefined) {
      datagram = this.create(key, fragment.src);
    } else if (datagram.discarded) {
      this.ctx.drop('ip-reassembly', 'discarded-datagram');
      return undefined;
    }

    const start = fragment.offset;
    const length = fragment.payload.length;
    const end = start + length;
    if (fragment.header.length + end > MAX_DATAGRAM) return this.discard(datagram, 'oversize');
    if (fragment.moreFragments) {
      // RFC 791: all fragments but the last carry a multiple of 8 data bytes.
      if (length === 0 || length % 8 !== 0) return this.discard(datagram, 'bad-fragment-length');
      if (datagram.dataLength !== undefined && end > datagram.dataLength) {
        return this.discard(datagram, 'beyond-last-fragment');
      }
    } else {
      if (datagram.dataLength !== undefined && datagram.dataLength !== end) {
        return this.discard(datagram, 'inconsistent-last-fragment');
      }
      const last = datagram.pieces[datagram.pieces.length - 1];
      if (last !== undefined && last.end > end) return this.discard(datagram, 'beyond-last-fragment');
      datagram.dataLength = end;
    }

    // Find where the piece goes (pieces are sorted and disjoint) and check its neighbours for overlap.
    const pieces = datagram.pieces;
    let i = pieces.length;
    while (i > 0 && pieces[i - 1]!.start >= start) i--;
    const before = i > 0 ? pieces[i - 1] : undefined;
    const after = pieces[i];
    if (after !== undefined && after.start === start && after.end === end) {
      if (sameBytes(after.data, fragment.payload)) {
        this.ctx.drop('ip-reassembly', 'duplicate-fragment');
        return undefined;
      }
      return this.discard(datagram, 'overlap', true);
    }
    if ((before !== undefined && before.end > start) || (after !== undefined && after.start < end)) {
      return this.discard(datagram, 'overlap', true);
    }
    const { data, held } = retained(fragment.payload);
    if (length > 0) {
      pieces.splice(i, 0, { start, end, data });
      datagram.received += length;
    }
    if (data !== fragment.payload) counters.IpReasmCopies++;
    const cost = held + FRAGMENT_OVERHEAD;
    datagram.charged += cost;
    this.charged += cost;
    if (start === 0) {
      datagram.firstHeader = fragment.header.slice();
      const quote = new Uint8Array(fragment.header.length + Math.min(8, length));
      quote.set(fragment.header, 0);
      quote.set(fragment.payload.subarray(0, 8), fragment.header.length);
      datagram.firstQuote = quote;
    }

    if (
      datagram.dataLength !== undefined &&
      datagram.received === datagram.dataLength &&
      datagram.firstHeader
    ) {
      // Fragments may carry headers of different lengths: the whole must still fit 16 bits.
      if (datagram.firstHeader.length + datagram.dataLength > MAX_DATAGRAM)
        return this.discard(datagram, 'oversize');
      const whole = this.assemble(datagram, datagram.firstHeader, datagram.dataLength);
      this.remove(datagram);
      counters.IpReasmOKs++;
      return whole;
    }
    this.enforceBudget(datagram);
    return undefined;
  }

  /** Drops every partial datagram and cancels its timer (the stack is closing). */
  clear(): void {
    for (const datagram of [...this.partial.values()]) this.remove(datagram);
  }

  private create(key: string, src: Ipv4Address): PartialDatagram {
    const datagram: PartialDatagram = {
      key,
      pieces: [],
      dataLength: undefined,
      received: 0,
      charged: DATAGRAM_OVERHEAD,
      firstHeader: undefined,
      firstQuote: undefined,
      src,
      discarded: false,
      timer: undefined as unknown as TimerHandle,
    };
    datagram.timer = this.ctx.clock.setTimer(this.timeoutMs, () => this.expire(datagram));
    this.partial.set(key, datagram);
    this.charged += DATAGRAM_OVERHEAD;
    return datagram;
  }

  private expire(datagram: PartialDatagram): void {
    if (this.partial.get(datagram.key) !== datagram) return;
    const quote = datagram.firstQuote;
    this.remove(datagram);
    if (datagram.discarded) return; // already counted when it was discarded
    this.ctx.counters.IpReasmTimeout++;
    this.ctx.counters.IpReasmFails++;
    this.ctx.drop('ip-reassembly', 'timeout');
    this.onTimeout(datagram.src, quote);
  }

  /** Discards a datagram's data but remembers its key until its timer, so its stragglers are dropped too. */
  private discard(datagram: PartialDatagram, reason: string, overlap = false): undefined {
    if (overlap) this.ctx.counters.IpReasmOverlaps++;
    this.ctx.counters.IpReasmFails++;
    this.ctx.drop('ip-reassembly', reason);
    this.release(datagram);
    datagram.discarded = true;
    return undefined;
  }

  private release(datagram: PartialDatagram): void {
    this.charged -= datagram.charged;
    datagram.charged = 0;
    datagram.pieces = [];
    datagram.received = 0;
    datagram.firstHeader = undefined;
    datagram.firstQuote = undefined;
  }

  private remove(datagram: PartialDatagram): void {
    datagram.timer.cancel();
    this.release(datagram);
    this.partial.delete(datagram.key);
  }

  private enforceBudget(current: PartialDatagram): void {
    while (this.charged > this.maxBytes || this.partial.size > this.maxDatagrams) {
      // Map iteration order is creation order: the first entry is the oldest partial datagram.
      const oldest = this.partial.values().next().value as PartialDatagram;
      this.remove(oldest);
      if (!oldest.discarded) {
        this.ctx.counters.IpReasmFails++;
        this.ctx.drop('ip-reassembly', 'memory-limit');
      }
      if (oldest === current) break;
    }
  }

  private assemble(datagram: PartialDatagram, header: Uint8Array, dataLength: number): Uint8Array {
    const headerLength = header.length;
    const total = headerLength + dataLength;
    const whole = new Uint8Array(total);
    whole.set(header, 0);
    for (const piece of datagram.pieces) whole.set(piece.data, headerLength + piece.start);
    // RFC 791: the reassembled datagram carries the first fragment's header with total length updated
    // and the fragmentation fields cleared (DF, if set, is kept).
    whole[2] = total >>> 8;
    whole[3] = total & 0xff;
    whole[6] = (whole[6]! & 0x40) as number;
    whole[7] = 0;
    whole[10] = 0;
    whole[11] = 0;
    const checksum = internetChecksum(whole, 0, headerLength);
    whole[10] = checksum >>> 8;
    whole[11] = checksum & 0xff;
    return whole;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
