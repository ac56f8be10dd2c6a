/**
 * The bounds of the IPv6 layer (docs/limits.md): the ICMPv6 error rate limit, the reassembly table and
 * memory budget, the neighbor cache's queue per unresolved neighbor and its table size. Each is hit here
 * and its counter read back.
 */
import { describe, expect, test } from 'vitest';
import { type HostOptions, SimulatedNetwork } from '../../src/sim/network.js';
import { ETHERTYPE_IPV6, emitEthernetHeader } from '../../src/wire/ethernet.js';
import { emitIpv6Header, IPV6_NEXT_FRAGMENT } from '../../src/wire/ipv6.js';
import { ipv6ToString, parseIpv6 } from '../../src/wire/ipv6-address.js';
import { emitIpv6FragmentHeader } from '../../src/wire/ipv6-extension-headers.js';

const A = parseIpv6('2001:db8::1')!;
const B = parseIpv6('2001:db8::2')!;

function pair(ipv6: HostOptions = {}) {
  const net = new SimulatedNetwork({ seed: 5 });
  const a = net.host('a', '2001:db8::1/64');
  const b = net.host('b', '2001:db8::2/64', ipv6);
  const link = net.link(a, b, { delayMs: 1 });
  net.run(3000);
  b.ipv6.interfaces[0]!.neighbors.heard(A, link.link.a.mac, false, true, 'override');
  return { net, a, b, link };
}

function packet(to: { mac: number }, from: number, nextHeader: number, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(54 + payload.length);
  emitEthernetHeader({ dst: to.mac, src: from, etherType: ETHERTYPE_IPV6 }, frame, 0);
  emitIpv6Header(
    { trafficClass: 0, flowLabel: 0, nextHeader, hopLimit: 64, src: A, dst: B },
    payload.length,
    frame,
    14,
  );
  frame.set(payload, 54);
  return frame;
}

function fragment(identification: number, offset: number, more: boolean, length: number): Uint8Array {
  const out = new Uint8Array(8 + length);
  emitIpv6FragmentHeader({ nextHeader: 58, offset, moreFragments: more, identification }, out, 0);
  return out;
}

describe('IPv6 limits', () => {
  test('ICMPv6 errors: a burst of 50, then 1000 a second (RFC 4443 §2.4(f))', () => {
    const { net, b, link } = pair();
    const port = b.ipv6.interfaces[0]!.port;
    for (let i = 0; i < 80; i++) port.receive(packet(link.link.b, link.link.a.mac, 253, new Uint8Array(8)));
    expect(b.counters.dropCount('icmpv6', 'error-rate-limit')).toBe(30);
    net.run(10); // 10 ms refill 10 tokens
    for (let i = 0; i < 20; i++) port.receive(packet(link.link.b, link.link.a.mac, 253, new Uint8Array(8)));
    expect(b.counters.dropCount('icmpv6', 'error-rate-limit')).toBe(40);
  });

  test('reassembly: at most 64 packets in progress, then new ones are dropped and counted', () => {
    const { b, link } = pair();
    const port = b.ipv6.interfaces[0]!.port;
    for (let id = 0; id < 70; id++) {
      port.receive(packet(link.link.b, link.link.a.mac, IPV6_NEXT_FRAGMENT, fragment(id, 0, true, 16)));
    }
    expect(b.ipv6.reassembler.packetsInProgress).toBe(64);
    expect(b.counters.dropCount('ipv6', 'reassembly-table-full')).toBe(6);
  });

  test('reassembly memory: fragments beyond the byte budget are dropped', () => {
    const { b, link } = pair({ ipv6: { reassembly: { maxBytes: 4000 } } });
    const port = b.ipv6.interfaces[0]!.port;
    for (let i = 0; i < 4; i++) {
      port.receive(
        packet(link.link.b, link.link.a.mac, IPV6_NEXT_FRAGMENT, fragment(9, i * 1200, true, 1200)),
      );
    }
    // The first fragment holds its data, the copy of its packet kept for a Time Exceeded quote (40 + 8 +
    // 1200) and 64 bytes of bookkeeping; the second its data and 64. The third and fourth do not fit.
    expect(b.ipv6.reassembler.bytesHeld).toBe(1200 + 1248 + 64 + (1200 + 64));
    expect(b.counters.dropCount('ipv6', 'reassembly-memory-full')).toBe(2);
  });

  test('neighbour queue: the bounds ARP has, per neighbour (oldest dropped) and per interface', () => {
    const { a } = pair();
    for (let i = 0; i < 70; i++) void a.ping6('2001:db8::77', { timeoutMs: 100 }).catch(() => {});
    // 64 packets wait for one neighbour (queuePerDestination); the 6 oldest were dropped for newer ones.
    expect(a.counters.NeighbourQueueDrops).toBe(6);
    expect(a.counters.dropCount('ndp', 'queue-full')).toBe(6);
    const { b } = pair({ ipv6: { neighbors: { queueTotal: 5 } } });
    for (let i = 0; i < 3; i++) void b.ping6('2001:db8::70', { timeoutMs: 100 }).catch(() => {});
    for (let i = 0; i < 3; i++) void b.ping6('2001:db8::71', { timeoutMs: 100 }).catch(() => {});
    expect(b.counters.dropCount('ndp', 'queue-total-full')).toBe(1);
  });

  test('neighbour table: STALE entries make room first; when only INCOMPLETE ones are left, refused', async () => {
    const { net, b } = pair({ ipv6: { neighbors: { maxEntries: 2 } } });
    const addresses = () => b.ipv6.neighbors().map((n) => [ipv6ToString(n.address), n.state]);
    expect(addresses()).toEqual([['2001:db8::1', 'stale']]);
    void b.ping6('2001:db8::70', { timeoutMs: 100 }).catch(() => {});
    // Full: a's STALE entry goes to make room for the second resolution.
    void b.ping6('2001:db8::71', { timeoutMs: 100 }).catch(() => {});
    expect(addresses()).toEqual([
      ['2001:db8::70', 'incomplete'],
      ['2001:db8::71', 'incomplete'],
    ]);
    expect(b.counters.NeighbourTableFull).toBe(1);
    // Nothing left that may go: the third destination is refused at once (Linux: table overflow).
    const refused = net.settle(b.ping6('2001:db8::72', { timeoutMs: 100 })).catch((e: unknown) => e);
    expect(b.counters.NeighbourTableFull).toBe(2);
    expect(b.counters.dropCount('neighbour', 'table-full')).toBe(1);
    expect(await refused).toMatchObject({ code: 'EHOSTUNREACH' });
  });
});
