/**
 * Buffers for outgoing frames, carved from shared slabs.
 *
 * Every datagram the stack sends needs a fresh frame. A `new Uint8Array(n)` of more than a few dozen bytes
 * gets a backing store of its own outside the JS heap, and creating and later collecting that store costs
 * far more than filling the frame: on a bulk transfer at MTU 1500 it was a fifth of all CPU time. Linux
 * draws small buffers from page fragments for the same reason (page_frag); Node's `Buffer.allocUnsafe`
 * from an 8 KiB pool.
 *
 * Frames here are regions of zero-filled slabs, handed out once and not reused unless given back: a frame is
 * zero-filled like a new array, and whoever keeps a frame (a link's delay queue, ARP's pending queue, a
 * capture, a receiver's view of the payload) keeps a valid one. A slab is collected once none of its
 * frames is referenced any more, so the price is that one long-kept frame pins its slab; code that keeps
 * small views for long copies them (IP reassembly does, when a view uses under half its buffer).
 *
 * A device that is done with a frame the moment `send` returns (a TAP device: the kernel copied it), or a
 * link whose receiver says nothing holds a frame it delivered any more (a memory link, see
 * NetworkDevice.setReceiver), gives it back with `recycleFrame`. Once every frame carved from a slab was
 * given back, the slab is carved again from its start instead of being left to the collector. At tens of
 * thousands of 64 KiB TSO packets a second, fresh slabs cost the kernel a page fault and a zeroed page
 * per 4 KiB written, and the collector a full mark for the external memory: a third of a gateway's time
 * relaying a download at MTU 65520; on an in-process bulk transfer at MTU 1500 copying a segment into a
 * frame of a fresh slab took several times as long as into one carved before. Only a slab whose every
 * frame came back is reused, so a frame kept elsewhere (one waiting for ARP, one dropped before its
 * device, a datagram a UDP socket queued) keeps its slab as before; frames from a reused slab are zeroed
 * when carved, as new ones are.
 *
 * MTU-sized frames are carved from the checksum module's memory where WebAssembly runs here (frameMemory in
 * wire/checksum-simd.ts): the sender's checksum over the segment it just wrote into its frame, and the
 * receiver's over the frame it got, then read the bytes where they lie instead of copying each frame into
 * that memory first (two copies of every segment of a bulk transfer). That memory never grows, so it holds
 * a fixed number of slabs (FRAME_MEMORY_BYTES / RESIDENT_SLAB_BYTES). The collector cannot tell when a
 * region of it is unused (every view there shares one ArrayBuffer), so a slab there that waited too long
 * (see below) is not forgotten: it stays bookkept by its place, its frames are still counted as they come
 * back, and once every one is back (the same rule that lets a waiting slab be carved again) its region is
 * reclaimed and carved before any ordinary slab. While no region is free, slabs of MTU-sized frames are
 * ordinary buffers, whose frames are copied to be summed (counted: framesOutsideChecksumMemory). A frame
 * never given back (kept by whoever got it) keeps its region out for good, as it keeps an ordinary slab
 * from the collector. Slabs there all share one ArrayBuffer: a frame's slab is told by its byteOffset.
 *
 * Frames come back in any order, and a frame given back twice counts once. Frames still on their way
 * when their slab is full (a link's queue, a burst in flight) may come back after it: a full slab with
 * frames out waits for them, up to `WAITING_BYTES` of slabs per kind (the oldest is left to the collector
 * when another would be one too many), and the next slab is one of those whose frames are all back, if
 * any. A slab is bookkept as the starts of its frames in carving order (ascending), with a mark for each
 * frame given back.
 *
 * A frame may also come back late, after its receiver kept a view of it for a while (FRAME_HELD in
 * seams.ts: TCP keeps a large segment as the view it arrived in until the application's read copies it
 * out). A memory link that delivered the frame untouched by any tap lends it (`frameDelivered`): the frame
 * is marked lent, and the receiver's giveBackFrame for a view into it (every slab's buffer is lent memory,
 * see lendFrameMemory) marks it given back; a give-back for a frame not lent, or a second one, counts for
 * nothing. Without this, every 64 KiB super-segment a receiver kept pinned its 1 MiB slab until the
 * collector found the view dead: a bulk transfer with offload allocated (and zeroed) a fresh slab every 15
 * segments, and the external memory started full collections.
 */
import { lendFrameMemory } from '../seams.js';
import { bufferOf, byteOffsetOf, fillBytes, viewBytes } from '../util/bytes.js';
import {
  FRAME_MEMORY_BYTES,
  frameMemory,
  frameMemoryView,
  STAGED_FRAME_BYTES,
  setFrameLocator,
} from '../wire/checksum-simd.js';

