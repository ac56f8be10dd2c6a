/**
 * The Ethernet layer (IEEE 802.3 Ethernet II framing, RFC 894 for IPv4, RFC 2464 for IPv6): between a
 * device and the network protocols that share it. Per device, one `EthernetPort`:
 *
 * - receive: drops frames too short for a header and unicast frames for another station (a switch
 *   flooding an unknown destination, a promiscuous TAP), then hands the payload to the protocol
 *   registered for its EtherType (IPv4, ARP, IPv6), saying whether the frame was sent to a group address
 *   (RFC 1122 §3.3.6 and RFC 4861 §7.1 need to know). Group frames are passed up: which multicast groups
 *   are wanted is the network layer's knowledge, as a NIC's filter is programmed from above.
 * - send: writes the header (`writeEthernetHeaderAt`: header offsets stay in wire/) and hands the frame to
 *   the device.
 *
 * Several network protocols may register on one port, so an IPv4 interface and an IPv6 interface can
 * share a device; the port installs itself as the device's receiver when the first protocol registers
 * and uninstalls itself when the last one leaves.
 */

import type { StackContext } from '../ip/stack-context.js';
import type { EtherTypeReceiver } from '../seams.js';
import type { MacAddress } from '../wire/address.js';
import {
  destinationIsAt,
  ETHERNET_HEADER_LENGTH,
  etherTypeAt,
  isGroupDestinationAt,
  macHalves,
  writeEthernetHeaderAt,
} from '../wire/ethernet.js';
import {
  FRAME_RELEASED,
  type FrameDisposition,
  type FrameTransmitOptions,
  type NetworkDevice,
  type ReceivedFrameInfo,
} from './device.js';

export type { EtherTypeReceiver } from '../seams.js';

export interface EthernetPortOptions {
  /** The stack's loopback device: its frames are not counted as sent on a wire. */
  loopback?: boolean;
}

/** One device's Ethernet framing and EtherType demultiplexing. */
export class EthernetPort {
  private readonly receivers = new Map<number, EtherTypeReceiver>();
  private readonly loopback: boolean;
  /** The device's MAC in 24-bit halves, compared with each frame's destination (see destinationIsAt). */
  private readonly macHigh: number;
  private readonly macLow: number;

  constructor(
    private readonly ctx: StackContext,
    readonly device: NetworkDevice,
    options: EthernetPortOptions = {},
  ) {
    this.loopback = options.loopback === true;
    const { high, low } = macHalves(device.mac);
    this.macHigh = high;
    this.macLow = low;
  }

  get mac(): MacAddress {
    return this.device.mac;
  }

  /** True while some protocol is registered. */
  get inUse(): boolean {
    return this.receivers.size > 0;
  }

  /** Delivers frames of `etherType` to `receiver`; the first registration starts receiving from the device. */
  register(etherType: number, receiver: EtherTypeReceiver): void {
    if (this.receivers.size === 0) this.device.setReceiver((frame, info) => this.receive(frame, info));
    this.receivers.set(etherType, receiver);
  }

  /** Stops delivering `etherType`; the last one leaving stops receiving from the device. */
  unregister(etherType: number): void {
    this.receivers.delete(etherType);
    if (this.receivers.size === 0) this.device.setReceiver(() => {});
  }

  /**
   * Entry point for every frame the device delivers (also usable directly by tests). Returns what the
   * protocol given the frame returned (FRAME_RELEASED: nothing holds the frame any more), and
   * FRAME_RELEASED for a frame dropped here: nothing looks at it again, and a corrupted one left out
   * would keep the memory of every frame carved beside it from being used again (frame-allocator.ts).
   */
  receive(frame: Uint8Array, info?: ReceivedFrameInfo): FrameDisposition {
    const { counters } = this.ctx;
    counters.EthernetInFrames++;
    if (frame.length < ETHERNET_HEADER_LENGTH) {
      counters.EthernetInErrors++;
      this.ctx.drop('ethernet', 'truncated');
      return FRAME_RELEASED;
    }
    const linkBroadcast = isGroupDestinationAt(frame);
    if (!linkBroadcast && !destinationIsAt(frame, this.macHigh, this.macLow)) {
      counters.EthernetInOtherHost++;
      this.ctx.drop('ethernet', 'other-host');
      return FRAME_RELEASED;
    }
    const receiver = this.receivers.get(etherTypeAt(frame));
    if (receiver === undefined) {
      counters.EthernetInUnknownProtos++;
      this.ctx.drop('ethernet', 'unknown-ethertype');
      return FRAME_RELEASED;
    }
    return receiver(frame, ETHERNET_HEADER_LENGTH, linkBroadcast, info);
  }

  /**
   * Writes the header (source: this device) in front of the packet the frame already holds at offset 14
   * and sends it. `options`: offload requests for this frame, see `FrameTransmitOptions`.
   */
  send(frame: Uint8Array, dst: MacAddress, etherType: number, options?: FrameTransmitOptions): void {
    this.writeHeader(frame, dst, etherType);
    this.sendFrame(frame, options);
  }

  /** Writes the header (source: this device) at `frame[0]`, for a frame sent later (after resolution). */
  writeHeader(frame: Uint8Array, dst: MacAddress, etherType: number): void {
    writeEthernetHeaderAt(frame, dst, this.macHigh, this.macLow, etherType);
  }

  /** Sends a frame whose header is already complete. */
  sendFrame(frame: Uint8Array, options?: FrameTransmitOptions): void {
    if (!this.loopback) this.ctx.counters.EthernetOutFrames++;
    if (options === undefined) this.device.send(frame);
    else this.device.send(frame, options);
  }
}

/** The ports of one stack, one per device, shared by every network protocol using that device. */
export class EthernetLayer {
  private readonly ports = new Map<NetworkDevice, EthernetPort>();

  constructor(private readonly ctx: StackContext) {}

  /** The port of `device`, created on first use. */
  portFor(device: NetworkDevice, options?: EthernetPortOptions): EthernetPort {
    let port = this.ports.get(device);
    if (port === undefined) {
      port = new EthernetPort(this.ctx, device, options);
      this.ports.set(device, port);
    }
    return port;
  }

  /** Forgets the port of `device` once no protocol uses it. */
  release(device: NetworkDevice): void {
    const port = this.ports.get(device);
    if (port !== undefined && !port.inUse) this.ports.delete(device);
  }
}
