import { describe, expect, it } from 'vitest';
import { Scoreboard, scoreboardCounters } from '../../src/tcp/scoreboard.js';
import { pattern } from './dialogue.js';
import { FakeNetwork, ip } from './network.js';

/** The time the object under test reads (a connection's Tcb in the stack). */
const time = { now: 0 };

const MSS = 1000;
const BASE = 5000;

/** Segment n covers [BASE + n*MSS, BASE + (n+1)*MSS). */
const seg = (n: number) => BASE + n * MSS;
const block = (from: number, to: number) => ({ left: seg(from), right: seg(to) });

/** A scoreboard with segments 0..count-1 sent one per ms from t=0. */
function sent(count: number): Scoreboard {
  const sb = new Scoreboard(time);
  for (let n = 0; n < count; n++) {
    time.now = n;
    sb.onTransmit(seg(n), seg(n + 1), n * MSS, false);
  }
  return sb;
}

const flags = (sb: Scoreboard) =>
  sb
    .list()
    .map(
      (r) =>
        `${(r.start - BASE) / MSS}-${(r.end - BASE) / MSS}${r.sacked ? 'S' : ''}${r.lost ? 'L' : ''}${r.lostRetransmitted ? 'R' : ''}`,
    );

describe('scoreboard: SACK arrivals (RFC 6675 §4-5)', () => {
  it('marks SACKed ranges, cutting records at block edges, and counts pipe', () => {
    const sb = new Scoreboard(time);
    time.now = 0;
    sb.onTransmit(seg(0), seg(4), 0, false); // one TSO record of 4 segments
    time.now = 10;
    const out = sb.onAck(seg(0), [{ left: seg(1) + 500, right: seg(3) }]);
    expect(out.newlySacked).toBe(1500);
    expect(out.delivered).toBe(1500);
    expect(sb.list().map((r) => [r.start - BASE, r.end - BASE, r.sacked])).toEqual([
      [0, 1500, false],
      [1500, 3000, true],
      [3000, 4000, false],
    ]);
    expect(sb.pipe(4 * MSS)).toBe(2500);
  });

  it('IsLost: a segment is lost once more than 2 SMSS above it are SACKed, or 3 discontiguous ranges', () => {
    const sb = sent(8);
    time.now = 10;
    sb.onAck(seg(0), [block(1, 3)]);
    expect(sb.markLostBySack(MSS)).toBe(0); // exactly 2 * SMSS SACKed above segment 0: not yet
    time.now = 11;
    sb.onAck(seg(0), [block(1, 4)]);
    expect(sb.markLostBySack(MSS)).toBe(MSS); // 3 segments above: segment 0 is lost
    expect(flags(sb)).toEqual(['0-1L', '1-2S', '2-3S', '3-4S', '4-5', '5-6', '6-7', '7-8']);
    expect(sb.pipe(8 * MSS)).toBe(4 * MSS);
    expect(sb.nextLost()?.start).toBe(seg(0));
    // Three separate SACKed segments above segment 4.
    time.now = 12;
    sb.onAck(seg(0), [block(7, 8), block(5, 6), block(1, 4)]);
    expect(sb.markLostBySack(MSS)).toBe(0);
    const sb2 = sent(8);
    time.now = 12;
    sb2.onAck(seg(0), [block(7, 8), block(5, 6), block(3, 4)]);
    sb2.markLostBySack(MSS);
    expect(flags(sb2)).toEqual(['0-1L', '1-2L', '2-3L', '3-4S', '4-5', '5-6S', '6-7', '7-8S']);
  });

  it('a retransmission of a lost segment puts it back in pipe; its SACK takes it out of both', () => {
    const sb = sent(6);
    time.now = 10;
    sb.onAck(seg(0), [block(1, 5)]);
    sb.markLostBySack(MSS);
    expect(sb.pipe(6 * MSS)).toBe(MSS); // segment 5 only
    time.now = 11;
    sb.onTransmit(seg(0), seg(1), sb.pipe(6 * MSS), false);
    expect(flags(sb)[0]).toBe('0-1LR');
    expect(sb.pipe(6 * MSS)).toBe(2 * MSS);
    expect(sb.nextLost()).toBeUndefined();
    time.now = 20;
    const out = sb.onAck(seg(5), undefined);
    expect(out.delivered).toBe(MSS); // segment 0 only: 1-4 were SACKed before
    expect(sb.pipe(MSS)).toBe(MSS);
    expect(sb.lostBytes).toBe(0);
    expect(sb.lostRetransmittedBytes).toBe(0);
  });

  it('recognises a D-SACK block below the cumulative ACK or inside the second block (RFC 2883 §4)', () => {
    const sb = sent(4);
    time.now = 10;
    let out = sb.onAck(seg(2), [block(0, 1)]);
    expect(out).toMatchObject({ dsack: true, dsackStart: seg(0), dsackEnd: seg(1), newlySacked: 0 });
    time.now = 11;
    out = sb.onAck(seg(2), [{ left: seg(3), right: seg(3) + 500 }, block(3, 4)]);
    expect(out.dsack).toBe(true);
    expect(out.newlySacked).toBe(MSS);
    time.now = 12;
    out = sb.onAck(seg(2), [block(3, 4)]);
    expect(out.dsack).toBe(false);
  });

  it('after a timeout the lowest lost segment goes first, even when its retransmission was the last thing sent', () => {
    const sb = sent(3);
    time.now = 10;
    sb.onAck(seg(0), [block(2, 3)]);
    sb.markAllLost();
    expect(sb.nextLost()?.start).toBe(seg(0));
    time.now = 11;
    sb.onTransmit(seg(0), seg(1), 0, false);
    expect(sb.nextLost()?.start).toBe(seg(1));
    time.now = 11;
    sb.onTransmit(seg(1), seg(2), 0, false);
    expect(sb.nextLost()).toBeUndefined();
    sb.markAllLost(); // the next timeout: both retransmissions count as lost again
    expect(flags(sb)).toEqual(['0-1L', '1-2L', '2-3S']);
    expect(sb.nextLost()?.start).toBe(seg(0));
  });

  it('reneging: when the cumulative ACK stops at SACKed data, a timeout turns the SACK bits off (RFC 2018 §8)', () => {
    const sb = sent(4);
    time.now = 10;
    sb.onAck(seg(0), [block(1, 4)]);
    expect(sb.reneged).toBe(false);
    time.now = 20;
    sb.onAck(seg(1), undefined);
    expect(sb.reneged).toBe(true);
    sb.markAllLost();
    expect(flags(sb)).toEqual(['1-2L', '2-3L', '3-4L']);
    expect(sb.sackedBytes).toBe(0);
    expect(sb.pipe(3 * MSS)).toBe(0);
  });

  it('forgets what lies beyond SND.MAX when it is pulled back (probe octets sent again as new data)', () => {
    const sb = sent(4);
    time.now = 10;
    sb.onAck(seg(0), [block(2, 3)]);
    sb.markAllLost();
    sb.truncate(seg(1) + 500);
    expect(flags(sb)).toEqual(['0-1L', '1-1.5L']);
    expect([sb.sackedBytes, sb.lostBytes, sb.lostRetransmittedBytes]).toEqual([0, 1500, 0]);
    // What is sent from there on is new data again, not a retransmission.
    time.now = 20;
    sb.onTransmit(seg(1) + 500, seg(2), 0, false);
    expect(sb.list().map((r) => r.retransmitted)).toEqual([false, false, false]);
  });

  it('a retransmission timeout marks everything not SACKed lost', () => {
    const sb = sent(4);
    time.now = 10;
    sb.onAck(seg(0), [block(2, 3)]);
    sb.markAllLost();
    expect(flags(sb)).toEqual(['0-1L', '1-2L', '2-3S', '3-4L']);
    expect(sb.pipe(4 * MSS)).toBe(0);
  });
});

