/**
 * SYN cookies (RFC 4987 §3.6), encoded as Linux encodes them, so a listener whose SYN queue is full
 * still completes handshakes while holding no state for them.
 *
 * The SYN-ACK's sequence number (our ISS) is the cookie:
 *
 *     cookie = H1(4-tuple) + SEG.SEQ(SYN) + (minute << 24) + ((H2(4-tuple, minute) + mssIndex) mod 2^24)
 *
 * H1 and H2 are keyed hashes (SipHash-2-4 under a secret from `crypto.getRandomValues`), `minute` counts
 * minutes of the stack's clock, and `mssIndex` picks the peer's MSS from a table of four common values
 * (the largest one not above what the peer announced). The ACK completing the handshake returns the
 * cookie + 1 in its acknowledgment number: the 4-tuple and the ACK's sequence number (SYN's + 1) give back
 * H1 and the SYN's sequence number, the top 8 bits the minute (this minute's or the previous one's, as
 * Linux's MAX_SYNCOOKIE_AGE) and the low 24 bits, less H2, the MSS index (which must be < 4). A blind
 * guess passes with a probability of about 2^-29.
 *
 * Options the cookie has no room for travel in the timestamp we send (RFC 7323 TSval), which the peer
 * echoes in the ACK: its window scale shift (or 0xf for none), SACK permitted and ECN, in the low 6 bits,
 * as Linux's cookie_init_timestamp does. Without timestamps the connection does without window scaling
 * and SACK, and the cookie SYN-ACK offers neither.
 */
import { type SipHashKey, sipHash24, sipHashKey } from '../util/siphash.js';
import { type IpAddress, writeIpAddress } from '../wire/ipv6-address.js';

/** Peer MSS values a cookie can carry (Linux's msstab for IPv4). */
export const SYN_COOKIE_MSS_TABLE: readonly number[] = [536, 1300, 1440, 1460];

/** A cookie is valid in the minute it was made and the next (Linux's MAX_SYNCOOKIE_AGE). */
const MAX_COOKIE_AGE = 2;
const COOKIE_BITS = 24;
const COOKIE_MASK = (1 << COOKIE_BITS) - 1;
const MINUTE_MS = 60_000;

/** The index into SYN_COOKIE_MSS_TABLE for a peer that announced `mss`. */
export function cookieMssIndex(mss: number): number {
  let index = SYN_COOKIE_MSS_TABLE.length - 1;
  while (index > 0 && mss < SYN_COOKIE_MSS_TABLE[index]!) index--;
  return index;
}

export class SynCookieCodec {
  private readonly key1: SipHashKey;
  private readonly key2: SipHashKey;
  /** Both addresses (4 or 16 bytes each), both ports and the minute. */
  private readonly input = new Uint8Array(40);
  private readonly hash = new Uint32Array(2);

  /** `secret`: 32 bytes, fixed for the life of the stack. */
  constructor(secret: Uint8Array) {
    if (secret.length !== 32)
      throw new RangeError(`SYN cookie secret must be 32 bytes, got ${secret.length}`);
    this.key1 = sipHashKey(secret.subarray(0, 16));
    this.key2 = sipHashKey(secret.subarray(16, 32));
  }

  /**
   * The cookie (our ISS) for a SYN with sequence number `synSeq` that arrived at `local`:`localPort` from
   * `remote`:`remotePort` at `nowMs`, carrying `mssIndex`.
   */
  encode(
    local: IpAddress,
    localPort: number,
    remote: IpAddress,
    remotePort: number,
    synSeq: number,
    mssIndex: number,
    nowMs: number,
  ): number {
    const minute = Math.floor(nowMs / MINUTE_MS) >>> 0;
    const h1 = this.tupleHash(this.key1, local, localPort, remote, remotePort, 0);
    const h2 = this.tupleHash(this.key2, local, localPort, remote, remotePort, minute);
    // In the signed form TCP keeps sequence numbers in (seq.ts).
    return (h1 + synSeq + ((minute << COOKIE_BITS) >>> 0) + ((h2 + mssIndex) & COOKIE_MASK)) | 0;
  }

  /**
   * Checks the cookie an ACK returns (`ack - 1`) against the ACK's 4-tuple and sequence number (the
   * SYN's + 1). Returns the MSS index it carries, or -1 for a cookie that is forged, damaged or too old.
   */
  decode(
    local: IpAddress,
    localPort: number,
    remote: IpAddress,
    remotePort: number,
    synSeq: number,
    cookie: number,
    nowMs: number,
  ): number {
    const minute = Math.floor(nowMs / MINUTE_MS) >>> 0;
    const h1 = this.tupleHash(this.key1, local, localPort, remote, remotePort, 0);
    const rest = (cookie - h1 - synSeq) >>> 0;
    const age = (minute - (rest >>> COOKIE_BITS)) & 0xff;
    if (age >= MAX_COOKIE_AGE) return -1;
    const h2 = this.tupleHash(this.key2, local, localPort, remote, remotePort, (minute - age) >>> 0);
    const index = (rest - h2) & COOKIE_MASK;
    return index < SYN_COOKIE_MSS_TABLE.length ? index : -1;
  }

  private tupleHash(
    key: SipHashKey,
    local: IpAddress,
    localPort: number,
    remote: IpAddress,
    remotePort: number,
    minute: number,
  ): number {
    const t = this.input;
    let n = writeIpAddress(t, 0, local);
    n += writeIpAddress(t, n, remote);
    const view = new DataView(t.buffer);
    view.setUint16(n, localPort);
    view.setUint16(n + 2, remotePort);
    view.setUint32(n + 4, minute >>> 0);
    return sipHash24(key, t, this.hash, n + 8)[0]! >>> 0;
  }
}

/** Options a cookie carries in the timestamp: the peer's SYN options the cookie itself has no room for. */
export interface CookieTimestampOptions {
  /** The shift the peer's Window Scale option announced; undefined when it sent none. */
  windowScale: number | undefined;
  sackPermitted: boolean;
  ecn: boolean;
}

const TS_WSCALE_MASK = 0xf;
const TS_SACK = 0x10;
const TS_ECN = 0x20;
const TS_BITS = 6;

/**
 * The TSval of a cookie SYN-ACK: our timestamp clock `nowTs` with its low 6 bits replaced by the options
 * (rounded down, never ahead of the clock, as Linux's cookie_init_timestamp).
 */
export function encodeCookieTimestamp(nowTs: number, options: CookieTimestampOptions): number {
  let bits = options.windowScale === undefined ? TS_WSCALE_MASK : Math.min(options.windowScale, 14);
  if (options.sackPermitted) bits |= TS_SACK;
  if (options.ecn) bits |= TS_ECN;
  const now = nowTs >>> 0;
  let ts = ((now >>> TS_BITS) << TS_BITS) >>> 0;
  ts = (ts | bits) >>> 0;
  if (ts > now) ts = (ts - (1 << TS_BITS)) >>> 0;
  return ts | 0; // the signed form TCP keeps timestamps in (seq.ts)
}

/** The options in the TSecr of the ACK that returns a cookie (see encodeCookieTimestamp). */
export function decodeCookieTimestamp(tsEcr: number): CookieTimestampOptions {
  const wscale = tsEcr & TS_WSCALE_MASK;
  return {
    windowScale: wscale === TS_WSCALE_MASK ? undefined : Math.min(wscale, 14),
    sackPermitted: (tsEcr & TS_SACK) !== 0,
    ecn: (tsEcr & TS_ECN) !== 0,
  };
}
