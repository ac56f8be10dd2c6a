/**
 * The IP layer with a device that offers offloads (as a TAP with virtio-net headers does), driven on a
 * virtual clock through a recording device: partial checksums and headroom on the way out, one TSO frame
 * for a TCP segment beyond the MTU, software segmentation where the device cannot (or ARP must queue),
 * trusted checksums and over-MTU packets on the way in, and forwarding of a large received packet onto a
 * plain link. Devices without offloads see exactly what they saw before.
 */

import { describe, expect, it } from 'vitest';
import type {
  DeviceOffload,
  FrameTransmitOptions,
  NetworkDevice,
  ReceivedFrameInfo,
} from '../../src/link/device.js';
import { Stack } from '../../src/stack.js';
import { segmentTcpPacket } from '../../src/tcp/ip-glue/tcp-segmentation.js';
import { VirtualClock } from '../../src/time/virtual-clock.js';
import { type Ipv4Address, parseIpv4 as parseIpv4Address, writeMac } from '../../src/wire/address.js';
import { ARP_REPLY, emitArp } from '../../src/wire/arp.js';
import { checksumAdd, checksumFinish, pseudoHeaderSum } from '../../src/wire/checksum.js';
import { ETHERTYPE_ARP } from '../../src/wire/ethernet.js';
import { emitIpv4Header, IP_PROTOCOL_TCP, IP_PROTOCOL_UDP, parseIpv4 } from '../../src/wire/ipv4.js';
import {
  emitTcp,
  parseTcp,
  TCP_ACK,
  TCP_CWR,
  TCP_FIN,
  TCP_PSH,
  type TcpSegment,
} from '../../src/wire/tcp.js';
import { emitUdp, parseUdp } from '../../src/wire/udp.js';

const US_MAC = 0x02_00_00_00_00_02;
const PEER_MAC = 0x02_00_00_00_00_01;
const FAR_MAC = 0x02_00_00_00_00_03;
const US = ip('10.7.0.2');
const PEER = ip('10.7.0.1');
const FAR = ip('10.8.0.9');

function ip(text: string): Ipv4Address {
  return parseIpv4Address(text)!;
}

interface SentFrame {
  frame: Uint8Array;
  /** Bytes before the frame in its buffer. */
  byteOffset: number;
  options: FrameTransmitOptions | undefined;
}

/** Records what the stack sends; delivers what the test hands it. */
class RecordingDevice implements NetworkDevice {
  readonly sent: SentFrame[] = [];
  private receiver: ((frame: Uint8Array, info?: ReceivedFrameInfo) => void) | undefined;

  constructor(
    readonly name: string,
    readonly mtu: number,
    readonly mac: number,
    readonly offload?: DeviceOffload,
  ) {}

  send(frame: Uint8Array, options?: FrameTransmitOptions): void {
    this.sent.push({
      frame: frame.slice(),
      byteOffset: frame.byteOffset,
      options: options === undefined ? undefined : { ...options },
    });
  }

  setReceiver(receiver: (frame: Uint8Array, info?: ReceivedFrameInfo) => void): void {
    this.receiver = receiver;
  }

  deliver(frame: Uint8Array, info?: ReceivedFrameInfo): void {
    this.receiver!(frame, info);
  }
}

const TAP_OFFLOAD: DeviceOffload = { transmitChecksum: true, tcpSegmentationMax: 65535, headroom: 12 };

function makeStack(offload: DeviceOffload | undefined, mtu = 1500) {
  const clock = new VirtualClock();
  const stack = new Stack({ name: 'us', clock, seed: 'offload' });
  const device = new RecordingDevice('tap0', mtu, US_MAC, offload);
  const iface = stack.addInterface(device, { address: '10.7.0.2/24' });
  return { clock, stack, device, iface };
}

function payload(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 7 + 3) & 0xff;
  return bytes;
}

function segment(data: Uint8Array, flags = TCP_ACK | TCP_PSH): TcpSegment {
  return {
    srcPort: 40000,
    dstPort: 5001,
    seq: 0xfffff000, // wraps within the segment
    ack: 12345,
    flags,
    window: 512,
    urgentPointer: 0,
    options: { timestamp: { value: 1, echo: 2 } },
    payload: data,
  };
}

/** The finished checksum over the transport part of `frame` (which must hold the pseudo-header sum). */
function completedChecksum(frame: Uint8Array, start: number): number {
  return checksumFinish(checksumAdd(0, frame, start, frame.length - start));
}