/** A slab being carved, or full and waiting for its frames: frames are handed out from `offset` on. */
interface Slab {
  readonly bytes: number;
  buffer: Uint8Array;
  /** Where `buffer` starts in its ArrayBuffer (`arrayBuffer`): 0 but for slabs in the checksum memory. */
  base: number;
  arrayBuffer: ArrayBufferLike;
  offset: number;
  /**
   * Where each frame carved from `buffer` starts (its byteOffset), in carving order (ascending): the first
   * `carved` entries. The array keeps its length when the slab is carved again (entries past `carved` are
   * left over from an earlier round): emptied, V8 would give its storage back and regrow it through five
   * sizes (152 B to 1.8 KB) as the slab fills again, every round.
   */
  starts: number[];
  /** Frames carved from `buffer` this round. */
  carved: number;
  /**
   * The frame (view) carved at each index, this round or an earlier one of the same buffer: carved again
   * at the same place and length, a slab hands out the same view (every frame of the earlier round was
   * given back), so frames of a steady stream of one size allocate nothing.
   */
  frames: Uint8Array[];
  /**
   * A view of part of the frame at each index (see `frameView`), kept for the frame carved there the next
   * round: placeholders (NO_VIEW) where none was asked for.
   */
  views: Uint8Array[];
  /**
   * Where the view at each index in `views` starts in `buffer` (-1 for a placeholder), so that `frameView`
   * tells a view of the same bytes without reading its byteOffset (a call into the runtime per segment).
   */
  viewStarts: number[];
  /**
   * 1 at the index of each frame (in `starts`) that was given back, 0 for frames still out, LENT for frames
   * still out that their receiver gives back late (see `frameDelivered`).
   */
  back: Uint8Array;
  /** How many frames were given back (marks set in `back`). */
  recycled: number;
  /** `buffer` was carved before: frames from it are zeroed when carved. */
  reused: boolean;
  /**
   * A slab in the checksum memory that left the waiting list with frames out: reclaimed (carved again)
   * once they are all back (see `reclaimIfBack`).
   */
  dropped: boolean;
}

/** Full slabs whose frames are not all back yet, oldest first, and the slab being carved. */
interface SlabKind {
  readonly bytes: number;
  current: Slab;
  /**
   * The waiting slabs in its first `waitingCount` entries, NO_SLAB in the rest. The array keeps its
   * length (`waitingLimit`): in a bulk transfer whose frames are all back by the time their slab is
   * full, one slab leaves the list as the next goes in, and a list that emptied and filled again at
   * every slab had V8 give its storage back and allocate it afresh each time.
   */
  readonly waiting: Slab[];
  waitingCount: number;
  /** Most slabs `waiting` holds (WAITING_BYTES of them, at least WAITING_SLABS_MIN). */
  readonly waitingLimit: number;
}

/** What an empty slab's `arrayBuffer` is. */
const NO_BUFFER = new ArrayBuffer(0);

/** What `Slab.views` holds at an index no view was asked for. */
const NO_VIEW = new Uint8Array(0);

/** The mark (in `Slab.back`) of a frame out whose receiver gives it back late (see `frameDelivered`). */
const LENT = 2;

function emptySlab(bytes: number): Slab {
  return {
    bytes,
    buffer: new Uint8Array(0),
    base: 0,
    arrayBuffer: NO_BUFFER,
    offset: 0,
    starts: [],
    carved: 0,
    frames: [],
    views: [],
    viewStarts: [],
    back: new Uint8Array(64),
    recycled: 0,
    reused: false,
    dropped: false,
  };
}

/** What `SlabKind.waiting` holds past its waiting slabs. */
const NO_SLAB = emptySlab(0);

function slabKind(bytes: number): SlabKind {
  const waitingLimit = Math.max(WAITING_SLABS_MIN, Math.floor(WAITING_BYTES / bytes));
  return {
    bytes,
    current: emptySlab(bytes),
    waiting: new Array<Slab>(waitingLimit).fill(NO_SLAB),
    waitingCount: 0,
    waitingLimit,
  };
}

/** Takes the waiting slab at `index` out of the list, moving the later ones down. */
function removeWaiting(kind: SlabKind, index: number): void {
  const waiting = kind.waiting;
  const count = kind.waitingCount;
  for (let j = index + 1; j < count; j++) waiting[j - 1] = waiting[j]!;
  waiting[count - 1] = NO_SLAB;
  kind.waitingCount = count - 1;
}

/**
 * Memory of the full slabs, per kind, that wait for frames still out. Frames on their way pin their slab
 * whether it waits here or not; what a waiting slab costs beyond that is only when its frames never come
 * back (kept elsewhere, or not given back), as it is then kept from the collector until more slabs wait.
 * Enough for a path's bandwidth-delay product of frames in flight: a simulated 1 Gbit/s path of 20 ms
 * (2.5 MB on the way, in ten small slabs) with four slabs had every slab dropped before its frames
 * arrived, so frames were carved from fresh slabs and every view of them was cut afresh (1.5 allocations
 * per segment). 4 MiB covers 1 Gbit/s for 32 ms.
 */
const WAITING_BYTES = 4 * 1024 * 1024;
/** Fewest slabs waiting per kind, for the kind of the largest slabs (a burst of super-segments). */
const WAITING_SLABS_MIN = 4;

