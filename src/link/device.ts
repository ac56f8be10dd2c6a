import type { MacAddress } from '../wire/address.js';

/**
 * An Ethernet-like device: the boundary between the stack and whatever carries its frames (a simulated
 * link, a Linux TAP device, a browser channel).
 *
 * Ownership: a frame handed to `send` belongs to the device from then on (the caller must not reuse the
 * buffer); a frame handed to the receive handler belongs to the receiver, which may keep views into it.
 */
export interface NetworkDevice {
  /** Human-readable name, e.g. 'client-eth0' or 'tap0'. */
  readonly name: string;
  /** Largest IP packet (Ethernet payload) the device carries, e.g. 1500. */
  readonly mtu: number;
  /** The hardware address frames from this device carry as their source. */
  readonly mac: MacAddress;
  /**
   * True when frames crossing this device cannot be corrupted on the way (an in-process link without a
   * corruption impairment), so checksums may be offloaded as Linux does on loopback. Default: false.
   */
  readonly checksumOffload?: boolean;
  /** Sends one Ethernet frame (header included, no FCS). */
  send(frame: Uint8Array): void;
  /** Installs the handler that receives every frame arriving from the wire. */
  setReceiver(receiver: (frame: Uint8Array) => void): void;
  /** Releases the device; no frame is delivered afterwards. */
  close?(): void;
}
