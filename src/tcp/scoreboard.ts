/**
 * The sender's scoreboard: one record per segment in flight, with what is known about it — when it was
 * last sent, whether it was retransmitted, SACKed or judged lost — and the delivery-rate sampling fields of
 * draft-cheng-iccrg-delivery-rate-estimation (§3.2). From it come:
 * - RFC 6675's `pipe` (bytes still in the network) and its loss rule IsLost (§4: DupThresh discontiguous
 *   SACKed ranges, or more than (DupThresh - 1) * SMSS SACKed bytes, above a sequence number);
 * - RACK's time-based loss marking and reordering window (RFC 8985 §6);
 * - D-SACK detection (RFC 2883 §4, RFC 3708) for undoing spurious retransmissions;
 * - a delivery-rate sample per ACK (the draft's §3.3), for rate-based congestion control (BBR).
 *
 * Records cover [start, end) in sequence space (a FIN's sequence number included), in order and without
 * gaps from SND.UNA to SND.MAX. A TSO segment is one record until a SACK block or a retransmission cuts it.
 */
import type { CurrentTime } from '../time/clock.js';
import { objectArray } from '../util/arrays.js';
import { seqDiff, seqGe, seqGt, seqLe, seqLt } from './seq.js';

/** The time of a spare scoreboard, which belongs to no connection. */
const NO_TIME: CurrentTime = { now: 0 };

export interface SendRecord {
  start: number;
  end: number;
  /** Time of the latest (re)transmission: RACK's xmit_ts. */
  sentAt: number;
  /** Sent more than once. */
  retransmitted: boolean;
  /** Selectively acknowledged. */
  sacked: boolean;
  /**
   * Segments on the wire this record stands for (Linux's pcount): a TSO segment counts its MSS-sized
   * pieces, and a burst of short segments merged into one record counts each of them.
   */
  segments: number;
  /** What this record counts in the scoreboard's `sackedSegments`: `segments` while SACKed, else 0. */
  sackedSegments: number;
  /** Judged lost (IsLost, RACK, or a retransmission timeout) and not SACKed since. */
  lost: boolean;
  /** Retransmitted after it was judged lost, and not yet acknowledged: in the network again. */
  lostRetransmitted: boolean;
  // Delivery-rate sampling (draft §3.2): the connection's counters when this was last sent.
  delivered: number;
  deliveredAt: number;
  firstSentAt: number;
  appLimited: boolean;
  /** Pipe just before this was last sent (the rate sample's prior_in_flight). */
  inFlight: number;
}

/** A delivery-rate sample (draft §3.3), refilled for each ACK. */
export interface DeliverySample {
  /** Bytes delivered over the interval (0: no sample from this ACK). */
  delivered: number;
  intervalMs: number;
  /** Bytes per millisecond, or 0 without a valid sample. */
  deliveryRate: number;
  isAppLimited: boolean;
  priorDelivered: number;
  /** Bytes in flight when the newest delivered segment was sent. */
  priorInFlight: number;
  /**
   * RTT of the newest acknowledged segment never retransmitted, or -1. A number either way, not
   * `undefined`: a field that can hold both keeps each RTT as a heap number made per ACK.
   */
  rttMs: number;
}

/** What one ACK changed on the scoreboard. */
export interface AckOutcome {
  /** Bytes newly delivered: cumulatively acknowledged and not SACKed before, plus newly SACKed. */
  delivered: number;
  /** Bytes newly SACKed. */
  newlySacked: number;
  /** The ACK carried a D-SACK block (RFC 2883 §4): the peer got something twice. */
  dsack: boolean;
  dsackStart: number;
  dsackEnd: number;
  /** Bytes newly marked lost while processing the ACK. */
  newlyLost: number;
  readonly sample: DeliverySample;
}

/** DupThresh (RFC 6675 §2, RFC 5681): three segments. */
export const DUP_THRESH = 3;

/**
 * Acknowledged records kept for reuse, per scoreboard: a bulk sender acknowledges about as many records as
 * it creates, so after the first flight new records cost no allocation. Compaction keeps this many, or
 * twice the records still in flight when that is more: a flight of 1024 records is 1.4 MB at MSS 1448, but
 * a send buffer autotuned to 4 MiB keeps about 2,900 in flight on a long path, and with a plain cap of 1024
 * the rest were made afresh each round trip (compaction comes once the acknowledged records outnumber the
 * live ones, so a little over one flight's worth is handed back at a time). The rest go to the garbage
 * collector, and a flight that drains leaves this many at most.
 */
const MAX_SPARE_RECORDS = 1024;
/** Spare records a scoreboard keeps when it is reset for another connection. */
const SPARE_RECORDS_KEPT_ON_RESET = 8;

