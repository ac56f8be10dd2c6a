/**
 * Uint8Array's methods and accessors for the per-segment data path, called through constants.
 *
 * Node 20's V8 (11.3) does not specialise a property load whose holder is %TypedArray%.prototype
 * (`view.set`, `view.subarray`, `view.fill`, `view.byteOffset`, `view.buffer`) in code it optimises on its
 * background thread, which is how hot code gets optimised: each such load stays a generic inline-cache
 * call (Builtins_LoadIC), and the method or getter it finds is then called generically. Loads from
 * Array.prototype or from a class's prototype are specialised; only the typed-array ones are not. So
 * each method is taken once into a constant: an offset check and a 1,448-byte `set` took 46 ns plain
 * and 29-32 ns as `method.call(view, ...)`, and LoadIC was 3.5% of the in-process bulk transfer's
 * samples, all from typed-array loads.
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

/**
 * Each method or getter is reached through `call` bound to it: V8 sees through a bound function that a
 * call site's feedback names (to `call`, then to the method it is bound to) and calls the builtin
 * directly, where `method.call(view, ...)` inside a function reached it through a generic call.
 */
const callMethod = Function.prototype.call;

/** `dst.set(src, offset)`. */
export const copyBytes = callMethod.bind(setMethod) as (
  dst: Uint8Array,
  src: Uint8Array,
  offset: number,
) => void;

/** `bytes.subarray(start, end)`. */
export const viewBytes = callMethod.bind(subarrayMethod) as (
  bytes: Uint8Array,
  start: number,
  end: number,
) => Uint8Array;

/** `bytes.fill(value, start, end)`. */
export const fillBytes = callMethod.bind(fillMethod) as (
  bytes: Uint8Array,
  value: number,
  start: number,
  end: number,
) => void;

/** `view.byteOffset`. */
export const byteOffsetOf = callMethod.bind(byteOffsetGetter) as (view: Uint8Array) => number;

/** `view.buffer`. */
export const bufferOf = callMethod.bind(bufferGetter) as (view: Uint8Array) => ArrayBufferLike;

/**
 * Node's `Buffer.prototype.fill`, where there is one: given a Uint8Array as its value it copies that
 * array's bytes into the range from its first byte on (repeating them past its end), natively and without
 * making an object. Undefined in a browser.
 */
const bufferFillMethod = (globalThis as { Buffer?: { prototype: { fill: unknown } } }).Buffer?.prototype
  .fill as ((this: Uint8Array, value: Uint8Array, start: number, end: number) => void) | undefined;
const bufferFill =
  bufferFillMethod === undefined
    ? undefined
    : (callMethod.bind(bufferFillMethod) as (
        dst: Uint8Array,
        value: Uint8Array,
        start: number,
        end: number,
      ) => void);

/**
 * `dst.set(src.subarray(0, end - start), start)` for 0 < end - start <= src.length: the first bytes of
 * `src` into `dst[start, end)`. In Node without the view `subarray` would cut (an object per call: a
 * reader whose buffer ends inside a kept segment copies part of it at every read).
 */
export function copyPrefix(dst: Uint8Array, src: Uint8Array, start: number, end: number): void {
  if (bufferFill !== undefined) bufferFill(dst, src, start, end);
  else copyBytes(dst, viewBytes(src, 0, end - start), start);
}
