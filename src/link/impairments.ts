/**
 * Seeded, deterministic faults for one direction of a simulated link, in the spirit of Linux netem.
 *
 * A frame entering an {@link ImpairedPath} meets, in this order:
 *   1. link-down: dropped while the direction is down (frames in flight when it goes down are lost too);
 *   2. MTU: dropped when its Ethernet payload exceeds the smallest of the link MTU and both ends' MTUs;
 *   3. random loss (independent per frame) and bursty loss (Gilbert-Elliott), both at the link's entrance;
 *   4. the rate limiter: a FIFO bottleneck that serialises frames at `rateBitsPerSecond` behind a queue
 *      bounded in frames and/or bytes; a frame that does not fit is tail-dropped; with an ECN marking
 *      threshold, an ECN-capable packet that finds the queue at or above it is marked CE (RFC 3168 §5);
 *   5. on the wire, for each copy of the frame: duplication (one extra copy), corruption (bits flipped in
 *      a copy, never in the sender's buffer), reordering (a copy held back so later frames overtake it),
 *      then propagation delay plus jitter.
 * The receiver gets the frame when its last bit arrives: queueing + serialisation + delay + jitter.
 *
 * Jitter alone never reorders: arrivals are clamped to be no earlier than the previous arrival, as on a real
 * FIFO link, unless `jitterMayReorder` is set. Each impairment draws from its own forked random stream, so
 * switching one on never changes which frames another one hits.
 *
 * Delivery is always through the clock, even with zero delay: a stack's send never re-enters a receiver.
 */
import type { Clock, PostedTimer, TimerHandle, TimerTarget } from '../time/clock.js';
import type { TraceEvent, Tracer } from '../trace/events.js';
import { ArrayQueue } from '../util/array-queue.js';
import { objectArray } from '../util/arrays.js';
import type { Random } from '../util/random.js';
import { markCongestionExperienced } from '../wire/ecn-mark.js';
import { etherTypeAt } from '../wire/ethernet.js';
import { recycleFrame } from './frame-allocator.js';
import { GilbertElliottChannel, type GilbertElliottParameters } from './gilbert-elliott.js';

export type LinkDropReason = Extract<TraceEvent, { kind: 'link.dropped' }>['reason'];

export const LINK_DROP_REASONS: readonly LinkDropReason[] = [
  'loss',
  'burst-loss',
  'queue-full',
  'mtu',
  'link-down',
];

export interface LinkImpairments {
  /** One-way propagation delay, ms. Default 0. */
  delayMs?: number;
  /** Extra delay drawn uniformly from [0, jitterMs) per frame, ms. Default 0. */
  jitterMs?: number;
  /** Let jitter reorder frames (a later frame with less jitter overtakes). Default false: FIFO. */
  jitterMayReorder?: boolean;
  /** Bottleneck rate in bits per second; unset means no rate limit and no queue. */
  rateBitsPerSecond?: number;
  /** Bytes counted on the bottleneck per frame besides the frame itself (e.g. 24 for preamble, FCS and
   * inter-frame gap). Default 0, so a 1500-byte frame at 12 Mbit/s takes exactly 1 ms. */
  perFrameOverheadBytes?: number;
  /** Most frames the rate limiter holds, the one being serialised included. Default 1000 when a rate is
   * set (Linux's default txqueuelen). */
  queueLimitFrames?: number;
  /** Most bytes the rate limiter holds, the frame being serialised included. Default unlimited. */
  queueLimitBytes?: number;
  /**
   * Active queue management with ECN (RFC 3168 §5; a step marker, as DCTCP's switches or RED with its
   * two thresholds equal): an IPv4/IPv6 packet marked ECT(0) or ECT(1) that arrives while the rate
   * limiter already holds at least this many frames enters the queue marked Congestion Experienced
   * instead of waiting for the queue to overflow. Not-ECT packets are unaffected (tail drop at the
   * limit). Needs a rate. Default: no marking. Linux's fq_codel has the like in `ce_threshold`.
   */
  ecnMarkThresholdFrames?: number;
  /** As `ecnMarkThresholdFrames`, counted in bytes queued. Default: no marking. */
  ecnMarkThresholdBytes?: number;
  /** Probability each frame is lost. Default 0. */
  loss?: number;
  /** Bursty loss on top of `loss`. */
  burstLoss?: GilbertElliottParameters;
  /** Probability a frame is delivered twice. Default 0. */
  duplicate?: number;
  /** Probability a frame (each copy) is held back by `reorderDelayMs` so that later frames overtake it. */
  reorder?: number;
  /** Hold-back for reordered frames, ms. Default max(1, delayMs). */
  reorderDelayMs?: number;
  /** Probability a frame (each copy) arrives with bits flipped. Default 0. */
  corrupt?: number;
  /**
   * Bits flipped in a corrupted frame, at distinct random positions. Default 1, which the Internet
   * checksum always detects; two or more flips can cancel out in a ones'-complement sum (RFC 1071) and
   * slip through, as on real links.
   */
  corruptBits?: number;
  /** Largest Ethernet payload the link carries; larger frames are dropped. Default: the ends' MTUs. */
  mtu?: number;
  /** Link down: every frame is dropped. Default false. */
  down?: boolean;
}

