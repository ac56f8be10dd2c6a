/**
 * The send buffer: every byte the application handed over that is not yet acknowledged, from SND.UNA's
 * first data byte up to the last byte written. Sent and unsent bytes live in the same ring; segments are
 * cut from it on demand (first transmission and retransmission alike), so there is no separate
 * retransmission queue to keep in step with it.
 */
import { ByteRing } from './byte-ring.js';
import { seqAdd, seqDiff } from './seq.js';

export class SendBuffer {
  /** The bytes, in a ring made with the first write: a connection that never sends holds none. */
  private ringObject: ByteRing | undefined;
  /** The capacity until the ring is made (then the ring's). */
  private limit: number;
  /** Sequence number of the first byte held. */
  private start: number;

  /** `firstSeq`: the sequence number the first data byte will carry (ISS + 1). */
  constructor(capacity: number, firstSeq: number) {
    this.limit = capacity;
    this.start = firstSeq | 0;
  }

  private get ring(): ByteRing {
    this.ringObject ??= new ByteRing(this.limit);
    return this.ringObject;
  }

  /**
   * The length segments are cut in (the effective send MSS): the ring keeps its storage a whole number of
   * them, so a bulk stream's segments start at the same positions lap after lap and are served views cut
   * for them before (see ByteRing.quantum). Only a hint: any value keeps every byte where it was. Told
   * to the ring once it is made (the first `write` passes it on until then: a field kept for it here
   * would cost every idle connection its 8 bytes).
   */
  set segmentSize(size: number) {
    if (this.ringObject !== undefined) this.ringObject.quantum = size;
  }

  /** Bytes of storage allocated now. */
  get allocated(): number {
    return this.ringObject?.allocated ?? 0;
  }

  get capacity(): number {
    return this.ringObject?.capacity ?? this.limit;
  }

  /** Raises the capacity (buffer autotuning); a smaller value is ignored. */
  growCapacity(capacity: number): void {
    if (this.ringObject !== undefined) this.ringObject.growCapacity(capacity);
    else if (capacity > this.limit) this.limit = capacity;
  }

  /** Bytes held (unacknowledged, sent or not). */
  get length(): number {
    return this.ringObject?.length ?? 0;
  }

  get free(): number {
    return this.ringObject?.free ?? this.limit;
  }

  /** Sequence number of the first byte held. */
  get startSeq(): number {
    return this.start;
  }

  /** Sequence number just past the last byte held. */
  get endSeq(): number {
    return seqAdd(this.start, this.length);
  }

  /** Re-bases an empty buffer (the ISS becomes known only when the connection opens). */
  resetStart(firstSeq: number): void {
    if (this.length !== 0) throw new Error('SendBuffer.resetStart on a non-empty buffer');
    this.start = firstSeq | 0;
  }

  /**
   * Copies as much of `data` as fits; returns the count. `segmentSize`: the effective send MSS now, the
   * ring's quantum if this write makes the ring (see the `segmentSize` setter).
   */
  write(data: Uint8Array, segmentSize = 0): number {
    if (this.ringObject === undefined) {
      this.ringObject = new ByteRing(this.limit);
      this.ringObject.quantum = segmentSize;
    }
    return this.ringObject.append(data);
  }

  /**
   * The bytes [seq, seq + length) as a view, valid until the buffer is next written or asked for bytes
   * again (see ByteRing.peek). The range must lie within the buffer.
   */
  bytesAt(seq: number, length: number): Uint8Array {
    return this.ring.peek(seqDiff(seq, this.start), length);
  }

  /** Bytes held from `seq` to the end (0 when `seq` is at or past the end). */
  bytesFrom(seq: number): number {
    const offset = seqDiff(seq, this.start);
    const length = this.length;
    return offset >= length ? 0 : length - Math.max(0, offset);
  }

  /** Drops every byte before `ackSeq`; returns how many were dropped. */
  acknowledge(ackSeq: number): number {
    const n = Math.min(Math.max(seqDiff(ackSeq, this.start), 0), this.length);
    if (n > 0) {
      this.ring.consume(n);
      this.start = seqAdd(this.start, n);
      // Everything written has been acknowledged: the storage goes back until the next write (an idle
      // connection holds no buffer memory, as Linux frees acknowledged skbs).
      if (this.ring.length === 0) this.ring.releaseStorage();
    }
    return n;
  }

  /** Gives the storage back while the buffer is empty (it is taken again on the next write). */
  releaseStorage(): void {
    this.ringObject?.releaseStorage();
  }

  /** Drops everything (ABORT, reset). */
  clear(): void {
    const n = this.length;
    this.ringObject?.consume(n);
    this.start = seqAdd(this.start, n);
  }
}
