import { describe, expect, it } from 'vitest';
import { established, pattern } from './dialogue.js';

// Our ISS 1000 => our data starts at 1001; the peer's ISN 9000 => its data starts at 9001.
const D = 1001;
const P = 9001;

describe('segmentation and PSH (S3, MUST-16, MUST-61)', () => {
  it('cuts a write into effective-MSS segments, PSH only on the one carrying the last byte', () => {
    const d = established({ peerMss: 1000 });
    expect(d.conn.status().effectiveMss).toBe(1000);
    expect(d.conn.send(pattern(2500), d.now)).toBe(2500);
    d.expect({ flags: 'A', seq: D, ack: P, len: 1000, payload: pattern(1000) });
    d.expect({ flags: 'A', seq: D + 1000, ack: P, len: 1000 });
    d.expect({ flags: 'PA', seq: D + 2000, ack: P, len: 500, payload: pattern(500, 2000) });
    d.expectNone();
  });

  it('effective send MSS is min(peer MSS, MTU - 40) (MUST-16)', () => {
    const d = established({ peerMss: 1460, mtu: 576 });
    expect(d.conn.status().effectiveMss).toBe(536);
    expect(d.conn.status().advertisedMss).toBe(536);
  });

  it('uses 536 when the peer sends no MSS option (MUST-15)', () => {
    const d = established({ peerMss: null });
    expect(d.conn.status().peerMss).toBe(536);
    expect(d.conn.status().effectiveMss).toBe(536);
    d.conn.send(pattern(600), d.now);
    d.expect({ flags: 'A', seq: D, ack: P, len: 536 });
    d.expect({ flags: 'PA', seq: D + 536, ack: P, len: 64 });
  });
});

describe('Nagle (SHLD-7, MUST-17)', () => {
  it('holds a second short segment until the first is acknowledged', () => {
    const d = established();
    d.conn.send(pattern(10), d.now);
    d.expect({ flags: 'PA', seq: D, ack: P, len: 10 });
    d.conn.send(pattern(10, 10), d.now);
    d.conn.send(pattern(10, 20), d.now);
    d.expectNone();
    d.at(50).recv({ flags: 'A', seq: P, ack: D + 10 });
    d.expect({ flags: 'PA', seq: D + 10, ack: P, len: 20, payload: pattern(20, 10) });
    d.expectNone();
  });

  it('setNoDelay(true) sends every short write at once', () => {
    const d = established();
    d.conn.setNoDelay(true, d.now);
    d.conn.send(pattern(10), d.now);
    d.conn.send(pattern(10, 10), d.now);
    d.expect({ flags: 'PA', seq: D, ack: P, len: 10 });
    d.expect({ flags: 'PA', seq: D + 10, ack: P, len: 10 });
    expect(d.conn.status().noDelay).toBe(true);
  });
});

