/**
 * Congestion Experienced marking in place (RFC 3168 §5), as a router's active queue management does: the
 * ECN field of an IPv4 or IPv6 packet carried in an Ethernet frame (optionally behind one 802.1Q tag)
 * becomes CE when it was ECT(0) or ECT(1). IPv4's header checksum is updated incrementally (RFC 1624
 * equation 3), so the rest of the header need not be read.
 */
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_VLAN } from './ethernet.js';

const ETHERNET_HEADER = 14;
const VLAN_TAG = 4;
const ECN_CE = 3;

/** The ECN field of the IP packet in `frame`, or -1 when the frame carries no IPv4/IPv6 packet. */
export function frameEcnField(frame: Uint8Array): number {
  const ip = ipOffset(frame);
  if (ip < 0) return -1;
  const version = frame[ip]! >>> 4;
  if (version === 4) return frame[ip + 1]! & 3;
  if (version === 6) return (frame[ip + 1]! >>> 4) & 3;
  return -1;
}

/**
 * Marks the IP packet in `frame` CE if it is ECN-capable. Returns true when the packet is now CE (it was
 * ECT, or already CE), false when it is Not-ECT (or not IP): an AQM must then drop it or let it pass.
 */
export function markCongestionExperienced(frame: Uint8Array): boolean {
  const ip = ipOffset(frame);
  if (ip < 0) return false;
  const version = frame[ip]! >>> 4;
  if (version === 4) {
    const tos = frame[ip + 1]!;
    if ((tos & 3) === 0) return false;
    if ((tos & 3) === ECN_CE) return true;
    const marked = tos | ECN_CE;
    frame[ip + 1] = marked;
    // RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), over the 16-bit word holding version/IHL and TOS.
    const high = frame[ip]! << 8;
    const old = high | tos;
    const now = high | marked;
    let sum = (~((frame[ip + 10]! << 8) | frame[ip + 11]!) & 0xffff) + (~old & 0xffff) + now;
    sum = (sum & 0xffff) + (sum >>> 16);
    sum = (sum & 0xffff) + (sum >>> 16);
    const checksum = ~sum & 0xffff;
    frame[ip + 10] = checksum >>> 8;
    frame[ip + 11] = checksum & 0xff;
    return true;
  }
  if (version === 6) {
    // The Traffic Class straddles bytes 0 and 1; its two low bits (ECN) are bits 4-5 of byte 1.
    const ecn = (frame[ip + 1]! >>> 4) & 3;
    if (ecn === 0) return false;
    frame[ip + 1] = frame[ip + 1]! | (ECN_CE << 4);
    return true;
  }
  return false;
}

function ipOffset(frame: Uint8Array): number {
  if (frame.length < ETHERNET_HEADER + 2) return -1;
  let type = (frame[12]! << 8) | frame[13]!;
  let offset = ETHERNET_HEADER;
  if (type === ETHERTYPE_VLAN) {
    if (frame.length < ETHERNET_HEADER + VLAN_TAG + 2) return -1;
    type = (frame[16]! << 8) | frame[17]!;
    offset += VLAN_TAG;
  }
  if (type !== ETHERTYPE_IPV4 && type !== ETHERTYPE_IPV6) return -1;
  const minimum = type === ETHERTYPE_IPV4 ? 20 : 40;
  return frame.length >= offset + minimum ? offset : -1;
}
