import { describe, expect, it } from 'vitest';
import { established } from './dialogue.js';

const D = 1001;
const P = 9001;
const HOUR = 3_600_000;

describe('keepalive (§3.8.4, MUST-24..29)', () => {
  it('is off by default (MUST-25): an idle connection sends nothing for hours', () => {
    const d = established();
    expect(d.conn.status().keepAlive).toBe(false);
    d.at(5 * HOUR);
    d.expectNone();
    expect(d.conn.nextDeadline()).toBe(Number.POSITIVE_INFINITY);
  });

  it('when enabled (MUST-24), probes after 2 hours idle (MUST-28) with SEG.SEQ = SND.NXT-1 and no data', () => {
    const d = established();
    d.conn.setKeepAlive(true, d.now);
    d.at(2 * HOUR - 1).expectNone();
    d.at(2 * HOUR);
    d.expect({ flags: 'A', seq: D - 1, ack: P, len: 0 });
    // Answered: the connection is alive, the next probe is due 2 hours after the answer.
    d.at(2 * HOUR + 50).recv({ flags: 'A', seq: P, ack: D });
    d.at(4 * HOUR + 49).expectNone();
    d.at(4 * HOUR + 50);
    d.expect({ flags: 'A', seq: D - 1, ack: P });
    expect(d.state).toBe('ESTABLISHED');
  });

  it('tolerates unanswered probes (MUST-29): 9 probes 75 s apart, then ETIMEDOUT', () => {
    const d = established();
    d.conn.setKeepAlive(true, d.now);
    for (let i = 0; i < 9; i++) {
      d.at(2 * HOUR + i * 75_000);
      d.expect({ flags: 'A', seq: D - 1, ack: P });
      expect(d.state).toBe('ESTABLISHED');
    }
    d.at(2 * HOUR + 9 * 75_000 - 1);
    expect(d.state).toBe('ESTABLISHED');
    d.at(2 * HOUR + 9 * 75_000);
    expect(d.state).toBe('CLOSED');
    expect(d.events).toEqual(['error:ETIMEDOUT', 'closed']);
  });

  it('a lost probe answer is not fatal: a later answer resets the count', () => {
    const d = established();
    d.conn.setKeepAlive(true, d.now);
    d.at(2 * HOUR);
    d.at(2 * HOUR + 75_000);
    d.at(2 * HOUR + 150_000);
    d.takeAll();
    d.recv({ flags: 'A', seq: P, ack: D });
    expect(d.conn.status().timers.keepalive).toBe(4 * HOUR + 150_000);
  });

  it('the idle interval is configurable (MUST-27), per connection or by configuration', () => {
    const d = established();
    d.conn.setKeepAlive(true, d.now, 10_000);
    d.at(10_000);
    d.expect({ flags: 'A', seq: D - 1, ack: P });
    const e = established({ config: { keepAlive: true, keepAliveIdleMs: 60_000 } });
    e.at(60_000);
    e.expect({ flags: 'A', seq: D - 1, ack: P });
  });

  it('only probes an idle connection (MUST-26): received segments push the probe back', () => {
    const d = established();
    d.conn.setKeepAlive(true, d.now, 10_000);
    d.at(9_000).recv({ flags: 'PA', seq: P, ack: D, payload: 1 });
    d.at(9_040);
    d.takeAll(); // delayed ACK
    d.at(18_999).expectNone();
    d.at(19_000);
    d.expect({ flags: 'A', seq: D - 1, ack: P + 1 });
  });

  it('turning keepalive off cancels its timer', () => {
    const d = established();
    d.conn.setKeepAlive(true, d.now);
    d.conn.setKeepAlive(false, d.now);
    expect(d.conn.nextDeadline()).toBe(Number.POSITIVE_INFINITY);
  });
});
