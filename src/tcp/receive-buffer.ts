/**
 * The receive buffer: in-order bytes waiting for the application, followed by out-of-order bytes waiting
 * for the gap before them to fill (RFC 9293 §3.10.7.4, seventh step).
 *
 * Positions are counted from RCV.NXT: offset 0 is the next byte expected. The connection never advertises
 * a window reaching past the ring's capacity (measured from the first unread byte), so every acceptable
 * byte has a place to go.
 *
 * Out-of-order bytes wait in chunks of their own, not in the ring at their final position: the ring would
 * have to take storage up to the highest byte held, so one byte at the far edge of an 8 MiB window would
 * commit 8 MiB for as long as the hole before it stays open. A chunk is charged its bytes plus
 * CHUNK_OVERHEAD (as Linux charges an out-of-order skb its truesize), and neighbouring chunks are merged
 * while small, so a peer sending one-byte pieces cannot make the overhead outgrow the data: two chunks
 * that touch always hold more than MERGE_LIMIT bytes together. When the gap before them fills, the chunks
 * are copied into the ring in order.
 *
 * Large in-order segments are not copied at all: a segment of at least KEEP_VIEW_MIN bytes that arrives
 * while the ring holds nothing is kept as the view it arrived in (a device's received frame belongs to the
 * stack, which may keep views into it: the NetworkDevice ownership rule), and handed to the application as
 * it is by `readChunk`. The bytes then cross user space once (the device's read) instead of three times
 * (into the ring, out of it into a fresh buffer): over a TAP device with offload, where the kernel hands
 * over 64 KiB packets, those two copies and the fresh buffer each read needed (whose pages the kernel
 * faults in and zeroes) were the largest part of a bulk receiver's time. Small segments still go to the
 * ring, so many small views never pin many frames' buffers. In-order bytes are the kept views first
 * (oldest first), then the ring's bytes: a segment goes to the ring once the ring holds anything.
 *
 * A kept view holds its whole buffer in memory, not just its bytes: a TAP device carves received frames
 * from slabs of 256 KiB. So kept views are charged the buffers they pin (as Linux charges an skb its
 * truesize, not its length): each run of consecutive views into one buffer is charged that buffer's size
 * once, and a segment is copied into the ring instead of kept when its charge would take the total past
 * the buffer's capacity. A peer that spreads small pieces of its data over many device buffers then pins
 * at most the capacity, and `allocated` (what the stack's TCP memory counts) says what is really held.
 *
 * A kept view whose bytes a read copies out (`readInto`: Node's `onread`, a read into the application's
 * buffer) is given back to the device that lent its frame (giveBackFrame, see FRAME_HELD) as soon as the
 * copy is done, so the device reads into that memory again: a bulk receiver that copies then runs in the
 * same few device buffers, where frames left to the garbage collector cost fresh memory for every byte
 * (page faults as the kernel writes it, and external-memory pressure that starts full collections). A
 * view handed to the application as it is (`readChunk`) is the application's for good and never comes
 * back, nor does the rest of one whose first part was.
 */
import { giveBackFrame } from '../seams.js';
import { copyBytes, copyPrefix, viewBytes } from '../util/bytes.js';
import { ByteRing } from './byte-ring.js';
import { RangeAssembler, type ReceivedRange } from './reassembly.js';

/** Bytes charged for each out-of-order chunk beyond its data (the object and its bookkeeping). */
export const CHUNK_OVERHEAD = 128;
/** Neighbouring out-of-order chunks are merged while together they hold at most this many bytes. */
const MERGE_LIMIT = 2048;
/**
 * In-order segments at least this large are kept as the views they arrived in (see above): only the
 * super-segments of offload (GSO/GRO packets of up to 64 KiB), never MSS-sized ones, whose views would
 * each pin a frame buffer for a small part of it and hand the application many small chunks.
 */
export const KEEP_VIEW_MIN = 16 * 1024;
/**
 * Whether the buffer may keep (part of) a segment of `length` payload bytes as the view it arrived in. It
 * copies every smaller one (into the ring, or into a chunk of its own out of order), so a frame carrying
 * one is not held by the connection once the segment was processed.
 */
export function mayKeepView(length: number): boolean {
  return length >= KEEP_VIEW_MIN;
}