describe('scoreboard: RACK (RFC 8985 §6)', () => {
  it('marks segments sent before the newest delivered one lost after RACK.rtt + reo_wnd, and says when to look again', () => {
    const sb = sent(4); // sent at t = 0, 1, 2, 3
    time.now = 50;
    sb.onAck(seg(0), [block(3, 4)]); // segment 3 (sent at 3) delivered: RACK.rtt = 47
    expect(sb.rackRtt).toBe(47);
    // reo_wnd 10: segment 0 expires at 0 + 47 + 10 = 57, segment 1 at 58, segment 2 at 59; the timer is
    // set for the earliest (later ones are judged when it fires).
    time.now = 50;
    expect(sb.markLostByRack(10)).toBe(7);
    time.now = 57;
    expect(sb.markLostByRack(10)).toBe(1);
    expect(flags(sb)).toEqual(['0-1L', '1-2', '2-3', '3-4S']);
    time.now = 59;
    expect(sb.markLostByRack(10)).toBe(0);
    expect(flags(sb)).toEqual(['0-1L', '1-2L', '2-3L', '3-4S']);
  });

  it('times a retransmission from when it was resent, and detects reordering', () => {
    const sb = sent(3);
    time.now = 40;
    sb.onAck(seg(0), [block(2, 3)]);
    time.now = 40;
    sb.markLostByRack(0);
    expect(flags(sb)).toEqual(['0-1L', '1-2L', '2-3S']);
    time.now = 40;
    sb.onTransmit(seg(0), seg(1), 0, false);
    // A late original of segment 1 arrives: never retransmitted, below delivered data: reordering.
    time.now = 45;
    sb.onAck(seg(0), [block(1, 3)]);
    expect(sb.reorderingSeen).toBe(true);
    // RACK still times from segment 2 (sent at 2, the most recently sent delivered): the retransmission
    // of 0 at 40 was sent after it, so it is not judged, however long it takes.
    time.now = 1000;
    expect(sb.markLostByRack(0)).toBe(0);
    expect(flags(sb)[0]).toBe('0-1LR');
  });
});

