/**
 * The shared `net` behaviour cases against Node's own `net` on the kernel's loopback: every assertion the
 * simulated `stack.net` must meet holds for the reference implementation.
 */
import * as net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeNetBehaviour, type NetHarness, type NetModuleLike } from './net-behaviour.js';

function nodeHarness(): NetHarness {
  return {
    net: net as unknown as NetModuleLike,
    localNet: net as unknown as NetModuleLike,
    serverHost: '127.0.0.1',
    clientHost: '127.0.0.1',
    async closedPort() {
      const server = net.createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
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

describeNetBehaviour("Node's net on loopback (reference)", nodeHarness);
