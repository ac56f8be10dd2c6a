/**
 * Two TCP layers exchanging random amounts both ways over a FakeNetwork with seeded loss, duplication and
 * reordering, then closing (half-close or simultaneous close). Used by a handful of seeds in the suite;
 * the large randomized soak over real IP and links lives with the simulator.
 */

import type { TcpConnection } from '../../src/tcp/connection.js';
import { Random } from '../../src/util/random.js';
import { pattern } from './dialogue.js';
import { FakeNetwork, ip } from './network.js';

export interface TransferOutcome {
  seed: number;
  problems: string[];
  endTime: number;
  net: FakeNetwork;
  client: TcpConnection;
  server: TcpConnection | undefined;
}

function pump(conn: TcpConnection, data: Uint8Array, now: () => number, done: () => void): void {
  let offset = 0;
  const write = () => {
    while (offset < data.length) {
      const n = conn.send(data.subarray(offset, Math.min(data.length, offset + 7000)), now());
      offset += n;
      if (n === 0) return;
    }
    done();
  };
  conn.on('drain', write);
  write();
}

function collect(
  conn: TcpConnection,
  sink: number[][],
  slow: { clock: FakeNetwork['clock']; every: number; max: number } | undefined,
): void {
  if (slow) {
    // A slow application: reads at most `max` bytes every `every` ms, so windows close and reopen.
    const tick = () => {
      const data = conn.receive(slow.clock.now(), slow.max);
      if (data !== null && data.length > 0) sink.push(Array.from(data));
      if (data !== null) slow.clock.setTimer(slow.every, tick);
    };
    slow.clock.setTimer(slow.every, tick);
    return;
  }
  conn.on('readable', () => {
    for (;;) {
      const data = conn.receive(0);
      if (data === null || data.length === 0) return;
      sink.push(Array.from(data));
    }
  });
}

export function lossyTransfer(seed: number): TransferOutcome {
  const rnd = new Random(seed);
  const net = new FakeNetwork();
  const loss = rnd.float() * 0.2;
  const duplication = rnd.float() * 0.05;
  const jitter = rnd.intBetween(0, 30);
  net.drop = () => rnd.chance(loss);
  net.duplicate = () => rnd.chance(duplication);
  net.delayFor = () => 1 + rnd.int(jitter + 1);
  const sizeA = rnd.chance(0.2) ? 0 : rnd.int(150_000);
  const sizeB = rnd.chance(0.2) ? 0 : rnd.int(150_000);
  const simultaneous = rnd.chance(0.3);
  const dataA = pattern(sizeA, 3);
  const dataB = pattern(sizeB, 101);
  const small = rnd.chance(0.3);
  const scaling = !small && rnd.fork('window-scaling').chance(0.3);
  const config = {
    receiveBufferSize: small ? 300 + rnd.int(3000) : 1000 + rnd.int(scaling ? 400_000 : 64_000),
    sendBufferSize: small ? 1 + rnd.int(3000) : 1000 + rnd.int(scaling ? 400_000 : 64_000),
    nagle: rnd.chance(0.5),
    windowScaling: scaling,
  };
  const slow = rnd.chance(0.3)
    ? { clock: net.clock, every: 1 + rnd.int(200), max: 1 + rnd.int(5000) }
    : undefined;
  // Half the seeds offer TSO to the client: its segments then carry several MSS at once (delivered whole,
  // as if cut and coalesced again on the way).
  const tsoSize = rnd.fork('tso').chance(0.5) ? 65535 : undefined;
  const a = net.addHost(['10.0.0.1'], { config, mtu: 576 + rnd.int(1000), tsoSize });
  const b = net.addHost(['10.0.0.2'], { config });
  const now = () => net.clock.now();
  const gotA: number[][] = [];
  const gotB: number[][] = [];
  const problems: string[] = [];
  let server: TcpConnection | undefined;
  b.listen({ port: 80 }).on('connection', (c) => {
    server = c;
    collect(c, gotB, slow);
    c.on('error', (e) => problems.push(`server error ${e.code}`));
    pump(c, dataB, now, () => {
      if (simultaneous) c.close(now());
      else if (c.readableEnded || c.state === 'CLOSE-WAIT') c.close(now());
      else c.on('end', () => c.close(now()));
    });
  });
  const client = a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80 });
  collect(client, gotA, slow);
  client.on('error', (e) => problems.push(`client error ${e.code}`));
  client.on('connected', () => pump(client, dataA, now, () => client.close(now())));
  net.clock.runUntilIdle({ maxDuration: 4 * 3_600_000 });
  const flat = (chunks: number[][]) => chunks.flat();
  const receivedByB = flat(gotB);
  const receivedByA = flat(gotA);
  if (receivedByB.length !== sizeA || receivedByB.some((v, i) => v !== dataA[i])) {
    problems.push(`server received ${receivedByB.length}/${sizeA} bytes, or wrong bytes`);
  }
  if (receivedByA.length !== sizeB || receivedByA.some((v, i) => v !== dataB[i])) {
    problems.push(`client received ${receivedByA.length}/${sizeB} bytes, or wrong bytes`);
  }
  if (client.state !== 'CLOSED') problems.push(`client ended in ${client.state}`);
  if (server && server.state !== 'CLOSED') problems.push(`server ended in ${server.state}`);
  if (!server) problems.push('no connection accepted');
  if (a.connectionCount + b.connectionCount !== 0) problems.push('connection table not empty');
  if (a.hasPendingTimers || b.hasPendingTimers) problems.push('timers still pending');
  if (a.counters.internalErrors + b.counters.internalErrors !== 0) problems.push('internal errors');
  return { seed, problems, endTime: net.clock.now(), net, client, server };
}
