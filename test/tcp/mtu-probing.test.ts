/**
 * Packetization Layer Path MTU Discovery (RFC 4821, tcp/mtu-probing.ts) in the simulator, over links
 * that silently drop every frame whose IP datagram is larger than a size (an ICMP black hole: no
 * "fragmentation needed" ever comes back). The sizes below are IP datagram lengths; with timestamps a
 * segment carries 52 bytes of headers over IPv4 (72 over IPv6) around its payload.
 */
import { describe, expect, test } from 'vitest';
import { SimulatedNetwork } from '../../src/sim/network.js';
import type { Stack } from '../../src/stack.js';
import type { TcpConfig } from '../../src/tcp/config.js';
import { resolveTcpConfig } from '../../src/tcp/config.js';
import type { TcpConnection } from '../../src/tcp/connection.js';
import { parseEthernet } from '../../src/wire/ethernet.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { parseIpv6 } from '../../src/wire/ipv6.js';
import { parseIpv6 as ip6 } from '../../src/wire/ipv6-address.js';
import { parseTcp } from '../../src/wire/tcp.js';

/** One data segment the client put on the link: when, IP datagram length, sequence number from the ISS. */
interface Sent {
  time: number;
  len: number;
  seq: number;
}

function dataSegments(net: SimulatedNetwork, device: string): Sent[] {
  const out: Sent[] = [];
  let iss: number | undefined;
  for (const e of net.trace.events) {
    if (e.kind !== 'link.sent' || e.from !== device) continue;
    const eth = parseEthernet(e.frame);
    if (!eth.ok) continue;
    let len: number;
    let tcp: ReturnType<typeof parseTcp>;
    if (eth.value.etherType === 0x0800) {
      const ip = parseIpv4(eth.value.payload);
      if (!ip.ok || ip.value.protocol !== 6) continue;
      len = ip.value.totalLength;
      tcp = parseTcp(ip.value.payload, ip.value.src, ip.value.dst);
    } else if (eth.value.etherType === 0x86dd) {
      const ip = parseIpv6(eth.value.payload);
      if (!ip.ok || ip.value.nextHeader !== 6) continue;
      len = 40 + ip.value.payloadLength;
      tcp = parseTcp(ip.value.payload, ip.value.src, ip.value.dst);
    } else continue;
    if (!tcp.ok) continue;
    iss ??= tcp.value.seq;
    if (tcp.value.payload.length > 0) out.push({ time: e.time, len, seq: (tcp.value.seq - iss) >>> 0 });
  }
  return out;
}

/**
 * The probes among the segments: new data (never sent before) in a datagram longer than both the new
 * data segment before it and the one after it — the search's sizes, whatever the congestion window did.
 */
function probes(sent: readonly Sent[]): Sent[] {
  const fresh: Sent[] = [];
  let highest = -1;
  for (const s of sent) {
    if (s.seq > highest) {
      fresh.push(s);
      highest = s.seq;
    }
  }
  return fresh.filter(
    (s, i) => i > 0 && i < fresh.length - 1 && s.len > fresh[i - 1]!.len && s.len > fresh[i + 1]!.len,
  );
}

interface Transfer {
  net: SimulatedNetwork;
  client: Stack;
  conn: TcpConnection;
  received: () => number;
  sent: () => Sent[];
  link: ReturnType<SimulatedNetwork['link']>;
}

