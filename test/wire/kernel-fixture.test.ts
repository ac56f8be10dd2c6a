/**
 * Known answers from the Linux kernel: test/fixtures/kernel-basic.pcap was captured by
 * test/fixtures/capture-kernel.sh on a veth pair between two namespaces (A 10.77.0.1, B 10.77.0.2).
 * The expected values were read independently with `tshark -V` and `tcpdump -vvv -x`.
 */
import { describe, expect, it } from 'vitest';
import { LINKTYPE_ETHERNET, readPcap } from '../../src/pcap/pcap-reader.js';
import { MAC_BROADCAST } from '../../src/wire/address.js';
import { ARP_REPLY, ARP_REQUEST } from '../../src/wire/arp.js';
import { internetChecksum } from '../../src/wire/checksum.js';
import { ETHERTYPE_ARP, ETHERTYPE_IPV4 } from '../../src/wire/ethernet.js';
import { ICMP_PORT_UNREACHABLE, parseIcmp } from '../../src/wire/icmp.js';
import { IP_PROTOCOL_ICMP, IP_PROTOCOL_UDP, Ipv4View, parseQuotedIpv4 } from '../../src/wire/ipv4.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN } from '../../src/wire/tcp.js';
import { parseUdp } from '../../src/wire/udp.js';
import { decodeFrame, isFragment, kernelCapture, kernelFrames, reemitFrame } from './kernel-frames.js';

const MAC_A = 0x02000a4d0001;
const MAC_B = 0x02000a4d0002;
const IP_A = 0x0a4d0001;
const IP_B = 0x0a4d0002;

const frames = kernelFrames();
/** Frame n as tshark numbers it (from 1). */
const frame = (n: number) => decodeFrame(frames[n - 1]!);
const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('kernel capture: pcap file', () => {
  it('reads the tcpdump file header and all 23 records', () => {
    const file = readPcap(kernelCapture());
    if (!file.ok) throw new Error(file.error.message);
    expect(file.value).toMatchObject({
      linkType: LINKTYPE_ETHERNET,
      snapLength: 262144,
      nanosecondResolution: false,
      bigEndian: false,
      versionMajor: 2,
      versionMinor: 4,
      truncatedTail: false,
    });
    expect(file.value.records.length).toBe(23);
    expect(file.value.records.map((r) => r.data.length)).toEqual([
      42, 42, 98, 98, 1514, 1514, 1082, 1514, 1514, 1082, 74, 74, 66, 88, 66, 66, 88, 66, 66, 66, 47, 75, 51,
    ]);
    for (const record of file.value.records) expect(record.originalLength).toBe(record.data.length);
    const first = file.value.records[0]!;
    expect([first.seconds, first.nanoseconds, first.timestampMs]).toEqual([
      1795632060, 545392000, 1795632060545.392,
    ]);
  });
});

describe('kernel capture: ARP', () => {
  it('frame 1: who-has 10.77.0.2 tell 10.77.0.1, broadcast', () => {
    const f = frame(1);
    expect(f.ethernet).toMatchObject({ dst: MAC_BROADCAST, src: MAC_A, etherType: ETHERTYPE_ARP });
    expect(f.arp).toEqual({
      operation: ARP_REQUEST,
      senderMac: MAC_A,
      senderIp: IP_A,
      targetMac: 0,
      targetIp: IP_B,
    });
  });

  it('frame 2: 10.77.0.2 is-at 02:00:0a:4d:00:02, unicast', () => {
    const f = frame(2);
    expect(f.ethernet).toMatchObject({ dst: MAC_A, src: MAC_B, etherType: ETHERTYPE_ARP });
    expect(f.arp).toEqual({
      operation: ARP_REPLY,
      senderMac: MAC_B,
      senderIp: IP_B,
      targetMac: MAC_A,
      targetIp: IP_A,
    });
  });
});

