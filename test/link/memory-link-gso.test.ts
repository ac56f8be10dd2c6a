/**
 * Software GSO on the memory link (MemoryLinkOptions.gso): TCP and IP build super-segments, the sending
 * end cuts them into wire-size frames with full checksums before the path, and everything from the path
 * on (impairments, taps, captures, the far end) sees the frames a stack without GSO sends.
 */
import { describe, expect, it } from 'vitest';
import { allocateStagedFrame, frameAllocatorCounters, recycleFrame } from '../../src/link/frame-allocator.js';
import type { ImpairedPath, LinkImpairments } from '../../src/link/impairments.js';
import type { MemoryLink } from '../../src/link/memory-link.js';
import { segmentInSoftware } from '../../src/link/software-gso.js';
import { MemoryPcapSink, PcapWriter } from '../../src/pcap/pcap-writer.js';
import type { FrameTransmitOptions } from '../../src/seams.js';
import { SimulatedNetwork, type SimulatedStackOptions } from '../../src/sim/network.js';
import { frameMemory } from '../../src/wire/checksum-simd.js';
import { parseIpv6 } from '../../src/wire/ipv6-address.js';
import { readPcapRecords } from './link-fixtures.js';
import { ACK, CWR, FIN, PSH, tcpFrame, timestamps } from './tcp-frame-builder.js';
import { MSS, pattern, tappedPair, tcpOf, transfer } from './tcp-wire.js';

function pair(gso: boolean, impairments?: LinkImpairments, server?: SimulatedStackOptions) {
  const t = tappedPair({ gso }, { impairments, server });
  return { ...t, superSegments: superSegmentsOf(t.link) };
}

/** The payload length of every super-segment (TSO frame) the client's stack hands its link end. */
function superSegmentsOf(link: MemoryLink): number[] {
  const lengths: number[] = [];
  const end = link.a;
  const send = end.send.bind(end);
  end.send = (frame: Uint8Array, options?: FrameTransmitOptions) => {
    if (options !== undefined && options.segmentSize > 0) lengths.push(tcpOf(frame)?.payload ?? -1);
    send(frame, options);
  };
  return lengths;
}

function dataOf(frames: readonly Uint8Array[]) {
  return frames
    .map(tcpOf)
    .filter((s) => s !== undefined)
    .filter((s) => s.payload > 0);
}

