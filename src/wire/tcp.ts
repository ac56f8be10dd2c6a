/**
 * TCP header (RFC 9293 §3.1) and options (RFC 9293 §3.2, RFC 7323, RFC 2018).
 *
 * The plain representation below is what the TCP state machine consumes and produces.
 * Sequence and acknowledgment numbers are 32-bit integers, unsigned or signed (see TcpSegment); the
 * window is the raw 16-bit field (the connection applies any window scale).
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * |          Source Port          |       Destination Port        |
 * |                        Sequence Number                        |
 * |                    Acknowledgment Number                      |
 * |DOffset| Rsrvd |C|E|U|A|P|R|S|F|            Window             |
 * |           Checksum            |         Urgent Pointer        |
 * |                           [Options]                           |
 *
 * Malformed options and RFC 9293 MUST-7: a TCP implementation must be prepared for an illegal option
 * length. `parseTcp` reports it as 'bad-option' so the drop can be counted under its own reason. A caller
 * that wants the segment anyway (to reset the connection, or to process it without the broken option)
 * parses again with `{ lenientOptions: true }`: option parsing then stops at an option whose length is 0,
 * 1 or runs past the header, skips a known option whose length is wrong for its kind, and the segment is
 * returned with the options understood up to that point. Checksum and data offset are still enforced.
 */

import { copyBytes, viewBytes } from '../util/bytes.js';
import { checksumAdd, checksumFinish, pseudoHeaderSum } from './checksum.js';
import { codedError, copyInto, EMPTY_BYTES, requireSpace } from './emit-buffer.js';
import { frameMemoryData, wordSum, writeWord } from './frame-words.js';
import { IP_PROTOCOL_TCP } from './ipv4.js';
import type { IpAddress } from './ipv6-address.js';
import { malformed, type ParseResult, parsed, type WireError } from './parse-result.js';

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

export const TCP_HEADER_LENGTH = 20;
export const TCP_MAX_HEADER_LENGTH = 60;

export interface SackBlock {
  /** First sequence number of the block. */
  readonly left: number;
  /** Sequence number just past the block. */
  readonly right: number;
}

export interface TcpTimestamp {
  readonly value: number;
  readonly echo: number;
}

export interface TcpOptions {
  /** Maximum segment size (kind 2), only meaningful on SYN. */
  mss?: number;
  /** Window scale shift count (kind 3), only meaningful on SYN. */
  windowScale?: number;
  /** SACK permitted (kind 4), only meaningful on SYN. */
  sackPermitted?: boolean;
  /** SACK blocks (kind 5). */
  sack?: readonly SackBlock[];
  /** Timestamps (kind 8). */
  timestamp?: TcpTimestamp;
}

/**
 * One TCP segment. Its 32-bit fields (seq, ack, SACK block edges, TSval, TSecr) may hold either form of
 * their bits: unsigned (0 .. 2^32 - 1) as `parseTcp` and `copyTcpSegment` give them, or signed
 * (-2^31 .. 2^31 - 1) as the stack's own records hold them; `emitTcp` writes the same bits for both, and
 * tcp/seq.ts compares either. Compare for equality after `| 0` (or `>>> 0`) on both sides.
 */
export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** Bitwise OR of TCP_FIN ... TCP_CWR. */
  flags: number;
  /** Raw 16-bit window field. */
  window: number;
  urgentPointer: number;
  options: TcpOptions;
  /** Segment text; a view into the received frame (never copied by the parser). */
  payload: Uint8Array;
}

export const TCP_OPTION_END = 0;
export const TCP_OPTION_NOP = 1;
export const TCP_OPTION_MSS = 2;
export const TCP_OPTION_WINDOW_SCALE = 3;
export const TCP_OPTION_SACK_PERMITTED = 4;
export const TCP_OPTION_SACK = 5;
export const TCP_OPTION_TIMESTAMP = 8;

