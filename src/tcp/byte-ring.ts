/**
 * A bounded ring of bytes: the storage behind the send and receive buffers.
 *
 * The ring holds `length` committed bytes starting at its head. Bytes may also be written past the
 * committed end without committing them (`writeAt`), which is how out-of-order segments are placed at
 * their final position until the gap before them fills. Storage is allocated on the first write and
 * doubles as needed up to `capacity`, so a connection that never carries data (or carries little) costs
 * little memory.
 */

import { objectArray } from '../util/arrays.js';
import { bufferOf, byteOffsetOf, copyBytes, viewBytes } from '../util/bytes.js';

const NO_STORAGE = new Uint8Array(0);

/**
 * Storage that drained rings gave back, handed to the next ring that needs that size. A connection gives
 * its buffer back whenever everything written was acknowledged or everything received was read, which in a
 * bulk transfer whose reader keeps up is after every segment: without the pool each segment would cost a
 * fresh (zero-filled) allocation and the garbage collector the old one. The pool is shared by every ring
 * in the process and bounded by `maxBytes`: storage given back when the pool is full makes room by
 * leaving the oldest held storage no larger than itself to the collector, since what was drained last is
 * what is most likely to be asked for again (a bulk sender's ring drains and refills after every few
 * segments; when a full pool of other sizes turned it away instead, each refill was a fresh allocation
 * whose pages the kernel had to fault in and zero), while small storage is cheap to allocate and never
 * pushes out a large one (a 4 MiB send ring was evicted by the next 2 KiB one).
 *
 * Reused storage is not cleared: a ring only ever reads bytes it wrote itself (committed bytes, or bytes
 * placed ahead with `writeAt`), never what an earlier owner left behind.
 */
/**
 * Removes `list[index]` (nothing when `index` is -1) by moving the rest down. Unlike `splice` it allocates
 * no array of removed elements: a bulk receiver's ring drains and refills at every segment, taking its
 * storage from the pool each time.
 */
function removeAt<T>(list: T[], index: number): void {
  if (index < 0) return;
  for (let i = index + 1; i < list.length; i++) list[i - 1] = list[i]!;
  list.pop();
}

export class RingStoragePool {
  /** Free storage by exact length (lengths are the ring's power-of-two steps, or a ring's capacity). */
  private readonly free = new Map<number, Uint8Array[]>();
  /**
   * The sizes `free` has lists for, and those lists, in the order first seen: what `takeBetween` scans.
   * Iterating the map itself made an iterator and an entry array per size on every call while the
   * caller was not optimized (a bulk receiver's ring takes storage once per burst).
   */
  private readonly sizes: number[] = [];
  private readonly lists: Uint8Array[][] = [];
  /** Every held storage in the order it was given back (oldest first): the eviction order. */
  private readonly order: Uint8Array[] = [];
  private held = 0;
  /** The last view `view` cut from each storage. */
  private readonly views = new WeakMap<Uint8Array, Uint8Array>();
  /** The views `cut` made from each storage at starts other than 0, the last few. */
  private readonly cuts = new WeakMap<Uint8Array, RecentViews>();
  /** The segment views cut from each storage (see `segmentViews`). */
  private readonly segments = new WeakMap<Uint8Array, SegmentViews>();
  /** Storage handed out again instead of being allocated. */
  reused = 0;
  /** Storage the pool could not supply (allocated fresh). */
  allocated = 0;
  /** Storage left to the garbage collector: not kept (no room), or evicted to make room for newer. */
  discarded = 0;

  /**
   * `maxBytes`: most bytes held for reuse at once, and the largest storage held (default 4 MiB and
   * WRAP_ROOM: the storage of a 4 MiB ring, Linux's tcp_wmem maximum, with its room behind; Linux keeps no
   * such cache per socket).
   */
  constructor(readonly maxBytes = 4 * 1024 * 1024 + WRAP_ROOM) {}

  /** Bytes held for reuse now. */
  get heldBytes(): number {
    return this.held;
  }

