import { describe, expect, it } from 'vitest';
import { Dialogue, established, pattern } from './dialogue.js';

const D = 1001;
const P = 9001;

describe('RST processing with RFC 5961 (§3.10.7.4 second check)', () => {
  it('an RST exactly at RCV.NXT resets the connection: ECONNRESET (S9)', () => {
    const d = established();
    d.conn.send(pattern(100), d.now);
    d.takeAll();
    d.recv({ flags: 'R', seq: P });
    expect(d.state).toBe('CLOSED');
    expect(d.events).toEqual(['error:ECONNRESET', 'closed']);
    expect(d.conn.error?.code).toBe('ECONNRESET');
    d.expectNone();
    expect(d.conn.nextDeadline()).toBe(Number.POSITIVE_INFINITY);
    expect(() => d.conn.send(pattern(1), d.now)).toThrow(/ECONNRESET/);
  });

  it('an RST inside the window but not at RCV.NXT gets a challenge ACK and changes nothing', () => {
    const d = established();
    d.recv({ flags: 'R', seq: P + 1000 });
    d.expect({ flags: 'A', seq: D, ack: P });
    expect(d.state).toBe('ESTABLISHED');
    expect(d.counters.challengeAcks).toBe(1);
  });

  it('an RST outside the window is dropped silently', () => {
    const d = established();
    d.recv({ flags: 'R', seq: P + 100_000 });
    d.recv({ flags: 'R', seq: P - 1 });
    d.expectNone();
    expect(d.state).toBe('ESTABLISHED');
  });

  it('a SYN in a synchronized state gets a challenge ACK (RFC 5961 §4); the RST that follows at RCV.NXT resets', () => {
    // A peer that rebooted sends a new SYN on the old 4-tuple: the challenge ACK makes it answer with a RST
    // whose sequence number is the ACK field, which is exactly RCV.NXT: half-open connection cleared.
    const d = established();
    d.recv({ flags: 'S', seq: 123456 });
    d.expect({ flags: 'A', seq: D, ack: P });
    expect(d.state).toBe('ESTABLISHED');
    d.recv({ flags: 'R', seq: P });
    expect(d.state).toBe('CLOSED');
    expect(d.events).toEqual(['error:ECONNRESET', 'closed']);
  });

  it('RST in CLOSE-WAIT, CLOSING and LAST-ACK', () => {
    for (const setup of ['CLOSE-WAIT', 'LAST-ACK', 'CLOSING'] as const) {
      const d = established();
      if (setup === 'CLOSING') {
        d.conn.close(d.now);
        d.recv({ flags: 'FA', seq: P, ack: D });
      } else {
        d.recv({ flags: 'FA', seq: P, ack: D });
        if (setup === 'LAST-ACK') d.conn.close(d.now);
      }
      expect(d.state).toBe(setup);
      d.takeEvents();
      d.recv({ flags: 'R', seq: P + 1 });
      expect(d.state).toBe('CLOSED');
      expect(d.events).toEqual(setup === 'CLOSE-WAIT' ? ['error:ECONNRESET', 'closed'] : ['closed']);
    }
  });

  it('RST is processed even when the receive window is zero (MUST-66)', () => {
    const d = established({ config: { receiveBufferSize: 100, delayedAck: false } });
    d.recv({ flags: 'A', seq: P, ack: D, payload: 100 });
    d.expect({ flags: 'A', seq: D, ack: P + 100, window: 0 });
    d.recv({ flags: 'R', seq: P + 100 });
    expect(d.state).toBe('CLOSED');
  });
});

describe('ABORT (§3.10.5, MUST-12)', () => {
  it('sends <SEQ=SND.NXT><CTL=RST> from ESTABLISHED, discards queued data, closes without an error event', () => {
    const d = established({ peerWindow: 1000 });
    d.conn.send(pattern(3000), d.now);
    d.takeAll();
    d.conn.abort(d.now);
    d.expect({ flags: 'R', seq: D + 1000 });
    expect(d.state).toBe('CLOSED');
    expect(d.events).toEqual(['closed']);
    expect(d.conn.writableLength).toBe(0);
  });

  it('sends no RST from SYN-SENT or TIME-WAIT', () => {
    const a = Dialogue.active();
    a.takeAll();
    a.conn.abort(a.now);
    a.expectNone();
    expect(a.state).toBe('CLOSED');
    const b = established();
    b.conn.close(b.now);
    b.recv({ flags: 'FA', seq: P, ack: D + 1 });
    b.takeAll();
    b.conn.abort(b.now);
    b.expectNone();
    expect(b.state).toBe('CLOSED');
  });
});

