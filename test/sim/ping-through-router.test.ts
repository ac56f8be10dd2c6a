import { describe, expect, test } from 'vitest';
import type { LinkImpairments } from '../../src/link/impairments.js';
import { SimulatedNetwork } from '../../src/sim/network.js';
import { ipv4ToString } from '../../src/wire/address.js';
import { internetChecksum } from '../../src/wire/checksum.js';
import { describeFrames } from './describe-frames.js';

/**
 *   a 10.0.1.2 ---- 5 ms ---- 10.0.1.1 r 10.0.2.1 ---- 10 ms ---- 10.0.2.2 b
 */
function topology(options: { seed?: number; rb?: LinkImpairments; rbMtu?: number } = {}) {
  const net = new SimulatedNetwork({ seed: options.seed ?? 1 });
  const a = net.host('a', '10.0.1.2/24', { gateway: '10.0.1.1' });
  const b = net.host('b', '10.0.2.2/24', { gateway: '10.0.2.1' });
  const r = net.router('r');
  const ar = net.link(a, [r, '10.0.1.1/24'], { delayMs: 5 });
  const rb = net.link([r, '10.0.2.1/24'], b, { delayMs: 10, impairments: options.rb, mtu: options.rbMtu });
  return { net, a, b, r, ar, rb };
}

