/**
 * A Linux TAP device as a tcpts `NetworkDevice`: Ethernet frames the kernel sends out of the TAP interface
 * are read from the /dev/net/tun descriptor and handed to the stack; frames the stack sends are written to
 * the descriptor and enter the kernel as if received from a wire.
 *
 * How the device learns that frames are waiting (the design choice):
 * - The descriptor is registered with libuv's own epoll on Node's main event loop (a `uv_poll_t`, which the
 *   optional `koffi` package exposes as `koffi.node.poll`). No thread is involved: the kernel wakes the
 *   loop, the loop calls us.
 * - One wake-up reads many frames: the descriptor is non-blocking and we call read() synchronously until it
 *   says EAGAIN, or until `receiveBudget` frames (then the level-triggered poll wakes us again on the next
 *   loop turn, so timers and other I/O are not starved by a flood).
 * - The poll callback itself only records readiness and schedules one `setImmediate` per wake-up; the
 *   reading and the delivery to the stack run there. The raw libuv callback runs outside Node's callback
 *   scope: an exception thrown in it would be silently parked inside the native helper, and promise
 *   continuations and nextTicks would wait for some unrelated callback. From `setImmediate`, which libuv
 *   runs in the same loop turn right after the poll phase, receivers get ordinary Node semantics.
 * - Measured (bench/suites/tap.ts, a queued burst on a 2-core VM): about 400-550k frames/s drained this way,
 *   against 20-45k with `fs.read`, whose thread-pool round trip per frame is what this design avoids.
 * - Rejected: `fs.read` per frame (above); a blocking poll() on a worker thread followed by synchronous
 *   draining (one round trip per wake-up, but it holds a thread-pool thread for good and needs a second
 *   descriptor to wake it for closing); wrapping the descriptor in a `net.Socket` (libuv classifies
 *   character devices as files, and Node refuses them with ERR_INVALID_FD_TYPE).
 *
 * Writes never block the event loop: the descriptor is non-blocking, each frame is written at once with
 * one write() (a TAP write is one whole frame, never partial); when the kernel says EAGAIN the frame waits
 * in a bounded FIFO that is flushed when the descriptor becomes writable, and frames beyond its limit are
 * dropped and counted, as a full transmit queue drops them on a NIC.
 *
 * Received frames are views into 64 KiB slabs: no allocation or copy per frame beyond the view object,
 * and the stack may keep the views (the `NetworkDevice` ownership rule). A slab is read into again only
 * where nothing holds a frame any more: frames the receiver gave back (FRAME_RELEASED: TCP does for ACKs
 * and for segments it copied) or whose bytes the coalescer copied into a merged packet. The newest frame's
 * region is reused at once when it comes back, and the whole slab once every frame read into it has; a
 * slab replaced while frames were still out waits (at most RETIRED_SLABS_MAX of them) for the last of them
 * and is kept as a spare for the next replacement. A frame the stack holds for a while (FRAME_HELD: a
 * large TCP segment kept as its view until the application reads it) counts as out until TCP gives it back
 * (giveBackFrame, once the read copied it); one the stack keeps for good (a segment handed to the
 * application as a view, a UDP datagram) means its slab is never written again: it is left to the
 * garbage collector.
 *
 * Offload (`openTap({ offload: true })`, when the kernel agrees): the descriptor carries a virtio-net
 * header before every frame (IFF_VNET_HDR), and the kernel may hand us IPv4 and IPv6 TCP packets of up to
 * 64 KiB whose checksum it vouches for (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6), while we may hand it one
 * TCP packet of either version of up to 64 KiB with a partial checksum, which it segments or, for its own sockets, takes whole. Without it each
 * 1514-byte frame costs a read() or write() and one pass through the kernel's stack, and that per-frame
 * work dominates; with it, one system call moves up to 44 segments. The header is written into the
 * headroom the stack leaves before a frame (`DeviceOffload.headroom`), or, for frames without one, in
 * front of a copy; received headers are decoded into one reused `ReceivedFrameInfo`. Measured
 * (bench/suites/tcp-tap.ts, MTU 1500, 2-core VM): TCP with the kernel at 3-7 Gbit/s sending and 3-4.5
 * Gbit/s receiving with offload, against 0.6-1.4 and 0.7-1 Gbit/s without.
 *
 * Receive coalescing (GRO, on unless `openTap({ receiveCoalescing: false })`): every frame of a read
 * batch goes through a TcpReceiveCoalescer, which merges in-order TCP segments of one flow into one packet
 * of up to 64 KiB (with its checksum verified and `ReceivedFrameInfo.segmentSize` set) and hands on
 * everything else at once; what it holds is delivered when the batch ends. Without offload this is what
 * turns 44 frames into one pass through IP and TCP; with offload the kernel usually sends large packets
 * already, and GRO merges the MSS-sized ones it still sends (after a retransmission, for instance).
 */

