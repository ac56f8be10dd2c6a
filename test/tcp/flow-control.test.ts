import { describe, expect, it } from 'vitest';
import { Dialogue, established, pattern } from './dialogue.js';

describe('S6: sliding-window flow control with the seed numbers', () => {
  it('sender: four 1024-byte segments into window 4096; ACK 3073 window 3072; the sender keeps within 3072', () => {
    // ISS 0, so sequence numbers read as the seed's: the first data byte is 1.
    const d = established({ iss: 0, irs: 0, peerMss: 1024, peerWindow: 4096 });
    expect(d.conn.status().effectiveMss).toBe(1024);
    expect(d.conn.send(pattern(8192), d.now)).toBe(8192);
    d.expect({ flags: 'A', seq: 1, ack: 1, len: 1024 });
    d.expect({ flags: 'A', seq: 1025, ack: 1, len: 1024 });
    d.expect({ flags: 'A', seq: 2049, ack: 1, len: 1024 });
    d.expect({ flags: 'A', seq: 3073, ack: 1, len: 1024 });
    d.expectNone(); // the window (4096) is full
    // The receiver's buffer filled after three segments: ACK 3073, window 3072.
    d.at(20).recv({ flags: 'A', seq: 1, ack: 3073, window: 3072 });
    // Right edge 3073 + 3072 = 6145; 4097..6144 may go, nothing beyond.
    d.expect({ flags: 'A', seq: 4097, ack: 1, len: 1024 });
    d.expect({ flags: 'A', seq: 5121, ack: 1, len: 1024 });
    d.expectNone();
    const s = d.conn.status();
    expect(s.sndUna).toBe(3073);
    expect(s.sndNxt - s.sndUna).toBe(3072);
    expect(s.sndWnd).toBe(3072);
  });

  it('receiver: buffer 6144, the application reads nothing; after three 1024-byte segments it answers ACK 3073 window 3072', () => {
    const d = Dialogue.active({ iss: 0, config: { receiveBufferSize: 6144 }, mtu: 1064 });
    // Window scaling is on by default (RFC 7323), but a 6144-byte buffer needs no shift, and the peer
    // offers none: every window below is in bytes, the seed's numbers.
    d.expect({ flags: 'S', seq: 0, window: 6144, options: { mss: 1024, windowScale: 0 } });
    d.recv({ flags: 'SA', seq: 0, ack: 1, window: 4096, options: { mss: 1024 } });
    d.expect({ flags: 'A', seq: 1, ack: 1, window: 6144 });
    d.at(10).recv({ flags: 'A', seq: 1, ack: 1, payload: 1024 });
    d.expectNone();
    d.recv({ flags: 'A', seq: 1025, ack: 1, payload: 1024 });
    d.expect({ flags: 'A', seq: 1, ack: 2049, window: 4096 }); // every second full segment
    d.recv({ flags: 'A', seq: 2049, ack: 1, payload: 1024 });
    d.expectNone();
    d.at(50); // the delayed ACK (40 ms)
    d.expect({ flags: 'A', seq: 1, ack: 3073, window: 3072 });
    expect(d.conn.readableLength).toBe(3072);
  });
});

describe('receive window (SHLD-14, MUST-39)', () => {
  it('never shrinks: with nothing read, every ACK keeps the same right edge', () => {
    const d = established({ config: { receiveBufferSize: 4000, delayedAck: false } });
    const P = 9001;
    for (let i = 0; i < 4; i++) {
      d.recv({ flags: 'A', seq: P + i * 1000, ack: 1001, payload: 1000 });
      const ack = d.expect({ flags: 'A', seq: 1001, ack: P + (i + 1) * 1000 });
      expect(ack.ack + ack.window).toBe(P + 4000);
    }
    // Window zero: a further segment is not accepted, and is answered with the unchanged edge.
    d.recv({ flags: 'A', seq: P + 4000, ack: 1001, payload: 100 });
    d.expect({ flags: 'A', seq: 1001, ack: P + 4000, window: 0 });
    expect(d.conn.readableLength).toBe(4000);
  });

  it('a window update goes out when the application reads a closed window open', () => {
    const d = established({ config: { receiveBufferSize: 2000, delayedAck: false } });
    const P = 9001;
    d.recv({ flags: 'A', seq: P, ack: 1001, payload: 2000 });
    d.expect({ flags: 'A', seq: 1001, ack: P + 2000, window: 0 });
    // A zero-window probe: its octet is refused, the ACK repeats window 0.
    d.at(200).recv({ flags: 'A', seq: P + 2000, ack: 1001, payload: 1 });
    d.expect({ flags: 'A', seq: 1001, ack: P + 2000, window: 0 });
    d.conn.receive(d.now);
    d.expect({ flags: 'A', seq: 1001, ack: P + 2000, window: 2000 });
  });
});

