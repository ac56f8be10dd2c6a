/**
 * IPv4 output through devices that offload work (TCP segmentation, transport checksum completion), and
 * the same work done in software when a frame cannot go to such a device after all (it waits for ARP,
 * or it is forwarded onto a plain link): one of the IPv4 layer's jobs, kept apart from input, output and
 * forwarding. Linux calls the software side GSO and CHECKSUM_PARTIAL completion.
 */
import type { DeviceOffload, FrameTransmitOptions } from '../link/device.js';
import { allocateFrame, allocateStagedFrame, recycleFrame } from '../link/frame-allocator.js';
import { segmentTcpPacket } from '../tcp/ip-glue/tcp-segmentation.js';
import type { Ipv4Address, MacAddress } from '../wire/address.js';
import { checksumAdd, checksumFinish, pseudoHeaderSum } from '../wire/checksum.js';
import { ETHERNET_HEADER_LENGTH } from '../wire/ethernet.js';
import {
  emitIpv4Header,
  IP_PROTOCOL_TCP,
  IP_PROTOCOL_UDP,
  IPV4_HEADER_LENGTH,
  type Ipv4Header,
  type Ipv4Packet,
} from '../wire/ipv4.js';
import { TCP_HEADER_LENGTH, tcpHeaderLengthAt } from '../wire/tcp.js';
import type { IpSendStatus, PayloadWriter } from './datagram.js';
import type { IpInterface } from './ip-interface.js';
import type { Ipv4IdGenerator } from './ipv4-id.js';
import type { StackContext } from './stack-context.js';

const TCP_CHECKSUM_OFFSET = 16;
/** The longest TCP header (RFC 9293 §3.1: data offset 15 words); UDP's and ICMP's are shorter. */
export const MAX_TRANSPORT_HEADER = 60;
const UDP_CHECKSUM_OFFSET = 6;

/** What the offload job needs of the layer: its counters, and the link output. @internal */
export interface Ipv4Transmitter {
  readonly ctx: StackContext;
  /** Per-flow identifications: a datagram cut into segments takes one per segment. */
  readonly ids: Ipv4IdGenerator;
  /** Offload requests for the frame being handed to a device; devices read it during `send` only. */
  readonly transmitOptions: FrameTransmitOptions;
  transmit(
    iface: IpInterface,
    frame: Uint8Array,
    nextHop: Ipv4Address,
    mac: MacAddress | undefined,
    options?: FrameTransmitOptions,
  ): void;
}

/** Where the checksum field of a TCP or UDP header lies; 0 for protocols a device cannot complete. */
function transportChecksumOffset(protocol: number): number {
  if (protocol === IP_PROTOCOL_TCP) return TCP_CHECKSUM_OFFSET;
  if (protocol === IP_PROTOCOL_UDP) return UDP_CHECKSUM_OFFSET;
  return 0;
}

/**
 * Writes a transport payload (bytes, or a writer that builds it in place) at `buf[offset]`; `place` is
 * where that byte lies in the checksum memory, or -1 (see PayloadWriter.write).
 */
export function writePayload(
  payload: PayloadWriter | Uint8Array,
  buf: Uint8Array,
  offset: number,
  src: Ipv4Address,
  dst: Ipv4Address,
  offload: boolean,
  place = -1,
): void {
  if (payload instanceof Uint8Array) buf.set(payload, offset);
  else payload.write(buf, offset, src, dst, offload, place);
}

/**
 * One datagram through a device with offloads: the frame is built behind the headroom the device asks
 * for; a TCP or UDP checksum is left partial (pseudo-header sum only) when the device completes it; a
 * TCP segment with more payload than `segmentSize` (or beyond the MTU) goes as one TSO frame, its
 * segment size lowered to what the MTU holds.
 */
