/**
 * An in-process cable between two NetworkDevices, with seeded impairments set separately for each
 * direction (see impairments.ts for what they do and in which order). Frames always arrive through the
 * clock, never inside the sender's call, so two stacks on one link never re-enter each other.
 *
 * Offload (`offload`, on by default, as on a Linux veth pair): each end offers TCP segmentation
 * (super-segments up to 65535 bytes of IP datagram) and transport checksum completion. A direction whose
 * impairments only delay frames carries a super-segment whole and its checksum as the sender left it
 * (partial), and the receiver is told so (`ReceivedFrameInfo`: checksum trusted, segment size), as Linux
 * hands a TSO/GSO packet from one veth end to the other: a capture on such a link shows what tcpdump
 * shows on `lo` or a veth (segments beyond the MTU, checksums not filled in). A direction with any
 * per-frame impairment (loss, bursty loss, duplication, reordering, corruption, jitter, a rate limit, a
 * lower MTU) or ends of different MTUs works on wire-size frames: an end cuts super-segments and
 * completes checksums before they enter it, as Linux segments a GSO packet in software before a device
 * that cannot take it (`validate_xmit_skb`), so losses, queues and captures see what a wire would.
 * Ends without offload may still offer it and always cut in software (`gso`, software-gso.ts), as Linux's
 * GSO does in front of a NIC without TSO: the stacks work in super-segments, the link in wire frames.
 *
 *   const link = new MemoryLink({ clock, seed: 7, a: { name: 'client', mac: 0x02..01 },
 *                                 b: { name: 'server', mac: 0x02..02 } });
 *   link.setImpairments('both', { delayMs: 10, loss: 0.01 });
 *   clientStack.attach(link.a); serverStack.attach(link.b);
 */

import { completeChecksum, withoutOffloads } from '../ip/ipv4-offload.js';
import type { Clock } from '../time/clock.js';
import { NO_TRACE, type Tracer } from '../trace/events.js';
import { Random, type Seed } from '../util/random.js';
import type { MacAddress } from '../wire/address.js';
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6, etherTypeAt } from '../wire/ethernet.js';
import type { PacketRecorder } from './capture.js';
import {
  type DeviceOffload,
  FRAME_HELD,
  FRAME_RELEASED,
  type FrameReceiver,
  type FrameTransmitOptions,
  type NetworkDevice,
  type ReceivedFrameInfo,
} from './device.js';
import { frameDelivered, frameDelivering, recycleFrame } from './frame-allocator.js';
import {
  type FrameTap,
  ImpairedPath,
  type LinkDirectionCounters,
  type LinkImpairments,
  type PathEnds,
  type TapPoint,
  validateImpairments,
} from './impairments.js';
import { segmentInSoftware } from './software-gso.js';
import { type TcpCoalescerCounters, TcpReceiveCoalescer } from './tcp-receive-coalescer.js';

export type LinkDirection = 'a->b' | 'b->a';

export interface LinkEndOptions {
  /** Device name, e.g. 'client-eth0'; used in trace events. */
  name: string;
  mac: MacAddress;
  /** Largest Ethernet payload the end sends or accepts. Default 1500. */
  mtu?: number;
}

