/**
 * Segmentation and checksum offload on the memory link: what crosses the wire (super-segments with
 * partial checksums, as a capture on Linux `lo` or a veth shows them, or wire-size frames with real
 * checksums), what a pcap of it holds, and that every byte arrives.
 */
import { describe, expect, it } from 'vitest';
import type { LinkImpairments } from '../../src/link/impairments.js';
import { MemoryPcapSink, PcapWriter } from '../../src/pcap/pcap-writer.js';
import { SimulatedNetwork } from '../../src/sim/network.js';
import { readPcapRecords } from './link-fixtures.js';
import { ACK, FIN, MSS, PSH, pattern, SYN, tappedPair, tcpOf, transfer } from './tcp-wire.js';

function pair(offload: boolean, impairments?: LinkImpairments) {
  return tappedPair({ offload }, { impairments });
}

describe('memory link offload', () => {
  it('carries 100,000 bytes as three super-segments of whole MSS pieces, checksums left partial', () => {
    const t = pair(true);
    const data = pattern(100_000);
    expect(t.link.a.offload).toEqual({
      transmitChecksum: true,
      tcpSegmentationMax: 65535,
      tcp6SegmentationMax: 65535,
      headroom: 0,
    });
    expect(transfer(t.net, t.client, t.server, data)).toEqual(data);
    const segments = t.frames.map(tcpOf).filter((s) => s !== undefined);
    const data0 = segments.find((s) => s.payload > 0)!;
    // The initial window (10 * MSS), then the doubled window, then the rest with FIN: each one frame.
    expect(
      segments.filter((s) => s.payload > 0).map((s) => [s.seq - data0.seq, s.payload, s.length]),
    ).toEqual([
      [0, 10 * MSS, 14 + 52 + 10 * MSS],
      [10 * MSS, 20 * MSS, 14 + 52 + 20 * MSS],
      [30 * MSS, 100_000 - 30 * MSS, 14 + 52 + 100_000 - 30 * MSS],
    ]);
    // As on Linux loopback, what leaves the sender carries only the pseudo-header sum (CHECKSUM_PARTIAL);
    // the SYN waited for ARP, and a frame that waits is finished (checksummed) before it is queued.
    expect(segments.map((s) => [s.flags, s.payload, s.partial, s.complete])).toEqual([
      [SYN, 0, false, true],
      [ACK, 0, true, false],
      [ACK, 10 * MSS, true, false],
      [ACK, 20 * MSS, true, false],
      [FIN | PSH | ACK, 100_000 - 30 * MSS, true, false],
    ]);
    expect(t.link.counters('a->b').dropped.mtu).toBe(0);
  });

  it('without offload, the same transfer crosses in MSS-sized frames with real checksums', () => {
    const t = pair(false);
    const data = pattern(100_000);
    expect(t.link.a.offload).toBeUndefined();
    expect(transfer(t.net, t.client, t.server, data)).toEqual(data);
    const withData = t.frames
      .map(tcpOf)
      .filter((s) => s !== undefined)
      .filter((s) => s.payload > 0);
    expect(withData.map((s) => s.payload)).toEqual([...Array(69).fill(MSS), 100_000 - 69 * MSS]);
    expect(t.frames.every((f) => f.length <= 1514)).toBe(true);
    expect(t.frames.map(tcpOf).every((s) => s === undefined || s.complete)).toBe(true);
  });

  it('without offload, a data frame with one bit flipped is counted as a bad checksum and dropped', () => {
    const t = pair(false);
    const data = pattern(20_000);
    expect(transfer(t.net, t.client, t.server, data)).toEqual(data);
    const full = t.frames.find((f) => f.length === 1514)!;
    const answers: Uint8Array[] = [];
    t.link.tap((_, frame) => answers.push(frame), { direction: 'b->a' });
    const before = t.server.counters.TcpInCsumErrors;
    // Every byte of the segment is covered (a payload byte, the last byte, a header byte): each flip
    // must be caught, whichever way the receiver sums the segment.
    for (const at of [800, 1513, 14 + 20 + 5]) {
      const flipped = full.slice();
      flipped[at] = flipped[at]! ^ 0x10;
      t.link.a.send(flipped);
      t.net.clock.runUntilIdle();
    }
    expect(t.server.counters.TcpInCsumErrors - before).toBe(3);
    expect(answers).toHaveLength(0);
    // The same frame intact passes the check and is answered (an old segment: an ACK, or a reset).
    t.link.a.send(full.slice());
    t.net.clock.runUntilIdle();
    expect(t.server.counters.TcpInCsumErrors - before).toBe(3);
    expect(answers.length).toBeGreaterThan(0);
  });

  for (const [name, impairments] of [
    ['a rate limit', { rateBitsPerSecond: 100e6 }],
    ['loss and corruption', { loss: 0.02, corrupt: 0.02 }],
  ] as const) {
    it(`a direction with ${name} gets wire-size frames, cut and checksummed at the link end`, () => {
      const t = pair(true, impairments);
      const data = pattern(200_000);
      expect(transfer(t.net, t.client, t.server, data)).toEqual(data);
      const segments = t.frames.map(tcpOf).filter((s) => s !== undefined);
      expect(t.frames.every((f) => f.length <= 1514)).toBe(true);
      expect(segments.every((s) => s.complete)).toBe(true);
      expect(segments.filter((s) => s.payload > 0).every((s) => s.payload <= MSS)).toBe(true);
      expect(t.link.counters('a->b').dropped.mtu).toBe(0);
    });
  }

  it('a pcap of an offloaded link holds the super-segments whole, as carried', () => {
    const t = pair(true);
    const sink = new MemoryPcapSink();
    const writer = new PcapWriter(sink);
    t.link.capture(writer, { direction: 'a->b' });
    const data = pattern(100_000);
    expect(transfer(t.net, t.client, t.server, data)).toEqual(data);
    const records = readPcapRecords(sink.bytes());
    expect(records.map((r) => r.originalLength)).toEqual(t.frames.map((f) => f.length));
    expect(records.map((r) => r.data)).toEqual(t.frames);
    expect(Math.max(...records.map((r) => r.originalLength))).toBe(14 + 52 + 100_000 - 30 * MSS);
  });

  it('a router cuts super-segments back for a link that carries wire-size frames', () => {
    const net = new SimulatedNetwork({ seed: 1, trace: false, offload: true });
    const client = net.host('client', '10.0.1.1/24', { gateway: '10.0.1.254' });
    const router = net.router('router');
    const server = net.host('server', '10.0.0.2/24', { gateway: '10.0.0.254' });
    const first = net.link(client, [router, '10.0.1.254/24'], { mtu: 1500 });
    const second = net.link([router, '10.0.0.254/24'], server, {
      mtu: 1500,
      impairments: { rateBitsPerSecond: 1e9 },
    });
    const firstFrames: Uint8Array[] = [];
    const secondFrames: Uint8Array[] = [];
    first.link.tap((_, f) => firstFrames.push(f.slice()), { direction: 'a->b' });
    second.link.tap((_, f) => secondFrames.push(f.slice()), { direction: 'a->b' });
    const data = pattern(150_000);
    expect(transfer(net, client, server, data)).toEqual(data);
    expect(Math.max(...firstFrames.map((f) => f.length))).toBeGreaterThan(1514);
    expect(Math.max(...secondFrames.map((f) => f.length))).toBe(1514);
    expect(secondFrames.map(tcpOf).every((s) => s === undefined || s.complete)).toBe(true);
  });
});