/**
 * Process-wide, like the ring storage pool: large in-order segments copied instead of kept because the
 * buffer they would pin took the kept views' charge past the capacity (see `keepView`), and segments kept
 * as their views (how TCP tells that the frame of the segment it just handled is held: FRAME_HELD), and
 * emptied lists of kept views left to the collector because VIEW_LISTS_POOLED were pooled already.
 */
export const receiveBufferCounters = { viewsCopiedOverPinLimit: 0, viewsKept: 0, viewListsDiscarded: 0 };

/** Taken slots at the head of the kept-view list before it is compacted (see `takeView`). */
export const VIEW_SLOTS_COMPACTED = 64;

/**
 * The chunk lists of a buffer holding nothing out of order. Shared by every such buffer (frozen, so a
 * write through it throws instead of leaking into other connections): most connections never see a
 * segment out of order, and an idle one should not carry three empty arrays and an assembler.
 */
const NO_STARTS: number[] = Object.freeze([]) as unknown as number[];
const NO_CHUNKS: Uint8Array[] = Object.freeze([]) as unknown as Uint8Array[];
/** What a taken view's slot holds, so the array does not keep the frame alive. */
const NO_VIEW = new Uint8Array(0);

/**
 * Emptied lists of kept views, process-wide, for the next buffer that keeps one (see `releaseIfEmpty`):
 * a bulk receiver that reads everything it is given empties its list at nearly every read, and a list
 * made afresh for the next view, then grown by the one after, was two objects each time. An emptied
 * list holds one slot (NO_VIEW): V8 gives the storage of an array cut to no elements back, and the next
 * push grows it afresh; with one left it keeps the storage it grew to (at most two slots per
 * KEEP_VIEW_MIN of window). At most VIEW_LISTS_POOLED are kept.
 */
const viewListPool: Uint8Array[][] = [];
export const VIEW_LISTS_POOLED = 8;

export class ReceiveBuffer {
  /** In-order bytes, in a ring made when the first are placed: a connection that receives none holds none. */
  private ringObject: ByteRing | undefined;
  /** The capacity until the ring is made (then the ring's). */
  private limit: number;
  private readonly maxOutOfOrderRanges: number;
  /** Created with the first out-of-order segment (see NO_STARTS), then kept. */
  private assembler: RangeAssembler | undefined;
  /** Out-of-order chunks, lowest offset first, never overlapping: their offsets and their bytes. */
  private chunkStarts: number[] = NO_STARTS;
  private chunks: Uint8Array[] = NO_CHUNKS;
  private chunkBytes = 0;
  private gapPairs: number[] = NO_STARTS;
  /** In-order bytes kept as the views they arrived in, before the ring's (see KEEP_VIEW_MIN): from `viewHead` on. */
  private views: Uint8Array[] = NO_CHUNKS;
  private viewHead = 0;
  private viewBytes = 0;
  /** The sizes of the buffers the kept views pin, each run of views into one buffer counted once. */
  private pinnedBytes = 0;
  /** Part of the oldest kept view went to the application as a view (readChunk): it never goes back. */
  private headShared = false;

  constructor(capacity: number, maxOutOfOrderRanges: number) {
    this.limit = capacity;
    this.maxOutOfOrderRanges = maxOutOfOrderRanges;
  }

  private get ring(): ByteRing {
    this.ringObject ??= new ByteRing(this.limit);
    return this.ringObject;
  }

  /** Unread bytes in the ring. */
  private get ringLength(): number {
    return this.ringObject?.length ?? 0;
  }

  /** The assembler and chunk lists, created when the first segment needs them. */
  private outOfOrderStore(): RangeAssembler {
    if (this.assembler === undefined) this.assembler = new RangeAssembler(this.maxOutOfOrderRanges);
    if (this.chunks === NO_CHUNKS) {
      this.chunkStarts = [];
      this.chunks = [];
      this.gapPairs = [];
    }
    return this.assembler;
  }

  /** Bytes of storage allocated now: the ring's, and the out-of-order chunks' (each with its overhead). */
  get allocated(): number {
    return (this.ringObject?.allocated ?? 0) + this.outOfOrderMemory + this.pinnedBytes;
  }

  /** Bytes charged for out-of-order data held: the bytes plus CHUNK_OVERHEAD per chunk. */
  get outOfOrderMemory(): number {
    return this.chunkBytes + this.chunks.length * CHUNK_OVERHEAD;
  }