  /** Storage of exactly `size` bytes, reused if one was given back, otherwise new (zero-filled). */
  take(size: number): Uint8Array {
    const list = this.free.get(size);
    if (list !== undefined && list.length > 0) {
      const storage = list.pop()!;
      removeAt(this.order, this.order.lastIndexOf(storage));
      this.held -= size;
      this.reused++;
      return storage;
    }
    this.allocated++;
    return new Uint8Array(size);
  }

  /**
   * The smallest held storage of `min` to `max` bytes, or new storage of `fresh` bytes (default `min`)
   * when none is held.
   */
  takeBetween(min: number, max: number, fresh = min): Uint8Array {
    let best = 0;
    for (let i = 0; i < this.sizes.length; i++) {
      const size = this.sizes[i]!;
      if (size >= min && size <= max && this.lists[i]!.length > 0 && (best === 0 || size < best)) best = size;
    }
    return this.take(best === 0 ? fresh : best);
  }

  /**
   * Takes `storage` back for reuse; when that would hold more than `maxBytes`, the oldest held storage no
   * larger than it goes first, and when that is not enough it is not kept.
   */
  give(storage: Uint8Array): void {
    const size = storage.length;
    if (size === 0) return;
    if (!this.makeRoom(size)) {
      this.discarded++;
      return;
    }
    let list = this.free.get(size);
    if (list === undefined) {
      list = [];
      this.free.set(size, list);
      this.sizes.push(size);
      this.lists.push(list);
    }
    list.push(storage);
    this.order.push(storage);
    this.held += size;
  }

  /**
   * The first `length` bytes of `storage` (taken from this pool), as the same view object each time the
   * same storage is cut to the same length. A receiver that reads everything as it arrives drains its
   * ring, gives the storage back and takes it again for every segment; a view cut afresh each time would
   * be an allocation per segment. Weakly held: a view never keeps evicted storage alive.
   */
  view(storage: Uint8Array, length: number): Uint8Array {
    const cached = this.views.get(storage);
    if (cached !== undefined && cached.length === length) return cached;
    const view = viewBytes(storage, 0, length);
    this.views.set(storage, view);
    return view;
  }

  /**
   * `storage.subarray(start, start + length)` for storage taken from this pool: the same view object as
   * one of the last RECENT_CUTS cut from it for that start and length (`view`'s for a start of 0). A
   * reader that drains its ring with a buffer of one size reads a full buffer from the start and then the
   * rest from where that one ended; in a steady transfer the rest has the same few lengths again and
   * again (what arrives between two reads is a whole number of segments), and a view cut afresh for it
   * was an allocation per read. Weakly held, as `view`'s.
   */
  cut(storage: Uint8Array, start: number, length: number): Uint8Array {
    if (start === 0) return this.view(storage, length);
    let recent = this.cuts.get(storage);
    if (recent === undefined) {
      recent = new RecentViews();
      this.cuts.set(storage, recent);
    }
    return recent.cut(storage, start, length);
  }

  /**
   * The views of `quantum`-byte steps of `storage` (taken from this pool), made on first use and kept with
   * the storage, as `view`'s are: a bulk sender's ring drains and takes its storage back many times over,
   * and the views it cut from it serve it again. Weakly held, so they never keep evicted storage alive.
   */
  segmentViews(storage: Uint8Array, quantum: number): SegmentViews {
    const cached = this.segments.get(storage);
    if (cached !== undefined && cached.quantum === quantum) return cached;
    const views = new SegmentViews(storage, quantum);
    this.segments.set(storage, views);
    return views;
  }

  /** Forgets every buffer held (they go to the garbage collector). */
  clear(): void {
    this.free.clear();
    this.sizes.length = 0;
    this.lists.length = 0;
    this.order.length = 0;
    this.held = 0;
  }

  /**
   * Evicts the oldest storage of at most `size` bytes until `size` more fit; false if they cannot (what
   * was evicted on the way stays evicted: this is a cache).
   */
  private makeRoom(size: number): boolean {
    if (size > this.maxBytes) return false;
    let i = 0;
    while (this.held + size > this.maxBytes) {
      const oldest = this.order[i];
      if (oldest === undefined) return false;
      if (oldest.length > size) {
        i++;
        continue;
      }
      removeAt(this.order, i);
      const list = this.free.get(oldest.length)!;
      removeAt(list, list.indexOf(oldest));
      this.held -= oldest.length;
      this.discarded++;
    }
    return true;
  }
}