describe('kernel capture: ICMP echo', () => {
  it('frames 3-4: echo request and reply, id 7497 seq 1, 56 data bytes returned unchanged', () => {
    const request = frame(3);
    expect(request.ethernet).toMatchObject({ dst: MAC_B, src: MAC_A, etherType: ETHERTYPE_IPV4 });
    expect(request.ipv4).toMatchObject({
      tos: 0,
      id: 0xb7e6,
      dontFragment: true,
      moreFragments: false,
      fragmentOffset: 0,
      ttl: 64,
      protocol: IP_PROTOCOL_ICMP,
      src: IP_A,
      dst: IP_B,
      headerLength: 20,
      totalLength: 84,
    });
    expect(request.icmp).toMatchObject({ kind: 'echo-request', identifier: 7497, sequence: 1 });
    const reply = frame(4);
    expect(reply.ipv4).toMatchObject({ id: 0xeed6, dontFragment: false, ttl: 64, src: IP_B, dst: IP_A });
    expect(reply.icmp).toMatchObject({ kind: 'echo-reply', identifier: 7497, sequence: 1 });
    if (request.icmp?.kind !== 'echo-request' || reply.icmp?.kind !== 'echo-reply') throw new Error('echo');
    expect(request.icmp.data.length).toBe(56);
    expect(hex(reply.icmp.data)).toBe(hex(request.icmp.data));
    // Checksums as tshark shows them.
    expect([...frames[2]!.subarray(24, 26), ...frames[2]!.subarray(36, 38)]).toEqual([
      0x6e, 0x26, 0xf7, 0xfd,
    ]);
  });

  it('frames 5-10: a 4008-byte echo in fragments at 0, 1480 and 2960, reassembled and verified', () => {
    for (const [first, id, src] of [
      [5, 0xb7e7, IP_A],
      [8, 0xeed8, IP_B],
    ] as const) {
      const parts = [frame(first), frame(first + 1), frame(first + 2)].map((f) => f.ipv4!);
      expect(parts.map((p) => [p.id, p.src, p.protocol, p.dontFragment])).toEqual(
        Array(3).fill([id, src, IP_PROTOCOL_ICMP, false]),
      );
      expect(parts.map((p) => p.fragmentOffset)).toEqual([0, 1480, 2960]);
      expect(parts.map((p) => p.moreFragments)).toEqual([true, true, false]);
      expect(parts.map((p) => p.payload.length)).toEqual([1480, 1480, 1048]);
      expect(parts.every(isFragment)).toBe(true);
      const message = new Uint8Array(4008);
      for (const p of parts) message.set(p.payload, p.fragmentOffset);
      const icmp = parseIcmp(message);
      expect(icmp).toMatchObject({
        ok: true,
        value: { kind: first === 5 ? 'echo-request' : 'echo-reply', identifier: 7498, sequence: 1 },
      });
      if (!icmp.ok || (icmp.value.kind !== 'echo-request' && icmp.value.kind !== 'echo-reply'))
        throw new Error('echo');
      expect(icmp.value.data.length).toBe(4000);
      expect((message[2]! << 8) | message[3]!).toBe(first === 5 ? 0x8820 : 0x9020);
    }
  });
});

describe('kernel capture: TCP connection 10.77.0.1:40000 -> 10.77.0.2:7777', () => {
  const ISS_A = 1067786262;
  const ISS_B = 3916759195;

  it('frame 11: SYN with MSS 1460, SACK permitted, timestamps and window scale 10', () => {
    const f = frame(11);
    expect(f.ipv4).toMatchObject({ id: 0x67c6, dontFragment: true, ttl: 64, totalLength: 60 });
    expect(f.tcp).toEqual({
      srcPort: 40000,
      dstPort: 7777,
      seq: ISS_A,
      ack: 0,
      flags: TCP_SYN,
      window: 64240,
      urgentPointer: 0,
      options: { mss: 1460, sackPermitted: true, timestamp: { value: 4292185099, echo: 0 }, windowScale: 10 },
      payload: new Uint8Array(0),
    });
    // Linux's option layout, which the emitter reproduces byte for byte (see the round trip below).
    expect(hex(frames[10]!.subarray(54, 74))).toBe('020405b40402080affd58c0b000000000103030a');
    expect(hex(frames[10]!.subarray(50, 52))).toBe('9231');
  });

  it('frame 12: SYN-ACK acknowledging ISS+1 and echoing the timestamp', () => {
    const f = frame(12);
    expect(f.ipv4).toMatchObject({ id: 0, dontFragment: true, src: IP_B, dst: IP_A });
    expect(f.tcp).toMatchObject({
      seq: ISS_B,
      ack: ISS_A + 1,
      flags: TCP_SYN | TCP_ACK,
      window: 65160,
      options: {
        mss: 1460,
        sackPermitted: true,
        timestamp: { value: 612975619, echo: 4292185099 },
        windowScale: 10,
      },
    });
  });

  it('frames 13-20: data both ways and a FIN from each side', () => {
    const expected = [
      [13, IP_A, ISS_A + 1, ISS_B + 1, TCP_ACK, 63, ''],
      [14, IP_A, ISS_A + 1, ISS_B + 1, TCP_PSH | TCP_ACK, 63, 'hello from the kernel\n'],
      [15, IP_B, ISS_B + 1, ISS_A + 23, TCP_ACK, 64, ''],
      [16, IP_A, ISS_A + 23, ISS_B + 1, TCP_FIN | TCP_ACK, 63, ''],
      [17, IP_B, ISS_B + 1, ISS_A + 24, TCP_PSH | TCP_ACK, 64, 'hello from the kernel\n'],
      [18, IP_A, ISS_A + 24, ISS_B + 23, TCP_ACK, 63, ''],
      [19, IP_B, ISS_B + 23, ISS_A + 24, TCP_FIN | TCP_ACK, 64, ''],
      [20, IP_A, ISS_A + 24, ISS_B + 24, TCP_ACK, 63, ''],
    ] as const;
    for (const [n, src, seq, ack, flags, window, payload] of expected) {
      const f = frame(n);
      expect([
        n,
        f.ipv4!.src,
        f.tcp!.seq,
        f.tcp!.ack,
        f.tcp!.flags,
        f.tcp!.window,
        text(f.tcp!.payload),
      ]).toEqual([n, src, seq, ack, flags, window, payload]);
      // Established segments carry NOP NOP timestamps and nothing else.
      expect(Object.keys(f.tcp!.options)).toEqual(['timestamp']);
    }
    expect(frame(18).tcp!.options.timestamp).toEqual({ value: 4292185101, echo: 612975621 });
  });
});

