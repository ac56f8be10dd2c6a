/**
 * ARP (RFC 826) for IPv4 over Ethernet: hardware type 1, protocol type 0x0800, address lengths 6 and 4.
 * Anything else is well-formed ARP this stack does not speak and is reported as 'unsupported'.
 */

import { type Ipv4Address, type MacAddress, readIpv4, readMac, writeIpv4, writeMac } from './address.js';
import { requireSpace } from './emit-buffer.js';
import { ETHERTYPE_IPV4 } from './ethernet.js';
import { malformed, type ParseResult, parsed } from './parse-result.js';

export const ARP_PACKET_LENGTH = 28;
export const ARP_HARDWARE_ETHERNET = 1;
export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;

export interface ArpPacket {
  /** ARP_REQUEST or ARP_REPLY. */
  operation: number;
  senderMac: MacAddress;
  senderIp: Ipv4Address;
  /** Zero in requests (RFC 826 leaves it unspecified; Linux and RFC 5227 send zero). */
  targetMac: MacAddress;
  targetIp: Ipv4Address;
}

const PROTOCOL = 'arp';

function checkArp(buf: Uint8Array): ParseResult<never> | undefined {
  if (buf.length < ARP_PACKET_LENGTH) {
    return malformed(PROTOCOL, 'truncated', `${buf.length} bytes, an IPv4-over-Ethernet ARP packet needs 28`);
  }
  const hardwareType = (buf[0]! << 8) | buf[1]!;
  const protocolType = (buf[2]! << 8) | buf[3]!;
  if (hardwareType !== ARP_HARDWARE_ETHERNET || protocolType !== ETHERTYPE_IPV4) {
    return malformed(PROTOCOL, 'unsupported', `hardware type ${hardwareType}, protocol type ${protocolType}`);
  }
  if (buf[4] !== 6 || buf[5] !== 4) {
    return malformed(PROTOCOL, 'bad-field', `address lengths ${buf[4]}/${buf[5]}, Ethernet/IPv4 needs 6/4`);
  }
  const operation = (buf[6]! << 8) | buf[7]!;
  if (operation !== ARP_REQUEST && operation !== ARP_REPLY) {
    return malformed(PROTOCOL, 'unsupported', `operation ${operation}`);
  }
  return undefined;
}

/** Zero-copy typed access to a checked ARP packet. */
export class ArpView {
  private constructor(readonly bytes: Uint8Array) {}

  static fromBytes(buf: Uint8Array): ParseResult<ArpView> {
    return checkArp(buf) ?? parsed(new ArpView(buf));
  }

  get operation(): number {
    return (this.bytes[6]! << 8) | this.bytes[7]!;
  }

  get senderMac(): MacAddress {
    return readMac(this.bytes, 8);
  }

  get senderIp(): Ipv4Address {
    return readIpv4(this.bytes, 14);
  }

  get targetMac(): MacAddress {
    return readMac(this.bytes, 18);
  }

  get targetIp(): Ipv4Address {
    return readIpv4(this.bytes, 24);
  }
}

/** Parses an ARP packet (the Ethernet payload; trailing padding is ignored). Never throws. */
export function parseArp(buf: Uint8Array): ParseResult<ArpPacket> {
  const error = checkArp(buf);
  if (error) return error;
  return parsed({
    operation: (buf[6]! << 8) | buf[7]!,
    senderMac: readMac(buf, 8),
    senderIp: readIpv4(buf, 14),
    targetMac: readMac(buf, 18),
    targetIp: readIpv4(buf, 24),
  });
}

/** Writes the 28-byte packet at `offset` and returns 28. */
export function emitArp(p: ArpPacket, buf: Uint8Array, offset: number): number {
  requireSpace(buf, offset, ARP_PACKET_LENGTH, 'arp packet');
  buf[offset] = 0;
  buf[offset + 1] = ARP_HARDWARE_ETHERNET;
  buf[offset + 2] = ETHERTYPE_IPV4 >>> 8;
  buf[offset + 3] = ETHERTYPE_IPV4 & 0xff;
  buf[offset + 4] = 6;
  buf[offset + 5] = 4;
  buf[offset + 6] = p.operation >>> 8;
  buf[offset + 7] = p.operation;
  writeMac(buf, offset + 8, p.senderMac);
  writeIpv4(buf, offset + 14, p.senderIp);
  writeMac(buf, offset + 18, p.targetMac);
  writeIpv4(buf, offset + 24, p.targetIp);
  return ARP_PACKET_LENGTH;
}