describe('ping through a router', () => {
  test('the reply has TTL 63 and the RTT is exactly the link delays; the first ping waits for ARP', async () => {
    const { net, a, b, r } = topology();
    const first = await net.ping(a, b);
    const second = await net.ping(a, b);
    // First: ARP a<->r (10 ms), echo to r (5), ARP r<->b (20), echo to b (10), reply to r (10), to a (5).
    expect(first).toMatchObject({ from: b.address, rtt: 60, ttl: 63, bytes: 64, sequence: 1 });
    expect(second).toMatchObject({ from: b.address, rtt: 30, ttl: 63, bytes: 64, sequence: 2 });
    expect(r.counters).toMatchObject({
      IpForwDatagrams: 4,
      ArpOutRequests: 1,
      ArpOutReplies: 1,
      IpInReceives: 4,
    });
    expect(b.counters).toMatchObject({ IcmpInEchos: 2, IcmpOutEchoReps: 2, ArpOutRequests: 0 });
  });

  test('the ARP exchanges on each link, frame by frame', async () => {
    const { net, a, b, ar, rb } = topology();
    await net.ping(a, b);
    await net.ping(a, b);
    expect(describeFrames(net.trace.events, ar.name)).toEqual([
      '0 a-eth0 ARP who-has 10.0.1.1 tell 10.0.1.2 to ff:ff:ff:ff:ff:ff',
      '5 r-eth0 ARP 10.0.1.1 is-at 02:00:00:00:00:02 to 02:00:00:00:00:01',
      '10 a-eth0 IP 10.0.1.2 > 10.0.2.2 ttl 64 len 84 ICMP echo-request seq 1',
      '55 r-eth0 IP 10.0.2.2 > 10.0.1.2 ttl 63 len 84 ICMP echo-reply seq 1',
      '60 a-eth0 IP 10.0.1.2 > 10.0.2.2 ttl 64 len 84 ICMP echo-request seq 2',
      '85 r-eth0 IP 10.0.2.2 > 10.0.1.2 ttl 63 len 84 ICMP echo-reply seq 2',
    ]);
    expect(describeFrames(net.trace.events, rb.name)).toEqual([
      '15 r-eth1 ARP who-has 10.0.2.2 tell 10.0.2.1 to ff:ff:ff:ff:ff:ff',
      '25 b-eth0 ARP 10.0.2.2 is-at 02:00:00:00:00:04 to 02:00:00:00:00:03',
      '35 r-eth1 IP 10.0.1.2 > 10.0.2.2 ttl 63 len 84 ICMP echo-request seq 1',
      '45 b-eth0 IP 10.0.2.2 > 10.0.1.2 ttl 64 len 84 ICMP echo-reply seq 1',
      '65 r-eth1 IP 10.0.1.2 > 10.0.2.2 ttl 63 len 84 ICMP echo-request seq 2',
      '75 b-eth0 IP 10.0.2.2 > 10.0.1.2 ttl 64 len 84 ICMP echo-reply seq 2',
    ]);
  });

  test('after 60 s the ARP entries are STALE: the next ping waits for no ARP; unicast probes 5 s after use confirm them', async () => {
    const { net, a, b, ar } = topology();
    await net.ping(a, b);
    net.run(60_000);
    const later = await net.ping(a, b);
    // No resolution in the way: the round trip alone (the first ping's was 60 ms with ARP on both links).
    expect(later.rtt).toBe(30);
    net.run(10_000);
    const arp = describeFrames(net.trace.events, ar.name).filter((l) => l.includes('ARP'));
    expect(arp).toEqual([
      '0 a-eth0 ARP who-has 10.0.1.1 tell 10.0.1.2 to ff:ff:ff:ff:ff:ff',
      '5 r-eth0 ARP 10.0.1.1 is-at 02:00:00:00:00:02 to 02:00:00:00:00:01',
      // r learned a from its request (STALE, RFC 4861 §7.3.3); used, it is probed by unicast 5 s later.
      '5055 r-eth0 ARP who-has 10.0.1.2 tell 10.0.1.1 to 02:00:00:00:00:01',
      '5060 a-eth0 ARP 10.0.1.2 is-at 02:00:00:00:00:01 to 02:00:00:00:00:02',
      // Both ends' entries went STALE at 30 s; the ping at 65 s used them and probed them 5 s later.
      '65060 a-eth0 ARP who-has 10.0.1.1 tell 10.0.1.2 to 02:00:00:00:00:02',
      '65065 r-eth0 ARP 10.0.1.1 is-at 02:00:00:00:00:02 to 02:00:00:00:00:01',
      '65085 r-eth0 ARP who-has 10.0.1.2 tell 10.0.1.1 to 02:00:00:00:00:01',
      '65090 a-eth0 ARP 10.0.1.2 is-at 02:00:00:00:00:01 to 02:00:00:00:00:02',
    ]);
    expect(a.neighbors().map((n) => n.state)).toEqual(['reachable']);
  });

  test('over a lossy link some pings are lost and the rest answered, identically for the same seed', async () => {
    async function run(seed: number) {
      const { net, a, b, rb } = topology({ seed, rb: { loss: 0.3 } });
      const outcomes: string[] = [];
      for (let i = 0; i < 20; i++) {
        const started = net.clock.now();
        try {
          const reply = await net.ping(a, b, { timeoutMs: 1000 });
          outcomes.push(`ok ${reply.rtt}`);
        } catch (error) {
          // Lost echoes time out; when every ARP request or reply of the router is lost too, the
          // router reports host unreachable instead.
          const code = (error as { code: string }).code;
          expect(['ETIMEDOUT', 'EHOSTUNREACH']).toContain(code);
          if (code === 'ETIMEDOUT') expect(net.clock.now() - started).toBe(1000);
          outcomes.push(code);
        }
      }
      return {
        outcomes,
        dropped: rb.link.counters('a->b').dropped.loss + rb.link.counters('b->a').dropped.loss,
      };
    }
    const first = await run(42);
    const again = await run(42);
    expect(again).toEqual(first);
    const answered = first.outcomes.filter((o) => o.startsWith('ok')).length;
    expect(answered).toBeGreaterThan(5);
    expect(answered).toBeLessThan(20);
    // Each unanswered ping lost at least one frame on the lossy link.
    expect(first.dropped).toBeGreaterThanOrEqual(20 - answered);
    // Every answered ping after the first (which waited for ARP) took exactly the path's delays.
    expect(
      first.outcomes
        .filter((o) => o.startsWith('ok'))
        .slice(1)
        .every((o) => o === 'ok 30'),
    ).toBe(true);
    const other = await run(43);
    expect(other.outcomes).not.toEqual(first.outcomes);
  });

  test('a 4000-byte ping is fragmented at 0/1480/2960, reassembled, and so is its reply', async () => {
    const { net, a, b, ar, rb } = topology();
    await net.ping(a, b);
    const reply = await net.ping(a, b, { size: 4000 });
    expect(reply).toMatchObject({ rtt: 30, ttl: 63, bytes: 4008 });
    const big = (link: string) => describeFrames(net.trace.events, link).filter((l) => l.includes('frag'));
    expect(big(ar.name)).toEqual([
      '60 a-eth0 IP 10.0.1.2 > 10.0.2.2 ttl 64 len 1500 frag 0+ ICMP echo-request seq 2',
      '60 a-eth0 IP 10.0.1.2 > 10.0.2.2 ttl 64 len 1500 frag 1480+',
      '60 a-eth0 IP 10.0.1.2 > 10.0.2.2 ttl 64 len 1068 frag 2960',
      '85 r-eth0 IP 10.0.2.2 > 10.0.1.2 ttl 63 len 1500 frag 0+ ICMP echo-reply seq 2',
      '85 r-eth0 IP 10.0.2.2 > 10.0.1.2 ttl 63 len 1500 frag 1480+',
      '85 r-eth0 IP 10.0.2.2 > 10.0.1.2 ttl 63 len 1068 frag 2960',
    ]);
    expect(big(rb.name)).toHaveLength(6);
    expect(b.counters).toMatchObject({ IpReasmReqds: 3, IpReasmOKs: 1, IpFragOKs: 1, IpFragCreates: 3 });
    expect(a.counters).toMatchObject({ IpReasmReqds: 3, IpReasmOKs: 1, IpFragOKs: 1, IpFragCreates: 3 });
    expect(a.ip.reassembler.datagramCount + b.ip.reassembler.datagramCount).toBe(0);
  });
});

