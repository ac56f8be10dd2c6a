/**
 * Node's own coded errors (ERR_*) and the argument validators Node's `net` and `dgram` run, producing
 * the same class, `code` and message text, so code that checks `error.code` or matches a message (Node's
 * own tests do) sees no difference. The message layouts follow Node's documented error texts; the
 * description of a received value ("type number (5)", "an instance of Array", "function foo") follows
 * what Node prints, using `util.inspect` for the literal as Node does.
 */
import { inspect } from 'node:util';

export type NodeError = Error & { code: string };

type ErrorKind = ErrorConstructor | RangeErrorConstructor | TypeErrorConstructor;

/**
 * One of Node's coded errors: an instance of `Kind` (Error, TypeError or RangeError) whose `name` is the
 * class name, with `code`, a `toString()` of "TypeError [ERR_X]: message" and a stack headed the same way.
 */
export function nodeError(code: string, message: string, Kind: ErrorKind = Error): NodeError {
  const error = new Kind(message) as NodeError;
  Object.defineProperty(error, 'toString', {
    value(this: Error) {
      return `${this.name} [${code}]: ${this.message}`;
    },
    enumerable: false,
    writable: true,
    configurable: true,
  });
  if (typeof error.stack === 'string') {
    error.stack = error.stack.replace(`${Kind.name}:`, `${Kind.name} [${code}]:`);
  }
  error.code = code;
  return error;
}

/** How Node describes a received value in ERR_INVALID_ARG_TYPE and ERR_SOCKET_BAD_PORT messages. */
export function describeReceived(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'function' && value.name) return `function ${value.name}`;
  if (typeof value === 'object') {
    const constructorName = (value as { constructor?: { name?: string } }).constructor?.name;
    if (constructorName) return `an instance of ${constructorName}`;
    return inspect(value, { depth: -1 });
  }
  let inspected: string;
  if (typeof value === 'string') {
    inspected = inspect(value.length > 28 ? `${value.slice(0, 25)}...` : value, { colors: false });
  } else {
    inspected = inspect(value, { colors: false });
    if (inspected.length > 28) inspected = `${inspected.slice(0, 25)}...`;
  }
  return `type ${typeof value} (${inspected})`;
}

/** Primitive type names Node lists as "of type x"; anything capitalised is a class ("an instance of X"). */
const TYPE_NAMES = new Set([
  'string',
  'function',
  'number',
  'object',
  'Function',
  'Object',
  'boolean',
  'bigint',
  'symbol',
]);

/**
 * Node's ERR_INVALID_ARG_TYPE. `name` containing a dot is a property ('options.port'); `expected` lists
 * type names ('number', 'string') and class names ('Buffer', 'AbortSignal').
 */
export function invalidArgType(
  name: string,
  expected: string | readonly string[],
  actual: unknown,
): NodeError {
  const list = typeof expected === 'string' ? [expected] : expected;
  let message = 'The ';
  if (name.endsWith(' argument')) message += `${name} `;
  else message += `"${name}" ${name.includes('.') ? 'property' : 'argument'} `;
  message += 'must be ';
  const types: string[] = [];
  const instances: string[] = [];
  for (const value of list) {
    if (TYPE_NAMES.has(value)) types.push(value.toLowerCase());
    else instances.push(value);
  }
  if (instances.length > 0 && types.includes('object')) {
    types.splice(types.indexOf('object'), 1);
    instances.push('Object');
  }
  if (types.length > 0) {
    if (types.length > 2) {
      const last = types.pop();
      message += `one of type ${types.join(', ')}, or ${last}`;
    } else if (types.length === 2) {
      message += `one of type ${types[0]} or ${types[1]}`;
    } else {
      message += `of type ${types[0]}`;
    }
    if (instances.length > 0) message += ' or ';
  }
  if (instances.length > 0) {
    if (instances.length > 2) {
      const last = instances.pop();
      message += `an instance of ${instances.join(', ')}, or ${last}`;
    } else {
      message += `an instance of ${instances[0]}`;
      if (instances.length === 2) message += ` or ${instances[1]}`;
    }
  }
  return nodeError('ERR_INVALID_ARG_TYPE', `${message}. Received ${describeReceived(actual)}`, TypeError);
}

/** Node's ERR_INVALID_ARG_VALUE: "The property 'options.family' must be one of: 0, 4, 6. Received 5". */
export function invalidArgValue(name: string, value: unknown, reason = 'is invalid'): NodeError {
  let inspected = inspect(value);
  if (inspected.length > 128) inspected = `${inspected.slice(0, 128)}...`;
  const kind = name.includes('.') ? 'property' : 'argument';
  return nodeError(
    'ERR_INVALID_ARG_VALUE',
    `The ${kind} '${name}' ${reason}. Received ${inspected}`,
    TypeError,
  );
}

/** Node's ERR_OUT_OF_RANGE: 'The value of "msecs" is out of range. It must be ... Received -1'. */
export function outOfRange(name: string, range: string, value: unknown): NodeError {
  let received: string;
  if (Number.isInteger(value) && Math.abs(value as number) > 2 ** 32) {
    received = groupDigits(String(value));
  } else if (typeof value === 'bigint') {
    received = String(value);
    if (value > 2n ** 32n || value < -(2n ** 32n)) received = groupDigits(received);
    received += 'n';
  } else {
    received = inspect(value);
  }
  return nodeError(
    'ERR_OUT_OF_RANGE',
    `The value of "${name}" is out of range. It must be ${range}. Received ${received}`,
    RangeError,
  );
}

