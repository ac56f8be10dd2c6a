/**
 * Receive-side coalescing (Linux's GRO, `tcp_gro_receive` / `inet_gro_receive`): consecutive in-order
 * TCP segments of one flow, read from a device in one batch, become one larger IPv4 TCP packet before
 * the stack sees them, so IP and TCP do their per-segment work once per batch of up to 64 KiB. A device
 * pushes every frame of a batch (`push`) and calls `flush` when the batch ends; frames that cannot be
 * merged pass through unchanged, in their order within their flow.
 *
 * When a segment joins the packet held for its flow (the same rules as Linux, so that nothing TCP
 * would act on per segment is lost):
 * - IPv4 without options or fragmentation, the same Ethernet header, TOS, TTL and DF bit;
 * - the same ports and addresses, acknowledgment number, data offset, window and flags, except that PSH
 *   and FIN may be set on the last one; the same TCP option bytes (so timestamps must be equal: TCP's
 *   PAWS and RTT sampling see the one value they all carried);
 * - its sequence number is where the held packet's data ends, it carries data, at most as much as the
 *   first segment (the size the merged packet reports as `segmentSize`), and the merged IP packet stays
 *   within 65535 bytes;
 * - its IPv4 header checksum is right, and its TCP checksum too (unless the device vouched for it).
 * A segment with SYN, RST, URG or CWR, or without data, ends the flow's held packet and passes alone.
 * A segment shorter than the first, or with PSH or FIN, is merged and then ends it (it marks the end of
 * a write or of the data). Non-IPv4-TCP frames pass through at once.
 *
 * The merged packet carries a correct TCP checksum, computed from the segments' own sums without a
 * second pass over the data, and its IPv4 header checksum is recomputed: whoever reads it (a capture, a
 * wrapper device that drops `ReceivedFrameInfo`) sees a valid packet. The stack is told it is trusted
 * and the segment size, so a router cuts it back into the segments it stands for (RFC 9293 §3.7: the
 * receiver never sees more than the sender sent as one segment, only several at once).
 *
 * Memory: merged packets are carved from 256 KiB slabs, one copy of each merged segment's payload. A slab
 * is carved again once every packet carved from it came back: delivered to a receiver that returned
 * FRAME_RELEASED, or returned FRAME_HELD and later given back (giveBackFrame: TCP kept the packet as its
 * view until the application's read copied it out). One the stack keeps for good (a view handed to the
 * application) leaves its slab to the garbage collector. A slab replaced while packets were out waits
 * for them (at most RETIRED_SLABS_MAX slabs wait) and then serves as a spare (at most SPARE_SLABS_MAX).
 * At most `maxFlows` flows are held at once
 * (Linux: MAX_GRO_SKBS, 8), the oldest passed on when another arrives. A frame pushed is the device's
 * again (`onFrameReleased`) once its bytes were copied into a merged packet, or once the receiver it was
 * delivered to as it came returned FRAME_RELEASED.
 */

import { copyBytes, viewBytes } from '../util/bytes.js';
import { checksumAdd, checksumFinish, pseudoHeaderSum } from '../wire/checksum.js';
import { tcpHeaderLengthAt } from '../wire/tcp.js';
import { FRAME_HELD, FRAME_RELEASED, lendFrameMemory, type ReceivedFrameInfo } from './device.js';
import { frameView, offerFrameView, withdrawFrameView } from './frame-allocator.js';
import { LentRegions } from './lent-regions.js';

const ETHERNET_HEADER_LENGTH = 14;
const IPV4_HEADER_LENGTH = 20;
const IP_START = ETHERNET_HEADER_LENGTH;
const TCP_START = ETHERNET_HEADER_LENGTH + IPV4_HEADER_LENGTH;
const IP_PROTOCOL_TCP = 6;
/** A payload sum not computed yet (sums are 0 .. 0xffff after folding, or larger unfolded, never negative). */
const NOT_SUMMED = -1;
const MAX_IPV4_PACKET = 65535;
const SLAB_BYTES = 256 * 1024;
/** What is reserved in a slab for each merged packet: the largest one. */
const REGION_BYTES = ETHERNET_HEADER_LENGTH + MAX_IPV4_PACKET;
/** Replaced slabs with packets still out, waiting for them; beyond this the oldest is left to the collector. */
const RETIRED_SLABS_MAX = 8;
/** Slabs whose packets all came back, kept for the next replacement. */
const SPARE_SLABS_MAX = 2;

