/**
 * Tunables of a TCP connection, with defaults chosen from the RFCs and, where an RFC leaves the choice
 * open, from the Linux kernel's practice. Every value is in bytes or milliseconds.
 */
import {
  CONGESTION_CONTROL_NAMES,
  type CongestionControlName,
  isCongestionControlName,
} from './congestion/registry.js';
import { TcpError } from './errors.js';

export interface TcpConfig {
  /**
   * Send buffer size: unacknowledged plus not-yet-sent bytes the connection holds. Default 256 KiB.
   * `send()` accepts bytes only while there is room; 'drain' fires when room frees up. It bounds the data
   * in flight, so it must cover the path's bandwidth-delay product for full speed (1 Gbit/s over a 2 ms
   * round trip needs 250 KB). Memory is taken as the buffer fills, not up front.
   */
  sendBufferSize: number;
  /**
   * Receive buffer size: bytes received but not yet read, plus out-of-order bytes held for reassembly.
   * The advertised window is the free part of it (RFC 9293 §3.8.6). Default 256 KiB (Linux starts at
   * 128 KiB and grows on demand): with window scaling the whole of it can be advertised, enough for
   * 1 Gbit/s over a 2 ms round trip. Memory is taken as the buffer fills, not up front.
   */
  receiveBufferSize: number;
  /**
   * Receive buffer autotuning (Linux's dynamic right-sizing, net.ipv4.tcp_moderate_rcvbuf=1): once per
   * receiver-side round trip the buffer, and so the window, is raised to about twice what the application
   * read in the last round trip, up to `receiveBufferMax` (see tcp/buffer-autotuning.ts). Setting
   * `receiveBufferSize` turns it off unless this is set too, as SO_RCVBUF locks Linux's buffer. Memory is
   * still taken only as data waits, and given back once it is read. Default true, as Linux's: the window
   * scale every SYN offers covers the cap (7, for 6 MiB).
   */
  receiveBufferAutotuning: boolean;
  /** Largest receive buffer autotuning grows to. Default 6 MiB (Linux: tcp_rmem[2] = 6291456). */
  receiveBufferMax: number;
  /**
   * Send buffer autotuning (Linux's tcp_sndbuf_expand): the buffer grows to hold twice the congestion
   * window, so the sender never waits for the application on a long fat path, up to `sendBufferMax`.
   * Setting `sendBufferSize` turns it off unless this is set too (SO_SNDBUF). Default true, as Linux's.
   */
  sendBufferAutotuning: boolean;
  /** Largest send buffer autotuning grows to. Default 4 MiB (Linux: tcp_wmem[2] = 4194304). */
  sendBufferMax: number;
  /** RTO before any RTT sample: 1 s (RFC 6298 §2.1). */
  initialRtoMs: number;
  /**
   * Lower bound of the RTO. RFC 6298 §2.4 says SHOULD round up to 1 s; RFC 8961 allows less and Linux uses
   * 200 ms, which makes loss recovery on fast paths (and in simulation) practical. Default 200 ms.
   */
  minRtoMs: number;
  /** Upper bound of the RTO and of backed-off timers (RFC 6298 §2.5 allows >= 60 s). Default 120 s. */
  maxRtoMs: number;
  /** Clock granularity G of RFC 6298 §2.2/2.3. The clocks tcpts uses tick in fractions of a ms: 1 ms. */
  clockGranularityMs: number;
  /**
   * R1 (RFC 9293 §3.8.3, SHLD-10): after this many retransmissions of the same segment the application
   * is told ('retransmission-warning'). Default 3.
   */
  r1Retransmissions: number;
  /**
   * R2 for data and FIN segments (§3.8.3; MUST-20, MUST-21): the connection is aborted with ETIMEDOUT
   * when the peer has made no progress (SND.UNA has not moved) for at least `r2TimeoutMs` (SHLD-11:
   * R2 corresponds to at least 100 s) AND the oldest segment has been retransmitted `r2Retransmissions`
   * times without an answer (one RTO is allowed for the answer to the last one). The count is what R2
   * is in the RFC; the default 15 is Linux's tcp_retries2 (about 15 minutes against a dead peer). It
   * keeps a run of bad luck on a lossy path, where the RTO is backed off, from ending a connection after
   * two or three attempts. Default 100 s.
   */
  r2TimeoutMs: number;
  /** The retransmission count of R2 (see r2TimeoutMs). Default 15. */
  r2Retransmissions: number;
  /**
   * R2 for an orphan (a connection the application released while it still had data or a FIN to
   * deliver): after this many unanswered retransmissions, or zero-window probes, it is given up at
   * once, with no R2 time to wait out — no one is left to be told, and a peer that stopped answering
   * should not hold its memory for the quarter hour R2 allows (Linux `net.ipv4.tcp_orphan_retries`,
   * whose 0 means 8). Default 8.
   */
  orphanRetries: number;
  /** R2 for SYN and SYN-ACK segments: at least 3 minutes (MUST-23). Default 180 s. */
  synR2TimeoutMs: number;
  /**
   * Maximum segment lifetime. RFC 9293 §3.4.1 suggests 2 minutes as an engineering choice; Linux keeps
   * TIME-WAIT for 60 s, i.e. MSL = 30 s, which this default follows. TIME-WAIT lasts 2*MSL (MUST-13).
   */
  mslMs: number;
  /**
   * Whether an active open may take a 4-tuple still in TIME-WAIT (Linux `net.ipv4.tcp_tw_reuse`: 0 off,
   * 1 on, 2 loopback only — the default). Safe only with timestamps (RFC 7323 §5.8, §B.2): the record
   * must have timestamps on and have received its last timestamp more than 1 s ago, so any old duplicate
   * still in the network fails PAWS against the new connection; the new ISS lies beyond the old SND.NXT.
   * Read stack-wide (at connect, before a connection exists). Default 'loopback'.
   */
  timeWaitReuse: 'off' | 'loopback' | 'on';
  /** Delayed ACKs (SHLD-18) on or off. Default on. */
  delayedAck: boolean;
  /** How long an ACK may be delayed: must be < 500 ms (MUST-40). Default 40 ms (Linux's minimum ATO). */
  delayedAckMs: number;
  /**
   * One ACK per burst: the ACK that a second full-sized segment calls for (SHLD-19) waits until the
   * segments that arrived in the same instant have all been processed, so a burst is answered by one ACK
   * instead of one per two segments, as Linux answers a GRO packet (the segments one NAPI poll merged)
   * with one. No time passes meanwhile, and once 64 KiB are unacknowledged the ACK goes at once (the most
   * GRO merges). Only for a connection in a TCP layer whose clock runs a timer for now in the same
   * instant (Clock.zeroDelayInSameInstant: a virtual clock), on a path whose RTT is 0 (an in-process link
   * without delay: a sender's slow start, which grows by at most two segments per ACK, would otherwise
   * take longer). On a real clock (a layer whose clock does not), coalesced packets of several
   * full-sized segments each (GRO/LRO: a TAP device with offload) that one device batch hands over share
   * an ACK sent once the batch has been processed, up to 256 KiB unacknowledged, instead of one each.
   * Elsewhere, and with this off, the ACK goes with the second segment. Out-of-order data, gaps filled,
   * and everything else that asks for an immediate ACK still gets one. On a path with one ACK per burst
   * (virtual clock) the application is likewise told 'readable' once per burst (just before its ACK),
   * not once per segment, so it reads the burst in large pieces. Default on.
   */
  ackPerBurst: boolean;
  /** Nagle's algorithm (SHLD-7); the application may turn it off per connection (MUST-17). Default on. */
  nagle: boolean;
  /** Keepalives: off by default (MUST-25), on per connection (MUST-24). */
  keepAlive: boolean;
  /** Idle time before the first keepalive probe: at least 2 hours by default (MUST-28), configurable (MUST-27). */
  keepAliveIdleMs: number;
  /** Interval between unanswered keepalive probes. Default 75 s (as Linux and BSD). */
  keepAliveIntervalMs: number;
  /** Unanswered probes before the connection is dropped (MUST-29: one lost ACK is not fatal). Default 9. */
  keepAliveProbes: number;
  /**
   * An ICMP destination unreachable, time exceeded or parameter problem about our SYN ends the connection
   * attempt at once with its errno, as on Linux (RFC 5461 §4.1). False keeps the letter of RFC 9293
   * MUST-56: only hard errors (protocol and port unreachable) end an attempt; the others are remembered
   * and reported if the attempt later times out. Default true.
   */
  abortConnectOnIcmpError: boolean;
  /** How long an orphaned connection (the application released it) may sit in FIN-WAIT-2. Default 60 s. */
  finWait2TimeoutMs: number;
  /**
   * Initial congestion window in segments. Default 10 (RFC 6928, as Linux); undefined uses RFC 5681 §3.1
   * (4, 3 or 2 segments depending on the MSS, the same as RFC 3390).
   */
  initialWindowSegments: number | undefined;
  /**
   * Congestion control algorithm (Linux's tcp_congestion_control / TCP_CONGESTION): 'cubic' (RFC 9438
   * with HyStart++ and PRR, the default as on Linux), 'bbr' (the IETF BBR draft, paced), 'newreno'
   * (RFC 6582) or 'reno' (RFC 5681). HyStart++ here goes beyond RFC 9406's delay test: an ACK train
   * (as Linux's HyStart), its delivery rate, a CSS round whose rate still grows, and a delay rise taken
   * as another flow's queue while cwnd is below what the fastest train delivers in a minimum RTT, each
   * said and measured in congestion/hystart.ts.
   */
  congestionControl: CongestionControlName;
  /**
   * Pace the loss-based algorithms (BBR always paces): segments leave no faster than 2 x cwnd / SRTT in
   * slow start and 1.2 x in congestion avoidance, each at an earliest departure time, as Linux does with
   * the fq qdisc. Default false, as Linux's default qdisc. Measured over 100 Mbit/s x 50 ms with a
   * one-BDP drop-tail queue, pacing costs CUBIC 3-4% of its goodput at 0.1% and 1% random loss, and
   * when the handshake's RTT is the path's (the peer's address already resolved) paced slow start ends
   * on its ACK train only near twice the bandwidth-delay product (991 segments, 173 queue drops; 10
   * unpaced): at twice cwnd / SRTT a window's ACKs form one train only once they outlast the RTT.
   */
  pacing: boolean;
  /**
   * Most out-of-order byte ranges held for reassembly; a segment that would need more is dropped (or the
   * highest range forgotten for a lower one). Default 1024. Linux has no count, only the receive
   * buffer's memory; one window's overshoot on a 100 Mbit/s x 50 ms path leaves 40+ holes, and with
   * 32 every segment past the 32nd hole was refused and had to be sent again (five times the drops).
   */
  maxOutOfOrderRanges: number;
  /**
   * Window scaling (RFC 7323 §2): offer a Window Scale option on SYN sized to the receive buffer (the
   * smallest shift that covers it: 3 for the default 256 KiB), so windows above 65535 bytes can be
   * advertised. Used only when the peer offers it too. On by default, as on Linux.
   */
  windowScaling: boolean;
  /**
   * TCP segmentation offload: when IP can cut a large segment into MSS-sized ones on the way (a device
   * with TSO, see TcpIpBinding.tsoSizeFor), hand it segments of many MSS at once, as Linux does. The
   * wire sees ordinary segments either way. Default true.
   */
  segmentationOffload: boolean;
  /**
   * Per-connection limit on ACKs answering invalid segments (RFC 5961 §7): out-of-window segments,
   * challenge ACKs, PAWS drops, segments in TIME-WAIT. At most one such ACK per this many ms. Default
   * 500 ms, Linux's `tcp_invalid_ratelimit`; 0 turns the limit off.
   */
  invalidRateLimitMs: number;
  /**
   * SYN-ACK retransmissions before a passively opened connection in SYN-RECEIVED gives up (Linux's
   * `tcp_synack_retries`). Default 5: with the initial RTO of 1 s doubling, the last one leaves at 31 s
   * and the entry is dropped at 63 s, as on Linux.
   */
  synAckRetries: number;
  /**
   * Timestamps (RFC 7323 §3-5): offer the TSopt on SYN; when the peer offers it too, every segment carries
   * it, RTT is measured from the echoed values (RTTM, also across retransmissions) and old duplicates are
   * refused by PAWS. Costs 12 bytes of every segment (the effective MSS is that much smaller). Default
   * on, as on Linux (net.ipv4.tcp_timestamps=1).
   */
  timestamps: boolean;
  /**
   * Selective acknowledgment (RFC 2018): offer SACK-permitted on SYN; when the peer offers it too, report
   * out-of-order data in SACK blocks (and duplicates in D-SACK blocks, RFC 2883), and recover from losses
   * with a scoreboard of what the peer holds (RFC 6675). Default on, as on Linux (net.ipv4.tcp_sack=1).
   * Without it, loss recovery is NewReno's (RFC 6582).
   */
  sack: boolean;
  /**
   * RACK-TLP (RFC 8985) as the loss detection when SACK is in use: segments are judged lost by time (sent
   * before one already delivered, longer ago than the RTT plus a reordering window that D-SACKs widen),
   * and a tail loss probe recovers losses at the end of a flight without waiting for the RTO. When false,
   * a SACK connection judges losses by RFC 6675's IsLost (DupThresh segments SACKed above) and has no
   * tail loss probe. Default on, as on Linux (net.ipv4.tcp_recovery=1).
   */
  rack: boolean;
  /**
   * Packetization Layer Path MTU Discovery (RFC 4821, see tcp/mtu-probing.ts), Linux's
   * net.ipv4.tcp_mtu_probing: 'off' (0) relies on ICMP alone; 'after-black-hole' (1) starts the search
   * when repeated retransmission timeouts of large segments suggest ICMP is being swallowed;
   * 'always' (2) starts every connection at `baseMss` and probes upwards. Default 'after-black-hole'
   * (Linux: 0): it costs nothing until a connection is already stalling, and then saves it.
   */
  mtuProbing: MtuProbingMode;
  /**
   * The MSS the search starts from (and a black hole first falls back to), in payload bytes. Default
   * 1024, Linux's net.ipv4.tcp_base_mss.
   */
  baseMss: number;
  /**
   * The search stops when the range left is narrower than this many bytes (RFC 4821 §7.2's
   * search_high - search_low). Default 8, Linux's net.ipv4.tcp_probe_threshold.
   */
  mtuProbeThreshold: number;
  /**
   * A converged search starts over after this long (RFC 4821 §7.7: the path may have changed).
   * Default 10 min, Linux's net.ipv4.tcp_probe_interval (600 s).
   */
  mtuProbeIntervalMs: number;
  /**
   * Explicit Congestion Notification (RFC 3168): `true` asks for it on our SYNs (ECE and CWR set) and
   * agrees when a peer's SYN asks; `'passive'` only agrees when the peer asks; `false` neither. Once
   * both SYNs agreed, new data segments leave as ECT(0), a receiver that sees Congestion Experienced
   * sets ECE on its ACKs until the sender's CWR, and the sender reduces its window once per window of
   * data for it, as for a loss but without retransmitting anything. Default false (Linux's
   * net.ipv4.tcp_ecn is 2, i.e. `'passive'`; 1 is `true`).
   */
  ecn: boolean | 'passive';
  /**
   * Most reordering, in segments, a connection assumes of its path (Linux's net.ipv4.tcp_max_reordering,
   * 300). The degree starts at DupThresh (3) and grows to the distance at which a segment was seen to
   * arrive late (see tcpInfo's `reordering`), up to this. Default 300.
   */
  maxReordering: number;
}

