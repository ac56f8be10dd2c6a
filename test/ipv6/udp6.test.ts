/**
 * UDP over IPv6: the UDP layer's sockets reached from IPv6 (mandatory checksum, ICMPv6 port unreachable
 * and the error it raises on a connected socket, dual-stack and IPv6-only wildcards), and `dgram`'s udp6
 * sockets as Node reports them (address(), rinfo with IPv4-mapped senders, the default :: bind).
 */
import '../../src/api/sockets-node.js';
import { describe, expect, test } from 'vitest';
import type { DgramApi } from '../../src/api/dgram/dgram-api.js';
import type { RemoteInfo } from '../../src/api/dgram/socket.js';
import type { ErrnoError } from '../../src/seams.js';
import { SimulatedNetwork } from '../../src/sim/network.js';
import type { UdpMessageInfo } from '../../src/udp/udp-socket.js';
import { ETHERNET_HEADER_LENGTH, ETHERTYPE_IPV6, parseEthernet } from '../../src/wire/ethernet.js';
import { parseIcmpv6 } from '../../src/wire/icmpv6.js';
import { emitIpv6Header, parseIpv6 } from '../../src/wire/ipv6.js';
import { parseIpv6 as ip6, ipv6ToString } from '../../src/wire/ipv6-address.js';
import { simPair } from '../api/helpers/sim-pair.js';

const A = ip6('fd00::1')!;
const B = ip6('fd00::2')!;

function pair() {
  const net = new SimulatedNetwork({ seed: 3 });
  const a = net.host('a', '10.0.0.1/24');
  const b = net.host('b', '10.0.0.2/24');
  const link = net.link(a, b, { delayMs: 1 });
  a.addIpv6Interface(link.link.a, { addresses: ['fd00::1/64'] });
  b.addIpv6Interface(link.link.b, { addresses: ['fd00::2/64'] });
  net.run(3000);
  return { net, a, b, link };
}

/** The MLDv2 reports `from` put on the wire: source address, ICMPv6 bytes and records. */
function mldReportsSent(net: SimulatedNetwork, from: string) {
  return net.trace.events.flatMap((e) => {
    if (e.kind !== 'link.sent' || e.from !== from) return [];
    const eth = parseEthernet(e.frame);
    if (!eth.ok || eth.value.etherType !== ETHERTYPE_IPV6) return [];
    const ip = parseIpv6(eth.value.payload);
    if (!ip.ok || ip.value.nextHeader !== 0) return []; // reports ride behind a Router Alert
    const bytes = ip.value.payload.subarray(8);
    const icmp = parseIcmpv6(bytes, ip.value.src, ip.value.dst);
    if (!icmp.ok || icmp.value.kind !== 'mldv2-report') return [];
    return [
      {
        src: ipv6ToString(ip.value.src),
        bytes: [...bytes],
        records: icmp.value.records.map(
          (r) => [r.recordType, ipv6ToString(r.group), r.sources.map(ipv6ToString)] as const,
        ),
      },
    ];
  });
}

