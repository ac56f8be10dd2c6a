/**
 * IPv6, its extension headers, ICMPv6 and NDP options: text forms, field layout, the checks each parser
 * makes, and the emitters' refusals.
 */
import { describe, expect, it } from 'vitest';
import {
  emitIcmpv6,
  type Icmpv6Message,
  icmpv6Length,
  mldMaxResponseDelay,
  parseIcmpv6,
} from '../../src/wire/icmpv6.js';
import {
  emitIpv6Header,
  IPV6_NEXT_DESTINATION_OPTIONS,
  IPV6_NEXT_FRAGMENT,
  IPV6_NEXT_HOP_BY_HOP,
  IPV6_NEXT_ROUTING,
  IPV6_NEXT_TCP,
  IPV6_NEXT_UDP,
  Ipv6View,
  parseIpv6 as parseIpv6Packet,
  parseQuotedIpv6,
} from '../../src/wire/ipv6.js';
import {
  eui64InterfaceId,
  ipv4FromMapped,
  ipv4MappedIpv6,
  ipv6InPrefix,
  ipv6MulticastScope,
  ipv6PrefixMask,
  ipv6ToString,
  isIpv4MappedIpv6,
  isIpv6LinkLocal,
  isIpv6Multicast,
  parseIpv6,
  readIpv6,
  writeIpv6,
} from '../../src/wire/ipv6-address.js';
import {
  emitIpv6FragmentHeader,
  emitIpv6OptionsHeader,
  ipv6OptionMayChange,
  ipv6UnknownOptionAction,
  parseIpv6Options,
  parseIpv6RoutingHeader,
  readIpv6ExtensionHeader,
  walkIpv6Headers,
} from '../../src/wire/ipv6-extension-headers.js';
import { parseNdpOptions } from '../../src/wire/ndp.js';
import { emitUdp, parseUdp } from '../../src/wire/udp.js';

