/**
 * IPv6 between simulated stacks: neighbor discovery and NUD, DAD, SLAAC with stable identifiers,
 * extension header rules with their Parameter Problems, reassembly edge cases, and path MTU discovery
 * through a router. Frames are read back from the links with the wire parsers and compared field by field.
 */
import { describe, expect, test } from 'vitest';
import { SimulatedNetwork } from '../../src/sim/network.js';
import type { Stack } from '../../src/stack.js';
import { ETHERTYPE_IPV6, emitEthernetHeader, parseEthernet } from '../../src/wire/ethernet.js';
import { emitIcmpv6, type Icmpv6Message, icmpv6Length, parseIcmpv6 } from '../../src/wire/icmpv6.js';
import {
  emitIpv6Header,
  IPV6_NEXT_DESTINATION_OPTIONS,
  IPV6_NEXT_FRAGMENT,
  IPV6_NEXT_HOP_BY_HOP,
  IPV6_NEXT_ICMPV6,
  IPV6_NEXT_ROUTING,
  parseIpv6,
} from '../../src/wire/ipv6.js';
import {
  type Ipv6Address,
  parseIpv6 as ip6,
  ipv6ToString,
  solicitedNodeAddress,
} from '../../src/wire/ipv6-address.js';
import {
  emitIpv6FragmentHeader,
  emitIpv6OptionsHeader,
  walkIpv6Headers,
} from '../../src/wire/ipv6-extension-headers.js';

const A = ip6('2001:db8::1')!;
const B = ip6('2001:db8::2')!;

function pair(options: { mtu?: number } = {}) {
  const net = new SimulatedNetwork({ seed: 7 });
  const a = net.host('a', '2001:db8::1/64');
  const b = net.host('b', '2001:db8::2/64');
  const link = net.link(a, b, { delayMs: 1, mtu: options.mtu });
  net.run(3000); // DAD: up to 1 s random delay, then RetransTimer
  return { net, a, b, link };
}

interface SeenIcmpv6 {
  time: number;
  from: string;
  src: string;
  dst: string;
  hopLimit: number;
  message: Icmpv6Message;
}

/** Every ICMPv6 message that crossed `linkName` (reassembled fragments not included). */
function icmpv6On(net: SimulatedNetwork, linkName: string): SeenIcmpv6[] {
  const out: SeenIcmpv6[] = [];
  for (const e of net.trace.events) {
    if (e.kind !== 'link.sent' || e.link !== linkName) continue;
    const eth = parseEthernet(e.frame);
    if (!eth.ok || eth.value.etherType !== ETHERTYPE_IPV6) continue;
    const ip = parseIpv6(eth.value.payload);
    if (!ip.ok) continue;
    const chain = walkIpv6Headers(ip.value.payload, ip.value.nextHeader);
    if (!chain.ok || chain.value.upperLayerProtocol !== IPV6_NEXT_ICMPV6) continue;
    if (chain.value.headers.some((h) => h.protocol === IPV6_NEXT_FRAGMENT)) continue;
    const icmp = parseIcmpv6(
      ip.value.payload.subarray(chain.value.upperLayerOffset),
      ip.value.src,
      ip.value.dst,
    );
    if (!icmp.ok) throw new Error(`bad ICMPv6 on the wire: ${icmp.error.message}`);
    out.push({
      time: e.time,
      from: e.from,
      src: ipv6ToString(ip.value.src),
      dst: ipv6ToString(ip.value.dst),
      hopLimit: ip.value.hopLimit,
      message: icmp.value,
    });
  }
  return out;
}

/** Builds an Ethernet frame to `to` carrying an IPv6 packet with the given payload chain. */
function frameTo(
  to: Stack,
  from: { mac: number; src: Ipv6Address },
  nextHeader: number,
  payload: Uint8Array,
  hopLimit = 64,
): Uint8Array {
  const iface = to.ipv6.interfaces[0]!;
  const frame = new Uint8Array(14 + 40 + payload.length);
  emitEthernetHeader({ dst: iface.device.mac, src: from.mac, etherType: ETHERTYPE_IPV6 }, frame, 0);
  const dst = iface.addresses.find((x) => x.origin === 'manual')!.address;
  emitIpv6Header(
    { trafficClass: 0, flowLabel: 0, nextHeader, hopLimit, src: from.src, dst },
    payload.length,
    frame,
    14,
  );
  frame.set(payload, 54);
  return frame;
}

