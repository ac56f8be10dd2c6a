/**
 * Errors shaped exactly like the ones Node's `net` and `dgram` produce, so code written for Node can
 * inspect `code`, `errno`, `syscall`, `address` and `port` unchanged:
 *
 * - system errors: `errno` is the negated errno number of this platform (as libuv reports it), `code`
 *   its name, and the message one of Node's three layouts ('read ECONNRESET',
 *   'connect ECONNREFUSED 10.0.0.2:80', 'listen EADDRINUSE: address already in use 10.0.0.2:80');
 * - Node's own argument and state errors (ERR_SOCKET_BAD_PORT, ERR_SERVER_NOT_RUNNING, ...): an Error, or
 *   the RangeError/TypeError Node uses, with the `code`.
 */
import { constants } from 'node:os';

export interface SystemError extends Error {
  code: string;
  errno: number;
  syscall: string;
  address?: string;
  port?: number;
}

/** libuv's descriptions, used in the "code: description" layout of listen and bind errors. */
const DESCRIPTIONS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available',
  EACCES: 'permission denied',
  EINVAL: 'invalid argument',
};

/** The errno number Node reports for `code`: negative, as libuv's (e.g. -111 for ECONNREFUSED on Linux). */
export function errnoNumber(code: string): number {
  const value = (constants.errno as Record<string, number | undefined>)[code];
  return value === undefined ? -1 : -value;
}

/** 'read ECONNRESET' (Node's errnoException). */
export function systemError(code: string, syscall: string): SystemError {
  return build(`${syscall} ${code}`, code, syscall);
}

/** 'connect ECONNREFUSED 10.0.0.2:80' (Node's exceptionWithHostPort). */
export function systemErrorWithAddress(
  code: string,
  syscall: string,
  address: string,
  port?: number,
): SystemError {
  const where = port !== undefined && port > 0 ? `${address}:${port}` : address;
  const error = build(`${syscall} ${code} ${where}`, code, syscall);
  error.address = address;
  if (port !== undefined && port > 0) error.port = port;
  return error;
}

/** 'listen EADDRINUSE: address already in use 10.0.0.2:80' (Node's uvExceptionWithHostPort). */
export function describedSystemError(
  code: string,
  syscall: string,
  address: string,
  port?: number,
): SystemError {
  const description = DESCRIPTIONS[code] ?? code.toLowerCase();
  const where = port !== undefined && port > 0 ? ` ${address}:${port}` : ` ${address}`;
  const error = build(`${syscall} ${code}: ${description}${where}`, code, syscall);
  error.address = address;
  if (port !== undefined && port > 0) error.port = port;
  return error;
}

function build(message: string, code: string, syscall: string): SystemError {
  const error = new Error(message) as SystemError;
  error.errno = errnoNumber(code);
  error.code = code;
  error.syscall = syscall;
  return error;
}

/** One of Node's own coded errors (ERR_*), of the class Node uses for it. */
export function nodeError(
  code: string,
  message: string,
  Kind: ErrorConstructor | RangeErrorConstructor | TypeErrorConstructor = Error,
): Error & { code: string } {
  const error = new Kind(message) as Error & { code: string };
  error.code = code;
  return error;
}

/** Node's ERR_SOCKET_BAD_PORT, thrown for a port that is not an integer 0-65535 (or 1-65535). */
export function badPort(name: string, port: unknown, allowZero = true): Error & { code: string } {
  const range = allowZero ? '>= 0' : '> 0';
  return nodeError(
    'ERR_SOCKET_BAD_PORT',
    `${name} should be ${range} and < 65536. Received ${describe(port)}.`,
    RangeError,
  );
}

/** Node's ERR_INVALID_ARG_TYPE. */
export function invalidArgType(name: string, expected: string, actual: unknown): Error & { code: string } {
  return nodeError(
    'ERR_INVALID_ARG_TYPE',
    `The "${name}" argument must be ${expected}. Received ${describe(actual)}`,
    TypeError,
  );
}

/** Validates a port the way Node does (numbers and numeric strings); returns it as a number. */
export function validatePort(port: unknown, name = 'Port', allowZero = true): number {
  const numeric =
    (typeof port === 'number' && Number.isFinite(port)) || (typeof port === 'string' && port.trim() !== '')
      ? Number(port)
      : Number.NaN;
  if (!Number.isInteger(numeric) || numeric < 0 || numeric > 65535 || (!allowZero && numeric === 0)) {
    throw badPort(name, port, allowZero);
  }
  return numeric;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `type string ('${value}')`;
  if (typeof value === 'number') return `type number (${value})`;
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  return `an instance of ${(value as object).constructor?.name ?? 'Object'}`;
}
