/**
 * The seam between IP and the TCP layer, so each can be built and tested without the other.
 *
 * - `TcpIpBinding` is what IP offers TCP: send a segment, and the address/MTU questions TCP must ask
 *   (MUST-46: no OPEN to broadcast; MSS from the path MTU, RFC 9293 §3.7.1).
 * - `TcpReceiver` is what TCP offers IP: segments that arrived, and errors about segments it sent.
 * - `TcpProtocolHandler` sits in the IPv4 layer's protocol table as protocol 6, `Tcp6ProtocolHandler` in
 *   the IPv6 layer's as next header 6: each parses and verifies the segment (checksum over its version's
 *   pseudo-header unless offloaded; RFC 8200 §8.1 for IPv6), drops what TCP must never see (RFC 9293
 *   MUST-57: segments to broadcast or multicast addresses), and passes the rest on. One TCP layer serves
 *   both versions: addresses are numbers for IPv4 and bigints for IPv6.
 */

import type {
  IpProtocolHandler,
  IpSendOptions,
  IpSendStatus,
  PayloadWriter,
  ReceivedDatagram,
  TransportErrorReport,
} from '../../ip/datagram.js';
import type { Ipv4Layer } from '../../ip/ipv4-layer.js';
import type { StackContext } from '../../ip/stack-context.js';
import type { Ipv6Layer } from '../../ipv6/ipv6-layer.js';
import { frameView } from '../../link/frame-allocator.js';
import {
  FRAME_HELD,
  FRAME_RELEASED,
  type FrameDisposition,
  type Ipv6PayloadWriter,
  type Ipv6ProtocolHandler,
  type Ipv6ReceivedPacket,
  type TcpIpBinding,
  type TcpReceiver,
} from '../../seams.js';
import type { Ipv4Address } from '../../wire/address.js';
import { IP_PROTOCOL_TCP } from '../../wire/ipv4.js';
import { type IpAddress, type Ipv6Address, isIpv6Multicast } from '../../wire/ipv6-address.js';
import {
  emitTcp,
  parseTcpInto,
  ReusableTcpSegment,
  type TcpEmitOptions,
  type TcpSegment,
  tcpHeaderLength,
} from '../../wire/tcp.js';

export type { TcpIpBinding, TcpReceiver } from '../../seams.js';

/**
 * emitTcp's two modes, one record each per writer, refilled with the segment's header length before each
 * write: an options object per segment would be an allocation per segment. A connection's payload is a
 * view of its send ring, never of the frame being written.
 */
class EmitModes {
  readonly compute: TcpEmitOptions = {
    computeChecksum: true,
    payloadElsewhere: true,
    headerLength: 0,
    place: -1,
  };
  readonly offload: TcpEmitOptions = {
    computeChecksum: false,
    payloadElsewhere: true,
    headerLength: 0,
    place: -1,
  };

  /**
   * The mode for `offloadChecksum`, told the header length `tcpHeaderLength` gave for the segment and where
   * the segment lies in the checksum memory (or -1).
   */
  with(offloadChecksum: boolean, headerLength: number, place: number): TcpEmitOptions {
    const mode = offloadChecksum ? this.offload : this.compute;
    mode.headerLength = headerLength;
    mode.place = place;
    return mode;
  }
}

class TcpSegmentWriter implements PayloadWriter {
  segment: TcpSegment | undefined;
  /** The segment's header length (tcpHeaderLength), as the binding sized the datagram with it. */
  headerLength = 0;
  length = 0;
  /** emitTcp sets every byte: the fixed header, options laid out in whole words, the payload. */
  readonly writesEveryByte = true;
  private readonly modes = new EmitModes();
  write(buf: Uint8Array, at: number, src: Ipv4Address, dst: Ipv4Address, offload: boolean, place = -1): void {
    emitTcp(this.segment!, src, dst, buf, at, this.modes.with(offload, this.headerLength, place));
  }
}

class Tcp6SegmentWriter implements Ipv6PayloadWriter {
  segment: TcpSegment | undefined;
  headerLength = 0;
  length = 0;
  private readonly modes = new EmitModes();
  write(buf: Uint8Array, offset: number, src: Ipv6Address, dst: Ipv6Address, offloadChecksum = false): void {
    emitTcp(this.segment!, src, dst, buf, offset, this.modes.with(offloadChecksum, this.headerLength, -1));
  }
}

/**
 * The binding handed to the TCP layer, for both IP versions: each call goes to the layer of its addresses
 * (a number: IPv4; a bigint: IPv6).
 *
 * IPv4: segments are always sent with DF set (path MTU discovery, RFC 1191 §3), never as IP fragments: a
 * segment sized before the path MTU dropped (so it no longer fits) is cut into segments that fit instead
 * (RFC 9293 §3.7: TCP may cut its stream anywhere), rather than lost.
 *
 * IPv6: routers never fragment (RFC 8200 §5), so path MTU discovery needs no flag. Segments go with TSO
 * as over IPv4 (`segmentSize`): cut by the device when it offers IPv6 TSO, else by the IPv6 layer, so a
 * segment sized before a Packet Too Big lowered the path MTU is re-cut to fit rather than fragmented.
 */
