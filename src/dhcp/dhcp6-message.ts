/**
 * DHCPv6 messages (RFC 8415 §8) and the options a stateless server needs (RFC 8415 §21, RFC 3646 §3-§4).
 * `parseDhcp6` never throws: bad input comes back as a typed error.
 *
 *   msg-type (1) | transaction-id (3) | options: option-code (2), option-len (2), option-data ...
 *
 * Relay messages (Relay-forward, Relay-reply: RFC 8415 §9) have another header and are not parsed.
 */
import type { MacAddress } from '../wire/address.js';
import { type Ipv6Address, readIpv6, writeIpv6 } from '../wire/ipv6-address.js';
import { malformed, type ParseResult, parsed } from '../wire/parse-result.js';

/** UDP ports (RFC 8415 §7.2). */
export const DHCP6_CLIENT_PORT = 546;
export const DHCP6_SERVER_PORT = 547;
/** All_DHCP_Relay_Agents_and_Servers (RFC 8415 §7.1): where clients send every message. */
export const ALL_DHCP_RELAY_AGENTS_AND_SERVERS: Ipv6Address = 0xff02_0000_0000_0000_0000_0000_0001_0002n;

/** Message types (RFC 8415 §7.3). */
export const DHCP6_SOLICIT = 1;
export const DHCP6_ADVERTISE = 2;
export const DHCP6_REQUEST = 3;
export const DHCP6_CONFIRM = 4;
export const DHCP6_RENEW = 5;
export const DHCP6_REBIND = 6;
export const DHCP6_REPLY = 7;
export const DHCP6_RELEASE = 8;
export const DHCP6_DECLINE = 9;
export const DHCP6_INFORMATION_REQUEST = 11;
export const DHCP6_RELAY_FORW = 12;
export const DHCP6_RELAY_REPL = 13;

/** Option codes (RFC 8415 §21, RFC 3646). */
export const OPTION6_CLIENTID = 1;
export const OPTION6_SERVERID = 2;
export const OPTION6_IA_NA = 3;
export const OPTION6_IA_TA = 4;
export const OPTION6_IAADDR = 5;
export const OPTION6_ORO = 6;
export const OPTION6_ELAPSED_TIME = 8;
export const OPTION6_STATUS_CODE = 13;
export const OPTION6_DNS_SERVERS = 23;
export const OPTION6_DOMAIN_LIST = 24;
export const OPTION6_IA_PD = 25;
export const OPTION6_INFORMATION_REFRESH_TIME = 32;

/** Status codes (RFC 8415 §21.13). */
export const STATUS6_SUCCESS = 0;
export const STATUS6_NO_ADDRS_AVAIL = 2;
export const STATUS6_NO_BINDING = 3;
export const STATUS6_NOT_ON_LINK = 4;
export const STATUS6_NO_PREFIX_AVAIL = 6;

/** DUID-LL (RFC 8415 §11.4) with hardware type 1, Ethernet (RFC 826). */
const DUID_LL = 3;
const HARDWARE_ETHERNET = 1;

export interface Dhcp6Option {
  code: number;
  data: Uint8Array;
}

export interface Dhcp6Message {
  type: number;
  /** 24 bits. */
  transactionId: number;
  /** In wire order; a code may repeat (IA_NA per IA). */
  options: Dhcp6Option[];
}