export function sendOffloaded(
  out: Ipv4Transmitter,
  iface: IpInterface,
  offload: DeviceOffload,
  header: Ipv4Header,
  payload: PayloadWriter | Uint8Array,
  mtu: number,
  segmentSize: number,
  nextHop: Ipv4Address,
  mac: MacAddress | undefined,
): IpSendStatus {
  const length = payload.length;
  const totalLength = IPV4_HEADER_LENGTH + length;
  const transportStart = ETHERNET_HEADER_LENGTH + IPV4_HEADER_LENGTH;
  const field = transportChecksumOffset(header.protocol);
  // A ready-made payload already carries its checksum; only a writer can skip computing it.
  const partial =
    offload.transmitChecksum && field > 0 && !(payload instanceof Uint8Array) && length >= field + 2;
  const segmentation =
    segmentSize > 0 &&
    header.protocol === IP_PROTOCOL_TCP &&
    (totalLength > mtu || length - TCP_HEADER_LENGTH > segmentSize);
  if (segmentation && !(partial && totalLength <= offload.tcpSegmentationMax)) {
    return sendSegmented(out, iface, header, payload, mtu, segmentSize, nextHop, mac);
  }
  const headroom = offload.headroom;
  // The transport writes every byte of its payload (PayloadWriter): only the headers start from zeros. A
  // device that cuts the segment in software gives it back at once: it is carved where that costs least.
  const cleared = transportStart + Math.min(length, MAX_TRANSPORT_HEADER);
  const frame =
    segmentation && offload.softwareSegmentation === true
      ? allocateStagedFrame(ETHERNET_HEADER_LENGTH + totalLength, headroom, cleared)
      : allocateFrame(ETHERNET_HEADER_LENGTH + totalLength, headroom, cleared);
  emitIpv4Header(header, length, frame, ETHERNET_HEADER_LENGTH);
  writePayload(payload, frame, transportStart, header.src, header.dst, partial || iface.checksumOffload);
  const options = out.transmitOptions;
  options.checksumStart = 0;
  options.checksumOffset = 0;
  options.segmentSize = 0;
  options.headroom = headroom;
  if (partial) {
    const sum = pseudoHeaderSum(header.src, header.dst, header.protocol, length);
    frame[transportStart + field] = sum >>> 8;
    frame[transportStart + field + 1] = sum & 0xff;
    options.checksumStart = transportStart;
    options.checksumOffset = field;
  }
  if (segmentation) {
    const tcpHeaderLength = tcpHeaderLengthAt(frame, transportStart);
    const perSegment = Math.min(segmentSize, mtu - IPV4_HEADER_LENGTH - tcpHeaderLength);
    if (perSegment <= 0) {
      recycleFrame(frame);
      out.ctx.counters.IpFragFails++;
      return 'EMSGSIZE';
    }
    // The device cuts only what needs cutting: a segment whose payload fits one piece goes plain.
    if (length - tcpHeaderLength > perSegment) {
      options.segmentSize = perSegment;
      // Each piece takes the next identification (tcp-segmentation.ts), as each segment would have taken
      // one of its own: the flow's next datagram takes the one after the last piece's (Linux's
      // ip_select_ident_segs), so no two of the flow's datagrams in flight share one (RFC 6864 §4.2).
      out.ids.skip(Math.ceil((length - tcpHeaderLength) / perSegment) - 1);
    }
  }
  out.transmit(iface, frame, nextHop, mac, options);
  return 'ok';
}

/**
 * A TCP segment with more payload than `segmentSize` (or beyond the MTU) for a device without TSO: cut
 * here into segments that fit both.
 */
