import { describe, expect, it } from 'vitest';
import { TCP_ACK, TCP_RST } from '../../src/wire/tcp.js';
import { established, pattern } from './dialogue.js';
import { FakeNetwork, ip } from './network.js';

const D = 1001;
const P = 9001;

describe('Answers to invalid segments are rate limited per connection (RFC 5961 §7, tcp_invalid_ratelimit)', () => {
  it('answers one out-of-window segment per 500 ms and counts the others', () => {
    const d = established();
    for (let i = 0; i < 10; i++) d.recv({ flags: 'PA', seq: P + 1_000_000 + i, ack: D, payload: 10 });
    d.expect({ flags: 'A', seq: D, ack: P });
    d.expectNone();
    expect(d.counters.ackSkippedSeq).toBe(9);
    d.advance(499).recv({ flags: 'A', seq: P - 500_000, ack: D });
    d.expectNone();
    d.advance(1).recv({ flags: 'A', seq: P - 500_000, ack: D });
    d.expect({ flags: 'A', seq: D, ack: P });
    expect(d.counters.ackSkippedSeq).toBe(10);
  });

  it('challenge ACKs for RST and SYN share the limit; the exact RST still resets', () => {
    const d = established();
    d.recv({ flags: 'R', seq: P + 100 });
    d.expect({ flags: 'A', seq: D, ack: P });
    d.recv({ flags: 'S', seq: 5 });
    d.recv({ flags: 'R', seq: P + 200 });
    // An ACK for data never sent (RFC 5961 §5.2) is a challenge too.
    d.recv({ flags: 'A', seq: P, ack: D + 50_000 });
    d.expectNone();
    expect(d.counters.challengeAcks).toBe(1);
    expect(d.counters.ackSkippedChallenge).toBe(3);
    d.recv({ flags: 'R', seq: P });
    expect(d.state).toBe('CLOSED');
  });

  it("always answers the peer's retransmission of data already acknowledged (its ACK was lost)", () => {
    const d = established();
    d.recv({ flags: 'PA', seq: P, ack: D, payload: 100 });
    d.advance(40);
    d.expect({ flags: 'A', seq: D, ack: P + 100 });
    for (let i = 0; i < 3; i++) {
      d.recv({ flags: 'PA', seq: P, ack: D, payload: 100 });
      d.expect({ flags: 'A', seq: D, ack: P + 100 });
    }
    expect(d.counters.ackSkippedSeq).toBe(0);
  });

  it('limits answers in TIME-WAIT, but re-acknowledges a retransmitted FIN', () => {
    const d = established();
    d.conn.close(d.now);
    d.expect({ flags: 'FA', seq: D, ack: P });
    d.recv({ flags: 'FA', seq: P, ack: D + 1 });
    d.expect({ flags: 'A', seq: D + 1, ack: P + 1 });
    expect(d.state).toBe('TIME-WAIT');
    for (let i = 0; i < 5; i++) d.recv({ flags: 'A', seq: P + 70_000 + i, ack: D + 1 });
    d.expect({ flags: 'A', seq: D + 1, ack: P + 1 });
    d.expectNone();
    expect(d.counters.ackSkippedTimeWait).toBe(4);
    d.recv({ flags: 'FA', seq: P, ack: D + 1 });
    d.expect({ flags: 'A', seq: D + 1, ack: P + 1 });
  });

  it('invalidRateLimitMs 0 answers every one', () => {
    const d = established({ config: { invalidRateLimitMs: 0 } });
    for (let i = 0; i < 5; i++) d.recv({ flags: 'R', seq: P + 100 + i });
    expect(d.takeAll()).toHaveLength(5);
    expect(d.counters.challengeAcks).toBe(5);
  });

  it('data from a blind attacker never reaches the application', () => {
    const d = established();
    d.recv({ flags: 'PA', seq: P + 10, ack: D + 40_000, payload: pattern(20) });
    d.expect({ flags: 'A', seq: D, ack: P });
    expect(d.conn.readableLength).toBe(0);
  });
});

describe('The stack-wide challenge ACK budget (tcp_challenge_ack_limit)', () => {
  it('allows between half and one and a half times the limit per second over all connections', () => {
    const net = new FakeNetwork();
    const a = net.addHost(['10.0.0.1']);
    const b = net.addHost(['10.0.0.2'], { limits: { challengeAckLimit: 10 } });
    b.listen({ port: 80 });
    const clients = Array.from({ length: 60 }, () =>
      a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80 }),
    );
    net.run(100);
    expect(clients.every((c) => c.state === 'ESTABLISHED')).toBe(true);
    const injectRsts = (): void => {
      for (const c of clients) {
        const s = c.status();
        b.receive(ip('10.0.0.1'), ip('10.0.0.2'), {
          srcPort: c.local.port,
          dstPort: 80,
          seq: (s.sndNxt + 10) >>> 0,
          ack: s.rcvNxt,
          flags: TCP_RST | TCP_ACK,
          window: 0,
          urgentPointer: 0,
          options: {},
          payload: new Uint8Array(0),
        });
      }
    };
    net.runUntil(1000);
    injectRsts();
    const first = b.counters.challengeAcks;
    expect(first).toBeGreaterThanOrEqual(5);
    expect(first).toBeLessThanOrEqual(14);
    expect(b.counters.challengeAcksOverLimit).toBe(60 - first);
    // The next second has a budget of its own.
    net.runUntil(2000);
    injectRsts();
    const second = b.counters.challengeAcks - first;
    expect(second).toBeGreaterThanOrEqual(5);
    expect(second).toBeLessThanOrEqual(14);
    expect(clients.every((c) => c.state === 'ESTABLISHED')).toBe(true);
  });
});
