/**
 * The host side of IGMPv3 (RFC 3376 §5): which IPv4 groups this host receives, from which sources, told
 * to multicast routers and snooping switches. State changes are reported at once and repeated once (see
 * multicast-memberships.ts); queries are answered after a random delay within their Max Resp Time with
 * the current state: every group for a general query, one group for a group-specific query, the queried
 * sources this host receives for a group-and-source-specific one (§5.2).
 *
 * Reports go to 224.0.0.22 from each interface's address (0.0.0.0 while it has none, §4.2.13), TTL 1,
 * TOS 0xc0 and a Router Alert option (RFC 2113), as Linux sends them. 224.0.0.1 is never reported (§5).
 *
 * An IGMPv1 or v2 query puts the interface in that version's compatibility mode for the Older Version
 * Querier Present Timeout (§7.2.1, 260 s with the default timers): group records are then sent as the old
 * version's messages (§7.3.2, source lists ignored): a report to the group itself for a group received,
 * a v2 Leave Group to 224.0.0.2 for one left (nothing in v1).
 */

import type { IpProtocolHandler, ReceivedDatagram } from '../seams.js';
import type { TimerHandle } from '../time/clock.js';
import type { Ipv4Address } from '../wire/address.js';
import { ETHERNET_HEADER_LENGTH, ETHERTYPE_IPV4 } from '../wire/ethernet.js';
import {
  emitIgmpV2Message,
  emitIgmpV3Report,
  IGMPV1_MEMBERSHIP_REPORT,
  IGMPV2_LEAVE_GROUP,
  IGMPV2_MEMBERSHIP_REPORT,
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
/** 224.0.0.2, all routers: where IGMPv2 Leave Group messages go (RFC 2236 §3). */
const ALL_ROUTERS_GROUP = 0xe0_00_00_02;
/**
 * RFC 3376 §8.12: Older Version Querier Present Timeout = Robustness Variable (2) x Query Interval (125 s)
 * + Query Response Interval (10 s).
 */
const OLDER_VERSION_QUERIER_TIMEOUT_MS = 260_000;
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
  /** Per interface, an older querier's version heard and until when it counts (§7.2.1). */
  private readonly olderQuerier = new Map<IpInterface, { version: 1 | 2; until: number }>();
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
    if (query.version < 3) {
      // §7.2.1: v1 wins over v2 while both are present.
      const now = this.ctx.clock.now();
      const current = this.compatibilityVersion(iface);
      const version = current === 1 && query.version === 2 ? 1 : (query.version as 1 | 2);
      const until =
        version === query.version
          ? now + OLDER_VERSION_QUERIER_TIMEOUT_MS
          : this.olderQuerier.get(iface)!.until;
      this.olderQuerier.set(iface, { version, until });
    }
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

  /** The older IGMP version `iface` is held to (§7.2.1), or 3. */
  private compatibilityVersion(iface: IpInterface): 1 | 2 | 3 {
    const older = this.olderQuerier.get(iface);
    if (older === undefined) return 3;
    if (older.until > this.ctx.clock.now()) return older.version;
    this.olderQuerier.delete(iface);
    return 3;
  }

  /** Sends `records` in as many IGMPv3 reports as they need on `iface` (none for no records). */
  private sendReport(iface: IpInterface, records: readonly GroupRecord<Ipv4Address>[]): void {
    if (this.closed) return;
    const wanted = records.filter((r) => r.group !== ALL_SYSTEMS_GROUP);
    const version = this.compatibilityVersion(iface);
    if (version < 3) {
      // §7.3.2: the old version's message for each group, by whether the group is received now.
      for (const group of new Set(wanted.map((r) => r.group))) {
        if (this.memberships.isMember(group)) {
          this.sendIgmp(
            iface,
            group,
            version === 1 ? IGMPV1_MEMBERSHIP_REPORT : IGMPV2_MEMBERSHIP_REPORT,
            group,
          );
        } else if (version === 2) {
          this.sendIgmp(iface, ALL_ROUTERS_GROUP, IGMPV2_LEAVE_GROUP, group);
        }
      }
      return;
    }
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

  /** One IGMPv1/v2 message about `group` to `dst` (TTL 1, Router Alert as RFC 2236 §2 asks). */
  private sendIgmp(iface: IpInterface, dst: Ipv4Address, type: number, group: Ipv4Address): void {
    const src = iface.address;
    const header: Ipv4Header = {
      tos: IGMP_TOS,
      id: this.ip.ids.next(src, dst, IP_PROTOCOL_IGMP),
      dontFragment: false,
      moreFragments: false,
      fragmentOffset: 0,
      ttl: 1,
      protocol: IP_PROTOCOL_IGMP,
      src,
      dst,
      options: ROUTER_ALERT,
    };
    const frame = new Uint8Array(ETHERNET_HEADER_LENGTH + 24 + 8);
    const headerLength = emitIpv4Header(header, 8, frame, ETHERNET_HEADER_LENGTH);
    emitIgmpV2Message(type, group, frame, ETHERNET_HEADER_LENGTH + headerLength);
    this.ctx.counters.IpOutRequests++;
    this.ctx.counters.IpOutMcastPkts++;
    iface.port.send(frame, multicastMac(dst), ETHERTYPE_IPV4);
  }
}
