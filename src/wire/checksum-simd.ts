/**
 * The Internet checksum's wide loop in 128-bit lanes, for engines that run WebAssembly with its SIMD
 * instructions (Node >= 16.4, current browsers); checksum.ts falls back to its own word loop elsewhere.
 *
 * Why: every byte a stack sends is summed once by the sender and once by the receiver (RFC 9293 §3.1,
 * MUST-2/MUST-3), and in JavaScript the widest integer read is a 32-bit typed-array element, each with
 * a bounds check and an index computation: about nine machine instructions per four bytes, so on an
 * in-process bulk transfer at MTU 1500 the two sums were 29% of all instructions executed. One
 * `i32x4.extadd_pairwise_i16x8_u` adds eight 16-bit words pairwise into four 32-bit lanes, sixteen bytes
 * per instruction.
 *
 * A WebAssembly function reads only its own linear memory, so the bytes are first copied into it (a
 * `TypedArray.set`, a native memmove: cheaper than one pass of the word loop). The module is written out
 * below byte by byte (the binary format of the WebAssembly Core Specification, §5), small enough to be
 * compiled synchronously where browsers allow it on the main thread (under 4 KB). Where WebAssembly is
 * missing, refused (a Content-Security-Policy without 'wasm-unsafe-eval') or lacks SIMD, compiling
 * throws and `simdSummer` is undefined.
 */

import { copyBytes } from '../util/bytes.js';

/** Bytes of linear memory: two 64 KiB pages (a 64 KiB segment with its headers fits). */
const MEMORY_PAGES = 2;
/** Bytes the loop may read past the end of a range (it zeroes them first): one step of 64 bytes. */
const STEP = 64;

/**
 * Views of at most this many bytes are copied whole. A lane takes at most eight 16-bit words per step,
 * 8 * 0xffff * (131072 / 64) < 2^32: no lane can wrap within the memory.
 */
export const SIMD_LARGEST_VIEW = MEMORY_PAGES * 65536 - STEP;

// Opcodes (WebAssembly Core Specification §5.4) used by the function below.
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const I32_CONST = 0x41;
const I64_CONST = 0x42;
const I32_ADD = 0x6a;
const I32_GE_U = 0x4f;
const I64_ADD = 0x7c;
const I64_AND = 0x83;
const I64_SHR_U = 0x88;
const I32_WRAP_I64 = 0xa7;
const I64_EXTEND_I32_U = 0xad;
const BLOCK = 0x02;
const LOOP = 0x03;
const BR = 0x0c;
const BR_IF = 0x0d;
const END = 0x0b;
const VOID = 0x40;
const SIMD = 0xfd;
const V128_LOAD = [SIMD, 0x00];
const V128_STORE = [SIMD, 0x0b];
const V128_CONST = [SIMD, 0x0c];
const I32X4_EXTRACT_LANE = [SIMD, 0x1b];
const I32X4_EXTADD_PAIRWISE_I16X8_U = [SIMD, 0x7f];
const I32X4_ADD = [SIMD, 0xae, 0x01];
const TYPE_I32 = 0x7f;
const TYPE_I64 = 0x7e;
const TYPE_V128 = 0x7b;

// Locals of the function: its two parameters, then the ones it declares.
const AT = 0; // i32: where the next step reads
const LENGTH = 1; // i32: bytes in the range (then unused)
const LANES = 2; // v128: four 32-bit sums
const END_AT = 3; // i32: where the range ends
const TOTAL = 4; // i64: the lanes added up, then folded

/** Unsigned LEB128 (§5.2.2); the signed form agrees for values below 64. */
function leb128(value: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (value !== 0);
  return bytes;
}

/** A v128 load or store with alignment hint 0 (any address) at a constant byte offset below 128. */
function memoryAccess(op: number[], offset: number): number[] {
  return [...op, 0x00, offset];
}

/** lanes += zero-extended pairwise sums of the 16 bytes at `at + offset`. */
function sumSixteen(offset: number): number[] {
  return [LOCAL_GET, AT, ...memoryAccess(V128_LOAD, offset), ...I32X4_EXTADD_PAIRWISE_I16X8_U];
}

/** total = (total & 0xffff) + (total >> 16): 2^16 ≡ 1 modulo 0xffff (RFC 1071 §2(C)). */
// biome-ignore format: one instruction per line group
const FOLD = [
  LOCAL_GET, TOTAL, I64_CONST, 0xff, 0xff, 0x03, I64_AND, // total & 0xffff (0xffff in signed LEB128)
  LOCAL_GET, TOTAL, I64_CONST, 16, I64_SHR_U,
  I64_ADD, LOCAL_SET, TOTAL,
];

