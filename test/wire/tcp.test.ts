import { describe, expect, it } from 'vitest';
import { checksumAdd, checksumFinish, pseudoHeaderSum } from '../../src/wire/checksum.js';
import {
  copyTcpSegment,
  emitTcp,
  parseTcp,
  parseTcpInto,
  parseTcpOptions,
  ReusableTcpSegment,
  TCP_ACK,
  TCP_CWR,
  TCP_ECE,
  TCP_FIN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  TCP_URG,
  type TcpOptions,
  type TcpSegment,
  TcpView,
  tcpHeaderLength,
} from '../../src/wire/tcp.js';
import { TestRandom } from './test-random.js';

const SRC = 0x0a4d0001;
const DST = 0x0a4d0002;

function segment(overrides: Partial<TcpSegment> = {}): TcpSegment {
  return {
    srcPort: 40000,
    dstPort: 7777,
    seq: 0xfedcba98,
    ack: 0x01234567,
    flags: TCP_ACK,
    window: 501,
    urgentPointer: 0,
    options: {},
    payload: new Uint8Array(0),
    ...overrides,
  };
}

function emitted(seg: TcpSegment, offset = 0): Uint8Array {
  const length = tcpHeaderLength(seg.options) + seg.payload.length;
  const buf = new Uint8Array(offset + length);
  expect(emitTcp(seg, SRC, DST, buf, offset)).toBe(length);
  return buf.subarray(offset);
}

/** A segment with hand-made option bytes (already a multiple of 4) and a correct checksum. */
function withRawOptions(optionBytes: number[], payload: number[] = []): Uint8Array {
  if (optionBytes.length % 4 !== 0) throw new Error('option bytes must fill whole 32-bit words');
  const headerLength = 20 + optionBytes.length;
  const buf = new Uint8Array(headerLength + payload.length);
  buf.set(emitted(segment()).subarray(0, 20));
  buf[12] = (headerLength / 4) << 4;
  buf[16] = 0;
  buf[17] = 0;
  buf.set(optionBytes, 20);
  buf.set(payload, headerLength);
  fixChecksum(buf);
  return buf;
}

function fixChecksum(buf: Uint8Array): void {
  buf[16] = 0;
  buf[17] = 0;
  const sum = checksumFinish(checksumAdd(pseudoHeaderSum(SRC, DST, 6, buf.length), buf, 0, buf.length));
  buf[16] = sum >>> 8;
  buf[17] = sum & 0xff;
}

function expectError(buf: Uint8Array, kind: string): void {
  expect(parseTcp(buf, SRC, DST)).toMatchObject({ ok: false, error: { kind, protocol: 'tcp' } });
}

