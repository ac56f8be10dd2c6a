/**
 * Initial sequence numbers per RFC 6528 §3 (referenced by RFC 9293 §3.4.1):
 *
 *     ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
 *
 * M is a clock ticking every 4 microseconds (the clock-driven component MUST-8 asks for); F is a keyed
 * pseudorandom function (SHLD-1) whose key never leaves the stack, so an outside observer cannot compute it
 * (MUST-9). F is SipHash-2-4 of the 4-tuple. Consecutive incarnations of one 4-tuple therefore get
 * increasing ISNs, while different 4-tuples get unrelated ones.
 */

import { type SipHashKey, sipHash24, sipHashKey } from '../util/siphash.js';
import { type IpAddress, writeIpAddress } from '../wire/ipv6-address.js';

export class IsnGenerator {
  private readonly key: SipHashKey;
  /** Both addresses (4 or 16 bytes each) and both ports. */
  private readonly tuple = new Uint8Array(36);
  private readonly hash = new Uint32Array(2);
  /** Address pair plus a domain byte, so the offset is unrelated to any ISN. */
  private readonly pair = new Uint8Array(33);
  /** The last address pair `timestampOffset` hashed, and its offset (connections come in runs per pair). */
  private lastLocal: IpAddress | undefined;
  private lastRemote: IpAddress | undefined;
  private lastOffset = 0;

  /** `secret`: 16 bytes, fixed for the life of the stack. */
  constructor(secret: Uint8Array) {
    this.key = sipHashKey(secret);
  }

  /** The ISN for a connection opened at `nowMs`. */
  next(
    localAddress: IpAddress,
    localPort: number,
    remoteAddress: IpAddress,
    remotePort: number,
    nowMs: number,
  ): number {
    const t = this.tuple;
    let n = writeIpAddress(t, 0, localAddress);
    n += writeIpAddress(t, n, remoteAddress);
    t[n++] = localPort >>> 8;
    t[n++] = localPort;
    t[n++] = remotePort >>> 8;
    t[n++] = remotePort;
    sipHash24(this.key, t, this.hash, n);
    // 4 µs ticks: 250 per millisecond. Math.floor keeps fractional virtual times deterministic.
    const m = Math.floor(nowMs * 250) % 0x1_0000_0000;
    // In the signed form TCP keeps sequence numbers in (seq.ts).
    return (m + this.hash[0]!) | 0;
  }

  /**
   * The offset a connection adds to its clock for TSval (RFC 7323 §7.1, Appendix A): a keyed hash of the
   * address pair, as Linux derives it, so timestamps tell an observer neither the host's uptime nor how
   * its connections relate, yet stay monotonic between one pair of hosts (PAWS across incarnations of a
   * 4-tuple relies on that).
   */
  timestampOffset(localAddress: IpAddress, remoteAddress: IpAddress): number {
    if (localAddress === this.lastLocal && remoteAddress === this.lastRemote) return this.lastOffset;
    const p = this.pair;
    let n = writeIpAddress(p, 0, localAddress);
    n += writeIpAddress(p, n, remoteAddress);
    p[n++] = 0x54; // 'T'
    sipHash24(this.key, p, this.hash, n);
    this.lastLocal = localAddress;
    this.lastRemote = remoteAddress;
    this.lastOffset = this.hash[1]! | 0; // signed, as TCP keeps timestamps (seq.ts)
    return this.lastOffset;
  }
}
