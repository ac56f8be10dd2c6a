/**
 * Known answers from the Linux kernel over IPv6: test/fixtures/kernel-ipv6.pcap was captured by
 * test/fixtures/capture-kernel-ipv6.sh on a veth pair between two namespaces (A fd00:77::1, B fd00:77::2,
 * EUI-64 link-local addresses). The expected values were read independently with `tshark -V`.
 */
import { describe, expect, it } from 'vitest';
import { ETHERTYPE_IPV6 } from '../../src/wire/ethernet.js';
import { ICMPV6_PORT_UNREACHABLE, MLD_CHANGE_TO_EXCLUDE, parseIcmpv6 } from '../../src/wire/icmpv6.js';
import {
  IPV6_NEXT_DESTINATION_OPTIONS,
  IPV6_NEXT_FRAGMENT,
  IPV6_NEXT_HOP_BY_HOP,
  IPV6_NEXT_ICMPV6,
  IPV6_NEXT_UDP,
  parseQuotedIpv6,
} from '../../src/wire/ipv6.js';
import {
  eui64InterfaceId,
  IPV6_ALL_MLDV2_ROUTERS,
  IPV6_ALL_NODES,
  IPV6_ALL_ROUTERS,
  ipv6MulticastMac,
  linkLocalAddress,
  parseIpv6,
  solicitedNodeAddress,
} from '../../src/wire/ipv6-address.js';
import { IPV6_OPTION_ROUTER_ALERT, ipv6UnknownOptionAction } from '../../src/wire/ipv6-extension-headers.js';
import { parseTcp, TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN } from '../../src/wire/tcp.js';
import { parseUdp } from '../../src/wire/udp.js';
import { decodeIpv6Frame, kernelIpv6Frames, reemitIpv6Frame } from './kernel-ipv6-frames.js';

const MAC_A = 0x02000a4d0001;
const MAC_B = 0x02000a4d0002;
const A = parseIpv6('fd00:77::1')!;
const B = parseIpv6('fd00:77::2')!;
const LL_A = parseIpv6('fe80::aff:fe4d:1')!;
const LL_B = parseIpv6('fe80::aff:fe4d:2')!;

const frames = kernelIpv6Frames();
const frame = (n: number) => decodeIpv6Frame(frames[n - 1]!);
const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('kernel IPv6 capture: addresses', () => {
  it('EUI-64 link-local addresses and solicited-node groups match what the kernel used', () => {
    expect(linkLocalAddress(eui64InterfaceId(MAC_A))).toBe(LL_A);
    expect(linkLocalAddress(eui64InterfaceId(MAC_B))).toBe(LL_B);
    expect(solicitedNodeAddress(LL_A)).toBe(parseIpv6('ff02::1:ff4d:1'));
    expect(solicitedNodeAddress(B)).toBe(parseIpv6('ff02::1:ff00:2'));
    // Frame 3's destination MAC is the solicited-node group's (RFC 2464 §7).
    expect(frame(3).ethernet.dst).toBe(ipv6MulticastMac(solicitedNodeAddress(LL_A)));
    expect(frame(3).ethernet.dst).toBe(0x3333ff4d0001);
  });
});

describe('kernel IPv6 capture: every frame', () => {
  it('holds 40 IPv6 frames that decode with every checksum verified', () => {
    expect(frames.length).toBe(40);
    expect(frames.map((f) => f.length)).toEqual([
      110, 110, 86, 86, 110, 86, 110, 110, 70, 110, 86, 110, 70, 86, 86, 118, 118, 1510, 1510, 1174, 1510,
      1510, 1174, 110, 94, 94, 86, 102, 86, 86, 102, 86, 86, 86, 67, 115, 79, 118, 86, 86,
    ]);
    for (const data of frames) expect(decodeIpv6Frame(data).ethernet.etherType).toBe(ETHERTYPE_IPV6);
  });

  it('re-emits every frame byte for byte from the plain records, checksums recomputed', () => {
    for (const [i, data] of frames.entries()) {
      const again = reemitIpv6Frame(decodeIpv6Frame(data), data.length);
      expect([i + 1, hex(again)]).toEqual([i + 1, hex(data)]);
    }
  });
});

