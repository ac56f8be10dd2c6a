import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LINKTYPE_LINUX_SLL, LINKTYPE_RAW, type PcapRecord, readPcap } from '../../src/pcap/pcap-reader.js';
import { type CapturedFrame, conversationFromPcap } from '../../src/viz/conversation-from-pcap.js';
import { LINKTYPE_LINUX_SLL2 } from '../../src/viz/decode-frame.js';
import { renderLadderText } from '../../src/viz/ladder-text.js';
import { packetLabel } from '../../src/viz/packet-label.js';
import { udpFrame } from './trace-script.js';

// A real capture from the Linux kernel (test/fixtures/capture-kernel.sh says what is in it).
const file = readPcap(
  new Uint8Array(readFileSync(new URL('../fixtures/kernel-basic.pcap', import.meta.url))),
);
if (!file.ok) throw new Error(file.error.message);
const records: PcapRecord[] = file.value.records;

/** The TCP exchange as Wireshark shows it (relative numbers, scaled windows). */
const KERNEL_TCP = [
  'SYN seq=0 win=64240 <mss 1460,ws 10,sackOK,ts>',
  'SYN,ACK seq=0 ack=1 win=65160 <mss 1460,ws 10,sackOK,ts>',
  'ACK seq=1 ack=1 win=64512 len=0',
  'PSH,ACK seq=1 ack=1 win=64512 len=22',
  'ACK seq=1 ack=23 win=65536 len=0',
  'FIN,ACK seq=23 ack=1 win=64512 len=0',
  'PSH,ACK seq=1 ack=24 win=65536 len=22',
  'ACK seq=24 ack=23 win=64512 len=0',
  'FIN,ACK seq=23 ack=24 win=65536 len=0',
  'ACK seq=24 ack=24 win=64512 len=0',
];

function tcpLabels(frames: Iterable<CapturedFrame>, linkType?: number): string[] {
  const c = conversationFromPcap(frames, linkType === undefined ? {} : { linkType });
  return c.packets.filter((p) => p.tcp).map((p) => packetLabel(p));
}