describe('scoreboard: reordering degree (RFC 8985 §6.2 step 3)', () => {
  it('in-order delivery is no reordering, whatever the initial sequence number', () => {
    // 0x90000000 lies more than 2^31 past 0: a HighACK left at 0 before the first ACK made the first
    // segment look delivered 2^31 bytes below it, and the degree jumped to maxReordering.
    for (const iss of [5000, 0x90000000, 0xfffff000]) {
      const sb = new Scoreboard(time);
      sb.segmentSize = MSS;
      for (let n = 0; n < 4; n++) {
        time.now = n;
        sb.onTransmit(iss + n * MSS, iss + (n + 1) * MSS, n * MSS, false);
      }
      time.now = 50;
      sb.onAck((iss + 2 * MSS) >>> 0, undefined);
      time.now = 52;
      sb.onAck((iss + 4 * MSS) >>> 0, undefined);
      expect([sb.reorderingSeen, sb.reordering, sb.reorderingRaised]).toEqual([false, 3, 0]);
    }
  });
});

describe('scoreboard: delivery-rate samples (draft-cheng-iccrg-delivery-rate-estimation §3)', () => {
  it('rates delivery over the longer of the send and ACK intervals of the newest delivered segment', () => {
    const sb = new Scoreboard(time);
    // 10 segments sent 1 ms apart from t=0 (the first with nothing in flight).
    for (let n = 0; n < 10; n++) {
      time.now = n;
      sb.onTransmit(seg(n), seg(n + 1), n * MSS, false);
    }
    // ACK of the first 2 segments at t=100: delivered 2000 over max(1 - 0, 100 - 0) = 100 ms.
    time.now = 100;
    let out = sb.onAck(seg(2), undefined);
    expect(out.sample).toMatchObject({ delivered: 2000, intervalMs: 100, deliveryRate: 20, rttMs: 99 });
    // Segment 10 sent at t=100 after that ACK: its interval starts at the delivery of segment 1.
    time.now = 100;
    sb.onTransmit(seg(10), seg(11), 8 * MSS, false);
    // The newest delivered is segment 9 (sent at 9, nothing delivered then): 10000 bytes over 109 ms.
    time.now = 109;
    out = sb.onAck(seg(10), undefined);
    expect(out.sample).toMatchObject({ delivered: 10000, intervalMs: 109, rttMs: 100 });
    time.now = 200;
    out = sb.onAck(seg(11), undefined);
    // Sent at 100 when 2000 bytes had been delivered (at 100): 9000 more by 200.
    expect(out.sample).toMatchObject({
      delivered: 9000,
      intervalMs: 100,
      deliveryRate: 90,
      priorDelivered: 2000,
    });
  });

  it('flags samples taken while the application kept the sender idle', () => {
    const sb = new Scoreboard(time);
    time.now = 0;
    sb.onTransmit(seg(0), seg(1), 0, true);
    time.now = 50;
    const out = sb.onAck(seg(1), undefined);
    expect(out.sample.isAppLimited).toBe(true);
    time.now = 50;
    sb.onTransmit(seg(1), seg(2), 0, false);
    time.now = 100;
    expect(sb.onAck(seg(2), undefined).sample.isAppLimited).toBe(false);
  });
});

