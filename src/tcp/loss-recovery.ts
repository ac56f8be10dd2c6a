/**
 * Loss detection and recovery with SACK: what the scoreboard (scoreboard.ts) learns from each ACK turned
 * into decisions — which segments are lost (RACK, RFC 8985 §6, or RFC 6675's IsLost), when a recovery
 * episode starts and ends (RFC 6675 §5, RecoveryPoint), when a reduction was spurious and is undone
 * (D-SACK, RFC 3708), and the tail loss probe (RFC 8985 §7). The retransmissions themselves are sent by
 * output.ts (`retransmitLost`), within cwnd - pipe.
 *
 * Without SACK the connection keeps RFC 5681/6582's duplicate-ACK path, decided by congestion control.
 */

import type { CongestionEvent } from './congestion/congestion-control.js';
import { windowReducedForLoss } from './ecn.js';
import { mtuProbeFailed, mtuProbeIsFirstUnacknowledged } from './mtu-probing.js';
import { type AckOutcome, DUP_THRESH } from './scoreboard.js';
import { seqDiff, seqGe, seqLe } from './seq.js';
import type { Tcb } from './tcb.js';
import { LOSS_PROBE, REORDER, RETRANSMISSION } from './timers.js';

/** Worst-case delayed-ACK time added to a probe for a single segment in flight (RFC 8985 §7.2: WCDelAckT). */
const WORST_CASE_DELAYED_ACK_MS = 200;
/** Recovery episodes a widened reordering window lasts (RFC 8985 §6.2 step 4). */
const REO_WND_PERSIST = 16;

/**
 * Loss detection runs on the scoreboard when SACK was negotiated: RACK-TLP (RFC 8985) when switched on
 * (the default, as Linux), RFC 6675's IsLost otherwise. Without SACK the duplicate-ACK path (RFC 5681,
 * NewReno's RFC 6582) decides.
 */
export function sackRecoveryActive(tcb: Tcb): boolean {
  return tcb.sackEnabled && tcb.ccReady;
}

/**
 * After an acceptable ACK was processed (SND.UNA updated) on a SACK connection: D-SACK handling, loss
 * marking, and the start or end of a recovery episode.
 */
export function sackAckProcessed(tcb: Tcb, outcome: AckOutcome, cumulative: boolean): void {
  // RFC 6675 §5: DupAcks counts ACKs that SACK new data; a cumulative ACK resets it.
  if (cumulative) tcb.sackDupAcks = 0;
  else if (outcome.newlySacked > 0) tcb.sackDupAcks++;
  if (outcome.dsack) dsackArrived(tcb, outcome);
  countReordering(tcb);
  if (tcb.tlpEndSeq !== undefined && seqGe(tcb.sndUna, tcb.tlpEndSeq)) tailProbeAnswered(tcb, outcome);
  if (tcb.recoveryPoint !== undefined && seqGe(tcb.sndUna, tcb.recoveryPoint)) exitRecovery(tcb);
  markLosses(tcb);
  if (tcb.scoreboard.reneged) renegingDetected(tcb);
}

/** Least wait before the retransmission timer answers reneging (Linux: 10 ms). */
const RENEGING_MIN_WAIT_MS = 10;

/**
 * The peer discarded data it had SACKed (RFC 2018 §8): nothing but the retransmission timer sends it
 * again, so the timer is brought forward to half an RTT (at least 10 ms), as Linux does, instead of
 * waiting a whole RTO; the timeout then turns the SACK bits off (Scoreboard.markAllLost).
 */
function renegingDetected(tcb: Tcb): void {
  const deadline = tcb.now + Math.max(tcb.rtt.srtt / 2, RENEGING_MIN_WAIT_MS);
  if (tcb.timers.isArmed(RETRANSMISSION) && tcb.timers.get(RETRANSMISSION) <= deadline) return;
  tcb.env.counters.sackReneging++;
  tcb.timers.set(RETRANSMISSION, deadline);
}