/**
 * Memory merged packets are carved from: how many carved from it are still out, and which of those the
 * receiver held (FRAME_HELD) and may give back, as [from, to) offset pairs.
 */
interface MergeSlab {
  readonly memory: Uint8Array;
  held: number;
  readonly lent: number[];
  /**
   * The views last cut for packets carved here (see `packetView`): VIEW_WAYS per VIEW_BUCKET_BYTES of the
   * slab by where the packet starts, each its start (-1: none), its view and the view of its payload.
   */
  readonly viewStarts: Int32Array;
  readonly views: Uint8Array[];
  readonly payloadViews: Uint8Array[];
  /** Per bucket, the way the next view cut there replaces (oldest first). */
  readonly nextWay: Uint8Array;
}
/**
 * The slab's places views are kept for: packets starting in each 16 KiB of it, the last VIEW_WAYS of
 * them. Packets of a steady stream have a few lengths (the full ones, and those a batch ends with) and are
 * carved at the same few places slab after slab (at most four of 64 KiB in one). About 13 KB of views
 * at most per 256 KiB slab.
 */
const VIEW_BUCKET_BYTES = 16 * 1024;
const VIEW_WAYS = 4;
const NO_VIEW = new Uint8Array(0);
const DEFAULT_MAX_FLOWS = 8;

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const PSH = 0x08;
const URG = 0x20;
const CWR = 0x80;
/** Flags that make a segment pass alone (it ends the flow's held packet, which goes first). */
const PASS_ALONE = SYN | RST | URG | CWR;
/** Flags that end a held packet after the segment carrying them is merged into it. */
const END_AFTER = PSH | FIN;
/** The TCP header's word of data offset, flags and window, without PSH and FIN (see `fits`). */
const OFFSET_FLAGS_WINDOW_MASK = ~(END_AFTER << 16);
/** Words of TCP options at most (a 60-byte header). */
const MAX_OPTION_WORDS = 10;

export interface TcpCoalescerCounters {
  /** Frames pushed. */
  frames: number;
  /** Segments merged into a packet held for their flow (not counting the first of each). */
  segmentsMerged: number;
  /** Merged packets delivered (each stands for two or more segments). */
  packetsMerged: number;
  /**
   * Frames delivered as they came (not merged: alone in their batch, not TCP, or not mergeable), so that
   * frames = segmentsMerged + packetsMerged + framesPassed once the batch is flushed.
   */
  framesPassed: number;
  /** TCP segments passed alone because a checksum was wrong (the stack counts and drops them). */
  badChecksums: number;
  /** Slabs allocated for merged packets (see the module comment on memory). */
  slabsAllocated: number;
  /** Merged packets the receiver held (FRAME_HELD) and gave back once done with them. */
  heldPacketsGivenBack: number;
  /** Held packets delivered before their batch ended because every flow slot (`maxFlows`) was taken. */
  flowsPassedForRoom: number;
  /**
   * Replaced slabs with packets still out that stopped waiting for them because RETIRED_SLABS_MAX
   * others waited: no longer kept here (a packet the receiver holds still brings its slab back).
   */
  retiredSlabsForgotten: number;
  /** Slabs whose every packet came back while SPARE_SLABS_MAX spares were kept: left to the collector. */
  spareSlabsDropped: number;
}

export interface TcpReceiveCoalescerOptions {
  /** Flows held at once. Default 8 (Linux MAX_GRO_SKBS). */
  maxFlows?: number;
  /**
   * Told of each pushed frame that nothing here or after holds any more: copied into a merged packet, or
   * delivered as it came to a receiver that returned FRAME_RELEASED. Called once per such frame, at most.
   */
  onFrameReleased?: (frame: Uint8Array) => void;
}

/** Receives what the coalescer hands on; FRAME_RELEASED (see seams.ts) gives a frame back. */
export type CoalescedFrameReceiver = (frame: Uint8Array, info: ReceivedFrameInfo | undefined) => unknown;

