/**
 * Loss recovery with SACK on the wire: RACK-TLP (RFC 8985) marking and timers with explicit times, the
 * retransmissions RFC 6675's NextSeg sends, D-SACK undo (RFC 3708), and the cases where a receiver or a
 * network misleads the sender (an ACK that answers an original after its retransmission left, a receiver
 * that throws SACKed data away, a window that shrank).
 */
import { describe, expect, it } from 'vitest';
import { tcpInfoOf } from '../../src/api/tcp-info.js';
import type { TcpConfig } from '../../src/tcp/config.js';
import type { SackBlock } from '../../src/wire/tcp.js';
import { Dialogue, pattern } from './dialogue.js';

const P = 9001; // the peer's next byte (it sends no data here)
const MSS = 1000;

/** SACK (and RACK-TLP unless switched off) with CUBIC and IW10; no timestamps, to keep segments short. */
const MODERN: Partial<TcpConfig> = {
  sack: true,
  rack: true,
  timestamps: false,
  congestionControl: 'cubic',
  initialWindowSegments: 10,
  delayedAck: true,
};

/**
 * A connection that negotiated SACK (handshake RTT 100 ms) and has timed one segment of 100 ms, so
 * SRTT = min RTT = 100 ms. Returns it at t = 200 with nothing outstanding; `D` is the next byte to send.
 */
function sackSender(config: Partial<TcpConfig> = {}): { d: Dialogue; D: number } {
  const d = Dialogue.active({ iss: 1000, config: { ...MODERN, ...config } });
  d.takeAll();
  d.at(100).recv({ flags: 'SA', seq: P - 1, ack: 1001, options: { mss: MSS, sackPermitted: true } });
  d.takeAll();
  d.conn.send(pattern(MSS), d.now);
  d.expect({ flags: 'PA', seq: 1001, ack: P, len: MSS });
  d.at(200).recv({ flags: 'A', seq: P, ack: 1001 + MSS });
  d.takeAll();
  d.takeEvents();
  return { d, D: 1001 + MSS };
}

/** Sends `n` segments now and checks they left. */
function sendSegments(d: Dialogue, D: number, n: number): void {
  d.conn.send(pattern(n * MSS), d.now);
  for (let i = 0; i < n; i++) {
    const seg = d.next();
    expect(seg).toMatchObject({ seq: D + i * MSS });
    expect(seg.payload.length).toBe(MSS);
  }
  d.expectNone();
}

const sack = (D: number, ...ranges: Array<[number, number]>): { sack: SackBlock[] } => ({
  sack: ranges.map(([a, b]) => ({ left: D + a * MSS, right: D + b * MSS })),
});

/** Sequence numbers of the data segments sent since the last look. */
const sentSeqs = (d: Dialogue, D: number) => d.takeAll().map((s) => (s.seq - D) / MSS);