/** Judges segments lost by RACK or by IsLost, and starts an episode when one is newly lost. */
export function markLosses(tcb: Tcb): void {
  const now = tcb.now;
  const sb = tcb.scoreboard;
  const before = sb.lostBytes;
  if (tcb.config.rack) {
    const timeout = sb.markLostByRack(reorderingWindow(tcb));
    // At least a millisecond: on a fractional clock a remainder of a rounding error would otherwise
    // re-arm the timer at the same instant forever.
    if (timeout > 0) tcb.timers.set(REORDER, now + Math.max(timeout, 1));
    else tcb.timers.cancel(REORDER);
  } else {
    sb.markLostBySack(tcb.effMss);
    // RFC 6675 §5 step (1): DupThresh duplicate ACKs start recovery even when the SACKed data is too
    // little for IsLost (segments shorter than SMSS): the first segment not acknowledged is lost.
    if (tcb.recoveryPoint === undefined && tcb.sackDupAcks >= DUP_THRESH) sb.markFirstLost(tcb.effMss);
  }
  const newlyLost = sb.lostBytes - before;
  if (newlyLost > 0) {
    tcb.env.counters.segmentsMarkedLost += Math.max(1, Math.round(newlyLost / tcb.effMss));
    if (tcb.recoveryPoint === undefined) enterRecovery(tcb);
  }
}

/**
 * RACK's reordering window (RFC 8985 §6.2 step 4): a quarter of the minimum RTT times the multiplier
 * D-SACKs raise, at most SRTT; none before reordering was ever seen once recovery has started or
 * DupThresh segments are SACKed (then RACK acts as fast as the duplicate-ACK rule would).
 */
export function reorderingWindow(tcb: Tcb): number {
  const sb = tcb.scoreboard;
  if (!sb.reorderingSeen) {
    if (tcb.recoveryPoint !== undefined) return 0;
    // "DupThresh segments SACKed": segments, however many bytes each carries (a TSO segment counts as
    // the MSS-sized pieces it holds). DupThresh is the connection's reordering degree, as Linux's
    // tcp_rack_reo_wnd compares sacked_out with tp->reordering (3 until reordering is seen).
    if (sb.sackedSegments >= sb.reordering) return 0;
  }
  const minRtt = Number.isFinite(tcb.minRttMs) ? tcb.minRttMs : tcb.rtt.srtt;
  const srtt = tcb.rtt.srtt > 0 ? tcb.rtt.srtt : Number.POSITIVE_INFINITY;
  return Math.min((tcb.reoWndMult * minRtt) / 4, srtt);
}

/**
 * Counts what this ACK taught about the path's reordering degree (scoreboard.reordering): raised
 * (Linux TCPSACKReorder) and held at its cap (`maxReordering`).
 */
function countReordering(tcb: Tcb): void {
  const sb = tcb.scoreboard;
  const counters = tcb.env.counters;
  if (sb.reorderingRaised !== tcb.reorderingRaisedCounted) {
    counters.reorderingRaised += sb.reorderingRaised - tcb.reorderingRaisedCounted;
    tcb.reorderingRaisedCounted = sb.reorderingRaised;
  }
  if (sb.reorderingCapped !== tcb.reorderingCappedCounted) {
    counters.reorderingCapped += sb.reorderingCapped - tcb.reorderingCappedCounted;
    tcb.reorderingCappedCounted = sb.reorderingCapped;
  }
}

/** What congestion control hears of a congestion signal (a loss, or ECE): the flight as it is now. */
export function congestionEvent(tcb: Tcb, kind: 'loss' | 'ecn'): CongestionEvent {
  return {
    kind,
    pipe: tcb.pipe,
    flightSize: seqDiff(tcb.sndMax, tcb.sndUna),
    sndUna: tcb.sndUna,
    sndMax: tcb.sndMax,
    sentTotal: tcb.bytesSent,
    now: tcb.now,
  };
}

/** RFC 6675 §5 step 4 (and RACK's "enter fast recovery"): one window reduction per episode. */
function enterRecovery(tcb: Tcb): void {
  tcb.recoveryPoint = tcb.sndMax;
  tcb.undoRetransmitted = 0;
  tcb.undoPossible = false;
  tcb.timers.cancel(LOSS_PROBE);
  if (mtuProbeIsFirstUnacknowledged(tcb)) {
    // The loss is a path MTU probe's: it was too big, which says nothing about congestion (RFC 4821
    // §7.6.1). Its data is retransmitted cut to the MSS within this episode, without a window reduction.
    mtuProbeFailed(tcb);
    tcb.note(`probe loss recovery until ${tcb.recoveryPoint >>> 0}`);
    return;
  }
  tcb.env.counters.sackRecoveries++;
  windowReducedForLoss(tcb);
  tcb.cc!.onEnterRecovery(congestionEvent(tcb, 'loss'));
  tcb.note(`loss recovery (${tcb.config.rack ? 'RACK' : 'RFC 6675'}) until ${tcb.recoveryPoint >>> 0}`);
}

function exitRecovery(tcb: Tcb): void {
  tcb.recoveryPoint = undefined;
  tcb.cc?.onExitRecovery(tcb.now);
  if (tcb.reoWndPersist > 0 && --tcb.reoWndPersist === 0) tcb.reoWndMult = 1;
}

