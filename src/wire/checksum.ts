/**
 * The Internet checksum (RFC 1071): the 16-bit ones'-complement of the ones'-complement sum of the data
 * taken as big-endian 16-bit words, an odd final byte padded with a zero low byte.
 *
 * Every byte the stack sends or receives passes through here, so the sum is computed in wide words.
 * Two properties of ones'-complement addition (RFC 1071 §2) make that legal:
 * - it is associative and commutative, and 2^16 ≡ 1 (mod 0xffff), so 32-bit words can be summed
 *   directly and folded to 16 bits at the end (deferred carries, §2(C));
 * - it is byte-order independent (§2(B)): summing little-endian words gives the byte-swapped sum, so the
 *   native-order `Uint32Array` read of the aligned middle of a buffer only needs one swap at the end.
 *
 * Sums ("partial sums") are kept folded to 16 bits and not inverted, so they can be chained:
 * `checksumFinish(checksumAdd(pseudoHeaderSum(...), segment, 0, segment.length))`.
 */

import { SIMD_LARGEST_VIEW, simdSummer } from './checksum-simd.js';
import { codedError } from './emit-buffer.js';
import type { IpAddress } from './ipv6-address.js';

/** Native byte order of this machine: the aligned fast path reads words in it. */
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Below this many bytes creating a word view costs more than it saves. */
const WIDE_SUM_THRESHOLD = 64;

/**
 * A range is summed in WebAssembly's 128-bit lanes (checksum-simd.ts) when it is at least this long and
 * takes its view but for this many bytes: the whole view is copied, and the headers before a received
 * segment's bytes in its frame (Ethernet and IP, up to 14 + 60 + 40 with options) are copied along.
 */
const SIMD_VIEW_SLACK = 128;

/**
 * 32-bit words summed before folding: 2^20 words of at most 2^32 - 1 stay below 2^53, the largest
 * integer a double holds exactly.
 */
const WORDS_PER_FOLD = 1 << 20;

/**
 * Reduces a non-negative integer below 2^53 to its 16-bit ones'-complement value (end-around carry).
 * Zero stays zero; any other multiple of 0xffff becomes 0xffff ("negative zero"), exactly what repeated
 * carry folding gives.
 */
function foldSum(sum: number): number {
  if (sum <= 0xffffffff) {
    // Integer fast path: two end-around carries bring any 32-bit sum into 16 bits.
    sum = (sum & 0xffff) + (sum >>> 16);
    return (sum & 0xffff) + (sum >>> 16);
  }
  return ((sum - 1) % 0xffff) + 1;
}

function swapBytes16(value: number): number {
  return ((value & 0xff) << 8) | (value >>> 8);
}

