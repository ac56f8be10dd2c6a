/**
 * TCP segmentation offload over IPv6: TCP hands the IPv6 layer segments of many MSS at once when the
 * device cuts IPv6 TCP (`DeviceOffload.tcp6SegmentationMax`, a memory link with offload), and the pieces
 * on the wire are ordinary segments — cut by the peer's MSS, each with its own Payload Length, sequence
 * number and checksum, PSH and FIN on the last only — exactly as over IPv4 (ip/ipv4-offload.ts).
 */
import { describe, expect, test } from 'vitest';
import { SimulatedNetwork } from '../../src/sim/network.js';
import { segmentTcpPacket } from '../../src/tcp/ip-glue/tcp-segmentation.js';
import { pseudoHeaderSum } from '../../src/wire/checksum.js';
import { ETHERTYPE_IPV6, parseEthernet } from '../../src/wire/ethernet.js';
import { emitIpv6Header, IPV6_NEXT_TCP, parseIpv6 } from '../../src/wire/ipv6.js';
import { parseIpv6 as ip6 } from '../../src/wire/ipv6-address.js';
import {
  emitTcp,
  parseTcp,
  TCP_ACK,
  TCP_FIN,
  TCP_PSH,
  type TcpSegment,
  tcpHeaderLength,
} from '../../src/wire/tcp.js';

const A = ip6('2001:db8::1')!;
const B = ip6('2001:db8::2')!;

function pattern(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 13 + (i >> 8)) & 0xff;
  return out;
}

describe('software segmentation of an IPv6 TCP packet', () => {
  test('3000 bytes at 1208 per segment: three segments, headers copied, lengths, seq and checksums per piece', () => {
    const payload = pattern(3000);
    const segment: TcpSegment = {
      srcPort: 40000,
      dstPort: 80,
      seq: 0xfffffa00, // the pieces wrap around 2^32
      ack: 77,
      flags: TCP_ACK | TCP_PSH | TCP_FIN,
      window: 500,
      urgentPointer: 0,
      options: { timestamp: { value: 1, echo: 2 } },
      payload,
    };
    const tcpLength = tcpHeaderLength(segment.options) + payload.length;
    const packet = new Uint8Array(40 + tcpLength);
    emitIpv6Header(
      { trafficClass: 2, flowLabel: 0x12345, nextHeader: IPV6_NEXT_TCP, hopLimit: 64, src: A, dst: B },
      tcpLength,
      packet,
      0,
    );
    emitTcp(segment, A, B, packet, 40);
    const frames = segmentTcpPacket(packet, 1208, 14)!;
    expect(frames.map((f) => f.length)).toEqual([
      14 + 40 + 32 + 1208,
      14 + 40 + 32 + 1208,
      14 + 40 + 32 + 584,
    ]);
    const joined: number[] = [];
    frames.forEach((frame, i) => {
      const ip = parseIpv6(frame.subarray(14));
      expect(ip.ok).toBe(true);
      if (!ip.ok) return;
      expect(ip.value).toMatchObject({
        trafficClass: 2,
        flowLabel: 0x12345,
        nextHeader: IPV6_NEXT_TCP,
        hopLimit: 64,
        src: A,
        dst: B,
        payloadLength: 32 + (i < 2 ? 1208 : 584),
      });
      const tcp = parseTcp(ip.value.payload, A, B); // the checksum is verified
      expect(tcp.ok).toBe(true);
      if (!tcp.ok) return;
      expect(tcp.value).toMatchObject({
        seq: (0xfffffa00 + i * 1208) >>> 0,
        ack: 77,
        flags: i < 2 ? TCP_ACK : TCP_ACK | TCP_PSH | TCP_FIN,
        window: 500,
        options: { timestamp: { value: 1, echo: 2 } },
      });
      joined.push(...tcp.value.payload);
    });
    expect(new Uint8Array(joined)).toEqual(payload);
  });

  test('what is not an IPv6 TCP packet is refused', () => {
    const packet = new Uint8Array(100);
    emitIpv6Header(
      { trafficClass: 0, flowLabel: 0, nextHeader: 17, hopLimit: 64, src: A, dst: B },
      60,
      packet,
      0,
    );
    expect(segmentTcpPacket(packet, 1000, 14)).toBeUndefined();
    // A Payload Length that disagrees with the bytes given.
    packet[6] = IPV6_NEXT_TCP;
    packet[5] = 80;
    expect(segmentTcpPacket(packet, 1000, 14)).toBeUndefined();
  });
});

/**
 * Every IPv6 TCP data frame `from` put on the link: its Payload Length, flags, sequence offset, and
 * whether its checksum is complete or partial (the pseudo-header sum a device finishes, Linux's
 * CHECKSUM_PARTIAL); anything else is an error.
 */
