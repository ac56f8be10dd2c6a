/**
 * The receive buffer: in-order bytes waiting for the application, followed by out-of-order bytes waiting
 * for the gap before them to fill (RFC 9293 §3.10.7.4, seventh step).
 *
 * Positions are counted from RCV.NXT: offset 0 is the next byte expected. The connection never advertises
 * a window reaching past the ring's capacity (measured from the first unread byte), so every acceptable
 * byte has a place to go.
 */
import { ByteRing } from './byte-ring.js';
import { RangeAssembler, type ReceivedRange } from './reassembly.js';

export class ReceiveBuffer {
  private readonly ring: ByteRing;
  private readonly assembler: RangeAssembler;

  constructor(capacity: number, maxOutOfOrderRanges: number) {
    this.ring = new ByteRing(capacity);
    this.assembler = new RangeAssembler(maxOutOfOrderRanges);
  }

  /** Bytes of storage allocated now. */
  get allocated(): number {
    return this.ring.allocated;
  }

  get capacity(): number {
    return this.ring.capacity;
  }

  /** Raises the capacity (buffer autotuning); a smaller value is ignored. */
  growCapacity(capacity: number): void {
    this.ring.growCapacity(capacity);
  }

  /** In-order bytes the application has not read yet. */
  get readable(): number {
    return this.ring.length;
  }

  /** Room from RCV.NXT to the end of the buffer (capacity minus unread in-order bytes). */
  get spaceFromNext(): number {
    return this.ring.free;
  }

  /** Out-of-order ranges forgotten so far to make room for lower ones (RangeAssembler.add). */
  get prunedRanges(): number {
    return this.assembler.pruned;
  }

  get hasOutOfOrder(): boolean {
    return !this.assembler.isEmpty;
  }

  /** Offset (from RCV.NXT) just past the highest out-of-order byte held; 0 when none. */
  get outOfOrderEnd(): number {
    return this.assembler.highestEnd;
  }

  outOfOrderRanges(): ReceivedRange[] {
    return this.assembler.ranges();
  }

  /** Number of separate out-of-order ranges held. */
  get outOfOrderRangeCount(): number {
    return this.assembler.rangeCount;
  }

  /** The part of [offset, offset + length) already held out of order (a duplicate), if any. */
  heldWithin(offset: number, length: number): { start: number; end: number } | undefined {
    return this.assembler.heldWithin(offset, offset + length);
  }

  /** The out-of-order ranges most recently grown first, as [start, end) offset pairs (see RangeAssembler). */
  recentOutOfOrderRanges(max: number, out: number[]): number {
    return this.assembler.recentRanges(max, out);
  }

  /**
   * Places `data` at `offset` bytes past RCV.NXT (offset + data.length must be <= spaceFromNext).
   * Returns the number of bytes that became in-order, i.e. how far RCV.NXT advances (0 for a segment that
   * leaves a gap before it), or -1 when the segment was refused because the assembler is full.
   */
  insert(offset: number, data: Uint8Array): number {
    if (data.length === 0) return 0;
    if (offset === 0 && this.assembler.isEmpty) {
      // The common case: the next bytes in order, nothing held behind them.
      this.ring.writeAt(this.ring.length, data);
      this.ring.commit(data.length);
      return data.length;
    }
    if (!this.assembler.add(offset, offset + data.length)) return -1;
    this.ring.writeAt(this.ring.length + offset, data);
    const inOrder = this.assembler.takeFront();
    if (inOrder > 0) this.ring.commit(inOrder);
    return inOrder;
  }

  /** Forgets out-of-order bytes at or past `offset` (a FIN fixed the end of the stream there). */
  truncateOutOfOrder(offset: number): void {
    this.assembler.truncate(offset);
  }

  /** Removes and returns up to `max` in-order bytes as a new array (the application owns it). */
  read(max: number): Uint8Array {
    const out = new Uint8Array(Math.min(max, this.ring.length));
    this.ring.read(out);
    this.releaseIfEmpty();
    return out;
  }

  /** Copies up to `dst.length` in-order bytes into `dst`, removing them; returns the count. */
  readInto(dst: Uint8Array): number {
    const n = this.ring.read(dst);
    this.releaseIfEmpty();
    return n;
  }

  /**
   * Everything received has been read and nothing waits out of order: the storage goes back until the
   * next segment (an idle connection holds no buffer memory).
   */
  private releaseIfEmpty(): void {
    if (this.ring.length === 0 && this.assembler.isEmpty) this.ring.releaseStorage();
  }

  /** Drops everything (ABORT, reset). */
  clear(): void {
    this.ring.consume(this.ring.length);
    this.assembler.clear();
  }
}
