/**
 * The one table from ICMP and ICMPv6 errors to kind, errno and the hard/soft rule (src/ip/icmp-errors.ts),
 * checked code by code against Linux's conversion (icmp_err_convert, icmpv6_err_convert) and RFC 1122
 * §4.2.3.9 / RFC 4443.
 */
import { describe, expect, it } from 'vitest';
import { errnoForIcmpKind, icmpErrorMeaning, isHardIcmpError } from '../../src/ip/icmp-errors.js';
import { errnoForIcmpKind as tcpErrnoForKind } from '../../src/tcp/icmp-report.js';

describe('ICMP errors: one table for both IP versions', () => {
  it('IPv4 destination unreachable, codes 0-15, as Linux converts them', () => {
    const codes = Array.from({ length: 16 }, (_, code) => icmpErrorMeaning(4, 3, code)!.code);
    expect(codes).toEqual([
      'ENETUNREACH',
      'EHOSTUNREACH',
      'ENOPROTOOPT',
      'ECONNREFUSED',
      'EMSGSIZE',
      'EOPNOTSUPP',
      'ENETUNREACH',
      'EHOSTDOWN',
      'ENONET',
      'ENETUNREACH',
      'EHOSTUNREACH',
      'ENETUNREACH',
      'EHOSTUNREACH',
      'EHOSTUNREACH',
      'EHOSTUNREACH',
      'EHOSTUNREACH',
    ]);
    expect(icmpErrorMeaning(4, 11, 0)).toEqual({ kind: 'time-exceeded', code: 'EHOSTUNREACH', hard: false });
    expect(icmpErrorMeaning(4, 12, 0)).toEqual({ kind: 'parameter-problem', code: 'EPROTO', hard: true });
    expect(icmpErrorMeaning(4, 8, 0)).toBeUndefined(); // an echo request is no error
  });

  it('ICMPv6 destination unreachable, packet too big, time exceeded, parameter problem', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((code) => icmpErrorMeaning(6, 1, code)!.code)).toEqual([
      'ENETUNREACH',
      'EACCES',
      'EHOSTUNREACH',
      'EHOSTUNREACH',
      'ECONNREFUSED',
      'EACCES',
      'EACCES',
    ]);
    expect(icmpErrorMeaning(6, 2, 0)).toEqual({
      kind: 'fragmentation-needed',
      code: 'EMSGSIZE',
      hard: false,
    });
    expect(icmpErrorMeaning(6, 3, 0)).toEqual({ kind: 'time-exceeded', code: 'EHOSTUNREACH', hard: false });
    expect(icmpErrorMeaning(6, 4, 1)).toEqual({ kind: 'parameter-problem', code: 'EPROTO', hard: true });
    // RFC 4443 §2.4(d): an unknown error type still means something to the upper layer; 128+ is not an error.
    expect(icmpErrorMeaning(6, 100, 0)?.kind).toBe('other-unreachable');
    expect(icmpErrorMeaning(6, 128, 0)).toBeUndefined();
  });

  it('one hard/soft rule: the destination refused the protocol or port; never frag-needed or unreachable hosts', () => {
    const hard = (version: 4 | 6, type: number, code: number) => icmpErrorMeaning(version, type, code)?.hard;
    expect([hard(4, 3, 2), hard(4, 3, 3), hard(6, 1, 4), hard(6, 4, 1)]).toEqual([true, true, true, true]);
    expect([
      hard(4, 3, 0),
      hard(4, 3, 1),
      hard(4, 3, 4),
      hard(6, 1, 3),
      hard(6, 2, 0),
      hard(4, 4, 0),
    ]).toEqual([false, false, false, false, false, false]);
    expect(isHardIcmpError(3, 3)).toBe(true);
    expect(isHardIcmpError(3, 4)).toBe(false);
  });

  it("TCP's errno for a bare kind is the table's", () => {
    for (const kind of [
      'net-unreachable',
      'host-unreachable',
      'protocol-unreachable',
      'port-unreachable',
      'source-route-failed',
      'other-unreachable',
      'time-exceeded',
      'parameter-problem',
    ] as const) {
      expect([kind, tcpErrnoForKind(kind)]).toEqual([kind, errnoForIcmpKind(kind)]);
    }
  });
});
