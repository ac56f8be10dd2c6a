/**
 * What a stack answers its device for each frame it drops (FRAME_RELEASED in seams.ts): a frame nothing
 * looks at again is released, so a device that lends memory (a memory link's frame allocator, a TAP
 * device's read buffer) uses it again; a corrupted frame left unanswered kept every frame carved beside
 * it from being carved again. Frames something may keep (a socket's datagram, a fragment waiting for
 * the rest) are not released; a listener reads numbers out of a SYN and keeps no view of it.
 */
import { describe, expect, test } from 'vitest';
import { FRAME_RELEASED } from '../../src/link/device.js';
import { ARP_REQUEST } from '../../src/wire/arp.js';
import { emitEthernetHeader } from '../../src/wire/ethernet.js';
import { ICMP_PORT_UNREACHABLE } from '../../src/wire/icmp.js';
import { IP_PROTOCOL_TCP } from '../../src/wire/ipv4.js';
import { parseTcp, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type TcpSegment } from '../../src/wire/tcp.js';
import {
  arpFrame,
  decode,
  decodeIcmp,
  drops,
  flipped,
  HOST_IP,
  HOST_MAC,
  harness,
  icmpFrame,
  ip,
  ipv4Frame,
  OTHER_MAC,
  PEER_IP,
  PEER_MAC,
  udpBytes,
} from './harness.js';
import { tcpFrame } from './tcp-peer.js';

/** Ethernet 14 + IPv4 20: where the transport header starts in the frames above. */
const TRANSPORT = 34;

