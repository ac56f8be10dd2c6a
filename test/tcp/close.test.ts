import { describe, expect, it } from 'vitest';
import { TcpError } from '../../src/tcp/errors.js';
import { established, pattern } from './dialogue.js';

const D = 1001;
const P = 9001;
const MSL = 30_000;

describe('S7/S8: four-way close, every closing state, the last ACK lost', () => {
  it('active close: FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT (exactly 2*MSL, restarted by a retransmitted FIN), CLOSED', () => {
    const d = established();
    d.at(10);
    d.conn.close(d.now);
    d.expect({ flags: 'FA', seq: D, ack: P });
    expect(d.state).toBe('FIN-WAIT-1');
    d.at(20).recv({ flags: 'A', seq: P, ack: D + 1 });
    d.expectNone();
    expect(d.state).toBe('FIN-WAIT-2');
    // Half-close: the peer may still send, and we still receive (MAY-1).
    d.at(30).recv({ flags: 'PA', seq: P, ack: D + 1, payload: pattern(50) });
    d.at(70);
    d.expect({ flags: 'A', seq: D + 1, ack: P + 50 });
    d.at(80).recv({ flags: 'FA', seq: P + 50, ack: D + 1 });
    d.expect({ flags: 'A', seq: D + 1, ack: P + 51 });
    expect(d.state).toBe('TIME-WAIT');
    expect(d.conn.nextDeadline()).toBe(80 + 2 * MSL);
    // That ACK is lost: the peer retransmits its FIN; it is ACKed again and TIME-WAIT starts over.
    d.at(1080).recv({ flags: 'FA', seq: P + 50, ack: D + 1 });
    d.expect({ flags: 'A', seq: D + 1, ack: P + 51 });
    expect(d.conn.nextDeadline()).toBe(1080 + 2 * MSL);
    d.at(1080 + 2 * MSL - 1);
    expect(d.state).toBe('TIME-WAIT');
    d.at(1080 + 2 * MSL);
    expect(d.state).toBe('CLOSED');
    d.expectNone();
    expect(d.states).toEqual([
      'CLOSED',
      'SYN-SENT',
      'ESTABLISHED',
      'FIN-WAIT-1',
      'FIN-WAIT-2',
      'TIME-WAIT',
      'CLOSED',
    ]);
    expect(d.events).toEqual(['readable', 'end', 'closed']);
    expect(Array.from(d.conn.receive(d.now)!)).toEqual(Array.from(pattern(50)));
    expect(d.conn.receive(d.now)).toBeNull();
  });

  it('passive close: CLOSE-WAIT (the application sees end of data and may keep sending), LAST-ACK, FIN retransmitted, CLOSED', () => {
    const d = established();
    d.at(10).recv({ flags: 'PA', seq: P, ack: D, payload: pattern(20) });
    d.recv({ flags: 'FA', seq: P + 20, ack: D });
    d.expect({ flags: 'A', seq: D, ack: P + 21 });
    expect(d.state).toBe('CLOSE-WAIT');
    expect(d.events).toEqual(['readable', 'end']);
    expect(d.conn.receive(d.now)!.length).toBe(20);
    expect(d.conn.receive(d.now)).toBeNull(); // end of data (S9)
    // Half-close: this side goes on sending after the peer's FIN (MAY-1).
    d.conn.send(pattern(100), d.now);
    d.expect({ flags: 'PA', seq: D, ack: P + 21, len: 100 });
    d.at(20).recv({ flags: 'A', seq: P + 21, ack: D + 100 });
    d.conn.close(d.now);
    d.expect({ flags: 'FA', seq: D + 100, ack: P + 21 });
    expect(d.state).toBe('LAST-ACK');
    // The FIN is lost: retransmitted after one RTO.
    const rto = d.conn.status().rto;
    d.at(20 + rto - 1).expectNone();
    d.at(20 + rto);
    d.expect({ flags: 'FA', seq: D + 100, ack: P + 21 });
    expect(d.trace.events.some((e) => e.kind === 'tcp.retransmit' && e.cause === 'fin')).toBe(true);
    d.at(20 + rto + 5).recv({ flags: 'A', seq: P + 21, ack: D + 101 });
    expect(d.state).toBe('CLOSED');
    expect(d.states).toEqual(['CLOSED', 'SYN-SENT', 'ESTABLISHED', 'CLOSE-WAIT', 'LAST-ACK', 'CLOSED']);
    expect(d.conn.nextDeadline()).toBe(Number.POSITIVE_INFINITY);
  });

  it('simultaneous close: FIN-WAIT-1, CLOSING, TIME-WAIT', () => {
    const d = established();
    d.conn.close(d.now);
    d.expect({ flags: 'FA', seq: D, ack: P });
    d.at(5).recv({ flags: 'FA', seq: P, ack: D }); // the peer's FIN crossed ours
    d.expect({ flags: 'A', seq: D + 1, ack: P + 1 });
    expect(d.state).toBe('CLOSING');
    d.at(6).recv({ flags: 'A', seq: P + 1, ack: D + 1 });
    expect(d.state).toBe('TIME-WAIT');
    d.at(6 + 2 * MSL);
    expect(d.states.slice(2)).toEqual(['ESTABLISHED', 'FIN-WAIT-1', 'CLOSING', 'TIME-WAIT', 'CLOSED']);
  });

  it('FIN-WAIT-1 straight to TIME-WAIT when the peer ACKs our FIN and sends its own in one segment', () => {
    const d = established();
    d.conn.close(d.now);
    d.takeAll();
    d.recv({ flags: 'FA', seq: P, ack: D + 1 });
    d.expect({ flags: 'A', seq: D + 1, ack: P + 1 });
    expect(d.state).toBe('TIME-WAIT');
  });

  it('a FIN that arrives ahead of a gap takes effect when the gap fills', () => {
    const d = established();
    d.recv({ flags: 'FA', seq: P + 100, ack: D, payload: pattern(100, 100) });
    d.expect({ flags: 'A', seq: D, ack: P });
    expect(d.state).toBe('ESTABLISHED');
    d.recv({ flags: 'A', seq: P, ack: D, payload: pattern(100) });
    d.expect({ flags: 'A', seq: D, ack: P + 201 });
    expect(d.state).toBe('CLOSE-WAIT');
    expect(Array.from(d.conn.receive(d.now)!)).toEqual(Array.from(pattern(200)));
    expect(d.events).toEqual(['readable', 'end']);
  });

  it('CLOSE with data still queued: the FIN rides on the last segment', () => {
    const d = established({ peerWindow: 1460 });
    d.conn.send(pattern(2000), d.now);
    d.expect({ flags: 'A', seq: D, ack: P, len: 1460 });
    d.conn.close(d.now);
    expect(d.state).toBe('FIN-WAIT-1');
    d.expectNone();
    d.at(10).recv({ flags: 'A', seq: P, ack: D + 1460, window: 1460 });
    d.expect({ flags: 'FPA', seq: D + 1460, ack: P, len: 540 });
    d.recv({ flags: 'A', seq: P, ack: D + 2001 });
    expect(d.state).toBe('FIN-WAIT-2');
  });

  it('SEND after CLOSE fails with EPIPE', () => {
    const d = established();
    d.conn.close(d.now);
    expect(() => d.conn.send(pattern(1), d.now)).toThrow(TcpError);
    try {
      d.conn.send(pattern(1), d.now);
    } catch (e) {
      expect((e as TcpError).code).toBe('EPIPE');
    }
  });

  it('RST in TIME-WAIT is ignored (RFC 1337)', () => {
    const d = established();
    d.conn.close(d.now);
    d.recv({ flags: 'FA', seq: P, ack: D + 1 });
    d.takeAll();
    d.at(100).recv({ flags: 'R', seq: P + 1 });
    expect(d.state).toBe('TIME-WAIT');
    d.expectNone();
    expect(d.conn.nextDeadline()).toBe(2 * MSL);
  });

  it('FIN-WAIT-2 without release waits for the peer indefinitely', () => {
    const d = established();
    d.conn.close(d.now);
    d.recv({ flags: 'A', seq: P, ack: D + 1 });
    d.takeAll();
    d.at(600_000);
    expect(d.state).toBe('FIN-WAIT-2');
    d.expectNone();
  });

  it('an orphaned FIN-WAIT-2 connection gives up after finWait2TimeoutMs with a RST', () => {
    const d = established();
    d.conn.release(d.now);
    d.expect({ flags: 'FA', seq: D, ack: P });
    d.at(10).recv({ flags: 'A', seq: P, ack: D + 1 });
    expect(d.state).toBe('FIN-WAIT-2');
    d.at(10 + 60_000 - 1).expectNone();
    d.at(10 + 60_000);
    d.expect({ flags: 'R', seq: D + 1 });
    expect(d.state).toBe('CLOSED');
  });

  it('releasing with unread data aborts with RST (SHLD-3)', () => {
    const d = established();
    d.recv({ flags: 'PA', seq: P, ack: D, payload: 10 });
    d.conn.release(d.now);
    d.expect({ flags: 'R', seq: D });
    expect(d.state).toBe('CLOSED');
  });

  it('data arriving after release is answered with RST (SHLD-3)', () => {
    const d = established();
    d.conn.release(d.now);
    d.expect({ flags: 'FA', seq: D, ack: P });
    d.recv({ flags: 'A', seq: P, ack: D + 1 });
    d.recv({ flags: 'PA', seq: P, ack: D + 1, payload: 10 });
    d.expect({ flags: 'R', seq: D + 1 });
    expect(d.state).toBe('CLOSED');
  });
});
