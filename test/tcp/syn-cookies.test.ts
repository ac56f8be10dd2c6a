import { describe, expect, it } from 'vitest';
import {
  cookieMssIndex,
  decodeCookieTimestamp,
  encodeCookieTimestamp,
  SYN_COOKIE_MSS_TABLE,
  SynCookieCodec,
} from '../../src/tcp/syn-cookies.js';
import { Random } from '../../src/util/random.js';
import { TCP_ACK, TCP_RST, TCP_SYN } from '../../src/wire/tcp.js';
import { runSynFlood } from '../flood/syn-flood.js';
import { flagsToString, pattern } from './dialogue.js';
import { FakeNetwork, ip } from './network.js';

const A = ip('10.0.0.1');
const B = ip('10.0.0.2');

function codec(fill = 7): SynCookieCodec {
  return new SynCookieCodec(new Uint8Array(32).fill(fill));
}

describe('SYN cookie encoding (RFC 4987 §3.6, as Linux)', () => {
  it('picks the largest table MSS not above the peer MSS', () => {
    expect(SYN_COOKIE_MSS_TABLE).toEqual([536, 1300, 1440, 1460]);
    expect([100, 536, 1299, 1300, 1439, 1460, 9000].map(cookieMssIndex)).toEqual([0, 0, 0, 1, 1, 3, 3]);
  });

  it('gives back the MSS index for the same 4-tuple and sequence number, this minute and the next only', () => {
    const c = codec();
    for (let index = 0; index < 4; index++) {
      const cookie = c.encode(B, 80, A, 40000, 0xfffffff0, index, 59_999);
      expect(c.decode(B, 80, A, 40000, 0xfffffff0, cookie, 59_999)).toBe(index);
      expect(c.decode(B, 80, A, 40000, 0xfffffff0, cookie, 119_999)).toBe(index);
      expect(c.decode(B, 80, A, 40000, 0xfffffff0, cookie, 120_000)).toBe(-1);
      // Another port, address or sequence number, or another secret: refused.
      expect(c.decode(B, 80, A, 40001, 0xfffffff0, cookie, 60_000)).toBe(-1);
      expect(c.decode(B, 80, A + 1, 40000, 0xfffffff0, cookie, 60_000)).toBe(-1);
      // (A sequence number one higher reads as the index one lower, as in Linux's encoding: the ACK must
      // still return the cookie exactly.)
      expect(c.decode(B, 80, A, 40000, 0x0ffffff0, cookie, 60_000)).toBe(-1);
      expect(codec(8).decode(B, 80, A, 40000, 0xfffffff0, cookie, 60_000)).toBe(-1);
    }
  });

  it('refuses blind guesses (about 2^-29 pass)', () => {
    const c = codec();
    const random = new Random(5);
    let passed = 0;
    for (let i = 0; i < 200_000; i++) {
      if (c.decode(B, 80, A, 40000, 1000, random.next(), 0) >= 0) passed++;
    }
    expect(passed).toBe(0);
  });

  it('carries window scale, SACK and ECN in the low 6 bits of the timestamp, never ahead of the clock', () => {
    for (const now of [0x12345678, 0x40, 0xffffffff, 0x1000003f, 0x80000005]) {
      for (const windowScale of [undefined, 0, 7, 14]) {
        for (const sackPermitted of [false, true]) {
          const options = { windowScale, sackPermitted, ecn: !sackPermitted };
          const signed = encodeCookieTimestamp(now, options);
          // TSval in the signed form TCP keeps timestamps in (tcp/seq.ts); compared here unsigned.
          expect(signed).toBe(signed | 0);
          const ts = signed >>> 0;
          expect(ts).toBeLessThanOrEqual(now);
          expect(now - ts).toBeLessThan(128);
          expect(decodeCookieTimestamp(ts)).toEqual(options);
        }
      }
    }
  });
});

