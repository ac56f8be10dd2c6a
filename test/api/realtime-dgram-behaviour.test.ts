/**
 * The shared `dgram` behaviour cases against `stack.dgram` of a real-time stack, on its loopback.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createRealTimeStack } from '../../src/api/sockets-node.js';
import { type DgramModuleLike, describeDgramBehaviour } from './dgram-behaviour.js';

describeDgramBehaviour('stack.dgram of a real-time stack on loopback', () => {
  const stack = createRealTimeStack({ name: 'realtime' });
  return {
    serverDgram: stack.dgram as unknown as DgramModuleLike,
    clientDgram: stack.dgram as unknown as DgramModuleLike,
    serverHost: '127.0.0.1',
    clientHost: '127.0.0.1',
    closedPort: 9,
    run: (body) => body(),
    delay: (ms) => sleep(ms),
  };
});
