import { describe, expect, it } from 'vitest';
import { internetChecksum } from '../../src/wire/checksum.js';
import {
  emitIpv4Header,
  IP_PROTOCOL_TCP,
  IP_PROTOCOL_UDP,
  type Ipv4Header,
  type Ipv4Packet,
  Ipv4View,
  ipv4HeaderLength,
  newIpv4PacketRecord,
  parseIpv4,
  parseIpv4Into,
  parseQuotedIpv4,
} from '../../src/wire/ipv4.js';
import { TestRandom } from './test-random.js';

const header: Ipv4Header = {
  tos: 0xb8,
  id: 0xbeef,
  dontFragment: true,
  moreFragments: false,
  fragmentOffset: 0,
  ttl: 64,
  protocol: IP_PROTOCOL_TCP,
  src: 0x0a4d0001,
  dst: 0x0a4d0002,
};

/** Header plus `payloadLength` bytes 0, 1, 2, ... and optional trailing padding. */
function packet(h: Ipv4Header, payloadLength: number, padding = 0): Uint8Array {
  const headerLength = ipv4HeaderLength(h);
  const buf = new Uint8Array(headerLength + payloadLength + padding);
  expect(emitIpv4Header(h, payloadLength, buf, 0)).toBe(headerLength);
  for (let i = 0; i < payloadLength; i++) buf[headerLength + i] = i & 0xff;
  return buf;
}

function expectError(buf: Uint8Array, kind: string): void {
  const result = parseIpv4(buf);
  expect(result.ok === false && result.error).toMatchObject({ kind, protocol: 'ipv4' });
}

