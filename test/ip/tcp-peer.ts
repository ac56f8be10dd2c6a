/**
 * A hand-driven TCP peer for a Stack on the recording harness: builds the peer's segments as frames,
 * reads back what the stack put on the wire (cut as its device would cut a TSO frame), and opens
 * connections to a listener on the stack.
 */
import { expect } from 'vitest';
import type { DeviceOffload, FrameTransmitOptions } from '../../src/link/device.js';
import type { TcpConnection } from '../../src/tcp/connection.js';
import { segmentTcpPacket } from '../../src/tcp/ip-glue/tcp-segmentation.js';
import { IP_PROTOCOL_TCP, parseIpv4 } from '../../src/wire/ipv4.js';
import { emitTcp, parseTcp, TCP_ACK, TCP_SYN, type TcpOptions, type TcpSegment } from '../../src/wire/tcp.js';
import { type Harness, HOST_IP, harness, ipv4Frame, PEER_IP } from './harness.js';

export const TSO: DeviceOffload = { transmitChecksum: true, tcpSegmentationMax: 65535, headroom: 0 };

export interface WirePiece {
  seq: number;
  ack: number;
  flags: number;
  length: number;
  srcPort: number;
  dstPort: number;
  options: TcpOptions;
  dontFragment: boolean;
  fragment: boolean;
  totalLength: number;
}

/** What reaches the wire from one frame the stack sent: the device cuts it when asked to (TSO). */
export function onTheWire(frame: Uint8Array, options?: FrameTransmitOptions): WirePiece[] {
  const frames =
    options !== undefined && options.segmentSize > 0
      ? segmentTcpPacket(frame.subarray(14), options.segmentSize, 14)!
      : [frame];
  return frames.map((f) => {
    const packet = parseIpv4(f.subarray(14));
    if (!packet.ok) throw new Error(packet.error.kind);
    const p = packet.value;
    // A partial checksum (TSO or checksum offload) is the device's to finish: not verified here.
    const tcp = parseTcp(p.payload, p.src, p.dst, { verifyChecksum: false });
    if (!tcp.ok) throw new Error(tcp.error.kind);
    const t = tcp.value;
    return {
      seq: t.seq,
      ack: t.ack,
      flags: t.flags,
      length: t.payload.length,
      srcPort: t.srcPort,
      dstPort: t.dstPort,
      options: t.options,
      dontFragment: p.dontFragment,
      fragment: p.moreFragments || p.fragmentOffset !== 0,
      totalLength: p.totalLength,
    };
  });
}

/** Every TCP segment the stack has put on the wire since the last `take`, and forgets them. */
export function takeSegments(h: Harness): WirePiece[] {
  const options = [...h.device.sentOptions];
  return h.device.take().flatMap((f, i) => onTheWire(f, options[i]));
}

/** A frame from the peer (PEER_IP, port 40000 unless given) to the stack's port 80. */
export function tcpFrame(segment: Partial<TcpSegment> & { seq: number; flags: number }): Uint8Array {
  const seg: TcpSegment = {
    srcPort: 40000,
    dstPort: 80,
    ack: 0,
    window: 65535,
    urgentPointer: 0,
    options: {},
    payload: new Uint8Array(0),
    ...segment,
  };
  const bytes = new Uint8Array(60 + seg.payload.length);
  const length = emitTcp(seg, PEER_IP, HOST_IP, bytes, 0);
  return ipv4Frame({ protocol: IP_PROTOCOL_TCP, dontFragment: true, payload: bytes.subarray(0, length) });
}

/** A stack listening on port 80 of a device with (`offload`) or without TSO. */
export function listeningStack(offload: boolean): { h: Harness; accepted: TcpConnection[] } {
  const h = harness({
    deviceOffload: offload ? TSO : undefined,
    stack: { tcp: { initialWindowSegments: 10 } },
  });
  const accepted: TcpConnection[] = [];
  h.stack.tcp.listen({ port: 80 }).on('connection', (c) => accepted.push(c));
  return { h, accepted };
}

/**
 * The peer opens a connection from `srcPort` with a SYN carrying `synOptions` (ISN 1000); returns the
 * connection once established and the stack's ISN.
 */
export function peerOpens(
  s: { h: Harness; accepted: TcpConnection[] },
  synOptions: TcpOptions,
  srcPort = 40000,
): { conn: TcpConnection; iss: number; synAck: WirePiece } {
  const { h } = s;
  h.device.inject(tcpFrame({ srcPort, seq: 1000, flags: TCP_SYN, options: synOptions }));
  const [synAck] = takeSegments(h);
  expect(synAck?.flags).toBe(TCP_SYN | TCP_ACK);
  const iss = synAck!.seq;
  h.device.inject(tcpFrame({ srcPort, seq: 1001, ack: iss + 1, flags: TCP_ACK }));
  const conn = s.accepted.at(-1)!;
  expect(conn.state).toBe('ESTABLISHED');
  return { conn, iss, synAck: synAck! };
}