/**
 * What the allocator did, process-wide (it is one for the process): slabs allocated fresh, slabs carved
 * again, and full slabs left to the collector with frames still out because as many as their kind keeps
 * were waiting (see WAITING_BYTES).
 */
export const frameAllocatorCounters = {
  slabsAllocated: 0,
  slabsReused: 0,
  waitingSlabsDropped: 0,
  /** Regions of the checksum memory carved as slabs of MTU-sized frames the first time: at most sixteen. */
  slabsInChecksumMemory: 0,
  /**
   * Slabs of the checksum memory that left the waiting list with frames out and were reclaimed once every
   * frame came back, their region free to be carved again.
   */
  checksumSlabsReclaimed: 0,
  /**
   * MTU-sized frames carved from ordinary slabs because no region of the checksum memory was free (or
   * there is none): each is copied into that memory to be summed.
   */
  framesOutsideChecksumMemory: 0,
  /**
   * Super-segments `allocateStagedFrame` carved outside the checksum memory's staged region: the region
   * was full of staged frames still out (STAGED_FRAME_BYTES), the frame was larger than it, or there is
   * no checksum memory. Such a frame is an ordinary one, which its device cuts the general way (a copy
   * per piece, see software-gso.ts): nothing is lost, only the in-place cut.
   */
  stagedFramesOutsideRegion: 0,
  /** Frames a link lent to a receiver that holds them for now (see `frameDelivered`). */
  framesLent: 0,
  /** Of those, the ones given back (giveBackFrame), once each: they count as given back for reuse. */
  lentFramesGivenBack: 0,
};

/**
 * Slabs for frames of headers alone (pure ACKs, ARP, ICMP echoes of a few bytes): apart from the frames
 * that carry data, so that in a bulk transfer the data frames of a slab start at the same places round
 * after round, and their views are handed out again (see Slab.frames) rather than shifted by the ACKs
 * carved between them.
 */
const tiny = slabKind(64 * 1024);
/** Bytes of a slab of MTU-sized frames: the checksum memory holds FRAME_MEMORY_BYTES / this many. */
const RESIDENT_SLAB_BYTES = 256 * 1024;
/**
 * Slabs for MTU-sized frames, carved in the checksum memory while it has slabs left (see the top of this
 * file), ordinary buffers after that.
 */
const resident = slabKind(RESIDENT_SLAB_BYTES);
/** Slabs for ordinary frames larger than that (up to an MTU of 65535 with headroom, four at least per slab). */
const small = slabKind(256 * 1024);
/**
 * Slabs for segmentation-offload packets (up to 64 KiB each, written to a TAP device and dropped at once):
 * with a buffer of their own per packet, allocating them was 2-3% of a gateway's time relaying a download,
 * besides collecting them. Apart from the small frames' slabs, so a long-kept small frame never pins a
 * large slab. A slab holds at least eight.
 */
const large = slabKind(1024 * 1024);

/**
 * Slabs for TCP super-segments that their device cuts into wire-size frames in software and gives back
 * before `send` returns (see `allocateStagedFrame`): the first in the checksum memory's staged region
 * (STAGED_FRAME_BYTES after the frame memory's slabs), carved again at the same place each time.
 */
const staged = slabKind(STAGED_FRAME_BYTES);

/** Frames (with headroom) up to this size come from the tiny slabs. */
const LARGEST_TINY_FRAME = 256;
/**
 * Frames (with headroom) up to this size come from the resident slabs (jumbo frames of 9000 bytes too). A
 * TCP segment in one carries under 16 KiB, which a receiver copies out rather than keeping a view into
 * the frame (KEEP_VIEW_MIN in tcp/receive-buffer.ts): a kept view is charged the size of the whole
 * buffer behind it, here the whole checksum memory.
 */
const LARGEST_RESIDENT_FRAME = 16 * 1024;
/** Frames (with headroom) larger than this come from the large slabs. */
const LARGEST_SMALL_FRAME = small.bytes / 4;
/** Frames (with headroom) larger than this get a buffer of their own. */
const LARGEST_LARGE_FRAME = large.bytes / 8;

/**
 * A zero-filled frame of `length` bytes with `headroom` free bytes before it in the same buffer (for a
 * device that writes a header of its own in front, see DeviceOffload.headroom). Frames start on 8-byte
 * boundaries, as a buffer of their own would. `cleared` (default: all): how many bytes from the start
 * must read as zero; a caller that writes every byte after them itself (a transport payload) saves
 * clearing 64 KiB that it overwrites at once when the frame comes from a reused slab.
 */
export function allocateFrame(length: number, headroom = 0, cleared = length): Uint8Array {
  const needed = headroom + length;
  if (needed <= LARGEST_TINY_FRAME) return carve(tiny, length, headroom, cleared);
  if (needed <= LARGEST_RESIDENT_FRAME) return carve(resident, length, headroom, cleared);
  if (needed <= LARGEST_SMALL_FRAME) return carve(small, length, headroom, cleared);
  if (needed <= LARGEST_LARGE_FRAME) return carve(large, length, headroom, cleared);
  carvedStart[0] = -1;
  return new Uint8Array(needed).subarray(headroom);
}

