import { describe, expect, it } from 'vitest';
import { Dialogue, pattern } from './dialogue.js';

/** Our clock offset (TcpConnectionOptions.timestampOffset): TSval = now + OFF. */
const OFF = 100_000;
const TS = { timestamps: true };

/** An active open with timestamps negotiated: the peer's SYN-ACK at t=50 carries TSval 7000. */
function withTimestamps(): Dialogue {
  const d = Dialogue.active({ iss: 1000, config: TS, timestampOffset: OFF });
  d.expect({
    flags: 'S',
    seq: 1000,
    options: { mss: 1460, windowScale: 3, timestamp: { value: OFF, echo: 0 } },
  });
  d.at(50).recv({
    flags: 'SA',
    seq: 9000,
    ack: 1001,
    options: { mss: 1460, timestamp: { value: 7000, echo: OFF } },
  });
  d.expect({ flags: 'A', seq: 1001, ack: 9001, options: { timestamp: { value: OFF + 50, echo: 7000 } } });
  d.takeEvents();
  return d;
}

describe('timestamps negotiation (RFC 7323 §3.2)', () => {
  it('the SYN offers TSopt with TSecr 0; once the SYN-ACK carries one, every segment does, and the MSS shrinks by 12', () => {
    const d = withTimestamps();
    expect(d.conn.status().effectiveMss).toBe(1448);
    d.conn.send(pattern(3000), d.now);
    // Initial window for a 1448-byte MSS: 3 segments (RFC 5681 §3.1).
    const ts = { timestamp: { value: OFF + 50, echo: 7000 } };
    d.expect({ flags: 'A', seq: 1001, ack: 9001, len: 1448, options: ts });
    d.expect({ flags: 'A', seq: 2449, ack: 9001, len: 1448, options: ts });
    d.expect({ flags: 'PA', seq: 3897, ack: 9001, len: 104, options: ts });
  });

  it('stays off when the peer does not answer with the option', () => {
    const d = Dialogue.active({ iss: 1000, config: TS, timestampOffset: OFF });
    d.takeAll();
    d.at(50).recv({ flags: 'SA', seq: 9000, ack: 1001, options: { mss: 1460 } });
    d.expect({ flags: 'A', seq: 1001, ack: 9001 });
    expect(d.conn.status().effectiveMss).toBe(1460);
    // Later segments with a TSopt do not turn it on, and ones without are not dropped.
    d.recv({ flags: 'PA', seq: 9001, ack: 1001, payload: 10, options: { timestamp: { value: 1, echo: 0 } } });
    d.recv({ flags: 'PA', seq: 9011, ack: 1001, payload: 10 });
    expect(d.conn.readableLength).toBe(20);
  });

  it('a passive open answers a SYN with TSopt by echoing its TSval, and a SYN without one without', () => {
    const withTs = Dialogue.passive(
      { flags: 'S', seq: 7000, options: { mss: 1460, windowScale: 2, timestamp: { value: 42, echo: 0 } } },
      { iss: 5000, config: TS, timestampOffset: 10 },
    );
    withTs.expect({
      flags: 'SA',
      seq: 5000,
      ack: 7001,
      options: { mss: 1460, windowScale: 3, timestamp: { value: 10, echo: 42 } },
    });
    withTs.at(5).recv({ flags: 'A', seq: 7001, ack: 5001, options: { timestamp: { value: 43, echo: 10 } } });
    expect(withTs.state).toBe('ESTABLISHED');
    expect(withTs.conn.status().effectiveMss).toBe(1448);

    const without = Dialogue.passive(
      { flags: 'S', seq: 7000, options: { mss: 1460 } },
      { iss: 5000, config: TS },
    );
    without.expect({ flags: 'SA', seq: 5000, ack: 7001, options: { mss: 1460 } });
  });

  it('is not offered when switched off, whatever the peer sends', () => {
    const d = Dialogue.passive(
      { flags: 'S', seq: 7000, options: { mss: 1460, timestamp: { value: 42, echo: 0 } } },
      { iss: 5000, config: { timestamps: false } },
    );
    d.expect({ flags: 'SA', seq: 5000, ack: 7001, options: { mss: 1460 } });
  });
});

