import { describe, expect, test } from 'vitest';
import { ICMP_FRAGMENTATION_NEEDED } from '../../src/wire/icmp.js';
import { IP_PROTOCOL_ICMP } from '../../src/wire/ipv4.js';
import {
  decode,
  decodeIcmp,
  drops,
  HOST_IP,
  HOST_MAC,
  harness,
  icmpFrame,
  ip,
  ipv4Frame,
  PEER_IP,
  PEER_MAC,
  udpBytes,
} from './harness.js';

const BROADCAST_MAC = 0xffff_ffff_ffff;

function echoRequest(
  identifier: number,
  sequence: number,
  data: Uint8Array,
  extra: Parameters<typeof icmpFrame>[1] = {},
) {
  return icmpFrame({ kind: 'echo-request', identifier, sequence, data }, extra);
}

describe('ICMP echo (RFC 792, RFC 1122 §3.2.2.6)', () => {
  test('an echo request is answered with the same identifier, sequence and data', () => {
    const h = harness();
    const data = Uint8Array.from({ length: 56 }, (_, i) => i);
    h.device.inject(echoRequest(0xbeef, 17, data, { ttl: 3, tos: 0x10, id: 999 }));
    const [frame] = h.device.take();
    expect(decode(frame!)).toMatchObject({
      dstMac: PEER_MAC,
      srcMac: HOST_MAC,
      ip: { src: HOST_IP, dst: PEER_IP, ttl: 64, protocol: IP_PROTOCOL_ICMP, tos: 0x10, totalLength: 84 },
    });
    expect(decodeIcmp(frame!)).toEqual({ kind: 'echo-reply', identifier: 0xbeef, sequence: 17, data });
    expect(h.stack.counters).toMatchObject({
      IcmpInMsgs: 1,
      IcmpInEchos: 1,
      IcmpOutMsgs: 1,
      IcmpOutEchoReps: 1,
    });
  });

  test('echo requests to broadcast are ignored', () => {
    const h = harness();
    h.device.inject(echoRequest(1, 1, new Uint8Array(8), { dst: ip('10.0.0.255'), dstMac: BROADCAST_MAC }));
    h.device.inject(echoRequest(1, 2, new Uint8Array(8), { dst: 0xffffffff, dstMac: BROADCAST_MAC }));
    expect(h.device.take()).toHaveLength(0);
    expect(drops(h.trace)).toEqual(['icmp:broadcast-echo-ignored', 'icmp:broadcast-echo-ignored']);
    expect(h.stack.counters.IpInBcastPkts).toBe(2);
  });

  test('a bad ICMP checksum is counted and dropped', () => {
    const h = harness();
    const frame = echoRequest(1, 1, new Uint8Array(8));
    frame[14 + 20 + 2]! ^= 0x01;
    h.device.inject(frame);
    expect(h.device.take()).toHaveLength(0);
    expect(h.stack.counters).toMatchObject({ IcmpInMsgs: 1, IcmpInErrors: 1, IcmpInCsumErrors: 1 });
    expect(drops(h.trace)).toEqual(['icmp:bad-checksum']);
  });

  test('unknown ICMP types are silently discarded', () => {
    const h = harness();
    h.device.inject(
      icmpFrame({ kind: 'other', type: 13, code: 0, restOfHeader: 0, body: new Uint8Array(12) }),
    );
    expect(h.device.take()).toHaveLength(0);
    expect(drops(h.trace)).toEqual(['icmp:unhandled-type']);
  });
});