describe('frames a stack drops are released to the device', () => {
  test.each([
    ['a frame too short for an Ethernet header', () => new Uint8Array(10), 'ethernet:truncated'],
    [
      'a frame for another station',
      () =>
        ipv4Frame({
          dstMac: OTHER_MAC,
          payload: udpBytes({ srcPort: 1, dstPort: 7, payload: new Uint8Array(4) }),
        }),
      'ethernet:other-host',
    ],
    [
      'a frame of an EtherType no protocol registered',
      () => {
        const frame = new Uint8Array(60);
        emitEthernetHeader({ dst: HOST_MAC, src: PEER_MAC, etherType: 0x88b5 }, frame, 0);
        return frame;
      },
      'ethernet:unknown-ethertype',
    ],
    [
      'an IPv4 header with a bad checksum',
      () =>
        flipped(ipv4Frame({ payload: udpBytes({ srcPort: 1, dstPort: 7, payload: new Uint8Array(4) }) }), 22),
      'ipv4:bad-checksum',
    ],
    [
      'a martian source (our own address from the wire)',
      () =>
        ipv4Frame({
          src: HOST_IP,
          payload: udpBytes({ srcPort: 1, dstPort: 7, payload: new Uint8Array(4) }),
        }),
      'ipv4:martian-source',
    ],
    [
      'a datagram for another host (not forwarding)',
      () =>
        ipv4Frame({
          dst: ip('10.0.0.9'),
          payload: udpBytes({ srcPort: 1, dstPort: 7, payload: new Uint8Array(4) }, PEER_IP, ip('10.0.0.9')),
        }),
      'ipv4:not-for-us',
    ],
    [
      'a UDP datagram with a bad checksum',
      () =>
        flipped(
          ipv4Frame({ payload: udpBytes({ srcPort: 1, dstPort: 7, payload: new Uint8Array(4) }) }),
          TRANSPORT + 9,
        ),
      'udp:bad-checksum',
    ],
    [
      'a TCP segment with a bad checksum',
      () => flipped(tcpFrame({ seq: 1000, flags: TCP_ACK, ack: 1 }), TRANSPORT + 4),
      'tcp:bad-checksum',
    ],
  ])('%s', (_what, frame, drop) => {
    const h = harness();
    expect(h.device.deliver(frame())).toBe(FRAME_RELEASED);
    expect(drops(h.trace)).toEqual([drop]);
    expect(h.device.take()).toHaveLength(0);
  });

  test('an ARP request: answered, and nothing of it kept', () => {
    const h = harness({ peerKnown: false });
    const request = arpFrame(
      { operation: ARP_REQUEST, senderMac: PEER_MAC, senderIp: PEER_IP, targetMac: 0, targetIp: HOST_IP },
      0xffff_ffff_ffff,
    );
    expect(h.device.deliver(request)).toBe(FRAME_RELEASED);
    request.fill(0);
    const [reply] = h.device.take();
    expect(decode(reply!).arp).toMatchObject({ senderIp: HOST_IP, targetIp: PEER_IP, targetMac: PEER_MAC });
  });

  test('errors that quote the dropped datagram copied it before the frame was released', () => {
    // A datagram to a port nothing is bound to, one of a protocol nothing handles, a segment for no
    // connection: each is answered (port unreachable, protocol unreachable, reset) and released.
    const h = harness();
    const toNoPort = ipv4Frame({
      payload: udpBytes({ srcPort: 1111, dstPort: 7, payload: new Uint8Array(4) }),
    });
    const unknownProtocol = ipv4Frame({ protocol: 253, payload: new Uint8Array(12).fill(0xab) });
    const toClosedPort = tcpFrame({ seq: 1000, flags: TCP_ACK, ack: 5555 });
    const originals = [toNoPort.slice(14), unknownProtocol.slice(14)];
    expect(h.device.deliver(toNoPort)).toBe(FRAME_RELEASED);
    expect(h.device.deliver(unknownProtocol)).toBe(FRAME_RELEASED);
    expect(h.device.deliver(toClosedPort)).toBe(FRAME_RELEASED);
    // The device may write over them now: what was sent is unchanged.
    for (const frame of [toNoPort, unknownProtocol, toClosedPort]) frame.fill(0xff);
    const [portUnreachable, protocolUnreachable, reset] = h.device.take();
    for (const [i, sent] of [portUnreachable!, protocolUnreachable!].entries()) {
      const message = decodeIcmp(sent);
      expect(message).toMatchObject({ kind: 'destination-unreachable', code: i === 0 ? 3 : 2 });
      const quote = (message as { original: Uint8Array }).original;
      expect([...quote]).toEqual([...originals[i]!.subarray(0, 28)]);
    }
    const resetPacket = decode(reset!).ip!;
    expect(resetPacket.protocol).toBe(IP_PROTOCOL_TCP);
    // <SEQ=SEG.ACK><CTL=RST> (RFC 9293 §3.10.7.1)
    expect(new DataView(resetPacket.payload.buffer, resetPacket.payload.byteOffset).getUint32(4)).toBe(5555);
  });

  test('frames something may keep are not released', () => {
    const h = harness();
    const kept: Uint8Array[] = [];
    h.stack.udp.bind({ port: 7 }, { message: (payload) => kept.push(payload) });
    h.stack.tcp.listen({ port: 80 });
    // A datagram a socket was given, a fragment waiting for the rest.
    expect(
      h.device.deliver(
        ipv4Frame({ payload: udpBytes({ srcPort: 1, dstPort: 7, payload: new Uint8Array(4) }) }),
      ),
    ).toBe(undefined);
    expect(h.device.deliver(ipv4Frame({ moreFragments: true, payload: new Uint8Array(16) }))).toBe(undefined);
    expect(kept).toHaveLength(1);
    expect(drops(h.trace)).toEqual([]);
  });
});

/** The TCP segments among `frames` (all sent by the stack to the peer). */
function tcpSent(frames: Uint8Array[]): TcpSegment[] {
  const out: TcpSegment[] = [];
  for (const frame of frames) {
    const packet = decode(frame).ip;
    if (packet?.protocol !== IP_PROTOCOL_TCP) continue;
    const seg = parseTcp(packet.payload, PEER_IP, HOST_IP);
    if (seg.ok) out.push(seg.value);
  }
  return out;
}

