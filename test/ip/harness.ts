/**
 * A stack on a device the test holds both ends of: every frame the stack sends is recorded, and frames
 * built here are injected as if they came from the wire. With the virtual clock the test decides when
 * anything happens.
 */
import type { IpInterface } from '../../src/ip/ip-interface.js';
import type { DeviceOffload, FrameTransmitOptions, NetworkDevice } from '../../src/link/device.js';
import { Stack, type StackOptions } from '../../src/stack.js';
import { VirtualClock } from '../../src/time/virtual-clock.js';
import { TraceRecorder } from '../../src/trace/events.js';
import { type Ipv4Address, type MacAddress, parseIpv4 as parseAddress } from '../../src/wire/address.js';
import { ARP_REQUEST, type ArpPacket, emitArp, parseArp } from '../../src/wire/arp.js';
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, emitEthernetHeader, parseEthernet } from '../../src/wire/ethernet.js';
import { emitIcmp, type IcmpMessage, icmpLength, parseIcmp } from '../../src/wire/icmp.js';
import {
  emitIpv4Header,
  IP_PROTOCOL_ICMP,
  IP_PROTOCOL_UDP,
  type Ipv4Header,
  type Ipv4Packet,
  parseIpv4,
} from '../../src/wire/ipv4.js';
import { emitUdp, parseUdp, type UdpDatagram } from '../../src/wire/udp.js';

export const HOST_MAC: MacAddress = 0x02_00_00_00_00_01;
export const PEER_MAC: MacAddress = 0x02_00_00_00_00_02;
export const OTHER_MAC: MacAddress = 0x02_00_00_00_00_03;
export const GATEWAY_MAC: MacAddress = 0x02_00_00_00_00_fe;

export function ip(text: string): Ipv4Address {
  const a = parseAddress(text);
  if (a === undefined) throw new Error(`bad address ${text}`);
  return a;
}

export const HOST_IP = ip('10.0.0.1');
export const PEER_IP = ip('10.0.0.2');
export const GATEWAY_IP = ip('10.0.0.254');

export class RecordingDevice implements NetworkDevice {
  readonly sent: Uint8Array[] = [];
  /** The offload requests each frame in `sent` came with (undefined: none), same order. */
  readonly sentOptions: (FrameTransmitOptions | undefined)[] = [];
  private receiver: ((frame: Uint8Array) => unknown) | undefined;

  constructor(
    readonly name: string,
    readonly mac: MacAddress,
    readonly mtu = 1500,
    readonly checksumOffload = false,
    readonly offload?: DeviceOffload,
  ) {}

  send(frame: Uint8Array, options?: FrameTransmitOptions): void {
    this.sent.push(frame);
    this.sentOptions.push(options === undefined ? undefined : { ...options });
  }

  setReceiver(receiver: (frame: Uint8Array) => unknown): void {
    this.receiver = receiver;
  }

  /** Delivers a frame to the stack, as the wire would. */
  inject(frame: Uint8Array): void {
    this.deliver(frame);
  }

  /** Delivers a frame as `inject` does; returns what the stack answered (FRAME_RELEASED or not). */
  deliver(frame: Uint8Array): unknown {
    if (!this.receiver) throw new Error('no receiver installed');
    return this.receiver(frame);
  }

  /** Removes and returns every frame sent so far. */
  take(): Uint8Array[] {
    this.sentOptions.length = 0;
    return this.sent.splice(0);
  }
}

export interface Harness {
  clock: VirtualClock;
  trace: TraceRecorder;
  stack: Stack;
  device: RecordingDevice;
  iface: IpInterface;
}

/**
 * A stack 10.0.0.1/24 (default gateway 10.0.0.254) on a recording device; `peerKnown` (default true)
 * pre-loads the MACs of the peer and the gateway so no ARP happens.
 */
export function harness(
  options: {
    mtu?: number;
    peerKnown?: boolean;
    stack?: Partial<StackOptions>;
    offload?: boolean;
    /** The device's offloads (TSO, partial checksums), as a TAP with virtio-net headers offers. */
    deviceOffload?: DeviceOffload;
  } = {},
): Harness {
  const clock = new VirtualClock();
  const trace = new TraceRecorder();
  const stack = new Stack({ name: 'host', clock, tracer: trace, seed: 7, ...options.stack });
  const device = new RecordingDevice(
    'host-eth0',
    HOST_MAC,
    options.mtu ?? 1500,
    options.offload ?? false,
    options.deviceOffload,
  );
  const iface = stack.addInterface(device, { address: '10.0.0.1/24', gateway: '10.0.0.254' });
  if (options.peerKnown !== false) {
    iface.arp.addStatic(PEER_IP, PEER_MAC);
    iface.arp.addStatic(GATEWAY_IP, GATEWAY_MAC);
  }
  return { clock, trace, stack, device, iface };
}