function dataFrames(net: SimulatedNetwork, link: string, from: string) {
  const out: { length: number; flags: number; seq: number; payload: number; checksum: string }[] = [];
  let first: number | undefined;
  for (const e of net.trace.events) {
    if (e.kind !== 'link.sent' || e.link !== link || e.from !== from) continue;
    const eth = parseEthernet(e.frame);
    if (!eth.ok || eth.value.etherType !== ETHERTYPE_IPV6) continue;
    const ip = parseIpv6(eth.value.payload);
    if (!ip.ok || ip.value.nextHeader !== IPV6_NEXT_TCP) continue;
    const { payload: bytes, src, dst } = ip.value;
    const tcp = parseTcp(bytes, src, dst, { verifyChecksum: false });
    if (!tcp.ok) throw new Error(`bad TCP segment on the wire: ${tcp.error.message}`);
    const field = (bytes[16]! << 8) | bytes[17]!;
    const checksum = parseTcp(bytes, src, dst).ok
      ? 'full'
      : field === pseudoHeaderSum(src, dst, IPV6_NEXT_TCP, bytes.length)
        ? 'partial'
        : 'bad';
    if (checksum === 'bad') throw new Error(`bad TCP checksum on the wire: 0x${field.toString(16)}`);
    first ??= tcp.value.seq;
    if (tcp.value.payload.length === 0) continue;
    out.push({
      length: ip.value.payloadLength,
      flags: tcp.value.flags,
      seq: (tcp.value.seq - first) >>> 0,
      payload: tcp.value.payload.length,
      checksum,
    });
  }
  return out;
}

function transfer(options: { impaired: boolean }) {
  const net = new SimulatedNetwork({ seed: 3, offload: true });
  const client = net.host('client', '2001:db8::1/64');
  const server = net.host('server', '2001:db8::2/64');
  // The server's interface takes 1280-byte packets: it announces MSS 1220, below the client's MTU - 60.
  // A rate limit on the client's side makes the link cut super-segments before it (software GSO), as a
  // device would; without it the link carries them whole.
  const link = net.link(
    client,
    { stack: server, address: '2001:db8::2/64', mtu: 1280 },
    {
      delayMs: 1,
      aToB: options.impaired ? { rateBitsPerSecond: 1e9 } : undefined,
    },
  );
  net.run(3000); // duplicate address detection
  // The segment sizes of the TSO frames the client's IPv6 layer hands its device.
  const tso: number[] = [];
  const end = link.link.a;
  const send = end.send.bind(end);
  end.send = (frame, request) => {
    if (request !== undefined && request.segmentSize > 0) tso.push(request.segmentSize);
    send(frame, request);
  };
  const chunks: Uint8Array[] = [];
  server.tcp.listen({ port: 80, address: 0n }).on('connection', (c) => {
    c.on('readable', () => {
      for (let x = c.receive(net.clock.now()); x !== null && x.length > 0; x = c.receive(net.clock.now()))
        chunks.push(x.slice());
    });
  });
  const conn = client.tcp.connect({ remoteAddress: B, remotePort: 80 });
  const data = pattern(100_000);
  conn.on('connected', () => conn.send(data, net.clock.now()));
  net.run(2000);
  const received = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    received.set(c, o);
    o += c.length;
  }
  return { net, link, client, conn, data, received, tso, frames: dataFrames(net, link.name, 'client-eth0') };
}

describe('TSO over IPv6 in the simulator', () => {
  test('cut on the way: every wire segment carries the peer MSS (1220 - 12 for timestamps), PSH only at the end of each', () => {
    const t = transfer({ impaired: true });
    expect(t.received).toEqual(t.data);
    expect(t.conn.status().effectiveMss).toBe(1208);
    // Wire segments: at most 32 + 1208 bytes of IPv6 payload, each sequence number right after the last.
    expect(Math.max(...t.frames.map((f) => f.length))).toBe(32 + 1208);
    let next = 1;
    for (const f of t.frames) {
      expect(f.seq).toBe(next);
      next += f.payload;
    }
    expect(next - 1).toBe(100_000);
    expect(t.frames.filter((f) => f.payload !== 1208).map((f) => f.payload)).toEqual([100_000 % 1208]);
    // Cut in software before the impairment: every checksum complete.
    expect(new Set(t.frames.map((f) => f.checksum))).toEqual(new Set(['full']));
    // The device was handed super-segments to cut at the MSS: the first one the whole initial window.
    expect(t.tso.length).toBeGreaterThan(0);
    expect(new Set(t.tso)).toEqual(new Set([1208]));
    expect(t.frames.slice(0, 10).map((f) => [f.seq, f.payload])).toEqual(
      Array.from({ length: 10 }, (_, i) => [1 + i * 1208, 1208]),
    );
    // PSH only on the piece carrying the last byte written.
    expect(t.frames.filter((f) => f.flags & TCP_PSH).map((f) => f.seq + f.payload - 1)).toEqual([100_000]);
  });

  test('a link that carries offloaded frames whole delivers the super-segments to the peer as they are', () => {
    const t = transfer({ impaired: false });
    expect(t.received).toEqual(t.data);
    // Super-segments on the memory link: payloads of whole multiples of the MSS, beyond the 1280 MTU.
    const large = t.frames.filter((f) => f.payload > 1208);
    expect(large.length).toBeGreaterThan(0);
    expect(large.length).toBe(t.tso.length);
    for (const f of large.slice(0, -1)) expect(f.payload % 1208).toBe(0);
    // A super-segment's checksum is left to the device (the pseudo-header sum only), as Linux hands
    // GSO_TCPV6 packets to a device.
    expect(new Set(large.map((f) => f.checksum))).toEqual(new Set(['partial']));
    expect(t.frames.reduce((n, f) => n + f.payload, 0)).toBe(100_000);
  });
});

