import { describe, expect, it } from 'vitest';
import { established } from './dialogue.js';

// Data sequence numbers of `established()`: ours start at 1001, the peer's at 9001.
const D = 1001;
const P = 9001;

describe('event delivery: only the outermost call delivers', () => {
  it("a 'readable' listener that calls receive() gets its bytes before 'end' is delivered", () => {
    const d = established();
    const log: string[] = [];
    d.conn.on('readable', () => {
      log.push('readable');
      const data = d.conn.receive(d.now);
      log.push(`receive returned ${data === null ? 'null' : `${data.length} bytes`}`);
    });
    d.conn.on('end', () => {
      log.push('end');
      log.push(`receive at end returned ${d.conn.receive(d.now) === null ? 'null' : 'bytes'}`);
    });
    // Data and FIN in one segment: 'readable' and 'end' are queued by the same call.
    d.recv({ flags: 'FPA', seq: P, ack: D, payload: 10 });
    expect(log).toEqual(['readable', 'receive returned 10 bytes', 'end', 'receive at end returned null']);
    expect(d.state).toBe('CLOSE-WAIT');
  });

  it('events caused by a call made from a listener follow the events already queued', () => {
    const d = established();
    const log: string[] = [];
    d.conn.on('state', (from, to) => log.push(`state ${from}->${to}`));
    d.conn.on('readable', () => {
      log.push('readable: close()');
      d.conn.close(d.now);
      log.push('close() returned');
    });
    d.conn.on('end', () => log.push('end'));
    d.recv({ flags: 'FPA', seq: P, ack: D, payload: 10 });
    // The FIN's state change (ESTABLISHED -> CLOSE-WAIT) was queued before the listener ran; close()
    // (CLOSE-WAIT -> LAST-ACK) is reported only after the listener returned and after 'end'.
    expect(log).toEqual([
      'readable: close()',
      'close() returned',
      'end',
      'state ESTABLISHED->CLOSE-WAIT',
      'state CLOSE-WAIT->LAST-ACK',
    ]);
    // The ACK of the FIN and our own FIN went out in that order.
    d.expect({ flags: 'A', seq: D, ack: P + 11 });
    d.expect({ flags: 'FA', seq: D, ack: P + 11 });
    d.expectNone();
  });

  it('a deadline moved by a call from a listener is reported before the outermost call returns', () => {
    const d = established();
    d.conn.on('readable', () => {
      d.conn.receive(d.now);
      d.conn.send(new Uint8Array(100), d.now);
    });
    const before = d.deadlineChanges.length;
    d.recv({ flags: 'PA', seq: P, ack: D, payload: 10 });
    // First the delayed-ACK timer of the arriving data (40 ms); then the listener's data carried that ACK
    // and armed the retransmission timer (the 200 ms minimum RTO after the handshake's 0 ms sample).
    expect(d.deadlineChanges.slice(before)).toEqual([d.now + 40, d.now + 200]);
    expect(d.conn.nextDeadline()).toBe(d.now + d.conn.status().rto);
    d.expect({ flags: 'PA', seq: D, ack: P + 10, len: 100 });
  });
});
