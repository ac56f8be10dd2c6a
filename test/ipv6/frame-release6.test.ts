/**
 * What an IPv6 stack answers its device for each frame (FRAME_RELEASED in seams.ts), as
 * test/ip/frame-release-drops.test.ts checks for IPv4: the upper layer's answer is passed down, and a frame
 * dropped on the way up is released, so a device that lends memory (a memory link's frame allocator)
 * carves it again. Frames something may keep (a socket's datagram, a fragment waiting for the rest) are
 * not released; a listener reads numbers out of a SYN and keeps no view of it.
 */
import { describe, expect, test } from 'vitest';
import { FRAME_RELEASED } from '../../src/link/device.js';
import { SimulatedNetwork } from '../../src/sim/network.js';
import { Stack } from '../../src/stack.js';
import type { TcpConnection } from '../../src/tcp/connection.js';
import { VirtualClock } from '../../src/time/virtual-clock.js';
import { TraceRecorder } from '../../src/trace/events.js';
import { ETHERTYPE_IPV6, emitEthernetHeader, parseEthernet } from '../../src/wire/ethernet.js';
import { emitIcmpv6, type Icmpv6Message, icmpv6Length, parseIcmpv6 } from '../../src/wire/icmpv6.js';
import {
  emitIpv6Header,
  IPV6_NEXT_DESTINATION_OPTIONS,
  IPV6_NEXT_FRAGMENT,
  IPV6_NEXT_ICMPV6,
  IPV6_NEXT_TCP,
  IPV6_NEXT_UDP,
  parseIpv6,
} from '../../src/wire/ipv6.js';
import { type Ipv6Address, parseIpv6 as ip6 } from '../../src/wire/ipv6-address.js';
import { emitTcp, TCP_ACK, TCP_SYN, type TcpSegment } from '../../src/wire/tcp.js';
import { emitUdp } from '../../src/wire/udp.js';
import { drops, flipped, HOST_MAC, PEER_MAC, RecordingDevice } from '../ip/harness.js';
import { pattern } from '../tcp/dialogue.js';

const HOST6 = ip6('2001:db8::1')!;
const PEER6 = ip6('2001:db8::2')!;

/** A stack with IPv6 on a device the test holds both ends of, its address past DAD, the peer known. */
function host() {
  const clock = new VirtualClock();
  const trace = new TraceRecorder();
  const stack = new Stack({ name: 'host', clock, tracer: trace, seed: 7 });
  const device = new RecordingDevice('host-eth0', HOST_MAC);
  const iface = stack.addIpv6Interface(device, { addresses: ['2001:db8::1/64'] });
  iface.neighbors.addStatic(PEER6, PEER_MAC);
  clock.advance(3000);
  device.take();
  trace.events.length = 0;
  return { clock, trace, stack, device };
}

/** An Ethernet frame carrying one IPv6 packet (defaults: peer to host, hop limit 64). */
function ipv6Frame(spec: {
  nextHeader: number;
  payload: Uint8Array;
  src?: Ipv6Address;
  dst?: Ipv6Address;
  dstMac?: number;
}): Uint8Array {
  const frame = new Uint8Array(14 + 40 + spec.payload.length);
  emitEthernetHeader({ dst: spec.dstMac ?? HOST_MAC, src: PEER_MAC, etherType: ETHERTYPE_IPV6 }, frame, 0);
  emitIpv6Header(
    {
      trafficClass: 0,
      flowLabel: 0,
      nextHeader: spec.nextHeader,
      hopLimit: 64,
      src: spec.src ?? PEER6,
      dst: spec.dst ?? HOST6,
    },
    spec.payload.length,
    frame,
    14,
  );
  frame.set(spec.payload, 54);
  return frame;
}

function udpFrame(dstPort: number, dst = HOST6): Uint8Array {
  const payload = new Uint8Array(8 + 4).fill(0x5a);
  emitUdp({ srcPort: 1111, dstPort, payload: payload.subarray(8) }, PEER6, dst, payload, 0);
  return ipv6Frame({ nextHeader: IPV6_NEXT_UDP, payload, dst });
}

function tcpFrame(segment: Partial<TcpSegment>): Uint8Array {
  const seg: TcpSegment = {
    srcPort: 40000,
    dstPort: 80,
    seq: 1000,
    ack: 0,
    flags: TCP_SYN,
    window: 65535,
    urgentPointer: 0,
    options: {},
    payload: new Uint8Array(0),
    ...segment,
  };
  const bytes = new Uint8Array(20 + seg.payload.length);
  emitTcp(seg, PEER6, HOST6, bytes, 0);
  return ipv6Frame({ nextHeader: IPV6_NEXT_TCP, payload: bytes });
}

