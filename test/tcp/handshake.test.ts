import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/time/virtual-clock.js';
import { Dialogue, established, pattern, segment } from './dialogue.js';

describe('three-way handshake (S1, RFC 9293 §3.5)', () => {
  it('active open: SYN seq=x; SYN-ACK seq=y ack=x+1; ACK seq=x+1 ack=y+1', () => {
    const x = 1000;
    const y = 9000;
    const d = Dialogue.active({ iss: x });
    // MSS from the MTU (MUST-14), and window scaling offered by default (RFC 7323 §2): 3 covers the
    // default 256 KiB receive buffer. The SYN's own window is never scaled.
    d.expect({ flags: 'S', seq: x, window: 65535, options: { mss: 1460, windowScale: 3 } });
    expect(d.state).toBe('SYN-SENT');
    // The peer offers no scaling, so neither side scales: our window field is capped at 65535.
    d.at(10).recv({ flags: 'SA', seq: y, ack: x + 1, window: 8192, options: { mss: 1460 } });
    d.expect({ flags: 'A', seq: x + 1, ack: y + 1, window: 65535 });
    d.expectNone();
    expect(d.state).toBe('ESTABLISHED');
    expect(d.events).toEqual(['connected']);
    expect(d.states).toEqual(['CLOSED', 'SYN-SENT', 'ESTABLISHED']);
    const s = d.conn.status();
    expect(s.srtt).toBe(10);
    expect(s.sndWnd).toBe(8192);
  });

  it('passive open: SYN-ACK seq=y ack=x+1, then ESTABLISHED on ACK seq=x+1 ack=y+1', () => {
    const x = 7000;
    const y = 5000;
    const d = Dialogue.passive({ flags: 'S', seq: x, window: 4096, options: { mss: 1000 } }, { iss: y });
    d.expect({ flags: 'SA', seq: y, ack: x + 1, window: 65535, options: { mss: 1460 } });
    expect(d.state).toBe('SYN-RECEIVED');
    d.at(5).recv({ flags: 'A', seq: x + 1, ack: y + 1, window: 4096 });
    d.expectNone();
    expect(d.state).toBe('ESTABLISHED');
    expect(d.events).toEqual(['connected']);
    expect(d.conn.status().effectiveMss).toBe(1000);
  });

  it('a segment handed over without a time is taken at the time of the owner’s clock', () => {
    // TcpLayer hands arriving segments over this way (the connection reads its clock in place): the
    // SYN-ACK's RTT sample is the clock's 10.25 ms, not the SYN's 0.
    const clock = new VirtualClock();
    const d = Dialogue.active({ iss: 1000, clock });
    d.takeAll();
    clock.advance(10.25);
    d.conn.handleSegment(segment({ flags: 'SA', seq: 9000, ack: 1001, options: { mss: 1460 } }), undefined);
    d.expect({ flags: 'A', seq: 1001, ack: 9001 });
    expect(d.state).toBe('ESTABLISHED');
    expect(d.conn.status().srtt).toBe(10.25);
  });

  it('established helper', () => {
    const d = established();
    expect(d.state).toBe('ESTABLISHED');
  });
});

describe('simultaneous open (S2, MUST-10)', () => {
  it('SYN-SENT -> SYN-RECEIVED -> ESTABLISHED: both SYNs cross, one connection results', () => {
    const d = Dialogue.active({ iss: 100 });
    d.expect({ flags: 'S', seq: 100, options: { mss: 1460, windowScale: 3 } });
    d.at(5).recv({ flags: 'S', seq: 300, options: { mss: 1460 } });
    // The peer's SYN offered no window scale, so our SYN-ACK carries none (RFC 7323 §2.2).
    d.expect({ flags: 'SA', seq: 100, ack: 301, options: { mss: 1460 } });
    expect(d.state).toBe('SYN-RECEIVED');
    // The peer's SYN-ACK (RFC 9293 figure 8, line 6).
    d.at(10).recv({ flags: 'SA', seq: 300, ack: 101, options: { mss: 1460 } });
    d.expectNone();
    expect(d.state).toBe('ESTABLISHED');
    expect(d.states).toEqual(['CLOSED', 'SYN-SENT', 'SYN-RECEIVED', 'ESTABLISHED']);
    expect(d.events).toEqual(['connected']);
    // Data flows both ways on the one connection.
    d.conn.send(pattern(10), d.now);
    d.expect({ flags: 'PA', seq: 101, ack: 301, len: 10 });
    d.recv({ flags: 'PA', seq: 301, ack: 111, payload: 5 });
    expect(d.conn.readableLength).toBe(5);
  });

  it('also completes on a plain ACK of our SYN-ACK', () => {
    const d = Dialogue.active({ iss: 100 });
    d.takeAll();
    d.recv({ flags: 'S', seq: 300 });
    d.takeAll();
    d.recv({ flags: 'A', seq: 301, ack: 101 });
    expect(d.state).toBe('ESTABLISHED');
    expect(d.conn.status().peerMss).toBe(536);
  });

  it('an active SYN-RECEIVED connection reset by the peer reports ECONNREFUSED', () => {
    const d = Dialogue.active({ iss: 100 });
    d.takeAll();
    d.recv({ flags: 'S', seq: 300 });
    d.takeAll();
    d.recv({ flags: 'R', seq: 301 });
    expect(d.state).toBe('CLOSED');
    expect(d.events).toEqual(['error:ECONNREFUSED', 'closed']);
  });
});

