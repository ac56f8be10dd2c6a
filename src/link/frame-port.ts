/**
 * The common body of the links that carry Ethernet frames over something else (a byte stream, datagrams,
 * WebSocket messages, an emulator's bus): a NetworkDevice whose `send` hands each frame to a transport
 * function and whose arriving frames the transport pushes in with `deliver`. Frames are whole Ethernet
 * frames without FCS; a frame longer than the MTU allows, or shorter than an Ethernet header, is counted
 * and dropped on the way in.
 */
import type { MacAddress } from '../wire/address.js';
import type { NetworkDevice } from './device.js';

/** Ethernet header (14) plus payload: the largest frame for an MTU. */
const ETHERNET_HEADER = 14;

export interface FramePortOptions {
  name: string;
  mac: MacAddress;
  /** Largest IP packet carried. Default 1500. */
  mtu?: number;
}

export interface FramePortCounters {
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Arriving frames too short or longer than the MTU allows. */
  malformedIn: number;
  /** Frames the transport could not take (closed, or its queue full). */
  droppedOut: number;
}

export class FramePort implements NetworkDevice {
  readonly name: string;
  readonly mac: MacAddress;
  readonly mtu: number;
  readonly counters: FramePortCounters = {
    framesIn: 0,
    framesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    malformedIn: 0,
    droppedOut: 0,
  };
  private receiver: ((frame: Uint8Array) => void) | undefined;
  private closed = false;

  constructor(
    options: FramePortOptions,
    /** Carries one frame; false: it could not (counted as dropped, as a full NIC ring drops). */
    private readonly transmit: (frame: Uint8Array) => boolean,
    private readonly onClose?: () => void,
  ) {
    this.name = options.name;
    this.mac = options.mac;
    this.mtu = options.mtu ?? 1500;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(frame: Uint8Array): void {
    if (this.closed || !this.transmit(frame)) {
      this.counters.droppedOut++;
      return;
    }
    this.counters.framesOut++;
    this.counters.bytesOut += frame.length;
  }

  setReceiver(receiver: (frame: Uint8Array) => void): void {
    this.receiver = receiver;
  }

  /** A frame arrived from the transport. */
  deliver(frame: Uint8Array): void {
    if (this.closed) return;
    if (frame.length < ETHERNET_HEADER || frame.length > ETHERNET_HEADER + this.mtu + 4) {
      // +4: a VLAN tag may ride in front of a full-size payload.
      this.counters.malformedIn++;
      return;
    }
    this.counters.framesIn++;
    this.counters.bytesIn += frame.length;
    this.receiver?.(frame);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.receiver = undefined;
    this.onClose?.();
  }
}
