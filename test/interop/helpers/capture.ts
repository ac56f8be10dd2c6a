/** Reading a pcap file the tcpts command wrote: its Ethernet frames, and the TCP segments and ICMP in them. */
import { readFileSync } from 'node:fs';
import { readPcap } from '../../../src/pcap/pcap-reader.js';
import { ipv4ToString, type MacAddress, readMac } from '../../../src/wire/address.js';
import { ETHERTYPE_IPV4, parseEthernet } from '../../../src/wire/ethernet.js';
import { type IcmpMessage, parseIcmp } from '../../../src/wire/icmp.js';
import { IP_PROTOCOL_ICMP, IP_PROTOCOL_TCP, parseIpv4 } from '../../../src/wire/ipv4.js';
import { parseTcp, type TcpSegment } from '../../../src/wire/tcp.js';

export interface CapturedFrame {
  srcMac: MacAddress;
  dstMac: MacAddress;
  etherType: number;
  /** Dotted-quad addresses, for IPv4 frames. */
  src?: string;
  dst?: string;
  tcp?: TcpSegment;
  icmp?: IcmpMessage;
}

export function readCapture(path: string): CapturedFrame[] {
  const file = readPcap(readFileSync(path));
  if (!file.ok) throw new Error(`${path}: ${file.error.message}`);
  return file.value.records.map((record) => {
    const ethernet = parseEthernet(record.data);
    if (!ethernet.ok) throw new Error(`${path}: ${ethernet.error.message}`);
    const frame: CapturedFrame = {
      srcMac: readMac(record.data, 6),
      dstMac: readMac(record.data, 0),
      etherType: ethernet.value.etherType,
    };
    if (frame.etherType !== ETHERTYPE_IPV4) return frame;
    const ip = parseIpv4(ethernet.value.payload);
    if (!ip.ok) throw new Error(`${path}: ${ip.error.message}`);
    frame.src = ipv4ToString(ip.value.src);
    frame.dst = ipv4ToString(ip.value.dst);
    if (ip.value.protocol === IP_PROTOCOL_TCP) {
      const tcp = parseTcp(ip.value.payload, ip.value.src, ip.value.dst);
      if (!tcp.ok) throw new Error(`${path}: ${tcp.error.message}`);
      frame.tcp = tcp.value;
    } else if (ip.value.protocol === IP_PROTOCOL_ICMP) {
      const icmp = parseIcmp(ip.value.payload);
      if (!icmp.ok) throw new Error(`${path}: ${icmp.error.message}`);
      frame.icmp = icmp.value;
    }
    return frame;
  });
}
