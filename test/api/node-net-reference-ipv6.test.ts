/**
 * The shared `net` behaviour cases against Node's own `net` over IPv6, on the kernel's ::1: the reference
 * for what stack-net-behaviour-ipv6.test.ts asserts of tcpts. Skipped (saying why) where the kernel has
 * no IPv6 loopback.
 */
import * as net from 'node:net';
import { describe } from 'vitest';
import { nodeHarness } from './helpers/net-harnesses.js';
import { describeNetBehaviour } from './net-behaviour.js';

const ipv6Loopback = await new Promise<boolean>((resolve) => {
  const probe = net.createServer();
  probe.once('error', () => resolve(false));
  probe.listen(0, '::1', () => probe.close(() => resolve(true)));
});

if (!ipv6Loopback) console.warn('net behaviour over IPv6 against Node skipped: no ::1 on this machine');
describe.skipIf(!ipv6Loopback)('IPv6 reference', () => {
  describeNetBehaviour("Node's net on ::1 (reference, IPv6)", () => nodeHarness('::1'));
});
