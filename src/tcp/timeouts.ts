/**
 * TIMEOUTS (RFC 9293 §3.10.8) and the other timers of a connection: retransmission (RFC 6298 §5, with
 * R1/R2 from §3.8.3), persist (zero-window probing, §3.8.6.1), delayed ACK (§3.8.6.3), keepalive (§3.8.4),
 * the orphaned FIN-WAIT-2 limit, and TIME-WAIT.
 */
import { windowReducedForLoss } from './ecn.js';
import { TcpError } from './errors.js';
import { reorderingWindow, reorderTimeout, sackRecoveryActive } from './loss-recovery.js';
import { mtuBlackHoleSuspected } from './mtu-probing.js';
import {
  armRetransmissionTimer,
  countSynRetransmission,
  persistInterval,
  retransmitAfterTimeout,
  sendAck,
  sendKeepaliveProbe,
  sendLossProbe,
  sendReset,
  sendSyn,
  sendWindowProbe,
  transmitPending,
} from './output.js';
import { DUP_THRESH } from './scoreboard.js';
import { READABLE_EVENT, type Tcb } from './tcb.js';
import {
  DELAYED_ACK,
  FIN_WAIT_2,
  KEEPALIVE,
  LOSS_PROBE,
  PACING,
  PERSIST,
  READABLE,
  REORDER,
  RETRANSMISSION,
  TIME_WAIT,
  type TimerId,
} from './timers.js';

/** Runs every timer due at `tcb.now`, in TIMER_ORDER, until none is due or the connection closed. */
export function timersExpired(tcb: Tcb): void {
  const now = tcb.now;
  for (let guard = 0; guard < 16; guard++) {
    if (tcb.state === 'CLOSED') return;
    const due = tcb.timers.due(now);
    if (due === undefined) return;
    tcb.timers.cancel(due);
    fire(tcb, due);
    // The application is told of the burst's data (its owner delivers the event when this returns) and
    // reads before the timers still due run, on the owner's next call in this same instant: the burst's
    // ACK (a delayed ACK set for now) then carries the window the read opened, or the read's window
    // update replaces it, instead of an ACK with the window shut and a window update right behind it.
    if (due === READABLE) return;
  }
}

function fire(tcb: Tcb, timer: TimerId): void {
  switch (timer) {
    case TIME_WAIT:
      // §3.10.8 TIME-WAIT TIMEOUT: delete the TCB.
      tcb.note('TIME-WAIT expired');
      tcb.terminate();
      return;
    case FIN_WAIT_2:
      // The application released the connection and the peer never sent its FIN: give up, and tell the
      // peer so it does not wait for us either.
      tcb.note('orphaned FIN-WAIT-2 timed out');
      sendReset(tcb, tcb.sndMax);
      tcb.terminate();
      return;
    case RETRANSMISSION:
      retransmissionTimeout(tcb);
      return;
    case PERSIST:
      persistTimeout(tcb);
      return;
    case DELAYED_ACK:
      if (tcb.synchronized) sendAck(tcb);
      return;
    case KEEPALIVE:
      keepaliveTimeout(tcb);
      return;
    case PACING:
      // The next segment's earliest departure time has come.
      transmitPending(tcb);
      return;
    case REORDER:
      // RACK's reordering timer (RFC 8985 §6.3): segments that were still within the window are judged.
      reorderTimeout(tcb);
      transmitPending(tcb);
      return;
    case READABLE:
      // The burst's in-order data (segment-arrives.ts announceReadable), unless it was read meanwhile.
      if (tcb.receiveBuffer.readable > 0) tcb.env.event(READABLE_EVENT);
      return;
    case LOSS_PROBE:
      // The tail loss probe (RFC 8985 §7.3).
      if (tcb.ccReady && tcb.sndUna !== tcb.sndMax && tcb.recoveryPoint === undefined) {
        sendLossProbe(tcb);
      }
      return;
  }
}

/** The error a connection that gives up reports: ETIMEDOUT, or the ICMP soft error that explains it. */
function timeoutError(tcb: Tcb, what: string): TcpError {
  return tcb.softError ?? new TcpError('ETIMEDOUT', what);
}

function reportR1(tcb: Tcb): void {
  // §3.8.3 (a): at R1 retransmissions the application is told (SHLD-9); IP is given negative advice,
  // which for this stack's IP layer means nothing to do (no dead-gateway detection yet).
  if (!tcb.r1Reported && tcb.retransmitCount >= tcb.config.r1Retransmissions) {
    tcb.r1Reported = true;
    tcb.env.event({ type: 'retransmission-warning', retransmissions: tcb.retransmitCount });
  }
}

