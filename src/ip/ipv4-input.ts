/**
 * IPv4 input (RFC 791, RFC 1122 §3.2-3.3): one of the IPv4 layer's jobs. Per datagram: header validated
 * (checksum always: it is 20 bytes); source address checked (RFC 1122 §3.2.1.3 "martians" dropped); then
 * the destination decides: one of our addresses (weak host model, RFC 1122 §3.3.4.2), limited or directed
 * broadcast, a multicast group we joined, or — when forwarding is on — someone else (ipv4-forwarding.ts).
 * Fragments go through the reassembler; complete datagrams go to the handler registered for their
 * protocol (ICMP protocol unreachable when there is none).
 */
import { FRAME_RELEASED, type FrameDisposition, type ReceivedFrameInfo } from '../link/device.js';
import { IPV4_BROADCAST, type Ipv4Address, isMulticast } from '../wire/address.js';
import { ICMP_DESTINATION_UNREACHABLE, ICMP_PROTOCOL_UNREACHABLE } from '../wire/icmp.js';
import { IP_PROTOCOL_IGMP } from '../wire/igmp.js';
import { Ipv4PacketRecord, parseIpv4, parseIpv4Into } from '../wire/ipv4.js';
import { isLoopback, isUnicastHostAddress } from './address-prefix.js';
import type { DestinationKind, IpProtocolHandler, ReceivedDatagram } from './datagram.js';
import type { IpInterface } from './ip-interface.js';
import { forwardIpv4, type Ipv4Router } from './ipv4-forwarding.js';
import type { Reassembler } from './reassembly.js';

/** What input needs of the layer. @internal */
export interface Ipv4Receiver extends Ipv4Router {
  readonly loopback: IpInterface;
  readonly forwarding: boolean;
  readonly reassembler: Reassembler;
  isLocalAddress(address: Ipv4Address): boolean;
  isMember(group: Ipv4Address): boolean;
  acceptsMulticast(group: Ipv4Address, source: Ipv4Address): boolean;
  handlerFor(protocol: number): IpProtocolHandler | undefined;
}

/**
 * A received datagram's record, refilled for each datagram parsed into it. `bytes` is cut from the frame
 * only when a handler reads it (an ICMP error quoting the datagram); TCP reads the frame in place.
 */
class DatagramRecord implements ReceivedDatagram {
  readonly packet = new Ipv4PacketRecord();
  destination: DestinationKind = 'unicast';
  linkBroadcast = false;
  checksumOffloaded = false;
  interface: IpInterface;
  private datagram: Uint8Array | undefined;

  constructor(iface: IpInterface) {
    this.interface = iface;
  }

  get buffer(): Uint8Array {
    return this.packet.buffer;
  }

  get payloadOffset(): number {
    return this.packet.payloadOffset;
  }

  get payloadLength(): number {
    return this.packet.payloadLength;
  }

  get bytes(): Uint8Array {
    if (this.datagram === undefined) {
      const { buffer, offset, totalLength } = this.packet;
      // Without link padding (the usual case) the datagram runs to the end of the frame.
      this.datagram =
        offset === 0 && totalLength === buffer.length
          ? buffer
          : buffer.subarray(offset, offset + totalLength);
    }
    return this.datagram;
  }

  /** Forgets the view of the datagram handled before (the packet was just parsed again). */
  parsed(): void {
    this.datagram = undefined;
  }
}

/**
 * The records datagrams are parsed into and handed up in, one per nesting level (handling a datagram can
 * send on a link that delivers at once, and the datagram parsed meanwhile must not overwrite the one still
 * being handled), shared by every IPv4 layer of the process: receiving allocates nothing. A handler holds
 * its datagram only for the call (see ReceivedDatagram).
 */
const records: DatagramRecord[] = [];
let depth = 0;

function recordAt(level: number, iface: IpInterface): DatagramRecord {
  let record = records[level];
  if (record === undefined) {
    record = new DatagramRecord(iface);
    records[level] = record;
  }
  return record;
}

/**
 * Receives the IPv4 packet at `frame[offset]` (the rest of the frame, Ethernet padding allowed after Total
 * Length), read where it lies: no view of it is cut unless a handler asks for one. Returns FRAME_RELEASED
 * when the protocol it went to holds nothing of it (see FRAME_RELEASED), and for every datagram dropped
 * here (a bad header, not for us, no handler: nothing looks at it again); nothing for a datagram forwarded
 * (another device owns it now) or handed to the reassembler (which may keep views of its fragments).
 */
