/**
 * IGMPv3 on the host side (RFC 3376), on a simulated link with virtual time: the state change reports a
 * join, a source-specific join and their undoing put on the wire (byte for byte for the first), each
 * repeated once within the Unsolicited Report Interval with changes merged; queries of every kind
 * answered within their Max Resp Time; and the source filter applied to received group datagrams.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { SimulatedNetwork } from '../../src/sim/network.js';
import type { Stack } from '../../src/stack.js';
import { parseIpv4 as ip4, ipv4ToString } from '../../src/wire/address.js';
import { ETHERTYPE_IPV4, emitEthernetHeader, parseEthernet } from '../../src/wire/ethernet.js';
import { emitIgmpQuery, type IgmpQuery, IP_PROTOCOL_IGMP, parseIgmp } from '../../src/wire/igmp.js';
import { emitIpv4Header, parseIpv4 } from '../../src/wire/ipv4.js';
import { analyzePcapBytes, tsharkFields, tsharkSkipReason } from '../helpers/tshark.js';

function pair() {
  const net = new SimulatedNetwork({ seed: 11, trace: true });
  const a = net.host('a', '10.0.0.1/24');
  const b = net.host('b', '10.0.0.2/24');
  const link = net.link(a, b, { delayMs: 1 });
  net.run(10);
  return { net, a, b, link };
}

interface SeenReport {
  time: number;
  /** The IPv4 datagram, header included. */
  bytes: Uint8Array;
  records: Array<[number, string, string[]]>;
}

/** Every IGMPv3 report `from` put on the link since `since`. */
function reports(net: SimulatedNetwork, from: string, since = 0): SeenReport[] {
  const out: SeenReport[] = [];
  for (const { time, bytes } of igmpDatagrams(net, from, since)) {
    const ip = parseIpv4(bytes);
    if (!ip.ok) throw new Error(ip.error.message);
    const igmp = parseIgmp(ip.value.payload);
    if (!igmp.ok) throw new Error(`bad IGMP on the wire: ${igmp.error.message}`);
    if (igmp.value.kind !== 'v3-report') continue;
    out.push({
      time,
      bytes,
      records: igmp.value.records.map((r) => [
        r.recordType,
        ipv4ToString(r.group),
        r.sources.map((s) => ipv4ToString(s)),
      ]),
    });
  }
  return out;
}

/** Every IGMP message `from` sent since `since`, as [type, IP destination, group]. */
function igmpSent(net: SimulatedNetwork, from: string, since: number): Array<[number, string, string]> {
  return igmpDatagrams(net, from, since).map(({ bytes }) => {
    const packet = parseIpv4(bytes);
    if (!packet.ok) throw new Error(packet.error.message);
    const igmp = packet.value.payload;
    return [igmp[0]!, ipv4ToString(packet.value.dst), ipv4ToString(readGroup(igmp))];
  });
}

function readGroup(igmp: Uint8Array): number {
  return ((igmp[4]! << 24) | (igmp[5]! << 16) | (igmp[6]! << 8) | igmp[7]!) >>> 0;
}

/** The IPv4 datagrams carrying IGMP that `from` sent since `since`, with when. */
function igmpDatagrams(
  net: SimulatedNetwork,
  from: string,
  since: number,
): Array<{ time: number; bytes: Uint8Array }> {
  const out: Array<{ time: number; bytes: Uint8Array }> = [];
  for (const e of net.trace.events) {
    if (e.kind !== 'link.sent' || e.from !== from || e.time < since) continue;
    const eth = parseEthernet(e.frame);
    if (!eth.ok || eth.value.etherType !== ETHERTYPE_IPV4) continue;
    const ip = parseIpv4(eth.value.payload);
    if (ip.ok && ip.value.protocol === IP_PROTOCOL_IGMP)
      out.push({ time: e.time, bytes: eth.value.payload.slice(0, ip.value.totalLength) });
  }
  return out;
}

function ipOfFirstIgmp(net: SimulatedNetwork, from: string, since: number): Uint8Array {
  return igmpDatagrams(net, from, since)[0]!.bytes;
}

