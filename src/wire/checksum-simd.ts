/**
 * The Internet checksum's wide loop in 128-bit lanes, for engines that run WebAssembly with its SIMD
 * instructions (Node >= 16.4, current browsers); checksum.ts falls back to its own word loop elsewhere.
 *
 * Why: every byte a stack sends is summed once by the sender and once by the receiver (RFC 9293 §3.1,
 * MUST-2/MUST-3), and in JavaScript the widest integer read is a 32-bit typed-array element, each with
 * a bounds check and an index computation: about nine machine instructions per four bytes, so on an
 * in-process bulk transfer at MTU 1500 the two sums were 29% of all instructions executed. One
 * `i32x4.dot_i16x8_s` (x86 pmaddwd) adds eight 16-bit words pairwise into four 32-bit lanes, sixteen
 * bytes per instruction.
 *
 * A WebAssembly function reads only its own linear memory. Bytes elsewhere are first copied into a
 * scratch area of it (a `TypedArray.set`, a native memmove: cheaper than one pass of the word loop); the
 * rest of the memory (`frameMemory`) is lent to the frame allocator (link/frame-allocator.ts), which
 * carves MTU-sized frames from it, so that the sender's sum over the segment it just wrote into a frame
 * and the receiver's over the frame it got read the bytes where they lie: on an in-process bulk transfer
 * at MTU 1500, those two copies of every segment were 2% of all instructions. Such frames are known by
 * identity: the frame allocator tells the two it sums per segment at once (`setFrameLocator`), and
 * `frameMemoryView` records every one for the rest; reading a typed array's `buffer` to compare it is a
 * call into the runtime that cost more than either. The memory never grows after it is created: growing
 * would detach its ArrayBuffer, and with it every frame carved from it.
 *
 * A second function copies a frame's headers and payload from one place of the memory to another and sums
 * the payload copy (`copyAndSum`), for software GSO's pieces (link/software-gso.ts): one call per piece.
 *
 * The module is written out below byte by byte (the binary format of the WebAssembly Core Specification,
 * §5), small enough to be compiled synchronously where browsers allow it on the main thread (under 4
 * KB). Where WebAssembly is missing, refused (a Content-Security-Policy without 'wasm-unsafe-eval') or
 * lacks SIMD (or bulk memory's `memory.copy`, which every engine with SIMD has), compiling throws and
 * `simdSummer` and `frameMemory` are undefined.
 */

import { copyBytes, viewBytes } from '../util/bytes.js';

/**
 * Bytes of memory lent to the frame allocator, from address 0 (see `frameMemory`): sixteen slabs of 256
 * KiB, the frames a path of 4 MiB in flight holds (link/frame-allocator.ts, WAITING_BYTES). Pages are
 * only backed once written, so what a process that never carves that many frames pays is address space.
 */
export const FRAME_MEMORY_BYTES = 4 * 1024 * 1024;
/**
 * Bytes after those, also lent to the frame allocator (and part of `frameMemory`): one slab for TCP
 * super-segments that their device cuts into wire-size frames in software as it is sent them (software
 * GSO, link/software-gso.ts), copying each piece from one place of this memory to another.
 */
export const STAGED_FRAME_BYTES = 256 * 1024;
/** Where the scratch area starts: after the frame memory. */
const SCRATCH_AT = FRAME_MEMORY_BYTES + STAGED_FRAME_BYTES;
/** Bytes of the scratch area, where views from elsewhere are copied to be summed. */
const SCRATCH_BYTES = 2 * 65536;
/** Where the masks for a range's last bytes start (see SUM_BODY): in a page of their own after the scratch. */
const MASKS_AT = SCRATCH_AT + SCRATCH_BYTES;
/**
 * Pages of linear memory (64 KiB each), fixed: the frame memory and its staged region, the scratch area,
 * the masks' page.
 */
const MEMORY_PAGES = (MASKS_AT + 65536) / 65536;