export interface LinkDirectionCounters {
  /** Frames handed to the link, and their bytes. */
  sent: number;
  sentBytes: number;
  /** Frames handed to the receiver (duplicates included), and their bytes. */
  delivered: number;
  deliveredBytes: number;
  /** Frames dropped, by reason. */
  dropped: Record<LinkDropReason, number>;
  /** Extra copies made. */
  duplicated: number;
  /** Copies held back to be overtaken. */
  reordered: number;
  /** Copies delivered with flipped bits. */
  corrupted: number;
  /** ECN-capable packets the rate limiter marked CE (ecnMarkThresholdFrames/Bytes). */
  ceMarked: number;
  /** Largest rate-limiter occupancy seen. */
  queueHighWaterFrames: number;
  queueHighWaterBytes: number;
  /** Frames that arrived while the receiving end had no receiver installed (counted as delivered too). */
  undeliverable: number;
}

export function newLinkDirectionCounters(): LinkDirectionCounters {
  return {
    sent: 0,
    sentBytes: 0,
    delivered: 0,
    deliveredBytes: 0,
    dropped: { loss: 0, 'burst-loss': 0, 'queue-full': 0, mtu: 0, 'link-down': 0 },
    duplicated: 0,
    reordered: 0,
    corrupted: 0,
    ceMarked: 0,
    queueHighWaterFrames: 0,
    queueHighWaterBytes: 0,
    undeliverable: 0,
  };
}

/** Sum of all drop reasons. */
export function totalDropped(counters: LinkDirectionCounters): number {
  let total = 0;
  for (const reason of LINK_DROP_REASONS) total += counters.dropped[reason];
  return total;
}

/** Throws an EINVAL error naming the first field that is out of range. */
export function validateImpairments(impairments: LinkImpairments): void {
  const i = impairments;
  nonNegative('delayMs', i.delayMs);
  nonNegative('jitterMs', i.jitterMs);
  nonNegative('reorderDelayMs', i.reorderDelayMs);
  nonNegative('perFrameOverheadBytes', i.perFrameOverheadBytes);
  if (i.rateBitsPerSecond !== undefined && !(i.rateBitsPerSecond > 0 && i.rateBitsPerSecond < Infinity)) {
    throw invalid(`rateBitsPerSecond must be a positive finite number, got ${i.rateBitsPerSecond}`);
  }
  positiveInteger('queueLimitFrames', i.queueLimitFrames);
  positiveInteger('queueLimitBytes', i.queueLimitBytes);
  positiveInteger('ecnMarkThresholdFrames', i.ecnMarkThresholdFrames);
  positiveInteger('ecnMarkThresholdBytes', i.ecnMarkThresholdBytes);
  positiveInteger('corruptBits', i.corruptBits);
  positiveInteger('mtu', i.mtu);
  probability('loss', i.loss);
  probability('duplicate', i.duplicate);
  probability('reorder', i.reorder);
  probability('corrupt', i.corrupt);
  if (i.burstLoss !== undefined) {
    probability('burstLoss.goodToBad', i.burstLoss.goodToBad);
    probability('burstLoss.badToGood', i.burstLoss.badToGood);
    probability('burstLoss.lossInGood', i.burstLoss.lossInGood);
    probability('burstLoss.lossInBad', i.burstLoss.lossInBad);
    if (i.burstLoss.goodToBad === undefined || i.burstLoss.badToGood === undefined) {
      throw invalid('burstLoss needs goodToBad and badToGood');
    }
  }
}

