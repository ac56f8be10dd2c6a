import { describe, expect, it } from 'vitest';
import {
  LINKTYPE_ETHERNET,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_RAW,
  networkPacketOf,
  PCAP_MAGIC_MICROSECONDS,
  PCAP_MAGIC_NANOSECONDS,
  readPcap,
} from '../../src/pcap/pcap-reader.js';
import { ETHERTYPE_ARP, ETHERTYPE_IPV4 } from '../../src/wire/ethernet.js';
import { kernelCapture } from './kernel-frames.js';

interface TestRecord {
  seconds: number;
  fraction: number;
  data: number[];
  originalLength?: number;
}

/** Writes a classic pcap file by hand, in either byte order. */
function pcapFile(magic: number, littleEndian: boolean, linkType: number, records: TestRecord[]): Uint8Array {
  const size = 24 + records.reduce((total, r) => total + 16 + r.data.length, 0);
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, magic, littleEndian);
  view.setUint16(4, 2, littleEndian);
  view.setUint16(6, 4, littleEndian);
  view.setUint32(16, 65535, littleEndian);
  view.setUint32(20, linkType, littleEndian);
  let offset = 24;
  for (const r of records) {
    view.setUint32(offset, r.seconds, littleEndian);
    view.setUint32(offset + 4, r.fraction, littleEndian);
    view.setUint32(offset + 8, r.data.length, littleEndian);
    view.setUint32(offset + 12, r.originalLength ?? r.data.length, littleEndian);
    bytes.set(r.data, offset + 16);
    offset += 16 + r.data.length;
  }
  return bytes;
}

const records: TestRecord[] = [
  { seconds: 1700000000, fraction: 250, data: [1, 2, 3] },
  { seconds: 1700000001, fraction: 999_999, data: [], originalLength: 60 },
  { seconds: 0, fraction: 0, data: [0xff], originalLength: 1514 },
];

