/**
 * Hand-built, checksum-correct Ethernet frames for link and capture tests. Built here from first
 * principles (not with src/wire) so that tshark validates an independent encoder, and so these tests do
 * not depend on the stack's own emitters.
 */

export const MAC_A = 0x02_00_00_00_00_0a;
export const MAC_B = 0x02_00_00_00_00_0b;
export const MAC_C = 0x02_00_00_00_00_0c;
export const MAC_BROADCAST = 0xff_ff_ff_ff_ff_ff;
export const IP_A = 0x0a_00_00_01; // 10.0.0.1
export const IP_B = 0x0a_00_00_02; // 10.0.0.2

function putMac(buf: Uint8Array, offset: number, mac: number): void {
  for (let i = 5; i >= 0; i--) {
    buf[offset + i] = mac % 256;
    mac = Math.floor(mac / 256);
  }
}

function put16(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = value >>> 8;
  buf[offset + 1] = value;
}

function put32(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = value >>> 24;
  buf[offset + 1] = value >>> 16;
  buf[offset + 2] = value >>> 8;
  buf[offset + 3] = value;
}

/** Ones'-complement sum of 16-bit words (RFC 1071), unfolded. */
function sum16(buf: Uint8Array, offset: number, length: number, initial = 0): number {
  let sum = initial;
  for (let i = 0; i + 1 < length; i += 2) sum += (buf[offset + i]! << 8) | buf[offset + i + 1]!;
  if (length % 2 === 1) sum += buf[offset + length - 1]! << 8;
  return sum;
}

function finish(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

function pseudoHeader(src: number, dst: number, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}

export function ethernetFrame(dst: number, src: number, etherType: number, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(14 + payload.length);
  putMac(frame, 0, dst);
  putMac(frame, 6, src);
  put16(frame, 12, etherType);
  frame.set(payload, 14);
  return frame;
}

export function ipv4Packet(
  src: number,
  dst: number,
  protocol: number,
  payload: Uint8Array,
  id = 1,
): Uint8Array {
  const packet = new Uint8Array(20 + payload.length);
  packet[0] = 0x45;
  put16(packet, 2, packet.length);
  put16(packet, 4, id);
  packet[6] = 0x40; // DF
  packet[8] = 64;
  packet[9] = protocol;
  put32(packet, 12, src);
  put32(packet, 16, dst);
  put16(packet, 10, finish(sum16(packet, 0, 20)));
  packet.set(payload, 20);
  return packet;
}

export function udpDatagram(
  src: number,
  dst: number,
  srcPort: number,
  dstPort: number,
  data: Uint8Array,
): Uint8Array {
  const datagram = new Uint8Array(8 + data.length);
  put16(datagram, 0, srcPort);
  put16(datagram, 2, dstPort);
  put16(datagram, 4, datagram.length);
  datagram.set(data, 8);
  const checksum = finish(sum16(datagram, 0, datagram.length, pseudoHeader(src, dst, 17, datagram.length)));
  put16(datagram, 6, checksum === 0 ? 0xffff : checksum);
  return datagram;
}

/** A TCP segment with an MSS option (SYN) or without (other flags). */
export function tcpSegment(
  src: number,
  dst: number,
  fields: { srcPort: number; dstPort: number; seq: number; ack: number; flags: number; window: number },
  data: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const syn = (fields.flags & 0x02) !== 0;
  const headerLength = syn ? 24 : 20;
  const segment = new Uint8Array(headerLength + data.length);
  put16(segment, 0, fields.srcPort);
  put16(segment, 2, fields.dstPort);
  put32(segment, 4, fields.seq);
  put32(segment, 8, fields.ack);
  segment[12] = (headerLength / 4) << 4;
  segment[13] = fields.flags;
  put16(segment, 14, fields.window);
  if (syn) {
    segment[20] = 2; // MSS
    segment[21] = 4;
    put16(segment, 22, 1460);
  }
  segment.set(data, headerLength);
  put16(segment, 16, finish(sum16(segment, 0, segment.length, pseudoHeader(src, dst, 6, segment.length))));
  return segment;
}

export function icmpEchoRequest(identifier: number, sequence: number, data: Uint8Array): Uint8Array {
  const message = new Uint8Array(8 + data.length);
  message[0] = 8;
  put16(message, 4, identifier);
  put16(message, 6, sequence);
  message.set(data, 8);
  put16(message, 2, finish(sum16(message, 0, message.length)));
  return message;
}

export function arpRequest(senderMac: number, senderIp: number, targetIp: number): Uint8Array {
  const arp = new Uint8Array(28);
  put16(arp, 0, 1); // Ethernet
  put16(arp, 2, 0x0800);
  arp[4] = 6;
  arp[5] = 4;
  put16(arp, 6, 1); // request
  putMac(arp, 8, senderMac);
  put32(arp, 14, senderIp);
  put32(arp, 24, targetIp);
  return ethernetFrame(MAC_BROADCAST, senderMac, 0x0806, arp);
}

export function udpFrame(srcMac: number, dstMac: number, length: number, id = 1): Uint8Array {
  const data = new Uint8Array(length);
  for (let i = 0; i < length; i++) data[i] = (i * 7 + id) & 0xff;
  const udp = udpDatagram(IP_A, IP_B, 40000, 9, data);
  return ethernetFrame(dstMac, srcMac, 0x0800, ipv4Packet(IP_A, IP_B, 17, udp, id));
}

/** A small conversation: ARP, ping, a TCP handshake and data, UDP. All checksums correct. */
export function sampleConversation(): Uint8Array[] {
  const text = new TextEncoder();
  const tcp = (from: 'a' | 'b', flags: number, seq: number, ack: number, data?: Uint8Array): Uint8Array => {
    const [srcIp, dstIp, srcMac, dstMac, srcPort, dstPort] =
      from === 'a' ? [IP_A, IP_B, MAC_A, MAC_B, 50000, 80] : [IP_B, IP_A, MAC_B, MAC_A, 80, 50000];
    const segment = tcpSegment(srcIp, dstIp, { srcPort, dstPort, seq, ack, flags, window: 65535 }, data);
    return ethernetFrame(dstMac, srcMac, 0x0800, ipv4Packet(srcIp, dstIp, 6, segment, seq & 0xffff));
  };
  const request = text.encode('GET / HTTP/1.0\r\n\r\n');
  return [
    arpRequest(MAC_A, IP_A, IP_B),
    ethernetFrame(
      MAC_B,
      MAC_A,
      0x0800,
      ipv4Packet(IP_A, IP_B, 1, icmpEchoRequest(7, 1, text.encode('ping'))),
    ),
    tcp('a', 0x02, 1000, 0),
    tcp('b', 0x12, 5000, 1001),
    tcp('a', 0x10, 1001, 5001),
    tcp('a', 0x18, 1001, 5001, request),
    tcp('b', 0x10, 5001, 1001 + request.length),
    udpFrame(MAC_A, MAC_B, 1400, 2),
  ];
}
