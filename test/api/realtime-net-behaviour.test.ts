/**
 * The shared `net` behaviour cases against `stack.net` of a real-time stack (createRealTimeStack): the
 * server and the client on the stack's loopback, timers on the host's clock — how an application runs
 * over tcpts for real. The same cases run against Node's `net` (node-net-reference.test.ts) and on
 * virtual time (stack-net-behaviour.test.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createRealTimeStack } from '../../src/api/sockets-node.js';
import { describeNetBehaviour, type NetHarness, type NetModuleLike } from './net-behaviour.js';

describeNetBehaviour('stack.net of a real-time stack on loopback', (): NetHarness => {
  const stack = createRealTimeStack({ name: 'realtime' });
  return {
    net: stack.net as unknown as NetModuleLike,
    localNet: stack.net as unknown as NetModuleLike,
    serverHost: '127.0.0.1',
    clientHost: '127.0.0.1',
    closedPort: async () => 9,
    run: (body) => body(),
    delay: (ms) => sleep(ms),
    now: () => performance.now(),
    async dispose() {
      stack.close();
    },
  };
});