import { EventEmitter } from 'node:events';
import { closeSync } from 'node:fs';
import type { Clock } from '../../time/clock.js';
import type { Tracer } from '../../trace/events.js';
import type { MacAddress } from '../../wire/address.js';
import { etherTypeAt } from '../../wire/ethernet.js';
import {
  type DeviceOffload,
  FRAME_HELD,
  FRAME_RELEASED,
  type FrameReceiver,
  type FrameTransmitOptions,
  lendFrameMemory,
  type NetworkDevice,
  type ReceivedFrameInfo,
} from '../device.js';
import { recycleFrame } from '../frame-allocator.js';
import { LentRegions } from '../lent-regions.js';
import { type TcpCoalescerCounters, TcpReceiveCoalescer } from '../tcp-receive-coalescer.js';
import type { NativeHelper, PollEvents, PollHandle } from './native-helper.js';
import { tapError } from './tap-error.js';
import {
  isTsoCandidate,
  readVirtioNetHeader,
  VIRTIO_NET_HDR_GSO_NONE,
  writeVirtioNetHeader,
} from './virtio-net-header.js';

/** Counters in the spirit of `ip -s link`, from tcpts's side of the device. */
export interface TapStatistics {
  /** Frames read from the kernel (delivered to the receiver, or unclaimed). */
  framesReceived: number;
  bytesReceived: number;
  /** Times the device woke up to read; framesReceived / receiveWakeups is the frames per wake-up. */
  receiveWakeups: number;
  /** Frames dropped because they did not fit MTU + Ethernet header + one VLAN tag. */
  framesTruncated: number;
  /** Frames read while no receiver was installed, and dropped. */
  framesUnclaimed: number;
  /** Frames the kernel accepted. */
  framesSent: number;
  bytesSent: number;
  /** Writes the kernel refused with EAGAIN: those frames waited in the send queue. */
  sendBlocked: number;
  /** Frames dropped because the send queue was full. */
  sendQueueDrops: number;
  /** Frames dropped because their payload exceeded the MTU (65535 bytes for a TSO packet). */
  framesOversize: number;
  /** Frames dropped because the kernel interface was down (the write failed with EIO). */
  framesLinkDown: number;
  /** Frames the kernel rejected for another reason (e.g. EINVAL for a frame shorter than a header). */
  sendErrors: number;
  /** Offload only: large packets (GSO) the kernel handed us whole, counted in framesReceived too. */
  largeFramesReceived: number;
  /** Offload only: received frames whose checksum the kernel vouched for (partial or verified). */
  trustedChecksumFrames: number;
  /** Offload only: TSO packets written (the kernel segments them), counted in framesSent too. */
  largeFramesSent: number;
  /** Offload only: frames sent without headroom, so the header went before a copy of the frame. */
  headerCopies: number;
  /** Offload only: frames dropped because they were too short to hold the header the kernel prepends. */
  framesMalformed: number;
  /**
   * Receive slabs allocated. Reads go into memory whose frames have all been given back where there is
   * some, so with a stack that copies what it receives (or only ACKs arrive) this stays small.
   */
  receiveSlabsAllocated: number;
  /**
   * Replaced slabs with frames still out that were forgotten because RETIRED_SLABS_MAX others waited
   * already (left to the garbage collector, never read into again).
   */
  receiveSlabsForgotten: number;
  /** Slabs whose every frame came back, left to the collector because SPARE_SLABS_MAX spares were kept. */
  spareSlabsDropped: number;
  /**
   * Frames the receiver held (FRAME_HELD: TCP kept a large segment as its view) and gave back later, once
   * the application's read had copied them out: their memory is read into again.
   */
  heldFramesGivenBack: number;
}

/**
 * What offload negotiation with the kernel gave (`openTap({ offload: true })`); `enabled` false means the
 * device runs without any header, exactly as without the option, and `reason` says why.
 */
export interface TapOffloadStatus {
  /** Frames carry a virtio-net header (IFF_VNET_HDR): the stack may send TSO and partial-checksum frames. */
  readonly enabled: boolean;
  /** Header length: 12 (virtio 1.0, asked for with TUNSETVNETHDRSZ) or 10 (the kernel's default). */
  readonly headerLength: number;
  /** The kernel may hand us packets with a partial or already verified checksum (TUN_F_CSUM). */
  readonly receiveChecksum: boolean;
  /** The kernel may hand us IPv4 TCP packets of up to 64 KiB (TUN_F_TSO4). */
  readonly receiveLargeTcp: boolean;
  /** The kernel may hand us IPv6 TCP packets of up to 64 KiB (TUN_F_TSO6). */
  readonly receiveLargeTcp6: boolean;
  /** Why offload is off or partial, when it is. */
  readonly reason?: string;
}

