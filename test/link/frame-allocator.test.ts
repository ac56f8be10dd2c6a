import { describe, expect, it } from 'vitest';
import {
  allocateFrame,
  carvedPlace,
  frameAllocatorCounters,
  frameView,
  recycleFrame,
} from '../../src/link/frame-allocator.js';
import { checksumAdd } from '../../src/wire/checksum.js';
import { FRAME_MEMORY_BYTES, frameMemory, simdSummer } from '../../src/wire/checksum-simd.js';
import { emitIpv4Header, type Ipv4Header, parseIpv4 } from '../../src/wire/ipv4.js';
import { emitTcp, parseTcp, type TcpSegment } from '../../src/wire/tcp.js';
import { sameSlab, slabCount } from './link-fixtures.js';

describe('allocateFrame', () => {
  it('carves MTU-sized frames from the checksum memory, whose sums read them in place, and no others', () => {
    // First in the file: the checksum memory holds sixteen slabs, which later tests use up.
    const frame = allocateFrame(1514);
    const jumbo = allocateFrame(9014);
    expect(simdSummer!.holds(frame)).toBe(true);
    expect(simdSummer!.holds(jumbo)).toBe(true);
    expect(frameAllocatorCounters.slabsInChecksumMemory).toBe(1);
    // Headers alone, and frames too large to be copied out by TCP (16 KiB or more), stay in buffers.
    expect(simdSummer!.holds(allocateFrame(66))).toBe(false);
    expect(simdSummer!.holds(allocateFrame(16 * 1024 + 54))).toBe(false);
    // A frame there is summed as anywhere else.
    frame.fill(0x5a, 34);
    expect(checksumAdd(0, frame, 34, 1480)).toBe(checksumAdd(0, frame.slice(), 34, 1480));
    recycleFrame(frame);
    recycleFrame(jumbo);
  });

  it('sums a frame of the checksum memory where it lies, whether the allocator knows it by identity or not', () => {
    // Each frame's bytes its own: a sum read at another frame's place would differ from its copy's.
    const sumsAsCopied = (frame: Uint8Array): void => {
      expect(checksumAdd(0, frame, 34, 1480)).toBe(checksumAdd(0, frame.slice(), 34, 1480));
    };
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 8; i++) {
      const frame = allocateFrame(1514);
      expect(simdSummer!.holds(frame)).toBe(true);
      for (let j = 0; j < frame.length; j++) frame[j] = (i * 37 + j * 11) & 0xff;
      // The frame just carved: a sender summing the segment it wrote.
      sumsAsCopied(frame);
      frames.push(frame);
    }
    // Out of carving order (looked up), then each the next to come back (a receiver, before giving it back).
    sumsAsCopied(frames[5]!);
    sumsAsCopied(frames[2]!);
    for (const frame of frames) {
      sumsAsCopied(frame);
      recycleFrame(frame);
    }
  });

  it('tells where the frame just carved lies in the checksum memory, and an IPv4 header written there is the same', () => {
    const frame = allocateFrame(1514);
    const place = carvedPlace(0);
    expect(place).toBeGreaterThanOrEqual(0);
    expect(carvedPlace(14)).toBe(place + 14);
    // The place is the frame's own bytes: what is written to the one reads in the other.
    for (let j = 0; j < frame.length; j++) frame[j] = (j * 7 + 3) & 0xff;
    expect(frameMemory!.subarray(place, place + frame.length)).toEqual(frame);
    // Every field with bits in both bytes of its word, addresses above 2^31: written through the place (as
    // words) and into a plain buffer (byte by byte), the two headers are the same and check.
    const header: Ipv4Header = {
      tos: 0xb9,
      id: 0xfedc,
      dontFragment: true,
      moreFragments: true,
      fragmentOffset: 0x1ff8,
      ttl: 0xfe,
      protocol: 0x86,
      src: 0xc0a8fe01,
      dst: 0xfffefdfc,
    };
    expect(emitIpv4Header(header, 1480, frame, 14, carvedPlace(14))).toBe(20);
    const plain = new Uint8Array(1514);
    emitIpv4Header(header, 1480, plain, 14);
    expect(frame.subarray(14, 34)).toEqual(plain.subarray(14, 34));
    // Bytes around the header untouched.
    expect(frame[13]).toBe((13 * 7 + 3) & 0xff);
    expect(frame[34]).toBe((34 * 7 + 3) & 0xff);
    const parsed = parseIpv4(frame.subarray(14));
    expect(parsed.ok && parsed.value).toMatchObject({ ...header, totalLength: 1500 });
    // Frames elsewhere have no place: headers alone, and frames too large for the memory's slabs.
    allocateFrame(66);
    expect(carvedPlace(14)).toBe(-1);
    allocateFrame(1514);
    allocateFrame(16 * 1024 + 54);
    expect(carvedPlace(14)).toBe(-1);
    allocateFrame(1514);
    allocateFrame(131_072, 10);
    expect(carvedPlace(14)).toBe(-1);
    recycleFrame(frame);
  });

  it('writes a TCP segment into a frame of the checksum memory as words, the same as byte by byte', () => {
    const src = 0xc0a8fe01;
    const dst = 0xfffefdfc;
    const payload = new Uint8Array(1000).map((_, j) => (j * 13 + 5) & 0xff);
    // Every field with bits in both halves of its word; with timestamps (written as words there, with
    // SACK-permitted before them on a SYN) and without, with SACK blocks (written byte by byte everywhere).
    const segments: TcpSegment[] = [
      {
        srcPort: 0xfedc,
        dstPort: 0x8001,
        seq: 0xfffffff0,
        ack: 0x80000001,
        flags: 0xd8,
        window: 0xfffe,
        urgentPointer: 0x8123,
        options: { timestamp: { value: 0xfedcba98, echo: 0x89abcdef } },
        payload,
      },
      {
        srcPort: 443,
        dstPort: 0xffff,
        seq: 1,
        ack: 0xffffffff,
        flags: 0x10,
        window: 0x8000,
        urgentPointer: 0,
        options: {},
        payload,
      },
      {
        srcPort: 1,
        dstPort: 2,
        seq: 3,
        ack: 4,
        flags: 0x12,
        window: 5,
        urgentPointer: 0,
        options: { mss: 1460, sackPermitted: true, windowScale: 7, timestamp: { value: 1, echo: 0 } },
        payload,
      },
      {
        srcPort: 1,
        dstPort: 2,
        seq: 3,
        ack: 4,
        flags: 0x10,
        window: 5,
        urgentPointer: 0,
        options: { timestamp: { value: 9, echo: 8 }, sack: [{ left: 0x80000000, right: 0x80001000 }] },
        payload,
      },
    ];
    for (const seg of segments) {
      const frame = allocateFrame(1514);
      const place = carvedPlace(34);
      expect(place).toBeGreaterThanOrEqual(0);
      const length = emitTcp(seg, src, dst, frame, 34, { place });
      const plain = new Uint8Array(1514);
      expect(emitTcp(seg, src, dst, plain, 34)).toBe(length);
      expect(frame.subarray(34, 34 + length)).toEqual(plain.subarray(34, 34 + length));
      const parsed = parseTcp(frame.subarray(34, 34 + length), src, dst);
      expect(parsed.ok).toBe(true);
      recycleFrame(frame);
    }
  });

  it('hands out zero-filled frames of the length asked, each region once', () => {
    const frames: Uint8Array[] = [];
    // Enough 1514-byte frames to fill several slabs.
    for (let i = 0; i < 600; i++) {
      const frame = allocateFrame(1514);
      expect(frame.length).toBe(1514);
      expect(frame.every((b) => b === 0)).toBe(true);
      frame.fill(i & 0xff || 1);
      frames.push(frame);
    }
    // Writing one frame never touched another: every frame still holds only its own fill byte.
    for (const [i, frame] of frames.entries()) expect(frame.every((b) => b === (i & 0xff || 1))).toBe(true);
    const sameBuffer = frames.filter((f) => sameSlab(f, frames[0]!)).length;
    expect(sameBuffer).toBeGreaterThan(1);
    expect(sameBuffer).toBeLessThan(600);
  });

  it('starts frames on 8-byte boundaries and leaves the headroom free in front of them', () => {
    allocateFrame(3); // leaves the slab's offset unaligned
    const frame = allocateFrame(66, 12);
    expect(frame.byteOffset % 8).toBe(0);
    expect(frame.byteOffset).toBeGreaterThanOrEqual(12);
    const withHeadroom = new Uint8Array(frame.buffer, frame.byteOffset - 12, 12 + frame.length);
    withHeadroom.fill(0xab);
    // The next frame does not overlap the previous frame's headroom or body.
    const next = allocateFrame(66, 12);
    expect(next.every((b) => b === 0)).toBe(true);
    expect(withHeadroom.every((b) => b === 0xab)).toBe(true);
  });

  it('carves segmentation-offload packets (up to 64 KiB) from large slabs apart from small frames', () => {
    const small = allocateFrame(1514);
    const packets = Array.from({ length: 10 }, (_, i) => {
      const packet = allocateFrame(65549, 12);
      expect(packet.length).toBe(65549);
      expect(packet.byteOffset % 8).toBe(0);
      expect(packet.every((b) => b === 0)).toBe(true);
      packet.fill(i + 1);
      return packet;
    });
    for (const [i, packet] of packets.entries()) expect(packet.every((b) => b === i + 1)).toBe(true);
    expect(packets.every((p) => p.buffer !== small.buffer)).toBe(true);
    // 1 MiB slabs: at least eight packets share one, so ten take two or three buffers, not ten.
    const buffers = new Set(packets.map((p) => p.buffer));
    expect(buffers.size).toBeLessThanOrEqual(3);
    expect([...buffers].every((b) => b.byteLength === 1024 * 1024)).toBe(true);
  });

  it('gives a frame larger than an eighth of a large slab a buffer of its own', () => {
    const frame = allocateFrame(131_072, 10);
    expect(frame.length).toBe(131_072);
    expect(frame.byteOffset).toBe(10);
    expect(frame.buffer.byteLength).toBe(131_082);
    expect(frame.every((b) => b === 0)).toBe(true);
  });

  /** Large frames until one starts a slab of its own (the allocator is shared by the whole process). */
  function firstOfFreshSlab(): Uint8Array {
    const previous = allocateFrame(65549, 12).buffer;
    for (;;) {
      const frame = allocateFrame(65549, 12);
      if (frame.buffer !== previous) return frame;
    }
  }

  it('carves a slab again once every frame from it was given back in order, zeroing its frames', () => {
    let frame = firstOfFreshSlab();
    const slab = frame.buffer;
    const firstOffset = frame.byteOffset;
    let carved = 0;
    // A device that writes each frame out at once gives it back right away.
    do {
      expect(frame.buffer).toBe(slab);
      frame.fill(0xee);
      recycleFrame(frame);
      carved++;
      frame = allocateFrame(65549, 12);
    } while (frame.byteOffset !== firstOffset);
    expect(frame.buffer).toBe(slab);
    expect(carved).toBeGreaterThanOrEqual(8);
    expect(frame.every((b) => b === 0)).toBe(true);
    // A caller that writes the rest itself asks for only its headers cleared: the rest is left as it was.
    const partly = allocateFrame(65549, 12, 100);
    expect(partly.buffer).toBe(slab);
    expect(partly.subarray(0, 100).every((b) => b === 0)).toBe(true);
    expect(partly.subarray(100).every((b) => b === 0xee)).toBe(true);
  });

  it('carves a slab of MTU-sized frames again once each came back as carved, twice-given ones counted once', () => {
    // A memory link gives each frame back as it is delivered, in the order they were carved: the path
    // recycleFrame finds by the frame object alone. From the first frame of a fresh slab of 1514-byte
    // frames, each given back (once, or twice) right after it was carved, except the eleventh when one is
    // kept: the slab is carved again from its start once full exactly when no frame is out.
    for (const misuse of ['none', 'each given back twice, the eleventh kept'] as const) {
      const previous = allocateFrame(1514);
      let frame = allocateFrame(1514);
      while (sameSlab(frame, previous)) frame = allocateFrame(1514);
      const slab = frame;
      const firstOffset = frame.byteOffset;
      let carved = 0;
      let earlierSecond: Uint8Array | undefined;
      for (;;) {
        if (carved === 1) earlierSecond = frame;
        if (misuse === 'none') recycleFrame(frame);
        else if (carved !== 10) {
          recycleFrame(frame);
          recycleFrame(frame);
        }
        carved++;
        frame = allocateFrame(1514);
        if (!sameSlab(frame, slab) || frame.byteOffset === firstOffset) break;
      }
      expect(carved).toBeGreaterThan(100);
      if (misuse === 'none') {
        expect(sameSlab(frame, slab)).toBe(true);
        expect(frame.byteOffset).toBe(firstOffset);
        // Carved again, the slab hands out the same frame objects. The second frame of the earlier round
        // given back again before its place is carved this round counts for nothing: carved then and kept
        // out, the slab waits for it while every other frame came back.
        recycleFrame(frame);
        recycleFrame(earlierSecond!);
        const second = allocateFrame(1514);
        expect(second).toBe(earlierSecond);
        let next = allocateFrame(1514);
        while (sameSlab(next, slab) && next.byteOffset !== firstOffset) {
          recycleFrame(next);
          next = allocateFrame(1514);
        }
        expect(sameSlab(next, slab)).toBe(false);
      } else {
        expect(sameSlab(frame, slab)).toBe(false);
      }
    }
  });

  /** Large frames from a fresh slab until it is full: the frames, and the first frame of the next slab. */
  function fillSlab(): { frames: Uint8Array[]; next: Uint8Array } {
    const frames = [firstOfFreshSlab()];
    let next = allocateFrame(65549, 12);
    while (next.buffer === frames[0]!.buffer) {
      frames.push(next);
      next = allocateFrame(65549, 12);
    }
    return { frames, next };
  }

  /** Carves large frames (kept) until one starts the next slab: the first frame of that slab. */
  function carveUntilNextSlab(current: Uint8Array, length = 65549): Uint8Array {
    let previous = current;
    for (;;) {
      const frame = allocateFrame(length, 12);
      if (frame.buffer !== previous.buffer || frame.byteOffset <= previous.byteOffset) return frame;
      previous = frame;
    }
  }

  it('carves a full slab again once its frames came back after it filled, in any order', () => {
    // Frames still on their way when their slab fills (a burst on a link) come back afterwards.
    const { frames, next } = fillSlab();
    expect(frames.length).toBeGreaterThanOrEqual(8);
    for (const frame of frames) frame.fill(0xdd);
    for (const frame of [...frames].reverse()) recycleFrame(frame);
    const after = carveUntilNextSlab(next);
    expect(after.buffer).toBe(frames[0]!.buffer);
    expect(after.byteOffset).toBe(frames[0]!.byteOffset);
    expect(after.every((b) => b === 0)).toBe(true);
  });

  it('carves a slab again after a round of fewer, larger frames given back in any order', () => {
    // Round 1: frames of 64 KiB, all given back. Round 2 carves the same slab into 128 KiB frames (fewer
    // than round 1 had), given back last first; the slab is then carved a third time.
    const { frames, next } = fillSlab();
    for (const frame of frames) recycleFrame(frame);
    const first = carveUntilNextSlab(next, 131_000);
    expect(first.buffer === frames[0]!.buffer).toBe(true);
    const round2 = [first];
    let after = allocateFrame(131_000, 12);
    while (after.buffer === first.buffer) {
      round2.push(after);
      after = allocateFrame(131_000, 12);
    }
    expect(round2.length).toBeGreaterThanOrEqual(4);
    expect(round2.length).toBeLessThan(frames.length);
    for (const frame of [...round2].reverse()) recycleFrame(frame);
    const third = carveUntilNextSlab(after);
    expect(third.buffer === frames[0]!.buffer).toBe(true);
    expect(third.byteOffset).toBe(frames[0]!.byteOffset);
  });

  it('never carves a slab again while a frame from it is out, nor one left to the collector', () => {
    for (const misuse of ['one kept', 'one given back twice, another kept'] as const) {
      const { frames, next } = fillSlab();
      const kept = frames.pop()!;
      if (misuse === 'one given back twice, another kept') recycleFrame(frames[0]!);
      for (const frame of frames) recycleFrame(frame);
      for (const [i, frame] of [...frames, kept].entries()) frame.fill(i + 1);
      // Slab after slab is carved: none of them is the one whose frame is out.
      const before = { ...frameAllocatorCounters };
      let current = next;
      for (let slabs = 0; slabs < 8; slabs++) {
        current = carveUntilNextSlab(current);
        expect(current.buffer).not.toBe(kept.buffer);
      }
      // Eight slabs started (fresh or carved again), and every slab filled meanwhile kept its frames, so
      // each waited: with the kept frame's slab waiting too, at least 1 + 8 - 4 of them (at most
      // WAITING_SLABS_MIN, 4, large slabs wait) were left to the collector, and counted.
      const after = frameAllocatorCounters;
      expect(after.slabsAllocated + after.slabsReused - before.slabsAllocated - before.slabsReused).toBe(8);
      expect(after.waitingSlabsDropped - before.waitingSlabsDropped).toBeGreaterThanOrEqual(5);
      // Given back once the slab was left to the collector (more slabs waited than are kept), it counts
      // for nothing: the slab is not carved again, and every byte of its frames stays as it was.
      recycleFrame(kept);
      for (let slabs = 0; slabs < 8; slabs++) {
        current = carveUntilNextSlab(current);
        expect(current.buffer).not.toBe(kept.buffer);
      }
      for (const [i, frame] of [...frames, kept].entries())
        expect(frame.every((b) => b === i + 1)).toBe(true);
    }
  });

  it("keeps a path's worth of full slabs waiting for their frames, and carves them again once they are back", () => {
    // A simulated 1 Gbit/s path of 24 ms holds 3 MB on its way: 2000 frames of 1514 bytes, about twelve
    // small slabs, all out at once and given back in the order carved (the delay line delivering them).
    const round = (): Uint8Array[] => {
      const frames: Uint8Array[] = [];
      for (let i = 0; i < 2000; i++) frames.push(allocateFrame(1514));
      for (const frame of frames) recycleFrame(frame);
      return frames;
    };
    // Two rounds to settle: the second starts in the rest of the first one's last slab.
    round();
    round();
    const before = { ...frameAllocatorCounters };
    const second = round();
    const third = round();
    const after = frameAllocatorCounters;
    // Every slab of the later rounds is one of the first round's, carved again: none was left to the
    // collector while its frames were out (with four slabs waiting, eight or more were).
    expect(after.slabsAllocated - before.slabsAllocated).toBe(0);
    expect(after.waitingSlabsDropped - before.waitingSlabsDropped).toBe(0);
    expect(after.slabsReused - before.slabsReused).toBeGreaterThanOrEqual(22);
    // Slabs carved again hand out the frame objects of the round before (see Slab.frames).
    expect(slabCount(third)).toBeGreaterThanOrEqual(12);
    const seen = new Set(second);
    expect(third.filter((frame) => seen.has(frame)).length).toBeGreaterThan(1500);
  });

  it('counts a data frame given back twice once, in order or not: its slab waits for the one still out', () => {
    // Frames of the small slabs given back in carving order are found by identity, the rest by offset.
    // Each time one frame stays out and one other is given back twice: counted twice, the slab would
    // look all given back and be carved again under the frame still out.
    for (const twice of [
      [0, 0],
      [1, 1],
      [2, 0, 2],
    ]) {
      // While the slab is being carved: ten frames, then every later one given back as it is carved.
      const previous = allocateFrame(1514);
      let first = allocateFrame(1514);
      while (sameSlab(first, previous)) first = allocateFrame(1514);
      const frames = [first];
      while (frames.length < 10) frames.push(allocateFrame(1514));
      const kept = frames.pop()!;
      for (const i of twice) recycleFrame(frames[i]!);
      for (const [i, frame] of frames.entries()) if (!twice.includes(i)) recycleFrame(frame);
      let at = kept.byteOffset;
      let frame = allocateFrame(1514);
      while (sameSlab(frame, kept) && frame.byteOffset > at) {
        at = frame.byteOffset;
        recycleFrame(frame);
        frame = allocateFrame(1514);
      }
      expect(sameSlab(frame, kept)).toBe(false);
      // After the slab filled: its frames given back while it waits.
      const full = [frame];
      let next = allocateFrame(1514);
      while (sameSlab(next, frame)) {
        full.push(next);
        next = allocateFrame(1514);
      }
      const keptToo = full.pop()!;
      for (const i of twice) recycleFrame(full[i]!);
      for (const [i, f] of full.entries()) if (!twice.includes(i)) recycleFrame(f);
      // More frames than a slab holds: none from the slabs whose frames are out.
      for (let i = 0; i < 2 * full.length; i++) {
        const frame = allocateFrame(1514);
        expect(sameSlab(frame, kept)).toBe(false);
        expect(sameSlab(frame, keptToo)).toBe(false);
      }
    }
  });

  it('a slab carved again hands out the same frame objects where frames start and end as before', () => {
    // A device that writes each frame out at once gives it back right away: the slab is carved again in
    // place once full.
    let frame = firstOfFreshSlab();
    const round: Uint8Array[] = [];
    do {
      round.push(frame);
      frame.fill(0xcc);
      recycleFrame(frame);
      frame = allocateFrame(65549, 12);
    } while (frame.byteOffset !== round[0]!.byteOffset);
    expect(round.length).toBeGreaterThanOrEqual(8);
    // The same places and lengths: the very objects given back, zeroed as a new frame is.
    for (const previous of round) {
      expect(frame === previous).toBe(true);
      expect(frame.every((b) => b === 0)).toBe(true);
      recycleFrame(frame);
      frame = allocateFrame(65549, 12);
    }
    // The first place again, another length (larger, so it starts the slab again too): a frame object of
    // its own.
    expect(frame === round[0]).toBe(true);
    recycleFrame(frame);
    for (let i = 1; i < round.length; i++) recycleFrame(allocateFrame(65549, 12));
    const other = allocateFrame(65_600, 12);
    expect(other.buffer === round[0]!.buffer).toBe(true);
    expect(other.byteOffset).toBe(round[0]!.byteOffset);
    expect(other.length).toBe(65_600);
    expect(other === round[0]).toBe(false);
  });

  it('carves headers-only frames again where the last ones given back were, whatever is still out before them', () => {
    // A frame kept out (a connection's SYN), then ACKs one at a time, each given back before the next is
    // carved: the same place, the same frame object, zeroed again.
    const kept = allocateFrame(66, 12);
    const ack = allocateFrame(66, 12);
    expect(ack.buffer === kept.buffer).toBe(true);
    ack.fill(0x77);
    recycleFrame(ack);
    const again = allocateFrame(66, 12);
    expect(again === ack).toBe(true);
    expect(again.every((b) => b === 0)).toBe(true);
    // Another length at that place: a view of its own there.
    recycleFrame(again);
    const longer = allocateFrame(78, 12);
    expect(longer.buffer === ack.buffer).toBe(true);
    expect(longer.byteOffset).toBe(ack.byteOffset);
    expect(longer.length).toBe(78);
    // While it is out, the next goes after it; given back out of order, the later one alone is carved
    // again, and both once both are back.
    const second = allocateFrame(66, 12);
    expect(second.byteOffset).toBeGreaterThanOrEqual(longer.byteOffset + 78 + 12);
    const third = allocateFrame(66, 12);
    expect(third.byteOffset).toBeGreaterThan(second.byteOffset);
    recycleFrame(second);
    const fourth = allocateFrame(66, 12);
    expect(fourth.byteOffset).toBeGreaterThan(third.byteOffset);
    recycleFrame(fourth);
    recycleFrame(third);
    expect(allocateFrame(66, 12) === second).toBe(true);
    recycleFrame(second);
    recycleFrame(longer);
    // Both back: carved again at the first one's place (last cut there at 78 bytes: a new view at 66).
    const first = allocateFrame(66, 12);
    expect(first.byteOffset).toBe(ack.byteOffset);
    // The kept frame was never touched.
    expect(kept.byteOffset + kept.length).toBeLessThanOrEqual(first.byteOffset);
    recycleFrame(first);
    recycleFrame(kept);
  });

  it('carves frames of headers alone apart from frames with data, which then lie back to back', () => {
    const first = allocateFrame(1514);
    const ack = allocateFrame(66, 12);
    const second = allocateFrame(1514);
    expect(ack.buffer).not.toBe(first.buffer);
    if (sameSlab(second, first)) expect(second.byteOffset).toBe(first.byteOffset + 1520);
  });
});

