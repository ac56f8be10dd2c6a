import { describe, expect, it } from 'vitest';
import { CubicCongestionControl } from '../../../src/tcp/congestion/cubic.js';
import { ProportionalRateReduction } from '../../../src/tcp/congestion/prr.js';
import { ackEvent } from './events.js';

const MSS = 1000;

describe('PRR (RFC 6937)', () => {
  it('sends ssthresh/RecoverFS of what is delivered while pipe > ssthresh, then slow-starts back (SSRB)', () => {
    const prr = new ProportionalRateReduction();
    // RecoverFS 20 segments, ssthresh 10: one segment out for every two delivered.
    prr.start(20 * MSS, 0);
    let sent = 0;
    let pipe = 19 * MSS; // one segment lost
    const sends: number[] = [];
    for (let i = 0; i < 10; i++) {
      pipe -= MSS; // an ACK (SACK) reports one more segment delivered
      const cwnd = prr.window(MSS, pipe, 10 * MSS, sent, MSS);
      const sndcnt = Math.max(0, cwnd - pipe);
      sends.push(sndcnt / MSS);
      sent += sndcnt;
      pipe += sndcnt;
    }
    // The first ACK may always send (the retransmission); then ceil(delivered / 2) - out.
    expect(sends).toEqual([1, 0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
    expect(sent).toBe(5 * MSS); // prr_out = prr_delivered * ssthresh / RecoverFS
    // A burst of losses drains pipe below ssthresh: PRR-SSRB lets pipe climb back towards ssthresh, by
    // at most what was delivered and not yet sent (11 - 5 segments) plus one MSS.
    pipe = 4 * MSS;
    expect(prr.window(MSS, pipe, 10 * MSS, sent, MSS) - pipe).toBe(6 * MSS);
    expect(prr.window(MSS, 9 * MSS, 10 * MSS, sent, MSS) - 9 * MSS).toBe(1 * MSS);
  });

  it('in CUBIC with SACK: a loss event brings cwnd to pipe + sndcnt, and the end of recovery to ssthresh', () => {
    const cc = new CubicCongestionControl(MSS, 20, { sack: true, now: 0 });
    cc.onEnterRecovery({
      kind: 'loss',
      pipe: 19 * MSS,
      flightSize: 20 * MSS,
      sndUna: 0,
      sndMax: 20 * MSS,
      sentTotal: 20 * MSS,
      now: 0,
    });
    expect(cc.ssthresh).toBe(14 * MSS);
    expect(cc.cwnd).toBe(20 * MSS); // pipe + one MSS: the retransmission may go
    // SACKs after the retransmission went (prr_out 1 MSS): ceil(delivered * 0.7) - prr_out.
    const sack = (pipe: number) =>
      cc.onAck(
        ackEvent({ bytesAcked: 0, delivered: MSS, pipe, sentTotal: 21 * MSS, ack: 0, sndMax: 20 * MSS }),
      );
    sack(19 * MSS);
    expect([cc.inRecovery, cc.cwnd]).toEqual([true, 19 * MSS]); // 700 - 1000 < 0: nothing
    sack(18 * MSS);
    expect(cc.cwnd).toBe(18 * MSS + 400); // 1400 - 1000
    cc.onAck(
      ackEvent({ bytesAcked: 20 * MSS, pipe: 0, sentTotal: 21 * MSS, ack: 20 * MSS, sndMax: 20 * MSS }),
    );
    expect([cc.inRecovery, cc.cwnd]).toEqual([false, 14 * MSS]);
  });
});
