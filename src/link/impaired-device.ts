/**
 * Seeded faults on one device's side of a real link: `impairDevice(device, ...)` returns a NetworkDevice
 * that behaves like `device` except that the frames the stack sends, and the frames arriving for the
 * stack, first cross an {@link ImpairedPath} each — the same netem-like machinery (loss, bursty loss,
 * reordering, duplication, corruption, delay, rate limit) that simulated links use, with the same
 * `LinkImpairments` settings.
 *
 * What it is for: a TAP device's other end is the Linux kernel, which the test does not control; wrapping
 * tcpts's end injects the faults there, so a transfer against the kernel can be checked byte for byte while
 * frames are lost and reordered in both directions. Each direction draws from its own fork of the seed, so
 * a run's fault pattern (which frame numbers are hit) repeats, even though real timing does not.
 *
 *   const device = impairDevice(tap, { clock, seed: 7, inbound: { loss: 0.02 }, outbound: { loss: 0.02 } });
 *   stack.addInterface(device, { address: '10.0.0.2/24' });
 */
import { segmentTcpPacket } from '../tcp/ip-glue/tcp-segmentation.js';
import type { Clock } from '../time/clock.js';
import { NO_TRACE, type Tracer } from '../trace/events.js';
import { Random, type Seed } from '../util/random.js';
import type { MacAddress } from '../wire/address.js';
import { ETHERTYPE_IPV4, etherTypeAt } from '../wire/ethernet.js';
import type { NetworkDevice } from './device.js';
import { ImpairedPath, type LinkImpairments, validateImpairments } from './impairments.js';

export interface DeviceImpairmentOptions {
  /** Drives delays and reordering: the stack's clock. */
  clock: Clock;
  /** Faults on frames the stack sends, before they reach the wrapped device. Default none. */
  outbound?: LinkImpairments;
  /** Faults on frames the wrapped device receives, before the stack sees them. Default none. */
  inbound?: LinkImpairments;
  /** Seed of the fault pattern. Default 0. */
  seed?: Seed;
  /** Randomness to fork instead of `seed`. */
  random?: Random;
  /** Receives link.sent/delivered/dropped/reordered... events, the link named after the device. */
  tracer?: Tracer;
}

const ETHERNET_HEADER_LENGTH = 14;

/** Wraps `device` so both directions meet the given impairments. Throws EINVAL for bad settings. */
export function impairDevice(device: NetworkDevice, options: DeviceImpairmentOptions): ImpairedDevice {
  return new ImpairedDevice(device, options);
}

export class ImpairedDevice implements NetworkDevice {
  /** Frames from the stack towards the wire; `outbound.counters` says what happened to them. */
  readonly outbound: ImpairedPath;
  /** Frames from the wire towards the stack. */
  readonly inbound: ImpairedPath;
  /** Corruption may be configured at any time: checksums are never offloaded across this device. */
  readonly checksumOffload = false;
  private receiver: ((frame: Uint8Array) => void) | undefined;
  private frameIds = 0;
  private closed = false;

  constructor(
    readonly inner: NetworkDevice,
    options: DeviceImpairmentOptions,
  ) {
    validateImpairments(options.outbound ?? {});
    validateImpairments(options.inbound ?? {});
    const random = (options.random ?? new Random(options.seed ?? 0)).fork(`device/${inner.name}`);
    const tracer = options.tracer ?? NO_TRACE;
    const nextFrameId = (): number => ++this.frameIds;
    const linkName = `${inner.name} (impaired)`;
    // Both ends of each path are this device: the MTU is the wrapped device's, in both directions.
    const mtu = (): number => inner.mtu;
    this.outbound = new ImpairedPath(
      options.clock,
      random.fork('outbound'),
      tracer,
      {
        linkName,
        from: 'stack',
        to: inner.name,
        get senderMtu() {
          return mtu();
        },
        get receiverMtu() {
          return mtu();
        },
        nextFrameId,
        deliver: (frame) => {
          if (this.closed) return false;
          inner.send(frame);
          return true;
        },
      },
      options.outbound ?? {},
    );
    this.inbound = new ImpairedPath(
      options.clock,
      random.fork('inbound'),
      tracer,
      {
        linkName,
        from: inner.name,
        to: 'stack',
        get senderMtu() {
          return mtu();
        },
        get receiverMtu() {
          return mtu();
        },
        nextFrameId,
        deliver: (frame) => {
          const receiver = this.receiver;
          if (receiver === undefined || this.closed) return false;
          receiver(frame);
          return true;
        },
      },
      options.inbound ?? {},
    );
    inner.setReceiver((frame, info) => {
      if (info !== undefined && info.segmentSize > 0) this.receiveLarge(frame, info.segmentSize);
      else this.inbound.send(frame);
    });
  }

  get name(): string {
    return this.inner.name;
  }

  get mtu(): number {
    return this.inner.mtu;
  }

  get mac(): MacAddress {
    return this.inner.mac;
  }

  /** Replaces the impairments of one direction or both; frames already on their way keep their fate. */
  setImpairments(direction: 'inbound' | 'outbound' | 'both', impairments: LinkImpairments): void {
    validateImpairments(impairments);
    if (direction !== 'inbound') this.outbound.setImpairments(impairments);
    if (direction !== 'outbound') this.inbound.setImpairments(impairments);
  }

  send(frame: Uint8Array): void {
    this.outbound.send(frame);
  }

  setReceiver(receiver: (frame: Uint8Array) => void): void {
    this.receiver = receiver;
  }

  /**
   * A large TCP packet the wrapped device coalesced (GRO) or was handed whole (GSO) stands for segments of
   * `segmentSize`: the impairments work on wire-size frames, so it is cut back into them first, each with
   * its checksum computed, as Linux segments such a packet before a qdisc that cannot take it.
   */
  private receiveLarge(frame: Uint8Array, segmentSize: number): void {
    const isIpv4 = frame.length > ETHERNET_HEADER_LENGTH && etherTypeAt(frame) === ETHERTYPE_IPV4;
    const total = isIpv4 ? (frame[16]! << 8) | frame[17]! : 0;
    const pieces = isIpv4
      ? segmentTcpPacket(
          frame.subarray(ETHERNET_HEADER_LENGTH, ETHERNET_HEADER_LENGTH + total),
          segmentSize,
          ETHERNET_HEADER_LENGTH,
        )
      : undefined;
    if (pieces === undefined) {
      // Not something that can be cut: on its way as it is (the MTU check drops it if it is too large).
      this.inbound.send(frame);
      return;
    }
    for (const piece of pieces) {
      piece.set(frame.subarray(0, ETHERNET_HEADER_LENGTH), 0);
      this.inbound.send(piece);
    }
  }

  /** Frames still on their way are lost; the wrapped device is closed too. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.outbound.close();
    this.inbound.close();
    this.inner.close?.();
  }
}
