/**
 * The shared `net` behaviour cases against Node's own `net` over IPv6, on the kernel's ::1: the reference
 * for what stack-net-behaviour-ipv6.test.ts asserts of tcpts. Skipped (saying why) where the kernel has
 * no IPv6 loopback.
 */
import * as net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'vitest';
import { describeNetBehaviour, type NetHarness, type NetModuleLike } from './net-behaviour.js';

function nodeHarness(): NetHarness {
  return {
    net: net as unknown as NetModuleLike,
    localNet: net as unknown as NetModuleLike,
    serverHost: '::1',
    clientHost: '::1',
    async closedPort() {
      const server = net.createServer();
      await new Promise<void>((resolve) => server.listen(0, '::1', resolve));
      const { port } = server.address() as net.AddressInfo;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      return port;
    },
    run: (body) => body(),
    delay: (ms) => sleep(ms),
    now: () => performance.now(),
    async dispose() {},
  };
}

const ipv6Loopback = await new Promise<boolean>((resolve) => {
  const probe = net.createServer();
  probe.once('error', () => resolve(false));
  probe.listen(0, '::1', () => probe.close(() => resolve(true)));
});

if (ipv6Loopback) describeNetBehaviour("Node's net on ::1 (reference, IPv6)", nodeHarness);
else
  describe("Node's net on ::1 (reference, IPv6)", () => {
    test('skipped: this kernel has no IPv6 loopback (::1)', () => {
      console.warn('net behaviour over IPv6 against Node skipped: no ::1 on this machine');
    });
  });
