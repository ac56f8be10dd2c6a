/**
 * Hostile input for the IPv6 parsers: random, truncated and bit-flipped frames from the kernel IPv6
 * capture into every IPv6, extension header, ICMPv6, NDP, TCP and UDP parser. None may throw, every
 * success must be self-consistent, and the campaign must reach every error kind the parsers name.
 * Seeded: the same frames every run.
 */
import { describe, expect, it } from 'vitest';
import { Icmpv6View, parseIcmpv6 } from '../../src/wire/icmpv6.js';
import { Ipv6View, parseIpv6, parseQuotedIpv6 } from '../../src/wire/ipv6.js';
import {
  parseIpv6FragmentHeader,
  parseIpv6Options,
  parseIpv6RoutingHeader,
  walkIpv6Headers,
} from '../../src/wire/ipv6-extension-headers.js';
import { parseNdpOptions } from '../../src/wire/ndp.js';
import type { ParseResult } from '../../src/wire/parse-result.js';
import { parseTcp } from '../../src/wire/tcp.js';
import { parseUdp } from '../../src/wire/udp.js';
import { kernelIpv6Frames } from './kernel-ipv6-frames.js';
import { TestRandom } from './test-random.js';

const seen = new Set<string>();

function note<T>(result: ParseResult<T>): ParseResult<T> {
  if (!result.ok) seen.add(`${result.error.protocol}:${result.error.kind}`);
  return result;
}

function exercise(packet: Uint8Array): void {
  const ip = note(parseIpv6(packet));
  const view = Ipv6View.fromBytes(packet);
  expect(view.ok).toBe(ip.ok);
  if (view.ok) void [view.value.trafficClass, view.value.flowLabel, view.value.src, view.value.payload];
  const quoted = note(parseQuotedIpv6(packet));
  if (quoted.ok) expect(quoted.value.payload.length).toBeLessThanOrEqual(packet.length - 40);
  const p = ip.ok ? ip.value : quoted.ok ? quoted.value : undefined;
  if (!p) return;
  if (ip.ok) expect(40 + p.payload.length).toBe(p.payloadLength + 40);
  const chain = note(walkIpv6Headers(p.payload, p.nextHeader));
  if (!chain.ok) return;
  expect(chain.value.upperLayerOffset).toBeLessThanOrEqual(p.payload.length);
  for (const header of chain.value.headers) {
    expect(header.offset + header.length).toBeLessThanOrEqual(p.payload.length);
    if (header.protocol === 44) {
      const f = parseIpv6FragmentHeader(header);
      expect(f.offset % 8).toBe(0);
    } else if (header.protocol === 43) {
      void parseIpv6RoutingHeader(header);
    } else {
      const options = note(parseIpv6Options(header));
      if (options.ok) {
        for (const o of options.value)
          expect(o.offset + 2 + o.data.length).toBeLessThanOrEqual(header.offset + header.length);
      }
    }
  }
  const upper = p.payload.subarray(chain.value.upperLayerOffset);
  for (const verifyChecksum of [true, false]) {
    const icmp = note(parseIcmpv6(upper, p.src, p.dst, { verifyChecksum }));
    if (icmp.ok && 'original' in icmp.value) note(parseQuotedIpv6(icmp.value.original));
    note(parseUdp(upper, p.src, p.dst, { verifyChecksum }));
    note(parseTcp(upper, p.src, p.dst, { verifyChecksum }));
  }
  const icmpView = Icmpv6View.fromBytes(upper);
  if (icmpView.ok) void [icmpView.value.restOfHeader, icmpView.value.checksumValid(p.src, p.dst)];
  note(parseNdpOptions(upper));
}

function flipBits(random: TestRandom, source: Uint8Array, flips: number): Uint8Array {
  const copy = source.slice();
  for (let i = 0; i < flips; i++) {
    const bit = random.below(copy.length * 8);
    copy[bit >>> 3]! ^= 1 << (bit & 7);
  }
  return copy;
}

describe('fuzzed IPv6 packets into every parser', () => {
  const packets = kernelIpv6Frames().map((f) => f.subarray(14));

  it('random bytes behind a version-6 first nibble', () => {
    const random = new TestRandom(0x6eed0001);
    for (let i = 0; i < 2000; i++) {
      const buf = random.bytes(random.below(140));
      if (buf.length > 0) buf[0] = 0x60 | (buf[0]! & 0x0f);
      if (buf.length > 6 && i % 2 === 0) buf[6] = [0, 43, 44, 60, 58, 6, 17][random.below(7)]!;
      exercise(buf);
    }
  });

  it('every kernel packet cut at many lengths', () => {
    const random = new TestRandom(0x6eed0002);
    for (const packet of packets) {
      for (let i = 0; i < 60; i++)
        exercise(
          packet.subarray(
            0,
            i < 30 ? random.below(Math.min(packet.length, 120)) : random.below(packet.length + 1),
          ),
        );
    }
  });

  it('kernel packets with random bit flips', () => {
    const random = new TestRandom(0x6eed0003);
    for (let i = 0; i < 4000; i++)
      exercise(flipBits(random, packets[random.below(packets.length)]!, 1 + random.below(4)));
  });

  it('reached every error kind', () => {
    expect([...seen].sort()).toEqual(
      expect.arrayContaining([
        'ipv6:truncated',
        'ipv6:bad-version',
        'ipv6:bad-total-length',
        'ipv6-extension:truncated',
        'ipv6-extension:bad-option',
        'icmpv6:truncated',
        'icmpv6:bad-checksum',
        'ndp:bad-option',
        'udp:bad-checksum',
        'tcp:bad-checksum',
      ]),
    );
  });
});