describe('sender SWS avoidance (MUST-38) and its override timer', () => {
  it('does not send a small window-limited segment until at least half the largest window, or the persist timer', () => {
    const d = established({ peerMss: 1000, peerWindow: 1500 });
    d.conn.send(pattern(3000), d.now);
    d.expect({ flags: 'A', seq: 1001, ack: 9001, len: 1000 });
    // 500 bytes fit, but 500 < 1500 / 2 and more data waits: hold.
    d.expectNone();
    d.at(100).recv({ flags: 'A', seq: 9001, ack: 2001, window: 400 });
    // 400 usable, 2000 waiting, nothing in flight: still held, but the persist timer is armed.
    d.expectNone();
    const persist = d.conn.status().timers.persist!;
    expect(persist).toBe(100 + d.conn.status().rto);
    d.at(persist);
    d.expect({ flags: 'A', seq: 2001, ack: 9001, len: 400 });
  });
});

describe('zero window (MUST-35, MUST-36, MUST-37, SHLD-29, SHLD-30)', () => {
  it('probes a closed window with one octet after one RTO, backing off exponentially, for as long as the peer answers', () => {
    const d = established({ peerWindow: 2920 });
    const D = 1001;
    d.conn.send(pattern(4096), d.now);
    d.expect({ flags: 'A', seq: D, ack: 9001, len: 1460 });
    d.expect({ flags: 'A', seq: D + 1460, ack: 9001, len: 1460 });
    d.at(100).recv({ flags: 'A', seq: 9001, ack: D + 2920, window: 0 });
    d.expectNone();
    const rto = d.conn.status().rto;
    expect(rto).toBe(200);
    // First probe one RTO later (SHLD-29), then 2x, 4x ... (SHLD-30), capped at the maximum RTO.
    let t = 100;
    let interval = rto;
    for (let i = 0; i < 14; i++) {
      t += interval;
      d.at(t);
      d.expect({ flags: 'A', seq: D + 2920, ack: 9001, len: 1 });
      d.expectNone();
      d.recv({ flags: 'A', seq: 9001, ack: D + 2920, window: 0 });
      d.expectNone();
      interval = Math.min(interval * 2, 120_000);
    }
    expect(t).toBeGreaterThan(10 * 60_000); // more than ten minutes closed, still fine (MUST-37)
    expect(d.state).toBe('ESTABLISHED');
    expect(d.counters.zeroWindowProbes).toBe(14);
    // The window opens: data flows from the first unacknowledged byte again.
    d.recv({ flags: 'A', seq: 9001, ack: D + 2920, window: 4096 });
    d.expect({ flags: 'PA', seq: D + 2920, ack: 9001, len: 1176 });
    d.expectNone();
  });

  it('a peer that accepts the probe octet moves SND.UNA past it', () => {
    const d = established({ peerWindow: 1000 });
    d.conn.send(pattern(1500), d.now);
    d.expect({ flags: 'A', seq: 1001, ack: 9001, len: 1000 });
    d.at(50).recv({ flags: 'A', seq: 9001, ack: 2001, window: 0 });
    d.at(50 + d.conn.status().rto);
    d.expect({ flags: 'A', seq: 2001, ack: 9001, len: 1 });
    d.recv({ flags: 'A', seq: 9001, ack: 2002, window: 1000 });
    d.expect({ flags: 'PA', seq: 2002, ack: 9001, len: 499 });
  });

  it('gives up with ETIMEDOUT when R2 probes in a row (and the R2 time) go unanswered', () => {
    const d = established({ peerWindow: 1000 });
    d.conn.send(pattern(1500), d.now);
    d.takeAll();
    d.at(50).recv({ flags: 'A', seq: 9001, ack: 2001, window: 0 });
    // Over 200 s of silence, but only 9 probes so far: backed-off probes are far apart, and a few lost
    // answers must not end a connection whose window may stay closed indefinitely (MUST-37).
    d.at(50 + 200_000);
    expect(d.state).toBe('ESTABLISHED');
    expect(d.counters.zeroWindowProbes).toBe(9);
    d.at(50 + 3_600_000);
    expect(d.state).toBe('CLOSED');
    expect(d.counters.zeroWindowProbes).toBe(15);
    expect(d.events).toContain('error:ETIMEDOUT');
  });
});
