/**
 * The shared `dgram` behaviour cases against Node's own `dgram` on loopback: the reference for
 * stack-dgram-behaviour.test.ts.
 */
import * as dgram from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { type DgramModuleLike, describeDgramBehaviour } from './dgram-behaviour.js';

describeDgramBehaviour("Node's dgram on loopback (reference)", () => ({
  serverDgram: dgram as unknown as DgramModuleLike,
  clientDgram: dgram as unknown as DgramModuleLike,
  serverHost: '127.0.0.1',
  clientHost: '127.0.0.1',
  // Port 9 (discard) has no listener on a test machine; the case asserts the ICMP error it causes.
  closedPort: 9,
  run: (body) => body(),
  delay: (ms) => sleep(ms),
}));