describe('IPv4 header (RFC 791)', () => {
  it('emits the RFC 791 layout with a valid checksum', () => {
    const buf = packet(header, 8);
    expect([...buf.subarray(0, 20)]).toEqual([
      0x45,
      0xb8,
      0,
      28,
      0xbe,
      0xef,
      0x40,
      0,
      64,
      6,
      buf[10],
      buf[11],
      10,
      77,
      0,
      1,
      10,
      77,
      0,
      2,
    ]);
    expect(internetChecksum(buf, 0, 20)).toBe(0);
  });

  it('writes a checksum that verifies over the bytes written, whatever the field values', () => {
    // The checksum of an option-less header is computed from the field values: values wider than their
    // fields (a 17-bit id, a TOS of 0x1ff, a negative address) must be summed as the bytes they become.
    const random = new TestRandom(4);
    const wide = (bits: number): number => random.nextUint32() % 2 ** bits;
    for (let round = 0; round < 300; round++) {
      const h: Ipv4Header = {
        tos: round % 3 === 0 ? wide(9) : wide(8),
        id: round % 3 === 1 ? wide(20) : wide(16),
        dontFragment: round % 2 === 0,
        moreFragments: round % 5 === 0,
        fragmentOffset: wide(13) * 8,
        ttl: round % 4 === 0 ? wide(10) : wide(8),
        protocol: round % 4 === 1 ? wide(9) : wide(8),
        src: round % 6 === 0 ? wide(32) | 0 : wide(32),
        dst: wide(32),
      };
      const bytes = packet(h, wide(10));
      expect(internetChecksum(bytes, 0, 20)).toBe(0);
      const options = Uint8Array.of(1, 1, 1, 0);
      expect(internetChecksum(packet({ ...h, options }, 4), 0, 24)).toBe(0);
    }
  });

  it('round-trips every field, payload bounded by total length', () => {
    const buf = packet(header, 10, 6);
    const result = parseIpv4(buf);
    expect(result).toEqual({
      ok: true,
      value: {
        ...header,
        headerLength: 20,
        totalLength: 30,
        options: new Uint8Array(0),
        payload: buf.subarray(20, 30),
      },
    });
  });

  it('carries flags and fragment offsets in bytes', () => {
    for (const [dontFragment, moreFragments, fragmentOffset] of [
      [false, true, 0],
      [false, true, 1480],
      [false, false, 2960],
      [true, false, 65528],
    ] as const) {
      const h = { ...header, dontFragment, moreFragments, fragmentOffset, protocol: IP_PROTOCOL_UDP };
      const result = parseIpv4(packet(h, 8));
      expect(result.ok && result.value).toMatchObject({ dontFragment, moreFragments, fragmentOffset });
    }
    const buf = packet({ ...header, dontFragment: false, moreFragments: true, fragmentOffset: 1480 }, 0);
    expect([buf[6], buf[7]]).toEqual([0x20, 185]);
  });

  it('emits options padded with End of Option List and exposes them as a view', () => {
    const recordRoute = Uint8Array.of(7, 7, 4, 0, 0, 0, 0); // RFC 791 record route with one slot
    const buf = packet({ ...header, options: recordRoute }, 4);
    expect(buf[0]).toBe(0x47);
    expect([...buf.subarray(20, 28)]).toEqual([7, 7, 4, 0, 0, 0, 0, 0]);
    const result = parseIpv4(buf);
    expect(result.ok && [...result.value.options]).toEqual([7, 7, 4, 0, 0, 0, 0, 0]);
    expect(result.ok && result.value.headerLength).toBe(28);
    expect(result.ok && [...result.value.payload]).toEqual([0, 1, 2, 3]);
    const view = Ipv4View.fromBytes(buf);
    expect(view.ok && view.value.options.length).toBe(8);
  });

  it('gives typed access through the view', () => {
    const buf = packet({ ...header, moreFragments: true, fragmentOffset: 8 }, 12, 4);
    const result = Ipv4View.fromBytes(buf);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const v = result.value;
    expect([v.version, v.headerLength, v.tos, v.totalLength, v.id]).toEqual([4, 20, 0xb8, 32, 0xbeef]);
    expect([v.dontFragment, v.moreFragments, v.fragmentOffset, v.ttl, v.protocol]).toEqual([
      true,
      true,
      8,
      64,
      6,
    ]);
    expect([v.src, v.dst, v.payload.length, v.checksumValid()]).toEqual([0x0a4d0001, 0x0a4d0002, 12, true]);
    expect(v.checksum).toBe((buf[10]! << 8) | buf[11]!);
    buf[1] = 0;
    expect(v.checksumValid()).toBe(false);
    v.fillChecksum();
    expect(v.checksumValid()).toBe(true);
  });

  it('decrements TTL with an incremental checksum update equal to a recomputation', () => {
    for (let ttl = 1; ttl <= 255; ttl++) {
      const buf = packet({ ...header, ttl, id: ttl * 251 }, 0);
      const view = Ipv4View.fromBytes(buf);
      if (!view.ok) throw new Error('view');
      expect(view.value.decrementTtl()).toBe(ttl - 1);
      expect(buf[8]).toBe(ttl - 1);
      const incremental = view.value.checksum;
      view.value.fillChecksum();
      expect(incremental).toBe(view.value.checksum);
    }
    const zero = Ipv4View.fromBytes(packet({ ...header, ttl: 0 }, 0));
    expect(zero.ok && zero.value.decrementTtl()).toBe(0);
  });

  describe('malformed input', () => {
    it('truncated: fewer than 20 bytes', () => {
      expectError(packet(header, 0).subarray(0, 19), 'truncated');
      expectError(new Uint8Array(0), 'truncated');
    });

    it('bad-version: version field other than 4', () => {
      const buf = packet(header, 0);
      buf[0] = 0x65;
      expectError(buf, 'bad-version');
    });

    it('bad-header-length: IHL below 5', () => {
      const buf = packet(header, 8);
      buf[0] = 0x44;
      expectError(buf, 'bad-header-length');
    });

    it('bad-header-length: IHL past the end of the packet', () => {
      const buf = packet(header, 8);
      buf[0] = 0x4f; // 60 bytes of header in a 28-byte packet
      expectError(buf, 'bad-header-length');
    });

    it('bad-total-length: total length beyond the frame', () => {
      const buf = packet(header, 8);
      expectError(buf.subarray(0, 27), 'bad-total-length');
    });

    it('bad-total-length: total length smaller than the header', () => {
      const buf = packet(header, 8);
      buf[2] = 0;
      buf[3] = 19;
      expectError(buf, 'bad-total-length');
    });

    it('bad-checksum: any changed header byte', () => {
      const buf = packet(header, 8);
      buf[8] = 63;
      expectError(buf, 'bad-checksum');
      expect(parseIpv4(buf, { verifyChecksum: false }).ok).toBe(true);
    });
  });

  it('parses a quoted datagram cut short, as ICMP errors carry it', () => {
    const buf = packet({ ...header, protocol: IP_PROTOCOL_UDP }, 100);
    buf[8] = 1; // routers quote the header as they changed it: the checksum need not verify
    const quoted = buf.subarray(0, 28);
    expectError(quoted, 'bad-total-length');
    const result = parseQuotedIpv4(quoted);
    expect(result.ok && result.value).toMatchObject({ totalLength: 120, ttl: 1, protocol: IP_PROTOCOL_UDP });
    expect(result.ok && [...result.value.payload]).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(parseQuotedIpv4(buf.subarray(0, 19))).toMatchObject({ ok: false, error: { kind: 'truncated' } });
  });

  it('refuses impossible headers with EINVAL and small buffers with ERR_BUFFER_OUT_OF_BOUNDS', () => {
    const buf = new Uint8Array(100);
    const invalid = expect.objectContaining({ code: 'EINVAL' });
    expect(() => emitIpv4Header({ ...header, fragmentOffset: 100 }, 0, buf, 0)).toThrow(invalid);
    expect(() => emitIpv4Header({ ...header, fragmentOffset: 65536 }, 0, buf, 0)).toThrow(invalid);
    expect(() => emitIpv4Header(header, 65516, buf, 0)).toThrow(invalid);
    expect(() => emitIpv4Header({ ...header, options: new Uint8Array(41) }, 0, buf, 0)).toThrow(invalid);
    expect(() => emitIpv4Header(header, 0, buf, 81)).toThrow(
      expect.objectContaining({ code: 'ERR_BUFFER_OUT_OF_BOUNDS' }),
    );
    expect(emitIpv4Header(header, 65515, buf, 80)).toBe(20);
  });
});