/** Linux's tcp_mtu_probing 0, 1 and 2. */
export type MtuProbingMode = 'off' | 'after-black-hole' | 'always';
const MTU_PROBING_MODES: readonly MtuProbingMode[] = ['off', 'after-black-hole', 'always'];

export const DEFAULT_TCP_CONFIG: Readonly<TcpConfig> = Object.freeze({
  sendBufferSize: 256 * 1024,
  receiveBufferSize: 256 * 1024,
  receiveBufferAutotuning: true,
  receiveBufferMax: 6 * 1024 * 1024,
  sendBufferAutotuning: true,
  sendBufferMax: 4 * 1024 * 1024,
  initialRtoMs: 1000,
  minRtoMs: 200,
  maxRtoMs: 120_000,
  clockGranularityMs: 1,
  r1Retransmissions: 3,
  r2TimeoutMs: 100_000,
  r2Retransmissions: 15,
  orphanRetries: 8,
  synR2TimeoutMs: 180_000,
  mslMs: 30_000,
  timeWaitReuse: 'loopback',
  delayedAck: true,
  delayedAckMs: 40,
  ackPerBurst: true,
  nagle: true,
  keepAlive: false,
  keepAliveIdleMs: 2 * 60 * 60 * 1000,
  keepAliveIntervalMs: 75_000,
  keepAliveProbes: 9,
  abortConnectOnIcmpError: true,
  finWait2TimeoutMs: 60_000,
  initialWindowSegments: 10,
  congestionControl: 'cubic',
  pacing: false,
  maxOutOfOrderRanges: 1024,
  windowScaling: true,
  segmentationOffload: true,
  invalidRateLimitMs: 500,
  synAckRetries: 5,
  timestamps: true,
  sack: true,
  rack: true,
  mtuProbing: 'after-black-hole',
  baseMss: 1024,
  mtuProbeThreshold: 8,
  mtuProbeIntervalMs: 600_000,
  ecn: false,
  maxReordering: 300,
});