/** Views `RingStoragePool.cut` keeps per storage (about 100 bytes of heap each). */
const RECENT_CUTS = 16;

/** The last RECENT_CUTS views cut from one storage, replaced oldest first (see `RingStoragePool.cut`). */
class RecentViews {
  private readonly views: Uint8Array[] = objectArray();
  private oldest = 0;

  cut(storage: Uint8Array, start: number, length: number): Uint8Array {
    const kept = this.find(storage, start, length);
    if (kept !== undefined) return kept;
    const views = this.views;
    const view = viewBytes(storage, start, start + length);
    if (views.length < RECENT_CUTS) {
      views.push(view);
    } else {
      views[this.oldest] = view;
      this.oldest = (this.oldest + 1) % RECENT_CUTS;
    }
    return view;
  }

  /** The kept view of `storage` at `start` of `length` bytes, or undefined (nothing is cut). */
  find(storage: Uint8Array, start: number, length: number): Uint8Array | undefined {
    const offset = byteOffsetOf(storage) + start;
    const views = this.views;
    for (let i = 0; i < views.length; i++) {
      const view = views[i]!;
      if (byteOffsetOf(view) === offset && view.length === length) return view;
    }
    return undefined;
  }
}

/**
 * Most views `SegmentViews` keeps per storage: a view costs about 100 bytes of heap, so a 4 MiB ring cut
 * into 1,448-byte segments keeps 2,897 (7% of the storage); segments smaller than 1 KiB in a ring of 4 MiB
 * are cut afresh past the first 4,096 positions.
 */
export const MAX_SEGMENT_VIEWS = 4096;
/** Views of segments longer than a step `SegmentViews` keeps per step (see there). */
const SUPER_SEGMENT_WAYS = 4;

/**
 * Process-wide: views `SegmentViews` cut (none kept for that start and length: the first lap, or a
 * segment cut short shifted the ones after it), and those cut because their start lay past the first
 * MAX_SEGMENT_VIEWS steps.
 */
export const segmentViewCounters = { cut: 0, cutPastLimit: 0 };

/**
 * Views of a storage at the positions a sender's segments start at, one per `quantum`-byte step, each the
 * view last cut there. A bulk sender's segments are all one MSS long and its ring a whole number of MSS
 * (see `ByteRing.quantum`), so they start at the same few positions lap after lap and each segment is
 * served the view the segment one lap earlier was: `subarray` would be an allocation per segment sent.
 * Any other start or length is cut afresh and replaces the view kept for that step (a segment cut short
 * shifts the ones after it; they are kept at their new positions from the next lap on).
 *
 * Segments longer than a step (TSO super-segments) are kept apart, the last SUPER_SEGMENT_WAYS at each
 * step: their lengths are what the acknowledgments let out, a few that take turns (a bulk transfer with
 * GSO and GRO sent 12, 33 and 45 MSS in turn, so each start came round with another length than the
 * lap before and its view was cut afresh).
 */
export class SegmentViews {
  private readonly starts: Int32Array;
  private readonly views: Uint8Array[];
  /**
   * Views longer than `quantum`, SUPER_SEGMENT_WAYS per step, their starts, and per step the next to
   * replace: made with the first such view.
   */
  private superStarts: Int32Array | undefined;
  private superViews: Uint8Array[] | undefined;
  private superNext: Uint8Array | undefined;

  constructor(
    private readonly storage: Uint8Array,
    readonly quantum: number,
  ) {
    const steps = Math.min(Math.ceil(storage.length / quantum), MAX_SEGMENT_VIEWS);
    this.starts = new Int32Array(steps).fill(-1);
    this.views = new Array<Uint8Array>(steps).fill(NO_STORAGE);
  }

