/**
 * DHCP messages (RFC 2131 §2, the BOOTP layout of RFC 951) and the options of RFC 2132 that a server and a
 * client of tcpts use. `parseDhcp` never throws: bad input comes back as a typed error.
 *
 *   op htype hlen hops | xid | secs flags | ciaddr | yiaddr | siaddr | giaddr | chaddr[16] | sname[64]
 *   file[128] | magic cookie 99.130.83.99 | options (code, length, value) ... 255
 */
import {
  type Ipv4Address,
  type MacAddress,
  readIpv4,
  readMac,
  writeIpv4,
  writeMac,
} from '../wire/address.js';
import { malformed, type ParseResult, parsed } from '../wire/parse-result.js';

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
const BOOTREQUEST = 1;
const BOOTREPLY = 2;
const FIXED_LENGTH = 236;
const MAGIC_COOKIE = 0x63825363;
/** RFC 2131 §2: a client must accept messages of up to 576 bytes of IP; replies are padded to BOOTP's 300. */
const MIN_MESSAGE_LENGTH = 300;
/** RFC 2131 §2: the broadcast bit of `flags`. */
export const DHCP_FLAG_BROADCAST = 0x8000;

/** RFC 2132 §9.6 message types. */
export const DHCPDISCOVER = 1;
export const DHCPOFFER = 2;
export const DHCPREQUEST = 3;
export const DHCPDECLINE = 4;
export const DHCPACK = 5;
export const DHCPNAK = 6;
export const DHCPRELEASE = 7;
export const DHCPINFORM = 8;

/** RFC 2132 option codes. */
export const OPTION_SUBNET_MASK = 1;
export const OPTION_ROUTER = 3;
export const OPTION_DNS = 6;
export const OPTION_HOST_NAME = 12;
export const OPTION_DOMAIN_NAME = 15;
export const OPTION_INTERFACE_MTU = 26;
export const OPTION_BROADCAST = 28;
export const OPTION_REQUESTED_ADDRESS = 50;
export const OPTION_LEASE_TIME = 51;
export const OPTION_MESSAGE_TYPE = 53;
export const OPTION_SERVER_ID = 54;
export const OPTION_PARAMETER_LIST = 55;
export const OPTION_MESSAGE = 56;
export const OPTION_RENEWAL_TIME = 58;
export const OPTION_REBINDING_TIME = 59;
export const OPTION_CLIENT_ID = 61;
const OPTION_PAD = 0;
const OPTION_END = 255;

export interface DhcpMessage {
  /** true: BOOTREPLY (server to client); false: BOOTREQUEST. */
  reply: boolean;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: Ipv4Address;
  yiaddr: Ipv4Address;
  siaddr: Ipv4Address;
  giaddr: Ipv4Address;
  /** The client's hardware address (Ethernet: htype 1, hlen 6). */
  chaddr: MacAddress;
  /** Options by code, values without code and length (a repeated option's parts concatenated, RFC 3396). */
  options: Map<number, Uint8Array>;
}

export function dhcpMessageType(message: DhcpMessage): number | undefined {
  const value = message.options.get(OPTION_MESSAGE_TYPE);
  return value?.length === 1 ? value[0] : undefined;
}

export function dhcpAddressOption(message: DhcpMessage, code: number): Ipv4Address | undefined {
  const value = message.options.get(code);
  return value?.length === 4 ? readIpv4(value, 0) : undefined;
}

export function dhcpUint32Option(message: DhcpMessage, code: number): number | undefined {
  const value = message.options.get(code);
  return value?.length === 4 ? new DataView(value.buffer, value.byteOffset, 4).getUint32(0) : undefined;
}

export function addressOption(...addresses: Ipv4Address[]): Uint8Array {
  const value = new Uint8Array(4 * addresses.length);
  for (let i = 0; i < addresses.length; i++) writeIpv4(value, 4 * i, addresses[i]!);
  return value;
}

export function uint32Option(n: number): Uint8Array {
  const value = new Uint8Array(4);
  new DataView(value.buffer).setUint32(0, n >>> 0);
  return value;
}

