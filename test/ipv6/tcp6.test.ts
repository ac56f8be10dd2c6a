/**
 * TCP over IPv6 between simulated stacks: the same TCP layer as IPv4's, attached to the IPv6 layer.
 * Segments are read back from the links (Ethernet, IPv6, TCP parsed with the wire modules, checksums
 * verified over the IPv6 pseudo-header) and compared field by field: handshake with MSS = MTU - 60, data
 * cut by that MSS, the four-way close and TIME-WAIT, RST from a closed port, Packet Too Big lowering the
 * MSS (and a forged one changing nothing), dual-stack and IPv6-only listeners, and ::1.
 */
import { describe, expect, test } from 'vitest';
import { SimulatedNetwork } from '../../src/sim/network.js';
import { Stack } from '../../src/stack.js';
import type { TcpConnection } from '../../src/tcp/connection.js';
import { type TimeWaitFields, TimeWaitTable } from '../../src/tcp/time-wait.js';
import { VirtualClock } from '../../src/time/virtual-clock.js';
import { parseIpv4 } from '../../src/wire/address.js';
import { ETHERNET_HEADER_LENGTH, ETHERTYPE_IPV6, parseEthernet } from '../../src/wire/ethernet.js';
import { emitIcmpv6, icmpv6Length } from '../../src/wire/icmpv6.js';
import { emitIpv6Header, IPV6_NEXT_ICMPV6, parseIpv6 } from '../../src/wire/ipv6.js';
import { type IpAddress, parseIpv6 as ip6, ipv6ToString } from '../../src/wire/ipv6-address.js';
import { walkIpv6Headers } from '../../src/wire/ipv6-extension-headers.js';
import { parseTcp, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN } from '../../src/wire/tcp.js';
import { timeWaitFields } from '../tcp/time-wait-fields.js';

interface SeenSegment {
  from: string;
  to: string;
  flags: string;
  seq: number;
  ack: number;
  mss: number | undefined;
  length: number;
}

function flagText(flags: number): string {
  const names: Array<[number, string]> = [
    [TCP_SYN, 'S'],
    [TCP_FIN, 'F'],
    [TCP_RST, 'R'],
    [TCP_PSH, 'P'],
    [TCP_ACK, '.'],
  ];
  return names
    .filter(([bit]) => flags & bit)
    .map(([, name]) => name)
    .join('');
}

/** Every TCP segment over IPv6 that crossed `linkName`, checksum verified. */
function tcp6On(net: SimulatedNetwork, linkName: string): SeenSegment[] {
  const out: SeenSegment[] = [];
  for (const e of net.trace.events) {
    if (e.kind !== 'link.sent' || e.link !== linkName) continue;
    const eth = parseEthernet(e.frame);
    if (!eth.ok || eth.value.etherType !== ETHERTYPE_IPV6) continue;
    const ip = parseIpv6(eth.value.payload);
    if (!ip.ok) continue;
    const chain = walkIpv6Headers(ip.value.payload, ip.value.nextHeader);
    if (!chain.ok || chain.value.upperLayerProtocol !== 6) continue;
    const tcp = parseTcp(
      ip.value.payload.subarray(chain.value.upperLayerOffset),
      ip.value.src,
      ip.value.dst,
      {
        verifyChecksum: true,
      },
    );
    if (!tcp.ok) throw new Error(`bad TCP segment on ${linkName}: ${tcp.error.kind}`);
    const s = tcp.value;
    out.push({
      from: `${ipv6ToString(ip.value.src)}.${s.srcPort}`,
      to: `${ipv6ToString(ip.value.dst)}.${s.dstPort}`,
      flags: flagText(s.flags),
      seq: s.seq,
      ack: s.ack,
      mss: s.options.mss,
      length: s.payload.length,
    });
  }
  return out;
}