/** RFC 6298 §5.4-5.6 and RFC 9293 §3.8.3 (R2, MUST-20..23). */
function retransmissionTimeout(tcb: Tcb): void {
  const now = tcb.now;
  const state = tcb.state;
  if (state === 'SYN-SENT' || state === 'SYN-RECEIVED') {
    if (tcb.passive && state === 'SYN-RECEIVED' && tcb.retransmitCount >= tcb.config.synAckRetries) {
      // A half-open connection whose SYN-ACKs all went unanswered: the SYN was probably spoofed. It
      // gives up after `synAckRetries` (Linux tcp_synack_retries), long before the 3 minutes of R2.
      tcb.env.counters.attemptFails++;
      tcb.env.counters.synAckTimeouts++;
      tcb.note('SYN-ACK retransmissions exhausted');
      tcb.terminate();
      return;
    }
    if (now >= tcb.stallSince + tcb.config.synR2TimeoutMs) {
      tcb.env.counters.attemptFails++;
      if (tcb.passive)
        tcb.terminate(); // the application never saw it
      else tcb.terminate(timeoutError(tcb, 'connection attempt timed out'));
      return;
    }
    tcb.env.counters.retransmissionTimeouts++;
    tcb.rtt.backoff();
    tcb.timing = undefined;
    tcb.synRetransmitted = true;
    tcb.retransmitCount++;
    reportR1(tcb);
    countSynRetransmission(tcb); // traced before the SYN leaves, as every retransmission
    sendSyn(tcb);
    armRetransmissionTimer(tcb);
    return;
  }
  if (tcb.sndUna === tcb.sndMax || !tcb.ccReady) return; // nothing outstanding
  if (resetOrphanOverLimit(tcb, tcb.retransmitCount)) return;
  if (orphanGivenUp(tcb, tcb.retransmitCount)) return;
  if (now >= tcb.stallSince + tcb.config.r2TimeoutMs && tcb.retransmitCount >= tcb.config.r2Retransmissions) {
    tcb.terminate(timeoutError(tcb, 'retransmission timeout (R2) reached'));
    return;
  }
  tcb.env.counters.retransmissionTimeouts++;
  tcb.note(`retransmission timeout (RTO ${tcb.rtt.rto} ms)`);
  tcb.cc!.onRetransmitTimeout(Math.max(tcb.flightSize, 0), tcb.retransmitCount > 0, now, tcb.sndMax);
  windowReducedForLoss(tcb);
  tcb.rtt.backoff(); // RFC 6298 §5.5
  tcb.retransmitCount++;
  tcb.timing = undefined; // Karn (MUST-18)
  tcb.dupAcks = 0;
  tcb.dupAckedBytes = 0; // go-back-N: everything outstanding is sent again
  reportR1(tcb);
  // From R1 on, the silence may be an ICMP black hole swallowing large segments: PLPMTUD lowers the MSS,
  // and what goes again below is cut to it (RFC 4821 §7.7, tcp/mtu-probing.ts).
  mtuBlackHoleSuspected(tcb);
  tcb.timers.cancel(REORDER);
  tcb.timers.cancel(LOSS_PROBE);
  tcb.tlpEndSeq = undefined;
  if (sackRecoveryActive(tcb) && tcb.sndWnd > 0) {
    // With SACK every segment not SACKed is now lost (RFC 6675 §5.1); they go out again lowest first as
    // cwnd (one segment after a timeout) allows, skipping what the peer already holds, and the losses
    // belong to this timeout's reduction rather than starting an episode of their own.
    // RFC 8985 §6.3 with RACK: the first segment, and those sent more than RACK.rtt + reo_wnd ago.
    const sb = tcb.scoreboard;
    // A timeout outside recovery while DupThresh segments were SACKed says the reordering degree was
    // overestimated: it goes back down to DupThresh (Linux's tcp_enter_loss does the same).
    if (tcb.recoveryPoint === undefined && sb.sackedSegments >= DUP_THRESH)
      sb.reordering = Math.min(sb.reordering, DUP_THRESH);
    sb.markAllLost(tcb.config.rack ? now - sb.rackRtt - reorderingWindow(tcb) : Number.POSITIVE_INFINITY);
    tcb.recoveryPoint = tcb.sndMax;
    tcb.undoPossible = false;
    retransmitAfterTimeout(tcb);
    if (!tcb.timers.isArmed(RETRANSMISSION) && tcb.sndUna !== tcb.sndMax) armRetransmissionTimer(tcb);
    return;
  }
  // Go back to the oldest unacknowledged byte; the congestion window (one segment after a timeout) then
  // decides how much goes out again, and later ACKs clock out the rest (RFC 5681 §3.1).
  tcb.sndNxt = tcb.sndUna;
  if (tcb.sndWnd === 0 && tcb.sendBuffer.bytesFrom(tcb.sndUna) > 0) {
    // The peer's window is closed: the retransmission becomes a window probe, and probing takes over
    // from the retransmission timer (a window may stay closed indefinitely, MUST-37).
    sendWindowProbe(tcb);
    tcb.timers.set(PERSIST, now + persistInterval(tcb));
    return;
  }
  transmitPending(tcb, true);
  if (!tcb.timers.isArmed(RETRANSMISSION) && tcb.sndUna !== tcb.sndMax) armRetransmissionTimer(tcb); // §5.6
}