/**
 * What reuse did, process-wide: records made because none was left to reuse (see `takeRecord`),
 * acknowledged records let go because a scoreboard held MAX_SPARE_RECORDS
 * spares already, records let go because a reset scoreboard keeps at most SPARE_RECORDS_KEPT_ON_RESET, and (counted by Tcb, which keeps the spare scoreboards) scoreboards
 * reused, kept for reuse, and let go because SPARE_SCOREBOARDS_KEPT were kept already.
 */
export const scoreboardCounters = {
  recordsMade: 0,
  spareRecordsDropped: 0,
  recordsDroppedOnReset: 0,
  scoreboardsReused: 0,
  scoreboardsKept: 0,
  scoreboardsDropped: 0,
};

export class Scoreboard {
  /**
   * Records by sequence number; only [head, top) are live. The array keeps its length past `top`
   * (stale slots, never read): shortening it lets V8 trim the storage, which the next sends then grow
   * again, an allocation per compaction.
   */
  private records: SendRecord[] = objectArray();
  /** Index of the first live record (records before it are acknowledged and awaiting compaction). */
  declare private head: number;
  /** Index past the last live record. */
  declare private top: number;
  /** Acknowledged or forgotten records, for `newRecord` and `split` to reuse. */
  private readonly spare: SendRecord[] = objectArray();
  /**
   * Acknowledged records still in `records` before `head` are reused from there too, lowest first, when
   * `spare` is empty (see `takeRecord`): those before `reclaimed` have been taken (their slots are stale,
   * and compaction skips them), and only those before `reclaimable` may be, the head as the last ACK left
   * it (an ACK being processed still reads the records it acknowledges: see `onAck`). Spares come only
   * from compaction, which waits until the acknowledged records outnumber the live ones, so a flight
   * still growing found none a few ACKs after each compaction and made records afresh with acknowledged
   * ones at hand (64 of them, with 4 in flight, in the zero-delay bulk transfer 8 MiB in).
   */
  declare private reclaimed: number;
  declare private reclaimable: number;
  /** Where `nextLost` last found a record (a starting point, reset whenever indices shift). */
  declare private lostHint: number;
  declare sackedBytes: number;
  /**
   * Segments SACKed (Linux's sacked_out): each SACKed record counts its bytes in MSS-sized pieces, so a
   * TSO segment of several MSS counts as several, and a short one as one (RFC 8985 §6.2 step 4 counts
   * segments, not bytes).
   */
  declare sackedSegments: number;
  /** The MSS `sackedSegments` counts in (the connection's effective MSS). */
  declare segmentSize: number;
  /**
   * The connection's reordering degree in segments (Linux's tp->reordering): DupThresh at first, raised
   * when a segment never retransmitted is delivered below the highest one delivered before it, to the
   * distance between them (RFC 8985 §6.2 step 3; RFC 4737's reordering extent), at most `maxReordering`.
   */
  declare reordering: number;
  /** Cap of `reordering` (TcpConfig.maxReordering, Linux's tcp_max_reordering). */
  declare maxReordering: number;
  /** Times `reordering` was raised, and times the degree seen exceeded `maxReordering`. */
  declare reorderingRaised: number;
  declare reorderingCapped: number;
  /** Bytes judged lost and not SACKed (retransmitted or not). */
  declare lostBytes: number;
  /** Lost bytes retransmitted and still unacknowledged. */
  declare lostRetransmittedBytes: number;
  /** Highest sequence number SACKed or cumulatively acknowledged (RFC 6675's HighACK / RACK's fack). */
  declare highestDelivered: number;
  /** `highestDelivered` has been set (by the first send or an ACK). */
  declare private highestDeliveredSet: boolean;

  // Connection-level delivery-rate state (draft §3.1).
  declare delivered: number;
  declare deliveredAt: number;
  declare firstSentAt: number;
  /** C.app_limited: the `delivered` count at which the app-limited phase ends, 0 when not app-limited. */
  declare appLimitedUntil: number;

  // RACK (RFC 8985 §6.1).
  /** Send time and end of the most recently sent segment delivered so far. */
  declare rackSentAt: number;
  declare rackEnd: number;
  declare rackRtt: number;
  /** Reordering was observed (a segment delivered below one delivered before it, never retransmitted). */
  declare reorderingSeen: boolean;
  /** Times RACK saw reordering (tcpInfo's reordering-like counter). */
  declare reorderEvents: number;
  /** The connection's minimum RTT as of the ACK being processed (RACK.min_RTT). */
  declare private minRttMs: number;

  readonly outcome: AckOutcome = {
    delivered: 0,
    newlySacked: 0,
    dsack: false,
    dsackStart: 0,
    dsackEnd: 0,
    newlyLost: 0,
    sample: {
      delivered: 0,
      intervalMs: 0,
      deliveryRate: 0,
      isAppLimited: false,
      priorDelivered: 0,
      priorInFlight: 0,
      rttMs: -1,
    },
  };