function collect(conn: TcpConnection, now: () => number): { bytes: () => Uint8Array; events: string[] } {
  const chunks: Uint8Array[] = [];
  const events: string[] = [];
  conn.on('readable', () => {
    for (let chunk = conn.receive(now()); chunk !== null && chunk.length > 0; chunk = conn.receive(now()))
      chunks.push(chunk.slice());
  });
  conn.on('connected', () => events.push('connected'));
  conn.on('end', () => events.push('end'));
  conn.on('error', (e) => events.push(`error:${e.code}`));
  conn.on('closed', () => events.push('closed'));
  return {
    events,
    bytes: () => {
      const total = chunks.reduce((n, c) => n + c.length, 0);
      const all = new Uint8Array(total);
      let o = 0;
      for (const c of chunks) {
        all.set(c, o);
        o += c.length;
      }
      return all;
    },
  };
}

function pattern(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 7 + (i >> 8)) & 0xff;
  return out;
}

const A = ip6('2001:db8::1')!;
const B = ip6('2001:db8::2')!;

function pair(mtu = 1500) {
  const net = new SimulatedNetwork({ seed: 5 });
  const a = net.host('a', '2001:db8::1/64');
  const b = net.host('b', '2001:db8::2/64');
  const link = net.link(a, b, { delayMs: 1, mtu });
  net.run(3000); // DAD
  return { net, a, b, link };
}