describe('TS.Recent (RFC 7323 §4.3)', () => {
  it('follows in-order segments only: an out-of-order segment does not move it, the one filling the gap does', () => {
    const d = withTimestamps();
    // Out of order (a gap at 9001): the duplicate ACK still echoes 7000, not 7010.
    d.at(60).recv({
      flags: 'PA',
      seq: 9101,
      ack: 1001,
      payload: 100,
      options: { timestamp: { value: 7010, echo: 0 } },
    });
    d.expect({ flags: 'A', seq: 1001, ack: 9001, options: { timestamp: { value: OFF + 60, echo: 7000 } } });
    // The segment filling the gap was sent earlier (TSval 7005): its timestamp is echoed.
    d.at(70).recv({
      flags: 'PA',
      seq: 9001,
      ack: 1001,
      payload: 100,
      options: { timestamp: { value: 7005, echo: 0 } },
    });
    d.expect({ flags: 'A', seq: 1001, ack: 9201, options: { timestamp: { value: OFF + 70, echo: 7005 } } });
    // An in-order segment with a newer TSval moves it on.
    d.at(80).recv({ flags: 'A', seq: 9201, ack: 1001, options: { timestamp: { value: 7020, echo: 0 } } });
    d.conn.send(pattern(10), d.now);
    d.expect({
      flags: 'PA',
      seq: 1001,
      ack: 9201,
      len: 10,
      options: { timestamp: { value: OFF + 80, echo: 7020 } },
    });
  });

  it('compares timestamps modulo 2^32 (the peer clock wraps)', () => {
    const d = Dialogue.active({ iss: 1000, config: TS });
    d.takeAll();
    d.recv({
      flags: 'SA',
      seq: 9000,
      ack: 1001,
      options: { mss: 1460, timestamp: { value: 0xfffffff0, echo: 0 } },
    });
    d.takeAll();
    d.at(10).recv({
      flags: 'PA',
      seq: 9001,
      ack: 1001,
      payload: 10,
      options: { timestamp: { value: 5, echo: 0 } },
    });
    expect(d.conn.readableLength).toBe(10);
    d.advance(40); // the delayed ACK
    d.expect({ flags: 'A', seq: 1001, ack: 9011, options: { timestamp: { value: 50, echo: 5 } } });
  });

  it('compares timestamps across 2^31 on both clocks (where the signed form TCP keeps changes sign)', () => {
    // Our clock reads 2^31 - 20 at t=0 and passes 2^31 at t=20; the peer's passes it between segments.
    const d = Dialogue.active({ iss: 1000, config: TS, timestampOffset: 0x8000_0000 - 20 });
    d.expect({
      flags: 'S',
      seq: 1000,
      options: { mss: 1460, windowScale: 3, timestamp: { value: 0x8000_0000 - 20, echo: 0 } },
    });
    d.recv({
      flags: 'SA',
      seq: 9000,
      ack: 1001,
      options: { mss: 1460, timestamp: { value: 0x7fff_fff0, echo: 0x8000_0000 - 20 } },
    });
    d.takeAll();
    d.at(30).recv({
      flags: 'PA',
      seq: 9001,
      ack: 1001,
      payload: 10,
      options: { timestamp: { value: 0x8000_0005, echo: 0x8000_0000 - 20 } },
    });
    expect(d.conn.readableLength).toBe(10);
    d.advance(40); // the delayed ACK
    d.expect({
      flags: 'A',
      seq: 1001,
      ack: 9011,
      options: { timestamp: { value: 0x8000_0000 + 50, echo: 0x8000_0005 } },
    });
    // An old duplicate from before the peer's clock passed 2^31 is refused by PAWS.
    d.recv({
      flags: 'PA',
      seq: 9011,
      ack: 1001,
      payload: 10,
      options: { timestamp: { value: 0x7fff_fff8, echo: 0 } },
    });
    expect(d.counters.pawsDrops).toBe(1);
    expect(d.conn.readableLength).toBe(10);
  });
});

describe('PAWS (RFC 7323 §5)', () => {
  it('drops a segment whose TSval is older than TS.Recent and answers with an ACK; a RST is exempt', () => {
    const d = withTimestamps();
    d.at(60).recv({
      flags: 'PA',
      seq: 9001,
      ack: 1001,
      payload: 100,
      options: { timestamp: { value: 7010, echo: 0 } },
    });
    d.takeAll();
    // An old duplicate from an earlier wrap: the right sequence number, an old timestamp.
    d.at(70).recv({
      flags: 'PA',
      seq: 9101,
      ack: 1001,
      payload: 100,
      options: { timestamp: { value: 7001, echo: 0 } },
    });
    d.expect({ flags: 'A', seq: 1001, ack: 9101, options: { timestamp: { value: OFF + 70, echo: 7010 } } });
    expect(d.conn.readableLength).toBe(100);
    expect(d.counters.pawsDrops).toBe(1);
    // Equal timestamps pass (several segments per clock tick).
    d.recv({
      flags: 'PA',
      seq: 9101,
      ack: 1001,
      payload: 100,
      options: { timestamp: { value: 7010, echo: 0 } },
    });
    expect(d.conn.readableLength).toBe(200);
    d.takeAll();
    d.recv({ flags: 'R', seq: 9201, options: { timestamp: { value: 1, echo: 0 } } });
    expect(d.events).toContain('error:ECONNRESET');
  });

  it('answers PAWS drops at most once per 500 ms (RFC 5961 §7 limit, Linux tcp_invalid_ratelimit)', () => {
    const d = withTimestamps();
    d.at(60).recv({
      flags: 'PA',
      seq: 9001,
      ack: 1001,
      payload: 100,
      options: { timestamp: { value: 7010, echo: 0 } },
    });
    d.at(110).takeAll(); // the delayed ACK of that segment
    const old = {
      flags: 'PA',
      seq: 9101,
      ack: 1001,
      payload: 100,
      options: { timestamp: { value: 7001, echo: 0 } },
    };
    d.at(110).recv(old);
    d.expect({ flags: 'A', seq: 1001, ack: 9101, options: { timestamp: { value: OFF + 110, echo: 7010 } } });
    // Two more old duplicates within 500 ms: dropped, not answered.
    d.at(300).recv(old);
    d.at(609).recv(old);
    d.expectNone();
    expect(d.counters.pawsDrops).toBe(3);
    // 500 ms after the last answer, the next one is answered again.
    d.at(610).recv(old);
    d.expect({ flags: 'A', seq: 1001, ack: 9101, options: { timestamp: { value: OFF + 610, echo: 7010 } } });
    expect(d.conn.readableLength).toBe(100);
  });

  it('drops a segment without the option silently once timestamps are negotiated', () => {
    const d = withTimestamps();
    d.at(60).recv({ flags: 'PA', seq: 9001, ack: 1001, payload: 100 });
    d.expectNone();
    expect(d.conn.readableLength).toBe(0);
    expect(d.counters.timestampMissingDrops).toBe(1);
  });

  it('stops trusting TS.Recent after 24 days idle (§5.5)', () => {
    const d = withTimestamps();
    const days24 = 24 * 24 * 3600 * 1000;
    d.at(50 + days24).recv({
      flags: 'PA',
      seq: 9001,
      ack: 1001,
      payload: 10,
      options: { timestamp: { value: 1, echo: 0 } },
    });
    expect(d.counters.pawsDrops).toBe(1);
    d.takeAll();
    d.at(51 + days24).recv({
      flags: 'PA',
      seq: 9001,
      ack: 1001,
      payload: 10,
      options: { timestamp: { value: 1, echo: 0 } },
    });
    expect(d.conn.readableLength).toBe(10);
    d.advance(100);
    d.expect({
      flags: 'A',
      seq: 1001,
      ack: 9011,
      options: { timestamp: { value: OFF + 51 + days24 + 40, echo: 1 } },
    });
  });
});