/**
 * A frame as `allocateFrame` makes it, for a TCP super-segment sent to a device that cuts it into
 * wire-size frames in software and gives it back (`recycleFrame`) before its `send` returns
 * (DeviceOffload.softwareSegmentation: a memory link's GSO). Carved in the checksum memory's staged
 * region, at the same place each time the one before came back, so that the device copies each piece's
 * bytes from it into a frame of that memory by their places there, with no view of its own (see
 * `stagedPlace`, SimdSummer.copyAndSum). Where it cannot be there (no checksum memory here, a frame larger
 * than the region, the region full of staged frames still out), an ordinary frame, counted in
 * `stagedFramesOutsideRegion`.
 */
export function allocateStagedFrame(length: number, headroom = 0, cleared = length): Uint8Array {
  if (frameMemory === undefined || headroom + length + 8 > STAGED_FRAME_BYTES) {
    frameAllocatorCounters.stagedFramesOutsideRegion++;
    return allocateFrame(length, headroom, cleared);
  }
  const frame = carve(staged, length, headroom, cleared);
  if (staged.current !== stagedRegion) frameAllocatorCounters.stagedFramesOutsideRegion++;
  return frame;
}

/**
 * Where `frame` starts in the checksum memory if it is the frame `allocateStagedFrame` carved last, there,
 * and not given back yet; -1 otherwise.
 */
export function stagedPlace(frame: Uint8Array): number {
  const slab = staged.current;
  const index = slab.carved - 1;
  if (index < 0 || slab.frames[index] !== frame || slab.back[index] !== 0) return -1;
  return slab.arrayBuffer === frameMemoryBuffer ? slab.base + slab.starts[index]! : -1;
}

/**
 * Where the frame `allocateFrame` returned last starts in the checksum memory, or -1 when it is not there.
 * An Int32Array's element, not a variable: stored and read as a raw integer, never boxed, and no
 * reference stored per frame.
 */
const carvedStart = new Int32Array([-1]);

/**
 * Where byte `offset` of the frame `allocateFrame` returned last lies in the checksum memory, or -1 when
 * the frame is not there: for its headers to be written as whole words (wire/frame-words.ts). Valid only
 * until the next frame is allocated, so asked right after.
 */
export function carvedPlace(offset: number): number {
  const start = carvedStart[0]!;
  return start >= 0 ? start + offset : -1;
}

function carve(kind: SlabKind, length: number, headroom: number, cleared: number): Uint8Array {
  let slab = kind.current;
  // Frames of headers alone mostly come and go one at a time (a bulk receiver's ACK per burst): the frames
  // of a tiny slab carved last and given back since are carved again at once. Waiting until the slab was
  // full took about a thousand ACKs, each frame of that round a view of its own, spread over 64 KiB; and
  // a frame kept long (a connection's SYN) no longer keeps the slab from being carved again.
  // A staged frame comes back before the next is asked for: carved again at the same place, always.
  if ((kind === tiny || kind === staged) && slab.carved > 0 && slab.back[slab.carved - 1] === 1) {
    takeBackTail(slab);
  }
  // The headroom comes first so that the frame itself starts aligned.
  let start = (slab.offset + headroom + 7) & ~7;
  if (start + length > slab.buffer.length) {
    slab = nextSlab(kind);
    start = (headroom + 7) & ~7;
  }
  slab.offset = start + length;
  if (slab.arrayBuffer === frameMemoryBuffer) carvedStart[0] = slab.base + start;
  else {
    carvedStart[0] = -1;
    if (kind === resident) frameAllocatorCounters.framesOutsideChecksumMemory++;
  }
  const index = slab.carved++;
  let frame = slab.frames[index];
  // The frame kept at an index lies where `starts` says it was carved last (the two are set together):
  // compared there, not through its byteOffset, a call into the runtime on every frame sent.
  if (frame === undefined || slab.starts[index] !== start || frame.length !== length) {
    frame =
      kind === staged && start === 0 ? stagedFrame(slab, length) : cutFrame(slab, start, start + length);
    slab.frames[index] = frame;
  }
  // `fill` is a call into the runtime even for nothing to clear.
  if (slab.reused && cleared > 0) fillBytes(frame, 0, 0, Math.min(cleared, length));
  if (index < slab.starts.length) slab.starts[index] = start;
  else slab.starts.push(start);
  if (index >= slab.back.length) {
    const back = new Uint8Array(slab.back.length * 2);
    back.set(slab.back);
    slab.back = back;
  }
  return frame;
}

/** Views of the staged region's start by length (see `stagedFrame`), at most STAGED_LENGTHS of them. */
const stagedByLength = new Map<number, Uint8Array>();
const STAGED_LENGTHS = 64;

