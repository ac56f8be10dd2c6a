/**
 * Pictures of IPv6: a simulated TCP-over-IPv6 exchange (with a ping6 before it) captured to pcap and read
 * back as a capture would be, then drawn: flows keyed on IPv6 addresses, TCP labels as for IPv4, ICMPv6
 * messages named (echo, neighbor discovery), IPv6 header details, nothing left out for being IPv6.
 */
import { describe, expect, it } from 'vitest';
import { readPcap } from '../../src/pcap/pcap-reader.js';
import { SimulatedNetwork } from '../../src/sim/network.js';
import { conversationFromPcap } from '../../src/viz/conversation-from-pcap.js';
import { renderLadderText } from '../../src/viz/ladder-text.js';
import { describePacket } from '../../src/viz/packet-details.js';
import { packetLabel } from '../../src/viz/packet-label.js';
import { parseIpv6 } from '../../src/wire/ipv6-address.js';

async function capture(): Promise<Uint8Array> {
  const net = new SimulatedNetwork({ seed: 21, trace: false });
  const a = net.host('a', '2001:db8::1/64');
  const b = net.host('b', '2001:db8::2/64');
  const link = net.link(a, b, { delayMs: 1 });
  net.run(3000);
  const pcap = net.capture(link);
  await net.settle(a.ping6('2001:db8::2'));
  b.tcp.listen({ port: 80, address: 0n }).on('connection', (c) => {
    c.on('end', () => c.close(net.clock.now()));
  });
  const conn = a.tcp.connect({ remoteAddress: parseIpv6('2001:db8::2')!, remotePort: 80 });
  conn.on('connected', () => {
    conn.send(new TextEncoder().encode('hello over IPv6'), net.clock.now());
    conn.close(net.clock.now());
  });
  net.run(1000);
  return pcap.bytes();
}

describe('IPv6 in pictures of a capture', () => {
  it('draws TCP over IPv6 as one flow between the IPv6 addresses, and ICMPv6 by name', async () => {
    const file = readPcap(await capture());
    if (!file.ok) throw new Error(file.error.message);
    const all = conversationFromPcap(file.value.records, { include: 'all' });
    expect(all.skipped).toBeUndefined();
    const c = conversationFromPcap(file.value.records);
    expect(c.hosts).toEqual(['2001:db8::1', '2001:db8::2']);
    expect(c.flows).toHaveLength(1);
    expect(c.flows[0]).toMatchObject({
      a: { address: '2001:db8::1', port: expect.any(Number) },
      b: { address: '2001:db8::2', port: 80 },
      bytesAtoB: 15,
    });
    const tcp = c.packets.filter((p) => p.tcp).map((p) => packetLabel(p));
    expect(tcp.slice(0, 3)).toEqual([
      'SYN seq=0 win=65535 <mss 1440,ws 7,sackOK,ts>',
      'SYN,ACK seq=0 ack=1 win=65535 <mss 1440,ws 7,sackOK,ts>',
      'ACK seq=1 ack=1 win=262144 len=0',
    ]);
    const icmp = all.packets.filter((p) => p.icmp).map((p) => p.icmp!.description);
    expect(icmp).toContain('echo request');
    expect(icmp).toContain('echo reply');
    expect(icmp.some((d) => d.startsWith('neighbor solicitation for 2001:db8::'))).toBe(true);
    const syn = c.packets.find((p) => p.tcp)!;
    expect(describePacket(syn, c)).toContain('IPv6 2001:db8::1 > 2001:db8::2 hlim=64');
    expect(renderLadderText(c)).toContain('2001:db8::1');
  });
});