/** Hands `host`'s interface an IGMP message from a router 10.0.0.254 to `dst`, as if from the wire. */
function fromRouter(host: Stack, igmp: Uint8Array, dst = '224.0.0.1'): void {
  const frame = new Uint8Array(14 + 24 + igmp.length);
  const to = ip4(dst)!;
  emitEthernetHeader(
    { dst: 0x01005e000000 + (to & 0x7fffff), src: 0x0200000000fe, etherType: ETHERTYPE_IPV4 },
    frame,
    0,
  );
  const header = {
    tos: 0xc0,
    id: 1,
    dontFragment: false,
    moreFragments: false,
    fragmentOffset: 0,
    ttl: 1,
    protocol: IP_PROTOCOL_IGMP,
    src: ip4('10.0.0.254')!,
    dst: to,
    options: Uint8Array.of(0x94, 4, 0, 0),
  };
  emitIpv4Header(header, igmp.length, frame, 14);
  frame.set(igmp, 38);
  host.interfaces[0]!.port.receive(frame);
}

/** A query (see emitIgmpQuery) from the router to `dst`. */
function query(host: Stack, q: Omit<IgmpQuery, 'kind'>, dst = '224.0.0.1'): void {
  const igmp = new Uint8Array(12 + q.sources.length * 4);
  const length = emitIgmpQuery(q, igmp, 0);
  fromRouter(host, igmp.subarray(0, length), dst);
}

const ALLOW = 5;
const BLOCK = 6;
const TO_IN = 3;
const TO_EX = 4;
const IS_IN = 1;
const IS_EX = 2;