/** What an ImpairedPath needs to know about the link it belongs to. */
export interface PathEnds {
  readonly linkName: string;
  /** Names of the sending and receiving ends, for trace events. */
  readonly from: string;
  readonly to: string;
  readonly senderMtu: number;
  readonly receiverMtu: number;
  /** A frame id unique on the link (both directions share one sequence). */
  nextFrameId(): number;
  /**
   * Hands a frame to the receiving end; returns false when no receiver is installed. `mark` is what the
   * sender attached to the frame (see ImpairedPath.send). `untapped`: no tap of the path was given this
   * frame, so once its receiver holds nothing of it either, nothing does.
   */
  deliver(frame: Uint8Array, mark: number, untapped: boolean): boolean;
  /**
   * Deliver frames that keep their order (neither reordered nor jittered out of order) from one queue
   * with one timer for the earliest, instead of a timer each. On a real clock this keeps their order
   * whatever the host's timer slack (each timer's deadline is taken from a fresh clock reading, so a
   * pause between computing a frame's arrival and setting its timer could otherwise let the next frame
   * overtake it) and costs one timer per wake-up. Simulated links leave it off: their frames keep the
   * place among other timers that a timer each gives them (see `batchDelivery`). Default false.
   */
  readonly orderedDelivery?: boolean;
  /**
   * Frames that would arrive one right after another, with nothing else due in between, are delivered
   * from one timer, and `batchDelivered` follows every batch (a receiving end that coalesces, GRO, ends
   * its batch there). Everything runs in the order a timer per frame gives; what a caller of the clock
   * sees is fewer timers: a `step()` runs a batch. False: a timer per frame.
   */
  readonly batchDelivery?: boolean;
  /** With `batchDelivery`: called when a batch (or a frame delivered alone) has been delivered. */
  batchDelivered?(): void;
}

/** Observes frames at a point of the path: 'sent' as they enter, 'delivered' as they reach the receiver. */
export type FrameTap = (timeMs: number, frame: Uint8Array) => void;
export type TapPoint = 'sent' | 'delivered';

const ETHERNET_HEADER_LENGTH = 14;
const VLAN_TAG_LENGTH = 4;
const ETHERTYPE_VLAN = 0x8100;
const DEFAULT_QUEUE_LIMIT_FRAMES = 1000;
/** Slots the rate limiter's ring starts with (a power of two, as every size it grows to). */
const INITIAL_QUEUE_SLOTS = 16;

/** A copy of a frame on its way. Records are reused (see `ImpairedPath.release`), so every field is written on reuse. */
class InFlightCopy implements PostedTimer {
  frameId = 0;
  frame: Uint8Array = EMPTY_FRAME;
  /** The frame as traced (a private copy, so later changes by the receiver do not rewrite history). */
  traced: Uint8Array | undefined = undefined;
  /** When the frame's last bit is due at the receiver. */
  due = 0;
  /** Its timer's delay from when it was sent (read by the clock's `post`, see PostedTimer). */
  postDelayMs = 0;
  /** What the sender attached to the frame (see ImpairedPath.send). */
  mark = 0;
  /** A 'sent' tap was given the frame (it may hold it). */
  tapped = false;
  /** Its timer, when the clock cannot post one (`Clock.post`). */
  handle: TimerHandle | undefined = undefined;
  /** Still on its way (not delivered, not lost): a member of the path's in-flight list. */
  inFlight = false;
  /** Neighbours in the in-flight list (send order). */
  previous: InFlightCopy | undefined = undefined;
  next: InFlightCopy | undefined = undefined;
  /** The copy delivered right after this one from this one's timer (see `ImpairedPath.schedule`). */
  batchNext: InFlightCopy | undefined = undefined;
}

const EMPTY_FRAME = new Uint8Array(0);

/**
 * Copy records kept for reuse. A path holds at most what was in flight at once, up to this many; past
 * that the collector takes them.
 */
const COPY_POOL_LIMIT = 1024;

/** How much later than due frames were delivered: zero on a virtual clock, the host's timer slack on a real one. */
export interface DeliveryLateness {
  frames: number;
  totalMs: number;
  maxMs: number;
}

/** One direction of a link, applying {@link LinkImpairments} to every frame. */
export class ImpairedPath implements TimerTarget<InFlightCopy> {
  readonly counters: LinkDirectionCounters = newLinkDirectionCounters();
  /** Lateness of every delivered copy (a real clock wakes up after the due time, never before). */
  readonly lateness: DeliveryLateness = { frames: 0, totalMs: 0, maxMs: 0 };
  private current: LinkImpairments = {};
  private readonly burstChannel = new GilbertElliottChannel({ goodToBad: 0, badToGood: 1 });
  private readonly lossRandom: Random;
  private readonly burstRandom: Random;
  private readonly duplicateRandom: Random;
  private readonly corruptRandom: Random;
  private readonly reorderRandom: Random;
  private readonly jitterRandom: Random;

  /**
   * Rate limiter: finish times and sizes of frames not yet fully serialised, oldest first, in a ring of
   * parallel typed arrays (`queueCount` entries from `queueHead`). A plain array shifted from its head and
   * emptied and regrown as the queue drains and fills cost an allocation or two per frame; the ring grows
   * (doubling) only up to the most frames ever queued at once, which the frame limit bounds.
   */
  private queueFinish = new Float64Array(INITIAL_QUEUE_SLOTS);
  private queueSize = new Uint32Array(INITIAL_QUEUE_SLOTS);
  private queueHead = 0;
  private queueCount = 0;
  private queueBytes = 0;
  /** When the bottleneck finishes serialising everything queued so far. */
  private busyUntil = Number.NEGATIVE_INFINITY;
  /**
   * The time of the frame `send` is taking, read here by its helpers rather than passed to them: a
   * fractional time passed to a call V8 does not inline is boxed into a new heap number. A double field
   * (started as a fraction), written in place.
   */
  private sendTime = 0.5;
  /** Latest arrival scheduled in FIFO order; later FIFO frames never arrive before it. */
  private lastArrival = Number.NEGATIVE_INFINITY;