  /** `storage.subarray(start, start + length)`, the same object as last time for the same start and length. */
  view(start: number, length: number): Uint8Array {
    const step = Math.floor(start / this.quantum);
    if (step >= this.views.length) {
      segmentViewCounters.cutPastLimit++;
      return viewBytes(this.storage, start, start + length);
    }
    if (length > this.quantum) return this.superSegmentView(step, start, length);
    const cached = this.views[step]!;
    if (this.starts[step] === start && cached.length === length) return cached;
    segmentViewCounters.cut++;
    const view = viewBytes(this.storage, start, start + length);
    this.views[step] = view;
    this.starts[step] = start;
    return view;
  }

  /** `view` for a segment longer than a step, from the ones kept at `step` if it is one of them. */
  private superSegmentView(step: number, start: number, length: number): Uint8Array {
    if (this.superViews === undefined) {
      const slots = this.views.length * SUPER_SEGMENT_WAYS;
      this.superStarts = new Int32Array(slots).fill(-1);
      this.superViews = new Array<Uint8Array>(slots).fill(NO_STORAGE);
      this.superNext = new Uint8Array(this.views.length);
    }
    const starts = this.superStarts!;
    const views = this.superViews;
    const first = step * SUPER_SEGMENT_WAYS;
    for (let at = first; at < first + SUPER_SEGMENT_WAYS; at++) {
      if (starts[at] === start && views[at]!.length === length) return views[at]!;
    }
    segmentViewCounters.cut++;
    const next = this.superNext!;
    const at = first + next[step]!;
    next[step] = (next[step]! + 1) % SUPER_SEGMENT_WAYS;
    const view = viewBytes(this.storage, start, start + length);
    views[at] = view;
    starts[at] = start;
    return view;
  }
}

/** The last prefixes `prefixOf` cut from each ArrayBuffer (weakly held: see there). */
const PREFIXES = new WeakMap<ArrayBufferLike, RecentViews>();

/**
 * `data.subarray(0, length)`, the same view object as one of the last RECENT_CUTS cut for the same bytes.
 * A bulk writer offers its chunk again whenever the send buffer has room, and the buffer fills with a piece
 * of it, of the few lengths the acknowledgments free. Keyed by the array's buffer, not the array: a writer
 * that offers a fresh view each time (the rest of its data as it shrinks) offers the same bytes from the
 * same start, and was cut a view afresh at every write. Weakly keyed: views are kept only while the
 * application keeps the buffer itself, and hold nothing more than it.
 */
function prefixOf(data: Uint8Array, length: number): Uint8Array {
  const buffer = bufferOf(data);
  let recent = PREFIXES.get(buffer);
  if (recent === undefined) {
    recent = new RecentViews();
    PREFIXES.set(buffer, recent);
  }
  return recent.cut(data, 0, length);
}

/** The prefix of `length` bytes `prefixOf` has kept for `data`'s bytes, or undefined (nothing is cut). */
function keptPrefix(data: Uint8Array, length: number): Uint8Array | undefined {
  return PREFIXES.get(bufferOf(data))?.find(data, 0, length);
}

/**
 * Lengths of the last RECENT_CUTS prefixes asked for and not kept (process-wide; 0: none yet): a length
 * missed a second time is cut and kept, one missed once is staged (see `ByteRing.appendPart`).
 */
const missedPrefixLengths = new Int32Array(RECENT_CUTS);
let nextMissedPrefix = 0;

/** Whether a prefix of `length` bytes was missed lately; records it as missed now if not. */
function missedBefore(length: number): boolean {
  for (let i = 0; i < RECENT_CUTS; i++) if (missedPrefixLengths[i] === length) return true;
  missedPrefixLengths[nextMissedPrefix] = length;
  nextMissedPrefix = (nextMissedPrefix + 1) % RECENT_CUTS;
  return false;
}

/** Growth to at least this many bytes may take larger storage from the pool (see `ByteRing.reserve`). */
const LARGE_GROWTH = 65_536;