export interface MemoryLinkOptions {
  clock: Clock;
  a: LinkEndOptions;
  b: LinkEndOptions;
  /** Link name in trace events. Default 'a.name<->b.name'. Links sharing one Random need distinct names. */
  name?: string;
  /** Seed for the impairments' randomness, when `random` is not given. Default 0. */
  seed?: Seed;
  /** Randomness to fork this link's streams from (by link name and direction); never drawn from directly. */
  random?: Random;
  tracer?: Tracer;
  /** Impairments for both directions. */
  impairments?: LinkImpairments;
  /** Impairments for a->b only; replaces `impairments` for that direction. */
  aToB?: LinkImpairments;
  /** Impairments for b->a only; replaces `impairments` for that direction. */
  bToA?: LinkImpairments;
  /**
   * Let the ends offer checksum offload (see NetworkDevice.checksumOffload). Even then an end offers it
   * only while neither direction has a corruption impairment. Default false: stacks compute and verify.
   */
  checksumOffload?: boolean;
  /**
   * Let the ends offer TCP segmentation offload (super-segments up to 65535 bytes) and transport
   * checksum completion (`NetworkDevice.offload`), as Linux loopback and veth do. Default true. See the
   * module comment for what impaired directions do with offloaded frames.
   */
  offload?: boolean;
  /**
   * Receive coalescing at each end (GRO, `ethtool -k`: generic-receive-offload, on by default on every
   * Linux NIC): the frames that arrive together (see below) pass through a TcpReceiveCoalescer, which
   * verifies each frame's checksum (unless checksum offload already trusts it) and merges in-order TCP
   * segments of one flow into one packet, so IP and TCP do their per-segment work once per batch; the
   * batch ends when the last of them was delivered. Frames due at one instant with nothing else due
   * between them arrive as one batch: a window the sender wrote in one go, as a NAPI poll hands Linux's
   * GRO the frames a device had ready. Taps and traces still see every frame as it crossed. Default
   * false: the stack sees every frame.
   */
  gro?: boolean;
  /**
   * With `offload` off: let the ends offer TCP segmentation and checksum completion all the same, and
   * do both in software before a frame enters the path (software-gso.ts), as Linux does by default
   * (generic-segmentation-offload is on for practically every device, `ethtool -k`) in front of a NIC
   * without TSO or checksum offload. TCP and IP then build one super-segment (up to 64 KiB) for many
   * segments; the path, its impairments, taps and captures, and the far end see exactly the wire-size
   * frames, with full checksums, that a stack sending each segment itself would have sent. Default
   * false: each frame on the path is a segment as TCP sent it. Nothing changes with `offload` on.
   */
  gso?: boolean;
}

export interface LinkCaptureOptions {
  /** Default 'both'. */
  direction?: LinkDirection | 'both';
  /** 'sent' records frames as they enter the link (default); 'delivered' as they reach the far end,
   * with duplicates and corruption visible. */
  point?: TapPoint;
}

export class MemoryLink {
  readonly name: string;
  /** The end called `a`: frames it sends travel a->b. */
  readonly a: NetworkDevice;
  /** The end called `b`: frames it sends travel b->a. */
  readonly b: NetworkDevice;
  /** @internal read by the ends */
  readonly offloadAllowed: boolean;
  /** @internal read by the ends */
  readonly deviceOffload: DeviceOffload | undefined;
  /** @internal read by the ends: offloaded frames are cut in software before they enter the path. */
  readonly softwareSegmentation: boolean;
  private readonly paths: Record<LinkDirection, ImpairedPath>;
  /**
   * The two paths again, for `path`: read by a direction held in a variable, the record above is a
   * keyed load the engine sees with two string keys (megamorphic, a hash lookup per frame sent).
   */
  private readonly aToB: ImpairedPath;
  private readonly bToA: ImpairedPath;
  private readonly endA: MemoryLinkEnd;
  private readonly endB: MemoryLinkEnd;
  private frameIds = 0;

  /**
   * @internal The next frame's number, shared by both directions. A method, not a closure each link
   * makes: the call from the paths then has the same target in every link, which optimised code
   * inlines, where a closure per link deoptimised it ("wrong call target") on each new link.
   */
  nextFrameId(): number {
    return ++this.frameIds;
  }