describe('scoreboard: records of acknowledged segments are reused', () => {
  it('a record reused after lost, SACKed and retransmitted flights starts clean', () => {
    const sb = new Scoreboard(time);
    // First flight: 200 segments, half SACKed, the rest lost and retransmitted, then all acknowledged.
    for (let n = 0; n < 200; n++) {
      time.now = n;
      sb.onTransmit(seg(n), seg(n + 1), n * MSS, n % 7 === 0);
    }
    for (let n = 1; n < 200; n += 2) {
      time.now = 300 + n;
      sb.onAck(seg(0), [block(n, n + 1)]);
    }
    sb.markAllLost();
    for (let n = 0; n < 200; n += 2) {
      time.now = 600 + n;
      sb.onTransmit(seg(n), seg(n + 1), 0, false);
    }
    time.now = 900;
    const first = sb.onAck(seg(200), undefined);
    expect(first.delivered).toBe(100 * MSS);
    expect([sb.isEmpty, sb.sackedBytes, sb.lostBytes, sb.lostRetransmittedBytes]).toEqual([true, 0, 0, 0]);
    // Second flight on the reused records: fresh flags, fresh sampling fields, cut by a SACK block.
    for (let n = 200; n < 210; n++) {
      time.now = 1000 + n;
      sb.onTransmit(seg(n), seg(n + 1), 0, false);
    }
    expect(flags(sb)).toEqual([
      '200-201',
      '201-202',
      '202-203',
      '203-204',
      '204-205',
      '205-206',
      '206-207',
      '207-208',
      '208-209',
      '209-210',
    ]);
    expect(sb.list().every((r) => !r.retransmitted && r.sentAt >= 1200 && !r.appLimited)).toBe(true);
    time.now = 1300;
    const out = sb.onAck(seg(200), [{ left: seg(203) + 500, right: seg(206) }]);
    expect(out.newlySacked).toBe(2500);
    expect(flags(sb).slice(2, 6)).toEqual(['202-203', '203-203.5', '203.5-204S', '204-205S']);
    expect(sb.pipe(10 * MSS)).toBe(7500);
    time.now = 1400;
    const done = sb.onAck(seg(210), undefined);
    expect(done.delivered).toBe(7500);
    expect(done.sample.rttMs).toBe(1400 - 1209);
  });
});

describe('scoreboard: a growing flight reuses acknowledged records before compaction', () => {
  it('takes the records earlier ACKs acknowledged, never those of the ACK being processed, and makes none', () => {
    const sb = sent(100);
    const made = scoreboardCounters.recordsMade;
    // 60 acknowledged (too few to compact), then the flight grows by 90: 60 records reused, 30 made.
    time.now = 200;
    sb.onAck(seg(60), undefined);
    for (let n = 100; n < 190; n++) {
      time.now = 100 + n;
      sb.onTransmit(seg(n), seg(n + 1), 40 * MSS, false);
    }
    expect(scoreboardCounters.recordsMade - made).toBe(30);
    expect(flags(sb)).toEqual(Array.from({ length: 130 }, (_, i) => `${60 + i}-${61 + i}`));
    // Segment 60 retransmitted last, so that the newest segment the next ACK delivers is the first it
    // acknowledges cumulatively: the SACK block's cut must not take that record (the rate sample reads it).
    time.now = 400;
    sb.onTransmit(seg(60), seg(61), 130 * MSS, false);
    const before = scoreboardCounters.recordsMade;
    time.now = 450;
    const out = sb.onAck(seg(75), [{ left: seg(80) + 500, right: seg(82) }]);
    expect(scoreboardCounters.recordsMade - before).toBe(1); // the cut: none acknowledged before is left
    expect(out.delivered).toBe(15 * MSS + 1500);
    expect(out.sample.priorInFlight).toBe(130 * MSS);
    expect(out.sample.rttMs).toBe(-1); // retransmitted: no RTT sample
    expect(out.sample.delivered).toBe(15 * MSS + 1500);
    // Over the send interval of the retransmission: from the newest segment the first ACK delivered
    // (sent at 59) to 400, longer than the ACK interval (200 to 450).
    expect(out.sample.intervalMs).toBe(341);
    expect(flags(sb).slice(4, 8)).toEqual(['79-80', '80-80.5', '80.5-81S', '81-82S']);
    // The next flight's growth takes the records this ACK acknowledged.
    const after = scoreboardCounters.recordsMade;
    for (let n = 190; n < 205; n++) {
      time.now = 500 + n;
      sb.onTransmit(seg(n), seg(n + 1), 100 * MSS, false);
    }
    expect(scoreboardCounters.recordsMade - after).toBe(0);
    expect(flags(sb).at(-1)).toBe('204-205');
    time.now = 800;
    expect(sb.onAck(seg(205), undefined).delivered).toBe(128 * MSS + 500);
    expect(sb.isEmpty).toBe(true);
  });
});

