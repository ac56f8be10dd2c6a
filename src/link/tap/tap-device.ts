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
 * and the stack may keep the views (the `NetworkDevice` ownership rule), since a slab is never reused.
 */

import { EventEmitter } from 'node:events';
import { closeSync } from 'node:fs';
import type { Clock } from '../../time/clock.js';
import type { Tracer } from '../../trace/events.js';
import type { MacAddress } from '../../wire/address.js';
import type { NetworkDevice } from '../device.js';
import type { NativeHelper, PollEvents, PollHandle } from './native-helper.js';
import { tapError } from './tap-error.js';

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
  /** Frames dropped because their payload exceeded the MTU. */
  framesOversize: number;
  /** Frames dropped because the kernel interface was down (the write failed with EIO). */
  framesLinkDown: number;
  /** Frames the kernel rejected for another reason (e.g. EINVAL for a frame shorter than a header). */
  sendErrors: number;
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
  readonly tracer: Tracer | undefined;
  readonly clock: Clock | undefined;
}

const ETHERNET_HEADER_LENGTH = 14;
const VLAN_TAG_LENGTH = 4;
const ETHERTYPE_VLAN = 0x8100;
/** Received frames are carved from slabs of this size (or four frames, if the MTU is huge). */
const SLAB_BYTES = 64 * 1024;
/**
 * Each frame starts 2 bytes past an 8-byte boundary, so the IP header after the 14-byte Ethernet header is
 * 8-byte aligned and the checksum's word-wide path covers it (the NET_IP_ALIGN trick of NIC drivers).
 */
const FRAME_ALIGN_OFFSET = 2;

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
  /** Frames cross a real kernel boundary: checksums are computed and verified. */
  readonly checksumOffload = false;
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
  };
  private readonly native: NativeHelper;
  private fd: number;
  private poll: PollHandle | undefined;
  private receiver: ((frame: Uint8Array) => void) | undefined;
  private readonly tracer: Tracer | undefined;
  private readonly clock: Clock | undefined;

  /** Largest frame read or written: MTU + Ethernet header (+ a VLAN tag). */
  private readonly frameCapacity: number;
  private readonly receiveBudget: number;
  private slab: Uint8Array;
  private slabOffset = 0;

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
    this.frameCapacity = parameters.mtu + ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH;
    this.slab = this.newSlab();
    this.sendQueue = new Array(parameters.sendQueueLimit);
    this.poll = this.native.poll(this.fd, { readable: true }, this.onReady);
    this.watchingReadable = true;
    trackOpenDevice(this);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Frames waiting for the kernel to accept them. */
  get sendQueueLength(): number {
    return this.sendQueueCount;
  }

  setReceiver(receiver: (frame: Uint8Array) => void): void {
    this.receiver = receiver;
  }

  /**
   * Writes one Ethernet frame (header included, no FCS) to the kernel. Never blocks and never throws for a
   * frame the kernel refuses: such frames are queued (EAGAIN) or dropped and counted.
   */
  send(frame: Uint8Array): void {
    if (this.isClosed) return;
    const limit =
      this.mtu +
      ETHERNET_HEADER_LENGTH +
      (((frame[12]! << 8) | frame[13]!) === ETHERTYPE_VLAN ? VLAN_TAG_LENGTH : 0);
    if (frame.length > limit) {
      this.counters.framesOversize++;
      this.traceDrop('oversize');
      return;
    }
    // Frames queued earlier go first, or the kernel would see them out of order.
    if (this.sendQueueCount > 0) {
      this.enqueue(frame);
      return;
    }
    if (this.writeFrame(frame) === 'blocked') {
      this.counters.sendBlocked++;
      this.enqueue(frame);
    }
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

  /** Reads until the kernel has nothing more (EAGAIN) or the budget for one wake-up is spent. */
  private receiveFrames(): void {
    const native = this.native;
    const capacity = this.frameCapacity;
    const counters = this.counters;
    const { EAGAIN, EINTR } = native.errno;
    counters.receiveWakeups++;
    for (let frames = 0; frames < this.receiveBudget; ) {
      if (this.slab.length - this.slabOffset < capacity) {
        this.slab = this.newSlab();
        this.slabOffset = 0;
      }
      const start = this.slabOffset + FRAME_ALIGN_OFFSET;
      const n = native.read(this.fd, this.slab.subarray(start, start + capacity), capacity);
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
      counters.bytesReceived += n;
      // The kernel reports a frame's full length even when it copied only what fit.
      if (n > capacity) {
        counters.framesTruncated++;
        this.traceDrop('truncated');
        continue;
      }
      const frame = this.slab.subarray(start, start + n);
      this.slabOffset = (start + n + 7) & ~7;
      const receiver = this.receiver;
      if (receiver === undefined) {
        counters.framesUnclaimed++;
        continue;
      }
      receiver(frame);
      // The receiver may have closed or paused the device.
      if (this.isClosed || this.receivingPaused) return;
    }
    // Budget spent with frames possibly left: the level-triggered poll reports readable again next turn.
  }

  // --- sending -----------------------------------------------------------------------------------------

  private writeFrame(frame: Uint8Array): 'written' | 'blocked' | 'dropped' {
    const errno = this.native.errno;
    for (;;) {
      const n = this.native.write(this.fd, frame, frame.length);
      if (n >= 0) {
        this.counters.framesSent++;
        this.counters.bytesSent += n;
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
      const frame = this.sendQueue[this.sendQueueHead]!;
      if (this.writeFrame(frame) === 'blocked') return;
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

  private newSlab(): Uint8Array {
    // Uninitialised memory is fine: only bytes the kernel wrote are ever exposed, through bounded views.
    // Plain Uint8Array views, not Buffers: what the stack receives is the same type in Node and browsers.
    const memory = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, 4 * (this.frameCapacity + 8)));
    return new Uint8Array(memory.buffer, memory.byteOffset, memory.length);
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
