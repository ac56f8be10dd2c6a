/**
 * The pcapng reader on files built block by block: both byte orders, interfaces with their own link types
 * and timestamp resolutions, enhanced, simple and obsolete packet blocks, blocks it skips, a cut tail, and
 * input that is not pcapng at all.
 */
import { describe, expect, it } from 'vitest';
import { MemoryPcapSink, PcapWriter } from '../../src/pcap/pcap-writer.js';
import { readCapture, readPcapng } from '../../src/pcap/pcapng-reader.js';

class Blocks {
  private readonly parts: Uint8Array[] = [];
  constructor(private readonly littleEndian = true) {}

  block(type: number, body: Uint8Array): this {
    const padded = Math.ceil(body.length / 4) * 4;
    const out = new Uint8Array(12 + padded);
    const view = new DataView(out.buffer);
    view.setUint32(0, type, this.littleEndian);
    view.setUint32(4, out.length, this.littleEndian);
    out.set(body, 8);
    view.setUint32(out.length - 4, out.length, this.littleEndian);
    this.parts.push(out);
    return this;
  }

  section(): this {
    const body = new Uint8Array(16);
    const view = new DataView(body.buffer);
    view.setUint32(0, 0x1a2b3c4d, this.littleEndian);
    view.setUint16(4, 1, this.littleEndian);
    view.setUint16(6, 0, this.littleEndian);
    view.setBigInt64(8, -1n, this.littleEndian);
    return this.block(0x0a0d0d0a, body);
  }

  interface(linkType: number, tsresol?: number): this {
    const options = tsresol === undefined ? [] : [9, 0, 1, 0, tsresol, 0, 0, 0, 0, 0, 0, 0];
    const body = new Uint8Array(8 + options.length);
    const view = new DataView(body.buffer);
    view.setUint16(0, linkType, this.littleEndian);
    view.setUint32(4, 65535, this.littleEndian);
    if (tsresol !== undefined) {
      view.setUint16(8, 9, this.littleEndian);
      view.setUint16(10, 1, this.littleEndian);
      body[12] = tsresol;
    }
    return this.block(1, body);
  }

  enhanced(interfaceId: number, ticks: bigint, data: number[]): this {
    const body = new Uint8Array(20 + data.length);
    const view = new DataView(body.buffer);
    view.setUint32(0, interfaceId, this.littleEndian);
    view.setUint32(4, Number(ticks >> 32n), this.littleEndian);
    view.setUint32(8, Number(ticks & 0xffffffffn), this.littleEndian);
    view.setUint32(12, data.length, this.littleEndian);
    view.setUint32(16, data.length + 10, this.littleEndian);
    body.set(data, 20);
    return this.block(6, body);
  }

  simple(data: number[]): this {
    const body = new Uint8Array(4 + data.length);
    new DataView(body.buffer).setUint32(0, data.length, this.littleEndian);
    body.set(data, 4);
    return this.block(3, body);
  }

  bytes(): Uint8Array {
    const total = this.parts.reduce((n, p) => n + p.length, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

describe('readPcapng', () => {
  for (const littleEndian of [true, false]) {
    it(`reads a ${littleEndian ? 'little' : 'big'}-endian section: interfaces, packets, times`, () => {
      const file = new Blocks(littleEndian)
        .section()
        .interface(1) // Ethernet, microseconds
        .interface(276, 9) // Linux cooked v2, nanoseconds
        .enhanced(0, 1_700_000_000_123_456n, [1, 2, 3])
        .block(4, new Uint8Array(8)) // name resolution: skipped
        .enhanced(1, 1_700_000_000_123_456_789n, [4, 5, 6, 7, 8])
        .simple([9, 9])
        .bytes();
      const result = readPcapng(file);
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      const c = result.value;
      expect(c.format).toBe('pcapng');
      expect(c.interfaces.map((i) => [i.linkType, i.ticksPerSecond])).toEqual([
        [1, 1e6],
        [276, 1e9],
      ]);
      expect(c.skippedBlocks).toBe(1);
      expect(c.truncatedTail).toBe(false);
      expect(
        c.records.map((r) => [
          r.linkType,
          r.interfaceId,
          r.seconds,
          r.nanoseconds,
          [...r.data],
          r.originalLength,
        ]),
      ).toEqual([
        [1, 0, 1_700_000_000, 123_456_000, [1, 2, 3], 13],
        [276, 1, 1_700_000_000, 123_456_789, [4, 5, 6, 7, 8], 15],
        [1, 0, 0, 0, [9, 9], 2],
      ]);
    });
  }

  it('keeps the complete packets of a file cut inside a block', () => {
    const whole = new Blocks().section().interface(1).enhanced(0, 0n, [1]).enhanced(0, 1n, [2]).bytes();
    const result = readPcapng(whole.subarray(0, whole.length - 6));
    expect(result.ok && [result.value.records.length, result.value.truncatedTail]).toEqual([1, true]);
  });

  it('refuses a packet of an interface never described, and a bad byte-order magic', () => {
    const orphan = readPcapng(new Blocks().section().enhanced(3, 0n, [1]).bytes());
    expect(orphan.ok).toBe(false);
    const bad = new Blocks().section().bytes();
    bad[8] = 0;
    expect(readPcapng(bad).ok).toBe(false);
  });
});

describe('readCapture', () => {
  it('reads classic pcap and pcapng into one shape', () => {
    const sink = new MemoryPcapSink();
    new PcapWriter(sink).writePacket(1500, new Uint8Array([7, 7]));
    const classic = readCapture(sink.bytes());
    expect(classic.ok && classic.value.format).toBe('pcap');
    expect(classic.ok && classic.value.records.map((r) => [r.linkType, [...r.data]])).toEqual([[1, [7, 7]]]);
    const ng = readCapture(new Blocks().section().interface(101).enhanced(0, 5n, [0x45]).bytes());
    expect(ng.ok && ng.value.records.map((r) => r.linkType)).toEqual([101]);
    expect(readCapture(new Uint8Array([1, 2, 3, 4, 5])).ok).toBe(false);
  });
});
