import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { captureDevice } from '../../src/link/capture.js';
import { createPcapFile, PcapFileSink } from '../../src/pcap/pcap-file-node.js';
import { MemoryPcapSink, type PcapSink, PcapWriter } from '../../src/pcap/pcap-writer.js';
import { analyzePcapBytes, analyzePcapFile, tsharkSkipReason } from '../helpers/tshark.js';
import { makeLink, readPcapRecords } from '../link/link-fixtures.js';
import { MAC_A, sampleConversation } from '../link/sample-frames.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe('PcapWriter', () => {
  it('writes the classic little-endian file header, nanosecond resolution by default', () => {
    const sink = new MemoryPcapSink();
    new PcapWriter(sink);
    // magic a1b23c4d, version 2.4, thiszone 0, sigfigs 0, snaplen 262144, LINKTYPE_ETHERNET
    expect(hex(sink.bytes())).toBe(
      '4d3cb2a1' + '0200' + '0400' + '00000000' + '00000000' + '00000400' + '01000000',
    );
    const micro = new MemoryPcapSink();
    new PcapWriter(micro, { resolution: 'microsecond', snapLength: 1514 });
    expect(hex(micro.bytes())).toBe(
      'd4c3b2a1' + '0200' + '0400' + '00000000' + '00000000' + 'ea050000' + '01000000',
    );
  });

  it('stamps records with seconds and nano- or microseconds', () => {
    const nano = new MemoryPcapSink();
    const micro = new MemoryPcapSink();
    const wn = new PcapWriter(nano);
    const wm = new PcapWriter(micro, { resolution: 'microsecond' });
    const frame = new Uint8Array([1, 2, 3, 4, 5]);
    for (const w of [wn, wm]) {
      w.writePacket(1234.5678, frame);
      w.writePacket(999.9999999999, frame); // rounds up into the next second
      w.writePacket(-5, frame); // before the epoch: clamped to 0
    }
    expect(readPcapRecords(nano.bytes()).map((r) => [r.seconds, r.fraction])).toEqual([
      [1, 234_567_800],
      [1, 0],
      [0, 0],
    ]);
    expect(readPcapRecords(micro.bytes()).map((r) => [r.seconds, r.fraction])).toEqual([
      [1, 234_568],
      [1, 0],
      [0, 0],
    ]);
    const record = readPcapRecords(nano.bytes())[0]!;
    expect([record.capturedLength, record.originalLength, [...record.data]]).toEqual([5, 5, [1, 2, 3, 4, 5]]);
    expect(wn.packetCount).toBe(3);
  });

  it('keeps sub-millisecond digits with an epoch-sized time origin', () => {
    const sink = new MemoryPcapSink();
    const writer = new PcapWriter(sink, { timeOriginMs: 1_700_000_000_000 });
    writer.writePacket(0.000123, new Uint8Array(1));
    expect(readPcapRecords(sink.bytes()).map((r) => [r.seconds, r.fraction])).toEqual([[1_700_000_000, 123]]);
  });

  it('truncates packets to the snap length and keeps their original length', () => {
    const sink = new MemoryPcapSink();
    const writer = new PcapWriter(sink, { snapLength: 64 });
    writer.writePacket(0, new Uint8Array(100).fill(7));
    const [record] = readPcapRecords(sink.bytes());
    expect([record!.capturedLength, record!.originalLength, record!.data.length]).toEqual([64, 100, 64]);
    expect(sink.length).toBe(24 + 16 + 64);
  });

  it('closes its sink once and refuses later writes', () => {
    const closed: number[] = [];
    const sink: PcapSink = { write: () => {}, close: () => closed.push(1) };
    const writer = new PcapWriter(sink);
    writer.close();
    writer.close();
    expect(closed).toEqual([1]);
    expect(writer.closed).toBe(true);
    expect(() => writer.writePacket(0, new Uint8Array(1))).toThrow(
      expect.objectContaining({ code: 'ERR_STREAM_WRITE_AFTER_END' }),
    );
  });

  it('rejects bad options with EINVAL', () => {
    const sink = new MemoryPcapSink();
    expect(() => new PcapWriter(sink, { snapLength: 0 })).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
    expect(() => new PcapWriter(sink, { resolution: 'millisecond' as unknown as 'nanosecond' })).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
  });

  it('copies what it is given, so later changes to a frame do not alter the capture', () => {
    const sink = new MemoryPcapSink();
    const writer = new PcapWriter(sink);
    const frame = new Uint8Array(3000).fill(1);
    for (let i = 0; i < 10; i++) writer.writePacket(i, frame); // grows the buffer past 4 KiB several times
    frame.fill(9);
    const records = readPcapRecords(sink.bytes());
    expect(records).toHaveLength(10);
    expect(records.every((r) => r.data.every((b) => b === 1))).toBe(true);
  });
});

describe('MemoryPcapSink', () => {
  it('keeps every byte in order across its blocks, chunks larger than a block included', () => {
    const sink = new MemoryPcapSink();
    let total = 0;
    let value = 0;
    // Small records, then one chunk of 1.5 MiB (more than a block), then small ones again: 3.5 MiB.
    const sizes = [...Array(1500).fill(1000), 1.5 * 1024 * 1024, ...Array(1000).fill(523)];
    for (const size of sizes) {
      const chunk = new Uint8Array(size);
      for (let i = 0; i < size; i++) chunk[i] = value++ & 0xff;
      sink.write(chunk);
      total += size;
      expect(sink.length).toBe(total);
    }
    const bytes = sink.bytes();
    expect(bytes.length).toBe(total);
    const wrong = bytes.findIndex((b, i) => b !== (i & 0xff));
    expect(wrong).toBe(-1);
    // A copy: writing more leaves it as it was.
    sink.write(new Uint8Array([7]));
    expect(bytes.length).toBe(total);
    expect(sink.bytes().at(-1)).toBe(7);
  });
});