describe('IGMPv3 state change reports (RFC 3376 §5.1)', () => {
  test('a join is reported to 224.0.0.22 as CHANGE_TO_EXCLUDE {}, byte for byte, and once more within 1 s', () => {
    const { net, a } = pair();
    const start = net.clock.now();
    a.joinMulticastGroup('239.1.2.3');
    net.run(1100);
    const seen = reports(net, 'a-eth0', start);
    expect(seen.map((r) => r.records)).toEqual([[[TO_EX, '239.1.2.3', []]], [[TO_EX, '239.1.2.3', []]]]);
    expect(seen[0]!.time).toBe(start);
    expect(seen[1]!.time - start).toBeLessThanOrEqual(1000);
    const ip = seen[0]!.bytes;
    // IPv4: header of 24 bytes (Router Alert), TOS 0xc0, total 40, DF, TTL 1, protocol 2,
    // 10.0.0.1 -> 224.0.0.22, option 94 04 00 00 (RFC 2113).
    expect([...ip.subarray(0, 4)]).toEqual([0x46, 0xc0, 0, 40]);
    expect([...ip.subarray(6, 10)]).toEqual([0x40, 0, 1, 2]);
    expect([...ip.subarray(12, 24)]).toEqual([10, 0, 0, 1, 224, 0, 0, 22, 0x94, 4, 0, 0]);
    // IGMP: type 0x22, checksum 0xe8f9 (worked by hand), 1 record: type 4, no aux data, no sources,
    // group 239.1.2.3 (RFC 3376 §4.2).
    expect([...ip.subarray(24)]).toEqual([0x22, 0, 0xe8, 0xf9, 0, 0, 0, 1, 4, 0, 0, 0, 239, 1, 2, 3]);
  });

  test('source-specific joins are ALLOW/BLOCK records with their sources; mode changes are TO_EX/TO_IN', () => {
    const { net, a } = pair();
    const steps: Array<[() => void, Array<[number, string, string[]]>]> = [
      [() => a.addMulticastSource('232.1.1.1', '10.0.0.9'), [[ALLOW, '232.1.1.1', ['10.0.0.9']]]],
      [() => a.addMulticastSource('232.1.1.1', '10.0.0.10'), [[ALLOW, '232.1.1.1', ['10.0.0.10']]]],
      [() => a.joinMulticastGroup('232.1.1.1'), [[TO_EX, '232.1.1.1', []]]],
      [() => a.leaveMulticastGroup('232.1.1.1'), [[TO_IN, '232.1.1.1', ['10.0.0.9', '10.0.0.10']]]],
      [() => a.dropMulticastSource('232.1.1.1', '10.0.0.9'), [[BLOCK, '232.1.1.1', ['10.0.0.9']]]],
      [() => a.dropMulticastSource('232.1.1.1', '10.0.0.10'), [[BLOCK, '232.1.1.1', ['10.0.0.10']]]],
    ];
    for (const [change, records] of steps) {
      const start = net.clock.now();
      change();
      net.run(1100);
      // The report, then its repeat (nothing changed in between).
      expect(reports(net, 'a-eth0', start).map((r) => r.records)).toEqual([records, records]);
    }
    // A second socket's hold on a source changes nothing on the wire.
    const start = net.clock.now();
    a.addMulticastSource('232.1.1.1', '10.0.0.9');
    a.addMulticastSource('232.1.1.1', '10.0.0.9');
    a.dropMulticastSource('232.1.1.1', '10.0.0.9');
    net.run(1100);
    expect(reports(net, 'a-eth0', start).map((r) => r.records)).toEqual([
      [[ALLOW, '232.1.1.1', ['10.0.0.9']]],
      [[ALLOW, '232.1.1.1', ['10.0.0.9']]],
    ]);
  });

  test('changes before the repeat share it; a change undone before its repeat is repeated as the whole state', () => {
    const { net, a } = pair();
    let start = net.clock.now();
    a.addMulticastSource('232.1.1.1', '10.0.0.9');
    a.addMulticastSource('232.1.1.1', '10.0.0.10');
    net.run(1100);
    expect(reports(net, 'a-eth0', start).map((r) => r.records)).toEqual([
      [[ALLOW, '232.1.1.1', ['10.0.0.9']]],
      [[ALLOW, '232.1.1.1', ['10.0.0.10']]],
      [[ALLOW, '232.1.1.1', ['10.0.0.9', '10.0.0.10']]],
    ]);
    start = net.clock.now();
    a.joinMulticastGroup('239.9.9.9');
    a.leaveMulticastGroup('239.9.9.9');
    net.run(1100);
    expect(reports(net, 'a-eth0', start).map((r) => r.records)).toEqual([
      [[TO_EX, '239.9.9.9', []]],
      [[TO_IN, '239.9.9.9', []]],
      [[TO_IN, '239.9.9.9', []]],
    ]);
    // A source allowed and blocked again: the repeat blocks it (routers may have heard the ALLOW).
    start = net.clock.now();
    a.addMulticastSource('232.1.1.1', '10.0.0.11');
    a.dropMulticastSource('232.1.1.1', '10.0.0.11');
    net.run(1100);
    expect(reports(net, 'a-eth0', start).map((r) => r.records)).toEqual([
      [[ALLOW, '232.1.1.1', ['10.0.0.11']]],
      [[BLOCK, '232.1.1.1', ['10.0.0.11']]],
      [[BLOCK, '232.1.1.1', ['10.0.0.11']]],
    ]);
  });

  test('224.0.0.1 is never reported and cannot be left', () => {
    const { net, a } = pair();
    const start = net.clock.now();
    a.joinMulticastGroup('224.0.0.1');
    a.leaveMulticastGroup('224.0.0.1');
    a.leaveMulticastGroup('224.0.0.1');
    net.run(1100);
    expect(reports(net, 'a-eth0', start)).toEqual([]);
    expect(a.ip.isMember(ip4('224.0.0.1')!)).toBe(true);
  });
});