  constructor(options: MemoryLinkOptions) {
    const gro = options.gro === true;
    const endA = new MemoryLinkEnd(this, 'a->b', options.a, gro);
    const endB = new MemoryLinkEnd(this, 'b->a', options.b, gro);
    this.name = options.name ?? `${endA.name}<->${endB.name}`;
    this.a = this.endA = endA;
    this.b = this.endB = endB;
    const random = (options.random ?? new Random(options.seed ?? 0)).fork(`link/${this.name}`);
    const tracer = options.tracer ?? NO_TRACE;
    const both = options.impairments ?? {};
    const ends = (from: MemoryLinkEnd, to: MemoryLinkEnd): PathEnds => new MemoryPathEnds(this, from, to);
    this.paths = {
      'a->b': new ImpairedPath(
        options.clock,
        random.fork('a->b'),
        tracer,
        ends(endA, endB),
        options.aToB ?? both,
      ),
      'b->a': new ImpairedPath(
        options.clock,
        random.fork('b->a'),
        tracer,
        ends(endB, endA),
        options.bToA ?? both,
      ),
    };
    this.aToB = this.paths['a->b'];
    this.bToA = this.paths['b->a'];
    this.offloadAllowed = options.checksumOffload === true;
    this.softwareSegmentation = options.offload === false && options.gso === true;
    this.deviceOffload = this.softwareSegmentation
      ? MEMORY_LINK_GSO
      : options.offload === false
        ? undefined
        : MEMORY_LINK_OFFLOAD;
  }

  /**
   * What receive coalescing did to the frames of one direction (at its receiving end), when `gro` is on:
   * frames pushed, segments merged, merged packets and frames passed as they came. Live counters.
   */
  coalescing(direction: LinkDirection): Readonly<TcpCoalescerCounters> | undefined {
    return (direction === 'a->b' ? this.endB : this.endA).coalescing;
  }

  /** Replaces the impairments of one direction or of both. */
  setImpairments(direction: LinkDirection | 'both', impairments: LinkImpairments): void {
    validateImpairments(impairments);
    for (const d of directions(direction)) this.paths[d].setImpairments(impairments);
  }

  /** Changes some impairments, keeping the rest: e.g. `updateImpairments('both', { loss: 0 })`. */
  updateImpairments(direction: LinkDirection | 'both', changes: LinkImpairments): void {
    for (const d of directions(direction)) {
      this.paths[d].setImpairments({ ...this.paths[d].impairments, ...changes });
    }
  }

  impairments(direction: LinkDirection): Readonly<LinkImpairments> {
    return this.paths[direction].impairments;
  }

  /** Live counters of one direction (the object keeps updating). */
  counters(direction: LinkDirection): Readonly<LinkDirectionCounters> {
    return this.paths[direction].counters;
  }

  /** Takes the whole link down (frames on the way are lost) or brings it back up. */
  setDown(down: boolean): void {
    this.updateImpairments('both', { down });
  }

  /**
   * Frames delivered in one direction whose receiver held nothing of them afterwards (FRAME_RELEASED) and
   * that no tap was given: their memory went back to the frame allocator to be carved again.
   */
  releasedFrames(direction: LinkDirection): number {
    return (direction === 'a->b' ? this.endB : this.endA).released;
  }

  /**
   * Frames delivered in one direction that their receiver held for a while (FRAME_HELD: TCP kept a large
   * segment as its view) and that no tap was given: lent, they go back to the frame allocator when the
   * receiver gives them back (frameAllocatorCounters.lentFramesGivenBack counts those).
   */
  lentFrames(direction: LinkDirection): number {
    return (direction === 'a->b' ? this.endB : this.endA).lent;
  }

  /** Frames (copies) on their way in one direction, queued or propagating. */
  framesInFlight(direction: LinkDirection): number {
    return this.paths[direction].framesInFlight;
  }

  /** Frames and bytes waiting in one direction's rate limiter, the one being serialised included. */
  queueOccupancy(direction: LinkDirection): { frames: number; bytes: number } {
    const path = this.paths[direction];
    return { frames: path.queuedFrames, bytes: path.queuedBytes };
  }

  /** Records frames into `recorder` (e.g. a PcapWriter); returns a function that stops recording. */
  capture(recorder: PacketRecorder, options: LinkCaptureOptions = {}): () => void {
    return this.tap((time, frame) => {
      if (recorder.closed !== true) recorder.writePacket(time, frame);
    }, options);
  }