/**
 * A D-SACK (RFC 2883): the peer got something twice. RACK widens its reordering window for a while
 * (RFC 8985 §6.2 step 4, once per round trip), and when every retransmission of the episode comes back
 * D-SACKed the reduction was spurious and is undone (RFC 3708 §3, as Linux's DSACK undo).
 */
function dsackArrived(tcb: Tcb, outcome: AckOutcome): void {
  const now = tcb.now;
  tcb.env.counters.dsacksReceived++;
  if (tcb.dsackRound !== undefined && seqGe(tcb.sndUna, tcb.dsackRound)) tcb.dsackRound = undefined;
  if (tcb.dsackRound === undefined) {
    tcb.dsackRound = tcb.sndMax;
    tcb.reoWndMult++;
    tcb.reoWndPersist = REO_WND_PERSIST;
  }
  if (tcb.tlpEndSeq !== undefined && tcb.tlpRetransmitted && seqLe(outcome.dsackEnd, tcb.tlpEndSeq)) {
    // The probe duplicated a segment that had arrived: nothing was lost (RFC 8985 §7.4.1).
    tcb.tlpEndSeq = undefined;
  }
  if (!tcb.undoPossible) return;
  tcb.undoRetransmitted -= seqDiff(outcome.dsackEnd, outcome.dsackStart);
  if (tcb.undoRetransmitted <= 0) {
    tcb.undoPossible = false;
    tcb.env.counters.spuriousUndos++;
    tcb.note('every retransmission D-SACKed: window reduction undone');
    tcb.cc?.onUndo(now);
  }
}

/**
 * The ACK covers the tail loss probe (RFC 8985 §7.4): if the probe was a retransmission that no D-SACK
 * showed to be a duplicate, it repaired a loss, which congestion control must hear about as any other.
 */
function tailProbeAnswered(tcb: Tcb, outcome: AckOutcome): void {
  const repaired = tcb.tlpRetransmitted && !outcome.dsack;
  tcb.tlpEndSeq = undefined;
  if (repaired && tcb.recoveryPoint === undefined) {
    tcb.env.counters.lossProbeRecoveries++;
    enterRecovery(tcb);
    tcb.recoveryPoint = tcb.sndUna; // a reduction, not an episode: it ends with the next ACK
  }
}

/** Records the transmission of [seq, end) on the scoreboard (every data or FIN segment sent). */
export function recordTransmission(tcb: Tcb, seq: number, end: number): void {
  const sb = tcb.scoreboard;
  const retransmission = seqDiff(seq, tcb.sndMax) < 0;
  // The FIN of a connection that sent no data goes without congestion control (transmitPending); it is
  // not application-limited either way (the FIN is pending while it is sent).
  const cc = tcb.existingCc;
  const appLimited =
    cc !== undefined && tcb.sendBuffer.bytesFrom(end) === 0 && !tcb.finPending && tcb.pipe < cc.cwnd;
  if (retransmission && tcb.recoveryPoint !== undefined) {
    tcb.undoRetransmitted += seqDiff(end, seq);
    tcb.undoPossible = true;
  }
  sb.onTransmit(seq, end, tcb.pipe, appLimited);
}

/**
 * Arms the tail loss probe (RFC 8985 §7.2) when data is outstanding, no recovery is under way and no
 * probe is: PTO = 2 SRTT (plus the worst-case delayed ACK when one segment is in flight), 1 s before any
 * RTT sample; never later than the retransmission timer, which then stays in charge. The timers compute
 * the PTO (ConnectionTimers.updateLossProbe); this decides whether a probe is due and its allowance.
 */
export function armLossProbe(tcb: Tcb): void {
  const timers = tcb.timers;
  const due =
    tcb.config.rack &&
    sackRecoveryActive(tcb) &&
    tcb.sndUna !== tcb.sndMax &&
    tcb.recoveryPoint === undefined &&
    tcb.tlpEndSeq === undefined &&
    tcb.retransmitCount === 0 &&
    timers.isArmed(RETRANSMISSION);
  const oneSegment = due && seqDiff(tcb.sndMax, tcb.sndUna) <= tcb.effMss;
  timers.updateLossProbe(due, tcb.rtt, oneSegment ? WORST_CASE_DELAYED_ACK_MS : 0);
}

/** The RACK reordering timer fired (RFC 8985 §6.3): judge the segments that were waiting. */
export function reorderTimeout(tcb: Tcb): void {
  if (!sackRecoveryActive(tcb)) return;
  markLosses(tcb);
}