function icmpBytes(message: Icmpv6Message, src: Ipv6Address, dst: Ipv6Address): Uint8Array {
  const bytes = new Uint8Array(icmpv6Length(message));
  emitIcmpv6(message, src, dst, bytes, 0);
  return bytes;
}

const echo = (sequence: number, size = 8): Icmpv6Message => ({
  kind: 'echo-request',
  identifier: 0x4242,
  sequence,
  data: new Uint8Array(size).fill(sequence),
});

describe('neighbor discovery and NUD', () => {
  test('the first ping resolves b with NS/NA; the reply needs no resolution; entries are REACHABLE', async () => {
    const { net, a, b, link } = pair();
    const start = net.clock.now();
    const reply = await net.settle(a.ping6('2001:db8::2'));
    expect(reply).toMatchObject({ from: B, hopLimit: 64, bytes: 64, sequence: 1 });
    expect(reply.rtt).toBe(4); // NS + NA (2 ms), echo request + reply (2 ms)
    const seen = icmpv6On(net, link.name).filter((s) => s.time >= start);
    expect(seen.map((s) => [s.from, s.src, s.dst, s.hopLimit, s.message.kind])).toEqual([
      ['a-eth0', '2001:db8::1', ipv6ToString(solicitedNodeAddress(B)), 255, 'neighbor-solicitation'],
      ['b-eth0', '2001:db8::2', '2001:db8::1', 255, 'neighbor-advertisement'],
      ['a-eth0', '2001:db8::1', '2001:db8::2', 64, 'echo-request'],
      ['b-eth0', '2001:db8::2', '2001:db8::1', 64, 'echo-reply'],
    ]);
    expect(seen[0]!.message).toEqual({
      kind: 'neighbor-solicitation',
      target: B,
      options: [{ kind: 'source-link-layer', mac: a.ipv6.interfaces[0]!.device.mac }],
    });
    expect(seen[1]!.message).toMatchObject({ solicited: true, override: true, router: false, target: B });
    expect(a.ipv6.neighbors().find((n) => n.address === B)).toMatchObject({ state: 'reachable' });
    // b learned a from the solicitation: STALE until used (RFC 4861 §7.2.3).
    expect(b.ipv6.neighbors().find((n) => n.address === A)).toMatchObject({ state: 'delay' });
  });

  test('REACHABLE -> STALE after ReachableTime, DELAY on use, PROBE with unicast NS, REACHABLE again', async () => {
    const { net, a, link } = pair();
    await net.settle(a.ping6('2001:db8::2'));
    net.run(50_000); // beyond 1.5 x 30 s
    expect(a.ipv6.neighbors().find((n) => n.address === B)?.state).toBe('stale');
    const before = net.clock.now();
    await net.settle(a.ping6('2001:db8::2'));
    expect(a.ipv6.neighbors().find((n) => n.address === B)?.state).toBe('delay');
    net.run(5001);
    const probes = icmpv6On(net, link.name).filter(
      (s) => s.time > before && s.message.kind === 'neighbor-solicitation',
    );
    // Probes are unicast to the neighbor itself, not to its solicited-node group (RFC 4861 §7.3.3): a's
    // after DELAY_FIRST_PROBE_TIME, and b's, whose entry for a (learned from a's first NS) went the same way.
    expect(probes.map((p) => [p.time - before, p.from, p.dst])).toEqual([
      [5000, 'a-eth0', '2001:db8::2'],
      [5001, 'b-eth0', '2001:db8::1'],
    ]);
    net.run(100);
    expect(a.ipv6.neighbors().find((n) => n.address === B)?.state).toBe('reachable');
  });

  test('a neighbor that never answers: 3 multicast NS a second apart, then EHOSTUNREACH', async () => {
    const { net, a, link } = pair();
    const start = net.clock.now();
    const error = await net.settle(a.ping6('2001:db8::99', { timeoutMs: 10_000 })).catch((e) => e);
    expect(error).toMatchObject({ code: 'EHOSTUNREACH' });
    const ns = icmpv6On(net, link.name).filter(
      (s) => s.time >= start && s.message.kind === 'neighbor-solicitation',
    );
    expect(ns.map((s) => [s.time - start, s.dst])).toEqual([
      [0, 'ff02::1:ff00:99'],
      [1000, 'ff02::1:ff00:99'],
      [2000, 'ff02::1:ff00:99'],
    ]);
  });
});

