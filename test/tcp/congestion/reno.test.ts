import { describe, expect, it } from 'vitest';
import {
  NewRenoCongestionControl,
  RenoCongestionControl,
  rfc5681InitialWindow,
} from '../../../src/tcp/congestion/reno.js';
import { ackEvent, dupAckEvent } from './events.js';

describe('Reno (RFC 5681)', () => {
  it('initial window by MSS (§3.1), or RFC 6928 IW10', () => {
    expect(rfc5681InitialWindow(536)).toBe(2144);
    expect(rfc5681InitialWindow(1460)).toBe(4380);
    expect(rfc5681InitialWindow(4000)).toBe(8000);
    expect(new RenoCongestionControl(1460, 10).cwnd).toBe(14600);
  });

  it('ssthresh starts above the largest window a peer can advertise (§3.1), and slow start reaches it', () => {
    const cc = new RenoCongestionControl(1000);
    expect(cc.ssthresh).toBe(2 ** 30 - 1);
    expect(cc.ssthresh).toBeGreaterThan(65_535 * 2 ** 14); // RFC 7323 §2.3's largest window
    // Slow start grows up to ssthresh and stops there (RFC 5681 §3.1).
    for (let i = 0; i < 40 && cc.cwnd < cc.ssthresh; i++)
      cc.onAck(ackEvent({ bytesAcked: cc.cwnd, abcLimit: cc.cwnd }));
    expect(cc.cwnd).toBe(2 ** 30 - 1);
  });

  it('slow start counts bytes up to L*SMSS per ACK (RFC 3465), timeout loss window, held ssthresh', () => {
    const cc = new RenoCongestionControl(1000);
    cc.onAck(ackEvent({ bytesAcked: 3000, abcLimit: 2000 }));
    expect(cc.cwnd).toBe(6000); // 4000 + min(3000, 2 SMSS)
    cc.onAck(ackEvent({ bytesAcked: 8000, abcLimit: 8000 })); // one ACK per TSO super-segment of 8
    expect(cc.cwnd).toBe(14_000);
    cc.onRetransmitTimeout(8000, false, 0);
    expect([cc.cwnd, cc.ssthresh]).toEqual([1000, 4000]);
    cc.onRetransmitTimeout(1000, true, 0);
    expect([cc.cwnd, cc.ssthresh]).toEqual([1000, 4000]);
    cc.onRetransmitTimeout(1000, false, 0);
    expect(cc.ssthresh).toBe(2000); // never below 2 SMSS
  });

  it('fast retransmit on the third duplicate; cwnd = ssthresh against a pipe that counts duplicates', () => {
    const cc = new RenoCongestionControl(1000);
    const dup = (count: number) => cc.onDuplicateAck(dupAckEvent({ count }));
    expect(dup(1)).toBe('none');
    expect(dup(2)).toBe('none');
    expect(dup(3)).toBe('fast-retransmit');
    // The output path's pipe falls by one SMSS per duplicate: that is RFC 5681's inflation.
    expect([cc.ssthresh, cc.cwnd, cc.inRecovery]).toEqual([5000, 5000, true]);
    expect(dup(4)).toBe('none');
    expect(cc.cwnd).toBe(5000);
    cc.onAck(ackEvent({ bytesAcked: 1000, ack: 1000, flightSizeBefore: 10_000 }));
    expect([cc.cwnd, cc.inRecovery]).toEqual([5000, false]);
  });

  it('no growth while the sender is not cwnd-limited (RFC 7661)', () => {
    const cc = new RenoCongestionControl(1000);
    cc.onAck(ackEvent({ bytesAcked: 2000, cwndLimited: false }));
    expect(cc.cwnd).toBe(4000);
    cc.onAck(ackEvent({ bytesAcked: 2000, cwndLimited: true }));
    expect(cc.cwnd).toBe(6000);
  });

  it('restarts from the initial window after idleness (§4.1) and rescales on an MSS change', () => {
    const cc = new RenoCongestionControl(1000);
    cc.onAck(ackEvent({ bytesAcked: 1000 }));
    cc.onIdleRestart(0);
    expect(cc.cwnd).toBe(4000);
    cc.onMssChanged(500);
    expect(cc.cwnd).toBe(2000);
  });
});

describe('NewReno (RFC 6582)', () => {
  it('partial ACKs keep recovery until "recover"; the full ACK ends it with at most FlightSize + SMSS', () => {
    // 10 segments of 1000 in flight (SND.UNA 0, SND.MAX 10000), segments at 0 and 3000 lost.
    const cc = new NewRenoCongestionControl(1000, 10);
    for (let count = 1; count <= 3; count++) cc.onDuplicateAck(dupAckEvent({ count }));
    // §3.2 step 2/3: ssthresh = FlightSize/2, recover = 10000; cwnd = ssthresh against pipe.
    expect([cc.ssthresh, cc.cwnd, cc.inRecovery]).toEqual([5000, 5000, true]);
    for (let count = 4; count <= 9; count++) cc.onDuplicateAck(dupAckEvent({ count }));
    expect(cc.cwnd).toBe(5000);
    // The retransmission of 0 arrives; the ACK stops at the second hole (3000): a partial ACK. Step 5's
    // deflation is pipe's: it fell by the 3000 acknowledged less the 2000 duplicates had counted.
    cc.onAck(ackEvent({ bytesAcked: 3000, ack: 3000, sndMax: 14_000, pipe: 4000 }));
    expect([cc.cwnd, cc.inRecovery]).toEqual([5000, true]);
    // The full ACK (covers recover = 10000): cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS).
    cc.onAck(ackEvent({ bytesAcked: 7000, ack: 10_000, sndMax: 14_000, pipe: 2000 }));
    expect([cc.cwnd, cc.inRecovery]).toEqual([3000, false]);
  });

  it('after a timeout, duplicates below the old SND.MAX start no fast retransmit (§3.2 step 2)', () => {
    const cc = new NewRenoCongestionControl(1000, 10);
    cc.onRetransmitTimeout(10_000, false, 0, 10_000);
    expect(cc.onDuplicateAck(dupAckEvent({ count: 3, sndUna: 4000, sndMax: 10_000 }))).toBe('none');
    expect(cc.inRecovery).toBe(false);
    expect(cc.onDuplicateAck(dupAckEvent({ count: 3, sndUna: 11_000, sndMax: 20_000 }))).toBe(
      'fast-retransmit',
    );
  });
});