/**
 * Views of at most this many bytes are summed: in place in the frame memory, otherwise copied whole into
 * the scratch area. A lane adds at most 65,536 in magnitude per 16 bytes (see SUM_VECTOR), 65,536 * 2^13
 * = 2^29 over 128 KiB: no lane can wrap.
 */
export const SIMD_LARGEST_VIEW = SCRATCH_BYTES;

// Opcodes (WebAssembly Core Specification §5.4) used by the function below.
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const I32_CONST = 0x41;
const I64_CONST = 0x42;
const I32_ADD = 0x6a;
const I32_SUB = 0x6b;
const I32_SHL = 0x74;
const I32_LT_U = 0x49;
const I64_ADD = 0x7c;
const I64_AND = 0x83;
const I64_SHL = 0x86;
const I64_SHR_U = 0x88;
const I32_WRAP_I64 = 0xa7;
const I64_EXTEND_I32_S = 0xac;
const I64_EXTEND_I32_U = 0xad;
const BLOCK = 0x02;
const LOOP = 0x03;
const IF = 0x04;
const BR = 0x0c;
const BR_IF = 0x0d;
const END = 0x0b;
const CALL = 0x10;
const MEMORY_COPY = [0xfc, 0x0a, 0x00, 0x00]; // bulk memory: memory.copy from memory 0 to memory 0
const VOID = 0x40;
const SIMD = 0xfd;
const V128_LOAD = [SIMD, 0x00];
const V128_CONST = [SIMD, 0x0c];
const V128_AND = [SIMD, 0x4e];
const V128_XOR = [SIMD, 0x51];
const I32X4_EXTRACT_LANE = [SIMD, 0x1b];
const I32X4_ADD = [SIMD, 0xae, 0x01];
const I32X4_DOT_I16X8_S = [SIMD, 0xba, 0x01];
const TYPE_I32 = 0x7f;
const TYPE_I64 = 0x7e;
const TYPE_V128 = 0x7b;

// Locals of the function: its two parameters, then the ones it declares.
const AT = 0; // i32: where the next step reads
const LENGTH = 1; // i32: bytes in the range (then unused)
const LANES = 2; // v128: four signed 32-bit sums
const END_AT = 3; // i32: where the range ends
const TOTAL = 4; // i64: the lanes added up, then folded
const BIAS = 5; // v128: 0x8000 in each 16-bit lane
const ONES = 6; // v128: 1 in each 16-bit lane
const START = 7; // i32: where the range starts

/** Unsigned LEB128 (§5.2.2). */
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

/** Signed LEB128 (§5.2.2) of a non-negative value, as `i32.const` takes it: 64 and up need two bytes. */
function leb128Signed(value: number): number[] {
  const bytes: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>>= 7;
    if (value === 0 && (byte & 0x40) === 0) {
      bytes.push(byte);
      return bytes;
    }
    bytes.push(byte | 0x80);
  }
}

/** A v128 load with alignment hint 0 (any address) at a constant byte offset. */
function load(offset: number): number[] {
  return [...V128_LOAD, 0x00, ...leb128(offset)];
}

/** The 16 bytes of a v128 constant holding `word` in each of its eight 16-bit lanes (little-endian). */
function eightWords(word: number): number[] {
  return Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? word & 0xff : word >>> 8));
}

/**
 * The vector on the stack, eight 16-bit words w, each biased to the signed value w - 0x8000 and summed
 * pairwise into four signed 32-bit lanes: `i32x4.dot_i16x8_s` with ones is one x86 pmaddwd, where the
 * unsigned pairwise add (`i32x4.extadd_pairwise_i16x8_u`) takes three or four instructions. Each lane
 * then holds w1 + w2 - 65536: 16 bytes summed take 2^18 off the lanes, added back at the end.
 */
const SUM_VECTOR = [LOCAL_GET, BIAS, ...V128_XOR, LOCAL_GET, ONES, ...I32X4_DOT_I16X8_S];

