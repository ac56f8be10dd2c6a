/**
 * Upper-layer confirmation (RFC 4861 §7.3.1): a TCP transfer lasting far beyond the neighbour cache's
 * reachable time (30 s) and the old 60 s ARP expiry keeps the sender's entry REACHABLE through the
 * peer's ACKs, so no frame ever waits behind a resolution or is dropped from an ARP queue, and nothing
 * is retransmitted. The receiver, which sees no ACKs of its own data, probes its entry by unicast now
 * and then (answered at once), and never falls back to a broadcast resolution. The same holds over
 * IPv6, where NDP's entries live in the same cache.
 */
import { expect, test } from 'vitest';
import { SimulatedNetwork } from '../../src/sim/network.js';
import type { Stack } from '../../src/stack.js';
import { ETHERTYPE_IPV6, parseEthernet } from '../../src/wire/ethernet.js';
import { parseIcmpv6 } from '../../src/wire/icmpv6.js';
import { IPV6_NEXT_ICMPV6, parseIpv6 } from '../../src/wire/ipv6.js';
import { type IpAddress, ipv6ToString, parseIpv6 as parseIpv6Text } from '../../src/wire/ipv6-address.js';
import { describeFrames } from './describe-frames.js';

const SIZE = 1_250_000;

/**
 * The client writes 10 kB each second to the server until SIZE bytes are sent, then closes; the server
 * reads everything and closes on end. Runs 200 s of virtual time.
 */
function slowTransfer(net: SimulatedNetwork, client: Stack, server: Stack, remoteAddress: IpAddress) {
  let received = 0;
  let closedAt = 0;
  server.tcp
    .listen({ port: 9, address: typeof remoteAddress === 'bigint' ? 0n : undefined })
    .on('connection', (c) => {
      c.on('readable', () => {
        for (let x = c.receive(net.clock.now()); x !== null && x.length > 0; x = c.receive(net.clock.now()))
          received += x.length;
      });
      c.on('end', () => {
        closedAt = net.clock.now();
        c.close(net.clock.now());
      });
    });
  const conn = client.tcp.connect({ remoteAddress, remotePort: 9 });
  let offset = 0;
  const tick = () => {
    offset += conn.send(new Uint8Array(10_000), net.clock.now());
    if (offset < SIZE) net.clock.setTimer(1000, tick);
    else conn.close(net.clock.now());
  };
  conn.on('connected', tick);
  net.run(200_000);
  return { received, closedAt };
}

test('a 125 s transfer (10 kB each second) loses no frame to ARP; the sender never asks again', () => {
  const net = new SimulatedNetwork({ seed: 4 });
  const client = net.host('client', '10.0.0.1/24');
  const server = net.host('server', '10.0.0.2/24');
  const link = net.link(client, server, { delayMs: 5 });
  const { received, closedAt } = slowTransfer(net, client, server, server.address!);
  expect(received).toBe(SIZE);
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

/** Neighbor Solicitations `from` put on `link` (DAD probes from :: left out), as [time, destination]. */
function solicitations(net: SimulatedNetwork, link: string, from: string): [number, string][] {
  const out: [number, string][] = [];
  for (const e of net.trace.events) {
    if (e.kind !== 'link.sent' || e.link !== link || e.from !== from) continue;
    const eth = parseEthernet(e.frame);
    if (!eth.ok || eth.value.etherType !== ETHERTYPE_IPV6) continue;
    const ip = parseIpv6(eth.value.payload);
    if (!ip.ok || ip.value.nextHeader !== IPV6_NEXT_ICMPV6 || ip.value.src === 0n) continue;
    const icmp = parseIcmpv6(ip.value.payload, ip.value.src, ip.value.dst);
    if (icmp.ok && icmp.value.kind === 'neighbor-solicitation')
      out.push([e.time, ipv6ToString(ip.value.dst)]);
  }
  return out;
}

test('IPv6: TCP progress confirms the NDP entry too; the sender never solicits again', () => {
  const net = new SimulatedNetwork({ seed: 4 });
  const client = net.host('client', '2001:db8::1/64');
  const server = net.host('server', '2001:db8::2/64');
  const link = net.link(client, server, { delayMs: 5 });
  net.run(3000); // duplicate address detection
  const { received } = slowTransfer(net, client, server, parseIpv6Text('2001:db8::2')!);
  expect(received).toBe(SIZE);
  expect(client.counters.NeighbourQueueDrops + server.counters.NeighbourQueueDrops).toBe(0);
  expect(client.counters.NeighbourResolutionFailures + server.counters.NeighbourResolutionFailures).toBe(0);
  expect(client.tcp.counters.retransmissionTimeouts).toBe(0);
  // Each write's tail (1428 + 4 bytes at IPv6's MSS) is ACKed at once: no tail loss probe is drawn.
  expect(client.tcp.counters.lossProbes).toBe(0);
  // One multicast solicitation at the start, to the server's solicited-node group; its ACKs then kept
  // the entry REACHABLE for 125 s, far beyond ReachableTime (at most 45 s).
  expect(solicitations(net, link.name, 'client-eth0')).toEqual([[3000, 'ff02::1:ff00:2']]);
  // The server, which sees no ACKs of data of its own, probes its entry by unicast now and then.
  const serverProbes = solicitations(net, link.name, 'server-eth0');
  expect(serverProbes.length).toBeGreaterThan(0);
  expect(serverProbes.every(([, dst]) => dst === '2001:db8::1')).toBe(true);
});