describe('IGMP queries (RFC 3376 §5.2)', () => {
  test('a general query is answered within its Max Resp Time with the current state of every group', () => {
    const { net, a } = pair();
    a.joinMulticastGroup('239.1.2.3');
    a.addMulticastSource('232.1.1.1', '10.0.0.9');
    net.run(1100);
    const start = net.clock.now();
    query(a, { version: 3, maxResponseMs: 2000, group: 0, sources: [] });
    net.run(2100);
    const seen = reports(net, 'a-eth0', start);
    expect(seen.map((r) => r.records)).toEqual([
      [
        [IS_EX, '239.1.2.3', []],
        [IS_IN, '232.1.1.1', ['10.0.0.9']],
      ],
    ]);
    expect(seen[0]!.time - start).toBeLessThan(2000);
  });

  test('a group-specific query gets that group; a group-and-source one the queried sources received', () => {
    const { net, a } = pair();
    a.addMulticastSource('232.1.1.1', '10.0.0.9');
    a.joinMulticastGroup('239.1.2.3');
    net.run(1100);
    let start = net.clock.now();
    query(a, { version: 3, maxResponseMs: 1000, group: ip4('239.1.2.3')!, sources: [] }, '239.1.2.3');
    net.run(1100);
    expect(reports(net, 'a-eth0', start).map((r) => r.records)).toEqual([[[IS_EX, '239.1.2.3', []]]]);
    start = net.clock.now();
    query(
      a,
      {
        version: 3,
        maxResponseMs: 1000,
        group: ip4('232.1.1.1')!,
        sources: [ip4('10.0.0.7')!, ip4('10.0.0.9')!],
      },
      '232.1.1.1',
    );
    net.run(1100);
    expect(reports(net, 'a-eth0', start).map((r) => r.records)).toEqual([
      [[IS_IN, '232.1.1.1', ['10.0.0.9']]],
    ]);
    // A group this host does not receive: no answer.
    start = net.clock.now();
    query(a, { version: 3, maxResponseMs: 1000, group: ip4('239.7.7.7')!, sources: [] }, '239.7.7.7');
    net.run(1100);
    expect(reports(net, 'a-eth0', start)).toEqual([]);
  });

  test('after an IGMPv2 query the host speaks IGMPv2 for 260 s (RFC 3376 §7): reports to the group, leaves to 224.0.0.2', () => {
    const { net, a } = pair();
    a.joinMulticastGroup('239.1.2.3');
    net.run(1100);
    let start = net.clock.now();
    query(a, { version: 2, maxResponseMs: 1000, group: 0, sources: [] });
    net.run(1100);
    // [IGMP type, IP destination, group]: a v2 Membership Report sent to the group itself.
    expect(igmpSent(net, 'a-eth0', start)).toEqual([[0x16, '239.1.2.3', '239.1.2.3']]);
    start = net.clock.now();
    a.addMulticastSource('232.1.1.1', '10.0.0.9'); // source lists are not spoken in v2: a join
    a.leaveMulticastGroup('239.1.2.3');
    net.run(1100);
    expect(igmpSent(net, 'a-eth0', start)).toEqual([
      [0x16, '232.1.1.1', '232.1.1.1'],
      [0x17, '224.0.0.2', '239.1.2.3'],
      [0x16, '232.1.1.1', '232.1.1.1'],
      [0x17, '224.0.0.2', '239.1.2.3'],
    ]);
    const ip = ipOfFirstIgmp(net, 'a-eth0', start);
    // 24-byte header with Router Alert, TTL 1; IGMP 16 00 <checksum> e8 01 01 01 (by hand: ~(0x1600 + 0xe801 + 0x0101) = 0x00fd).
    expect([...ip.subarray(8, 10)]).toEqual([1, 2]);
    expect([...ip.subarray(20, 32)]).toEqual([0x94, 4, 0, 0, 0x16, 0, 0x00, 0xfd, 232, 1, 1, 1]);
    // The older querier's presence times out: version 3 again.
    net.run(260_000);
    start = net.clock.now();
    a.joinMulticastGroup('239.5.5.5');
    net.run(1100);
    expect(reports(net, 'a-eth0', start).map((r) => r.records)).toEqual([
      [[TO_EX, '239.5.5.5', []]],
      [[TO_EX, '239.5.5.5', []]],
    ]);
  });

  test('a corrupted query is counted and dropped', () => {
    const { a } = pair();
    fromRouter(a, Uint8Array.of(0x11, 10, 0xde, 0xad, 0, 0, 0, 0));
    expect(a.counters.dropCount('igmp', 'bad-checksum')).toBe(1);
  });
});