/** The sum of the 16 bytes at `at + offset` (see SUM_VECTOR). */
function sumSixteen(offset: number): number[] {
  return [LOCAL_GET, AT, ...load(offset), ...SUM_VECTOR];
}

/** The sum of the 128 bytes at `at`, its eight vectors added pairwise (short dependency chains). */
function sumStep(): number[] {
  const pair = (offset: number): number[] => [
    ...sumSixteen(offset),
    ...sumSixteen(offset + 16),
    ...I32X4_ADD,
  ];
  const quad = (offset: number): number[] => [...pair(offset), ...pair(offset + 32), ...I32X4_ADD];
  return [...quad(0), ...quad(64), ...I32X4_ADD];
}

/** Leaves the enclosing block (depth 1) when fewer than `bytes` bytes are left: end - at < bytes. */
// biome-ignore format: one instruction per line group
const exitBelow = (bytes: number): number[] => [
  LOCAL_GET, END_AT, LOCAL_GET, AT, I32_SUB, I32_CONST, ...leb128Signed(bytes), I32_LT_U, BR_IF, 1,
];

/** at += bytes. */
const advance = (bytes: number): number[] => [
  LOCAL_GET,
  AT,
  I32_CONST,
  ...leb128Signed(bytes),
  I32_ADD,
  LOCAL_SET,
  AT,
];

/** lanes += the vector on the stack. */
const addToLanes = [LOCAL_GET, LANES, ...I32X4_ADD, LOCAL_SET, LANES];

/** total = (total & 0xffff) + (total >> 16): 2^16 ≡ 1 modulo 0xffff (RFC 1071 §2(C)). */
// biome-ignore format: one instruction per line group
const FOLD = [
  LOCAL_GET, TOTAL, I64_CONST, 0xff, 0xff, 0x03, I64_AND, // total & 0xffff (0xffff in signed LEB128)
  LOCAL_GET, TOTAL, I64_CONST, 16, I64_SHR_U,
  I64_ADD, LOCAL_SET, TOTAL,
];

/**
 * sum(at, length): the ones'-complement sum of the bytes [at, at + length) of memory read as little-endian
 * 16-bit words (an odd last byte as a word of its own), partly folded, below 2^17. Steps of 128 bytes,
 * then of 16; the last 1-15 bytes are read as one vector ANDed with the mask that keeps only them (the
 * mask for r bytes lies at MASKS_AT + 16 r). That read goes up to 15 bytes past the range, never past
 * the memory (the scratch area and the masks' page follow the frame memory), and nothing is written:
 * frames are summed in place, next to frames in use.
 */
// biome-ignore format: one instruction per line group
const SUM_BODY = [
  5, 1, TYPE_V128, 1, TYPE_I32, 1, TYPE_I64, 2, TYPE_V128, 1, TYPE_I32, // locals: lanes, end, total, bias, ones, start
  LOCAL_GET, AT, LOCAL_SET, START,
  LOCAL_GET, AT, LOCAL_GET, LENGTH, I32_ADD, LOCAL_SET, END_AT,
  ...V128_CONST, ...eightWords(0x8000), LOCAL_SET, BIAS,
  ...V128_CONST, ...eightWords(1), LOCAL_SET, ONES,
  BLOCK, VOID, LOOP, VOID,
  ...exitBelow(128), ...sumStep(), ...addToLanes, ...advance(128),
  BR, 0,
  END, END,
  BLOCK, VOID, LOOP, VOID,
  ...exitBelow(16), ...sumSixteen(0), ...addToLanes, ...advance(16),
  BR, 0,
  END, END,
  LOCAL_GET, AT, LOCAL_GET, END_AT, I32_LT_U, IF, VOID,
  LOCAL_GET, AT, ...load(0),
  LOCAL_GET, END_AT, LOCAL_GET, AT, I32_SUB, I32_CONST, 4, I32_SHL, ...load(MASKS_AT), // the mask for r bytes
  ...V128_AND, ...SUM_VECTOR, ...addToLanes, ...advance(16),
  END,
  ...[0, 1, 2, 3].flatMap((lane) => [
    LOCAL_GET, LANES, ...I32X4_EXTRACT_LANE, lane, I64_EXTEND_I32_S, ...(lane > 0 ? [I64_ADD] : []),
  ]),
  // + 2^18 per 16 bytes read: (at - start) * 2^14.
  LOCAL_GET, AT, LOCAL_GET, START, I32_SUB, I64_EXTEND_I32_U, I64_CONST, 14, I64_SHL, I64_ADD,
  LOCAL_SET, TOTAL, ...FOLD, ...FOLD,
  LOCAL_GET, TOTAL, I32_WRAP_I64,
  END,
];