/** The largest the receive buffer can become: what the window scale offered on a SYN must cover. */
export function receiveBufferCeiling(config: Readonly<TcpConfig>): number {
  return config.receiveBufferAutotuning
    ? Math.max(config.receiveBufferSize, config.receiveBufferMax)
    : config.receiveBufferSize;
}

/** The MSS assumed when the peer sends no MSS option: 536 for IPv4 (MUST-15). */
export const DEFAULT_IPV4_MSS = 536;
/** The MSS assumed without an MSS option over IPv6: the minimum MTU 1280 less 60 (RFC 8200 §8.3). */
export const DEFAULT_IPV6_MSS = 1220;

/**
 * Smallest send MSS accepted from a peer. A hostile MSS option of 0 or 1 would otherwise make segmentation
 * loop forever or send one byte per segment; Linux clamps similarly.
 */
export const MIN_SEND_MSS = 64;

/** IPv4 header (20) plus TCP header (20) without options: the MSS is the MTU minus this (MUST-67). */
export const IPV4_TCP_HEADERS = 40;
/** Fixed IPv6 header (40) plus TCP header (20): MSS = MTU - 60. */
export const IPV6_TCP_HEADERS = 60;

function positive(name: string, value: number, min = 1): void {
  if (!Number.isFinite(value) || value < min) {
    throw new TcpError('EINVAL', `TCP config ${name} must be a number >= ${min}, got ${value}`);
  }
}