/**
 * The frame of `length` bytes at the start of the staged region, where every staged frame is carved
 * (each is back before the next): the view cut for that length before, if any. With GRO on the far end a
 * bulk transfer's super-segments alternate between lengths (windows of 12 and 33 MSS as ACKs come in
 * two batches), and the one view a slab keeps per place was cut afresh, and recorded by the summer, at
 * each change: 1.4% of a bulk transfer's time with GSO and GRO.
 */
function stagedFrame(slab: Slab, length: number): Uint8Array {
  if (slab !== stagedRegion) return cutFrame(slab, 0, length);
  let frame = stagedByLength.get(length);
  if (frame === undefined) {
    if (stagedByLength.size === STAGED_LENGTHS) stagedByLength.clear();
    frame = cutFrame(slab, 0, length);
    stagedByLength.set(length, frame);
  }
  return frame;
}

/**
 * A view of bytes [start, end) of `slab`: in the checksum memory, one its sums read in place. Apart from
 * `carve` (which calls it only when a place is carved for the first time), to keep that small.
 */
function cutFrame(slab: Slab, start: number, end: number): Uint8Array {
  if (slab.arrayBuffer === frameMemoryBuffer) return frameMemoryView(slab.base + start, slab.base + end);
  return viewBytes(slab.buffer, start, end);
}

/** The current slab is full: the slab to carve next (a reused one whose frames are all back, or a new one). */
function nextSlab(kind: SlabKind): Slab {
  const full = kind.current;
  const waiting = kind.waiting;
  let next: Slab | undefined;
  if (full.buffer.length > 0 && full.recycled === full.carved) next = full;
  // A region of the checksum memory reclaimed is carved before any ordinary slab, whose frames are copied
  // to be summed.
  if (
    kind === resident &&
    reclaimedCount > 0 &&
    (next === undefined || next.arrayBuffer !== frameMemoryBuffer)
  ) {
    next = reclaimed[--reclaimedCount]!;
    reclaimed[reclaimedCount] = NO_SLAB;
  }
  if (next === undefined) {
    // The first waiting slab whose frames are all back; of MTU-sized frames, one in the checksum memory
    // if any is (an ordinary one only if none is).
    let found = -1;
    for (let i = 0; i < kind.waitingCount; i++) {
      const slab = waiting[i]!;
      if (slab.recycled !== slab.carved) continue;
      if (found < 0) found = i;
      if (kind !== resident || slab.arrayBuffer === frameMemoryBuffer) {
        found = i;
        break;
      }
    }
    if (found >= 0) {
      next = waiting[found]!;
      removeWaiting(kind, found);
    }
  }
  // The full slab waits for its frames once the one to carve next is out of the list, so that a slab
  // whose frames are all back is never the one left to the collector to make room.
  if (full.buffer.length > 0 && next !== full) {
    if (kind.waitingCount === kind.waitingLimit) {
      const dropped = waiting[0]!;
      removeWaiting(kind, 0);
      frameAllocatorCounters.waitingSlabsDropped++;
      if (dropped.arrayBuffer === frameMemoryBuffer) {
        dropped.dropped = true;
        reclaimIfBack(dropped);
      }
    }
    waiting[kind.waitingCount++] = full;
  }
  if (next === undefined) {
    next = freshSlab(kind);
  } else {
    frameAllocatorCounters.slabsReused++;
    carveAgain(next);
  }
  kind.current = next;
  return next;
}

/**
 * The slabs carved in the checksum memory, by their place in it (the first at 0, the next at
 * RESIDENT_SLAB_BYTES, ...): one object per region for good, carved again in place when it is reclaimed.
 */
const residentSlabs: Slab[] = [];
/**
 * Slabs in the checksum memory reclaimed (see `reclaimIfBack`) and not carved again yet, in the first
 * `reclaimedCount` entries: at most one per region, so the array never outgrows RESIDENT_SLABS.
 */
const reclaimed: Slab[] = [];
let reclaimedCount = 0;
/** The buffer of the checksum memory, if any. */
const frameMemoryBuffer: ArrayBufferLike = frameMemory === undefined ? NO_BUFFER : frameMemory.buffer;
/** How many slabs the checksum memory holds. */
const RESIDENT_SLABS = frameMemory === undefined ? 0 : Math.floor(FRAME_MEMORY_BYTES / RESIDENT_SLAB_BYTES);
/** The slab carved in the staged region (after the RESIDENT_SLABS regions), once it is. */
let stagedRegion: Slab | undefined;

if (frameMemory !== undefined) {
  // One lender for the whole memory: the frame a view lies in belongs to the slab at its place.
  lendFrameMemory(frameMemory.buffer, (view) => {
    const slab = residentSlabAt(frameMemoryBuffer, view.byteOffset);
    if (slab !== undefined) lentFrameGivenBack(slab, view);
  });
}

/**
 * Where `frame` starts in the checksum memory, for the two frames a bulk transfer sums there: the one just
 * carved (its sender's checksum, over the segment written into it) and the next to come back in carving
 * order (its receiver's, before the frame is given back). -1 for any other: the summer then looks the
 * frame up itself. Known by identity, as in `recycleFrame` and `frameView`: `frames` and `starts` are set
 * together, so the frame at an index below `carved` lies where `starts` says.
 */