describe('frameView', () => {
  /** The first MTU-sized frame of a fresh small slab. */
  function firstOfFreshSmallSlab(): Uint8Array {
    const previous = allocateFrame(1514);
    let frame = allocateFrame(1514);
    while (sameSlab(frame, previous)) frame = allocateFrame(1514);
    return frame;
  }

  /** The bytes of `view` equal `frame[start, end)` and it lies there in the frame's buffer. */
  function expectRange(view: Uint8Array, frame: Uint8Array, start: number, end: number): void {
    expect(view.buffer === frame.buffer).toBe(true);
    expect(view.byteOffset).toBe(frame.byteOffset + start);
    expect(view.length).toBe(end - start);
    expect(Array.from(view)).toEqual(Array.from(frame.subarray(start, end)));
  }

  it('views each frame of a slab carved again over the same range through the very view of the round before', () => {
    // A memory link delivers frames in the order they were carved and gives each back once delivered: a
    // receiver views each frame's payload (bytes 66 to the end) before it is given back.
    let frame = firstOfFreshSmallSlab();
    const slab = frame;
    const firstOffset = frame.byteOffset;
    const views: Uint8Array[] = [];
    for (let i = 0; ; i++) {
      frame.fill(i & 0xff, 66);
      const view = frameView(frame, 66, 1514);
      expectRange(view, frame, 66, 1514);
      // Asked again before the frame is given back: the same view.
      expect(frameView(frame, 66, 1514) === view).toBe(true);
      views.push(view);
      recycleFrame(frame);
      frame = allocateFrame(1514);
      if (frame.byteOffset === firstOffset) break;
    }
    expect(sameSlab(frame, slab)).toBe(true);
    expect(views.length).toBeGreaterThan(100);
    // Carved again: each frame's payload comes through the same view as before, showing the new bytes.
    for (let i = 0; i < views.length; i++) {
      frame.fill(0x5a, 66);
      const view = frameView(frame, 66, 1514);
      expect(view === views[i]).toBe(true);
      expect(view.every((b) => b === 0x5a)).toBe(true);
      // Another range of the same frame (a header of another length): a view of its own, of those bytes.
      const other = frameView(frame, 78, 1514);
      expect(other === view).toBe(false);
      expectRange(other, frame, 78, 1514);
      recycleFrame(frame);
      frame = allocateFrame(1514);
    }
  });

  it('cuts a fresh view of the right bytes for a frame received out of order or not carved here', () => {
    const first = firstOfFreshSmallSlab();
    const second = allocateFrame(1514);
    second.fill(7);
    // `second` is not the next frame of its slab to come back (`first` is still out).
    const view = frameView(second, 54, 1000);
    expectRange(view, second, 54, 1000);
    expect(frameView(second, 54, 1000) === view).toBe(false);
    const own = new Uint8Array(100).fill(3);
    const ownView = frameView(own, 10, 20);
    expectRange(ownView, own, 10, 20);
    expect(frameView(own, 10, 20) === ownView).toBe(false);
    recycleFrame(first);
    recycleFrame(second);
  });
});

