import { describe, expect, it } from 'vitest';
import type { SackBlock } from '../../src/wire/tcp.js';
import { Dialogue, established, pattern } from './dialogue.js';

const P = 9001; // first data byte from the peer
const D = 1001; // our first data byte
const SACK = { sack: true };

/** [left, right) pairs relative to P, in 100-byte segments: [1, 2] is bytes P+100 .. P+200. */
function blocks(...pairs: Array<[number, number]>): SackBlock[] {
  return pairs.map(([a, b]) => ({ left: P + 100 * a, right: P + 100 * b }));
}

/** An established connection that negotiated SACK (active open; the SYN-ACK says SACK-permitted). */
function withSack(extra: { timestamps?: boolean } = {}): Dialogue {
  const d = Dialogue.active({ iss: 1000, config: { ...SACK, ...extra } });
  d.takeAll();
  d.recv({
    flags: 'SA',
    seq: 9000,
    ack: 1001,
    options: {
      mss: 1460,
      sackPermitted: true,
      ...(extra.timestamps ? { timestamp: { value: 1, echo: 0 } } : {}),
    },
  });
  d.takeAll();
  d.takeEvents();
  return d;
}

/** Delivers 100-byte segment number `n` (bytes P + 100n .. P + 100n + 100). */
function segmentN(d: Dialogue, n: number, extra: { timestamps?: boolean } = {}): void {
  d.recv({
    flags: 'A',
    seq: P + 100 * n,
    ack: D,
    payload: pattern(100, n * 100),
    ...(extra.timestamps ? { options: { timestamp: { value: 1, echo: 0 } } } : {}),
  });
}

function sackOf(d: Dialogue): readonly SackBlock[] | undefined {
  const seg = d.next();
  return seg.options.sack;
}

describe('SACK negotiation (RFC 2018 §2)', () => {
  it('offers SACK-permitted on the SYN and uses SACK only when the SYN-ACK carries it too', () => {
    const d = Dialogue.active({ iss: 1000, config: SACK });
    d.expect({ flags: 'S', seq: 1000, options: { mss: 1460, windowScale: 3, sackPermitted: true } });
    d.recv({ flags: 'SA', seq: 9000, ack: 1001, options: { mss: 1460 } });
    d.takeAll();
    segmentN(d, 1);
    d.expect({ flags: 'A', seq: D, ack: P }); // out of order, but no SACK blocks
  });

  it('a passive open answers SACK-permitted with SACK-permitted, and without it without', () => {
    const on = Dialogue.passive(
      { flags: 'S', seq: 7000, options: { mss: 1460, sackPermitted: true } },
      { config: SACK },
    );
    on.expect({ flags: 'SA', seq: 5000, ack: 7001, options: { mss: 1460, sackPermitted: true } });
    const off = Dialogue.passive({ flags: 'S', seq: 7000, options: { mss: 1460 } }, { config: SACK });
    off.expect({ flags: 'SA', seq: 5000, ack: 7001, options: { mss: 1460 } });
    const notOffered = Dialogue.passive(
      { flags: 'S', seq: 7000, options: { mss: 1460, sackPermitted: true } },
      { config: { sack: false } },
    );
    notOffered.expect({ flags: 'SA', seq: 5000, ack: 7001, options: { mss: 1460 } });
  });
});

describe('SACK blocks a receiver reports (RFC 2018 §4)', () => {
  it('reports out-of-order ranges newest first, at most 4, and merges them as holes fill', () => {
    const d = withSack();
    segmentN(d, 1);
    expect(sackOf(d)).toEqual(blocks([1, 2]));
    segmentN(d, 3);
    expect(sackOf(d)).toEqual(blocks([3, 4], [1, 2]));
    segmentN(d, 5);
    expect(sackOf(d)).toEqual(blocks([5, 6], [3, 4], [1, 2]));
    segmentN(d, 7);
    expect(sackOf(d)).toEqual(blocks([7, 8], [5, 6], [3, 4], [1, 2]));
    segmentN(d, 9);
    expect(sackOf(d)).toEqual(blocks([9, 10], [7, 8], [5, 6], [3, 4]));
    // Segment 2 joins 1 and 3: that range is now the most recent; the oldest report drops off.
    segmentN(d, 2);
    expect(sackOf(d)).toEqual(blocks([1, 4], [9, 10], [7, 8], [5, 6]));
    // Segment 0 fills the first hole: RCV.NXT moves to P + 400 and the block for 1-4 disappears.
    segmentN(d, 0);
    d.expect({
      flags: 'A',
      seq: D,
      ack: P + 400,
      options: { sack: blocks([9, 10], [7, 8], [5, 6]) },
    });
    segmentN(d, 4);
    segmentN(d, 6);
    segmentN(d, 8);
    d.takeAll();
    // The last hole: everything is in order, and the ACK carries no SACK option.
    segmentN(d, 10);
    d.advance(40);
    const last = d.takeAll().at(-1)!;
    expect(last.ack).toBe(P + 1100);
    expect(last.options.sack).toBeUndefined();
  });

  it('reports at most 3 blocks beside timestamps', () => {
    const d = withSack({ timestamps: true });
    for (const n of [1, 3, 5, 7]) segmentN(d, n, { timestamps: true });
    const segs = d.takeAll();
    expect(segs.at(-1)!.options.sack).toEqual(blocks([7, 8], [5, 6], [3, 4]));
  });

  it('keeps the MSS: a data segment carrying SACK blocks is that much shorter', () => {
    const d = withSack();
    segmentN(d, 1);
    d.takeAll();
    d.conn.send(pattern(3000), d.now);
    // One block: 4 + 8 = 12 option bytes, so 1448 bytes of data per segment.
    const segs = d.takeAll();
    expect(segs.map((s) => s.payload.length)).toEqual([1448, 1448, 104]);
    expect(segs[0]!.options.sack).toEqual(blocks([1, 2]));
  });
});

describe('D-SACK (RFC 2883)', () => {
  it('reports a duplicate below RCV.NXT in the first block, once', () => {
    const d = withSack();
    segmentN(d, 0);
    d.advance(40);
    d.expect({ flags: 'A', seq: D, ack: P + 100 });
    segmentN(d, 0); // a spurious retransmission
    d.expect({ flags: 'A', seq: D, ack: P + 100, options: { sack: blocks([0, 1]) } });
    expect(d.counters.dsacksSent).toBe(1);
    segmentN(d, 2);
    d.expect({ flags: 'A', seq: D, ack: P + 100, options: { sack: blocks([2, 3]) } });
  });

  it('reports a duplicate of out-of-order data with the range holding it as the second block', () => {
    const d = withSack();
    segmentN(d, 2);
    segmentN(d, 3);
    segmentN(d, 5);
    d.takeAll();
    segmentN(d, 2);
    d.expect({ flags: 'A', seq: D, ack: P, options: { sack: blocks([2, 3], [2, 4], [5, 6]) } });
  });

  it('reports the old part of a segment straddling RCV.NXT', () => {
    const d = withSack();
    segmentN(d, 0);
    d.takeAll();
    d.recv({ flags: 'A', seq: P + 50, ack: D, payload: 100 });
    d.expect({ flags: 'A', seq: D, ack: P + 150, options: { sack: [{ left: P + 50, right: P + 100 }] } });
  });
});

describe('SACK switched off', () => {
  it('sends no SACK-permitted and no blocks', () => {
    const d = established({ config: { sack: false } });
    d.recv({ flags: 'A', seq: P + 100, ack: D, payload: 100 });
    d.expect({ flags: 'A', seq: D, ack: P });
  });
});