function checksumMemoryPlace(frame: Uint8Array): number {
  let slab = resident.current;
  const index = slab.carved - 1;
  if (index >= 0 && slab.frames[index] === frame) {
    return slab.arrayBuffer === frameMemoryBuffer ? slab.base + slab.starts[index]! : -1;
  }
  slab = receivedSlab;
  if (!isNextBack(slab, frame)) {
    const found = inOrder(resident, frame);
    if (found === undefined || found.arrayBuffer !== frameMemoryBuffer) return -1;
    receivedSlab = slab = found;
  }
  return slab.base + slab.starts[slab.recycled]!;
}

/**
 * The slab of the checksum memory whose next frame to come back was summed last: a receiver sums frames
 * in carving order, most in the same slab as the one before, and views the payload of each (`frameView`)
 * right after. One of `residentSlabs` (or NO_SLAB), which are kept for good anyway.
 */
let receivedSlab: Slab = NO_SLAB;

/** Whether `frame` is the next frame of `slab` to come back in carving order (see `inOrder`). */
function isNextBack(slab: Slab, frame: Uint8Array): boolean {
  return slab.recycled < slab.carved && slab.frames[slab.recycled] === frame;
}

if (frameMemory !== undefined) setFrameLocator(checksumMemoryPlace);

/**
 * The slab in the checksum memory at byte `at` of `buffer`, whether it is carved, waiting or dropped;
 * undefined for other buffers.
 */
function residentSlabAt(buffer: ArrayBufferLike, at: number): Slab | undefined {
  if (buffer !== frameMemoryBuffer) return undefined;
  return at >= FRAME_MEMORY_BYTES ? stagedRegion : residentSlabs[Math.floor(at / RESIDENT_SLAB_BYTES)];
}

/**
 * A dropped slab of the checksum memory whose every frame is back has nothing in its region that anyone
 * holds (as for a waiting slab carved again: each frame was given back by whoever had it, see
 * recycleFrame and frameDelivered): it joins the reclaimed ones, to be carved again before ordinary slabs.
 */
function reclaimIfBack(slab: Slab): void {
  if (!slab.dropped || slab.recycled !== slab.carved) return;
  slab.dropped = false;
  reclaimed[reclaimedCount++] = slab;
  frameAllocatorCounters.checksumSlabsReclaimed++;
}

/** A slab of `kind` never carved before: the next place in the checksum memory for MTU-sized frames, if any. */
function freshSlab(kind: SlabKind): Slab {
  const slab = emptySlab(kind.bytes);
  if (kind === resident && frameMemory !== undefined && residentSlabs.length < RESIDENT_SLABS) {
    slab.base = residentSlabs.length * RESIDENT_SLAB_BYTES;
    slab.buffer = viewBytes(frameMemory, slab.base, slab.base + kind.bytes);
    residentSlabs.push(slab);
    frameAllocatorCounters.slabsInChecksumMemory++;
  } else if (kind === staged && frameMemory !== undefined && stagedRegion === undefined) {
    slab.base = FRAME_MEMORY_BYTES;
    slab.buffer = viewBytes(frameMemory, slab.base, slab.base + kind.bytes);
    stagedRegion = slab;
  } else {
    slab.buffer = new Uint8Array(kind.bytes);
    lendFrameMemory(slab.buffer.buffer, (view) => lentFrameGivenBack(slab, view));
  }
  slab.arrayBuffer = bufferOf(slab.buffer);
  frameAllocatorCounters.slabsAllocated++;
  return slab;
}

/**
 * Makes `slab` carve again where its last frames given back were carved (the frames carved after the last
 * one still out): from then on its frames are zeroed when carved, as those of a slab carved again.
 */
function takeBackTail(slab: Slab): void {
  let carved = slab.carved;
  const back = slab.back;
  while (carved > 0 && back[carved - 1] === 1) {
    carved--;
    back[carved] = 0;
    slab.recycled--;
  }
  slab.carved = carved;
  slab.offset = carved === 0 ? 0 : slab.starts[carved - 1]! + slab.frames[carved - 1]!.length;
  slab.reused = true;
}

/** Makes `slab`, whose every frame was given back, carve its frames again from its start. */
function carveAgain(slab: Slab): void {
  slab.reused = true;
  slab.back.fill(0, 0, slab.carved);
  slab.carved = 0;
  slab.recycled = 0;
  slab.offset = 0;
}

/**
 * Gives back a frame from `allocateFrame` that nothing references any more (its device wrote it out, or
 * its receiver kept nothing of it, and neither will look at it again). A frame of a slab left to the
 * collector, or of a buffer of its own, counts for nothing; so does giving the same frame back again.
 */