describe('duplicate address detection', () => {
  test('DAD probes from :: with a nonce, then the address is usable; none before', () => {
    const net = new SimulatedNetwork({ seed: 3 });
    const a = net.host('a', '2001:db8::1/64');
    const b = net.host('b', '2001:db8::2/64');
    const link = net.link(a, b, { delayMs: 1 });
    expect(a.ipv6.interfaces[0]!.find(A)?.state).toBe('tentative');
    expect(a.ipv6.isLocalAddress(A)).toBe(false);
    net.run(3000);
    expect(a.ipv6.interfaces[0]!.find(A)?.state).toBe('preferred');
    const probes = icmpv6On(net, link.name).filter(
      (s) => s.from === 'a-eth0' && s.message.kind === 'neighbor-solicitation',
    );
    expect(probes.map((p) => [p.src, p.dst, p.hopLimit])).toEqual([
      ['::', ipv6ToString(solicitedNodeAddress(a.ipv6.interfaces[0]!.addresses[0]!.address)), 255],
      ['::', 'ff02::1:ff00:1', 255],
    ]);
    for (const p of probes) {
      if (p.message.kind !== 'neighbor-solicitation') throw new Error('ns');
      expect(p.message.options.map((o) => o.kind)).toEqual(['nonce']);
    }
  });

  test('a neighbor advertisement sent straight to a tentative address still finds it duplicate (RFC 4862 §5.4.4)', () => {
    const net = new SimulatedNetwork({ seed: 3 });
    const a = net.host('a', '2001:db8::1/64');
    const b = net.host('b', '2001:db8::2/64');
    net.link(a, b, { delayMs: 1 });
    expect(a.ipv6.interfaces[0]!.find(A)?.state).toBe('tentative');
    const holder = { mac: 0x02_00_00_00_00_77, src: ip6('fe80::77')! };
    const na: Icmpv6Message = {
      kind: 'neighbor-advertisement',
      router: false,
      solicited: false,
      override: true,
      target: A,
      options: [{ kind: 'target-link-layer', mac: holder.mac }],
    };
    a.ipv6.interfaces[0]!.port.receive(
      frameTo(a, holder, IPV6_NEXT_ICMPV6, icmpBytes(na, holder.src, A), 255),
    );
    net.run(3000);
    expect(a.ipv6.interfaces[0]!.find(A)?.state).toBe('duplicate');
  });

  test('an address another node already holds is found duplicate and never used; the holder keeps it', async () => {
    const { net, a, b, link } = pair();
    b.addIpv6Interface(link.link.b, { addresses: ['2001:db8::1/64'] });
    net.run(3000);
    const bIface = b.ipv6.interfaces[0]!;
    expect(bIface.find(A)?.state).toBe('duplicate');
    expect(b.ipv6.isLocalAddress(A)).toBe(false);
    expect(a.ipv6.interfaces[0]!.find(A)?.state).toBe('preferred');
    // a defended its address with an NA to all nodes (RFC 4862 §5.4.3).
    const defence = icmpv6On(net, link.name).filter(
      (s) => s.from === 'a-eth0' && s.message.kind === 'neighbor-advertisement',
    );
    expect(defence.map((s) => [s.src, s.dst])).toEqual([['2001:db8::1', 'ff02::1']]);
    expect(await net.settle(a.ping6('2001:db8::2'))).toMatchObject({ from: B });
  });
});