/**
 * sum(at, length): the ones'-complement sum of the bytes [at, at + length) of memory read as little-endian
 * 16-bit words (an odd last byte as a word of its own), partly folded, below 2^17. Zeroes the 64 bytes
 * after the range so that the last step, which may run past it, adds nothing there.
 */
// biome-ignore format: one instruction per line group
const SUM_BODY = [
  3, 1, TYPE_V128, 1, TYPE_I32, 1, TYPE_I64, // locals: lanes, end, total
  LOCAL_GET, AT, LOCAL_GET, LENGTH, I32_ADD, LOCAL_SET, END_AT,
  ...[0, 16, 32, 48].flatMap((offset) => [
    LOCAL_GET, END_AT, ...V128_CONST, ...new Array<number>(16).fill(0), ...memoryAccess(V128_STORE, offset),
  ]),
  BLOCK, VOID, LOOP, VOID,
  LOCAL_GET, AT, LOCAL_GET, END_AT, I32_GE_U, BR_IF, 1,
  // Two pairs summed apart and then together: the dependency chain through `lanes` is one add per step.
  LOCAL_GET, LANES,
  ...sumSixteen(0), ...sumSixteen(16), ...I32X4_ADD,
  ...sumSixteen(32), ...sumSixteen(48), ...I32X4_ADD,
  ...I32X4_ADD, ...I32X4_ADD, LOCAL_SET, LANES,
  LOCAL_GET, AT, I32_CONST, ...[0xc0, 0x00], I32_ADD, LOCAL_SET, AT, // at += 64 (signed LEB128)
  BR, 0,
  END, END,
  ...[0, 1, 2, 3].flatMap((lane) => [
    LOCAL_GET, LANES, ...I32X4_EXTRACT_LANE, lane, I64_EXTEND_I32_U, ...(lane > 0 ? [I64_ADD] : []),
  ]),
  LOCAL_SET, TOTAL, ...FOLD, ...FOLD,
  LOCAL_GET, TOTAL, I32_WRAP_I64,
  END,
];

function section(id: number, contents: number[]): number[] {
  return [id, ...leb128(contents.length), ...contents];
}

function name(text: string): number[] {
  return [text.length, ...Array.from(text, (c) => c.charCodeAt(0))];
}

// biome-ignore format: one section per line
const MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  ...section(1, [1, 0x60, 2, TYPE_I32, TYPE_I32, 1, TYPE_I32]), // type 0: (i32, i32) -> i32
  ...section(3, [1, 0]), // function 0 has type 0
  ...section(5, [1, 0x01, MEMORY_PAGES, MEMORY_PAGES]), // one memory, fixed size (never grows)
  ...section(7, [2, ...name('memory'), 0x02, 0, ...name('sum'), 0x00, 0]), // exports
  ...section(10, [1, ...leb128(SUM_BODY.length), ...SUM_BODY]), // code
]);

/** Sums ranges of views of at most SIMD_LARGEST_VIEW bytes. */
export interface SimdSummer {
  /**
   * The sum of `length` bytes of `view` from `offset`, as checksum.ts's word loop gives it (big-endian
   * words, bytes at even range positions high), not folded to 16 bits. Copies the whole view.
   */
  sum(view: Uint8Array, offset: number, length: number): number;
}

function swapBytes16(value: number): number {
  return ((value & 0xff) << 8) | (value >>> 8);
}

function createSimdSummer(): SimdSummer | undefined {
  if (typeof WebAssembly !== 'object') return undefined;
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(MODULE));
    const memory = new Uint8Array((instance.exports.memory as WebAssembly.Memory).buffer);
    const sumMemory = instance.exports.sum as (at: number, length: number) => number;
    return {
      sum(view, offset, length) {
        copyBytes(memory, view, 0);
        let sum = sumMemory(offset, length);
        // Below 2^17: one more fold brings it to 16 bits, then little-endian words become big-endian
        // ones by swapping the bytes of the sum (RFC 1071 §2(B)).
        sum = (sum & 0xffff) + (sum >>> 16);
        return swapBytes16((sum & 0xffff) + (sum >>> 16));
      },
    };
  } catch {
    return undefined;
  }
}

/** Undefined where WebAssembly with SIMD cannot be compiled here. */
export const simdSummer: SimdSummer | undefined = createSimdSummer();
