/**
 * Buffers for outgoing frames, carved from shared slabs.
 *
 * Every datagram the stack sends needs a fresh frame. A `new Uint8Array(n)` of more than a few dozen bytes
 * gets a backing store of its own outside the JS heap, and creating and later collecting that store costs
 * far more than filling the frame: on a bulk transfer at MTU 1500 it was a fifth of all CPU time. Linux
 * draws small buffers from page fragments for the same reason (page_frag); Node's `Buffer.allocUnsafe`
 * from an 8 KiB pool.
 *
 * Frames here are regions of a 256 KiB zero-filled slab, handed out once and never reused: a frame is
 * zero-filled like a new array, and whoever keeps a frame (a link's delay queue, ARP's pending queue, a
 * capture, a receiver's view of the payload) keeps a valid one. A slab is collected once none of its
 * frames is referenced any more, so the price is that one long-kept frame pins its slab; code that keeps
 * small views for long copies them (IP reassembly does, when a view uses under half its buffer).
 */

/** Bytes in one slab. */
const SLAB_BYTES = 256 * 1024;

/** Frames (with headroom) larger than this get a buffer of their own: a slab holds at least four. */
const LARGEST_SLAB_FRAME = SLAB_BYTES / 4;

let slab = new Uint8Array(0);
let slabOffset = 0;

/**
 * A zero-filled frame of `length` bytes with `headroom` free bytes before it in the same buffer (for a
 * device that writes a header of its own in front, see DeviceOffload.headroom). Frames start on 8-byte
 * boundaries, as a buffer of their own would.
 */
export function allocateFrame(length: number, headroom = 0): Uint8Array {
  const needed = headroom + length;
  if (needed > LARGEST_SLAB_FRAME) return new Uint8Array(needed).subarray(headroom);
  // The headroom comes first so that the frame itself starts aligned.
  let start = (slabOffset + headroom + 7) & ~7;
  if (start + length > slab.length) {
    slab = new Uint8Array(SLAB_BYTES);
    start = (headroom + 7) & ~7;
  }
  slabOffset = start + length;
  return slab.subarray(start, start + length);
}