  /**
   * `time` is where the board reads the time of the transmission or ACK it is told of (the connection's
   * Tcb); `segmentSize` and `maxReordering` as in `reset` (the defaults are RFC 9293's MSS and Linux's cap).
   */
  constructor(
    private time: CurrentTime,
    segmentSize = 536,
    maxReordering = 300,
  ) {
    this.begin(segmentSize, maxReordering);
  }

  /** Kept as a spare (see `reset`): lets go of the connection it read the time from. */
  forgetTime(): void {
    this.time = NO_TIME;
  }

  get isEmpty(): boolean {
    return this.head >= this.top;
  }

  /** Live records, lowest first (a view for tests and tcpInfo; do not keep). */
  list(): readonly SendRecord[] {
    return this.records.slice(this.head, this.top);
  }

  /** Bytes retransmitted and neither acknowledged nor SACKed since (Linux's retrans_out, in bytes). */
  get retransmittedOutstanding(): number {
    let bytes = 0;
    for (let i = this.head; i < this.top; i++) {
      const r = this.records[i]!;
      if (r.retransmitted && !r.sacked && !(r.lost && !r.lostRetransmitted)) bytes += seqDiff(r.end, r.start);
    }
    return bytes;
  }

  /** RFC 6675 pipe, given the bytes outstanding (SND.MAX - SND.UNA). */
  pipe(outstanding: number): number {
    return Math.max(0, outstanding - this.sackedBytes - this.lostBytes + this.lostRetransmittedBytes);
  }

  clear(): void {
    this.records.length = 0;
    this.head = 0;
    this.top = 0;
    this.reclaimed = 0;
    this.reclaimable = 0;
    this.lostHint = 0;
    this.sackedBytes = 0;
    this.sackedSegments = 0;
    this.lostBytes = 0;
    this.lostRetransmittedBytes = 0;
  }

  /**
   * Back to the state of a new scoreboard (with `time`, `segmentSize` and `maxReordering`), for another
   * connection: see Tcb's spare scoreboards. Records still held become spares, of which at most
   * SPARE_RECORDS_KEPT_ON_RESET stay (the rest are counted in `scoreboardCounters.recordsDroppedOnReset`).
   */
  reset(time: CurrentTime, segmentSize: number, maxReordering: number): void {
    this.time = time;
    const records = this.records;
    const spare = this.spare;
    for (let i = this.head; i < this.top; i++) {
      if (spare.length < SPARE_RECORDS_KEPT_ON_RESET) spare.push(records[i]!);
      else scoreboardCounters.recordsDroppedOnReset++;
    }
    if (spare.length > SPARE_RECORDS_KEPT_ON_RESET) {
      scoreboardCounters.recordsDroppedOnReset += spare.length - SPARE_RECORDS_KEPT_ON_RESET;
      spare.length = SPARE_RECORDS_KEPT_ON_RESET;
    }
    this.begin(segmentSize, maxReordering);
  }

  /**
   * The state of a new scoreboard, for the constructor and for `reset` alike (so that a reused
   * scoreboard cannot read differently from a new one).
   */
  private begin(segmentSize: number, maxReordering: number): void {
    this.clear();
    this.segmentSize = segmentSize;
    this.reordering = DUP_THRESH;
    this.maxReordering = maxReordering;
    this.reorderingRaised = 0;
    this.reorderingCapped = 0;
    this.highestDelivered = 0;
    this.highestDeliveredSet = false;
    this.delivered = 0;
    this.deliveredAt = 0;
    this.firstSentAt = 0;
    this.appLimitedUntil = 0;
    this.rackSentAt = Number.NEGATIVE_INFINITY;
    this.rackEnd = 0;
    this.rackRtt = 0;
    this.reorderingSeen = false;
    this.reorderEvents = 0;
    this.minRttMs = Number.POSITIVE_INFINITY;
    const outcome = this.outcome;
    outcome.delivered = 0;
    outcome.newlySacked = 0;
    outcome.dsack = false;
    outcome.dsackStart = 0;
    outcome.dsackEnd = 0;
    outcome.newlyLost = 0;
    const sample = outcome.sample;
    sample.delivered = 0;
    sample.intervalMs = 0;
    sample.deliveryRate = 0;
    sample.isAppLimited = false;
    sample.priorDelivered = 0;
    sample.priorInFlight = 0;
    sample.rttMs = -1;
  }

  /** MSS-sized pieces in `len` bytes (at least 1). */
  private segmentsIn(len: number): number {
    return Math.max(1, Math.ceil(len / this.segmentSize));
  }