/**
 * Bytes a ring of LARGE_GROWTH or more keeps in its backing past its end, where the storage allows (see
 * `ByteRing.storageFor`): a write that wraps around the end is copied whole into the backing and the part
 * past the end moved to the start (`writeAt`), so one whose wrapped part is no longer than this cuts no
 * view of the writer's bytes. An application's writes of up to 64 KiB (a file or socket read's usual
 * size) and any segment, a super-segment included, never wrap further. With less behind a bulk sender's
 * ring (59,648 bytes in a 1.25 MB ring; 896 at the 4 MiB cap) a write that filled it to the brim cut two
 * views about once a lap.
 */
export const WRAP_ROOM = 65_536;

/** The pool every ring uses unless given another. */
export const ringStoragePool = new RingStoragePool();

export class ByteRing {
  private limit: number;
  /**
   * The allocation the ring's bytes lie at the start of: its first `size` bytes. A bulk ring's is reserved
   * larger than it uses (see `reserve`), so it can grow in place: a fresh allocation costs address space
   * only until its pages are first written, and growing in place copies at most the bytes that wrapped
   * around the old end.
   */
  private backing: Uint8Array = NO_STORAGE;
  /**
   * The ring's length in bytes (where positions wrap), at most `backing.length`. A number rather than a
   * view of the backing's first bytes: each growth in place cut a new view, a bulk sender's last object
   * made while its flight still grew.
   */
  private size = 0;
  private head = 0;
  private committed = 0;
  private readonly initialAllocation: number;
  /** Storage size given back at the last drain: where a large refill starts (see `reserve`). */
  private drainedSize = 0;
  /** Where `peek` puts bytes that wrap around the end of the storage. */
  private scratch: Uint8Array = NO_STORAGE;
  /** See `quantum`; 0 when not set. */
  private step = 0;
  /** The segment views of `backing` for `step`, fetched from the pool at the first `peek` after either changed. */
  private segmentViews: SegmentViews | undefined;

  constructor(
    capacity: number,
    initialAllocation = 2048,
    private readonly pool: RingStoragePool = ringStoragePool,
  ) {
    this.limit = capacity;
    this.initialAllocation = initialAllocation;
  }

  /** Most bytes the ring may hold. */
  get capacity(): number {
    return this.limit;
  }

  /**
   * Raises the capacity (buffer autotuning); never lowers it, so bytes already placed stay valid. Storage
   * is still taken only as bytes arrive.
   */
  growCapacity(capacity: number): void {
    if (capacity > this.limit) this.limit = capacity;
  }

  /**
   * The length the ring's reader takes bytes in (a sender's effective MSS), or 0 for none. While set, the
   * ring sizes its storage to a whole number of quanta when the allocation holds it, so that equal pieces
   * taken one after the other from the head start at the same positions lap after lap and `peek` can hand
   * out the views it cut for them before (see SegmentViews). Any value is correct for any contents: it
   * steers only the sizes chosen at the next growth or refill.
   */
  get quantum(): number {
    return this.step;
  }

  set quantum(quantum: number) {
    const step = quantum > 0 ? Math.floor(quantum) : 0;
    if (step === this.step) return;
    this.step = step;
    this.segmentViews = undefined;
  }

  /** Bytes of storage allocated now (0 for an idle ring). */
  get allocated(): number {
    return this.size + this.scratch.length;
  }

  /** Committed bytes. */
  get length(): number {
    return this.committed;
  }

  /** Room left for committed bytes. */
  get free(): number {
    return Math.max(0, this.usable - this.committed);
  }

  /**
   * The capacity; but with a quantum set, when whole quanta up to the capacity would not fit in the
   * largest storage the pool keeps with WRAP_ROOM behind them, the whole quanta below that. A send ring
   * autotuned to the 4 MiB cap (Linux's tcp_wmem maximum; the default pool's largest storage holds it and
   * its room) then holds up to one segment less, its storage is a whole number of segments (see
   * `quantum`), and writes that wrap around its end are copied whole (see `writeAt`): at 4 MiB exactly
   * each lap of a ring that never drains (a sender held back by its buffer) shifted every segment's
   * start, and each was cut a view afresh.
   */
  private get usable(): number {
    const limit = this.limit;
    const step = this.step;
    const max = this.pool.maxBytes;
    if (step === 0 || limit > max) return limit;
    // The largest ring that storage of `max` bytes holds with its room behind (see WRAP_ROOM).
    const largest = max >= LARGE_GROWTH + WRAP_ROOM ? max - WRAP_ROOM : max;
    const whole = largest - (largest % step);
    return limit > whole && whole > 0 ? whole : limit;
  }