/** Parses each frame as IPv4 + TCP with checksums verified; returns seq, flags, payload length. */
function tcpPieces(frames: readonly Uint8Array[]) {
  return frames.map((frame) => {
    const packet = parseIpv4(frame.subarray(14));
    if (!packet.ok) throw new Error(packet.error.kind);
    const tcp = parseTcp(packet.value.payload, packet.value.src, packet.value.dst);
    if (!tcp.ok) throw new Error(tcp.error.kind);
    return {
      length: packet.value.totalLength,
      id: packet.value.id,
      df: packet.value.dontFragment,
      seq: tcp.value.seq,
      flags: tcp.value.flags,
      data: tcp.value.payload,
      timestamp: tcp.value.options.timestamp,
    };
  });
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** An ARP reply from PEER, so queued frames flush. */
function arpReply(): Uint8Array {
  const frame = new Uint8Array(14 + 28);
  writeMac(frame, 0, US_MAC);
  writeMac(frame, 6, PEER_MAC);
  frame[12] = ETHERTYPE_ARP >>> 8;
  frame[13] = ETHERTYPE_ARP & 0xff;
  emitArp(
    { operation: ARP_REPLY, senderMac: PEER_MAC, senderIp: PEER, targetMac: US_MAC, targetIp: US },
    frame,
    14,
  );
  return frame;
}

/** A frame from PEER to US carrying `transport` (already emitted) as `protocol`. */
function inbound(protocol: number, transport: Uint8Array, src = PEER, dst = US, dstMac = US_MAC): Uint8Array {
  const frame = new Uint8Array(14 + 20 + transport.length);
  writeMac(frame, 0, dstMac);
  writeMac(frame, 6, PEER_MAC);
  frame[12] = 0x08;
  emitIpv4Header(
    {
      tos: 0,
      id: 77,
      dontFragment: true,
      moreFragments: false,
      fragmentOffset: 0,
      ttl: 64,
      protocol,
      src,
      dst,
    },
    transport.length,
    frame,
    14,
  );
  frame.set(transport, 34);
  return frame;
}

/** A TCP segment whose checksum field holds only the pseudo-header sum, as the kernel leaves it. */
function partialTcp(seg: TcpSegment, src: Ipv4Address, dst: Ipv4Address): Uint8Array {
  const bytes = new Uint8Array(20 + 12 + seg.payload.length);
  const length = emitTcp(seg, src, dst, bytes, 0, { computeChecksum: false });
  const sum = pseudoHeaderSum(src, dst, IP_PROTOCOL_TCP, length);
  bytes[16] = sum >>> 8;
  bytes[17] = sum & 0xff;
  return bytes;
}

describe('sending through a device with offloads', () => {
  it('leaves a UDP checksum partial, in a frame built behind the headroom the device asks for', () => {
    const { clock, stack, device, iface } = makeStack(TAP_OFFLOAD);
    iface.arp.addStatic(PEER, PEER_MAC);
    const socket = stack.udp.bind({ port: 5353 });
    socket.send(payload(100), 53, '10.7.0.1');
    clock.runUntilIdle();

    expect(device.sent).toHaveLength(1);
    const { frame, byteOffset, options } = device.sent[0]!;
    expect(options).toEqual({ checksumStart: 34, checksumOffset: 6, segmentSize: 0, headroom: 12 });
    // The device may write its 12-byte header in front of the frame, inside the same buffer.
    expect(byteOffset).toBeGreaterThanOrEqual(12);
    // The field holds the pseudo-header sum; summing from checksumStart finishes the checksum.
    expect((frame[40]! << 8) | frame[41]!).toBe(pseudoHeaderSum(US, PEER, IP_PROTOCOL_UDP, 108));
    const finished = completedChecksum(frame, 34);
    frame[40] = finished >>> 8;
    frame[41] = finished & 0xff;
    const udp = parseUdp(frame.subarray(34), US, PEER);
    expect(udp.ok && [...udp.value.payload]).toEqual([...payload(100)]);
  });

  it('sends a TCP segment beyond the MTU as one TSO frame, the segment size cut to what the MTU holds', () => {
    const { stack, device, iface } = makeStack(TAP_OFFLOAD, 1400);
    iface.arp.addStatic(PEER, PEER_MAC);
    expect(stack.ip.tsoSizeFor(PEER)).toBe(65535);
    expect(stack.tcpBinding.tsoSizeFor?.(PEER)).toBe(65535);
    const data = payload(20000);
    expect(stack.tcpBinding.send(US, PEER, segment(data), 1448)).toBe('ok');

    expect(device.sent).toHaveLength(1);
    const { frame, options } = device.sent[0]!;
    // MTU 1400 holds 1400 - 20 - 32 = 1348 bytes per segment behind the 32-byte TCP header (timestamps).
    expect(options).toEqual({ checksumStart: 34, checksumOffset: 16, segmentSize: 1348, headroom: 12 });
    expect(frame.length).toBe(14 + 20 + 32 + 20000);
    const packet = parseIpv4(frame.subarray(14));
    expect(packet.ok && [packet.value.totalLength, packet.value.dontFragment]).toEqual([20052, true]);
    expect((frame[50]! << 8) | frame[51]!).toBe(pseudoHeaderSum(US, PEER, IP_PROTOCOL_TCP, 20032));
    // What the kernel makes of it: the segments software segmentation gives, byte-exact.
    const pieces = tcpPieces(segmentTcpPacket(frame.subarray(14), options!.segmentSize, 14)!);
    expect(pieces).toHaveLength(15);
    expect(concat(pieces.map((p) => p.data))).toEqual(data);
  });

  it('segments in software when ARP must hold the frames, then flushes them as plain frames', () => {
    const { clock, stack, device } = makeStack(TAP_OFFLOAD);
    const data = payload(4000);
    expect(stack.tcpBinding.send(US, PEER, segment(data, TCP_ACK | TCP_PSH | TCP_FIN | TCP_CWR), 1448)).toBe(
      'ok',
    );
    expect(device.sent.map((s) => (s.frame[12]! << 8) | s.frame[13]!)).toEqual([ETHERTYPE_ARP]);
    device.deliver(arpReply());
    clock.runUntilIdle();

    const flushed = device.sent.slice(1);
    expect(flushed.map((s) => s.options)).toEqual([undefined, undefined, undefined]);
    const pieces = tcpPieces(flushed.map((s) => s.frame));
    expect(pieces.map((p) => [p.length, p.seq, p.flags, p.df])).toEqual([
      [20 + 32 + 1448, 0xfffff000, TCP_ACK | TCP_CWR, true],
      [20 + 32 + 1448, 0xfffff5a8, TCP_ACK, true],
      [20 + 32 + 1104, 0xfffffb50, TCP_ACK | TCP_PSH | TCP_FIN, true],
    ]);
    expect(pieces.map((p) => p.id - pieces[0]!.id)).toEqual([0, 1, 2]);
    expect(pieces.every((p) => p.timestamp?.value === 1 && p.timestamp.echo === 2)).toBe(true);
    expect(concat(pieces.map((p) => p.data))).toEqual(data);
  });

  it('without offloads: tsoSizeFor is the MTU, a large segment is cut in software, no options reach the device', () => {
    const { stack, device, iface } = makeStack(undefined);
    iface.arp.addStatic(PEER, PEER_MAC);
    expect(stack.ip.tsoSizeFor(PEER)).toBe(1500);
    const data = payload(3000);
    expect(stack.tcpBinding.send(US, PEER, segment(data), 1448)).toBe('ok');
    expect(device.sent.map((s) => [s.frame.length, s.options, s.byteOffset])).toEqual([
      [14 + 20 + 32 + 1448, undefined, 0],
      [14 + 20 + 32 + 1448, undefined, 0],
      [14 + 20 + 32 + 104, undefined, 0],
    ]);
    expect(concat(tcpPieces(device.sent.map((s) => s.frame)).map((p) => p.data))).toEqual(data);
    // An ordinary segment: one frame, checksum complete.
    device.sent.length = 0;
    stack.tcpBinding.send(US, PEER, segment(payload(10)));
    expect(tcpPieces([device.sent[0]!.frame])[0]!.data).toEqual(payload(10));
  });
});

describe('receiving from a device with offloads', () => {
  it('delivers a large TCP packet with a partial checksum when the device vouches for it, else drops it', () => {
    const { stack, device } = makeStack(TAP_OFFLOAD);
    const received: number[] = [];
    stack.attachTcp({ receive: (_src, _dst, seg) => received.push(seg.payload.length) });
    const big = inbound(IP_PROTOCOL_TCP, partialTcp(segment(payload(30000)), PEER, US));

    device.deliver(big, { checksumTrusted: true, segmentSize: 1448 });
    expect(received).toEqual([30000]);
    expect(stack.counters.TcpInCsumErrors).toBe(0);

    device.deliver(big);
    device.deliver(big, { checksumTrusted: false, segmentSize: 0 });
    expect(received).toEqual([30000]);
    expect(stack.counters.TcpInCsumErrors).toBe(2);
  });

  it('delivers a UDP datagram with a partial checksum only when the device vouches for it', () => {
    const { stack, device } = makeStack(TAP_OFFLOAD);
    const messages: number[] = [];
    stack.udp.bind({ port: 53 }, { message: (data) => messages.push(data.length) });
    const udp = new Uint8Array(8 + 50);
    emitUdp({ srcPort: 999, dstPort: 53, payload: payload(50) }, PEER, US, udp, 0, {
      computeChecksum: false,
    });
    const sum = pseudoHeaderSum(PEER, US, IP_PROTOCOL_UDP, 58);
    udp[6] = sum >>> 8;
    udp[7] = sum & 0xff;
    device.deliver(inbound(IP_PROTOCOL_UDP, udp), { checksumTrusted: true, segmentSize: 0 });
    device.deliver(inbound(IP_PROTOCOL_UDP, udp));
    expect(messages).toEqual([50]);
    expect(stack.counters.UdpInCsumErrors).toBe(1);
  });
});

describe('forwarding a large packet from an offloading device', () => {
  function router(farMtu: number) {
    const clock = new VirtualClock();
    const stack = new Stack({ name: 'router', clock, seed: 'router', forwarding: true });
    const tap = new RecordingDevice('tap0', 1500, US_MAC, TAP_OFFLOAD);
    const plain = new RecordingDevice('eth1', farMtu, 0x02_00_00_00_00_04);
    stack.addInterface(tap, { address: '10.7.0.2/24' }).arp.addStatic(PEER, PEER_MAC);
    stack.addInterface(plain, { address: '10.8.0.1/24' }).arp.addStatic(FAR, FAR_MAC);
    return { clock, stack, tap, plain };
  }

  it('cuts it into the segments it stands for, with complete checksums and TTL - 1', () => {
    const { tap, plain, stack } = router(1500);
    const data = payload(5000);
    const big = inbound(IP_PROTOCOL_TCP, partialTcp(segment(data), PEER, FAR), PEER, FAR);
    tap.deliver(big, { checksumTrusted: true, segmentSize: 1448 });

    expect(plain.sent.map((s) => s.frame.length)).toEqual([
      14 + 1500,
      14 + 1500,
      14 + 1500,
      14 + 20 + 32 + 656,
    ]);
    const pieces = tcpPieces(plain.sent.map((s) => s.frame));
    expect(concat(pieces.map((p) => p.data))).toEqual(data);
    expect(plain.sent.every((s) => s.frame[14 + 8] === 63)).toBe(true);
    expect(stack.counters.IpForwDatagrams).toBe(1);
  });

  it('cuts it by its segment size even when it fits the next hop’s MTU whole (the receiver’s MSS)', () => {
    const { tap, plain } = router(1500);
    const data = payload(1000);
    const big = inbound(IP_PROTOCOL_TCP, partialTcp(segment(data), PEER, FAR), PEER, FAR);
    tap.deliver(big, { checksumTrusted: true, segmentSize: 536 });
    const pieces = tcpPieces(plain.sent.map((s) => s.frame));
    expect(pieces.map((p) => [p.seq, p.data.length])).toEqual([
      [0xfffff000, 536],
      [0xfffff000 + 536, 464],
    ]);
    expect(concat(pieces.map((p) => p.data))).toEqual(data);
  });

  it('answers "fragmentation needed" when its segments do not fit the next hop and DF is set', () => {
    const { tap, plain } = router(1000);
    const big = inbound(IP_PROTOCOL_TCP, partialTcp(segment(payload(5000)), PEER, FAR), PEER, FAR);
    tap.deliver(big, { checksumTrusted: true, segmentSize: 1448 });
    expect(plain.sent).toHaveLength(0);
    expect(tap.sent).toHaveLength(1);
    const icmp = tap.sent[0]!.frame.subarray(34);
    // Type 3 code 4, next-hop MTU 1000 (RFC 1191).
    expect([icmp[0], icmp[1], (icmp[6]! << 8) | icmp[7]!]).toEqual([3, 4, 1000]);
  });
});