describe('kernel IPv6 capture: DAD, MLD and router solicitation', () => {
  it('frame 1: an MLDv2 report from :: behind Hop-by-Hop Router Alert, hop limit 1', () => {
    const f = frame(1);
    expect(f.ipv6).toMatchObject({ src: 0n, dst: IPV6_ALL_MLDV2_ROUTERS, hopLimit: 1, nextHeader: 0 });
    expect(f.extensions.map((h) => [h.protocol, h.nextHeader, h.length])).toEqual([
      [IPV6_NEXT_HOP_BY_HOP, IPV6_NEXT_ICMPV6, 8],
    ]);
    expect(f.options[0]!.map((o) => [o.type, hex(o.data), o.offset])).toEqual([
      [IPV6_OPTION_ROUTER_ALERT, '0000', 2],
    ]);
    expect(ipv6UnknownOptionAction(IPV6_OPTION_ROUTER_ALERT)).toBe('skip');
    expect(f.icmpv6).toEqual({
      kind: 'mldv2-report',
      records: [
        { recordType: MLD_CHANGE_TO_EXCLUDE, group: parseIpv6('ff02::1:ff4d:1'), sources: [] },
        { recordType: MLD_CHANGE_TO_EXCLUDE, group: parseIpv6('ff02::1:ff00:1'), sources: [] },
      ],
    });
  });

  it('frame 3: a DAD probe, NS from :: for the tentative link-local address with a nonce', () => {
    const f = frame(3);
    expect(f.ethernet).toMatchObject({ src: MAC_A });
    expect(f.ipv6).toMatchObject({ src: 0n, dst: solicitedNodeAddress(LL_A), hopLimit: 255 });
    expect(f.icmpv6).toMatchObject({ kind: 'neighbor-solicitation', target: LL_A });
    if (f.icmpv6?.kind !== 'neighbor-solicitation') throw new Error('ns');
    expect(f.icmpv6.options.map((o) => (o.kind === 'nonce' ? hex(o.nonce) : o.kind))).toEqual([
      '155e5ada14ac',
    ]);
  });

  it('frame 9: a router solicitation to ff02::2 with the source link-layer address', () => {
    const f = frame(9);
    expect(f.ipv6).toMatchObject({ src: LL_A, dst: IPV6_ALL_ROUTERS, hopLimit: 255 });
    expect(f.icmpv6).toEqual({
      kind: 'router-solicitation',
      options: [{ kind: 'source-link-layer', mac: MAC_A }],
    });
  });
});