/** A client sending `size` bytes as fast as it may to a server over a link whose a->b direction drops datagrams above `blackHole`. */
function transfer(options: {
  size: number;
  blackHole: number;
  tcp?: Partial<TcpConfig>;
  ipv6?: boolean;
  rateBitsPerSecond?: number;
}): Transfer {
  const net = new SimulatedNetwork({ seed: 1 });
  const v6 = options.ipv6 === true;
  const client = net.host('client', v6 ? '2001:db8::1/64' : '10.0.0.1/24', { tcp: options.tcp });
  const server = net.host('server', v6 ? '2001:db8::2/64' : '10.0.0.2/24');
  const link = net.link(client, server, {
    delayMs: 5,
    aToB: { mtu: options.blackHole, rateBitsPerSecond: options.rateBitsPerSecond },
  });
  if (v6) net.run(3000); // duplicate address detection
  let received = 0;
  server.tcp.listen({ port: 9, address: v6 ? 0n : undefined }).on('connection', (c) => {
    c.on('readable', () => {
      for (let x = c.receive(net.clock.now()); x !== null && x.length > 0; x = c.receive(net.clock.now()))
        received += x.length;
    });
  });
  const conn = client.tcp.connect({
    remoteAddress: v6 ? ip6('2001:db8::2')! : server.address!,
    remotePort: 9,
  });
  let offset = 0;
  const pump = () => {
    if (offset < options.size) offset += conn.send(new Uint8Array(options.size - offset), net.clock.now());
  };
  conn.on('connected', pump);
  conn.on('drain', pump);
  return { net, client, conn, link, received: () => received, sent: () => dataSegments(net, 'client-eth0') };
}

