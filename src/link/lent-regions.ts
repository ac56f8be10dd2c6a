/**
 * The bookkeeping of a device that lends the memory it delivers frames in (FRAME_HELD and giveBackFrame,
 * seams.ts): which regions of which slab its receiver holds, and a give-back that comes while the frame is
 * still being delivered. The TAP device's receive slabs and the receive coalescer's merged packets share it.
 *
 * A give-back during the delivering call (the application read the bytes at once) waits for the receiver's
 * answer: a layer in between that answers nothing (a capture) makes the frame the receiver's for good, and
 * then nothing it keeps may be written over. A give-back counts only for a region its receiver held, and
 * only once.
 */

/** Memory frames are carved from, with the [from, to) offset pairs (into `memory`) its receiver holds. */
export interface LendingSlab {
  readonly memory: Uint8Array;
  readonly lent: number[];
}

export class LentRegions<S extends LendingSlab> {
  private deliveringSlab: S | undefined;
  private deliveringFrom = 0;
  private deliveringTo = 0;
  private givenBackWhileDelivering = false;
  /** The region the last `takeBack` that returned true gave back. */
  from = 0;
  to = 0;

  /** The region [from, to) of `slab` is about to be handed to the receiver. */
  delivering(slab: S, from: number, to: number): void {
    this.deliveringSlab = slab;
    this.deliveringFrom = from;
    this.deliveringTo = to;
    this.givenBackWhileDelivering = false;
  }

  /** The receiver returned (or threw): give-backs from now on are late ones. */
  delivered(): void {
    this.deliveringSlab = undefined;
  }

  /**
   * The receiver answered FRAME_HELD for the region last delivered. True when it gave it back during the
   * call already, so the caller takes it back now; otherwise the region is noted as lent.
   */
  held(slab: S, from: number, to: number): boolean {
    if (this.givenBackWhileDelivering) return true;
    slab.lent.push(from, to);
    return false;
  }

  /**
   * The receiver gives back the region of `slab` that `view` lies in. True when that was a region lent and
   * not given back yet: it is no longer lent, and `from`/`to` say which it was. A give-back during the
   * delivering call only marks the frame (see `held`).
   */
  takeBack(slab: S, view: Uint8Array): boolean {
    const at = view.byteOffset - slab.memory.byteOffset;
    if (slab === this.deliveringSlab && at >= this.deliveringFrom && at < this.deliveringTo) {
      this.givenBackWhileDelivering = true;
      return false;
    }
    const lent = slab.lent;
    for (let i = 0; i < lent.length; i += 2) {
      const from = lent[i]!;
      const to = lent[i + 1]!;
      if (at >= from && at < to) {
        // Moved down in place: splice would make an array of what it removed, one per region given back.
        for (let j = i + 2; j < lent.length; j++) lent[j - 2] = lent[j]!;
        lent.pop();
        lent.pop();
        this.from = from;
        this.to = to;
        return true;
      }
    }
    return false;
  }
}