export class StackTcpBinding implements TcpIpBinding {
  private readonly writer = new TcpSegmentWriter();
  private readonly writer6 = new Tcp6SegmentWriter();
  /**
   * The IPv4 options of the segment being sent, refilled before each `ip.send` (an object literal per
   * segment was an allocation per segment). IP reads them before it sends anything, so a segment sent
   * from within that send (a loopback delivery answered at once) may refill them.
   */
  private readonly options: IpSendOptions = {
    src: 0,
    dst: 0,
    protocol: IP_PROTOCOL_TCP,
    dontFragment: true,
    segmentSize: 0,
    tos: 0,
  };

  constructor(
    private readonly ip: Ipv4Layer,
    private readonly ipv6?: Ipv6Layer,
  ) {}

  send(src: IpAddress, dst: IpAddress, segment: TcpSegment, segmentSize = 0, ecn = 0): IpSendStatus {
    if (typeof src === 'bigint' || typeof dst === 'bigint')
      return this.send6(src, dst, segment, segmentSize, ecn);
    const writer = this.writer;
    writer.segment = segment;
    writer.headerLength = tcpHeaderLength(segment.options);
    writer.length = writer.headerLength + segment.payload.length;
    // The ECN field is the low two bits of the TOS octet (RFC 3168 §5); DSCP stays 0.
    const tos = ecn & 3;
    let status = this.ip.send(this.ipv4Options(src, dst, segmentSize, tos), writer);
    if (status === 'EMSGSIZE' && writer.length + 20 <= 65535 && segment.payload.length > 0) {
      // Any segment size will do: IP lowers it to what the path MTU holds behind this segment's headers.
      status = this.ip.send(this.ipv4Options(src, dst, 65535, tos), writer);
    }
    writer.segment = undefined;
    return status;
  }

  private ipv4Options(src: Ipv4Address, dst: Ipv4Address, segmentSize: number, tos: number): IpSendOptions {
    const options = this.options;
    options.src = src;
    options.dst = dst;
    options.segmentSize = segmentSize;
    options.tos = tos;
    return options;
  }

  private send6(
    src: IpAddress,
    dst: IpAddress,
    segment: TcpSegment,
    segmentSize: number,
    ecn: number,
  ): IpSendStatus {
    if (this.ipv6 === undefined || typeof src !== 'bigint' || typeof dst !== 'bigint') return 'EINVAL';
    const writer = this.writer6;
    writer.segment = segment;
    writer.headerLength = tcpHeaderLength(segment.options);
    writer.length = writer.headerLength + segment.payload.length;
    // The ECN field is the low two bits of the Traffic Class (RFC 8200 §7, RFC 3168 §5).
    const status = this.ipv6.send(
      { src, dst, nextHeader: IP_PROTOCOL_TCP, trafficClass: ecn & 3, segmentSize },
      writer,
    );
    writer.segment = undefined;
    return status;
  }

  isLocalAddress(address: IpAddress): boolean {
    if (typeof address === 'bigint') return this.ipv6?.isLocalAddress(address) === true;
    return this.ip.isLocalAddress(address);
  }

  isBroadcastOrMulticast(address: IpAddress): boolean {
    // IPv6 has no broadcast; multicast is ff00::/8 (RFC 4291 §2.7).
    if (typeof address === 'bigint') return isIpv6Multicast(address);
    return this.ip.isBroadcastOrMulticast(address);
  }

  sourceAddressFor(dst: IpAddress): IpAddress | undefined {
    if (typeof dst === 'bigint') return this.ipv6?.sourceAddressFor(dst);
    return this.ip.sourceAddressFor(dst);
  }

  mtuFor(dst: IpAddress): number {
    if (typeof dst === 'bigint') return this.ipv6?.mtuFor(dst) ?? 1280;
    return this.ip.mtuFor(dst);
  }

  tsoSizeFor(dst: IpAddress): number {
    if (typeof dst === 'bigint') return this.ipv6?.tsoSizeFor(dst) ?? 1280;
    return this.ip.tsoSizeFor(dst);
  }

  interfaceMtuFor(dst: IpAddress): number {
    if (typeof dst === 'bigint') return this.ipv6?.interfaceMtuFor(dst) ?? 1280;
    return this.ip.interfaceMtuFor(dst);
  }

  learnPathMtu(dst: IpAddress, reportedMtu: number): number {
    if (typeof dst === 'bigint') return this.ipv6?.learnPathMtu(dst, reportedMtu) ?? reportedMtu;
    return this.ip.learnPathMtu(dst, reportedMtu);
  }

  confirmReachable(dst: IpAddress): void {
    if (typeof dst === 'bigint') this.ipv6?.confirmNeighbour(dst);
    else this.ip.confirmNeighbour(dst);
  }
}

