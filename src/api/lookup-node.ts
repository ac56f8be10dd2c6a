/**
 * Name resolution for the Node socket APIs: `dns.lookup`'s contract over the stack's names (IP literals,
 * 'localhost', the API's host table) with a resolver of the application's behind them.
 */
import { parseIpv4 } from '../wire/address.js';
import { type IpAddress, parseIpv6 } from '../wire/ipv6-address.js';
import {
  type HostTable,
  type LookupAddress,
  type LookupFunction,
  type LookupOptions,
  resolveHostNames,
} from './host-names.js';
import { invalidArgType, invalidArgValue, validateNumber } from './node-errors.js';

/**
 * The resolver of one socket API: `dns.lookup` with the stack's names. It answers asynchronously (never
 * inside the call), IP literals as themselves, 'localhost' and `hosts` from the table, and anything else
 * through `fallback` when given, else with getaddrinfo's ENOTFOUND. Arguments are validated as
 * `dns.lookup` does (ERR_INVALID_ARG_TYPE for a non-string hostname, ERR_INVALID_ARG_VALUE for a family
 * other than 0, 4 and 6).
 */
export function stackLookup(
  hosts: HostTable | undefined,
  fallback: LookupFunction | undefined,
): LookupFunction {
  return (hostname, options, callback) => {
    validateHostname(hostname);
    const family = lookupFamily(options);
    validateHints(typeof options === 'object' ? options?.hints : undefined);
    const all = options?.all === true;
    const answer = (address: string | null, addressFamily: number) => {
      if (all) callback(null, address === null ? [] : [{ address, family: addressFamily }]);
      else callback(null, address ?? undefined, addressFamily);
    };
    if (!hostname) {
      process.nextTick(answer, null, family === 6 ? 6 : 4);
      return;
    }
    const known = resolveHostNames(hostname, hosts);
    // An IP literal is answered as itself whatever family was asked (dns.lookup does the same).
    const wanted =
      known.length === 1 || family === 0 ? known : known.filter((entry) => entry.family === family);
    if (wanted.length > 0) {
      if (all)
        process.nextTick(
          callback,
          null,
          wanted.map((entry) => ({ ...entry })),
        );
      else process.nextTick(answer, wanted[0]!.address, wanted[0]!.family);
      return;
    }
    if (fallback !== undefined) {
      fallback(hostname, options, callback);
      return;
    }
    process.nextTick(callback, notFound(hostname), undefined);
  };
}

function validateHostname(hostname: unknown): void {
  if (typeof hostname !== 'string') throw invalidArgType('hostname', 'string', hostname);
}

/** getaddrinfo flags dns.lookup accepts (Linux values): AI_ADDRCONFIG, AI_V4MAPPED, AI_ALL. */
const VALID_HINTS = 32 | 8 | 16;

function validateHints(hints: unknown): void {
  if (hints === undefined || hints === null) return;
  validateNumber(hints, 'options.hints');
  if (((hints >>> 0) & ~VALID_HINTS) !== 0) throw invalidArgValue('hints', hints >>> 0);
}

function lookupFamily(options: LookupOptions | number | undefined): number {
  const raw = typeof options === 'number' ? options : options?.family;
  if (raw === undefined) return 0;
  const family = raw === 'IPv4' ? 4 : raw === 'IPv6' ? 6 : raw;
  if (family !== 0 && family !== 4 && family !== 6)
    throw invalidArgValue('options.family', family, 'must be one of: 0, 4, 6');
  return family;
}

/**
 * Resolves `host` to one address of `family` (4 by default; a literal of the other family is answered as
 * itself, as dns.lookup does) through `lookup` (Node semantics: asynchronous, may fail); calls back with
 * the address (a number for IPv4, a bigint for IPv6) and its text, or the error (ENOTFOUND for an unknown
 * name, or whatever the lookup answered).
 */
export function lookupHost(
  host: string,
  lookup: LookupFunction,
  callback: (error: (Error & { code?: string }) | null, address: IpAddress | undefined, text: string) => void,
  family: 4 | 6 = 4,
): void {
  // Node's dgram passes the family as a bare number (`lookup(address, 4, callback)`), not options.
  lookup(host, family as unknown as LookupOptions, (error, answer) => {
    if (error) {
      callback(error, undefined, '');
      return;
    }
    const address =
      typeof answer === 'string'
        ? answer
        : (answer?.find((entry: LookupAddress) => entry.family === family)?.address ??
          answer?.[0]?.address ??
          '');
    const parsed: IpAddress | undefined =
      parseIpv4(address) ?? (address.includes(':') ? parseIpv6(address) : undefined);
    if (parsed === undefined) callback(notFound(host), undefined, '');
    else callback(null, parsed, address);
  });
}

/** getaddrinfo's "name not known", shaped as Node reports it. */
export function notFound(host: string): Error & { code: string } {
  return Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), {
    code: 'ENOTFOUND',
    errno: -3008,
    syscall: 'getaddrinfo',
    hostname: host,
  });
}