describe('memory link GSO', () => {
  it('offers TSO and checksum offload, and cuts super-segments into the very frames sent without GSO', () => {
    const gso = pair(true);
    const plain = pair(false);
    expect(gso.link.a.offload).toEqual({
      transmitChecksum: true,
      tcpSegmentationMax: 65535,
      tcp6SegmentationMax: 65535,
      headroom: 0,
      softwareSegmentation: true,
    });
    const data = pattern(100_000);
    expect(transfer(gso.net, gso.client, gso.server, data)).toEqual(data);
    expect(transfer(plain.net, plain.client, plain.server, data)).toEqual(data);
    // TCP handed over three super-segments (10, 20 and the rest of 69 full MSS and a short one)...
    expect(gso.superSegments).toEqual([10 * MSS, 20 * MSS, 100_000 - 30 * MSS]);
    // ...and the path saw byte for byte what it sees without GSO: the same sizes, sequence numbers,
    // options, IP identifications (one per piece, consecutive), flags (PSH and FIN on the last piece
    // only) and full checksums.
    expect(gso.frames).toEqual(plain.frames);
    const segments = dataOf(gso.frames);
    expect(segments.map((s) => s.payload)).toEqual([...Array(69).fill(MSS), 100_000 - 69 * MSS]);
    expect(segments.every((s) => s.complete && s.ipChecksumOk && s.length <= 1514)).toBe(true);
    expect(segments.map((s) => s.id - segments[0]!.id)).toEqual(segments.map((_, i) => i));
    expect(segments.map((s) => s.seq - segments[0]!.seq)).toEqual(segments.map((_, i) => i * MSS));
    expect(segments.filter((s) => (s.flags & (PSH | FIN)) !== 0)).toEqual([segments[69]]);
    expect(gso.client.tcp.counters.segmentsOut).toBe(plain.client.tcp.counters.segmentsOut);
  });

  it('a pcap of a GSO link holds the wire-size frames, as a capture without GSO does', () => {
    const capture = (gso: boolean) => {
      const t = pair(gso);
      const sink = new MemoryPcapSink();
      t.link.capture(new PcapWriter(sink), { direction: 'a->b' });
      const data = pattern(100_000);
      expect(transfer(t.net, t.client, t.server, data)).toEqual(data);
      return readPcapRecords(sink.bytes());
    };
    const gso = capture(true);
    const plain = capture(false);
    expect(gso.map((r) => r.data)).toEqual(plain.map((r) => r.data));
    expect(gso.map((r) => r.originalLength)).toEqual(plain.map((r) => r.originalLength));
    expect(Math.max(...gso.map((r) => r.originalLength))).toBe(1514);
  });

  it('over IPv6 too: the Payload Length set per piece, and the frames those sent without GSO', () => {
    const run = (gso: boolean) => {
      const { net, client, server, link, frames } = tappedPair({ gso }, { ipv6: true });
      const superSegments = superSegmentsOf(link);
      net.run(3000); // duplicate address detection
      const data = pattern(100_000);
      expect(transfer(net, client, server, data, parseIpv6('2001:db8::2')!)).toEqual(data);
      return { frames, superSegments };
    };
    const gso = run(true);
    const plain = run(false);
    expect(gso.superSegments.length).toBeGreaterThan(0);
    expect(plain.superSegments).toEqual([]);
    expect(gso.frames).toEqual(plain.frames);
    expect(Math.max(...gso.frames.map((f) => f.length))).toBe(1514);
  });

  for (const [name, impairments] of [
    ['loss', { loss: 0.03 }],
    ['reordering and duplication', { reorder: 0.05, duplicate: 0.02 }],
    ['corruption', { corrupt: 0.02 }],
  ] as const) {
    it(`with ${name} on the path (after the cut), every byte arrives exactly once`, () => {
      const t = pair(true, impairments);
      const data = pattern(250_000);
      expect(transfer(t.net, t.client, t.server, data)).toEqual(data);
      expect(Math.max(...t.superSegments)).toBeGreaterThan(MSS);
      expect(t.frames.every((f) => f.length <= 1514)).toBe(true);
      expect(t.frames.map(tcpOf).every((s) => s === undefined || (s.complete && s.ipChecksumOk))).toBe(true);
      if (name === 'corruption') {
        // The far end got plain frames, whose checksums it verified: the damaged ones were caught.
        expect(t.server.counters.TcpInCsumErrors).toBeGreaterThan(0);
      }
    });
  }

  it('one lost piece of a super-segment is retransmitted alone, as one MSS', () => {
    const t = pair(true);
    // The fifth piece of the second super-segment never reaches the path.
    const path = (t.link as unknown as { path(d: string): ImpairedPath }).path('a->b');
    const send = path.send.bind(path);
    let pieces = 0;
    let lost: ReturnType<typeof tcpOf>;
    path.send = (frame: Uint8Array, mark?: number) => {
      const segment = tcpOf(frame);
      if (segment !== undefined && segment.payload > 0 && ++pieces === 15) {
        lost = segment;
        return;
      }
      send(frame, mark);
    };
    const data = pattern(100_000);
    expect(transfer(t.net, t.client, t.server, data)).toEqual(data);
    expect(t.superSegments[1]).toBe(20 * MSS);
    const again = dataOf(t.frames).filter((s) => s.seq === lost!.seq);
    expect(again).toHaveLength(1);
    expect(again[0]!.payload).toBe(MSS);
    expect(again[0]!.complete && again[0]!.ipChecksumOk).toBe(true);
    expect(t.client.tcp.counters.retransmittedSegments).toBe(1);
  });

  it('never sends an option the peer did not negotiate (no timestamps, no SACK, no window scaling)', () => {
    const t = pair(true, undefined, { tcp: { timestamps: false, sack: false, windowScaling: false } });
    const data = pattern(100_000);
    expect(transfer(t.net, t.client, t.server, data)).toEqual(data);
    expect(Math.max(...t.superSegments)).toBeGreaterThan(1460);
    const segments = dataOf(t.frames);
    expect(segments.every((s) => s.headerLength === 20)).toBe(true);
    expect(Math.max(...segments.map((s) => s.payload))).toBe(1460);
    expect(t.frames.every((f) => f.length <= 1514)).toBe(true);
  });

  it('a steady bulk transfer cuts into frames of the checksum memory, all given back, with no fresh slab', () => {
    // No tap: a frame a tap was given is never given back.
    const net = new SimulatedNetwork({ seed: 1, trace: false, gso: true });
    const client = net.host('client', '10.0.0.1/24');
    const server = net.host('server', '10.0.0.2/24');
    const { link } = net.link(client, server, { mtu: 1500 });
    const sink = new Uint8Array(65536);
    const chunk = pattern(65536);
    const bulk = (port: number, bytes: number, connected = () => {}): void => {
      let received = 0;
      server.tcp.listen({ port }).on('connection', (conn) =>
        conn.on('readable', () => {
          for (let n = conn.receiveInto(sink); n > 0; n = conn.receiveInto(sink)) received += n;
        }),
      );
      const conn = client.tcp.connect({ remoteAddress: 0x0a000002, remotePort: port });
      let sent = 0;
      const write = () => {
        while (sent < bytes) {
          const n = conn.send(chunk, net.clock.now());
          sent += n;
          if (n === 0) return;
        }
      };
      conn.on('connected', () => {
        connected();
        write();
      });
      conn.on('drain', write);
      net.clock.runUntilIdle();
      expect(received).toBe(sent);
    };
    bulk(5001, 4_000_000);
    // The neighbour forgotten as the data starts: the first super-segment waits for ARP, cut in IP instead.
    const arp = client.interfaces[0]!.arp;
    const requests = client.counters.ArpOutRequests;
    bulk(5003, 300_000, () => arp.delete(0x0a000002));
    expect(client.counters.ArpOutRequests - requests).toBe(1);
    const before = { ...frameAllocatorCounters };
    const sentBefore = link.counters('a->b').sent;
    const releasedBefore = link.releasedFrames('a->b');
    bulk(5002, 8_000_000);
    const pieces = link.counters('a->b').sent - sentBefore;
    expect(pieces).toBeGreaterThan(5000);
    // Every piece went back to the allocator once delivered, and each super-segment once cut: no slab
    // was allocated, none left to the collector, no piece carved outside the checksum memory.
    expect(link.releasedFrames('a->b') - releasedBefore).toBe(pieces);
    expect(frameAllocatorCounters.slabsAllocated).toBe(before.slabsAllocated);
    expect(frameAllocatorCounters.waitingSlabsDropped).toBe(before.waitingSlabsDropped);
    expect(frameAllocatorCounters.framesOutsideChecksumMemory).toBe(before.framesOutsideChecksumMemory);
    // Each super-segment was carved in the staged region, where the one before it was.
    expect(frameAllocatorCounters.stagedFramesOutsideRegion).toBe(before.stagedFramesOutsideRegion);
  });
});

