/**
 * The shared `net` behaviour cases against `stack.net` over IPv6: client fd00::1 and server fd00::2 on a
 * link (1 ms each way), on virtual time. The same cases pass against Node's own `net` (see
 * node-net-reference-ipv6.test.ts, on ::1).
 */
import { stackHarness } from './helpers/net-harnesses.js';
import { describeNetBehaviour } from './net-behaviour.js';

describeNetBehaviour('stack.net over IPv6 on a simulated link', () => stackHarness(6));
