/**
 * Emitters write into buffers their callers own. A buffer too small for what was asked is a bug in the
 * caller, not bad input from the wire, so it is reported as an API error with a Node-style code rather
 * than left to typed-array writes that silently drop out-of-range bytes.
 */

import { bufferOf, byteOffsetOf, copyBytes } from '../util/bytes.js';

/**
 * The zero-length view parsers hand out for absent options and empty payloads: creating a `subarray` costs
 * more than the rest of parsing a small header, and an empty view of another buffer carries no bytes.
 */
export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

export interface CodedError extends Error {
  code: string;
}

export function codedError(code: string, message: string): CodedError {
  const error = new RangeError(message) as RangeError & { code: string };
  error.code = code;
  return error;
}

/** Throws ERR_BUFFER_OUT_OF_BOUNDS unless `buf` has `needed` bytes from `offset`. */
export function requireSpace(buf: Uint8Array, offset: number, needed: number, what: string): void {
  if (!(offset >= 0 && offset + needed <= buf.length)) {
    throw codedError(
      'ERR_BUFFER_OUT_OF_BOUNDS',
      `${what}: needs ${needed} bytes at offset ${offset}, buffer holds ${buf.length}`,
    );
  }
}

/** Throws EINVAL with `message` when `condition` is false. */
export function requireValid(condition: boolean, message: string): void {
  if (!condition) throw codedError('EINVAL', message);
}

/**
 * Copies `src` to `dst` at `offset`, skipping the copy when `src` already is that very range (a payload
 * built in place); `TypedArray.prototype.set` would otherwise clone it first because the buffers are shared.
 * The offsets are compared first: reading `.buffer` is a call into the runtime (some hundred instructions),
 * and every segment sent is copied here.
 */
export function copyInto(src: Uint8Array, dst: Uint8Array, offset: number): void {
  if (byteOffsetOf(src) === byteOffsetOf(dst) + offset && bufferOf(src) === bufferOf(dst)) return;
  copyBytes(dst, src, offset);
}