export function sendSegmented(
  out: Ipv4Transmitter,
  iface: IpInterface,
  header: Ipv4Header,
  payload: PayloadWriter | Uint8Array,
  mtu: number,
  segmentSize: number,
  nextHop: Ipv4Address,
  mac: MacAddress | undefined,
): IpSendStatus {
  const length = payload.length;
  const datagram = new Uint8Array(IPV4_HEADER_LENGTH + length);
  emitIpv4Header(header, length, datagram, 0);
  // The checksum is computed per piece below; the writer need not compute one for the whole.
  writePayload(payload, datagram, IPV4_HEADER_LENGTH, header.src, header.dst, true);
  const perSegment = Math.min(
    segmentSize,
    mtu - IPV4_HEADER_LENGTH - tcpHeaderLengthAt(datagram, IPV4_HEADER_LENGTH),
  );
  const frames = perSegment > 0 ? segmentTcpPacket(datagram, perSegment, ETHERNET_HEADER_LENGTH) : undefined;
  if (frames === undefined) {
    out.ctx.counters.IpFragFails++;
    return 'EMSGSIZE';
  }
  out.ids.skip(frames.length - 1);
  for (const frame of frames) out.transmit(iface, frame, nextHop, mac);
  return 'ok';
}

/** Does in software what `options` asked a device to do: TCP segmentation, checksum completion. */
export function withoutOffloads(frame: Uint8Array, options: FrameTransmitOptions): Uint8Array[] {
  if (options.segmentSize > 0) {
    const pieces = segmentTcpPacket(
      frame.subarray(ETHERNET_HEADER_LENGTH),
      options.segmentSize,
      ETHERNET_HEADER_LENGTH,
    );
    // Cannot fail: sendOffloaded (or the IPv6 layer) built a TCP packet segmentTcpPacket cuts. Each piece
    // keeps the frame's Ethernet header, for a device that sends the pieces on as they are.
    if (pieces === undefined) return [];
    for (const piece of pieces) piece.set(frame.subarray(0, ETHERNET_HEADER_LENGTH));
    return pieces;
  }
  completeChecksum(frame, options);
  return [frame];
}

/**
 * Completes in place the checksum `options` asked a device to complete (checksumStart, checksumOffset),
 * if any: `withoutOffloads` for a frame sent without segmentation, which stays one frame, so a device
 * that sends it on needs no list of pieces for it (an object per acknowledgment sent).
 */
export function completeChecksum(frame: Uint8Array, options: FrameTransmitOptions): void {
  if (options.checksumStart <= 0) return;
  const start = options.checksumStart;
  const field = start + options.checksumOffset;
  // The field holds the pseudo-header sum, so summing the transport bytes as they are includes it.
  let sum = checksumFinish(checksumAdd(0, frame, start, frame.length - start));
  if (sum === 0 && options.checksumOffset === UDP_CHECKSUM_OFFSET) sum = 0xffff; // RFC 768
  frame[field] = sum >>> 8;
  frame[field + 1] = sum & 0xff;
}

/**
 * A datagram from an offloading link (whose sender may have skipped the TCP/UDP checksum) leaves through a
 * link that needs real checksums: compute it now, as a NIC completes CHECKSUM_PARTIAL. Only whole datagrams
 * can be completed; fragments pass unchanged.
 */
export function completeTransportChecksum(frame: Uint8Array, packet: Ipv4Packet): void {
  if (packet.moreFragments || packet.fragmentOffset !== 0) return;
  const start = ETHERNET_HEADER_LENGTH + packet.headerLength;
  const length = packet.totalLength - packet.headerLength;
  let field: number;
  if (packet.protocol === IP_PROTOCOL_TCP && length >= 20) field = start + 16;
  else if (packet.protocol === IP_PROTOCOL_UDP && length >= 8) field = start + 6;
  else return;
  frame[field] = 0;
  frame[field + 1] = 0;
  let sum = checksumFinish(
    checksumAdd(pseudoHeaderSum(packet.src, packet.dst, packet.protocol, length), frame, start, length),
  );
  if (sum === 0 && packet.protocol === IP_PROTOCOL_UDP) sum = 0xffff;
  frame[field] = sum >>> 8;
  frame[field + 1] = sum & 0xff;
}