/** The packet held for one flow. Reused from flush to flush. */
interface HeldFlow {
  active: boolean;
  /** The first segment's frame, as read, until a second segment is merged. */
  first: Uint8Array;
  /**
   * The memory of the slab the merged packet is being built in (from `mergedStart`), once a second
   * segment joined; else undefined. The packet's own view is cut once, when it is delivered.
   */
  merged: Uint8Array | undefined;
  mergedStart: number;
  /** The slab `merged` is the memory of. */
  mergedSlab: MergeSlab | undefined;
  /** Frame bytes so far (Ethernet header included). */
  length: number;
  tcpHeaderLength: number;
  /**
   * Sequence number right after the held data, in the signed form (as TCP keeps them, tcp/seq.ts): a
   * small integer to the engine, where an unsigned one of 2^31 or more is a heap number.
   */
  nextSeq: number;
  /** Payload of the first segment: no later one may be larger. */
  segmentSize: number;
  segments: number;
  /**
   * Folded sum of all held payload bytes, as if contiguous from the TCP header's end; NOT_SUMMED while the
   * one segment held was vouched for by the device (summed if another joins it).
   */
  payloadSum: number;
  /**
   * Folded sum of the first segment's TCP header and payload (from its check), NOT_SUMMED when the device
   * vouched for it: its payload's sum is worked out from it once a second segment joins.
   */
  firstSegmentSum: number;
  /**
   * Folded sum of the held packet's TCP header without the words a joining segment may carry otherwise
   * (see `varyingHeaderWords`), set when a second segment joins: with the joining segment's own words, its
   * header's sum, which taken from the segment's sum leaves its payload's.
   */
  fixedHeaderSum: number;
  payloadBytes: number;
  /** Addresses and ports, for a quick match before the byte comparisons. */
  src: number;
  dst: number;
  ports: number;
  /** Arrival order, to pass on the oldest when the table is full. */
  age: number;
  /**
   * What every segment that joins must carry as the first did, read from it once as 32-bit words (see
   * `fits`): the Ethernet addresses, TOS, TTL and DF, the acknowledgment number, data offset, flags but
   * PSH and FIN and window, and the option bytes.
   */
  ethernet0: number;
  ethernet1: number;
  ethernet2: number;
  ipFields: number;
  ack: number;
  offsetFlagsWindow: number;
  readonly options: Int32Array;
}

export class TcpReceiveCoalescer {
  readonly counters: TcpCoalescerCounters = {
    frames: 0,
    segmentsMerged: 0,
    packetsMerged: 0,
    framesPassed: 0,
    badChecksums: 0,
    slabsAllocated: 0,
    heldPacketsGivenBack: 0,
    flowsPassedForRoom: 0,
    retiredSlabsForgotten: 0,
    spareSlabsDropped: 0,
  };
  private readonly flows: HeldFlow[];
  private heldCount = 0;
  private clock = 0;
  /** The slab merged packets are carved from now; none until the first merge. */
  private slab: MergeSlab | undefined;
  private slabOffset = 0;
  /** Slabs replaced while some of their packets were out, oldest first. */
  private readonly retiredSlabs: MergeSlab[] = [];
  private readonly spareSlabs: MergeSlab[] = [];
  /** Merged packets the receiver holds (FRAME_HELD), and one given back while it is delivered. */
  private readonly lentRegions = new LentRegions<MergeSlab>();
  /** Handed with every frame the coalescer vouches for; receivers read it during the call only. */
  private readonly trustedInfo: ReceivedFrameInfo = { checksumTrusted: true, segmentSize: 0 };
  private readonly onFrameReleased: ((frame: Uint8Array) => void) | undefined;

  constructor(
    private readonly deliver: CoalescedFrameReceiver,
    options: TcpReceiveCoalescerOptions = {},
  ) {
    this.onFrameReleased = options.onFrameReleased;
    const maxFlows = options.maxFlows ?? DEFAULT_MAX_FLOWS;
    if (!Number.isInteger(maxFlows) || maxFlows < 1 || maxFlows > 1024) {
      throw Object.assign(new Error(`maxFlows must be an integer from 1 to 1024, got ${maxFlows}`), {
        code: 'EINVAL',
      });
    }
    this.flows = Array.from({ length: maxFlows }, () => ({
      active: false,
      first: new Uint8Array(0),
      merged: undefined,
      mergedStart: 0,
      mergedSlab: undefined,
      length: 0,
      tcpHeaderLength: 0,
      nextSeq: 0,
      segmentSize: 0,
      segments: 0,
      payloadSum: 0,
      firstSegmentSum: 0,
      fixedHeaderSum: 0,
      payloadBytes: 0,
      src: 0,
      dst: 0,
      ports: 0,
      age: 0,
      ethernet0: 0,
      ethernet1: 0,
      ethernet2: 0,
      ipFields: 0,
      ack: 0,
      offsetFlagsWindow: 0,
      options: new Int32Array(MAX_OPTION_WORDS),
    }));
  }