describe('router advertisements and SLAAC', () => {
  function advertise(host: Stack, prefix: string, lifetime = 1800): void {
    const router = ip6('fe80::1')!;
    const ra: Icmpv6Message = {
      kind: 'router-advertisement',
      curHopLimit: 42,
      managed: false,
      other: false,
      routerLifetime: lifetime,
      reachableTime: 0,
      retransTimer: 0,
      options: [
        { kind: 'source-link-layer', mac: 0x020000000099 },
        { kind: 'mtu', mtu: 1400 },
        {
          kind: 'prefix-information',
          prefixLength: 64,
          onLink: true,
          autonomous: true,
          validLifetime: 86400,
          preferredLifetime: 14400,
          prefix: ip6(prefix)!,
        },
      ],
    };
    const iface = host.ipv6.interfaces[0]!;
    const payload = icmpBytes(ra, router, ip6('ff02::1')!);
    const frame = new Uint8Array(14 + 40 + payload.length);
    emitEthernetHeader({ dst: 0x333300000001, src: 0x020000000099, etherType: ETHERTYPE_IPV6 }, frame, 0);
    emitIpv6Header(
      {
        trafficClass: 0,
        flowLabel: 0,
        nextHeader: IPV6_NEXT_ICMPV6,
        hopLimit: 255,
        src: router,
        dst: ip6('ff02::1')!,
      },
      payload.length,
      frame,
      14,
    );
    frame.set(payload, 54);
    iface.port.receive(frame);
  }

  test('an autonomous prefix gives a stable-ID address after DAD, a default router, hop limit and MTU', () => {
    const { net, a } = pair();
    advertise(a, 'fd00:78::');
    const iface = a.ipv6.interfaces[0]!;
    const slaac = iface.addresses.find((x) => x.origin === 'slaac')!;
    expect(slaac.state).toBe('tentative');
    expect(slaac.address >> 64n).toBe(0xfd00_0078_0000_0000n);
    net.run(3000);
    expect(slaac.state).toBe('preferred');
    expect(iface.hopLimit).toBe(42);
    expect(iface.mtu).toBe(1400);
    expect(iface.defaultRouters(net.clock.now())).toEqual([ip6('fe80::1')]);
    expect(a.ipv6.sourceAddressFor(ip6('fd00:78:1::5')!)).toBe(slaac.address);
    expect(a.ipv6.sourceAddressFor(ip6('2001:db9::5')!)).toBe(A); // the longer common prefix (RFC 6724 rule 8)
    // RFC 7217: not the EUI-64 identifier, different per prefix, the same in every run with this seed.
    expect(slaac.address & 0xffff_ffff_ffff_ffffn).not.toBe(
      iface.addresses[0]!.address & 0xffff_ffff_ffff_ffffn,
    );
    advertise(a, 'fd00:79::');
    const second = iface.addresses.filter((x) => x.origin === 'slaac')[1]!;
    expect(second.address & 0xffff_ffff_ffff_ffffn).not.toBe(slaac.address & 0xffff_ffff_ffff_ffffn);
    const again = pair();
    advertise(again.a, 'fd00:78::');
    expect(again.a.ipv6.interfaces[0]!.addresses.find((x) => x.origin === 'slaac')!.address).toBe(
      slaac.address,
    );
  });

  test('advertisements: without Override a new address is refused and REACHABLE turns STALE; with it, taken', async () => {
    const { net, a, link } = pair();
    await net.settle(a.ping6('2001:db8::2'));
    const iface = a.ipv6.interfaces[0]!;
    const entry = () => a.ipv6.neighbors().find((n) => n.address === B);
    expect(entry()).toMatchObject({ state: 'reachable', mac: link.link.b.mac, isRouter: false });
    const moved = 0x02_00_00_00_00_99;
    const na = (flags: { solicited: boolean; override: boolean; router?: boolean }) =>
      frameTo(
        a,
        { mac: moved, src: B },
        IPV6_NEXT_ICMPV6,
        icmpBytes(
          {
            kind: 'neighbor-advertisement',
            router: flags.router ?? false,
            solicited: flags.solicited,
            override: flags.override,
            target: B,
            options: [{ kind: 'target-link-layer', mac: moved }],
          },
          B,
          A,
        ),
        255,
      );
    // RFC 4861 §7.2.5: O clear and a different address: the cached one stays, but is no longer trusted.
    iface.port.receive(na({ solicited: false, override: false }));
    expect(entry()).toMatchObject({ state: 'stale', mac: link.link.b.mac });
    expect(a.counters.NeighbourUpdatesRefused).toBe(1);
    // O set: the new address replaces it, STALE since nobody asked; then a solicited one confirms it.
    iface.port.receive(na({ solicited: false, override: true, router: true }));
    expect(entry()).toMatchObject({ state: 'stale', mac: moved, isRouter: true });
    iface.port.receive(na({ solicited: true, override: false }));
    expect(entry()).toMatchObject({ state: 'reachable', mac: moved, isRouter: false });
    expect(a.counters.NeighbourUpdatesRefused).toBe(1);
  });

  test('an RA that does not come from a link-local source, or with hop limit below 255, is ignored', () => {
    const { a } = pair();
    const iface = a.ipv6.interfaces[0]!;
    const ra = icmpBytes(
      {
        kind: 'router-advertisement',
        curHopLimit: 9,
        managed: false,
        other: false,
        routerLifetime: 60,
        reachableTime: 0,
        retransTimer: 0,
        options: [],
      },
      ip6('fe80::1')!,
      A,
    );
    iface.port.receive(frameTo(a, { mac: 0x020000000099, src: ip6('fe80::1')! }, IPV6_NEXT_ICMPV6, ra, 254));
    expect(iface.hopLimit).toBe(64);
    expect(a.counters.drops.get('ndp:ndp-not-link-local-hop-limit')).toBe(1);
  });
});

