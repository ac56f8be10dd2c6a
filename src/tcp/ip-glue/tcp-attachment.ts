/**
 * The seam between IP and the TCP layer, so each can be built and tested without the other.
 *
 * - `TcpIpBinding` is what IP offers TCP: send a segment, and the address/MTU questions TCP must ask
 *   (MUST-46: no OPEN to broadcast; MSS from the path MTU, RFC 9293 §3.7.1).
 * - `TcpReceiver` is what TCP offers IP: segments that arrived, and errors about segments it sent.
 * - `TcpProtocolHandler` sits in the IP layer's protocol table as protocol 6: it parses and verifies
 *   each segment (checksum unless offloaded), drops what TCP must never see (RFC 9293 MUST-57: segments to
 *   broadcast or multicast addresses), and passes the rest on.
 */

import type {
  IpProtocolHandler,
  IpSendStatus,
  PayloadWriter,
  ReceivedDatagram,
  TransportErrorReport,
} from '../../ip/datagram.js';
import type { Ipv4Layer } from '../../ip/ipv4-layer.js';
import type { StackContext } from '../../ip/stack-context.js';
import type { TcpIpBinding, TcpReceiver } from '../../seams.js';
import type { StackCounters } from '../../trace/counters.js';
import type { Ipv4Address } from '../../wire/address.js';
import { IP_PROTOCOL_TCP } from '../../wire/ipv4.js';
import { emitTcp, parseTcp, type TcpSegment, tcpHeaderLength } from '../../wire/tcp.js';

export type { TcpIpBinding, TcpReceiver } from '../../seams.js';

class TcpSegmentWriter implements PayloadWriter {
  segment: TcpSegment | undefined;
  length = 0;
  write(buf: Uint8Array, offset: number, src: Ipv4Address, dst: Ipv4Address, offloadChecksum: boolean): void {
    emitTcp(this.segment!, src, dst, buf, offset, { computeChecksum: !offloadChecksum });
  }
}

/**
 * The binding handed to the TCP layer. Segments are always sent with DF set (path MTU discovery, RFC 1191
 * §3), never as IP fragments: a segment sized before the path MTU dropped (so it no longer fits) is cut
 * into segments that fit instead (RFC 9293 §3.7: TCP may cut its stream anywhere), rather than lost.
 */
export class StackTcpBinding implements TcpIpBinding {
  private readonly writer = new TcpSegmentWriter();

  constructor(private readonly ip: Ipv4Layer) {}

  send(src: Ipv4Address, dst: Ipv4Address, segment: TcpSegment, segmentSize = 0): IpSendStatus {
    const writer = this.writer;
    writer.segment = segment;
    writer.length = tcpHeaderLength(segment.options) + segment.payload.length;
    let status = this.ip.send(
      { src, dst, protocol: IP_PROTOCOL_TCP, dontFragment: true, segmentSize },
      writer,
    );
    if (status === 'EMSGSIZE' && writer.length + 20 <= 65535 && segment.payload.length > 0) {
      // Any segment size will do: IP lowers it to what the path MTU holds behind this segment's headers.
      status = this.ip.send(
        { src, dst, protocol: IP_PROTOCOL_TCP, dontFragment: true, segmentSize: 65535 },
        writer,
      );
    }
    writer.segment = undefined;
    return status;
  }

  isLocalAddress(address: Ipv4Address): boolean {
    return this.ip.isLocalAddress(address);
  }

  isBroadcastOrMulticast(address: Ipv4Address): boolean {
    return this.ip.isBroadcastOrMulticast(address);
  }

  sourceAddressFor(dst: Ipv4Address): Ipv4Address | undefined {
    return this.ip.sourceAddressFor(dst);
  }

  mtuFor(dst: Ipv4Address): number {
    return this.ip.mtuFor(dst);
  }

  tsoSizeFor(dst: Ipv4Address): number {
    return this.ip.tsoSizeFor(dst);
  }

  interfaceMtuFor(dst: Ipv4Address): number {
    return this.ip.interfaceMtuFor(dst);
  }

  learnPathMtu(dst: Ipv4Address, reportedMtu: number): number {
    return this.ip.learnPathMtu(dst, reportedMtu);
  }

  confirmReachable(dst: Ipv4Address): void {
    this.ip.confirmNeighbour(dst);
  }
}

/** Protocol 6 in the IP layer's table: parse, verify, filter, hand to TCP. */
export class TcpProtocolHandler implements IpProtocolHandler {
  constructor(
    private readonly ctx: StackContext,
    private readonly tcp: TcpReceiver,
  ) {}

  receive(datagram: ReceivedDatagram): void {
    const counters: StackCounters = this.ctx.counters;
    const { packet } = datagram;
    if (datagram.destination !== 'unicast') {
      this.ctx.drop('tcp', 'not-unicast'); // RFC 9293 MUST-57
      return;
    }
    const verifyChecksum = !datagram.checksumOffloaded;
    let result = parseTcp(packet.payload, packet.src, packet.dst, { verifyChecksum });
    if (!result.ok && result.error.kind === 'bad-option') {
      // MUST-7: an illegal option length must not break us. The segment is processed with the options
      // understood before the bad one (RST handling and ACK processing still apply); the fault is counted.
      counters.TcpInBadOptions++;
      if (this.ctx.tracer.enabled)
        this.ctx.note('TCP: segment with an illegal option length; options after it ignored');
      result = parseTcp(packet.payload, packet.src, packet.dst, { verifyChecksum, lenientOptions: true });
    }
    if (!result.ok) {
      counters.TcpInErrs++;
      if (result.error.kind === 'bad-checksum') counters.TcpInCsumErrors++;
      this.ctx.drop('tcp', result.error.kind);
      return;
    }
    this.tcp.receive(packet.src, packet.dst, result.value);
  }

  receiveError(report: TransportErrorReport): void {
    this.tcp.receiveIcmpError?.(report);
  }
}