describe('ping', () => {
  test('resolves with RTT on the clock, TTL and size of the reply', async () => {
    const h = harness();
    const reply = h.stack.ping(PEER_IP, { size: 100 });
    const [request] = h.device.take();
    const echo = decodeIcmp(request!);
    if (echo.kind !== 'echo-request') throw new Error('expected an echo request');
    expect(echo.data).toEqual(Uint8Array.from({ length: 100 }, (_, i) => i));
    expect(echo.sequence).toBe(1);
    h.clock.advance(12.5);
    h.device.inject(icmpFrame({ ...echo, kind: 'echo-reply' }, { ttl: 61 }));
    expect(await reply).toEqual({
      from: PEER_IP,
      rtt: 12.5,
      ttl: 61,
      bytes: 108,
      identifier: echo.identifier,
      sequence: 1,
    });
    expect(h.clock.pendingTimers).toBe(0);
  });

  test('times out with ETIMEDOUT after exactly timeoutMs; a late reply is dropped', async () => {
    const h = harness();
    const outcome = h.stack
      .ping(PEER_IP, { timeoutMs: 2000 })
      .catch((e: { code: string }) => `${e.code}@${h.clock.now()}`);
    const echo = decodeIcmp(h.device.take()[0]!);
    h.clock.advance(1999);
    h.clock.advance(1);
    expect(await outcome).toBe('ETIMEDOUT@2000');
    if (echo.kind !== 'echo-request') throw new Error('expected an echo request');
    h.device.inject(icmpFrame({ ...echo, kind: 'echo-reply' }));
    expect(drops(h.trace)).toEqual(['icmp:unexpected-echo-reply']);
  });

  test('a reply from another host or with other data does not count', async () => {
    const h = harness();
    const reply = h.stack.ping(PEER_IP, { size: 4, timeoutMs: 100 });
    const echo = decodeIcmp(h.device.take()[0]!);
    if (echo.kind !== 'echo-request') throw new Error('expected an echo request');
    h.device.inject(icmpFrame({ ...echo, kind: 'echo-reply' }, { src: ip('10.0.0.3') }));
    h.device.inject(icmpFrame({ ...echo, kind: 'echo-reply', data: Uint8Array.of(9, 9, 9, 9) }));
    h.device.inject(icmpFrame({ ...echo, kind: 'echo-reply' }));
    expect((await reply).from).toBe(PEER_IP);
    expect(drops(h.trace)).toEqual(['icmp:echo-reply-from-other-host', 'icmp:echo-reply-data-mismatch']);
  });

  test('pinging our own address goes through loopback', async () => {
    const h = harness();
    const reply = h.stack.ping(HOST_IP);
    const loopback = h.stack.ping('127.0.0.1');
    h.clock.runUntilIdle();
    expect(await reply).toMatchObject({ from: HOST_IP, rtt: 0, ttl: 64 });
    expect(await loopback).toMatchObject({ from: ip('127.0.0.1'), rtt: 0 });
    expect(h.device.take()).toHaveLength(0);
  });

  test('bad options and unroutable targets are refused', async () => {
    const h = harness();
    await expect(h.stack.ping(PEER_IP, { size: 70_000 })).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(h.stack.ping('not an address')).rejects.toMatchObject({ code: 'EINVAL' });
    h.stack.routes.remove(h.stack.routes.lookup(ip('8.8.8.8'))!);
    await expect(h.stack.ping('8.8.8.8')).rejects.toMatchObject({ code: 'ENETUNREACH' });
    await expect(h.stack.ping(PEER_IP, { size: 2000, dontFragment: true })).rejects.toMatchObject({
      code: 'EMSGSIZE',
    });
  });
});