describe('kernel IPv6 capture: address resolution and echo', () => {
  it('frames 14-15: NS from fd00:77::1 to the solicited-node group, solicited+override NA back', () => {
    const ns = frame(14);
    expect(ns.ipv6).toMatchObject({ src: A, dst: solicitedNodeAddress(B), hopLimit: 255 });
    expect(ns.icmpv6).toEqual({
      kind: 'neighbor-solicitation',
      target: B,
      options: [{ kind: 'source-link-layer', mac: MAC_A }],
    });
    const na = frame(15);
    expect(na.ethernet).toMatchObject({ src: MAC_B, dst: MAC_A });
    expect(na.ipv6).toMatchObject({ src: B, dst: A, hopLimit: 255 });
    expect(na.icmpv6).toEqual({
      kind: 'neighbor-advertisement',
      router: false,
      solicited: true,
      override: true,
      target: B,
      options: [{ kind: 'target-link-layer', mac: MAC_B }],
    });
    expect(hex(frames[14]!.subarray(56, 58))).toBe('10e8');
  });

  it('frames 16-17: echo request and reply with flow labels, 56 data bytes returned unchanged', () => {
    const request = frame(16);
    const reply = frame(17);
    expect(request.ipv6).toMatchObject({ src: A, dst: B, hopLimit: 64, flowLabel: 0x71543, trafficClass: 0 });
    expect(reply.ipv6).toMatchObject({ src: B, dst: A, flowLabel: 0xedc33 });
    expect(request.icmpv6).toMatchObject({ kind: 'echo-request', identifier: 10742, sequence: 1 });
    expect(reply.icmpv6).toMatchObject({ kind: 'echo-reply', identifier: 10742, sequence: 1 });
    if (request.icmpv6?.kind !== 'echo-request' || reply.icmpv6?.kind !== 'echo-reply')
      throw new Error('echo');
    expect(request.icmpv6.data.length).toBe(56);
    expect(hex(reply.icmpv6.data)).toBe(hex(request.icmpv6.data));
  });

  it('frames 18-23: a 4008-byte echo in fragments at 0, 1448 and 2896, reassembled and verified', () => {
    for (const [first, identification, src, dst] of [
      [18, 0xd49fb03c, A, B],
      [21, 0xd0007cbf, B, A],
    ] as const) {
      const parts = [frame(first), frame(first + 1), frame(first + 2)];
      expect(parts.map((p) => [p.ipv6.src, p.ipv6.nextHeader, p.extensions.length])).toEqual(
        Array(3).fill([src, IPV6_NEXT_FRAGMENT, 1]),
      );
      expect(parts.map((p) => p.fragment)).toEqual([
        { nextHeader: IPV6_NEXT_ICMPV6, offset: 0, moreFragments: true, identification },
        { nextHeader: IPV6_NEXT_ICMPV6, offset: 1448, moreFragments: true, identification },
        { nextHeader: IPV6_NEXT_ICMPV6, offset: 2896, moreFragments: false, identification },
      ]);
      expect(parts.map((p) => p.upper.length)).toEqual([1448, 1448, 1112]);
      const message = new Uint8Array(4008);
      for (const p of parts) message.set(p.upper, p.fragment!.offset);
      const icmp = parseIcmpv6(message, src, dst);
      expect(icmp).toMatchObject({
        ok: true,
        value: { kind: first === 18 ? 'echo-request' : 'echo-reply', identifier: 0x29f7, sequence: 1 },
      });
      expect(hex(message.subarray(2, 4))).toBe(first === 18 ? '983b' : '973b');
    }
  });
});

describe('kernel IPv6 capture: TCP [fd00:77::1]:40000 -> [fd00:77::2]:7777', () => {
  const ISS_A = 3448285789;
  const ISS_B = 880987589;

  it('frame 25: SYN with MSS 1440 (1500 - 60), SACK permitted, timestamps and window scale 10', () => {
    const f = frame(25);
    expect(f.ipv6).toMatchObject({ src: A, dst: B, hopLimit: 64, payloadLength: 40, flowLabel: 0xb0595 });
    expect(f.tcp).toEqual({
      srcPort: 40000,
      dstPort: 7777,
      seq: ISS_A,
      ack: 0,
      flags: TCP_SYN,
      window: 64800,
      urgentPointer: 0,
      options: { mss: 1440, sackPermitted: true, timestamp: { value: 2609183361, echo: 0 }, windowScale: 10 },
      payload: new Uint8Array(0),
    });
    expect(hex(frames[24]!.subarray(70, 72))).toBe('876f');
  });

  it('frames 26-34: SYN-ACK, data both ways and a FIN from each side', () => {
    const expected = [
      [26, B, ISS_B, ISS_A + 1, TCP_SYN | TCP_ACK, 64260, ''],
      [27, A, ISS_A + 1, ISS_B + 1, TCP_ACK, 64, ''],
      [28, A, ISS_A + 1, ISS_B + 1, TCP_PSH | TCP_ACK, 64, 'hello over ipv6\n'],
      [29, B, ISS_B + 1, ISS_A + 17, TCP_ACK, 63, ''],
      [30, A, ISS_A + 17, ISS_B + 1, TCP_FIN | TCP_ACK, 64, ''],
      [31, B, ISS_B + 1, ISS_A + 18, TCP_PSH | TCP_ACK, 63, 'hello over ipv6\n'],
      [32, A, ISS_A + 18, ISS_B + 17, TCP_ACK, 64, ''],
      [33, B, ISS_B + 17, ISS_A + 18, TCP_FIN | TCP_ACK, 63, ''],
      [34, A, ISS_A + 18, ISS_B + 18, TCP_ACK, 64, ''],
    ] as const;
    for (const [n, src, seq, ack, flags, window, payload] of expected) {
      const f = frame(n);
      expect([
        n,
        f.ipv6.src,
        f.tcp!.seq,
        f.tcp!.ack,
        f.tcp!.flags,
        f.tcp!.window,
        text(f.tcp!.payload),
      ]).toEqual([n, src, seq, ack, flags, window, payload]);
    }
  });

  it('a TCP segment does not verify against IPv4 addresses or swapped IPv6 ones', () => {
    const f = frame(25);
    expect(f.tcp).toBeDefined();
    const segment = f.ipv6.payload;
    expect(parseTcp(segment, A, B).ok).toBe(true);
    expect(parseTcp(segment, B, A).ok).toBe(true); // the sum is symmetric in source and destination
    expect(parseTcp(segment, A, A).ok).toBe(false);
    expect(parseTcp(segment, 0x0a4d0001, 0x0a4d0002).ok).toBe(false);
  });
});