function icmpv6Frame(message: Icmpv6Message): Uint8Array {
  const bytes = new Uint8Array(icmpv6Length(message));
  emitIcmpv6(message, PEER6, HOST6, bytes, 0);
  return ipv6Frame({ nextHeader: IPV6_NEXT_ICMPV6, payload: bytes });
}

/** The ICMPv6 message in a frame the stack sent. */
function sentIcmpv6(frame: Uint8Array): Icmpv6Message {
  const eth = parseEthernet(frame);
  if (!eth.ok) throw new Error(eth.error.message);
  const packet = parseIpv6(eth.value.payload);
  if (!packet.ok || packet.value.nextHeader !== IPV6_NEXT_ICMPV6) throw new Error('not ICMPv6');
  const message = parseIcmpv6(packet.value.payload, packet.value.src, packet.value.dst);
  if (!message.ok) throw new Error(message.error.message);
  return message.value;
}

/** Ethernet 14 + IPv6 40: where the upper layer starts in the frames above. */
const UPPER = 54;

describe('frames an IPv6 stack drops are released to the device', () => {
  test.each([
    ['a packet whose version is not 6', () => flipped(udpFrame(7), 14), 'ipv6:bad-version'],
    [
      'a packet longer than its frame',
      () => {
        const frame = udpFrame(7);
        frame[19] = 200; // Payload Length
        return frame;
      },
      'ipv6:bad-total-length',
    ],
    [
      'a multicast source',
      () => ipv6Frame({ nextHeader: IPV6_NEXT_UDP, payload: new Uint8Array(8), src: ip6('ff02::1')! }),
      'ipv6:bad-source',
    ],
    ['a packet for another host (not forwarding)', () => udpFrame(7, ip6('2001:db8::9')!), 'ipv6:not-for-us'],
    [
      'a group the host is not in',
      () =>
        ipv6Frame({
          nextHeader: IPV6_NEXT_UDP,
          payload: new Uint8Array(8),
          dst: ip6('ff02::1:2345')!,
          dstMac: 0x3333_0001_2345,
        }),
      'ipv6:multicast-not-joined',
    ],
    [
      'an extension header cut short',
      () =>
        ipv6Frame({
          nextHeader: IPV6_NEXT_DESTINATION_OPTIONS,
          payload: new Uint8Array([IPV6_NEXT_UDP, 4, 0, 0]),
        }),
      'ipv6:truncated-extension-header',
    ],
    ['a UDP datagram with a bad checksum', () => flipped(udpFrame(7), UPPER + 9), 'udp:bad-checksum'],
    [
      'a TCP segment with a bad checksum',
      () => flipped(tcpFrame({ flags: TCP_ACK, ack: 1 }), UPPER + 4),
      'tcp:bad-checksum',
    ],
    [
      'a malformed ICMPv6 message (bad checksum)',
      () =>
        flipped(
          icmpv6Frame({ kind: 'echo-request', identifier: 1, sequence: 1, data: new Uint8Array(8) }),
          UPPER + 9,
        ),
      'icmpv6:bad-checksum',
    ],
  ])('%s', (_what, frame, drop) => {
    const h = host();
    expect(h.device.deliver(frame())).toBe(FRAME_RELEASED);
    expect(drops(h.trace)).toEqual([drop]);
  });

  test('an echo request: answered, and nothing of it kept', () => {
    const h = host();
    const data = new Uint8Array(32).fill(0x77);
    const request = icmpv6Frame({ kind: 'echo-request', identifier: 9, sequence: 3, data });
    expect(h.device.deliver(request)).toBe(FRAME_RELEASED);
    request.fill(0);
    const [reply] = h.device.take();
    expect(sentIcmpv6(reply!)).toMatchObject({ kind: 'echo-reply', identifier: 9, sequence: 3, data });
  });

  test('errors that quote the dropped packet copied it before the frame was released', () => {
    // A datagram to a port nothing is bound to, a packet of a next header nothing handles, a segment for
    // no connection: each is answered (port unreachable, parameter problem, reset) and released.
    const h = host();
    const toNoPort = udpFrame(7);
    const unknownNextHeader = ipv6Frame({ nextHeader: 253, payload: new Uint8Array(12).fill(0xab) });
    const toClosedPort = tcpFrame({ flags: TCP_ACK, ack: 5555 });
    const originals = [toNoPort.slice(14), unknownNextHeader.slice(14)];
    expect(h.device.deliver(toNoPort)).toBe(FRAME_RELEASED);
    expect(h.device.deliver(unknownNextHeader)).toBe(FRAME_RELEASED);
    expect(h.device.deliver(toClosedPort)).toBe(FRAME_RELEASED);
    // The device may write over them now: what was sent is unchanged.
    for (const frame of [toNoPort, unknownNextHeader, toClosedPort]) frame.fill(0xff);
    const [portUnreachable, parameterProblem, reset] = h.device.take();
    const errors = [sentIcmpv6(portUnreachable!), sentIcmpv6(parameterProblem!)];
    expect(errors[0]).toMatchObject({ kind: 'destination-unreachable', code: 4 });
    expect(errors[1]).toMatchObject({ kind: 'parameter-problem', code: 1, pointer: 6 });
    for (const [i, message] of errors.entries()) {
      expect([...(message as { original: Uint8Array }).original]).toEqual([...originals[i]!]);
    }
    const resetPacket = parseIpv6(reset!.subarray(14));
    expect(resetPacket.ok && resetPacket.value.nextHeader).toBe(IPV6_NEXT_TCP);
    // <SEQ=SEG.ACK><CTL=RST> (RFC 9293 §3.10.7.1)
    expect(new DataView(reset!.buffer, reset!.byteOffset + UPPER).getUint32(4)).toBe(5555);
  });

  test('frames something may keep are not released', () => {
    const h = host();
    const kept: Uint8Array[] = [];
    h.stack.udp.bind({ port: 7, address: 0n }, { message: (payload) => kept.push(payload) });
    h.stack.tcp.listen({ port: 80, address: 0n });
    // A datagram a socket was given, a fragment waiting for the rest.
    expect(h.device.deliver(udpFrame(7))).toBe(undefined);
    const fragment = new Uint8Array(8 + 16);
    fragment[0] = IPV6_NEXT_UDP;
    fragment[3] = 1; // offset 0, more fragments
    fragment[7] = 42; // identification
    expect(h.device.deliver(ipv6Frame({ nextHeader: IPV6_NEXT_FRAGMENT, payload: fragment }))).toBe(
      undefined,
    );
    expect(kept).toHaveLength(1);
    expect(drops(h.trace)).toEqual([]);
  });
});

