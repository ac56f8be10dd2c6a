/**
 * Host names for the socket APIs. tcpts has no DNS resolver: a host is an IPv4 literal, 'localhost'
 * (the stack's 127.0.0.1), a name from a table the application supplies, or whatever a user-supplied
 * `lookup` function (Node's signature) answers.
 */
import { type Ipv4Address, ipv4ToString, parseIpv4 } from '../wire/address.js';

/**
 * Node's `lookup` option signature (dns.lookup). tcpts asks for IPv4 (`family: 4`); a function that answers
 * with a list (`all: true` style) has its first IPv4 entry used.
 */
export type LookupFunction = (
  hostname: string,
  options: { family: number; all?: boolean },
  callback: (
    error: Error | null,
    address: string | ReadonlyArray<{ address: string; family: number }>,
    family?: number,
  ) => void,
) => void;

/** Names the API resolves by itself, besides IPv4 literals. */
export type HostTable = Readonly<Record<string, string>>;

/** The address of an IPv4 literal, 'localhost' or a name in `hosts`; undefined when unknown. */
export function resolveHostName(host: string, hosts: HostTable | undefined): Ipv4Address | undefined {
  const literal = parseIpv4(host);
  if (literal !== undefined) return literal;
  const mapped = hosts?.[host] ?? (host.toLowerCase() === 'localhost' ? '127.0.0.1' : undefined);
  return mapped === undefined ? undefined : parseIpv4(mapped);
}

/** True for a dotted-quad IPv4 literal. */
export function isIpv4Literal(text: string): boolean {
  return parseIpv4(text) !== undefined;
}

/**
 * Resolves `host` with `lookup` when given (Node semantics: asynchronous, may fail), else from the table.
 * Calls back with an error whose code is ENOTFOUND (as getaddrinfo) when the name is unknown.
 */
export function lookupHost(
  host: string,
  hosts: HostTable | undefined,
  lookup: LookupFunction | undefined,
  callback: (
    error: (Error & { code?: string }) | null,
    address: Ipv4Address | undefined,
    text: string,
  ) => void,
): void {
  if (lookup !== undefined && !isIpv4Literal(host)) {
    lookup(host, { family: 4 }, (error, answer) => {
      if (error) {
        callback(error, undefined, '');
        return;
      }
      const address =
        typeof answer === 'string' ? answer : (answer.find((entry) => entry.family === 4)?.address ?? '');
      const parsed = parseIpv4(address);
      if (parsed === undefined) callback(notFound(host), undefined, '');
      else callback(null, parsed, address);
    });
    return;
  }
  const address = resolveHostName(host, hosts);
  if (address === undefined) callback(notFound(host), undefined, '');
  else callback(null, address, ipv4ToString(address));
}

function notFound(host: string): Error & { code: string } {
  return Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), {
    code: 'ENOTFOUND',
    errno: -3008,
    syscall: 'getaddrinfo',
    hostname: host,
  });
}
