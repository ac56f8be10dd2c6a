import type { MacAddress } from '../wire/address.js';

/**
 * An Ethernet-like device: the boundary between the stack and whatever carries its frames (a simulated
 * link, a Linux TAP device, a browser channel).
 *
 * Ownership: a frame handed to `send` belongs to the device from then on (the caller must not reuse the
 * buffer); a frame handed to the receive handler belongs to the receiver, which may keep views into it.
 *
 * Offloads (optional; a device without `offload` sees and delivers plain frames of at most `mtu` bytes
 * of payload, and every existing device works unchanged): a device that sits on a kernel's virtio-net
 * style interface can take one large TCP packet and cut it into MTU-sized segments itself (TSO), complete
 * transport checksums (checksum offload), and deliver large coalesced packets whose checksum its sender
 * vouches for. It says what it can do in `offload`; per frame, `send` takes `FrameTransmitOptions` and the
 * receiver gets `ReceivedFrameInfo`.
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
  /** What the device does for the stack beyond plain frames; undefined: nothing (plain frames only). */
  readonly offload?: DeviceOffload;
  /**
   * Sends one Ethernet frame (header included, no FCS). `options` (only for a device with `offload`) asks
   * for the offloads of this one frame; it is read during the call and not kept.
   */
  send(frame: Uint8Array, options?: FrameTransmitOptions): void;
  /**
   * Installs the handler that receives every frame arriving from the wire. A device with `offload` passes
   * `info` with frames it has more to say about; the object is reused, valid only during the call.
   */
  setReceiver(receiver: (frame: Uint8Array, info?: ReceivedFrameInfo) => void): void;
  /** Releases the device; no frame is delivered afterwards. */
  close?(): void;
}

/** The offloads a device offers (Linux: the NETIF_F_* features of a virtio-net or TAP interface). */
export interface DeviceOffload {
  /**
   * The device completes partial TCP and UDP checksums: a frame sent with `checksumStart` may carry only
   * the pseudo-header sum in its checksum field (Linux CHECKSUM_PARTIAL).
   */
  readonly transmitChecksum: boolean;
  /**
   * TCP segmentation offload: the largest IPv4 TCP packet (IP header included, at most 65535) the device
   * takes in one frame sent with `segmentSize`, cutting it into segments that fit the MTU. 0: no TSO.
   * TSO frames always carry a partial checksum (`checksumStart`).
   */
  readonly tcpSegmentationMax: number;
  /**
   * Bytes the device writes in front of each frame (e.g. a virtio-net header). A sender that leaves this
   * much free space before the frame in its buffer and says so (`headroom`) saves the device a copy.
   */
  readonly headroom: number;
}

/** Per-frame requests to a device with `offload`. Fields that do not apply are 0. */
export interface FrameTransmitOptions {
  /**
   * Non-zero: the transport checksum is partial. The device sums the frame from this offset (the start of
   * the TCP or UDP header) to its end, starting from the value in the checksum field (the pseudo-header
   * sum, not inverted), and writes the finished checksum at `checksumStart + checksumOffset`.
   */
  checksumStart: number;
  /** Where the checksum field lies from `checksumStart`: 16 for TCP, 6 for UDP. */
  checksumOffset: number;
  /**
   * Non-zero: TSO. The frame holds one IPv4 TCP packet that may exceed the MTU; the device cuts its
   * payload into segments of this many bytes (the last may be shorter), each with a copy of the IP and
   * TCP headers (sequence numbers, lengths, IDs and checksums adjusted, FIN and PSH on the last only),
   * as RFC 9293 §3.7 segmentation would have. Needs `checksumStart`.
   */
  segmentSize: number;
  /** Bytes free directly before the frame in its ArrayBuffer, which the device may overwrite. */
  headroom: number;
}

/** What a device with `offload` says about one received frame. */
export interface ReceivedFrameInfo {
  /**
   * The sender vouches for the TCP/UDP checksum (it never left the sending host's memory, or hardware
   * verified it): the transport checksum must not be verified, and its field may hold only a partial sum.
   */
  checksumTrusted: boolean;
  /**
   * Non-zero: the frame is one coalesced TCP packet (GSO/GRO) that may exceed the MTU, made of segments of
   * this many payload bytes; forwarded onto a plain link it must be cut back into them.
   */
  segmentSize: number;
}