/** How the descriptor was set up for offload; `openTap` fills it in. */
export interface TapVirtioHeaderParameters {
  /** 10 or 12. */
  readonly length: number;
  /** Byte order of the header's 16-bit fields. */
  readonly littleEndian: boolean;
  readonly receiveChecksum: boolean;
  readonly receiveLargeTcp: boolean;
  readonly receiveLargeTcp6: boolean;
  readonly reason?: string;
}

/** Everything a `TapDevice` is built from; `openTap` fills it in. */
export interface TapDeviceParameters {
  readonly native: NativeHelper;
  readonly fd: number;
  readonly name: string;
  readonly mtu: number;
  readonly mac: MacAddress;
  readonly kernelMac: MacAddress;
  readonly created: boolean;
  readonly sendQueueLimit: number;
  readonly receiveBudget: number;
  /** Coalesce TCP segments of a read batch (GRO). Default false here; `openTap` turns it on. */
  readonly receiveCoalescing?: boolean;
  readonly tracer: Tracer | undefined;
  readonly clock: Clock | undefined;
  /** Set when the descriptor was opened with IFF_VNET_HDR; undefined for plain frames. */
  readonly virtioHeader?: TapVirtioHeaderParameters;
  /** Why offload was asked for and not enabled (reported in `offloadStatus`). */
  readonly offloadRefusal?: string;
}

const ETHERNET_HEADER_LENGTH = 14;
/**
 * The bound of a TSO or GSO packet of either IP version: the largest IPv4 packet (RFC 791's 16-bit total
 * length); an IPv6 one is held to the same size in all (the kernel's default gso_max_size is 64 KiB).
 */
const MAX_OFFLOAD_PACKET = 65535;
const VLAN_TAG_LENGTH = 4;
const ETHERTYPE_VLAN = 0x8100;
/**
 * Replaced slabs with frames still out, waiting for them to come back; beyond this the oldest is forgotten
 * (left to the garbage collector, with whatever view of it the stack keeps).
 */
const RETIRED_SLABS_MAX = 8;
/** Slabs whose frames all came back, kept for the next replacement. */
const SPARE_SLABS_MAX = 2;

/** Memory frames are read into, and how many of the frames read into it are still out (not given back). */
interface ReceiveSlab {
  readonly memory: Uint8Array;
  /** memory.buffer, to tell which slab a frame given back belongs to. */
  readonly buffer: ArrayBufferLike;
  held: number;
  /**
   * The frames out that the receiver held (FRAME_HELD) and may give back late, as [from, to) pairs of
   * offsets into `memory` (see frameGivenBack); at most the frames one slab holds.
   */
  readonly lent: number[];
}
/** Received frames are carved from slabs of this size (or two frames, if the MTU is huge). */
const SLAB_BYTES = 64 * 1024;
/**
 * With offload, slabs of this size: three or more of the largest packets each. Not larger: TCP keeps large
 * received segments as views (zero-copy receive) and charges each the whole slab it pins, up to its
 * receive buffer (256 KiB by default), so a larger slab would make TCP copy every segment.
 */
const OFFLOAD_SLAB_BYTES = 256 * 1024;
/**
 * Each read starts this many bytes past an 8-byte boundary, so the IP header after the virtio-net header
 * (if any) and the 14-byte Ethernet header is 8-byte aligned and the checksum's word-wide path covers it
 * (the NET_IP_ALIGN trick of NIC drivers): 2 without a header, 0 with 10 bytes, 6 with 12.
 */
function readAlignOffset(headerLength: number): number {
  return (8 - ((headerLength + ETHERNET_HEADER_LENGTH) & 7)) & 7;
}

/**
 * Devices not yet closed. Node tears its event loop down after the process 'exit' event, running it once
 * more to close handles; a poll handle still watching a readable descriptor then calls back into
 * JavaScript that can no longer run, and the native helper aborts the process. An unref'd device can
 * legitimately be open at exit, so every open device is closed on 'exit', before that teardown.
 */
const openDevices = new Set<TapDevice>();
let exitHookInstalled = false;

function trackOpenDevice(device: TapDevice): void {
  openDevices.add(device);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const open of openDevices) open.close();
  });
}

/**
 * Events: 'error' (the device failed, e.g. its interface was deleted; the device is closed), 'close'.
 * Create with `openTap`.
 */
export class TapDevice extends EventEmitter implements NetworkDevice {
  /** Kernel interface name, e.g. 'tap0'. */
  readonly name: string;
  /** Largest Ethernet payload the device carries: the kernel interface's MTU when it was opened. */
  readonly mtu: number;
  /** tcpts's own MAC address on this link; frames from the stack carry it as their source. */
  readonly mac: MacAddress;
  /**
   * Frames cross a real kernel boundary: checksums are computed and verified, except where a frame's
   * virtio-net header says the kernel vouches for it (see `offload`).
   */
  readonly checksumOffload = false;
  /** The offloads the stack may use (TSO, partial checksums), when negotiated; see `offloadStatus`. */
  readonly offload: DeviceOffload | undefined;
  /** What offload negotiation with the kernel gave. */
  readonly offloadStatus: TapOffloadStatus;
  /** The kernel side's MAC address on this link (the TAP interface's own address), when opened. */
  readonly kernelMac: MacAddress;
  /** True when opening created the interface, false when it attached to an existing one. */
  readonly created: boolean;
  /** Live counters. */
  readonly stats: Readonly<TapStatistics>;

