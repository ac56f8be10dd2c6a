/** Frames on a simulated link summarised one per line, as tcpdump would. */
import type { TraceEvent } from '../../src/trace/events.js';
import { ipv4ToString, macToString } from '../../src/wire/address.js';
import { parseArp } from '../../src/wire/arp.js';
import { parseEthernet } from '../../src/wire/ethernet.js';
import { parseIcmp } from '../../src/wire/icmp.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';

/** One line per frame entering `link`: time, sender, and what the frame is, as tcpdump would summarise it. */
export function describeFrames(events: readonly TraceEvent[], link: string): string[] {
  return events.flatMap((e) => {
    if (e.kind !== 'link.sent' || e.link !== link) return [];
    const eth = parseEthernet(e.frame);
    if (!eth.ok) return [`${e.time} ${e.from} ?`];
    const { dst, payload } = eth.value;
    if (eth.value.etherType === 0x0806) {
      const arp = parseArp(payload);
      if (!arp.ok) return [`${e.time} ${e.from} bad arp`];
      const p = arp.value;
      return [
        p.operation === 1
          ? `${e.time} ${e.from} ARP who-has ${ipv4ToString(p.targetIp)} tell ${ipv4ToString(p.senderIp)} to ${macToString(dst)}`
          : `${e.time} ${e.from} ARP ${ipv4ToString(p.senderIp)} is-at ${macToString(p.senderMac)} to ${macToString(dst)}`,
      ];
    }
    const ip = parseIpv4(payload);
    if (!ip.ok) return [`${e.time} ${e.from} bad ip`];
    const p = ip.value;
    const frag =
      p.moreFragments || p.fragmentOffset > 0 ? ` frag ${p.fragmentOffset}${p.moreFragments ? '+' : ''}` : '';
    const head = `${e.time} ${e.from} IP ${ipv4ToString(p.src)} > ${ipv4ToString(p.dst)} ttl ${p.ttl} len ${p.totalLength}${frag}`;
    if (p.protocol !== 1 || p.fragmentOffset > 0) return [head];
    const icmp = parseIcmp(p.payload, { verifyChecksum: !p.moreFragments });
    if (!icmp.ok) return [`${head} ICMP`];
    const m = icmp.value;
    switch (m.kind) {
      case 'echo-request':
      case 'echo-reply':
        return [`${head} ICMP ${m.kind} seq ${m.sequence}`];
      case 'destination-unreachable':
      case 'time-exceeded':
        return [`${head} ICMP ${m.kind} code ${m.code}`];
      default:
        return [`${head} ICMP type ${m.type} code ${m.code}`];
    }
  });
}