describe('ACK validation (§3.10.7.4 fifth check, RFC 5961 §5)', () => {
  it('an ACK for data never sent is answered with an ACK and dropped, with its text', () => {
    const d = established();
    d.recv({ flags: 'PA', seq: P, ack: D + 500, payload: 10 });
    d.expect({ flags: 'A', seq: D, ack: P });
    expect(d.conn.readableLength).toBe(0);
  });

  it('an old duplicate ACK (below SND.UNA but within the window) is ignored; its text is kept', () => {
    const d = established();
    d.conn.send(pattern(100), d.now);
    d.takeAll();
    d.recv({ flags: 'A', seq: P, ack: D + 100 });
    d.recv({ flags: 'PA', seq: P, ack: D + 50, payload: 10 });
    expect(d.conn.readableLength).toBe(10);
    expect(d.conn.status().sndUna).toBe(D + 100);
  });

  it('a segment without ACK in a synchronized state is dropped', () => {
    const d = established();
    d.recv({ flags: 'P', seq: P, payload: 10 });
    expect(d.conn.readableLength).toBe(0);
    d.expectNone();
  });

  it('a segment outside the receive window is answered with an ACK (§3.10.7.4 first check)', () => {
    const d = established();
    d.recv({ flags: 'PA', seq: P + 70_000, ack: D, payload: 10 });
    d.expect({ flags: 'A', seq: D, ack: P });
    d.recv({ flags: 'PA', seq: P - 20, ack: D, payload: 10 });
    d.expect({ flags: 'A', seq: D, ack: P });
  });

  it('updates the send window only from newer segments (SND.WL1/SND.WL2)', () => {
    const d = established();
    // The peer sent two segments; the second (window 5000) overtakes the first (window 100).
    d.recv({ flags: 'PA', seq: P + 10, ack: D, window: 5000, payload: 10 });
    d.expect({ flags: 'A', seq: D, ack: P }); // out of order: duplicate ACK
    expect(d.conn.status().sndWnd).toBe(5000);
    d.recv({ flags: 'PA', seq: P, ack: D, window: 100, payload: 10 });
    d.expect({ flags: 'A', seq: D, ack: P + 20 }); // gap filled: immediate ACK
    expect(d.conn.status().sndWnd).toBe(5000);
  });
});

describe('segment acceptability: the four cases of §3.10.7.4', () => {
  it('length 0 / window > 0: RCV.NXT =< SEG.SEQ =< RCV.NXT+RCV.WND (right edge included, as Linux)', () => {
    const d = established({ config: { receiveBufferSize: 1000 } });
    d.recv({ flags: 'A', seq: P + 1000, ack: D }); // at the right edge: accepted, nothing sent
    d.expectNone();
    d.recv({ flags: 'A', seq: P + 1001, ack: D }); // past it: ACK in reply
    d.expect({ flags: 'A', seq: D, ack: P, window: 1000 });
  });

  it('length 0 / window 0: only SEG.SEQ = RCV.NXT', () => {
    const d = established({ config: { receiveBufferSize: 100, delayedAck: false } });
    d.recv({ flags: 'A', seq: P, ack: D, payload: 100 });
    d.expect({ flags: 'A', seq: D, ack: P + 100, window: 0 });
    d.recv({ flags: 'A', seq: P + 100, ack: D });
    d.expectNone();
    d.recv({ flags: 'A', seq: P + 101, ack: D });
    d.expect({ flags: 'A', seq: D, ack: P + 100, window: 0 });
  });

  it('length > 0 / window 0: not acceptable (the ACK field is still processed, MUST-66)', () => {
    const d = established({ config: { receiveBufferSize: 100, delayedAck: false } });
    d.conn.send(pattern(10), d.now);
    d.takeAll();
    d.recv({ flags: 'A', seq: P, ack: D, payload: 100 });
    d.takeAll();
    d.recv({ flags: 'PA', seq: P + 100, ack: D + 10, payload: 5 });
    d.expect({ flags: 'A', seq: D + 10, ack: P + 100, window: 0 });
    expect(d.conn.readableLength).toBe(100);
    expect(d.conn.status().sndUna).toBe(D + 10);
  });

  it('length > 0 / window > 0: either end in the window; only the new part is kept', () => {
    const d = established({ config: { receiveBufferSize: 1000, delayedAck: false } });
    d.recv({ flags: 'A', seq: P + 900, ack: D, payload: pattern(200, 900) }); // tail beyond the window
    d.expect({ flags: 'A', seq: D, ack: P, window: 1000 });
    d.recv({ flags: 'A', seq: P, ack: D, payload: pattern(900) });
    d.expect({ flags: 'A', seq: D, ack: P + 1000, window: 0 });
    expect(Array.from(d.conn.receive(d.now)!)).toEqual(Array.from(pattern(1000)));
  });
});

describe('RST carrying data (SHLD-2)', () => {
  it('is processed by its sequence number, even when the receive window is zero', () => {
    const d = established({ config: { receiveBufferSize: 100, delayedAck: false } });
    d.recv({ flags: 'A', seq: P, ack: D, payload: 100 });
    d.takeAll();
    d.recv({ flags: 'RA', seq: P + 100, ack: D, payload: 20 });
    expect(d.state).toBe('CLOSED');
    expect(d.events).toContain('error:ECONNRESET');
  });
});
