/**
 * Ephemeral port selection, RFC 6056 §3.3.3 "Algorithm 3: Simple Hash-Based Port Selection", over the
 * IANA dynamic range 49152-65535 (RFC 6056 §3.2).
 *
 * A keyed hash of (local address, remote address, remote port) gives each destination its own starting
 * offset in the range, so ports are hard to guess from outside, while one counter shared by all
 * destinations keeps successive connections to the same destination from reusing a port soon.
 */

import { type SipHashKey, sipHash24, sipHashKey } from '../util/siphash.js';
import { type IpAddress, writeIpAddress } from '../wire/ipv6-address.js';

export const EPHEMERAL_PORT_MIN = 49152;
export const EPHEMERAL_PORT_MAX = 65535;

export class EphemeralPortAllocator {
  private readonly key: SipHashKey;
  /** Local address, remote address (4 or 16 bytes each) and remote port. */
  private readonly input = new Uint8Array(34);
  private readonly hash = new Uint32Array(2);
  /**
   * Counts up to 2^32, past the small integers: declared NaN (a double field from the start) and set to 0
   * in the constructor, so the first count stored as a double does not give the allocator a new hidden
   * class and deoptimise the code that uses it.
   */
  private nextEphemeral = Number.NaN;
  /** The last destination `select` hashed, and its offset (connections come in runs per destination). */
  private lastLocal: IpAddress | undefined;
  private lastRemote: IpAddress | undefined;
  private lastRemotePort = -1;
  private lastOffset = 0;
  readonly min: number;
  readonly max: number;

  constructor(secret: Uint8Array, min = EPHEMERAL_PORT_MIN, max = EPHEMERAL_PORT_MAX) {
    this.key = sipHashKey(secret);
    this.nextEphemeral = 0;
    this.min = min;
    this.max = max;
  }

  /**
   * A port for a connection from `localAddress` to (remoteAddress, remotePort) for which `isFree(port)`
   * holds, or undefined when every port in the range is taken.
   */
  select(
    localAddress: IpAddress,
    remoteAddress: IpAddress,
    remotePort: number,
    isFree: (port: number) => boolean,
  ): number | undefined {
    const count = this.max - this.min + 1;
    const offset = this.offsetFor(localAddress, remoteAddress, remotePort);
    for (let i = 0; i < count; i++) {
      // `| 0`: the sum is a double (above 2^31), and a port held as one makes V8 box the port field of
      // every endpoint record of the same shape (16 bytes each, in every connection).
      const port = (this.min + ((this.nextEphemeral + offset) % count)) | 0;
      this.nextEphemeral = (this.nextEphemeral + 1) % 0x1_0000_0000;
      if (isFree(port)) return port;
    }
    return undefined;
  }

  /** RFC 6056 Algorithm 3's F(local, remote, remote port, secret). */
  private offsetFor(localAddress: IpAddress, remoteAddress: IpAddress, remotePort: number): number {
    if (
      remotePort === this.lastRemotePort &&
      localAddress === this.lastLocal &&
      remoteAddress === this.lastRemote
    )
      return this.lastOffset;
    const b = this.input;
    let n = writeIpAddress(b, 0, localAddress);
    n += writeIpAddress(b, n, remoteAddress);
    b[n++] = remotePort >>> 8;
    b[n++] = remotePort;
    this.lastLocal = localAddress;
    this.lastRemote = remoteAddress;
    this.lastRemotePort = remotePort;
    this.lastOffset = sipHash24(this.key, b, this.hash, n)[0]!;
    return this.lastOffset;
  }
}