describe('TCP header (RFC 9293 §3.1)', () => {
  it('emits every fixed field in place', () => {
    const buf = emitted(
      segment({ flags: TCP_PSH | TCP_ACK | TCP_URG, urgentPointer: 0x0102, payload: Uint8Array.of(9) }),
    );
    expect([...buf.subarray(0, 16)]).toEqual([
      0x9c, 0x40, 0x1e, 0x61, 0xfe, 0xdc, 0xba, 0x98, 0x01, 0x23, 0x45, 0x67, 0x50, 0x38, 0x01, 0xf5,
    ]);
    expect([buf[18], buf[19], buf[20]]).toEqual([1, 2, 9]);
    expect(checksumFinish(checksumAdd(pseudoHeaderSum(SRC, DST, 6, 21), buf, 0, 21))).toBe(0);
  });

  it('round-trips each of the 8 flag bits and all of them together', () => {
    for (const flags of [TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK, TCP_URG, TCP_ECE, TCP_CWR, 0xff, 0]) {
      const seg = segment({ flags });
      expect(parseTcp(emitted(seg), SRC, DST)).toEqual({ ok: true, value: seg });
    }
  });

  it('round-trips extreme field values and payloads of odd length at odd offsets', () => {
    for (const length of [0, 1, 1447, 1448]) {
      const seg = segment({
        srcPort: 65535,
        dstPort: 0,
        seq: 0xffffffff,
        ack: 0,
        window: 65535,
        urgentPointer: 65535,
        payload: new Uint8Array(length).map((_, i) => i ^ 0xa5),
      });
      expect(parseTcp(emitted(seg, 3), SRC, DST)).toEqual({ ok: true, value: seg });
    }
  });

  it('writes a checksum that verifies over the bytes written, whatever the field values', () => {
    // The header, options included, is summed from the field values: values wider than their fields (a
    // port above 65535, a negative window, flags above 0xff, an MSS above 65535, a window scale above
    // 255) must be summed as the bytes they become.
    const random = new TestRandom(12);
    const wide = (bits: number): number => random.nextUint32() % 2 ** bits;
    const block = () => ({ left: wide(32), right: wide(32) });
    const optionSets: TcpOptions[] = [
      {},
      { timestamp: { value: wide(32), echo: wide(32) } },
      { mss: 1460, windowScale: 7, sackPermitted: true, timestamp: { value: 1, echo: 0 } },
      { sack: [block()] },
      { mss: wide(20), windowScale: wide(16), sackPermitted: true },
      { sackPermitted: true, timestamp: { value: wide(32), echo: wide(32) }, sack: [block(), block()] },
      { timestamp: { value: wide(32), echo: wide(32) }, sack: [block(), block(), block(), block()] },
    ];
    for (let round = 0; round < 300; round++) {
      const seg = segment({
        srcPort: round % 3 === 0 ? wide(20) : wide(16),
        dstPort: wide(16),
        seq: round % 4 === 0 ? -wide(31) : wide(32),
        ack: wide(32),
        flags: round % 5 === 0 ? wide(10) : wide(8),
        window: round % 6 === 0 ? -wide(16) : wide(16),
        urgentPointer: round % 7 === 0 ? wide(18) : wide(16),
        options: optionSets[round % optionSets.length]!,
        payload: random.bytes(wide(9)),
      });
      const bytes = emitted(seg, round % 4);
      const sum = checksumAdd(pseudoHeaderSum(SRC, DST, 6, bytes.length), bytes, 0, bytes.length);
      expect(checksumFinish(sum)).toBe(0);
    }
  });

  it('gives typed access through the view', () => {
    const buf = emitted(segment({ flags: TCP_SYN, options: { mss: 1460 }, payload: Uint8Array.of(1, 2, 3) }));
    buf[12] |= 0x0f; // reserved bits: readable, ignored by the parser
    fixChecksum(buf);
    const view = TcpView.fromBytes(buf);
    if (!view.ok) throw new Error('view');
    const v = view.value;
    expect([v.srcPort, v.dstPort, v.seq, v.ack, v.dataOffset, v.headerLength, v.reserved]).toEqual([
      40000, 7777, 0xfedcba98, 0x01234567, 6, 24, 15,
    ]);
    expect([v.flags, v.window, v.urgentPointer, [...v.optionBytes], [...v.payload]]).toEqual([
      TCP_SYN,
      501,
      0,
      [2, 4, 0x05, 0xb4],
      [1, 2, 3],
    ]);
    expect([v.checksum, v.checksumValid(SRC, DST), v.checksumValid(DST, SRC + 1)]).toEqual([
      (buf[16]! << 8) | buf[17]!,
      true,
      false,
    ]);
    expect(parseTcp(buf, SRC, DST)).toMatchObject({
      ok: true,
      value: { flags: TCP_SYN, options: { mss: 1460 } },
    });
  });

  it('leaves the checksum zero when asked not to compute it', () => {
    const seg = segment({ payload: Uint8Array.of(1, 2, 3) });
    const buf = new Uint8Array(23);
    emitTcp(seg, SRC, DST, buf, 0, { computeChecksum: false });
    expect([buf[16], buf[17]]).toEqual([0, 0]);
    expectError(buf, 'bad-checksum');
    expect(parseTcp(buf, SRC, DST, { verifyChecksum: false })).toEqual({ ok: true, value: seg });
  });

  it('writes the same bytes when told the payload lies outside the buffer', () => {
    const seg = segment({
      payload: Uint8Array.of(9, 8, 7, 6, 5),
      options: { timestamp: { value: 1, echo: 2 } },
    });
    const checked = new Uint8Array(37);
    const direct = new Uint8Array(37);
    emitTcp(seg, SRC, DST, checked, 0);
    emitTcp(seg, SRC, DST, direct, 0, { payloadElsewhere: true });
    expect([...direct]).toEqual([...checked]);
    expect([...direct.subarray(32)]).toEqual([9, 8, 7, 6, 5]);
    expect(parseTcp(direct, SRC, DST)).toMatchObject({ ok: true, value: { payload: seg.payload } });
  });

  it('writes the same bytes when given the header length tcpHeaderLength says, with or without SACK blocks', () => {
    const ts = { value: 1, echo: 2 };
    for (const options of [{}, { timestamp: ts }, { timestamp: ts, sack: [{ left: 100, right: 200 }] }]) {
      const seg = segment({ payload: Uint8Array.of(4, 3, 2), options });
      const length = tcpHeaderLength(options) + 3;
      const counted = new Uint8Array(length);
      const given = new Uint8Array(length);
      emitTcp(seg, SRC, DST, counted, 0);
      expect(emitTcp(seg, SRC, DST, given, 0, { headerLength: tcpHeaderLength(options) })).toBe(length);
      expect([...given]).toEqual([...counted]);
    }
  });
});