describe('memory link GSO, frames not to be cut', () => {
  it('completes the checksum of an acknowledgment in place and sends that very frame on', () => {
    const { net, client, server, link } = pair(true);
    // The server's frames, as its link end is handed them and as the path carries them.
    const handed: { frame: Uint8Array; partial: boolean }[] = [];
    const end = link.b;
    const send = end.send.bind(end);
    end.send = (frame: Uint8Array, options?: FrameTransmitOptions) => {
      if (options !== undefined && options.segmentSize === 0 && options.checksumStart > 0) {
        handed.push({ frame, partial: tcpOf(frame)?.complete === false });
      }
      send(frame, options);
    };
    const carried: Uint8Array[] = [];
    const complete: boolean[] = [];
    link.tap(
      (_, frame) => {
        carried.push(frame);
        const tcp = tcpOf(frame);
        if (tcp !== undefined) complete.push(tcp.complete);
      },
      { direction: 'b->a' },
    );
    const data = pattern(200_000);
    expect(transfer(net, client, server, data)).toEqual(data);
    // Acknowledgments left TCP with the pseudo-header sum only, and crossed with a full checksum, each
    // the frame TCP built (no copy, no list of pieces made for it).
    expect(handed.length).toBeGreaterThan(2);
    expect(handed.every((h) => h.partial)).toBe(true);
    expect(handed.every((h) => carried.includes(h.frame))).toBe(true);
    expect(complete.every((c) => c)).toBe(true);
  });
});

