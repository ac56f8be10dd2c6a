/**
 * The host side of IGMPv3 (RFC 3376 §5): which IPv4 groups this host receives, from which sources, told
 * to multicast routers and snooping switches. State changes are reported at once and repeated once (see
 * multicast-memberships.ts); queries are answered after a random delay within their Max Resp Time with
 * the current state: every group for a general query, one group for a group-specific query, the queried
 * sources this host receives for a group-and-source-specific one (§5.2).
 *
 * Reports go to 224.0.0.22 from each interface's address (0.0.0.0 while it has none, §4.2.13), TTL 1,
 * TOS 0xc0 and a Router Alert option (RFC 2113), as Linux sends them. 224.0.0.1 is never reported (§5).
 * Queries of IGMPv1 and v2 routers are answered with v3 reports too: the older-version compatibility
 * modes of §7.2 are not kept.
 */

import type { IpProtocolHandler, ReceivedDatagram } from '../seams.js';
import type { TimerHandle } from '../time/clock.js';
import type { Ipv4Address } from '../wire/address.js';
import { ETHERNET_HEADER_LENGTH, ETHERTYPE_IPV4 } from '../wire/ethernet.js';
import {
  emitIgmpV3Report,
  IGMPV3_ALL_ROUTERS,
  IP_PROTOCOL_IGMP,
  igmpV3ReportLength,
  parseIgmp,
} from '../wire/igmp.js';
import { emitIpv4Header, type Ipv4Header } from '../wire/ipv4.js';
import type { IpInterface } from './ip-interface.js';
import type { Ipv4IdGenerator } from './ipv4-id.js';
import { multicastMac } from './ipv4-output.js';
import { type GroupRecord, MulticastMemberships } from './multicast-memberships.js';
import type { StackContext } from './stack-context.js';

/** 224.0.0.1, all-systems: every host is a member, and it is never reported (RFC 3376 §5). */
const ALL_SYSTEMS_GROUP = 0xe0_00_00_01;
/** RFC 3376 §8.11: Unsolicited Report Interval, 1 s. */
const UNSOLICITED_REPORT_INTERVAL_MS = 1000;
/** RFC 2113: Router Alert, "routers shall examine this packet". */
const ROUTER_ALERT = Uint8Array.of(0x94, 0x04, 0x00, 0x00);
/** What Linux sends IGMP with: precedence 6, internetwork control (RFC 791). */
const IGMP_TOS = 0xc0;
/** Group records per report: what fits a 1500-byte MTU without sources, with room to spare. */
const MAX_RECORDS_PER_REPORT = 64;

/** What IGMP needs of the IPv4 layer. @internal */
export interface IgmpIp {
  readonly interfaces: readonly IpInterface[];
  readonly ids: Ipv4IdGenerator;
}

export class IgmpHost implements IpProtocolHandler {
  readonly memberships: MulticastMemberships<Ipv4Address>;
  /** Per interface, the answer to a general query still due. */
  private readonly generalAnswers = new Map<IpInterface, { due: number; timer: TimerHandle }>();
  /** Per interface and group, the answer to a group(-and-source)-specific query still due (§5.2). */
  private readonly groupAnswers = new Map<
    string,
    { sources: Ipv4Address[] | undefined; timer: TimerHandle }
  >();
  private closed = false;

  constructor(
    private readonly ctx: StackContext,
    private readonly ip: IgmpIp,
  ) {
    this.memberships = new MulticastMemberships<Ipv4Address>({
      clock: ctx.clock,
      random: ctx.random,
      unsolicitedReportIntervalMs: UNSOLICITED_REPORT_INTERVAL_MS,
      send: (records) => {
        for (const iface of this.ip.interfaces) this.sendReport(iface, records);
      },
    });
  }

