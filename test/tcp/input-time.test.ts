import { describe, expect, it } from 'vitest';
import { Dialogue, pattern } from './dialogue.js';

/**
 * The time of each input (Tcb.now) is one field, stored as a small integer when it is whole and
 * as a double when it is not (connection.ts `enter`); these tests check that the value the engine reads is
 * the time of the input either way, through what it measures with it (RTT samples, RFC 6298 §2) and what
 * it writes on the wire.
 */
describe('time of an input', () => {
  /** Data sent at `sent`, acknowledged at `acked`. */
  function timed(d: Dialogue, sent: number, acked: number, seq: number, ack: number): void {
    d.at(sent);
    d.conn.send(pattern(100), d.now);
    d.takeAll();
    d.at(acked).recv({ flags: 'A', seq, ack });
  }

  it('measures RTT from fractional times, whole ones after them and fractional ones again', () => {
    const d = Dialogue.active({ iss: 1000 });
    d.takeAll();
    // SYN at 0, SYN-ACK at 20.5: the first sample sets SRTT = R, RTTVAR = R/2.
    d.at(20.5).recv({ flags: 'SA', seq: 9000, ack: 1001, options: { mss: 1460 } });
    d.takeAll();
    expect(d.conn.status()).toMatchObject({ srtt: 20.5, rttvar: 10.25 });
    // Sent at 20.5, acknowledged at 50 (whole): R = 29.5. RTTVAR = 3/4*10.25 + 1/4*9 = 9.9375;
    // SRTT = 7/8*20.5 + 1/8*29.5 = 21.625.
    timed(d, 20.5, 50, 9001, 1101);
    expect(d.conn.status()).toMatchObject({ srtt: 21.625, rttvar: 9.9375 });
    // Sent at 50, acknowledged at 61.75: R = 11.75. RTTVAR = 3/4*9.9375 + 1/4*9.875 = 9.921875;
    // SRTT = 7/8*21.625 + 1/8*11.75 = 20.390625.
    timed(d, 50, 61.75, 9001, 1201);
    expect(d.conn.status()).toMatchObject({ srtt: 20.390625, rttvar: 9.921875 });
  });

  it('keeps a whole time past 2^31 ms (about 25 days) whole and exact', () => {
    const start = 2 ** 31 + 5;
    const d = Dialogue.active({ iss: 1000, now: start, config: { timestamps: true }, timestampOffset: 0 });
    d.expect({
      flags: 'S',
      seq: 1000,
      options: { mss: 1460, windowScale: 3, timestamp: { value: start >>> 0, echo: 0 } },
    });
    d.at(start + 30).recv({
      flags: 'SA',
      seq: 9000,
      ack: 1001,
      options: { mss: 1460, timestamp: { value: 7000, echo: start >>> 0 } },
    });
    d.expect({
      flags: 'A',
      seq: 1001,
      ack: 9001,
      options: { timestamp: { value: (start + 30) >>> 0, echo: 7000 } },
    });
    expect(d.conn.status()).toMatchObject({ srtt: 30, rttvar: 15 });
  });

  it('never goes back: an input handed an earlier time runs at the latest one', () => {
    const d = Dialogue.active({ iss: 1000, config: { timestamps: true }, timestampOffset: 0 });
    d.takeAll();
    d.at(40.25).recv({
      flags: 'SA',
      seq: 9000,
      ack: 1001,
      options: { mss: 1460, timestamp: { value: 7000, echo: 0 } },
    });
    d.expect({ flags: 'A', seq: 1001, ack: 9001, options: { timestamp: { value: 40, echo: 7000 } } });
    // A send handed time 10 goes out stamped with the connection's time, 40.25 (TSval 40).
    d.conn.send(pattern(10), 10);
    d.expect({
      flags: 'PA',
      seq: 1001,
      ack: 9001,
      len: 10,
      options: { timestamp: { value: 40, echo: 7000 } },
    });
  });
});