const A = parseIpv6('2001:db8::1')!;
const B = parseIpv6('2001:db8::2')!;
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('IPv6 address text', () => {
  it('reads every RFC 4291 §2.2 form', () => {
    expect(parseIpv6('::')).toBe(0n);
    expect(parseIpv6('::1')).toBe(1n);
    expect(parseIpv6('2001:DB8:0:0:8:800:200C:417A')).toBe(0x20010db8000000000008_0800200c417an);
    expect(parseIpv6('2001:db8::8:800:200c:417a')).toBe(parseIpv6('2001:DB8:0:0:8:800:200C:417A'));
    expect(parseIpv6('ff01::101')).toBe(0xff010000000000000000000000000101n);
    expect(parseIpv6('::13.1.68.3')).toBe(0x0d014403n);
    expect(parseIpv6('::ffff:129.144.52.38')).toBe(0xffff81903426n);
    expect(parseIpv6('1:2:3:4:5:6:1.2.3.4')).toBe(0x0001000200030004000500060102_0304n);
    expect(parseIpv6('1::')).toBe(1n << 112n);
  });

  it('refuses what is not an address', () => {
    for (const bad of [
      '',
      ':',
      ':::',
      '1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7:8:9',
      '1::2::3',
      '12345::',
      'g::',
      '::1.2.3',
      '::1.2.3.256',
      '1:2:3:4:5:6:7:1.2.3.4',
      '1:2:3:4:5:6:7:8::',
      '10.0.0.1',
      'fe80::1%eth0',
    ]) {
      expect([bad, parseIpv6(bad)]).toEqual([bad, undefined]);
    }
  });

  it('writes RFC 5952 canonical text', () => {
    const cases: [string, string][] = [
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of two equal runs (§4.2.3)
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed (§4.2.2)
      ['2001:db8:0:0:0:1:0:0', '2001:db8::1:0:0'], // the longest run wins (§4.2.3)
      ['0:0:0:0:0:0:0:0', '::'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['FE80:0:0:0:0AFF:FE4D:0:1', 'fe80::aff:fe4d:0:1'],
      ['::ffff:10.77.0.1', '::ffff:10.77.0.1'], // IPv4-mapped keeps its dotted quad (§5)
      ['1:0:0:0:0:0:0:0', '1::'],
    ];
    for (const [input, canonical] of cases) expect(ipv6ToString(parseIpv6(input)!)).toBe(canonical);
  });

  it('reads and writes the 16 bytes big-endian', () => {
    const bytes = new Uint8Array(20);
    writeIpv6(bytes, 2, parseIpv6('fd00:77::1:2')!);
    expect(hex(bytes)).toBe('0000fd000077000000000000000000010002' + '0000');
    expect(readIpv6(bytes, 2)).toBe(parseIpv6('fd00:77::1:2'));
  });

  it('classifies addresses and prefixes', () => {
    expect(isIpv6LinkLocal(parseIpv6('fe80::1')!)).toBe(true);
    expect(isIpv6LinkLocal(parseIpv6('febf::1')!)).toBe(true);
    expect(isIpv6LinkLocal(parseIpv6('fec0::1')!)).toBe(false);
    expect(isIpv6Multicast(parseIpv6('ff02::1')!)).toBe(true);
    expect(isIpv6Multicast(parseIpv6('fe02::1')!)).toBe(false);
    expect(ipv6MulticastScope(parseIpv6('ff05::2')!)).toBe(5);
    expect(ipv6PrefixMask(0)).toBe(0n);
    expect(ipv6PrefixMask(128)).toBe((1n << 128n) - 1n);
    expect(ipv6PrefixMask(64)).toBe(((1n << 64n) - 1n) << 64n);
    expect(ipv6InPrefix(A, parseIpv6('2001:db8::')!, 64)).toBe(true);
    expect(ipv6InPrefix(A, parseIpv6('2001:db9::')!, 32)).toBe(false);
    expect(ipv6InPrefix(A, parseIpv6('2001:db9::')!, 15)).toBe(true);
    const mapped = ipv4MappedIpv6(0x0a4d0001);
    expect(isIpv4MappedIpv6(mapped)).toBe(true);
    expect(ipv4FromMapped(mapped)).toBe(0x0a4d0001);
    expect(isIpv4MappedIpv6(A)).toBe(false);
    // RFC 4291 appendix A: 34-56-78-9A-BC-DE becomes 3656:78ff:fe9a:bcde.
    expect(eui64InterfaceId(0x3456789abcde)).toBe(0x365678fffe9abcden);
  });
});

describe('IPv6 header', () => {
  const header = {
    trafficClass: 0xb8,
    flowLabel: 0xabcde,
    nextHeader: IPV6_NEXT_UDP,
    hopLimit: 64,
    src: A,
    dst: B,
  };

  it('emits and parses every field, payload bounded by Payload Length', () => {
    const buf = new Uint8Array(40 + 12 + 6); // 6 bytes of link padding after the packet
    expect(emitIpv6Header(header, 12, buf, 0)).toBe(40);
    expect(hex(buf.subarray(0, 8))).toBe('6b8abcde000c1140');
    const p = parseIpv6Packet(buf);
    expect(p).toMatchObject({ ok: true, value: { ...header, payloadLength: 12 } });
    if (!p.ok) throw new Error('parse');
    expect(p.value.payload.length).toBe(12);
    const view = Ipv6View.fromBytes(buf);
    if (!view.ok) throw new Error('view');
    expect([view.value.version, view.value.trafficClass, view.value.flowLabel, view.value.hopLimit]).toEqual([
      6, 0xb8, 0xabcde, 64,
    ]);
    expect(view.value.decrementHopLimit()).toBe(63);
    expect(buf[7]).toBe(63);
  });

  it('reports truncated, bad-version and bad-total-length; a quote may be cut short', () => {
    const buf = new Uint8Array(60);
    emitIpv6Header(header, 40, buf, 0);
    expect(parseIpv6Packet(buf.subarray(0, 39))).toMatchObject({ ok: false, error: { kind: 'truncated' } });
    expect(parseIpv6Packet(buf.subarray(0, 59))).toMatchObject({
      ok: false,
      error: { kind: 'bad-total-length' },
    });
    const quoted = parseQuotedIpv6(buf.subarray(0, 48));
    expect(quoted).toMatchObject({ ok: true, value: { payloadLength: 40 } });
    if (quoted.ok) expect(quoted.value.payload.length).toBe(8);
    const v4 = buf.slice();
    v4[0] = 0x45;
    expect(parseIpv6Packet(v4)).toMatchObject({ ok: false, error: { kind: 'bad-version' } });
  });

  it('refuses a payload over 65535 bytes (no jumbograms)', () => {
    expect(() => emitIpv6Header(header, 65536, new Uint8Array(40), 0)).toThrow(/jumbograms/);
  });
});

describe('IPv6 extension headers', () => {
  it('walks Hop-by-Hop, Destination Options, Routing and Fragment to the upper layer', () => {
    const payload = new Uint8Array(8 + 16 + 8 + 8 + 4);
    let o = emitIpv6OptionsHeader(
      IPV6_NEXT_DESTINATION_OPTIONS,
      [{ type: 5, data: new Uint8Array(2) }],
      payload,
      0,
    );
    o += emitIpv6OptionsHeader(
      IPV6_NEXT_ROUTING,
      [{ type: 0x3e, data: new Uint8Array(10).fill(7) }],
      payload,
      o,
    );
    payload.set([IPV6_NEXT_FRAGMENT, 0, 4, 0], o); // Routing: type 4, 0 segments left
    o += 8;
    o += emitIpv6FragmentHeader(
      { nextHeader: IPV6_NEXT_TCP, offset: 0, moreFragments: true, identification: 0xdeadbeef },
      payload,
      o,
    );
    const chain = walkIpv6Headers(payload, IPV6_NEXT_HOP_BY_HOP);
    if (!chain.ok) throw new Error(chain.error.message);
    expect(chain.value.headers.map((h) => [h.protocol, h.offset, h.length])).toEqual([
      [IPV6_NEXT_HOP_BY_HOP, 0, 8],
      [IPV6_NEXT_DESTINATION_OPTIONS, 8, 16],
      [IPV6_NEXT_ROUTING, 24, 8],
      [IPV6_NEXT_FRAGMENT, 32, 8],
    ]);
    expect([chain.value.upperLayerProtocol, chain.value.upperLayerOffset]).toEqual([IPV6_NEXT_TCP, 40]);
    expect(parseIpv6RoutingHeader(chain.value.headers[2]!)).toMatchObject({
      routingType: 4,
      segmentsLeft: 0,
    });
    // 2 + 12 option bytes in a 16-byte header: PadN of length 0 fills the last two.
    expect(hex(payload.subarray(8, 24))).toBe('2b013e0a070707070707070707070100');
    const options = parseIpv6Options(chain.value.headers[1]!);
    expect(options.ok && options.value.map((x) => [x.type, x.data.length, x.offset])).toEqual([
      [0x3e, 10, 10],
    ]);
  });

  it('stops at a non-first fragment: what follows is only whole after reassembly', () => {
    const payload = new Uint8Array(16);
    emitIpv6FragmentHeader(
      { nextHeader: IPV6_NEXT_TCP, offset: 8, moreFragments: false, identification: 1 },
      payload,
      0,
    );
    payload[8] = 0xaa;
    const chain = walkIpv6Headers(payload, IPV6_NEXT_FRAGMENT);
    expect(chain.ok && [chain.value.upperLayerProtocol, chain.value.upperLayerOffset]).toEqual([
      IPV6_NEXT_TCP,
      8,
    ]);
  });

  it('reports a header or an option that runs past the payload', () => {
    const payload = new Uint8Array(16);
    payload[1] = 2; // 24 bytes claimed
    expect(readIpv6ExtensionHeader(payload, 0, IPV6_NEXT_HOP_BY_HOP)).toMatchObject({
      ok: false,
      error: { kind: 'truncated' },
    });
    expect(readIpv6ExtensionHeader(payload, 12, IPV6_NEXT_FRAGMENT)).toMatchObject({
      ok: false,
      error: { kind: 'truncated' },
    });
    payload[1] = 0;
    payload.set([0x1e, 5], 2); // option of 5 data bytes in 6 remaining: 7 needed
    const header = readIpv6ExtensionHeader(payload, 0, IPV6_NEXT_DESTINATION_OPTIONS);
    if (!header.ok) throw new Error('header');
    expect(parseIpv6Options(header.value)).toMatchObject({ ok: false, error: { kind: 'bad-option' } });
  });

  it('names the action for an unrecognized option from its two high bits (RFC 8200 §4.2)', () => {
    expect([0x1e, 0x5e, 0x9e, 0xde, 0xc2].map(ipv6UnknownOptionAction)).toEqual([
      'skip',
      'discard',
      'discard-and-report',
      'discard-and-report-unicast',
      'discard-and-report-unicast',
    ]);
    expect([ipv6OptionMayChange(0x3e), ipv6OptionMayChange(0x1e)]).toEqual([true, false]);
  });

  it('refuses a fragment offset that is not a multiple of 8', () => {
    expect(() =>
      emitIpv6FragmentHeader(
        { nextHeader: 6, offset: 12, moreFragments: false, identification: 0 },
        new Uint8Array(8),
        0,
      ),
    ).toThrow(/multiple of 8/);
  });
});

describe('ICMPv6 and NDP options', () => {
  const messages: Icmpv6Message[] = [
    { kind: 'echo-request', identifier: 7, sequence: 9, data: new Uint8Array([1, 2, 3]) },
    { kind: 'packet-too-big', mtu: 1280, original: new Uint8Array(48).fill(0x60) },
    { kind: 'parameter-problem', code: 1, pointer: 40, original: new Uint8Array(44) },
    { kind: 'time-exceeded', code: 0, original: new Uint8Array(40) },
    {
      kind: 'neighbor-solicitation',
      target: B,
      options: [{ kind: 'source-link-layer', mac: 0x020000000001 }],
    },
    {
      kind: 'neighbor-advertisement',
      router: true,
      solicited: false,
      override: true,
      target: A,
      options: [],
    },
    {
      kind: 'redirect',
      target: A,
      destination: B,
      options: [{ kind: 'redirected-header', packet: new Uint8Array(8) }],
    },
    { kind: 'mld-report', maxResponseDelay: 0, group: parseIpv6('ff02::1:ff00:1')! },
    { kind: 'mld-query', maxResponseDelay: 1000, group: parseIpv6('ff3e::1')!, sources: [A, B] },
    { kind: 'mldv2-report', records: [{ recordType: 4, group: parseIpv6('ff02::1:ff00:2')!, sources: [A] }] },
    { kind: 'other', type: 200, code: 3, restOfHeader: 0x01020304, body: new Uint8Array([9]) },
  ];

  it('round-trips every message kind, checksum over the IPv6 pseudo-header', () => {
    for (const m of messages) {
      const buf = new Uint8Array(icmpv6Length(m));
      emitIcmpv6(m, A, B, buf, 0);
      expect(parseIcmpv6(buf, A, B)).toEqual({ ok: true, value: m });
      // The same bytes do not verify between other addresses.
      expect(parseIcmpv6(buf, A, A)).toMatchObject({ ok: false, error: { kind: 'bad-checksum' } });
    }
  });

  it('reads an MLDv2 query: its sources, its Maximum Response Code in floating point (RFC 3810 §5.1.3)', () => {
    const buf = new Uint8Array(28 + 16);
    emitIcmpv6({ kind: 'mld-query', maxResponseDelay: 0, group: 0n, sources: [A] }, A, B, buf, 0);
    /** Adds `delta` to the 16-bit word at `offset`, keeping the checksum right (RFC 1624). */
    const bump = (offset: number, delta: number) => {
      buf[offset] = (((buf[offset]! << 8) | buf[offset + 1]!) + delta) >>> 8;
      buf[offset + 1] = (buf[offset + 1]! + delta) & 0xff;
      let checksum = ((buf[2]! << 8) | buf[3]!) - delta;
      if (checksum < 0) checksum += 0xffff;
      buf[2] = checksum >>> 8;
      buf[3] = checksum & 0xff;
    };
    // Code 0x8123: exponent 0, mantissa 0x123 -> (0x1123) << 3 ms.
    bump(4, 0x8123);
    expect(parseIcmpv6(buf, A, B)).toEqual({
      ok: true,
      value: { kind: 'mld-query', maxResponseDelay: 0x1123 << 3, group: 0n, sources: [A] },
    });
    expect(mldMaxResponseDelay(0x7fff)).toBe(32767);
    expect(mldMaxResponseDelay(0xffff)).toBe(0x1fff << 10);
    // A query whose source count runs past its end.
    bump(26, 1);
    expect(parseIcmpv6(buf, A, B)).toMatchObject({ ok: false, error: { kind: 'truncated' } });
  });

  it('rejects an NDP option of length 0 and one running past the message (RFC 4861 §4.6)', () => {
    expect(parseNdpOptions(new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]))).toMatchObject({
      ok: false,
      error: { kind: 'bad-option' },
    });
    expect(parseNdpOptions(new Uint8Array([1, 2, 0, 0, 0, 0, 0, 0]))).toMatchObject({
      ok: false,
      error: { kind: 'bad-option' },
    });
    expect(parseNdpOptions(new Uint8Array([99, 1, 1, 2, 3, 4, 5, 6]))).toEqual({
      ok: true,
      value: [{ kind: 'other', type: 99, data: new Uint8Array([1, 2, 3, 4, 5, 6]) }],
    });
  });
});

describe('UDP over IPv6', () => {
  it('always computes the checksum and refuses a zero one (RFC 8200 §8.1)', () => {
    const buf = new Uint8Array(12);
    emitUdp({ srcPort: 1, dstPort: 2, payload: new Uint8Array([1, 2, 3, 4]) }, A, B, buf, 0, {
      computeChecksum: false,
    });
    expect((buf[6]! << 8) | buf[7]!).not.toBe(0);
    expect(parseUdp(buf, A, B).ok).toBe(true);
    buf[6] = 0;
    buf[7] = 0;
    expect(parseUdp(buf, A, B)).toMatchObject({ ok: false, error: { kind: 'bad-checksum' } });
    // The same zero checksum over IPv4 means "none computed" and is accepted (RFC 768).
    expect(parseUdp(buf, 0x0a000001, 0x0a000002).ok).toBe(true);
  });
});
