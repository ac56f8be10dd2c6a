import { describe, expect, test } from 'vitest';
import { SimulatedNetwork } from '../../src/sim/network.js';
import type { UdpMessageInfo } from '../../src/udp/udp-socket.js';
import { ipv4ToString } from '../../src/wire/address.js';
import {
  decode,
  decodeIcmp,
  decodeUdp,
  drops,
  HOST_IP,
  harness,
  ip,
  ipv4Frame,
  PEER_IP,
  PEER_MAC,
  udpBytes,
} from '../ip/harness.js';

function inbox() {
  const messages: Array<{ data: string; from: string; port: number }> = [];
  return {
    messages,
    handlers: {
      message(payload: Uint8Array, info: UdpMessageInfo) {
        messages.push({
          data: new TextDecoder().decode(payload),
          from: ipv4ToString(info.address as number),
          port: info.port,
        });
      },
    },
  };
}

function datagramTo(port: number, text: string, src = PEER_IP, srcPort = 7777) {
  return ipv4Frame({
    src,
    payload: udpBytes({ srcPort, dstPort: port, payload: new TextEncoder().encode(text) }, src),
  });
}

describe('UDP sockets: binding', () => {
  test('a taken address and port is refused with EADDRINUSE; closing frees it', () => {
    const { stack } = harness();
    const first = stack.udp.bind({ port: 53 });
    expect(() => stack.udp.bind({ port: 53 })).toThrow(expect.objectContaining({ code: 'EADDRINUSE' }));
    expect(() => stack.udp.bind({ port: 53, address: HOST_IP })).toThrow(
      expect.objectContaining({ code: 'EADDRINUSE' }),
    );
    first.close();
    first.close();
    expect(stack.udp.bind({ port: 53, address: HOST_IP }).localPort).toBe(53);
  });

  test('with reuseAddress on both, a specific address and the wildcard share a port', () => {
    const { stack } = harness();
    stack.udp.bind({ port: 53, reuseAddress: true });
    expect(stack.udp.bind({ port: 53, address: HOST_IP, reuseAddress: true }).localAddress).toBe(HOST_IP);
    expect(() => stack.udp.bind({ port: 53, address: HOST_IP })).toThrow(
      expect.objectContaining({ code: 'EADDRINUSE' }),
    );
  });

  test('port 0 picks distinct ephemeral ports in 49152-65535', () => {
    const { stack } = harness();
    const ports = Array.from({ length: 200 }, () => stack.udp.bind({}).localPort);
    expect(new Set(ports).size).toBe(200);
    expect(ports.every((p) => p >= 49152 && p <= 65535)).toBe(true);
  });

  test('bad addresses and ports', () => {
    const { stack } = harness();
    expect(() => stack.udp.bind({ address: '10.0.0.99' })).toThrow(
      expect.objectContaining({ code: 'EADDRNOTAVAIL' }),
    );
    expect(() => stack.udp.bind({ address: 'nope' })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => stack.udp.bind({ port: 70000 })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    const socket = stack.udp.bind({});
    expect(() => socket.send(new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'EDESTADDRREQ' }));
    expect(() => socket.send(new Uint8Array(1), 0, PEER_IP)).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
    expect(() => socket.send(new Uint8Array(65508), 9, PEER_IP)).toThrow(
      expect.objectContaining({ code: 'EMSGSIZE' }),
    );
    expect(() => socket.send(new Uint8Array(1), 9, '10.0.0.255')).toThrow(
      expect.objectContaining({ code: 'EACCES' }),
    );
    socket.close();
    expect(() => socket.send(new Uint8Array(1), 9, PEER_IP)).toThrow(
      expect.objectContaining({ code: 'EBADF' }),
    );
  });
});