  get capacity(): number {
    return this.ringObject?.capacity ?? this.limit;
  }

  /** Raises the capacity (buffer autotuning); a smaller value is ignored. */
  growCapacity(capacity: number): void {
    if (this.ringObject !== undefined) this.ringObject.growCapacity(capacity);
    else if (capacity > this.limit) this.limit = capacity;
  }

  /** In-order bytes the application has not read yet. */
  get readable(): number {
    return this.viewBytes + this.ringLength;
  }

  /** Room from RCV.NXT to the end of the buffer (capacity minus unread in-order bytes). */
  get spaceFromNext(): number {
    return (this.ringObject?.free ?? this.limit) - this.viewBytes;
  }

  /** Out-of-order ranges forgotten so far to make room for lower ones (RangeAssembler.add). */
  get prunedRanges(): number {
    return this.assembler === undefined ? 0 : this.assembler.pruned;
  }

  get hasOutOfOrder(): boolean {
    return this.assembler !== undefined && !this.assembler.isEmpty;
  }

  /** Offset (from RCV.NXT) just past the highest out-of-order byte held; 0 when none. */
  get outOfOrderEnd(): number {
    return this.assembler === undefined ? 0 : this.assembler.highestEnd;
  }

  outOfOrderRanges(): ReceivedRange[] {
    return this.assembler === undefined ? [] : this.assembler.ranges();
  }

  /** Number of separate out-of-order ranges held. */
  get outOfOrderRangeCount(): number {
    return this.assembler === undefined ? 0 : this.assembler.rangeCount;
  }

  /** The part of [offset, offset + length) already held out of order (a duplicate), if any. */
  heldWithin(offset: number, length: number): { start: number; end: number } | undefined {
    return this.assembler?.heldWithin(offset, offset + length);
  }

  /** The out-of-order ranges most recently grown first, as [start, end) offset pairs (see RangeAssembler). */
  recentOutOfOrderRanges(max: number, out: number[]): number {
    return this.assembler === undefined ? 0 : this.assembler.recentRanges(max, out);
  }

  /**
   * Places `data` at `offset` bytes past RCV.NXT (offset + data.length must be <= spaceFromNext).
   * Returns the number of bytes that became in-order, i.e. how far RCV.NXT advances (0 for a segment that
   * leaves a gap before it), or -1 when the segment was refused because the assembler is full.
   */
  insert(offset: number, data: Uint8Array): number {
    if (data.length === 0) return 0;
    if (offset === 0 && (this.assembler === undefined || this.assembler.isEmpty)) {
      // The common case: the next bytes in order, nothing held behind them.
      if (data.length >= KEEP_VIEW_MIN && this.ringLength === 0 && this.keepView(data)) return data.length;
      this.ring.writeAt(this.ring.length, data);
      this.ring.commit(data.length);
      return data.length;
    }
    const end = offset + data.length;
    const assembler = this.outOfOrderStore();
    const gaps = assembler.gaps(offset, end, this.gapPairs);
    const pruned = assembler.pruned;
    if (!assembler.add(offset, end)) return -1;
    // The assembler made room by forgetting its highest range: its bytes go too.
    if (assembler.pruned !== pruned) this.dropChunksFrom(assembler.highestEnd);
    for (let g = 0; g < gaps; g++) {
      const s = this.gapPairs[2 * g]!;
      this.storeChunk(s, data.subarray(s - offset, this.gapPairs[2 * g + 1]! - offset));
    }
    const inOrder = assembler.takeFront();
    if (inOrder > 0) this.moveToRing(inOrder);
    return inOrder;
  }

  /** Forgets out-of-order bytes at or past `offset` (a FIN fixed the end of the stream there). */
  truncateOutOfOrder(offset: number): void {
    if (this.assembler !== undefined) {
      this.assembler.truncate(offset);
      this.dropChunksFrom(offset);
    }
    this.releaseIfEmpty();
  }

