/**
 * The receive coalescer (GRO) on hand-built frames: which segments merge, the exact bytes of the merged
 * packet (as if the sender had sent it as one segment), and the order of what passes through.
 */
import { describe, expect, it } from 'vitest';
import { FRAME_HELD, FRAME_RELEASED, giveBackFrame, type ReceivedFrameInfo } from '../../src/link/device.js';
import { frameView } from '../../src/link/frame-allocator.js';
import { TcpReceiveCoalescer } from '../../src/link/tcp-receive-coalescer.js';
import { checksumAdd, checksumFinish, pseudoHeaderSum } from '../../src/wire/checksum.js';
import {
  ACK,
  bytes,
  CWR,
  concat,
  FIN,
  tcpFrame as frame,
  PSH,
  SYN,
  timestamps,
} from './tcp-frame-builder.js';

function collect(): {
  gro: TcpReceiveCoalescer;
  out: { frame: Uint8Array; info: ReceivedFrameInfo | undefined }[];
} {
  const out: { frame: Uint8Array; info: ReceivedFrameInfo | undefined }[] = [];
  const gro = new TcpReceiveCoalescer((f, info) => out.push({ frame: f.slice(), info: info && { ...info } }));
  return { gro, out };
}

describe('TcpReceiveCoalescer', () => {
  it('merges in-order segments of one flow into the packet the sender would have sent as one segment', () => {
    const { gro, out } = collect();
    // An odd segment size, so that every other payload starts at an odd offset of the merged data.
    const parts = [bytes(1447, 1), bytes(1447, 2), bytes(1447, 3), bytes(600, 4)];
    let seq = 100_000;
    parts.forEach((data, i) => {
      gro.push(frame({ seq, data, id: 10 + i, flags: i === 3 ? ACK | PSH : ACK }));
      seq += data.length;
    });
    // The short last segment with PSH ended the run: delivered without waiting for flush.
    expect(out).toHaveLength(1);
    expect(out[0]!.frame).toEqual(frame({ seq: 100_000, data: concat(...parts), id: 10, flags: ACK | PSH }));
    expect(out[0]!.info).toEqual({ checksumTrusted: true, segmentSize: 1447 });
    expect(gro.counters).toMatchObject({ frames: 4, segmentsMerged: 3, packetsMerged: 1 });
    gro.flush();
    expect(out).toHaveLength(1);
  });

  it("merges only segments whose Ethernet addresses, TOS and DF are the held packet's", () => {
    const { gro, out } = collect();
    /** `f` with IPv4 header byte `at` (from the IP header's start) set to `value`, checksum fixed. */
    const withIpByte = (f: Uint8Array, at: number, value: number): Uint8Array => {
      f[14 + at] = value;
      f[24] = 0;
      f[25] = 0;
      const sum = checksumFinish(checksumAdd(0, f, 14, 20));
      f[24] = sum >>> 8;
      f[25] = sum & 0xff;
      return f;
    };
    const d = (n: number) => bytes(1000, n);
    const otherSource = frame({ seq: 1000, data: d(1) });
    otherSource[11] ^= 1;
    const frames = [
      frame({ seq: 0, data: d(0) }),
      otherSource, // another Ethernet source: out, held
      withIpByte(frame({ seq: 2000, data: d(2) }), 1, 0x10), // TOS: out, held
      withIpByte(frame({ seq: 3000, data: d(3) }), 6, 0x00), // DF clear: out, held
      withIpByte(frame({ seq: 4000, data: d(4) }), 6, 0x00), // merged with the one before
    ];
    for (const f of frames) gro.push(f);
    gro.flush();
    expect(out.map((o) => o.frame.length - 14 - 52)).toEqual([1000, 1000, 1000, 2000]);
    expect(out.slice(0, 3).map((o) => o.frame)).toEqual(frames.slice(0, 3));
    expect(gro.counters).toMatchObject({ frames: 5, segmentsMerged: 1, packetsMerged: 1, framesPassed: 3 });
  });

  it('gives every merged packet the checksum of the segment it stands for, whatever the bytes', () => {
    // Seeded sizes and contents, zero-filled payloads among them (where a ones'-complement sum may come
    // out as either form of zero), urgent pointers that differ: each packet is what the sender would
    // have sent as one segment, checksums included.
    let state = 12345;
    const next = (n: number): number => {
      state = (state * 1103515245 + 12345) >>> 0;
      return state % n;
    };
    for (let trial = 0; trial < 200; trial++) {
      const { gro, out } = collect();
      const size = 1 + next(1448);
      const count = 2 + next(6);
      const parts = Array.from({ length: count }, (_, i) => {
        const last = i === count - 1 ? 1 + next(size) : size;
        return next(4) === 0 ? new Uint8Array(last) : bytes(last, next(256));
      });
      let seq = next(2 ** 32);
      const start = seq;
      parts.forEach((data, i) => {
        const f = frame({ seq: seq >>> 0, data, id: 7, flags: i === count - 1 ? ACK | PSH : ACK });
        f[52] = next(256); // urgent pointer, meaningless without URG: the first segment's is kept
        f[53] = next(256);
        f[50] = 0;
        f[51] = 0;
        const sum = checksumFinish(
          checksumAdd(pseudoHeaderSum(0x0a000001, 0x0a000002, 6, f.length - 34), f, 34, f.length - 34),
        );
        f[50] = sum >>> 8;
        f[51] = sum & 0xff;
        gro.push(f);
        seq += data.length;
      });
      gro.flush();
      expect(out).toHaveLength(1);
      const merged = out[0]!.frame;
      expect(merged.subarray(54)).toEqual(frame({ seq: start >>> 0, data: concat(...parts) }).subarray(54));
      expect(checksumFinish(checksumAdd(0, merged, 14, 20))).toBe(0);
      expect(
        checksumFinish(
          checksumAdd(
            pseudoHeaderSum(0x0a000001, 0x0a000002, 6, merged.length - 34),
            merged,
            34,
            merged.length - 34,
          ),
        ),
      ).toBe(0);
    }
  });

  it('stops at 65535 bytes of IP packet and holds the rest for the next one', () => {
    const { gro, out } = collect();
    const mss = 1448;
    const fit = Math.floor((65535 - 20 - 32) / mss); // 45 segments fit in one packet
    for (let i = 0; i < fit + 2; i++) gro.push(frame({ seq: i * mss, data: bytes(mss, i) }));
    gro.flush();
    expect(out.map((o) => [o.frame.length - 14, o.info?.segmentSize])).toEqual([
      [20 + 32 + fit * mss, mss],
      [20 + 32 + 2 * mss, mss],
    ]);
  });

  it('passes through what must not merge, keeping each flow in order', () => {
    const { gro, out } = collect();
    const d = (n: number) => bytes(1000, n);
    const frames = [
      frame({ seq: 0, data: d(0) }), // held
      frame({ seq: 1000, data: d(1), options: timestamps(1001, 2000) }), // other TSval: flow 0 out, held
      frame({ seq: 2000, data: d(2), ack: 7001 }), // new ack: out, held
      frame({ seq: 3000, data: d(3), ack: 7001, window: 600 }), // new window: out, held
      frame({ seq: 5000, data: d(5), ack: 7001, window: 600 }), // gap: out, held
      frame({ seq: 6000, data: d(6), ack: 7001, window: 600, ttl: 63 }), // TTL: out, held
      frame({ seq: 7000, data: new Uint8Array(0), ack: 7001, window: 600, ttl: 63 }), // no data: both out
      frame({ seq: 7000, data: d(7), ack: 7001, flags: ACK | CWR }), // CWR: alone
      frame({ seq: 8000, data: d(8), ack: 7001, flags: SYN }), // SYN: alone
      frame({ seq: 9000, data: d(9), ack: 7001, corruptTcp: true }), // bad checksum: alone, as it came
    ];
    for (const f of frames) gro.push(f);
    gro.flush();
    expect(out.map((o) => o.frame)).toEqual(frames);
    // Held segments were verified on the way in; what passed at once goes as it came, for the stack to judge.
    expect(out.map((o) => o.info)).toEqual([
      ...Array(6).fill({ checksumTrusted: true, segmentSize: 0 }),
      ...Array(4).fill(undefined),
    ]);
    expect(gro.counters).toMatchObject({ segmentsMerged: 0, packetsMerged: 0, badChecksums: 1 });
  });

  it('holds several flows at once and flushes them oldest first; other frames pass at once', () => {
    const { gro, out } = collect();
    const mss = 1000;
    const arp = new Uint8Array(42);
    arp[12] = 0x08;
    arp[13] = 0x06;
    gro.push(frame({ seq: 0, data: bytes(mss, 1), srcPort: 1 }));
    gro.push(frame({ seq: 50, data: bytes(mss, 2), srcPort: 2 }));
    gro.push(frame({ seq: mss, data: bytes(mss, 3), srcPort: 1 }));
    gro.push(arp);
    gro.push(frame({ seq: 50 + mss, data: bytes(mss, 4), srcPort: 2, flags: ACK | FIN }));
    expect(out.map((o) => o.frame)).toEqual([
      arp,
      frame({ seq: 50, data: concat(bytes(mss, 2), bytes(mss, 4)), srcPort: 2, flags: ACK | FIN }),
    ]);
    gro.flush();
    expect(out[2]!.frame).toEqual(frame({ seq: 0, data: concat(bytes(mss, 1), bytes(mss, 3)), srcPort: 1 }));
    expect(gro.held).toBe(0);
  });

  it('a full flow table passes on the oldest held packet', () => {
    const out: number[] = [];
    const gro = new TcpReceiveCoalescer((f) => out.push((f[34]! << 8) | f[35]!), { maxFlows: 2 });
    for (const port of [1, 2]) gro.push(frame({ seq: 0, data: bytes(100, port), srcPort: port }));
    expect(gro.counters.flowsPassedForRoom).toBe(0);
    gro.push(frame({ seq: 0, data: bytes(100, 3), srcPort: 3 }));
    expect(out).toEqual([1]);
    expect(gro.counters.flowsPassedForRoom).toBe(1);
    gro.flush();
    expect(out).toEqual([1, 2, 3]);
    expect(gro.counters.flowsPassedForRoom).toBe(1);
    expect(() => new TcpReceiveCoalescer(() => {}, { maxFlows: 0 })).toThrow(/maxFlows/);
  });

  it('does not verify again what the device vouched for, and leaves device-coalesced packets alone', () => {
    const { gro, out } = collect();
    const vouched: ReceivedFrameInfo = { checksumTrusted: true, segmentSize: 0 };
    // A partial checksum (as a sender with offload leaves it) merges when the device vouches for it.
    const a = frame({ seq: 0, data: bytes(500, 1), corruptTcp: true });
    const b = frame({ seq: 500, data: bytes(500, 2), corruptTcp: true });
    gro.push(a, vouched);
    gro.push(b, vouched);
    const large = frame({ seq: 1000, data: bytes(3000, 3) });
    gro.push(large, { checksumTrusted: true, segmentSize: 1000 });
    expect(out.map((o) => [o.frame.length, o.info?.segmentSize])).toEqual([
      [14 + 52 + 1000, 500],
      [large.length, 1000],
    ]);
    // The merged packet's checksum is computed afresh from the data, whatever the pieces carried.
    expect(out[0]!.frame).toEqual(frame({ seq: 0, data: concat(bytes(500, 1), bytes(500, 2)) }));
    // Vouched-for segments are summed only once they merge, odd-sized ones too (each next payload then
    // starts at an odd offset of the merged data); one that merges with nothing is never summed.
    const parts = [bytes(1447, 4), bytes(1447, 5), bytes(601, 6)];
    let seq = 4000;
    for (const data of parts) {
      gro.push(frame({ seq, data, corruptTcp: true }), vouched);
      seq += data.length;
    }
    gro.push(frame({ seq: 50_000, data: bytes(700, 7), corruptTcp: true, flags: ACK | PSH }), vouched);
    expect(out).toHaveLength(4);
    expect(out[2]!.frame).toEqual(frame({ seq: 4000, data: concat(...parts) }));
    expect(out[3]!.info).toEqual({ checksumTrusted: true, segmentSize: 0 });
  });

  it('carves merged packets again once they came back (released, or held and given back), never over one kept', () => {
    // Each round: three segments merged into one packet of 4,396 bytes of data. Packet 0 is kept for good
    // (the receiver returns nothing) and "given back" all the same; packet 1 is given back twice; packet 2
    // while it is delivered; every other one is held and given back once the round is over.
    const delivered: { view: Uint8Array; copy: Uint8Array }[] = [];
    const gro = new TcpReceiveCoalescer((f) => {
      const index = delivered.length;
      delivered.push({ view: f, copy: f.slice() });
      if (index === 0) return undefined;
      if (index === 2) giveBackFrame(f.subarray(66));
      return FRAME_HELD;
    });
    let seq = 0;
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < 3; i++) {
        gro.push(frame({ seq, data: bytes(1448, round + i) }));
        seq += 1448;
      }
      gro.flush();
      const packet = delivered[round]!.view;
      if (round !== 2) giveBackFrame(packet.subarray(66));
      if (round === 1) giveBackFrame(packet.subarray(100));
    }
    expect(delivered).toHaveLength(200);
    // 45 packets fill a slab; the first keeps packet 0 out, so it is never carved again; the second is
    // carved over and over. Counting packet 0, or packet 1 twice, would have carved over packet 0.
    expect(Buffer.from(delivered[0]!.view).equals(delivered[0]!.copy)).toBe(true);
    expect(gro.counters).toMatchObject({ packetsMerged: 200, slabsAllocated: 2, heldPacketsGivenBack: 199 });
    // Released packets (FRAME_RELEASED) are carved again at once.
    const released = new TcpReceiveCoalescer(() => FRAME_RELEASED);
    for (let i = 0; i < 600; i++) released.push(frame({ seq: i * 1448, data: bytes(1448, i) }));
    released.flush();
    expect(released.counters).toMatchObject({ packetsMerged: 14, slabsAllocated: 1 });
  });

  it('stops waiting for replaced slabs past RETIRED_SLABS_MAX, and keeps SPARE_SLABS_MAX spares', () => {
    // Every merged packet held (FRAME_HELD) until the end: each full slab is replaced with packets out.
    const held: Uint8Array[] = [];
    const gro = new TcpReceiveCoalescer((f) => {
      held.push(f);
      return FRAME_HELD;
    });
    const sent: Uint8Array[] = [];
    let seq = 0;
    for (let round = 0; round < 600; round++) {
      const parts = [bytes(1448, round), bytes(1448, round + 1), bytes(1448, round + 2)];
      for (const data of parts) {
        gro.push(frame({ seq, data }));
        seq += 1448;
      }
      sent.push(concat(...parts));
      gro.flush();
    }
    const slabs = gro.counters.slabsAllocated;
    expect(slabs).toBeGreaterThan(10);
    // The slab carved now never waits; of the others, the last eight do.
    expect(gro.counters.retiredSlabsForgotten).toBe(slabs - 1 - 8);
    expect(gro.counters.spareSlabsDropped).toBe(0);
    // Nothing was carved over a packet still out: every one holds the data of its three segments.
    expect(held.every((p, i) => Buffer.from(p.subarray(66)).equals(sent[i]!))).toBe(true);
    expect(held).toHaveLength(600);
    // Given back, each slab but the current one is whole again: two are kept as spares, the rest dropped.
    for (const packet of held) giveBackFrame(packet.subarray(66));
    expect(gro.counters.heldPacketsGivenBack).toBe(600);
    expect(gro.counters.spareSlabsDropped).toBe(slabs - 1 - 2);
    // The spares serve the next slabs: none allocated for two slabs' worth of packets more.
    const perSlab = Math.ceil(600 / slabs);
    for (let round = 0; round < 2 * perSlab; round++) {
      for (let i = 0; i < 3; i++) {
        gro.push(frame({ seq, data: bytes(1448, i) }));
        seq += 1448;
      }
      gro.flush();
    }
    expect(gro.counters.slabsAllocated).toBe(slabs);
  });

  it('hands out the same packet and payload views for a packet carved where one of its length was, and only then', () => {
    // Each round one packet of three segments, held and given back after the round: carved at the start
    // of the slab every time. Round 3 merges two segments (another length); round 5's packet is kept for
    // good (the receiver returns nothing), so the next ones are carved elsewhere and never get its views.
    const packets: Uint8Array[] = [];
    const payloads: Uint8Array[] = [];
    const gro = new TcpReceiveCoalescer((f) => {
      packets.push(f);
      // What TCP's parser cuts the payload with.
      payloads.push(frameView(f, 66, f.length));
      return packets.length === 6 ? undefined : FRAME_HELD;
    });
    let seq = 0;
    for (let round = 0; round < 8; round++) {
      for (let i = 0; i < (round === 3 ? 2 : 3); i++) {
        gro.push(frame({ seq, data: bytes(1448, round + i) }));
        seq += 1448;
      }
      gro.flush();
      const payload = payloads[round]!;
      const expected = concat(...[0, 1, 2].slice(0, round === 3 ? 2 : 3).map((i) => bytes(1448, round + i)));
      expect(Buffer.from(payload).equals(Buffer.from(expected))).toBe(true);
      expect(payload.buffer).toBe(packets[round]!.buffer);
      expect(payload.byteOffset).toBe(packets[round]!.byteOffset + 66);
      giveBackFrame(payload);
    }
    const same = (a: number, b: number) => packets[a] === packets[b] && payloads[a] === payloads[b];
    expect([same(0, 1), same(1, 2), same(2, 4), same(4, 5)]).toEqual([true, true, true, true]);
    expect(packets[3]).not.toBe(packets[2]);
    expect(packets[3]!.byteOffset).toBe(packets[2]!.byteOffset);
    // Round 5's packet is the receiver's: the slab is never carved from its start again, and rounds 6 and
    // 7 are carved further on, each with views of its own.
    expect(new Set(packets.slice(5).map((p) => p.byteOffset)).size).toBe(3);
    expect([packets[6], packets[7]]).not.toContain(packets[5]);
    expect([payloads[6], payloads[7]]).not.toContain(payloads[5]);
    // The payload's view is offered only while its packet is being delivered.
    expect(frameView(packets[7]!, 66, packets[7]!.length)).not.toBe(payloads[7]);
  });
});