describe('UDP: sending (RFC 768)', () => {
  test('header fields and checksum are exact; the payload is copied into the frame', () => {
    const h = harness();
    const socket = h.stack.udp.bind({ port: 4000 });
    const payload = new TextEncoder().encode('hello');
    socket.send(payload, 53, PEER_IP);
    payload.fill(0);
    const [frame] = h.device.take();
    const { ip: packet } = decode(frame!);
    expect(packet).toMatchObject({
      src: HOST_IP,
      dst: PEER_IP,
      protocol: 17,
      ttl: 64,
      dontFragment: false,
      totalLength: 33,
    });
    // srcPort 4000, dstPort 53, length 13; the checksum verifies (decodeUdp parses with verification)
    expect([...packet!.payload.subarray(0, 6)]).toEqual([0x0f, 0xa0, 0x00, 0x35, 0x00, 0x0d]);
    expect(decodeUdp(frame!)).toEqual({
      srcPort: 4000,
      dstPort: 53,
      payload: new TextEncoder().encode('hello'),
    });
    expect(h.stack.counters.UdpOutDatagrams).toBe(1);
  });

  test('a datagram larger than the MTU is fragmented by IP', () => {
    const h = harness();
    h.stack.udp.bind({ port: 4000 }).send(new Uint8Array(3000).fill(1), 53, PEER_IP);
    const packets = h.device.take().map((f) => decode(f).ip!);
    expect(packets.map((p) => [p.fragmentOffset, p.payload.length, p.moreFragments])).toEqual([
      [0, 1480, true],
      [1480, 1480, true],
      [2960, 48, false],
    ]);
    expect(h.stack.counters).toMatchObject({ IpFragOKs: 1, IpFragCreates: 3 });
  });

  test('broadcast needs the broadcast option and goes to the broadcast MAC', () => {
    const h = harness();
    const socket = h.stack.udp.bind({ port: 68 });
    socket.broadcast = true;
    socket.send(Uint8Array.of(1), 67, '255.255.255.255');
    socket.send(Uint8Array.of(2), 67, '10.0.0.255');
    const frames = h.device.take().map(decode);
    expect(frames.map((f) => [f.dstMac, f.ip!.dst, f.ip!.src])).toEqual([
      [0xffff_ffff_ffff, 0xffffffff, HOST_IP],
      [0xffff_ffff_ffff, ip('10.0.0.255'), HOST_IP],
    ]);
    expect(h.stack.counters.IpOutBcastPkts).toBe(2);
  });

  test('multicast goes to the mapped MAC with TTL 1', () => {
    const h = harness();
    h.stack.udp.bind({}).send(Uint8Array.of(1), 5353, '224.0.0.251');
    const [frame] = h.device.take().map(decode);
    expect(frame).toMatchObject({ dstMac: 0x01_00_5e_00_00_fb, ip: { ttl: 1, dst: ip('224.0.0.251') } });
  });

  test('without a route: ENETUNREACH', () => {
    const h = harness();
    h.stack.routes.remove(h.stack.routes.lookup(ip('8.8.8.8'))!);
    expect(() => h.stack.udp.bind({}).send(Uint8Array.of(1), 53, '8.8.8.8')).toThrow(
      expect.objectContaining({ code: 'ENETUNREACH' }),
    );
  });
});