describe('segments a listener handles are released: it keeps numbers, never a view', () => {
  test('a SYN and the ACK completing its handshake; the SYN-ACK resent from what was read, not the frame', () => {
    const h = harness();
    const accepted: string[] = [];
    h.stack.tcp.listen({ port: 80 }).on('connection', (conn) => accepted.push(conn.state));
    const syn = tcpFrame({
      seq: 1000,
      flags: TCP_SYN,
      options: { mss: 1000, windowScale: 3, sackPermitted: true, timestamp: { value: 77, echo: 0 } },
    });
    expect(h.device.deliver(syn)).toBe(FRAME_RELEASED);
    // The device writes another frame into the same memory: nothing of the SYN may be read from it now.
    syn.fill(0xa5);
    const first = tcpSent(h.device.take());
    // The retransmitted SYN-ACK is built again from the connection's state.
    h.clock.advance(1500);
    const again = tcpSent(h.device.take());
    for (const synAck of [first[0], again[0]]) {
      expect(synAck?.flags).toBe(TCP_SYN | TCP_ACK);
      expect(synAck?.ack).toBe(1001);
      expect(synAck?.options.timestamp?.echo).toBe(77);
      expect(synAck?.options.sackPermitted).toBe(true);
      expect(synAck?.options.windowScale).toBeDefined();
    }
    const iss = first[0]!.seq;
    const ack = tcpFrame({
      seq: 1001,
      ack: (iss + 1) >>> 0,
      flags: TCP_ACK,
      options: { timestamp: { value: 78, echo: first[0]!.options.timestamp!.value } },
    });
    expect(h.device.deliver(ack)).toBe(FRAME_RELEASED);
    expect(accepted).toEqual(['ESTABLISHED']);
    // The peer's MSS came from the SYN: 1000 bytes less the 12 of the timestamp option.
    const conn = h.stack.tcp.connections()[0]!;
    conn.send(new Uint8Array(5000), h.clock.now());
    const data = tcpSent(h.device.take()).filter((seg) => seg.payload.length > 0);
    expect(data.length).toBeGreaterThan(1);
    expect(Math.max(...data.map((seg) => seg.payload.length))).toBe(988);
  });

  test('a SYN answered by a cookie, the cookie ACK, a stray ACK, a reset, a segment without SYN', () => {
    const h = harness({ stack: { tcpLimits: { synCookies: 'always' } } });
    const accepted: string[] = [];
    h.stack.tcp.listen({ port: 80 }).on('connection', (conn) => accepted.push(conn.state));
    const syn = tcpFrame({ seq: 5000, flags: TCP_SYN, options: { mss: 1200 } });
    expect(h.device.deliver(syn)).toBe(FRAME_RELEASED);
    syn.fill(0);
    const [cookie] = tcpSent(h.device.take());
    expect(cookie?.flags).toBe(TCP_SYN | TCP_ACK);
    expect(h.stack.tcp.counters.syncookiesSent).toBe(1);
    // The ACK returning the cookie rebuilds the connection (no SYN queue entry was kept).
    const ack = tcpFrame({ seq: 5001, ack: (cookie!.seq + 1) >>> 0, flags: TCP_ACK });
    expect(h.device.deliver(ack)).toBe(FRAME_RELEASED);
    expect(accepted).toEqual(['ESTABLISHED']);
    h.device.take();
    // From other ports: an ACK with no valid cookie is reset, the rest dropped.
    expect(h.device.deliver(tcpFrame({ srcPort: 40001, seq: 1000, flags: TCP_ACK, ack: 9 }))).toBe(
      FRAME_RELEASED,
    );
    expect(tcpSent(h.device.take()).map((seg) => seg.flags)).toEqual([TCP_RST]);
    expect(h.device.deliver(tcpFrame({ srcPort: 40002, seq: 1000, flags: TCP_RST }))).toBe(FRAME_RELEASED);
    expect(h.device.deliver(tcpFrame({ srcPort: 40003, seq: 1000, flags: 0 }))).toBe(FRAME_RELEASED);
    expect(tcpSent(h.device.take())).toEqual([]);
  });
});

/** 20 bytes of IPv4 header and 8 of TCP, as an ICMP error quotes them; `src` sent it. */
function quoteOf(src: number, dst: number): Uint8Array {
  return ipv4Frame({ src, dst, protocol: IP_PROTOCOL_TCP, payload: new Uint8Array(8).fill(3) }).slice(14);
}

