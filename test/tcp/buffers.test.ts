import { describe, expect, it, vi } from 'vitest';
import { lendFrameMemory } from '../../src/seams.js';
import {
  ByteRing,
  MAX_SEGMENT_VIEWS,
  RingStoragePool,
  SegmentViews,
  segmentViewCounters,
} from '../../src/tcp/byte-ring.js';
import { RangeAssembler } from '../../src/tcp/reassembly.js';
import {
  CHUNK_OVERHEAD,
  KEEP_VIEW_MIN,
  ReceiveBuffer,
  receiveBufferCounters,
  VIEW_LISTS_POOLED,
  VIEW_SLOTS_COMPACTED,
} from '../../src/tcp/receive-buffer.js';
import { SendBuffer } from '../../src/tcp/send-buffer.js';
import { viewBytes } from '../../src/util/bytes.js';
import { Random } from '../../src/util/random.js';
import { concat } from '../link/tcp-frame-builder.js';
import { pattern } from './dialogue.js';

// The ring cuts its views with viewBytes: counted here, each still cut as before.
vi.mock('../../src/util/bytes.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/util/bytes.js')>();
  return { ...original, viewBytes: vi.fn(original.viewBytes) };
});
const cut = vi.mocked(viewBytes);

describe('ByteRing', () => {
  it('appends up to its capacity, wraps around, and peeks views or copies', () => {
    const ring = new ByteRing(10, 4);
    expect(ring.append(pattern(7))).toBe(7);
    expect(ring.append(pattern(7, 7))).toBe(3);
    expect(ring.free).toBe(0);
    ring.consume(6);
    expect(ring.append(pattern(4, 10))).toBe(4);
    expect(Array.from(ring.peek(0, 8))).toEqual(Array.from(pattern(8, 6)));
    const out = new Uint8Array(5);
    expect(ring.read(out)).toBe(5);
    expect(Array.from(out)).toEqual(Array.from(pattern(5, 6)));
    expect(ring.length).toBe(3);
  });

  it('keeps uncommitted bytes in place while growing', () => {
    const ring = new ByteRing(100, 4);
    ring.append(pattern(3));
    ring.writeAt(20, pattern(5, 20)); // past the committed end, forces growth
    ring.writeAt(3, pattern(17, 3));
    ring.commit(22);
    expect(Array.from(ring.peek(0, 25 - 3))).toEqual(Array.from(pattern(22)));
  });

  it('gives drained storage to its pool and takes it back for the next bytes instead of allocating', () => {
    const pool = new RingStoragePool(8192);
    const a = new ByteRing(4096, 2048, pool);
    const b = new ByteRing(4096, 2048, pool);
    a.append(pattern(1000)); // 2048 bytes of storage
    a.append(pattern(2000, 1000)); // grown to 4096: the 2048 goes to the pool
    expect([pool.allocated, pool.reused, pool.heldBytes]).toEqual([2, 0, 2048]);
    b.append(pattern(100, 7)); // takes the 2048 back
    expect([pool.allocated, pool.reused, pool.heldBytes]).toEqual([2, 1, 0]);
    expect(Array.from(b.peek(0, 100))).toEqual(Array.from(pattern(100, 7)));
    a.consume(3000);
    a.releaseStorage();
    expect([a.allocated, pool.heldBytes]).toEqual([0, 4096]);
    // A ring reads only what it wrote: old bytes left in reused storage never show through.
    const c = new ByteRing(4096, 4096, pool);
    c.writeAt(10, pattern(5, 50));
    c.append(pattern(10, 1));
    c.commit(5);
    expect(Array.from(c.peek(0, 15))).toEqual([...pattern(10, 1), ...pattern(5, 50)]);
    expect([pool.allocated, pool.reused, pool.heldBytes]).toEqual([2, 2, 0]);
  });

  it('drained after every segment, takes the same storage back as the same view: no allocation per segment', () => {
    const pool = new RingStoragePool(8192);
    const ring = new ByteRing(1 << 20, 2048, pool);
    const storageOf = (): Uint8Array => (ring as unknown as { backing: Uint8Array }).backing;
    const out = new Uint8Array(1448);
    let first: Uint8Array | undefined;
    for (let i = 0; i < 50; i++) {
      ring.append(pattern(1448, i));
      first ??= storageOf();
      expect(storageOf()).toBe(first);
      expect(ring.read(out)).toBe(1448);
      expect(out).toEqual(pattern(1448, i));
      ring.releaseStorage();
    }
    expect([pool.allocated, pool.reused]).toEqual([1, 49]);
    // A view cut from pooled storage is handed out again for the same length only.
    const storage = pool.take(4096);
    const view = pool.view(storage, 3000);
    expect(view).toHaveLength(3000);
    expect(view.buffer).toBe(storage.buffer);
    expect(pool.view(storage, 3000)).toBe(view);
    expect(pool.view(storage, 2000)).toHaveLength(2000);
  });

  it('read from the start of its storage and on from where that read ended, cuts no new view for a start and length it read before', () => {
    const pool = new RingStoragePool(1 << 20);
    // Storage of 128 KiB from the first byte: the cuts counted are the reads' alone.
    const ring = new ByteRing(1 << 20, 131072, pool);
    const out = new Uint8Array(65536);
    const cuts: number[] = [];
    for (let round = 0; round < 9; round++) {
      // A bulk receiver: a burst of 50, 60 or 70 segments arrives, the reader drains it in buffers of
      // 64 KiB, the ring gives its storage back.
      const segments = 50 + 10 * (round % 3);
      for (let i = 0; i < segments; i++) ring.append(pattern(1448, round + i * 1448));
      cut.mockClear();
      expect(ring.read(out)).toBe(65536);
      expect(out).toEqual(pattern(65536, round));
      const rest = segments * 1448 - 65536;
      expect(ring.read(out)).toBe(rest);
      expect(out.subarray(0, rest)).toEqual(pattern(rest, round + 65536));
      cuts.push(cut.mock.calls.length);
      ring.releaseStorage();
    }
    // The first read of each burst (from the start, 64 KiB) cuts a view only the first time, and the
    // rest of the burst (from the middle) only the first time it has that length.
    expect(cuts).toEqual([2, 1, 1, 0, 0, 0, 0, 0, 0]);
  });

  it('reads the right bytes at any head, wrapped or not, with the views it cut before', () => {
    const ring = new ByteRing(4096, 4096, new RingStoragePool(1 << 20));
    const out = new Uint8Array(1000);
    let written = 0;
    let read = 0;
    for (let round = 0; round < 40; round++) {
      // Heads and lengths repeat every few rounds, so cached views are served again.
      while (ring.free >= 700) written += ring.append(pattern(700, written));
      const n = ring.read(out.subarray(0, 300 + 100 * (round % 4)));
      expect(out.subarray(0, n)).toEqual(pattern(n, read));
      read += n;
    }
    expect(read).toBeGreaterThan(4096 * 2);
  });

  it('writes bytes that wrap around the end of its storage in order, cutting no view of them when its backing goes on', () => {
    // 100,000 bytes grow the ring to 128 KiB of storage at the start of a 512 KiB backing (see reserve).
    const ring = new ByteRing(1 << 20, 2048, new RingStoragePool(4 << 20));
    ring.append(pattern(100_000));
    ring.consume(100_000);
    cut.mockClear();
    // From 100,000 to the end at 131,072, then 28,928 bytes from the start.
    expect(ring.append(pattern(60_000, 7))).toBe(60_000);
    expect(cut).not.toHaveBeenCalled();
    expect([ring.allocated, ring.length]).toEqual([131072, 60_000]);
    const out = new Uint8Array(60_000);
    expect(ring.read(out)).toBe(60_000);
    expect(out).toEqual(pattern(60_000, 7));
  });

  it('filled to the brim from an array it was offered before, cuts no new view for the same length', () => {
    const pool = new RingStoragePool(1 << 20);
    const ring = new ByteRing(100_000, 131072, pool);
    const chunk = pattern(65536, 5);
    const cuts: number[] = [];
    for (let round = 0; round < 4; round++) {
      // A bulk writer offering its one chunk whenever there is room: a whole chunk, then what fits.
      expect(ring.append(chunk)).toBe(65536);
      cut.mockClear();
      expect(ring.append(chunk)).toBe(100_000 - 65536);
      cuts.push(cut.mock.calls.length);
      expect([...ring.peek(65536, 100_000 - 65536)]).toEqual([...chunk.slice(0, 100_000 - 65536)]);
      ring.consume(100_000);
      ring.releaseStorage();
    }
    // The first time staged through the room behind the ring (see the next test), the second cut and
    // kept, then used again.
    expect(cuts).toEqual([0, 1, 0, 0]);
    // Another length is staged, and cut when it comes again.
    ring.growCapacity(101_000);
    for (const expected of [0, 1, 0]) {
      expect(ring.append(chunk)).toBe(65536);
      cut.mockClear();
      expect(ring.append(chunk)).toBe(101_000 - 65536);
      expect(cut.mock.calls.length).toBe(expected);
      expect([...ring.peek(65536, 101_000 - 65536)]).toEqual([...chunk.slice(0, 101_000 - 65536)]);
      ring.consume(101_000);
      ring.releaseStorage();
    }
  });

  it('takes part of a write, at lengths not seen before, through the room behind its end: no view cut, every byte in order', () => {
    const pool = new RingStoragePool(4 << 20);
    const ring = new ByteRing(300_000, 2048, pool);
    const random = new Random(12);
    const chunks = [pattern(65536, 1), pattern(65536, 2), pattern(65536, 3)];
    const model = new Uint8Array(16 << 20);
    let written = 0;
    let read = 0;
    let partial = 0;
    let viewsCut = 0;
    const out = new Uint8Array(70_000);
    while (written < 12 << 20) {
      // A writer offering whole chunks while there is room, and a reader taking a random amount between.
      for (;;) {
        const chunk = chunks[(written >> 10) % 3]!;
        const before = cut.mock.calls.length;
        const n = ring.append(chunk);
        if (n === 0) break;
        model.set(chunk.subarray(0, n), written);
        written += n;
        if (n < chunk.length) {
          partial++;
          viewsCut += cut.mock.calls.length - before;
          break;
        }
      }
      const n = ring.read(out.subarray(0, 1 + random.int(out.length - 1)));
      expect(Buffer.compare(out.subarray(0, n), model.subarray(read, read + n))).toBe(0);
      read += n;
    }
    // Lengths repeat now and then (cut on their second miss, then kept): far fewer views than parts.
    expect(partial).toBeGreaterThan(100);
    expect(viewsCut).toBeLessThan(partial / 4);
  });

  it('offered a fresh view of the rest of an array each time, cuts no new view for a start and length it cut before', () => {
    const ring = new ByteRing(10_000, 16384, new RingStoragePool(1 << 20));
    const data = pattern(65536, 1);
    const cuts: number[] = [];
    for (let round = 0; round < 4; round++) {
      // The writer's rest shrinks with each write (a view of its own each time); the ring takes 10,000.
      const rest = data.subarray(0, 65536 - 1000 * round);
      cut.mockClear();
      expect(ring.append(rest)).toBe(10_000);
      cuts.push(cut.mock.calls.length);
      expect(ring.peek(0, 10_000)).toEqual(pattern(10_000, 1));
      ring.consume(10_000);
      ring.releaseStorage();
    }
    expect(cuts).toEqual([1, 0, 0, 0]);
  });

  it('refills a drained ring at the size it had when a large write comes, without regrowing by doubling', () => {
    const pool = new RingStoragePool(4 * 1024 * 1024);
    const ring = new ByteRing(1 << 20, 2048, pool);
    const chunk = pattern(65536);
    for (let i = 0; i < 16; i++) ring.append(chunk); // 64 KiB .. 1 MiB: four doublings
    expect(ring.allocated).toBe(1 << 20);
    ring.consume(1 << 20);
    ring.releaseStorage();
    const [allocated, reused] = [pool.allocated, pool.reused];
    ring.append(pattern(65536, 3)); // a bulk writer's next read: the 1 MiB storage again at once
    expect(ring.allocated).toBe(1 << 20);
    expect([pool.allocated, pool.reused]).toEqual([allocated, reused + 1]);
    for (let i = 1; i < 16; i++) ring.append(chunk); // no growth (no copy, nothing taken) until full
    expect([pool.allocated, pool.reused]).toEqual([allocated, reused + 1]);
    expect(Array.from(ring.peek(0, 4))).toEqual(Array.from(pattern(4, 3)));
    ring.consume(1 << 20);
    ring.releaseStorage();
    ring.append(pattern(100)); // a small write after the drain starts small, as a fresh ring
    expect(ring.allocated).toBe(2048);
  });

  it('refilled segment by segment after a drain, goes back to the size it drained at on its first growth', () => {
    const pool = new RingStoragePool(4 * 1024 * 1024);
    const ring = new ByteRing(1 << 20, 2048, pool);
    const segment = pattern(1448);
    for (let i = 0; i < 90; i++) ring.append(segment); // 130,320 bytes: grown to 128 KiB by doubling
    expect(ring.allocated).toBe(128 * 1024);
    ring.consume(ring.length);
    ring.releaseStorage();
    const allocated = pool.allocated;
    ring.append(pattern(1448, 5)); // a receiver's next burst: the first segment starts small, as ever
    expect(ring.allocated).toBe(2048);
    ring.append(segment); // the first growth: the 128 KiB storage again, not 4 KiB, 8 KiB ...
    expect(ring.allocated).toBe(128 * 1024);
    for (let i = 2; i < 90; i++) ring.append(segment);
    expect(ring.allocated).toBe(128 * 1024);
    expect(pool.allocated).toBe(allocated);
    expect(Array.from(ring.peek(0, 4))).toEqual(Array.from(pattern(4, 5)));
    expect(Array.from(ring.peek(1448, 4))).toEqual(Array.from(segment.subarray(0, 4)));
  });

  it('bounds what its pool holds: storage beyond maxBytes is left to the collector and counted', () => {
    const pool = new RingStoragePool(4096);
    const rings = [0, 1, 2].map(() => new ByteRing(2048, 2048, pool));
    for (const ring of rings) ring.append(pattern(10));
    for (const ring of rings) {
      ring.consume(10);
      ring.releaseStorage();
    }
    expect([pool.heldBytes, pool.discarded]).toEqual([4096, 1]);
    // The one left to the collector was the first given back: the last two are reused.
    const again = [0, 1].map(() => new ByteRing(2048, 2048, pool));
    for (const ring of again) ring.append(pattern(10));
    expect([pool.reused, pool.heldBytes]).toEqual([2, 0]);
  });

  it('makes room for storage given back to a full pool by evicting the oldest, so the last drained size is reused', () => {
    const pool = new RingStoragePool(8192);
    const small = [0, 1, 2, 3].map(() => new ByteRing(2048, 2048, pool));
    for (const ring of small) ring.append(pattern(10));
    for (const ring of small) {
      ring.consume(10);
      ring.releaseStorage();
    }
    expect(pool.heldBytes).toBe(8192);
    // A bulk ring drained at 4 KiB: two 2 KiB buffers (the oldest) make room for it.
    const bulk = new ByteRing(65536, 2048, pool);
    bulk.append(pattern(4096));
    const allocatedBefore = pool.allocated;
    bulk.consume(4096);
    bulk.releaseStorage();
    expect([pool.heldBytes, pool.discarded]).toEqual([8192, 2]);
    bulk.append(pattern(3000, 9)); // its refill takes the 4 KiB storage back
    expect([bulk.allocated, pool.allocated, pool.heldBytes]).toEqual([4096, allocatedBefore, 4096]);
    expect(Array.from(bulk.peek(0, 3000))).toEqual(Array.from(pattern(3000, 9)));
    // A drained ring gives back its scratch before its storage: in a full pool the storage stays.
    const pool2 = new RingStoragePool(8192);
    const wrapping = new ByteRing(8192, 8192, pool2);
    wrapping.append(pattern(6000));
    wrapping.consume(5000);
    wrapping.append(pattern(5000, 3)); // wraps around the end of the storage
    expect(Array.from(wrapping.peek(0, 6000))).toEqual([...pattern(1000, 5000), ...pattern(5000, 3)]);
    wrapping.consume(6000);
    wrapping.releaseStorage();
    expect([pool2.heldBytes, pool2.discarded]).toEqual([8192, 1]);
    wrapping.append(pattern(10));
    expect([pool2.allocated, pool2.reused]).toEqual([2, 1]);
    // Storage larger than the whole pool is never kept, and evicts nothing.
    const huge = new ByteRing(16384, 16384, pool);
    huge.append(pattern(10));
    huge.consume(10);
    huge.releaseStorage();
    expect([pool.heldBytes, pool.discarded]).toEqual([4096, 3]);
  });

  it('never lets small storage push a larger one out of a full pool', () => {
    const pool = new RingStoragePool(8192);
    const large = new ByteRing(8192, 8192, pool);
    large.append(pattern(10));
    large.consume(10);
    large.releaseStorage();
    const small = new ByteRing(2048, 2048, pool);
    small.append(pattern(10));
    small.consume(10);
    small.releaseStorage();
    expect([pool.heldBytes, pool.discarded]).toEqual([8192, 1]);
    large.append(pattern(10));
    expect([pool.reused, large.allocated]).toEqual([1, 8192]);
  });

  it('grows a bulk ring into the smallest pooled storage of at least the next step, then in place within it', () => {
    const pool = new RingStoragePool(4 * 1024 * 1024);
    pool.give(new Uint8Array(1 << 20)); // what an earlier bulk connection's ring gave back
    // A new connection's ring (capacity still 300,000 bytes) grows past 64 KiB: it takes the 1 MiB.
    const ring = new ByteRing(300_000, 2048, pool);
    ring.append(pattern(30_000, 1));
    expect(ring.allocated).toBe(32768);
    const allocated = pool.allocated;
    ring.append(pattern(60_000, 2));
    expect([ring.allocated, pool.allocated, pool.heldBytes]).toEqual([131072, allocated, 32768]);
    // Autotuning raises the capacity: the ring grows within the same storage, nothing is taken.
    ring.growCapacity(900_000);
    ring.append(pattern(700_000, 3));
    expect([ring.allocated, pool.allocated, pool.reused]).toEqual([900_000, allocated, 1]);
    expect(Array.from(ring.peek(0, 30_000))).toEqual(Array.from(pattern(30_000, 1)));
    expect(Array.from(ring.peek(30_000, 60_000))).toEqual(Array.from(pattern(60_000, 2)));
    expect(Array.from(ring.peek(90_000, 700_000))).toEqual(Array.from(pattern(700_000, 3)));
  });

  it('grows in place keeping every byte at its distance from the head, whichever part had wrapped', () => {
    // [head, consumed, appended, grown by]: the head far along (its short tail moves to the new end), near
    // the start (the wrapped part follows the old end), and with more wrapped than the growth adds.
    const cases = [
      { capacity: 1 << 20, first: 100_000, consumed: 90_000, second: 100_000, third: 60_000 },
      { capacity: 1 << 20, first: 120_000, consumed: 20_000, second: 30_000, third: 10_000 },
      { capacity: 150_000, first: 120_000, consumed: 40_000, second: 50_000, third: 15_000 },
    ];
    for (const [k, c] of cases.entries()) {
      const pool = new RingStoragePool(4 * 1024 * 1024);
      pool.give(new Uint8Array(1 << 20));
      const ring = new ByteRing(c.capacity, 2048, pool);
      const model: number[] = [];
      const add = (bytes: Uint8Array): void => {
        expect(ring.append(bytes)).toBe(bytes.length);
        model.push(...bytes);
      };
      add(pattern(c.first, 10 * k + 1));
      expect(ring.allocated).toBe(131072);
      ring.consume(c.consumed);
      model.splice(0, c.consumed);
      add(pattern(c.second, 10 * k + 2)); // wraps around the end of the 128 KiB
      // Past it: grows in place, moving bytes within the backing and cutting no view of it.
      cut.mockClear();
      const subarray = vi.spyOn(Uint8Array.prototype, 'subarray');
      add(pattern(c.third, 10 * k + 3));
      expect([subarray.mock.calls.length, cut.mock.calls.length]).toEqual([0, 0]);
      subarray.mockRestore();
      expect(ring.allocated).toBe(Math.min(262144, c.capacity));
      expect(pool.allocated).toBe(0);
      expect(Array.from(ring.peek(0, ring.length))).toEqual(model);
    }
  });

  it('cut into quanta, sizes its storage to whole quanta and serves each segment the view cut one lap earlier', () => {
    const pool = new RingStoragePool(4 * 1024 * 1024);
    const ring = new ByteRing(1_250_000, 2048, pool);
    const sizeOf = (): number => (ring as unknown as { size: number }).size;
    ring.quantum = 1448;
    // A bulk sender: 64 KiB writes whenever there is room, MSS-sized segments peeked in order, each
    // acknowledged (consumed) a while after it was sent.
    let written = 0;
    let sent = 0;
    const laps: Uint8Array[][] = [];
    const write = (): void => {
      while (ring.free >= 65536) {
        ring.append(pattern(65536, written));
        written += 65536;
      }
    };
    write();
    expect(sizeOf() % 1448).toBe(0);
    expect(sizeOf()).toBeGreaterThanOrEqual(1_250_000);
    const perLap = sizeOf() / 1448;
    for (let lap = 0; lap < 3; lap++) {
      const views: Uint8Array[] = [];
      for (let i = 0; i < perLap; i++) {
        const offset = sent - (written - ring.length);
        const view = ring.peek(offset, 1448);
        expect(view[0]).toBe(sent & 0xff);
        views.push(view);
        sent += 1448;
        if (sent - (written - ring.length) > 200_000) ring.consume(1448 * 10);
        if (ring.free >= 65536 && i % 10 === 0) write();
      }
      laps.push(views);
    }
    // Laps 2 and 3 were served exactly the view objects of lap 1, position by position.
    for (let i = 0; i < perLap; i++) {
      expect(laps[1]![i]).toBe(laps[0]![i]);
      expect(laps[2]![i]).toBe(laps[0]![i]);
    }
    // A segment of several quanta (TSO) at a quantum's position is kept as well, apart from the shorter
    // ones: another start or length within the same quantum is cut afresh and kept in the short one's
    // place, and the TSO segment's view stays.
    const offset = sent - (written - ring.length);
    const tso = ring.peek(offset, 1448 * 45);
    expect(ring.peek(offset, 1448 * 45)).toBe(tso);
    const short = ring.peek(offset + 1, 100);
    expect([short.length, short[0]]).toEqual([100, (sent + 1) & 0xff]);
    expect(ring.peek(offset + 1, 100)).toBe(short);
    const again = ring.peek(offset, 1448 * 45);
    expect(again).toBe(tso);
    expect([again.length, again[0], again[again.length - 1]]).toEqual([
      1448 * 45,
      sent & 0xff,
      (sent + 1448 * 45 - 1) & 0xff,
    ]);
  });

  it('at the 4 MiB cap, holds the whole quanta below it, so segments keep their starts lap after lap', () => {
    // The default pool: its largest storage holds a 4 MiB ring and the room behind it (WRAP_ROOM).
    const pool = new RingStoragePool();
    const ring = new ByteRing(4 * 1024 * 1024, 2048, pool);
    ring.quantum = 1448;
    // 4 MiB is 2,896.6 segments: whole ones up to it would not fit in any storage the pool keeps.
    expect(ring.capacity).toBe(4 * 1024 * 1024);
    expect(ring.free).toBe(2896 * 1448);
    const chunk = pattern(65536);
    let written = 0;
    while (ring.free > 0) written += ring.append(chunk.subarray(0, Math.min(65536, ring.free)));
    expect(written).toBe(2896 * 1448);
    // A sender that never lets the ring drain: a segment consumed, one written, for three laps; every
    // segment starts where the one a lap earlier did, and is served its view.
    const cuts = segmentViewCounters.cut;
    let head = 0;
    for (let i = 0; i < 3 * 2896; i++) {
      const view = ring.peek(0, 1448);
      expect(view[0]).toBe(head & 0xff);
      ring.consume(1448);
      head += 1448;
      ring.append(pattern(1448, written));
      written += 1448;
    }
    expect(segmentViewCounters.cut - cuts).toBe(2896);
    // A pool whose largest storage is 4 MiB: the whole quanta below 4 MiB less the room (2,851.6 segments).
    const tight = new ByteRing(4 * 1024 * 1024, 2048, new RingStoragePool(4 * 1024 * 1024));
    tight.quantum = 1448;
    expect(tight.free).toBe(2851 * 1448);
    // Without a quantum the ring holds its whole capacity.
    const plain = new ByteRing(4 * 1024 * 1024, 2048, pool);
    expect(plain.free).toBe(4 * 1024 * 1024);
  });

  it('at the 4 MiB cap, copies 64 KiB writes that wrap around its end whole, however much wraps: no view of them is cut', () => {
    const size = 2896 * 1448;
    const chunks = [pattern(65536, 1), pattern(65536, 2), pattern(65536, 3)];
    const wrapped: number[] = [];
    let viewsCut = 0;
    // A bulk sender held back by its buffer: whole 64 KiB chunks written whenever one fits, after a first
    // short write of `lead` bytes, and segments acknowledged a few at a time, for two laps of the ring.
    // The leads put different parts of the wrapping writes past the end, 59,648 bytes or more among them
    // (the room a 1.25 MB ring had behind it).
    for (const lead of [1000, 30_000, 61_000]) {
      const ring = new ByteRing(4 * 1024 * 1024, 2048, new RingStoragePool());
      ring.quantum = 1448;
      const byteAt = (at: number): number =>
        at < lead ? (at + 9) & 0xff : chunks[Math.floor((at - lead) / 65536) % 3]![(at - lead) % 65536]!;
      ring.append(pattern(lead, 9));
      let written = lead;
      let acknowledged = 0;
      for (let step = 0; written < 2 * size; step++) {
        while (ring.free >= 65536) {
          const at = written % size;
          if (at + 65536 > size) wrapped.push(at + 65536 - size);
          const before = cut.mock.calls.length;
          expect(ring.append(chunks[((written - lead) / 65536) % 3]!)).toBe(65536);
          // Counted once the ring has its size (growing to it copies through views of the old storage).
          if (written >= size) viewsCut += cut.mock.calls.length - before;
          written += 65536;
        }
        const n = Math.min(ring.length, 1448 * (1 + (step % 7)));
        expect(ring.peek(n - 1, 1)[0]).toBe(byteAt(acknowledged + n - 1));
        ring.consume(n);
        acknowledged += n;
      }
      // Every byte still held is where it was written, wrapped or not.
      const rest = new Uint8Array(ring.length);
      expect(ring.read(rest)).toBe(rest.length);
      for (let i = 0; i < rest.length; i += 997) expect(rest[i]).toBe(byteAt(acknowledged + i));
    }
    expect(viewsCut).toBe(0);
    expect(wrapped.length).toBeGreaterThanOrEqual(6);
    expect(Math.max(...wrapped)).toBeGreaterThan(59_648);
  });

  it('keeps at most MAX_SEGMENT_VIEWS views per storage: a start past them is cut afresh each time, and counted', () => {
    const storage = new Uint8Array(MAX_SEGMENT_VIEWS + 100).map((_, i) => i & 0xff);
    const views = new SegmentViews(storage, 1);
    const before = segmentViewCounters.cutPastLimit;
    const kept = views.view(MAX_SEGMENT_VIEWS - 1, 1);
    expect(views.view(MAX_SEGMENT_VIEWS - 1, 1)).toBe(kept);
    expect(segmentViewCounters.cutPastLimit).toBe(before);
    const past = views.view(MAX_SEGMENT_VIEWS + 10, 5);
    expect(views.view(MAX_SEGMENT_VIEWS + 10, 5)).not.toBe(past);
    expect([...past]).toEqual([...storage.subarray(MAX_SEGMENT_VIEWS + 10, MAX_SEGMENT_VIEWS + 15)]);
    expect(segmentViewCounters.cutPastLimit).toBe(before + 2);
  });

  it('keeps the last four super-segments of different lengths at a step: lengths that take turns are cut once each', () => {
    const mss = 1448;
    const storage = new Uint8Array(200 * mss).map((_, i) => (i * 7) & 0xff);
    const views = new SegmentViews(storage, mss);
    const cuts = segmentViewCounters.cut;
    // Three lengths in turn at each of two starts (as acknowledgments of three sizes let them out), and a
    // one-MSS segment at the same step, which keeps its own view.
    const lengths = [12 * mss, 33 * mss, 45 * mss];
    const seen = new Map<string, Uint8Array>();
    for (let lap = 0; lap < 5; lap++) {
      for (const start of [2 * mss, 100 * mss]) {
        for (const length of lengths) {
          const view = views.view(start, length);
          expect([view.byteOffset, view.length]).toEqual([start, length]);
          const key = `${start}/${length}`;
          if (lap > 0) expect(view).toBe(seen.get(key));
          seen.set(key, view);
        }
        expect(views.view(start, mss)).toBe(views.view(start, mss));
      }
    }
    expect(segmentViewCounters.cut - cuts).toBe(2 * 3 + 2);
    // A fifth length at a step replaces the oldest of the four kept there (round robin).
    const extra = [5 * mss, 6 * mss];
    for (const length of extra) views.view(2 * mss, length);
    expect(views.view(2 * mss, 12 * mss)).not.toBe(seen.get(`${2 * mss}/${12 * mss}`));
  });

  it('model check: any mix of writes, peeks, reads, drains, growth and quantum changes keeps every byte', () => {
    const random = new Random(7);
    for (let round = 0; round < 30; round++) {
      const pool = new RingStoragePool(random.chance(0.5) ? 4 * 1024 * 1024 : 64 * 1024);
      const ring = new ByteRing(
        random.intBetween(1, 300_000),
        random.chance(0.5) ? 2048 : random.intBetween(1, 5000),
        pool,
      );
      const quanta = [0, 1, 7, 536, 1448, 1460, random.intBetween(1, 70_000)];
      // The model: every byte ever committed, the ring holding [first, end).
      const model = new Uint8Array(16 * 1024 * 1024);
      let first = 0;
      let end = 0;
      const add = (data: Uint8Array): void => {
        model.set(data, end);
        end += data.length;
      };
      const same = (view: Uint8Array, offset: number): boolean => {
        for (let i = 0; i < view.length; i++) if (view[i] !== model[first + offset + i]) return false;
        return true;
      };
      let next = round * 31;
      const bytes = (n: number): Uint8Array => {
        const out = pattern(n, next);
        next += n * 7 + 3; // successive writes differ at each position
        return out;
      };
      for (let op = 0; op < 300; op++) {
        const held = end - first;
        const choice = random.int(10);
        if (choice === 0) {
          ring.quantum = quanta[random.int(quanta.length)]!;
        } else if (choice === 1 || choice === 2) {
          const data = bytes(random.intBetween(0, Math.min(ring.capacity, 40_000)));
          const n = ring.append(data);
          expect(n).toBe(Math.min(data.length, ring.capacity - held));
          add(data.subarray(0, n));
        } else if (choice === 3 && ring.free > 0) {
          // Out of order first, then the gap before it, then both committed.
          const gap = random.intBetween(0, Math.min(ring.free - 1, 20_000));
          const ahead = bytes(random.intBetween(1, Math.min(ring.free - gap, 20_000)));
          const fill = bytes(gap);
          ring.writeAt(held + gap, ahead);
          ring.writeAt(held, fill);
          ring.commit(gap + ahead.length);
          add(fill);
          add(ahead);
        } else if (choice === 4 || choice === 5) {
          const offset = random.intBetween(0, held);
          const length = random.chance(0.5)
            ? random.intBetween(0, held - offset)
            : Math.min(ring.quantum * random.intBetween(1, 3) || 1, held - offset);
          const view = ring.peek(offset, length);
          expect(view.length).toBe(length);
          expect(same(view, offset)).toBe(true);
        } else if (choice === 6 && ring.quantum > 0) {
          // A sender's burst: segments of one quantum back to back, from the head or a byte or two past it.
          const size = ring.quantum;
          for (let offset = random.int(3); offset + size <= held && offset < 200 * size; offset += size)
            expect(same(ring.peek(offset, size), offset)).toBe(true);
        } else if (choice === 7) {
          const out = new Uint8Array(random.intBetween(0, 40_000));
          const n = ring.read(out);
          expect(n).toBe(Math.min(out.length, held));
          expect(same(out.subarray(0, n), 0)).toBe(true);
          first += n;
        } else if (choice === 8) {
          const n = random.chance(0.5) ? held : random.intBetween(0, held);
          ring.consume(n);
          first += n;
          ring.releaseStorage();
        } else {
          ring.growCapacity(ring.capacity + random.intBetween(0, 100_000));
        }
        expect(ring.length).toBe(end - first);
      }
      expect(same(ring.peek(0, end - first), 0)).toBe(true);
    }
  });

  it('refuses out-of-range operations', () => {
    const ring = new ByteRing(10);
    expect(() => ring.peek(0, 1)).toThrow(RangeError);
    expect(() => ring.consume(1)).toThrow(RangeError);
    expect(() => ring.writeAt(8, pattern(3))).toThrow(RangeError);
  });
});