/** RFC 2018 §3: a SACK option carries 1 to 4 blocks of 8 bytes after its 2-byte kind/length. */
export const TCP_MAX_SACK_BLOCKS = 4;

const TCP_MAX_OPTION_SPACE = TCP_MAX_HEADER_LENGTH - TCP_HEADER_LENGTH;
const OPTION_LENGTH_MSS = 4;
const OPTION_LENGTH_WINDOW_SCALE = 3;
const OPTION_LENGTH_SACK_PERMITTED = 2;
const OPTION_LENGTH_TIMESTAMP = 10;

export interface TcpParseOptions {
  /** Verify the checksum with the pseudo-header (default true). */
  verifyChecksum?: boolean;
  /** Return the segment despite malformed options (see the module comment; default false). */
  lenientOptions?: boolean;
}

export interface TcpEmitOptions {
  /**
   * Compute the checksum (default true). When false the field is left 0: only for links that cannot
   * corrupt and whose receiver does not verify.
   */
  computeChecksum?: boolean;
  /**
   * The payload is known to lie outside `buf` (a sender's ring): it is copied without first checking
   * whether it was built in place (see copyInto), a byteOffset read saved on every segment sent. Default
   * false.
   */
  payloadElsewhere?: boolean;
  /**
   * What `tcpHeaderLength` gave for the segment's options, from a caller that sized the datagram with it:
   * for a segment without SACK blocks emitTcp then does not count the options again (a call of its own on
   * every segment sent).
   */
  headerLength?: number;
  /**
   * Where `buf[offset]` lies in the checksum memory when `buf` is a frame carved there: the header is then
   * written as whole words (see wire/frame-words.ts). Default -1: byte by byte.
   */
  place?: number;
}

const PROTOCOL = 'tcp';

/** The checks on the segment of `length` bytes at `buf[offset]`; undefined when the header is usable. */
function checkTcp(buf: Uint8Array, offset = 0, length = buf.length): ParseResult<never> | undefined {
  if (length < TCP_HEADER_LENGTH) {
    return malformed(PROTOCOL, 'truncated', `${length} bytes, the TCP header needs at least 20`);
  }
  const headerLength = (buf[offset + 12]! >>> 4) * 4;
  if (headerLength < TCP_HEADER_LENGTH) {
    return malformed(
      PROTOCOL,
      'bad-header-length',
      `data offset ${headerLength / 4} is below the minimum of 5`,
    );
  }
  if (headerLength > length) {
    return malformed(PROTOCOL, 'bad-header-length', `header of ${headerLength} bytes runs past ${length}`);
  }
  return undefined;
}

function tcpChecksumOk(
  buf: Uint8Array,
  src: IpAddress,
  dst: IpAddress,
  offset = 0,
  length = buf.length,
): boolean {
  const sum = pseudoHeaderSum(src, dst, IP_PROTOCOL_TCP, length);
  return checksumFinish(checksumAdd(sum, buf, offset, length)) === 0;
}

function readUint32(buf: Uint8Array, offset: number): number {
  return readInt32(buf, offset) >>> 0;
}

/**
 * The same 32 bits as `readUint32`, as a signed number: what the stack's own records hold (see
 * ReusableTcpSegment), because a number in -2^31 .. 2^31 - 1 is a small integer to the JavaScript engine
 * while one of 2^31 or more is a heap number, boxed wherever it is stored or passed.
 */