describe('ICMP messages only read or answered are released', () => {
  test('an echo request: the reply carries its data though the frame is overwritten at once', () => {
    // The peer's address is not resolved yet: the reply waits, as a frame of its own, for ARP.
    const h = harness({ peerKnown: false });
    const data = Uint8Array.from({ length: 56 }, (_, i) => i + 1);
    const request = icmpFrame({ kind: 'echo-request', identifier: 7, sequence: 9, data });
    expect(h.device.deliver(request)).toBe(FRAME_RELEASED);
    request.fill(0xee);
    h.device.take(); // the ARP request
    h.iface.arp.addStatic(PEER_IP, PEER_MAC);
    const [reply] = h.device.take();
    expect(decodeIcmp(reply!)).toEqual({ kind: 'echo-reply', identifier: 7, sequence: 9, data });
  });

  test('an echo reply to our ping, a message of unknown type, a malformed one', async () => {
    const h = harness();
    const ping = h.stack.ping(PEER_IP, { timeoutMs: 10_000 });
    const [sent] = h.device.take();
    const request = decodeIcmp(sent!);
    if (request.kind !== 'echo-request') throw new Error('no echo request sent');
    const reply = icmpFrame({ ...request, kind: 'echo-reply', data: request.data.slice() });
    expect(h.device.deliver(reply)).toBe(FRAME_RELEASED);
    reply.fill(0);
    expect((await ping).sequence).toBe(request.sequence);
    const unknown = icmpFrame({ kind: 'other', type: 42, code: 0, restOfHeader: 0, body: new Uint8Array(4) });
    expect(h.device.deliver(unknown)).toBe(FRAME_RELEASED);
    const malformed = icmpFrame({
      kind: 'echo-request',
      identifier: 1,
      sequence: 1,
      data: new Uint8Array(4),
    });
    malformed[14 + 20 + 2]! ^= 0xff; // the ICMP checksum
    expect(h.device.deliver(malformed)).toBe(FRAME_RELEASED);
    expect(drops(h.trace)).toEqual(['icmp:unhandled-type', 'icmp:bad-checksum']);
  });

  test('an error is released when dropped, kept when its quote goes to the transport', () => {
    const h = harness();
    const error = (original: Uint8Array) =>
      icmpFrame({ kind: 'destination-unreachable', code: ICMP_PORT_UNREACHABLE, nextHopMtu: 0, original });
    // About a datagram we did not send (RFC 5927 §4.1): dropped.
    expect(h.device.deliver(error(quoteOf(PEER_IP, HOST_IP)))).toBe(FRAME_RELEASED);
    expect(drops(h.trace)).toEqual(['icmp:error-about-foreign-datagram']);
    // About one of ours: TCP is given the quote.
    expect(h.device.deliver(error(quoteOf(HOST_IP, PEER_IP)))).toBe(undefined);
    expect(h.stack.counters.IcmpInDestUnreachs).toBe(2);
  });
});

describe('segments a TIME-WAIT record handles are released: it keeps numbers only', () => {
  test('a retransmitted FIN (acknowledged again), a reset, a segment outside the window', () => {
    const h = harness();
    const conn = h.stack.tcp.connect({ remoteAddress: PEER_IP, remotePort: 80 });
    const port = conn.local.port;
    const [syn] = tcpSent(h.device.take());
    const iss = syn!.seq;
    const fromPeer = (fields: Partial<TcpSegment> & { seq: number; flags: number }) =>
      tcpFrame({ srcPort: 80, dstPort: port, ...fields });
    h.device.deliver(fromPeer({ seq: 7000, ack: (iss + 1) >>> 0, flags: TCP_SYN | TCP_ACK }));
    conn.close(h.clock.now());
    const [fin] = tcpSent(h.device.take()).filter((seg) => seg.flags & TCP_FIN);
    expect(fin).toBeDefined();
    // The peer acknowledges our FIN and sends its own: TIME-WAIT.
    const peerFin = { seq: 7001, ack: (fin!.seq + 1) >>> 0, flags: TCP_FIN | TCP_ACK };
    h.device.deliver(fromPeer(peerFin));
    expect(h.stack.tcp.timeWaitCount).toBe(1);
    h.device.take();
    expect(h.device.deliver(fromPeer(peerFin))).toBe(FRAME_RELEASED);
    expect(tcpSent(h.device.take()).map((seg) => [seg.flags, seg.ack])).toEqual([[TCP_ACK, 7002]]);
    expect(h.device.deliver(fromPeer({ seq: 7002, flags: TCP_RST }))).toBe(FRAME_RELEASED);
    expect(h.device.deliver(fromPeer({ seq: 1, ack: (fin!.seq + 1) >>> 0, flags: TCP_ACK }))).toBe(
      FRAME_RELEASED,
    );
    expect(h.stack.tcp.timeWaitCount).toBe(1);
  });
});
