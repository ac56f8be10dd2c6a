/**
 * Hostile input: thousands of random, truncated and bit-flipped frames into every parser and view. None
 * may throw, every success must be self-consistent, and the campaign must reach every error kind (so it is
 * known to exercise the checks, not just the happy path). Seeded: the same frames every run.
 */
import { describe, expect, it } from 'vitest';
import { networkPacketOf, readPcap } from '../../src/pcap/pcap-reader.js';
import { ArpView, parseArp } from '../../src/wire/arp.js';
import { EthernetView, parseEthernet } from '../../src/wire/ethernet.js';
import { IcmpView, parseIcmp } from '../../src/wire/icmp.js';
import { Ipv4View, parseIpv4, parseQuotedIpv4 } from '../../src/wire/ipv4.js';
import type { ParseResult, WireErrorKind } from '../../src/wire/parse-result.js';
import { parseTcp, parseTcpOptions, TcpView } from '../../src/wire/tcp.js';
import { parseUdp, UdpView } from '../../src/wire/udp.js';
import { kernelCapture, kernelFrames } from './kernel-frames.js';
import { TestRandom } from './test-random.js';

const SRC = 0x0a4d0001;
const DST = 0x0a4d0002;

/** protocol:kind pairs seen across the campaign. */
const seen = new Set<string>();

function note<T>(result: ParseResult<T>): ParseResult<T> {
  if (!result.ok) seen.add(`${result.error.protocol}:${result.error.kind}`);
  return result;
}

function isUint(value: number, bits: number): boolean {
  return Number.isInteger(value) && value >= 0 && value < 2 ** bits;
}

/** Runs every parser and view on `buf` and checks what the successes claim. */
function exerciseAll(buf: Uint8Array): void {
  const ethernet = note(parseEthernet(buf));
  if (ethernet.ok) {
    expect(ethernet.value.payload.length).toBe(buf.length - 14);
    const view = EthernetView.fromBytes(buf);
    if (!view.ok) throw new Error('view disagrees with parser');
    void [view.value.dst, view.value.src, view.value.etherType, view.value.payload];
  }

  for (const packet of [buf, buf.subarray(Math.min(14, buf.length))]) {
    const arp = note(parseArp(packet));
    const arpView = ArpView.fromBytes(packet);
    expect(arpView.ok).toBe(arp.ok);
    if (arpView.ok) {
      const v = arpView.value;
      void [v.operation, v.senderMac, v.senderIp, v.targetMac, v.targetIp];
    }

    for (const verifyChecksum of [true, false]) {
      const ip = note(parseIpv4(packet, { verifyChecksum }));
      if (ip.ok) {
        const p = ip.value;
        expect(p.headerLength).toBeGreaterThanOrEqual(20);
        expect(p.headerLength + p.payload.length).toBe(p.totalLength);
        expect(p.totalLength).toBeLessThanOrEqual(packet.length);
        expect(p.fragmentOffset % 8).toBe(0);
        exerciseTransport(p.payload, p.src, p.dst);
      }
    }
    const quoted = note(parseQuotedIpv4(packet));
    if (quoted.ok)
      expect(quoted.value.headerLength + quoted.value.payload.length).toBeLessThanOrEqual(packet.length);
    const ipView = Ipv4View.fromBytes(packet);
    if (ipView.ok) {
      const v = ipView.value;
      void [v.version, v.tos, v.id, v.dontFragment, v.moreFragments, v.fragmentOffset, v.ttl, v.protocol];
      void [v.checksum, v.src, v.dst, v.options, v.payload, v.checksumValid()];
    }
    exerciseTransport(packet, SRC, DST);
  }
}

function exerciseTransport(buf: Uint8Array, src: number, dst: number): void {
  for (const verifyChecksum of [true, false]) {
    const icmp = note(parseIcmp(buf, { verifyChecksum }));
    if (icmp.ok && icmp.value.kind === 'destination-unreachable') note(parseQuotedIpv4(icmp.value.original));

    const udp = note(parseUdp(buf, src, dst, { verifyChecksum }));
    if (udp.ok) {
      expect(isUint(udp.value.srcPort, 16) && isUint(udp.value.dstPort, 16)).toBe(true);
      expect(udp.value.payload.length).toBeLessThanOrEqual(buf.length - 8);
    }

    for (const lenientOptions of [false, true]) {
      const tcp = note(parseTcp(buf, src, dst, { verifyChecksum, lenientOptions }));
      if (tcp.ok) {
        const s = tcp.value;
        expect(isUint(s.seq, 32) && isUint(s.ack, 32) && isUint(s.flags, 8) && isUint(s.window, 16)).toBe(
          true,
        );
        expect(s.payload.length).toBe(buf.length - (buf[12]! >>> 4) * 4);
        for (const block of s.options.sack ?? [])
          expect(isUint(block.left, 32) && isUint(block.right, 32)).toBe(true);
      }
    }
  }
  const icmpView = IcmpView.fromBytes(buf);
  if (icmpView.ok) void [icmpView.value.restOfHeader, icmpView.value.body, icmpView.value.checksumValid()];
  const udpView = UdpView.fromBytes(buf);
  if (udpView.ok) void [udpView.value.length, udpView.value.payload, udpView.value.checksumValid(src, dst)];
  const tcpView = TcpView.fromBytes(buf);
  if (tcpView.ok) {
    const v = tcpView.value;
    void [v.seq, v.ack, v.reserved, v.flags, v.optionBytes, v.payload, v.checksumValid(src, dst)];
    note(parseTcpOptions(v.optionBytes));
    expect(parseTcpOptions(v.optionBytes, true).ok).toBe(true);
  }
}

