/**
 * A whole Ethernet + IPv4 + UDP frame built or read in one call, for a protocol that must speak on a
 * device before the stack has an address there — a DHCP client in INIT (RFC 2131 §4.1: from 0.0.0.0 to
 * the broadcast address) — and for tests that play such a peer.
 */
import type { Ipv4Address, MacAddress } from './address.js';
import { ETHERNET_HEADER_LENGTH, ETHERTYPE_IPV4, emitEthernetHeader, parseEthernet } from './ethernet.js';
import { emitIpv4Header, IP_PROTOCOL_UDP, parseIpv4 } from './ipv4.js';
import { emitUdp, parseUdp, UDP_HEADER_LENGTH } from './udp.js';

export interface UdpFrameAddresses {
  srcMac: MacAddress;
  dstMac: MacAddress;
  src: Ipv4Address;
  dst: Ipv4Address;
  srcPort: number;
  dstPort: number;
}

/** A frame carrying `payload` (IPv4 without options, TTL 64, UDP checksum computed). */
export function emitUdpFrame(a: UdpFrameAddresses, payload: Uint8Array): Uint8Array {
  const ipLength = 20 + UDP_HEADER_LENGTH + payload.length;
  const frame = new Uint8Array(ETHERNET_HEADER_LENGTH + ipLength);
  emitEthernetHeader({ dst: a.dstMac, src: a.srcMac, etherType: ETHERTYPE_IPV4 }, frame, 0);
  emitIpv4Header(
    {
      tos: 0,
      id: 0,
      dontFragment: false,
      moreFragments: false,
      fragmentOffset: 0,
      ttl: 64,
      protocol: IP_PROTOCOL_UDP,
      src: a.src,
      dst: a.dst,
    },
    UDP_HEADER_LENGTH + payload.length,
    frame,
    ETHERNET_HEADER_LENGTH,
  );
  emitUdp(
    { srcPort: a.srcPort, dstPort: a.dstPort, payload },
    a.src,
    a.dst,
    frame,
    ETHERNET_HEADER_LENGTH + 20,
    {
      computeChecksum: true,
    },
  );
  return frame;
}

/**
 * The UDP datagram in a frame (IPv4), or undefined for anything else. The UDP checksum is verified
 * unless `verifyChecksum` is false (a device that vouches for it may carry only a partial sum).
 */
export function parseUdpFrame(
  frame: Uint8Array,
  verifyChecksum = true,
): { src: Ipv4Address; dst: Ipv4Address; srcPort: number; dstPort: number; payload: Uint8Array } | undefined {
  const ethernet = parseEthernet(frame);
  if (!ethernet.ok || ethernet.value.etherType !== ETHERTYPE_IPV4) return undefined;
  const ip = parseIpv4(ethernet.value.payload);
  if (!ip.ok || ip.value.protocol !== IP_PROTOCOL_UDP) return undefined;
  const udp = parseUdp(ip.value.payload, ip.value.src, ip.value.dst, { verifyChecksum });
  if (!udp.ok) return undefined;
  return { src: ip.value.src, dst: ip.value.dst, ...udp.value };
}