describe('scoreboard: reset for another connection', () => {
  it('after SACKs, losses, retransmissions, RACK and D-SACK, reads as a new scoreboard', () => {
    const sb = sent(10);
    time.now = 20;
    sb.onAck(seg(0), [block(2, 4), block(6, 7)], 5);
    sb.markLostBySack(MSS);
    time.now = 40;
    sb.markLostByRack(1);
    time.now = 41;
    sb.onTransmit(seg(0), seg(1), 3 * MSS, false); // retransmission of the lost first segment
    time.now = 50;
    sb.onAck(seg(1), [{ left: seg(0), right: seg(1) }, block(2, 4), block(6, 8)], 5); // a D-SACK
    time.now = 60;
    sb.onAck(seg(5), [block(6, 9)], 5);
    expect(sb.isEmpty).toBe(false);
    sb.reset(time, 1448, 127);
    const fresh = new Scoreboard(time);
    fresh.segmentSize = 1448;
    fresh.maxReordering = 127;
    // Spare records are kept for reuse (a few of them); everything else is as new.
    const { spare, ...state } = sb as unknown as { spare: unknown[] } & Record<string, unknown>;
    const { spare: freshSpare, ...freshState } = fresh as unknown as { spare: unknown[] } & Record<
      string,
      unknown
    >;
    expect(state).toEqual(freshState);
    expect(freshSpare).toEqual([]);
    expect(spare.length).toBeGreaterThan(0);
    expect(spare.length).toBeLessThanOrEqual(8);
    // And it works as a new one.
    time.now = 100;
    sb.onTransmit(seg(0), seg(2), 0, false);
    expect(sb.list().map((r) => [r.start, r.end, r.sacked, r.lost])).toEqual([
      [seg(0), seg(2), false, false],
    ]);
  });
});

describe('spare scoreboards: bounded, counted', () => {
  it('at most 16 scoreboards of finished connections are kept; the next connections take them', () => {
    // The pool is process-wide and this file's other tests make scoreboards by hand only, so it starts
    // empty here (each test file runs in a module context of its own).
    const before = { ...scoreboardCounters };
    const net = new FakeNetwork();
    const client = net.addHost(['10.0.0.1']);
    const server = net.addHost(['10.0.0.2']);
    server.listen({ port: 80 }).on('connection', (c) => c.on('end', () => c.close(net.clock.now())));
    const round = (count: number) => {
      for (let i = 0; i < count; i++) {
        const conn = client.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80 });
        conn.on('connected', () => {
          conn.send(pattern(10), net.clock.now());
          conn.close(net.clock.now());
        });
      }
      net.run(1000);
    };
    // 24 connections at once: each end sends a FIN (a send record, so a scoreboard) and is let go,
    // the server's when closed, the client's when handed to a TIME-WAIT record.
    round(24);
    expect([client.connections().length, server.connections().length, client.timeWaitCount]).toEqual([
      0, 0, 24,
    ]);
    const delta = (key: keyof typeof scoreboardCounters) => scoreboardCounters[key] - before[key];
    expect([delta('scoreboardsKept'), delta('scoreboardsDropped'), delta('scoreboardsReused')]).toEqual([
      16, 32, 0,
    ]);
    // The next 20: 16 take a kept one, 4 make their own; all 40 ends are let go again: 16 kept.
    round(20);
    expect([delta('scoreboardsReused'), delta('scoreboardsKept'), delta('scoreboardsDropped')]).toEqual([
      16, 32, 56,
    ]);
    expect(delta('recordsDroppedOnReset')).toBe(0);
  });

  it('a reset keeps at most 8 spare records and counts the rest', () => {
    const sb = sent(20);
    const before = scoreboardCounters.recordsDroppedOnReset;
    sb.reset(time, 1448, 300);
    // 20 live records: 8 stay as spares, 12 go.
    expect(scoreboardCounters.recordsDroppedOnReset - before).toBe(12);
    expect((sb as unknown as { spare: unknown[] }).spare.length).toBe(8);
  });
});

