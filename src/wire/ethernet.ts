/**
 * Ethernet II framing (IEEE 802.3 clause 3.2.6 "Length/Type" used as a type): destination, source,
 * EtherType, payload. Frames reach the stack without preamble or FCS, as a NIC or TAP device delivers them.
 * A frame may be shorter than the 60-byte minimum (software links do not pad) and its payload may carry
 * padding after the network-layer packet; the network layer bounds itself by its own length field.
 */

import { type MacAddress, readMac, writeMac } from './address.js';
import { copyInto, requireSpace } from './emit-buffer.js';
import { malformed, type ParseResult, parsed } from './parse-result.js';

export const ETHERNET_HEADER_LENGTH = 14;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_VLAN = 0x8100;
/** Values below this are IEEE 802.3 length fields, not EtherTypes (IEEE 802.3 clause 3.2.6). */
export const ETHERTYPE_MIN = 0x0600;
/** Largest payload of a standard (non-jumbo) frame. */
export const ETHERNET_MTU = 1500;

export interface EthernetHeader {
  dst: MacAddress;
  src: MacAddress;
  etherType: number;
}

export interface EthernetFrame extends EthernetHeader {
  /** Everything after the header, padding included; a view into the frame. */
  payload: Uint8Array;
}

const PROTOCOL = 'ethernet';

function checkEthernet(buf: Uint8Array): ParseResult<never> | undefined {
  if (buf.length < ETHERNET_HEADER_LENGTH) {
    return malformed(
      PROTOCOL,
      'truncated',
      `frame of ${buf.length} bytes is shorter than the 14-byte header`,
    );
  }
  const etherType = (buf[12]! << 8) | buf[13]!;
  if (etherType < ETHERTYPE_MIN) {
    return malformed(PROTOCOL, 'unsupported', `802.3 length field ${etherType}: not an Ethernet II frame`);
  }
  return undefined;
}

/** Zero-copy typed access to an Ethernet II frame whose length has been checked. */
export class EthernetView {
  private constructor(readonly bytes: Uint8Array) {}

  /** Checks the frame once; the accessors then read without further checks. */
  static fromBytes(buf: Uint8Array): ParseResult<EthernetView> {
    return checkEthernet(buf) ?? parsed(new EthernetView(buf));
  }

  get dst(): MacAddress {
    return readMac(this.bytes, 0);
  }

  set dst(mac: MacAddress) {
    writeMac(this.bytes, 0, mac);
  }

  get src(): MacAddress {
    return readMac(this.bytes, 6);
  }

  set src(mac: MacAddress) {
    writeMac(this.bytes, 6, mac);
  }

  get etherType(): number {
    return (this.bytes[12]! << 8) | this.bytes[13]!;
  }

  get payload(): Uint8Array {
    return this.bytes.subarray(ETHERNET_HEADER_LENGTH);
  }
}

/** The EtherType of the frame at `frame[0]` (which must hold at least the 14-byte header). */
export function etherTypeAt(frame: Uint8Array): number {
  return (frame[12]! << 8) | frame[13]!;
}

/**
 * True when the destination of the frame at `frame[0]` is a group (multicast or broadcast) address: the
 * I/G bit, the least significant bit of its first octet (IEEE 802 addressing; `isGroupMac`).
 */
export function isGroupDestinationAt(frame: Uint8Array): boolean {
  return (frame[0]! & 1) === 1;
}

/**
 * True when the destination of the frame at `frame[0]` is the MAC whose two 24-bit halves are `high` and
 * `low` (see `macHalves`). Read in halves, a MAC is two small integers: as one 48-bit number it is a heap
 * number, an allocation per frame wherever it leaves a register.
 */
export function destinationIsAt(frame: Uint8Array, high: number, low: number): boolean {
  return (
    ((frame[0]! << 16) | (frame[1]! << 8) | frame[2]!) === high &&
    ((frame[3]! << 16) | (frame[4]! << 8) | frame[5]!) === low
  );
}

/**
 * Writes the destination MAC whose two 24-bit halves are `high` and `low` (see `macHalves`) at `frame[0]`:
 * for a MAC written into every frame sent to a neighbour, which as one 48-bit number would be a heap
 * number boxed afresh wherever it crossed a call not inlined.
 */
export function writeDestinationAt(frame: Uint8Array, high: number, low: number): void {
  writeMacHalvesAt(frame, 0, high, low);
}

/** Writes the MAC whose 24-bit halves are `high` and `low` at `frame[offset]` (six bytes). */
function writeMacHalvesAt(frame: Uint8Array, offset: number, high: number, low: number): void {
  frame[offset] = high >>> 16;
  frame[offset + 1] = high >>> 8;
  frame[offset + 2] = high;
  frame[offset + 3] = low >>> 16;
  frame[offset + 4] = low >>> 8;
  frame[offset + 5] = low;
}

/** A MAC's upper and lower 24 bits, for `destinationIsAt` and `writeDestinationAt`. */
export function macHalves(mac: number): { high: number; low: number } {
  return { high: Math.floor(mac / 0x100_0000), low: mac % 0x100_0000 };
}

/** Parses an Ethernet II frame. Never throws. */
export function parseEthernet(buf: Uint8Array): ParseResult<EthernetFrame> {
  const error = checkEthernet(buf);
  if (error) return error;
  return parsed({
    dst: readMac(buf, 0),
    src: readMac(buf, 6),
    etherType: (buf[12]! << 8) | buf[13]!,
    payload: buf.subarray(ETHERNET_HEADER_LENGTH),
  });
}

/**
 * Writes the 14-byte header at `frame[0]`, the source MAC given as its 24-bit halves (see `macHalves`).
 * For the send path, once per frame: a header record built for `emitEthernetHeader` was an object per
 * frame, and a 48-bit source MAC a heap number wherever it crossed a call.
 */
export function writeEthernetHeaderAt(
  frame: Uint8Array,
  dst: MacAddress,
  srcHigh: number,
  srcLow: number,
  etherType: number,
): void {
  requireSpace(frame, 0, ETHERNET_HEADER_LENGTH, 'ethernet header');
  writeMac(frame, 0, dst);
  writeMacHalvesAt(frame, 6, srcHigh, srcLow);
  frame[12] = etherType >>> 8;
  frame[13] = etherType;
}

/** Writes the 14-byte header at `offset` and returns 14. The payload follows at `offset + 14`. */
export function emitEthernetHeader(h: EthernetHeader, buf: Uint8Array, offset: number): number {
  requireSpace(buf, offset, ETHERNET_HEADER_LENGTH, 'ethernet header');
  writeMac(buf, offset, h.dst);
  writeMac(buf, offset + 6, h.src);
  buf[offset + 12] = h.etherType >>> 8;
  buf[offset + 13] = h.etherType;
  return ETHERNET_HEADER_LENGTH;
}

/** Writes header and payload (copied unless it already sits in place) and returns the frame length. */
export function emitEthernet(frame: EthernetFrame, buf: Uint8Array, offset: number): number {
  requireSpace(buf, offset, ETHERNET_HEADER_LENGTH + frame.payload.length, 'ethernet frame');
  emitEthernetHeader(frame, buf, offset);
  copyInto(frame.payload, buf, offset + ETHERNET_HEADER_LENGTH);
  return ETHERNET_HEADER_LENGTH + frame.payload.length;
}