describe('extension headers (RFC 8200 §4)', () => {
  function exchange(payload: Uint8Array, nextHeader: number) {
    const { net, a, b, link } = pair();
    const start = net.clock.now();
    const bMac = link.link.b.mac;
    b.ipv6.interfaces[0]!.neighbors.heard(A, link.link.a.mac, false, true, 'override');
    b.ipv6.interfaces[0]!.port.receive(frameTo(b, { mac: link.link.a.mac, src: A }, nextHeader, payload));
    net.run(100);
    void bMac;
    return {
      net,
      a,
      b,
      replies: icmpv6On(net, link.name).filter((s) => s.time >= start && s.from === 'b-eth0'),
    };
  }

  function options(nextHeader: number, type: number): Uint8Array {
    const out = new Uint8Array(8);
    emitIpv6OptionsHeader(nextHeader, [{ type, data: new Uint8Array(4) }], out, 0);
    return out;
  }

  const withEcho = (header: Uint8Array): Uint8Array => {
    const echoBytes = icmpBytes(echo(1), A, B);
    const out = new Uint8Array(header.length + echoBytes.length);
    out.set(header);
    out.set(echoBytes, header.length);
    return out;
  };

  test('an unknown Next Header: Parameter Problem code 1 pointing at the fixed header Next Header field', () => {
    const { replies } = exchange(new Uint8Array(16), 253);
    expect(replies.map((r) => r.message)).toMatchObject([{ kind: 'parameter-problem', code: 1, pointer: 6 }]);
  });

  test('skippable unknown options are skipped: the echo behind them is answered', () => {
    const { replies } = exchange(withEcho(options(IPV6_NEXT_ICMPV6, 0x1e)), IPV6_NEXT_DESTINATION_OPTIONS);
    expect(replies.map((r) => r.message.kind)).toEqual(['echo-reply']);
  });

  test('an unknown option with action 01 is dropped silently, 10 answered with code 2 at the option', () => {
    const silent = exchange(withEcho(options(IPV6_NEXT_ICMPV6, 0x5e)), IPV6_NEXT_HOP_BY_HOP);
    expect(silent.replies).toEqual([]);
    expect(silent.b.counters.drops.get('ipv6:unknown-option')).toBe(1);
    const reported = exchange(withEcho(options(IPV6_NEXT_ICMPV6, 0x9e)), IPV6_NEXT_DESTINATION_OPTIONS);
    expect(reported.replies.map((r) => r.message)).toMatchObject([
      { kind: 'parameter-problem', code: 2, pointer: 42 },
    ]);
  });

  test('Hop-by-Hop anywhere but first: code 1 pointing at the Next Header that named it', () => {
    const chain = new Uint8Array(16);
    emitIpv6OptionsHeader(IPV6_NEXT_HOP_BY_HOP, [], chain, 0);
    emitIpv6OptionsHeader(IPV6_NEXT_ICMPV6, [], chain, 8);
    const { replies } = exchange(withEcho(chain), IPV6_NEXT_DESTINATION_OPTIONS);
    expect(replies.map((r) => r.message)).toMatchObject([
      { kind: 'parameter-problem', code: 1, pointer: 40 },
    ]);
  });

  test('a Routing header with segments left: code 0 at its type; with none left it is skipped', () => {
    const routing = (segmentsLeft: number) =>
      withEcho(new Uint8Array([IPV6_NEXT_ICMPV6, 0, 0, segmentsLeft, 0, 0, 0, 0]));
    expect(exchange(routing(1), IPV6_NEXT_ROUTING).replies.map((r) => r.message)).toMatchObject([
      { kind: 'parameter-problem', code: 0, pointer: 42 },
    ]);
    expect(exchange(routing(0), IPV6_NEXT_ROUTING).replies.map((r) => r.message.kind)).toEqual([
      'echo-reply',
    ]);
  });
});

