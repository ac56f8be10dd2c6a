import { describe, expect, it } from 'vitest';
import {
  ConnectionTimers,
  DELAYED_ACK,
  LOSS_PROBE,
  NEVER,
  PERSIST,
  RETRANSMISSION,
} from '../../src/tcp/timers.js';

/** The time the object under test reads (a connection's Tcb in the stack). */
const time = { now: 0 };

describe('connection timers', () => {
  it('a timer is armed from set until cancel, whatever the others do', () => {
    const timers = new ConnectionTimers(time);
    expect(timers.isArmed(PERSIST)).toBe(false);
    expect(timers.get(PERSIST)).toBe(NEVER);
    timers.set(RETRANSMISSION, 200);
    expect(timers.isArmed(RETRANSMISSION)).toBe(true);
    expect(timers.isArmed(PERSIST)).toBe(false);
    timers.set(PERSIST, 2_500_000_000.5);
    expect(timers.isArmed(PERSIST)).toBe(true);
    expect(timers.get(PERSIST)).toBe(2_500_000_000.5);
    timers.cancel(PERSIST);
    expect(timers.isArmed(PERSIST)).toBe(false);
    expect(timers.isArmed(RETRANSMISSION)).toBe(true);
    expect(timers.earliest()).toBe(200);
  });

  it('setting a timer to NEVER disarms it, and cancelAll disarms every timer', () => {
    const timers = new ConnectionTimers(time);
    timers.set(DELAYED_ACK, 0);
    expect(timers.isArmed(DELAYED_ACK)).toBe(true);
    timers.set(DELAYED_ACK, NEVER);
    expect(timers.isArmed(DELAYED_ACK)).toBe(false);
    timers.set(DELAYED_ACK, 40);
    timers.set(RETRANSMISSION, 1000);
    timers.cancelAll();
    expect(timers.isArmed(DELAYED_ACK)).toBe(false);
    expect(timers.isArmed(RETRANSMISSION)).toBe(false);
    expect(timers.earliest()).toBe(NEVER);
  });

  it('setAfter arms a timer at base + delay and keeps the earliest deadline right', () => {
    const timers = new ConnectionTimers(time);
    timers.setAfter(DELAYED_ACK, 1234.25, 40);
    expect(timers.get(DELAYED_ACK)).toBe(1274.25);
    expect(timers.earliest()).toBe(1274.25);
    timers.setAfter(RETRANSMISSION, 1234.25, 1000);
    expect(timers.earliest()).toBe(1274.25);
    // Moving the earliest timer later leaves the other one earliest.
    timers.setAfter(DELAYED_ACK, 3000.5, 40);
    expect(timers.earliest()).toBe(2234.25);
    expect(timers.due(2234)).toBeUndefined();
    expect(timers.due(2234.25)).toBe(RETRANSMISSION);
  });

  it('reportMoved says when the earliest deadline moved since last asked, and reported holds it', () => {
    const timers = new ConnectionTimers(time);
    expect(timers.reported).toBe(NEVER);
    expect(timers.reportMoved()).toBe(false);
    time.now = 10.5;
    timers.setAfterNow(DELAYED_ACK, 40);
    expect(timers.reportMoved()).toBe(true);
    expect(timers.reported).toBe(50.5);
    expect(timers.reportMoved()).toBe(false);
    // A later timer leaves the earliest where it was; moving the earliest one later is a move.
    timers.set(RETRANSMISSION, 210.25);
    expect(timers.reportMoved()).toBe(false);
    timers.cancel(DELAYED_ACK);
    expect(timers.reportMoved()).toBe(true);
    expect(timers.reported).toBe(210.25);
    // A deadline written to `next` is armed by armNext.
    timers.next = 30.75;
    timers.armNext(PERSIST);
    expect(timers.get(PERSIST)).toBe(30.75);
    expect(timers.reportMoved()).toBe(true);
    expect(timers.reported).toBe(30.75);
    timers.cancelAll();
    expect(timers.reportMoved()).toBe(true);
    expect(timers.reported).toBe(NEVER);
  });

  it('updateLossProbe arms the probe at now + 2 SRTT + allowance, or cancels it when the RTO comes first or no probe is due', () => {
    const timers = new ConnectionTimers(time);
    timers.setAfter(RETRANSMISSION, 100.5, 400);
    time.now = 100.5;
    timers.updateLossProbe(true, { srtt: 50.25 }, 0);
    expect(timers.get(LOSS_PROBE)).toBe(201);
    expect(timers.earliest()).toBe(201);
    time.now = 100.5;
    timers.updateLossProbe(true, { srtt: 50.25 }, 200);
    expect(timers.get(LOSS_PROBE)).toBe(401);
    expect(timers.earliest()).toBe(401);
    // Not before the retransmission timer (500.5): cancelled, and the RTO is earliest again.
    time.now = 200;
    timers.updateLossProbe(true, { srtt: 50.25 }, 200);
    expect(timers.isArmed(LOSS_PROBE)).toBe(false);
    expect(timers.earliest()).toBe(500.5);
    // Before any RTT sample the PTO is 1 s.
    timers.setAfter(RETRANSMISSION, 0, 3000);
    time.now = 10;
    timers.updateLossProbe(true, { srtt: 0 }, 0);
    expect(timers.get(LOSS_PROBE)).toBe(1010);
    expect(timers.earliest()).toBe(1010);
    // No probe due: cancelled whatever the PTO would be.
    time.now = 10;
    timers.updateLossProbe(false, { srtt: 5 }, 0);
    expect(timers.isArmed(LOSS_PROBE)).toBe(false);
    expect(timers.earliest()).toBe(3000);
    // Without a retransmission timer there is nothing to probe before.
    timers.cancelAll();
    time.now = 10;
    timers.updateLossProbe(true, { srtt: 5 }, 0);
    expect(timers.isArmed(LOSS_PROBE)).toBe(false);
  });
});
