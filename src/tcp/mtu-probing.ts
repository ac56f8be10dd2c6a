/**
 * Packetization Layer Path MTU Discovery for TCP (RFC 4821; the search of RFC 8899 §5 applied to TCP as
 * Linux's tcp_mtu_probing does it). Classic PMTUD (RFC 1191/8201) needs ICMP "fragmentation needed" /
 * "packet too big"; where a firewall swallows them, every segment above the path's real MTU vanishes
 * and the connection stalls — an ICMP black hole. PLPMTUD finds the MTU from TCP's own evidence:
 *
 * - a black hole is suspected when the retransmission timer fires R1 times in a row for segments larger
 *   than the MSS would become (RFC 4821 §7.7; Linux at tcp_retries1): the first time, the search is
 *   switched on and the MSS falls to `baseMss`; every later time the low end of the search is halved;
 * - while the search range is wider than `mtuProbeThreshold`, one probe at a time — a segment of new data
 *   sized halfway between what is known to pass (search low) and the largest the interface and the
 *   peer allow (search high), followed by enough data for its loss to be seen by duplicate ACKs or SACK —
 *   tests a larger size (RFC 4821 §7.3);
 * - the probe acknowledged: the low end rises to it and the MSS with it (§7.5); the probe lost (its
 *   sequence number is the first unacknowledged when loss is detected, or it had to be sent again): the
 *   high end falls below it (§7.6.2). A lost probe is not a congestion signal (§7.6.1, as Linux's
 *   tcp_mtup_probe_failed): its data is sent again cut to the MSS, without a window reduction;
 * - once converged the search starts over after `mtuProbeIntervalMs` (RFC 4821 §7.7), in case the path
 *   changed.
 *
 * All sizes below are IP datagram sizes (MTUs), as Linux keeps them: the payload of a segment is the MTU
 * less the IP and TCP headers and the options every data segment carries.
 */
import { MIN_SEND_MSS } from './config.js';
import { seqAdd, seqDiff, seqGe, seqLt } from './seq.js';
import type { Tcb } from './tcb.js';

/** Segments that must follow a probe so that its loss shows as duplicate ACKs (Linux: reordering + 1). */
const SEGMENTS_AFTER_PROBE = 4;
/** A probe waits for a congestion window of at least this many segments (Linux: 11). */
const MIN_CWND_SEGMENTS = 11;

/** The search state of one connection. */
export interface MtuProbeState {
  /** The search runs (mode 'always' from the start, 'after-black-hole' once one was suspected). */
  enabled: boolean;
  /** Largest datagram known to pass; the MSS never exceeds what it allows while the search runs. */
  searchLow: number;
  /** Smallest datagram believed not to pass, less one (at most the path MTU and the peer's MSS). */
  searchHigh: number;
  /** Datagram size of the probe in flight, 0 when none is. */
  probeSize: number;
  /** Sequence range of the probe in flight. */
  probeSeqStart: number;
  probeSeqEnd: number;
  /** When the search (re)started or converged: the base of `mtuProbeIntervalMs`. */
  probeTimestamp: number;
  /**
   * Without SACK, after a lost probe's data went again: SND.MAX at that moment. Until SND.UNA passes it,
   * duplicate ACKs are the echo of the probe's loss and start no recovery (as Linux's Loss state after
   * tcp_simple_retransmit).
   */
  probeRecoveryEnd: number | undefined;
}

/**
 * The search state of an established connection as `initMtuProbing` sets it up, made when first needed
 * (Tcb.mtuProbe): in mode 'after-black-hole' only a suspected black hole or a lower path MTU needs it
 * (see `keepMtuSearchRange`), so most connections never hold one.
 */
export function newMtuProbeState(tcb: Tcb): MtuProbeState {
  const searchHigh = largestDatagram(tcb);
  return {
    enabled: false,
    searchLow: Math.min(tcb.config.baseMss + overhead(tcb), searchHigh),
    searchHigh,
    probeSize: 0,
    probeSeqStart: 0,
    probeSeqEnd: 0,
    probeTimestamp: tcb.now,
    probeRecoveryEnd: undefined,
  };
}

/** Datagram bytes around a segment's payload: IP and TCP headers and the options of data segments. */
function overhead(tcb: Tcb): number {
  return tcb.headersLength + tcb.dataOptionsLength;
}

/** The largest datagram the peer's MSS and the path MTU allow (MUST-16 counts options in the MSS). */
function largestDatagram(tcb: Tcb): number {
  return Math.min(tcb.peerMss + tcb.headersLength, tcb.pathMtu);
}