describe('RACK loss marking (RFC 8985 §6)', () => {
  it('marks segments sent before a delivered one lost once RACK.rtt + reo_wnd has passed, then retransmits them', () => {
    const { d, D } = sackSender();
    sendSegments(d, D, 10);
    // t=300: segments 2..4 SACKed. Three segments SACKed and no reordering seen yet: reo_wnd = 0, and
    // segments 0 and 1, sent with segment 4 at t=200 (RACK.rtt = 100), are overdue at once.
    d.at(300).recv({ flags: 'A', seq: P, ack: D, options: sack(D, [2, 5]) });
    expect(sentSeqs(d, D)).toEqual([0, 1]);
    expect(d.conn.status().inRecovery).toBe(true);
    expect(d.counters.sackRecoveries).toBe(1);
    expect(d.counters.segmentsMarkedLost).toBe(2);
    // TCP_INFO as Linux reports it (in bytes): 3 SACKed, 2 lost, both retransmitted and outstanding.
    expect(tcpInfoOf(d.conn)).toMatchObject({
      options: 2, // TCPI_OPT_SACK (no timestamps here; window scaling was not offered by the peer)
      sacked: 3 * MSS,
      lost: 2 * MSS,
      retrans: 2 * MSS,
      minRtt: 100,
      congestionState: 'recovery',
      inRecovery: true,
    });
  });

  it('with one segment SACKed it waits RACK.rtt + min_RTT/4 before judging, on the reordering timer', () => {
    const { d, D } = sackSender();
    sendSegments(d, D, 4);
    // t=300: segment 3 SACKed. Fewer than DupThresh SACKed: reo_wnd = min_RTT / 4 = 25 ms; segments
    // 0..2 (sent at 200 with RACK.rtt 100) expire at 200 + 100 + 25 = 325.
    d.at(300).recv({ flags: 'A', seq: P, ack: D, options: sack(D, [3, 4]) });
    d.expectNone();
    d.at(324.9).expectNone();
    d.at(325);
    // All three are lost; with no ACK delivering anything, PRR lets one segment out (RFC 6937 §3).
    expect(sentSeqs(d, D)).toEqual([0]);
    expect(d.counters.segmentsMarkedLost).toBe(3);
    // The next ACK delivers segment 0 and clocks out the other two (PRR-SSRB: delivered + 1 MSS).
    d.at(425).recv({ flags: 'A', seq: P, ack: D + MSS, options: sack(D, [3, 4]) });
    expect(sentSeqs(d, D)).toEqual([1, 2]);
  });

  it('an ACK that came back faster than the minimum RTT answers the original, not the retransmission', () => {
    // RFC 8985 §6.2 step 2. Taking it for the retransmission's (RACK.rtt of 1 ms) would make segment 0,
    // retransmitted in the same instant as segment 1, look overdue at once: it would be sent again on
    // every such ACK.
    const { d, D } = sackSender();
    sendSegments(d, D, 10);
    d.at(300).recv({ flags: 'A', seq: P, ack: D, options: sack(D, [2, 5]) });
    expect(sentSeqs(d, D)).toEqual([0, 1]);
    // t=301: the original of segment 1 arrives after all (it was only late).
    d.at(301).recv({ flags: 'A', seq: P, ack: D, options: sack(D, [1, 5]) });
    expect(sentSeqs(d, D)).toEqual([]);
    expect(d.counters.retransmittedSegments).toBe(2);
  });
});

describe('RACK at the retransmission timeout (RFC 8985 §6.3)', () => {
  it('marks the first segment and those sent more than RACK.rtt + reo_wnd ago lost; a recent one stays in flight', () => {
    const { d, D } = sackSender();
    sendSegments(d, D, 1); // t=200; the RTO (250 ms) is due at 450, before any probe
    d.at(440);
    d.conn.send(pattern(MSS), d.now);
    expect(sentSeqs(d, D)).toEqual([1]);
    // t=450: segment 0 goes again, whatever cwnd says; segment 1, sent 10 ms ago, is not judged.
    d.at(450);
    expect(sentSeqs(d, D)).toEqual([0]);
    expect(tcpInfoOf(d.conn)).toMatchObject({ lost: MSS, retrans: MSS });
    // Its ACK leaves segment 1 in flight: nothing is sent again.
    d.at(550).recv({ flags: 'A', seq: P, ack: D + MSS });
    expect(sentSeqs(d, D)).toEqual([]);
    expect(d.counters.retransmittedSegments).toBe(1);
    d.at(560).recv({ flags: 'A', seq: P, ack: D + 2 * MSS });
    expect(d.conn.status().bytesInFlight).toBe(0);
  });
});

describe('tail loss probe (RFC 8985 §7)', () => {
  it('probes 2 SRTT after the last send with the last segment, and RACK repairs the tail from its ACK', () => {
    const { d, D } = sackSender();
    sendSegments(d, D, 4);
    // No ACK for any of them. PTO = 2 SRTT = 200 ms (the RTO, 250 ms, comes later).
    d.at(399.9).expectNone();
    d.at(400);
    expect(sentSeqs(d, D)).toEqual([3]);
    expect(d.counters.lossProbes).toBe(1);
    // The probe's ACK SACKs segment 3: 0..2 were sent before it and are overdue. PRR sends what was
    // delivered plus one MSS: two of them.
    d.at(500).recv({ flags: 'A', seq: P, ack: D, options: sack(D, [3, 4]) });
    expect(sentSeqs(d, D)).toEqual([0, 1]);
    expect(d.counters.segmentsMarkedLost).toBe(3);
  });

  it('adds the worst-case delayed ACK time when a single segment is in flight', () => {
    const { d, D } = sackSender();
    sendSegments(d, D, 1);
    // PTO = 2 SRTT + 200 ms = 400 ms, later than the RTO (SRTT 100 + 4 x RTTVAR 37.5 = 250 ms): the
    // retransmission timer stays in charge.
    d.at(449.9).expectNone();
    d.at(450);
    expect(sentSeqs(d, D)).toEqual([0]);
    expect(d.counters.lossProbes).toBe(0);
    expect(d.counters.retransmissionTimeouts).toBe(1);
  });

  it('probes a single segment 2 SRTT + 200 ms after it left when the RTO is further away', () => {
    // A minimum RTO of 1 s puts the retransmission timer at t = 1200.7, after the probe.
    const { d, D } = sackSender({ minRtoMs: 1000 });
    d.at(200.7);
    sendSegments(d, D, 1);
    d.at(600.6).expectNone();
    d.at(600.7);
    expect(sentSeqs(d, D)).toEqual([0]);
    expect(d.counters.lossProbes).toBe(1);
    expect(d.counters.retransmissionTimeouts).toBe(0);
  });

  it('re-arms the probe on every send: 2 SRTT after the last segment left, with no allowance for two in flight', () => {
    const { d, D } = sackSender({ minRtoMs: 1000 });
    sendSegments(d, D, 1); // t=200: alone, it would be probed at 600
    d.at(250.5);
    d.conn.send(pattern(MSS), d.now);
    expect(sentSeqs(d, D)).toEqual([1]);
    // Two segments in flight: PTO = 2 SRTT = 200 ms from the last send.
    d.at(450.4).expectNone();
    d.at(450.5);
    expect(sentSeqs(d, D)).toEqual([1]);
    expect(d.counters.lossProbes).toBe(1);
  });
});

