/**
 * Loads test/fixtures/kernel-ipv6.pcap (made by test/fixtures/capture-kernel-ipv6.sh) and decodes or
 * re-emits its frames layer by layer with the wire parsers and emitters.
 */
import { readFileSync } from 'node:fs';
import { readPcap } from '../../src/pcap/pcap-reader.js';
import {
  ETHERTYPE_IPV6,
  type EthernetFrame,
  emitEthernetHeader,
  parseEthernet,
} from '../../src/wire/ethernet.js';
import { emitIcmpv6, type Icmpv6Message, parseIcmpv6 } from '../../src/wire/icmpv6.js';
import {
  emitIpv6Header,
  IPV6_NEXT_DESTINATION_OPTIONS,
  IPV6_NEXT_FRAGMENT,
  IPV6_NEXT_HOP_BY_HOP,
  IPV6_NEXT_ICMPV6,
  IPV6_NEXT_TCP,
  IPV6_NEXT_UDP,
  type Ipv6Packet,
  parseIpv6,
} from '../../src/wire/ipv6.js';
import {
  emitIpv6FragmentHeader,
  emitIpv6OptionsHeader,
  type Ipv6ExtensionHeader,
  type Ipv6FragmentHeader,
  type Ipv6Option,
  parseIpv6FragmentHeader,
  parseIpv6Options,
  walkIpv6Headers,
} from '../../src/wire/ipv6-extension-headers.js';
import type { ParseResult } from '../../src/wire/parse-result.js';
import { emitTcp, parseTcp, type TcpSegment } from '../../src/wire/tcp.js';
import { emitUdp, parseUdp, type UdpDatagram } from '../../src/wire/udp.js';

export function kernelIpv6Capture(): Uint8Array {
  return new Uint8Array(readFileSync(new URL('../fixtures/kernel-ipv6.pcap', import.meta.url)));
}

export function kernelIpv6Frames(): Uint8Array[] {
  const file = readPcap(kernelIpv6Capture());
  if (!file.ok) throw new Error(`fixture unreadable: ${file.error.message}`);
  return file.value.records.map((record) => record.data);
}

export interface DecodedIpv6Frame {
  ethernet: EthernetFrame;
  ipv6: Ipv6Packet;
  extensions: Ipv6ExtensionHeader[];
  /** Options of each Hop-by-Hop or Destination Options header, in order. */
  options: Ipv6Option[][];
  fragment?: Ipv6FragmentHeader;
  /** Bytes after the extension headers; a fragment's data is opaque. */
  upper: Uint8Array;
  icmpv6?: Icmpv6Message;
  udp?: UdpDatagram;
  tcp?: TcpSegment;
}

function value<T>(result: ParseResult<T>, what: string): T {
  if (!result.ok) throw new Error(`${what}: ${result.error.kind}: ${result.error.message}`);
  return result.value;
}

/** Parses every layer, verifying every checksum; throws (in tests only) on any parse error. */
export function decodeIpv6Frame(data: Uint8Array): DecodedIpv6Frame {
  const ethernet = value(parseEthernet(data), 'ethernet');
  if (ethernet.etherType !== ETHERTYPE_IPV6)
    throw new Error(`EtherType 0x${ethernet.etherType.toString(16)}`);
  const ipv6 = value(parseIpv6(ethernet.payload), 'ipv6');
  const chain = value(walkIpv6Headers(ipv6.payload, ipv6.nextHeader), 'extension headers');
  const decoded: DecodedIpv6Frame = {
    ethernet,
    ipv6,
    extensions: chain.headers,
    options: [],
    upper: ipv6.payload.subarray(chain.upperLayerOffset),
  };
  for (const header of chain.headers) {
    if (header.protocol === IPV6_NEXT_FRAGMENT) decoded.fragment = parseIpv6FragmentHeader(header);
    else decoded.options.push(value(parseIpv6Options(header), 'options'));
  }
  if (decoded.fragment) return decoded;
  const { src, dst } = ipv6;
  const protocol = chain.upperLayerProtocol;
  if (protocol === IPV6_NEXT_ICMPV6) decoded.icmpv6 = value(parseIcmpv6(decoded.upper, src, dst), 'icmpv6');
  if (protocol === IPV6_NEXT_UDP) decoded.udp = value(parseUdp(decoded.upper, src, dst), 'udp');
  if (protocol === IPV6_NEXT_TCP) decoded.tcp = value(parseTcp(decoded.upper, src, dst), 'tcp');
  return decoded;
}

/** Builds the frame again from the plain representations only, computing every checksum anew. */
export function reemitIpv6Frame(decoded: DecodedIpv6Frame, frameLength: number): Uint8Array {
  const out = new Uint8Array(frameLength);
  let offset = emitEthernetHeader(decoded.ethernet, out, 0);
  const { ipv6 } = decoded;
  offset += emitIpv6Header(ipv6, ipv6.payload.length, out, offset);
  let optionsIndex = 0;
  for (const header of decoded.extensions) {
    if (header.protocol === IPV6_NEXT_FRAGMENT) {
      offset += emitIpv6FragmentHeader(decoded.fragment!, out, offset);
    } else if (
      header.protocol === IPV6_NEXT_HOP_BY_HOP ||
      header.protocol === IPV6_NEXT_DESTINATION_OPTIONS
    ) {
      offset += emitIpv6OptionsHeader(header.nextHeader, decoded.options[optionsIndex++]!, out, offset);
    }
  }
  const { src, dst } = ipv6;
  if (decoded.icmpv6) emitIcmpv6(decoded.icmpv6, src, dst, out, offset);
  else if (decoded.udp) emitUdp(decoded.udp, src, dst, out, offset);
  else if (decoded.tcp) emitTcp(decoded.tcp, src, dst, out, offset);
  else out.set(decoded.upper, offset);
  return out;
}
