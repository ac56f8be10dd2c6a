/**
 * Explicit Congestion Notification for TCP (RFC 3168 §6.1): the handshake that agrees to it, the ECN
 * field of the segments we send, the receiver's echo of Congestion Experienced, and the sender's window
 * reduction for an echo.
 *
 * - Setup (§6.1.1): the SYN carries ECE and CWR ("ECN-setup SYN"); a SYN-ACK agrees with ECE alone. A
 *   SYN-ACK with both set, or with neither, does not agree.
 * - Sending (§6.1.1, §6.1.4-6.1.6): only new data is ECN-capable (ECT(0)); SYNs, pure ACKs,
 *   retransmissions and zero-window probes are not, since a CE mark on them could not be answered by a
 *   window reduction (or would hide a loss).
 * - Receiving (§6.1.3): a CE mark on an acceptable segment makes every ACK carry ECE until a segment with
 *   CWR arrives; CWR and a new CE on the same segment leave ECE set.
 * - Reacting (§6.1.2): ECE halves the window as a loss would (congestion control's `onEnterRecovery` with
 *   kind 'ecn'), but retransmits nothing, at most once per window of data; the next new data segment
 *   carries CWR. A reduction for a loss counts too: ECE within that window changes nothing.
 */
import { TCP_CWR, TCP_ECE } from '../wire/tcp.js';
import { congestionEvent } from './loss-recovery.js';
import { seqGe, seqLt } from './seq.js';
import type { Tcb } from './tcb.js';

/** The ECN field of the IP header (RFC 3168 §5). */
export const ECN_NOT_ECT = 0;
export const ECN_ECT1 = 1;
export const ECN_ECT0 = 2;
export const ECN_CE = 3;

/** The flags our SYN carries for ECN: an ECN-setup SYN when we ask for it (`ecn: true`). */
export function synEcnFlags(tcb: Tcb): number {
  return tcb.config.ecn === true ? TCP_ECE | TCP_CWR : 0;
}

/** The flags our SYN-ACK carries for ECN: ECE alone when we agreed to the peer's request. */
export function synAckEcnFlags(tcb: Tcb): number {
  return tcb.ecnEnabled ? TCP_ECE : 0;
}

/** Passive side: the peer's SYN asks for ECN (ECE and CWR) and our configuration accepts (true or 'passive'). */
export function ecnRequested(config: Tcb['config'], synFlags: number): boolean {
  return config.ecn !== false && (synFlags & (TCP_ECE | TCP_CWR)) === (TCP_ECE | TCP_CWR);
}

/** Passive side, while answering a SYN: whether ECN is used. */
export function negotiateEcnOnSyn(tcb: Tcb, synFlags: number): void {
  tcb.ecnEnabled = ecnRequested(tcb.config, synFlags);
  if (tcb.ecnEnabled) tcb.env.counters.ecnNegotiated++;
}

/** Active side: the SYN-ACK agrees (ECE without CWR) to the ECN-setup SYN we sent (§6.1.1). */
export function negotiateEcnOnSynAck(tcb: Tcb, synAckFlags: number): void {
  tcb.ecnEnabled = tcb.config.ecn === true && (synAckFlags & (TCP_ECE | TCP_CWR)) === TCP_ECE;
  if (tcb.ecnEnabled) tcb.env.counters.ecnNegotiated++;
}

/**
 * The ECN field for a data segment [seq, seq + length) about to leave: ECT(0) for new data (not below
 * SND.MAX, not a zero-window probe), Not-ECT for everything else.
 */
export function dataSegmentEcn(tcb: Tcb, seq: number, length: number, probe: boolean): number {
  if (!tcb.ecnEnabled || length === 0 || probe || seqLt(seq, tcb.sndMax)) return ECN_NOT_ECT;
  return ECN_ECT0;
}

/** CWR goes on this ECT segment if a reduction is waiting to be announced (§6.1.2); consumes it. */
export function takeCwr(tcb: Tcb): number {
  if (!tcb.cwrPending) return 0;
  tcb.cwrPending = false;
  return TCP_CWR;
}

/**
 * Receiver, for an acceptable segment of a synchronized connection: CWR ends the echo, then a CE mark
 * starts it again (§6.1.3). The first CE after none is acknowledged at once, so the sender learns of
 * the congestion without waiting for the delayed-ACK timer (as Linux's quick-ACK mode does).
 */
export function ecnSegmentArrived(tcb: Tcb, flags: number, ecn: number): void {
  if (!tcb.ecnEnabled) return;
  if (flags & TCP_CWR) tcb.ecnEcho = false;
  if (ecn === ECN_CE) {
    tcb.env.counters.ecnCeReceived++;
    if (!tcb.ecnEcho) tcb.ackNow = true;
    tcb.ecnEcho = true;
  }
}

/**
 * Sender: the window was just reduced for a loss (fast recovery, RACK, a timeout). With ECN the peer is
 * told by CWR, and ECE for data of this window asks for nothing more (§6.1.2).
 */
export function windowReducedForLoss(tcb: Tcb): void {
  tcb.ecnCwr = false;
  if (!tcb.ecnEnabled) return;
  tcb.cwrPending = true;
  tcb.ecnReducedUntil = tcb.sndMax;
}

/**
 * Sender, after an acceptable ACK was processed: a reduction made for ECE ends once the data in flight at
 * that time is acknowledged; an ACK carrying ECE then starts a new one (§6.1.2).
 */
export function ecnAckProcessed(tcb: Tcb, flags: number): void {
  const now = tcb.now;
  if (!tcb.ecnEnabled || !tcb.ccReady) return;
  const cc = tcb.cc!;
  const until = tcb.ecnReducedUntil;
  if (until !== undefined && seqGe(tcb.sndUna, until)) {
    tcb.ecnReducedUntil = undefined;
    if (tcb.ecnCwr) {
      tcb.ecnCwr = false;
      if (cc.inRecovery) cc.onExitRecovery(now);
    }
  }
  if ((flags & TCP_ECE) === 0) return;
  tcb.env.counters.ecnEchoesReceived++;
  // Once per window of data; and a window already reduced for a loss is not reduced again.
  if (tcb.ecnReducedUntil !== undefined || cc.inRecovery || tcb.recoveryPoint !== undefined) return;
  tcb.env.counters.ecnReductions++;
  cc.onEnterRecovery(congestionEvent(tcb, 'ecn'));
  tcb.ecnCwr = true;
  tcb.cwrPending = true;
  tcb.ecnReducedUntil = tcb.sndMax;
  tcb.note('ECE: congestion window reduced, CWR on the next new data');
}
