/**
 * The shared `net` behaviour cases against `stack.net` (installed by the Node socket entry): a client stack and a server stack on a simulated
 * link (1 ms each way), on virtual time. The same cases pass against Node's own `net` (see
 * node-net-reference.test.ts).
 */
import { stackHarness } from './helpers/net-harnesses.js';
import { describeNetBehaviour } from './net-behaviour.js';

describeNetBehaviour('stack.net over a simulated link', () => stackHarness(4));
