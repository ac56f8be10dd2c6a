/**
 * ECN (RFC 3168 §6.1) in segment dialogues: the ECN-setup SYN and SYN-ACK, ECT(0) on new data only, the
 * receiver's echo of CE until CWR, and the sender's one reduction per window without retransmission.
 */
import { describe, expect, it } from 'vitest';
import { ECN_CE, ECN_ECT0 } from '../../src/tcp/ecn.js';
import type { TcpSegment } from '../../src/wire/tcp.js';
import { Dialogue, pattern, type SegmentSpec } from './dialogue.js';

const ECN = { ecn: true as const, congestionControl: 'newreno' as const };
const SYN_OPTIONS = { mss: 1000, windowScale: 3 };

/** An active open with ECN agreed: MSS 1000 both ways, ISS 1000, IRS 9000. */
function ecnEstablished(config: Record<string, unknown> = {}): Dialogue {
  const d = Dialogue.active({ iss: 1000, mtu: 1040, config: { ...ECN, ...config } });
  d.expect({ flags: 'SEC', seq: 1000, options: SYN_OPTIONS });
  d.at(10).recv({ flags: 'SAE', seq: 9000, ack: 1001, options: { mss: 1000 } });
  d.expect({ flags: 'A', seq: 1001, ack: 9001 });
  d.takeEvents();
  return d;
}

/** The ECN field a sent segment was handed to IP with (0: Not-ECT). */
function ecnOf(d: Dialogue, seg: TcpSegment): number {
  return d.ecnFields.get(seg) ?? 0;
}

function data(seq: number, length: number, extra: Partial<SegmentSpec> = {}): SegmentSpec {
  return { flags: 'PA', seq, ack: 1001, payload: pattern(length), ...extra };
}

describe('ECN setup (RFC 3168 §6.1.1)', () => {
  it('ecn: true sends an ECN-setup SYN (ECE+CWR); a SYN-ACK with ECE alone agrees', () => {
    const d = ecnEstablished();
    expect(d.conn.status().ecnEnabled).toBe(true);
    expect(d.counters.ecnNegotiated).toBe(1);
  });

  it('a SYN-ACK with both ECE and CWR, or with neither, does not agree: data leaves Not-ECT', () => {
    for (const flags of ['SAEC', 'SA']) {
      const d = Dialogue.active({ iss: 1000, mtu: 1040, config: ECN });
      d.expect({ flags: 'SEC', seq: 1000, options: SYN_OPTIONS });
      d.at(10).recv({ flags, seq: 9000, ack: 1001, options: { mss: 1000 } });
      d.expect({ flags: 'A', seq: 1001, ack: 9001 });
      expect(d.conn.status().ecnEnabled).toBe(false);
      d.conn.send(pattern(100), d.now);
      const seg = d.expect({ flags: 'PA', seq: 1001, ack: 9001, len: 100 });
      expect(ecnOf(d, seg)).toBe(0);
    }
  });

  it("'passive' and false send a plain SYN; a stray ECE on the SYN-ACK then means nothing", () => {
    for (const ecn of ['passive', false] as const) {
      const d = Dialogue.active({ iss: 1000, mtu: 1040, config: { ecn } });
      d.expect({ flags: 'S', seq: 1000, options: SYN_OPTIONS });
      d.at(10).recv({ flags: 'SAE', seq: 9000, ack: 1001, options: { mss: 1000 } });
      d.expect({ flags: 'A', seq: 1001, ack: 9001 });
      expect(d.conn.status().ecnEnabled).toBe(false);
    }
  });

  it("a listener with ecn true or 'passive' answers an ECN-setup SYN with ECE alone; false, or a SYN with ECE only, gets a plain SYN-ACK", () => {
    const cases: Array<[boolean | 'passive', string, string]> = [
      [true, 'SEC', 'SAE'],
      ['passive', 'SEC', 'SAE'],
      [false, 'SEC', 'SA'],
      ['passive', 'SE', 'SA'],
      [true, 'S', 'SA'],
    ];
    for (const [ecn, synFlags, answer] of cases) {
      const d = Dialogue.passive(
        { flags: synFlags, seq: 7000, options: { mss: 1000 } },
        { iss: 5000, mtu: 1040, config: { ecn } },
      );
      d.expect({ flags: answer, seq: 5000, ack: 7001, options: { mss: 1000 } });
      expect(d.conn.status().ecnEnabled, `${String(ecn)} ${synFlags}`).toBe(answer === 'SAE');
    }
  });
});

