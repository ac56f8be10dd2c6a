/**
 * Neighbor Discovery options (RFC 4861 §4.6): type, length in 8-octet units, data. A length of zero is
 * invalid and the whole message must then be discarded (§4.6), which `parseNdpOptions` reports as
 * 'bad-option'. Unknown options are kept (`kind: 'other'`) and must be ignored by the receiver (§4.6).
 * Ethernet link-layer addresses fill a one-unit option (RFC 2464 §6). The Nonce option is RFC 7527's
 * (Linux sends one with every DAD probe).
 */

import { type MacAddress, readMac, writeMac } from './address.js';
import { copyInto, requireSpace, requireValid } from './emit-buffer.js';
import { type Ipv6Address, readIpv6, writeIpv6 } from './ipv6-address.js';
import { malformed, type ParseResult, parsed } from './parse-result.js';

export const NDP_OPTION_SOURCE_LINK_LAYER = 1;
export const NDP_OPTION_TARGET_LINK_LAYER = 2;
export const NDP_OPTION_PREFIX_INFORMATION = 3;
export const NDP_OPTION_REDIRECTED_HEADER = 4;
export const NDP_OPTION_MTU = 5;
export const NDP_OPTION_NONCE = 14;

/** A lifetime of all ones means infinity (RFC 4861 §4.6.2). */
export const NDP_INFINITE_LIFETIME = 0xffffffff;

export type NdpOption =
  | { kind: 'source-link-layer'; mac: MacAddress }
  | { kind: 'target-link-layer'; mac: MacAddress }
  | {
      kind: 'prefix-information';
      prefixLength: number;
      /** L flag: the prefix is on-link. */
      onLink: boolean;
      /** A flag: usable for stateless address autoconfiguration (RFC 4862 §5.5.3). */
      autonomous: boolean;
      /** Seconds; NDP_INFINITE_LIFETIME for ever. */
      validLifetime: number;
      preferredLifetime: number;
      prefix: Ipv6Address;
    }
  | { kind: 'redirected-header' /** As much of the redirected packet as fits; a view. */; packet: Uint8Array }
  | { kind: 'mtu'; mtu: number }
  | { kind: 'nonce' /** 6 or more bytes; a view. */; nonce: Uint8Array }
  | { kind: 'other'; type: number /** Bytes after type and length; a view. */; data: Uint8Array };

const PROTOCOL = 'ndp';

