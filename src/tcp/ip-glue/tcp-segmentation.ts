/**
 * TCP segmentation in software (what Linux calls GSO): one IPv4 or IPv6 TCP packet larger than the MTU, as a TSO
 * sender builds it, cut into packets whose payload is at most `segmentSize` bytes each — exactly what a
 * NIC or the kernel's TAP driver does with such a packet (RFC 9293 §3.7: TCP may cut its byte stream at
 * any point; the receiver sees ordinary segments).
 *
 * Used where a large packet meets a link that cannot take it whole: a TSO send whose route lost its
 * offloading device, one waiting for ARP (the queue holds plain frames), and a large packet received from
 * an offloading device that is forwarded. Each piece copies the IP header and the TCP header with its
 * options; per piece the sequence number advances by the payload before it, the IP identification by one
 * (RFC 6864 §4.2 leaves the ID of DF datagrams free; consecutive ones are what segmentation hardware
 * gives), PSH and FIN stay on the last piece only and CWR on the first only (RFC 3168 §6.1.2: CWR marks
 * the first new segment), and both checksums are computed in full.
 */
import { checksumAdd, checksumFinish, internetChecksum, pseudoHeaderSum } from '../../wire/checksum.js';
import { IP_PROTOCOL_TCP } from '../../wire/ipv4.js';
import { type IpAddress, readIpv6 } from '../../wire/ipv6-address.js';
import { TCP_CWR, TCP_FIN, TCP_PSH, tcpHeaderLengthAt } from '../../wire/tcp.js';

/**
 * Cuts the TCP packet `datagram` (IPv4, or IPv6 with TCP directly behind the fixed header; header to end
 * of payload, exactly its length) into frames, each with `linkHeaderLength` bytes left in front for the
 * link header. Returns undefined when `datagram` is not such an unfragmented TCP packet with consistent
 * header lengths, or `segmentSize` is not positive. A packet whose payload fits one segment comes back as
 * one (checksummed) frame.
 */
export function segmentTcpPacket(
  datagram: Uint8Array,
  segmentSize: number,
  linkHeaderLength: number,
): Uint8Array[] | undefined {
  if (datagram.length < 40 || !(segmentSize > 0)) return undefined;
  const version = datagram[0]! >>> 4;
  if (version === 6) return segmentTcp6Packet(datagram, segmentSize, linkHeaderLength);
  if (version !== 4) return undefined;
  const ipHeaderLength = (datagram[0]! & 0x0f) * 4;
  const totalLength = (datagram[2]! << 8) | datagram[3]!;
  if (datagram[9] !== IP_PROTOCOL_TCP || totalLength !== datagram.length || ipHeaderLength < 20) {
    return undefined;
  }
  if ((datagram[6]! & 0x3f) !== 0 || datagram[7] !== 0) return undefined; // a fragment
  if (ipHeaderLength + 20 > totalLength) return undefined;
  const tcpHeaderLength = tcpHeaderLengthAt(datagram, ipHeaderLength);
  const headersLength = ipHeaderLength + tcpHeaderLength;
  if (tcpHeaderLength < 20 || headersLength > totalLength) return undefined;

  const id = (datagram[4]! << 8) | datagram[5]!;
  const src = readUint32(datagram, 12);
  const dst = readUint32(datagram, 16);
  return cut(
    datagram,
    ipHeaderLength,
    headersLength,
    segmentSize,
    linkHeaderLength,
    src,
    dst,
    (frame, ip, length, i) => {
      // IP: total length, identification, header checksum.
      frame[ip + 2] = length >>> 8;
      frame[ip + 3] = length & 0xff;
      const pieceId = (id + i) & 0xffff;
      frame[ip + 4] = pieceId >>> 8;
      frame[ip + 5] = pieceId & 0xff;
      frame[ip + 10] = 0;
      frame[ip + 11] = 0;
      const ipChecksum = internetChecksum(frame, ip, ipHeaderLength);
      frame[ip + 10] = ipChecksum >>> 8;
      frame[ip + 11] = ipChecksum & 0xff;
    },
  );
}

