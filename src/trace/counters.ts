/**
 * Per-stack counters named like Linux `nstat` (the SNMP MIB names of RFC 4293 / RFC 4022 / RFC 4113 plus
 * the Linux extensions), so a reader who knows `nstat -az` can read ours. The TCP layer keeps its own
 * connection counters; the two TCP counters here count segments refused before TCP sees them.
 *
 * Counters are plain numeric fields: a hot path increments `counters.IpInReceives++` without a lookup.
 * Drop reasons are counted separately under `layer:reason` keys, the same pair a 'drop' trace event
 * carries, so a test can ask exactly why a packet vanished.
 */

export class StackCounters {
  // --- Ethernet (per stack, all interfaces) ---
  /** Frames handed to the stack by its devices. */
  EthernetInFrames = 0;
  /** Frames sent to devices. */
  EthernetOutFrames = 0;
  /** Frames too short or otherwise malformed. */
  EthernetInErrors = 0;
  /** Frames with an EtherType the stack does not speak. */
  EthernetInUnknownProtos = 0;
  /** Unicast frames addressed to another station's MAC (flooded by a switch, or a promiscuous device). */
  EthernetInOtherHost = 0;

  // --- ARP (RFC 826) ---
  ArpInRequests = 0;
  ArpInReplies = 0;
  ArpOutRequests = 0;
  ArpOutReplies = 0;
  /** Malformed ARP packets, or ARP for other hardware/protocol types. */
  ArpInErrors = 0;
  /** ARP packets claiming one of our own addresses from another MAC. */
  ArpAddressConflicts = 0;
  /** Gratuitous ARP announcements sent when an address was added (RFC 5227 §2.3). */
  ArpOutAnnouncements = 0;

  // --- Neighbour cache (any resolving protocol; src/ip/neighbour-cache.ts) ---
  /** Resolutions (or unicast probes of a STALE entry) that gave up after every retry. */
  NeighbourResolutionFailures = 0;
  /** Packets dropped from, or refused by, the queue of packets waiting for a resolution. */
  NeighbourQueueDrops = 0;
  /**
   * A new entry found the cache at `maxEntries` (Linux gc_thresh3): STALE entries were evicted, then the
   * least recently confirmed; when only INCOMPLETE and STATIC ones were left, the new one was refused.
   */
  NeighbourTableFull = 0;
  /**
   * Packets that claimed a new MAC for a neighbour whose entry is REACHABLE, DELAY or PROBE: refused
   * (an unsolicited or forged reply cannot redirect a flowing conversation). See NeighbourCache.
   */
  NeighbourUpdatesRefused = 0;

  // --- IPv4 (RFC 4293 ipSystemStats, Linux IpExt) ---
  IpInReceives = 0;
  IpInHdrErrors = 0;
  IpInAddrErrors = 0;
  IpForwDatagrams = 0;
  IpInUnknownProtos = 0;
  IpInDiscards = 0;
  IpInDelivers = 0;
  IpOutRequests = 0;
  IpOutDiscards = 0;
  IpOutNoRoutes = 0;
  IpReasmTimeout = 0;
  IpReasmReqds = 0;
  IpReasmOKs = 0;
  IpReasmFails = 0;
  /** Datagrams discarded because two fragments overlapped (Linux ReasmOverlaps). */
  IpReasmOverlaps = 0;
  /** Fragments copied out of a received buffer they used less than half of (reassembly charges what it holds). */
  IpReasmCopies = 0;
  IpFragOKs = 0;
  IpFragFails = 0;
  IpFragCreates = 0;
  IpInTruncatedPkts = 0;
  IpInBcastPkts = 0;
  /**
   * "Fragmentation needed" reports (already matched to one of our flows) whose MTU was below the path
   * MTU floor (`pathMtu.minimumMtu`, 552 as Linux's min_pmtu) and was raised to it.
   */
  PathMtuFloorClamps = 0;
  IpInMcastPkts = 0;
  IpOutBcastPkts = 0;
  IpOutMcastPkts = 0;

  // --- ICMP (RFC 4293 icmpStats / icmpMsgStats) ---
  IcmpInMsgs = 0;
  IcmpInErrors = 0;
  IcmpInCsumErrors = 0;
  IcmpInDestUnreachs = 0;
  IcmpInTimeExcds = 0;
  IcmpInParmProbs = 0;
  IcmpInEchos = 0;
  IcmpInEchoReps = 0;
  IcmpOutMsgs = 0;
  IcmpOutErrors = 0;
  IcmpOutDestUnreachs = 0;
  IcmpOutTimeExcds = 0;
  IcmpOutEchos = 0;
  IcmpOutEchoReps = 0;
  /** ICMP errors not sent because the rate limiter had no token (Linux IcmpOutRateLimitGlobal). */
  IcmpOutRateLimited = 0;

  // --- UDP (RFC 4113) ---
  UdpInDatagrams = 0;
  UdpNoPorts = 0;
  UdpInErrors = 0;
  UdpInCsumErrors = 0;
  UdpOutDatagrams = 0;
  UdpSndbufErrors = 0;
  /**
   * Multicast memberships a socket was refused at its bound (ENOBUFS/ENOMEM: groups per socket, sources
   * per group; see docs/limits.md). Linux counts none; the caller sees the error.
   */
  MulticastMembershipLimits = 0;

  // --- TCP: segments refused before they reach the TCP layer (its own counters cover the rest) ---
  /** TCP segments dropped as malformed (RFC 4022 tcpInErrs): truncated, bad data offset, bad checksum. */
  TcpInErrs = 0;
  TcpInCsumErrors = 0;
  /** Segments with an illegal option length, processed without the options from that one on (MUST-7). */
  TcpInBadOptions = 0;

  /** Drops by `layer:reason`, the same pair a 'drop' trace event carries. */
  readonly drops = new Map<string, number>();

  /** Counts one drop under `layer:reason`. */
  countDrop(layer: string, reason: string): void {
    const key = `${layer}:${reason}`;
    this.drops.set(key, (this.drops.get(key) ?? 0) + 1);
  }

  /** How many drops were counted for `layer:reason` (0 when none). */
  dropCount(layer: string, reason: string): number {
    return this.drops.get(`${layer}:${reason}`) ?? 0;
  }

  /**
   * Every named counter with its value, like `nstat -az`, plus one `Drop:layer:reason` entry per drop
   * reason seen. A plain object, safe to keep and compare.
   */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [key, value] of Object.entries(this)) {
      if (typeof value === 'number') out[key] = value;
    }
    for (const [key, value] of this.drops) out[`Drop:${key}`] = value;
    return out;
  }

  /** Only the counters that are not zero: what `nstat` prints by default. */
  nonZero(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [key, value] of Object.entries(this.snapshot())) {
      if (value !== 0) out[key] = value;
    }
    return out;
  }
}

/** Names of the numeric counters, for code that reads them generically. */
export type CounterName = {
  [K in keyof StackCounters]: StackCounters[K] extends number ? K : never;
}[keyof StackCounters];