function readInt32(buf: Uint8Array, offset: number): number {
  return (buf[offset]! << 24) | (buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!;
}

function badChecksum(buf: Uint8Array, offset = 0): WireError {
  const field = (buf[offset + 16]! << 8) | buf[offset + 17]!;
  return {
    kind: 'bad-checksum',
    protocol: PROTOCOL,
    message: `checksum 0x${field.toString(16).padStart(4, '0')}`,
  };
}

function badOption(message: string): WireError {
  return { kind: 'bad-option', protocol: PROTOCOL, message };
}

/**
 * Reads the options in `buf[start, end)` into `into` (RFC 9293 §3.2: kinds 0 and 1 are one byte, every
 * other option is kind, length, data with the length counting all three). Unknown kinds are skipped by
 * their length (RFC 9293 MUST-6). Returns the first problem found, or undefined; in lenient mode parsing
 * continues past (or stops at) the problem instead of the caller giving up, and the problem is still
 * returned so it can be counted.
 */
function readOptions(
  buf: Uint8Array,
  start: number,
  end: number,
  into: TcpOptions,
  lenient: boolean,
  reuse?: OptionStorage,
  origin = 0,
): WireError | undefined {
  // Messages give an option's place in the segment, which starts at buf[origin].
  let problem: WireError | undefined;
  let i = start;
  while (i < end) {
    const kind = buf[i]!;
    if (kind === TCP_OPTION_END) break;
    if (kind === TCP_OPTION_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= end)
      return badOption(`option kind ${kind} at ${i - origin} has no length byte before the header end`);
    const length = buf[i + 1]!;
    if (length < 2) return badOption(`option kind ${kind} at ${i - origin} has illegal length ${length}`);
    if (i + length > end)
      return badOption(`option kind ${kind} at ${i - origin} of length ${length} runs past the header`);
    let wrongLength = false;
    switch (kind) {
      case TCP_OPTION_MSS:
        if (length === OPTION_LENGTH_MSS) into.mss = (buf[i + 2]! << 8) | buf[i + 3]!;
        else wrongLength = true;
        break;
      case TCP_OPTION_WINDOW_SCALE:
        if (length === OPTION_LENGTH_WINDOW_SCALE) into.windowScale = buf[i + 2]!;
        else wrongLength = true;
        break;
      case TCP_OPTION_SACK_PERMITTED:
        if (length === OPTION_LENGTH_SACK_PERMITTED) into.sackPermitted = true;
        else wrongLength = true;
        break;
      case TCP_OPTION_SACK: {
        const blockCount = (length - 2) / 8;
        if (Number.isInteger(blockCount) && blockCount >= 1 && blockCount <= TCP_MAX_SACK_BLOCKS) {
          if (reuse !== undefined) {
            into.sack = reuse.readSack(buf, i + 2, blockCount);
          } else {
            const blocks: SackBlock[] = [];
            for (let b = i + 2; b < i + length; b += 8) {
              blocks.push({ left: readUint32(buf, b), right: readUint32(buf, b + 4) });
            }
            into.sack = blocks;
          }
        } else {
          wrongLength = true;
        }
        break;
      }
      case TCP_OPTION_TIMESTAMP:
        if (length === OPTION_LENGTH_TIMESTAMP) {
          if (reuse !== undefined) {
            into.timestamp = reuse.readTimestamp(readInt32(buf, i + 2), readInt32(buf, i + 6));
          } else {
            into.timestamp = { value: readUint32(buf, i + 2), echo: readUint32(buf, i + 6) };
          }
        } else {
          wrongLength = true;
        }
        break;
      default:
        break;
    }
    if (wrongLength) {
      problem ??= badOption(`option kind ${kind} at ${i - origin} has length ${length}, wrong for its kind`);
      if (!lenient) return problem;
    }
    i += length;
  }
  return problem;
}

/** The timestamp and SACK block objects a ReusableTcpSegment fills again for each segment parsed into it. */
class OptionStorage {
  private readonly timestamp = { value: 0, echo: 0 };
  private readonly blocks = [
    { left: 0, right: 0 },
    { left: 0, right: 0 },
    { left: 0, right: 0 },
    { left: 0, right: 0 },
  ];
  /** One array per block count, so a segment's `sack` never changes length under its reader. */
  private readonly lists: { left: number; right: number }[][] = [[], [], [], [], []];

  readTimestamp(value: number, echo: number): TcpTimestamp {
    this.timestamp.value = value;
    this.timestamp.echo = echo;
    return this.timestamp;
  }

  readSack(buf: Uint8Array, offset: number, count: number): readonly SackBlock[] {
    const list = this.lists[count]!;
    for (let b = 0; b < count; b++) {
      const block = this.blocks[b]!;
      block.left = readInt32(buf, offset + 8 * b);
      block.right = readInt32(buf, offset + 8 * b + 4);
      list[b] = block;
    }
    return list;
  }
}

/**
 * A TcpSegment that `parseTcpInto` fills again for every segment it parses: the record, its options and
 * their timestamp and SACK blocks are the same objects each time, so receiving a segment allocates nothing
 * but the payload view. Whatever it holds is valid until the next parse into it: a receiver that keeps a
 * segment past that copies it (`copyTcpSegment`).
 *
 * Its 32-bit fields (SEG.SEQ, SEG.ACK, SACK block edges, TSval, TSecr) hold the signed form of the
 * wire's bits (`| 0`), as TCP keeps all its sequence numbers and timestamps (tcp/seq.ts).
 */
export class ReusableTcpSegment implements TcpSegment {
  srcPort = 0;
  dstPort = 0;
  seq = 0;
  ack = 0;
  flags = 0;
  window = 0;
  urgentPointer = 0;
  readonly options: TcpOptions = {
    mss: undefined,
    windowScale: undefined,
    sackPermitted: undefined,
    sack: undefined,
    timestamp: undefined,
  };
  payload: Uint8Array = EMPTY_BYTES;
  /** @internal */
  readonly storage = new OptionStorage();
}

/**
 * A copy of `seg` that owns its options and payload (for a segment kept after its record is reused), with
 * its 32-bit fields in the unsigned form `parseTcp` gives, whichever form `seg` held them in.
 */
export function copyTcpSegment(seg: TcpSegment): TcpSegment {
  const o = seg.options;
  const options: TcpOptions = {};
  if (o.mss !== undefined) options.mss = o.mss;
  if (o.windowScale !== undefined) options.windowScale = o.windowScale;
  if (o.sackPermitted !== undefined) options.sackPermitted = o.sackPermitted;
  if (o.sack !== undefined) options.sack = o.sack.map((b) => ({ left: b.left >>> 0, right: b.right >>> 0 }));
  if (o.timestamp !== undefined)
    options.timestamp = { value: o.timestamp.value >>> 0, echo: o.timestamp.echo >>> 0 };
  return {
    srcPort: seg.srcPort,
    dstPort: seg.dstPort,
    seq: seg.seq >>> 0,
    ack: seg.ack >>> 0,
    flags: seg.flags,
    window: seg.window,
    urgentPointer: seg.urgentPointer,
    options,
    payload: seg.payload.slice(),
  };
}

/**
 * Parses option bytes (as found between the fixed header and the data). Strict by default; with
 * `lenient` always succeeds with the options understood (see the module comment).
 */
export function parseTcpOptions(bytes: Uint8Array, lenient = false): ParseResult<TcpOptions> {
  const options: TcpOptions = {};
  const problem = readOptions(bytes, 0, bytes.length, options, lenient);
  if (problem && !lenient) return { ok: false, error: problem };
  return parsed(options);
}

/** Zero-copy typed access to a checked TCP segment (the whole IPv4 payload). */
export class TcpView {
  private constructor(readonly bytes: Uint8Array) {}

  /** Checks the length and data offset once (not the checksum or options). */
  static fromBytes(buf: Uint8Array): ParseResult<TcpView> {
    return checkTcp(buf) ?? parsed(new TcpView(buf));
  }

  get srcPort(): number {
    return (this.bytes[0]! << 8) | this.bytes[1]!;
  }

  get dstPort(): number {
    return (this.bytes[2]! << 8) | this.bytes[3]!;
  }

  get seq(): number {
    return readUint32(this.bytes, 4);
  }

  get ack(): number {
    return readUint32(this.bytes, 8);
  }

  /** Data Offset field, in 32-bit words. */
  get dataOffset(): number {
    return this.bytes[12]! >>> 4;
  }

  /** Header length in bytes, options included. */
  get headerLength(): number {
    return (this.bytes[12]! >>> 4) * 4;
  }

  /** The 4 reserved bits (RFC 9293: sent as zero, ignored on receipt). */
  get reserved(): number {
    return this.bytes[12]! & 0x0f;
  }

  /** TCP_FIN ... TCP_CWR. */
  get flags(): number {
    return this.bytes[13]!;
  }

  get window(): number {
    return (this.bytes[14]! << 8) | this.bytes[15]!;
  }

  get checksum(): number {
    return (this.bytes[16]! << 8) | this.bytes[17]!;
  }

  get urgentPointer(): number {
    return (this.bytes[18]! << 8) | this.bytes[19]!;
  }

  get optionBytes(): Uint8Array {
    return this.bytes.subarray(TCP_HEADER_LENGTH, this.headerLength);
  }

  get payload(): Uint8Array {
    return this.bytes.subarray(this.headerLength);
  }

  checksumValid(src: IpAddress, dst: IpAddress): boolean {
    return tcpChecksumOk(this.bytes, src, dst);
  }
}

/**
 * Parses a TCP segment: `buf` is the whole IPv4 payload (TCP has no length field of its own), `src`/`dst`
 * the IPv4 addresses for the pseudo-header. Checks 'truncated', 'bad-header-length' (data offset below 5 or
 * past the segment), 'bad-checksum', then 'bad-option'. Never throws.
 */
export function parseTcp(
  buf: Uint8Array,
  src: IpAddress,
  dst: IpAddress,
  options?: TcpParseOptions,
): ParseResult<TcpSegment> {
  const error = checkTcp(buf);
  if (error) return error;
  if (options?.verifyChecksum !== false && !tcpChecksumOk(buf, src, dst)) {
    return { ok: false, error: badChecksum(buf) };
  }
  const headerLength = (buf[12]! >>> 4) * 4;
  const tcpOptions: TcpOptions = {};
  if (headerLength > TCP_HEADER_LENGTH) {
    const lenient = options?.lenientOptions === true;
    const problem = readOptions(buf, TCP_HEADER_LENGTH, headerLength, tcpOptions, lenient);
    if (problem && !lenient) return { ok: false, error: problem };
  }
  return parsed({
    srcPort: (buf[0]! << 8) | buf[1]!,
    dstPort: (buf[2]! << 8) | buf[3]!,
    seq: readUint32(buf, 4),
    ack: readUint32(buf, 8),
    flags: buf[13]!,
    window: (buf[14]! << 8) | buf[15]!,
    urgentPointer: (buf[18]! << 8) | buf[19]!,
    options: tcpOptions,
    // Pure ACKs are half of all segments: spare them the cost of an empty view.
    payload: headerLength === buf.length ? EMPTY_BYTES : buf.subarray(headerLength),
  });
}

/**
 * How `parseTcpInto` cuts the payload view `buf[start, end)` (`start < end`) out of the buffer it parses:
 * a receive path whose frames come from a pool of reused buffers hands out a view it cut before for the
 * same bytes (see frameView in link/frame-allocator.ts) instead of a new one per segment.
 */
export type PayloadCutter = (buf: Uint8Array, start: number, end: number) => Uint8Array;

/**
 * `parseTcp` into a caller-owned record (see ReusableTcpSegment), of the segment at `buf[offset]` that is
 * `length` bytes long (the rest of the buffer by default): the same checks in the same order, the error
 * returned (undefined when the segment is good). After an error the record's fields are unspecified.
 */
export function parseTcpInto(
  buf: Uint8Array,
  src: IpAddress,
  dst: IpAddress,
  into: ReusableTcpSegment,
  verifyChecksum = true,
  lenientOptions = false,
  offset = 0,
  length = buf.length - offset,
  cutPayload: PayloadCutter = viewBytes,
): WireError | undefined {
  const error = checkTcp(buf, offset, length);
  if (error !== undefined && !error.ok) return error.error;
  if (verifyChecksum && !tcpChecksumOk(buf, src, dst, offset, length)) return badChecksum(buf, offset);
  const headerLength = (buf[offset + 12]! >>> 4) * 4;
  const options = into.options;
  options.mss = undefined;
  options.windowScale = undefined;
  options.sackPermitted = undefined;
  options.sack = undefined;
  options.timestamp = undefined;
  const o = offset + TCP_HEADER_LENGTH;
  if (
    headerLength === TCP_HEADER_LENGTH + 12 &&
    buf[o] === TCP_OPTION_NOP &&
    buf[o + 1] === TCP_OPTION_NOP &&
    buf[o + 2] === TCP_OPTION_TIMESTAMP &&
    buf[o + 3] === OPTION_LENGTH_TIMESTAMP
  ) {
    // The options of nearly every segment of a connection with timestamps (RFC 7323 Appendix A's
    // layout, which Linux and this stack send): what the loop below would find, without it.
    options.timestamp = into.storage.readTimestamp(readInt32(buf, o + 4), readInt32(buf, o + 8));
  } else if (headerLength > TCP_HEADER_LENGTH) {
    const problem = readOptions(
      buf,
      offset + TCP_HEADER_LENGTH,
      offset + headerLength,
      options,
      lenientOptions,
      into.storage,
      offset,
    );
    if (problem && !lenientOptions) return problem;
  }
  into.srcPort = (buf[offset]! << 8) | buf[offset + 1]!;
  into.dstPort = (buf[offset + 2]! << 8) | buf[offset + 3]!;
  into.seq = readInt32(buf, offset + 4);
  into.ack = readInt32(buf, offset + 8);
  into.flags = buf[offset + 13]!;
  into.window = (buf[offset + 14]! << 8) | buf[offset + 15]!;
  into.urgentPointer = (buf[offset + 18]! << 8) | buf[offset + 19]!;
  // The one view receiving needs: the data, for the receive buffer (pure ACKs have none), cut by
  // `cutPayload` (a view cut before for the same bytes of a reused frame, on the stack's receive path).
  into.payload =
    headerLength === length ? EMPTY_BYTES : cutPayload(buf, offset + headerLength, offset + length);
  return undefined;
}

/**
 * Number of SACK blocks emitted: as many of the given blocks as fit in the option space the other options
 * leave (RFC 2018 §3: 3 beside timestamps, 4 without).
 */
function sackBlocksEmitted(options: TcpOptions, otherOptionsLength: number): number {
  const blocks = options.sack?.length ?? 0;
  if (blocks === 0) return 0;
  const room = Math.floor((TCP_MAX_OPTION_SPACE - otherOptionsLength - 4) / 8);
  return Math.max(0, Math.min(blocks, room, TCP_MAX_SACK_BLOCKS));
}

/** Length of the options other than SACK blocks, in the layout `emitTcp` uses (always a multiple of 4). */
function baseOptionsLength(options: TcpOptions): number {
  let length = 0;
  if (options.mss !== undefined) length += 4;
  if (options.timestamp !== undefined) length += 12;
  if (options.windowScale !== undefined) length += 4;
  if (options.sackPermitted && options.timestamp === undefined) length += 4;
  return length;
}

/** The header length (Data Offset x 4, RFC 9293 §3.1) of the TCP header at `buf[offset]`, read in place. */
export function tcpHeaderLengthAt(buf: Uint8Array, offset: number): number {
  return (buf[offset + 12]! >>> 4) * 4;
}

/** Header length (20-60) `emitTcp` writes for these options. */
export function tcpHeaderLength(options: TcpOptions): number {
  const base = baseOptionsLength(options);
  // Most segments carry no SACK blocks: no call to find that none fit.
  if (options.sack === undefined) return TCP_HEADER_LENGTH + base;
  return headerLengthWith(base, sackBlocksEmitted(options, base));
}

/** The header length for `base` bytes of options other than SACK and `blocks` SACK blocks after them. */
function headerLengthWith(base: number, blocks: number): number {
  return TCP_HEADER_LENGTH + base + (blocks > 0 ? 4 + 8 * blocks : 0);
}

/**
 * Writes the options in the layout Linux uses, each group already 4-byte aligned so no trailing padding
 * is ever needed:
 *   MSS | SACK-permitted + Timestamps (or NOP NOP Timestamps) | NOP Window-scale
 *   | NOP NOP SACK-permitted (only without timestamps) | NOP NOP SACK blocks
 * Returns the sum of the 16-bit words written, for the checksum, computed from the values (each masked
 * to the bits its bytes hold, so it is exactly the sum of the bytes) rather than read back: RFC 1071 §2
 * lets the words be summed in any grouping.
 */
function writeOptions(
  options: TcpOptions,
  buf: Uint8Array,
  offset: number,
  blocks: number,
  place: number,
): number {
  let i = offset;
  let sum = 0;
  if (options.mss !== undefined) {
    buf[i] = TCP_OPTION_MSS;
    buf[i + 1] = OPTION_LENGTH_MSS;
    buf[i + 2] = options.mss >>> 8;
    buf[i + 3] = options.mss;
    sum += ((TCP_OPTION_MSS << 8) | OPTION_LENGTH_MSS) + (options.mss & 0xffff);
    i += 4;
  }
  if (options.timestamp !== undefined) {
    // NOP NOP (SACK-permitted on a SYN) and Timestamps: three words, through `place` when there is one.
    const first =
      (options.sackPermitted
        ? (TCP_OPTION_SACK_PERMITTED << 24) | (OPTION_LENGTH_SACK_PERMITTED << 16)
        : (TCP_OPTION_NOP << 24) | (TCP_OPTION_NOP << 16)) |
      (TCP_OPTION_TIMESTAMP << 8) |
      OPTION_LENGTH_TIMESTAMP;
    const { value, echo } = options.timestamp;
    if (place >= 0) {
      const at = place + (i - offset);
      frameMemoryData.setUint32(at, first);
      frameMemoryData.setUint32(at + 4, value);
      frameMemoryData.setUint32(at + 8, echo);
    } else {
      writeWord(buf, i, first);
      writeWord(buf, i + 4, value);
      writeWord(buf, i + 8, echo);
    }
    sum += wordSum(first) + wordSum(value) + wordSum(echo);
    i += 12;
  }
  if (options.windowScale !== undefined) {
    buf[i] = TCP_OPTION_NOP;
    buf[i + 1] = TCP_OPTION_WINDOW_SCALE;
    buf[i + 2] = OPTION_LENGTH_WINDOW_SCALE;
    buf[i + 3] = options.windowScale;
    sum +=
      ((TCP_OPTION_NOP << 8) | TCP_OPTION_WINDOW_SCALE) +
      ((OPTION_LENGTH_WINDOW_SCALE << 8) | (options.windowScale & 0xff));
    i += 4;
  }
  if (options.sackPermitted && options.timestamp === undefined) {
    buf[i] = TCP_OPTION_NOP;
    buf[i + 1] = TCP_OPTION_NOP;
    buf[i + 2] = TCP_OPTION_SACK_PERMITTED;
    buf[i + 3] = OPTION_LENGTH_SACK_PERMITTED;
    sum +=
      ((TCP_OPTION_NOP << 8) | TCP_OPTION_NOP) +
      ((TCP_OPTION_SACK_PERMITTED << 8) | OPTION_LENGTH_SACK_PERMITTED);
    i += 4;
  }
  if (blocks > 0) {
    buf[i] = TCP_OPTION_NOP;
    buf[i + 1] = TCP_OPTION_NOP;
    buf[i + 2] = TCP_OPTION_SACK;
    buf[i + 3] = 2 + 8 * blocks;
    sum += ((TCP_OPTION_NOP << 8) | TCP_OPTION_NOP) + ((TCP_OPTION_SACK << 8) | ((2 + 8 * blocks) & 0xff));
    i += 4;
    for (let b = 0; b < blocks; b++) {
      const block = options.sack![b]!;
      writeWord(buf, i, block.left);
      writeWord(buf, i + 4, block.right);
      sum += wordSum(block.left) + wordSum(block.right);
      i += 8;
    }
  }
  return sum;
}

/**
 * Writes header, options and payload at `offset` with the checksum over the pseudo-header, and returns the
 * segment length. SACK blocks beyond the option space are left out (the first ones are kept: RFC 2018 §4
 * puts the most recent block first).
 */
export function emitTcp(
  seg: TcpSegment,
  src: IpAddress,
  dst: IpAddress,
  buf: Uint8Array,
  offset: number,
  options?: TcpEmitOptions,
): number {
  const known = options?.headerLength;
  let blocks = 0;
  let headerLength: number;
  if (known !== undefined && seg.options.sack === undefined) {
    headerLength = known;
  } else {
    const base = baseOptionsLength(seg.options);
    blocks = sackBlocksEmitted(seg.options, base);
    headerLength = headerLengthWith(base, blocks);
  }
  const length = headerLength + seg.payload.length;
  // Built only on failure: every segment sent passes here.
  if (length > 0xffff) {
    throw codedError('EINVAL', `tcp: segment of ${length} bytes exceeds the 16-bit pseudo-header length`);
  }
  requireSpace(buf, offset, length, 'tcp segment');

  // The fixed header as five 32-bit words, the checksum (in the fifth) zero until computed.
  const word0 = (seg.srcPort << 16) | (seg.dstPort & 0xffff);
  const word3 = ((headerLength >>> 2) << 28) | ((seg.flags & 0xff) << 16) | (seg.window & 0xffff);
  const word4 = seg.urgentPointer & 0xffff;
  const place = options?.place ?? -1;
  if (place >= 0) {
    const data = frameMemoryData;
    data.setUint32(place, word0);
    data.setUint32(place + 4, seg.seq);
    data.setUint32(place + 8, seg.ack);
    data.setUint32(place + 12, word3);
    data.setUint32(place + 16, word4);
  } else {
    writeWord(buf, offset, word0);
    writeWord(buf, offset + 4, seg.seq);
    writeWord(buf, offset + 8, seg.ack);
    writeWord(buf, offset + 12, word3);
    writeWord(buf, offset + 16, word4);
  }
  const optionsSum = writeOptions(
    seg.options,
    buf,
    offset + TCP_HEADER_LENGTH,
    blocks,
    place >= 0 ? place + TCP_HEADER_LENGTH : -1,
  );
  if (options?.payloadElsewhere === true) copyBytes(buf, seg.payload, offset + headerLength);
  else copyInto(seg.payload, buf, offset + headerLength);

  if (options?.computeChecksum !== false) {
    // The header is summed from the words just written, each field masked to the bits its bytes hold (so
    // it sums exactly what is in the buffer), rather than read back byte by byte; `writeOptions` sums
    // the options the same way. The payload is summed where it was just copied to: a frame carved from
    // the checksum module's memory (link/frame-allocator.ts) is summed in place, where the sender's ring
    // would be copied into that memory first. The header is even in length, so the payload's words line
    // up with the segment's (RFC 1071 §2(B)).
    const fixedSum = wordSum(word0) + wordSum(seg.seq) + wordSum(seg.ack) + wordSum(word3) + word4;
    const headerSum = pseudoHeaderSum(src, dst, IP_PROTOCOL_TCP, length) + fixedSum + optionsSum;
    const sum = checksumFinish(checksumAdd(headerSum, buf, offset + headerLength, seg.payload.length));
    buf[offset + 16] = sum >>> 8;
    buf[offset + 17] = sum;
  }
  return length;
}