  /** Calls `tap` with every frame at the chosen point; returns a function that removes it. */
  tap(tap: FrameTap, options: LinkCaptureOptions = {}): () => void {
    const removers = directions(options.direction ?? 'both').map((d) =>
      this.paths[d].addTap(options.point ?? 'sent', tap),
    );
    return () => {
      for (const remove of removers) remove();
    };
  }

  /** Closes both ends: frames on the way are lost and nothing is delivered afterwards. */
  close(): void {
    this.a.close?.();
    this.b.close?.();
  }

  /** @internal */
  path(direction: LinkDirection): ImpairedPath {
    return direction === 'a->b' ? this.aToB : this.bToA;
  }

  /**
   * @internal Whether `direction` may carry offloaded frames as they are: its impairments only delay
   * (and may take the link down), and both ends agree on the MTU, so every piece of a super-segment
   * would have crossed it anyway and none can be damaged on the way.
   */
  carriesOffloadedFrames(direction: LinkDirection): boolean {
    const i = this.path(direction).impairments;
    return (
      (i.loss ?? 0) === 0 &&
      i.burstLoss === undefined &&
      (i.duplicate ?? 0) === 0 &&
      (i.reorder ?? 0) === 0 &&
      (i.corrupt ?? 0) === 0 &&
      (i.jitterMs ?? 0) === 0 &&
      i.rateBitsPerSecond === undefined &&
      i.mtu === undefined &&
      this.a.mtu === this.b.mtu
    );
  }

  /** @internal */
  corruptionConfigured(): boolean {
    return (
      (this.paths['a->b'].impairments.corrupt ?? 0) > 0 || (this.paths['b->a'].impairments.corrupt ?? 0) > 0
    );
  }
}

/**
 * The ends of one direction, as its ImpairedPath sees them. A class rather than an object literal with
 * getters: each literal gets accessor functions of its own, so the path's reads of the MTUs (every frame
 * sent) and its delivery call (every frame arriving) went through the generic property lookup, about 500
 * instructions per frame; here they are a monomorphic getter and method, inlined.
 */
class MemoryPathEnds implements PathEnds {
  readonly linkName: string;
  readonly from: string;
  readonly to: string;
  /**
   * Always: a window written in one go arrives from one clock event rather than one per frame (and a
   * receiver with `gro` coalesces it). The clock's `post`, `run` and the path's `arrive` per frame were
   * 6% of a bulk transfer between two stacks in one thread.
   */
  readonly batchDelivery = true;

  constructor(
    private readonly link: MemoryLink,
    private readonly sender: MemoryLinkEnd,
    private readonly receiver: MemoryLinkEnd,
  ) {
    this.linkName = link.name;
    this.from = sender.name;
    this.to = receiver.name;
  }

  batchDelivered(): void {
    this.receiver.batchDelivered();
  }

  get senderMtu(): number {
    return this.sender.mtu;
  }

  get receiverMtu(): number {
    return this.receiver.mtu;
  }

  nextFrameId(): number {
    return this.link.nextFrameId();
  }

  deliver(frame: Uint8Array, mark: number, untapped: boolean): boolean {
    return this.receiver.receive(frame, mark, untapped);
  }
}

