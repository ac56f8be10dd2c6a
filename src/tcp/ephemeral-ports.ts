/**
 * Ephemeral port selection, RFC 6056 §3.3.3 "Algorithm 3: Simple Hash-Based Port Selection", over the
 * IANA dynamic range 49152-65535 (RFC 6056 §3.2).
 *
 * A keyed hash of (local address, remote address, remote port) gives each destination its own starting
 * offset in the range, so ports are hard to guess from outside, while one counter shared by all
 * destinations keeps successive connections to the same destination from reusing a port soon.
 */

import { type SipHashKey, sipHash24, sipHashKey } from '../util/siphash.js';
import type { Ipv4Address } from '../wire/address.js';

export const EPHEMERAL_PORT_MIN = 49152;
export const EPHEMERAL_PORT_MAX = 65535;

export class EphemeralPortAllocator {
  private readonly key: SipHashKey;
  private readonly input = new Uint8Array(10);
  private readonly hash = new Uint32Array(2);
  private nextEphemeral = 0;
  readonly min: number;
  readonly max: number;

  constructor(secret: Uint8Array, min = EPHEMERAL_PORT_MIN, max = EPHEMERAL_PORT_MAX) {
    this.key = sipHashKey(secret);
    this.min = min;
    this.max = max;
  }

  /**
   * A port for a connection from `localAddress` to (remoteAddress, remotePort) for which `isFree(port)`
   * holds, or undefined when every port in the range is taken.
   */
  select(
    localAddress: Ipv4Address,
    remoteAddress: Ipv4Address,
    remotePort: number,
    isFree: (port: number) => boolean,
  ): number | undefined {
    const count = this.max - this.min + 1;
    const b = this.input;
    b[0] = localAddress >>> 24;
    b[1] = localAddress >>> 16;
    b[2] = localAddress >>> 8;
    b[3] = localAddress;
    b[4] = remoteAddress >>> 24;
    b[5] = remoteAddress >>> 16;
    b[6] = remoteAddress >>> 8;
    b[7] = remoteAddress;
    b[8] = remotePort >>> 8;
    b[9] = remotePort;
    const offset = sipHash24(this.key, b, this.hash)[0]!;
    for (let i = 0; i < count; i++) {
      const port = this.min + ((this.nextEphemeral + offset) % count);
      this.nextEphemeral = (this.nextEphemeral + 1) % 0x1_0000_0000;
      if (isFree(port)) return port;
    }
    return undefined;
  }
}