/**
 * The connection is established (options negotiated, peer MSS known): the search range is set up, and in
 * mode 'always' the search starts at once from `baseMss` (Linux's tcp_mtup_init).
 */
export function initMtuProbing(tcb: Tcb): void {
  // A state made later starts out as this one would (newMtuProbeState): none is needed before then.
  if (tcb.config.mtuProbing !== 'always' && tcb.existingMtuProbe === undefined) return;
  const probe = tcb.mtuProbe;
  probe.enabled = tcb.config.mtuProbing === 'always';
  probe.searchHigh = largestDatagram(tcb);
  probe.searchLow = Math.min(tcb.config.baseMss + overhead(tcb), probe.searchHigh);
  probe.probeSize = 0;
  probe.probeTimestamp = tcb.now;
  if (probe.enabled) tcb.updateEffectiveMss(MIN_SEND_MSS);
}

/** The MSS cap the search puts on segments (Infinity when it does not run): what `searchLow` allows. */
export function mtuProbeMssCap(tcb: Tcb): number {
  const probe = tcb.existingMtuProbe;
  if (probe === undefined || !probe.enabled) return Number.POSITIVE_INFINITY;
  // A path MTU learned from ICMP since bounds the search too (Linux's tcp_sync_mss).
  if (probe.searchHigh > tcb.pathMtu) probe.searchHigh = tcb.pathMtu;
  if (probe.searchLow > probe.searchHigh) probe.searchLow = probe.searchHigh;
  return probe.searchLow - tcb.headersLength;
}

/**
 * The retransmission timer fired again: at R1 timeouts in a row and beyond, an ICMP black hole is
 * suspected (RFC 4821 §7.7, Linux's tcp_mtu_probing at tcp_retries1) — when what is being retransmitted
 * is larger than the MSS would become, for only a large segment can fall into one. Returns true when the
 * MSS was lowered.
 */
export function mtuBlackHoleSuspected(tcb: Tcb): boolean {
  const now = tcb.now;
  const config = tcb.config;
  if (config.mtuProbing === 'off' || tcb.retransmitCount < config.r1Retransmissions) return false;
  const probe = tcb.mtuProbe;
  const extra = overhead(tcb);
  let low: number;
  if (!probe.enabled) {
    low = Math.min(config.baseMss + extra, probe.searchHigh);
  } else {
    // Already searching and still losing: halve what is believed to pass, no higher than the base MSS,
    // no lower than the smallest send MSS (Linux: tcp_base_mss, tcp_mtu_probe_floor).
    const mss = Math.max(Math.min(config.baseMss, (probe.searchLow - extra) >> 1), MIN_SEND_MSS);
    low = mss + extra;
  }
  const outstanding = Math.min(tcb.effMss, seqDiff(tcb.sndMax, tcb.sndUna));
  if (outstanding <= low - extra) return false;
  const before = tcb.effMss;
  probe.enabled = true;
  probe.searchLow = low;
  probe.probeSize = 0;
  probe.probeTimestamp = now;
  tcb.updateEffectiveMss(MIN_SEND_MSS);
  tcb.env.counters.mtuBlackHoles++;
  tcb.note(`ICMP black hole suspected: MSS ${before} -> ${tcb.effMss}`);
  return tcb.effMss < before;
}

/**
 * The size of a probe to send now, in payload bytes, or 0 when none should go (RFC 4821 §7.3 with
 * Linux's conditions in tcp_mtu_probe): the search runs and has room left, no probe is in flight, no
 * recovery or retransmission is under way, the congestion window has grown to 11 segments and has
 * room for two more, and the send queue and the peer's window hold the probe and the segments that
 * must follow it. A converged search restarts from the full range after `mtuProbeIntervalMs`.
 */
export function mtuProbeToSend(tcb: Tcb, unsent: number, windowRoom: number): number {
  const now = tcb.now;
  const probe = tcb.existingMtuProbe;
  // Data to send made congestion control (transmitPending); without it only a FIN goes, never a probe.
  const cc = tcb.existingCc;
  if (probe === undefined || !probe.enabled || probe.probeSize !== 0 || cc === undefined) return 0;
  if (tcb.recoveryPoint !== undefined || cc.inRecovery || tcb.retransmitCount > 0) return 0;
  if (tcb.sackOptionLength > 0 || tcb.sndNxt !== tcb.sndMax) return 0;
  const mss = tcb.effMss;
  if (cc.cwnd < MIN_CWND_SEGMENTS * mss) return 0;
  const extra = overhead(tcb);
  const high = probe.searchHigh;
  if (high - probe.searchLow < tcb.config.mtuProbeThreshold) {
    if (now - probe.probeTimestamp >= tcb.config.mtuProbeIntervalMs) {
      // RFC 4821 §7.7: the path may have changed; search the whole range again from what passes now.
      probe.searchHigh = largestDatagram(tcb);
      probe.searchLow = Math.min(mss + extra, probe.searchHigh);
      probe.probeTimestamp = now;
    }
    return 0;
  }
  const size = ((high + probe.searchLow) >> 1) - extra;
  if (size <= mss) return 0;
  const needed = size + SEGMENTS_AFTER_PROBE * mss;
  if (unsent < needed || windowRoom < needed) return 0;
  if (tcb.pipe + 2 * mss > cc.cwnd) return 0;
  return size;
}

