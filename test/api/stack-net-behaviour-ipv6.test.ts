/**
 * The shared `net` behaviour cases against `stack.net` over IPv6: client fd00::1 and server fd00::2 on a
 * link (1 ms each way), on virtual time. The same cases pass against Node's own `net` (see
 * node-net-reference-ipv6.test.ts, on ::1).
 */
import '../../src/api/sockets-node.js';
import { simPair } from './helpers/sim-pair.js';
import { describeNetBehaviour, type NetHarness, type NetModuleLike } from './net-behaviour.js';

function stackHarness(): NetHarness {
  const pair = simPair({ family: 6 });
  const clientNet = pair.client.net;
  const serverNet = pair.server.net;
  // Servers live on the server stack, clients connect from the client stack.
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

describeNetBehaviour('stack.net over IPv6 on a simulated link', stackHarness);