describe('PLPMTUD', () => {
  test('a black hole at 1300 bytes: three timeouts, MSS down to 1024, probes climb back to exactly 1300', () => {
    const t = transfer({ size: 2_000_000, blackHole: 1300 }); // default mode: after a black hole
    t.net.run(20_000);
    expect(t.received()).toBe(2_000_000);
    const sent = t.sent();
    // The first segment went three times at the full 1500 bytes (the initial window, then the 200, 400
    // and 800 ms timeouts); at the third timeout the black hole was suspected and it went again at the
    // base MSS, 1024 bytes of payload, and the rest of it after.
    const first = sent.filter((s) => s.seq === 1);
    expect(first.map((s) => [s.time, s.len])).toEqual([
      [20, 1500],
      [260, 1500],
      [660, 1500],
      [1460, 1076],
    ]);
    expect(sent.find((s) => s.seq === 1025)).toMatchObject({ time: 1470, len: 476 });
    // The search: (1076+1500)/2 = 1288 passes, 1394 and 1340 and 1313 are lost, 1300 passes, 1306 is
    // lost, and 1300..1305 is narrower than the 8-byte threshold.
    const found = probes(sent);
    expect(found.map((p) => p.len)).toEqual([1288, 1394, 1340, 1313, 1300, 1306]);
    // Each lost probe's data went again at once, cut to the MSS of the time (1288- then 1300-byte
    // datagrams), without a congestion window reduction.
    for (const p of found.filter((x) => x.len > 1300)) {
      const again = sent.filter((s) => s.seq === p.seq && s.time > p.time);
      expect(again.length).toBeGreaterThan(0);
      expect(again[0]!.len).toBe(p.len === 1306 ? 1300 : 1288);
    }
    const counters = t.client.tcp.counters;
    expect(counters).toMatchObject({
      mtuBlackHoles: 1,
      mtuProbes: 6,
      mtuProbeSuccesses: 2,
      mtuProbeFailures: 4,
      sackRecoveries: 0,
      retransmissionTimeouts: 3,
    });
    // Every segment after the last probe is at the size found: 1300 - 52 = 1248 bytes of payload.
    expect(t.conn.status().effectiveMss).toBe(1248);
    const after = sent.filter(
      (s) => s.time > found[found.length - 1]!.time && s.seq > found[found.length - 1]!.seq,
    );
    expect(Math.max(...after.map((s) => s.len))).toBe(1300);
    // Nothing larger than 1300 bytes crossed: the link dropped the probes above it, and the first window.
    expect(t.link.link.counters('a->b').dropped.mtu).toBe(11 + 2 + 4);
  });

  test("mode 'off': nothing large ever passes and the connection stays stuck", () => {
    const t = transfer({ size: 200_000, blackHole: 1300, tcp: { mtuProbing: 'off' } });
    t.net.run(20_000);
    expect(t.received()).toBe(0);
    expect(t.conn.state).toBe('ESTABLISHED');
    expect(t.client.tcp.counters.mtuBlackHoles).toBe(0);
    expect(t.client.tcp.counters.retransmissionTimeouts).toBeGreaterThanOrEqual(5);
    expect(new Set(t.sent().map((s) => s.len))).toEqual(new Set([1500]));
  });

  test("mode 'always' without SACK: starts at 1024, probe losses seen by duplicate ACKs, converges to 1399", () => {
    const t = transfer({ size: 2_000_000, blackHole: 1400, tcp: { mtuProbing: 'always', sack: false } });
    t.net.run(20_000);
    expect(t.received()).toBe(2_000_000);
    const sent = t.sent();
    // The first data segment already uses the base MSS: no timeout was needed.
    expect(sent[0]).toMatchObject({ seq: 1, len: 1076 });
    const found = probes(sent);
    // 1288 and 1394 pass; 1447, 1420 and 1406 are lost; 1399 passes; 1399..1405 is narrower than 8.
    expect(found.map((p) => p.len)).toEqual([1288, 1394, 1447, 1420, 1406, 1399]);
    for (const p of found.filter((x) => x.len > 1400)) {
      // The third duplicate ACK announced the loss; the probe's data went again in MSS-sized pieces.
      const again = sent.filter((s) => s.seq >= p.seq && s.seq < p.seq + p.len - 52 && s.time > p.time);
      expect(again.map((s) => s.len)).toEqual([1394, 40 + 12 + (p.len - 1394)]);
    }
    expect(t.client.tcp.counters).toMatchObject({
      mtuBlackHoles: 0,
      mtuProbes: 6,
      mtuProbeSuccesses: 3,
      mtuProbeFailures: 3,
      retransmissionTimeouts: 0,
    });
    expect(t.conn.status().effectiveMss).toBe(1399 - 52);
  });

  test('IPv6: the same black hole, 72 bytes of headers around each payload', () => {
    const t = transfer({ size: 2_000_000, blackHole: 1300, ipv6: true });
    t.net.run(23_000);
    expect(t.received()).toBe(2_000_000);
    const found = probes(t.sent());
    // From 1024 + 72 = 1096: 1298 passes, 1399, 1348, 1322, 1309 and 1303 are lost; 1298..1302 is narrower than 8.
    expect(found.map((p) => p.len)).toEqual([1298, 1399, 1348, 1322, 1309, 1303]);
    expect(t.client.tcp.counters).toMatchObject({
      mtuBlackHoles: 1,
      mtuProbeSuccesses: 1,
      mtuProbeFailures: 5,
    });
    expect(t.conn.status().effectiveMss).toBe(1298 - 72);
  });

  test('a converged search starts over after mtuProbeIntervalMs and finds a path that grew', () => {
    const t = transfer({
      size: 3_000_000,
      blackHole: 1300,
      rateBitsPerSecond: 4_000_000,
      tcp: { mtuProbeIntervalMs: 1000 },
    });
    t.net.run(2000);
    expect(t.conn.status().effectiveMss).toBe(1248);
    const converged = probes(t.sent());
    expect(converged[converged.length - 1]).toMatchObject({ len: 1306 });
    // The path now carries 1500 bytes; nothing tells the sender, which keeps 1300 until the interval
    // since the search converged has passed, then searches from 1300 to the interface's 1500 again.
    t.link.link.updateImpairments('a->b', { mtu: 1500 });
    t.net.run(3000);
    const later = probes(t.sent()).slice(converged.length);
    expect(later.map((p) => p.len)).toEqual([1400, 1450, 1475, 1487, 1493]);
    expect(later[0]!.time).toBeGreaterThan(converged[converged.length - 1]!.time + 1000);
    expect(t.conn.status().effectiveMss).toBe(1493 - 52);
  });

  test('settings are checked', () => {
    expect(() => resolveTcpConfig({ mtuProbing: 'sometimes' as 'off' })).toThrow(/mtuProbing must be one of/);
    expect(() => resolveTcpConfig({ baseMss: 10 })).toThrow(/baseMss must be a number >= 64/);
    expect(() => resolveTcpConfig({ mtuProbeThreshold: 0 })).toThrow(/mtuProbeThreshold/);
    expect(resolveTcpConfig({})).toMatchObject({
      mtuProbing: 'after-black-hole',
      baseMss: 1024,
      mtuProbeThreshold: 8,
      mtuProbeIntervalMs: 600_000,
    });
  });
});