describe('ICMP errors we send (RFC 1122 §3.2.2)', () => {
  test('UDP to a closed port: port unreachable quoting the IP header and 8 bytes', () => {
    const h = harness();
    const datagram = udpBytes({ srcPort: 3333, dstPort: 4444, payload: new Uint8Array(100).fill(0x61) });
    const frame = ipv4Frame({ payload: datagram, id: 0x4242 });
    h.device.inject(frame);
    const [sent] = h.device.take();
    expect(decode(sent!).ip).toMatchObject({
      src: HOST_IP,
      dst: PEER_IP,
      protocol: IP_PROTOCOL_ICMP,
      ttl: 64,
    });
    expect(decodeIcmp(sent!)).toEqual({
      kind: 'destination-unreachable',
      code: 3,
      nextHopMtu: 0,
      original: frame.subarray(14, 14 + 28),
    });
    expect(h.stack.counters).toMatchObject({ UdpNoPorts: 1, IcmpOutDestUnreachs: 1, IcmpOutMsgs: 1 });
    expect(drops(h.trace)).toEqual(['udp:no-port']);
  });

  test('no error for a datagram to broadcast, nor one received as link-layer broadcast', () => {
    const h = harness();
    const datagram = udpBytes(
      { srcPort: 3333, dstPort: 4444, payload: new Uint8Array(4) },
      PEER_IP,
      0xffffffff,
    );
    h.device.inject(ipv4Frame({ payload: datagram, dst: 0xffffffff, dstMac: BROADCAST_MAC }));
    const directed = udpBytes(
      { srcPort: 3333, dstPort: 4444, payload: new Uint8Array(4) },
      PEER_IP,
      ip('10.0.0.255'),
    );
    h.device.inject(ipv4Frame({ payload: directed, dst: ip('10.0.0.255'), dstMac: BROADCAST_MAC }));
    expect(h.device.take()).toHaveLength(0);
    expect(h.stack.counters.UdpNoPorts).toBe(2);
  });

  test('an unknown protocol gets protocol unreachable', () => {
    const h = harness();
    const frame = ipv4Frame({ protocol: 253, payload: new Uint8Array(12) });
    h.device.inject(frame);
    expect(decodeIcmp(h.device.take()[0]!)).toMatchObject({ kind: 'destination-unreachable', code: 2 });
    expect(h.stack.counters.IpInUnknownProtos).toBe(1);
  });

  test('errors are rate-limited: a burst of 50, then 1000 per second', () => {
    const h = harness();
    const frame = ipv4Frame({ payload: udpBytes({ srcPort: 1, dstPort: 2, payload: new Uint8Array(0) }) });
    for (let i = 0; i < 60; i++) h.device.inject(frame);
    expect(h.device.take()).toHaveLength(50);
    expect(h.stack.counters.IcmpOutRateLimited).toBe(10);
    h.clock.advance(5);
    for (let i = 0; i < 10; i++) h.device.inject(frame);
    expect(h.device.take()).toHaveLength(5);
    expect(h.stack.counters).toMatchObject({
      IcmpOutRateLimited: 15,
      IcmpOutDestUnreachs: 55,
      UdpNoPorts: 70,
    });
  });

  test('echo replies are not rate-limited', () => {
    const h = harness();
    for (let i = 0; i < 80; i++) h.device.inject(echoRequest(1, i, new Uint8Array(0)));
    expect(h.device.take()).toHaveLength(80);
  });
});

