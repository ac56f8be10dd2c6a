/**
 * Packet capture points. Anything with `writePacket(timeMs, frame)` can record — normally a PcapWriter,
 * stamped from the same Clock that drives the stack, so virtual-time captures are deterministic.
 *
 * - `captureDevice(device, writer, clock)` wraps any NetworkDevice (a link end, a TAP device) and records
 *   every frame it sends and receives, like tcpdump on an interface.
 * - `MemoryLink.capture(writer, options)` records frames entering a link (or reaching its far end).
 */
import type { Clock } from '../time/clock.js';
import type { NetworkDevice, ReceivedFrameInfo } from './device.js';

export interface PacketRecorder {
  writePacket(timeMs: number, frame: Uint8Array): void;
  /** A closed recorder is skipped instead of being written to. */
  readonly closed?: boolean;
}

/**
 * A NetworkDevice that behaves like `device` and records both directions into `recorder`. It never
 * offers checksum offload, so the stack writes real checksums and the capture validates in Wireshark.
 */
export function captureDevice(device: NetworkDevice, recorder: PacketRecorder, clock: Clock): NetworkDevice {
  return new CapturingDevice(device, recorder, clock);
}

class CapturingDevice implements NetworkDevice {
  readonly checksumOffload = false;

  constructor(
    private readonly inner: NetworkDevice,
    private readonly recorder: PacketRecorder,
    private readonly clock: Clock,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  get mtu(): number {
    return this.inner.mtu;
  }

  get mac(): number {
    return this.inner.mac;
  }

  send(frame: Uint8Array): void {
    // Recorded before handing over: from then on the frame belongs to the device.
    this.record(frame);
    this.inner.send(frame);
  }

  setReceiver(receiver: (frame: Uint8Array, info?: ReceivedFrameInfo) => void): void {
    // What the device says about a frame (e.g. a peer's partial checksum it vouches for) passes through:
    // the capture shows the frame as carried, the stack still knows not to verify it.
    this.inner.setReceiver((frame, info) => {
      this.record(frame);
      receiver(frame, info);
    });
  }

  close(): void {
    this.inner.close?.();
  }

  private record(frame: Uint8Array): void {
    if (this.recorder.closed !== true) this.recorder.writePacket(this.clock.now(), frame);
  }
}