describe('SYN-SENT and SYN-RECEIVED edge cases (§3.10.7.3, §3.10.7.4)', () => {
  it('RST with an acceptable ACK refuses the connection (ECONNREFUSED)', () => {
    const d = Dialogue.active({ iss: 1000 });
    d.takeAll();
    d.recv({ flags: 'RA', seq: 0, ack: 1001 });
    expect(d.state).toBe('CLOSED');
    expect(d.events).toEqual(['error:ECONNREFUSED', 'closed']);
    d.expectNone();
  });

  it('RST without ACK, or with an unacceptable ACK, is ignored in SYN-SENT', () => {
    const d = Dialogue.active({ iss: 1000 });
    d.takeAll();
    d.recv({ flags: 'R', seq: 0 });
    d.recv({ flags: 'RA', seq: 0, ack: 5000 });
    expect(d.state).toBe('SYN-SENT');
    d.expectNone();
  });

  it('an ACK that does not acknowledge our SYN gets <SEQ=SEG.ACK><CTL=RST> (half-open detection)', () => {
    const d = Dialogue.active({ iss: 1000 });
    d.takeAll();
    d.recv({ flags: 'A', seq: 7777, ack: 5000 });
    d.expect({ flags: 'R', seq: 5000 });
    d.recv({ flags: 'SA', seq: 7777, ack: 1000 });
    d.expect({ flags: 'R', seq: 1000 });
    expect(d.state).toBe('SYN-SENT');
  });

  it('text on the SYN-ACK is delivered and acknowledged', () => {
    const d = Dialogue.active({ iss: 1000 });
    d.takeAll();
    d.recv({ flags: 'SA', seq: 9000, ack: 1001, payload: pattern(10) });
    d.expect({ flags: 'A', seq: 1001, ack: 9011 });
    expect(Array.from(d.conn.receive(d.now)!)).toEqual(Array.from(pattern(10)));
  });

  it('data queued in SYN-SENT goes out with the ACK that completes the handshake', () => {
    const d = Dialogue.active({ iss: 1000 });
    d.takeAll();
    expect(d.conn.send(pattern(10), d.now)).toBe(10);
    d.expectNone();
    d.recv({ flags: 'SA', seq: 9000, ack: 1001 });
    d.expect({ flags: 'PA', seq: 1001, ack: 9001, len: 10 });
    d.expectNone();
  });

  it('SYN-RECEIVED from a passive open: an exact RST sends it back to LISTEN silently (MUST-11)', () => {
    const d = Dialogue.passive({ flags: 'S', seq: 7000 }, { iss: 5000 });
    d.takeAll();
    d.recv({ flags: 'R', seq: 7001 });
    expect(d.state).toBe('CLOSED');
    expect(d.events).toEqual(['closed']); // no error: the application never saw it
  });

  it('SYN-RECEIVED: an unacceptable ACK is answered with RST', () => {
    const d = Dialogue.passive({ flags: 'S', seq: 7000 }, { iss: 5000 });
    d.takeAll();
    d.recv({ flags: 'A', seq: 7001, ack: 9999 });
    d.expect({ flags: 'R', seq: 9999 });
    expect(d.state).toBe('SYN-RECEIVED');
  });

  it('CLOSE in SYN-SENT deletes the connection without sending anything', () => {
    const d = Dialogue.active({ iss: 1000 });
    d.takeAll();
    d.conn.close(d.now);
    expect(d.state).toBe('CLOSED');
    d.expectNone();
    expect(d.conn.nextDeadline()).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('sequence numbers across the 2^32 wrap', () => {
  it('handshake, data and close with ISNs just below 2^32', () => {
    const iss = 0xffff_fffe;
    const irs = 0xffff_ff00;
    const d = Dialogue.active({ iss });
    d.expect({ flags: 'S', seq: iss, options: { mss: 1460, windowScale: 3 } });
    d.recv({ flags: 'SA', seq: irs, ack: 0xffff_ffff, options: { mss: 1460 } });
    d.expect({ flags: 'A', seq: 0xffff_ffff, ack: 0xffff_ff01 });
    d.conn.setNoDelay(true, d.now);
    d.conn.send(pattern(3000), d.now);
    d.expect({ flags: 'A', seq: 0xffff_ffff, ack: 0xffff_ff01, len: 1460 });
    d.expect({ flags: 'A', seq: 1459, ack: 0xffff_ff01, len: 1460 });
    d.expect({ flags: 'PA', seq: 2919, ack: 0xffff_ff01, len: 80 });
    d.recv({ flags: 'A', seq: 0xffff_ff01, ack: 2999 });
    expect(d.conn.status().sndUna).toBe(2999);
    // The peer's sequence numbers pass zero 255 bytes into these 600.
    const data = pattern(600);
    d.recv({ flags: 'PA', seq: 0xffff_ff01 + 300 - 0x1_0000_0000, ack: 2999, payload: data.subarray(300) });
    d.expect({ flags: 'A', seq: 2999, ack: 0xffff_ff01 });
    d.recv({ flags: 'A', seq: 0xffff_ff01, ack: 2999, payload: data.subarray(0, 300) });
    d.expect({ flags: 'A', seq: 2999, ack: (0xffff_ff01 + 600) >>> 0 });
    expect(Array.from(d.conn.receive(d.now)!)).toEqual(Array.from(data));
    d.conn.close(d.now);
    // 2^32 - 255 + 600 = 345.
    d.expect({ flags: 'FA', seq: 2999, ack: 345 });
    d.recv({ flags: 'FA', seq: 345, ack: 3000 });
    d.expect({ flags: 'A', seq: 3000, ack: 346 });
    expect(d.state).toBe('TIME-WAIT');
  });

  it('handshake, data and close with ISNs just below 2^31 (where the signed form TCP keeps changes sign)', () => {
    const E = 0x8000_0000;
    const iss = E - 2;
    const irs = E - 0x100;
    const d = Dialogue.active({ iss });
    d.expect({ flags: 'S', seq: iss, options: { mss: 1460, windowScale: 3 } });
    d.recv({ flags: 'SA', seq: irs, ack: E - 1, options: { mss: 1460 } });
    d.expect({ flags: 'A', seq: E - 1, ack: E - 0xff });
    d.conn.setNoDelay(true, d.now);
    d.conn.send(pattern(3000), d.now);
    d.expect({ flags: 'A', seq: E - 1, ack: E - 0xff, len: 1460 });
    d.expect({ flags: 'A', seq: E + 1459, ack: E - 0xff, len: 1460 });
    d.expect({ flags: 'PA', seq: E + 2919, ack: E - 0xff, len: 80 });
    d.recv({ flags: 'A', seq: E - 0xff, ack: E + 2999 });
    expect(d.conn.status().sndUna).toBe(E + 2999);
    // The peer's sequence numbers pass 2^31 255 bytes into these 600; the later half arrives first.
    const data = pattern(600);
    d.recv({ flags: 'PA', seq: E - 0xff + 300, ack: E + 2999, payload: data.subarray(300) });
    d.expect({ flags: 'A', seq: E + 2999, ack: E - 0xff });
    d.recv({ flags: 'A', seq: E - 0xff, ack: E + 2999, payload: data.subarray(0, 300) });
    d.expect({ flags: 'A', seq: E + 2999, ack: E + 345 });
    expect(Array.from(d.conn.receive(d.now)!)).toEqual(Array.from(data));
    expect(d.conn.status().rcvNxt).toBe(E + 345);
    d.conn.close(d.now);
    d.expect({ flags: 'FA', seq: E + 2999, ack: E + 345 });
    d.recv({ flags: 'FA', seq: E + 345, ack: E + 3000 });
    d.expect({ flags: 'A', seq: E + 3000, ack: E + 346 });
    expect(d.state).toBe('TIME-WAIT');
  });
});

describe('options (MUST-6, MUST-14, MUST-15, MUST-65)', () => {
  it('ignores options it did not offer (window scale, SACK, timestamps switched off)', () => {
    const d = Dialogue.active({
      iss: 1000,
      config: { windowScaling: false, timestamps: false, sack: false },
    });
    d.takeAll();
    d.recv({
      flags: 'SA',
      seq: 9000,
      ack: 1001,
      window: 1000,
      options: { mss: 1200, windowScale: 7, sackPermitted: true, timestamp: { value: 5, echo: 0 } },
    });
    d.expect({ flags: 'A', seq: 1001, ack: 9001 });
    const s = d.conn.status();
    expect(s.sndWnd).toBe(1000); // not scaled: we did not offer window scaling
    expect(s.effectiveMss).toBe(1200);
    d.recv({ flags: 'A', seq: 9001, ack: 1001, window: 2000, options: { sack: [{ left: 5, right: 9 }] } });
    expect(d.conn.status().sndWnd).toBe(2000);
  });

  it('a passive open does not acknowledge text carried on the SYN (the peer sends it again)', () => {
    const d = Dialogue.passive({ flags: 'S', seq: 7000, payload: 100 }, { iss: 5000 });
    d.expect({ flags: 'SA', seq: 5000, ack: 7001, options: { mss: 1460 } });
    d.recv({ flags: 'PA', seq: 7001, ack: 5001, payload: 100 });
    expect(d.conn.readableLength).toBe(100);
  });
});

describe('window scaling (RFC 7323 §2), on by default', () => {
  const config = { windowScaling: true, receiveBufferSize: 256 * 1024 };

  it('offers a shift sized to the buffer, scales both directions once the peer agrees', () => {
    const d = Dialogue.active({ iss: 1000, config });
    // 65535 << 3 is the first to cover 262144 bytes. The SYN's own window is never scaled.
    d.expect({ flags: 'S', seq: 1000, window: 65535, options: { mss: 1460, windowScale: 3 } });
    d.recv({ flags: 'SA', seq: 9000, ack: 1001, window: 1000, options: { mss: 1460, windowScale: 2 } });
    d.expect({ flags: 'A', seq: 1001, ack: 9001, window: 262144 / 8 });
    expect(d.conn.status()).toMatchObject({ sndWnd: 1000, sndWindowScale: 2, rcvWindowScale: 3 });
    d.recv({ flags: 'A', seq: 9001, ack: 1001, window: 100 });
    expect(d.conn.status().sndWnd).toBe(400);
    // Our window fields are the free space divided by 8 (the edge kept, so rounded up).
    d.recv({ flags: 'A', seq: 9001, ack: 1001, payload: 1460 });
    d.recv({ flags: 'A', seq: 9001 + 1460, ack: 1001, payload: 1460 });
    d.expect({ flags: 'A', seq: 1001, ack: 9001 + 2920, window: Math.ceil((262144 - 2920) / 8) });
  });

  it('does not scale when the peer sends no Window Scale option', () => {
    const d = Dialogue.active({ iss: 1000, config });
    d.takeAll();
    d.recv({ flags: 'SA', seq: 9000, ack: 1001, window: 1000, options: { mss: 1460 } });
    d.expect({ flags: 'A', seq: 1001, ack: 9001, window: 65535 });
    d.recv({ flags: 'A', seq: 9001, ack: 1001, window: 100 });
    expect(d.conn.status()).toMatchObject({ sndWnd: 100, sndWindowScale: 0, rcvWindowScale: 0 });
  });

  it('passive: answers a Window Scale option with its own and scales the completing ACK', () => {
    const d = Dialogue.passive(
      { flags: 'S', seq: 7000, window: 5000, options: { mss: 1460, windowScale: 5 } },
      { iss: 5000, config },
    );
    d.expect({ flags: 'SA', seq: 5000, ack: 7001, window: 65535, options: { mss: 1460, windowScale: 3 } });
    d.recv({ flags: 'A', seq: 7001, ack: 5001, window: 10 });
    expect(d.conn.status()).toMatchObject({ state: 'ESTABLISHED', sndWnd: 320 });
  });

  it('passive, scaling off: no Window Scale option in the SYN-ACK even if the SYN had one', () => {
    const d = Dialogue.passive(
      { flags: 'S', seq: 7000, options: { mss: 1460, windowScale: 5 } },
      { iss: 5000, config: { windowScaling: false } },
    );
    d.expect({ flags: 'SA', seq: 5000, ack: 7001, window: 65535, options: { mss: 1460 } });
    d.recv({ flags: 'A', seq: 7001, ack: 5001, window: 10 });
    expect(d.conn.status().sndWnd).toBe(10);
  });
});