describe('source filtering of received group datagrams (RFC 3376 §3.2)', () => {
  test('a source-specific join receives its sources only; a join for every source lifts the filter', () => {
    const { net, a, b } = pair();
    const heard: string[] = [];
    a.udp.bind(
      { port: 5000 },
      { message: (payload, info) => heard.push(`${Buffer.from(payload)} ${info.address}`) },
    );
    const sender = b.udp.bind({ port: 0 });
    const send = (text: string) => sender.send(new TextEncoder().encode(text), 5000, '232.1.1.1');
    a.addMulticastSource('232.1.1.1', '10.0.0.9');
    send('filtered');
    net.run(10);
    expect(heard).toEqual([]);
    expect(a.counters.dropCount('ipv4', 'multicast-source-filtered')).toBe(1);
    a.addMulticastSource('232.1.1.1', '10.0.0.2');
    send('allowed');
    net.run(10);
    a.dropMulticastSource('232.1.1.1', '10.0.0.2');
    a.joinMulticastGroup('232.1.1.1');
    send('any-source');
    net.run(10);
    expect(heard).toEqual([`allowed ${ip4('10.0.0.2')}`, `any-source ${ip4('10.0.0.2')}`]);
  });
});

const tsharkMissing = tsharkSkipReason();
if (tsharkMissing) console.warn(`skipping the tshark check of IGMP/MLD reports: ${tsharkMissing}`);

describe.skipIf(tsharkMissing !== undefined)('Wireshark reads the reports', () => {
  test('IGMPv3 and MLDv2 reports of a dual-stack host decode without errors, records and sources as sent', () => {
    const net = new SimulatedNetwork({ seed: 12 });
    const a = net.host('a', '10.0.0.1/24');
    const b = net.host('b', '10.0.0.2/24');
    const link = net.link(a, b, { delayMs: 1 });
    a.addIpv6Interface(link.link.a, { addresses: ['fd00::1/64'] });
    const capture = net.capture(link);
    net.run(3000);
    a.joinMulticastGroup('239.1.2.3');
    a.addMulticastSource('232.1.1.1', '10.0.0.9');
    a.addMulticastSource('ff3e::8000:1', 'fd00::9');
    a.dropMulticastSource('232.1.1.1', '10.0.0.9');
    net.run(1100);
    const bytes = capture.bytes();
    const report = analyzePcapBytes(bytes);
    expect(report.malformed).toBe(0);
    expect(report.badChecksums).toBe(0);
    expect(report.messages.filter((m) => m.includes('[error]'))).toEqual([]);
    const directory = mkdtempSync(join(tmpdir(), 'tcpts-igmp-'));
    try {
      const path = join(directory, 'reports.pcap');
      writeFileSync(path, bytes);
      const igmp = tsharkFields(path, 'igmp', ['igmp.type', 'igmp.record_type', 'igmp.maddr', 'igmp.saddr']);
      // Each change, then its repeat (the two changes of 232.1.1.1 share one, a BLOCK of the source).
      expect(igmp.slice(0, 3)).toEqual([
        ['0x22', '4', '239.1.2.3', ''],
        ['0x22', '5', '232.1.1.1', '10.0.0.9'],
        ['0x22', '6', '232.1.1.1', '10.0.0.9'],
      ]);
      expect(igmp.slice(3).sort()).toEqual([
        ['0x22', '4', '239.1.2.3', ''],
        ['0x22', '6', '232.1.1.1', '10.0.0.9'],
      ]);
      const mld = tsharkFields(path, 'icmpv6.type == 143 && icmpv6.mldr.mar.record_type == 5', [
        'icmpv6.mldr.mar.multicast_address',
        'icmpv6.mldr.mar.source_address',
      ]);
      expect(mld).toEqual([
        ['ff3e::8000:1', 'fd00::9'],
        ['ff3e::8000:1', 'fd00::9'],
      ]);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