  /** A query (any version); v3 reports and v1/v2 messages of other hosts need nothing from a v3 host. */
  receive(datagram: ReceivedDatagram): void {
    const message = parseIgmp(datagram.packet.payload);
    if (!message.ok) {
      this.ctx.drop('igmp', message.error.kind);
      return;
    }
    const query = message.value;
    if (query.kind !== 'query' || this.closed) return;
    const iface = datagram.interface;
    const delay = this.ctx.random.int(Math.max(1, query.maxResponseMs));
    const due = this.ctx.clock.now() + delay;
    if (query.group === 0) {
      // §5.2 rule 1: a general answer already due sooner stands.
      const pending = this.generalAnswers.get(iface);
      if (pending !== undefined && pending.due <= due) return;
      pending?.timer.cancel();
      const timer = this.ctx.clock.setTimer(delay, () => {
        this.generalAnswers.delete(iface);
        const records = this.memberships
          .joined()
          .filter((g) => g !== ALL_SYSTEMS_GROUP)
          .map((g) => this.memberships.currentState(g)!);
        this.sendReport(iface, records);
      });
      this.generalAnswers.set(iface, { due, timer });
      return;
    }
    if (!this.memberships.isMember(query.group)) return;
    const general = this.generalAnswers.get(iface);
    if (general !== undefined && general.due <= due) return;
    const key = `${iface.name} ${query.group}`;
    const pending = this.groupAnswers.get(key);
    // §5.2 rules 3-5: a group answer already due merges with this one (no sources: the whole group).
    const sources =
      pending === undefined
        ? query.sources.length > 0
          ? query.sources
          : undefined
        : pending.sources === undefined || query.sources.length === 0
          ? undefined
          : [...new Set([...pending.sources, ...query.sources])];
    pending?.timer.cancel();
    const group = query.group;
    const timer = this.ctx.clock.setTimer(delay, () => {
      this.groupAnswers.delete(key);
      const record = this.memberships.currentState(group, sources);
      if (record !== undefined) this.sendReport(iface, [record]);
    });
    this.groupAnswers.set(key, { sources, timer });
  }

  close(): void {
    this.closed = true;
    this.memberships.close();
    for (const answer of this.generalAnswers.values()) answer.timer.cancel();
    for (const answer of this.groupAnswers.values()) answer.timer.cancel();
    this.generalAnswers.clear();
    this.groupAnswers.clear();
  }

  /** Sends `records` in as many IGMPv3 reports as they need on `iface` (none for no records). */
  private sendReport(iface: IpInterface, records: readonly GroupRecord<Ipv4Address>[]): void {
    if (this.closed) return;
    const wanted = records.filter((r) => r.group !== ALL_SYSTEMS_GROUP);
    for (let at = 0; at < wanted.length; at += MAX_RECORDS_PER_REPORT) {
      const chunk = wanted.slice(at, at + MAX_RECORDS_PER_REPORT);
      const length = igmpV3ReportLength(chunk);
      const src = iface.address;
      const header: Ipv4Header = {
        tos: IGMP_TOS,
        id: this.ip.ids.next(src, IGMPV3_ALL_ROUTERS, IP_PROTOCOL_IGMP),
        dontFragment: true,
        moreFragments: false,
        fragmentOffset: 0,
        ttl: 1,
        protocol: IP_PROTOCOL_IGMP,
        src,
        dst: IGMPV3_ALL_ROUTERS,
        options: ROUTER_ALERT,
      };
      const frame = new Uint8Array(ETHERNET_HEADER_LENGTH + 24 + length);
      const headerLength = emitIpv4Header(header, length, frame, ETHERNET_HEADER_LENGTH);
      emitIgmpV3Report(chunk, frame, ETHERNET_HEADER_LENGTH + headerLength);
      this.ctx.counters.IpOutRequests++;
      this.ctx.counters.IpOutMcastPkts++;
      iface.port.send(frame, multicastMac(IGMPV3_ALL_ROUTERS), ETHERTYPE_IPV4);
    }
  }
}
