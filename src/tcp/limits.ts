/**
 * Stack-wide limits of a TCP layer: what bounds the resources a peer (or a flood of spoofed peers) can
 * make the stack commit. Each has a Linux equivalent named beside it; docs/limits.md tables them with
 * both defaults, and the counter that says when the limit was hit. Per-connection tunables live in
 * TcpConfig.
 */
import { TcpError } from './errors.js';

export interface TcpLimits {
  /**
   * SYN cookies (RFC 4987 §3.6, Linux `tcp_syncookies`): 'on-overflow' (Linux 1, the default) answers a
   * SYN with a cookie when the listener's SYN queue is full, 'always' (Linux 2) answers every SYN with
   * one, 'off' (Linux 0) drops SYNs that find the queue full.
   */
  synCookies: 'on-overflow' | 'always' | 'off';
  /**
   * Most connections in SYN-RECEIVED (the SYN queue) per listener, Linux `tcp_max_syn_backlog`; a
   * listener's own bound is the smaller of this and its backlog, as Linux bounds the queue by both.
   * Default 1024 (Linux computes 128 or more from the memory size; 1024 is common).
   */
  maxSynBacklog: number;
  /** Upper bound of a listener's backlog (its accept queue), Linux `net.core.somaxconn`. Default 4096. */
  somaxconn: number;
  /**
   * Challenge ACKs per second over all connections (RFC 5961 §7), Linux `tcp_challenge_ack_limit`
   * (1000 in Linux 4.7 to 5.19; Linux 6.0 leaves only the per-connection limit by default). The budget
   * of each second is drawn at random around it. 0 turns it off. Default 1000.
   */
  challengeAckLimit: number;
  /**
   * The ephemeral port range for active opens and `listen({ port: 0 })` (RFC 6056 §3.2), Linux
   * `net.ipv4.ip_local_port_range` (32768-60999 there). Default 49152-65535, the IANA dynamic range. A
   * port serves any number of connections as long as their 4-tuples differ (RFC 6056 §2.1).
   */
  ephemeralPortMin: number;
  ephemeralPortMax: number;
  /**
   * Most TIME-WAIT records (Linux `tcp_max_tw_buckets`, 262144 on most machines). A connection entering
   * TIME-WAIT when the table is full closes at once (counted in `timeWaitOverflows`). Default 262144.
   */
  maxTimeWait: number;
  /**
   * Most orphans: connections the application released (closed its socket) that are still finishing
   * their close — FIN-WAIT-1/2, CLOSING, LAST-ACK, or data still queued — Linux `tcp_max_orphans`
   * (scaled to memory there; 65536 on a small machine). An orphan beyond it is reset at release; and,
   * as Linux does, an orphan whose retransmission or probe timer fires after `n` backoffs is reset when
   * orphans x 2^n exceed the limit, so orphans a peer stalls (never acknowledging, or holding its window
   * closed: RFC 6429) go first. Counted in `orphansReset`. Default 65536.
   */
  maxOrphans: number;
  /**
   * Stack-wide TCP memory in bytes (Linux `net.ipv4.tcp_mem`, in pages there; tcp/memory.ts): the
   * storage all connections' send and receive buffers hold. Above `memoryPressure` the stack is under
   * pressure (no buffer growth, receive windows clamped) until it is back under `memoryMin`; at
   * `memoryMax` no more data is taken in. Linux sizes them from RAM: RAM/16 is the pressure mark, min 3/4
   * of it, max 3/2; the defaults are those of a 2 GiB machine: 96, 128 and 192 MiB. Counted in
   * `memoryPressureEntered` and `memoryLimitDrops`.
   */
  memoryMin: number;
  memoryPressure: number;
  memoryMax: number;
}

export const DEFAULT_TCP_LIMITS: Readonly<TcpLimits> = Object.freeze({
  synCookies: 'on-overflow',
  maxSynBacklog: 1024,
  somaxconn: 4096,
  challengeAckLimit: 1000,
  ephemeralPortMin: 49152,
  ephemeralPortMax: 65535,
  maxTimeWait: 262_144,
  maxOrphans: 65_536,
  memoryMin: 96 * 1024 * 1024,
  memoryPressure: 128 * 1024 * 1024,
  memoryMax: 192 * 1024 * 1024,
});

function atLeast(name: string, value: number, min: number): void {
  if (!(value >= min))
    throw new TcpError('EINVAL', `TCP limit ${name} must be a number >= ${min}, got ${value}`);
}

/** Merges `overrides` over the defaults and checks them; throws EINVAL. */
export function resolveTcpLimits(overrides: Partial<TcpLimits> = {}): TcpLimits {
  const limits: TcpLimits = { ...DEFAULT_TCP_LIMITS };
  for (const [k, v] of Object.entries(overrides)) {
    if (v !== undefined) (limits as unknown as Record<string, unknown>)[k] = v;
  }
  if (!['on-overflow', 'always', 'off'].includes(limits.synCookies)) {
    throw new TcpError('EINVAL', `TCP limit synCookies must be 'on-overflow', 'always' or 'off'`);
  }
  atLeast('maxSynBacklog', limits.maxSynBacklog, 1);
  atLeast('somaxconn', limits.somaxconn, 1);
  atLeast('challengeAckLimit', limits.challengeAckLimit, 0);
  const { ephemeralPortMin: min, ephemeralPortMax: max } = limits;
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 65535 || min > max) {
    throw new TcpError('EINVAL', `TCP ephemeral port range must be within 1-65535, got ${min}-${max}`);
  }
  atLeast('maxTimeWait', limits.maxTimeWait, 0);
  atLeast('maxOrphans', limits.maxOrphans, 0);
  atLeast('memoryMin', limits.memoryMin, 0);
  if (!(limits.memoryPressure >= limits.memoryMin && limits.memoryMax >= limits.memoryPressure)) {
    throw new TcpError(
      'EINVAL',
      `TCP memory limits must be memoryMin <= memoryPressure <= memoryMax, got ${limits.memoryMin}, ${limits.memoryPressure}, ${limits.memoryMax}`,
    );
  }
  return Object.freeze(limits);
}