  /**
   * Copies on their way, in send order: a doubly linked list through the copies themselves, so that
   * adding and removing one (once per frame) costs no hashing and no allocation.
   */
  private inFlightFirst: InFlightCopy | undefined;
  private inFlightLast: InFlightCopy | undefined;
  private inFlightCount = 0;
  /** With `orderedDelivery`: copies in arrival order, and the timer for the oldest. */
  private readonly fifo = new ArrayQueue<InFlightCopy>();
  private fifoTimer: TimerHandle | undefined;
  /**
   * With `batchDelivery`: the first and last copy of the batch whose timer was posted last and has not
   * run (see `schedule`); undefined when there is none.
   */
  private batchHead: InFlightCopy | undefined;
  private batchTail: InFlightCopy | undefined;
  /** Counts `loseEverything` calls: a batch being delivered stops when the rest of it was lost. */
  private losses = 0;
  private closed = false;
  /**
   * Copy records whose frame was delivered or lost and whose timer has run, for reuse: the first
   * `pooledCopies` entries, undefined past them. Kept by count rather
   * than with push and pop: every link's pool starts as an array of small integers (V8's first elements
   * kind for `[]`), so the optimised code that releases copies saw two kinds of array and called the
   * push builtin for every frame instead of inlining it (0.7% of a bulk transfer between two stacks).
   */
  private readonly copyPool: (InFlightCopy | undefined)[] = objectArray();
  private pooledCopies = 0;
  private readonly sentTaps: FrameTap[] = [];
  private readonly deliveredTaps: FrameTap[] = [];

  constructor(
    private readonly clock: Clock,
    random: Random,
    private readonly tracer: Tracer,
    private readonly ends: PathEnds,
    impairments: LinkImpairments = {},
  ) {
    this.lossRandom = random.fork('loss');
    this.burstRandom = random.fork('burst-loss');
    this.duplicateRandom = random.fork('duplicate');
    this.corruptRandom = random.fork('corrupt');
    this.reorderRandom = random.fork('reorder');
    this.jitterRandom = random.fork('jitter');
    this.setImpairments(impairments);
  }

  get impairments(): Readonly<LinkImpairments> {
    return this.current;
  }

  /**
   * Replaces the impairments. Frames already queued or in flight keep the fate they were given; going down
   * loses them. The Gilbert-Elliott state carries over while bursty loss stays configured.
   */
  setImpairments(impairments: LinkImpairments): void {
    validateImpairments(impairments);
    const wasDown = this.current.down === true;
    this.current = { ...impairments };
    if (impairments.burstLoss) this.burstChannel.parameters = { ...impairments.burstLoss };
    else this.burstChannel.reset();
    if (impairments.down === true && !wasDown) this.loseEverything('link-down');
  }

  /** Copies on their way (queued or propagating). */
  get framesInFlight(): number {
    return this.inFlightCount;
  }

  /** Frames in the rate limiter right now, the one being serialised included. */
  get queuedFrames(): number {
    this.sendTime = this.clock.now();
    this.drainQueue();
    return this.queueCount;
  }

  get queuedBytes(): number {
    this.sendTime = this.clock.now();
    this.drainQueue();
    return this.queueBytes;
  }

  /** Installs a tap; returns a function that removes it. */
  addTap(point: TapPoint, tap: FrameTap): () => void {
    const taps = point === 'sent' ? this.sentTaps : this.deliveredTaps;
    taps.push(tap);
    return () => {
      const index = taps.indexOf(tap);
      if (index >= 0) taps.splice(index, 1);
    };
  }

  /**
   * Drops every queued and in-flight copy, counting each under `reason` (link down, end closed). As with a
   * frame dropped at the entrance (`dropSent`), the path owns what it loses: a copy no 'sent' tap was given
   * goes back to the frame allocator, and its record to the pool once no timer refers to it any more.
   */
  loseEverything(reason: LinkDropReason): void {
    const first = this.inFlightFirst;
    this.losses++;
    this.batchHead = undefined;
    this.batchTail = undefined;
    // Every timer and queue entry of the lost copies goes first, so that none refers to a record released below.
    if (this.inFlightCount > 0) this.clock.cancelPosts?.(this);
    this.inFlightFirst = undefined;
    this.inFlightLast = undefined;
    this.inFlightCount = 0;
    this.fifoTimer?.cancel();
    this.fifoTimer = undefined;
    this.fifo.clear();
    for (let copy = first; copy !== undefined; ) {
      const next = copy.next;
      copy.inFlight = false;
      copy.previous = undefined;
      copy.next = undefined;
      copy.handle?.cancel();
      this.drop(copy.frameId, reason);
      if (!copy.tapped) recycleFrame(copy.frame);
      this.release(copy);
      copy = next;
    }
    this.queueHead = 0;
    this.queueCount = 0;
    this.queueBytes = 0;
    this.busyUntil = Number.NEGATIVE_INFINITY;
    this.lastArrival = Number.NEGATIVE_INFINITY;
  }