function u32(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

function putU32(b: Uint8Array, i: number, v: number): void {
  b[i] = v >>> 24;
  b[i + 1] = v >>> 16;
  b[i + 2] = v >>> 8;
  b[i + 3] = v;
}

/** Parses the options that fill `buf` to its end. Checks 'bad-option'. Never throws. */
export function parseNdpOptions(buf: Uint8Array): ParseResult<NdpOption[]> {
  const options: NdpOption[] = [];
  let i = 0;
  while (i < buf.length) {
    if (i + 2 > buf.length) return malformed(PROTOCOL, 'bad-option', `option header cut at ${i}`);
    const type = buf[i]!;
    const length = buf[i + 1]! * 8;
    if (length === 0) return malformed(PROTOCOL, 'bad-option', `option ${type} has length 0`);
    if (i + length > buf.length) {
      return malformed(PROTOCOL, 'bad-option', `option ${type} of ${length} bytes runs past ${buf.length}`);
    }
    const body = buf.subarray(i + 2, i + length);
    switch (type) {
      case NDP_OPTION_SOURCE_LINK_LAYER:
      case NDP_OPTION_TARGET_LINK_LAYER:
        if (length !== 8) {
          // Another link type's address: keep it, uninterpreted.
          options.push({ kind: 'other', type, data: body });
          break;
        }
        options.push({
          kind: type === NDP_OPTION_SOURCE_LINK_LAYER ? 'source-link-layer' : 'target-link-layer',
          mac: readMac(buf, i + 2),
        });
        break;
      case NDP_OPTION_PREFIX_INFORMATION:
        if (length !== 32) return malformed(PROTOCOL, 'bad-option', `prefix information of ${length} bytes`);
        options.push({
          kind: 'prefix-information',
          prefixLength: buf[i + 2]!,
          onLink: (buf[i + 3]! & 0x80) !== 0,
          autonomous: (buf[i + 3]! & 0x40) !== 0,
          validLifetime: u32(buf, i + 4),
          preferredLifetime: u32(buf, i + 8),
          prefix: readIpv6(buf, i + 16),
        });
        break;
      case NDP_OPTION_REDIRECTED_HEADER:
        options.push({ kind: 'redirected-header', packet: buf.subarray(i + 8, i + length) });
        break;
      case NDP_OPTION_MTU:
        if (length !== 8) return malformed(PROTOCOL, 'bad-option', `MTU option of ${length} bytes`);
        options.push({ kind: 'mtu', mtu: u32(buf, i + 4) });
        break;
      case NDP_OPTION_NONCE:
        options.push({ kind: 'nonce', nonce: body });
        break;
      default:
        options.push({ kind: 'other', type, data: body });
    }
    i += length;
  }
  return parsed(options);
}

function optionLength(option: NdpOption): number {
  switch (option.kind) {
    case 'source-link-layer':
    case 'target-link-layer':
    case 'mtu':
      return 8;
    case 'prefix-information':
      return 32;
    case 'redirected-header':
      return (8 + option.packet.length + 7) & ~7;
    case 'nonce':
      return (2 + option.nonce.length + 7) & ~7;
    case 'other':
      return (2 + option.data.length + 7) & ~7;
  }
}

/** Bytes `emitNdpOptions` writes. */
export function ndpOptionsLength(options: readonly NdpOption[]): number {
  let length = 0;
  for (const option of options) length += optionLength(option);
  return length;
}

/** Writes the options in order (each zero-padded to a multiple of 8) and returns their length. */
export function emitNdpOptions(options: readonly NdpOption[], buf: Uint8Array, offset: number): number {
  const total = ndpOptionsLength(options);
  requireSpace(buf, offset, total, 'ndp options');
  let i = offset;
  for (const option of options) {
    const length = optionLength(option);
    requireValid(length <= 255 * 8, `ndp: option of ${length} bytes exceeds 2040`);
    buf.fill(0, i, i + length);
    buf[i + 1] = length / 8;
    switch (option.kind) {
      case 'source-link-layer':
      case 'target-link-layer':
        buf[i] =
          option.kind === 'source-link-layer' ? NDP_OPTION_SOURCE_LINK_LAYER : NDP_OPTION_TARGET_LINK_LAYER;
        writeMac(buf, i + 2, option.mac);
        break;
      case 'prefix-information':
        buf[i] = NDP_OPTION_PREFIX_INFORMATION;
        buf[i + 2] = option.prefixLength;
        buf[i + 3] = (option.onLink ? 0x80 : 0) | (option.autonomous ? 0x40 : 0);
        putU32(buf, i + 4, option.validLifetime);
        putU32(buf, i + 8, option.preferredLifetime);
        writeIpv6(buf, i + 16, option.prefix);
        break;
      case 'redirected-header':
        buf[i] = NDP_OPTION_REDIRECTED_HEADER;
        copyInto(option.packet, buf, i + 8);
        break;
      case 'mtu':
        buf[i] = NDP_OPTION_MTU;
        putU32(buf, i + 4, option.mtu);
        break;
      case 'nonce':
        buf[i] = NDP_OPTION_NONCE;
        copyInto(option.nonce, buf, i + 2);
        break;
      case 'other':
        buf[i] = option.type;
        copyInto(option.data, buf, i + 2);
        break;
    }
    i += length;
  }
  return total;
}

/** The first option of a kind, if any. */
export function findNdpOption<K extends NdpOption['kind']>(
  options: readonly NdpOption[],
  kind: K,
): Extract<NdpOption, { kind: K }> | undefined {
  return options.find((o) => o.kind === kind) as Extract<NdpOption, { kind: K }> | undefined;
}
