import { describe, expect, it } from 'vitest';
import { ConnectionTimers, DELAYED_ACK, NEVER, PERSIST, RETRANSMISSION } from '../../src/tcp/timers.js';

describe('connection timers', () => {
  it('a timer is armed from set until cancel, whatever the others do', () => {
    const timers = new ConnectionTimers();
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
    const timers = new ConnectionTimers();
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
    const timers = new ConnectionTimers();
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
});