/** Configurations `resolveTcpConfig` produced: already complete and checked. */
const resolved = new WeakSet<object>();

/**
 * Merges `overrides` over the defaults (or over `base`) and checks every value; throws EINVAL. A
 * configuration this function returned, passed again without a different base, is returned as it is
 * (a TCP layer resolves its configuration once, not for every connection).
 */
export function resolveTcpConfig(
  overrides: Partial<TcpConfig> = {},
  base: Readonly<TcpConfig> = DEFAULT_TCP_CONFIG,
): TcpConfig {
  if (resolved.has(overrides) && base === DEFAULT_TCP_CONFIG) return overrides as TcpConfig;
  if (resolved.has(base) && isEmpty(overrides)) return base as TcpConfig;
  const c: TcpConfig = { ...base };
  for (const [k, v] of Object.entries(overrides)) {
    if (v !== undefined || k === 'initialWindowSegments') (c as unknown as Record<string, unknown>)[k] = v;
  }
  // A buffer size set explicitly is kept as set, as SO_RCVBUF / SO_SNDBUF lock Linux's buffers.
  if (overrides.receiveBufferSize !== undefined && overrides.receiveBufferAutotuning === undefined)
    c.receiveBufferAutotuning = false;
  if (overrides.sendBufferSize !== undefined && overrides.sendBufferAutotuning === undefined)
    c.sendBufferAutotuning = false;
  positive('sendBufferSize', c.sendBufferSize);
  positive('receiveBufferSize', c.receiveBufferSize);
  positive('receiveBufferMax', c.receiveBufferMax);
  positive('sendBufferMax', c.sendBufferMax);
  // A receive buffer above 65535 is allowed: without window scaling (or when the peer does not scale)
  // only 65535 of it is ever advertised.
  positive('initialRtoMs', c.initialRtoMs);
  positive('minRtoMs', c.minRtoMs);
  positive('maxRtoMs', c.maxRtoMs, c.minRtoMs);
  positive('clockGranularityMs', c.clockGranularityMs, 0);
  positive('r1Retransmissions', c.r1Retransmissions, 0);
  positive('r2TimeoutMs', c.r2TimeoutMs);
  positive('r2Retransmissions', c.r2Retransmissions, 0);
  positive('synR2TimeoutMs', c.synR2TimeoutMs);
  positive('mslMs', c.mslMs, 0);
  positive('delayedAckMs', c.delayedAckMs, 0);
  if (c.delayedAckMs >= 500) throw new TcpError('EINVAL', 'delayedAckMs must be < 500 ms (RFC 9293 MUST-40)');
  positive('keepAliveIdleMs', c.keepAliveIdleMs);
  positive('keepAliveIntervalMs', c.keepAliveIntervalMs);
  positive('keepAliveProbes', c.keepAliveProbes);
  positive('orphanRetries', c.orphanRetries);
  positive('finWait2TimeoutMs', c.finWait2TimeoutMs);
  if (c.initialWindowSegments !== undefined) positive('initialWindowSegments', c.initialWindowSegments);
  positive('maxOutOfOrderRanges', c.maxOutOfOrderRanges);
  positive('invalidRateLimitMs', c.invalidRateLimitMs, 0);
  positive('synAckRetries', c.synAckRetries, 0);
  positive('baseMss', c.baseMss, MIN_SEND_MSS);
  positive('mtuProbeThreshold', c.mtuProbeThreshold);
  positive('mtuProbeIntervalMs', c.mtuProbeIntervalMs);
  if (!MTU_PROBING_MODES.includes(c.mtuProbing)) {
    throw new TcpError(
      'EINVAL',
      `TCP config mtuProbing must be one of ${MTU_PROBING_MODES.join(', ')}, got ${String(c.mtuProbing)}`,
    );
  }
  positive('maxReordering', c.maxReordering, 3);
  if (c.ecn !== true && c.ecn !== false && c.ecn !== 'passive') {
    throw new TcpError('EINVAL', `TCP config ecn must be true, false or 'passive', got ${String(c.ecn)}`);
  }
  if (!isCongestionControlName(c.congestionControl)) {
    throw new TcpError(
      'EINVAL',
      `TCP config congestionControl must be one of ${CONGESTION_CONTROL_NAMES.join(', ')}, got ${String(c.congestionControl)}`,
    );
  }
  if (c.timeWaitReuse !== 'off' && c.timeWaitReuse !== 'loopback' && c.timeWaitReuse !== 'on') {
    throw new TcpError(
      'EINVAL',
      `TCP config timeWaitReuse must be 'off', 'loopback' or 'on', got ${String(c.timeWaitReuse)}`,
    );
  }
  // Frozen, so sharing one configuration between connections is safe.
  Object.freeze(c);
  resolved.add(c);
  return c;
}

function isEmpty(overrides: Partial<TcpConfig>): boolean {
  for (const key in overrides) {
    // An explicit `initialWindowSegments: undefined` asks for the RFC's window: it is an override too.
    if (key === 'initialWindowSegments' || (overrides as Record<string, unknown>)[key] !== undefined) {
      return false;
    }
  }
  return true;
}