/**
 * The IPv6 form (RFC 8200 §3): the fixed header is copied with its Payload Length set per piece; it has no
 * checksum and no identification (segmentation never makes fragments). Only packets whose Next Header is
 * TCP are cut: extension headers would need to be walked and are never sent with TSO.
 */
function segmentTcp6Packet(
  datagram: Uint8Array,
  segmentSize: number,
  linkHeaderLength: number,
): Uint8Array[] | undefined {
  const payloadLength = (datagram[4]! << 8) | datagram[5]!;
  if (datagram[6] !== IP_PROTOCOL_TCP || IPV6_HEADER + payloadLength !== datagram.length) return undefined;
  if (payloadLength < 20) return undefined;
  const tcpHeaderLength = tcpHeaderLengthAt(datagram, IPV6_HEADER);
  const headersLength = IPV6_HEADER + tcpHeaderLength;
  if (tcpHeaderLength < 20 || headersLength > datagram.length) return undefined;
  const src = readIpv6(datagram, 8);
  const dst = readIpv6(datagram, 24);
  return cut(
    datagram,
    IPV6_HEADER,
    headersLength,
    segmentSize,
    linkHeaderLength,
    src,
    dst,
    (frame, ip, length) => {
      const pieceLength = length - IPV6_HEADER;
      frame[ip + 4] = pieceLength >>> 8;
      frame[ip + 5] = pieceLength & 0xff;
    },
  );
}

const IPV6_HEADER = 40;

/**
 * The common part: per piece, the headers copied and `fixIp` applied, then the TCP sequence number,
 * flags and checksum.
 */
function cut(
  datagram: Uint8Array,
  ipHeaderLength: number,
  headersLength: number,
  segmentSize: number,
  linkHeaderLength: number,
  src: IpAddress,
  dst: IpAddress,
  fixIp: (frame: Uint8Array, ip: number, length: number, index: number) => void,
): Uint8Array[] {
  const payloadLength = datagram.length - headersLength;
  const count = Math.max(1, Math.ceil(payloadLength / segmentSize));
  const seq = readInt32(datagram, ipHeaderLength + 4);
  const flags = datagram[ipHeaderLength + 13]!;
  const frames: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const offset = i * segmentSize;
    const chunk = Math.min(segmentSize, payloadLength - offset);
    const length = headersLength + chunk;
    const frame = new Uint8Array(linkHeaderLength + length);
    const ip = linkHeaderLength;
    const tcp = ip + ipHeaderLength;
    frame.set(datagram.subarray(0, headersLength), ip);
    frame.set(datagram.subarray(headersLength + offset, headersLength + offset + chunk), ip + headersLength);
    fixIp(frame, ip, length, i);
    // TCP: sequence number, flags, checksum.
    const pieceSeq = (seq + offset) | 0;
    frame[tcp + 4] = pieceSeq >>> 24;
    frame[tcp + 5] = (pieceSeq >>> 16) & 0xff;
    frame[tcp + 6] = (pieceSeq >>> 8) & 0xff;
    frame[tcp + 7] = pieceSeq & 0xff;
    let pieceFlags = flags;
    if (i < count - 1) pieceFlags &= ~(TCP_FIN | TCP_PSH);
    if (i > 0) pieceFlags &= ~TCP_CWR;
    frame[tcp + 13] = pieceFlags;
    frame[tcp + 16] = 0;
    frame[tcp + 17] = 0;
    const tcpLength = length - ipHeaderLength;
    const tcpChecksum = checksumFinish(
      checksumAdd(pseudoHeaderSum(src, dst, IP_PROTOCOL_TCP, tcpLength), frame, tcp, tcpLength),
    );
    frame[tcp + 16] = tcpChecksum >>> 8;
    frame[tcp + 17] = tcpChecksum & 0xff;
    frames.push(frame);
  }
  return frames;
}

/** A 32-bit sequence number in the signed form (tcp/seq.ts): a small integer, never a heap number. */
function readInt32(buf: Uint8Array, offset: number): number {
  return (buf[offset]! << 24) | (buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!;
}

function readUint32(buf: Uint8Array, offset: number): number {
  return readInt32(buf, offset) >>> 0;
}