function groupDigits(digits: string): string {
  let result = '';
  let i = digits.length;
  const start = digits[0] === '-' ? 1 : 0;
  for (; i >= start + 4; i -= 3) result = `_${digits.slice(i - 3, i)}${result}`;
  return `${digits.slice(0, i)}${result}`;
}

/** Node's ERR_MISSING_ARGS: 'The "a" argument must be specified', '"a" and "b"', or a list. */
export function missingArgs(...names: Array<string | readonly string[]>): NodeError {
  const wrapped = names.map((name) =>
    typeof name === 'string' ? `"${name}"` : name.map((one) => `"${one}"`).join(' or '),
  );
  let message = 'The ';
  if (wrapped.length === 1) message += `${wrapped[0]} argument`;
  else if (wrapped.length === 2) message += `${wrapped[0]} and ${wrapped[1]} arguments`;
  else message += `${wrapped.slice(0, -1).join(', ')}, and ${wrapped[wrapped.length - 1]} arguments`;
  return nodeError('ERR_MISSING_ARGS', `${message} must be specified`, TypeError);
}

/** Node's ERR_SOCKET_BAD_PORT, thrown for a port that is not an integer 0-65535 (or 1-65535). */
export function badPort(name: string, port: unknown, allowZero = true): NodeError {
  const operator = allowZero ? '>=' : '>';
  return nodeError(
    'ERR_SOCKET_BAD_PORT',
    `${name} should be ${operator} 0 and < 65536. Received ${describeReceived(port)}.`,
    RangeError,
  );
}

// -------------------------------------------------------------------------------------------------
// Validators, each the check Node applies to one kind of argument.

/**
 * A port as Node accepts it: a number or a string holding one (whitespace around it allowed), integer,
 * 0-65535 (1-65535 without `allowZero`). Returns it as a number.
 */
export function validatePort(port: unknown, name = 'Port', allowZero = true): number {
  if (
    (typeof port !== 'number' && typeof port !== 'string') ||
    (typeof port === 'string' && port.trim().length === 0) ||
    +port !== +port >>> 0 ||
    +port > 0xffff ||
    (+port === 0 && !allowZero)
  ) {
    throw badPort(name, port, allowZero);
  }
  return +port | 0;
}

export function validateString(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string') throw invalidArgType(name, 'string', value);
}

export function validateNumber(
  value: unknown,
  name: string,
  min?: number,
  max?: number,
): asserts value is number {
  if (typeof value !== 'number') throw invalidArgType(name, 'number', value);
  if (
    (min !== undefined && value < min) ||
    (max !== undefined && value > max) ||
    ((min !== undefined || max !== undefined) && Number.isNaN(value))
  ) {
    const range =
      min !== undefined && max !== undefined
        ? `>= ${min} && <= ${max}`
        : min !== undefined
          ? `>= ${min}`
          : `<= ${max}`;
    throw outOfRange(name, range, value);
  }
}

export function validateInt32(
  value: unknown,
  name: string,
  min = -2147483648,
  max = 2147483647,
): asserts value is number {
  if (typeof value !== 'number') throw invalidArgType(name, 'number', value);
  if (!Number.isInteger(value)) throw outOfRange(name, 'an integer', value);
  if (value < min || value > max) throw outOfRange(name, `>= ${min} && <= ${max}`, value);
}

export function validateUint32(value: unknown, name: string, positive = false): asserts value is number {
  if (typeof value !== 'number') throw invalidArgType(name, 'number', value);
  if (!Number.isInteger(value)) throw outOfRange(name, 'an integer', value);
  const min = positive ? 1 : 0;
  const max = 4294967295;
  if (value < min || value > max) throw outOfRange(name, `>= ${min} && <= ${max}`, value);
}

export function validateBoolean(value: unknown, name: string): asserts value is boolean {
  if (typeof value !== 'boolean') throw invalidArgType(name, 'boolean', value);
}

export function validateFunction(
  value: unknown,
  name: string,
): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') throw invalidArgType(name, 'function', value);
}

/** An options object: not null, not an array, not a function (Node's validateObject defaults). */
export function validateObject(value: unknown, name: string): asserts value is object {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidArgType(name, 'object', value);
  }
}

export function validateAbortSignal(
  signal: unknown,
  name: string,
): asserts signal is AbortSignal | undefined {
  if (
    signal !== undefined &&
    (signal === null || typeof signal !== 'object' || !('aborted' in (signal as object)))
  ) {
    throw invalidArgType(name, 'AbortSignal', signal);
  }
}

/**
 * Node's SystemError for a libuv call that failed (ERR_SOCKET_BUFFER_SIZE ...): "prefix: uv_call returned
 * CODE (description)", with `errno`, `syscall` and `info` as Node gives them.
 */
export function nodeSystemError(
  code: string,
  prefix: string,
  syscall: string,
  errnoCode: string,
  errno: number,
  description: string,
): NodeError & { errno: number; syscall: string; info: Record<string, unknown> } {
  const message = `${prefix}: ${syscall} returned ${errnoCode} (${description})`;
  const error = nodeError(code, message) as NodeError & {
    errno: number;
    syscall: string;
    info: Record<string, unknown>;
  };
  Object.defineProperty(error, 'name', {
    value: 'SystemError',
    enumerable: false,
    writable: true,
    configurable: true,
  });
  error.info = { errno, code: errnoCode, message: description, syscall };
  error.errno = errno;
  error.syscall = syscall;
  return error;
}

/** The AbortError Node raises when an AbortSignal cancels an operation. */
export function abortError(signal: AbortSignal | undefined): Error & { code: string } {
  const error = new Error(
    'The operation was aborted',
    signal === undefined ? undefined : { cause: signal.reason },
  );
  return Object.assign(error, { code: 'ABORT_ERR', name: 'AbortError' });
}