describe('receiving: cumulative ACKs, delayed ACKs, reassembly (S4, SHLD-31, MUST-40, SHLD-19)', () => {
  it('a single segment is ACKed after the delayed-ACK timeout (40 ms < 500 ms, MUST-40)', () => {
    const d = established();
    d.at(100).recv({ flags: 'PA', seq: P, ack: D, payload: 100 });
    d.expectNone();
    expect(d.conn.nextDeadline()).toBe(140);
    d.at(139).expectNone();
    d.at(140);
    d.expect({ flags: 'A', seq: D, ack: P + 100, window: 65535 - 100 });
    expect(d.events).toEqual(['readable']);
    expect(Array.from(d.conn.receive(d.now)!)).toEqual(Array.from(pattern(100)));
  });

  it('every second full-sized segment is ACKed at once (SHLD-19)', () => {
    const d = established({ config: { receiveBufferSize: 65535 } });
    d.recv({ flags: 'A', seq: P, ack: D, payload: 1460 });
    d.expectNone();
    d.recv({ flags: 'A', seq: P + 1460, ack: D, payload: 1460 });
    d.expect({ flags: 'A', seq: D, ack: P + 2920, window: 65535 - 2920 });
    d.recv({ flags: 'A', seq: P + 2920, ack: D, payload: 1460 });
    d.expectNone();
  });

  it('more than one full-sized segment of unacknowledged bytes is ACKed at once, as Linux does', () => {
    // A write that ends in a full segment and a short one (10,000 bytes at MSS 1428 ends 1428 + 4): the
    // pair is acknowledged as it arrives rather than after the delayed-ACK timeout, which would outlast
    // the sender's tail loss probe timeout (2 x SRTT) and draw a needless probe.
    const d = established({ config: { receiveBufferSize: 65535 } });
    d.recv({ flags: 'A', seq: P, ack: D, payload: 1460 });
    d.expectNone();
    d.recv({ flags: 'PA', seq: P + 1460, ack: D, payload: 4 });
    d.expect({ flags: 'A', seq: D, ack: P + 1464, window: 65535 - 1464 });
    // Short segments alone wait until more than one segment's worth has come.
    for (let i = 0; i < 14; i++) d.recv({ flags: 'PA', seq: P + 1464 + 100 * i, ack: D, payload: 100 });
    d.expectNone();
    d.recv({ flags: 'PA', seq: P + 1464 + 1400, ack: D, payload: 100 });
    d.expect({ flags: 'A', seq: D, ack: P + 2964, window: 65535 - 2964 });
  });

  it('an out-of-order segment gets an immediate duplicate ACK; filling the gap an immediate ACK; bytes arrive in order', () => {
    const d = established({ config: { receiveBufferSize: 65535 } });
    const data = pattern(3000);
    d.recv({ flags: 'A', seq: P + 1000, ack: D, payload: data.subarray(1000, 2000) });
    d.expect({ flags: 'A', seq: D, ack: P, window: 65535 });
    d.recv({ flags: 'A', seq: P + 2000, ack: D, payload: data.subarray(2000, 3000) });
    d.expect({ flags: 'A', seq: D, ack: P, window: 65535 });
    expect(d.conn.readableLength).toBe(0);
    expect(d.events).toEqual([]);
    d.recv({ flags: 'A', seq: P, ack: D, payload: data.subarray(0, 1000) });
    d.expect({ flags: 'A', seq: D, ack: P + 3000, window: 65535 - 3000 });
    expect(d.events).toEqual(['readable']);
    expect(Array.from(d.conn.receive(d.now)!)).toEqual(Array.from(data));
  });

  it('a duplicate segment is ACKed and its bytes are not delivered twice', () => {
    const d = established();
    d.recv({ flags: 'PA', seq: P, ack: D, payload: pattern(100) });
    d.recv({ flags: 'PA', seq: P, ack: D, payload: pattern(100) });
    d.expect({ flags: 'A', seq: D, ack: P + 100 });
    d.expectNone();
    expect(d.conn.receive(d.now)!.length).toBe(100);
  });

  it('a segment overlapping delivered data contributes only its new bytes', () => {
    const d = established();
    const data = pattern(300);
    d.recv({ flags: 'A', seq: P, ack: D, payload: data.subarray(0, 200) });
    d.recv({ flags: 'A', seq: P + 100, ack: D, payload: data.subarray(100, 300) });
    expect(Array.from(d.conn.receive(d.now)!)).toEqual(Array.from(data));
  });

  it('the reassembly assembler is bounded: a segment needing one range too many is refused, not ACKed', () => {
    const d = established({ config: { maxOutOfOrderRanges: 2 } });
    d.recv({ flags: 'A', seq: P + 100, ack: D, payload: 10 });
    d.recv({ flags: 'A', seq: P + 200, ack: D, payload: 10 });
    d.recv({ flags: 'A', seq: P + 300, ack: D, payload: 10 });
    d.takeAll();
    expect(d.counters.outOfOrderOverflows).toBe(1);
    // Fill [0,100) and [110,200): ranges merge; byte 300.. was never stored.
    d.recv({ flags: 'A', seq: P, ack: D, payload: 100 });
    d.recv({ flags: 'A', seq: P + 110, ack: D, payload: 90 });
    d.takeAll();
    expect(d.conn.status().rcvNxt).toBe(P + 210);
  });

  it('a full assembler forgets its highest range for a lower one; the segment at RCV.NXT is never refused', () => {
    const d = established({ config: { maxOutOfOrderRanges: 2 } });
    d.recv({ flags: 'A', seq: P + 100, ack: D, payload: 10 });
    d.recv({ flags: 'A', seq: P + 200, ack: D, payload: 10 });
    // [50, 60) needs a third range: it is nearer RCV.NXT than [200, 210), which is forgotten.
    d.recv({ flags: 'A', seq: P + 50, ack: D, payload: 10 });
    expect(d.counters.outOfOrderPruned).toBe(1);
    expect(d.counters.outOfOrderOverflows).toBe(0);
    // Full again ([50,60), [100,110)); the in-order segment [0, 20) touches neither: [100, 110) goes.
    d.recv({ flags: 'A', seq: P, ack: D, payload: 20 });
    expect(d.conn.status().rcvNxt).toBe(P + 20);
    expect(d.counters.outOfOrderPruned).toBe(2);
    d.takeAll();
    // What was kept and what was forgotten: filling [20, 50) delivers up to 60, [60, 100) up to 100;
    // the forgotten [100, 110) and [200, 210) must come again.
    d.recv({ flags: 'A', seq: P + 20, ack: D, payload: 30 });
    expect(d.conn.status().rcvNxt).toBe(P + 60);
    d.recv({ flags: 'A', seq: P + 60, ack: D, payload: 40 });
    expect(d.conn.status().rcvNxt).toBe(P + 100);
    expect(d.conn.readableLength).toBe(100);
  });

  it('the receive window is the free buffer space; it reopens only by min(buffer/2, MSS) steps (MUST-39)', () => {
    const d = established({ config: { receiveBufferSize: 4000 } });
    d.recv({ flags: 'PA', seq: P, ack: D, payload: 1000 });
    d.at(40);
    d.expect({ flags: 'A', seq: D, ack: P + 1000, window: 3000 });
    d.conn.receive(d.now);
    // 1000 bytes free again, but 1000 < min(4000/2, 1460): receiver SWS avoidance keeps the right edge.
    d.expectNone();
    d.recv({ flags: 'PA', seq: P + 1000, ack: D, payload: 1000 });
    d.at(80);
    d.expect({ flags: 'A', seq: D, ack: P + 2000, window: 2000 });
    d.conn.receive(d.now);
    // Now the edge can move by 2000 >= 1460, and the window at least doubles: a window update goes out.
    d.expect({ flags: 'A', seq: D, ack: P + 2000, window: 4000 });
    d.expectNone();
  });
});