  /** Packets held, waiting for more segments of their flow or for `flush`. */
  get held(): number {
    return this.heldCount;
  }

  /**
   * One frame of the current batch. `info` (from a device with offloads) is read during the call only.
   * The frame is delivered now, or held (and must not change until it is delivered).
   */
  push(frame: Uint8Array, info?: ReceivedFrameInfo): void {
    this.counters.frames++;
    const length = frame.length;
    if (
      length < TCP_START + 20 ||
      frame[12] !== 0x08 ||
      frame[13] !== 0x00 ||
      frame[IP_START] !== 0x45 ||
      frame[IP_START + 9] !== IP_PROTOCOL_TCP
    ) {
      this.pass(frame, info);
      return;
    }
    const src = readUint32(frame, IP_START + 12);
    const dst = readUint32(frame, IP_START + 16);
    // Both ports as one signed 32-bit key: a source port of 32768 or more would make the unsigned
    // form a heap number.
    const ports = readInt32(frame, TCP_START);
    const flow = this.find(src, dst, ports);
    const totalLength = (frame[IP_START + 2]! << 8) | frame[IP_START + 3]!;
    const tcpHeaderLength = tcpHeaderLengthAt(frame, TCP_START);
    const payload = totalLength - IPV4_HEADER_LENGTH - tcpHeaderLength;
    const flags = frame[TCP_START + 13]!;
    if (
      (info !== undefined && info.segmentSize > 0) ||
      (frame[IP_START + 6]! & 0x3f) !== 0 ||
      frame[IP_START + 7] !== 0 ||
      ETHERNET_HEADER_LENGTH + totalLength > length ||
      tcpHeaderLength < 20 ||
      payload <= 0 ||
      (flags & PASS_ALONE) !== 0
    ) {
      // Not mergeable (a fragment, a packet the device already coalesced, no data, a control flag, or
      // malformed for the stack to judge): the flow's held data goes first, then this one as it came.
      if (flow !== undefined) this.release(flow);
      this.pass(frame, info);
      return;
    }
    // Verify before merging, as Linux's GRO does: a bad segment must reach the stack on its own to be
    // counted and dropped, not hidden inside a packet the stack is told to trust.
    const trusted = info?.checksumTrusted === true;
    const tcpLength = totalLength - IPV4_HEADER_LENGTH;
    const payloadStart = TCP_START + tcpHeaderLength;
    if (ipv4HeaderSum(frame) !== 0xffff) {
      this.passBad(flow, frame, info);
      return;
    }
    // The segment's sum (header and payload, in one pass) serves the check and, once it joins a held
    // packet, gives its payload's sum for the merged packet's checksum (see `append`). A segment the
    // device vouched for is summed only when it is merged: at MTU 65520 none ever is (each fills a
    // packet), and summing every one was 6% of a gateway's time relaying an upload.
    let segmentSum = NOT_SUMMED;
    if (!trusted) {
      segmentSum = checksumAdd(0, frame, TCP_START, tcpLength);
      if (checksumFinish(pseudoHeaderSum(src, dst, IP_PROTOCOL_TCP, tcpLength) + segmentSum) !== 0) {
        this.passBad(flow, frame, info);
        return;
      }
    }
    const seq = readInt32(frame, TCP_START + 4);
    if (flow !== undefined) {
      if (this.fits(flow, frame, seq, payload, tcpHeaderLength)) {
        this.append(flow, frame, payloadStart, payload, segmentSum, flags);
        if (payload < flow.segmentSize || (flags & END_AFTER) !== 0) this.release(flow);
        return;
      }
      this.release(flow);
    }
    if ((flags & END_AFTER) !== 0) {
      // Nothing could follow it: no need to hold it.
      this.deliverVerified(frame);
      return;
    }
    this.hold(frame, src, dst, ports, tcpHeaderLength, seq, payload, segmentSum);
  }

  /** Ends the batch: every held packet is delivered. */
  flush(): void {
    if (this.heldCount === 0) return;
    // Oldest first, so a flow's packets and the order of flows stay as read.
    for (;;) {
      const oldest = this.oldest();
      if (oldest === undefined) return;
      this.release(oldest);
    }
  }