/**
 * copySum(to, headerFrom, headerLength, from, length): copies `headerLength` bytes of memory from
 * `headerFrom` to `to` and `length` bytes from `from` right after them (memory.copy, a memmove each), and
 * returns `sum(to + headerLength, length)`: one call where two copies from JavaScript (`copyWithin`) and
 * a sum were three.
 */
// biome-ignore format: one instruction per line group
const COPY_SUM_BODY = [
  0, // no locals besides the parameters (to, headerFrom, headerLength, from, length)
  LOCAL_GET, 0, LOCAL_GET, 1, LOCAL_GET, 2, ...MEMORY_COPY,
  LOCAL_GET, 0, LOCAL_GET, 2, I32_ADD, LOCAL_GET, 3, LOCAL_GET, 4, ...MEMORY_COPY,
  LOCAL_GET, 0, LOCAL_GET, 2, I32_ADD, LOCAL_GET, 4, CALL, 0,
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
  // type 0: (i32, i32) -> i32; type 1: (i32, i32, i32, i32, i32) -> i32
  ...section(1, [2, 0x60, 2, TYPE_I32, TYPE_I32, 1, TYPE_I32, 0x60, 5, TYPE_I32, TYPE_I32, TYPE_I32, TYPE_I32, TYPE_I32, 1, TYPE_I32]),
  ...section(3, [2, 0, 1]), // function 0 (sum) has type 0, function 1 (copySum) type 1
  ...section(5, [1, 0x01, ...leb128(MEMORY_PAGES), ...leb128(MEMORY_PAGES)]), // one memory, fixed size (never grows)
  ...section(7, [3, ...name('memory'), 0x02, 0, ...name('sum'), 0x00, 0, ...name('copySum'), 0x00, 1]), // exports
  ...section(10, [2, ...leb128(SUM_BODY.length), ...SUM_BODY, ...leb128(COPY_SUM_BODY.length), ...COPY_SUM_BODY]), // code
]);

/** Sums ranges of views in its memory, or copied into it. */
export interface SimdSummer {
  /**
   * The sum of `length` bytes of `view` (at most SIMD_LARGEST_VIEW bytes) from `offset`, as checksum.ts's
   * word loop gives it (big-endian words, bytes at even range positions high), not folded to 16 bits. A
   * view `frameMemoryView` made is summed where it lies; any other is copied whole into the scratch area.
   */
  sum(view: Uint8Array, offset: number, length: number): number;
  /** Whether `view` is one `frameMemoryView` made, summed in place. */
  holds(view: Uint8Array): boolean;
  /**
   * Copies `headerLength` bytes of `frameMemory` from `headerFrom` to `to`, then `length` bytes (at most
   * SIMD_LARGEST_VIEW) from `from` right after them (places in it; each source may overlap its
   * destination), and returns the sum of the second copy as `sum` gives it: software GSO's copy of a
   * piece's headers and payload and the payload's sum in one call (link/software-gso.ts).
   */
  copyAndSum(to: number, headerFrom: number, headerLength: number, from: number, length: number): number;
}