describe('ECT(0) on new data only (RFC 3168 §6.1.1, §6.1.4-6.1.6)', () => {
  it('new data is ECT(0); pure ACKs, the retransmission after a timeout and SYNs are Not-ECT', () => {
    const d = Dialogue.active({ iss: 1000, mtu: 1040, config: ECN });
    expect(ecnOf(d, d.expect({ flags: 'SEC', seq: 1000, options: SYN_OPTIONS }))).toBe(0);
    d.at(10).recv({ flags: 'SAE', seq: 9000, ack: 1001, options: { mss: 1000 } });
    expect(ecnOf(d, d.expect({ flags: 'A', seq: 1001, ack: 9001 }))).toBe(0);
    d.conn.send(pattern(1500), d.now);
    expect(ecnOf(d, d.expect({ flags: 'A', seq: 1001, ack: 9001, len: 1000 }))).toBe(ECN_ECT0);
    expect(ecnOf(d, d.expect({ flags: 'PA', seq: 2001, ack: 9001, len: 500 }))).toBe(ECN_ECT0);
    // The peer's data gets a pure ACK (immediately: it fills no gap, but PSH with quick ACKs at start).
    d.recv({ flags: 'PA', seq: 9001, ack: 1001, payload: 10 });
    d.advance(40);
    expect(ecnOf(d, d.expect({ flags: 'A', seq: 2501, ack: 9011 }))).toBe(0);
    // Nothing acknowledged: the RTO (1 s initial, the handshake gave an RTT of 10 ms: 200 ms floor + ...).
    const rto = d.conn.status().rto;
    d.advance(rto);
    const again = d.expect({ flags: 'A', seq: 1001, ack: 9011, len: 1000 });
    expect(ecnOf(d, again)).toBe(0);
    expect(d.counters.retransmittedSegments).toBe(1);
  });
});

describe('the receiver echoes CE (RFC 3168 §6.1.3)', () => {
  it('CE is acknowledged at once with ECE; every ACK carries ECE until a segment with CWR', () => {
    const d = ecnEstablished();
    // Without CE, one segment waits for the delayed-ACK timer.
    d.recv(data(9001, 100));
    d.expectNone();
    d.advance(40).expect({ flags: 'A', seq: 1001, ack: 9101 });
    // CE: an ACK with ECE at once.
    d.recv(data(9101, 100, { ecn: ECN_CE }));
    d.expect({ flags: 'AE', seq: 1001, ack: 9201 });
    expect(d.counters.ecnCeReceived).toBe(1);
    // Later segments without CE are still answered with ECE (delayed as usual).
    d.recv(data(9201, 100, { ecn: ECN_ECT0 }));
    d.advance(40).expect({ flags: 'AE', seq: 1001, ack: 9301 });
    // Our own data carries ECE too while the echo lasts.
    d.conn.send(pattern(10), d.now);
    d.expect({ flags: 'PAE', seq: 1001, ack: 9301, len: 10 });
    // CWR ends it.
    d.recv({ flags: 'PAC', seq: 9301, ack: 1011, payload: pattern(100), ecn: ECN_ECT0 });
    d.advance(40).expect({ flags: 'A', seq: 1011, ack: 9401 });
  });

  it('CWR and a new CE on the same segment leave ECE set; a CE on a segment outside the window is ignored', () => {
    const d = ecnEstablished();
    d.recv(data(9001, 100, { ecn: ECN_CE }));
    d.expect({ flags: 'AE', seq: 1001, ack: 9101 });
    d.recv({ flags: 'PAC', seq: 9101, ack: 1001, payload: pattern(100), ecn: ECN_CE });
    d.expect({ flags: 'AE', seq: 1001, ack: 9201 });
    d.recv({ flags: 'PAC', seq: 9201, ack: 1001, payload: pattern(100) });
    d.advance(40).expect({ flags: 'A', seq: 1001, ack: 9301 });
    // An old duplicate with CE: answered (out of window) but no echo starts.
    d.advance(1000).recv(data(9001, 100, { ecn: ECN_CE }));
    d.expect({ flags: 'A', seq: 1001, ack: 9301 });
    expect(d.counters.ecnCeReceived).toBe(2);
  });

  it('a connection without ECN ignores CE and CWR', () => {
    const d = Dialogue.active({ iss: 1000, mtu: 1040 });
    d.takeAll();
    d.at(10).recv({ flags: 'SA', seq: 9000, ack: 1001, options: { mss: 1000 } });
    d.expect({ flags: 'A', seq: 1001, ack: 9001 });
    d.recv(data(9001, 100, { ecn: ECN_CE }));
    d.expectNone();
    d.advance(40).expect({ flags: 'A', seq: 1001, ack: 9101 });
    expect(d.counters.ecnCeReceived).toBe(0);
  });
});