  /**
   * Records a transmission of [start, end) at `now`: new data is appended; a retransmission updates the
   * records it covers (cutting them at its edges). `inFlight` is the pipe before this send, `appLimited`
   * whether the application, not the windows, keeps the sender from sending more (draft §3.4).
   */
  onTransmit(start: number, end: number, inFlight: number, appLimited: boolean): void {
    const now = this.time.now;
    // Sequence numbers in the signed form (seq.ts), which record boundaries are compared in.
    start |= 0;
    end |= 0;
    if (start === end) return;
    if (this.isEmpty && !this.highestDeliveredSet) {
      // The first send: everything below it counts as delivered. Left at 0, HighACK would lie 2^31
      // bytes ahead of the data for half of all initial sequence numbers, and the first in-order ACK
      // would look like reordering that deep (the degree went straight to maxReordering).
      this.highestDelivered = start;
      this.highestDeliveredSet = true;
    }
    if (inFlight === 0 || this.isEmpty) {
      // Draft §3.2: nothing in flight, so the send and ACK intervals start now.
      this.firstSentAt = now;
      this.deliveredAt = now;
    }
    if (appLimited) this.appLimitedUntil = Math.max(this.delivered + inFlight, 1);
    const records = this.records;
    const last = this.top > this.head ? records[this.top - 1]! : undefined;
    if (last === undefined || seqGe(start, last.end)) {
      if (
        last !== undefined &&
        start === last.end &&
        last.sentAt === now &&
        !last.retransmitted &&
        !last.sacked &&
        !last.lost &&
        last.delivered === this.delivered &&
        last.appLimited === (this.appLimitedUntil !== 0)
      ) {
        // Sent in the same instant with the same counters: one record (a burst of small segments must not
        // cost a record each; SACK blocks and retransmissions cut it again where needed).
        last.end = end;
        last.segments += this.segmentsIn(seqDiff(end, start));
        return;
      }
      records[this.top] = this.newRecord(start, end, inFlight);
      this.top++;
      return;
    }
    const first = this.split(start);
    this.split(end);
    for (let i = first; i < this.top; i++) {
      const r = records[i]!;
      if (seqGe(r.start, end)) break;
      if (r.sacked) continue;
      r.sentAt = now;
      r.retransmitted = true;
      if (r.lost && !r.lostRetransmitted) {
        r.lostRetransmitted = true;
        this.lostRetransmittedBytes += seqDiff(r.end, r.start);
      }
      this.stamp(r, inFlight);
    }
    if (last !== undefined && seqGt(end, last.end)) {
      records[this.top] = this.newRecord(last.end, end, inFlight);
      this.top++;
    }
  }

  /**
   * Processes a cumulative ACK `ack` and its SACK blocks at `now`. `minRttMs` is the connection's minimum
   * RTT: an ACK of a retransmitted segment that came sooner than that answers the original, and does not
   * move RACK (RFC 8985 §6.2 step 2). Returns the outcome (the same object every time).
   */
  onAck(
    ack: number,
    blocks: readonly { left: number; right: number }[] | undefined,
    minRttMs = Number.POSITIVE_INFINITY,
  ): AckOutcome {
    ack |= 0;
    this.minRttMs = minRttMs;
    const out = this.outcome;
    out.delivered = 0;
    out.newlySacked = 0;
    out.dsack = false;
    out.newlyLost = 0;
    const sample = out.sample;
    sample.delivered = 0;
    sample.intervalMs = 0;
    sample.deliveryRate = 0;
    sample.rttMs = -1;
    let newest: SendRecord | undefined;
    // RFC 2883 §4: the first block is a D-SACK when it lies below the cumulative ACK, or inside the
    // second block.
    let firstBlock = 0;
    if (blocks !== undefined && blocks.length > 0) {
      const b0 = blocks[0]!;
      const second = blocks[1];
      if (
        seqLe(b0.right, ack) ||
        (second !== undefined && seqGe(b0.left, second.left) && seqLe(b0.right, second.right))
      ) {
        out.dsack = true;
        out.dsackStart = b0.left | 0;
        out.dsackEnd = b0.right | 0;
        firstBlock = 1;
      }
    }
    // Cumulative part.
    const records = this.records;
    if (this.head < this.top && seqGt(ack, records[this.head]!.start)) this.split(ack);
    while (this.head < this.top && seqLe(records[this.head]!.end, ack)) {
      const r = records[this.head++]!;
      const len = seqDiff(r.end, r.start);
      if (r.sacked) {
        this.sackedBytes -= len;
        this.sackedSegments -= r.sackedSegments;
        r.sackedSegments = 0;
      } else {
        if (r.lost) this.lostBytes -= len;
        if (r.lostRetransmitted) this.lostRetransmittedBytes -= len;
        out.delivered += len;
        newest = this.deliver(r, len, newest);
      }
    }
    if (seqGt(ack, this.highestDelivered) || this.isEmpty) this.highestDelivered = ack;
    this.highestDeliveredSet = true;
    // Selective part.
    if (blocks !== undefined) {
      for (let b = firstBlock; b < blocks.length; b++) {
        const block = blocks[b]!;
        // The edges in the signed form (seq.ts), whichever form the segment record holds.
        const blockLeft = block.left | 0;
        const right = block.right | 0;
        if (!seqLt(blockLeft, right) || seqLe(right, ack)) continue;
        const left = seqGt(blockLeft, ack) ? blockLeft : ack;
        const from = this.split(left);
        this.split(right);
        for (let i = from; i < this.top; i++) {
          const r = this.records[i]!;
          if (seqGe(r.start, right)) break;
          if (r.sacked) continue;
          const len = seqDiff(r.end, r.start);
          r.sacked = true;
          this.sackedBytes += len;
          r.sackedSegments = r.segments;
          this.sackedSegments += r.sackedSegments;
          if (r.lost) {
            r.lost = false;
            this.lostBytes -= len;
          }
          if (r.lostRetransmitted) {
            r.lostRetransmitted = false;
            this.lostRetransmittedBytes -= len;
          }
          out.newlySacked += len;
          out.delivered += len;
          newest = this.deliver(r, len, newest);
          if (seqGt(r.end, this.highestDelivered)) this.highestDelivered = r.end;
        }
      }
    }
    if (newest !== undefined) this.finishSample(newest);
    if (this.appLimitedUntil !== 0 && this.delivered > this.appLimitedUntil) this.appLimitedUntil = 0;
    // Compaction last: `newest` may be an acknowledged record, read by finishSample above. For the same
    // reason the records this ACK acknowledged become reusable only now.
    if (this.head > 64 && this.head * 2 > this.top) this.compact();
    this.reclaimable = this.head;
    return out;
  }

