/**
 * IPv4 header (RFC 791 §3.1).
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * |Version|  IHL  |Type of Service|          Total Length         |
 * |         Identification        |Flags|      Fragment Offset    |
 * |  Time to Live |    Protocol   |         Header Checksum       |
 * |                       Source Address                          |
 * |                    Destination Address                        |
 * |                    Options                    |    Padding    |
 *
 * Options are not interpreted (RFC 1122 §3.2.1.8 lets a host ignore the ones it does not implement); they
 * are skipped by IHL and handed out as a view. The payload ends at Total Length, so Ethernet padding after
 * a short packet never reaches the transport layer.
 */

import { type Ipv4Address, readIpv4 } from './address.js';
import { checksumAdd, checksumAdjust, checksumFinish, internetChecksum } from './checksum.js';
import { codedError, copyInto, EMPTY_BYTES, requireSpace } from './emit-buffer.js';
import { frameMemoryData, wordSum, writeWord } from './frame-words.js';
import { malformed, type ParseResult, parsed, type WireError } from './parse-result.js';

export const IPV4_HEADER_LENGTH = 20;
export const IPV4_MAX_HEADER_LENGTH = 60;
export const IPV4_MAX_TOTAL_LENGTH = 0xffff;
export const IP_PROTOCOL_ICMP = 1;
export const IP_PROTOCOL_TCP = 6;
export const IP_PROTOCOL_UDP = 17;

const FLAG_DONT_FRAGMENT = 0x4000;
const FLAG_MORE_FRAGMENTS = 0x2000;
const FRAGMENT_OFFSET_MASK = 0x1fff;

export interface Ipv4Header {
  /** The whole second octet: DSCP and ECN (RFC 2474, RFC 3168). */
  tos: number;
  id: number;
  dontFragment: boolean;
  moreFragments: boolean;
  /** Offset of this fragment's data in the original datagram, in bytes (a multiple of 8). */
  fragmentOffset: number;
  ttl: number;
  protocol: number;
  src: Ipv4Address;
  dst: Ipv4Address;
  /** Raw option bytes; emitted as given and padded with End of Option List to a 4-byte boundary. */
  options?: Uint8Array;
}

export interface Ipv4Packet extends Ipv4Header {
  /** IHL in bytes (20-60). */
  headerLength: number;
  /** Total Length field: header plus payload. */
  totalLength: number;
  /** Option bytes between the fixed header and the payload (empty when IHL is 5); a view. */
  options: Uint8Array;
  /** Bytes from the end of the header to Total Length; a view. */
  payload: Uint8Array;
}

export interface Ipv4ParseOptions {
  /**
   * Verify the header checksum (default true). Links that cannot corrupt frames may turn this off, as
   * Linux trusts loopback.
   */
  verifyChecksum?: boolean;
}

const PROTOCOL = 'ipv4';

/**
 * Length and field checks shared by the view and the parsers, on the packet at `buf[offset]` that the
 * buffer holds `length` bytes of; undefined when the header is usable.
 */
function checkIpv4(
  buf: Uint8Array,
  quoted: boolean,
  offset = 0,
  length = buf.length,
): ParseResult<never> | undefined {
  if (length < IPV4_HEADER_LENGTH) return shortHeader(length);
  const version = buf[offset]! >>> 4;
  if (version !== 4) return malformed(PROTOCOL, 'bad-version', `version ${version}`);
  const headerLength = (buf[offset]! & 0x0f) * 4;
  if (headerLength < IPV4_HEADER_LENGTH || headerLength > length)
    return badHeaderLength(headerLength, length);
  const totalLength = (buf[offset + 2]! << 8) | buf[offset + 3]!;
  // A datagram quoted in an ICMP error is usually cut short (RFC 792), so only a full packet must hold
  // every byte Total Length claims.
  if (totalLength < headerLength || (!quoted && totalLength > length))
    return badTotalLength(totalLength, headerLength, length);
  return undefined;
}

// The failures' messages are built in functions of their own: written in `checkIpv4`, two messages
// quoting the same number shared one conversion to a string, which V8 then ran ahead of both checks, for
// every packet.

