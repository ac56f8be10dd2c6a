/**
 * Errors shaped exactly like the ones Node's `net` and `dgram` produce, so code written for Node can
 * inspect `code`, `errno`, `syscall`, `address` and `port` unchanged:
 *
 * - system errors: `errno` is the negated errno number of this platform (as libuv reports it), `code`
 *   its name, and the message one of Node's three layouts ('read ECONNRESET',
 *   'connect ECONNREFUSED 10.0.0.2:80', 'listen EADDRINUSE: address already in use 10.0.0.2:80');
 *
 * Node's own argument and state errors (ERR_*) are in node-errors.ts.
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

/**
 * 'connect ECONNREFUSED 10.0.0.2:80' (Node's exceptionWithHostPort); `local` ('10.0.0.1:5000') adds
 * Node's ' - Local (10.0.0.1:5000)' suffix.
 */
export function systemErrorWithAddress(
  code: string,
  syscall: string,
  address: string,
  port?: number,
  local?: string,
): SystemError {
  let where = port !== undefined && port > 0 ? `${address}:${port}` : address;
  if (local !== undefined) where += ` - Local (${local})`;
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