  /**
   * Storage for a ring of `size` bytes: WRAP_ROOM more for a large one, as far as the pool's largest
   * storage allows when the ring fits in it (a ring of the pool's largest size, unless cut into quanta,
   * keeps no room: storage larger than that would never be pooled, and each refill would allocate).
   */
  private storageFor(size: number): number {
    if (size < LARGE_GROWTH) return size;
    const max = this.pool.maxBytes;
    return size > max ? size + WRAP_ROOM : Math.min(size + WRAP_ROOM, max);
  }

  /** The largest ring `length` bytes of storage hold while keeping what `storageFor(size)` adds to `size`. */
  private roomIn(length: number, size: number): number {
    return length - (this.storageFor(size) - size);
  }

  /** Copies as much of `data` as fits after the committed bytes and commits it; returns the count. */
  append(data: Uint8Array): number {
    const n = Math.min(data.length, this.free);
    if (n === 0) return 0;
    if (n === data.length) this.writeAt(this.committed, data);
    else this.appendPart(data, n);
    this.committed += n;
    return n;
  }

  /**
   * Writes the first `n` bytes of `data` (not all of it) after the committed bytes, without committing
   * them. A prefix kept for the same bytes and length (see `prefixOf`) is used as it is. A length not kept
   * and not missed lately is staged instead, where the room past the ring's end (WRAP_ROOM) holds the
   * whole of `data`: copied there and its first `n` bytes moved into place, no view cut. Those lengths are
   * mostly one-offs (a writer filling a ring that had drained a while; the zero-delay bench row's one
   * object in its window), and a view cut for each was an object kept for nothing; a length missed twice
   * recurs, and is cut and kept. The staging copies `data` once more, at most 64 KiB.
   */
  private appendPart(data: Uint8Array, n: number): void {
    const kept = keptPrefix(data, n);
    if (kept !== undefined) {
      this.writeAt(this.committed, kept);
      return;
    }
    const offset = this.committed;
    this.reserve(offset + n);
    const size = this.size;
    const backing = this.backing;
    if (backing.length - size < data.length || missedBefore(n)) {
      this.writeAt(offset, prefixOf(data, n));
      return;
    }
    copyBytes(backing, data, size);
    let start = this.head + offset;
    if (start >= size) start -= size;
    const firstPart = Math.min(n, size - start);
    backing.copyWithin(start, size, size + firstPart);
    if (firstPart < n) backing.copyWithin(0, size + firstPart, size + n);
  }

  /**
   * Writes `data` at `offset` bytes from the head without committing it. The caller guarantees
   * offset + data.length <= capacity.
   */
  writeAt(offset: number, data: Uint8Array): void {
    const end = offset + data.length;
    if (end > this.capacity) throw new RangeError('ByteRing.writeAt past capacity');
    // Every segment received in order is written here. `reserve` is too large for V8 to inline, so each
    // paid a call that found the room already there (on an in-process bulk transfer, 1.6 per segment ran
    // in unoptimized code): it is called to grow only.
    if (end > this.size) this.reserve(end);
    const size = this.size;
    let start = this.head + offset;
    if (start >= size) start -= size;
    const until = start + data.length;
    if (until <= size) {
      copyBytes(this.backing, data, start);
      return;
    }
    // The bytes wrap around the end of the storage. Where its backing goes on past that end far enough (a
    // large ring keeps WRAP_ROOM there), they are copied whole and the part past the end is moved to the
    // start within the one buffer: two views of `data`, cut for the parts, would be an application
    // write's only objects, once per lap of the ring.
    const backing = this.backing;
    if (until <= backing.length) {
      copyBytes(backing, data, start);
      backing.copyWithin(0, size, until);
      return;
    }
    const firstPart = size - start;
    copyBytes(backing, viewBytes(data, 0, firstPart), start);
    copyBytes(backing, viewBytes(data, firstPart, data.length), 0);
  }