describe('UDP: receiving', () => {
  test('delivered with the sender; a bad checksum is dropped and counted; a zero checksum is accepted', () => {
    const h = harness();
    const box = inbox();
    h.stack.udp.bind({ port: 5000 }, box.handlers);
    h.device.inject(datagramTo(5000, 'one'));
    const corrupt = datagramTo(5000, 'two');
    corrupt[corrupt.length - 1]! ^= 0x01;
    h.device.inject(corrupt);
    const unchecked = datagramTo(5000, 'three');
    unchecked[14 + 20 + 6] = 0;
    unchecked[14 + 20 + 7] = 0;
    h.device.inject(unchecked);
    expect(box.messages).toEqual([
      { data: 'one', from: '10.0.0.2', port: 7777 },
      { data: 'three', from: '10.0.0.2', port: 7777 },
    ]);
    expect(h.stack.counters).toMatchObject({ UdpInDatagrams: 2, UdpInErrors: 1, UdpInCsumErrors: 1 });
    expect(drops(h.trace)).toEqual(['udp:bad-checksum']);
    expect(h.device.take()).toHaveLength(0);
  });

  test('a length field beyond the packet is an error', () => {
    const h = harness();
    const frame = datagramTo(5000, 'x');
    frame[14 + 20 + 5] = 200;
    h.device.inject(frame);
    expect(drops(h.trace)).toEqual(['udp:bad-total-length']);
    expect(h.stack.counters.UdpInErrors).toBe(1);
  });

  test('demux: connected beats specific address beats wildcard', () => {
    const h = harness();
    const wildcard = inbox();
    const specific = inbox();
    const connected = inbox();
    h.stack.udp.bind({ port: 5000, reuseAddress: true }, wildcard.handlers);
    h.stack.udp.bind({ port: 5000, address: HOST_IP, reuseAddress: true }, specific.handlers);
    h.stack.udp
      .bind({ port: 5000, address: HOST_IP, reuseAddress: true }, connected.handlers)
      .connect(PEER_IP, 1111);
    h.device.inject(datagramTo(5000, 'from 1111', PEER_IP, 1111));
    h.device.inject(datagramTo(5000, 'from 2222', PEER_IP, 2222));
    h.device.inject(
      ipv4Frame({
        dst: 0xffffffff,
        dstMac: 0xffff_ffff_ffff,
        payload: udpBytes(
          { srcPort: 3, dstPort: 5000, payload: new TextEncoder().encode('broadcast') },
          PEER_IP,
          0xffffffff,
        ),
      }),
    );
    expect(connected.messages.map((m) => m.data)).toEqual(['from 1111']);
    expect(specific.messages.map((m) => m.data)).toEqual(['from 2222']);
    expect(wildcard.messages.map((m) => m.data)).toEqual(['broadcast']);
  });

  test('a closed port answers with port unreachable quoting the datagram', () => {
    const h = harness();
    const frame = datagramTo(9999, 'anyone?');
    h.device.inject(frame);
    const [reply] = h.device.take();
    expect(decode(reply!)).toMatchObject({
      dstMac: PEER_MAC,
      ip: { src: HOST_IP, dst: PEER_IP, protocol: 1 },
    });
    expect(decodeIcmp(reply!)).toEqual({
      kind: 'destination-unreachable',
      code: 3,
      nextHopMtu: 0,
      original: frame.subarray(14, 14 + 28),
    });
    expect(h.stack.counters.UdpNoPorts).toBe(1);
  });
});

describe('UDP between simulated hosts', () => {
  test('request and response across a router; a closed port surfaces as ECONNREFUSED', async () => {
    const net = new SimulatedNetwork({ seed: 3 });
    const client = net.host('client', '10.0.1.2/24', { gateway: '10.0.1.1' });
    const server = net.host('server', '10.0.2.2/24', { gateway: '10.0.2.1' });
    const r = net.router('r');
    net.link(client, [r, '10.0.1.1/24'], { delayMs: 2 });
    net.link([r, '10.0.2.1/24'], server, { delayMs: 3 });

    const echo = server.udp.bind(
      { port: 7 },
      {
        message(payload, info) {
          echo.send(payload, info.port, info.address);
        },
      },
    );
    const answers: Array<{ text: string; at: number; ttl: number }> = [];
    const errors: Array<{ code: string; at: number }> = [];
    const socket = client.udp.bind(
      {},
      {
        message: (payload, info) =>
          answers.push({ text: new TextDecoder().decode(payload), at: net.clock.now(), ttl: info.ttl }),
        error: (e) => errors.push({ code: e.code, at: net.clock.now() }),
      },
    );
    socket.connect('10.0.2.2', 7);
    socket.send(new TextEncoder().encode('ping 1'));
    net.runUntilIdle();
    socket.send(new TextEncoder().encode('ping 2'));
    const sentAt = net.clock.now();
    net.runUntilIdle();
    expect(answers).toEqual([
      // The first exchange waits for ARP on both links (2x2 ms + 2x3 ms more).
      { text: 'ping 1', at: 20, ttl: 63 },
      { text: 'ping 2', at: sentAt + 10, ttl: 63 },
    ]);

    socket.connect('10.0.2.2', 8);
    socket.send(new TextEncoder().encode('closed?'));
    const refusedAt = net.clock.now();
    net.runUntilIdle();
    expect(errors).toEqual([{ code: 'ECONNREFUSED', at: refusedAt + 10 }]);
    expect(server.counters).toMatchObject({ UdpNoPorts: 1, IcmpOutDestUnreachs: 1 });
    expect(client.counters).toMatchObject({ UdpInDatagrams: 2, UdpOutDatagrams: 3, IcmpInDestUnreachs: 1 });
  });
});