  /**
   * RFC 6675 §5 loss marking (IsLost, §4): every segment not SACKed, not already lost and not retransmitted,
   * with more than (DupThresh - 1) * SMSS SACKed bytes or DupThresh discontiguous SACKed ranges above it,
   * is marked lost. Returns the bytes newly marked.
   */
  markLostBySack(mss: number): number {
    let sackedAbove = 0;
    let runsAbove = 0;
    let inRun = false;
    let marked = 0;
    const records = this.records;
    // Nothing above the highest SACKed byte counts: start the walk there.
    for (let i = this.indexAfter(this.highestDelivered) - 1; i >= this.head; i--) {
      const r = records[i]!;
      if (r.sacked) {
        sackedAbove += seqDiff(r.end, r.start);
        if (!inRun) runsAbove++;
        inRun = true;
        continue;
      }
      inRun = false;
      if (sackedAbove === 0) continue;
      if (r.lost || r.retransmitted) continue;
      if (sackedAbove > (DUP_THRESH - 1) * mss || runsAbove >= DUP_THRESH) marked += this.markLost(r);
    }
    this.outcome.newlyLost += marked;
    return marked;
  }

  /**
   * RFC 8985 §6.2 step 2-3: remembers the most recently sent segment this ACK delivered (RACK.xmit_ts,
   * RACK.end_seq, RACK.rtt), unless it was retransmitted and the ACK may answer the original (its RTT is
   * below the minimum RTT). Also detects reordering (step 3). Called by `deliver`.
   */
  private rackUpdate(r: SendRecord): void {
    const now = this.time.now;
    if (seqLt(r.end, this.highestDelivered) && !r.retransmitted) {
      if (!this.reorderingSeen) {
        this.reorderingSeen = true;
        this.reorderEvents++;
      }
      this.noteReorderingExtent(seqDiff(this.highestDelivered, r.start));
    }
    // Step 2: an ACK that came back faster than any round trip cannot be for the retransmission; taking
    // it as one would make every segment retransmitted with it look overdue at once, and they would be
    // judged lost and sent again on each such ACK.
    if (r.retransmitted && now - r.sentAt < this.minRttMs) return;
    if (r.sentAt > this.rackSentAt || (r.sentAt === this.rackSentAt && seqGt(r.end, this.rackEnd))) {
      this.rackSentAt = r.sentAt;
      this.rackEnd = r.end;
      this.rackRtt = now - r.sentAt;
    }
  }