describe('SYN cookies on a listener', () => {
  it('answers statelessly when cookies are always on, and the returning ACK opens the connection', () => {
    const net = new FakeNetwork();
    // A client without timestamps or SACK: the cookie has nowhere to keep window scaling.
    const a = net.addHost(['10.0.0.1'], { mtu: 1440, config: { timestamps: false, sack: false } });
    const b = net.addHost(['10.0.0.2'], { limits: { synCookies: 'always' } });
    const received: number[] = [];
    b.listen({ port: 80 }).on('connection', (c) => {
      c.on('readable', () => {
        for (let d = c.receive(net.clock.now()); d && d.length > 0; d = c.receive(net.clock.now())) {
          received.push(...d);
        }
      });
    });
    const client = a.connect({ remoteAddress: B, remotePort: 80 });
    net.run(1);
    // The SYN-ACK left, and the server keeps nothing.
    expect(b.connectionCount).toBe(0);
    const synAck = net.packets.find((p) => p.src === B)!;
    expect(flagsToString(synAck.seg.flags)).toBe('SA');
    // MSS 1400 from the client is carried as 1300; no timestamp to carry window scaling: not offered.
    expect(synAck.seg.options).toEqual({ mss: 1460 });
    expect(synAck.seg.window).toBe(65535);
    net.run(5);
    expect(client.state).toBe('ESTABLISHED');
    expect(b.counters.syncookiesSent).toBe(1);
    expect(b.counters.syncookiesRecv).toBe(1);
    const server = b.connections()[0]!;
    expect(server.state).toBe('ESTABLISHED');
    const status = server.status();
    expect([status.peerMss, status.sndWindowScale, status.rcvWindowScale]).toEqual([1300, 0, 0]);
    expect(status.iss).toBe(synAck.seg.seq);
    const data = pattern(100_000);
    client.send(data, net.clock.now());
    net.run(2000);
    expect(received).toEqual([...data]);
  });

  it('with timestamps, carries the window scale in the TSval and the connection scales its windows', () => {
    const net = new FakeNetwork();
    const config = { timestamps: true, sack: false };
    const a = net.addHost(['10.0.0.1'], { config });
    const b = net.addHost(['10.0.0.2'], { config, limits: { synCookies: 'always' } });
    const received: number[] = [];
    b.listen({ port: 80 }).on('connection', (c) => {
      c.on('readable', () => {
        for (let d = c.receive(net.clock.now()); d && d.length > 0; d = c.receive(net.clock.now())) {
          received.push(...d);
        }
      });
    });
    const client = a.connect({ remoteAddress: B, remotePort: 80 });
    net.run(1);
    const synAck = net.packets.find((p) => p.src === B)!.seg;
    // Both offer shift 7: the receive buffer may autotune up to 6 MiB (RFC 7323 §2.3 sizes the shift to it).
    expect(synAck.options.windowScale).toBe(7);
    // The client offered shift 7; no SACK, no ECN: 0b000111.
    expect(synAck.options.timestamp!.value & 0x3f).toBe(7);
    net.run(5);
    const status = b.connections()[0]!.status();
    expect([status.state, status.sndWindowScale, status.rcvWindowScale]).toEqual(['ESTABLISHED', 7, 7]);
    const data = pattern(200_000);
    client.send(data, net.clock.now());
    net.run(3000);
    expect(received).toEqual([...data]);
    expect(b.counters.syncookiesRecv).toBe(1);
  });

  it('uses cookies only once the SYN queue is full, and the flood cannot stop a client connecting', () => {
    const result = runSynFlood({
      syns: 20_000,
      rate: 20_000,
      connectAt: [200, 900, 1100, 5000],
      tailMs: 70_000,
      limits: { maxSynBacklog: 64 },
    });
    expect(result.synQueueLimit).toBe(64);
    expect(result.maxHalfOpen).toBe(64);
    for (const ms of result.connectMs) expect(ms).toBeLessThan(1000);
    expect(result.cookiesSent).toBeGreaterThanOrEqual(20_000 - 64);
    expect(result.cookiesReceived).toBeGreaterThanOrEqual(1);
    // Every half-open entry gave up after 5 SYN-ACK retransmissions: nothing left.
    expect(result.synAckTimeouts).toBeGreaterThanOrEqual(64);
    expect(result.connectionsAtEnd).toBe(0);
  });

  it('without cookies the same flood keeps the client out (the attack the cookies defeat is real)', () => {
    const result = runSynFlood({
      syns: 20_000,
      rate: 20_000,
      connectAt: [200],
      tailMs: 2000,
      limits: { maxSynBacklog: 64, synCookies: 'off' },
    });
    expect(result.connectMs[0]).toBe(Number.POSITIVE_INFINITY);
    expect(result.listenDrops).toBeGreaterThan(19_000);
  });

  it('5 spoofed SYNs a second do not keep a listener closed', () => {
    const result = runSynFlood({
      syns: 5 * 180,
      rate: 5,
      connectAt: [10_000, 60_000, 100_000, 150_000, 179_000],
      tailMs: 70_000,
      limits: { maxSynBacklog: 128 },
    });
    // 5/s for 63 s is 315 half-open entries: the queue of 128 is full, cookies answer the rest.
    expect(result.maxHalfOpen).toBe(128);
    expect(result.cookiesSent).toBeGreaterThan(0);
    for (const ms of result.connectMs) expect(ms).toBeLessThan(1000);
    expect(result.connectionsAtEnd).toBe(0);
  });

  it('answers an ACK with a forged cookie with RST, and counts it', () => {
    const net = new FakeNetwork();
    net.addHost(['10.0.0.1']);
    const b = net.addHost(['10.0.0.2'], { limits: { synCookies: 'always' } });
    b.listen({ port: 80 });
    const ack = (seq: number, ackNo: number, flags = TCP_ACK) => ({
      srcPort: 5555,
      dstPort: 80,
      seq,
      ack: ackNo,
      flags,
      window: 1000,
      urgentPointer: 0,
      options: {},
      payload: new Uint8Array(0),
    });
    // No cookie sent yet: a stray ACK is simply reset, no cookie is checked.
    b.receive(A, B, ack(100, 12345));
    expect(b.counters.syncookiesFailed).toBe(0);
    b.receive(A, B, { ...ack(99, 0), flags: TCP_SYN });
    const synAck = net.packets.at(-1)!.seg;
    // (A cookie a few units off reads as another MSS index, as in Linux's encoding: these are far off.)
    b.receive(A, B, ack(100, synAck.seq + 1 + 0x100000));
    b.receive(A, B, ack(100 + 0x1000000, synAck.seq + 1));
    b.receive(A, B, ack(100, synAck.seq + 1, TCP_ACK | TCP_RST));
    expect(b.counters.syncookiesFailed).toBe(2);
    expect(b.connectionCount).toBe(0);
    const answers = net.packets.slice(-4).map((p) => flagsToString(p.seg.flags));
    expect(answers).toEqual(['R', 'SA', 'R', 'R']);
    // The right cookie, three minutes later: too old.
    net.run(180_000);
    b.receive(A, B, ack(100, synAck.seq + 1));
    expect(b.connectionCount).toBe(0);
    expect(b.counters.syncookiesRecv).toBe(0);
  });
});

describe('SYN-ACK retransmissions (tcp_synack_retries)', () => {
  it('resends a SYN-ACK 5 times (1, 3, 7, 15, 31 s) and drops the half-open connection at 63 s', () => {
    const net = new FakeNetwork();
    const b = net.addHost(['10.0.0.2']);
    b.listen({ port: 80 });
    b.receive(ip('10.0.0.9'), B, {
      srcPort: 999,
      dstPort: 80,
      seq: 1,
      ack: 0,
      flags: TCP_SYN,
      window: 1000,
      urgentPointer: 0,
      options: {},
      payload: new Uint8Array(0),
    });
    net.runUntil(62_999);
    expect(b.connectionCount).toBe(1);
    net.runUntil(63_000);
    expect(b.connectionCount).toBe(0);
    expect(net.packets.map((p) => [flagsToString(p.seg.flags), p.time])).toEqual(
      [0, 1000, 3000, 7000, 15_000, 31_000].map((t) => ['SA', t]),
    );
    expect(b.counters.synAckTimeouts).toBe(1);
  });
});
