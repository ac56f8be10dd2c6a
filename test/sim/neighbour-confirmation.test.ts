/**
 * Upper-layer confirmation (RFC 4861 §7.3.1): a TCP transfer lasting far beyond the neighbour cache's
 * reachable time (30 s) and the old 60 s ARP expiry keeps the sender's entry REACHABLE through the
 * peer's ACKs, so no frame ever waits behind a resolution or is dropped from an ARP queue, and nothing
 * is retransmitted. The receiver, which sees no ACKs of its own data, probes its entry by unicast now
 * and then (answered at once), and never falls back to a broadcast resolution.
 */
import { expect, test } from 'vitest';
import { SimulatedNetwork } from '../../src/sim/network.js';
import { describeFrames } from './describe-frames.js';

test('a 125 s transfer (10 kB each second) loses no frame to ARP; the sender never asks again', () => {
  const net = new SimulatedNetwork({ seed: 4 });
  const client = net.host('client', '10.0.0.1/24');
  const server = net.host('server', '10.0.0.2/24');
  const link = net.link(client, server, { delayMs: 5 });
  const size = 1_250_000;
  let received = 0;
  let closedAt = 0;
  server.tcp.listen({ port: 9 }).on('connection', (c) => {
    c.on('readable', () => {
      for (let x = c.receive(net.clock.now()); x !== null && x.length > 0; x = c.receive(net.clock.now()))
        received += x.length;
    });
    c.on('end', () => {
      closedAt = net.clock.now();
      c.close(net.clock.now());
    });
  });
  const conn = client.tcp.connect({ remoteAddress: server.address!, remotePort: 9 });
  let offset = 0;
  const tick = () => {
    offset += conn.send(new Uint8Array(10_000), net.clock.now());
    if (offset < size) net.clock.setTimer(1000, tick);
    else conn.close(net.clock.now());
  };
  conn.on('connected', tick);
  net.run(200_000);
  expect(received).toBe(size);
  expect(closedAt).toBeGreaterThan(120_000);
  expect(client.counters.NeighbourQueueDrops + server.counters.NeighbourQueueDrops).toBe(0);
  expect(client.tcp.counters.retransmittedSegments).toBe(0);
  const arp = describeFrames(net.trace.events, link.name).filter((l) => l.includes('ARP'));
  // The client asked once, by broadcast, at the start; every other ARP frame is the server's unicast
  // probe of its entry for the client, or the client's answer.
  expect(arp.filter((l) => l.includes('ff:ff:ff:ff:ff:ff'))).toEqual([
    '0 client-eth0 ARP who-has 10.0.0.2 tell 10.0.0.1 to ff:ff:ff:ff:ff:ff',
  ]);
  // TCP's ACKs kept the client's entry REACHABLE: it never even probed it.
  expect(arp.filter((l) => l.includes('client-eth0 ARP who-has'))).toHaveLength(1);
  expect(arp.length).toBeGreaterThan(2);
});
