/**
 * Buffers for outgoing frames, carved from shared slabs.
 *
 * Every datagram the stack sends needs a fresh frame. A `new Uint8Array(n)` of more than a few dozen bytes
 * gets a backing store of its own outside the JS heap, and creating and later collecting that store costs
 * far more than filling the frame: on a bulk transfer at MTU 1500 it was a fifth of all CPU time. Linux
 * draws small buffers from page fragments for the same reason (page_frag); Node's `Buffer.allocUnsafe`
 * from an 8 KiB pool.
 *
 * Frames here are regions of zero-filled slabs, handed out once and never reused: a frame is
 * zero-filled like a new array, and whoever keeps a frame (a link's delay queue, ARP's pending queue, a
 * capture, a receiver's view of the payload) keeps a valid one. A slab is collected once none of its
 * frames is referenced any more, so the price is that one long-kept frame pins its slab; code that keeps
 * small views for long copies them (IP reassembly does, when a view uses under half its buffer).
 *
 * A device that is done with a frame the moment `send` returns (a TAP device: the kernel copied it) gives
 * it back with `recycleFrame`. Once every frame carved from the current slab was given back, in the order
 * they were carved, the slab is carved again from its start instead of being left to the collector. At
 * tens of thousands of 64 KiB TSO packets a second, fresh slabs cost the kernel a page fault and a zeroed
 * page per 4 KiB written, and the collector a full mark for the external memory: a third of a gateway's
 * time relaying a download at MTU 65520. Only a slab whose every frame came back is reused, so a frame
 * kept elsewhere (one waiting for ARP, one dropped before its device) keeps its slab as before; frames
 * from a reused slab are zeroed when carved, as new ones are.
 */

/** A slab being carved: frames are handed out from `offset` on until one does not fit. */
interface Slab {
  readonly bytes: number;
  buffer: Uint8Array;
  offset: number;
  /** Where each frame carved from `buffer` starts (its byteOffset), in carving order. */
  readonly starts: number[];
  /** How many of `starts`, from the first, were given back with `recycleFrame`. */
  recycled: number;
  /** `buffer` was carved before: frames from it are zeroed when carved. */
  reused: boolean;
}

function emptySlab(bytes: number): Slab {
  return { bytes, buffer: new Uint8Array(0), offset: 0, starts: [], recycled: 0, reused: false };
}

/** Slabs for ordinary frames (up to an MTU of 65535 with headroom, four at least per slab). */
const small = emptySlab(256 * 1024);
/**
 * Slabs for segmentation-offload packets (up to 64 KiB each, written to a TAP device and dropped at once):
 * with a buffer of their own per packet, allocating them was 2-3% of a gateway's time relaying a download,
 * besides collecting them. Apart from the small frames' slabs, so a long-kept small frame never pins a
 * large slab. A slab holds at least eight.
 */
const large = emptySlab(1024 * 1024);

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
  if (needed <= LARGEST_SMALL_FRAME) return carve(small, length, headroom, cleared);
  if (needed <= LARGEST_LARGE_FRAME) return carve(large, length, headroom, cleared);
  return new Uint8Array(needed).subarray(headroom);
}

function carve(slab: Slab, length: number, headroom: number, cleared: number): Uint8Array {
  // The headroom comes first so that the frame itself starts aligned.
  let start = (slab.offset + headroom + 7) & ~7;
  if (start + length > slab.buffer.length) {
    if (slab.buffer.length > 0 && slab.recycled === slab.starts.length) {
      slab.reused = true;
    } else {
      slab.buffer = new Uint8Array(slab.bytes);
      slab.reused = false;
    }
    slab.starts.length = 0;
    slab.recycled = 0;
    start = (headroom + 7) & ~7;
  }
  slab.offset = start + length;
  const frame = slab.buffer.subarray(start, start + length);
  if (slab.reused) frame.fill(0, 0, Math.min(cleared, length));
  slab.starts.push(frame.byteOffset);
  return frame;
}

/**
 * Gives back a frame from `allocateFrame` that nothing references any more (its device wrote it out and
 * will not look at it again). A frame given back out of carving order, or from an older slab, counts for
 * nothing (so does giving the same frame back again): its slab is then left to the collector, as without
 * this call.
 */
export function recycleFrame(frame: Uint8Array): void {
  const slab =
    frame.buffer === large.buffer.buffer ? large : frame.buffer === small.buffer.buffer ? small : undefined;
  if (slab !== undefined && slab.starts[slab.recycled] === frame.byteOffset) slab.recycled++;
}
