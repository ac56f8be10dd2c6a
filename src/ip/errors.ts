/**
 * Errors for bad API input and for failures a caller must hear about, shaped like Node's system errors:
 * an `Error` whose `code` is the errno name (EINVAL, EADDRINUSE, EHOSTUNREACH ...), so code written for
 * Node's `net`/`dgram` can switch on it unchanged.
 */

export type ErrnoCode =
  | 'EINVAL'
  | 'EADDRINUSE'
  | 'EADDRNOTAVAIL'
  | 'EACCES'
  | 'EMSGSIZE'
  | 'ENETUNREACH'
  | 'EHOSTUNREACH'
  | 'EHOSTDOWN'
  | 'ECONNREFUSED'
  | 'ENOPROTOOPT'
  | 'EOPNOTSUPP'
  | 'ENONET'
  | 'ETIMEDOUT'
  | 'ENOBUFS'
  | 'EBADF'
  | 'EPROTO'
  | 'EEXIST'
  | 'ECANCELED'
  | 'EDESTADDRREQ'
  | 'EISCONN';

export interface ErrnoError extends Error {
  readonly code: ErrnoCode;
}

/** Builds an `Error` with a Node-style `code`; extra fields (e.g. the ICMP message) are copied onto it. */
export function errnoError(code: ErrnoCode, message: string, extra?: Record<string, unknown>): ErrnoError {
  const error = new Error(`${code}: ${message}`) as Error & { code: ErrnoCode };
  error.code = code;
  if (extra) Object.assign(error, extra);
  return error;
}