describe('parsing into a reused record (parseIpv4Into)', () => {
  it('agrees with parseIpv4 on good, padded, optioned and damaged packets, one after another', () => {
    const random = new TestRandom(5);
    const record = newIpv4PacketRecord();
    for (let i = 0; i < 2000; i++) {
      const h: Ipv4Header = {
        ...header,
        tos: random.below(256),
        id: random.below(65536),
        dontFragment: random.below(2) === 1,
        moreFragments: random.below(2) === 1,
        fragmentOffset: 8 * random.below(100),
        ttl: random.below(256),
        protocol: random.below(256),
        src: random.nextUint32(),
        dst: random.nextUint32(),
      };
      if (random.below(4) === 0) h.options = random.bytes(1 + random.below(40));
      const buf = packet(h, random.below(60), random.below(3) === 0 ? random.below(30) : 0);
      if (random.below(4) === 0) buf[random.below(buf.length)] = random.below(256);
      const verify = random.below(5) !== 0;
      const expected = parseIpv4(buf, { verifyChecksum: verify });
      // Every other packet is parsed where it lies inside a larger buffer (as in a received frame).
      const lead = i % 2 === 0 ? 0 : 1 + random.below(20);
      const frame = new Uint8Array(lead + buf.length + random.below(4));
      frame.fill(0xee);
      frame.set(buf, lead);
      const error = parseIpv4Into(frame, record, verify, lead, buf.length);
      if (expected.ok) {
        expect(error).toBeUndefined();
        // The record's Ipv4Packet fields, views as arrays (it also says where the packet lies).
        const fields = Object.fromEntries(
          Object.keys(expected.value).map((key) => [key, record[key as keyof Ipv4Packet]]),
        );
        expect({
          ...fields,
          options: Array.from(record.options),
          payload: Array.from(record.payload),
        }).toEqual({
          ...expected.value,
          options: Array.from(expected.value.options),
          payload: Array.from(expected.value.payload),
        });
        expect(record.buffer).toBe(frame);
        expect(
          Array.from(frame.subarray(record.payloadOffset, record.payloadOffset + record.payloadLength)),
        ).toEqual(Array.from(expected.value.payload));
      } else {
        expect(error).toEqual(expected.error);
      }
    }
  });
});
