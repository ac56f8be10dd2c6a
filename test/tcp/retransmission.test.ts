import { describe, expect, it } from 'vitest';
import { Dialogue, established, pattern } from './dialogue.js';

/** Reno (RFC 5681) with the RFC's initial window: the algorithm whose exact numbers tests here follow. */
const RFC5681 = { congestionControl: 'reno', initialWindowSegments: undefined } as const;

const D = 1001;
const P = 9001;

describe('SYN retransmission (RFC 6298 §2.1, §5.5; MUST-23)', () => {
  it('retransmits the SYN after 1 s, doubling, and gives up with ETIMEDOUT after 3 minutes', () => {
    const d = Dialogue.active({ iss: 1000 });
    d.expect({ flags: 'S', seq: 1000, options: { mss: 1460, windowScale: 3 } });
    const times = [1000, 3000, 7000, 15000, 31000, 63000, 127000];
    for (const t of times) {
      d.at(t - 1).expectNone();
      d.at(t);
      d.expect({ flags: 'S', seq: 1000, options: { mss: 1460, windowScale: 3 } });
    }
    d.at(179_999);
    expect(d.state).toBe('SYN-SENT');
    d.at(180_000);
    expect(d.state).toBe('CLOSED');
    d.expectNone();
    expect(d.events).toEqual(['retransmission-warning:3', 'error:ETIMEDOUT', 'closed']);
  });

  it('after a retransmitted SYN the handshake gives no RTT sample and data starts with RTO 3 s (RFC 6298 §5.7)', () => {
    const d = Dialogue.active({ iss: 1000 });
    d.takeAll();
    d.at(1000);
    d.expect({ flags: 'S', seq: 1000, options: { mss: 1460, windowScale: 3 } });
    d.at(1100).recv({ flags: 'SA', seq: 9000, ack: 1001, options: { mss: 1460 } });
    d.expect({ flags: 'A', seq: 1001, ack: 9001 });
    const s = d.conn.status();
    expect(s.srtt).toBe(0);
    expect(s.rto).toBe(3000);
  });

  it('the passive side retransmits its SYN-ACK, and answers a retransmitted SYN with the SYN-ACK at once', () => {
    const d = Dialogue.passive({ flags: 'S', seq: 7000, options: { mss: 1460 } }, { iss: 5000 });
    d.expect({ flags: 'SA', seq: 5000, ack: 7001, options: { mss: 1460 } });
    d.at(1000);
    d.expect({ flags: 'SA', seq: 5000, ack: 7001, options: { mss: 1460 } });
    d.at(1500).recv({ flags: 'S', seq: 7000, options: { mss: 1460 } });
    d.expect({ flags: 'SA', seq: 5000, ack: 7001, options: { mss: 1460 } });
    d.at(1600).recv({ flags: 'A', seq: 7001, ack: 5001 });
    expect(d.state).toBe('ESTABLISHED');
  });
});