class MemoryLinkEnd implements NetworkDevice {
  readonly name: string;
  readonly mtu: number;
  readonly mac: MacAddress;
  /** @internal Frames delivered here and given back to the allocator (see MemoryLink.releasedFrames). */
  released = 0;
  /** @internal Frames delivered here and lent to the receiver (see MemoryLink.lentFrames). */
  lent = 0;
  private receiver: FrameReceiver | undefined;
  private closed = false;
  /** Reused for every offloaded frame delivered (receivers read it during the call only). */
  private readonly info: ReceivedFrameInfo = { checksumTrusted: true, segmentSize: 0 };
  /** Told to the coalescer with each plain frame while checksum offload trusts them. */
  private readonly trustedInfo: ReceivedFrameInfo = { checksumTrusted: true, segmentSize: 0 };
  /** With `gro`: what frames arriving here pass through (see MemoryLinkOptions.gro). */
  private readonly coalescer: TcpReceiveCoalescer | undefined;
  /**
   * Frames of the batch being delivered that a tap was given (it may keep them): never given back to the
   * allocator. Emptied when the batch ends, by which time the coalescer holds none of them. A set: every
   * frame delivered is looked up, and with a capture on, a batch of a few thousand frames (a window of
   * megabytes) made a list's lookups quadratic.
   */
  private readonly tappedFrames = new Set<Uint8Array>();

  constructor(
    private readonly link: MemoryLink,
    /** The direction this end's frames travel. */
    private readonly outgoing: LinkDirection,
    options: LinkEndOptions,
    gro: boolean,
  ) {
    const mtu = options.mtu ?? 1500;
    if (!Number.isInteger(mtu) || mtu < 68) {
      // RFC 791: every IPv4 link must carry 68-byte datagrams unfragmented.
      throw Object.assign(new Error(`link end ${options.name}: MTU must be an integer >= 68, got ${mtu}`), {
        code: 'EINVAL',
      });
    }
    this.name = options.name;
    this.mtu = mtu;
    this.mac = options.mac;
    this.coalescer = gro
      ? new TcpReceiveCoalescer(this.deliverCoalesced, { onFrameReleased: this.frameReleased })
      : undefined;
  }

  /** @internal See MemoryLink.coalescing. */
  get coalescing(): Readonly<TcpCoalescerCounters> | undefined {
    return this.coalescer?.counters;
  }

  get checksumOffload(): boolean {
    return this.link.offloadAllowed && !this.link.corruptionConfigured();
  }

  get offload(): DeviceOffload | undefined {
    return this.link.deviceOffload;
  }

  send(frame: Uint8Array, options?: FrameTransmitOptions): void {
    const path = this.link.path(this.outgoing);
    if (options === undefined || (options.segmentSize === 0 && options.checksumStart === 0)) {
      path.send(frame);
    } else if (!this.link.softwareSegmentation && this.link.carriesOffloadedFrames(this.outgoing)) {
      // Marked so the far end knows the checksum may be partial and the segment size of a super-segment.
      path.send(frame, OFFLOADED_MARK + options.segmentSize);
    } else if (segmentInSoftware(frame, options, path)) {
      // Cut into wire-size frames with full checksums (GSO), each sent on; the super-segment given back.
    } else if (etherTypeAt(frame) === ETHERTYPE_IPV4 || etherTypeAt(frame) === ETHERTYPE_IPV6) {
      // Software GSO and checksum completion before an impairment that works on wire-size frames. A frame
      // not to be cut (an acknowledgment with GSO on) stays itself: its checksum is completed in place.
      if (options.segmentSize === 0) {
        completeChecksum(frame, options);
        path.send(frame);
      } else {
        for (const piece of withoutOffloads(frame, options)) path.send(piece);
      }
    } else {
      // Only IP frames come with offload requests (ipv4-offload.ts, the IPv6 layer's TSO); others go as is.
      path.send(frame);
    }
  }

  setReceiver(receiver: FrameReceiver): void {
    this.receiver = receiver;
  }