  /** Commits `n` bytes previously placed with `writeAt` right after the committed end. */
  commit(n: number): void {
    if (n < 0 || this.committed + n > this.capacity) throw new RangeError('ByteRing.commit out of range');
    this.committed += n;
  }

  /**
   * `length` committed bytes starting `offset` bytes from the head: a view into the ring when they are
   * contiguous, otherwise a copy in a scratch buffer the ring keeps for this. Either way it is valid only
   * until the ring is next written or peeked: use it at once (a segment is emitted from it).
   */
  peek(offset: number, length: number): Uint8Array {
    if (offset < 0 || length < 0 || offset + length > this.committed)
      throw new RangeError('ByteRing.peek out of range');
    const size = this.size;
    let start = this.head + offset;
    if (start >= size) start -= size;
    if (start + length <= size) {
      if (this.step === 0) return viewBytes(this.backing, start, start + length);
      this.segmentViews ??= this.pool.segmentViews(this.backing, this.step);
      return this.segmentViews.view(start, length);
    }
    if (this.scratch.length < length) {
      this.pool.give(this.scratch);
      this.scratch = this.pool.take(Math.max(length, 2048));
    }
    const copy = this.scratch.subarray(0, length);
    const firstPart = size - start;
    copy.set(this.backing.subarray(start, size), 0);
    copy.set(this.backing.subarray(0, length - firstPart), firstPart);
    return copy;
  }

  /** Copies up to `dst.length` bytes from the head into `dst` and drops them; returns the count. */
  read(dst: Uint8Array): number {
    const n = Math.min(dst.length, this.committed);
    if (n === 0) return 0;
    const backing = this.backing;
    const head = this.head;
    const firstPart = Math.min(n, this.size - head);
    // Views are cut through the pool, which hands out the same view object again for the same start and
    // length: a reader that drains its ring at every read (a bulk receiver keeping up) reads it from the
    // start, most times as many bytes as its buffer holds, and the rest from where that read ended.
    copyBytes(dst, this.pool.cut(backing, head, firstPart), 0);
    if (firstPart < n) copyBytes(dst, this.pool.view(backing, n - firstPart), firstPart);
    this.consume(n);
    return n;
  }

  /** Drops `n` committed bytes from the head. */
  consume(n: number): void {
    if (n < 0 || n > this.committed) throw new RangeError('ByteRing.consume out of range');
    this.committed -= n;
    this.head += n;
    if (this.head >= this.size) this.head -= this.size;
  }

  /**
   * Gives the storage back (to the pool) when no byte is held (committed or written ahead): an idle ring
   * costs nothing. The next write takes storage again.
   */
  releaseStorage(): void {
    if (this.committed !== 0) return;
    if (this.size > 0) this.drainedSize = this.size;
    // The scratch first: in a full pool the storage, which the next refill asks for, then evicts it, not
    // the other way round.
    this.pool.give(this.scratch);
    this.pool.give(this.backing);
    this.backing = NO_STORAGE;
    this.size = 0;
    this.scratch = NO_STORAGE;
    this.segmentViews = undefined;
    this.head = 0;
  }

  /**
   * `size` rounded up to a whole number of quanta if `room` bytes hold that, otherwise `size` (see
   * `quantum`).
   */
  private fitted(size: number, room: number): number {
    const step = this.step;
    if (step === 0) return size;
    const rounded = Math.ceil(size / step) * step;
    return rounded <= room ? rounded : size;
  }

