import type { Clock } from '../time/clock.js';
import type { Ipv4Address } from '../wire/address.js';

/** RFC 791: every host must accept 576-byte datagrams, and every link carries at least 68. */
export const MINIMUM_IPV4_MTU = 68;
/**
 * The lowest path MTU an ICMP report may set (Linux's `min_pmtu`, 552): lower claims are raised to it, so
 * that no report, forged or real, can shrink TCP to tiny segments (RFC 5927 §7.2 discusses the attack).
 */
export const DEFAULT_PATH_MTU_FLOOR = 552;

export interface PathMtuOptions {
  /** How long a lowered path MTU is kept before the interface MTU is tried again (RFC 1191 §6.3). Default 10 min. */
  expiryMs?: number;
  /**
   * Lower bound for a learned path MTU (`pathMtu.minimumMtu`); smaller claims are raised to it and
   * counted (PathMtuFloorClamps). Default 552, Linux's `net.ipv4.route.min_pmtu`; at least 68 (RFC 791).
   */
  minimumMtu?: number;
}

/**
 * Path MTUs learned from ICMP "fragmentation needed" (RFC 1191), once a transport has checked the report
 * against its own state (RFC 5927 §4.1). An entry only ever lowers the MTU toward a destination, never
 * below `minimumMtu`; it is forgotten after `expiryMs` so that a path that grew is discovered again.
 */
export class PathMtuCache {
  private readonly entries = new Map<Ipv4Address, { mtu: number; expiresAt: number }>();
  private readonly expiryMs: number;
  readonly minimumMtu: number;
  /** Counts the MTUs learned and the clearings (Ipv4Path holds a path only while no MTU is learned for it). */
  generation = 0;

  constructor(
    private readonly clock: Clock,
    options: PathMtuOptions = {},
  ) {
    this.expiryMs = options.expiryMs ?? 10 * 60_000;
    this.minimumMtu = Math.max(MINIMUM_IPV4_MTU, options.minimumMtu ?? DEFAULT_PATH_MTU_FLOOR);
  }

  /** The learned MTU toward `destination`, or undefined when nothing (still valid) is known. */
  get(destination: Ipv4Address): number | undefined {
    const entry = this.entries.get(destination);
    if (entry === undefined) return undefined;
    if (this.clock.now() >= entry.expiresAt) {
      this.entries.delete(destination);
      return undefined;
    }
    return entry.mtu;
  }

  /**
   * Records that a router could not forward a packet of `currentMtu` bytes to `destination` further than a
   * link of `reportedMtu`. Returns the new path MTU when it went down, or undefined when the report changed
   * nothing (RFC 1191 §6.3: a report that does not lower the estimate is ignored).
   */
  lower(destination: Ipv4Address, reportedMtu: number, currentMtu: number): number | undefined {
    const mtu = Math.max(this.minimumMtu, Math.floor(reportedMtu));
    const known = this.get(destination) ?? currentMtu;
    if (mtu >= known) return undefined;
    this.entries.set(destination, { mtu, expiresAt: this.clock.now() + this.expiryMs });
    this.generation++;
    return mtu;
  }

  clear(): void {
    this.entries.clear();
    this.generation++;
  }
}

/**
 * RFC 1191 §5 plateau table, for routers that send "fragmentation needed" with a next-hop MTU of zero
 * (pre-RFC 1191): the next plateau below the size of the datagram that was too big.
 */
const PLATEAUS = [65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68];

export function plateauBelow(datagramLength: number): number {
  for (const plateau of PLATEAUS) {
    if (plateau < datagramLength) return plateau;
  }
  return MINIMUM_IPV4_MTU;
}