export function recycleFrame(frame: Uint8Array): void {
  // Frames mostly come back in the order they were carved, as the very view handed out (Slab.frames):
  // known by identity, the frame needs no `.buffer` read (a call into the runtime) to find its slab.
  // Frames that waited on a path's delay line come back when their slab is full and waiting, the oldest first.
  if (
    giveBackInOrder(resident.current, frame) ||
    giveBackInOrder(tiny.current, frame) ||
    giveBackInOrder(staged.current, frame) ||
    giveBackInOrder(small.current, frame) ||
    (resident.waitingCount > 0 && giveBackInOrder(resident.waiting[0]!, frame)) ||
    (small.waitingCount > 0 && giveBackInOrder(small.waiting[0]!, frame))
  ) {
    return;
  }
  const buffer = bufferOf(frame);
  const offset = byteOffsetOf(frame);
  const slab =
    residentSlabAt(buffer, offset) ??
    slabOf(resident, buffer, offset) ??
    slabOf(small, buffer, offset) ??
    slabOf(tiny, buffer, offset) ??
    slabOf(large, buffer, offset);
  if (slab === undefined) return;
  const starts = slab.starts;
  const at = offset - slab.base;
  // Frames mostly come back in the order they were carved: try the frame after the last one first.
  let index = slab.recycled < slab.carved && starts[slab.recycled] === at ? slab.recycled : -1;
  if (index < 0) {
    let low = 0;
    let high = slab.carved - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const value = starts[middle]!;
      if (value === at) {
        index = middle;
        break;
      }
      if (value < at) low = middle + 1;
      else high = middle - 1;
    }
    if (index < 0) return;
  }
  if (slab.back[index] === 1) return;
  slab.back[index] = 1;
  slab.recycled++;
  reclaimIfBack(slab);
}

/**
 * Marks `frame` given back if it is the frame of `slab` after the last one given back in carving order
 * (`Slab.frames` at an index below `carved` holds the view handed out this round); false otherwise.
 */
function giveBackInOrder(slab: Slab, frame: Uint8Array): boolean {
  const index = slab.recycled;
  if (index >= slab.carved || slab.frames[index] !== frame || slab.back[index] === 1) return false;
  slab.back[index] = 1;
  slab.recycled++;
  return true;
}

/** The view `offerFrameView` was last given, and what of which frame it views. */
let offeredFrame: Uint8Array = NO_VIEW;
let offeredStart = -1;
let offeredEnd = -1;
let offeredView: Uint8Array = NO_VIEW;

/**
 * Tells `frameView` that `view` is `frame.subarray(start, end)`, for a frame this allocator did not carve
 * (a packet the receive coalescer merged, which keeps views of its places as the allocator does): the
 * view is handed out when that part of that frame is asked for, until another is offered or the offer
 * is withdrawn (`withdrawFrameView`, once the frame was delivered). Its holder must not carve `frame`'s
 * bytes over while anyone may hold the view (as for the allocator's own views).
 */
export function offerFrameView(frame: Uint8Array, start: number, end: number, view: Uint8Array): void {
  offeredFrame = frame;
  offeredStart = start;
  offeredEnd = end;
  offeredView = view;
}

/** Ends `offerFrameView`'s offer, so this module holds no frame of another's after its delivery. */
export function withdrawFrameView(): void {
  offeredFrame = NO_VIEW;
  offeredStart = -1;
  offeredEnd = -1;
  offeredView = NO_VIEW;
}

/**
 * `frame.subarray(start, end)` for a frame from `allocateFrame` (whole, as handed out, not yet given back),
 * as the same view object each time a frame carved at the same place is viewed over the same range. A
 * receiver copies each segment's payload out of its frame, and a typed-array copy takes a whole array as
 * its source: cut afresh, that view was an allocation per segment received (a third of those of a bulk
 * transfer's steady state). The frame is looked for where frames come back in carving order (as in
 * `recycleFrame`): the next one to come back of a small or large slab, the one being carved or a waiting
 * one; a frame found nowhere (received out of order, from elsewhere) gets a fresh view. `start < end`.
 *
 * A view handed out is as valid as its frame: whoever keeps it keeps the frame, which then does not come
 * back, so its slab is not carved again while the view is in use.
 */
export function frameView(frame: Uint8Array, start: number, end: number): Uint8Array {
  if (frame === offeredFrame && start === offeredStart && end === offeredEnd) return offeredView;
  const slab = isNextBack(receivedSlab, frame)
    ? receivedSlab
    : (inOrder(resident, frame) ?? inOrder(small, frame) ?? inOrder(large, frame));
  if (slab === undefined) return viewBytes(frame, start, end);
  const index = slab.recycled;
  const views = slab.views;
  const viewStart = slab.starts[index]! + start;
  // A view of the same bytes of the same buffer, whichever frame object it was cut from.
  if (index < views.length && slab.viewStarts[index] === viewStart && views[index]!.length === end - start) {
    return views[index]!;
  }
  const view = viewBytes(frame, start, end);
  const viewStarts = slab.viewStarts;
  while (views.length < index) {
    views.push(NO_VIEW);
    viewStarts.push(-1);
  }
  if (index < views.length) {
    views[index] = view;
    viewStarts[index] = viewStart;
  } else {
    views.push(view);
    viewStarts.push(viewStart);
  }
  return view;
}