function shortHeader(length: number): ParseResult<never> {
  return malformed(PROTOCOL, 'truncated', `${length} bytes, the IPv4 header needs at least 20`);
}

function badHeaderLength(headerLength: number, length: number): ParseResult<never> {
  return malformed(
    PROTOCOL,
    'bad-header-length',
    headerLength < IPV4_HEADER_LENGTH
      ? `IHL ${headerLength / 4} is below the minimum of 5`
      : `header of ${headerLength} bytes runs past ${length}`,
  );
}

function badTotalLength(totalLength: number, headerLength: number, length: number): ParseResult<never> {
  return malformed(
    PROTOCOL,
    'bad-total-length',
    totalLength < headerLength
      ? `total length ${totalLength} < header ${headerLength}`
      : `total length ${totalLength} > ${length} bytes received`,
  );
}

/** Zero-copy typed access to a checked IPv4 header and its payload. */
export class Ipv4View {
  private constructor(readonly bytes: Uint8Array) {}

  /** Checks lengths and version once (not the checksum: see `checksumValid`). */
  static fromBytes(buf: Uint8Array): ParseResult<Ipv4View> {
    return checkIpv4(buf, false) ?? parsed(new Ipv4View(buf));
  }

  get version(): number {
    return this.bytes[0]! >>> 4;
  }

  get headerLength(): number {
    return (this.bytes[0]! & 0x0f) * 4;
  }

  get tos(): number {
    return this.bytes[1]!;
  }

  get totalLength(): number {
    return (this.bytes[2]! << 8) | this.bytes[3]!;
  }

  get id(): number {
    return (this.bytes[4]! << 8) | this.bytes[5]!;
  }

  private get flagsAndOffset(): number {
    return (this.bytes[6]! << 8) | this.bytes[7]!;
  }

  get dontFragment(): boolean {
    return (this.flagsAndOffset & FLAG_DONT_FRAGMENT) !== 0;
  }

  get moreFragments(): boolean {
    return (this.flagsAndOffset & FLAG_MORE_FRAGMENTS) !== 0;
  }

  /** In bytes. */
  get fragmentOffset(): number {
    return (this.flagsAndOffset & FRAGMENT_OFFSET_MASK) * 8;
  }

  get ttl(): number {
    return this.bytes[8]!;
  }

  get protocol(): number {
    return this.bytes[9]!;
  }

  get checksum(): number {
    return (this.bytes[10]! << 8) | this.bytes[11]!;
  }

  get src(): Ipv4Address {
    return readIpv4(this.bytes, 12);
  }

  get dst(): Ipv4Address {
    return readIpv4(this.bytes, 16);
  }

  get options(): Uint8Array {
    return this.bytes.subarray(IPV4_HEADER_LENGTH, this.headerLength);
  }

  get payload(): Uint8Array {
    return this.bytes.subarray(this.headerLength, this.totalLength);
  }

  /** True when the header checksum verifies (RFC 791: over the header only). */
  checksumValid(): boolean {
    return internetChecksum(this.bytes, 0, this.headerLength) === 0;
  }

  /** Recomputes the header checksum in place. */
  fillChecksum(): void {
    this.bytes[10] = 0;
    this.bytes[11] = 0;
    const sum = internetChecksum(this.bytes, 0, this.headerLength);
    this.bytes[10] = sum >>> 8;
    this.bytes[11] = sum;
  }

  /**
   * Decrements TTL in place for forwarding (RFC 1812 §5.3.1) and patches the checksum incrementally
   * (RFC 1624) instead of summing the header again. Returns the new TTL; the caller must not forward a
   * packet whose TTL this makes 0. A TTL already 0 is left alone.
   */
  decrementTtl(): number {
    const ttl = this.bytes[8]!;
    if (ttl === 0) return 0;
    const protocol = this.bytes[9]!;
    const adjusted = checksumAdjust(this.checksum, (ttl << 8) | protocol, ((ttl - 1) << 8) | protocol);
    this.bytes[8] = ttl - 1;
    this.bytes[10] = adjusted >>> 8;
    this.bytes[11] = adjusted;
    return ttl - 1;
  }
}

