/**
 * The shared `dgram` behaviour cases against `stack.dgram`: client and server stacks on a simulated
 * link (MTU 1500, so the 60000-byte case is fragmented and reassembled by IP), on virtual time.
 */
import '../../src/api/sockets-node.js';
import { type DgramModuleLike, describeDgramBehaviour } from './dgram-behaviour.js';
import { simPair } from './helpers/sim-pair.js';

describeDgramBehaviour('stack.dgram over a simulated link', () => {
  const pair = simPair();
  return {
    serverDgram: pair.server.dgram as unknown as DgramModuleLike,
    clientDgram: pair.client.dgram as unknown as DgramModuleLike,
    serverHost: pair.serverAddress,
    clientHost: pair.clientAddress,
    closedPort: 9,
    run: (body) => pair.run(body),
    delay: (ms) => pair.delay(ms),
  };
});