describe('fragments and reassembly', () => {
  function fragment(offset: number, more: boolean, data: Uint8Array, identification = 77): Uint8Array {
    const out = new Uint8Array(8 + data.length);
    emitIpv6FragmentHeader(
      { nextHeader: IPV6_NEXT_ICMPV6, offset, moreFragments: more, identification },
      out,
      0,
    );
    out.set(data, 8);
    return out;
  }

  function sendFragments(pieces: Uint8Array[]) {
    const { net, b, link } = pair();
    const start = net.clock.now();
    b.ipv6.interfaces[0]!.neighbors.heard(A, link.link.a.mac, false, true, 'override');
    for (const piece of pieces)
      b.ipv6.interfaces[0]!.port.receive(
        frameTo(b, { mac: link.link.a.mac, src: A }, IPV6_NEXT_FRAGMENT, piece),
      );
    net.run(100);
    return {
      net,
      b,
      link,
      replies: icmpv6On(net, link.name).filter((s) => s.time >= start && s.from === 'b-eth0'),
    };
  }

  test('a large ping is fragmented by the source and reassembled', async () => {
    const { net, a, b } = pair();
    const reply = await net.settle(a.ping6('2001:db8::2', { size: 3000 }));
    expect(reply).toMatchObject({ from: B, bytes: 3008 });
    expect(b.ipv6.reassembler.packetsInProgress).toBe(0);
  });

  test('in order, out of order, and an atomic fragment (RFC 8021) all reassemble', () => {
    const message = icmpBytes(echo(5, 40), A, B); // 48 bytes
    const inOrder = sendFragments([
      fragment(0, true, message.subarray(0, 24)),
      fragment(24, false, message.subarray(24)),
    ]);
    expect(inOrder.replies.map((r) => r.message.kind)).toEqual(['echo-reply']);
    const reversed = sendFragments([
      fragment(24, false, message.subarray(24)),
      fragment(0, true, message.subarray(0, 24)),
    ]);
    expect(reversed.replies.map((r) => r.message.kind)).toEqual(['echo-reply']);
    const atomic = sendFragments([fragment(0, false, message)]);
    expect(atomic.replies.map((r) => r.message.kind)).toEqual(['echo-reply']);
  });

  test('overlapping fragments drop the whole packet (RFC 5722), a late good fragment included', () => {
    const message = icmpBytes(echo(5, 40), A, B);
    const { replies, b } = sendFragments([
      fragment(0, true, message.subarray(0, 24)),
      fragment(16, true, message.subarray(16, 32)),
      fragment(24, false, message.subarray(24)),
    ]);
    expect(replies).toEqual([]);
    expect(b.counters.drops.get('ipv6:overlapping-fragments')).toBe(2);
    expect(b.ipv6.reassembler.bytesHeld).toBe(0);
  });

  test('a non-last fragment whose length is not a multiple of 8: code 0 pointing at Payload Length', () => {
    const message = icmpBytes(echo(5, 40), A, B);
    const { replies } = sendFragments([fragment(0, true, message.subarray(0, 20))]);
    expect(replies.map((r) => r.message)).toMatchObject([{ kind: 'parameter-problem', code: 0, pointer: 4 }]);
  });

  test('an incomplete packet times out after 60 s with Time Exceeded code 1 quoting the first fragment', () => {
    const message = icmpBytes(echo(5, 40), A, B);
    const { net, b, link } = sendFragments([fragment(0, true, message.subarray(0, 24))]);
    const start = net.clock.now();
    net.run(60_000);
    const errors = icmpv6On(net, link.name).filter(
      (s) => s.time >= start && s.from === 'b-eth0' && s.message.kind === 'time-exceeded',
    );
    expect(errors.map((r) => r.message)).toMatchObject([{ kind: 'time-exceeded', code: 1 }]);
    expect(b.ipv6.reassembler.packetsInProgress).toBe(0);
  });
});