export function uint16Option(n: number): Uint8Array {
  return Uint8Array.of((n >>> 8) & 0xff, n & 0xff);
}

export function parseDhcp(bytes: Uint8Array): ParseResult<DhcpMessage> {
  if (bytes.length < FIXED_LENGTH + 4) return malformed('dhcp', 'truncated', 'shorter than a BOOTP header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const op = bytes[0];
  if (op !== BOOTREQUEST && op !== BOOTREPLY) return malformed('dhcp', 'bad-field', `op ${op}`);
  if (bytes[1] !== 1 || bytes[2] !== 6) return malformed('dhcp', 'unsupported', 'not Ethernet addresses');
  if (view.getUint32(FIXED_LENGTH) !== MAGIC_COOKIE)
    return malformed('dhcp', 'unsupported', 'no DHCP magic cookie (plain BOOTP)');
  const options = new Map<number, Uint8Array>();
  let i = FIXED_LENGTH + 4;
  while (i < bytes.length) {
    const code = bytes[i]!;
    if (code === OPTION_END) break;
    if (code === OPTION_PAD) {
      i++;
      continue;
    }
    if (i + 1 >= bytes.length) return malformed('dhcp', 'bad-option', `option ${code} has no length`);
    const length = bytes[i + 1]!;
    if (i + 2 + length > bytes.length)
      return malformed('dhcp', 'bad-option', `option ${code} runs past the end`);
    const value = bytes.subarray(i + 2, i + 2 + length);
    const earlier = options.get(code);
    if (earlier === undefined) options.set(code, value);
    else {
      const joined = new Uint8Array(earlier.length + length);
      joined.set(earlier);
      joined.set(value, earlier.length);
      options.set(code, joined);
    }
    i += 2 + length;
  }
  return parsed({
    reply: op === BOOTREPLY,
    xid: view.getUint32(4),
    secs: view.getUint16(8),
    flags: view.getUint16(10),
    ciaddr: readIpv4(bytes, 12),
    yiaddr: readIpv4(bytes, 16),
    siaddr: readIpv4(bytes, 20),
    giaddr: readIpv4(bytes, 24),
    chaddr: readMac(bytes, 28),
    options,
  });
}

/** Serializes `message` (message type first, as RFC 2131 §4.1 recommends, then END, padded to 300). */
export function emitDhcp(message: DhcpMessage): Uint8Array {
  let optionsLength = 1;
  for (const value of message.options.values())
    optionsLength += 2 * Math.ceil(value.length / 255 || 1) + value.length;
  const length = Math.max(MIN_MESSAGE_LENGTH, FIXED_LENGTH + 4 + optionsLength);
  const bytes = new Uint8Array(length);
  const view = new DataView(bytes.buffer);
  bytes[0] = message.reply ? BOOTREPLY : BOOTREQUEST;
  bytes[1] = 1;
  bytes[2] = 6;
  view.setUint32(4, message.xid >>> 0);
  view.setUint16(8, message.secs);
  view.setUint16(10, message.flags);
  writeIpv4(bytes, 12, message.ciaddr);
  writeIpv4(bytes, 16, message.yiaddr);
  writeIpv4(bytes, 20, message.siaddr);
  writeIpv4(bytes, 24, message.giaddr);
  writeMac(bytes, 28, message.chaddr);
  view.setUint32(FIXED_LENGTH, MAGIC_COOKIE);
  let i = FIXED_LENGTH + 4;
  const codes = [...message.options.keys()].sort((a, b) =>
    a === OPTION_MESSAGE_TYPE ? -1 : b === OPTION_MESSAGE_TYPE ? 1 : 0,
  );
  for (const code of codes) {
    const value = message.options.get(code)!;
    // RFC 3396: a value longer than 255 bytes is split over several instances of the option.
    let offset = 0;
    do {
      const part = value.subarray(offset, offset + 255);
      bytes[i] = code;
      bytes[i + 1] = part.length;
      bytes.set(part, i + 2);
      i += 2 + part.length;
      offset += 255;
    } while (offset < value.length);
  }
  bytes[i] = OPTION_END;
  return bytes;
}