function badHeaderChecksum(buf: Uint8Array, offset = 0): WireError {
  const field = (buf[offset + 10]! << 8) | buf[offset + 11]!;
  return {
    kind: 'bad-checksum',
    protocol: PROTOCOL,
    message: `header checksum 0x${field.toString(16).padStart(4, '0')}`,
  };
}

function readPacket(buf: Uint8Array, payloadEnd: number): Ipv4Packet {
  const headerLength = (buf[0]! & 0x0f) * 4;
  const flagsAndOffset = (buf[6]! << 8) | buf[7]!;
  return {
    tos: buf[1]!,
    id: (buf[4]! << 8) | buf[5]!,
    dontFragment: (flagsAndOffset & FLAG_DONT_FRAGMENT) !== 0,
    moreFragments: (flagsAndOffset & FLAG_MORE_FRAGMENTS) !== 0,
    fragmentOffset: (flagsAndOffset & FRAGMENT_OFFSET_MASK) * 8,
    ttl: buf[8]!,
    protocol: buf[9]!,
    src: readIpv4(buf, 12),
    dst: readIpv4(buf, 16),
    headerLength,
    totalLength: (buf[2]! << 8) | buf[3]!,
    options:
      headerLength === IPV4_HEADER_LENGTH ? EMPTY_BYTES : buf.subarray(IPV4_HEADER_LENGTH, headerLength),
    payload: buf.subarray(headerLength, payloadEnd),
  };
}

/**
 * Parses an IPv4 packet (an Ethernet payload, padding allowed after Total Length). Checks, in order:
 * 'truncated', 'bad-version', 'bad-header-length', 'bad-total-length', then 'bad-checksum'. Never throws.
 */
export function parseIpv4(buf: Uint8Array, options?: Ipv4ParseOptions): ParseResult<Ipv4Packet> {
  const error = checkIpv4(buf, false);
  if (error) return error;
  const headerLength = (buf[0]! & 0x0f) * 4;
  if (options?.verifyChecksum !== false && internetChecksum(buf, 0, headerLength) !== 0) {
    return { ok: false, error: badHeaderChecksum(buf) };
  }
  return parsed(readPacket(buf, (buf[2]! << 8) | buf[3]!));
}

/** A header record with every field zero, to be filled in again for each datagram sent (no options). */
export function newIpv4HeaderRecord(): Ipv4Header {
  return {
    tos: 0,
    id: 0,
    dontFragment: false,
    moreFragments: false,
    fragmentOffset: 0,
    ttl: 0,
    protocol: 0,
    src: 0,
    dst: 0,
  };
}

/**
 * An Ipv4Packet that `parseIpv4Into` fills again for every packet it parses. It keeps where the packet
 * lies in the buffer it was parsed from (`buffer`, `offset`) and cuts the `options` and `payload` views
 * only when they are first read after a parse: a transport that parses its header in place reads
 * `buffer` from `payloadOffset`, and receiving then allocates no view at all.
 */
export class Ipv4PacketRecord implements Ipv4Packet {
  tos = 0;
  id = 0;
  dontFragment = false;
  moreFragments = false;
  fragmentOffset = 0;
  ttl = 0;
  protocol = 0;
  src: Ipv4Address = 0;
  dst: Ipv4Address = 0;
  headerLength = 0;
  totalLength = 0;
  /** The buffer the packet was parsed from, and where in it the packet starts. */
  buffer: Uint8Array = EMPTY_BYTES;
  offset = 0;
  private optionsView: Uint8Array | undefined = EMPTY_BYTES;
  private payloadView: Uint8Array | undefined = EMPTY_BYTES;

  /** Where the payload starts in `buffer`. */
  get payloadOffset(): number {
    return this.offset + this.headerLength;
  }

  get payloadLength(): number {
    return this.totalLength - this.headerLength;
  }

  get options(): Uint8Array {
    if (this.optionsView === undefined) {
      const start = this.offset + IPV4_HEADER_LENGTH;
      this.optionsView = this.buffer.subarray(start, this.offset + this.headerLength);
    }
    return this.optionsView;
  }

  get payload(): Uint8Array {
    this.payloadView ??= this.buffer.subarray(this.payloadOffset, this.offset + this.totalLength);
    return this.payloadView;
  }