describe('path MTU discovery (RFC 8201)', () => {
  test('a router with a 1280-byte next hop answers Packet Too Big; the source then fragments to fit', async () => {
    const net = new SimulatedNetwork({ seed: 11 });
    const a = net.host('a', '2001:db8:1::2/64', { gateway: '2001:db8:1::1' });
    const b = net.host('b', '2001:db8:2::2/64', { gateway: '2001:db8:2::1' });
    const r = net.router('r');
    const ar = net.link(a, [r, '2001:db8:1::1/64'], { delayMs: 1 });
    net.link([r, '2001:db8:2::1/64'], b, { delayMs: 1, mtu: 1280 });
    net.run(3000);
    const target = '2001:db8:2::2';
    const lost = await net.settle(a.ping6(target, { size: 1400, timeoutMs: 500 })).catch((e) => e);
    expect(lost).toMatchObject({ code: 'ETIMEDOUT' });
    const ptb = icmpv6On(net, ar.name).filter((s) => s.message.kind === 'packet-too-big');
    expect(ptb.map((s) => [s.src, s.dst, s.message.kind === 'packet-too-big' && s.message.mtu])).toEqual([
      ['2001:db8:1::1', '2001:db8:1::2', 1280],
    ]);
    expect(a.ipv6.mtuFor(ip6(target)!)).toBe(1280);
    const reply = await net.settle(a.ping6(target, { size: 1400 }));
    expect(reply).toMatchObject({ from: ip6(target), hopLimit: 63, bytes: 1408 });
  });

  test('a Packet Too Big below 1280 is raised to 1280, and one about a packet we did not send is ignored', () => {
    const { a, link } = pair();
    const original = new Uint8Array(48);
    emitIpv6Header(
      { trafficClass: 0, flowLabel: 0, nextHeader: 58, hopLimit: 64, src: A, dst: ip6('2001:db8::9')! },
      8,
      original,
      0,
    );
    const ptb = icmpBytes({ kind: 'packet-too-big', mtu: 600, original }, B, A);
    a.ipv6.interfaces[0]!.port.receive(frameTo(a, { mac: link.link.b.mac, src: B }, IPV6_NEXT_ICMPV6, ptb));
    expect(a.ipv6.mtuFor(ip6('2001:db8::9')!)).toBe(1280);
    const foreign = original.slice();
    emitIpv6Header(
      {
        trafficClass: 0,
        flowLabel: 0,
        nextHeader: 17,
        hopLimit: 64,
        src: ip6('2001:db8::77')!,
        dst: ip6('2001:db8::8')!,
      },
      8,
      foreign,
      0,
    );
    const spoofed = icmpBytes({ kind: 'packet-too-big', mtu: 1300, original: foreign }, B, A);
    a.ipv6.interfaces[0]!.port.receive(
      frameTo(a, { mac: link.link.b.mac, src: B }, IPV6_NEXT_ICMPV6, spoofed),
    );
    expect(a.ipv6.mtuFor(ip6('2001:db8::8')!)).toBe(1500);
    expect(a.counters.drops.get('icmpv6:packet-too-big-not-ours')).toBe(1);
  });
});

/**
 * Hands `host` an MLD query from the link-local router fe80::1 (hop limit 1), to `dst` (all-nodes, or
 * the group queried).
 */
function mldQuery(host: Stack, query: Icmpv6Message, dst = ip6('ff02::1')!): void {
  const querier = ip6('fe80::1')!;
  const bytes = icmpBytes(query, querier, dst);
  const frame = new Uint8Array(54 + bytes.length);
  emitEthernetHeader(
    { dst: 0x333300000000 + Number(dst & 0xffffffffn), src: 0x020000000099, etherType: ETHERTYPE_IPV6 },
    frame,
    0,
  );
  emitIpv6Header(
    { trafficClass: 0, flowLabel: 0, nextHeader: IPV6_NEXT_ICMPV6, hopLimit: 1, src: querier, dst },
    bytes.length,
    frame,
    14,
  );
  frame.set(bytes, 54);
  host.ipv6.interfaces[0]!.port.receive(frame);
}