describe('UDP over IPv6', () => {
  test('a datagram goes out with its checksum and arrives with the sender address and hop limit', () => {
    const { net, a, b, link } = pair();
    const got: Array<[string, number, string, number]> = [];
    b.udp.bind(
      { port: 53, address: '::' },
      {
        message: (payload, info) =>
          got.push([
            ipv6ToString(info.address as bigint),
            info.port,
            new TextDecoder().decode(payload),
            info.ttl,
          ]),
      },
    );
    const socket = a.udp.bind({ port: 4000, address: 0n });
    socket.send(new TextEncoder().encode('hello'), 53, 'fd00::2');
    net.run(10);
    expect(got).toEqual([['fd00::1', 4000, 'hello', 64]]);
    const frames = net.trace.events.filter((e) => e.kind === 'link.sent' && e.link === link.name);
    const udp = frames
      .map((e) => parseEthernet((e as { frame: Uint8Array }).frame))
      .filter((f) => f.ok && f.value.etherType === ETHERTYPE_IPV6)
      .map((f) => parseIpv6((f as { value: { payload: Uint8Array } }).value.payload))
      .filter((p) => p.ok && p.value.nextHeader === 17);
    expect(udp).toHaveLength(1);
    const checksum = udp[0]!.ok ? (udp[0]!.value.payload[6]! << 8) | udp[0]!.value.payload[7]! : 0;
    expect(checksum).not.toBe(0);
  });

  test('a zero checksum is refused (RFC 8200 §8.1) and counted', () => {
    const { a, b, link } = pair();
    const got: UdpMessageInfo[] = [];
    b.udp.bind({ port: 53, address: 0n }, { message: (_p, info) => got.push(info) });
    const frame = new Uint8Array(ETHERNET_HEADER_LENGTH + 40 + 8 + 2);
    const mac = link.link.b.mac;
    for (let i = 0; i < 6; i++) frame[i] = Math.floor(mac / 256 ** (5 - i)) & 0xff;
    frame[12] = 0x86;
    frame[13] = 0xdd;
    emitIpv6Header(
      { trafficClass: 0, flowLabel: 0, nextHeader: 17, hopLimit: 64, src: A, dst: B },
      10,
      frame,
      14,
    );
    const u = ETHERNET_HEADER_LENGTH + 40;
    frame.set([0x0f, 0xa0, 0, 53, 0, 10, 0, 0, 0x68, 0x69], u); // checksum field 0
    b.ipv6.interfaces[0]!.port.receive(frame);
    expect(got).toEqual([]);
    expect(b.counters.UdpInErrors).toBe(1);
    void a;
  });

  test('no socket: ICMPv6 port unreachable, which a connected socket hears as ECONNREFUSED', () => {
    const { net, a, link } = pair();
    const errors: string[] = [];
    const socket = a.udp.bind({ address: 0n }, { error: (e: ErrnoError) => errors.push(e.code) });
    socket.connect('fd00::2', 9);
    expect(socket.localAddress).toBe(A);
    socket.send(Uint8Array.of(1, 2, 3));
    net.run(10);
    expect(errors).toEqual(['ECONNREFUSED']);
    const icmp = net.trace.events
      .filter((e) => e.kind === 'link.sent' && e.link === link.name)
      .map((e) => parseEthernet((e as { frame: Uint8Array }).frame))
      .flatMap((f) => (f.ok && f.value.etherType === ETHERTYPE_IPV6 ? [parseIpv6(f.value.payload)] : []))
      .flatMap((p) =>
        p.ok && p.value.nextHeader === 58 ? [parseIcmpv6(p.value.payload, p.value.src, p.value.dst)] : [],
      )
      .flatMap((m) => (m.ok ? [m.value] : []))
      .filter((m) => m.kind === 'destination-unreachable');
    expect(icmp).toMatchObject([{ kind: 'destination-unreachable', code: 4 }]);
  });

  test(':: takes IPv4 datagrams too, unless ipv6Only; 0.0.0.0 beside a dual-stack :: is EADDRINUSE', () => {
    const { net, a, b } = pair();
    const heard: string[] = [];
    b.udp.bind({ port: 7, address: 0n }, { message: (_p, info) => heard.push(typeof info.address) });
    expect(() => b.udp.bind({ port: 7, address: 0 })).toThrow(
      expect.objectContaining({ code: 'EADDRINUSE' }),
    );
    const sender = a.udp.bind({});
    sender.send(Uint8Array.of(1), 7, '10.0.0.2');
    const sender6 = a.udp.bind({ address: 0n });
    sender6.send(Uint8Array.of(1), 7, 'fd00::2');
    net.run(10);
    expect(heard.sort()).toEqual(['bigint', 'number']);
    const only: string[] = [];
    b.udp.bind(
      { port: 8, address: 0n, ipv6Only: true },
      { message: (_p, info) => only.push(typeof info.address) },
    );
    b.udp.bind({ port: 8, address: 0 }, { message: () => only.push('v4 socket') });
    sender.send(Uint8Array.of(1), 8, '10.0.0.2');
    sender6.send(Uint8Array.of(1), 8, 'fd00::2');
    net.run(10);
    expect(only.sort()).toEqual(['bigint', 'v4 socket']);
  });
});