describe('the checksum memory spent', () => {
  it('once its slabs are all handed out, MTU-sized frames come from ordinary buffers and are summed the same', () => {
    // Frames kept and never given back: each full slab waits for them, and the oldest waiting ones are
    // left behind for good. The memory's slabs are handed out once each, so carving goes on elsewhere.
    const kept: Uint8Array[] = [];
    let outside: Uint8Array | undefined;
    for (let i = 0; i < 20_000 && outside === undefined; i++) {
      const frame = allocateFrame(1514);
      if (simdSummer!.holds(frame)) kept.push(frame);
      else outside = frame;
    }
    expect(outside).toBeDefined();
    expect(frameAllocatorCounters.slabsInChecksumMemory).toBe(FRAME_MEMORY_BYTES / (256 * 1024));
    // The fallback frame is zeroed, the length asked, and its sum is the sum of a copy.
    expect(outside!.length).toBe(1514);
    expect(outside!.every((b) => b === 0)).toBe(true);
    outside!.fill(0xa5, 34);
    expect(checksumAdd(0, outside!, 34, 1480)).toBe(checksumAdd(0, outside!.slice(), 34, 1480));
    // Nor does the memory come back: the next frames stay outside it too.
    for (let i = 0; i < 50; i++) expect(simdSummer!.holds(allocateFrame(1514))).toBe(false);
    // ... and tell no place in it.
    expect(carvedPlace(0)).toBe(-1);
    expect(frameAllocatorCounters.slabsInChecksumMemory).toBe(FRAME_MEMORY_BYTES / (256 * 1024));
  });
});