describe('forwarding (RFC 1812)', () => {
  test('TTL 1 through the router: Time Exceeded from the router', async () => {
    const { net, a, b, r } = topology();
    const error = await net.ping(a, b, { ttl: 1 }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'EHOSTUNREACH',
      icmpType: 11,
      icmpCode: 0,
      reporter: r.interfaces[0]!.address,
    });
    expect(r.counters).toMatchObject({ IcmpOutTimeExcds: 1, IpForwDatagrams: 0, IpInHdrErrors: 1 });
    expect(b.counters.IpInReceives).toBe(0);
    // TTL 2 makes it.
    expect((await net.ping(a, b, { ttl: 2 })).ttl).toBe(63);
  });

  test('a fragmented datagram that expires in transit gets one Time Exceeded, for its first fragment', async () => {
    const { net, a, b, r } = topology();
    await net.ping(a, b);
    await net.ping(a, b, { ttl: 1, size: 4000 }).catch(() => undefined);
    expect(r.counters.IcmpOutTimeExcds).toBe(1);
  });

  test('DF and a smaller egress MTU: fragmentation needed with the next-hop MTU; the sender learns it', async () => {
    const { net, a, b, r } = topology({ rbMtu: 1000 });
    await net.ping(a, b);
    const error = await net.ping(a, b, { size: 1200, dontFragment: true }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'EMSGSIZE',
      icmpType: 3,
      icmpCode: 4,
      reporter: r.interfaces[0]!.address,
    });
    expect(a.mtuFor(b.address!)).toBe(1000);
    expect(r.counters).toMatchObject({ IpFragFails: 1, IcmpOutDestUnreachs: 1 });
    // Now the sender itself refuses a DF datagram over the learned path MTU.
    await expect(net.ping(a, b, { size: 1200, dontFragment: true })).rejects.toMatchObject({
      code: 'EMSGSIZE',
    });
  });

  test('without DF the router fragments for the smaller egress MTU', async () => {
    const { net, a, b, r } = topology({ rbMtu: 1000 });
    await net.ping(a, b);
    const reply = await net.ping(a, b, { size: 1200 });
    expect(reply).toMatchObject({ bytes: 1208, ttl: 63, rtt: 30 });
    expect(r.counters).toMatchObject({ IpFragOKs: 1, IpFragCreates: 2 });
    expect(b.counters).toMatchObject({ IpReasmOKs: 1, IpFragOKs: 1, IpFragCreates: 2 });
  });

  test('no route at the router: network unreachable', async () => {
    const { net, a, r } = topology();
    const error = await net.ping(a, '192.0.2.1').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ENETUNREACH', icmpType: 3, icmpCode: 0 });
    expect(r.counters.IpOutNoRoutes).toBe(1);
  });

  test('ARP failure at the router: host unreachable back to the sender', async () => {
    const { net, a, r } = topology();
    const started = net.clock.now();
    const error = await net.ping(a, '10.0.2.99', { timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EHOSTUNREACH', icmpType: 3, icmpCode: 1 });
    // ARP to r (10 ms), echo reaches r (15), r gives up 3 s later, the error takes 5 ms back.
    expect(net.clock.now() - started).toBe(3020);
    expect(r.counters).toMatchObject({ ArpOutRequests: 3, NeighbourResolutionFailures: 1 });
  });

  test('broadcasts are not forwarded', async () => {
    const { net, a, b, r } = topology();
    await net.ping(a, b);
    const socket = a.udp.bind({});
    socket.broadcast = true;
    const heard: string[] = [];
    b.udp.bind({ port: 9 }, { message: () => heard.push('b') });
    r.udp.bind(
      { port: 9 },
      { message: (_p, info) => heard.push(`r ${ipv4ToString(info.localAddress as number)}`) },
    );
    socket.send(Uint8Array.of(1), 9, '255.255.255.255');
    net.runUntilIdle();
    // A directed broadcast of b's subnet is unicast to r at the link layer, and r must not relay it.
    socket.send(Uint8Array.of(2), 9, '10.0.2.255');
    net.runUntilIdle();
    expect(heard).toEqual(['r 255.255.255.255']);
    expect(r.counters.dropCount('ipv4', 'forward-directed-broadcast')).toBe(1);
    expect(b.counters.IpInReceives).toBe(1);
  });

  test('a host does not forward', async () => {
    const { net, a } = topology();
    const c = net.host('c', '10.0.1.3/24', { gateway: '10.0.1.2' });
    net.lan('side', [c, [a, '10.0.3.1/24']]);
    expect(c.interfaces).toHaveLength(1);
    expect(a.forwarding).toBe(false);
    expect(net.stacks.size).toBe(4);
  });
});

describe('forwarding hostile fragments', () => {
  test('a fragment reaching past the largest offset is not re-fragmented (and nothing throws)', () => {
    const { net, a, r } = topology({ rbMtu: 576 });
    const frame = new Uint8Array(14 + 20 + 1400);
    // Built by hand: a's stack would never send this.
    frame.set([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00], 0);
    frame.set([0x45, 0, 0x05, 0x8c, 0, 5, 0x3f, 0x79, 64, 17, 0, 0, 10, 0, 1, 2, 10, 0, 2, 2], 14);
    const checksum = internetChecksum(frame, 14, 20);
    frame[24] = checksum >>> 8;
    frame[25] = checksum & 0xff;
    // Sent straight into a's end of the a<->r link: offset 64456 with MF, 1400 bytes.
    net.links[0]!.link.a.send(frame);
    net.runUntilIdle();
    expect(r.counters.dropCount('ipv4', 'cannot-fragment')).toBe(1);
    expect(r.counters.IpFragFails).toBe(1);
    expect(a.counters.IpInReceives).toBe(0);
  });
});
