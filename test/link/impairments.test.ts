import { describe, expect, it } from 'vitest';
import { allocateFrame, frameAllocatorCounters } from '../../src/link/frame-allocator.js';
import type { LinkImpairments } from '../../src/link/impairments.js';
import { MemoryLink } from '../../src/link/memory-link.js';
import { VirtualClock } from '../../src/time/virtual-clock.js';
import { type Delivery, makeLink, numberedFrame, sendStream, seqOf } from './link-fixtures.js';
import { MAC_A, MAC_B } from './sample-frames.js';

/** numberedFrame's 1500 bytes in a 1514-byte frame from the frame allocator (memory a link lends). */
function allocatedFrame(seq: number): Uint8Array {
  const frame = allocateFrame(1514);
  frame.set(numberedFrame(seq, 1500));
  return frame;
}

function isSorted(values: number[]): boolean {
  return values.every((v, i) => i === 0 || values[i - 1]! <= v);
}

/** Lengths of runs of consecutive lost sequence numbers. */
function lossRuns(delivered: Delivery[], count: number): number[] {
  const got = new Set(delivered.map((d) => d.seq));
  const runs: number[] = [];
  let run = 0;
  for (let i = 0; i < count; i++) {
    if (got.has(i)) {
      if (run > 0) runs.push(run);
      run = 0;
    } else {
      run++;
    }
  }
  if (run > 0) runs.push(run);
  return runs;
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function differingBits(a: Uint8Array, b: Uint8Array): number {
  let bits = 0;
  for (let i = 0; i < a.length; i++) {
    let x = a[i]! ^ b[i]!;
    while (x) {
      bits += x & 1;
      x >>>= 1;
    }
  }
  return bits;
}

describe('link impairments', () => {
  describe('rate limit', () => {
    it('serialises 1500-byte frames at 12 Mbit/s exactly 1 ms apart, plus propagation delay', () => {
      const t = makeLink({ aToB: { rateBitsPerSecond: 12e6, delayMs: 10 } });
      for (let i = 0; i < 5; i++) t.link.a.send(numberedFrame(i, 1486)); // 1500-byte frames
      expect(t.link.queueOccupancy('a->b')).toEqual({ frames: 5, bytes: 7500 });
      t.clock.advance(2);
      expect(t.link.queueOccupancy('a->b')).toEqual({ frames: 3, bytes: 4500 });
      t.clock.runUntilIdle();
      expect(t.atB.map((d) => d.time)).toEqual([11, 12, 13, 14, 15]);
      expect(t.link.counters('a->b')).toMatchObject({ queueHighWaterFrames: 5, queueHighWaterBytes: 7500 });
    });

    it('starts serialising at once on an idle link and counts per-frame overhead', () => {
      const t = makeLink({ aToB: { rateBitsPerSecond: 1e6, perFrameOverheadBytes: 25 } });
      t.clock.advance(100);
      t.link.a.send(numberedFrame(0, 86)); // 100 bytes + 25 overhead = 1000 bits = 1 ms
      t.clock.advance(50);
      t.link.a.send(numberedFrame(1, 86));
      t.clock.runUntilIdle();
      expect(t.atB.map((d) => d.time)).toEqual([101, 151]);
    });

    it('tail-drops frames that do not fit the queue (frames limit)', () => {
      const t = makeLink({ aToB: { rateBitsPerSecond: 12e6, queueLimitFrames: 3 } });
      for (let i = 0; i < 5; i++) t.link.a.send(numberedFrame(i, 1486));
      t.clock.advance(1); // frame 0 done: room for one more
      t.link.a.send(numberedFrame(5, 1486));
      t.link.a.send(numberedFrame(6, 1486));
      t.clock.runUntilIdle();
      expect(t.atB.map((d) => [d.seq, d.time])).toEqual([
        [0, 1],
        [1, 2],
        [2, 3],
        [5, 4],
      ]);
      expect(t.link.counters('a->b').dropped['queue-full']).toBe(3);
      expect(t.link.counters('a->b').queueHighWaterFrames).toBe(3);
    });

    it('tail-drops frames that do not fit the queue (bytes limit)', () => {
      const t = makeLink({ aToB: { rateBitsPerSecond: 12e6, queueLimitBytes: 4000 } });
      for (let i = 0; i < 4; i++) t.link.a.send(numberedFrame(i, 1486));
      t.link.a.send(numberedFrame(4, 500)); // 514 bytes still fit beside 3000
      t.clock.runUntilIdle();
      expect(t.atB.map((d) => d.seq)).toEqual([0, 1, 4]);
      expect(t.link.counters('a->b')).toMatchObject({ queueHighWaterBytes: 3514 });
      expect(t.link.counters('a->b').dropped['queue-full']).toBe(2);
    });

    it('holds 1000 frames by default', () => {
      const t = makeLink({ aToB: { rateBitsPerSecond: 1e6 } });
      for (let i = 0; i < 1200; i++) t.link.a.send(numberedFrame(i, 50));
      expect(t.link.counters('a->b').dropped['queue-full']).toBe(200);
    });

    it('keeps its queue in a ring that grows to the most frames queued at once and no further', () => {
      // 1500-byte frames at 12 Mbit/s: 1 ms each. Bursts of 20 with 25 ms between them leave the queue
      // empty before each burst, and the ring's head lands somewhere new every time; one burst of 40
      // grows the ring once.
      const t = makeLink({ aToB: { rateBitsPerSecond: 12e6, queueLimitFrames: 40 } });
      const path = t.link.path('a->b');
      expect(path.queueSlots).toBe(16);
      for (let i = 0; i < 40; i++) t.link.a.send(numberedFrame(i, 1486));
      expect(path.queueSlots).toBe(64);
      expect(t.link.queueOccupancy('a->b')).toEqual({ frames: 40, bytes: 60000 });
      t.clock.advance(20.5);
      expect(t.link.queueOccupancy('a->b')).toEqual({ frames: 20, bytes: 30000 });
      // Twenty more while twenty wait: the ring wraps around (head at 20 of 64, 40 queued again).
      for (let i = 40; i < 60; i++) t.link.a.send(numberedFrame(i, 1486));
      t.link.a.send(numberedFrame(60, 1486));
      expect(t.link.counters('a->b').dropped['queue-full']).toBe(1);
      t.clock.runUntilIdle();
      let seq = 61;
      for (let burst = 0; burst < 50; burst++) {
        const start = t.clock.now();
        for (let i = 0; i < 20; i++) t.link.a.send(numberedFrame(seq++, 1486));
        expect(t.link.queueOccupancy('a->b').frames).toBe(20);
        t.clock.advance(25);
        expect(t.atB.at(-1)).toMatchObject({ seq: seq - 1, time: start + 20 });
      }
      expect(path.queueSlots).toBe(64);
      expect(t.atB.map((d) => d.seq)).toEqual([
        ...Array(60).keys(),
        ...Array.from({ length: 1000 }, (_, i) => 61 + i),
      ]);
      // The first 40 left 1 ms apart from 0; the 20 sent at 20.5 ms queued behind them.
      expect(t.atB.slice(38, 42).map((d) => d.time)).toEqual([39, 40, 41, 42]);
      expect(t.link.counters('a->b').queueHighWaterFrames).toBe(40);
    });
  });

  describe('random loss', () => {
    it('loses about 20% of 10,000 frames at loss 0.2, exactly reproducibly', () => {
      const run = (): number => {
        const t = makeLink({ seed: 2024, aToB: { loss: 0.2 } });
        sendStream(t, 10_000, 0.01, 20);
        const c = t.link.counters('a->b');
        expect(c.delivered + c.dropped.loss).toBe(10_000);
        expect(t.atB.length).toBe(c.delivered);
        return c.dropped.loss;
      };
      const lost = run();
      expect(lost).toBeGreaterThan(1850);
      expect(lost).toBeLessThan(2150);
      expect(run()).toBe(lost);
    });

    it('loses nothing at 0 and everything at 1', () => {
      const t = makeLink({ aToB: { loss: 1 } });
      sendStream(t, 100, 1);
      expect(t.atB).toHaveLength(0);
      expect(t.link.counters('a->b').dropped.loss).toBe(100);
    });

    it('gives the memory of a frame it drops back to the allocator, unless a tap was given the frame', () => {
      // 1514-byte frames from the allocator, all lost (at random, or at a full queue): about 170 fill a
      // small slab, which is carved again once every frame of it is back. 2000 lost frames take no new
      // slab (one at most, if the slab being carved held frames of earlier tests).
      for (const impairments of [{ loss: 1 }, { rateBitsPerSecond: 1e6, queueLimitFrames: 1 }]) {
        const t = makeLink({ aToB: impairments });
        if (impairments.queueLimitFrames !== undefined) t.link.a.send(allocatedFrame(0)); // fills the queue
        const before = { ...frameAllocatorCounters };
        const buffers = new Set<ArrayBufferLike>();
        for (let i = 0; i < 2000; i++) {
          const frame = allocatedFrame(i);
          buffers.add(frame.buffer);
          t.link.a.send(frame);
        }
        expect(frameAllocatorCounters.slabsAllocated - before.slabsAllocated).toBeLessThanOrEqual(1);
        expect(buffers.size).toBeLessThanOrEqual(2);
        // A tap was given these: they stay its own, and later frames are never carved over them.
        const seen: Uint8Array[] = [];
        const untap = t.link.tap((_time, frame) => seen.push(frame));
        for (let i = 0; i < 400; i++) t.link.a.send(allocatedFrame(i));
        untap();
        for (let i = 0; i < 2000; i++) t.link.a.send(allocatedFrame(10_000 + i));
        expect(seen.map(seqOf)).toEqual([...Array(400).keys()]);
        const c = t.link.counters('a->b');
        expect(c.dropped.loss + c.dropped['queue-full']).toBe(4400);
        t.clock.runUntilIdle();
      }
    });
  });

  describe('frames lost on the way', () => {
    it('gives their memory back to the allocator when the link goes down, unless a tap was given them', () => {
      // Twenty rounds of 100 frames on their way (10 ms delay), each lost as the link goes down: 2000 frames,
      // about 12 small slabs' worth. Given back, they are carved again: no new slab, the same buffers.
      const t = makeLink({ impairments: { delayMs: 10 } });
      const before = { ...frameAllocatorCounters };
      const buffers = new Set<ArrayBufferLike>();
      for (let round = 0; round < 20; round++) {
        for (let i = 0; i < 100; i++) {
          const frame = allocatedFrame(round * 100 + i);
          buffers.add(frame.buffer);
          t.link.a.send(frame);
        }
        t.clock.advance(5);
        expect(t.link.framesInFlight('a->b')).toBe(100);
        t.link.setDown(true);
        expect(t.link.framesInFlight('a->b')).toBe(0);
        t.link.setDown(false);
      }
      expect(frameAllocatorCounters.slabsAllocated - before.slabsAllocated).toBeLessThanOrEqual(1);
      expect(buffers.size).toBeLessThanOrEqual(2);
      expect(t.link.counters('a->b').dropped['link-down']).toBe(2000);
      // Frames a tap was given stay its own: frames sent after them are never carved over them.
      const seen: Uint8Array[] = [];
      const untap = t.link.tap((_time, frame) => seen.push(frame));
      for (let i = 0; i < 300; i++) t.link.a.send(allocatedFrame(i));
      untap();
      t.link.setDown(true);
      t.link.setDown(false);
      for (let i = 0; i < 2000; i++) t.link.a.send(allocatedFrame(10_000 + i));
      expect(seen.map(seqOf)).toEqual([...Array(300).keys()]);
      t.clock.runUntilIdle();
      expect(t.atB.map((d) => d.seq)).toEqual(Array.from({ length: 2000 }, (_, i) => 10_000 + i));
    });

    it('gives back the memory of frames that reach an end with no receiver', () => {
      const clock = new VirtualClock();
      const link = new MemoryLink({ clock, a: { name: 'a', mac: MAC_A }, b: { name: 'b', mac: MAC_B } });
      const before = { ...frameAllocatorCounters };
      const buffers = new Set<ArrayBufferLike>();
      for (let i = 0; i < 2000; i++) {
        const frame = allocatedFrame(i);
        buffers.add(frame.buffer);
        link.a.send(frame);
        clock.runUntilIdle();
      }
      expect(link.counters('a->b')).toMatchObject({ delivered: 2000, undeliverable: 2000 });
      expect(frameAllocatorCounters.slabsAllocated - before.slabsAllocated).toBeLessThanOrEqual(1);
      expect(buffers.size).toBeLessThanOrEqual(2);
      // With a tap that saw them, they stay the tap's.
      const seen: Uint8Array[] = [];
      link.tap((_time, frame) => seen.push(frame), { point: 'delivered' });
      for (let i = 0; i < 300; i++) link.a.send(allocatedFrame(i));
      clock.runUntilIdle();
      for (let i = 0; i < 2000; i++) link.a.send(allocatedFrame(10_000 + i));
      clock.runUntilIdle();
      expect(seen.slice(0, 300).map(seqOf)).toEqual([...Array(300).keys()]);
    });
  });

  describe('Gilbert-Elliott bursty loss', () => {
    const count = 20_000;

    it('loses in bursts (mean burst length well above 1) at the model loss rate', () => {
      const t = makeLink({ seed: 3, aToB: { burstLoss: { goodToBad: 0.01, badToGood: 0.25 } } });
      sendStream(t, count, 0.01, 20);
      const lost = t.link.counters('a->b').dropped['burst-loss'];
      // Stationary loss p/(p+r) = 0.01/0.26 = 3.85%.
      expect(lost / count).toBeGreaterThan(0.03);
      expect(lost / count).toBeLessThan(0.047);
      const burst = mean(lossRuns(t.atB, count));
      expect(burst).toBeGreaterThan(3); // 1/r = 4
      expect(burst).toBeLessThan(5);

      // Independent loss at the same rate has bursts barely longer than one frame.
      const b = makeLink({ seed: 3, aToB: { loss: lost / count } });
      sendStream(b, count, 0.01, 20);
      expect(mean(lossRuns(b.atB, count))).toBeLessThan(1.1);
    });

    it('applies the per-state loss probabilities', () => {
      // Always bad (never leaves), losing half there.
      const t = makeLink({
        seed: 4,
        aToB: { burstLoss: { goodToBad: 1, badToGood: 0, lossInBad: 0.5, lossInGood: 0 } },
      });
      sendStream(t, 4000, 0.01, 20);
      const lost = t.link.counters('a->b').dropped['burst-loss'];
      expect(lost).toBeGreaterThan(1850);
      expect(lost).toBeLessThan(2150);
    });

    it('draws loss streams independently: adding duplication does not change which frames are lost', () => {
      const lostSet = (imp: LinkImpairments): number[] => {
        const t = makeLink({ seed: 9, aToB: imp });
        sendStream(t, 2000, 0.01, 20);
        const got = new Set(t.atB.map((d) => d.seq));
        return Array.from({ length: 2000 }, (_, i) => i).filter((i) => !got.has(i));
      };
      const base = lostSet({ loss: 0.1, burstLoss: { goodToBad: 0.01, badToGood: 0.3 } });
      expect(
        lostSet({
          loss: 0.1,
          burstLoss: { goodToBad: 0.01, badToGood: 0.3 },
          duplicate: 0.3,
          reorder: 0.3,
          jitterMs: 2,
        }),
      ).toEqual(base);
    });
  });

  describe('duplication', () => {
    it('delivers extra copies in their own buffers', () => {
      const t = makeLink({ seed: 5, aToB: { duplicate: 0.1, delayMs: 1 } });
      sendStream(t, 5000, 0.1, 40);
      const c = t.link.counters('a->b');
      expect(c.duplicated).toBeGreaterThan(420);
      expect(c.duplicated).toBeLessThan(580);
      expect(c.delivered).toBe(5000 + c.duplicated);
      const bySeq = new Map<number, Delivery[]>();
      for (const d of t.atB) {
        const list = bySeq.get(d.seq);
        if (list) list.push(d);
        else bySeq.set(d.seq, [d]);
      }
      const twins = [...bySeq.values()].filter((list) => list.length === 2);
      expect(twins).toHaveLength(c.duplicated);
      const sameBytes = (x: Uint8Array, y: Uint8Array): boolean => x.every((v, i) => v === y[i]);
      const faithful = twins.filter(
        ([first, second]) =>
          second!.frame !== first!.frame &&
          second!.frame.length === first!.frame.length &&
          sameBytes(first!.frame, second!.frame) &&
          first!.time === second!.time,
      );
      expect(faithful).toHaveLength(twins.length);
    });
  });

  describe('reordering', () => {
    it('holds frames back so later frames overtake them', () => {
      const t = makeLink({ seed: 6, aToB: { reorder: 0.1, delayMs: 5, reorderDelayMs: 3 } });
      sendStream(t, 1000, 1);
      const order = t.atB.map((d) => d.seq);
      expect(isSorted(order)).toBe(false);
      expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
      const c = t.link.counters('a->b');
      expect(c.reordered).toBeGreaterThan(70);
      expect(c.reordered).toBeLessThan(130);
      // Each held-back frame arrives 3 ms late, overtaken by the 3 frames sent after it.
      const late = t.atB.filter((d) => d.time === d.seq + 8);
      expect(late).toHaveLength(c.reordered);
      const overtaken = order.filter((seq, i) => order.slice(i + 1).some((s) => s < seq)).length;
      expect(overtaken).toBeGreaterThan(0);
    });

    it('defaults the hold-back to the propagation delay (at least 1 ms)', () => {
      const t = makeLink({ seed: 1, aToB: { reorder: 1, delayMs: 7 } });
      t.link.a.send(numberedFrame(1));
      const u = makeLink({ seed: 1, aToB: { reorder: 1 } });
      u.link.a.send(numberedFrame(1));
      t.clock.runUntilIdle();
      u.clock.runUntilIdle();
      expect(t.atB[0]!.time).toBe(14);
      expect(u.atB[0]!.time).toBe(1);
    });
  });

  describe('jitter', () => {
    it('varies delay but keeps FIFO order by default', () => {
      const t = makeLink({ seed: 7, aToB: { delayMs: 10, jitterMs: 20 } });
      sendStream(t, 1000, 1);
      const order = t.atB.map((d) => d.seq);
      expect(order).toEqual(Array.from({ length: 1000 }, (_, i) => i));
      const extra = t.atB.map((d) => d.time - d.seq - 10);
      expect(Math.min(...extra)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...extra)).toBeLessThan(20 + 1e-9);
      expect(new Set(extra.map((e) => e.toFixed(6))).size).toBeGreaterThan(500);
    });

    it('reorders only when allowed', () => {
      const t = makeLink({ seed: 7, aToB: { delayMs: 10, jitterMs: 20, jitterMayReorder: true } });
      sendStream(t, 1000, 1);
      expect(isSorted(t.atB.map((d) => d.seq))).toBe(false);
      expect(isSorted(t.atB.map((d) => d.time))).toBe(true);
      for (const d of t.atB) {
        expect(d.time - d.seq).toBeGreaterThanOrEqual(10);
        expect(d.time - d.seq).toBeLessThan(30);
      }
    });
  });

  describe('corruption', () => {
    it('flips one bit in a copy, leaving the sender buffer untouched', () => {
      const t = makeLink({ seed: 8, aToB: { corrupt: 1 } });
      const frames = Array.from({ length: 200 }, (_, i) => numberedFrame(i, 200));
      const pristine = frames.map((f) => f.slice());
      for (const f of frames) t.link.a.send(f);
      t.clock.runUntilIdle();
      expect(t.link.counters('a->b').corrupted).toBe(200);
      expect(frames).toEqual(pristine);
      for (let i = 0; i < 200; i++) {
        const got = t.atB[i]!.frame;
        expect(got).not.toBe(frames[i]);
        expect(differingBits(got, pristine[i]!)).toBe(1);
      }
      // Positions spread over the whole frame.
      const positions = t.atB.map((d, i) => d.frame.findIndex((byte, j) => byte !== pristine[i]![j]));
      expect(Math.min(...positions)).toBeLessThan(20);
      expect(Math.max(...positions)).toBeGreaterThan(190);
    });

    it('gives the memory of a frame back to the allocator when only corrupted copies of it travel', () => {
      // Every frame corrupted (a copy in a buffer of its own), half of them duplicated: 2000 frames from the
      // allocator, about 12 small slabs' worth, take no new slab when their buffers are carved again.
      const t = makeLink({ aToB: { corrupt: 1, duplicate: 0.5, delayMs: 1 } });
      const before = { ...frameAllocatorCounters };
      const buffers = new Set<ArrayBufferLike>();
      for (let i = 0; i < 2000; i++) {
        const frame = allocatedFrame(i);
        buffers.add(frame.buffer);
        t.link.a.send(frame);
      }
      t.clock.runUntilIdle();
      expect(frameAllocatorCounters.slabsAllocated - before.slabsAllocated).toBeLessThanOrEqual(1);
      expect(buffers.size).toBeLessThanOrEqual(2);
      const c = t.link.counters('a->b');
      expect(c.delivered).toBe(2000 + c.duplicated);
      expect(c.corrupted).toBe(c.delivered);
      // Each delivered copy was cut from its frame before the frame went back: one bit off the frame sent
      // (in send order, a duplicate right after its original).
      let sent = 0;
      for (const d of t.atB) {
        if (differingBits(d.frame, numberedFrame(sent, 1500)) !== 1) sent++;
        expect(differingBits(d.frame, numberedFrame(sent, 1500))).toBe(1);
      }
      expect(sent).toBe(1999);
      // A frame a tap was given stays the tap's.
      const seen: Uint8Array[] = [];
      const untap = t.link.tap((_time, frame) => seen.push(frame));
      for (let i = 0; i < 300; i++) t.link.a.send(allocatedFrame(i));
      untap();
      for (let i = 0; i < 2000; i++) t.link.a.send(allocatedFrame(10_000 + i));
      t.clock.runUntilIdle();
      expect(seen.map(seqOf)).toEqual([...Array(300).keys()]);
    });

    it('flips the configured number of distinct bits', () => {
      const t = makeLink({ seed: 8, aToB: { corrupt: 1, corruptBits: 3 } });
      const frame = numberedFrame(1, 64);
      const pristine = frame.slice();
      t.link.a.send(frame);
      t.clock.runUntilIdle();
      expect(differingBits(t.atB[0]!.frame, pristine)).toBe(3);
    });

    it('corrupts about the configured share of frames', () => {
      const t = makeLink({ seed: 8, aToB: { corrupt: 0.3 } });
      const pristine = Array.from({ length: 2000 }, (_, i) => numberedFrame(i, 40));
      sendStream(t, 2000, 0.01, 40);
      // No loss, no reordering: the i-th delivery is frame i (its number may itself be corrupted).
      const damaged = t.atB.filter((d, i) => differingBits(d.frame, pristine[i]!) > 0).length;
      expect(damaged).toBe(t.link.counters('a->b').corrupted);
      expect(damaged).toBeGreaterThan(540);
      expect(damaged).toBeLessThan(660);
    });
  });
});