  /** Keeps a copy of `bytes` (which no chunk holds) at `start`, merged with a small neighbour. */
  private storeChunk(start: number, bytes: Uint8Array): void {
    const starts = this.chunkStarts;
    const chunks = this.chunks;
    // Usually the piece lies past every chunk (the segments after a loss arrive in order).
    let i = starts.length;
    if (i > 0 && starts[i - 1]! > start) {
      i = 0;
      while (starts[i]! < start) i++;
    }
    this.chunkBytes += bytes.length;
    const before = i > 0 && starts[i - 1]! + chunks[i - 1]!.length === start ? i - 1 : -1;
    const after = i < starts.length && starts[i] === start + bytes.length ? i : -1;
    if (before >= 0 && chunks[before]!.length + bytes.length <= MERGE_LIMIT) {
      let merged = concat(chunks[before]!, bytes);
      if (after >= 0 && merged.length + chunks[after]!.length <= MERGE_LIMIT) {
        merged = concat(merged, chunks[after]!);
        starts.splice(after, 1);
        chunks.splice(after, 1);
      }
      chunks[before] = merged;
    } else if (after >= 0 && bytes.length + chunks[after]!.length <= MERGE_LIMIT) {
      chunks[after] = concat(bytes, chunks[after]!);
      starts[after] = start;
    } else {
      starts.splice(i, 0, start);
      chunks.splice(i, 0, bytes.slice());
    }
  }

  /** The gap before the chunks filled: the first `inOrder` bytes go to the ring, the rest are re-based. */
  private moveToRing(inOrder: number): void {
    const base = this.ring.length;
    let n = 0;
    while (n < this.chunkStarts.length && this.chunkStarts[n]! < inOrder) {
      const chunk = this.chunks[n]!;
      this.ring.writeAt(base + this.chunkStarts[n]!, chunk);
      this.chunkBytes -= chunk.length;
      n++;
    }
    this.chunkStarts.splice(0, n);
    this.chunks.splice(0, n);
    for (let i = 0; i < this.chunkStarts.length; i++) this.chunkStarts[i]! -= inOrder;
    this.ring.commit(inOrder);
  }

  /** Drops out-of-order bytes at or past `offset`. */
  private dropChunksFrom(offset: number): void {
    for (let i = this.chunkStarts.length - 1; i >= 0; i--) {
      const start = this.chunkStarts[i]!;
      const chunk = this.chunks[i]!;
      if (start >= offset) {
        this.chunkBytes -= chunk.length;
        this.chunkStarts.splice(i, 1);
        this.chunks.splice(i, 1);
      } else if (start + chunk.length > offset) {
        this.chunkBytes -= start + chunk.length - offset;
        this.chunks[i] = chunk.slice(0, offset - start);
      } else {
        break;
      }
    }
  }

  /** Removes and returns up to `max` in-order bytes as a new array (the application owns it). */
  read(max: number): Uint8Array {
    const out = new Uint8Array(Math.min(max, this.readable));
    this.readInto(out);
    return out;
  }

  /**
   * Copies up to `dst.length` in-order bytes into `dst`, removing them; returns the count. A kept view
   * copied out to its end goes back to the device it came from (see above).
   */
  readInto(dst: Uint8Array): number {
    let n = 0;
    while (this.viewBytes > 0 && n < dst.length) {
      const head = this.views[this.viewHead]!;
      if (head.length > dst.length - n) {
        // `dst` ends inside the oldest view: its first bytes are copied from it as it is (a view cut for
        // them was an object per read of a bulk receiver), and only the rest stays, as a view of its own.
        copyPrefix(dst, head, n, dst.length);
        this.dropFromHead(dst.length - n);
        n = dst.length;
        break;
      }
      const giveBack = !this.headShared;
      const view = this.takeView(dst.length - n);
      copyBytes(dst, view, n);
      n += view.length;
      if (giveBack) giveBackFrame(view);
    }
    const ring = this.ringObject;
    if (n < dst.length && ring !== undefined) n += ring.read(n === 0 ? dst : viewBytes(dst, n, dst.length));
    this.releaseIfEmpty();
    return n;
  }

  /**
   * Removes and returns the next in-order bytes, at most `max` (> 0): a kept view as it arrived, without a
   * copy, when one is next (the application then owns it, as the device's frame belonged to the stack),
   * otherwise a copy of what the ring holds, in storage from `allocate` (whose bytes need not be zeroed).
   * Unlike `read` it may return fewer bytes than are readable: a view ends where its segment ended.
   */
  readChunk(max: number, allocate: (length: number) => Uint8Array): Uint8Array {
    if (this.viewBytes > 0) {
      // The application may keep what it gets: the rest of this view stays where it is, never given back.
      this.headShared = true;
      const view = this.takeView(max);
      this.releaseIfEmpty();
      return view;
    }
    const out = allocate(Math.min(max, this.ringLength));
    this.ringObject?.read(out);
    this.releaseIfEmpty();
    return out;
  }