describe('D-SACK undo (RFC 2883, RFC 3708)', () => {
  it('restores cwnd and ssthresh when every retransmission of the episode comes back D-SACKed', () => {
    const { d, D } = sackSender();
    sendSegments(d, D, 10);
    const before = d.conn.status();
    d.at(300).recv({ flags: 'A', seq: P, ack: D, options: sack(D, [2, 5]) });
    expect(sentSeqs(d, D)).toEqual([0, 1]);
    expect(d.conn.status().ssthresh).toBeLessThan(before.ssthresh);
    // The originals were only delayed: the cumulative ACK covers 0..4, then D-SACKs report both
    // retransmissions as duplicates.
    d.at(310).recv({ flags: 'A', seq: P, ack: D + 5 * MSS });
    d.takeAll();
    d.at(400).recv({ flags: 'A', seq: P, ack: D + 5 * MSS, options: sack(D, [0, 1]) });
    expect(d.counters.spuriousUndos).toBe(0);
    d.recv({ flags: 'A', seq: P, ack: D + 5 * MSS, options: sack(D, [1, 2]) });
    expect(d.counters.dsacksReceived).toBe(2);
    expect(d.counters.spuriousUndos).toBe(1);
    expect(d.conn.status()).toMatchObject({ ssthresh: before.ssthresh, inRecovery: false });
    expect(d.conn.status().cwnd).toBeGreaterThanOrEqual(before.cwnd);
  });
});

describe('a receiver that misleads the sender', () => {
  it('reneging: the ACK stops at SACKed data; the timer fires after SRTT/2 and sends it again (RFC 2018 §8)', () => {
    const { d, D } = sackSender();
    sendSegments(d, D, 4);
    d.at(300).recv({ flags: 'A', seq: P, ack: D, options: sack(D, [1, 4]) });
    expect(sentSeqs(d, D)).toEqual([0]);
    // Segment 0 arrives; the receiver acknowledges it but has thrown 1..3 away: no SACK blocks.
    d.at(400).recv({ flags: 'A', seq: P, ack: D + MSS });
    d.expectNone();
    expect(d.counters.sackReneging).toBe(1);
    // The retransmission timer, brought forward to SRTT/2 = 50 ms, turns the SACK bits off and resends
    // from the first byte not acknowledged.
    d.at(449.9).expectNone();
    d.at(450);
    expect(sentSeqs(d, D)).toEqual([1]);
    d.at(550).recv({ flags: 'A', seq: P, ack: D + 2 * MSS });
    expect(sentSeqs(d, D)).toEqual([2, 3]);
    d.at(650).recv({ flags: 'A', seq: P, ack: D + 4 * MSS });
    expect(d.conn.status().bytesInFlight).toBe(0);
  });

  it('retransmits only what fits in the window the peer offers now, which may have shrunk', () => {
    const { d, D } = sackSender();
    sendSegments(d, D, 4);
    // Segments 1..3 SACKed with a window of 500 bytes: segment 0 goes again, cut at the right edge.
    d.at(300).recv({ flags: 'A', seq: P, ack: D, window: 500, options: sack(D, [1, 4]) });
    const [retransmission, ...rest] = d.takeAll();
    expect(retransmission).toMatchObject({ seq: D });
    expect(retransmission!.payload.length).toBe(500);
    expect(rest).toEqual([]);
  });
});