export interface FrameSpec extends Partial<Ipv4Header> {
  srcMac?: MacAddress;
  dstMac?: MacAddress;
  payload: Uint8Array;
}

/** An Ethernet frame carrying one IPv4 packet (defaults: peer to host, TTL 64, UDP). */
export function ipv4Frame(spec: FrameSpec): Uint8Array {
  const header: Ipv4Header = {
    tos: spec.tos ?? 0,
    id: spec.id ?? 1,
    dontFragment: spec.dontFragment ?? false,
    moreFragments: spec.moreFragments ?? false,
    fragmentOffset: spec.fragmentOffset ?? 0,
    ttl: spec.ttl ?? 64,
    protocol: spec.protocol ?? IP_PROTOCOL_UDP,
    src: spec.src ?? PEER_IP,
    dst: spec.dst ?? HOST_IP,
    options: spec.options,
  };
  const headerLength = 20 + (((spec.options?.length ?? 0) + 3) & ~3);
  const frame = new Uint8Array(14 + headerLength + spec.payload.length);
  emitEthernetHeader(
    { dst: spec.dstMac ?? HOST_MAC, src: spec.srcMac ?? PEER_MAC, etherType: ETHERTYPE_IPV4 },
    frame,
    0,
  );
  emitIpv4Header(header, spec.payload.length, frame, 14);
  frame.set(spec.payload, 14 + headerLength);
  return frame;
}

export function udpBytes(d: UdpDatagram, src = PEER_IP, dst = HOST_IP): Uint8Array {
  const buf = new Uint8Array(8 + d.payload.length);
  emitUdp(d, src, dst, buf, 0);
  return buf;
}

export function icmpBytes(m: IcmpMessage): Uint8Array {
  const buf = new Uint8Array(icmpLength(m));
  emitIcmp(m, buf, 0);
  return buf;
}

/** An Ethernet frame carrying one ICMP message (defaults as `ipv4Frame`'s: peer to host, TTL 64). */
export function icmpFrame(m: IcmpMessage, spec: Omit<FrameSpec, 'protocol' | 'payload'> = {}): Uint8Array {
  return ipv4Frame({ ...spec, protocol: IP_PROTOCOL_ICMP, payload: icmpBytes(m) });
}

export function arpFrame(p: ArpPacket, dstMac: MacAddress, srcMac = p.senderMac): Uint8Array {
  const frame = new Uint8Array(42);
  emitEthernetHeader({ dst: dstMac, src: srcMac, etherType: ETHERTYPE_ARP }, frame, 0);
  emitArp(p, frame, 14);
  return frame;
}

export function arpRequestFrom(
  senderMac: MacAddress,
  senderIp: Ipv4Address,
  targetIp: Ipv4Address,
): Uint8Array {
  return arpFrame({ operation: ARP_REQUEST, senderMac, senderIp, targetMac: 0, targetIp }, 0xffff_ffff_ffff);
}

/** Decodes a frame the stack sent; throws when any layer does not parse (the stack must send valid frames). */
export function decode(frame: Uint8Array): {
  dstMac: MacAddress;
  srcMac: MacAddress;
  etherType: number;
  arp?: ArpPacket;
  ip?: Ipv4Packet;
} {
  const eth = parseEthernet(frame);
  if (!eth.ok) throw new Error(eth.error.message);
  const out: ReturnType<typeof decode> = {
    dstMac: eth.value.dst,
    srcMac: eth.value.src,
    etherType: eth.value.etherType,
  };
  if (eth.value.etherType === ETHERTYPE_ARP) {
    const arp = parseArp(eth.value.payload);
    if (!arp.ok) throw new Error(arp.error.message);
    out.arp = arp.value;
  } else if (eth.value.etherType === ETHERTYPE_IPV4) {
    const packet = parseIpv4(eth.value.payload);
    if (!packet.ok) throw new Error(packet.error.message);
    out.ip = packet.value;
  }
  return out;
}

export function decodeIcmp(frame: Uint8Array): IcmpMessage {
  const { ip: packet } = decode(frame);
  if (!packet) throw new Error('not IPv4');
  const m = parseIcmp(packet.payload);
  if (!m.ok) throw new Error(m.error.message);
  return m.value;
}

export function decodeUdp(frame: Uint8Array): UdpDatagram {
  const { ip: packet } = decode(frame);
  if (!packet) throw new Error('not IPv4');
  const d = parseUdp(packet.payload, packet.src, packet.dst);
  if (!d.ok) throw new Error(d.error.message);
  return d.value;
}

/** The 'drop' trace events as 'layer:reason' strings. */
export function drops(trace: TraceRecorder): string[] {
  return trace.events.flatMap((e) => (e.kind === 'drop' ? [`${e.layer}:${e.reason}`] : []));
}

/** `frame` with the byte at `at` flipped (a bit error the checksum of its layer catches), in place. */
export function flipped(frame: Uint8Array, at: number): Uint8Array {
  frame[at]! ^= 0x10;
  return frame;
}