describe('ICMP errors we receive', () => {
  function sentUdp(h: ReturnType<typeof harness>, connect: boolean) {
    const errors: Array<{ code: string; icmpType: number; icmpCode: number; reporter: number }> = [];
    const socket = h.stack.udp.bind({ port: 5555 }, { error: (e) => errors.push(e as never) });
    if (connect) socket.connect(PEER_IP, 53);
    socket.send(new Uint8Array(20), connect ? undefined : 53, connect ? undefined : PEER_IP);
    const [frame] = h.device.take();
    return { errors, socket, quoted: frame!.subarray(14, 14 + 28) };
  }

  test('port unreachable reaches the connected socket as ECONNREFUSED', () => {
    const h = harness();
    const { errors, quoted } = sentUdp(h, true);
    h.device.inject(icmpFrame({ kind: 'destination-unreachable', code: 3, nextHopMtu: 0, original: quoted }));
    expect(errors).toEqual([
      expect.objectContaining({ code: 'ECONNREFUSED', icmpType: 3, icmpCode: 3, reporter: PEER_IP }),
    ]);
    expect(h.stack.counters.IcmpInDestUnreachs).toBe(1);
  });

  test('an unconnected socket is not told (as POSIX without IP_RECVERR)', () => {
    const h = harness();
    const { errors, quoted } = sentUdp(h, false);
    h.device.inject(icmpFrame({ kind: 'destination-unreachable', code: 3, nextHopMtu: 0, original: quoted }));
    expect(errors).toEqual([]);
  });

  test('errors about datagrams we did not send are ignored', () => {
    const h = harness();
    const { errors, quoted } = sentUdp(h, true);
    const forged = quoted.slice();
    forged.set([10, 0, 0, 77], 12); // source address not ours
    h.device.inject(icmpFrame({ kind: 'destination-unreachable', code: 3, nextHopMtu: 0, original: forged }));
    h.device.inject(
      icmpFrame({
        kind: 'destination-unreachable',
        code: 3,
        nextHopMtu: 0,
        original: quoted.subarray(0, 24),
      }),
    );
    expect(errors).toEqual([]);
    expect(drops(h.trace)).toEqual(['icmp:error-about-foreign-datagram', 'icmp:quote-too-short']);
  });

  test('fragmentation needed lowers the path MTU; DF senders then get EMSGSIZE; it expires after 10 min', () => {
    const h = harness();
    const far = ip('192.0.2.9');
    expect(h.stack.mtuFor(far)).toBe(1500);
    const socket = h.stack.udp.bind({ port: 5555 });
    socket.send(new Uint8Array(1400), 9, far, { dontFragment: true });
    const [frame] = h.device.take();
    h.device.inject(
      icmpFrame(
        {
          kind: 'destination-unreachable',
          code: ICMP_FRAGMENTATION_NEEDED,
          nextHopMtu: 1280,
          original: frame!.subarray(14, 14 + 28),
        },
        { src: ip('10.0.0.254') },
      ),
    );
    expect(h.stack.mtuFor(far)).toBe(1280);
    expect(h.stack.mtuFor(PEER_IP)).toBe(1500);
    expect(() => socket.send(new Uint8Array(1400), 9, far, { dontFragment: true })).toThrow(
      expect.objectContaining({ code: 'EMSGSIZE' }),
    );
    // Without DF the datagram is fragmented to the path MTU.
    socket.send(new Uint8Array(1400), 9, far);
    expect(h.device.take().map((f) => decode(f).ip!.totalLength)).toEqual([1276, 172]);
    h.clock.advance(10 * 60_000);
    expect(h.stack.mtuFor(far)).toBe(1500);
  });

  test('fragmentation needed without a next-hop MTU (pre-RFC 1191 router) uses the plateau table', () => {
    const h = harness();
    const far = ip('192.0.2.9');
    const socket = h.stack.udp.bind({ port: 5555 });
    socket.send(new Uint8Array(1400), 9, far, { dontFragment: true });
    const [frame] = h.device.take();
    h.device.inject(
      icmpFrame({
        kind: 'destination-unreachable',
        code: ICMP_FRAGMENTATION_NEEDED,
        nextHopMtu: 0,
        original: frame!.subarray(14, 14 + 28),
      }),
    );
    expect(h.stack.mtuFor(far)).toBe(1006); // the plateau below 1428
  });

  test('an error about our echo request fails the ping with the ICMP details', async () => {
    const h = harness();
    const ping = h.stack.ping(ip('192.0.2.1')).catch((e: unknown) => e);
    const [frame] = h.device.take();
    h.device.inject(
      icmpFrame(
        { kind: 'time-exceeded', code: 0, original: frame!.subarray(14, 14 + 28) },
        { src: ip('10.0.0.254') },
      ),
    );
    expect(await ping).toMatchObject({
      code: 'EHOSTUNREACH',
      icmpType: 11,
      icmpCode: 0,
      reporter: ip('10.0.0.254'),
    });
    expect(h.clock.pendingTimers).toBe(0);
  });

  test('ICMP errors addressed to broadcast are ignored', () => {
    const h = harness();
    const { errors, quoted } = sentUdp(h, true);
    h.device.inject(
      icmpFrame(
        { kind: 'destination-unreachable', code: 3, nextHopMtu: 0, original: quoted },
        { dst: ip('10.0.0.255'), dstMac: 0xffff_ffff_ffff },
      ),
    );
    expect(errors).toEqual([]);
    expect(drops(h.trace)).toEqual(['icmp:error-to-broadcast']);
  });
});