export function receiveIpv4(
  input: Ipv4Receiver,
  iface: IpInterface,
  frame: Uint8Array,
  offset: number,
  linkBroadcast: boolean,
  info: ReceivedFrameInfo | undefined,
): FrameDisposition {
  const { counters } = input.ctx;
  counters.IpInReceives++;
  const level = depth;
  const record = recordAt(level, iface);
  const packet = record.packet;
  const error = parseIpv4Into(frame, packet, true, offset);
  if (error !== undefined) {
    if (error.kind === 'bad-total-length' || error.kind === 'truncated') {
      counters.IpInTruncatedPkts++;
    }
    counters.IpInHdrErrors++;
    input.ctx.drop('ipv4', error.kind);
    return FRAME_RELEASED;
  }
  record.parsed();
  const fromLoopback = iface === input.loopback;

  // RFC 1122 §3.2.1.3: a source that does not name one host is never accepted (0.0.0.0 only while a
  // host learns its address, i.e. towards broadcast). Our own addresses arriving from a wire mean a
  // loop or spoofing (Linux calls these martians).
  const src = packet.src;
  if (
    (!isUnicastHostAddress(src) &&
      !(fromLoopback && isLoopback(src)) &&
      !(src === 0 && packet.dst === IPV4_BROADCAST)) ||
    (!fromLoopback && input.isLocalAddress(src)) ||
    iface.isDirectedBroadcast(src)
  ) {
    counters.IpInAddrErrors++;
    input.ctx.drop('ipv4', 'martian-source');
    return FRAME_RELEASED;
  }

  const dst = packet.dst;
  let destination: DestinationKind;
  if (input.isLocalAddress(dst)) {
    if (isLoopback(dst) && !fromLoopback) {
      counters.IpInAddrErrors++;
      input.ctx.drop('ipv4', 'martian-destination');
      return FRAME_RELEASED;
    }
    if (linkBroadcast) {
      // RFC 1122 §3.3.6: a link-layer broadcast must carry an IP broadcast or multicast destination.
      counters.IpInAddrErrors++;
      input.ctx.drop('ipv4', 'unicast-in-link-broadcast');
      return FRAME_RELEASED;
    }
    destination = 'unicast';
  } else if (dst === IPV4_BROADCAST || iface.isDirectedBroadcast(dst)) {
    counters.IpInBcastPkts++;
    destination = 'broadcast';
  } else if (isMulticast(dst)) {
    if (!input.isMember(dst)) {
      input.ctx.drop('ipv4', 'multicast-not-joined');
      return FRAME_RELEASED;
    }
    // RFC 3376 §3.2: the interface's source filter (source-specific joins only: INCLUDE mode); IGMP
    // itself always passes (a querier's group-specific queries come from no listed source).
    if (packet.protocol !== IP_PROTOCOL_IGMP && !input.acceptsMulticast(dst, src)) {
      input.ctx.drop('ipv4', 'multicast-source-filtered');
      return FRAME_RELEASED;
    }
    counters.IpInMcastPkts++;
    destination = 'multicast';
  } else if (iface.terminateAnyDestination && !linkBroadcast) {
    destination = 'unicast';
  } else if (input.forwarding && !fromLoopback) {
    depth = level + 1;
    try {
      forwardIpv4(input, iface, packet, record.bytes, linkBroadcast, info);
    } finally {
      depth = level;
    }
    return;
  } else {
    counters.IpInAddrErrors++;
    input.ctx.drop('ipv4', 'not-for-us');
    return FRAME_RELEASED;
  }

  if (packet.moreFragments || packet.fragmentOffset !== 0) {
    // A reassembled datagram's checksum is verified whatever the fragments' frames said: a sender that
    // vouches for a checksum (it never left its memory) does not fragment.
    const whole = input.reassembler.add({
      src,
      dst,
      protocol: packet.protocol,
      id: packet.id,
      offset: packet.fragmentOffset,
      moreFragments: packet.moreFragments,
      header: frame.subarray(offset, offset + packet.headerLength),
      payload: packet.payload,
    });
    if (whole === undefined) return;
    const reparsed = parseIpv4(whole, { verifyChecksum: false });
    if (!reparsed.ok) return; // cannot happen: the reassembler built a valid header
    const headerLength = reparsed.value.headerLength;
    deliverLocal(input, {
      packet: reparsed.value,
      bytes: whole,
      buffer: whole,
      payloadOffset: headerLength,
      payloadLength: whole.length - headerLength,
      interface: iface,
      destination,
      linkBroadcast,
      checksumOffloaded: iface.checksumOffload,
    });
    return;
  }
  // Stored only when it changes: the records are the process's (old in V8's heap) and an interface of a
  // stack made since the last scavenge is young, so storing it again for every datagram took the write
  // barrier's slow path each time (most of a bulk transfer: its steady state allocates so little that
  // scavenges are rare).
  if (record.interface !== iface) record.interface = iface;
  record.destination = destination;
  record.linkBroadcast = linkBroadcast;
  record.checksumOffloaded = iface.checksumOffload || info?.checksumTrusted === true;
  depth = level + 1;
  try {
    // The record keeps the frame (and any view a handler cut) until the next datagram at this level
    // refills it, but nothing reads it meanwhile: what the handler returns says what holds the frame.
    return deliverLocal(input, record);
  } finally {
    depth = level;
  }
}

function deliverLocal(input: Ipv4Receiver, datagram: ReceivedDatagram): FrameDisposition {
  const { counters } = input.ctx;
  const handler = input.handlerFor(datagram.packet.protocol);
  if (handler === undefined) {
    counters.IpInUnknownProtos++;
    input.ctx.drop('ipv4', 'unknown-protocol');
    // RFC 1122 §3.2.2.1: a host SHOULD send protocol unreachable.
    input.icmp.sendError(ICMP_DESTINATION_UNREACHABLE, ICMP_PROTOCOL_UNREACHABLE, datagram);
    // The error's quote was copied into its own frame before sendError returned.
    return FRAME_RELEASED;
  }
  counters.IpInDelivers++;
  return handler.receive(datagram);
}