  /**
   * A segment arrived `distance` bytes below the highest delivered one: the path reorders at least that
   * many segments. The degree only grows (Linux's tcp_check_sack_reordering), up to `maxReordering`.
   */
  private noteReorderingExtent(distance: number): void {
    const degree = Math.ceil(distance / this.segmentSize);
    if (degree <= this.reordering) return;
    if (degree > this.maxReordering) this.reorderingCapped++;
    const raised = Math.min(degree, this.maxReordering);
    if (raised > this.reordering) {
      this.reordering = raised;
      this.reorderingRaised++;
    }
  }

  /**
   * RACK loss detection (RFC 8985 §6.2 step 5): every segment not SACKed or acknowledged that was sent
   * before the most recently sent delivered one, and longer ago than RACK.rtt + `reoWnd`, is lost.
   * Returns the time until the next segment expires (for the reordering timer: the earliest, where the RFC
   * takes the latest, so each one is judged on time), or 0 when none is pending. Newly lost bytes are added to the outcome.
   */
  markLostByRack(reoWnd: number): number {
    const now = this.time.now;
    let timeout = 0;
    const records = this.records;
    for (let i = this.head; i < this.top; i++) {
      const r = records[i]!;
      // First transmissions leave in sequence order: past the first one sent after RACK's segment,
      // only retransmissions could qualify, and none lie above the highest delivered byte that matter
      // before the next ACK or the loss probe. Stopping here keeps each ACK's work near the holes.
      if (!r.retransmitted && r.sentAt > this.rackSentAt) break;
      if (seqGe(r.start, this.highestDelivered)) break;
      if (r.sacked || (r.lost && !r.lostRetransmitted)) continue;
      const sentBefore =
        r.sentAt < this.rackSentAt || (r.sentAt === this.rackSentAt && seqLt(r.end, this.rackEnd));
      if (!sentBefore) continue;
      const remaining = r.sentAt + this.rackRtt + reoWnd - now;
      // A segment sent this very instant has had no time to arrive, whatever the sums say (a zero RTT
      // on a link without delay).
      if (remaining <= 0 && r.sentAt < now) {
        this.outcome.newlyLost += this.markLost(r);
      } else {
        if (remaining > timeout) timeout = remaining;
        // Later first transmissions were sent no earlier, so none of them is due before this one.
        if (!r.retransmitted) break;
      }
    }
    return timeout;
  }

  /**
   * The receiver threw away data it had SACKed (RFC 2018 §8 allows it: "reneging"): the cumulative ACK
   * stops at the start of a SACKed segment. Only the retransmission timer recovers from that, as SACKed
   * data is never retransmitted before it (Linux's tcp_check_sack_reneging).
   */
  get reneged(): boolean {
    return this.head < this.top && this.records[this.head]!.sacked;
  }

  /**
   * A retransmission timeout. Every segment not SACKed is lost (RFC 6675 §5.1, Linux's loss state) — or,
   * with `sentBefore` (RACK, RFC 8985 §6.3), the first one and those sent at or before that time (more
   * than RACK.rtt + reo_wnd ago): later ones may still arrive and stay in flight. After reneging, SACKed
   * ones are lost too: the SACK bits are turned off (RFC 2018 §8) and everything goes again.
   */
  markAllLost(sentBefore = Number.POSITIVE_INFINITY): void {
    const records = this.records;
    const reneged = this.reneged;
    // Retransmitted lost segments become due again below where `nextLost` last looked.
    this.lostHint = 0;
    for (let i = this.head; i < this.top; i++) {
      const r = records[i]!;
      if (r.sacked) {
        if (!reneged) continue;
        r.sacked = false;
        this.sackedBytes -= seqDiff(r.end, r.start);
        this.sackedSegments -= r.sackedSegments;
        r.sackedSegments = 0;
      }
      if (i !== this.head && r.sentAt > sentBefore) continue;
      if (r.lostRetransmitted) {
        r.lostRetransmitted = false;
        this.lostRetransmittedBytes -= seqDiff(r.end, r.start);
      }
      if (!r.lost) this.markLost(r);
    }
  }

  /**
   * Forgets everything from `seq` on: SND.MAX was pulled back to it (window-probe octets the closed window
   * refused are sent again as new data), so those bytes count as never sent.
   */
  truncate(seq: number): void {
    seq |= 0;
    const records = this.records;
    this.split(seq);
    while (this.top > this.head && seqGe(records[this.top - 1]!.start, seq)) {
      const r = records[--this.top]!;
      const len = seqDiff(r.end, r.start);
      if (r.sacked) {
        this.sackedBytes -= len;
        this.sackedSegments -= r.sackedSegments;
        r.sackedSegments = 0;
      }
      if (r.lost) this.lostBytes -= len;
      if (r.lostRetransmitted) this.lostRetransmittedBytes -= len;
      if (this.spare.length < MAX_SPARE_RECORDS) this.spare.push(r);
      else scoreboardCounters.spareRecordsDropped++;
    }
    this.lostHint = 0;
    if (seqGt(this.highestDelivered, seq)) this.highestDelivered = seq;
    if (seqGt(this.rackEnd, seq)) this.rackEnd = seq;
  }

