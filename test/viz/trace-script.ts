/**
 * Builds trace events carrying real frames (made by the stack's own emitters) for the viz tests: a
 * script of "host A sends this segment at t, it arrives at t' (or is lost)" plus state changes.
 */
import type { ConnectionId, TcpStateName, TraceEvent } from '../../src/trace/events.js';
import { parseIpv4 as parseIpv4Text } from '../../src/wire/address.js';
import { ARP_REPLY, ARP_REQUEST, emitArp } from '../../src/wire/arp.js';
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, emitEthernetHeader } from '../../src/wire/ethernet.js';
import { emitIpv4Header, IP_PROTOCOL_TCP, IP_PROTOCOL_UDP } from '../../src/wire/ipv4.js';
import { emitTcp, type TcpOptions, tcpHeaderLength } from '../../src/wire/tcp.js';
import { emitUdp } from '../../src/wire/udp.js';

export interface HostSpec {
  name: string;
  ip: string;
  mac: number;
}

export interface SegmentSpec {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack?: number;
  flags: number;
  window: number;
  options?: TcpOptions;
  payload?: Uint8Array | number;
}

function ip(text: string): number {
  const value = parseIpv4Text(text);
  if (value === undefined) throw new Error(`bad address ${text}`);
  return value;
}

let ipId = 1;

/** Writes the Ethernet and IPv4 headers (20 bytes, TTL 64, a fresh id) of a frame `from` → `to`. */
function emitFrameHeaders(
  from: HostSpec,
  to: HostSpec,
  protocol: number,
  dontFragment: boolean,
  payloadLength: number,
  frame: Uint8Array,
): void {
  emitEthernetHeader({ dst: to.mac, src: from.mac, etherType: ETHERTYPE_IPV4 }, frame, 0);
  emitIpv4Header(
    {
      tos: 0,
      id: ipId++ & 0xffff,
      dontFragment,
      moreFragments: false,
      fragmentOffset: 0,
      ttl: 64,
      protocol,
      src: ip(from.ip),
      dst: ip(to.ip),
    },
    payloadLength,
    frame,
    14,
  );
}

export function tcpFrame(from: HostSpec, to: HostSpec, s: SegmentSpec): Uint8Array {
  const payload =
    typeof s.payload === 'number' ? new Uint8Array(s.payload).fill(0x61) : (s.payload ?? new Uint8Array(0));
  const options = s.options ?? {};
  const tcpLength = tcpHeaderLength(options) + payload.length;
  const frame = new Uint8Array(14 + 20 + tcpLength);
  emitFrameHeaders(from, to, IP_PROTOCOL_TCP, true, tcpLength, frame);
  emitTcp(
    {
      srcPort: s.srcPort,
      dstPort: s.dstPort,
      seq: s.seq >>> 0,
      ack: (s.ack ?? 0) >>> 0,
      flags: s.flags,
      window: s.window,
      urgentPointer: 0,
      options,
      payload,
    },
    ip(from.ip),
    ip(to.ip),
    frame,
    34,
  );
  return frame;
}

export function udpFrame(
  from: HostSpec,
  to: HostSpec,
  srcPort: number,
  dstPort: number,
  data: string,
): Uint8Array {
  const payload = new TextEncoder().encode(data);
  const frame = new Uint8Array(14 + 20 + 8 + payload.length);
  emitFrameHeaders(from, to, IP_PROTOCOL_UDP, false, 8 + payload.length, frame);
  emitUdp({ srcPort, dstPort, payload }, ip(from.ip), ip(to.ip), frame, 34);
  return frame;
}

export function arpFrame(from: HostSpec, to: HostSpec, reply: boolean): Uint8Array {
  const frame = new Uint8Array(14 + 28);
  emitEthernetHeader(
    { dst: reply ? to.mac : 0xffff_ffff_ffff, src: from.mac, etherType: ETHERTYPE_ARP },
    frame,
    0,
  );
  emitArp(
    {
      operation: reply ? ARP_REPLY : ARP_REQUEST,
      senderMac: from.mac,
      senderIp: ip(from.ip),
      targetMac: reply ? to.mac : 0,
      targetIp: ip(to.ip),
    },
    frame,
    14,
  );
  return frame;
}

export function conn(local: HostSpec, localPort: number, remote: HostSpec, remotePort: number): ConnectionId {
  return {
    local: { address: ip(local.ip), port: localPort },
    remote: { address: ip(remote.ip), port: remotePort },
  };
}

/** Appends events in time order; each `send` gets its own frame id on the named link. */
export class TraceScript {
  readonly events: TraceEvent[] = [];
  private frameId = 0;
  private readonly pending: { time: number; event: TraceEvent }[] = [];

  constructor(readonly link = 'lan') {}

  /**
   * Emits link.sent at `time`, and schedules link.delivered at `arrive` (or link.dropped at `time` when
   * `arrive` is 'lost'). Scheduled outcomes are flushed in time order as later events are added.
   */
  send(time: number, from: HostSpec, to: HostSpec, frame: Uint8Array, arrive: number | 'lost'): number {
    this.flush(time);
    const frameId = ++this.frameId;
    this.events.push({
      kind: 'link.sent',
      time,
      link: this.link,
      from: from.name,
      to: to.name,
      frameId,
      frame,
    });
    if (arrive === 'lost') {
      this.events.push({
        kind: 'link.dropped',
        time,
        link: this.link,
        from: from.name,
        to: to.name,
        frameId,
        reason: 'loss',
      });
    } else {
      this.pending.push({
        time: arrive,
        event: {
          kind: 'link.delivered',
          time: arrive,
          link: this.link,
          from: from.name,
          to: to.name,
          frameId,
          frame,
        },
      });
    }
    return frameId;
  }

  state(time: number, host: HostSpec, c: ConnectionId, from: TcpStateName, to: TcpStateName): void {
    this.flush(time);
    this.events.push({ kind: 'tcp.state', time, host: host.name, conn: c, from, to });
  }

  add(event: TraceEvent): void {
    this.flush(event.time);
    this.events.push(event);
  }

  /** Emits scheduled deliveries due at or before `time` (all of them when omitted). */
  flush(time = Number.POSITIVE_INFINITY): TraceEvent[] {
    this.pending.sort((a, b) => a.time - b.time);
    while (this.pending.length && this.pending[0]!.time <= time)
      this.events.push(this.pending.shift()!.event);
    return this.events;
  }
}
