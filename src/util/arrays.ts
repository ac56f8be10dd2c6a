/**
 * An empty array whose elements V8 keeps as references (PACKED_ELEMENTS) from the start, for an array that
 * will hold objects.
 *
 * An empty literal `[]` starts with small-integer elements, and the first object stored in it gives it
 * another hidden class. The engine remembers that change at the literal (its allocation site) only once
 * it collects type feedback for the function holding it, and a constructor that runs a few times per
 * process (a stack's, a link's, a clock's) never gets there: each instance's arrays start as small
 * integers again. Code optimised on the arrays of the first instance, which had all changed by then,
 * deoptimised ("wrong map") when it met the arrays of the next one, at the start of every new stack or
 * connection. An array that held something other than a small integer keeps that kind when emptied.
 */
export function objectArray<T>(): T[] {
  const array: unknown[] = [undefined];
  array.pop();
  return array as T[];
}