describe('TCP over IPv6', () => {
  test('handshake: SYN, SYN-ACK, ACK with MSS = MTU - 60 both ways', () => {
    const { net, a, b, link } = pair(1500);
    b.tcp.listen({ port: 80, address: 0n });
    const conn = a.tcp.connect({ remoteAddress: B, remotePort: 80 });
    const seen = collect(conn, () => net.clock.now());
    net.run(100);
    expect(seen.events).toEqual(['connected']);
    const segments = tcp6On(net, link.name);
    const port = conn.local.port;
    expect(segments.map((s) => [s.from, s.to, s.flags, s.mss])).toEqual([
      [`2001:db8::1.${port}`, '2001:db8::2.80', 'S', 1440],
      [`2001:db8::2.80`, `2001:db8::1.${port}`, 'S.', 1440],
      [`2001:db8::1.${port}`, '2001:db8::2.80', '.', undefined],
    ]);
    expect(segments[1]!.ack).toBe((segments[0]!.seq + 1) >>> 0);
    expect(segments[2]!.ack).toBe((segments[1]!.seq + 1) >>> 0);
    expect(conn.local.address).toBe(A);
    expect(conn.status()).toMatchObject({ advertisedMss: 1440, peerMss: 1440, pathMtu: 1500 });
    // The accepted side: keyed on the IPv6 4-tuple.
    const [accepted] = b.tcp.connections();
    expect(accepted!.remote).toEqual({ address: A, port });
    expect(accepted!.state).toBe('ESTABLISHED');
  });

  test('data is cut by the MSS (1440) and arrives byte-exact both ways', () => {
    const { net, a, b, link } = pair(1500);
    const listener = b.tcp.listen({ port: 5000, address: 0n });
    let server: ReturnType<typeof collect> | undefined;
    let serverConn: TcpConnection | undefined;
    listener.on('connection', (c) => {
      serverConn = c;
      server = collect(c, () => net.clock.now());
    });
    const conn = a.tcp.connect({ remoteAddress: B, remotePort: 5000 });
    const client = collect(conn, () => net.clock.now());
    net.run(50);
    const up = pattern(40_000);
    const down = pattern(30_000).reverse();
    let sent = 0;
    const pump = () => {
      while (sent < up.length) {
        const n = conn.send(up.subarray(sent), net.clock.now());
        if (n === 0) break;
        sent += n;
      }
    };
    conn.on('drain', pump);
    pump();
    serverConn!.send(down, net.clock.now());
    net.run(5000);
    expect(sent).toBe(up.length);
    expect(server!.bytes()).toEqual(up);
    expect(client.bytes()).toEqual(down);
    const lengths = tcp6On(net, link.name).map((s) => s.length);
    // The MSS less the 12 bytes of the timestamp option every segment carries (RFC 7323, on by default).
    expect(Math.max(...lengths)).toBe(1440 - 12);
  });

  test('four-way close: FIN-WAIT, TIME-WAIT as a record keyed on IPv6 addresses, then CLOSED after 2 MSL', () => {
    const { net, a, b, link } = pair();
    b.tcp.listen({ port: 80, address: 0n }).on('connection', (c) => {
      c.on('end', () => c.close(net.clock.now()));
    });
    const conn = a.tcp.connect({ remoteAddress: B, remotePort: 80 });
    const states: string[] = [];
    conn.on('state', (_from, to) => states.push(to));
    net.run(50);
    conn.close(net.clock.now());
    net.run(50);
    expect(states).toEqual(['ESTABLISHED', 'FIN-WAIT-1', 'FIN-WAIT-2', 'TIME-WAIT']);
    expect(a.tcp.timeWaitCount).toBe(1);
    expect(b.tcp.connectionCount).toBe(0);
    const tail = tcp6On(net, link.name)
      .slice(-4)
      .map((s) => [s.from.startsWith('2001:db8::1') ? 'a' : 'b', s.flags]);
    expect(tail).toEqual([
      ['a', 'F.'],
      ['b', '.'],
      ['b', 'F.'],
      ['a', '.'],
    ]);
    // A new connection from the same port to the same peer is refused while the record holds it.
    expect(() => a.tcp.connect({ remoteAddress: B, remotePort: 80, localPort: conn.local.port })).toThrow(
      expect.objectContaining({ code: 'EADDRINUSE' }),
    );
    net.run(2 * 60_000 + 1000);
    expect(states.at(-1)).toBe('CLOSED');
    expect(a.tcp.connectionCount).toBe(0);
  });

  test('a SYN to a closed port is answered with RST,ACK: ECONNREFUSED', () => {
    const { net, a, link } = pair();
    const conn = a.tcp.connect({ remoteAddress: B, remotePort: 9 });
    const seen = collect(conn, () => net.clock.now());
    net.run(50);
    expect(seen.events).toEqual(['error:ECONNREFUSED', 'closed']);
    const segments = tcp6On(net, link.name);
    expect(segments.map((s) => s.flags)).toEqual(['S', 'R.']);
    expect(segments[1]).toMatchObject({ seq: 0, ack: (segments[0]!.seq + 1) >>> 0 });
  });

  test('Packet Too Big from a router lowers the MSS of every connection to that destination', () => {
    const net = new SimulatedNetwork({ seed: 13 });
    const a = net.host('a', '2001:db8:1::2/64', { gateway: '2001:db8:1::1' });
    const b = net.host('b', '2001:db8:2::2/64', { gateway: '2001:db8:2::1' });
    const r = net.router('r');
    const ar = net.link(a, [r, '2001:db8:1::1/64'], { delayMs: 1 });
    net.link([r, '2001:db8:2::1/64'], b, { delayMs: 1 });
    net.run(3000);
    const target = ip6('2001:db8:2::2')!;
    const servers: Array<ReturnType<typeof collect>> = [];
    b.tcp.listen({ port: 80, address: 0n }).on('connection', (c) => {
      servers.push(collect(c, () => net.clock.now()));
    });
    const first = a.tcp.connect({ remoteAddress: target, remotePort: 80 });
    const second = a.tcp.connect({ remoteAddress: target, remotePort: 80 });
    net.run(100);
    expect(first.status()).toMatchObject({ advertisedMss: 1440, peerMss: 1440, pathMtu: 1500 });
    // The path changes: r's link toward b now carries 1280-byte packets only.
    r.ipv6.interfaces.find((i) => i.addresses.some((x) => x.address === ip6('2001:db8:2::1')))!.mtu = 1280;
    const data = pattern(20_000);
    first.send(data, net.clock.now());
    net.run(3000);
    // Full-sized: the MSS less the 12 bytes of the timestamp option (RFC 7323, on by default).
    const fullSized = tcp6On(net, ar.name).filter((s) => s.length === 1440 - 12);
    expect(fullSized.length).toBeGreaterThan(0); // full-sized segments went out before the PTB came back
    expect(a.ipv6.mtuFor(target)).toBe(1280);
    expect(first.status()).toMatchObject({ pathMtu: 1280, effectiveMss: 1220 - 12 });
    // The other connection to that destination took the new MTU at once.
    expect(second.status()).toMatchObject({ pathMtu: 1280, effectiveMss: 1220 - 12 });
    expect(servers.map((s) => s.bytes().length).sort((x, y) => x - y)).toEqual([0, 20_000]);
    expect(servers.find((s) => s.bytes().length > 0)!.bytes()).toEqual(data);
  });
});

