import { describe, expect, it } from 'vitest';
import { frameEcnField, markCongestionExperienced } from '../../src/wire/ecn-mark.js';
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from '../../src/wire/ethernet.js';
import { emitIpv4Header, parseIpv4 } from '../../src/wire/ipv4.js';
import { emitIpv6Header, parseIpv6 } from '../../src/wire/ipv6.js';

function frame(etherType: number, ipLength: number): Uint8Array {
  const buf = new Uint8Array(14 + ipLength);
  buf[12] = etherType >>> 8;
  buf[13] = etherType & 0xff;
  return buf;
}

function ipv4Frame(tos: number): Uint8Array {
  const buf = frame(ETHERTYPE_IPV4, 28);
  emitIpv4Header(
    {
      tos,
      id: 0x1234,
      dontFragment: true,
      moreFragments: false,
      fragmentOffset: 0,
      ttl: 64,
      protocol: 6,
      src: 0x0a000001,
      dst: 0x0a000002,
    },
    8,
    buf,
    14,
  );
  return buf;
}

function ipv6Frame(trafficClass: number): Uint8Array {
  const buf = frame(ETHERTYPE_IPV6, 48);
  emitIpv6Header(
    { trafficClass, flowLabel: 0xabcde, nextHeader: 6, hopLimit: 64, src: 0xfd00n << 112n, dst: 1n },
    8,
    buf,
    14,
  );
  return buf;
}

describe('CE marking in place (RFC 3168 §5)', () => {
  it('IPv4: ECT(0) and ECT(1) become CE with a header checksum that still verifies; Not-ECT is left alone', () => {
    for (const tos of [0b10, 0b01, 0xb8 | 0b10]) {
      const buf = ipv4Frame(tos);
      expect(frameEcnField(buf)).toBe(tos & 3);
      expect(markCongestionExperienced(buf)).toBe(true);
      const ip = parseIpv4(buf.subarray(14));
      expect(ip.ok, 'header checksum after marking').toBe(true);
      if (ip.ok) expect(ip.value.tos).toBe((tos & 0xfc) | 3);
      // Already CE: still CE, nothing changes.
      const before = buf.slice();
      expect(markCongestionExperienced(buf)).toBe(true);
      expect(buf).toEqual(before);
    }
    const plain = ipv4Frame(0xb8);
    const before = plain.slice();
    expect(markCongestionExperienced(plain)).toBe(false);
    expect(plain).toEqual(before);
  });

  it('IPv6: the ECN bits of the Traffic Class become CE; DSCP and the flow label are kept', () => {
    const buf = ipv6Frame(0xb8 | 0b10);
    expect(frameEcnField(buf)).toBe(2);
    expect(markCongestionExperienced(buf)).toBe(true);
    const ip = parseIpv6(buf.subarray(14));
    expect(ip.ok).toBe(true);
    if (ip.ok) {
      expect(ip.value.trafficClass).toBe(0xbb);
      expect(ip.value.flowLabel).toBe(0xabcde);
    }
    expect(markCongestionExperienced(ipv6Frame(0xb8))).toBe(false);
  });

  it('frames that carry no IP packet, or too short a one, are never touched', () => {
    const arp = frame(ETHERTYPE_ARP, 28);
    arp[14] = 0x42;
    expect(markCongestionExperienced(arp)).toBe(false);
    expect(frameEcnField(arp)).toBe(-1);
    const short = ipv4Frame(2).subarray(0, 30);
    expect(markCongestionExperienced(short)).toBe(false);
  });
});