describe('the sender reacts to ECE (RFC 3168 §6.1.2)', () => {
  it('halves cwnd once per window without retransmitting, and marks the next new data CWR', () => {
    const d = ecnEstablished();
    d.conn.send(pattern(30_000), d.now);
    const first = d.takeAll();
    expect(first.length).toBe(10); // IW10 of 1000 bytes
    expect(d.conn.status().cwnd).toBe(10_000);
    // The ACK of the first two segments carries ECE: NewReno's ssthresh = FlightSize / 2 (RFC 5681
    // equation 4), the flight being the 8000 bytes still outstanding.
    d.advance(10).recv({ flags: 'AE', seq: 9001, ack: 3001 });
    const status = d.conn.status();
    expect(status.ssthresh).toBe(4000);
    expect(status.inRecovery).toBe(true);
    expect(d.counters.ecnReductions).toBe(1);
    expect(d.counters.ecnEchoesReceived).toBe(1);
    // PRR sends about half of what was delivered (RFC 6937): the first new segment carries CWR and ECT(0).
    const sent = d.takeAll();
    expect(sent.length).toBe(1);
    expect(sent[0]!.seq).toBe(11_001);
    expect(sent[0]!.flags & 0x80).toBe(0x80);
    expect(ecnOf(d, sent[0]!)).toBe(ECN_ECT0);
    // More ECE within the same window: no second reduction, and no CWR on what follows.
    d.recv({ flags: 'AE', seq: 9001, ack: 5001 });
    expect(d.counters.ecnReductions).toBe(1);
    expect(d.counters.ecnEchoesReceived).toBe(2);
    for (const seg of d.takeAll()) expect(seg.flags & 0x80).toBe(0);
    // The window ends: cwnd = ssthresh, recovery over; nothing was retransmitted.
    d.recv({ flags: 'A', seq: 9001, ack: 11_001 });
    expect(d.conn.status().inRecovery).toBe(false);
    expect(d.conn.status().cwnd).toBe(4000);
    d.takeAll();
    d.recv({ flags: 'A', seq: 9001, ack: 12_001 });
    d.takeAll();
    expect(d.counters.retransmittedSegments).toBe(0);
    // ECE for data sent after the reduction: a new reduction.
    const sndNxt = d.conn.status().sndNxt;
    d.recv({ flags: 'AE', seq: 9001, ack: sndNxt });
    expect(d.counters.ecnReductions).toBe(2);
    expect(d.conn.status().retransmissions).toBe(0);
  });

  it('an ECE without ECN negotiated changes nothing', () => {
    const d = Dialogue.active({ iss: 1000, mtu: 1040, config: { congestionControl: 'newreno' } });
    d.takeAll();
    d.at(10).recv({ flags: 'SA', seq: 9000, ack: 1001, options: { mss: 1000 } });
    d.takeAll();
    d.conn.send(pattern(10_000), d.now);
    d.takeAll();
    d.advance(10).recv({ flags: 'AE', seq: 9001, ack: 3001 });
    expect(d.conn.status().inRecovery).toBe(false);
    expect(d.counters.ecnEchoesReceived).toBe(0);
  });

  it('a loss during an ECN reduction is still fast-retransmitted on the third duplicate ACK (no SACK)', () => {
    const d = ecnEstablished();
    d.conn.send(pattern(30_000), d.now);
    d.takeAll();
    d.advance(10).recv({ flags: 'AE', seq: 9001, ack: 2001 });
    d.takeAll();
    const ssthresh = d.conn.status().ssthresh;
    for (let i = 0; i < 3; i++) d.recv({ flags: 'A', seq: 9001, ack: 2001 });
    const resent = d.takeAll().filter((s) => s.seq === 2001);
    expect(resent.length).toBe(1);
    expect(ecnOf(d, resent[0]!)).toBe(0);
    // One reduction for the window: ssthresh unchanged.
    expect(d.conn.status().ssthresh).toBe(ssthresh);
    expect(d.counters.fastRetransmits).toBe(1);
  });
});
