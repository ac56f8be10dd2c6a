/**
 * The Node upstream's ICMP echo: the host's own `ping` (iputils) to the host's loopback, as the gateway
 * uses it for a guest's echo beyond it, and a missing command reported as unavailable with the reason.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { pingEcho } from '../../src/gateway/ping-echo-node.js';

const hasPing = spawnSync('ping', ['-V']).status === 0;
if (!hasPing) console.warn('ping echo test skipped: no ping command (iputils-ping) on this host');

describe.skipIf(!hasPing)('ICMP echo through the host ping command', () => {
  test('127.0.0.1 answers; a command that does not exist makes every echo unavailable, with why', async () => {
    const echo = pingEcho();
    expect(await echo({ address: '127.0.0.1', size: 100, ttl: 64, timeoutMs: 2000 })).toEqual({
      kind: 'reply',
    });
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
