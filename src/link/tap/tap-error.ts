/**
 * Errors from TAP devices, shaped like Node's system errors: `code` is the errno name a caller can switch
 * on (ENOTSUP, ENODEV, EPERM, EBUSY, EINVAL ...), `syscall` names the failing call when there is one, and
 * the message says what to do about it.
 */

export interface TapError extends Error {
  readonly code: string;
  readonly errno?: number;
  readonly syscall?: string;
}

export function tapError(
  code: string,
  message: string,
  details?: { errno?: number; syscall?: string },
): TapError {
  const error = new Error(`${code}: ${message}`) as Error & {
    code: string;
    errno?: number;
    syscall?: string;
  };
  error.code = code;
  if (details?.errno !== undefined) error.errno = details.errno;
  if (details?.syscall !== undefined) error.syscall = details.syscall;
  return error;
}