describe('RTTM (RFC 7323 §4)', () => {
  it('measures RTT from the echoed TSval', () => {
    const d = withTimestamps();
    expect(d.conn.status()).toMatchObject({ srtt: 50, rttvar: 25 });
    d.conn.send(pattern(1000), d.now);
    d.takeAll();
    d.at(130).recv({
      flags: 'A',
      seq: 9001,
      ack: 2001,
      options: { timestamp: { value: 7001, echo: OFF + 50 } },
    });
    // R = 80: RTTVAR = 3/4*25 + 1/4*30 = 26.25, SRTT = 7/8*50 + 1/8*80 = 53.75 (one sample expected per RTT).
    expect(d.conn.status()).toMatchObject({ srtt: 53.75, rttvar: 26.25 });
  });

  it('times a retransmitted segment by its echo, where Karn forbids a sample without timestamps', () => {
    const d = withTimestamps();
    d.conn.send(pattern(1000), d.now);
    d.expect({
      flags: 'PA',
      seq: 1001,
      ack: 9001,
      len: 1000,
      options: { timestamp: { value: OFF + 50, echo: 7000 } },
    });
    d.at(250); // RTO 200
    d.expect({
      flags: 'PA',
      seq: 1001,
      ack: 9001,
      len: 1000,
      options: { timestamp: { value: OFF + 250, echo: 7000 } },
    });
    expect(d.conn.status().rto).toBe(400);
    d.at(300).recv({
      flags: 'A',
      seq: 9001,
      ack: 2001,
      options: { timestamp: { value: 7001, echo: OFF + 250 } },
    });
    // R = 50: the backed-off RTO is replaced by one computed from the new sample.
    expect(d.conn.status()).toMatchObject({ srtt: 50, rttvar: 18.75, rto: 200 });
  });

  it('takes no sample from an echo older than the last retransmission (the peer got the original; our ACK was lost)', () => {
    const d = withTimestamps();
    d.conn.send(pattern(1000), d.now);
    d.takeAll();
    d.at(250); // RTO: the retransmission carries TSval OFF + 250
    d.takeAll();
    // The peer had the original (TSval OFF + 50) and echoes it: 250 ms is not an RTT.
    d.at(260).recv({
      flags: 'A',
      seq: 9001,
      ack: 2001,
      options: { timestamp: { value: 7001, echo: OFF + 50 } },
    });
    expect(d.conn.status()).toMatchObject({ srtt: 50, rttvar: 25, rto: 400 });
  });

  it('weights a sample per ACK by the expected samples per window (Appendix G)', () => {
    const d = withTimestamps();
    d.conn.send(pattern(3 * 1448), d.now);
    d.takeAll();
    // FlightSize 4344 = 3 segments: ExpectedSamples = ceil(4344 / 2896) = 2, gains halved.
    d.at(150).recv({
      flags: 'A',
      seq: 9001,
      ack: 2449,
      options: { timestamp: { value: 7001, echo: OFF + 50 } },
    });
    // R = 100: RTTVAR = (1 - 1/8)*25 + 1/8*50 = 28.125, SRTT = (1 - 1/16)*50 + 1/16*100 = 53.125.
    expect(d.conn.status()).toMatchObject({ srtt: 53.125, rttvar: 28.125 });
  });
});