  /** Makes sure positions head .. head+n-1 exist, growing the storage if needed. */
  private reserve(n: number): void {
    const size = this.size;
    if (n <= size) return;
    const drained = this.drainedSize;
    if (size === 0 && n > this.initialAllocation && drained > n) {
      // A bulk sender's ring drains whenever the acknowledgments catch up (after most reads from a fast
      // source) and is refilled at once by writes of many KiB. Regrowing from `initialAllocation` by
      // doubling copied what it held at each step: as many bytes again as were sent, through a gateway
      // relaying 64 KiB reads. A large first write takes the size the ring had when it drained instead
      // (from the pool when it holds one); a small one starts small as before.
      const least = Math.max(n, Math.min(drained, this.usable));
      const storage = this.storageFor(least);
      this.backing = this.pool.takeBetween(storage, Math.max(storage, drained, this.pool.maxBytes));
      const wanted = this.fitted(least, this.roomIn(this.backing.length, least));
      this.size = wanted;
      this.segmentViews = undefined;
      this.head = 0;
      return;
    }
    let newSize = Math.max(size * 2, this.initialAllocation);
    // A ring refilled in small pieces after it drained (a bulk receiver whose reader empties it once per
    // burst, segment by segment) started small as above, and regrowing by doubling to the size it had
    // copied about as many bytes again as the burst brought. It goes back to that size at its first
    // growth instead: a ring that drained large is carrying bulk data.
    if (size > 0 && drained > newSize) newSize = drained;
    while (newSize < n) newSize *= 2;
    newSize = Math.max(n, Math.min(newSize, this.usable));
    const storage = this.storageFor(newSize);
    if (storage <= this.backing.length) {
      this.growInPlace(this.fitted(newSize, this.roomIn(this.backing.length, newSize)));
      return;
    }
    // A ring growing past 64 KiB is carrying bulk data: it takes the smallest pooled storage of at least
    // the next step (up to the pool's largest, 4 MiB: Linux's tcp_wmem maximum), else a fresh one four
    // steps ahead, and grows in place within it from then on. Regrowing through 64 KiB, 128 KiB ... 1 MiB
    // and then each autotuned capacity (1.3, 2.0, 2.6, 3.2, 4.0 MB) allocated, faulted in and copied 19 MB
    // per bulk connection relayed by a gateway: page faults alone were a sixth of its time on a 100 MiB
    // download. Fresh storage costs address space only until its pages are first written.
    let grown: Uint8Array;
    if (newSize >= LARGE_GROWTH) {
      const ahead = Math.max(storage, Math.min(newSize * 4, this.pool.maxBytes));
      grown = this.pool.takeBetween(storage, Math.max(storage, this.pool.maxBytes), ahead);
    } else {
      grown = this.pool.take(newSize);
    }
    // Keep every byte (committed or merely written) at the same distance from the head.
    if (size > 0) {
      if (this.head === 0) {
        // The usual case (a ring refilled after it drained starts at 0): the storage is copied whole,
        // without the two views of the parts that a wrapped ring needs.
        grown.set(size === this.backing.length ? this.backing : this.pool.view(this.backing, size), 0);
      } else {
        grown.set(this.backing.subarray(this.head, size), 0);
        grown.set(this.backing.subarray(0, this.head), size - this.head);
      }
      this.pool.give(this.backing);
    }
    this.backing = grown;
    const fitted = this.fitted(newSize, this.roomIn(grown.length, newSize));
    this.size = fitted;
    this.segmentViews = undefined;
    this.head = 0;
  }

  /**
   * Extends the ring to `newSize` bytes within its backing, every byte keeping its distance from the head:
   * the part before the old end stays and the part that had wrapped to the start follows it, or the part
   * from the head moves to the new end and the wrapped part stays, whichever moves fewer bytes.
   */
  private growInPlace(newSize: number): void {
    const size = this.size;
    const head = this.head;
    const backing = this.backing;
    this.size = newSize;
    if (head === 0) return;
    const tail = size - head;
    if (tail <= head) {
      backing.copyWithin(newSize - tail, head, size);
      this.head = newSize - tail;
      return;
    }
    // [0, head) goes to [size, size + head), wrapping at the new end.
    const fits = Math.min(head, newSize - size);
    backing.copyWithin(size, 0, fits);
    if (fits < head) backing.copyWithin(0, fits, head);
  }
}
