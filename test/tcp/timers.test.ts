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
});
