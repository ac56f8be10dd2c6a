import { describe, expect, it } from 'vitest';
import { internetChecksum } from '../../src/wire/checksum.js';
import {
  emitIcmp,
  ICMP_FRAGMENT_REASSEMBLY_TIME_EXCEEDED,
  ICMP_FRAGMENTATION_NEEDED,
  ICMP_PORT_UNREACHABLE,
  ICMP_PRECEDENCE_CUTOFF_IN_EFFECT,
  ICMP_TTL_EXCEEDED_IN_TRANSIT,
  type IcmpMessage,
  IcmpView,
  icmpLength,
  parseIcmp,
} from '../../src/wire/icmp.js';
import { emitIpv4Header, IP_PROTOCOL_UDP, parseQuotedIpv4 } from '../../src/wire/ipv4.js';

function emitted(m: IcmpMessage, padBefore = 0): Uint8Array {
  const buf = new Uint8Array(padBefore + icmpLength(m));
  expect(emitIcmp(m, buf, padBefore)).toBe(icmpLength(m));
  return buf.subarray(padBefore);
}

/** An IPv4 header of a UDP datagram plus its first 8 bytes, as an ICMP error quotes it. */
function quotedUdp(): Uint8Array {
  const buf = new Uint8Array(28);
  emitIpv4Header(
    {
      tos: 0,
      id: 7,
      dontFragment: true,
      moreFragments: false,
      fragmentOffset: 0,
      ttl: 64,
      protocol: IP_PROTOCOL_UDP,
      src: 0x0a000001,
      dst: 0x0a000002,
    },
    100,
    buf,
    0,
  );
  buf.set([0x9c, 0x41, 0x00, 0x35, 0x00, 0x6c, 0x12, 0x34], 20);
  return buf;
}