describe('pcap reader', () => {
  it('reads microsecond files in both byte orders alike', () => {
    for (const littleEndian of [true, false]) {
      const result = readPcap(pcapFile(PCAP_MAGIC_MICROSECONDS, littleEndian, LINKTYPE_ETHERNET, records));
      if (!result.ok) throw new Error(result.error.message);
      expect(result.value).toMatchObject({
        linkType: LINKTYPE_ETHERNET,
        snapLength: 65535,
        nanosecondResolution: false,
        bigEndian: !littleEndian,
        truncatedTail: false,
      });
      expect(
        result.value.records.map((r) => [
          r.seconds,
          r.nanoseconds,
          r.timestampMs,
          [...r.data],
          r.originalLength,
        ]),
      ).toEqual([
        [1700000000, 250_000, 1700000000000.25, [1, 2, 3], 3],
        [1700000001, 999_999_000, 1700000001999.999, [], 60],
        [0, 0, 0, [0xff], 1514],
      ]);
    }
  });

  it('reads nanosecond files in both byte orders', () => {
    for (const littleEndian of [true, false]) {
      const result = readPcap(
        pcapFile(PCAP_MAGIC_NANOSECONDS, littleEndian, LINKTYPE_RAW, [
          { seconds: 10, fraction: 123_456_789, data: [0x45] },
        ]),
      );
      if (!result.ok) throw new Error(result.error.message);
      expect(result.value.nanosecondResolution).toBe(true);
      expect(result.value.linkType).toBe(LINKTYPE_RAW);
      const [record] = result.value.records;
      expect([record!.seconds, record!.nanoseconds]).toEqual([10, 123_456_789]);
      expect(record!.timestampMs).toBeCloseTo(10123.456789, 9);
    }
  });

  it('hands out records as views into the input, at any byteOffset', () => {
    const file = pcapFile(PCAP_MAGIC_MICROSECONDS, true, LINKTYPE_ETHERNET, records);
    const shifted = new Uint8Array(file.length + 3);
    shifted.set(file, 3);
    const input = shifted.subarray(3);
    const result = readPcap(input);
    if (!result.ok) throw new Error(result.error.message);
    expect(result.value.records[0]!.data.buffer).toBe(shifted.buffer);
    expect(result.value.records[0]!.data.byteOffset).toBe(3 + 24 + 16);
  });

  it('reads a file with no records', () => {
    expect(readPcap(pcapFile(PCAP_MAGIC_MICROSECONDS, true, LINKTYPE_ETHERNET, []))).toMatchObject({
      ok: true,
      value: { records: [], truncatedTail: false },
    });
  });

  it('keeps the complete records of a file cut inside a record, and says so', () => {
    const capture = kernelCapture();
    const inData = readPcap(capture.subarray(0, capture.length - 10));
    expect(inData.ok && [inData.value.records.length, inData.value.truncatedTail]).toEqual([22, true]);
    // Cut inside the record header of the last record (51 data bytes + 16 header bytes).
    const inHeader = readPcap(capture.subarray(0, capture.length - 51 - 8));
    expect(inHeader.ok && [inHeader.value.records.length, inHeader.value.truncatedTail]).toEqual([22, true]);
  });

  describe('malformed files', () => {
    it('truncated: shorter than the 24-byte file header', () => {
      for (const length of [0, 4, 23]) {
        expect(readPcap(kernelCapture().subarray(0, length))).toMatchObject({
          ok: false,
          error: { kind: 'truncated', protocol: 'pcap' },
        });
      }
    });

    it('bad-field: an unknown magic number', () => {
      const file = pcapFile(0x12345678, true, LINKTYPE_ETHERNET, []);
      expect(readPcap(file)).toMatchObject({ ok: false, error: { kind: 'bad-field' } });
    });

    it('unsupported: pcapng, or a format version other than 2', () => {
      const pcapng = new Uint8Array(28);
      pcapng.set([0x0a, 0x0d, 0x0d, 0x0a]);
      expect(readPcap(pcapng)).toMatchObject({ ok: false, error: { kind: 'unsupported' } });
      const version1 = pcapFile(PCAP_MAGIC_MICROSECONDS, true, LINKTYPE_ETHERNET, []);
      version1[4] = 1;
      expect(readPcap(version1)).toMatchObject({ ok: false, error: { kind: 'unsupported' } });
    });
  });

  describe('network packets of each link type', () => {
    it('Ethernet: the payload after the 14-byte header, with its EtherType', () => {
      const frame = new Uint8Array(60);
      frame[12] = 0x08;
      frame[13] = 0x06;
      frame[14] = 0xab;
      const result = networkPacketOf(LINKTYPE_ETHERNET, frame);
      expect(
        result.ok && [result.value.etherType, result.value.packet.length, result.value.packet[0]],
      ).toEqual([ETHERTYPE_ARP, 46, 0xab]);
      expect(networkPacketOf(LINKTYPE_ETHERNET, frame.subarray(0, 10))).toMatchObject({
        ok: false,
        error: { kind: 'truncated', protocol: 'ethernet' },
      });
    });

    it('Linux cooked (SLL): the payload after the 16-byte header, protocol from bytes 14-15', () => {
      const cooked = new Uint8Array(36);
      cooked[14] = 0x08;
      cooked[16] = 0x45;
      const result = networkPacketOf(LINKTYPE_LINUX_SLL, cooked);
      expect(
        result.ok && [result.value.etherType, result.value.packet.length, result.value.packet[0]],
      ).toEqual([ETHERTYPE_IPV4, 20, 0x45]);
      expect(networkPacketOf(LINKTYPE_LINUX_SLL, cooked.subarray(0, 15))).toMatchObject({
        ok: false,
        error: { kind: 'truncated' },
      });
    });

    it('raw IP: the whole record when it is IPv4', () => {
      const packet = Uint8Array.of(0x45, 0, 0, 20);
      expect(networkPacketOf(LINKTYPE_RAW, packet)).toEqual({
        ok: true,
        value: { etherType: ETHERTYPE_IPV4, packet },
      });
      expect(networkPacketOf(LINKTYPE_RAW, Uint8Array.of(0x60))).toMatchObject({
        ok: false,
        error: { kind: 'unsupported' },
      });
      expect(networkPacketOf(LINKTYPE_RAW, new Uint8Array(0))).toMatchObject({
        ok: false,
        error: { kind: 'truncated' },
      });
    });

    it('other link types are unsupported', () => {
      expect(networkPacketOf(105, new Uint8Array(100))).toMatchObject({
        ok: false,
        error: { kind: 'unsupported' },
      });
    });
  });
});