export function parseDhcp6(bytes: Uint8Array): ParseResult<Dhcp6Message> {
  if (bytes.length < 4) return malformed('dhcp6', 'truncated', 'shorter than the 4-byte header');
  const type = bytes[0]!;
  if (type === DHCP6_RELAY_FORW || type === DHCP6_RELAY_REPL)
    return malformed('dhcp6', 'unsupported', 'relay message');
  const transactionId = (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!;
  const options = parseOptions(bytes, 4);
  return options === undefined
    ? malformed('dhcp6', 'bad-option', 'an option runs past the end')
    : parsed({ type, transactionId, options });
}

/** The option list from `start` to the end (RFC 8415 §21.1); undefined when one runs past the end. */
function parseOptions(bytes: Uint8Array, start: number): Dhcp6Option[] | undefined {
  const options: Dhcp6Option[] = [];
  let i = start;
  while (i < bytes.length) {
    if (i + 4 > bytes.length) return undefined;
    const code = (bytes[i]! << 8) | bytes[i + 1]!;
    const length = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    if (i + 4 + length > bytes.length) return undefined;
    options.push({ code, data: bytes.subarray(i + 4, i + 4 + length) });
    i += 4 + length;
  }
  return options;
}

/** The options inside an option (RFC 8415 §21.4: an IA_NA's own options follow its 12 fixed bytes). */
function emitOptions(options: Dhcp6Option[], out: Uint8Array, start: number): void {
  let i = start;
  for (const option of options) {
    out[i] = option.code >>> 8;
    out[i + 1] = option.code;
    out[i + 2] = option.data.length >>> 8;
    out[i + 3] = option.data.length;
    out.set(option.data, i + 4);
    i += 4 + option.data.length;
  }
}

function optionsLength(options: Dhcp6Option[]): number {
  let length = 0;
  for (const option of options) length += 4 + option.data.length;
  return length;
}

export interface Dhcp6IaNa {
  iaid: number;
  t1: number;
  t2: number;
  /** The addresses of its IA Address options (RFC 8415 §21.6), the client's hints or current ones. */
  addresses: Ipv6Address[];
}

/** An IA_NA option's data (RFC 8415 §21.4); undefined when shorter than its 12 fixed bytes or cut. */
export function parseIaNa(data: Uint8Array): Dhcp6IaNa | undefined {
  if (data.length < 12) return undefined;
  const view = new DataView(data.buffer, data.byteOffset, data.length);
  const inner = parseOptions(data, 12);
  if (inner === undefined) return undefined;
  const addresses = inner
    .filter((option) => option.code === OPTION6_IAADDR && option.data.length >= 24)
    .map((option) => readIpv6(option.data, 0));
  return { iaid: view.getUint32(0), t1: view.getUint32(4), t2: view.getUint32(8), addresses };
}

/**
 * An IA_NA option (RFC 8415 §21.4) with one IA Address (RFC 8415 §21.6) when `address` is given, and
 * a Status Code inside when `status` is.
 */
export function iaNaOption(
  ia: { iaid: number; t1: number; t2: number },
  address?: { address: Ipv6Address; preferred: number; valid: number },
  status?: { code: number; message: string },
): Dhcp6Option {
  const inner: Dhcp6Option[] = [];
  if (address !== undefined) {
    const iaaddr = new Uint8Array(24);
    writeIpv6(iaaddr, 0, address.address);
    new DataView(iaaddr.buffer).setUint32(16, address.preferred);
    new DataView(iaaddr.buffer).setUint32(20, address.valid);
    inner.push({ code: OPTION6_IAADDR, data: iaaddr });
  }
  if (status !== undefined)
    inner.push({ code: OPTION6_STATUS_CODE, data: statusCodeOption(status.code, status.message) });
  const data = new Uint8Array(12 + optionsLength(inner));
  const view = new DataView(data.buffer);
  view.setUint32(0, ia.iaid);
  view.setUint32(4, ia.t1);
  view.setUint32(8, ia.t2);
  emitOptions(inner, data, 12);
  return { code: OPTION6_IA_NA, data };
}

export function emitDhcp6(message: Dhcp6Message): Uint8Array {
  const out = new Uint8Array(4 + optionsLength(message.options));
  out[0] = message.type;
  out[1] = message.transactionId >>> 16;
  out[2] = message.transactionId >>> 8;
  out[3] = message.transactionId;
  emitOptions(message.options, out, 4);
  return out;
}

export function dhcp6Option(message: Dhcp6Message, code: number): Uint8Array | undefined {
  return message.options.find((option) => option.code === code)?.data;
}

/** The codes an Option Request option lists (RFC 8415 §21.7: a list of 16-bit codes). */
export function requestedOptions(message: Dhcp6Message): Set<number> {
  const data = dhcp6Option(message, OPTION6_ORO);
  const codes = new Set<number>();
  if (data === undefined) return codes;
  for (let i = 0; i + 1 < data.length; i += 2) codes.add((data[i]! << 8) | data[i + 1]!);
  return codes;
}

/** A DUID-LL from an Ethernet address (RFC 8415 §11.4): stable across restarts, as a server's must be. */
export function duidFromMac(mac: MacAddress): Uint8Array {
  const duid = new Uint8Array(10);
  duid[1] = DUID_LL;
  duid[3] = HARDWARE_ETHERNET;
  const hi = Math.floor(mac / 0x1_0000_0000);
  const lo = mac >>> 0;
  duid.set([hi >>> 8, hi & 0xff, lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff], 4);
  return duid;
}

/** OPTION_DNS_SERVERS' data (RFC 3646 §3): the addresses, 16 bytes each. */
export function addressListOption(addresses: Ipv6Address[]): Uint8Array {
  const data = new Uint8Array(16 * addresses.length);
  for (const [i, address] of addresses.entries()) writeIpv6(data, 16 * i, address);
  return data;
}

/**
 * OPTION_DOMAIN_LIST's data (RFC 3646 §4): each name in DNS wire form (RFC 1035 §3.1), uncompressed as
 * RFC 8415 §10 requires. A label over 63 bytes (RFC 1035 §2.3.4) throws a RangeError.
 */
export function domainListOption(names: string[]): Uint8Array {
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  for (const name of names) {
    for (const label of name.split('.').filter((part) => part.length > 0)) {
      const encoded = encoder.encode(label);
      if (encoded.length > 63) throw new RangeError(`DNS label longer than 63 bytes: ${label}`);
      bytes.push(encoded.length, ...encoded);
    }
    bytes.push(0);
  }
  return Uint8Array.from(bytes);
}

/** A 32-bit option value (Information Refresh Time, RFC 8415 §21.23). */
export function uint32Option6(value: number): Uint8Array {
  const data = new Uint8Array(4);
  new DataView(data.buffer).setUint32(0, value);
  return data;
}

/**
 * An IA_TA (RFC 8415 §21.5: IAID only) or IA_PD (RFC 8415 §21.21: IAID, T1, T2) given back empty with
 * a status inside: what a server that assigns no temporary addresses or prefixes answers. Undefined when
 * the client's option is shorter than its fixed part.
 */
export function emptyIaOption(option: Dhcp6Option, status: number, message: string): Dhcp6Option | undefined {
  const fixed = option.code === OPTION6_IA_TA ? 4 : 12;
  if (option.data.length < fixed) return undefined;
  const inner = statusCodeOption(status, message);
  const data = new Uint8Array(fixed + 4 + inner.length);
  // IAID as sent; T1 and T2 of an IA_PD with no prefixes are 0.
  data.set(option.data.subarray(0, 4), 0);
  data[fixed] = OPTION6_STATUS_CODE >>> 8;
  data[fixed + 1] = OPTION6_STATUS_CODE & 0xff;
  data[fixed + 2] = inner.length >>> 8;
  data[fixed + 3] = inner.length & 0xff;
  data.set(inner, fixed + 4);
  return { code: option.code, data };
}

/** A Status Code option's data (RFC 8415 §21.13): the code and a UTF-8 message. */
export function statusCodeOption(code: number, message: string): Uint8Array {
  const text = new TextEncoder().encode(message);
  const data = new Uint8Array(2 + text.length);
  data[0] = code >>> 8;
  data[1] = code;
  data.set(text, 2);
  return data;
}