/**
 * An orphan whose timer fires after `backoffs` backoffs is reset when orphans x 2^backoffs exceed the
 * owner's limit (Linux's tcp_out_of_resources at the retransmission and probe timers): orphans that a
 * peer keeps from finishing — by never acknowledging, or by holding its window closed (RFC 6429) — go
 * first, and cannot pile up.
 */
function resetOrphanOverLimit(tcb: Tcb, backoffs: number): boolean {
  if (!tcb.orphaned || tcb.env.tooManyOrphans?.(backoffs) !== true) return false;
  tcb.env.counters.orphansReset++;
  tcb.note('too many orphaned connections: reset');
  sendReset(tcb, tcb.sndMax);
  tcb.terminate();
  return true;
}

/**
 * An orphan whose peer left `orphanRetries` retransmissions (or zero-window probes) in a row unanswered
 * is closed at once (Linux tcp_orphan_retries): the application is gone, so R2's long wait would only
 * hold memory for a peer that stopped answering. A peer that answers its probes is not affected (MUST-37).
 */
function orphanGivenUp(tcb: Tcb, unanswered: number): boolean {
  if (!tcb.orphaned || unanswered < tcb.config.orphanRetries) return false;
  tcb.env.counters.orphansTimedOut++;
  tcb.note(`orphan: ${unanswered} retransmissions unanswered, given up`);
  tcb.terminate(timeoutError(tcb, 'orphan retries exhausted'));
  return true;
}

/** Zero-window probe or SWS override (§3.8.6.1, §3.8.6.2.1). */
function persistTimeout(tcb: Tcb): void {
  const now = tcb.now;
  if (!tcb.ccReady) return;
  if (resetOrphanOverLimit(tcb, tcb.persistBackoff)) return;
  const waiting = tcb.sendBuffer.bytesFrom(tcb.sndUna) > 0 || tcb.finPending;
  if (!waiting) {
    tcb.persistBackoff = 0;
    return;
  }
  if (tcb.sndWnd === 0) {
    if (orphanGivenUp(tcb, tcb.unansweredProbes)) return;
    // MUST-37: the window may stay closed for as long as the peer keeps answering. A peer that left R2
    // probes in a row unanswered and has been silent for the R2 time is given up on, as for
    // retransmissions (and as Linux counts probes against tcp_retries2). Time alone is not enough: backed
    // off probes are up to two minutes apart, and one lost answer must not end the connection.
    if (
      tcb.unansweredProbes >= tcb.config.r2Retransmissions &&
      now - tcb.lastReceiveTime >= tcb.config.r2TimeoutMs
    ) {
      tcb.terminate(timeoutError(tcb, 'zero-window probes unanswered'));
      return;
    }
    sendWindowProbe(tcb);
    tcb.persistBackoff++;
    tcb.timers.set(PERSIST, now + persistInterval(tcb));
    return;
  }
  // A small window kept the data back (sender SWS avoidance) with nothing in flight: send what fits.
  tcb.persistBackoff++;
  transmitPending(tcb, true);
  if (tcb.flightSize === 0 && !tcb.timers.isArmed(PERSIST) && tcb.sendBuffer.bytesFrom(tcb.sndNxt) > 0) {
    tcb.timers.set(PERSIST, now + persistInterval(tcb));
  }
}

/** §3.8.4 keepalive (MUST-24..29). */
function keepaliveTimeout(tcb: Tcb): void {
  const now = tcb.now;
  const state = tcb.state;
  if (!tcb.keepAlive || (state !== 'ESTABLISHED' && state !== 'CLOSE-WAIT' && state !== 'FIN-WAIT-2')) return;
  if (tcb.sndUna !== tcb.sndMax || tcb.sendBuffer.bytesFrom(tcb.sndNxt) > 0) {
    // Not idle (MUST-26): data is outstanding or waiting, and its own timers watch the peer.
    tcb.keepaliveProbesSent = 0;
    tcb.timers.set(KEEPALIVE, now + tcb.keepAliveIdleMs);
    return;
  }
  if (tcb.keepaliveProbesSent >= tcb.config.keepAliveProbes) {
    tcb.terminate(timeoutError(tcb, 'keepalive probes unanswered'));
    return;
  }
  // MUST-29: one unanswered probe is not fatal; several are sent, an interval apart.
  tcb.keepaliveProbesSent++;
  sendKeepaliveProbe(tcb);
  tcb.timers.set(KEEPALIVE, now + tcb.config.keepAliveIntervalMs);
}