test('a router cuts the super-segments it receives whole into the segments they stand for, checksums complete', () => {
  const net = new SimulatedNetwork({ seed: 5, offload: true });
  const a = net.host('a', '2001:db8:1::2/64', { gateway: '2001:db8:1::1' });
  const b = net.host('b', '2001:db8:2::2/64', { gateway: '2001:db8:2::1' });
  const r = net.router('r');
  // a -> r carries offloaded frames whole; r -> b is rate-limited, so it carries wire-sized frames only.
  const ar = net.link(a, [r, '2001:db8:1::1/64'], { delayMs: 1 });
  const rb = net.link([r, '2001:db8:2::1/64'], b, { delayMs: 1, aToB: { rateBitsPerSecond: 1e9 } });
  net.run(3000);
  const chunks: Uint8Array[] = [];
  b.tcp.listen({ port: 80, address: 0n }).on('connection', (c) => {
    c.on('readable', () => {
      for (let x = c.receive(net.clock.now()); x !== null && x.length > 0; x = c.receive(net.clock.now()))
        chunks.push(x.slice());
    });
  });
  const conn = a.tcp.connect({ remoteAddress: ip6('2001:db8:2::2')!, remotePort: 80 });
  const data = pattern(200_000);
  conn.on('connected', () => conn.send(data, net.clock.now()));
  net.run(2000);
  expect(Buffer.concat(chunks)).toEqual(Buffer.from(data));
  const mss = 1440 - 12;
  const inbound = dataFrames(net, ar.name, 'a-eth0');
  expect(inbound.filter((f) => f.payload > mss).length).toBeGreaterThan(0);
  // On the way out: segments of at most the MSS, each with its checksum finished by the router.
  const outbound = dataFrames(net, rb.name, 'r-eth1');
  expect(Math.max(...outbound.map((f) => f.payload))).toBe(mss);
  expect(new Set(outbound.map((f) => f.checksum))).toEqual(new Set(['full']));
  expect(outbound.reduce((n, f) => n + f.payload, 0)).toBe(200_000);
  // No Packet Too Big: a segment the super-segment stands for fits the next link.
  expect(r.counters.dropCount('ipv6', 'packet-too-big')).toBe(0);
  expect(a.ipv6.mtuFor(ip6('2001:db8:2::2')!)).toBe(1500);
});

test('a super-segment is addressed from the neighbor cache byte for byte, an unusual MAC included', () => {
  const net = new SimulatedNetwork({ seed: 3, offload: true });
  const client = net.host('client', '2001:db8::1/64');
  const server = net.host('server', '2001:db8::2/64');
  const link = net.link(client, server, { delayMs: 1 });
  net.run(3000); // duplicate address detection
  server.tcp.listen({ port: 80, address: 0n });
  const conn = client.tcp.connect({ remoteAddress: B, remotePort: 80 });
  net.run(100);
  expect(conn.state).toBe('ESTABLISHED');
  // The server's MAC as the client resolved it, then a permanent entry with every byte distinct.
  const end = link.link.a;
  const sent: { frame: Uint8Array; segmentSize: number }[] = [];
  const send = end.send.bind(end);
  end.send = (frame, request) => {
    sent.push({ frame: frame.slice(0, 6), segmentSize: request?.segmentSize ?? 0 });
    send(frame, request);
  };
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  conn.send(pattern(20_000), net.clock.now());
  const learned = sent.find((s) => s.segmentSize > 0);
  expect(learned).toBeDefined();
  const serverMac = hex(learned!.frame);
  expect(serverMac).toBe(server.ipv6.interfaces[0]!.device.mac.toString(16).padStart(12, '0'));
  sent.length = 0;
  client.ipv6.interfaces[0]!.neighbors.addStatic(B, 0xfe_dc_ba_98_76_54);
  conn.send(pattern(20_000), net.clock.now());
  net.run(50);
  const tso = sent.filter((s) => s.segmentSize > 0);
  expect(tso.length).toBeGreaterThan(0);
  expect(new Set(sent.map((s) => hex(s.frame)))).toEqual(new Set(['fedcba987654']));
});