describe('data retransmission (RFC 6298, MUST-18, MUST-20, MUST-21)', () => {
  function sampled(rtt = 100): Dialogue {
    // Handshake RTT `rtt`: SRTT = rtt, RTTVAR = rtt/2, RTO = max(200, 3 * rtt). Reno with RFC 5681's
    // initial window, whose numbers these tests follow.
    const d = Dialogue.active({ iss: 1000, config: RFC5681 });
    d.takeAll();
    d.at(rtt).recv({ flags: 'SA', seq: 9000, ack: 1001, options: { mss: 1460 } });
    d.takeAll();
    d.takeEvents();
    return d;
  }

  it('computes SRTT/RTTVAR/RTO per RFC 6298 §2 with the 200 ms minimum', () => {
    const d = sampled(100);
    expect(d.conn.status()).toMatchObject({ srtt: 100, rttvar: 50, rto: 300 });
    d.conn.send(pattern(100), d.now);
    d.at(180).recv({ flags: 'A', seq: P, ack: D + 100 });
    // R = 80: RTTVAR = 3/4*50 + 1/4*|100-80| = 42.5; SRTT = 7/8*100 + 1/8*80 = 97.5; RTO = 97.5 + 170.
    expect(d.conn.status()).toMatchObject({ srtt: 97.5, rttvar: 42.5, rto: 267.5 });
    const e = sampled(10);
    expect(e.conn.status().rto).toBe(200); // 10 + 4*5 = 30, raised to the minimum
  });

  it('retransmits on timeout with exponential backoff; R1 warns the application; R2 aborts with ETIMEDOUT', () => {
    const d = sampled(100);
    d.conn.send(pattern(1000), d.now);
    d.expect({ flags: 'PA', seq: D, ack: P, len: 1000 });
    // RTO 300, doubling up to the 120 s maximum, counted from t=100.
    const times = [400, 1000, 2200, 4600, 9400, 19000, 38200, 76600, 153400];
    for (let t = 153400 + 120_000; times.length < 15; t += 120_000) times.push(t);
    for (const t of times) {
      d.at(t - 1).expectNone();
      d.at(t);
      d.expect({ flags: 'PA', seq: D, ack: P, len: 1000 });
    }
    expect(d.events).toEqual(['retransmission-warning:3']);
    // R2: 15 retransmissions (and more than 100 s): one more RTO for an answer, then ETIMEDOUT.
    const end = times[14]! + 120_000;
    d.at(end - 1);
    expect(d.state).toBe('ESTABLISHED');
    d.at(end);
    expect(d.state).toBe('CLOSED');
    d.expectNone();
    expect(d.events).toEqual(['retransmission-warning:3', 'error:ETIMEDOUT', 'closed']);
  });

  it('with a lower retransmission count, R2 is exactly 100 s of no progress', () => {
    const d = Dialogue.active({ iss: 1000, config: { r2Retransmissions: 8 } });
    d.takeAll();
    d.at(100).recv({ flags: 'SA', seq: 9000, ack: 1001, options: { mss: 1460 } });
    d.takeAll();
    d.conn.send(pattern(1000), d.now);
    d.at(100_099);
    expect(d.takeAll().length).toBe(1 + 8); // the first transmission and 8 retransmissions
    expect(d.state).toBe('ESTABLISHED');
    d.at(100_100);
    expect(d.state).toBe('CLOSED');
  });

  it('R2 is configurable per connection (MUST-21)', () => {
    const d = Dialogue.active({ iss: 1000, config: { r2TimeoutMs: 5000, r2Retransmissions: 3 } });
    d.takeAll();
    d.at(100).recv({ flags: 'SA', seq: 9000, ack: 1001, options: { mss: 1460 } });
    d.takeAll();
    d.conn.send(pattern(10), d.now);
    d.at(5099);
    expect(d.state).toBe('ESTABLISHED');
    d.at(5100);
    expect(d.state).toBe('CLOSED');
  });

  it("Karn's algorithm: no RTT sample from a retransmitted segment; the backed-off RTO stays until a clean sample", () => {
    const d = sampled(100);
    d.conn.send(pattern(100), d.now);
    d.takeAll();
    d.at(400);
    d.expect({ flags: 'PA', seq: D, ack: P, len: 100 });
    d.at(450).recv({ flags: 'A', seq: P, ack: D + 100 });
    expect(d.conn.status()).toMatchObject({ srtt: 100, rto: 600 });
    d.conn.send(pattern(100), d.now);
    d.takeAll();
    d.at(550).recv({ flags: 'A', seq: P, ack: D + 200 });
    // Clean sample R = 100: RTTVAR = 37.5, SRTT = 100, RTO = 250.
    expect(d.conn.status()).toMatchObject({ srtt: 100, rttvar: 37.5, rto: 250 });
  });

  it('after a timeout only one segment goes out (cwnd = 1 MSS); ACKs clock out the rest', () => {
    const d = sampled(100);
    d.conn.send(pattern(3000), d.now);
    d.expect({ flags: 'A', seq: D, ack: P, len: 1460 });
    d.expect({ flags: 'A', seq: D + 1460, ack: P, len: 1460 });
    d.expect({ flags: 'PA', seq: D + 2920, ack: P, len: 80 });
    d.at(400);
    d.expect({ flags: 'A', seq: D, ack: P, len: 1460 });
    d.expectNone();
    expect(d.conn.status().cwnd).toBe(1460);
    expect(d.conn.status().ssthresh).toBe(2920);
    d.at(450).recv({ flags: 'A', seq: P, ack: D + 1460 });
    d.expect({ flags: 'A', seq: D + 1460, ack: P, len: 1460 });
    d.expect({ flags: 'PA', seq: D + 2920, ack: P, len: 80 });
  });
});

