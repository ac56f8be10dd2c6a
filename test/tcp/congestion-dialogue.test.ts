/**
 * Congestion control seen on the wire: the segments a connection sends around a loss without SACK
 * (NewReno's partial ACKs, RFC 6582, with PRR's window, RFC 6937) and the window it keeps while a small
 * receive window, not the network, limits it (RFC 7661).
 */
import { describe, expect, it } from 'vitest';
import { Dialogue, established, pattern } from './dialogue.js';

const D = 1001;
const P = 9001;

describe('loss recovery without SACK (RFC 6582 NewReno, RFC 6937 PRR)', () => {
  it('a partial ACK retransmits the next hole at once and recovery lasts until "recover"', () => {
    const d = established({
      peerMss: 1000,
      config: { congestionControl: 'cubic', initialWindowSegments: 10 },
    });
    d.conn.send(pattern(30_000), d.now);
    for (let i = 0; i < 10; i++) d.expect({ flags: 'A', seq: D + i * 1000, ack: P, len: 1000 });
    d.expectNone();
    // Segments 0 and 3 are lost: the receiver answers segments 1, 2 with duplicate ACKs of 0, each of
    // which lets one new segment out (RFC 3042 limited transmit).
    d.at(100).recv({ flags: 'A', seq: P, ack: D });
    d.expect({ flags: 'A', seq: D + 10_000, ack: P, len: 1000 });
    d.recv({ flags: 'A', seq: P, ack: D });
    d.expect({ flags: 'A', seq: D + 11_000, ack: P, len: 1000 });
    d.expectNone();
    d.recv({ flags: 'A', seq: P, ack: D });
    // Third duplicate: fast retransmit of the hole; ssthresh = 0.7 cwnd (CUBIC), recover = SND.MAX.
    d.expect({ flags: 'A', seq: D, ack: P, len: 1000 });
    expect(d.conn.status()).toMatchObject({ ssthresh: 7000, inRecovery: true, congestionControl: 'cubic' });
    d.expectNone();
    // More duplicates (segments 4..9 and the two limited-transmit ones): PRR sends ssthresh/RecoverFS =
    // 7/12 of what leaves the network.
    const sent: number[] = [];
    for (let i = 0; i < 8; i++) {
      d.recv({ flags: 'A', seq: P, ack: D });
      sent.push(d.takeAll().length);
    }
    // While pipe > ssthresh PRR sends 7/12 of what is delivered; once pipe has fallen to ssthresh
    // (PRR-SSRB) it refills pipe to ssthresh and no further: 7 segments in flight, the retransmission and
    // six new ones, one per duplicate at most.
    expect(sent.reduce((a, b) => a + b, 0)).toBe(6);
    expect(d.conn.status().bytesInFlight - 11 * 1000).toBe(7000); // pipe (flight less 11 duplicates) = ssthresh
    expect(Math.max(...sent)).toBe(1);
    // The retransmission arrives; the ACK stops at the second hole, 3000: a partial ACK.
    d.at(150).recv({ flags: 'A', seq: P, ack: D + 3000 });
    const afterPartial = d.takeAll();
    // The hole is retransmitted at once, without three more duplicates.
    expect(afterPartial[0]).toMatchObject({ seq: D + 3000 });
    expect(afterPartial[0]!.payload.length).toBe(1000);
    expect(d.conn.status().inRecovery).toBe(true);
    expect(d.counters.fastRetransmits).toBe(2);
    // The full ACK ends recovery at ssthresh.
    d.at(180).recv({ flags: 'A', seq: P, ack: D + 12_000 });
    expect(d.conn.status()).toMatchObject({ inRecovery: false, cwnd: 7000 });
  });
});