  private readonly counters: TapStatistics = {
    framesReceived: 0,
    bytesReceived: 0,
    receiveWakeups: 0,
    framesTruncated: 0,
    framesUnclaimed: 0,
    framesSent: 0,
    bytesSent: 0,
    sendBlocked: 0,
    sendQueueDrops: 0,
    framesOversize: 0,
    framesLinkDown: 0,
    sendErrors: 0,
    largeFramesReceived: 0,
    trustedChecksumFrames: 0,
    largeFramesSent: 0,
    headerCopies: 0,
    framesMalformed: 0,
    receiveSlabsAllocated: 0,
    receiveSlabsForgotten: 0,
    spareSlabsDropped: 0,
    heldFramesGivenBack: 0,
  };
  private readonly native: NativeHelper;
  private fd: number;
  private poll: PollHandle | undefined;
  private receiver: FrameReceiver | undefined;
  private readonly tracer: Tracer | undefined;
  private readonly clock: Clock | undefined;

  /** Largest frame read: MTU + Ethernet header (+ a VLAN tag), or a 64 KiB packet's with offload. */
  private readonly frameCapacity: number;
  private readonly receiveBudget: number;
  /** Bytes of virtio-net header before every frame read or written: 0 without offload, else 10 or 12. */
  private readonly headerLength: number;
  private readonly headerLittleEndian: boolean;
  /** Where each read starts past an 8-byte boundary (see readAlignOffset). */
  private readonly alignOffset: number;
  /** What the last received header said; handed to the receiver, which must not keep it. */
  private readonly receivedInfo: ReceivedFrameInfo = { checksumTrusted: false, segmentSize: 0 };
  /** Header + frame, for frames sent without headroom (allocated on first need). */
  private sendScratch: Uint8Array | undefined;
  private slab: ReceiveSlab;
  private slabOffset = 0;
  /** Slabs replaced while some of their frames were out, oldest first (see RETIRED_SLABS_MAX). */
  private readonly retiredSlabs: ReceiveSlab[] = [];
  /** Slabs whose every frame came back, ready to be read into (see SPARE_SLABS_MAX). */
  private readonly spareSlabs: ReceiveSlab[] = [];
  /** Frames the receiver holds (FRAME_HELD), and one given back while it is delivered. */
  private readonly lentRegions = new LentRegions<ReceiveSlab>();
  /** GRO over each read batch, when on (see `receiveCoalescing`). */
  private readonly coalescer: TcpReceiveCoalescer | undefined;

  /** Frames refused with EAGAIN, oldest first, in a ring of `sendQueueLimit` slots. */
  private readonly sendQueue: (Uint8Array | undefined)[];
  private sendQueueHead = 0;
  private sendQueueCount = 0;

  private receivingPaused = false;
  private watchingReadable = false;
  private watchingWritable = false;
  /** Readiness seen by the poll callback, not yet serviced. */
  private readable = false;
  private writable = false;
  private pollFailure = 0;
  private serviceScheduled: NodeJS.Immediate | undefined;
  private isClosed = false;