describe('urgent data (MUST-30, MUST-31, MUST-62)', () => {
  it('receives URG: the pointer marks the byte after the urgent data; data stays inline', () => {
    const d = established();
    d.recv({ flags: 'PAU', seq: P, ack: D, payload: 10, urgentPointer: 10 });
    expect(d.events).toEqual(['urgent:10', 'readable']);
    expect(d.conn.status().urgentPending).toBe(10);
    expect(d.conn.receive(d.now, 4)!.length).toBe(4);
    expect(d.conn.status().urgentPending).toBe(6);
    expect(d.conn.receive(d.now)!.length).toBe(6);
    expect(d.conn.status().urgentPending).toBe(0);
  });

  it('accepts an urgent pointer beyond the segment (any length of urgent data, MUST-31)', () => {
    const d = established();
    d.recv({ flags: 'AU', seq: P, ack: D, payload: 10, urgentPointer: 5000 });
    expect(d.conn.status().urgentPending).toBe(5000);
  });

  it('sends URG with the pointer just past the last urgent byte (MUST-62)', () => {
    const d = established();
    d.conn.setNoDelay(true, d.now);
    d.conn.send(pattern(5), d.now, { urgent: true });
    d.expect({ flags: 'PAU', seq: D, ack: P, len: 5, urgentPointer: 5 });
    d.conn.send(pattern(5), d.now);
    d.expect({ flags: 'PA', seq: D + 5, ack: P, len: 5 });
  });
});

describe('application-side counters and reads', () => {
  it('receiveInto reads into a caller buffer and returns -1 at end of stream; bytesRead/bytesWritten count', () => {
    const d = established();
    d.conn.send(pattern(300), d.now);
    d.recv({ flags: 'PA', seq: P, ack: D + 300, payload: pattern(50) });
    d.recv({ flags: 'FA', seq: P + 50, ack: D + 300 });
    const buf = new Uint8Array(30);
    expect(d.conn.receiveInto(buf, d.now)).toBe(30);
    expect(Array.from(buf)).toEqual(Array.from(pattern(30)));
    expect(d.conn.readableEnded).toBe(false);
    expect(d.conn.receiveInto(buf, d.now)).toBe(20);
    expect(d.conn.readableEnded).toBe(true);
    expect(d.conn.receiveInto(buf, d.now)).toBe(-1);
    expect(d.conn.status()).toMatchObject({
      bytesRead: 50,
      bytesWritten: 300,
      bytesAcked: 300,
      bytesReceived: 50,
    });
  });

  it('send() takes only what fits in the send buffer, and drain follows when the peer acknowledges', () => {
    const d = established({ config: { sendBufferSize: 1000 } });
    expect(d.conn.send(pattern(1500), d.now)).toBe(1000);
    expect(d.conn.writableFree).toBe(0);
    d.takeAll();
    d.recv({ flags: 'A', seq: P, ack: D + 1000 });
    expect(d.events).toEqual(['drain']);
    expect(d.conn.writableFree).toBe(1000);
  });
});