describe('MLD (RFC 3810)', () => {
  test('a general query from a link-local router is answered within its delay with our solicited-node groups', () => {
    const { net, a, link } = pair();
    const start = net.clock.now();
    mldQuery(a, { kind: 'mld-query', maxResponseDelay: 1000, group: 0n, sources: [] });
    net.run(1000);
    const reports = icmpv6On(net, link.name).filter(
      (s) => s.time >= start && s.message.kind === 'mldv2-report',
    );
    expect(reports.map((r) => [r.from, r.dst, r.hopLimit])).toEqual([['a-eth0', 'ff02::16', 1]]);
    const groups =
      reports[0]!.message.kind === 'mldv2-report' ? reports[0]!.message.records.map((r) => r.group) : [];
    expect(groups).toEqual(expect.arrayContaining([solicitedNodeAddress(A)]));
    // Current-state records (RFC 3810 §5.2.12): MODE_IS_EXCLUDE {} for the interface's own groups.
    const records = reports[0]!.message.kind === 'mldv2-report' ? reports[0]!.message.records : [];
    expect(new Set(records.map((r) => [r.recordType, r.sources.length].join()))).toEqual(new Set(['2,0']));
    expect(reports[0]!.time - start).toBeLessThan(1000);
  });

  test('MLDv2 queries about one group, and about some of its sources, get current-state records of those only', () => {
    const { net, a, link } = pair();
    const group = ip6('ff3e::8000:1')!;
    a.ipv6.addGroupSource(group, ip6('fd00::1')!);
    a.ipv6.addGroupSource(group, ip6('fd00::2')!);
    a.ipv6.joinGroup(ip6('ff3e::8000:2')!);
    net.run(1100);
    const ask = (sources: Ipv6Address[], about = group): Icmpv6Message[] => {
      const start = net.clock.now();
      mldQuery(a, { kind: 'mld-query', maxResponseDelay: 1000, group: about, sources }, about);
      net.run(1100);
      return icmpv6On(net, link.name)
        .filter((s) => s.time >= start && s.message.kind === 'mldv2-report')
        .map((s) => s.message);
    };
    const records = (messages: Icmpv6Message[]) =>
      messages.flatMap((m) =>
        m.kind === 'mldv2-report'
          ? m.records.map((r) => [r.recordType, ipv6ToString(r.group), r.sources.map(ipv6ToString)])
          : [],
      );
    // Group-specific: MODE_IS_INCLUDE with both sources.
    expect(records(ask([]))).toEqual([[1, 'ff3e::8000:1', ['fd00::1', 'fd00::2']]]);
    // Group-and-source-specific (RFC 3810 §6.2): only the queried sources received.
    expect(records(ask([ip6('fd00::2')!, ip6('fd00::7')!]))).toEqual([[1, 'ff3e::8000:1', ['fd00::2']]]);
    expect(records(ask([ip6('fd00::7')!]))).toEqual([]);
    // A group joined for every source: MODE_IS_EXCLUDE {}.
    expect(records(ask([], ip6('ff3e::8000:2')!))).toEqual([[2, 'ff3e::8000:2', []]]);
  });

  test('after an MLDv1 query the host speaks MLDv1 for 260 s (RFC 3810 §8): reports to the group, Done to ff02::2', () => {
    const { net, a, link } = pair();
    // An MLDv1 query: 24 bytes, no source list.
    mldQuery(a, { kind: 'mld-query', maxResponseDelay: 1000, group: 0n });
    net.run(1100);
    const start = net.clock.now();
    a.ipv6.joinGroup(ip6('ff3e::8000:3')!);
    a.ipv6.leaveGroup(ip6('ff3e::8000:3')!);
    net.run(1100);
    const seen = icmpv6On(net, link.name)
      .filter((s) => s.time >= start && s.from === 'a-eth0')
      .map((s) => [
        s.message.kind,
        s.dst,
        s.message.kind === 'mld-report' || s.message.kind === 'mld-done' ? ipv6ToString(s.message.group) : '',
      ]);
    // Each change and its repeat (the repeat of a join undone is the Done again).
    expect(seen).toEqual([
      ['mld-report', 'ff3e::8000:3', 'ff3e::8000:3'],
      ['mld-done', 'ff02::2', 'ff3e::8000:3'],
      ['mld-done', 'ff02::2', 'ff3e::8000:3'],
    ]);
    net.run(260_000);
    const later = net.clock.now();
    a.ipv6.joinGroup(ip6('ff3e::8000:4')!);
    net.run(10);
    expect(
      icmpv6On(net, link.name)
        .filter((s) => s.time >= later)
        .map((s) => s.message.kind),
    ).toEqual(['mldv2-report']);
  });
});
