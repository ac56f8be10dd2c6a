/**
 * The Node upstream's ICMP echo: the host's own `ping` (iputils) to the host's loopback, as the gateway
 * uses it for a guest's echo beyond it, and a missing command reported as unavailable with the reason.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { interpretPingOutput, pingEcho } from '../../src/gateway/ping-echo-node.js';

const hasPing = spawnSync('ping', ['-V']).status === 0;
if (!hasPing) console.warn('ping echo test skipped: no ping command (iputils-ping) on this host');

describe.skipIf(!hasPing)('ICMP echo through the host ping command', () => {
  test('127.0.0.1 answers; a command that does not exist makes every echo unavailable, with why', async () => {
    const echo = pingEcho();
    expect(await echo({ address: '127.0.0.1', size: 100, ttl: 64, timeoutMs: 2000 })).toEqual({
      kind: 'reply',
    });
    expect(await echo({ address: '::1', size: 100, ttl: 64, timeoutMs: 2000 })).toEqual({ kind: 'reply' });
    const none = pingEcho({ command: 'no-such-ping-command' });
    const request = { address: '127.0.0.1', size: 0, ttl: 64, timeoutMs: 500 };
    expect(await none(request)).toEqual({
      kind: 'unavailable',
      reason: "no 'no-such-ping-command' command on this host",
    });
    expect(await none(request)).toEqual({
      kind: 'unavailable',
      reason: "no 'no-such-ping-command' command on this host",
    });
  });

  test('at most maxConcurrent echoes run at once', async () => {
    const echo = pingEcho({ maxConcurrent: 2 });
    const request = { address: '127.0.0.1', size: 8, ttl: 64, timeoutMs: 2000 };
    const results = await Promise.all([echo(request), echo(request), echo(request)]);
    expect(results.map((r) => r.kind)).toEqual(['reply', 'reply', 'unavailable']);
  });
});

describe('what ping printed, read as an ICMP or ICMPv6 result', () => {
  // Lines as iputils' ping prints them (captured from Linux routers in network namespaces).
  const v6 = (line: string) => interpretPingOutput(1, `PING x 56 data bytes\n${line}\n`, 6);
  test('ICMPv6 destination unreachable codes (RFC 4443 §3.1), time exceeded, and errors of the host itself', () => {
    expect(v6('From fd00:9::2 icmp_seq=1 Destination unreachable: No route')).toEqual({
      kind: 'unreachable',
      code: 0,
      from: 'fd00:9::2',
    });
    expect(v6('From fd00:9::2 icmp_seq=1 Destination unreachable: Administratively prohibited')).toEqual({
      kind: 'unreachable',
      code: 1,
      from: 'fd00:9::2',
    });
    expect(v6('From fd00:9::2 icmp_seq=1 Destination unreachable: Address unreachable')).toEqual({
      kind: 'unreachable',
      code: 3,
      from: 'fd00:9::2',
    });
    expect(v6('From fd00:9::2 icmp_seq=1 Destination unreachable: Port unreachable')).toMatchObject({
      code: 4,
    });
    expect(v6('From fd00:9::2 icmp_seq=1 Time exceeded: Hop limit')).toEqual({
      kind: 'time-exceeded',
      from: 'fd00:9::2',
    });
    expect(v6('ping: connect: Network is unreachable')).toEqual({ kind: 'unreachable', code: 0 });
    expect(v6('ping: connect: No route to host')).toEqual({ kind: 'unreachable', code: 3 });
    expect(v6('')).toEqual({ kind: 'timeout' });
    expect(interpretPingOutput(0, '64 bytes from fd00:9::2: icmp_seq=1 ttl=64 time=0.069 ms', 6)).toEqual({
      kind: 'reply',
    });
  });

  test('IPv4 lines keep RFC 792 codes', () => {
    expect(interpretPingOutput(1, 'From 10.9.0.1 icmp_seq=1 Destination Host Unreachable\n')).toEqual({
      kind: 'unreachable',
      code: 1,
      from: '10.9.0.1',
    });
    expect(interpretPingOutput(1, 'ping: connect: No route to host\n')).toEqual({
      kind: 'unreachable',
      code: 1,
    });
  });
});