describe('ICMPv4 (RFC 792)', () => {
  it('emits an echo request with identifier, sequence and data, checksummed over the whole message', () => {
    const buf = emitted({
      kind: 'echo-request',
      identifier: 0x1d49,
      sequence: 1,
      data: Uint8Array.of(0xaa, 0xbb, 0xcc),
    });
    expect([...buf.subarray(0, 2)]).toEqual([8, 0]);
    expect([...buf.subarray(4)]).toEqual([0x1d, 0x49, 0, 1, 0xaa, 0xbb, 0xcc]);
    expect(internetChecksum(buf, 0, buf.length)).toBe(0);
  });

  it('round-trips echo request and reply (odd and even data lengths, at an odd offset)', () => {
    for (const kind of ['echo-request', 'echo-reply'] as const) {
      for (const length of [0, 1, 56, 57]) {
        const data = new Uint8Array(length).map((_, i) => i * 3);
        const m: IcmpMessage = { kind, identifier: 0xfedc, sequence: 0x8001, data };
        expect(parseIcmp(emitted(m, 1))).toEqual({ ok: true, value: m });
      }
    }
  });

  it('round-trips destination unreachable with every code 0-15', () => {
    for (let code = 0; code <= ICMP_PRECEDENCE_CUTOFF_IN_EFFECT; code++) {
      const m: IcmpMessage = {
        kind: 'destination-unreachable',
        code,
        nextHopMtu: code === ICMP_FRAGMENTATION_NEEDED ? 1400 : 0,
        original: quotedUdp(),
      };
      const buf = emitted(m);
      expect([buf[0], buf[1]]).toEqual([3, code]);
      expect(parseIcmp(buf)).toEqual({ ok: true, value: m });
    }
  });

  it('carries the next-hop MTU of fragmentation needed in the low 16 bits (RFC 1191 §4)', () => {
    const buf = emitted({
      kind: 'destination-unreachable',
      code: ICMP_FRAGMENTATION_NEEDED,
      nextHopMtu: 1280,
      original: quotedUdp(),
    });
    expect([...buf.subarray(4, 8)]).toEqual([0, 0, 0x05, 0x00]);
    const view = IcmpView.fromBytes(buf);
    expect(view.ok && [view.value.type, view.value.code, view.value.nextHopMtu]).toEqual([3, 4, 1280]);
    // Other codes leave the field unused (zero) whatever the representation says.
    const port = emitted({
      kind: 'destination-unreachable',
      code: ICMP_PORT_UNREACHABLE,
      nextHopMtu: 1280,
      original: quotedUdp(),
    });
    expect([...port.subarray(4, 8)]).toEqual([0, 0, 0, 0]);
    expect(parseIcmp(port)).toMatchObject({ ok: true, value: { nextHopMtu: 0 } });
  });

  it('exposes the quoted datagram for the transport layer', () => {
    const result = parseIcmp(
      emitted({
        kind: 'destination-unreachable',
        code: ICMP_PORT_UNREACHABLE,
        nextHopMtu: 0,
        original: quotedUdp(),
      }),
    );
    if (!result.ok || result.value.kind !== 'destination-unreachable')
      throw new Error('expected unreachable');
    const quoted = parseQuotedIpv4(result.value.original);
    expect(quoted.ok && quoted.value).toMatchObject({
      protocol: IP_PROTOCOL_UDP,
      src: 0x0a000001,
      dst: 0x0a000002,
    });
    expect(quoted.ok && [...quoted.value.payload.subarray(0, 4)]).toEqual([0x9c, 0x41, 0x00, 0x35]);
  });

  it('round-trips time exceeded in transit and in reassembly', () => {
    for (const code of [ICMP_TTL_EXCEEDED_IN_TRANSIT, ICMP_FRAGMENT_REASSEMBLY_TIME_EXCEEDED]) {
      const m: IcmpMessage = { kind: 'time-exceeded', code, original: quotedUdp() };
      const buf = emitted(m);
      expect([buf[0], buf[1], buf[4], buf[5], buf[6], buf[7]]).toEqual([11, code, 0, 0, 0, 0]);
      expect(parseIcmp(buf)).toEqual({ ok: true, value: m });
    }
  });

  it('keeps unknown types as generic messages that re-emit unchanged', () => {
    // Parameter problem (type 12) with pointer 9, and a timestamp request (type 13).
    for (const m of [
      { kind: 'other', type: 12, code: 0, restOfHeader: 0x09000000, body: quotedUdp() },
      { kind: 'other', type: 13, code: 0, restOfHeader: 0x12340001, body: new Uint8Array(12) },
    ] satisfies IcmpMessage[]) {
      const buf = emitted(m);
      expect(parseIcmp(buf)).toEqual({ ok: true, value: m });
      const view = IcmpView.fromBytes(buf);
      expect(view.ok && [view.value.type, view.value.code, view.value.restOfHeader]).toEqual([
        m.type,
        m.code,
        m.restOfHeader,
      ]);
    }
  });

  it('gives typed access through the view', () => {
    const buf = emitted({ kind: 'echo-reply', identifier: 7497, sequence: 1, data: Uint8Array.of(1, 2) });
    const view = IcmpView.fromBytes(buf);
    if (!view.ok) throw new Error('view');
    expect([view.value.type, view.value.code, view.value.identifier, view.value.sequence]).toEqual([
      0, 0, 7497, 1,
    ]);
    expect([view.value.checksum, view.value.checksumValid(), [...view.value.body]]).toEqual([
      (buf[2]! << 8) | buf[3]!,
      true,
      [1, 2],
    ]);
  });

  describe('malformed input', () => {
    it('truncated: fewer than 8 bytes', () => {
      const buf = emitted({ kind: 'echo-request', identifier: 1, sequence: 1, data: new Uint8Array(0) });
      for (const length of [0, 4, 7]) {
        expect(parseIcmp(buf.subarray(0, length))).toMatchObject({
          ok: false,
          error: { kind: 'truncated', protocol: 'icmp' },
        });
      }
    });

    it('bad-checksum: a changed byte anywhere in the message, data included', () => {
      const buf = emitted({ kind: 'echo-request', identifier: 1, sequence: 1, data: new Uint8Array(33) });
      buf[40] = 1;
      expect(parseIcmp(buf)).toMatchObject({ ok: false, error: { kind: 'bad-checksum' } });
      expect(parseIcmp(buf, { verifyChecksum: false }).ok).toBe(true);
    });
  });
});