describe('dgram udp6', () => {
  test('binds :: by default; IPv6 peers and IPv4 peers (as ::ffff:a.b.c.d) both reported as IPv6', async () => {
    const p = simPair({ family: 6 });
    const server = p.server.dgram as unknown as DgramApi;
    const client = p.client.dgram as unknown as DgramApi;
    const seen: RemoteInfo[] = [];
    await p.run(async () => {
      const socket = server.createSocket('udp6');
      socket.on('message', (_msg, rinfo) => seen.push(rinfo));
      await new Promise<void>((resolve) => socket.bind(5300, resolve));
      expect(socket.address()).toEqual({ address: '::', family: 'IPv6', port: 5300 });
      const six = client.createSocket('udp6');
      const four = client.createSocket('udp4');
      await new Promise((resolve) => six.send('a', 5300, 'fd00::2', resolve));
      await new Promise((resolve) => four.send('b', 5300, '10.0.0.2', resolve));
      await p.delay(10);
      const sixAddress = six.address();
      expect(sixAddress).toMatchObject({ address: '::', family: 'IPv6' });
      expect(seen.map((r) => [r.address, r.family, r.size])).toEqual([
        ['fd00::1', 'IPv6', 1],
        ['::ffff:10.0.0.1', 'IPv6', 1],
      ]);
      six.connect(5300, 'fd00::2');
      await new Promise((resolve) => six.once('connect', resolve));
      expect(six.remoteAddress()).toEqual({ address: 'fd00::2', family: 'IPv6', port: 5300 });
      expect(six.address()).toMatchObject({ address: 'fd00::1', family: 'IPv6' });
      for (const s of [socket, six, four]) s.close();
    });
  });

  test('ipv6Only leaves the port to a udp4 socket on 0.0.0.0', async () => {
    const p = simPair({ family: 6 });
    const server = p.server.dgram as unknown as DgramApi;
    await p.run(async () => {
      const six = server.createSocket({ type: 'udp6', ipv6Only: true });
      await new Promise<void>((resolve) => six.bind(5301, resolve));
      const four = server.createSocket('udp4');
      const outcome = await new Promise<string>((resolve) => {
        four.once('error', (e: Error & { code?: string }) => resolve(e.code ?? 'error'));
        four.bind(5301, () => resolve('listening'));
      });
      expect(outcome).toBe('listening');
      const dual = server.createSocket('udp6');
      const clash = await new Promise<string>((resolve) => {
        dual.once('error', (e: Error & { code?: string }) => resolve(e.code ?? 'error'));
        dual.bind(5302, () => resolve('listening'));
      });
      expect(clash).toBe('listening');
      for (const s of [six, four, dual]) s.close();
    });
  });

  test('IPv6 group membership: addMembership delivers ff00::/8 datagrams and sends an MLDv2 report; dropMembership stops both', async () => {
    const p = simPair({ family: 6, trace: true });
    const server = p.server.dgram as unknown as DgramApi;
    const client = p.client.dgram as unknown as DgramApi;
    /** MLDv2 records the server sent, as [record type, group]. */
    const mldRecords = () =>
      mldReportsSent(p.network, 'server-eth0').flatMap((r) => r.records.map((x) => [x[0], x[1]]));
    await p.run(async () => {
      const member = server.createSocket('udp6');
      const heard: string[] = [];
      member.on('message', (msg, rinfo) => heard.push(`${msg} from ${rinfo.address}`));
      await new Promise<void>((resolve) => member.bind(5400, resolve));
      const sender = client.createSocket('udp6');
      const notJoined = () => p.server.counters.dropCount('ipv6', 'multicast-not-joined');
      const dropsAtStart = notJoined();
      await new Promise((resolve) => sender.send('before', 5400, 'ff12::4242', resolve));
      await p.delay(10);
      expect(heard).toEqual([]);
      expect(notJoined()).toBe(dropsAtStart + 1);
      const before = mldRecords().length;
      member.addMembership('ff12::4242');
      expect(() => member.addMembership('ff12::4242')).toThrow(
        expect.objectContaining({ code: 'EADDRINUSE' }),
      );
      expect(() => member.addMembership('fd00::7')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
      await p.delay(1);
      // RFC 3810 §6.1: the join is announced (CHANGE_TO_EXCLUDE_MODE = 4) with the other groups reported.
      expect(mldRecords().slice(before)).toContainEqual([4, 'ff12::4242']);
      await new Promise((resolve) => sender.send('during', 5400, 'ff12::4242', resolve));
      await p.delay(10);
      // A link-scope group (ff12::) is sent from the link-local address (RFC 6724 §5 rule 2).
      expect(heard).toEqual(['during from fe80::ff:fe00:1']);
      const beforeLeave = mldRecords().length;
      member.dropMembership('ff12::4242');
      expect(() => member.dropMembership('ff12::4242')).toThrow(
        expect.objectContaining({ code: 'EADDRNOTAVAIL' }),
      );
      await p.delay(1);
      // Leaving: CHANGE_TO_INCLUDE_MODE (3) with no sources, for that group only.
      expect(mldRecords().slice(beforeLeave)).toEqual([[3, 'ff12::4242']]);
      await new Promise((resolve) => sender.send('after', 5400, 'ff12::4242', resolve));
      await p.delay(10);
      expect(heard).toEqual(['during from fe80::ff:fe00:1']);
      expect(notJoined()).toBe(dropsAtStart + 2);
      for (const s of [member, sender]) s.close();
    });
  });

  test('IPv6 source-specific membership: MLDv2 ALLOW/BLOCK records with the source (bytes pinned), datagrams from other sources dropped', async () => {
    const p = simPair({ family: 6, trace: true });
    const server = p.server.dgram as unknown as DgramApi;
    const client = p.client.dgram as unknown as DgramApi;
    const mldReports = () => mldReportsSent(p.network, 'server-eth0');
    await p.run(async () => {
      const member = server.createSocket('udp6');
      const heard: string[] = [];
      member.on('message', (msg, rinfo) => heard.push(`${msg} from ${rinfo.address}`));
      await new Promise<void>((resolve) => member.bind(5500, resolve));
      const sender = client.createSocket('udp6');
      const send = async (text: string) => {
        await new Promise((resolve) => sender.send(text, 5500, 'ff3e::8000:1', resolve));
        await p.delay(10);
      };
      let before = mldReports().length;
      member.addSourceSpecificMembership('fd00::9', 'ff3e::8000:1');
      await p.delay(1);
      // RFC 3810 §5.2: type 143, checksum, reserved, 1 record: ALLOW_NEW_SOURCES (5), no aux data,
      // 1 source, the group, the source (checksum worked out apart from the stack).
      expect(mldReports().slice(before)).toEqual([
        {
          src: 'fe80::ff:fe00:2',
          bytes: [
            143, 0, 0xf2, 0xb0, 0, 0, 0, 1, 5, 0, 0, 1, 0xff, 0x3e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0,
            1, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9,
          ],
          records: [[5, 'ff3e::8000:1', ['fd00::9']]],
        },
      ]);
      await send('from-client');
      expect(heard).toEqual([]);
      expect(p.server.counters.dropCount('ipv6', 'multicast-source-filtered')).toBe(1);
      member.addSourceSpecificMembership('fd00::1', 'ff3e::8000:1');
      await send('allowed');
      expect(heard).toEqual(['allowed from fd00::1']);
      // Errors as Linux gives them (IPV6 MCAST_JOIN_SOURCE_GROUP / MCAST_LEAVE_SOURCE_GROUP).
      const code = (call: () => void) => {
        try {
          call();
          return 'ok';
        } catch (error) {
          return (error as ErrnoError).code;
        }
      };
      expect(code(() => member.addSourceSpecificMembership('fd00::1', 'ff3e::8000:1'))).toBe('EADDRNOTAVAIL');
      expect(code(() => member.addSourceSpecificMembership('10.0.0.1', 'ff3e::8000:1'))).toBe('EINVAL');
      expect(code(() => member.addSourceSpecificMembership('fd00::1', 'fd00::2'))).toBe('EINVAL');
      expect(code(() => member.dropSourceSpecificMembership('fd00::7', 'ff3e::8000:1'))).toBe(
        'EADDRNOTAVAIL',
      );
      expect(code(() => member.dropSourceSpecificMembership('fd00::1', 'ff3e::8000:2'))).toBe('EINVAL');
      before = mldReports().length;
      member.dropSourceSpecificMembership('fd00::9', 'ff3e::8000:1');
      member.dropSourceSpecificMembership('fd00::1', 'ff3e::8000:1');
      await p.delay(1100);
      // Each drop reported at once (BLOCK_OLD_SOURCES), then one repeat of both merged.
      expect(
        mldReports()
          .slice(before)
          .map((r) => r.records),
      ).toEqual([
        [[6, 'ff3e::8000:1', ['fd00::9']]],
        [[6, 'ff3e::8000:1', ['fd00::1']]],
        [[6, 'ff3e::8000:1', ['fd00::9', 'fd00::1']]],
      ]);
      await send('after');
      expect(heard).toEqual(['allowed from fd00::1']);
      // Bounds: net.ipv6.mld_max_msf, 64 sources per group (ENOBUFS); 2048 groups per socket (ENOMEM,
      // where Linux runs out of net.core.optmem_max at 2340).
      const bounded = server.createSocket('udp6');
      await new Promise<void>((resolve) => bounded.bind(5501, resolve));
      for (let i = 1; i <= 64; i++)
        bounded.addSourceSpecificMembership(`fd00::1:${i.toString(16)}`, 'ff3e::8000:9');
      expect(code(() => bounded.addSourceSpecificMembership('fd00::2:1', 'ff3e::8000:9'))).toBe('ENOBUFS');
      for (let i = 1; i < 2048; i++) bounded.addMembership(`ff3e::9:${i.toString(16)}`);
      expect(code(() => bounded.addMembership('ff3e::a:1'))).toBe('ENOMEM');
      expect(p.server.counters.MulticastMembershipLimits).toBe(2);
      bounded.close();
      for (const s of [member, sender]) s.close();
    });
  });
});