  // --- internals ---------------------------------------------------------------------------------------

  private find(src: number, dst: number, ports: number): HeldFlow | undefined {
    for (const flow of this.flows) {
      if (flow.active && flow.ports === ports && flow.src === src && flow.dst === dst) return flow;
    }
    return undefined;
  }

  private oldest(): HeldFlow | undefined {
    let oldest: HeldFlow | undefined;
    for (const flow of this.flows) {
      if (flow.active && (oldest === undefined || flow.age < oldest.age)) oldest = flow;
    }
    return oldest;
  }

  /**
   * Linux's same-flow and flush tests (dev_gro_receive, inet_gro_receive, tcp_gro_receive). The held
   * packet's header fields are compared as the words `hold` read from its first segment: a byte-by-byte
   * comparison with the held packet read twice as many bytes, and was the coalescer's largest cost per
   * segment once the sender's was cut by GSO.
   */
  private fits(
    flow: HeldFlow,
    frame: Uint8Array,
    seq: number,
    payload: number,
    tcpHeaderLength: number,
  ): boolean {
    if (seq !== flow.nextSeq || payload > flow.segmentSize || tcpHeaderLength !== flow.tcpHeaderLength)
      return false;
    if (flow.length - ETHERNET_HEADER_LENGTH + payload > MAX_IPV4_PACKET) return false;
    // Ethernet addresses (the type is IPv4 for every frame that gets here), then TOS, TTL and DF.
    if (
      readInt32(frame, 0) !== flow.ethernet0 ||
      readInt32(frame, 4) !== flow.ethernet1 ||
      readInt32(frame, 8) !== flow.ethernet2 ||
      ipFieldsOf(frame) !== flow.ipFields
    )
      return false;
    // Acknowledgment number; data offset, flags but PSH/FIN, window; then every option word.
    if (
      readInt32(frame, TCP_START + 8) !== flow.ack ||
      (readInt32(frame, TCP_START + 12) & OFFSET_FLAGS_WINDOW_MASK) !== flow.offsetFlagsWindow
    )
      return false;
    const options = flow.options;
    const words = (tcpHeaderLength - 20) >> 2;
    for (let i = 0; i < words; i++) if (readInt32(frame, TCP_START + 20 + 4 * i) !== options[i]) return false;
    return true;
  }

  private hold(
    frame: Uint8Array,
    src: number,
    dst: number,
    ports: number,
    tcpHeaderLength: number,
    seq: number,
    payload: number,
    segmentSum: number,
  ): void {
    let slot: HeldFlow | undefined;
    for (const flow of this.flows) {
      if (!flow.active) {
        slot = flow;
        break;
      }
    }
    if (slot === undefined) {
      slot = this.oldest()!;
      this.counters.flowsPassedForRoom++;
      this.release(slot);
    }
    slot.active = true;
    slot.first = frame;
    slot.merged = undefined;
    slot.length = TCP_START + tcpHeaderLength + payload;
    slot.tcpHeaderLength = tcpHeaderLength;
    slot.nextSeq = (seq + payload) | 0;
    slot.segmentSize = payload;
    slot.segments = 1;
    slot.payloadSum = NOT_SUMMED;
    slot.firstSegmentSum = segmentSum;
    slot.payloadBytes = payload;
    slot.src = src;
    slot.dst = dst;
    slot.ports = ports;
    slot.age = this.clock++;
    slot.ethernet0 = readInt32(frame, 0);
    slot.ethernet1 = readInt32(frame, 4);
    slot.ethernet2 = readInt32(frame, 8);
    slot.ipFields = ipFieldsOf(frame);
    slot.ack = readInt32(frame, TCP_START + 8);
    slot.offsetFlagsWindow = readInt32(frame, TCP_START + 12) & OFFSET_FLAGS_WINDOW_MASK;
    const words = (tcpHeaderLength - 20) >> 2;
    for (let i = 0; i < words; i++) slot.options[i] = readInt32(frame, TCP_START + 20 + 4 * i);
    this.heldCount++;
  }