/**
 * The slab of `kind` (the one being carved, else a waiting one, oldest first: frames on a delay line
 * arrive in the order they were carved) whose next frame to come back in carving order is `frame`, if any.
 */
function inOrder(kind: SlabKind, frame: Uint8Array): Slab | undefined {
  const current = kind.current;
  if (isNextBack(current, frame)) return current;
  const waiting = kind.waiting;
  for (let i = 0; i < kind.waitingCount; i++) if (isNextBack(waiting[i]!, frame)) return waiting[i];
  return undefined;
}

/**
 * The slab of `kind` (the one being carved or a waiting one) that holds byte `at` of `buffer`, if any
 * (slabs in the checksum memory share its buffer).
 */
function slabOf(kind: SlabKind, buffer: ArrayBufferLike, at: number): Slab | undefined {
  if (slabHolds(kind.current, buffer, at)) return kind.current;
  const waiting = kind.waiting;
  for (let i = kind.waitingCount - 1; i >= 0; i--) if (slabHolds(waiting[i]!, buffer, at)) return waiting[i];
  return undefined;
}

function slabHolds(slab: Slab, buffer: ArrayBufferLike, at: number): boolean {
  return slab.arrayBuffer === buffer && at >= slab.base && at < slab.base + slab.bytes;
}

/** The frame a link is delivering (see `frameDelivering`), NO_VIEW when none. */
let delivering: Uint8Array = NO_VIEW;
/** A view into `delivering` was given back before its receiver returned. */
let givenBackWhileDelivering = false;

/**
 * A link is about to hand `frame` (from `allocateFrame`, no tap given it) to its receiver, and will lend it
 * if the receiver holds it (`frameDelivered`). A give-back during the call (the application read the bytes
 * at once) waits for the receiver's answer: a layer between that answers nothing makes the frame the
 * receiver's for good, and then nothing it keeps may be written over.
 */
export function frameDelivering(frame: Uint8Array): void {
  delivering = frame;
  givenBackWhileDelivering = false;
}

/**
 * The receiver of the frame of `frameDelivering` returned; `held`: it answered FRAME_HELD. The frame is
 * then lent (marked so that the receiver's giveBackFrame makes it given back), or given back at once if
 * that came during the call. False when the frame is not one carved from a slab still bookkept here (a
 * buffer of its own, a slab left to the collector): it stays out.
 */
export function frameDelivered(frame: Uint8Array, held: boolean): boolean {
  const early = givenBackWhileDelivering;
  delivering = NO_VIEW;
  givenBackWhileDelivering = false;
  if (!held) return false;
  const buffer = frame.buffer;
  const offset = frame.byteOffset;
  const slab =
    slabOf(large, buffer, offset) ??
    slabOf(small, buffer, offset) ??
    residentSlabAt(buffer, offset) ??
    slabOf(resident, buffer, offset) ??
    slabOf(tiny, buffer, offset);
  if (slab === undefined) return false;
  const at = offset - slab.base;
  const index = frameIndexAt(slab, at);
  // Only the whole frame as carved, still out: a link hands on what it was sent.
  if (index < 0 || slab.starts[index] !== at || slab.frames[index]!.length !== frame.length) return false;
  if (slab.back[index] !== 0) return false;
  frameAllocatorCounters.framesLent++;
  if (early) {
    slab.back[index] = 1;
    slab.recycled++;
    frameAllocatorCounters.lentFramesGivenBack++;
    reclaimIfBack(slab);
  } else {
    slab.back[index] = LENT;
  }
  return true;
}

/**
 * The receiver of a frame of `slab` gives back (giveBackFrame) the frame `view` lies in. It counts only
 * for a frame lent and not given back yet, or for the frame being delivered (see `frameDelivering`).
 */
function lentFrameGivenBack(slab: Slab, view: Uint8Array): void {
  const at = view.byteOffset;
  if (
    delivering !== NO_VIEW &&
    at >= delivering.byteOffset &&
    at < delivering.byteOffset + delivering.length &&
    delivering.buffer === view.buffer
  ) {
    givenBackWhileDelivering = true;
    return;
  }
  const inSlab = at - slab.base;
  const index = frameIndexAt(slab, inSlab);
  if (index < 0 || slab.back[index] !== LENT) return;
  if (inSlab >= slab.starts[index]! + slab.frames[index]!.length) return;
  slab.back[index] = 1;
  slab.recycled++;
  frameAllocatorCounters.lentFramesGivenBack++;
  reclaimIfBack(slab);
}

/** The index of the frame carved this round of `slab` that starts last at or before `at`; -1 if none. */
function frameIndexAt(slab: Slab, at: number): number {
  const starts = slab.starts;
  let low = 0;
  let high = slab.carved - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    if (starts[middle]! <= at) {
      found = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}
