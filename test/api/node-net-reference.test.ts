/**
 * The shared `net` behaviour cases against Node's own `net` on the kernel's loopback: every assertion the
 * simulated `stack.net` must meet holds for the reference implementation.
 */
import { nodeHarness } from './helpers/net-harnesses.js';
import { describeNetBehaviour } from './net-behaviour.js';

describeNetBehaviour("Node's net on loopback (reference)", () => nodeHarness('127.0.0.1'));