  /**
   * Judges the first segment not acknowledged (HighACK + 1, at most `mss` bytes) lost, unless it is SACKed
   * or already lost (RFC 6675 §5 step 1). Returns the bytes newly marked.
   */
  markFirstLost(mss: number): number {
    if (this.isEmpty) return 0;
    const first = this.records[this.head]!;
    if (first.sacked || first.lost || first.retransmitted) return 0;
    if (seqDiff(first.end, first.start) > mss) this.split((first.start + mss) | 0);
    const marked = this.markLost(this.records[this.head]!);
    this.outcome.newlyLost += marked;
    return marked;
  }

  /** The lowest segment judged lost and not yet retransmitted since, or undefined (NextSeg rule 1). */
  nextLost(): SendRecord | undefined {
    if (this.lostBytes === this.lostRetransmittedBytes) return undefined;
    const records = this.records;
    for (let i = Math.max(this.head, this.lostHint); i < this.top; i++) {
      const r = records[i]!;
      if (r.lost && !r.lostRetransmitted) {
        this.lostHint = i;
        return r;
      }
    }
    // The hint skipped some (a record was marked lost below it): look from the start once.
    for (let i = this.head; i < this.top; i++) {
      const r = records[i]!;
      if (r.lost && !r.lostRetransmitted) {
        this.lostHint = i;
        return r;
      }
    }
    return undefined;
  }

  /** The highest record (TLP retransmits it when there is no new data), or undefined. */
  last(): SendRecord | undefined {
    return this.top > this.head ? this.records[this.top - 1] : undefined;
  }