function flipBits(random: TestRandom, source: Uint8Array, flips: number): Uint8Array {
  const copy = source.slice();
  for (let i = 0; i < flips; i++) {
    const bit = random.below(copy.length * 8);
    copy[bit >>> 3]! ^= 1 << (bit & 7);
  }
  return copy;
}

describe('fuzzed frames into every parser', () => {
  const frames = kernelFrames();

  it('random bytes of random lengths', () => {
    const random = new TestRandom(0x5eed0001);
    for (let i = 0; i < 3000; i++) exerciseAll(random.bytes(random.below(120)));
    // Random bytes with a plausible IPv4 first byte reach deeper checks.
    for (let i = 0; i < 2000; i++) {
      const buf = random.bytes(20 + random.below(80));
      buf[0] = 0x45 + random.below(11);
      exerciseAll(buf);
    }
  });

  it('every kernel frame cut at many lengths', () => {
    const random = new TestRandom(0x5eed0002);
    for (const frame of frames) {
      const cuts = frame.length <= 100 ? frame.length : 120;
      for (let i = 0; i < cuts; i++) {
        const length = frame.length <= 100 ? i : random.below(frame.length);
        exerciseAll(frame.subarray(0, length));
      }
    }
  });

  it('kernel frames with random bit flips', () => {
    const random = new TestRandom(0x5eed0003);
    for (let i = 0; i < 4000; i++) {
      const frame = frames[random.below(frames.length)]!;
      exerciseAll(flipBits(random, frame, 1 + random.below(4)));
    }
  });

  it('TCP segments with random option bytes', () => {
    const random = new TestRandom(0x5eed0004);
    const syn = frames[10]!.subarray(34); // the kernel's SYN: 40-byte header
    for (let i = 0; i < 3000; i++) {
      const segment = syn.slice();
      const garbage = random.bytes(20);
      // Bias toward option kinds the parser knows, with small lengths.
      for (let k = 0; k < garbage.length; k++) if (garbage[k]! > 200) garbage[k] = garbage[k]! % 11;
      segment.set(garbage, 20);
      exerciseTransport(segment, SRC, DST);
    }
  });

  it('pcap files with random damage', () => {
    const random = new TestRandom(0x5eed0005);
    const capture = kernelCapture();
    for (let i = 0; i < 400; i++) {
      const damaged = flipBits(
        random,
        capture.subarray(0, random.below(capture.length + 1)),
        random.below(6),
      );
      const file = note(readPcap(damaged));
      if (!file.ok) continue;
      let end = 24;
      for (const record of file.value.records) {
        end = record.data.byteOffset - damaged.byteOffset + record.data.length;
        expect(end).toBeLessThanOrEqual(damaged.length);
        for (const linkType of [1, 101, 113, 0]) note(networkPacketOf(linkType, record.data));
      }
    }
  });

  it('rejects every single-bit flip of a kernel IPv4 header or TCP/UDP/ICMP message', () => {
    // One flipped bit changes one 16-bit word by ±2^k, never a multiple of 0xffff: the checksum always sees it.
    for (const frame of frames) {
      const ip = parseIpv4(frame.subarray(14));
      if (!ip.ok) continue;
      for (let bit = 0; bit < 20 * 8; bit++) {
        const copy = frame.slice(14);
        copy[bit >>> 3]! ^= 1 << (bit & 7);
        expect(parseIpv4(copy).ok).toBe(false);
      }
      if (ip.value.moreFragments || ip.value.fragmentOffset > 0) continue;
      const message = ip.value.payload;
      for (let bit = 0; bit < message.length * 8; bit += 7) {
        const copy = message.slice();
        copy[bit >>> 3]! ^= 1 << (bit & 7);
        const result =
          ip.value.protocol === 6
            ? parseTcp(copy, ip.value.src, ip.value.dst)
            : ip.value.protocol === 17
              ? parseUdp(copy, ip.value.src, ip.value.dst)
              : parseIcmp(copy);
        expect(result.ok).toBe(false);
      }
    }
  });

  it('reached every error kind of every parser', () => {
    expect([...seen].sort()).toEqual([
      'arp:bad-field',
      'arp:truncated',
      'arp:unsupported',
      'ethernet:truncated',
      'ethernet:unsupported',
      'icmp:bad-checksum',
      'icmp:truncated',
      'ipv4:bad-checksum',
      'ipv4:bad-header-length',
      'ipv4:bad-total-length',
      'ipv4:bad-version',
      'ipv4:truncated',
      'pcap:bad-field',
      'pcap:truncated',
      'pcap:unsupported',
      'tcp:bad-checksum',
      'tcp:bad-header-length',
      'tcp:bad-option',
      'tcp:truncated',
      'udp:bad-checksum',
      'udp:bad-total-length',
      'udp:truncated',
    ] satisfies `${string}:${WireErrorKind}`[]);
  });
});