describe('spare records: bounded, counted', () => {
  it('a scoreboard keeps at most 1024 acknowledged records for reuse and counts the rest', () => {
    const before = scoreboardCounters.spareRecordsDropped;
    const sb = sent(1100);
    time.now = 2000;
    sb.onAck(seg(1100), undefined);
    expect(sb.isEmpty).toBe(true);
    expect((sb as unknown as { spare: unknown[] }).spare.length).toBe(1024);
    expect(scoreboardCounters.spareRecordsDropped - before).toBe(76);
  });

  it('keeps up to twice the records in flight when that is more: a flight of 3000 records reuses its own', () => {
    const before = scoreboardCounters.spareRecordsDropped;
    const sb = sent(3000);
    const spare = (sb as unknown as { spare: unknown[] }).spare;
    // Ten flights: each ACK covers 100 segments, and 100 more are sent (one a ms, as `sent` does: a record each).
    for (let next = 3000; next < 33_000; next += 100) {
      time.now = next;
      sb.onAck(seg(next - 2900), undefined);
      for (let n = next; n < next + 100; n++) {
        time.now = n;
        sb.onTransmit(seg(n), seg(n + 1), 3000 * MSS, false);
      }
      expect(spare.length).toBeLessThanOrEqual(3000);
    }
    expect(sb.list().length).toBe(3000);
    expect(scoreboardCounters.spareRecordsDropped - before).toBe(0);
    // Once everything is acknowledged, the spares go back to the plain cap.
    time.now = 40_000;
    sb.onAck(seg(33_000), undefined);
    expect(sb.isEmpty).toBe(true);
    expect(spare.length).toBe(1024);
  });
});

describe('scoreboard: the records array keeps its storage', () => {
  const recordsOf = (sb: Scoreboard) => (sb as unknown as { records: unknown[] }).records;

  it('a steady flight compacts without shortening the array; stale slots are never read', () => {
    const sb = new Scoreboard(time);
    let next = 0;
    for (; next < 300; next++) {
      time.now = next;
      sb.onTransmit(seg(next), seg(next + 1), next * MSS, false);
    }
    // Each ACK takes one segment and one more is sent: compaction comes every ~300 ACKs. Shortening
    // the array there let V8 trim its storage, which the following sends grew again.
    const lengths: number[] = [];
    for (let acked = 1; acked <= 3000; acked++) {
      time.now = 1000 + acked;
      sb.onAck(seg(acked), undefined);
      time.now = 1000 + acked;
      sb.onTransmit(seg(next), seg(next + 1), 299 * MSS, false);
      next++;
      if (acked > 1000) lengths.push(recordsOf(sb).length);
    }
    expect(Math.min(...lengths)).toBe(Math.max(...lengths));
    // Only the live records are seen, and cutting and dropping them works around the stale slots.
    expect(flags(sb)).toEqual(Array.from({ length: 300 }, (_, i) => `${3000 + i}-${3001 + i}`));
    sb.truncate(seg(3200));
    expect(sb.last()?.end).toBe(seg(3200));
    time.now = 5000;
    const out = sb.onAck(seg(3000), [{ left: seg(3100) + 500, right: seg(3101) }]);
    expect(out.newlySacked).toBe(500);
    expect(flags(sb).slice(99, 103)).toEqual(['3099-3100', '3100-3100.5', '3100.5-3101S', '3101-3102']);
    time.now = 5001;
    sb.onTransmit(seg(3200), seg(3201), 0, false);
    expect(flags(sb).at(-1)).toBe('3200-3201');
    expect(flags(sb)).toHaveLength(202);
  });

  it('once a large flight is acknowledged, the array is cut back', () => {
    const sb = sent(5000);
    time.now = 6000;
    sb.onAck(seg(5000), undefined);
    expect(sb.isEmpty).toBe(true);
    expect(recordsOf(sb).length).toBe(0);
  });
});