  /** Closes the path for good: what is on the way is lost, and every later frame is dropped as link-down. */
  close(): void {
    this.closed = true;
    this.loseEverything('link-down');
  }

  /**
   * Takes ownership of `frame` and sends it on its way. `mark` (default 0) travels with the frame to the
   * receiver untouched. A marked frame is one an offloading link end vouches for (memory-link.ts): it may
   * be a TCP super-segment beyond the MTU, whose pieces fit, so the MTU check lets it through.
   */
  send(frame: Uint8Array, mark = 0): void {
    const now = this.clock.now();
    this.sendTime = now;
    const imp = this.current;
    const counters = this.counters;
    const frameId = this.ends.nextFrameId();
    counters.sent++;
    counters.sentBytes += frame.length;
    let traced: Uint8Array | undefined;
    if (this.tracer.enabled) {
      traced = frame.slice();
      this.tracer.emit({
        kind: 'link.sent',
        time: now,
        link: this.ends.linkName,
        from: this.ends.from,
        to: this.ends.to,
        frameId,
        frame: traced,
      });
    }
    // Indexed, not for-of: where send runs unoptimised (a connection's first frames), an iterator is an allocation.
    const sentTaps = this.sentTaps;
    for (let i = 0; i < sentTaps.length; i++) sentTaps[i]!(now, frame);

    const refused = this.entranceVerdict(frame, imp, mark !== 0);
    if (refused !== undefined) {
      this.dropSent(frame, frameId, refused);
      return;
    }
    // When the frame's last bit would reach the far end without jitter: it leaves now, or when the
    // bottleneck has serialised it, then propagates for delayMs. A sum in each branch rather than one sum
    // of a variable set in either: V8 joined the clock's reading (a tagged number) with the double read
    // from busyUntil by boxing the double, an allocation per frame.
    let propagated = now + (imp.delayMs ?? 0);
    if (imp.rateBitsPerSecond !== undefined) {
      const congested = this.aboveMarkThreshold(imp);
      if (!this.enqueue(frame.length, imp)) {
        this.dropSent(frame, frameId, 'queue-full');
        return;
      }
      // The frame's last bit leaves when the bottleneck is done with everything queued so far.
      propagated = this.busyUntil + (imp.delayMs ?? 0);
      if (congested && markCongestionExperienced(frame)) counters.ceMarked++;
    }

    const copies = this.duplicateRandom.chance(imp.duplicate ?? 0) ? 2 : 1;
    if (copies === 2) {
      counters.duplicated++;
      this.emitMark('link.duplicated', now, frameId);
    }
    // Whether the frame itself travels (a corrupted first copy travels in a buffer of its own).
    let frameTravels = false;
    for (let c = 0; c < copies; c++) {
      // The second copy gets its own buffer: the receiver owns each frame it is given and may change it.
      let copy = c === 0 ? frame : frame.slice();
      let copyTraced = traced;
      if (this.corruptRandom.chance(imp.corrupt ?? 0)) {
        if (copy === frame) copy = frame.slice();
        flipRandomBits(copy, imp.corruptBits ?? 1, this.corruptRandom);
        counters.corrupted++;
        if (traced !== undefined) copyTraced = copy.slice();
        this.emitMark('link.corrupted', now, frameId);
      }
      let arrival = propagated;
      if (imp.jitterMs !== undefined && imp.jitterMs > 0) arrival += this.jitterRandom.range(0, imp.jitterMs);
      let inOrder = false;
      if (this.reorderRandom.chance(imp.reorder ?? 0)) {
        arrival += imp.reorderDelayMs ?? Math.max(1, imp.delayMs ?? 0);
        counters.reordered++;
        this.emitMark('link.reordered', now, frameId);
      } else if (imp.jitterMayReorder !== true) {
        if (arrival < this.lastArrival) arrival = this.lastArrival;
        this.lastArrival = arrival;
        inOrder = true;
      }
      const inFlight = this.pooledCopy() ?? new InFlightCopy();
      inFlight.frameId = frameId;
      inFlight.frame = copy;
      inFlight.traced = copyTraced;
      inFlight.due = arrival;
      inFlight.postDelayMs = arrival - now;
      inFlight.mark = mark;
      inFlight.tapped = this.sentTaps.length > 0;
      if (inOrder && this.ends.orderedDelivery === true) this.enqueueInOrder(inFlight);
      else this.schedule(inFlight);
      if (copy === frame) frameTravels = true;
    }
    // Every copy of a frame whose first copy was corrupted travels in a buffer of its own: nothing refers to
    // the frame any more unless a 'sent' tap was given it, so its memory goes back, as a dropped frame's does.
    if (!frameTravels && this.sentTaps.length === 0) recycleFrame(frame);
  }

