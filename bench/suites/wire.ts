/**
 * Wire-format benchmarks: Internet checksum throughput and frames parsed per second.
 *
 * The kernel column of the checksum rows is Node's native zlib.crc32 over the same buffer: a different
 * (stronger) checksum done in C, shown for scale, since the kernel's own csum_partial cannot be timed from
 * user space. Parsing has no comparable user-space figure.
 */

import * as zlib from 'node:zlib';
import { checksumAdd } from '../../src/wire/checksum.js';
import { ETHERTYPE_IPV4, emitEthernetHeader, parseEthernet } from '../../src/wire/ethernet.js';
import { emitIpv4Header, IP_PROTOCOL_TCP, parseIpv4 } from '../../src/wire/ipv4.js';
import { emitTcp, parseTcp, TCP_ACK, TCP_PSH, type TcpSegment, tcpHeaderLength } from '../../src/wire/tcp.js';
import { type BenchRow, formatFigure, measure, NOT_MEASURED } from '../harness.js';

const SRC_IP = 0x0a4d0001;
const DST_IP = 0x0a4d0002;

type Crc32 = (data: Uint8Array, value?: number) => number;
const crc32 = (zlib as unknown as { crc32?: Crc32 }).crc32;

/** Bytes 0..n-1 of a pattern, in a view at an odd byteOffset so the unaligned head path is included. */
function patternBuffer(length: number): Uint8Array {
  const backing = new Uint8Array(length + 1);
  for (let i = 0; i < backing.length; i++) backing[i] = (i * 131 + 17) & 0xff;
  return backing.subarray(1);
}

function megabytesPerSecond(callsPerSecond: number, bytes: number): number {
  return (callsPerSecond * bytes) / 1e6;
}

function checksumRow(label: string, length: number): BenchRow {
  const buf = patternBuffer(length);
  const ours = measure(() => checksumAdd(0, buf, 0, length));
  const native = crc32 ? measure(() => crc32(buf)) : undefined;
  return {
    name: `internet checksum, ${label}`,
    tcpts: formatFigure(megabytesPerSecond(ours.perSecond, length)),
    kernel: native ? formatFigure(megabytesPerSecond(native.perSecond, length)) : NOT_MEASURED,
    unit: 'MB/s',
    note: native
      ? 'kernel column: Node zlib.crc32 (native C) on the same bytes, for scale'
      : 'zlib.crc32 unavailable',
  };
}

/** An Ethernet+IPv4+TCP frame as Linux sends it on an established connection (NOP NOP timestamps). */
function tcpFrame(payloadLength: number): Uint8Array {
  const segment: TcpSegment = {
    srcPort: 40000,
    dstPort: 7777,
    seq: 1067786263,
    ack: 3916759196,
    flags: payloadLength > 0 ? TCP_PSH | TCP_ACK : TCP_ACK,
    window: 501,
    urgentPointer: 0,
    options: { timestamp: { value: 4292185099, echo: 612975619 } },
    payload: patternBuffer(payloadLength),
  };
  const tcpLength = tcpHeaderLength(segment.options) + payloadLength;
  const frame = new Uint8Array(14 + 20 + tcpLength);
  emitEthernetHeader({ dst: 0x02000a4d0002, src: 0x02000a4d0001, etherType: ETHERTYPE_IPV4 }, frame, 0);
  const ip = {
    tos: 0,
    id: 0x67c8,
    dontFragment: true,
    moreFragments: false,
    fragmentOffset: 0,
    ttl: 64,
    protocol: IP_PROTOCOL_TCP,
    src: SRC_IP,
    dst: DST_IP,
  };
  emitIpv4Header(ip, tcpLength, frame, 14);
  emitTcp(segment, SRC_IP, DST_IP, frame, 34);
  return frame;
}

/** Full receive-path parse of one frame, every checksum verified; returns something derived from it. */
function parseFrame(frame: Uint8Array): number {
  const ethernet = parseEthernet(frame);
  if (!ethernet.ok) throw new Error(ethernet.error.message);
  const ip = parseIpv4(ethernet.value.payload);
  if (!ip.ok) throw new Error(ip.error.message);
  const tcp = parseTcp(ip.value.payload, ip.value.src, ip.value.dst);
  if (!tcp.ok) throw new Error(tcp.error.message);
  return tcp.value.seq ^ tcp.value.payload.length;
}

function parseRow(label: string, frame: Uint8Array): BenchRow {
  parseFrame(frame); // fails loudly if the frame is not what the row claims
  const result = measure(() => parseFrame(frame));
  return {
    name: `parse Ethernet+IPv4+TCP, ${label}`,
    tcpts: formatFigure(result.perSecond),
    kernel: NOT_MEASURED,
    unit: 'frames/s',
    note: 'checksums verified, options parsed',
  };
}

function emitRow(frame: Uint8Array): BenchRow {
  const parsedFrame = parseEthernet(frame);
  const ip = parsedFrame.ok ? parseIpv4(parsedFrame.value.payload) : undefined;
  const tcp = ip?.ok ? parseTcp(ip.value.payload, ip.value.src, ip.value.dst) : undefined;
  if (!parsedFrame.ok || !ip?.ok || !tcp?.ok) throw new Error('emit benchmark frame does not parse');
  const out = new Uint8Array(frame.length);
  const segment = tcp.value;
  const header = ip.value;
  const tcpLength = frame.length - 34;
  const result = measure(() => {
    emitEthernetHeader(parsedFrame.value, out, 0);
    emitIpv4Header(header, tcpLength, out, 14);
    return emitTcp(segment, SRC_IP, DST_IP, out, 34);
  });
  return {
    name: `emit Ethernet+IPv4+TCP, ${frame.length}-byte frame`,
    tcpts: formatFigure(result.perSecond),
    kernel: NOT_MEASURED,
    unit: 'frames/s',
    note: 'payload copied, both checksums computed',
  };
}

export async function run(): Promise<BenchRow[]> {
  const fullFrame = tcpFrame(1448);
  const ackFrame = tcpFrame(0);
  if (fullFrame.length !== 1514 || ackFrame.length !== 66)
    throw new Error('unexpected benchmark frame sizes');
  return [
    checksumRow('1500 B', 1500),
    checksumRow('64 KiB', 65536),
    parseRow('1514-byte frame', fullFrame),
    parseRow('66-byte ACK', ackFrame),
    emitRow(fullFrame),
  ];
}