describe('congestion window validation (RFC 7661)', () => {
  it('cwnd does not grow while the peer’s 8 KiB receive window limits the flight', () => {
    const d = established({ peerMss: 1000, peerWindow: 8192 });
    expect(d.conn.status().cwnd).toBe(10_000); // IW10 (RFC 6928)
    d.conn.send(pattern(200_000), d.now);
    let acked = 0;
    for (let round = 1; round <= 20; round++) {
      const segs = d.takeAll();
      expect(segs.length).toBeGreaterThan(0);
      for (const seg of segs) acked = Math.max(acked, seg.seq - D + seg.payload.length);
      // The peer acknowledges everything and reopens the 8 KiB window, round after round.
      d.at(round * 50).recv({ flags: 'A', seq: P, ack: D + acked, window: 8192 });
    }
    expect(acked).toBeGreaterThan(150_000);
    // At most 8192 in flight validates a window of twice that (RFC 7661 §4.1: pipeACK >= cwnd / 2), plus
    // the one ACK's growth that crossed it; without RFC 7661 slow start would have grown cwnd by every
    // byte acknowledged (to about 170 000).
    expect(d.conn.status().cwnd).toBeLessThanOrEqual(2 * 8192 + 2 * 1000);
  });
});

describe('pacing (an earliest departure time per segment)', () => {
  it('spreads the initial window over the round trip at 2 x cwnd / SRTT instead of sending it at once', () => {
    const d = Dialogue.active({ iss: 1000, config: { pacing: true } });
    d.takeAll();
    // Handshake RTT 100 ms: SRTT 100.
    d.at(100).recv({ flags: 'SA', seq: 9000, ack: 1001, options: { mss: 1000 } });
    d.takeAll();
    d.conn.send(pattern(20_000), d.now);
    // IW10 = 10 000 bytes; rate 2 * 10 000 / 100 = 200 bytes/ms: one 1000-byte segment every 5 ms.
    const departures: number[] = [];
    for (let t = 100; t <= 160; t += 0.5) {
      d.at(t);
      for (let n = d.takeAll().length; n > 0; n--) departures.push(t);
    }
    expect(departures).toEqual([100, 105, 110, 115, 120, 125, 130, 135, 140, 145]);
    expect(d.conn.status().timers.pacing).toBeUndefined(); // cwnd is full: nothing waits for its time
  });

  it('a sender the pacing timer releases late (a real clock: 1-2 ms) keeps its schedule and catches up', () => {
    const d = Dialogue.active({ iss: 1000, config: { pacing: true, initialWindowSegments: 100 } });
    d.takeAll();
    d.at(100).recv({ flags: 'SA', seq: 9000, ack: 1001, options: { mss: 1000 } });
    d.takeAll();
    d.conn.send(pattern(200_000), d.now);
    // IW100 = 100 000 bytes; rate 2 * 100 000 / 100 = 2000 bytes/ms: two 1000-byte segments a
    // millisecond, in bursts of 1 ms of data. The pacing timer fires 2.5 ms after its deadline each time.
    let sent = d.takeAll().length;
    // Eight late wake-ups, about 25 ms: neither cwnd nor the peer's window (65 535) runs out meanwhile.
    for (let k = 0; k < 8; k++) {
      expect(d.conn.status().timers.pacing).toBeDefined();
      d.now = d.conn.nextDeadline() + 2.5;
      d.conn.onTimer(d.now);
      sent += d.takeAll().length;
    }
    // The segments that left make up the rate over the time gone by (the first burst left at once):
    // restarting the schedule at each late wake-up sends one segment per wake-up (9 instead of 49 here).
    const elapsed = d.now - 100;
    expect(sent).toBeGreaterThanOrEqual(Math.floor(2 * elapsed));
    expect(sent).toBeLessThanOrEqual(Math.ceil(2 * elapsed) + 2);
  });

  it('without pacing the window leaves at once', () => {
    const d = Dialogue.active({ iss: 1000 });
    d.takeAll();
    d.at(100).recv({ flags: 'SA', seq: 9000, ack: 1001, options: { mss: 1000 } });
    d.takeAll();
    d.conn.send(pattern(20_000), d.now);
    expect(d.takeAll()).toHaveLength(10);
  });
});