  /** @internal Forgets the views of the packet parsed before. */
  located(buffer: Uint8Array, offset: number): void {
    this.buffer = buffer;
    this.offset = offset;
    this.optionsView = this.headerLength === IPV4_HEADER_LENGTH ? EMPTY_BYTES : undefined;
    this.payloadView = undefined;
  }
}

/** An Ipv4Packet for `parseIpv4Into` to fill again and again (fields are set by each parse). */
export function newIpv4PacketRecord(): Ipv4PacketRecord {
  return new Ipv4PacketRecord();
}

/**
 * `parseIpv4` into a caller-owned record, of the packet at `buf[offset]` that the buffer holds `length`
 * bytes of (the rest of it by default), so receiving a datagram allocates nothing: the same checks in the
 * same order, the error returned (undefined when the packet is good). After an error the record's fields
 * are unspecified.
 */
export function parseIpv4Into(
  buf: Uint8Array,
  into: Ipv4PacketRecord,
  verifyChecksum = true,
  offset = 0,
  length = buf.length - offset,
): WireError | undefined {
  const error = checkIpv4(buf, false, offset, length);
  if (error !== undefined && !error.ok) return error.error;
  const headerLength = (buf[offset]! & 0x0f) * 4;
  const versionAndTos = (buf[offset]! << 8) | buf[offset + 1]!;
  const totalLength = (buf[offset + 2]! << 8) | buf[offset + 3]!;
  const id = (buf[offset + 4]! << 8) | buf[offset + 5]!;
  const flagsAndOffset = (buf[offset + 6]! << 8) | buf[offset + 7]!;
  const ttl = buf[offset + 8]!;
  const protocol = buf[offset + 9]!;
  const src = readIpv4(buf, offset + 12);
  const dst = readIpv4(buf, offset + 16);
  if (verifyChecksum) {
    // Every word of the fixed header has just been read for its field: sum those values (RFC 1071 §2:
    // any grouping of the words gives the same sum) instead of reading the 20 bytes again; only options,
    // when there are any, are read for the sum. A correct header sums to 0xffff (RFC 791 §3.1).
    let sum =
      versionAndTos +
      totalLength +
      id +
      flagsAndOffset +
      ((ttl << 8) | protocol) +
      ((buf[offset + 10]! << 8) | buf[offset + 11]!) +
      (src >>> 16) +
      (src & 0xffff) +
      (dst >>> 16) +
      (dst & 0xffff);
    if (headerLength > IPV4_HEADER_LENGTH) {
      sum = checksumAdd(sum, buf, offset + IPV4_HEADER_LENGTH, headerLength - IPV4_HEADER_LENGTH);
    }
    if (checksumFinish(sum) !== 0) return badHeaderChecksum(buf, offset);
  }
  into.tos = versionAndTos & 0xff;
  into.id = id;
  into.dontFragment = (flagsAndOffset & FLAG_DONT_FRAGMENT) !== 0;
  into.moreFragments = (flagsAndOffset & FLAG_MORE_FRAGMENTS) !== 0;
  into.fragmentOffset = (flagsAndOffset & FRAGMENT_OFFSET_MASK) * 8;
  into.ttl = ttl;
  into.protocol = protocol;
  into.src = src;
  into.dst = dst;
  into.headerLength = headerLength;
  into.totalLength = totalLength;
  into.located(buf, offset);
  return undefined;
}

/**
 * Parses the datagram quoted in an ICMP error (RFC 792: the header plus at least 8 bytes of data; RFC 1812
 * §4.3.2.3: as much as fits in 576 bytes). Total Length may exceed what was quoted; `payload` is what is
 * there. The checksum is not verified: routers may quote the header as they changed it. Never throws.
 */
export function parseQuotedIpv4(buf: Uint8Array): ParseResult<Ipv4Packet> {
  const error = checkIpv4(buf, true);
  if (error) return error;
  const totalLength = (buf[2]! << 8) | buf[3]!;
  return parsed(readPacket(buf, Math.min(totalLength, buf.length)));
}

/** Header length `emitIpv4Header` writes for these options (fixed part plus options padded to 4 bytes). */
export function ipv4HeaderLength(h: Pick<Ipv4Header, 'options'>): number {
  const optionLength = h.options?.length ?? 0;
  return IPV4_HEADER_LENGTH + ((optionLength + 3) & ~3);
}

