/**
 * Hand-built Ethernet/ARP/IPv4/ICMP/UDP frames and checks for TAP tests. Built byte by byte so the tests
 * do not depend on the stack's own emitters: the kernel is the judge of whether they are right.
 */

import {
  type Ipv4Address,
  type MacAddress,
  readIpv4,
  readMac,
  writeIpv4,
  writeMac,
} from '../../../src/wire/address.js';
import {
  checksumAdd,
  checksumFinish,
  internetChecksum,
  pseudoHeaderSum,
} from '../../../src/wire/checksum.js';

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const IP_PROTOCOL_ICMP = 1;
export const IP_PROTOCOL_UDP = 17;

export function etherType(frame: Uint8Array): number {
  return (frame[12]! << 8) | frame[13]!;
}

export function readU16(buf: Uint8Array, offset: number): number {
  return (buf[offset]! << 8) | buf[offset + 1]!;
}

function writeU16(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = value >>> 8;
  buf[offset + 1] = value;
}

export interface ArpFields {
  dst: MacAddress;
  src: MacAddress;
  hardwareType: number;
  protocolType: number;
  hardwareLength: number;
  protocolLength: number;
  operation: number;
  senderMac: MacAddress;
  senderIp: Ipv4Address;
  targetMac: MacAddress;
  targetIp: Ipv4Address;
}

/** The fields of an Ethernet frame carrying ARP (RFC 826). */
export function readArp(frame: Uint8Array): ArpFields {
  return {
    dst: readMac(frame, 0),
    src: readMac(frame, 6),
    hardwareType: readU16(frame, 14),
    protocolType: readU16(frame, 16),
    hardwareLength: frame[18]!,
    protocolLength: frame[19]!,
    operation: readU16(frame, 20),
    senderMac: readMac(frame, 22),
    senderIp: readIpv4(frame, 28),
    targetMac: readMac(frame, 32),
    targetIp: readIpv4(frame, 38),
  };
}

/** An ARP reply (operation 2) from `mac`/`ip` to the requester. */
export function arpReply(mac: MacAddress, ip: Ipv4Address, toMac: MacAddress, toIp: Ipv4Address): Uint8Array {
  const frame = new Uint8Array(42);
  writeMac(frame, 0, toMac);
  writeMac(frame, 6, mac);
  writeU16(frame, 12, ETHERTYPE_ARP);
  writeU16(frame, 14, 1); // Ethernet
  writeU16(frame, 16, ETHERTYPE_IPV4);
  frame[18] = 6;
  frame[19] = 4;
  writeU16(frame, 20, 2);
  writeMac(frame, 22, mac);
  writeIpv4(frame, 28, ip);
  writeMac(frame, 32, toMac);
  writeIpv4(frame, 38, toIp);
  return frame;
}

export interface Ipv4Fields {
  version: number;
  headerLength: number;
  totalLength: number;
  protocol: number;
  src: Ipv4Address;
  dst: Ipv4Address;
  headerChecksumValid: boolean;
}

export function readIpv4Header(frame: Uint8Array): Ipv4Fields {
  const headerLength = (frame[14]! & 0x0f) * 4;
  return {
    version: frame[14]! >>> 4,
    headerLength,
    totalLength: readU16(frame, 16),
    protocol: frame[23]!,
    src: readIpv4(frame, 26),
    dst: readIpv4(frame, 30),
    headerChecksumValid: internetChecksum(frame, 14, headerLength) === 0,
  };
}

/** True when the UDP checksum over pseudo-header, header and payload verifies (RFC 768). */
export function udpChecksumValid(frame: Uint8Array): boolean {
  const ip = readIpv4Header(frame);
  const udpStart = 14 + ip.headerLength;
  const udpLength = readU16(frame, udpStart + 4);
  if (readU16(frame, udpStart + 6) === 0) return false; // the kernel always sends a checksum
  const sum = checksumAdd(
    pseudoHeaderSum(ip.src, ip.dst, IP_PROTOCOL_UDP, udpLength),
    frame,
    udpStart,
    udpLength,
  );
  return checksumFinish(sum) === 0;
}

/** The ICMP echo reply (RFC 792) answering `request`, sent from `mac`. */
export function icmpEchoReplyFor(request: Uint8Array, mac: MacAddress): Uint8Array {
  const ip = readIpv4Header(request);
  const reply = request.slice(0, 14 + ip.totalLength);
  writeMac(reply, 0, readMac(request, 6));
  writeMac(reply, 6, mac);
  writeIpv4(reply, 26, ip.dst);
  writeIpv4(reply, 30, ip.src);
  reply[22] = 64; // TTL
  writeU16(reply, 24, 0);
  writeU16(reply, 24, internetChecksum(reply, 14, ip.headerLength));
  const icmp = 14 + ip.headerLength;
  reply[icmp] = 0; // echo reply
  writeU16(reply, icmp + 2, 0);
  writeU16(reply, icmp + 2, internetChecksum(reply, icmp, ip.totalLength - ip.headerLength));
  return reply;
}

/** A UDP datagram in an IPv4 packet in an Ethernet frame, checksums filled in. */
export function udpFrame(fields: {
  dstMac: MacAddress;
  srcMac: MacAddress;
  src: Ipv4Address;
  dst: Ipv4Address;
  srcPort: number;
  dstPort: number;
  id: number;
  payload: Uint8Array;
}): Uint8Array {
  const udpLength = 8 + fields.payload.length;
  const frame = new Uint8Array(14 + 20 + udpLength);
  writeMac(frame, 0, fields.dstMac);
  writeMac(frame, 6, fields.srcMac);
  writeU16(frame, 12, ETHERTYPE_IPV4);
  frame[14] = 0x45;
  writeU16(frame, 16, 20 + udpLength);
  writeU16(frame, 18, fields.id);
  frame[20] = 0x40; // don't fragment
  frame[22] = 64;
  frame[23] = IP_PROTOCOL_UDP;
  writeIpv4(frame, 26, fields.src);
  writeIpv4(frame, 30, fields.dst);
  writeU16(frame, 24, internetChecksum(frame, 14, 20));
  writeU16(frame, 34, fields.srcPort);
  writeU16(frame, 36, fields.dstPort);
  writeU16(frame, 38, udpLength);
  frame.set(fields.payload, 42);
  const sum = checksumAdd(
    pseudoHeaderSum(fields.src, fields.dst, IP_PROTOCOL_UDP, udpLength),
    frame,
    34,
    udpLength,
  );
  writeU16(frame, 40, checksumFinish(sum) || 0xffff);
  return frame;
}
