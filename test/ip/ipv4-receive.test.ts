import { describe, expect, test } from 'vitest';
import type { TransportErrorReport } from '../../src/ip/datagram.js';
import { IP_PROTOCOL_TCP } from '../../src/wire/ipv4.js';
import type { IpAddress } from '../../src/wire/ipv6-address.js';
import { emitTcp, TCP_SYN, type TcpSegment } from '../../src/wire/tcp.js';
import {
  decode,
  drops,
  HOST_IP,
  harness,
  icmpFrame,
  ip,
  ipv4Frame,
  OTHER_MAC,
  PEER_IP,
  RecordingDevice,
  udpBytes,
} from './harness.js';

const BROADCAST_MAC = 0xffff_ffff_ffff;

function listen(h: ReturnType<typeof harness>, port = 5000) {
  const received: Array<{ data: number[]; destination: string; localAddress: number }> = [];
  h.stack.udp.bind(
    { port },
    {
      message: (payload, info) =>
        received.push({
          data: [...payload],
          destination: info.destination,
          localAddress: info.localAddress as number,
        }),
    },
  );
  return received;
}

function udpTo(dst: number, data: number[], extra: object = {}) {
  return ipv4Frame({
    dst,
    payload: udpBytes({ srcPort: 7, dstPort: 5000, payload: Uint8Array.from(data) }, PEER_IP, dst),
    ...extra,
  });
}

describe('IPv4 receive: malformed input is counted, traced and dropped', () => {
  test('Ethernet: runt frames, unknown EtherTypes, other stations', () => {
    const h = harness();
    h.device.inject(new Uint8Array(13));
    const ipv6 = udpTo(HOST_IP, [1]);
    ipv6[12] = 0x86;
    ipv6[13] = 0xdd;
    h.device.inject(ipv6);
    h.device.inject(udpTo(HOST_IP, [1], { dstMac: OTHER_MAC }));
    expect(drops(h.trace)).toEqual([
      'ethernet:truncated',
      'ethernet:unknown-ethertype',
      'ethernet:other-host',
    ]);
    expect(h.stack.counters).toMatchObject({
      EthernetInFrames: 3,
      EthernetInErrors: 1,
      EthernetInUnknownProtos: 1,
      EthernetInOtherHost: 1,
      IpInReceives: 0,
    });
  });

  test('IPv4 header faults: version, IHL, lengths, checksum', () => {
    const h = harness();
    const good = udpTo(HOST_IP, [1, 2, 3]);
    const patch =
      (changes: Array<[number, number]>) =>
      (f: Uint8Array): Uint8Array => {
        for (const [index, value] of changes) f[index] = value;
        return f;
      };
    const variants: Array<(f: Uint8Array) => Uint8Array> = [
      (f) => f.subarray(0, 14 + 19), // truncated
      patch([[14, 0x65]]), // version 6
      patch([[14, 0x44]]), // IHL 4
      patch([[14, 0x4f]]), // IHL 15: 60 bytes, past the packet
      patch([[16, 0xff]]), // total length beyond the frame
      patch([
        [16, 0],
        [17, 12],
      ]), // total length below the header
      patch([[22, good[22]! ^ 0x01]]), // TTL changed: header checksum wrong
    ];
    for (const mutate of variants) h.device.inject(mutate(good.slice()));
    expect(drops(h.trace)).toEqual([
      'ipv4:truncated',
      'ipv4:bad-version',
      'ipv4:bad-header-length',
      'ipv4:bad-header-length',
      'ipv4:bad-total-length',
      'ipv4:bad-total-length',
      'ipv4:bad-checksum',
    ]);
    expect(h.stack.counters).toMatchObject({
      IpInReceives: 7,
      IpInHdrErrors: 7,
      IpInTruncatedPkts: 3,
      IpInDelivers: 0,
    });
    expect(h.device.take()).toHaveLength(0);
  });

  test('martian sources and destinations', () => {
    const h = harness();
    const received = listen(h);
    h.device.inject(udpTo(HOST_IP, [1], { src: 0xffffffff }));
    h.device.inject(udpTo(HOST_IP, [1], { src: ip('224.0.0.5') }));
    h.device.inject(udpTo(HOST_IP, [1], { src: ip('127.0.0.1') }));
    h.device.inject(udpTo(HOST_IP, [1], { src: HOST_IP }));
    h.device.inject(udpTo(HOST_IP, [1], { src: ip('10.0.0.255') }));
    h.device.inject(udpTo(ip('127.0.0.1'), [1]));
    h.device.inject(udpTo(ip('10.0.0.77'), [1]));
    expect(received).toEqual([]);
    expect(drops(h.trace)).toEqual([
      'ipv4:martian-source',
      'ipv4:martian-source',
      'ipv4:martian-source',
      'ipv4:martian-source',
      'ipv4:martian-source',
      'ipv4:martian-destination',
      'ipv4:not-for-us',
    ]);
    expect(h.stack.counters.IpInAddrErrors).toBe(7);
  });

  test('a unicast IP destination inside a link-layer broadcast is dropped (RFC 1122 §3.3.6)', () => {
    const h = harness();
    const received = listen(h);
    h.device.inject(udpTo(HOST_IP, [1], { dstMac: BROADCAST_MAC }));
    expect(received).toEqual([]);
    expect(drops(h.trace)).toEqual(['ipv4:unicast-in-link-broadcast']);
  });
});