describe('Packet Too Big checked against the connection (RFC 5927 §4.1)', () => {
  /** a connected to b over a 1500 link whose far side accepts 1440-byte segments. */
  function established() {
    const { net, a, b, link } = pair(1500);
    b.tcp.listen({ port: 80, address: 0n });
    const conn = a.tcp.connect({ remoteAddress: B, remotePort: 80 });
    net.run(50);
    return { net, a, b, link, conn };
  }

  /** A Packet Too Big from b's side quoting a segment a sent with sequence number `seq`. */
  function packetTooBig(
    a: Stack,
    link: ReturnType<typeof pair>['link'],
    conn: TcpConnection,
    seq: number,
    mtu: number,
  ): void {
    const quote = new Uint8Array(40 + 20);
    emitIpv6Header(
      { trafficClass: 0, flowLabel: 0, nextHeader: 6, hopLimit: 64, src: A, dst: B },
      1400,
      quote,
      0,
    );
    const t = 40;
    quote[t] = conn.local.port >> 8;
    quote[t + 1] = conn.local.port & 0xff;
    quote[t + 2] = 0;
    quote[t + 3] = 80;
    quote[t + 4] = seq >>> 24;
    quote[t + 5] = (seq >>> 16) & 0xff;
    quote[t + 6] = (seq >>> 8) & 0xff;
    quote[t + 7] = seq & 0xff;
    const message = { kind: 'packet-too-big' as const, mtu, original: quote };
    const length = icmpv6Length(message);
    const frame = new Uint8Array(ETHERNET_HEADER_LENGTH + 40 + length);
    frame.set([0, 0, 0, 0, 0, 0], 0);
    const mac = a.ipv6.interfaces[0]!.device.mac;
    for (let i = 0; i < 6; i++) frame[i] = Math.floor(mac / 256 ** (5 - i)) & 0xff;
    frame[12] = 0x86;
    frame[13] = 0xdd;
    emitIpv6Header(
      { trafficClass: 0, flowLabel: 0, nextHeader: IPV6_NEXT_ICMPV6, hopLimit: 64, src: B, dst: A },
      length,
      frame,
      ETHERNET_HEADER_LENGTH,
    );
    emitIcmpv6(message, B, A, frame, ETHERNET_HEADER_LENGTH + 40);
    a.ipv6.interfaces[0]!.port.receive(frame);
    void link;
  }

  test('one quoting a sequence number in flight lowers the path MTU and the MSS to 1280 - 60', () => {
    const { net, a, link, conn } = established();
    conn.send(pattern(50_000), net.clock.now());
    const inFlight = conn.status().sndUna;
    expect(conn.status().bytesInFlight).toBeGreaterThan(0);
    packetTooBig(a, link, conn, inFlight, 1280);
    expect(a.ipv6.mtuFor(B)).toBe(1280);
    // 1280 - 60 bytes of headers - 12 of the timestamp option.
    expect(conn.status()).toMatchObject({ pathMtu: 1280, effectiveMss: 1220 - 12 });
    net.run(3000);
    expect(conn.status().bytesInFlight).toBe(0);
  });

  test('one quoting a sequence number not in flight changes nothing', () => {
    const { net, a, link, conn } = established();
    conn.send(pattern(10_000), net.clock.now());
    const wrong = (conn.status().sndUna + 1_000_000) >>> 0;
    packetTooBig(a, link, conn, wrong, 1280);
    expect(a.ipv6.mtuFor(B)).toBe(1500);
    expect(conn.status()).toMatchObject({ pathMtu: 1500, effectiveMss: 1440 - 12 });
    expect(a.tcp.counters.icmpOutOfWindow).toBe(1);
  });
});