describe('frames given back by a memory link carrying IPv6', () => {
  /** Two IPv6 hosts on one link past DAD; `b` reads everything `a` writes to its port 80. */
  function transfer(
    seed: number,
    impairments: { corrupt?: number; corruptBits?: number; duplicate?: number },
  ) {
    const net = new SimulatedNetwork({ seed, trace: false });
    const a = net.host('a', '2001:db8::1/64');
    const b = net.host('b', '2001:db8::2/64');
    const link = net.link(a, b, { impairments }).link;
    link.setImpairments('b->a', impairments);
    net.run(3000); // DAD
    const data = pattern(1024 * 1024, 5);
    const received = new Uint8Array(data.length);
    let at = 0;
    b.tcp.listen({ port: 80, address: 0n }).on('connection', (conn: TcpConnection) => {
      conn.on('readable', () => {
        for (;;) {
          const n = conn.receiveInto(received.subarray(at), net.clock.now());
          if (n <= 0) break;
          at += n;
        }
      });
    });
    const conn = a.tcp.connect({ remoteAddress: PEER6, remotePort: 80 });
    let sent = 0;
    const write = (): void => {
      while (sent < data.length) {
        const n = conn.send(data.subarray(sent), net.clock.now());
        sent += n;
        if (n === 0) return;
      }
    };
    conn.on('connected', write);
    conn.on('drain', write);
    net.runUntilIdle();
    expect(at).toBe(data.length);
    expect(received.every((byte, i) => byte === data[i])).toBe(true);
    return { a, b, link };
  }

  test('gives back every frame a connection copied, both ways, and neighbour discovery', () => {
    const { b, link } = transfer(1, {});
    expect(b.tcp.counters.segmentsIn).toBeGreaterThan(700);
    // Every frame came back (the listener's SYN too), DAD and NDP frames with them.
    expect(link.counters('a->b').delivered).toBeGreaterThan(b.tcp.counters.segmentsIn);
    expect(link.releasedFrames('a->b')).toBe(link.counters('a->b').delivered);
    expect(link.releasedFrames('b->a')).toBe(link.counters('b->a').delivered);
  });

  test('gives back every corrupted or duplicated frame a stack drops', () => {
    const { b, link } = transfer(3, { corrupt: 0.03, corruptBits: 32, duplicate: 0.02 });
    expect(link.counters('a->b').corrupted).toBeGreaterThan(10);
    expect(link.counters('a->b').duplicated).toBeGreaterThan(5);
    expect(b.counters.TcpInCsumErrors).toBeGreaterThan(5);
    expect(link.releasedFrames('a->b')).toBe(link.counters('a->b').delivered);
    expect(link.releasedFrames('b->a')).toBe(link.counters('b->a').delivered);
  });
});