  /** Index of the first record ending above `seq` (`top` when none). */
  private indexAfter(seq: number): number {
    const records = this.records;
    let lo = this.head;
    let hi = this.top;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (seqLe(records[mid]!.end, seq)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private markLost(r: SendRecord): number {
    const len = seqDiff(r.end, r.start);
    this.lostHint = 0;
    if (!r.lost) {
      r.lost = true;
      this.lostBytes += len;
    }
    if (r.lostRetransmitted) {
      // A retransmission lost again: it leaves the network, and is sent once more.
      r.lostRetransmitted = false;
      this.lostRetransmittedBytes -= len;
    }
    return len;
  }

  /** Draft §3.3 "UpdateRateSample" for one delivered record, and RACK's bookkeeping. */
  private deliver(r: SendRecord, len: number, newest: SendRecord | undefined): SendRecord {
    const now = this.time.now;
    this.delivered += len;
    this.deliveredAt = now;
    this.rackUpdate(r);
    if (newest === undefined || r.delivered > newest.delivered || r.sentAt > newest.sentAt) {
      const sample = this.outcome.sample;
      sample.priorDelivered = r.delivered;
      sample.priorInFlight = r.inFlight;
      sample.isAppLimited = r.appLimited;
      sample.rttMs = r.retransmitted ? -1 : now - r.sentAt;
      this.firstSentAt = r.sentAt;
      return r;
    }
    return newest;
  }

  /**
   * Draft §3.3 "GenerateRateSample". An interval shorter than the minimum RTT cannot be trusted (ACK
   * compression, or ACKs answering originals of retransmissions would make the rate look far higher than
   * the path's): such a sample has no interval and no rate, as in the draft and Linux's tcp_rate_gen.
   */
  private finishSample(p: SendRecord): void {
    const now = this.time.now;
    const sample = this.outcome.sample;
    const sendElapsed = p.sentAt - p.firstSentAt;
    const ackElapsed = now - p.deliveredAt;
    sample.delivered = this.delivered - p.delivered;
    const interval = Math.max(sendElapsed, ackElapsed);
    sample.intervalMs = interval >= this.minRttMs || !Number.isFinite(this.minRttMs) ? interval : 0;
    sample.deliveryRate = sample.intervalMs > 0 ? sample.delivered / sample.intervalMs : 0;
  }

  private newRecord(start: number, end: number, inFlight: number): SendRecord {
    const now = this.time.now;
    const r = this.takeRecord();
    r.start = start;
    r.end = end;
    r.sentAt = now;
    r.retransmitted = false;
    r.sacked = false;
    r.segments = this.segmentsIn(seqDiff(end, start));
    r.sackedSegments = 0;
    r.lost = false;
    r.lostRetransmitted = false;
    this.stamp(r, inFlight);
    return r;
  }

  /**
   * Drops the acknowledged records before `head` from the array (moving the live ones down, in place) and
   * keeps them for reuse. Nothing outside holds a record across calls: `nextLost` and `last` are read at once.
   */
  private compact(): void {
    const records = this.records;
    const head = this.head;
    const spare = this.spare;
    // See MAX_SPARE_RECORDS: a flight larger than that reuses its own records, and once it has shrunk
    // (or drained) the spares beyond what it needs are let go.
    const top = this.top;
    const keep = Math.max(MAX_SPARE_RECORDS, 2 * (top - head));
    if (spare.length > keep) {
      scoreboardCounters.spareRecordsDropped += spare.length - keep;
      spare.length = keep;
    }
    // Records before `reclaimed` were taken for reuse already (see `takeRecord`).
    let i = this.reclaimed;
    for (; i < head && spare.length < keep; i++) spare.push(records[i]!);
    if (i < head) scoreboardCounters.spareRecordsDropped += head - i;
    records.copyWithin(0, head, top);
    this.top = top - head;
    this.reclaimed = 0;
    this.reclaimable = 0;
    // The slots past `top` stay (see `records`), but not without bound: once a large flight has gone,
    // an array several times what is live is cut back (and the records it still names let go).
    if (records.length > 4 * this.top + MAX_SPARE_RECORDS) records.length = this.top;
    this.head = 0;
    this.lostHint = 0;
  }

  /**
   * A record to fill in: a spare, else the lowest acknowledged one not yet compacted away that no ACK
   * being processed still reads (see `reclaimed`), else a new one (counted: in a steady state none is).
   */
  private takeRecord(): SendRecord {
    const spare = this.spare.pop();
    if (spare !== undefined) return spare;
    if (this.reclaimed < this.reclaimable) return this.records[this.reclaimed++]!;
    scoreboardCounters.recordsMade++;
    return blankRecord();
  }

  /** Draft §3.2 "SendPacket": the connection's counters as of this transmission. */
  private stamp(r: SendRecord, inFlight: number): void {
    r.inFlight = inFlight;
    r.delivered = this.delivered;
    r.deliveredAt = this.deliveredAt;
    r.firstSentAt = this.firstSentAt;
    r.appLimited = this.appLimitedUntil !== 0;
  }

  /**
   * Makes `seq` a record boundary if it falls inside one, and returns the index of the first record
   * starting at or after `seq` (`top` when none).
   */
  private split(seq: number): number {
    const records = this.records;
    let lo = this.head;
    let hi = this.top;
    // Binary search for the first record whose end is above seq.
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (seqLe(records[mid]!.end, seq)) lo = mid + 1;
      else hi = mid;
    }
    if (lo >= this.top) return lo;
    const r = records[lo]!;
    if (!seqGt(seq, r.start)) return lo;
    const tail = this.takeRecord();
    tail.start = seq;
    tail.end = r.end;
    tail.sentAt = r.sentAt;
    tail.retransmitted = r.retransmitted;
    tail.sacked = r.sacked;
    // The segments are shared in proportion to the bytes: exact for a run of equal segments cut at a
    // segment boundary (what SACK blocks and ACKs do); each piece keeps at least one.
    const total = r.segments;
    const head =
      total > 1
        ? Math.min(
            total - 1,
            Math.max(1, Math.round((seqDiff(seq, r.start) * total) / seqDiff(r.end, r.start))),
          )
        : 1;
    r.segments = head;
    tail.segments = total > 1 ? total - head : 1;
    tail.sackedSegments = 0;
    if (r.sacked) {
      this.sackedSegments += r.segments + tail.segments - r.sackedSegments;
      r.sackedSegments = r.segments;
      tail.sackedSegments = tail.segments;
    }
    tail.lost = r.lost;
    tail.lostRetransmitted = r.lostRetransmitted;
    tail.delivered = r.delivered;
    tail.deliveredAt = r.deliveredAt;
    tail.firstSentAt = r.firstSentAt;
    tail.appLimited = r.appLimited;
    tail.inFlight = r.inFlight;
    r.end = seq;
    // Inserted by hand: splice would make an (empty) array of removed records on every split, about one
    // per ACK in a bulk transfer.
    const top = this.top;
    for (let i = top; i > lo + 1; i--) records[i] = records[i - 1]!;
    this.top = top + 1;
    records[lo + 1] = tail;
    if (lo + 1 <= this.lostHint) this.lostHint = 0;
    return lo + 1;
  }
}

/** A record with every field present (one object shape for all records), filled in by its user. */
function blankRecord(): SendRecord {
  return {
    start: 0,
    end: 0,
    sentAt: 0,
    retransmitted: false,
    sacked: false,
    segments: 1,
    sackedSegments: 0,
    lost: false,
    lostRetransmitted: false,
    delivered: 0,
    deliveredAt: 0,
    firstSentAt: 0,
    appLimited: false,
    inFlight: 0,
  };
}