describe('listeners of both versions', () => {
  function dualHosts() {
    const net = new SimulatedNetwork({ seed: 9 });
    const a = net.host('a', '10.0.0.1/24');
    const b = net.host('b', '10.0.0.2/24');
    const link = net.link(a, b, { delayMs: 1 });
    a.addIpv6Interface(link.link.a, { addresses: ['fd00::1/64'] });
    b.addIpv6Interface(link.link.b, { addresses: ['fd00::2/64'] });
    net.run(3000);
    return { net, a, b };
  }

  test('a listener on :: takes IPv4 and IPv6 connections; 0.0.0.0 beside it is EADDRINUSE', () => {
    const { net, a, b } = dualHosts();
    const listener = b.tcp.listen({ port: 80, address: 0n });
    const accepted: string[] = [];
    listener.on('connection', (c) => accepted.push(typeof c.remote.address === 'bigint' ? 'v6' : 'v4'));
    expect(() => b.tcp.listen({ port: 80, address: 0 })).toThrow(
      expect.objectContaining({ code: 'EADDRINUSE' }),
    );
    a.tcp.connect({ remoteAddress: ip6('fd00::2')!, remotePort: 80 });
    a.tcp.connect({ remoteAddress: parseIpv4('10.0.0.2')!, remotePort: 80 });
    net.run(100);
    expect(accepted.sort()).toEqual(['v4', 'v6']);
  });

  test('ipv6Only: IPv4 SYNs are refused, and 0.0.0.0 may listen on the same port', () => {
    const { net, a, b } = dualHosts();
    b.tcp.listen({ port: 80, address: 0n, ipv6Only: true });
    const v4 = a.tcp.connect({ remoteAddress: parseIpv4('10.0.0.2')!, remotePort: 80 });
    const seen = collect(v4, () => net.clock.now());
    net.run(100);
    expect(seen.events).toEqual(['error:ECONNREFUSED', 'closed']);
    expect(() => b.tcp.listen({ port: 80, address: 0 })).not.toThrow();
  });

  test('::1 works on a stack without any IPv6 interface', () => {
    const clock = new VirtualClock();
    const stack = new Stack({ name: 'solo', clock });
    const listener = stack.tcp.listen({ port: 7, address: 1n });
    let server: TcpConnection | undefined;
    listener.on('connection', (c) => {
      server = c;
    });
    const conn = stack.tcp.connect({ remoteAddress: 1n, remotePort: 7 });
    const client = collect(conn, () => clock.now());
    clock.advance(10);
    expect(client.events).toEqual(['connected']);
    // lo's MTU 65535: MSS 65475.
    expect(conn.status()).toMatchObject({ advertisedMss: 65475, pathMtu: 65535 });
    const received = collect(server!, () => clock.now());
    conn.send(pattern(100_000), clock.now());
    clock.advance(1000);
    expect(received.bytes()).toEqual(pattern(100_000));
    stack.close();
  });
});

describe('TIME-WAIT records of both versions (time-wait.ts)', () => {
  function fields(local: IpAddress, remote: IpAddress): TimeWaitFields {
    return timeWaitFields({
      localAddress: local,
      localPort: 80,
      remoteAddress: remote,
      remotePort: 50000,
      mslMs: 1000,
    });
  }

  test('an IPv6 record whose addresses fold to an IPv4 record’s is told apart, found and removed alone', () => {
    const table = new TimeWaitTable();
    // ::a.b.c.d folds (XOR of the four 32-bit words) to a.b.c.d itself.
    const v4Local = parseIpv4('10.0.0.1')!;
    const v4Remote = parseIpv4('10.0.0.2')!;
    const v6Local = BigInt(v4Local);
    const v6Remote = BigInt(v4Remote);
    const four = table.add(fields(v4Local, v4Remote), 2000);
    const six = table.add(fields(v6Local, v6Remote), 2000);
    const other = table.add(fields(A, B), 2000);
    expect(table.find(v4Local, 80, v4Remote, 50000)).toBe(four);
    expect(table.find(v6Local, 80, v6Remote, 50000)).toBe(six);
    expect(table.find(A, 80, B, 50000)).toBe(other);
    expect(table.find(B, 80, A, 50000)).toBe(-1);
    expect([table.localAddress(six), table.remoteAddress(six)]).toEqual([v6Local, v6Remote]);
    expect([table.localAddress(four), table.remoteAddress(four)]).toEqual([v4Local, v4Remote]);
    table.remove(six);
    expect(table.find(v6Local, 80, v6Remote, 50000)).toBe(-1);
    expect(table.find(v4Local, 80, v4Remote, 50000)).toBe(four);
    expect(table.find(A, 80, B, 50000)).toBe(other);
    expect(table.size).toBe(2);
  });
});