  private append(
    flow: HeldFlow,
    frame: Uint8Array,
    payloadStart: number,
    payload: number,
    segmentSum: number,
    flags: number,
  ): void {
    let merged = flow.merged;
    let base = flow.mergedStart;
    if (merged === undefined) {
      base = this.reserve();
      const slab = this.slab!;
      merged = slab.memory;
      flow.mergedSlab = slab;
      flow.merged = merged;
      flow.mergedStart = base;
      // The whole frame, as no view of it is kept for this range (bytes past the segment, if any, land
      // where the next payload goes).
      const first = flow.first;
      if (first.length <= REGION_BYTES) copyBytes(merged, first, base);
      else copyBytes(merged, viewBytes(first, 0, flow.length), base);
      const headerSum = checksumAdd(0, first, TCP_START, flow.tcpHeaderLength);
      flow.fixedHeaderSum = onesComplementDifference(headerSum, varyingHeaderWords(first));
      flow.payloadSum =
        flow.firstSegmentSum === NOT_SUMMED
          ? checksumAdd(0, first, TCP_START + flow.tcpHeaderLength, flow.payloadBytes)
          : onesComplementDifference(flow.firstSegmentSum, headerSum);
      // Its bytes are in the merged packet now.
      this.onFrameReleased?.(flow.first);
    }
    // Every header word but the varying ones is the held packet's (`fits`): the segment's sum less its
    // header's is its payload's, without a pass over its header. (A difference that comes out as 0 where
    // a direct sum gives 0xffff changes nothing: both are zero once added to a nonzero header's sum.)
    const sum =
      segmentSum === NOT_SUMMED
        ? checksumAdd(0, frame, payloadStart, payload)
        : onesComplementDifference(segmentSum, foldSum(flow.fixedHeaderSum + varyingHeaderWords(frame)));
    // A view the frame allocator keeps for the frame's place (a fresh one for frames from elsewhere): a
    // view cut here for every segment merged was 110 bytes of garbage per segment.
    copyBytes(merged, frameView(frame, payloadStart, payloadStart + payload), base + flow.length);
    this.onFrameReleased?.(frame);
    // A range that starts at an odd offset of the data sums with its bytes swapped (RFC 1071 §2(B)).
    flow.payloadSum = foldSum(flow.payloadSum + ((flow.payloadBytes & 1) === 0 ? sum : swap16(sum)));
    flow.payloadBytes += payload;
    flow.length += payload;
    flow.nextSeq = (flow.nextSeq + payload) | 0;
    flow.segments++;
    merged[base + TCP_START + 13]! |= flags & END_AFTER;
    this.counters.segmentsMerged++;
  }

  /** Delivers a flow's held packet and frees its slot. */
  private release(flow: HeldFlow): void {
    flow.active = false;
    this.heldCount--;
    const merged = flow.merged;
    if (merged === undefined) {
      this.deliverVerified(flow.first);
      return;
    }
    flow.merged = undefined;
    const slab = flow.mergedSlab!;
    flow.mergedSlab = undefined;
    const start = flow.mergedStart;
    const frame = packetView(slab, start, flow.length, TCP_START + flow.tcpHeaderLength);
    // The region was reserved for the largest packet; the newest reservation gives back what it did not use.
    if (slab === this.slab && start + ((REGION_BYTES + 7) & ~7) === this.slabOffset) {
      this.slabOffset = start + ((flow.length + 7) & ~7);
    }
    const totalLength = flow.length - ETHERNET_HEADER_LENGTH;
    frame[IP_START + 2] = totalLength >>> 8;
    frame[IP_START + 3] = totalLength & 0xff;
    frame[IP_START + 10] = 0;
    frame[IP_START + 11] = 0;
    const ipSum = checksumFinish(checksumAdd(0, frame, IP_START, IPV4_HEADER_LENGTH));
    frame[IP_START + 10] = ipSum >>> 8;
    frame[IP_START + 11] = ipSum & 0xff;
    const field = TCP_START + 16;
    frame[field] = 0;
    frame[field + 1] = 0;
    const tcpLength = totalLength - IPV4_HEADER_LENGTH;
    const headerSum = checksumAdd(
      pseudoHeaderSum(flow.src, flow.dst, IP_PROTOCOL_TCP, tcpLength),
      frame,
      TCP_START,
      flow.tcpHeaderLength,
    );
    const tcpSum = checksumFinish(headerSum + flow.payloadSum);
    frame[field] = tcpSum >>> 8;
    frame[field + 1] = tcpSum & 0xff;
    this.counters.packetsMerged++;
    const info = this.trustedInfo;
    info.segmentSize = flow.segmentSize;
    this.deliverMerged(frame, info, slab, start, start + flow.length);
  }