  /** Closes this end: frames to and from it are dropped (as link-down) from now on. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.receiver = undefined;
    this.link.path(this.outgoing).close();
    this.link.path(this.outgoing === 'a->b' ? 'b->a' : 'a->b').close();
  }

  /**
   * @internal `mark`: what the sending end attached (0 for a plain frame). `untapped`: nothing on the way
   * was given the frame (see PathEnds.deliver).
   */
  receive(frame: Uint8Array, mark: number, untapped: boolean): boolean {
    if (this.receiver === undefined) return false;
    if (this.coalescer !== undefined) {
      if (!untapped) this.tappedFrames.add(frame);
      let info: ReceivedFrameInfo | undefined;
      if (mark !== 0) {
        this.info.segmentSize = mark - OFFLOADED_MARK;
        info = this.info;
      } else if (this.checksumOffload) {
        info = this.trustedInfo;
      }
      this.coalescer.push(frame, info);
      return true;
    }
    let disposition: unknown;
    if (untapped) frameDelivering(frame);
    if (mark === 0) {
      disposition = this.receiver(frame);
    } else {
      // The frame crossed only memory: its checksum may be partial, and it is trusted as Linux trusts
      // CHECKSUM_PARTIAL on loopback (skb->ip_summed); a super-segment keeps its size for forwarding.
      this.info.segmentSize = mark - OFFLOADED_MARK;
      disposition = this.receiver(frame, this.info);
    }
    // The sender gave the frame up when it sent it (NetworkDevice ownership) and no tap on the way has it.
    // If the receiver holds nothing of it, its memory goes back to the allocator, to be carved again
    // instead of a fresh slab (frame-allocator.ts); if it holds it for now (FRAME_HELD), the frame is lent
    // and goes back when the receiver gives it back (giveBackFrame). A frame from elsewhere counts for
    // nothing there. A receiver that threw leaves the frame out (the next delivery forgets this one).
    if (!untapped) return true;
    if (disposition === FRAME_RELEASED) {
      frameDelivered(frame, false);
      recycleFrame(frame);
      this.released++;
    } else if (frameDelivered(frame, disposition === FRAME_HELD)) {
      this.lent++;
    }
    return true;
  }

  /** @internal A batch of frames was delivered: the coalescer hands on what it holds (napi_gro_flush). */
  batchDelivered(): void {
    this.coalescer?.flush();
    if (this.tappedFrames.size > 0) this.tappedFrames.clear();
  }

  /**
   * What the coalescer hands on: a frame as it arrived, or a packet it merged (from memory of its own,
   * which it takes back itself). A frame as it arrived is lent while the receiver holds it, as in `receive`.
   */
  private readonly deliverCoalesced = (frame: Uint8Array, info: ReceivedFrameInfo | undefined): unknown => {
    const receiver = this.receiver;
    // Closed meanwhile: the frame is left to the collector.
    if (receiver === undefined) return undefined;
    const untapped = !this.tapped(frame);
    if (untapped) frameDelivering(frame);
    const disposition = receiver(frame, info);
    if (untapped && frameDelivered(frame, disposition === FRAME_HELD)) this.lent++;
    return disposition;
  };

  /**
   * A frame the coalescer is done with (its bytes copied into a merged packet, or its receiver returned
   * FRAME_RELEASED): unless a tap has it, its memory goes back to the allocator.
   */
  private readonly frameReleased = (frame: Uint8Array): void => {
    if (this.tapped(frame)) return;
    recycleFrame(frame);
    this.released++;
  };

  private tapped(frame: Uint8Array): boolean {
    return this.tappedFrames.size > 0 && this.tappedFrames.has(frame);
  }
}

/** What an end with offload offers: Linux's veth features (TSO, checksum offload), nothing in front. */
const MEMORY_LINK_OFFLOAD: DeviceOffload = {
  transmitChecksum: true,
  tcpSegmentationMax: 65535,
  tcp6SegmentationMax: 65535,
  headroom: 0,
};

/** What an end with `gso` offers: the same, done in software before the path (software-gso.ts). */
const MEMORY_LINK_GSO: DeviceOffload = { ...MEMORY_LINK_OFFLOAD, softwareSegmentation: true };

/** Added to the segment size to mark a frame sent with offloads (so a 0 segment size is still marked). */
const OFFLOADED_MARK = 1;

function directions(direction: LinkDirection | 'both'): LinkDirection[] {
  return direction === 'both' ? ['a->b', 'b->a'] : [direction];
}