describe('RFC 6675 loss marking (RACK switched off)', () => {
  it('three duplicate ACKs SACKing segments too small for IsLost still start recovery (§5 step 1)', () => {
    const { d, D } = sackSender({ rack: false, nagle: false });
    for (let i = 0; i < 5; i++) d.conn.send(pattern(100), d.now);
    expect(d.takeAll().map((s) => [s.seq - D, s.payload.length])).toEqual([
      [0, 100],
      [100, 100],
      [200, 100],
      [300, 100],
      [400, 100],
    ]);
    // Segment 0 is lost; 1..3 arrive, each ACK SACKing one more: 300 bytes in one range, less than
    // (DupThresh - 1) * SMSS, so IsLost never says so; the third duplicate ACK does.
    d.at(300).recv({ flags: 'A', seq: P, ack: D, options: { sack: [{ left: D + 100, right: D + 200 }] } });
    d.recv({ flags: 'A', seq: P, ack: D, options: { sack: [{ left: D + 100, right: D + 300 }] } });
    d.expectNone();
    d.recv({ flags: 'A', seq: P, ack: D, options: { sack: [{ left: D + 100, right: D + 400 }] } });
    expect(d.takeAll().map((s) => [s.seq - D, s.payload.length])).toEqual([[0, 100]]);
    expect(d.conn.status().inRecovery).toBe(true);
  });
});

describe('RACK reordering window and the reordering degree (RFC 8985 §6.2 steps 3-4)', () => {
  it('counts DupThresh SACKed segments, not bytes: three 100-byte segments SACKed make reo_wnd 0', () => {
    const { d, D } = sackSender({ nagle: false });
    for (let i = 0; i < 5; i++) d.conn.send(pattern(100), d.now);
    expect(d.takeAll().map((s) => [s.seq - D, s.payload.length])).toEqual([
      [0, 100],
      [100, 100],
      [200, 100],
      [300, 100],
      [400, 100],
    ]);
    // 300 bytes SACKed, far below 3 MSS, but three segments: the two before them are lost at once (no
    // reordering timer), and go again together in one segment.
    d.at(300).recv({ flags: 'A', seq: P, ack: D, options: { sack: [{ left: D + 200, right: D + 500 }] } });
    expect(d.takeAll().map((s) => [s.seq - D, s.payload.length])).toEqual([[0, 200]]);
    expect(d.conn.status().timers.reorder).toBeUndefined();
    expect(d.conn.status().inRecovery).toBe(true);
  });

  it('a segment delivered late, never retransmitted, raises the degree to its distance below the highest one delivered', () => {
    const { d, D } = sackSender();
    sendSegments(d, D, 10);
    expect(tcpInfoOf(d.conn).reordering).toBe(3);
    // Segment 6 arrives first (one SACKed: reo_wnd = 25 ms, nothing judged yet) ...
    d.at(300).recv({ flags: 'A', seq: P, ack: D, options: sack(D, [6, 7]) });
    d.expectNone();
    // ... then 0..5 before the reordering timer: segment 0 arrived 7 segments below the highest one.
    d.at(310).recv({ flags: 'A', seq: P, ack: D + 7 * MSS });
    expect(tcpInfoOf(d.conn)).toMatchObject({ reordering: 7, reordSeen: 1 });
    expect(d.counters.reorderingRaised).toBe(1);
    expect(d.counters.retransmittedSegments).toBe(0);
    // The degree only grows: a later, smaller reordering leaves it.
    d.at(320).recv({ flags: 'A', seq: P, ack: D + 7 * MSS, options: sack(D, [9, 10]) });
    d.at(330).recv({ flags: 'A', seq: P, ack: D + 10 * MSS });
    expect(tcpInfoOf(d.conn).reordering).toBe(7);
    expect(d.counters.reorderingRaised).toBe(1);
  });

  it('stops at maxReordering (Linux tcp_max_reordering), counting each time more was seen', () => {
    const { d, D } = sackSender({ maxReordering: 5 });
    sendSegments(d, D, 10);
    d.at(300).recv({ flags: 'A', seq: P, ack: D, options: sack(D, [6, 7]) });
    d.at(310).recv({ flags: 'A', seq: P, ack: D + 7 * MSS });
    expect(tcpInfoOf(d.conn).reordering).toBe(5);
    expect(d.counters.reorderingCapped).toBe(1);
    expect(() => sackSender({ maxReordering: 2 })).toThrow(/maxReordering/);
  });
});