describe('kernel capture: UDP', () => {
  it('frame 21: "probe" from 40001 to the closed port 9, checksum 0x0a18', () => {
    const f = frame(21);
    expect(f.ipv4).toMatchObject({
      id: 0x0dfd,
      dontFragment: true,
      protocol: IP_PROTOCOL_UDP,
      totalLength: 33,
    });
    expect(f.udp).toEqual({ srcPort: 40001, dstPort: 9, payload: new TextEncoder().encode('probe') });
    expect(hex(frames[20]!.subarray(40, 42))).toBe('0a18');
  });

  it('frame 22: ICMP port unreachable quoting the whole datagram of frame 21', () => {
    const f = frame(22);
    expect(f.ipv4).toMatchObject({
      tos: 0xc0,
      src: IP_B,
      dst: IP_A,
      protocol: IP_PROTOCOL_ICMP,
      totalLength: 61,
    });
    expect(f.icmp).toMatchObject({
      kind: 'destination-unreachable',
      code: ICMP_PORT_UNREACHABLE,
      nextHopMtu: 0,
    });
    if (f.icmp?.kind !== 'destination-unreachable') throw new Error('unreachable');
    expect(hex(f.icmp.original)).toBe(hex(frames[20]!.subarray(14)));
    const quoted = parseQuotedIpv4(f.icmp.original);
    if (!quoted.ok) throw new Error(quoted.error.message);
    expect(quoted.value).toMatchObject({
      id: 0x0dfd,
      ttl: 64,
      protocol: IP_PROTOCOL_UDP,
      src: IP_A,
      dst: IP_B,
    });
    expect(parseUdp(quoted.value.payload, IP_A, IP_B)).toMatchObject({
      ok: true,
      value: { srcPort: 40001, dstPort: 9 },
    });
    expect(hex(frames[21]!.subarray(36, 38))).toBe('11b8');
  });

  it('frame 23: "hello udp" (odd length) from 40002 to 7000, checksum 0x0a3e', () => {
    const f = frame(23);
    expect(f.udp).toEqual({ srcPort: 40002, dstPort: 7000, payload: new TextEncoder().encode('hello udp') });
    expect(hex(frames[22]!.subarray(40, 42))).toBe('0a3e');
  });
});

describe('kernel capture: every frame', () => {
  it('verifies the IPv4 header checksum through the view too', () => {
    for (const data of frames) {
      const view = Ipv4View.fromBytes(data.subarray(14));
      if (!view.ok) continue; // ARP
      expect(view.value.checksumValid()).toBe(true);
      expect(internetChecksum(data, 14, view.value.headerLength)).toBe(0);
    }
  });

  it('re-emits byte for byte from the parsed representations, checksums recomputed', () => {
    frames.forEach((data, index) => {
      const again = reemitFrame(decodeFrame(data), data.length);
      expect(`${index + 1}: ${hex(again)}`).toBe(`${index + 1}: ${hex(data)}`);
    });
  });
});