  /** @internal Use `openTap`. The device owns `fd` from here on. */
  constructor(parameters: TapDeviceParameters) {
    super();
    this.native = parameters.native;
    this.fd = parameters.fd;
    this.name = parameters.name;
    this.mtu = parameters.mtu;
    this.mac = parameters.mac;
    this.kernelMac = parameters.kernelMac;
    this.created = parameters.created;
    this.receiveBudget = parameters.receiveBudget;
    this.tracer = parameters.tracer;
    this.clock = parameters.clock;
    this.stats = this.counters;
    const header = parameters.virtioHeader;
    this.headerLength = header?.length ?? 0;
    this.headerLittleEndian = header?.littleEndian ?? true;
    this.alignOffset = readAlignOffset(this.headerLength);
    this.offload =
      header === undefined
        ? undefined
        : Object.freeze({
            transmitChecksum: true,
            tcpSegmentationMax: MAX_OFFLOAD_PACKET,
            // The kernel takes GSO_TCPV6 packets from any descriptor with the header (whatever
            // TUNSETOFFLOAD allowed toward us); held to 64 KiB in all, as IPv4's.
            tcp6SegmentationMax: MAX_OFFLOAD_PACKET,
            headroom: header.length,
          });
    const reason = header === undefined ? parameters.offloadRefusal : header.reason;
    this.offloadStatus = Object.freeze({
      enabled: header !== undefined,
      headerLength: this.headerLength,
      receiveChecksum: header?.receiveChecksum ?? false,
      receiveLargeTcp: header?.receiveLargeTcp ?? false,
      receiveLargeTcp6: header?.receiveLargeTcp6 ?? false,
      ...(reason === undefined ? {} : { reason }),
    });
    // With offload the kernel may hand over a 64 KiB packet at any time (it decides per packet).
    this.frameCapacity =
      (header === undefined ? parameters.mtu : Math.max(parameters.mtu, MAX_OFFLOAD_PACKET)) +
      ETHERNET_HEADER_LENGTH +
      VLAN_TAG_LENGTH;
    this.slab = this.newSlab();
    this.coalescer =
      parameters.receiveCoalescing === true
        ? new TcpReceiveCoalescer(this.deliverCoalesced, { onFrameReleased: this.frameReleased })
        : undefined;
    this.sendQueue = new Array(parameters.sendQueueLimit);
    this.poll = this.native.poll(this.fd, { readable: true }, this.onReady);
    this.watchingReadable = true;
    trackOpenDevice(this);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** What receive coalescing did (segments merged, packets built), when it is on. */
  get coalescing(): Readonly<TcpCoalescerCounters> | undefined {
    return this.coalescer?.counters;
  }

  /** Frames waiting for the kernel to accept them. */
  get sendQueueLength(): number {
    return this.sendQueueCount;
  }

  /**
   * Installs the frame handler. With offload, `info` comes with every frame: whether the kernel vouched
   * for its checksum, and whether it is a large (GSO) TCP packet. The info object is reused.
   */
  setReceiver(receiver: FrameReceiver): void {
    this.receiver = receiver;
  }

  /**
   * Writes one Ethernet frame (header included, no FCS) to the kernel. Never blocks and never throws for a
   * frame the kernel refuses: such frames are queued (EAGAIN) or dropped and counted. With offload,
   * `options` may ask for a partial checksum and TSO (see FrameTransmitOptions); without, it is ignored.
   */
  send(frame: Uint8Array, options?: FrameTransmitOptions): void {
    if (this.isClosed) return;
    const headerLength = this.headerLength;
    const segmentation = headerLength > 0 && options !== undefined && options.segmentSize > 0;
    const limit =
      (segmentation ? MAX_OFFLOAD_PACKET : this.mtu) +
      ETHERNET_HEADER_LENGTH +
      (etherTypeAt(frame) === ETHERTYPE_VLAN ? VLAN_TAG_LENGTH : 0);
    if (frame.length > limit) {
      this.counters.framesOversize++;
      this.traceDrop('oversize');
      return;
    }
    if (headerLength === 0) {
      this.sendWire(frame, frame, false);
      return;
    }
    if (segmentation && (options.checksumStart === 0 || !isTsoCandidate(frame, options))) {
      this.counters.sendErrors++;
      this.traceDrop('tso-not-tcp');
      return;
    }
    let wire: Uint8Array;
    let scratch = false;
    if (options !== undefined && options.headroom >= headerLength && frame.byteOffset >= headerLength) {
      wire = new Uint8Array(frame.buffer, frame.byteOffset - headerLength, headerLength + frame.length);
    } else {
      // No room in front: the header goes before a copy. Only small frames (ACKs, ARP) normally land here.
      this.counters.headerCopies++;
      const needed = headerLength + frame.length;
      if (this.sendScratch === undefined || this.sendScratch.length < needed) {
        this.sendScratch = new Uint8Array(Math.max(needed, headerLength + this.frameCapacity));
      }
      wire = this.sendScratch.subarray(0, needed);
      wire.set(frame, headerLength);
      scratch = true;
    }
    writeVirtioNetHeader(wire, 0, headerLength, this.headerLittleEndian, frame, options);
    this.sendWire(wire, frame, scratch);
  }

  /**
   * Writes `wire` (the frame, behind its header when offload is on) now or queues it. A wire buffer that
   * is the reused scratch is copied before it is queued.
   */
  private sendWire(wire: Uint8Array, frame: Uint8Array, scratch: boolean): void {
    // Frames queued earlier go first, or the kernel would see them out of order.
    if (this.sendQueueCount > 0) {
      this.enqueue(scratch ? wire.slice() : wire);
    } else if (this.writeFrame(wire, frame.length) === 'blocked') {
      this.counters.sendBlocked++;
      this.enqueue(scratch ? wire.slice() : wire);
    } else {
      // Written (or refused for good): the kernel holds its own copy and nothing here keeps the frame.
      recycleFrame(frame);
      return;
    }
    // A frame queued as it is stays in use until the queue flushes; one copied behind the scratch does not.
    if (scratch) recycleFrame(frame);
  }

  /**
   * Stops reading frames; the kernel keeps up to its queue length (see `kernelQueueLength` of `openTap`) and
   * drops the rest, as a NIC does when its driver stops taking frames.
   */
  pause(): void {
    this.receivingPaused = true;
    this.updateInterest();
  }

  resume(): void {
    this.receivingPaused = false;
    this.updateInterest();
  }

  /** Lets the process exit while the device is open, as `socket.unref()` does. */
  unref(): this {
    this.poll?.unref();
    return this;
  }

  ref(): this {
    this.poll?.ref();
    return this;
  }

  /**
   * Stops polling and closes the descriptor; a non-persistent interface is deleted by the kernel then.
   * Frames still in the send queue are discarded. Idempotent. 'close' is emitted on the next tick.
   */
  close(): void {
    if (this.isClosed) return;
    this.release();
    process.nextTick(() => this.emit('close'));
  }

  // --- readiness ---------------------------------------------------------------------------------------

  /** The raw libuv callback: records readiness and defers the work (see the comment at the top). */
  private readonly onReady = (status: number, events: PollEvents): void => {
    if (status < 0) this.pollFailure = status;
    else {
      if (events.readable) this.readable = true;
      if (events.writable) this.writable = true;
    }
    if (this.serviceScheduled === undefined) this.serviceScheduled = setImmediate(this.service);
  };

  private readonly service = (): void => {
    this.serviceScheduled = undefined;
    if (this.isClosed) return;
    if (this.pollFailure !== 0) {
      // libuv reports POLLERR as UV_EBADF; for a TAP descriptor it means the interface was deleted.
      this.fail(this.interfaceGone());
      return;
    }
    if (this.writable) {
      this.writable = false;
      this.flushSendQueue();
    }
    if (this.readable && !this.receivingPaused) {
      this.readable = false;
      this.receiveFrames();
    }
  };

  /**
   * Reads one batch; with coalescing, the segments it held are delivered when the batch ends (Linux's
   * napi_gro_flush at the end of a NAPI poll).
   */
  private receiveFrames(): void {
    this.readBatch();
    this.coalescer?.flush();
  }

  /** What the coalescer hands on: to the receiver, unless the device closed meanwhile. */
  private readonly deliverCoalesced = (frame: Uint8Array, info: ReceivedFrameInfo | undefined): unknown => {
    const receiver = this.receiver;
    if (receiver === undefined || this.isClosed) {
      this.counters.framesUnclaimed++;
      return undefined;
    }
    // A frame as it was read (not a packet the coalescer merged): one the receiver may hold and give back.
    const slab = this.slabOf(frame.buffer);
    if (slab === undefined) return info !== undefined ? receiver(frame, info) : receiver(frame);
    const start = frame.byteOffset - slab.memory.byteOffset - this.headerLength;
    const from = start - this.alignOffset;
    return this.deliverFromSlab(receiver, frame, info, slab, from, start + this.headerLength + frame.length);
  };

  /** A frame the coalescer no longer needs and nothing after it holds: its memory may be read into again. */
  private readonly frameReleased = (frame: Uint8Array): void => {
    const slab = this.slabOf(frame.buffer);
    // A slab forgotten meanwhile (or not one of ours): nothing to do.
    if (slab === undefined) return;
    const start = frame.byteOffset - slab.memory.byteOffset - this.headerLength;
    this.releaseRegion(slab, start - this.alignOffset, start + this.headerLength + frame.length);
  };

  /** The current or a retired slab whose memory is `buffer`. */
  private slabOf(buffer: ArrayBufferLike): ReceiveSlab | undefined {
    if (this.slab.buffer === buffer) return this.slab;
    for (const retired of this.retiredSlabs) if (retired.buffer === buffer) return retired;
    return undefined;
  }

  /**
   * Hands the frame read at [from, to) of `slab` to the receiver and returns what it returned. A frame it
   * holds (FRAME_HELD) is noted in `slab.lent`, to be read into again once given back (frameGivenBack); if
   * that happened already during the call (the application read it at once), it is released now.
   */
  private deliverFromSlab(
    receiver: FrameReceiver,
    frame: Uint8Array,
    info: ReceivedFrameInfo | undefined,
    slab: ReceiveSlab,
    from: number,
    to: number,
  ): unknown {
    this.lentRegions.delivering(slab, from, to);
    let disposition: unknown;
    try {
      disposition = info !== undefined ? receiver(frame, info) : receiver(frame);
    } finally {
      this.lentRegions.delivered();
    }
    if (disposition === FRAME_HELD && this.lentRegions.held(slab, from, to)) {
      this.counters.heldFramesGivenBack++;
      this.releaseRegion(slab, from, to);
    }
    return disposition;
  }

  /**
   * A receiver gives back (giveBackFrame) the frame of `slab` that `view` lies in. Only a frame it returned
   * as FRAME_HELD counts, and only once (its entry in `slab.lent` goes); during the call that delivers it,
   * the give-back waits for the receiver's answer, as a layer between may still turn it into nothing.
   */
  private frameGivenBack(slab: ReceiveSlab, view: Uint8Array): void {
    if (this.isClosed) return;
    const regions = this.lentRegions;
    if (!regions.takeBack(slab, view)) return;
    this.counters.heldFramesGivenBack++;
    this.releaseRegion(slab, regions.from, regions.to);
  }

  /**
   * One frame of `slab`, read at [from, to), came back. The current slab's newest region is read into
   * again at once, and all of it once nothing in it is out; a retired slab becomes a spare then.
   */
  private releaseRegion(slab: ReceiveSlab, from: number, to: number): void {
    slab.held--;
    if (slab === this.slab) {
      if (slab.held === 0) this.slabOffset = 0;
      else if (((to + 7) & ~7) === this.slabOffset) this.slabOffset = from;
      return;
    }
    if (slab.held > 0) return;
    const index = this.retiredSlabs.indexOf(slab);
    if (index >= 0) this.retiredSlabs.splice(index, 1);
    if (this.spareSlabs.length < SPARE_SLABS_MAX) this.spareSlabs.push(slab);
    else this.counters.spareSlabsDropped++;
  }

  /** The current slab has no room for another read: a spare (or a new slab) takes its place. */
  private replaceSlab(): void {
    const old = this.slab;
    this.slabOffset = 0;
    // Nothing of it out (every frame came back, or none was delivered): read into it again from the start.
    if (old.held === 0) return;
    this.retiredSlabs.push(old);
    if (this.retiredSlabs.length > RETIRED_SLABS_MAX) {
      this.retiredSlabs.shift();
      this.counters.receiveSlabsForgotten++;
    }
    this.slab = this.spareSlabs.pop() ?? this.newSlab();
  }

  /** Reads until the kernel has nothing more (EAGAIN) or the budget for one wake-up is spent. */
  private readBatch(): void {
    const native = this.native;
    const capacity = this.frameCapacity;
    const counters = this.counters;
    const { EAGAIN, EINTR } = native.errno;
    const headerLength = this.headerLength;
    const readCapacity = headerLength + capacity;
    const info = this.receivedInfo;
    counters.receiveWakeups++;
    for (let frames = 0; frames < this.receiveBudget; ) {
      if (this.slab.memory.length - this.slabOffset < readCapacity + 8) this.replaceSlab();
      const slab = this.slab;
      const memory = slab.memory;
      const from = this.slabOffset;
      const start = from + this.alignOffset;
      const n = native.read(this.fd, memory.subarray(start, start + readCapacity), readCapacity);
      if (n < 0) {
        if (n === -EAGAIN) return;
        if (n === -EINTR) continue;
        this.fail(
          n === -native.errno.EBADFD
            ? this.interfaceGone()
            : this.systemError(-n, 'read', `reading from TAP device '${this.name}' failed`),
        );
        return;
      }
      frames++;
      counters.framesReceived++;
      counters.bytesReceived += n - headerLength;
      // The kernel reports a frame's full length even when it copied only what fit.
      if (n > readCapacity) {
        counters.framesTruncated++;
        this.traceDrop('truncated');
        continue;
      }
      if (n < headerLength) {
        counters.framesMalformed++;
        this.traceDrop('short-virtio-header');
        continue;
      }
      if (headerLength > 0) {
        if (readVirtioNetHeader(memory, start, this.headerLittleEndian, info) !== VIRTIO_NET_HDR_GSO_NONE) {
          counters.largeFramesReceived++;
        }
        if (info.checksumTrusted) counters.trustedChecksumFrames++;
      }
      const receiver = this.receiver;
      if (receiver === undefined) {
        // Not handed to anyone: the next read goes into the same place.
        counters.framesUnclaimed++;
        continue;
      }
      const frame = memory.subarray(start + headerLength, start + n);
      this.slabOffset = (start + n + 7) & ~7;
      slab.held++;
      if (this.coalescer !== undefined) this.coalescer.push(frame, headerLength > 0 ? info : undefined);
      else if (
        this.deliverFromSlab(receiver, frame, headerLength > 0 ? info : undefined, slab, from, start + n) ===
        FRAME_RELEASED
      ) {
        this.releaseRegion(slab, from, start + n);
      }
      // The receiver may have closed or paused the device.
      if (this.isClosed || this.receivingPaused) return;
    }
    // Budget spent with frames possibly left: the level-triggered poll reports readable again next turn.
  }

  // --- sending -----------------------------------------------------------------------------------------

  /** Writes one wire buffer (header + frame); `frameLength` is the frame's part, for the counters. */
  private writeFrame(wire: Uint8Array, frameLength: number): 'written' | 'blocked' | 'dropped' {
    const errno = this.native.errno;
    for (;;) {
      const n = this.native.write(this.fd, wire, wire.length);
      if (n >= 0) {
        this.counters.framesSent++;
        this.counters.bytesSent += frameLength;
        // gso_type is the header's second byte.
        if (this.headerLength > 0 && wire[1] !== VIRTIO_NET_HDR_GSO_NONE) this.counters.largeFramesSent++;
        return 'written';
      }
      if (n === -errno.EINTR) continue;
      if (n === -errno.EAGAIN) return 'blocked';
      if (n === -errno.EIO) {
        this.counters.framesLinkDown++;
        this.traceDrop('link-down');
      } else if (n === -errno.EBADFD) {
        this.fail(this.interfaceGone());
      } else {
        this.counters.sendErrors++;
        this.traceDrop(`write-error-${this.native.errnoName(-n)}`);
      }
      return 'dropped';
    }
  }

  private enqueue(frame: Uint8Array): void {
    const limit = this.sendQueue.length;
    if (this.sendQueueCount === limit) {
      this.counters.sendQueueDrops++;
      this.traceDrop('send-queue-full');
      return;
    }
    this.sendQueue[(this.sendQueueHead + this.sendQueueCount) % limit] = frame;
    this.sendQueueCount++;
    if (this.sendQueueCount === 1) this.updateInterest();
  }

  private flushSendQueue(): void {
    const limit = this.sendQueue.length;
    while (this.sendQueueCount > 0 && !this.isClosed) {
      const wire = this.sendQueue[this.sendQueueHead]!;
      if (this.writeFrame(wire, wire.length - this.headerLength) === 'blocked') return;
      this.sendQueue[this.sendQueueHead] = undefined;
      this.sendQueueHead = (this.sendQueueHead + 1) % limit;
      this.sendQueueCount--;
    }
    this.updateInterest();
  }

  // --- state -------------------------------------------------------------------------------------------

  /** Polls for exactly what is wanted: readable unless paused, writable while frames wait. */
  private updateInterest(): void {
    const poll = this.poll;
    if (poll === undefined) return;
    const readable = !this.receivingPaused;
    const writable = this.sendQueueCount > 0;
    if (readable === this.watchingReadable && writable === this.watchingWritable) return;
    this.watchingReadable = readable;
    this.watchingWritable = writable;
    if (readable || writable) poll.start({ readable, writable }, this.onReady);
    else poll.stop();
  }

  private fail(error: Error): void {
    if (this.isClosed) return;
    this.release();
    process.nextTick(() => {
      this.emit('error', error);
      this.emit('close');
    });
  }

  private release(): void {
    this.isClosed = true;
    openDevices.delete(this);
    // Closing the poll handle unregisters the descriptor from epoll at once, so it can be closed next.
    this.poll?.close();
    this.poll = undefined;
    if (this.serviceScheduled !== undefined) clearImmediate(this.serviceScheduled);
    this.serviceScheduled = undefined;
    this.sendQueue.fill(undefined);
    this.sendQueueCount = 0;
    this.receiver = undefined;
    closeSync(this.fd);
    this.fd = -1;
  }

  private newSlab(): ReceiveSlab {
    // Uninitialised memory is fine: only bytes the kernel wrote are ever exposed, through bounded views.
    // Plain Uint8Array views, not Buffers: what the stack receives is the same type in Node and browsers.
    // With offload a slab takes several of the largest packets, so large reads do not each need a slab.
    const allocated = Buffer.allocUnsafeSlow(
      Math.max(
        this.headerLength > 0 ? OFFLOAD_SLAB_BYTES : SLAB_BYTES,
        2 * (this.headerLength + this.frameCapacity + 8),
      ),
    );
    this.counters.receiveSlabsAllocated++;
    const memory = new Uint8Array(allocated.buffer, allocated.byteOffset, allocated.length);
    const slab: ReceiveSlab = { memory, buffer: memory.buffer, held: 0, lent: [] };
    lendFrameMemory(memory.buffer, (view) => this.frameGivenBack(slab, view));
    return slab;
  }

  /** A descriptor whose interface was deleted polls as an error and reads and writes EBADFD. */
  private interfaceGone(): Error {
    return tapError('ENODEV', `TAP device '${this.name}' is gone (its interface was deleted)`);
  }

  private systemError(errno: number, syscall: string, what: string): Error {
    const code = this.native.errnoName(errno);
    return tapError(code, `${what} (${code})`, { errno, syscall });
  }

  private traceDrop(reason: string): void {
    const tracer = this.tracer;
    if (tracer?.enabled) {
      tracer.emit({
        kind: 'drop',
        time: this.clock ? this.clock.now() : performance.now(),
        host: this.name,
        layer: 'tap',
        reason,
      });
    }
  }
}
