import { describe, expect, it } from 'vitest';
import { checksumAdd, checksumFinish, pseudoHeaderSum } from '../../src/wire/checksum.js';
import { emitUdp, parseUdp, type UdpDatagram, UdpView } from '../../src/wire/udp.js';

const SRC = 0x0a4d0001;
const DST = 0x0a4d0002;

function emitted(d: UdpDatagram, extra = 0, options?: { computeChecksum?: boolean }): Uint8Array {
  const buf = new Uint8Array(8 + d.payload.length + extra);
  expect(emitUdp(d, SRC, DST, buf, 0, options)).toBe(8 + d.payload.length);
  return buf;
}

const hello: UdpDatagram = { srcPort: 40002, dstPort: 7000, payload: new TextEncoder().encode('hello udp') };

describe('UDP (RFC 768)', () => {
  it('emits ports, length and a checksum that verifies over the pseudo-header', () => {
    const buf = emitted(hello);
    expect([...buf.subarray(0, 6)]).toEqual([0x9c, 0x42, 0x1b, 0x58, 0, 17]);
    const sum = checksumAdd(pseudoHeaderSum(SRC, DST, 17, 17), buf, 0, 17);
    expect(checksumFinish(sum)).toBe(0);
    // The same datagram the Linux kernel sent in test/fixtures/kernel-basic.pcap (frame 23).
    expect((buf[6]! << 8) | buf[7]!).toBe(0x0a3e);
  });

  it('round-trips, ignoring bytes after the length field', () => {
    for (const length of [0, 1, 2, 1472]) {
      const d: UdpDatagram = { srcPort: 1, dstPort: 65535, payload: new Uint8Array(length).fill(0x5a) };
      expect(parseUdp(emitted(d, 3), SRC, DST)).toEqual({ ok: true, value: d });
    }
  });

  it('accepts a zero checksum as "not computed" (RFC 768)', () => {
    const buf = emitted(hello, 0, { computeChecksum: false });
    expect([buf[6], buf[7]]).toEqual([0, 0]);
    buf[8] ^= 0xff; // nothing verifies it, so a changed byte goes through
    const result = parseUdp(buf, SRC, DST);
    expect(result.ok && result.value.payload[0]).toBe('h'.charCodeAt(0) ^ 0xff);
    const view = UdpView.fromBytes(buf);
    expect(view.ok && view.value.checksumValid(SRC, DST)).toBe(true);
  });

  it('sends a computed checksum of zero as 0xffff', () => {
    // Choose the 2-byte payload that makes the sum 0xffff, so the checksum computes to zero.
    const payload = new Uint8Array(2);
    const d: UdpDatagram = { srcPort: 1234, dstPort: 5678, payload };
    const withoutPayload = checksumAdd(
      pseudoHeaderSum(SRC, DST, 17, 10),
      emitted(d, 0, { computeChecksum: false }),
      0,
      10,
    );
    const word = ~withoutPayload & 0xffff;
    payload[0] = word >>> 8;
    payload[1] = word & 0xff;
    const probe = emitted(d, 0, { computeChecksum: false });
    expect(checksumFinish(checksumAdd(pseudoHeaderSum(SRC, DST, 17, 10), probe, 0, 10))).toBe(0);
    const buf = emitted(d);
    expect([buf[6], buf[7]]).toEqual([0xff, 0xff]);
    expect(parseUdp(buf, SRC, DST)).toEqual({ ok: true, value: d });
  });

  it('gives typed access through the view', () => {
    const buf = emitted(hello, 5);
    const view = UdpView.fromBytes(buf);
    if (!view.ok) throw new Error('view');
    expect([view.value.srcPort, view.value.dstPort, view.value.length, view.value.checksum]).toEqual([
      40002, 7000, 17, 0x0a3e,
    ]);
    expect([new TextDecoder().decode(view.value.payload), view.value.checksumValid(SRC, DST)]).toEqual([
      'hello udp',
      true,
    ]);
    expect(view.value.checksumValid(SRC, DST + 1)).toBe(false);
  });

  describe('malformed input', () => {
    it('truncated: fewer than 8 bytes', () => {
      expect(parseUdp(emitted(hello).subarray(0, 7), SRC, DST)).toMatchObject({
        ok: false,
        error: { kind: 'truncated', protocol: 'udp' },
      });
    });

    it('bad-total-length: length field below 8', () => {
      const buf = emitted(hello);
      buf[5] = 7;
      expect(parseUdp(buf, SRC, DST)).toMatchObject({ ok: false, error: { kind: 'bad-total-length' } });
    });

    it('bad-total-length: length field beyond the packet', () => {
      const buf = emitted(hello);
      expect(parseUdp(buf.subarray(0, 16), SRC, DST)).toMatchObject({
        ok: false,
        error: { kind: 'bad-total-length' },
      });
    });

    it('bad-checksum: changed data, or the wrong pseudo-header', () => {
      const buf = emitted(hello);
      expect(parseUdp(buf, SRC, 0x0a4d0003)).toMatchObject({ ok: false, error: { kind: 'bad-checksum' } });
      buf[16] ^= 1;
      expect(parseUdp(buf, SRC, DST)).toMatchObject({ ok: false, error: { kind: 'bad-checksum' } });
      expect(parseUdp(buf, SRC, DST, { verifyChecksum: false }).ok).toBe(true);
    });
  });

  it('refuses a datagram longer than 65535 bytes with EINVAL', () => {
    const big: UdpDatagram = { srcPort: 1, dstPort: 2, payload: new Uint8Array(65528) };
    expect(() => emitUdp(big, SRC, DST, new Uint8Array(70000), 0)).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
  });
});