describe('IPv4 receive: delivery', () => {
  test('Ethernet padding after Total Length never reaches UDP', () => {
    const h = harness();
    const received = listen(h);
    const frame = udpTo(HOST_IP, [0xaa]);
    const padded = new Uint8Array(60);
    padded.set(frame);
    padded.fill(0xee, frame.length);
    h.device.inject(padded);
    expect(received).toEqual([{ data: [0xaa], destination: 'unicast', localAddress: HOST_IP }]);
  });

  test('IP options are skipped by IHL', () => {
    const h = harness();
    const received = listen(h);
    h.device.inject(udpTo(HOST_IP, [5, 6], { options: Uint8Array.of(1, 1, 1, 0) }));
    expect(received.map((r) => r.data)).toEqual([[5, 6]]);
  });

  test('limited and directed broadcast reach wildcard sockets, marked as broadcast', () => {
    const h = harness();
    const received = listen(h);
    h.device.inject(udpTo(0xffffffff, [1], { dstMac: BROADCAST_MAC }));
    h.device.inject(udpTo(ip('10.0.0.255'), [2], { dstMac: BROADCAST_MAC }));
    expect(received).toEqual([
      { data: [1], destination: 'broadcast', localAddress: 0xffffffff },
      { data: [2], destination: 'broadcast', localAddress: ip('10.0.0.255') },
    ]);
    expect(h.stack.counters.IpInBcastPkts).toBe(2);
  });

  test('multicast is delivered only for joined groups', () => {
    const h = harness();
    const received = listen(h);
    const group = ip('239.1.2.3');
    const mac = 0x01_00_5e_01_02_03;
    h.device.inject(udpTo(group, [1], { dstMac: mac }));
    h.stack.joinMulticastGroup('239.1.2.3');
    h.device.inject(udpTo(group, [2], { dstMac: mac }));
    h.stack.leaveMulticastGroup('239.1.2.3');
    h.device.inject(udpTo(group, [3], { dstMac: mac }));
    expect(received).toEqual([{ data: [2], destination: 'multicast', localAddress: group }]);
    expect(drops(h.trace)).toEqual(['ipv4:multicast-not-joined', 'ipv4:multicast-not-joined']);
  });

  test('a weak host accepts datagrams for any of its addresses on any interface', () => {
    const h = harness();
    const second = new RecordingDevice('host-eth1', 0x020000000011);
    h.stack.addInterface(second, { address: '192.168.5.1/24' });
    const received = listen(h);
    h.device.inject(udpTo(ip('192.168.5.1'), [9]));
    expect(received.map((r) => r.localAddress)).toEqual([ip('192.168.5.1')]);
  });
});