/** A probe of `length` payload bytes leaves at `seq`. */
export function mtuProbeSent(tcb: Tcb, seq: number, length: number): void {
  const probe = tcb.mtuProbe;
  probe.probeSize = length + overhead(tcb);
  probe.probeSeqStart = seq;
  probe.probeSeqEnd = seqAdd(seq, length);
  tcb.env.counters.mtuProbes++;
  tcb.note(`path MTU probe of ${probe.probeSize} bytes (search ${probe.searchLow}-${probe.searchHigh})`);
}

/** A probe is in flight and its first byte is the first unacknowledged one: the loss just found is its own. */
export function mtuProbeIsFirstUnacknowledged(tcb: Tcb): boolean {
  const probe = tcb.existingMtuProbe;
  return probe !== undefined && probe.probeSize !== 0 && tcb.sndUna === probe.probeSeqStart;
}

/** Duplicate ACKs are still the echo of a lost probe whose data went again (see `probeRecoveryEnd`). */
export function inMtuProbeRecovery(tcb: Tcb): boolean {
  const end = tcb.existingMtuProbe?.probeRecoveryEnd;
  return end !== undefined && seqLt(tcb.sndUna, end);
}

/** Whether [seq, seq + length) overlaps the probe in flight. */
export function overlapsMtuProbe(tcb: Tcb, seq: number, length: number): boolean {
  const probe = tcb.existingMtuProbe;
  return (
    probe !== undefined &&
    probe.probeSize !== 0 &&
    seqLt(seq, probe.probeSeqEnd) &&
    seqLt(probe.probeSeqStart, seqAdd(seq, length))
  );
}

/** The probe was lost (RFC 4821 §7.6.2): nothing that large passes; the MSS stays where it was. */
export function mtuProbeFailed(tcb: Tcb): void {
  const probe = tcb.existingMtuProbe;
  if (probe === undefined || probe.probeSize === 0) return;
  probe.searchHigh = probe.probeSize - 1;
  tcb.env.counters.mtuProbeFailures++;
  tcb.note(`path MTU probe of ${probe.probeSize} bytes lost (search ${probe.searchLow}-${probe.searchHigh})`);
  probe.probeSize = 0;
  if (probe.searchHigh - probe.searchLow < tcb.config.mtuProbeThreshold) probe.probeTimestamp = tcb.now;
}

/**
 * An ACK moved SND.UNA: a probe it covers arrived (RFC 4821 §7.5), so datagrams of its size pass and the
 * MSS rises to match.
 */
export function mtuProbeAcknowledged(tcb: Tcb): void {
  const probe = tcb.existingMtuProbe;
  if (probe === undefined) return;
  if (probe.probeRecoveryEnd !== undefined && seqGe(tcb.sndUna, probe.probeRecoveryEnd))
    probe.probeRecoveryEnd = undefined;
  if (probe.probeSize === 0 || !seqGe(tcb.sndUna, probe.probeSeqEnd)) return;
  probe.searchLow = probe.probeSize;
  probe.probeSize = 0;
  tcb.env.counters.mtuProbeSuccesses++;
  const before = tcb.effMss;
  tcb.updateEffectiveMss(MIN_SEND_MSS);
  tcb.note(`path MTU probe of ${probe.searchLow} bytes acknowledged: MSS ${before} -> ${tcb.effMss}`);
  if (probe.searchHigh - probe.searchLow < tcb.config.mtuProbeThreshold) probe.probeTimestamp = tcb.now;
}

/**
 * The path MTU is about to fall (ICMP, TcpConnection.lowerPathMtu). An established connection's search
 * range comes from the path MTU at establishment; a state not made yet would take the lower one, so it
 * is made now, keeping what `initMtuProbing` would have set.
 */
export function keepMtuSearchRange(tcb: Tcb): void {
  if (tcb.ccReady && tcb.existingMtuProbe === undefined) tcb.makeMtuProbe();
}