  /**
   * Delivers a merged packet carved from `slab` at [from, to). Released (FRAME_RELEASED) it is carved over
   * again; held (FRAME_HELD), it waits to be given back, or goes now if that happened during the call;
   * kept by the receiver for good, its slab is never carved again.
   */
  private deliverMerged(
    frame: Uint8Array,
    info: ReceivedFrameInfo,
    slab: MergeSlab,
    from: number,
    to: number,
  ): void {
    this.lentRegions.delivering(slab, from, to);
    let disposition: unknown;
    try {
      disposition = this.deliver(frame, info);
    } finally {
      this.lentRegions.delivered();
      // The payload's view was offered for this call (see packetView).
      withdrawFrameView();
    }
    if (disposition === FRAME_RELEASED) {
      this.packetBack(slab);
    } else if (disposition === FRAME_HELD && this.lentRegions.held(slab, from, to)) {
      this.counters.heldPacketsGivenBack++;
      this.packetBack(slab);
    }
  }

  /**
   * The receiver gives back the merged packet of `slab` that `view` lies in: counted once, and only for a
   * packet it held (FRAME_HELD); during the delivering call it waits for the receiver's answer.
   */
  private packetGivenBack(slab: MergeSlab, view: Uint8Array): void {
    if (!this.lentRegions.takeBack(slab, view)) return;
    this.counters.heldPacketsGivenBack++;
    this.packetBack(slab);
  }

  /** A packet of `slab` came back: the slab is carved again once all have (a replaced one as a spare). */
  private packetBack(slab: MergeSlab): void {
    if (--slab.held > 0) return;
    if (slab === this.slab) {
      this.slabOffset = 0;
      return;
    }
    const index = this.retiredSlabs.indexOf(slab);
    if (index >= 0) this.retiredSlabs.splice(index, 1);
    if (this.spareSlabs.length < SPARE_SLABS_MAX) this.spareSlabs.push(slab);
    else this.counters.spareSlabsDropped++;
  }

  /**
   * A segment delivered as it came. Its checksum was verified here (or vouched for by the device), so the
   * stack need not verify it again (Linux: CHECKSUM_UNNECESSARY after GRO's check).
   */
  private deliverVerified(frame: Uint8Array): void {
    const trustedInfo = this.trustedInfo;
    trustedInfo.segmentSize = 0;
    this.pass(frame, trustedInfo);
  }

  private passBad(flow: HeldFlow | undefined, frame: Uint8Array, info: ReceivedFrameInfo | undefined): void {
    this.counters.badChecksums++;
    if (flow !== undefined) this.release(flow);
    this.pass(frame, info);
  }

  /** Delivers a pushed frame as it came; gives it back if the receiver holds nothing of it. */
  private pass(frame: Uint8Array, info: ReceivedFrameInfo | undefined): void {
    this.counters.framesPassed++;
    if (this.deliver(frame, info) === FRAME_RELEASED) this.onFrameReleased?.(frame);
  }

  /**
   * Where a region that holds the largest merged packet starts in the current slab (`slab`, see the module
   * comment).
   */
  private reserve(): number {
    const needed = REGION_BYTES;
    let slab = this.slab;
    if (slab === undefined || slab.memory.length - this.slabOffset < needed) {
      if (slab !== undefined && slab.held > 0) {
        this.retiredSlabs.push(slab);
        if (this.retiredSlabs.length > RETIRED_SLABS_MAX) {
          this.retiredSlabs.shift();
          this.counters.retiredSlabsForgotten++;
        }
      }
      // A slab with nothing out is carved again from its start.
      if (slab === undefined || slab.held > 0) slab = this.spareSlabs.pop() ?? this.newSlab();
      this.slab = slab;
      this.slabOffset = 0;
    }
    slab.held++;
    const start = this.slabOffset;
    this.slabOffset += (needed + 7) & ~7;
    return start;
  }

  private newSlab(): MergeSlab {
    this.counters.slabsAllocated++;
    const buckets = SLAB_BYTES / VIEW_BUCKET_BYTES;
    const slab: MergeSlab = {
      memory: new Uint8Array(SLAB_BYTES),
      held: 0,
      lent: [],
      viewStarts: new Int32Array(buckets * VIEW_WAYS).fill(-1),
      views: new Array<Uint8Array>(buckets * VIEW_WAYS).fill(NO_VIEW),
      payloadViews: new Array<Uint8Array>(buckets * VIEW_WAYS).fill(NO_VIEW),
      nextWay: new Uint8Array(buckets),
    };
    lendFrameMemory(slab.memory.buffer, (view) => this.packetGivenBack(slab, view));
    return slab;
  }
}