describe('kernel IPv6 capture: UDP and extension headers', () => {
  it('frame 35-36: UDP to a closed port and the ICMPv6 port unreachable quoting it', () => {
    const probe = frame(35);
    expect(probe.udp).toEqual({ srcPort: 40001, dstPort: 9, payload: new TextEncoder().encode('probe') });
    const error = frame(36);
    expect(error.ipv6).toMatchObject({ src: B, dst: A });
    expect(error.icmpv6).toMatchObject({ kind: 'destination-unreachable', code: ICMPV6_PORT_UNREACHABLE });
    if (error.icmpv6?.kind !== 'destination-unreachable') throw new Error('unreachable');
    const quoted = parseQuotedIpv6(error.icmpv6.original);
    if (!quoted.ok) throw new Error(quoted.error.message);
    expect(quoted.value).toMatchObject({ src: A, dst: B, nextHeader: IPV6_NEXT_UDP, payloadLength: 13 });
    expect(parseUdp(quoted.value.payload, A, B)).toMatchObject({
      ok: true,
      value: { srcPort: 40001, dstPort: 9 },
    });
  });

  it('frame 37: UDP behind a Destination Options header with a skippable experimental option', () => {
    const f = frame(37);
    expect(f.ipv6.nextHeader).toBe(IPV6_NEXT_DESTINATION_OPTIONS);
    expect(f.extensions.map((h) => [h.protocol, h.nextHeader, h.offset, h.length])).toEqual([
      [IPV6_NEXT_DESTINATION_OPTIONS, IPV6_NEXT_UDP, 0, 8],
    ]);
    expect(f.options[0]!.map((o) => [o.type, hex(o.data), o.offset])).toEqual([[0x1e, 'abcd', 2]]);
    expect(ipv6UnknownOptionAction(0x1e)).toBe('skip');
    expect(f.udp).toEqual({ srcPort: 40002, dstPort: 7000, payload: new TextEncoder().encode('hello udp') });
  });

  it('frame 38: a router advertisement with SLLA, MTU and an autonomous prefix', () => {
    const f = frame(38);
    expect(f.ethernet.dst).toBe(ipv6MulticastMac(IPV6_ALL_NODES));
    expect(f.ipv6).toMatchObject({ src: LL_B, dst: IPV6_ALL_NODES, hopLimit: 255 });
    expect(f.icmpv6).toEqual({
      kind: 'router-advertisement',
      curHopLimit: 64,
      managed: false,
      other: false,
      routerLifetime: 0,
      reachableTime: 0,
      retransTimer: 0,
      options: [
        { kind: 'source-link-layer', mac: MAC_B },
        { kind: 'mtu', mtu: 1500 },
        {
          kind: 'prefix-information',
          prefixLength: 64,
          onLink: true,
          autonomous: true,
          validLifetime: 86400,
          preferredLifetime: 14400,
          prefix: parseIpv6('fd00:78::'),
        },
      ],
    });
  });

  it('frame 40: DAD for the SLAAC address fd00:78::aff:fe4d:1 formed from that prefix', () => {
    const f = frame(40);
    const slaac = parseIpv6('fd00:78::aff:fe4d:1')!;
    expect(slaac).toBe(parseIpv6('fd00:78::')! | eui64InterfaceId(MAC_A));
    expect(f.ipv6).toMatchObject({ src: 0n, dst: solicitedNodeAddress(slaac) });
    expect(f.icmpv6).toMatchObject({ kind: 'neighbor-solicitation', target: slaac });
  });
});
