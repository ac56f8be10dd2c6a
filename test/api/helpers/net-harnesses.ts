/**
 * The harnesses the shared `net` behaviour cases run with: `stack.net` between two simulated stacks
 * (over IPv4, or IPv6 with `family: 6`), and Node's own `net` on the kernel's loopback (127.0.0.1 or ::1).
 */
import * as net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import '../../../src/api/sockets-node.js';
import type { NetHarness, NetModuleLike } from '../net-behaviour.js';
import { simPair } from './sim-pair.js';

/** Servers on the server stack, clients from the client stack, on virtual time. */
export function stackHarness(family: 4 | 6 = 4): NetHarness {
  const pair = simPair({ family });
  const clientNet = pair.client.net;
  const serverNet = pair.server.net;
  const net = {
    Socket: clientNet.Socket,
    Server: serverNet.Server,
    Stream: clientNet.Stream,
    createServer: serverNet.createServer,
    connect: clientNet.connect,
    createConnection: clientNet.createConnection,
  } as unknown as NetModuleLike;
  return {
    net,
    localNet: clientNet as unknown as NetModuleLike,
    serverHost: pair.serverAddress,
    clientHost: pair.clientAddress,
    closedPort: async () => 9,
    run: (body) => pair.run(body),
    delay: (ms) => pair.delay(ms),
    now: () => pair.now(),
    async dispose() {},
  };
}

/** Node's `net` on the kernel's loopback address `host` ('127.0.0.1' or '::1'), on real time. */
export function nodeHarness(host: string): NetHarness {
  return {
    net: net as unknown as NetModuleLike,
    localNet: net as unknown as NetModuleLike,
    serverHost: host,
    clientHost: host,
    async closedPort() {
      const server = net.createServer();
      await new Promise<void>((resolve) => server.listen(0, host, resolve));
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