describe('congestion control (RFC 5681, MUST-19)', () => {
  const RENO = { config: RFC5681 };
  it('initial window per RFC 5681 §3.1, slow start, fast retransmit on the third duplicate ACK, fast recovery', () => {
    const d = established({ peerMss: 1000, ...RENO });
    expect(d.conn.status().cwnd).toBe(4000); // MSS <= 1095: 4 segments
    d.conn.send(pattern(20000), d.now);
    for (let i = 0; i < 4; i++) d.expect({ flags: 'A', seq: D + i * 1000, ack: P, len: 1000 });
    d.expectNone();
    // The first segment arrives; the second is lost.
    d.at(100).recv({ flags: 'A', seq: P, ack: D + 1000 });
    expect(d.conn.status().cwnd).toBe(5000); // slow start: +1 SMSS
    d.expect({ flags: 'A', seq: D + 4000, ack: P, len: 1000 });
    d.expect({ flags: 'A', seq: D + 5000, ack: P, len: 1000 });
    d.expectNone();
    // RFC 3042 limited transmit: each of the first two duplicates lets one new segment out (pipe counts
    // the segment the duplicate reports as delivered).
    d.recv({ flags: 'A', seq: P, ack: D + 1000 });
    d.expect({ flags: 'A', seq: D + 6000, ack: P, len: 1000 });
    d.recv({ flags: 'A', seq: P, ack: D + 1000 });
    d.expect({ flags: 'A', seq: D + 7000, ack: P, len: 1000 });
    d.expectNone();
    d.recv({ flags: 'A', seq: P, ack: D + 1000 });
    // Third duplicate: ssthresh = FlightSize/2 = 3500, retransmit. cwnd = ssthresh against pipe
    // (FlightSize less the three duplicates) sends what RFC 5681's ssthresh + 3 SMSS against FlightSize does.
    d.expect({ flags: 'A', seq: D + 1000, ack: P, len: 1000 });
    expect(d.conn.status()).toMatchObject({ ssthresh: 3500, cwnd: 3500, inRecovery: true });
    expect(d.counters.fastRetransmits).toBe(1);
    d.expectNone();
    d.recv({ flags: 'A', seq: P, ack: D + 1000 }); // pipe 3000: half a segment of room
    d.expectNone();
    d.recv({ flags: 'A', seq: P, ack: D + 1000 }); // pipe 2000 (the RFC's inflation): one more segment
    d.expect({ flags: 'A', seq: D + 8000, ack: P, len: 1000 });
    d.recv({ flags: 'A', seq: P, ack: D + 8000 }); // the retransmission filled the hole
    expect(d.conn.status()).toMatchObject({ cwnd: 3500, inRecovery: false });
  });

  it('duplicate ACKs, fast retransmit and window updates work the same with sequence numbers of 2^31 and more', () => {
    // Both ISNs in the upper half of the sequence space, where numbers are not small integers to the
    // engine (processAck holds SEG.ACK and SEG.SEQ as signed 32-bit integers).
    const iss = 0xc000_0000;
    const irs = 0x9000_0000;
    const d = established({ peerMss: 1000, iss, irs, ...RENO });
    const u = (n: number) => (iss + 1 + n) >>> 0;
    const p = irs + 1;
    d.conn.send(pattern(20000), d.now);
    for (let i = 0; i < 4; i++) d.expect({ flags: 'A', seq: u(i * 1000), ack: p, len: 1000 });
    d.at(100).recv({ flags: 'A', seq: p, ack: u(1000) });
    expect(d.conn.status()).toMatchObject({ sndUna: u(1000), cwnd: 5000 });
    d.takeAll();
    for (let i = 0; i < 3; i++) d.recv({ flags: 'A', seq: p, ack: u(1000) });
    d.takeAll();
    expect(d.counters.fastRetransmits).toBe(1);
    expect(d.conn.status()).toMatchObject({ sndUna: u(1000), ssthresh: 3500, inRecovery: true });
    // A window update on an ACK that moves nothing is taken (SND.WL2 <= SEG.ACK), and is not a duplicate.
    d.recv({ flags: 'A', seq: p, ack: u(1000), window: 30000 });
    expect(d.conn.status().sndWnd).toBe(30000);
    d.recv({ flags: 'A', seq: p, ack: u(8000) });
    expect(d.conn.status()).toMatchObject({ sndUna: u(8000), inRecovery: false });
  });

  it('congestion avoidance grows cwnd by about one SMSS per window of ACKed data', () => {
    const d = established({ peerMss: 1000, ...RENO });
    d.conn.send(pattern(1000), d.now);
    d.takeAll();
    // Force ssthresh down with a timeout, then ACK.
    d.at(1000);
    d.takeAll();
    d.at(1010).recv({ flags: 'A', seq: P, ack: D + 1000 });
    expect(d.conn.status()).toMatchObject({ cwnd: 2000, ssthresh: 2000 });
    d.conn.send(pattern(4000), d.now);
    d.takeAll();
    d.recv({ flags: 'A', seq: P, ack: D + 2000 });
    expect(d.conn.status().cwnd).toBe(2000); // 1000 acked < cwnd: no growth yet
    d.takeAll();
    d.recv({ flags: 'A', seq: P, ack: D + 3000 });
    expect(d.conn.status().cwnd).toBe(3000); // a full window acknowledged: +1 SMSS
  });
});
