/**
 * The out-of-order range assembler of the receive side (RFC 9293 §3.10.7.4, seventh step; SHLD-31:
 * out-of-order segments are queued, not dropped).
 *
 * It only records WHICH byte ranges beyond RCV.NXT have arrived; the bytes themselves wait in the receive
 * buffer's out-of-order store (receive-buffer.ts). Offsets are relative to RCV.NXT. The number of separate ranges is
 * bounded, so a peer sending many small disjoint pieces cannot make the list grow without limit; a
 * segment that would need one range too many is refused (and simply not acknowledged, so the peer sends
 * it again later).
 *
 * Each range remembers when it last grew, so SACK blocks (RFC 2018 §4: the most recently changed block
 * first) can be produced from it later.
 */
export interface ReceivedRange {
  /** Offset of the first byte, relative to RCV.NXT (> 0 while the range is out of order). */
  readonly start: number;
  /** Offset just past the last byte. */
  readonly end: number;
  /** Insertion counter value when the range last grew: higher is more recent. */
  readonly touched: number;
}

export class RangeAssembler {
  private readonly maxRanges: number;
  private starts: number[] = [];
  private ends: number[] = [];
  private touches: number[] = [];
  private counter = 0;
  /** Ranges forgotten to make room for lower ones (see `add`). */
  pruned = 0;

  constructor(maxRanges: number) {
    this.maxRanges = maxRanges;
  }

  get rangeCount(): number {
    return this.starts.length;
  }

  get isEmpty(): boolean {
    return this.starts.length === 0;
  }

  /** Offset just past the highest byte held, or 0 when empty. */
  get highestEnd(): number {
    const n = this.ends.length;
    return n === 0 ? 0 : this.ends[n - 1]!;
  }

  /**
   * Records bytes [start, end) as received. Ranges that touch or overlap are merged. When that would need
   * more than `maxRanges` separate ranges, the new range is kept only if it lies below the highest range,
   * which is forgotten to make room (as Linux prunes its out-of-order queue from the far end): bytes closer
   * to RCV.NXT are worth more, and the segment at RCV.NXT itself must never be refused, or a peer whose
   * holes filled the assembler could never make progress. Returns false, changing nothing, when the new
   * range is refused.
   */
  add(start: number, end: number): boolean {
    if (end <= start) return true;
    const starts = this.starts;
    const ends = this.ends;
    // First range whose end reaches `start` (touching counts as overlapping).
    let first = 0;
    while (first < starts.length && ends[first]! < start) first++;
    // Ranges first .. last-1 overlap or touch [start, end).
    let last = first;
    while (last < starts.length && starts[last]! <= end) last++;
    const merged = last - first;
    if (merged === 0 && starts.length >= this.maxRanges) {
      // `first` is where the new range goes; it is below the highest range exactly when first < length.
      if (first >= starts.length) return false;
      starts.pop();
      ends.pop();
      this.touches.pop();
      this.pruned++;
    }
    const newStart = merged > 0 ? Math.min(start, starts[first]!) : start;
    const newEnd = merged > 0 ? Math.max(end, ends[last - 1]!) : end;
    const touched = ++this.counter;
    starts.splice(first, merged, newStart);
    ends.splice(first, merged, newEnd);
    this.touches.splice(first, merged, touched);
    return true;
  }

  /**
   * Writes the parts of [start, end) that no range holds into `out` as [start, end) pairs, lowest first;
   * returns how many were written.
   */
  gaps(start: number, end: number, out: number[]): number {
    let written = 0;
    let from = start;
    for (let i = 0; i < this.starts.length && from < end; i++) {
      const s = this.starts[i]!;
      const e = this.ends[i]!;
      if (e <= from) continue;
      if (s >= end) break;
      if (s > from) {
        out[2 * written] = from;
        out[2 * written + 1] = s;
        written++;
      }
      from = e;
    }
    if (from < end) {
      out[2 * written] = from;
      out[2 * written + 1] = end;
      written++;
    }
    return written;
  }

  /**
   * If a range starts at offset 0, removes it and returns its length (the bytes that just became
   * in-order); otherwise returns 0. The remaining ranges are re-based to the new RCV.NXT.
   */
  takeFront(): number {
    if (this.starts.length === 0 || this.starts[0] !== 0) return 0;
    const n = this.ends[0]!;
    this.starts.shift();
    this.ends.shift();
    this.touches.shift();
    for (let i = 0; i < this.starts.length; i++) {
      this.starts[i] = this.starts[i]! - n;
      this.ends[i] = this.ends[i]! - n;
    }
    return n;
  }

  /** Forgets every byte at or past `offset` (used when a FIN fixes the end of the stream). */
  truncate(offset: number): void {
    for (let i = this.starts.length - 1; i >= 0; i--) {
      if (this.starts[i]! >= offset) {
        this.starts.splice(i, 1);
        this.ends.splice(i, 1);
        this.touches.splice(i, 1);
      } else if (this.ends[i]! > offset) {
        this.ends[i] = offset;
      }
    }
  }

  /**
   * The part of [start, end) already held, in the lowest range that overlaps it, or undefined when none
   * is: a duplicate to report with D-SACK (RFC 2883).
   */
  heldWithin(start: number, end: number): { start: number; end: number } | undefined {
    for (let i = 0; i < this.starts.length; i++) {
      const s = Math.max(start, this.starts[i]!);
      const e = Math.min(end, this.ends[i]!);
      if (s < e) return { start: s, end: e };
      if (this.starts[i]! >= end) return undefined;
    }
    return undefined;
  }

  /**
   * Writes up to `max` ranges into `out` (as [start, end) pairs), the most recently grown first (RFC 2018
   * §4: the first block holds the segment that triggered the ACK, the next ones the most recently
   * reported); returns how many were written.
   */
  recentRanges(max: number, out: number[]): number {
    const n = Math.min(max, this.starts.length);
    // Few ranges are ever reported (at most 4): pick the most recent ones by repeated selection.
    let written = 0;
    let below = Number.POSITIVE_INFINITY;
    while (written < n) {
      let best = -1;
      for (let i = 0; i < this.touches.length; i++) {
        const t = this.touches[i]!;
        if (t < below && (best < 0 || t > this.touches[best]!)) best = i;
      }
      if (best < 0) break;
      below = this.touches[best]!;
      out[2 * written] = this.starts[best]!;
      out[2 * written + 1] = this.ends[best]!;
      written++;
    }
    return written;
  }

  clear(): void {
    this.starts = [];
    this.ends = [];
    this.touches = [];
  }

  /** The ranges held, lowest offset first. */
  ranges(): ReceivedRange[] {
    return this.starts.map((start, i) => ({ start, end: this.ends[i]!, touched: this.touches[i]! }));
  }
}