  /** Why the frame is refused at the link's entrance, if it is. */
  private entranceVerdict(
    frame: Uint8Array,
    imp: LinkImpairments,
    superSegmentAllowed: boolean,
  ): LinkDropReason | undefined {
    if (imp.down === true || this.closed) return 'link-down';
    if (!superSegmentAllowed && ethernetPayloadLength(frame) > this.effectiveMtu()) return 'mtu';
    // Both loss processes always draw, so neither shifts the other's stream.
    const lostAtRandom = this.lossRandom.chance(imp.loss ?? 0);
    const lostInBurst = imp.burstLoss !== undefined && this.burstChannel.step(this.burstRandom);
    if (lostAtRandom) return 'loss';
    if (lostInBurst) return 'burst-loss';
    return undefined;
  }

  /** Queues a copy whose arrival is no earlier than any queued before it (see `orderedDelivery`). */
  private enqueueInOrder(copy: InFlightCopy): void {
    const now = this.sendTime;
    this.addInFlight(copy);
    this.fifo.push(copy);
    if (this.fifoTimer === undefined)
      this.fifoTimer = this.clock.setTimer(copy.due - now, this.deliverInOrder);
  }

  /**
   * Delivers every queued copy that is due, in order, then waits for the next. The first copy is the one
   * the timer was set for: the clock ran the timer, so it is due, even when a real clock that batches
   * wake-ups (RealClock's earlyMs) runs it a little before its time. Checking it against the clock again
   * would set the same timer again, which such a clock runs at once: a busy wait until the moment came.
   */
  private readonly deliverInOrder = (): void => {
    this.fifoTimer = undefined;
    let timerCopy = true;
    for (let copy = this.fifo.peek(); copy !== undefined; copy = this.fifo.peek()) {
      const now = this.clock.now();
      if (!timerCopy && copy.due > now) {
        this.fifoTimer = this.clock.setTimer(copy.due - now, this.deliverInOrder);
        break;
      }
      timerCopy = false;
      this.fifo.shift();
      this.arrive(copy);
      this.release(copy);
    }
    if (this.ends.batchDelivery === true) this.ends.batchDelivered?.();
  };

  /**
   * One timer per copy, so that copies and the other timers due at one instant run in the order they
   * were set, as they always have. Posted where the clock can: no closure or handle per frame. The delay
   * comes in the copy (`postDelayMs`), not as an argument, which would be boxed (see PostedTimer).
   *
   * With `batchDelivery`, a copy whose timer would run right after the last one posted here, with nothing
   * between them (Clock.followsLastPost: due at the same time, and no timer set anywhere since), joins
   * that timer's batch instead: the run order is exactly as with a timer each, and the receiver learns
   * where a batch ends (a window the sender wrote out in one go arrives as one batch, as Linux's NAPI
   * poll hands GRO the frames a device had ready).
   */
  private schedule(copy: InFlightCopy): void {
    this.addInFlight(copy);
    const clock = this.clock;
    if (clock.post === undefined) {
      copy.handle = clock.setTimer(copy.postDelayMs, () => {
        this.arrive(copy);
        if (this.ends.batchDelivery === true) this.ends.batchDelivered?.();
      });
      return;
    }
    if (this.ends.batchDelivery === true) {
      const head = this.batchHead;
      if (head !== undefined && clock.followsLastPost?.(this, head, copy) === true) {
        this.batchTail!.batchNext = copy;
        this.batchTail = copy;
        return;
      }
      this.batchHead = copy;
      this.batchTail = copy;
    }
    clock.post(this, copy);
  }

  /** @internal A posted copy's timer (see `schedule`): the copy, and the batch it heads. */
  onTimer(copy: InFlightCopy): void {
    if (this.ends.batchDelivery !== true) {
      this.arrive(copy);
      this.release(copy);
      return;
    }
    if (copy === this.batchHead) {
      this.batchHead = undefined;
      this.batchTail = undefined;
    }
    const losses = this.losses;
    let next: InFlightCopy | undefined = copy;
    try {
      while (next !== undefined) {
        const current: InFlightCopy = next;
        next = current.batchNext;
        current.batchNext = undefined;
        this.arrive(current);
        this.release(current);
        // The receiver took the link down or closed it: the rest of the batch was lost (and released).
        if (this.losses !== losses) next = undefined;
      }
    } finally {
      // A receiver threw: the rest of the batch still arrives, from a timer of its own at this instant,
      // as each would have with a timer per frame.
      if (next !== undefined) {
        next.postDelayMs = 0;
        this.clock.post!(this, next);
      }
    }
    this.ends.batchDelivered?.();
  }

