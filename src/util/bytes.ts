/**
 * Uint8Array's methods and accessors for the per-segment data path, called through constants.
 *
 * Node 20's V8 (11.3) does not specialise a property load whose holder is %TypedArray%.prototype
 * (`view.set`, `view.subarray`, `view.fill`, `view.byteOffset`, `view.buffer`) in code it optimises on its
 * background thread, which is how hot code gets optimised: each such load stays a generic inline-cache
 * call (Builtins_LoadIC), and the method or getter it finds is then called generically. Loads from
 * Array.prototype or from a class's prototype are specialised; only the typed-array ones are not. A
 * method taken once into a constant and called with `call` compiles to a direct call of the builtin:
 * an offset check and a 1,448-byte `set` took 46 ns plain and 29-32 ns this way, and LoadIC was 3.5% of
 * the in-process bulk transfer's samples, all from typed-array loads.
 *
 * Code that runs once per segment or more uses these; elsewhere the plain forms read better.
 */

const prototype = Object.getPrototypeOf(Uint8Array.prototype) as Uint8Array;
const setMethod = prototype.set;
const subarrayMethod = prototype.subarray;
const fillMethod = prototype.fill;
const byteOffsetGetter = Object.getOwnPropertyDescriptor(prototype, 'byteOffset')!.get as (
  this: Uint8Array,
) => number;
const bufferGetter = Object.getOwnPropertyDescriptor(prototype, 'buffer')!.get as (
  this: Uint8Array,
) => ArrayBufferLike;

/** `dst.set(src, offset)`. */
export function copyBytes(dst: Uint8Array, src: Uint8Array, offset: number): void {
  setMethod.call(dst, src, offset);
}

/** `bytes.subarray(start, end)`. */
export function viewBytes(bytes: Uint8Array, start: number, end: number): Uint8Array {
  return subarrayMethod.call(bytes, start, end);
}

/** `bytes.fill(value, start, end)`. */
export function fillBytes(bytes: Uint8Array, value: number, start: number, end: number): void {
  fillMethod.call(bytes, value, start, end);
}

/** `view.byteOffset`. */
export function byteOffsetOf(view: Uint8Array): number {
  return byteOffsetGetter.call(view);
}

/** `view.buffer`. */
export function bufferOf(view: Uint8Array): ArrayBufferLike {
  return bufferGetter.call(view);
}