// Without the checksum memory (no WebAssembly SIMD) nothing is staged, and the link cuts the general way.
describe.skipIf(frameMemory === undefined)('segmentInSoftware', () => {
  /** A super-segment carved where the memory link's GSO finds it, holding `frame`. */
  function staged(frame: Uint8Array): Uint8Array {
    const superSegment = allocateStagedFrame(frame.length);
    superSegment.set(frame);
    return superSegment;
  }
  const options = (segmentSize: number): FrameTransmitOptions => ({
    checksumStart: 34,
    checksumOffset: 16,
    segmentSize,
    headroom: 0,
  });

  it('cuts a segment into the segments TCP would have sent: flags, sequence numbers, IDs, checksums', () => {
    const data = pattern(2500);
    const spec = { seq: 0xffff_fc00, flags: ACK | PSH | FIN | CWR, id: 0xfffe, options: timestamps(7, 9) };
    const pieces: Uint8Array[] = [];
    expect(
      segmentInSoftware(staged(tcpFrame({ ...spec, data })), options(1000), {
        send: (f) => pieces.push(f.slice()),
      }),
    ).toBe(true);
    // Byte for byte the frames built for each segment on its own: CWR on the first only (RFC 3168
    // §6.1.2), PSH and FIN on the last only; the sequence number wraps, and so does the identification.
    expect(pieces).toEqual([
      tcpFrame({ ...spec, flags: ACK | CWR, data: data.subarray(0, 1000) }),
      tcpFrame({
        ...spec,
        seq: 0xffff_fc00 + 1000 - 2 ** 32,
        id: 0xffff,
        flags: ACK,
        data: data.subarray(1000, 2000),
      }),
      tcpFrame({
        ...spec,
        seq: 0xffff_fc00 + 2000 - 2 ** 32,
        id: 0,
        flags: ACK | PSH | FIN,
        data: data.subarray(2000),
      }),
    ]);
  });

  it('a checksum to complete alone gives one piece; a frame it did not stage is left to the general path', () => {
    const frame = tcpFrame({ seq: 5, data: pattern(300), flags: ACK | PSH });
    const pieces: Uint8Array[] = [];
    const sink = { send: (f: Uint8Array) => pieces.push(f.slice()) };
    expect(segmentInSoftware(staged(frame), options(0), sink)).toBe(true);
    expect(pieces).toEqual([frame]);
    expect(segmentInSoftware(frame.slice(), options(100), sink)).toBe(false);
    expect(pieces).toHaveLength(1);
  });

  it('leaves a staged frame already given back, and an IPv4 fragment, to the general path', () => {
    const frame = tcpFrame({ seq: 5, data: pattern(3000), flags: ACK });
    const pieces: Uint8Array[] = [];
    const sink = { send: (f: Uint8Array) => pieces.push(f.slice()) };
    const given = staged(frame);
    recycleFrame(given);
    expect(segmentInSoftware(given, options(1000), sink)).toBe(false);
    // More Fragments set, then a fragment offset (RFC 791 §3.1): not one whole TCP packet to cut.
    const fragment = staged(frame);
    fragment[20]! |= 0x20;
    expect(segmentInSoftware(fragment, options(1000), sink)).toBe(false);
    fragment[20]! &= ~0x20;
    fragment[21] = 1;
    expect(segmentInSoftware(fragment, options(1000), sink)).toBe(false);
    expect(pieces).toEqual([]);
    recycleFrame(fragment);
  });

  it('leaves a packet whose lengths disagree to the general path', () => {
    const pieces: Uint8Array[] = [];
    const sink = { send: (f: Uint8Array) => pieces.push(f.slice()) };
    const refused = (change: (frame: Uint8Array) => void, data = pattern(3000)): boolean => {
      const frame = staged(tcpFrame({ seq: 5, data, flags: ACK }));
      change(frame);
      const cut = segmentInSoftware(frame, options(1000), sink);
      if (!cut) recycleFrame(frame);
      return !cut;
    };
    // An IPv4 Total Length other than the frame's; a TCP Data Offset under 5 words, or past the frame's end.
    expect(refused((f) => (f[17]! ^= 4))).toBe(true);
    expect(refused((f) => (f[46] = 0x40))).toBe(true);
    expect(refused((f) => (f[46] = 0xf0), pattern(8))).toBe(true);
    expect(pieces).toEqual([]);
    // The same frames unchanged are cut.
    expect(refused(() => {})).toBe(false);
    expect(pieces).toHaveLength(3);
  });

  it("leaves an IPv6 packet whose Payload Length is not the frame's to the general path", () => {
    // The IPv4 frame's TCP segment behind an IPv6 header (2001:db8::1 to ::2, Next Header TCP).
    const v4 = tcpFrame({ seq: 5, data: pattern(3000), flags: ACK });
    const tcp = v4.subarray(34);
    const v6 = new Uint8Array(14 + 40 + tcp.length);
    v6.set(v4.subarray(0, 12));
    v6.set([0x86, 0xdd, 0x60, 0, 0, 0, tcp.length >>> 8, tcp.length & 0xff, 6, 64], 12);
    v6.set([0x20, 0x01, 0x0d, 0xb8], 22);
    v6[37] = 1;
    v6.set([0x20, 0x01, 0x0d, 0xb8], 38);
    v6[53] = 2;
    v6.set(tcp, 54);
    const pieces: Uint8Array[] = [];
    const sink = { send: (f: Uint8Array) => pieces.push(f.slice()) };
    const wrong = staged(v6);
    wrong[19]! ^= 4;
    expect(segmentInSoftware(wrong, options(1000), sink)).toBe(false);
    recycleFrame(wrong);
    expect(pieces).toEqual([]);
    expect(segmentInSoftware(staged(v6), { ...options(1000), checksumStart: 54 }, sink)).toBe(true);
    expect(pieces.map((f) => f.length)).toEqual([54 + 32 + 1000, 54 + 32 + 1000, 54 + 32 + 1000]);
  });
});