/**
 * Writes the header for a payload of `payloadLength` bytes at `offset`, with its checksum, and returns the
 * header length. The payload itself is the caller's to place after it. `place` is where byte `offset` of
 * `buf` lies in the checksum memory, for a frame carved there (see wire/frame-words.ts), or -1.
 */
export function emitIpv4Header(
  h: Ipv4Header,
  payloadLength: number,
  buf: Uint8Array,
  offset: number,
  place = -1,
): number {
  const headerLength = ipv4HeaderLength(h);
  const totalLength = headerLength + payloadLength;
  // Every datagram sent passes here: the failures are described apart (headerError), which keeps this
  // function small enough for V8 to inline into the IP output path.
  if (
    headerLength > IPV4_MAX_HEADER_LENGTH ||
    totalLength > IPV4_MAX_TOTAL_LENGTH ||
    !(h.fragmentOffset % 8 === 0 && h.fragmentOffset >= 0 && h.fragmentOffset <= FRAGMENT_OFFSET_MASK * 8)
  ) {
    throw headerError(h, headerLength, totalLength);
  }
  requireSpace(buf, offset, headerLength, 'ipv4 header');

  const flagsAndOffset =
    (h.dontFragment ? FLAG_DONT_FRAGMENT : 0) |
    (h.moreFragments ? FLAG_MORE_FRAGMENTS : 0) |
    (h.fragmentOffset >>> 3);
  // The fixed header as five 32-bit words, the checksum (in the third) zero until computed.
  const word0 = ((0x40 | (headerLength >>> 2)) << 24) | ((h.tos & 0xff) << 16) | totalLength;
  const word1 = (h.id << 16) | flagsAndOffset;
  const word2 = ((h.ttl & 0xff) << 24) | ((h.protocol & 0xff) << 16);
  if (place >= 0) {
    const data = frameMemoryData;
    data.setUint32(place, word0);
    data.setUint32(place + 4, word1);
    data.setUint32(place + 8, word2);
    data.setUint32(place + 12, h.src);
    data.setUint32(place + 16, h.dst);
  } else {
    writeWord(buf, offset, word0);
    writeWord(buf, offset + 4, word1);
    writeWord(buf, offset + 8, word2);
    writeWord(buf, offset + 12, h.src);
    writeWord(buf, offset + 16, h.dst);
  }
  if (headerLength > IPV4_HEADER_LENGTH) writeHeaderOptions(h.options!, buf, offset, headerLength);
  // Without options the header checksum is computed from the words just written instead of reading the
  // 20 bytes back: every datagram sent passes here.
  const sum =
    headerLength === IPV4_HEADER_LENGTH
      ? checksumFinish(wordSum(word0) + wordSum(word1) + wordSum(word2) + wordSum(h.src) + wordSum(h.dst))
      : internetChecksum(buf, offset, headerLength);
  buf[offset + 10] = sum >>> 8;
  buf[offset + 11] = sum;
  return headerLength;
}

/** The options after the fixed header, padded with zeros (End of Option List, RFC 791) to a whole word. */
function writeHeaderOptions(
  options: Uint8Array,
  buf: Uint8Array,
  offset: number,
  headerLength: number,
): void {
  copyInto(options, buf, offset + IPV4_HEADER_LENGTH);
  buf.fill(0, offset + IPV4_HEADER_LENGTH + options.length, offset + headerLength);
}

/** Why `emitIpv4Header` refuses a header: the first of its checks that fails. */
function headerError(h: Ipv4Header, headerLength: number, totalLength: number): Error {
  if (headerLength > IPV4_MAX_HEADER_LENGTH)
    return codedError('EINVAL', `ipv4: ${headerLength - 20} option bytes exceed 40`);
  if (totalLength > IPV4_MAX_TOTAL_LENGTH)
    return codedError('EINVAL', `ipv4: total length ${totalLength} exceeds 65535`);
  return codedError('EINVAL', `ipv4: fragment offset ${h.fragmentOffset} is not a multiple of 8 in 0-65528`);
}