  /** A copy record kept for reuse, taken out of the pool; undefined when none is. */
  private pooledCopy(): InFlightCopy | undefined {
    if (this.pooledCopies === 0) return undefined;
    const index = --this.pooledCopies;
    const copy = this.copyPool[index];
    this.copyPool[index] = undefined;
    return copy;
  }

  /** Keeps a copy record for reuse once nothing refers to it (its timer has run, it left the FIFO). */
  private release(copy: InFlightCopy): void {
    copy.frame = EMPTY_FRAME;
    copy.traced = undefined;
    copy.handle = undefined;
    copy.batchNext = undefined;
    if (this.pooledCopies < COPY_POOL_LIMIT) this.copyPool[this.pooledCopies++] = copy;
  }

  private addInFlight(copy: InFlightCopy): void {
    copy.inFlight = true;
    copy.previous = this.inFlightLast;
    if (this.inFlightLast === undefined) this.inFlightFirst = copy;
    else this.inFlightLast.next = copy;
    this.inFlightLast = copy;
    this.inFlightCount++;
  }

  private removeInFlight(copy: InFlightCopy): void {
    copy.inFlight = false;
    if (copy.previous === undefined) this.inFlightFirst = copy.next;
    else copy.previous.next = copy.next;
    if (copy.next === undefined) this.inFlightLast = copy.previous;
    else copy.next.previous = copy.previous;
    copy.previous = undefined;
    copy.next = undefined;
    this.inFlightCount--;
  }

  private arrive(copy: InFlightCopy): void {
    if (!copy.inFlight) return;
    this.removeInFlight(copy);
    const now = this.clock.now();
    const counters = this.counters;
    counters.delivered++;
    counters.deliveredBytes += copy.frame.length;
    const late = now - copy.due;
    const lateness = this.lateness;
    lateness.frames++;
    lateness.totalMs += late;
    if (late > lateness.maxMs) lateness.maxMs = late;
    if (this.tracer.enabled) {
      this.tracer.emit({
        kind: 'link.delivered',
        time: now,
        link: this.ends.linkName,
        from: this.ends.from,
        to: this.ends.to,
        frameId: copy.frameId,
        frame: copy.traced ?? copy.frame.slice(),
      });
    }
    const deliveredTaps = this.deliveredTaps;
    for (let i = 0; i < deliveredTaps.length; i++) deliveredTaps[i]!(now, copy.frame);
    const untapped = !copy.tapped && deliveredTaps.length === 0;
    if (!this.ends.deliver(copy.frame, copy.mark, untapped)) {
      counters.undeliverable++;
      // Nobody took the frame (no receiver at that end): unless a tap has it, nothing refers to it any more.
      if (untapped) recycleFrame(copy.frame);
    }
  }

  /**
   * Drops a frame at the link's entrance. The path owns it (see `send`), so unless a 'sent' tap was given
   * it (and may keep it), nothing refers to it any more: its memory goes back to the allocator, as a
   * delivered frame's does (memory-link.ts). A frame lost otherwise pins its slab, which then is never
   * carved again: on a lossy path, slab after slab.
   */
  private dropSent(frame: Uint8Array, frameId: number, reason: LinkDropReason): void {
    this.drop(frameId, reason);
    if (this.sentTaps.length === 0) recycleFrame(frame);
  }

  private drop(frameId: number, reason: LinkDropReason): void {
    this.counters.dropped[reason]++;
    if (this.tracer.enabled) {
      this.tracer.emit({
        kind: 'link.dropped',
        time: this.clock.now(),
        link: this.ends.linkName,
        from: this.ends.from,
        to: this.ends.to,
        frameId,
        reason,
      });
    }
  }

  private emitMark(
    kind: 'link.duplicated' | 'link.corrupted' | 'link.reordered',
    time: number,
    frameId: number,
  ): void {
    if (this.tracer.enabled) this.tracer.emit({ kind, time, link: this.ends.linkName, frameId });
  }

  private effectiveMtu(): number {
    return Math.min(this.current.mtu ?? Number.POSITIVE_INFINITY, this.ends.senderMtu, this.ends.receiverMtu);
  }

  /** The queue, as an arriving frame finds it, is at or above an ECN marking threshold. */
  private aboveMarkThreshold(imp: LinkImpairments): boolean {
    if (imp.ecnMarkThresholdFrames === undefined && imp.ecnMarkThresholdBytes === undefined) return false;
    this.drainQueue();
    const frames = this.queueCount;
    return (
      frames >= (imp.ecnMarkThresholdFrames ?? Number.POSITIVE_INFINITY) ||
      this.queueBytes >= (imp.ecnMarkThresholdBytes ?? Number.POSITIVE_INFINITY)
    );
  }