  /**
   * Keeps `data`, the next in-order bytes, as it is (the ring holds nothing), unless the buffer it would
   * pin takes the views' charge past the capacity; returns whether it was kept.
   */
  private keepView(data: Uint8Array): boolean {
    const views = this.views;
    const newest = this.viewBytes > 0 ? views[views.length - 1]! : undefined;
    const charge = newest !== undefined && newest.buffer === data.buffer ? 0 : data.buffer.byteLength;
    if (this.pinnedBytes + charge > this.capacity) {
      receiveBufferCounters.viewsCopiedOverPinLimit++;
      return false;
    }
    if (views === NO_CHUNKS) {
      const list = viewListPool.pop();
      if (list === undefined) this.views = [data];
      else {
        list[0] = data;
        this.views = list;
      }
      this.viewHead = 0;
    } else {
      views.push(data);
    }
    this.viewBytes += data.length;
    this.pinnedBytes += charge;
    receiveBufferCounters.viewsKept++;
    return true;
  }

  /** Drops the first `count` bytes of the oldest kept view, fewer than it holds. */
  private dropFromHead(count: number): void {
    const views = this.views;
    views[this.viewHead] = views[this.viewHead]!.subarray(count);
    this.viewBytes -= count;
  }

  /** Removes up to `max` bytes from the oldest kept view and returns them (a view, no copy). */
  private takeView(max: number): Uint8Array {
    const views = this.views;
    const view = views[this.viewHead]!;
    if (view.length > max) {
      const taken = view.subarray(0, max);
      this.dropFromHead(max);
      return taken;
    }
    views[this.viewHead] = NO_VIEW;
    this.viewBytes -= view.length;
    this.headShared = false;
    // The last view of its run: its buffer is no longer pinned by this connection.
    const next = this.viewHead + 1 < views.length ? views[this.viewHead + 1]! : undefined;
    if (next === undefined || next.buffer !== view.buffer) this.pinnedBytes -= view.buffer.byteLength;
    if (++this.viewHead === views.length) {
      // Emptied: one taken slot stays (see viewListPool).
      views.length = 1;
      this.viewHead = 1;
    } else if (this.viewHead >= VIEW_SLOTS_COMPACTED && 2 * this.viewHead >= views.length) {
      // A reader that always leaves a view behind never empties the list: the taken slots at its head
      // go, so the list stays within twice the views held (at most the window over KEEP_VIEW_MIN).
      views.copyWithin(0, this.viewHead);
      views.length -= this.viewHead;
      this.viewHead = 0;
    }
    return view;
  }

  /**
   * Everything received has been read and nothing waits out of order: the storage goes back until the
   * next segment (an idle connection holds no buffer memory).
   */
  private releaseIfEmpty(): void {
    if (this.ringLength === 0 && !this.hasOutOfOrder) this.ringObject?.releaseStorage();
    // An idle connection keeps no array for views either: an emptied one goes to the pool.
    if (this.viewBytes === 0 && this.views !== NO_CHUNKS) {
      const views = this.views;
      views.length = 1;
      views[0] = NO_VIEW;
      if (viewListPool.length < VIEW_LISTS_POOLED) viewListPool.push(views);
      else receiveBufferCounters.viewListsDiscarded++;
      this.views = NO_CHUNKS;
      this.viewHead = 0;
    }
  }

  /** Drops everything (ABORT, reset); kept views nobody else has seen go back to their devices. */
  clear(): void {
    this.ringObject?.consume(this.ringLength);
    for (let i = this.headShared ? this.viewHead + 1 : this.viewHead; i < this.views.length; i++) {
      giveBackFrame(this.views[i]!);
    }
    this.headShared = false;
    this.views = NO_CHUNKS;
    this.viewHead = 0;
    this.viewBytes = 0;
    this.pinnedBytes = 0;
    this.assembler?.clear();
    if (this.chunks !== NO_CHUNKS) {
      this.chunkStarts = [];
      this.chunks = [];
    }
    this.chunkBytes = 0;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
