/**
 * Loads test/fixtures/kernel-basic.pcap (made by test/fixtures/capture-kernel.sh) and decodes or re-emits
 * its frames layer by layer with the wire parsers and emitters.
 */
import { readFileSync } from 'node:fs';
import { readPcap } from '../../src/pcap/pcap-reader.js';
import { type ArpPacket, emitArp, parseArp } from '../../src/wire/arp.js';
import {
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  type EthernetFrame,
  emitEthernetHeader,
  parseEthernet,
} from '../../src/wire/ethernet.js';
import { emitIcmp, type IcmpMessage, parseIcmp } from '../../src/wire/icmp.js';
import {
  emitIpv4Header,
  IP_PROTOCOL_ICMP,
  IP_PROTOCOL_TCP,
  IP_PROTOCOL_UDP,
  type Ipv4Packet,
  parseIpv4,
} from '../../src/wire/ipv4.js';
import type { ParseResult } from '../../src/wire/parse-result.js';
import { emitTcp, parseTcp, type TcpSegment } from '../../src/wire/tcp.js';
import { emitUdp, parseUdp, type UdpDatagram } from '../../src/wire/udp.js';

export function kernelCapture(): Uint8Array {
  return new Uint8Array(readFileSync(new URL('../fixtures/kernel-basic.pcap', import.meta.url)));
}

export function kernelFrames(): Uint8Array[] {
  const file = readPcap(kernelCapture());
  if (!file.ok) throw new Error(`fixture unreadable: ${file.error.message}`);
  return file.value.records.map((record) => record.data);
}

export interface DecodedFrame {
  ethernet: EthernetFrame;
  arp?: ArpPacket;
  ipv4?: Ipv4Packet;
  icmp?: IcmpMessage;
  udp?: UdpDatagram;
  tcp?: TcpSegment;
}

function value<T>(result: ParseResult<T>, what: string): T {
  if (!result.ok) throw new Error(`${what}: ${result.error.kind}: ${result.error.message}`);
  return result.value;
}

export function isFragment(ip: Ipv4Packet): boolean {
  return ip.moreFragments || ip.fragmentOffset > 0;
}

/** Parses every layer, verifying every checksum; throws (in tests only) on any parse error. */
export function decodeFrame(data: Uint8Array): DecodedFrame {
  const ethernet = value(parseEthernet(data), 'ethernet');
  const decoded: DecodedFrame = { ethernet };
  if (ethernet.etherType === ETHERTYPE_ARP) {
    decoded.arp = value(parseArp(ethernet.payload), 'arp');
  } else if (ethernet.etherType === ETHERTYPE_IPV4) {
    const ip = value(parseIpv4(ethernet.payload), 'ipv4');
    decoded.ipv4 = ip;
    if (!isFragment(ip)) {
      if (ip.protocol === IP_PROTOCOL_ICMP) decoded.icmp = value(parseIcmp(ip.payload), 'icmp');
      if (ip.protocol === IP_PROTOCOL_UDP) decoded.udp = value(parseUdp(ip.payload, ip.src, ip.dst), 'udp');
      if (ip.protocol === IP_PROTOCOL_TCP) decoded.tcp = value(parseTcp(ip.payload, ip.src, ip.dst), 'tcp');
    }
  }
  return decoded;
}

/** Builds the frame again from the plain representations only, computing every checksum anew. */
export function reemitFrame(decoded: DecodedFrame, frameLength: number): Uint8Array {
  const out = new Uint8Array(frameLength);
  let offset = emitEthernetHeader(decoded.ethernet, out, 0);
  if (decoded.arp) emitArp(decoded.arp, out, offset);
  const ip = decoded.ipv4;
  if (ip) {
    offset += emitIpv4Header(ip, ip.payload.length, out, offset);
    if (decoded.icmp) emitIcmp(decoded.icmp, out, offset);
    else if (decoded.udp) emitUdp(decoded.udp, ip.src, ip.dst, out, offset);
    else if (decoded.tcp) emitTcp(decoded.tcp, ip.src, ip.dst, out, offset);
    else out.set(ip.payload, offset); // a fragment: its data is opaque until reassembled
  }
  return out;
}