/** Byte-pair loop: used for short ranges and as the reference the wide path must agree with. */
function sumBytePairs(buf: Uint8Array, offset: number, length: number): number {
  let sum = 0;
  let i = offset;
  const endOf8 = offset + (length & ~7);
  const endOf2 = offset + (length & ~1);
  for (; i < endOf8; i += 8) {
    sum +=
      ((buf[i]! << 8) | buf[i + 1]!) +
      ((buf[i + 2]! << 8) | buf[i + 3]!) +
      ((buf[i + 4]! << 8) | buf[i + 5]!) +
      ((buf[i + 6]! << 8) | buf[i + 7]!);
  }
  for (; i < endOf2; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (length & 1) sum += buf[i]! << 8;
  return sum;
}

/**
 * Word views of the two buffers summed last. Creating a `Uint32Array` costs an allocation, and sums mostly
 * read one of two buffers over and over: a sender's ring (the payload of each segment it sends) and the
 * slab its received frames come from (src/link/frame-allocator.ts), in turn. The view over the whole
 * buffer is kept for the next sum; at most two buffers are held on to here, two more below.
 */
let wordsBuffer: ArrayBufferLike | undefined;
let wordsView: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
let olderWordsBuffer: ArrayBufferLike | undefined;
let olderWordsView: Uint32Array<ArrayBufferLike> = new Uint32Array(0);

/**
 * Views of buffers summed less often, which the two above let go: the slab before (frames still on their
 * way when one fills make two slabs take turns) and the scratch a sender's segments that wrap around its
 * ring are copied to. With two views for those four, a bulk transfer made a new view every few dozen
 * segments. Looked at only when neither of the two above is the buffer, so summing costs what it did.
 */
const SPARE_VIEWS = 2;
const spareBuffers: (ArrayBufferLike | undefined)[] = [undefined, undefined];
const spareViews: Uint32Array<ArrayBufferLike>[] = [new Uint32Array(0), new Uint32Array(0)];
/** The spare slot the next view let go takes when no spare was used (the older one). */
let nextSpare = 0;

/** A word view of `buffer` covering words [first, first + count). */
function wordsOf(buffer: ArrayBufferLike, first: number, count: number): Uint32Array {
  // A resizable buffer may have shrunk under a kept view: check the words needed are still in it.
  if (buffer === wordsBuffer && first + count <= wordsView.length) return wordsView;
  const view =
    buffer === olderWordsBuffer && first + count <= olderWordsView.length
      ? olderWordsView
      : spareWordsOf(buffer, first + count);
  olderWordsBuffer = wordsBuffer;
  olderWordsView = wordsView;
  wordsBuffer = buffer;
  wordsView = view;
  return view;
}

/**
 * A word view of `buffer` of at least `words` words, from the spares (which take the view the two kept
 * above are about to let go in its place) or new (the view let go then takes the older spare slot).
 */
function spareWordsOf(buffer: ArrayBufferLike, words: number): Uint32Array {
  let slot = 0;
  while (slot < SPARE_VIEWS && !(buffer === spareBuffers[slot] && words <= spareViews[slot]!.length)) slot++;
  const view = slot < SPARE_VIEWS ? spareViews[slot]! : new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
  if (slot === SPARE_VIEWS) {
    slot = nextSpare;
    nextSpare = (slot + 1) % SPARE_VIEWS;
  }
  spareBuffers[slot] = olderWordsBuffer;
  spareViews[slot] = olderWordsView;
  return view;
}

/**
 * Word indices at or above this would let `j + 7` leave the int32 range; a range of a buffer so large
 * (4 GiB) is summed in byte pairs instead. Below it, the index arithmetic of the word loop is int32
 * without overflow checks.
 */
const WORD_INDEX_LIMIT = 0x3fffffff;

/**
 * Sum of the range with the aligned middle read as native 32-bit words.
 * Bytes keep their position relative to `offset`: byte k of the range is a high byte when k is even.
 */
function sumWide(buf: Uint8Array, offset: number, length: number): number {
  const start = buf.byteOffset + offset;
  const head = (4 - (start & 3)) & 3;
  const wordCount = (length - head) >>> 2;
  const firstWord = (start + head) >>> 2;
  if (firstWord + wordCount > WORD_INDEX_LIMIT) return sumBytePairs(buf, offset, length);
  let sum = 0;
  for (let k = 0; k < head; k++) sum += k & 1 ? buf[offset + k]! : buf[offset + k]! << 8;

  const words = wordsOf(buf.buffer, firstWord, wordCount);
  const lastWord = (firstWord + wordCount) | 0;
  let middle = 0;
  let chunkStart = firstWord | 0;
  while (chunkStart < lastWord) {
    const chunkEnd = Math.min(lastWord, chunkStart + WORDS_PER_FOLD) | 0;
    let chunk = 0;
    let j = chunkStart;
    // Eight words per step, indices written `(j + k) | 0`: both let the optimizing compiler drop the
    // overflow checks and most of the loop overhead. This loop is where every byte sent and received is
    // summed: it took 12.5 machine instructions per word with four words per step, 8.5 this way.
    const endOf8 = (chunkEnd - 7) | 0;
    for (; j < endOf8; j = (j + 8) | 0) {
      chunk +=
        words[j]! +
        words[(j + 1) | 0]! +
        words[(j + 2) | 0]! +
        words[(j + 3) | 0]! +
        words[(j + 4) | 0]! +
        words[(j + 5) | 0]! +
        words[(j + 6) | 0]! +
        words[(j + 7) | 0]!;
    }
    for (; j < chunkEnd; j = (j + 1) | 0) chunk += words[j]!;
    middle = foldSum(middle + foldSum(chunk));
    chunkStart = chunkEnd;
  }
  // Middle byte 0 sits at range position `head`. Read natively it lands in the low byte on a
  // little-endian host, which is right when `head` is odd; otherwise swap. Mirrored on big-endian hosts.
  const headIsOdd = (head & 1) === 1;
  if (headIsOdd !== LITTLE_ENDIAN_HOST) middle = swapBytes16(middle);
  sum += middle;

  for (let k = head + wordCount * 4; k < length; k++) sum += k & 1 ? buf[offset + k]! : buf[offset + k]! << 8;
  return sum;
}

/**
 * Adds `length` bytes of `buf` from `offset` to a folded partial sum and returns the new folded partial
 * sum (16 bits, not inverted). The range is summed as if it started on a 16-bit boundary of the checksummed
 * data; callers chaining ranges must keep every range but the last an even length.
 * Correct for any offset and for views at any `byteOffset`.
 */
export function checksumAdd(sum: number, buf: Uint8Array, offset: number, length: number): number {
  if (!(offset >= 0 && length >= 0 && offset + length <= buf.length)) throw outOfRange(buf, offset, length);
  let rangeSum: number;
  if (length < WIDE_SUM_THRESHOLD) rangeSum = sumBytePairs(buf, offset, length);
  else if (
    simdSummer !== undefined &&
    buf.length <= SIMD_LARGEST_VIEW &&
    buf.length - length <= SIMD_VIEW_SLACK
  ) {
    rangeSum = simdSummer.sum(buf, offset, length);
  } else rangeSum = sumWide(buf, offset, length);
  return foldSum(sum + foldSum(rangeSum));
}

/** The error for a range outside its buffer, built apart so that `checksumAdd` stays small to inline. */
function outOfRange(buf: Uint8Array, offset: number, length: number): Error {
  return codedError(
    'ERR_OUT_OF_RANGE',
    `checksum of ${length} bytes at ${offset} in a ${buf.length}-byte buffer`,
  );
}

/** Ones'-complement sum of two folded partial sums. */
export function checksumCombine(a: number, b: number): number {
  return foldSum(a + b);
}

/**
 * Partial sum of the pseudo-header used by TCP (RFC 9293 §3.1), UDP (RFC 768) and ICMPv6 (RFC 4443 §2.3).
 * IPv4 (`number` addresses): source, destination, zero, protocol and the 16-bit transport length. IPv6
 * (`bigint` addresses, RFC 8200 §8.1): source, destination, the 32-bit upper-layer length, three zero
 * bytes and the Next Header value; the sum of those words is the same whatever their order.
 */
export function pseudoHeaderSum(src: IpAddress, dst: IpAddress, protocol: number, length: number): number {
  if (typeof src === 'bigint' || typeof dst === 'bigint') {
    return foldSum(
      ipv6WordSum(BigInt(src)) + ipv6WordSum(BigInt(dst)) + (length >>> 16) + (length & 0xffff) + protocol,
    );
  }
  return foldSum(
    (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + (protocol & 0xff) + (length & 0xffff),
  );
}

/** Sum of the eight 16-bit words of an IPv6 address (at most 8 * 0xffff, well inside a double). */
function ipv6WordSum(addr: bigint): number {
  const hi = addr >> 64n;
  const lo = addr & 0xffff_ffff_ffff_ffffn;
  const words = [Number(hi >> 32n), Number(hi & 0xffff_ffffn), Number(lo >> 32n), Number(lo & 0xffff_ffffn)];
  let sum = 0;
  for (const word of words) sum += (word >>> 16) + (word & 0xffff);
  return sum;
}

/** Turns a partial sum into the value written in a checksum field (the 16-bit ones'-complement). */
export function checksumFinish(sum: number): number {
  return ~foldSum(sum) & 0xffff;
}

/**
 * The checksum of a range. Over data that includes a correct checksum field this returns 0, which is how
 * receivers verify (RFC 1071 §1(3)).
 */
export function internetChecksum(buf: Uint8Array, offset: number, length: number): number {
  return checksumFinish(checksumAdd(0, buf, offset, length));
}

/**
 * Incremental update (RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')) of a checksum field after one 16-bit word
 * of the covered data changed from `oldWord` to `newWord`, e.g. the TTL/protocol word of a forwarded IPv4
 * header. Equation 3, unlike RFC 1141's form, gives the same value a full recomputation gives, including
 * at the 0x0000/0xffff boundary (RFC 1624 §3).
 */
export function checksumAdjust(checksum: number, oldWord: number, newWord: number): number {
  const sum = foldSum((~checksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff));
  return ~sum & 0xffff;
}

/** Incremental update after a 32-bit field (an IPv4 address, a sequence number) changed. */
export function checksumAdjust32(checksum: number, oldValue: number, newValue: number): number {
  const sum = foldSum(
    (~checksum & 0xffff) +
      (~(oldValue >>> 16) & 0xffff) +
      (~oldValue & 0xffff) +
      ((newValue >>> 16) & 0xffff) +
      (newValue & 0xffff),
  );
  return ~sum & 0xffff;
}