describe('PcapFileSink', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tcpts-pcap-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the same bytes as the memory sink, flushing on close', () => {
    const path = join(dir, 'same.pcap');
    const memory = new MemoryPcapSink();
    // A snap length above the sink's 64 KiB buffer, so one chunk bypasses the buffer.
    const inMemory = new PcapWriter(memory, { snapLength: 262_144 });
    const toFile = createPcapFile(path, { snapLength: 262_144 });
    const big = new Uint8Array(70_000).map((_, i) => i & 0xff); // larger than the 64 KiB buffer
    for (const [time, frame] of [
      [0, new Uint8Array([1, 2, 3])],
      [1.5, big],
      [2, new Uint8Array(1500).fill(4)],
    ] as const) {
      inMemory.writePacket(time, frame);
      toFile.writePacket(time, frame);
    }
    toFile.close();
    expect(Buffer.compare(readFileSync(path), memory.bytes())).toBe(0);
    expect(readFileSync(path).length).toBe(24 + 3 * 16 + 3 + 70_000 + 1500);
  });

  it('makes buffered packets visible on flush and refuses writes after close', () => {
    const path = join(dir, 'flush.pcap');
    const sink = new PcapFileSink(path);
    const writer = new PcapWriter(sink);
    writer.writePacket(0, new Uint8Array(10));
    expect(readFileSync(path).length).toBe(0);
    sink.flush();
    expect(readFileSync(path).length).toBe(24 + 16 + 10);
    writer.close();
    sink.close();
    expect(() => sink.write(new Uint8Array(1))).toThrow(
      expect.objectContaining({ code: 'ERR_STREAM_WRITE_AFTER_END' }),
    );
  });
});

const skipReason = tsharkSkipReason();
if (skipReason) console.warn(`skipping tshark validation: ${skipReason}`);

describe.skipIf(skipReason !== undefined)('captures validated by tshark', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tcpts-tshark-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds no malformed packets and no bad checksums in a capture of a simulated link', () => {
    const path = join(dir, 'conversation.pcap');
    const t = makeLink({ impairments: { delayMs: 3, rateBitsPerSecond: 10e6 } });
    const writer = createPcapFile(path);
    const frames = sampleConversation();
    // Capture on a's interface (what a sends and receives) through the link a<->b.
    const a = captureDevice(t.link.a, writer, t.clock);
    a.setReceiver(() => {});
    t.link.b.setReceiver(() => {});
    frames.forEach((frame, i) => {
      const fromA = readMacSource(frame) === MAC_A;
      t.clock.setTimerAt(i * 2, () => (fromA ? a : t.link.b).send(frame));
    });
    t.clock.runUntilIdle();
    writer.close();
    const report = analyzePcapFile(path);
    expect(report).toEqual({ packets: frames.length, malformed: 0, badChecksums: 0, messages: [] });
  });

  it('reports deliberately broken frames (negative control)', () => {
    const frames = sampleConversation();
    const sink = new MemoryPcapSink();
    const writer = new PcapWriter(sink);
    const httpRequest = frames[5]!;
    const udp = frames[7]!;
    for (const [i, f] of frames.entries()) writer.writePacket(i, f);
    const badTcp = httpRequest.slice();
    badTcp[60] = badTcp[60]! ^ 0x10; // a payload bit: the TCP checksum no longer matches
    const badIp = udp.slice();
    badIp[14 + 8] = badIp[14 + 8]! ^ 0x01; // the TTL: the IPv4 header checksum no longer matches
    const truncated = httpRequest.slice(0, 40); // IPv4 total length beyond the frame
    writer.writePacket(20, badTcp);
    writer.writePacket(21, badIp);
    writer.writePacket(22, truncated);
    const report = analyzePcapBytes(sink.bytes());
    expect(report.packets).toBe(frames.length + 3);
    expect(report.badChecksums).toBe(2);
    expect(report.malformed).toBe(1);
    expect(
      report.messages.some((m) => m.startsWith(`frame ${frames.length + 1}: [error] Bad checksum`)),
    ).toBe(true);
    expect(
      report.messages.some((m) => m.startsWith(`frame ${frames.length + 2}: [error] Bad checksum`)),
    ).toBe(true);
  });

  it('sees corruption injected by the link in the frames that reach the far end', () => {
    const t = makeLink({ seed: 21, aToB: { corrupt: 1, corruptBits: 1 } });
    const sink = new MemoryPcapSink();
    t.link.capture(new PcapWriter(sink), { point: 'delivered' });
    t.link.b.setReceiver(() => {});
    // Only the TCP and UDP frames: any single flipped bit in their IP header or segment breaks a checksum;
    // a flip in the Ethernet header would not, so those frames are excluded from the count below.
    const frames = sampleConversation().slice(2);
    for (const f of frames) t.link.a.send(f);
    t.clock.runUntilIdle();
    const delivered = readPcapRecords(sink.bytes());
    const flippedInIp = delivered.filter((r, i) =>
      r.data.slice(0, 14).every((b, j) => b === frames[i]![j]),
    ).length;
    expect(flippedInIp).toBeGreaterThan(0);
    const report = analyzePcapBytes(sink.bytes());
    expect(report.packets).toBe(frames.length);
    // One flipped bit beyond the Ethernet header always breaks exactly that packet's IP or TCP/UDP checksum.
    expect(report.badChecksums).toBe(flippedInIp);
    expect(report.malformed).toBe(0);
  });
});

function readMacSource(frame: Uint8Array): number {
  let mac = 0;
  for (let i = 6; i < 12; i++) mac = mac * 256 + frame[i]!;
  return mac;
}