function swapBytes16(value: number): number {
  return ((value & 0xff) << 8) | (value >>> 8);
}

/**
 * A sum the module returned (below 2^17) as `sum` gives it: one more fold brings it to 16 bits, then
 * little-endian words become big-endian ones by swapping the bytes of the sum (RFC 1071 §2(B)).
 */
function fromModuleSum(sum: number): number {
  const folded = (sum & 0xffff) + (sum >>> 16);
  return swapBytes16((folded & 0xffff) + (folded >>> 16));
}

function createSimdSummer(): { summer: SimdSummer; frameMemory: Uint8Array } | undefined {
  if (typeof WebAssembly !== 'object') return undefined;
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(MODULE));
    const buffer = (instance.exports.memory as WebAssembly.Memory).buffer;
    const memory = new Uint8Array(buffer);
    // The mask for the last r (1-15) bytes of a range: r bytes of 0xff, then zeros.
    for (let r = 1; r < 16; r++) memory.fill(0xff, MASKS_AT + 16 * r, MASKS_AT + 16 * r + r);
    const sumMemory = instance.exports.sum as (at: number, length: number) => number;
    const copySum = instance.exports.copySum as (
      to: number,
      headerFrom: number,
      headerLength: number,
      from: number,
      length: number,
    ) => number;
    /** Copies `view` to the scratch area; where it now starts. Apart from `sum`, which stays small. */
    const copyToScratch = (view: Uint8Array): number => {
      copyBytes(memory, view, SCRATCH_AT);
      return SCRATCH_AT;
    };
    const summer: SimdSummer = {
      sum(view, offset, length) {
        let at = locateFrame(view);
        if (at < 0) at = frameViews.get(view) ?? copyToScratch(view);
        return fromModuleSum(sumMemory(at + offset, length));
      },
      holds(view) {
        return frameViews.has(view);
      },
      copyAndSum(to, headerFrom, headerLength, from, length) {
        return fromModuleSum(copySum(to, headerFrom, headerLength, from, length));
      },
    };
    return { summer, frameMemory: memory.subarray(0, SCRATCH_AT) };
  } catch {
    return undefined;
  }
}

/**
 * The views `frameMemoryView` made (the ones summed in place), and where each starts in the memory: what
 * `locateFrame` does not know.
 */
const frameViews = new WeakMap<Uint8Array, number>();

/**
 * Where a view `frameMemoryView` made starts in the memory, told by identity by whoever carves frames
 * from it (see `setFrameLocator`), or -1 when it cannot tell. A WeakMap lookup hashes the view: on an
 * in-process bulk transfer, the sender's sum over each frame and the receiver's took about 110 machine
 * instructions each to find it, where the frame allocator knows both frames by identity at once.
 */
let locateFrame: (view: Uint8Array) => number = () => -1;

/**
 * Installs the frame allocator's answer to where a frame of the memory starts (see `locateFrame`). It
 * must answer -1 or exactly where `frameMemoryView` cut the view: a view it does not know is looked up
 * as before.
 */
export function setFrameLocator(locate: (view: Uint8Array) => number): void {
  locateFrame = locate;
}

const created = createSimdSummer();

/** A view of bytes [start, end) of `frameMemory`, summed where it lies. */
export function frameMemoryView(start: number, end: number): Uint8Array {
  const view = viewBytes(frameMemory!, start, end);
  frameViews.set(view, start);
  return view;
}

/** Undefined where WebAssembly with SIMD cannot be compiled here. */
export const simdSummer: SimdSummer | undefined = created?.summer;

/**
 * FRAME_MEMORY_BYTES + STAGED_FRAME_BYTES of the summer's memory, zero-filled, for the frame allocator
 * alone to carve frames from (with `frameMemoryView`, whose views are summed in place); undefined with
 * `simdSummer`.
 */
export const frameMemory: Uint8Array | undefined = created?.frameMemory;