/**
 * The view of the packet of `length` bytes carved at `start` of `slab`, whose payload starts at
 * `payloadStart` of it: the same view object as a packet of that length carved there before, if one of
 * the last VIEW_WAYS was, and its payload's view offered to `frameView` (which TCP's parser cuts it
 * with). A view cut afresh for each merged packet and each payload was two objects per packet. The same
 * object serves again only once the slab is carved over, when every packet carved from it before is back
 * (see `packetBack`): nobody holds the view any more.
 */
function packetView(slab: MergeSlab, start: number, length: number, payloadStart: number): Uint8Array {
  const first = ((start / VIEW_BUCKET_BYTES) | 0) * VIEW_WAYS;
  const views = slab.views;
  const payloadViews = slab.payloadViews;
  for (let at = first; at < first + VIEW_WAYS; at++) {
    const view = views[at]!;
    const payload = payloadViews[at]!;
    if (slab.viewStarts[at] === start && view.length === length && length - payload.length === payloadStart) {
      offerFrameView(view, payloadStart, length, payload);
      return view;
    }
  }
  const bucket = first / VIEW_WAYS;
  const at = first + slab.nextWay[bucket]!;
  slab.nextWay[bucket] = (slab.nextWay[bucket]! + 1) % VIEW_WAYS;
  const view = viewBytes(slab.memory, start, start + length);
  const payload = viewBytes(view, payloadStart, length);
  slab.viewStarts[at] = start;
  views[at] = view;
  payloadViews[at] = payload;
  offerFrameView(view, payloadStart, length, payload);
  return view;
}

function readInt32(buf: Uint8Array, offset: number): number {
  return (buf[offset]! << 24) | (buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!;
}

/** TOS, TTL and the DF bit of a frame's IPv4 header, as one number (see HeldFlow). */
function ipFieldsOf(frame: Uint8Array): number {
  return (frame[IP_START + 1]! << 16) | (frame[IP_START + 8]! << 8) | (frame[IP_START + 6]! & 0x40);
}

/**
 * The folded sum of a frame's IPv4 header (20 bytes, no options), 0xffff when its checksum is right: the
 * ten words unrolled, where the general sum's loop over byte pairs cost more than the check.
 */
function ipv4HeaderSum(f: Uint8Array): number {
  const i = IP_START;
  return foldSum(
    ((f[i]! << 8) | f[i + 1]!) +
      ((f[i + 2]! << 8) | f[i + 3]!) +
      ((f[i + 4]! << 8) | f[i + 5]!) +
      ((f[i + 6]! << 8) | f[i + 7]!) +
      ((f[i + 8]! << 8) | f[i + 9]!) +
      ((f[i + 10]! << 8) | f[i + 11]!) +
      ((f[i + 12]! << 8) | f[i + 13]!) +
      ((f[i + 14]! << 8) | f[i + 15]!) +
      ((f[i + 16]! << 8) | f[i + 17]!) +
      ((f[i + 18]! << 8) | f[i + 19]!),
  );
}

/**
 * The sum of the TCP header words a segment may carry otherwise than the held packet it joins: sequence
 * number, data offset and flags (PSH, FIN), checksum and urgent pointer (meaningless without URG, which
 * never joins, and not compared).
 */
function varyingHeaderWords(f: Uint8Array): number {
  const t = TCP_START;
  return (
    ((f[t + 4]! << 8) | f[t + 5]!) +
    ((f[t + 6]! << 8) | f[t + 7]!) +
    ((f[t + 12]! << 8) | f[t + 13]!) +
    ((f[t + 16]! << 8) | f[t + 17]!) +
    ((f[t + 18]! << 8) | f[t + 19]!)
  );
}

/** `a` less `b` in ones'-complement arithmetic (RFC 1624), both sums of 16-bit words; folded. */
function onesComplementDifference(a: number, b: number): number {
  return foldSum(a + 0xffff - foldSum(b));
}

function readUint32(buf: Uint8Array, offset: number): number {
  return readInt32(buf, offset) >>> 0;
}

function foldSum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

function swap16(sum: number): number {
  return ((sum & 0xff) << 8) | (sum >>> 8);
}
