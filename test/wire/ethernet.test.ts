import { describe, expect, it } from 'vitest';
import { MAC_BROADCAST } from '../../src/wire/address.js';
import {
  ETHERNET_HEADER_LENGTH,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  EthernetView,
  emitEthernet,
  emitEthernetHeader,
  macHalves,
  parseEthernet,
  writeEthernetHeaderAt,
} from '../../src/wire/ethernet.js';

const SRC = 0x02000a4d0001;
const DST = 0x02000a4d0002;

describe('Ethernet II', () => {
  it('emits the header bytes in order: destination, source, EtherType', () => {
    const buf = new Uint8Array(16);
    expect(emitEthernetHeader({ dst: DST, src: SRC, etherType: ETHERTYPE_IPV4 }, buf, 2)).toBe(14);
    expect([...buf]).toEqual([0, 0, 2, 0, 10, 77, 0, 2, 2, 0, 10, 77, 0, 1, 0x08, 0x00]);
  });

  it('writes the same header from the source MAC in 24-bit halves (the send path)', () => {
    const src = 0xfe_dc_ba_98_76_54;
    const { high, low } = macHalves(src);
    const expected = new Uint8Array(20);
    emitEthernetHeader({ dst: DST, src, etherType: 0x86dd }, expected, 0);
    const buf = new Uint8Array(20).fill(0xaa);
    writeEthernetHeaderAt(buf, DST, high, low, 0x86dd);
    expect([...buf.subarray(0, 14)]).toEqual([...expected.subarray(0, 14)]);
    expect([...buf.subarray(14)]).toEqual([0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa]);
    expect(() => writeEthernetHeaderAt(new Uint8Array(13), DST, high, low, 0x0800)).toThrow(
      expect.objectContaining({ code: 'ERR_BUFFER_OUT_OF_BOUNDS' }),
    );
  });

  it('round-trips a frame, payload as a view of the input', () => {
    const payload = Uint8Array.of(1, 2, 3, 4, 5);
    const buf = new Uint8Array(ETHERNET_HEADER_LENGTH + payload.length);
    const written = emitEthernet({ dst: MAC_BROADCAST, src: SRC, etherType: ETHERTYPE_ARP, payload }, buf, 0);
    expect(written).toBe(19);
    const result = parseEthernet(buf);
    expect(result).toEqual({
      ok: true,
      value: { dst: MAC_BROADCAST, src: SRC, etherType: ETHERTYPE_ARP, payload },
    });
    if (!result.ok) return;
    expect(result.value.payload.buffer).toBe(buf.buffer);
    expect(result.value.payload.byteOffset).toBe(14);
  });

  it('gives typed access through the view and writes addresses in place', () => {
    const buf = new Uint8Array(20);
    emitEthernetHeader({ dst: DST, src: SRC, etherType: ETHERTYPE_IPV4 }, buf, 0);
    const view = EthernetView.fromBytes(buf);
    expect(view.ok).toBe(true);
    if (!view.ok) return;
    expect(view.value.dst).toBe(DST);
    expect(view.value.src).toBe(SRC);
    expect(view.value.etherType).toBe(ETHERTYPE_IPV4);
    expect(view.value.payload.length).toBe(6);
    view.value.dst = SRC;
    view.value.src = DST;
    expect([...buf.subarray(0, 12)]).toEqual([2, 0, 10, 77, 0, 1, 2, 0, 10, 77, 0, 2]);
  });

  it('rejects a frame shorter than the header as truncated', () => {
    for (const length of [0, 1, 13]) {
      const result = parseEthernet(new Uint8Array(length));
      expect(result.ok === false && result.error.kind).toBe('truncated');
      expect(EthernetView.fromBytes(new Uint8Array(length)).ok).toBe(false);
    }
    expect(parseEthernet(new Uint8Array(14)).ok).toBe(false); // EtherType 0 is a length
  });

  it('reports an IEEE 802.3 length field as unsupported, not as an EtherType', () => {
    const buf = new Uint8Array(60);
    buf[12] = 0x05;
    buf[13] = 0xdc; // 1500: a length
    const result = parseEthernet(buf);
    expect(result.ok === false && result.error).toMatchObject({ kind: 'unsupported', protocol: 'ethernet' });
    buf[13] = 0xff; // 0x05ff, still below 0x0600
    expect(parseEthernet(buf).ok).toBe(false);
    buf[12] = 0x06;
    buf[13] = 0x00;
    expect(parseEthernet(buf).ok).toBe(true);
  });

  it('refuses to emit past the end of the buffer with ERR_BUFFER_OUT_OF_BOUNDS', () => {
    expect(() =>
      emitEthernetHeader({ dst: DST, src: SRC, etherType: 0x0800 }, new Uint8Array(20), 7),
    ).toThrow(expect.objectContaining({ code: 'ERR_BUFFER_OUT_OF_BOUNDS' }));
  });
});