describe('SendBuffer', () => {
  it('addresses bytes by sequence number across the 2^32 wrap and drops acknowledged ones', () => {
    const buf = new SendBuffer(100, 0xffff_fffe);
    expect(buf.write(pattern(50))).toBe(50);
    expect(buf.endSeq).toBe(48);
    expect(Array.from(buf.bytesAt(0, 3))).toEqual([2, 3, 4]);
    expect(buf.bytesFrom(40)).toBe(8);
    expect(buf.bytesFrom(60)).toBe(0);
    expect(buf.acknowledge(10)).toBe(12);
    expect(buf.startSeq).toBe(10);
    expect(buf.acknowledge(5)).toBe(0); // old ACK: nothing
    expect(buf.acknowledge(1000)).toBe(38); // clamped to what is held
    expect(buf.length).toBe(0);
  });
});

describe('RangeAssembler (bounded out-of-order ranges)', () => {
  it('merges touching and overlapping ranges and pops the in-order front', () => {
    const a = new RangeAssembler(4);
    expect(a.add(10, 20)).toBe(true);
    expect(a.add(30, 40)).toBe(true);
    expect(a.add(20, 30)).toBe(true);
    expect(a.ranges().map((r) => [r.start, r.end])).toEqual([[10, 40]]);
    expect(a.takeFront()).toBe(0);
    expect(a.add(0, 12)).toBe(true);
    expect(a.takeFront()).toBe(40);
    expect(a.isEmpty).toBe(true);
  });

  it('refuses a range that would exceed the limit, accepts one that merges', () => {
    const a = new RangeAssembler(2);
    a.add(10, 11);
    a.add(20, 21);
    expect(a.add(30, 31)).toBe(false);
    expect(a.add(11, 15)).toBe(true);
    expect(a.rangeCount).toBe(2);
  });

  it('orders ranges by recency for SACK (most recently touched has the highest counter)', () => {
    const a = new RangeAssembler(4);
    a.add(10, 11);
    a.add(20, 21);
    a.add(11, 12);
    const [first, second] = a.ranges();
    expect(first!.touched).toBeGreaterThan(second!.touched);
  });

  it('truncates at a FIN', () => {
    const a = new RangeAssembler(4);
    a.add(10, 20);
    a.add(30, 40);
    a.truncate(15);
    expect(a.ranges().map((r) => [r.start, r.end])).toEqual([[10, 15]]);
  });
});