describe('conversationFromPcap', () => {
  const c = conversationFromPcap(records, { linkType: file.value.linkType });

  it('reads a kernel capture: hosts by address, one time per packet, counted from the first frame', () => {
    expect(c.vantage).toBe('capture');
    expect(c.hosts).toEqual(['10.77.0.1', '10.77.0.2']);
    expect(c.packets).toHaveLength(23);
    expect(c.timeOrigin).toBe(0);
    expect(c.wallClockStart).toBe(records[0]!.timestampMs);
    const syn = c.packets[10]!;
    expect(syn.sentAt).toBeCloseTo(150.753, 6);
    expect(syn.arrivedAt).toBe(syn.sentAt);
    expect(c.packets.map((p) => p.protocol).join(' ')).toBe(
      'arp arp icmp icmp ipv4 ipv4 ipv4 ipv4 ipv4 ipv4 tcp tcp tcp tcp tcp tcp tcp tcp tcp tcp udp icmp udp',
    );
  });

  it('labels the TCP exchange with the numbers Wireshark shows', () => {
    expect(c.packets.filter((p) => p.tcp).map((p) => packetLabel(p))).toEqual(KERNEL_TCP);
    expect(c.flows).toHaveLength(1);
    expect(c.flows[0]).toMatchObject({
      a: { host: '10.77.0.1', address: '10.77.0.1', port: 40000 },
      b: { host: '10.77.0.2', address: '10.77.0.2', port: 7777 },
      windowScaleA: 10,
      windowScaleB: 10,
      bytesAtoB: 22,
      bytesBtoA: 22,
      retransmissions: 0,
    });
    expect(c.packets[13]!.tcp!.preview).toBe('hello from the kernel.');
    expect(c.rttSamples.filter((r) => r.host === '10.77.0.1').map((r) => Math.round(r.rtt * 1000))).toEqual([
      38, 10, 2182,
    ]);
  });

  it('labels ARP, ICMP, fragments and UDP', () => {
    const labels = c.packets.map((p) => packetLabel(p));
    expect(labels.slice(0, 5)).toEqual([
      'ARP who-has 10.77.0.2 tell 10.77.0.1',
      'ARP 10.77.0.2 is-at 02:00:0a:4d:00:02',
      'ICMP echo request id=7497 seq=1',
      'ICMP echo reply id=7497 seq=1',
      'IPv4 fragment of icmp id=47079 off=0 MF len=1500',
    ]);
    expect(labels.slice(20)).toEqual([
      'UDP 40001 > 9 len=5',
      'ICMP port unreachable for udp 10.77.0.1:40001 > 10.77.0.2:9',
      'UDP 40002 > 7000 len=9',
    ]);
  });

  it('draws the capture as a ladder with level arrows and no arrival times', () => {
    const text = renderLadderText(c, { protocols: ['tcp'], width: 100 });
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^\s+ms\s+10\.77\.0\.1\s+10\.77\.0\.2$/);
    expect(lines[1]).toMatch(/^\s+┬\s+┬$/); // no address row: hosts are named by their address
    const syn = lines.findIndex((l) => l.includes('SYN seq=0'));
    expect(lines[syn]).toMatch(/^150\.753\s+│ SYN seq=0 win=64240/);
    expect(lines[syn + 1]).toMatch(/├─+>│$/);
    expect(text).toContain('10 packets');
  });

  it('uses host names when given', () => {
    const named = conversationFromPcap(records, {
      hostNames: { '10.77.0.1': 'client', '10.77.0.2': 'server' },
    });
    expect(named.hosts).toEqual(['client', 'server']);
    expect(named.flows[0]!.a.host).toBe('client');
    expect(named.packets[0]).toMatchObject({ from: 'client', to: 'server' });
  });

  it('keeps only the TCP hosts unless asked for everything', () => {
    const stranger = {
      name: 'x',
      ip: '10.77.0.9',
      mac: 0x02_00_00_00_00_09,
    };
    const peer = { name: 'a', ip: '10.77.0.1', mac: 0x02_00_0a_4d_00_01 };
    const extra = [
      ...records,
      { timestampMs: records[22]!.timestampMs + 1, data: udpFrame(stranger, peer, 53, 5353, 'dns') },
    ];
    expect(conversationFromPcap(extra).packets).toHaveLength(23);
    const all = conversationFromPcap(extra, { include: 'all' });
    expect(all.packets).toHaveLength(24);
    expect(all.hosts).toEqual(['10.77.0.1', '10.77.0.2', '10.77.0.9']);
  });

  it('reads raw-IP and Linux cooked (SLL, SLL2) captures alike', () => {
    const ipOnly = records.map((r) => ({
      timestampMs: r.timestampMs,
      data: r.data.subarray(14),
      etherType: (r.data[12]! << 8) | r.data[13]!,
    }));
    const raw = ipOnly.filter((r) => r.etherType === 0x0800);
    expect(tcpLabels(raw, LINKTYPE_RAW)).toEqual(KERNEL_TCP);
    const sll = ipOnly.map((r) => {
      const data = new Uint8Array(16 + r.data.length);
      data[14] = r.etherType >> 8;
      data[15] = r.etherType & 0xff;
      data.set(r.data, 16);
      return { timestampMs: r.timestampMs, data };
    });
    expect(tcpLabels(sll, LINKTYPE_LINUX_SLL)).toEqual(KERNEL_TCP);
    const sll2 = ipOnly.map((r) => {
      const data = new Uint8Array(20 + r.data.length);
      data[0] = r.etherType >> 8;
      data[1] = r.etherType & 0xff;
      data.set(r.data, 20);
      return { timestampMs: r.timestampMs, data };
    });
    expect(tcpLabels(sll2, LINKTYPE_LINUX_SLL2)).toEqual(KERNEL_TCP);
  });

  it('reads a capture cut to its headers by a short snap length', () => {
    const cut = records.map((r) => ({
      timestampMs: r.timestampMs,
      data: r.data.subarray(0, Math.min(r.data.length, 78)),
    }));
    const short = conversationFromPcap(cut);
    expect(short.packets.filter((p) => p.tcp).map((p) => packetLabel(p))).toEqual(KERNEL_TCP);
    const datagram = short.packets.find((p) => p.udp?.dstPort === 7000)!;
    expect(datagram.udp!.length).toBe(9);
  });

  it('yields an empty conversation for an empty capture', () => {
    const empty = conversationFromPcap([]);
    expect(empty.packets).toEqual([]);
    expect(empty.hosts).toEqual([]);
  });
});
