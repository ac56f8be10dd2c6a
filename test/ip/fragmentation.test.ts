import { describe, expect, test } from 'vitest';
import { copiedOptions, fragmentDatagram } from '../../src/ip/fragmentation.js';
import { IP_PROTOCOL_UDP, type Ipv4Header, parseIpv4 } from '../../src/wire/ipv4.js';
import { HOST_IP, PEER_IP } from './harness.js';

const header: Ipv4Header = {
  tos: 0,
  id: 0x1234,
  dontFragment: false,
  moreFragments: false,
  fragmentOffset: 0,
  ttl: 64,
  protocol: IP_PROTOCOL_UDP,
  src: HOST_IP,
  dst: PEER_IP,
};

function pattern(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7) & 0xff);
}

function parseFrames(frames: Uint8Array[]) {
  return frames.map((f) => {
    const p = parseIpv4(f.subarray(14));
    if (!p.ok) throw new Error(p.error.message);
    return p.value;
  });
}

describe('fragmentation (RFC 791 §3.2)', () => {
  test('4008 data bytes at MTU 1500: three fragments at offsets 0, 1480, 2960', () => {
    const data = pattern(4008);
    const frames = fragmentDatagram(header, data, 1500, 14)!;
    const packets = parseFrames(frames);
    expect(packets.map((p) => [p.fragmentOffset, p.payload.length, p.moreFragments, p.totalLength])).toEqual([
      [0, 1480, true, 1500],
      [1480, 1480, true, 1500],
      [2960, 1048, false, 1068],
    ]);
    expect(packets.every((p) => p.id === 0x1234 && !p.dontFragment && p.ttl === 64)).toBe(true);
    const joined = new Uint8Array(4008);
    for (const p of packets) joined.set(p.payload, p.fragmentOffset);
    expect(joined).toEqual(data);
  });

  test('data per fragment is rounded down to a multiple of 8', () => {
    const packets = parseFrames(
      fragmentDatagram(header, pattern(100), 67, 0)!.map((f) => {
        const framed = new Uint8Array(14 + f.length);
        framed.set(f, 14);
        return framed;
      }),
    );
    // 67 - 20 = 47 -> 40 data bytes per fragment
    expect(packets.map((p) => [p.fragmentOffset, p.payload.length, p.moreFragments])).toEqual([
      [0, 40, true],
      [40, 40, true],
      [80, 20, false],
    ]);
  });

  test('re-fragmenting a middle fragment keeps its offset and its MF flag', () => {
    const middle: Ipv4Header = { ...header, fragmentOffset: 1480, moreFragments: true };
    const packets = parseFrames(fragmentDatagram(middle, pattern(1480), 1000, 14)!);
    expect(packets.map((p) => [p.fragmentOffset, p.payload.length, p.moreFragments])).toEqual([
      [1480, 976, true],
      [2456, 504, true],
    ]);
  });

  test('only options with the copied flag go into later fragments', () => {
    // NOP, Record Route (type 7, not copied, 7 bytes), Security-like copied option (type 0x82, 4 bytes)
    const options = Uint8Array.from([1, 7, 7, 4, 0, 0, 0, 0, 0x82, 4, 0xaa, 0xbb]);
    expect(copiedOptions(options)).toEqual(Uint8Array.from([0x82, 4, 0xaa, 0xbb]));
    const packets = parseFrames(fragmentDatagram({ ...header, options }, pattern(200), 100, 14)!);
    expect(packets[0]!.headerLength).toBe(32);
    expect(packets[0]!.options).toEqual(options);
    expect(packets[1]!.headerLength).toBe(24);
    expect(packets[1]!.options).toEqual(Uint8Array.from([0x82, 4, 0xaa, 0xbb]));
    expect(copiedOptions(Uint8Array.from([1, 1, 0, 0x82]))).toBeUndefined();
    expect(copiedOptions(Uint8Array.from([0x83, 1, 9]))).toBeUndefined(); // bad length: nothing copied
  });

  test('an MTU too small for 8 data bytes cannot fragment', () => {
    expect(fragmentDatagram(header, pattern(100), 27, 14)).toBeUndefined();
  });
});