describe('TCP options (RFC 9293 §3.2, RFC 7323, RFC 2018)', () => {
  const ts = { value: 0x01020304, echo: 0x05060708 };

  it('lays out a SYN like Linux: MSS, SACK-permitted + timestamps, NOP window scale', () => {
    const options: TcpOptions = { mss: 1460, sackPermitted: true, timestamp: ts, windowScale: 7 };
    const buf = emitted(segment({ flags: TCP_SYN, options }));
    expect(tcpHeaderLength(options)).toBe(40);
    expect(buf[12]).toBe(0xa0);
    expect([...buf.subarray(20, 40)]).toEqual([
      2, 4, 5, 180, 4, 2, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 3, 3, 7,
    ]);
    expect(parseTcp(buf, SRC, DST)).toMatchObject({ ok: true, value: { options } });
  });

  it('uses NOP NOP timestamps on data segments, and NOP NOP SACK-permitted without timestamps', () => {
    const data = emitted(segment({ options: { timestamp: ts } }));
    expect([...data.subarray(20)]).toEqual([1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8]);
    const syn = emitted(
      segment({ flags: TCP_SYN, options: { mss: 536, windowScale: 14, sackPermitted: true } }),
    );
    expect([...syn.subarray(20)]).toEqual([2, 4, 2, 24, 1, 3, 3, 14, 1, 1, 4, 2]);
    const tsNoSack = emitted(segment({ flags: TCP_SYN, options: { mss: 1460, timestamp: ts } }));
    expect([...tsNoSack.subarray(24)]).toEqual([1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('carries 1 to 4 SACK blocks, only as many as fit beside the other options', () => {
    const blocks = [
      { left: 1000, right: 2000 },
      { left: 3000, right: 4000 },
      { left: 5000, right: 6000 },
      { left: 0xfffffff0, right: 0x10 },
    ];
    for (let count = 1; count <= 4; count++) {
      const options: TcpOptions = { sack: blocks.slice(0, count) };
      const buf = emitted(segment({ options }));
      expect(buf.length).toBe(20 + 4 + 8 * count);
      expect([...buf.subarray(20, 24)]).toEqual([1, 1, 5, 2 + 8 * count]);
      expect(parseTcp(buf, SRC, DST)).toEqual({ ok: true, value: segment({ options }) });
    }
    // With timestamps only the first three blocks fit in 40 bytes of options.
    const crowded = emitted(segment({ options: { timestamp: ts, sack: blocks } }));
    expect(crowded.length).toBe(60);
    expect(parseTcp(crowded, SRC, DST)).toMatchObject({
      ok: true,
      value: { options: { timestamp: ts, sack: blocks.slice(0, 3) } },
    });
    expect(tcpHeaderLength({ sack: [] })).toBe(20);
  });

  it('round-trips every combination of the options', () => {
    const choices: TcpOptions[] = [];
    for (let mask = 0; mask < 32; mask++) {
      const options: TcpOptions = {};
      if (mask & 1) options.mss = 1200 + mask;
      if (mask & 2) options.windowScale = mask % 15;
      if (mask & 4) options.sackPermitted = true;
      if (mask & 8) options.timestamp = { value: mask * 1000, echo: 0xffffffff - mask };
      if (mask & 16) options.sack = [{ left: mask, right: mask + 100 }];
      choices.push(options);
    }
    for (const options of choices) {
      const buf = emitted(segment({ options, payload: Uint8Array.of(7, 7) }));
      expect(buf.length % 4).toBe(2);
      expect(parseTcp(buf, SRC, DST)).toEqual({
        ok: true,
        value: segment({ options, payload: Uint8Array.of(7, 7) }),
      });
    }
  });

  it('skips unknown options by their length and stops at End of Option List', () => {
    // MPTCP-like kind 30 (length 4), experimental kind 254 (length 6), then MSS.
    const buf = withRawOptions([30, 4, 0, 0, 254, 6, 0xf9, 0x89, 0, 0, 2, 4, 0x05, 0xb4, 0, 0]);
    expect(parseTcp(buf, SRC, DST)).toMatchObject({ ok: true, value: { options: { mss: 1460 } } });
    // Nothing after EOL is read: the bytes after it would be an illegal option.
    const eol = withRawOptions([2, 4, 0x02, 0x18, 0, 0, 0, 0]);
    expect(parseTcp(eol, SRC, DST)).toMatchObject({ ok: true, value: { options: { mss: 536 } } });
    const afterEol = withRawOptions([1, 0, 2, 1]);
    expect(parseTcp(afterEol, SRC, DST)).toMatchObject({ ok: true, value: { options: {} } });
  });

  describe('malformed options', () => {
    it('bad-option: option length 0', () => {
      expectError(withRawOptions([2, 4, 5, 180, 254, 0, 0, 0]), 'bad-option');
    });

    it('bad-option: option length 1', () => {
      expectError(withRawOptions([1, 1, 8, 1]), 'bad-option');
    });

    it('bad-option: option running past the end of the header', () => {
      expectError(withRawOptions([1, 1, 8, 10, 0, 0, 0, 1], [0, 0, 0, 2]), 'bad-option');
    });

    it('bad-option: kind in the last header byte with no room for its length', () => {
      expectError(withRawOptions([1, 1, 1, 2]), 'bad-option');
    });

    it('bad-option: a known option with the wrong length for its kind', () => {
      expectError(withRawOptions([2, 3, 5, 1]), 'bad-option'); // MSS of length 3
      expectError(withRawOptions([5, 6, 0, 0, 0, 1, 0, 0]), 'bad-option'); // SACK without a whole block
      expectError(withRawOptions([1, 1, 8, 6, 0, 0, 0, 1]), 'bad-option'); // short timestamps
    });

    it('lenient parsing returns the segment with the options read before an illegal length (MUST-7)', () => {
      const buf = withRawOptions([2, 4, 5, 180, 3, 3, 9, 254, 0, 1, 1, 1], [0x42]);
      expectError(buf, 'bad-option');
      expect(parseTcp(buf, SRC, DST, { lenientOptions: true })).toEqual({
        ok: true,
        value: segment({ options: { mss: 1460, windowScale: 9 }, payload: Uint8Array.of(0x42) }),
      });
    });

    it('lenient parsing skips a known option of the wrong length and reads on', () => {
      const buf = withRawOptions([2, 3, 5, 1, 3, 3, 7, 0]);
      expect(parseTcp(buf, SRC, DST, { lenientOptions: true })).toMatchObject({
        ok: true,
        value: { options: { windowScale: 7 } },
      });
      expect(parseTcpOptions(buf.subarray(20), true)).toEqual({ ok: true, value: { windowScale: 7 } });
      expect(parseTcpOptions(buf.subarray(20))).toMatchObject({ ok: false, error: { kind: 'bad-option' } });
    });

    it('lenient parsing still enforces the checksum and data offset', () => {
      const buf = withRawOptions([254, 0, 0, 0]);
      buf[16] ^= 1;
      expect(parseTcp(buf, SRC, DST, { lenientOptions: true })).toMatchObject({
        ok: false,
        error: { kind: 'bad-checksum' },
      });
    });
  });
});

describe('malformed TCP segments', () => {
  it('truncated: fewer than 20 bytes', () => {
    expectError(emitted(segment()).subarray(0, 19), 'truncated');
    expectError(new Uint8Array(0), 'truncated');
  });

  it('bad-header-length: data offset below 5', () => {
    const buf = emitted(segment({ payload: new Uint8Array(8) }));
    buf[12] = 0x40;
    fixChecksum(buf);
    expectError(buf, 'bad-header-length');
    expect(TcpView.fromBytes(buf).ok).toBe(false);
  });

  it('bad-header-length: data offset past the end of the segment', () => {
    const buf = emitted(segment({ payload: new Uint8Array(8) }));
    buf[12] = 0x80; // 32-byte header in a 28-byte segment
    fixChecksum(buf);
    expectError(buf, 'bad-header-length');
  });

  it('bad-checksum: a changed payload byte or the wrong pseudo-header', () => {
    const buf = emitted(segment({ payload: new Uint8Array(5) }));
    expect(parseTcp(buf, SRC, DST).ok).toBe(true);
    expect(parseTcp(buf, DST, SRC).ok).toBe(true); // the pseudo-header sum is symmetric in the addresses
    expect(parseTcp(buf, SRC, DST + 1)).toMatchObject({ ok: false, error: { kind: 'bad-checksum' } });
    buf[24] = 1;
    expectError(buf, 'bad-checksum');
  });

  it('refuses a segment that does not fit the 16-bit pseudo-header length with EINVAL', () => {
    const seg = segment({ payload: new Uint8Array(65516) });
    expect(() => emitTcp(seg, SRC, DST, new Uint8Array(70000), 0)).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
    expect(() => emitTcp(segment(), SRC, DST, new Uint8Array(19), 0)).toThrow(
      expect.objectContaining({ code: 'ERR_BUFFER_OUT_OF_BOUNDS' }),
    );
  });
});

describe('parsing into a reused record (parseTcpInto)', () => {
  /** parseTcp's answer in the same terms as parseTcpInto's: the error, or the segment with only its set options. */
  const fresh = (buf: Uint8Array, lenient = false) => {
    const r = parseTcp(buf, SRC, DST, { lenientOptions: lenient });
    return r.ok ? { ...r.value, payload: Array.from(r.value.payload) } : r.error;
  };
  /** `lead` > 0: the segment is parsed where it lies in a larger buffer, after `lead` other bytes. */
  const reused = (record: ReusableTcpSegment, buf: Uint8Array, lenient = false, lead = 0) => {
    const frame = new Uint8Array(lead + buf.length + (lead % 4));
    frame.fill(0xee);
    frame.set(buf, lead);
    const error = parseTcpInto(frame, SRC, DST, record, true, lenient, lead, buf.length);
    if (error !== undefined) return error;
    const copy = copyTcpSegment(record);
    return { ...copy, payload: Array.from(copy.payload) };
  };

  it('gives what parseTcp gives, segment after segment, with nothing left over from the one before', () => {
    const record = new ReusableTcpSegment();
    const segments = [
      segment({
        options: { mss: 1460, windowScale: 7, sackPermitted: true, timestamp: { value: 1, echo: 0 } },
      }),
      segment({
        options: {
          timestamp: { value: 9, echo: 7 },
          sack: [
            { left: 10, right: 20 },
            { left: 30, right: 40 },
          ],
        },
      }),
      segment({ options: { sack: [{ left: 50, right: 60 }] }, payload: new Uint8Array([1, 2, 3]) }),
      segment({ flags: TCP_SYN | TCP_ECE | TCP_CWR, options: {} }),
    ];
    const timestamps: unknown[] = [];
    for (const seg of segments) {
      const buf = emitted(seg);
      expect(reused(record, buf)).toEqual(fresh(buf));
      timestamps.push(record.options.timestamp);
    }
    // The same objects every time: no allocation per segment for the options.
    expect(timestamps[0]).toBe(timestamps[1]);
    expect(record.options.sack).toBeUndefined();
  });

  it('agrees with parseTcp on random and damaged segments, strict and lenient', () => {
    const random = new TestRandom(12);
    const record = new ReusableTcpSegment();
    for (let i = 0; i < 2000; i++) {
      const blocks = random.below(5);
      const options: TcpOptions = {};
      if (random.below(2)) options.timestamp = { value: random.nextUint32(), echo: random.nextUint32() };
      if (blocks > 0) {
        options.sack = Array.from({ length: blocks }, () => ({
          left: random.nextUint32(),
          right: random.nextUint32(),
        }));
      }
      const buf = emitted(segment({ options, payload: random.bytes(random.below(40)) }));
      if (random.below(3) === 0 && buf.length > 20) {
        buf[20 + random.below(buf.length - 20)] = random.nextUint32() & 0xff; // options or payload
        if (random.below(2)) fixChecksum(buf);
      }
      const lenient = random.below(2) === 1;
      const lead = i % 3 === 0 ? 0 : 1 + (i % 37);
      expect(reused(record, buf, lenient, lead)).toEqual(fresh(buf, lenient));
    }
  });

  it('holds the 32-bit fields in the signed form; parseTcp and copies give them unsigned, emitTcp either', () => {
    // Values on both sides of 2^31 (where the signed form changes sign) and next to 2^32.
    const unsigned = segment({
      seq: 0x8000_0001,
      ack: 0xffff_fffe,
      options: {
        timestamp: { value: 0x7fff_ffff, echo: 0x9000_0000 },
        sack: [{ left: 0xffff_fff0, right: 0x10 }],
      },
    });
    const buf = emitted(unsigned);
    const record = new ReusableTcpSegment();
    expect(parseTcpInto(buf, SRC, DST, record)).toBeUndefined();
    expect([record.seq, record.ack]).toEqual([0x8000_0001 | 0, -2]);
    expect(record.options.timestamp).toEqual({ value: 0x7fff_ffff, echo: 0x9000_0000 | 0 });
    expect(record.options.sack).toEqual([{ left: -16, right: 0x10 }]);
    const copy = copyTcpSegment(record);
    expect([copy.seq, copy.ack, copy.options.timestamp, copy.options.sack]).toEqual([
      0x8000_0001,
      0xffff_fffe,
      { value: 0x7fff_ffff, echo: 0x9000_0000 },
      [{ left: 0xffff_fff0, right: 0x10 }],
    ]);
    const parsed = parseTcp(buf, SRC, DST);
    expect(parsed.ok && [parsed.value.seq, parsed.value.ack]).toEqual([0x8000_0001, 0xffff_fffe]);
    // The signed record emits the same bytes, checksum included.
    const signed = segment({
      seq: record.seq,
      ack: record.ack,
      options: { timestamp: record.options.timestamp, sack: record.options.sack },
    });
    expect(Array.from(emitted(signed))).toEqual(Array.from(buf));
  });

  it('a copy keeps its options and payload after the record is parsed into again', () => {
    const record = new ReusableTcpSegment();
    const first = emitted(
      segment({ options: { sack: [{ left: 1, right: 2 }] }, payload: new Uint8Array([7]) }),
    );
    expect(parseTcpInto(first, SRC, DST, record)).toBeUndefined();
    const kept = copyTcpSegment(record);
    first[20 + 4 + 8] = 0xee; // the frame is reused too
    expect(
      parseTcpInto(emitted(segment({ options: { sack: [{ left: 5, right: 6 }] } })), SRC, DST, record),
    ).toBeUndefined();
    expect([kept.options.sack, Array.from(kept.payload)]).toEqual([[{ left: 1, right: 2 }], [7]]);
  });
});