  /**
   * Puts a frame on the bottleneck, which then is busy until its last bit leaves (`busyUntil`); false when
   * the queue is full. Returns no time: a double returned from a call V8 does not inline is boxed, one
   * allocation per frame.
   */
  private enqueue(length: number, imp: LinkImpairments): boolean {
    const now = this.sendTime;
    this.drainQueue();
    const frames = this.queueCount;
    const frameLimit = imp.queueLimitFrames ?? DEFAULT_QUEUE_LIMIT_FRAMES;
    const byteLimit = imp.queueLimitBytes ?? Number.POSITIVE_INFINITY;
    if (frames + 1 > frameLimit || this.queueBytes + length > byteLimit) return false;
    const bits = (length + (imp.perFrameOverheadBytes ?? 0)) * 8;
    // Multiply before dividing so that whole numbers stay exact: 12000 bits at 12e6 bit/s is exactly 1 ms.
    const finish = Math.max(now, this.busyUntil) + (bits * 1000) / imp.rateBitsPerSecond!;
    this.busyUntil = finish;
    if (frames === this.queueFinish.length) this.growQueue();
    const slot = (this.queueHead + frames) & (this.queueFinish.length - 1);
    this.queueFinish[slot] = finish;
    this.queueSize[slot] = length;
    this.queueCount = frames + 1;
    this.queueBytes += length;
    const counters = this.counters;
    if (frames + 1 > counters.queueHighWaterFrames) counters.queueHighWaterFrames = frames + 1;
    if (this.queueBytes > counters.queueHighWaterBytes) counters.queueHighWaterBytes = this.queueBytes;
    return true;
  }

  /** Doubles the rate limiter's ring, its entries moved to the start in order. */
  private growQueue(): void {
    const slots = this.queueFinish.length;
    const finish = new Float64Array(slots * 2);
    const size = new Uint32Array(slots * 2);
    for (let i = 0; i < this.queueCount; i++) {
      const from = (this.queueHead + i) & (slots - 1);
      finish[i] = this.queueFinish[from]!;
      size[i] = this.queueSize[from]!;
    }
    this.queueFinish = finish;
    this.queueSize = size;
    this.queueHead = 0;
  }

  /** Slots in the rate limiter's ring (it grows to the most frames queued at once). */
  get queueSlots(): number {
    return this.queueFinish.length;
  }

  /** Lets go of the frames the bottleneck has finished by `sendTime`. */
  private drainQueue(): void {
    const now = this.sendTime;
    const finish = this.queueFinish;
    const mask = finish.length - 1;
    let head = this.queueHead;
    let count = this.queueCount;
    while (count > 0 && finish[head]! <= now) {
      this.queueBytes -= this.queueSize[head]!;
      head = (head + 1) & mask;
      count--;
    }
    this.queueHead = head;
    this.queueCount = count;
  }
}

/** Length of the Ethernet payload (the IP packet), looking past one 802.1Q tag. */
function ethernetPayloadLength(frame: Uint8Array): number {
  if (frame.length >= ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH && etherTypeAt(frame) === ETHERTYPE_VLAN) {
    return frame.length - ETHERNET_HEADER_LENGTH - VLAN_TAG_LENGTH;
  }
  return frame.length - ETHERNET_HEADER_LENGTH;
}

/** Flips `bits` distinct random bits of `frame` (all of them if it has fewer). */
function flipRandomBits(frame: Uint8Array, bits: number, random: Random): void {
  const total = frame.length * 8;
  if (total === 0) return;
  if (bits >= total) {
    for (let i = 0; i < frame.length; i++) frame[i] = frame[i]! ^ 0xff;
    return;
  }
  const chosen = new Set<number>();
  while (chosen.size < bits) chosen.add(random.int(total));
  for (const bit of chosen) frame[bit >>> 3] = frame[bit >>> 3]! ^ (0x80 >>> (bit & 7));
}

function nonNegative(name: string, value: number | undefined): void {
  if (value !== undefined && !(value >= 0 && value < Infinity)) {
    throw invalid(`${name} must be a finite number >= 0, got ${value}`);
  }
}

function positiveInteger(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= 1)) {
    throw invalid(`${name} must be an integer >= 1, got ${value}`);
  }
}

function probability(name: string, value: number | undefined): void {
  if (value !== undefined && !(value >= 0 && value <= 1)) {
    throw invalid(`${name} must be a probability in [0, 1], got ${value}`);
  }
}

function invalid(message: string): Error {
  return Object.assign(new Error(message), { code: 'EINVAL' });
}
