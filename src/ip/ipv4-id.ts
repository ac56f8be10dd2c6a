/**
 * IPv4 Identification values per flow (RFC 6864, RFC 7739 §5.3 "hash-based"): a table of counters, one
 * chosen per (source, destination, protocol) by a keyed hash, plus a keyed per-flow offset:
 *
 *     ID = counter[G(src, dst, protocol)]++ + F(src, dst, protocol)   (mod 2^16)
 *
 * Successive datagrams of one flow get successive IDs, so IDs of non-atomic datagrams repeat for a flow
 * only after 65 536 of its datagrams (RFC 6864 §4.2), while an outsider learns nothing from them about
 * other flows (one global counter let anyone count a host's traffic, or guess the ID of a datagram to
 * another host for fragment injection, RFC 7739 §3). As Linux's ip_idents, 2048 counters are shared by
 * the flows that hash alike. The keys derive from the stack's secret.
 */
import { type SipHashKey, sipHash24, sipHashKey } from '../util/siphash.js';
import type { Ipv4Address } from '../wire/address.js';

const COUNTERS = 2048;

export class Ipv4IdGenerator {
  private readonly key: SipHashKey;
  private readonly counters = new Uint16Array(COUNTERS);
  private readonly input = new Uint8Array(9);
  private readonly hash = new Uint32Array(2);
  // The last flow's bucket and offset: a run of datagrams of one flow hashes once.
  private lastSrc = -1;
  private lastDst = -1;
  private lastProtocol = -1;
  private lastBucket = 0;
  private lastOffset = 0;

  /** `key`: 16 bytes derived from the stack secret. */
  constructor(key: Uint8Array) {
    this.key = sipHashKey(key);
  }

  next(src: Ipv4Address, dst: Ipv4Address, protocol: number): number {
    if (src !== this.lastSrc || dst !== this.lastDst || protocol !== this.lastProtocol) {
      const b = this.input;
      b[0] = src >>> 24;
      b[1] = src >>> 16;
      b[2] = src >>> 8;
      b[3] = src;
      b[4] = dst >>> 24;
      b[5] = dst >>> 16;
      b[6] = dst >>> 8;
      b[7] = dst;
      b[8] = protocol;
      const h = sipHash24(this.key, b, this.hash);
      this.lastSrc = src;
      this.lastDst = dst;
      this.lastProtocol = protocol;
      this.lastBucket = h[0]! % COUNTERS;
      this.lastOffset = h[1]! & 0xffff;
    }
    const count = this.counters[this.lastBucket]!;
    this.counters[this.lastBucket] = count + 1;
    return (count + this.lastOffset) & 0xffff;
  }

  /**
   * Passes over the next `count` IDs of the flow `next` numbered last: that datagram is cut into
   * `count + 1` segments (TSO, GSO), each with the ID after the one before.
   */
  skip(count: number): void {
    if (count > 0) this.counters[this.lastBucket] = this.counters[this.lastBucket]! + count;
  }
}
