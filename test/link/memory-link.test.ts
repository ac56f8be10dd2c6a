import { describe, expect, it } from 'vitest';
import { totalDropped } from '../../src/link/impairments.js';
import { MemoryLink } from '../../src/link/memory-link.js';
import { VirtualClock } from '../../src/time/virtual-clock.js';
import { TraceRecorder } from '../../src/trace/events.js';
import { Random } from '../../src/util/random.js';
import { makeLink, numberedFrame, sendStream, seqOf } from './link-fixtures.js';
import { MAC_A, MAC_B } from './sample-frames.js';

describe('MemoryLink', () => {
  it('delivers asynchronously through the clock, even with zero delay', () => {
    const t = makeLink();
    const frame = numberedFrame(1);
    t.link.a.send(frame);
    expect(t.atB).toHaveLength(0); // not inside send
    expect(t.clock.pendingTimers).toBe(1);
    t.clock.advance(0);
    expect(t.atB).toHaveLength(1);
    expect(t.atB[0]!.frame).toBe(frame); // zero-copy: the receiver now owns the sender's buffer
    expect(t.atB[0]!.time).toBe(0);
    expect(t.atA).toHaveLength(0);
  });

  it('delivers the frames sent at one instant from one clock event, in order; a timer between splits them', () => {
    const t = makeLink();
    const order: string[] = [];
    t.link.b.setReceiver((frame) => order.push(`frame ${seqOf(frame)}`));
    for (let i = 1; i <= 3; i++) t.link.a.send(numberedFrame(i));
    t.clock.setTimer(0, () => order.push('timer'));
    t.link.a.send(numberedFrame(4));
    t.link.a.send(numberedFrame(5));
    expect(t.clock.pendingTimers).toBe(3);
    const run = t.clock.runUntilIdle();
    expect(run.events).toBe(3);
    expect(order).toEqual(['frame 1', 'frame 2', 'frame 3', 'timer', 'frame 4', 'frame 5']);
    expect(t.link.counters('a->b').delivered).toBe(5);
  });

  it('stops a batch where its receiver takes the link down: the rest of it is lost, counted once', () => {
    const t = makeLink();
    const order: number[] = [];
    t.link.b.setReceiver((frame) => {
      order.push(seqOf(frame));
      if (seqOf(frame) === 2) t.link.setDown(true);
    });
    for (let i = 1; i <= 5; i++) t.link.a.send(numberedFrame(i));
    expect(t.clock.pendingTimers).toBe(1);
    t.clock.runUntilIdle();
    // Frames 3 to 5 were on the way when the link went down: lost, never handed on.
    expect(order).toEqual([1, 2]);
    expect(t.link.counters('a->b').delivered).toBe(2);
    expect(t.link.counters('a->b').dropped['link-down']).toBe(3);
    expect(t.link.framesInFlight('a->b')).toBe(0);
    expect(t.clock.pendingTimers).toBe(0);
    // Each lost copy's record was taken back once: the records of the next batch are all distinct.
    t.link.setDown(false);
    for (let i = 6; i <= 11; i++) t.link.a.send(numberedFrame(i));
    t.clock.runUntilIdle();
    expect(order).toEqual([1, 2, 6, 7, 8, 9, 10, 11]);
  });

  it('carries both directions independently, with separate impairments', () => {
    const t = makeLink({ aToB: { delayMs: 5 }, bToA: { delayMs: 20 } });
    t.link.a.send(numberedFrame(1));
    t.link.b.send(numberedFrame(2, 100, MAC_B, MAC_A));
    t.clock.runUntilIdle();
    expect(t.atB.map((d) => [d.seq, d.time])).toEqual([[1, 5]]);
    expect(t.atA.map((d) => [d.seq, d.time])).toEqual([[2, 20]]);
    expect(t.link.impairments('a->b')).toEqual({ delayMs: 5 });
    expect(t.link.counters('b->a').delivered).toBe(1);
  });

  it('exposes the ends as NetworkDevices with their own names, MACs and MTUs', () => {
    const t = makeLink({ mtuA: 9000, mtuB: 1500 });
    expect([t.link.a.name, t.link.a.mac, t.link.a.mtu]).toEqual(['a', MAC_A, 9000]);
    expect([t.link.b.name, t.link.b.mac, t.link.b.mtu]).toEqual(['b', MAC_B, 1500]);
    expect(t.link.name).toBe('test-link');
    expect(() => makeLink({ mtuA: 67 })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('applies propagation delay exactly', () => {
    const t = makeLink({ impairments: { delayMs: 12.5 } });
    sendStream(t, 3, 1);
    expect(t.atB.map((d) => d.time)).toEqual([12.5, 13.5, 14.5]);
  });

  it('drops frames whose Ethernet payload exceeds the MTU, and counts them', () => {
    const t = makeLink({ mtuA: 9000, mtuB: 9000, aToB: { mtu: 1000 } });
    t.link.a.send(numberedFrame(1, 1000));
    t.link.a.send(numberedFrame(2, 1001));
    t.clock.runUntilIdle();
    expect(t.atB.map((d) => d.seq)).toEqual([1]);
    expect(t.link.counters('a->b').dropped.mtu).toBe(1);

    // Without a link MTU, the smaller end decides (here the receiver's).
    const u = makeLink({ mtuA: 9000, mtuB: 1500 });
    u.link.a.send(numberedFrame(1, 1500));
    u.link.a.send(numberedFrame(2, 1501));
    u.link.a.send(numberedFrame(3, 8000));
    u.clock.runUntilIdle();
    expect(u.atB.map((d) => d.seq)).toEqual([1]);
    expect(u.link.counters('a->b').dropped.mtu).toBe(2);

    // An 802.1Q tag does not count against the MTU.
    const tagged = new Uint8Array(14 + 4 + 1500);
    tagged.set([0x81, 0x00], 12);
    const v = makeLink();
    v.link.a.send(tagged);
    v.clock.runUntilIdle();
    expect(v.atB).toHaveLength(1);
  });

  it('drops everything while down, including frames already on the way', () => {
    const recorder = new TraceRecorder();
    const t = makeLink({ impairments: { delayMs: 10 }, tracer: recorder });
    t.link.a.send(numberedFrame(1));
    t.clock.advance(5);
    t.link.setDown(true);
    expect(t.clock.pendingTimers).toBe(0); // the lost frame's delivery timer is gone
    t.link.a.send(numberedFrame(2));
    t.link.b.send(numberedFrame(3, 100, MAC_B, MAC_A));
    t.clock.runUntilIdle();
    expect(t.atB).toHaveLength(0);
    expect(t.atA).toHaveLength(0);
    expect(t.link.counters('a->b').dropped['link-down']).toBe(2);
    expect(t.link.counters('b->a').dropped['link-down']).toBe(1);
    t.link.setDown(false);
    t.link.a.send(numberedFrame(4));
    t.clock.runUntilIdle();
    expect(t.atB.map((d) => [d.seq, d.time])).toEqual([[4, 15]]);
    const drops = recorder.events.filter((e) => e.kind === 'link.dropped');
    expect(drops.map((e) => e.kind === 'link.dropped' && [e.frameId, e.reason, e.time])).toEqual([
      [1, 'link-down', 5],
      [2, 'link-down', 5],
      [3, 'link-down', 5],
    ]);
  });

  it('delivers every frame once and intact across link-down, duplication and reordering (records are reused)', () => {
    const t = makeLink({
      seed: 3,
      impairments: { delayMs: 4, duplicate: 0.3, reorder: 0.2, reorderDelayMs: 3 },
    });
    const sent: number[] = [];
    for (let round = 0; round < 5; round++) {
      const base = round * 100;
      for (let i = 0; i < 40; i++) {
        t.link.a.send(numberedFrame(base + i));
        sent.push(base + i);
        t.clock.advance(0.5);
      }
      // Half of the round is on its way (4 ms at 0.5 ms a frame): lost, each exactly once.
      t.link.setDown(true);
      t.link.setDown(false);
      t.clock.runUntilIdle();
    }
    const counters = t.link.counters('a->b');
    expect(counters.dropped['link-down']).toBeGreaterThan(0);
    expect(counters.delivered + counters.dropped['link-down']).toBe(sent.length + counters.duplicated);
    expect(t.atB).toHaveLength(counters.delivered);
    for (const d of t.atB) {
      // Each delivered frame carries its own number and payload: no record handed a frame to the wrong timer.
      expect(d.frame).toEqual(numberedFrame(d.seq));
      expect(sent).toContain(d.seq);
    }
    const times = new Map<number, number>();
    for (const d of t.atB) times.set(d.seq, (times.get(d.seq) ?? 0) + 1);
    expect(Math.max(...times.values())).toBeLessThanOrEqual(2);
    expect(t.clock.pendingTimers).toBe(0);
  });

  it('closing an end loses frames on the way, leaves no timers and delivers nothing afterwards', () => {
    const t = makeLink({ impairments: { delayMs: 10 } });
    t.link.a.send(numberedFrame(1));
    t.link.b.send(numberedFrame(2, 100, MAC_B, MAC_A));
    t.link.b.close?.();
    expect(t.clock.pendingTimers).toBe(0);
    t.link.a.send(numberedFrame(3));
    t.clock.runUntilIdle();
    expect(t.atB).toHaveLength(0);
    expect(t.atA).toHaveLength(0);
    expect(t.link.counters('a->b').dropped['link-down']).toBe(2);
  });

  it('counts frames that arrive before a receiver is installed', () => {
    const clock = new VirtualClock();
    const link = new MemoryLink({ clock, a: { name: 'a', mac: MAC_A }, b: { name: 'b', mac: MAC_B } });
    link.a.send(numberedFrame(1));
    clock.runUntilIdle();
    expect(link.counters('a->b')).toMatchObject({ delivered: 1, undeliverable: 1 });
    expect(link.name).toBe('a<->b');
  });

  it('changes impairments at runtime, never letting a shorter delay reorder frames', () => {
    const t = makeLink({ impairments: { delayMs: 50 } });
    t.link.a.send(numberedFrame(1));
    t.clock.advance(1);
    t.link.updateImpairments('a->b', { delayMs: 5 });
    t.link.a.send(numberedFrame(2)); // would arrive at 6, but the link is FIFO: waits for frame 1
    t.clock.advance(100);
    t.link.a.send(numberedFrame(3));
    t.clock.runUntilIdle();
    expect(t.atB.map((d) => [d.seq, d.time])).toEqual([
      [1, 50],
      [2, 50],
      [3, 106],
    ]);
    expect(t.link.impairments('a->b')).toEqual({ delayMs: 5 });
    expect(t.link.impairments('b->a')).toEqual({ delayMs: 50 });
    t.link.setImpairments('both', { loss: 1 });
    expect(t.link.impairments('a->b')).toEqual({ loss: 1 });
  });

  it('rejects impairments out of range with EINVAL', () => {
    const t = makeLink();
    for (const bad of [
      { loss: 1.5 },
      { duplicate: -0.1 },
      { delayMs: -1 },
      { rateBitsPerSecond: 0 },
      { queueLimitFrames: 0 },
      { corruptBits: 1.5 },
      { mtu: Number.NaN },
      { burstLoss: { goodToBad: 2, badToGood: 0.5 } },
    ]) {
      expect(() => t.link.setImpairments('a->b', bad)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    }
    expect(t.link.impairments('a->b')).toEqual({});
  });

  describe('checksum offload', () => {
    it('is off unless the link allows it', () => {
      expect(makeLink().link.a.checksumOffload).toBe(false);
    });

    it('is on when allowed and only while no direction can corrupt', () => {
      const t = makeLink({ checksumOffload: true });
      expect(t.link.a.checksumOffload).toBe(true);
      expect(t.link.b.checksumOffload).toBe(true);
      t.link.updateImpairments('b->a', { corrupt: 0.01 });
      expect(t.link.a.checksumOffload).toBe(false);
      expect(t.link.b.checksumOffload).toBe(false);
      t.link.updateImpairments('b->a', { corrupt: 0 });
      expect(t.link.a.checksumOffload).toBe(true);
      expect(makeLink({ checksumOffload: true, aToB: { corrupt: 0.5 } }).link.b.checksumOffload).toBe(false);
    });
  });

  describe('trace events', () => {
    it('records sent, delivered, dropped, duplicated, corrupted and reordered with consistent frame ids', () => {
      const recorder = new TraceRecorder();
      const t = makeLink({
        tracer: recorder,
        seed: 11,
        aToB: { delayMs: 1, loss: 0.2, duplicate: 0.2, corrupt: 0.2, reorder: 0.2 },
      });
      sendStream(t, 200, 0.5);
      const byKind = (kind: string) => recorder.events.filter((e) => e.kind === kind);
      const counters = t.link.counters('a->b');
      expect(byKind('link.sent')).toHaveLength(200);
      expect(byKind('link.delivered')).toHaveLength(counters.delivered);
      expect(byKind('link.dropped')).toHaveLength(counters.dropped.loss);
      expect(byKind('link.duplicated')).toHaveLength(counters.duplicated);
      expect(byKind('link.corrupted')).toHaveLength(counters.corrupted);
      expect(byKind('link.reordered')).toHaveLength(counters.reordered);
      for (const n of [counters.dropped.loss, counters.duplicated, counters.corrupted, counters.reordered]) {
        expect(n).toBeGreaterThan(10);
      }
      const sent = byKind('link.sent');
      expect(sent.map((e) => (e.kind === 'link.sent' ? e.frameId : 0))).toEqual(
        Array.from({ length: 200 }, (_, i) => i + 1),
      );
      const first = sent[0]!;
      expect(first).toMatchObject({ kind: 'link.sent', time: 0, link: 'test-link', from: 'a', to: 'b' });
      // Every delivered frame id was sent, and none was both dropped and delivered.
      const dropped = new Set(byKind('link.dropped').map((e) => (e.kind === 'link.dropped' ? e.frameId : 0)));
      for (const e of byKind('link.delivered')) {
        if (e.kind !== 'link.delivered') continue;
        expect(dropped.has(e.frameId)).toBe(false);
        expect(e.frameId).toBeGreaterThanOrEqual(1);
        expect(e.frameId).toBeLessThanOrEqual(200);
      }
      // Events are in time order.
      const times = recorder.events.map((e) => e.time);
      expect(times).toEqual([...times].sort((x, y) => x - y));
    });

    it('keeps its own copy of traced frames, so a receiver changing its frame does not rewrite history', () => {
      const recorder = new TraceRecorder();
      const t = makeLink({ tracer: recorder });
      t.link.b.setReceiver((frame) => frame.fill(0));
      t.link.a.send(numberedFrame(9));
      t.clock.runUntilIdle();
      for (const e of recorder.events) {
        if (e.kind === 'link.sent' || e.kind === 'link.delivered') expect(e.frame).toEqual(numberedFrame(9));
      }
    });

    it('costs no copies when tracing is off', () => {
      const t = makeLink({ impairments: { delayMs: 1 } });
      const frame = numberedFrame(1);
      t.link.a.send(frame);
      t.clock.runUntilIdle();
      expect(t.atB[0]!.frame).toBe(frame);
    });
  });

  describe('determinism', () => {
    const everything = {
      delayMs: 3,
      jitterMs: 4,
      rateBitsPerSecond: 100e6,
      queueLimitFrames: 20,
      loss: 0.05,
      burstLoss: { goodToBad: 0.02, badToGood: 0.3 },
      duplicate: 0.05,
      reorder: 0.05,
      corrupt: 0.05,
    };

    function run(seed: number | string): string[] {
      const t = makeLink({ seed, impairments: everything });
      sendStream(t, 2000, 0.1, 600);
      return t.atB.map((d) => `${d.time.toFixed(9)}:${d.seq}:${Buffer.from(d.frame).toString('base64')}`);
    }

    it('gives an identical delivery log for the same seed and a different one for another seed', () => {
      const first = run(1234);
      expect(run(1234)).toEqual(first);
      expect(run(1235)).not.toEqual(first);
      expect(first.length).toBeGreaterThan(1000);
    });

    it('keeps the frame accounting exact: sent + duplicated = delivered + dropped + in flight', () => {
      const t = makeLink({ seed: 5, impairments: everything });
      for (let i = 0; i < 500; i++) t.link.a.send(numberedFrame(i, 600));
      t.clock.advance(3.5);
      const c = t.link.counters('a->b');
      const inFlight = t.link.framesInFlight('a->b');
      expect(inFlight).toBeGreaterThan(0);
      expect(c.sent + c.duplicated).toBe(c.delivered + totalDropped(c) + inFlight);
      t.clock.runUntilIdle();
      expect(t.link.framesInFlight('a->b')).toBe(0);
      expect(c.sent + c.duplicated).toBe(c.delivered + totalDropped(c));
      expect(c.sentBytes).toBe(500 * 614);
      expect(c.dropped['queue-full']).toBeGreaterThan(0);
    });

    it('derives independent streams per link name and direction from a shared Random', () => {
      const random = new Random(77);
      const clock = new VirtualClock();
      const lossPattern = (link: MemoryLink, side: 'a' | 'b'): string => {
        const got: number[] = [];
        const [tx, rx] = side === 'a' ? [link.a, link.b] : [link.b, link.a];
        rx.setReceiver((f) => got.push(f[17]!));
        for (let i = 0; i < 64; i++) tx.send(numberedFrame(i));
        clock.runUntilIdle();
        return got.join(',');
      };
      const make = (name: string): MemoryLink =>
        new MemoryLink({
          clock,
          random,
          name,
          a: { name: 'x', mac: MAC_A },
          b: { name: 'y', mac: MAC_B },
          impairments: { loss: 0.5 },
        });
      const one = lossPattern(make('one'), 'a');
      expect(lossPattern(make('one'), 'a')).toBe(one);
      expect(lossPattern(make('two'), 'a')).not.toBe(one);
      expect(lossPattern(make('one'), 'b')).not.toBe(one);
    });
  });
});
