/**
 * A tiny simulated IP network for TCP layer tests: hosts are TcpLayers with fake IP bindings, segments
 * travel as objects with a fixed delay on a VirtualClock, and a test may drop or rewrite them in flight.
 * (The real IP layer, links and faults are tested elsewhere; this isolates TCP.)
 */
import type { TcpConfig } from '../../src/tcp/config.js';
import type { TcpLimits } from '../../src/tcp/limits.js';
import { type TcpIpBinding, TcpLayer } from '../../src/tcp/tcp-layer.js';
import { VirtualClock } from '../../src/time/virtual-clock.js';
import { NO_TRACE, TraceRecorder } from '../../src/trace/events.js';
import { type Ipv4Address, isMulticast, parseIpv4 } from '../../src/wire/address.js';
import { copyTcpSegment, type TcpSegment } from '../../src/wire/tcp.js';
import { flagsToString } from './dialogue.js';

export function ip(text: string): Ipv4Address {
  const a = parseIpv4(text);
  if (a === undefined) throw new Error(`bad address ${text}`);
  return a;
}

export interface Packet {
  /** Set when the network dropped it. */
  dropped?: boolean;
  time: number;
  src: Ipv4Address;
  dst: Ipv4Address;
  seg: TcpSegment;
  /** The TSO segment size it was sent with, if any (the segment travels whole, as if coalesced again). */
  segmentSize?: number;
}

/** One line per packet, e.g. '10.0.0.1:49152>10.0.0.2:80 S seq=.. ack=.. len=0'. */
export function describePacket(p: Packet): string {
  const s = p.seg;
  return `${p.src >>> 24}.${(p.src >>> 16) & 255}.${(p.src >>> 8) & 255}.${p.src & 255}:${s.srcPort}>${
    p.dst >>> 24
  }.${(p.dst >>> 16) & 255}.${(p.dst >>> 8) & 255}.${p.dst & 255}:${s.dstPort} ${flagsToString(s.flags)} len=${s.payload.length}${p.dropped ? ' (dropped)' : ''}`;
}

export class FakeNetwork {
  readonly clock = new VirtualClock(0);
  readonly hosts = new Map<Ipv4Address, TcpLayer>();
  readonly packets: Packet[] = [];
  /** One-way delay in ms. */
  delay = 1;
  /** Return true to drop a packet in flight. */
  drop: ((p: Packet) => boolean) | undefined;
  /** Per-packet delay (overrides `delay`); different delays reorder packets. */
  delayFor: ((p: Packet) => number) | undefined;
  /** Return true to deliver a packet twice. */
  duplicate: ((p: Packet) => boolean) | undefined;
  private secretCounter = 1;

  /** Broadcast of the 10.0.0.0/24 test subnet, limited broadcast and multicast. */
  isBroadcastOrMulticast(a: Ipv4Address): boolean {
    return a === 0xffffffff || a === ip('10.0.0.255') || isMulticast(a);
  }

  /** Adds a host owning `addresses`; its TcpLayer is returned. */
  addHost(
    addresses: string[],
    options: {
      config?: Partial<TcpConfig>;
      limits?: Partial<TcpLimits>;
      mtu?: number;
      name?: string;
      tsoSize?: number;
      /** false: no trace recorded (long runs, whose recorder would hold every event). */
      trace?: false;
    } = {},
  ): TcpLayer {
    const own = addresses.map(ip);
    const net = this;
    const mtu = options.mtu ?? 1500;
    const binding: TcpIpBinding = {
      send(src, dst, segment, segmentSize) {
        net.transmit(src as number, dst as number, segment, segmentSize);
      },
      isLocalAddress: (a) => own.includes(a as number),
      isBroadcastOrMulticast: (a) => net.isBroadcastOrMulticast(a as number),
      // 10.0.0.0/24, and 127.0.0.0/8 for loopback-only behaviour (the network delivers by address either way).
      sourceAddressFor: (dst) =>
        (dst as number) >>> 8 === ip('10.0.0.0') >>> 8 || (dst as number) >>> 24 === 127 ? own[0] : undefined,
      mtuFor: () => mtu,
      tsoSizeFor: () => options.tsoSize ?? mtu,
    };
    const secret = new Uint8Array(32).fill(this.secretCounter++);
    const layer = new TcpLayer({
      ip: binding,
      clock: this.clock,
      config: options.config,
      limits: options.limits,
      secret,
      host: options.name ?? addresses[0],
      tracer: options.trace === false ? NO_TRACE : new TraceRecorder(),
    });
    for (const a of own) this.hosts.set(a, layer);
    return layer;
  }

  /** Injects a segment as if `src` had sent it. */
  transmit(src: Ipv4Address, dst: Ipv4Address, segment: TcpSegment, segmentSize?: number): void {
    // The segment and its payload are only valid during send(): copy, as IP would by serializing.
    const seg = copyTcpSegment(segment);
    const packet: Packet = { time: this.clock.now(), src, dst, seg };
    if (segmentSize !== undefined && segmentSize > 0) packet.segmentSize = segmentSize;
    this.packets.push(packet);
    if (this.drop?.(packet)) {
      packet.dropped = true;
      return;
    }
    const copies = this.duplicate?.(packet) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      this.clock.setTimer(this.delayFor?.(packet) ?? this.delay, () => {
        const to = this.hosts.get(dst);
        to?.receive(src, dst, seg);
      });
    }
  }

  /** Runs the clock until `t` (absolute ms). */
  runUntil(t: number): void {
    this.clock.runUntil(t);
  }

  run(ms: number): void {
    this.clock.advance(ms);
  }
}