/**
 * Parses and verifies the TCP segments of one protocol handler into records it owns, and hands them to
 * TCP. One record per nesting level: handling a segment can send on a link that delivers at once
 * (loopback), and a segment parsed meanwhile must not overwrite the one still being handled.
 */
class SegmentIntake {
  /**
   * The first level's record made at once: every stack's first segment would otherwise read past the end
   * of an empty array, which code optimised on an earlier stack's (a whole record there) never did.
   */
  private readonly records: ReusableTcpSegment[] = [new ReusableTcpSegment()];
  private depth = 0;

  constructor(
    private readonly ctx: StackContext,
    private readonly tcp: TcpReceiver,
  ) {}

  /**
   * Parses the segment of `length` bytes at `buf[offset]` where it lies (MUST-7's lenient retry on a bad
   * option length), counts what fails, passes the rest on. FRAME_RELEASED when TCP holds nothing of the
   * segment (the record keeps pointing into the frame until the next segment at this level refills it,
   * unread meanwhile), and for a segment that fails (a bad checksum: a corrupted frame).
   */
  deliver(
    buf: Uint8Array,
    offset: number,
    length: number,
    src: IpAddress,
    dst: IpAddress,
    verifyChecksum: boolean,
    ecn: number,
  ): FrameDisposition {
    const depth = this.depth;
    const record = this.records[depth] ?? new ReusableTcpSegment();
    this.records[depth] = record;
    const ctx = this.ctx;
    const counters = ctx.counters;
    let error = parseTcpInto(buf, src, dst, record, verifyChecksum, false, offset, length, frameView);
    if (error !== undefined && error.kind === 'bad-option') {
      // MUST-7: an illegal option length must not break us. The segment is processed with the options
      // understood before the bad one (RST handling and ACK processing still apply); the fault is counted.
      counters.TcpInBadOptions++;
      if (ctx.tracer.enabled)
        ctx.note('TCP: segment with an illegal option length; options after it ignored');
      error = parseTcpInto(buf, src, dst, record, verifyChecksum, true, offset, length, frameView);
    }
    if (error !== undefined) {
      counters.TcpInErrs++;
      if (error.kind === 'bad-checksum') counters.TcpInCsumErrors++;
      ctx.drop('tcp', error.kind);
      // The record points into the frame until the next segment refills it, but nothing reads it.
      return FRAME_RELEASED;
    }
    this.depth = depth + 1;
    try {
      const disposition = this.tcp.receive(src, dst, record, ecn);
      return disposition === FRAME_RELEASED || disposition === FRAME_HELD ? disposition : undefined;
    } finally {
      this.depth = depth;
    }
  }
}

/** Protocol 6 in the IP layer's table: parse, verify, filter, hand to TCP. */
export class TcpProtocolHandler implements IpProtocolHandler {
  private readonly intake: SegmentIntake;

  constructor(
    private readonly ctx: StackContext,
    private readonly tcp: TcpReceiver,
  ) {
    this.intake = new SegmentIntake(ctx, tcp);
  }

  receive(datagram: ReceivedDatagram): FrameDisposition {
    const { packet } = datagram;
    if (datagram.destination !== 'unicast') {
      this.ctx.drop('tcp', 'not-unicast'); // RFC 9293 MUST-57
      return FRAME_RELEASED;
    }
    // The ECN field (RFC 3168 §5) goes with the segment: a CE mark is for TCP to echo. The segment is
    // parsed where it lies in the frame, with no view of the IP payload cut for it.
    return this.intake.deliver(
      datagram.buffer,
      datagram.payloadOffset,
      datagram.payloadLength,
      packet.src,
      packet.dst,
      !datagram.checksumOffloaded,
      packet.tos & 3,
    );
  }

  receiveError(report: TransportErrorReport): void {
    this.tcp.receiveIcmpError?.(report);
  }
}

/** Next header 6 in the IPv6 layer's table: parse, verify, filter, hand to TCP (the same layer as IPv4's). */
export class Tcp6ProtocolHandler implements Ipv6ProtocolHandler {
  private readonly intake: SegmentIntake;

  constructor(
    private readonly ctx: StackContext,
    private readonly tcp: TcpReceiver,
  ) {
    this.intake = new SegmentIntake(ctx, tcp);
  }

  receive(packet: Ipv6ReceivedPacket): FrameDisposition {
    if (packet.destination !== 'unicast') {
      this.ctx.drop('tcp', 'not-unicast'); // RFC 9293 MUST-57
      return FRAME_RELEASED;
    }
    const payload = packet.payload;
    return this.intake.deliver(
      payload,
      0,
      payload.length,
      packet.src,
      packet.dst,
      !packet.checksumOffloaded,
      packet.trafficClass & 3,
    );
  }

  /** ICMPv6 errors and Packet Too Big (the path MTU is learned only once TCP checked the quote). */
  receiveError(report: TransportErrorReport): void {
    this.tcp.receiveIcmpError?.(report);
  }
}