describe('ReceiveBuffer', () => {
  it('reassembles out-of-order data in place and delivers it in order', () => {
    const rb = new ReceiveBuffer(100, 8);
    const data = pattern(60);
    expect(rb.insert(40, data.subarray(40, 60))).toBe(0);
    expect(rb.insert(20, data.subarray(20, 30))).toBe(0);
    expect(rb.hasOutOfOrder).toBe(true);
    expect(rb.outOfOrderEnd).toBe(60);
    expect(rb.insert(0, data.subarray(0, 20))).toBe(30);
    expect(rb.insert(0, data.subarray(30, 40))).toBe(30);
    expect(Array.from(rb.read(1000))).toEqual(Array.from(data));
    expect(rb.spaceFromNext).toBe(100);
  });

  it('charges out-of-order bytes by what it holds: one byte at the far edge of 8 MiB costs one chunk', () => {
    const capacity = 8 * 1024 * 1024;
    const rb = new ReceiveBuffer(capacity, 1024);
    const data = pattern(capacity);
    expect(rb.insert(capacity - 1, data.subarray(capacity - 1))).toBe(0);
    expect(rb.outOfOrderMemory).toBe(1 + CHUNK_OVERHEAD);
    expect(rb.allocated).toBe(1 + CHUNK_OVERHEAD);
    // The hole fills, out of order too (the second half first); then everything reads back exactly.
    expect(rb.insert(capacity / 2, data.subarray(capacity / 2, capacity - 1))).toBe(0);
    expect(rb.outOfOrderMemory).toBeLessThan(capacity / 2 + (capacity / 2 / 2048) * CHUNK_OVERHEAD);
    expect(rb.insert(0, data.subarray(0, capacity / 2))).toBe(capacity);
    expect(rb.outOfOrderMemory).toBe(0);
    const out = rb.read(capacity);
    expect(out.length).toBe(capacity);
    expect(out.every((b, i) => b === data[i])).toBe(true);
  });

  it('merges small neighbouring pieces, so one-byte segments cannot make the overhead outgrow the data', () => {
    const rb = new ReceiveBuffer(1 << 20, 1024);
    const data = pattern(64 * 1024);
    // 64 KiB less its first byte, in one-byte pieces from the far end down: one range, whose chunks hold
    // at least 1 KiB each on average (two that touch hold more than 2 KiB together).
    for (let i = data.length - 1; i >= 1; i--) expect(rb.insert(i, data.subarray(i, i + 1))).toBe(0);
    expect(rb.outOfOrderRangeCount).toBe(1);
    expect(rb.outOfOrderMemory).toBeLessThanOrEqual(
      data.length - 1 + ((2 * data.length) / 2048 + 1) * CHUNK_OVERHEAD,
    );
    expect(rb.insert(0, data.subarray(0, 1))).toBe(data.length);
    expect(Array.from(rb.read(data.length))).toEqual(Array.from(data));
  });

  it('forgets out-of-order bytes past a FIN, and the highest range when it must make room', () => {
    const rb = new ReceiveBuffer(1000, 2);
    const data = pattern(500);
    rb.insert(100, data.subarray(100, 200));
    rb.insert(300, data.subarray(300, 400));
    // A third range needs room: the highest (300-400) goes, bytes and all.
    rb.insert(220, data.subarray(220, 240));
    expect(rb.outOfOrderRanges().map((r) => [r.start, r.end])).toEqual([
      [100, 200],
      [220, 240],
    ]);
    expect(rb.outOfOrderMemory).toBe(120 + 2 * CHUNK_OVERHEAD);
    rb.truncateOutOfOrder(150);
    expect(rb.outOfOrderMemory).toBe(50 + CHUNK_OVERHEAD);
    expect(rb.insert(0, data.subarray(0, 100))).toBe(150);
    expect(Array.from(rb.read(1000))).toEqual(Array.from(data.subarray(0, 150)));
    expect(rb.allocated).toBe(0);
  });

  it('keeps out-of-order bytes while the application reads', () => {
    const rb = new ReceiveBuffer(100, 8);
    rb.insert(0, pattern(10));
    rb.insert(10, pattern(10, 20)); // offset 10 past RCV.NXT (which is 10 after the first insert)
    expect(rb.read(10).length).toBe(10);
    expect(rb.insert(0, pattern(10, 10))).toBe(20);
    expect(Array.from(rb.read(100))).toEqual(Array.from(pattern(20, 10)));
  });

  it('keeps a large in-order segment as the view it arrived in and hands that view over, copying nothing', () => {
    const rb = new ReceiveBuffer(1 << 20, 8);
    const frame = pattern(100 + KEEP_VIEW_MIN + 50);
    const payload = frame.subarray(100, 100 + KEEP_VIEW_MIN);
    expect(rb.insert(0, payload)).toBe(KEEP_VIEW_MIN);
    expect(rb.readable).toBe(KEEP_VIEW_MIN);
    expect(rb.spaceFromNext).toBe((1 << 20) - KEEP_VIEW_MIN);
    // Charged the whole frame the view pins, not only its bytes.
    expect(rb.allocated).toBe(frame.length);
    const allocated: number[] = [];
    const allocate = (n: number): Uint8Array => {
      allocated.push(n);
      return new Uint8Array(n);
    };
    // Read in two pieces: both are views of the frame itself.
    const first = rb.readChunk(1000, allocate);
    const rest = rb.readChunk(1 << 20, allocate);
    expect([first.buffer, first.byteOffset, first.length]).toEqual([frame.buffer, 100, 1000]);
    expect([rest.buffer, rest.byteOffset, rest.length]).toEqual([frame.buffer, 1100, KEEP_VIEW_MIN - 1000]);
    expect(allocated).toEqual([]);
    expect([rb.readable, rb.allocated]).toEqual([0, 0]);
    // A segment under the threshold is copied, into storage from `allocate`.
    rb.insert(0, pattern(500, 7));
    const copied = rb.readChunk(1 << 20, allocate);
    expect(copied.buffer).not.toBe(frame.buffer);
    expect(Array.from(copied)).toEqual(Array.from(pattern(500, 7)));
    expect(allocated).toEqual([500]);
  });

  it('delivers kept views and ring bytes in arrival order, whichever way they are read', () => {
    const big = KEEP_VIEW_MIN;
    const pieces = [pattern(big, 0), pattern(big, 1), pattern(300, 2), pattern(big, 3), pattern(big, 4)];
    const expected = Array.from(concat(...pieces));
    const fill = (rb: ReceiveBuffer): void => {
      let total = 0;
      // Two views, then a small piece into the ring: the large ones after it are copied behind it.
      for (const piece of pieces) {
        expect(rb.insert(0, piece)).toBe(piece.length);
        total += piece.length;
        expect(rb.readable).toBe(total);
      }
    };
    const byRead = new ReceiveBuffer(1 << 20, 8);
    fill(byRead);
    expect(Array.from(byRead.read(1 << 20))).toEqual(expected);
    const byInto = new ReceiveBuffer(1 << 20, 8);
    fill(byInto);
    const out = new Uint8Array(expected.length);
    let at = 0;
    for (const size of [big - 10, 20, 7, 1 << 20])
      at += byInto.readInto(out.subarray(at, Math.min(at + size, out.length)));
    expect(at).toBe(expected.length);
    expect(Array.from(out)).toEqual(expected);
    const byChunk = new ReceiveBuffer(1 << 20, 8);
    fill(byChunk);
    const chunks: Uint8Array[] = [];
    while (byChunk.readable > 0) chunks.push(byChunk.readChunk(1 << 20, (n) => new Uint8Array(n)));
    expect(chunks.map((c) => c.length)).toEqual([big, big, 300 + 2 * big]);
    expect(Array.from(concat(...chunks))).toEqual(expected);
  });

  it('keeps its list of views bounded for a reader that always leaves one behind, in order', () => {
    const rb = new ReceiveBuffer(4 * KEEP_VIEW_MIN, 8);
    const views = () => (rb as unknown as { views: Uint8Array[] }).views.length;
    rb.insert(0, pattern(KEEP_VIEW_MIN, 0));
    let longest = 0;
    for (let i = 1; i <= 1000; i++) {
      expect(rb.insert(0, pattern(KEEP_VIEW_MIN, i))).toBe(KEEP_VIEW_MIN);
      // The oldest view goes whole: the one that arrived before this one.
      expect(Array.from(rb.readChunk(KEEP_VIEW_MIN, (n) => new Uint8Array(n)))).toEqual(
        Array.from(pattern(KEEP_VIEW_MIN, i - 1)),
      );
      longest = Math.max(longest, views());
    }
    expect(rb.readable).toBe(KEEP_VIEW_MIN);
    expect(longest).toBeLessThanOrEqual(2 * VIEW_SLOTS_COMPACTED);
  });

  it('charges kept views the buffers they pin, one charge per run of views into the same buffer', () => {
    const rb = new ReceiveBuffer(1 << 20, 8);
    const slab = pattern(256 * 1024);
    const a = slab.subarray(0, KEEP_VIEW_MIN);
    const b = slab.subarray(KEEP_VIEW_MIN, 3 * KEEP_VIEW_MIN);
    const other = pattern(KEEP_VIEW_MIN + 10, 5);
    const c = slab.subarray(3 * KEEP_VIEW_MIN, 4 * KEEP_VIEW_MIN);
    for (const piece of [a, b, other, c]) expect(rb.insert(0, piece)).toBe(piece.length);
    // slab (a, b), other, slab again (c): a new run, charged again.
    expect(rb.allocated).toBe(2 * slab.length + other.length);
    const chunk = (): Uint8Array => rb.readChunk(1 << 20, (n) => new Uint8Array(n));
    expect(chunk().byteOffset).toBe(0);
    expect(rb.allocated).toBe(2 * slab.length + other.length);
    expect(chunk().byteOffset).toBe(KEEP_VIEW_MIN);
    expect(rb.allocated).toBe(slab.length + other.length);
    expect(chunk().buffer).toBe(other.buffer);
    expect(rb.allocated).toBe(slab.length);
    // Part of the last view, then the rest: the slab stays charged until the last byte is taken.
    expect(rb.readChunk(100, (n) => new Uint8Array(n)).length).toBe(100);
    expect(rb.allocated).toBe(slab.length);
    expect(chunk().length).toBe(KEEP_VIEW_MIN - 100);
    expect([rb.readable, rb.allocated]).toEqual([0, 0]);
  });

  it('copies a large segment instead of keeping it when the buffer it would pin is over the capacity', () => {
    // Each segment is a small part of a 1 MiB device buffer of its own: keeping them all would pin
    // 1 MiB per 16 KiB of window.
    const capacity = 4 << 20;
    const rb = new ReceiveBuffer(capacity, 8);
    const slabs = Array.from({ length: 16 }, (_, i) => pattern(1 << 20, i));
    const pieces = slabs.map((slab) => slab.subarray(100, 100 + KEEP_VIEW_MIN));
    const copiedBefore = receiveBufferCounters.viewsCopiedOverPinLimit;
    for (const piece of pieces) expect(rb.insert(0, piece)).toBe(KEEP_VIEW_MIN);
    // The fifth is refused a view and counted; the rest go to the ring behind it without asking.
    expect(receiveBufferCounters.viewsCopiedOverPinLimit - copiedBefore).toBe(1);
    expect(rb.readable).toBe(16 * KEEP_VIEW_MIN);
    // Four slabs fit in the capacity; the other twelve segments were copied into the ring (whose storage
    // grows in power-of-two steps).
    expect(rb.allocated).toBeLessThanOrEqual(capacity + 2 * 12 * KEEP_VIEW_MIN);
    expect(rb.allocated).toBeGreaterThanOrEqual(capacity + 12 * KEEP_VIEW_MIN);
    const chunks: Uint8Array[] = [];
    while (rb.readable > 0) chunks.push(rb.readChunk(1 << 20, (n) => new Uint8Array(n)));
    expect(chunks.slice(0, 4).map((c) => c.buffer)).toEqual(slabs.slice(0, 4).map((s) => s.buffer));
    expect(chunks.slice(4).every((c) => !slabs.some((s) => s.buffer === c.buffer))).toBe(true);
    expect(Array.from(concat(...chunks))).toEqual(Array.from(concat(...pieces)));
    expect(rb.allocated).toBe(0);
    // A buffer bigger than the whole capacity is never kept.
    const small = new ReceiveBuffer(256 * 1024, 8);
    const huge = pattern(1 << 20, 3);
    expect(small.insert(0, huge.subarray(0, KEEP_VIEW_MIN))).toBe(KEEP_VIEW_MIN);
    expect(small.readChunk(1 << 20, (n) => new Uint8Array(n)).buffer).not.toBe(huge.buffer);
  });

  it('counts kept views against the window and drops them on clear', () => {
    const rb = new ReceiveBuffer(3 * KEEP_VIEW_MIN, 8);
    rb.insert(0, pattern(KEEP_VIEW_MIN));
    rb.insert(0, pattern(KEEP_VIEW_MIN, 9));
    expect(rb.spaceFromNext).toBe(KEEP_VIEW_MIN);
    // Out-of-order bytes after the views, then the gap filled: all in order.
    expect(rb.insert(100, pattern(50, 3))).toBe(0);
    expect(rb.insert(0, pattern(100, 1))).toBe(150);
    expect(rb.readable).toBe(2 * KEEP_VIEW_MIN + 150);
    expect(Array.from(rb.read(3 * KEEP_VIEW_MIN))).toEqual(
      Array.from(concat(pattern(KEEP_VIEW_MIN), pattern(KEEP_VIEW_MIN, 9), pattern(100, 1), pattern(50, 3))),
    );
    rb.insert(0, pattern(KEEP_VIEW_MIN));
    rb.clear();
    expect([rb.readable, rb.allocated, rb.spaceFromNext]).toEqual([0, 0, 3 * KEEP_VIEW_MIN]);
  });

  it('gives a kept view back to the device that lent it once a read copied it out to its end, never one the application got', () => {
    // Four frames of one lent buffer; what the device is told is recorded, as the payload views' offsets.
    const lent = pattern(4 * 20_000);
    const givenBack: number[] = [];
    lendFrameMemory(lent.buffer, (view) => givenBack.push(view.byteOffset));
    const payload = (k: number): Uint8Array =>
      lent.subarray(k * 20_000 + 100, k * 20_000 + 100 + KEEP_VIEW_MIN);
    const rb = new ReceiveBuffer(1 << 20, 8);
    const keptBefore = receiveBufferCounters.viewsKept;
    for (let k = 0; k < 3; k++) expect(rb.insert(0, payload(k))).toBe(KEEP_VIEW_MIN);
    expect(receiveBufferCounters.viewsKept - keptBefore).toBe(3);
    // The first view copied in two reads: given back after the second, with the bytes already copied.
    const out = new Uint8Array(3 * KEEP_VIEW_MIN);
    expect(rb.readInto(out.subarray(0, 1000))).toBe(1000);
    expect(givenBack).toEqual([]);
    expect(rb.readInto(out.subarray(1000, KEEP_VIEW_MIN))).toBe(KEEP_VIEW_MIN - 1000);
    expect(givenBack).toEqual([1000 + 100]);
    // The second: part of it went to the application as a view, so the rest never goes back.
    expect(rb.readChunk(10, (n) => new Uint8Array(n)).byteOffset).toBe(20_000 + 100);
    expect(rb.readInto(out.subarray(KEEP_VIEW_MIN + 10, 2 * KEEP_VIEW_MIN))).toBe(KEEP_VIEW_MIN - 10);
    expect(givenBack).toEqual([1100]);
    // The third, copied whole by read(): given back.
    expect(Array.from(rb.read(KEEP_VIEW_MIN))).toEqual(Array.from(payload(2)));
    expect(givenBack).toEqual([1100, 40_100]);
    expect(Array.from(out.subarray(0, KEEP_VIEW_MIN))).toEqual(Array.from(payload(0)));
    // Cleared (an abort): kept views go back, but not one the application got part of.
    expect(rb.insert(0, payload(3))).toBe(KEEP_VIEW_MIN);
    rb.clear();
    expect(givenBack).toEqual([1100, 40_100, 60_100]);
    rb.insert(0, payload(3));
    rb.readChunk(5, (n) => new Uint8Array(n));
    rb.clear();
    expect(givenBack).toEqual([1100, 40_100, 60_100]);
    // Memory nobody lent (a copy, a test's array) is simply let go.
    const plain = new ReceiveBuffer(1 << 20, 8);
    plain.insert(0, pattern(KEEP_VIEW_MIN));
    expect(plain.read(KEEP_VIEW_MIN).length).toBe(KEEP_VIEW_MIN);
  });

  it('copies the start of a kept view into the end of a read buffer, then the rest into the next read, each view given back once', () => {
    // A bulk reader with one buffer whose reads end inside kept views: views of three sizes, read 7,000
    // bytes at a time into one reused array, so reads start and end at every kind of place in them.
    const lent = pattern(3 * 30_000, 4);
    const givenBack: number[] = [];
    lendFrameMemory(lent.buffer, (view) => givenBack.push(view.byteOffset));
    const sizes = [KEEP_VIEW_MIN, KEEP_VIEW_MIN + 3001, KEEP_VIEW_MIN + 1];
    const payloads = sizes.map((size, k) => lent.subarray(k * 30_000, k * 30_000 + size));
    const rb = new ReceiveBuffer(1 << 20, 8);
    for (const p of payloads) expect(rb.insert(0, p)).toBe(p.length);
    const expected = Array.from(concat(...payloads));
    const got: number[] = [];
    const dst = new Uint8Array(7000 + 16);
    for (;;) {
      dst.fill(0xee);
      const n = rb.readInto(dst.subarray(0, 7000));
      if (n === 0) break;
      got.push(...dst.subarray(0, n));
      // Nothing is written past what the read was given.
      expect(Array.from(dst.subarray(7000))).toEqual(new Array(16).fill(0xee));
      expect(n).toBe(Math.min(7000, expected.length - (got.length - n)));
    }
    expect(got).toEqual(expected);
    // Each once, as the view of its last part (the device finds its frame from any view into it): the
    // second's first 4,616 bytes ended the third read, the third's first 6,231 the sixth.
    expect(givenBack).toEqual([2 * 7000, 30_000 + 4616 + 2 * 7000, 60_000 + 6231 + 7000]);
    expect([rb.readable, rb.allocated]).toEqual([0, 0]);
  });

  it('buffers that empty their lists of views and take them up again keep each its own bytes', () => {
    // Two buffers in turn keep views and read them out, emptying their lists (which other buffers then
    // take up again) at some reads and not at others.
    const random = new Random(3);
    const buffers = [new ReceiveBuffer(1 << 20, 8), new ReceiveBuffer(1 << 20, 8)];
    const pending: number[][] = [[], []];
    let fill = 0;
    for (let round = 0; round < 200; round++) {
      const b = random.int(2);
      const rb = buffers[b]!;
      if (random.chance(0.6)) {
        const piece = pattern(KEEP_VIEW_MIN + random.int(3000), fill++);
        expect(rb.insert(0, piece)).toBe(piece.length);
        pending[b]!.push(...piece);
      } else {
        const max = random.chance(0.5) ? 1 << 20 : random.intBetween(1, 2 * KEEP_VIEW_MIN);
        const out = new Uint8Array(max);
        const n = rb.readInto(out);
        expect(Array.from(out.subarray(0, n))).toEqual(pending[b]!.splice(0, n));
      }
      expect(buffers.map((x) => x.readable)).toEqual(pending.map((p) => p.length));
    }
  });

  it('pools at most VIEW_LISTS_POOLED emptied lists of views, counting each one more left to the collector', () => {
    // Twice the bound of buffers each keep a view, taking up whatever lists earlier tests pooled (at most
    // the bound), then each reads it out: the first VIEW_LISTS_POOLED emptied lists are pooled, the rest
    // counted.
    const buffers = Array.from({ length: 2 * VIEW_LISTS_POOLED }, () => new ReceiveBuffer(1 << 20, 8));
    const kept = receiveBufferCounters.viewsKept;
    for (const [k, rb] of buffers.entries()) {
      expect(rb.insert(0, pattern(KEEP_VIEW_MIN, k))).toBe(KEEP_VIEW_MIN);
    }
    expect(receiveBufferCounters.viewsKept - kept).toBe(2 * VIEW_LISTS_POOLED);
    const before = receiveBufferCounters.viewListsDiscarded;
    const out = new Uint8Array(KEEP_VIEW_MIN);
    for (const [k, rb] of buffers.entries()) {
      expect(rb.readInto(out)).toBe(KEEP_VIEW_MIN);
      expect(out).toEqual(pattern(KEEP_VIEW_MIN, k));
      expect(receiveBufferCounters.viewListsDiscarded - before).toBe(Math.max(0, k + 1 - VIEW_LISTS_POOLED));
    }
  });

  it('works the same whether or not it has held out-of-order bytes before (its out-of-order store is made on first use)', () => {
    // Two buffers that never held anything out of order: every query answers "nothing held", and
    // truncating or clearing them changes nothing, including for a later out-of-order segment.
    const fresh = [new ReceiveBuffer(100, 8), new ReceiveBuffer(100, 8)];
    for (const rb of fresh) {
      expect(rb.hasOutOfOrder).toBe(false);
      expect(rb.outOfOrderEnd).toBe(0);
      expect(rb.outOfOrderRangeCount).toBe(0);
      expect(rb.outOfOrderRanges()).toEqual([]);
      expect(rb.prunedRanges).toBe(0);
      expect(rb.heldWithin(0, 50)).toBeUndefined();
      expect(rb.recentOutOfOrderRanges(4, [])).toBe(0);
      rb.truncateOutOfOrder(10);
      rb.clear();
      expect(rb.insert(0, pattern(5))).toBe(5);
    }
    // The first one now takes a piece out of order; the other must still see nothing held.
    expect(fresh[0]!.insert(10, pattern(10, 15))).toBe(0);
    expect(fresh[0]!.outOfOrderRanges()).toEqual([{ start: 10, end: 20, touched: 1 }]);
    expect(fresh[1]!.hasOutOfOrder).toBe(false);
    expect(fresh[1]!.insert(0, pattern(20, 5))).toBe(20);
    expect(fresh[0]!.insert(0, pattern(10, 5))).toBe(20);
    expect(Array.from(fresh[0]!.read(100))).toEqual(Array.from(pattern(25)));
    // Cleared after holding out-of-order bytes: the store empties and is used again.
    fresh[0]!.insert(7, pattern(3, 40));
    fresh[0]!.clear();
    expect(fresh[0]!.hasOutOfOrder).toBe(false);
    expect(fresh[0]!.insert(4, pattern(4, 29))).toBe(0);
    expect(fresh[0]!.insert(0, pattern(4, 25))).toBe(8);
    expect(Array.from(fresh[0]!.read(100))).toEqual(Array.from(pattern(8, 25)));
  });
});