describe('the TCP hook', () => {
  function segment(flags = TCP_SYN): TcpSegment {
    return {
      srcPort: 40000,
      dstPort: 80,
      seq: 1000,
      ack: 0,
      flags,
      window: 65535,
      urgentPointer: 0,
      options: { mss: 1460 },
      payload: new Uint8Array(0),
    };
  }

  function tcpFrame(seg: TcpSegment, extra: object = {}, dst = HOST_IP) {
    const bytes = new Uint8Array(24);
    emitTcp(seg, PEER_IP, dst, bytes, 0);
    return ipv4Frame({ protocol: IP_PROTOCOL_TCP, dst, payload: bytes, ...extra });
  }

  test('attached TCP receives verified unicast segments and errors about its own', () => {
    const h = harness();
    const got: Array<[IpAddress, IpAddress, TcpSegment]> = [];
    const errors: TransportErrorReport[] = [];
    const binding = h.stack.attachTcp({
      receive: (src, dst, seg) => got.push([src, dst, seg]),
      receiveIcmpError: (report) => errors.push(report),
    });
    h.device.inject(tcpFrame(segment()));
    expect(got).toHaveLength(1);
    expect(got[0]![0]).toBe(PEER_IP);
    expect(got[0]![1]).toBe(HOST_IP);
    expect(got[0]![2]).toMatchObject({
      srcPort: 40000,
      dstPort: 80,
      seq: 1000,
      flags: TCP_SYN,
      options: { mss: 1460 },
    });

    // Broadcast destination (MUST-57) and a bad checksum never reach TCP.
    h.device.inject(tcpFrame(segment(), { dstMac: BROADCAST_MAC }, ip('10.0.0.255')));
    const corrupt = tcpFrame(segment());
    corrupt[14 + 20 + 4]! ^= 0x10;
    h.device.inject(corrupt);
    expect(got).toHaveLength(1);
    expect(drops(h.trace)).toEqual(['tcp:not-unicast', 'tcp:bad-checksum']);
    expect(h.stack.counters).toMatchObject({ TcpInErrs: 1, TcpInCsumErrors: 1 });

    // The binding sends with DF and a checksum; an ICMP error about it comes back to TCP.
    expect(binding.send(HOST_IP, PEER_IP, { ...segment(), payload: Uint8Array.of(1, 2, 3) })).toBe('ok');
    const [sent] = h.device.take();
    const { ip: packet } = decode(sent!);
    expect(packet).toMatchObject({ dontFragment: true, protocol: IP_PROTOCOL_TCP, totalLength: 20 + 24 + 3 });
    h.device.inject(
      icmpFrame({
        kind: 'destination-unreachable',
        code: 3,
        nextHopMtu: 0,
        original: sent!.subarray(14, 14 + 28),
      }),
    );
    expect(errors).toEqual([
      expect.objectContaining({
        code: 'ECONNREFUSED',
        origin: 'icmp',
        protocol: IP_PROTOCOL_TCP,
        src: HOST_IP,
        dst: PEER_IP,
      }),
    ]);
    expect([...errors[0]!.transport.subarray(0, 8)]).toEqual([0x9c, 0x40, 0, 80, 0, 0, 0x03, 0xe8]);
    expect(() => h.stack.attachTcp({ receive() {} })).toThrow(
      expect.objectContaining({ code: 'EADDRINUSE' }),
    );
  });

  test('the binding answers address and MTU questions', () => {
    const h = harness({ mtu: 1400 });
    const binding = h.stack.tcpBinding;
    expect(binding.isLocalAddress(HOST_IP)).toBe(true);
    expect(binding.isLocalAddress(ip('127.0.0.9'))).toBe(true);
    expect(binding.isLocalAddress(PEER_IP)).toBe(false);
    expect(binding.isBroadcastOrMulticast(ip('10.0.0.255'))).toBe(true);
    expect(binding.isBroadcastOrMulticast(0xffffffff)).toBe(true);
    expect(binding.isBroadcastOrMulticast(ip('224.0.0.1'))).toBe(true);
    expect(binding.isBroadcastOrMulticast(ip('10.1.0.255'))).toBe(false);
    expect(binding.sourceAddressFor(ip('8.8.8.8'))).toBe(HOST_IP);
    expect(binding.sourceAddressFor(HOST_IP)).toBe(HOST_IP);
    expect(binding.sourceAddressFor(ip('127.0.0.1'))).toBe(ip('127.0.0.1'));
    expect(binding.mtuFor(PEER_IP)).toBe(1400);
    expect(binding.mtuFor(HOST_IP)).toBe(65535);
  });

  test('a segment larger than a lowered path MTU is cut into segments that fit, DF set, never fragmented', () => {
    const h = harness();
    h.stack.ip.pathMtu.lower(PEER_IP, 600, 1500);
    const binding = h.stack.tcpBinding;
    expect(binding.send(HOST_IP, PEER_IP, { ...segment(0x10), payload: new Uint8Array(1000) })).toBe('ok');
    const packets = h.device.take().map((f) => decode(f).ip!);
    expect(packets.map((p) => [p.totalLength, p.dontFragment, p.fragmentOffset, p.moreFragments])).toEqual([
      [600, true, 0, false],
      [20 + 24 + (1000 - 556), true, 0, false],
    ]);
    expect(h.stack.counters.IpFragCreates).toBe(0);
  });
});

describe('loopback and checksum offload', () => {
  test('UDP to our own address and to 127.0.0.1 loops back without touching the device', () => {
    const h = harness();
    const received = listen(h);
    const socket = h.stack.udp.bind({});
    socket.send(Uint8Array.of(1), 5000, HOST_IP);
    socket.send(Uint8Array.of(2), 5000, '127.0.0.1');
    expect(received).toEqual([]);
    h.clock.runUntilIdle();
    expect(received).toEqual([
      { data: [1], destination: 'unicast', localAddress: HOST_IP },
      { data: [2], destination: 'unicast', localAddress: ip('127.0.0.1') },
    ]);
    expect(h.device.sent).toHaveLength(0);
  });

  test('an offloading device: checksums neither computed on send nor verified on receipt', () => {
    const h = harness({ offload: true });
    const received = listen(h);
    const socket = h.stack.udp.bind({});
    socket.send(Uint8Array.of(1, 2), 9, PEER_IP);
    const [frame] = h.device.take();
    expect([frame![14 + 20 + 6], frame![14 + 20 + 7]]).toEqual([0, 0]);
    const wrong = udpTo(HOST_IP, [7]);
    wrong[14 + 20 + 7]! ^= 0xff;
    h.device.inject(wrong);
    expect(received.map((r) => r.data)).toEqual([[7]]);
  });

  test('a closed port reached over loopback reports ECONNREFUSED to a connected socket', () => {
    const h = harness();
    const errors: string[] = [];
    const socket = h.stack.udp.bind({}, { error: (e) => errors.push(e.code) });
    socket.connect('127.0.0.1', 9);
    socket.send(Uint8Array.of(1));
    h.clock.runUntilIdle();
    expect(errors).toEqual(['ECONNREFUSED']);
  });
});
