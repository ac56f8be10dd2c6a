/**
 * SEGMENT ARRIVES (RFC 9293 §3.10.7) for a connection that exists: SYN-SENT (§3.10.7.3) and the
 * synchronized states (§3.10.7.4). CLOSED and LISTEN (§3.10.7.1, §3.10.7.2) have no TCB and are handled
 * by the TCP layer. The checks run in the RFC's order; each is marked with the step it implements.
 */
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, TCP_URG, type TcpSegment } from '../wire/tcp.js';
import { MIN_SEND_MSS } from './config.js';
import { ecnAckProcessed, ecnSegmentArrived, negotiateEcnOnSynAck, windowReducedForLoss } from './ecn.js';
import { TcpError } from './errors.js';
import { sackAckProcessed, sackRecoveryActive } from './loss-recovery.js';
import {
  initMtuProbing,
  inMtuProbeRecovery,
  mtuProbeAcknowledged,
  mtuProbeFailed,
  mtuProbeIsFirstUnacknowledged,
} from './mtu-probing.js';
import {
  answerInvalidSegment,
  armRetransmissionTimer,
  fastRetransmit,
  retransmitFailedProbe,
  sendAck,
  sendReset,
  sendSyn,
  transmitPending,
} from './output.js';
import { type AckOutcome, DUP_THRESH } from './scoreboard.js';
import { seqAdd, seqDiff, seqGe, seqGt, seqInRange, seqLe, seqLt } from './seq.js';
import { CONNECTED_EVENT, DRAIN_EVENT, END_EVENT, READABLE_EVENT, type Tcb } from './tcb.js';
import {
  DELAYED_ACK,
  FIN_WAIT_2,
  KEEPALIVE,
  PERSIST,
  READABLE,
  RETRANSMISSION,
  TIME_WAIT,
} from './timers.js';

/**
 * Entry point: one segment for this connection, at time `tcb.now`; `ecn` is the ECN field of the IP header
 * it came in (RFC 3168 §5), 0 when unknown.
 */
export function segmentArrives(tcb: Tcb, seg: TcpSegment, ecn = 0): void {
  tcb.segmentsReceived++;
  switch (tcb.state) {
    case 'CLOSED':
    case 'LISTEN':
      tcb.drop('no connection');
      return;
    case 'SYN-SENT':
      synSentArrives(tcb, seg);
      return;
    default:
      synchronizedArrives(tcb, seg, ecn);
  }
}

/** Reads the peer's MSS option (MUST-14), defaulting to 536 (MUST-15; 1220 over IPv6), and fixes the send MSS (MUST-16). */
function learnPeerMss(tcb: Tcb, seg: TcpSegment): void {
  const mss = seg.options.mss;
  tcb.peerMss = mss !== undefined && mss > 0 ? mss : tcb.defaultPeerMss;
  tcb.updateEffectiveMss(MIN_SEND_MSS);
}

/** The handshake completed: window variables, congestion control, RTT from the handshake, 'connected'. */
function establish(tcb: Tcb, seg: TcpSegment): void {
  const now = tcb.now;
  // The window of a SYN-ACK is never scaled; that of the ACK completing a passive open is (RFC 7323 §2.2).
  const window = seg.flags & TCP_SYN ? seg.window : seg.window << tcb.sndWindowScale;
  tcb.sndWnd = window;
  tcb.maxSndWnd = Math.max(tcb.maxSndWnd, window);
  tcb.sndWl1 = seg.seq | 0;
  tcb.sndWl2 = seg.ack | 0;
  if (tcb.timing !== undefined && !tcb.synRetransmitted) tcb.rtt.sample(now - tcb.timing.sentAt);
  tcb.timing = undefined;
  if (tcb.synRetransmitted) tcb.rtt.resetAfterSynTimeout(); // RFC 6298 §5.7
  tcb.retransmitCount = 0;
  tcb.r1Reported = false;
  initMtuProbing(tcb);
  tcb.ccReady = true;
  tcb.setState('ESTABLISHED');
  tcb.env.event(CONNECTED_EVENT);
  if (tcb.keepAlive) tcb.timers.setAfter(KEEPALIVE, now, tcb.keepAliveIdleMs);
  // CLOSE was called before the connection was established (§3.10.4): the FIN goes out after the data.
  if (tcb.finQueued) tcb.setState('FIN-WAIT-1');
}

/** §3.10.7.3 SYN-SENT. */
function synSentArrives(tcb: Tcb, seg: TcpSegment): void {
  const now = tcb.now;
  const flags = seg.flags;
  const hasAck = (flags & TCP_ACK) !== 0;
  // First: the ACK bit. An ACK that does not cover exactly our SYN gets a reset (unless it is one).
  if (hasAck && (seqLe(seg.ack, tcb.iss) || seqGt(seg.ack, tcb.sndMax))) {
    if ((flags & TCP_RST) === 0) sendReset(tcb, seg.ack);
    tcb.drop('SYN-SENT: unacceptable ACK');
    return;
  }
  // Second: the RST bit. Only a RST that acknowledges our SYN is believed (RFC 5961 §3 blind reset).
  if (flags & TCP_RST) {
    if (hasAck) {
      tcb.env.counters.attemptFails++;
      tcb.terminate(new TcpError('ECONNREFUSED', 'connection refused by the peer'));
    } else {
      tcb.drop('SYN-SENT: RST without ACK');
    }
    return;
  }
  // Third: security/compartment checks are not implemented (RFC 9293 deprecates them; §3.10.7.3).
  // Fourth: the SYN bit.
  if ((flags & TCP_SYN) === 0) {
    tcb.drop('SYN-SENT: neither SYN nor RST');
    return;
  }
  tcb.irs = seg.seq | 0;
  tcb.rcvNxt = seqAdd(seg.seq, 1);
  tcb.rcvAdvRight = seqAdd(tcb.rcvNxt, tcb.initialReceiveWindow);
  tcb.lastReceiveTime = now;
  tcb.negotiateTimestamps(seg.options.timestamp);
  tcb.negotiateSack(seg.options.sackPermitted);
  if (hasAck) negotiateEcnOnSynAck(tcb, flags);
  learnPeerMss(tcb, seg);
  tcb.negotiateWindowScale(seg.options.windowScale);
  if (hasAck) {
    tcb.sndUna = seg.ack | 0;
    if (seqLt(tcb.sndNxt, tcb.sndUna)) tcb.sndNxt = tcb.sndUna;
  }
  if (seqGt(tcb.sndUna, tcb.iss)) {
    // Our SYN is acknowledged: ESTABLISHED, and ACK the peer's SYN (piggybacked on data if any is queued).
    tcb.timers.cancel(RETRANSMISSION);
    tcb.stallSince = now;
    establish(tcb, seg);
    tcb.ackNow = true;
    // "If there are other controls or text in the segment, then continue processing at the sixth step."
    const afterSyn = seqAdd(seg.seq, 1);
    processUrgent(tcb, seg, seg.seq | 0);
    const finAccepted = processText(tcb, afterSyn, seg.payload);
    if (flags & TCP_FIN && finAccepted) processFin(tcb, seqAdd(afterSyn, seg.payload.length));
    transmitPending(tcb);
    return;
  }
  // Simultaneous open (§3.5, figure 8; MUST-10): both SYNs crossed. Answer with SYN-ACK and wait in
  // SYN-RECEIVED; the retransmission timer now covers the SYN-ACK. Text on the SYN is not accepted (not
  // acknowledged), so the peer sends it again once the connection is established.
  tcb.sndWnd = seg.window;
  tcb.maxSndWnd = Math.max(tcb.maxSndWnd, seg.window);
  tcb.sndWl1 = seg.seq | 0;
  tcb.sndWl2 = seg.ack | 0;
  tcb.setState('SYN-RECEIVED');
  sendSyn(tcb);
}

/**
 * §3.10.7.4 first check, the four acceptability cases, against the window last advertised (RCV.WND).
 * One leniency, as Linux has it: a zero-length segment exactly at the right edge is accepted. A peer
 * that has filled our window sends its ACKs with SEG.SEQ = SND.NXT = our right edge; refusing them
 * would throw away the acknowledgments (and window updates) they carry.
 */
function acceptable(tcb: Tcb, seq: number, segLen: number): boolean {
  const s = seq;
  const rcvWnd = tcb.rcvWnd;
  const rcvNxt = tcb.rcvNxt;
  const right = (rcvNxt + rcvWnd) | 0;
  if (segLen === 0) return rcvWnd === 0 ? s === rcvNxt : seqGe(s, rcvNxt) && seqLe(s, right);
  if (rcvWnd === 0) return false;
  return seqInRange(s, rcvNxt, right) || seqInRange((s + segLen - 1) | 0, rcvNxt, right);
}

/** TS.Recent older than this is no longer trusted by PAWS (RFC 7323 §5.5: 24 days). */
export const PAWS_IDLE_LIMIT_MS = 24 * 24 * 60 * 60 * 1000;

/**
 * RFC 7323 §3.2 and §5.3 R1 on a connection that negotiated timestamps. A segment without the option is
 * dropped silently (a RST is still accepted). PAWS: a segment whose TSval is older than TS.Recent is an
 * old duplicate, from an earlier wrap of the sequence space or an earlier incarnation: it is not
 * acceptable, and is answered with an ACK like any unacceptable segment. A RST is exempt (§5.3 R1), as
 * is everything once TS.Recent has sat unused for 24 days (§5.5).
 */
function timestampAcceptable(tcb: Tcb, seg: TcpSegment, rst: boolean): boolean {
  const now = tcb.now;
  const ts = seg.options.timestamp;
  if (rst) return true;
  if (ts === undefined) {
    tcb.env.counters.timestampMissingDrops++;
    tcb.drop('no timestamp option on a connection that negotiated timestamps');
    return false;
  }
  if (seqLt(ts.value, tcb.tsRecent) && now - tcb.tsRecentAt <= PAWS_IDLE_LIMIT_MS) {
    tcb.env.counters.pawsDrops++;
    answerInvalidSegment(tcb, 'paws');
    tcb.drop('PAWS: timestamp older than TS.Recent');
    return false;
  }
  return true;
}

/**
 * §3.10.7.4 first check, unacceptable segment: "send an acknowledgment ... and drop", within the limit
 * of RFC 5961 §7. Data lying wholly within one buffer's length below RCV.NXT is the peer retransmitting
 * what we acknowledged with an ACK it lost: it is answered whatever the limit, or the peer could stall.
 */
function answerOutOfWindow(tcb: Tcb, seq: number, length: number, syn: boolean): void {
  if (tcb.state === 'TIME-WAIT') {
    answerInvalidSegment(tcb, 'time-wait');
    return;
  }
  if (syn) {
    // RFC 5961 §4.2: a SYN gets a challenge ACK whatever its sequence number (as Linux does).
    answerInvalidSegment(tcb, 'challenge');
    return;
  }
  const span = Math.max(tcb.receiveBuffer.capacity, 65535);
  const end = seqAdd(seq, length);
  if (length > 0 && seqLe(end, tcb.rcvNxt) && seqGe(seq, seqAdd(tcb.rcvNxt, -span))) {
    // Text wholly below RCV.NXT is a duplicate: the ACK reports it (D-SACK, RFC 2883 §4.1).
    tcb.reportDuplicate(seq, end);
    sendAck(tcb);
    return;
  }
  answerInvalidSegment(tcb, 'out-of-window');
}

/** §3.10.7.4 for SYN-RECEIVED, ESTABLISHED, FIN-WAIT-1/2, CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT. */
function synchronizedArrives(tcb: Tcb, seg: TcpSegment, ecn: number): void {
  const now = tcb.now;
  const flags = seg.flags;
  // SEG.SEQ in the signed form TCP keeps (seq.ts), whichever form the segment record holds.
  const segSeq = seg.seq | 0;
  let seq = segSeq;
  let syn = (flags & TCP_SYN) !== 0;
  let fin = (flags & TCP_FIN) !== 0;
  let payload = seg.payload;
  const rst = (flags & TCP_RST) !== 0;

  if (tcb.state === 'SYN-RECEIVED' && syn && !rst && seq === tcb.irs) {
    if ((flags & TCP_ACK) === 0) {
      // A retransmission of the SYN we answered: our SYN-ACK was probably lost. Resend it now rather than
      // making the peer wait for our timer (the RFC would only ACK; Linux and BSD resend the SYN-ACK).
      sendSyn(tcb);
      return;
    }
    if ((seg.ack | 0) === tcb.sndMax) {
      // Simultaneous open, figure 8 line 6: the peer's SYN-ACK. Its SYN was already acknowledged by our
      // SYN-ACK; what is new is its ACK of our SYN, so drop the SYN and carry on with the rest.
      seq = seqAdd(seq, 1);
      syn = false;
    }
  }

  const segLen = payload.length + (syn ? 1 : 0) + (fin ? 1 : 0);

  // RFC 7323 §5.3 R1: PAWS, before the sequence number check.
  if (tcb.tsEnabled && !timestampAcceptable(tcb, seg, rst)) return;

  if (tcb.state === 'TIME-WAIT' && fin && !rst && !syn && seqAdd(seq, segLen) === tcb.rcvNxt) {
    // §3.10.7.4 (TIME-WAIT, fifth and eighth steps): the peer did not get our last ACK and sent its FIN
    // again. Acknowledge it and restart the 2 MSL timeout.
    sendAck(tcb);
    tcb.timers.set(TIME_WAIT, now + 2 * tcb.config.mslMs);
    return;
  }

  // First: the sequence number. A RST is judged by its sequence number alone (RFC 5961 §3.2), so one
  // carrying data (SHLD-2) is still processed when the window is zero (MUST-66).
  if (!acceptable(tcb, seq, rst ? 0 : segLen)) {
    if (tcb.rcvWnd === 0 && seq === tcb.rcvNxt && !syn && !rst) {
      // A zero window accepts no text, but the ACK, URG and RST of a segment at RCV.NXT are still
      // processed (§3.10.7.4, MUST-66). Drop the text, keep a bare FIN (the stream may end even while
      // the window is shut), and answer so the sender learns the window is still closed.
      if (payload.length > 0) {
        payload = payload.subarray(0, 0);
        fin = false;
        tcb.drop('zero window: text discarded');
      }
      tcb.ackNow = true;
    } else {
      if (!rst) answerOutOfWindow(tcb, seq, payload.length, syn);
      tcb.drop(rst ? 'RST outside the window' : 'segment outside the window');
      return;
    }
  }
  tcb.lastReceiveTime = now;
  tcb.keepaliveProbesSent = 0;
  if (tcb.keepAlive && tcb.timers.isArmed(KEEPALIVE))
    tcb.timers.setAfter(KEEPALIVE, now, tcb.keepAliveIdleMs);

  // Second: the RST bit (with RFC 5961 §3.2: only an exact match resets; in-window gets a challenge ACK).
  if (rst) {
    if (tcb.state === 'TIME-WAIT') {
      // RFC 1337 TIME-WAIT assassination: ignore RST in TIME-WAIT.
      tcb.drop('RST in TIME-WAIT ignored (RFC 1337)');
      return;
    }
    if (segSeq !== tcb.rcvNxt) {
      answerInvalidSegment(tcb, 'challenge');
      tcb.drop('RST not at RCV.NXT: challenge ACK');
      return;
    }
    resetArrived(tcb);
    return;
  }

  // Third: security/compartment check, not implemented (deprecated by RFC 9293).

  // Fourth: the SYN bit.
  if (syn) {
    if (tcb.state === 'SYN-RECEIVED' && tcb.passive) {
      // "If the connection was initiated with a passive OPEN, then return this connection to the LISTEN
      // state": the embryonic connection is dropped; the listener is still there for a new SYN.
      tcb.drop('SYN in SYN-RECEIVED: back to LISTEN');
      tcb.env.counters.attemptFails++;
      tcb.terminate();
      return;
    }
    // RFC 5961 §4.2: a SYN in a synchronized state gets a challenge ACK, whatever its sequence number.
    // A peer that really restarted answers it with a RST carrying the right sequence number.
    answerInvalidSegment(tcb, 'challenge');
    tcb.drop('SYN in synchronized state: challenge ACK');
    return;
  }

  // RFC 7323 §4.3 (R3 of §5.3): TS.Recent follows the timestamps of in-order segments only, those that
  // start at or before the edge we last acknowledged; an out-of-order one must not move it, or the
  // echo would no longer time the segment that finally fills the gap.
  const ts = seg.options.timestamp;
  if (tcb.tsEnabled && ts !== undefined && seqLe(segSeq, tcb.lastAckSent)) {
    if (seqGe(ts.value, tcb.tsRecent) || now - tcb.tsRecentAt > PAWS_IDLE_LIMIT_MS) {
      tcb.tsRecent = ts.value | 0;
      tcb.tsRecentAt = now;
    }
  }

  // Fifth: the ACK field.
  if ((flags & TCP_ACK) === 0) {
    tcb.drop('no ACK bit');
    return;
  }
  if (tcb.state === 'SYN-RECEIVED') {
    if (seqGt(seg.ack, tcb.sndUna) && seqLe(seg.ack, tcb.sndMax)) {
      establish(tcb, seg);
    } else {
      sendReset(tcb, seg.ack);
      tcb.drop('SYN-RECEIVED: unacceptable ACK');
      return;
    }
  }
  // RFC 5961 §5.2: acceptable ACKs lie in [SND.UNA - MAX.SND.WND, SND.NXT]; others get an ACK (limited
  // as a challenge ACK, §7) and are dropped.
  if (!(seqGe(seg.ack, seqAdd(tcb.sndUna, -tcb.maxSndWnd)) && seqLe(seg.ack, tcb.sndMax))) {
    answerInvalidSegment(tcb, 'challenge');
    tcb.drop(seqGt(seg.ack, tcb.sndMax) ? 'ACK for data not yet sent' : 'ACK too old');
    return;
  }
  // A duplicate ACK carries no data and no SYN/FIN (RFC 5681 §2), judged on the segment as it arrived: a
  // zero-window probe whose octet was discarded above still carried data, and says nothing about loss.
  const bare = seg.payload.length === 0 && (flags & (TCP_SYN | TCP_FIN)) === 0;
  // RFC 3168 §6.1.3: the echo of CE marks, judged on every acceptable segment.
  if (tcb.ecnEnabled) ecnSegmentArrived(tcb, flags, ecn);
  if (!processAck(tcb, seg, seq, bare)) return;
  // RFC 3168 §6.1.2: ECE asks the sender for a window reduction, after loss detection has run.
  if (tcb.ecnEnabled) ecnAckProcessed(tcb, flags);

  // Sixth: the URG bit.
  processUrgent(tcb, seg, segSeq);

  // Seventh: the segment text.
  let finAccepted = fin;
  if (payload.length > 0) {
    if (tcb.state === 'ESTABLISHED' || tcb.state === 'FIN-WAIT-1' || tcb.state === 'FIN-WAIT-2') {
      if (tcb.orphaned && seqGt(seqAdd(seq, payload.length), tcb.rcvNxt)) {
        // The application is gone and will never read this: reset to tell the peer data was lost
        // (RFC 1122 §4.2.2.13, SHLD-3).
        sendReset(tcb, tcb.sndMax);
        tcb.terminate(
          new TcpError('ECONNABORTED', 'data arrived after the application released the connection'),
        );
        return;
      }
      const echo = tcb.tsEnabled && payload.length > 0 ? seg.options.timestamp?.echo : undefined;
      if (echo !== undefined && echo !== 0) tcb.receiveTuner?.onTimestampEcho(tcb.tsVal(), echo | 0);
      finAccepted = processText(tcb, seq, payload) && fin;
    } else {
      // CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT: the peer already sent its FIN; ignore the text.
      tcb.drop('text after FIN ignored');
      finAccepted = false;
    }
  }

  // Eighth: the FIN bit.
  if (finAccepted) processFin(tcb, seqAdd(seq, payload.length));
  else if (tcb.pendingFinSeq !== undefined && tcb.pendingFinSeq === tcb.rcvNxt) processFin(tcb, tcb.rcvNxt);

  transmitPending(tcb);
}

/** §3.10.7.4 second check, an exact-match RST: what it means depends on the state. */
function resetArrived(tcb: Tcb): void {
  switch (tcb.state) {
    case 'SYN-RECEIVED':
      tcb.env.counters.attemptFails++;
      if (tcb.passive) {
        // MUST-11: a passively opened connection goes back to LISTEN; the application never saw it.
        tcb.terminate();
      } else {
        tcb.terminate(new TcpError('ECONNREFUSED', 'connection refused by the peer'));
      }
      return;
    case 'ESTABLISHED':
    case 'FIN-WAIT-1':
    case 'FIN-WAIT-2':
    case 'CLOSE-WAIT':
      tcb.env.counters.establishedResets++;
      tcb.terminate(new TcpError('ECONNRESET', 'connection reset by the peer'));
      return;
    default:
      // CLOSING, LAST-ACK: the application already closed; the connection just ends.
      tcb.terminate();
  }
}

/**
 * §3.10.7.4 fifth check for ESTABLISHED and later states. Returns false when the connection ended
 * (LAST-ACK done) and processing must stop.
 */
/** `seq` is SEG.SEQ (after a simultaneous open's SYN), in the signed form (seq.ts) like SEG.ACK here. */
function processAck(tcb: Tcb, seg: TcpSegment, seq: number, bare: boolean): boolean {
  const now = tcb.now;
  const ack = seg.ack | 0;
  const previousWindow = tcb.sndWnd;
  const window = seg.window << tcb.sndWindowScale;
  tcb.unansweredProbes = 0;
  // The send records learn what this ACK delivered, cumulatively and (with SACK) selectively.
  const sack = sackRecoveryActive(tcb);
  const blocks = tcb.sackEnabled ? seg.options.sack : undefined;
  // A connection that never sent data or FIN has no send records (and no scoreboard, see
  // Tcb.scoreboard): an ACK without SACK blocks can teach it nothing, so an idle connection's ACKs
  // create none.
  const outcome =
    tcb.ccReady && (blocks !== undefined || tcb.existingScoreboard !== undefined)
      ? tcb.scoreboard.onAck(seqGt(ack, tcb.sndUna) ? ack : tcb.sndUna, blocks, tcb.minRttMs)
      : undefined;
  if (outcome !== undefined && outcome.sample.deliveryRate > 0) tcb.keepRateSample(outcome.sample);
  const flightBefore = seqDiff(tcb.sndMax, tcb.sndUna);
  const sndUnaBefore = tcb.sndUna;
  const cwndLimited = tcb.cwndLimited;
  let dataAcked = 0;
  if (seqGt(ack, tcb.sndUna)) {
    dataAcked = newDataAcknowledged(
      tcb,
      ack,
      tcb.tsEnabled ? seg.options.timestamp?.echo : undefined,
      outcome,
      sack,
    );
  } else if (
    !sack &&
    ack === tcb.sndUna &&
    bare &&
    window === previousWindow &&
    tcb.sndMax !== tcb.sndUna &&
    previousWindow > 0 &&
    tcb.ccReady
  ) {
    // RFC 5681 §2 duplicate ACK: no data, no SYN/FIN, same ACK, same window, data outstanding. Answers
    // to zero-window probes look the same but say nothing about loss, so a closed window never counts.
    tcb.dupAcks++;
    if (inMtuProbeRecovery(tcb)) {
      // The echo of a lost probe whose data already went again (see retransmitFailedProbe).
      tcb.dupAcks = 0;
    } else if (tcb.dupAcks === DUP_THRESH && mtuProbeIsFirstUnacknowledged(tcb)) {
      // The third duplicate ACK points at a path MTU probe: it was too big for the path, not a sign of
      // congestion (RFC 4821 §7.6.1). Its data goes again cut to the MSS, and the duplicate ACKs the
      // segments sent after it still bring are not counted until the ACK passes them.
      mtuProbeFailed(tcb);
      retransmitFailedProbe(tcb);
      tcb.dupAcks = 0;
    } else {
      if (!tcb.sackPermitted) {
        tcb.dupAckedBytes = Math.min(
          tcb.dupAckedBytes + tcb.effMss,
          Math.max(0, tcb.flightSize - tcb.effMss),
        );
      }
      const action = tcb.cc!.onDuplicateAck({
        count: tcb.dupAcks,
        flightSize: seqDiff(tcb.sndMax, tcb.sndUna),
        pipe: tcb.pipe,
        sndUna: tcb.sndUna,
        sndMax: tcb.sndMax,
        sentTotal: tcb.bytesSent,
        now,
      });
      if (action === 'fast-retransmit') {
        windowReducedForLoss(tcb);
        fastRetransmit(tcb);
      }
    }
  }

  // With SACK, loss detection reads the scoreboard (RFC 6675, RACK) instead of counting duplicate ACKs,
  // and congestion control hears about the ACK after it (as Linux orders them): an ACK that starts
  // recovery already counts in PRR, and the rate sample carries the losses it revealed.
  if (sack && outcome !== undefined) {
    sackAckProcessed(tcb, outcome, dataAcked > 0 || seqGt(tcb.sndUna, sndUnaBefore));
    if (dataAcked > 0 || outcome.newlySacked > 0)
      sackCongestionAck(tcb, dataAcked, flightBefore, cwndLimited, outcome);
  }

  // Send window update: only from a segment at least as recent as the last one used (SND.WL1/WL2).
  if (seqLe(tcb.sndUna, ack) && (seqLt(tcb.sndWl1, seq) || (tcb.sndWl1 === seq && seqLe(tcb.sndWl2, ack)))) {
    tcb.sndWnd = window;
    tcb.sndWl1 = seq;
    tcb.sndWl2 = ack;
    if (window > tcb.maxSndWnd) tcb.maxSndWnd = window;
    if (tcb.sndWnd > 0 && tcb.timers.isArmed(PERSIST)) {
      // The window opened: stop probing (MUST-36).
      tcb.timers.cancel(PERSIST);
      tcb.persistBackoff = 0;
      // Only probe octets can be outstanding here; those the ACK did not cover were refused by the closed
      // window, so they go out again as ordinary data: new data, not a retransmission (the receiver never
      // took them), which is how the counters and capture analysers (Wireshark) count them.
      tcb.sndNxt = tcb.sndUna;
      tcb.sndMax = tcb.sndUna;
      tcb.scoreboard.truncate(tcb.sndUna);
    }
  }

  switch (tcb.state) {
    case 'FIN-WAIT-1':
      if (tcb.finAcked) {
        tcb.setState('FIN-WAIT-2');
        if (tcb.orphaned) tcb.timers.set(FIN_WAIT_2, now + tcb.config.finWait2TimeoutMs);
      }
      break;
    case 'CLOSING':
      if (tcb.finAcked) enterTimeWait(tcb);
      break;
    case 'LAST-ACK':
      if (tcb.finAcked) {
        tcb.terminate();
        return false;
      }
      break;
    default:
      break;
  }
  return true;
}

/**
 * SND.UNA < SEG.ACK <= SND.NXT: drop acknowledged bytes, take an RTT sample, restart or stop the timer.
 * `ack` is SEG.ACK in the signed form (seq.ts); `tsEcr` is the echoed timestamp when
 * timestamps are in use.
 */
function newDataAcknowledged(
  tcb: Tcb,
  ack: number,
  tsEcr: number | undefined,
  outcome: AckOutcome | undefined,
  sack: boolean,
): number {
  const now = tcb.now;
  const flightBefore = seqDiff(tcb.sndMax, tcb.sndUna);
  const dataAcked = tcb.sendBuffer.acknowledge(ack);
  if (tcb.finSent && seqGt(ack, tcb.finSeq)) tcb.finAcked = true;
  const sndUna = ack;
  tcb.sndUna = sndUna;
  if (seqLt(tcb.sndNxt, ack)) tcb.sndNxt = sndUna;
  tcb.bytesAcked += dataAcked;
  mtuProbeAcknowledged(tcb);
  // The segments duplicates counted as delivered are now acknowledged, all but the hole itself (Linux's
  // tcp_remove_reno_sacks); once everything sent is acknowledged nothing is left.
  if (tcb.dupAckedBytes > 0) {
    tcb.dupAckedBytes =
      tcb.sndUna === tcb.sndMax ? 0 : Math.max(0, tcb.dupAckedBytes - Math.max(0, dataAcked - tcb.effMss));
  }
  // -1 while there is no sample (see AckEvent.rttMs).
  let rttMs = -1;
  const echoUsable =
    tsEcr !== undefined &&
    tsEcr !== 0 &&
    (tcb.tsRetransmitted === undefined || seqGe(tsEcr, tcb.tsRetransmitted));
  const tsRtt = echoUsable ? seqDiff(tcb.tsVal(), tsEcr!) : -1;
  if (tsRtt >= 0 && tsRtt < tcb.config.maxRtoMs) {
    // RTTM (RFC 7323 §4.1): the echo times the segment that caused this ACK, retransmitted or not, so
    // Karn's rule is not needed. A sample on every ACK is weighted per Appendix G (ExpectedSamples =
    // ceil(FlightSize / (2 * SMSS))), so SRTT still averages over about one window.
    rttMs = tsRtt;
    tcb.rtt.sample(rttMs, Math.max(1, Math.ceil(flightBefore / (2 * tcb.effMss))));
    tcb.timing = undefined;
  } else if (tcb.timing !== undefined && seqGe(ack, tcb.timing.endSeq)) {
    // Karn (MUST-18): `timing` is cleared whenever anything is retransmitted, so this segment was sent once.
    rttMs = now - tcb.timing.sentAt;
    tcb.rtt.sample(rttMs);
    tcb.timing = undefined;
  }
  // Congestion control hears an RTT on every ACK of a segment sent once (the send records time each one);
  // the RTO estimator keeps its one sample per flight (or per ACK with timestamps, weighted).
  // The record is read here rather than passed in: passed, its RTT would be a heap number per ACK.
  if (rttMs < 0 && outcome !== undefined) rttMs = outcome.sample.rttMs;
  if (rttMs >= 0 && rttMs < tcb.minRttMs) tcb.minRttMs = rttMs;
  // For congestion control, which hears of ACKs that delivered data (sackCongestionAck clears it otherwise).
  if (dataAcked > 0) tcb.ackEvent.rttMs = rttMs;
  // The window grows for acknowledged data only, not for the SYN or FIN sequence numbers.
  if (dataAcked > 0 && !sack && tcb.ccReady) {
    const cc = tcb.cc!;
    const recovering = cc.inRecovery;
    const event = tcb.ackEvent;
    event.bytesAcked = dataAcked;
    event.delivered = dataAcked;
    event.flightSizeBefore = flightBefore;
    event.pipe = tcb.pipe;
    event.ack = sndUna;
    event.sndMax = tcb.sndMax;
    event.sentTotal = tcb.bytesSent;
    event.cwndLimited = tcb.cwndLimited;
    // RFC 3465's L: 2 segments, or a whole TSO super-segment when one ACK may cover one.
    event.abcLimit = Math.max(2 * tcb.effMss, tcb.maxSegmentPayload);
    event.rttMs = rttMs;
    event.rate = undefined;
    event.now = now;
    cc.onAck(event);
    if (recovering && cc.inRecovery && !tcb.sackPermitted && !tcb.ecnCwr) {
      // RFC 6582 §3.2 step 5: a partial ACK; the first unacknowledged segment was lost too.
      fastRetransmit(tcb);
    }
  }
  // RFC 7661: the flag covers the flight it was set for; the output path sets it again while the sender
  // keeps using the window.
  if (seqGe(ack, tcb.cwndLimitedUntil)) tcb.cwndLimited = false;
  tcb.dupAcks = 0;
  tcb.retransmitCount = 0;
  tcb.r1Reported = false;
  tcb.stallSince = now;
  // RFC 6298 §5.2 / §5.3.
  if (tcb.sndUna === tcb.sndMax) tcb.timers.cancel(RETRANSMISSION);
  else if (!tcb.timers.isArmed(PERSIST)) armRetransmissionTimer(tcb);
  tcb.autotuneSendBuffer();
  if (tcb.writeBlocked && tcb.sendBuffer.free > 0 && !tcb.finQueued) {
    tcb.writeBlocked = false;
    tcb.env.event(DRAIN_EVENT);
  }
  tcb.traceMetrics();
  return dataAcked;
}

/**
 * Congestion control's view of an ACK on a SACK connection: the bytes it delivered, cumulatively and
 * selectively (RFC 6937's DeliveredData), pipe after loss marking, and the scoreboard's delivery-rate
 * sample. Called for every ACK that delivered something, after loss detection has run.
 */
function sackCongestionAck(
  tcb: Tcb,
  dataAcked: number,
  flightBefore: number,
  cwndLimited: boolean,
  outcome: AckOutcome,
): void {
  const cc = tcb.cc!;
  const event = tcb.ackEvent;
  if (dataAcked === 0) event.rttMs = -1;
  event.bytesAcked = dataAcked;
  event.delivered = outcome.delivered;
  event.flightSizeBefore = flightBefore;
  event.pipe = tcb.pipe;
  event.ack = tcb.sndUna;
  event.sndMax = tcb.sndMax;
  event.sentTotal = tcb.bytesSent;
  event.cwndLimited = cwndLimited;
  event.abcLimit = Math.max(2 * tcb.effMss, tcb.maxSegmentPayload);
  const sample = outcome.sample;
  if (sample.delivered > 0) {
    const rate = tcb.rateSample;
    rate.delivered = sample.delivered;
    rate.intervalMs = sample.intervalMs;
    rate.isAppLimited = sample.isAppLimited;
    rate.priorInFlight = sample.priorInFlight;
    rate.lost = outcome.newlyLost;
    rate.rttMs = sample.rttMs;
    rate.priorDelivered = sample.priorDelivered;
    event.rate = rate;
  } else {
    event.rate = undefined;
  }
  event.now = tcb.now;
  cc.onAck(event);
}

/**
 * §3.10.7.4 sixth check: URG in ESTABLISHED and FIN-WAIT-1/2. RCV.UP = max(RCV.UP, SEG.SEQ + SEG.UP)
 * (MUST-62: the pointer is just past the urgent data; MUST-31: any length). The data itself stays inline
 * (MUST-30); the application hears about it asynchronously (MUST-32) and can ask how much is pending
 * (MUST-33, STATUS).
 */
function processUrgent(tcb: Tcb, seg: TcpSegment, seq: number): void {
  if ((seg.flags & TCP_URG) === 0 || seg.urgentPointer === 0) return;
  if (tcb.state !== 'ESTABLISHED' && tcb.state !== 'FIN-WAIT-1' && tcb.state !== 'FIN-WAIT-2') return;
  const up = seqAdd(seq, seg.urgentPointer);
  if (!tcb.rcvUrgent || seqGt(up, tcb.rcvUp)) {
    const readSeq = seqAdd(tcb.rcvNxt, -tcb.receiveBuffer.readable);
    if (seqGt(up, readSeq)) {
      tcb.rcvUp = up;
      tcb.rcvUrgent = true;
      tcb.env.event({ type: 'urgent', pending: seqDiff(up, readSeq) });
    }
  }
}

/**
 * §3.10.7.4 seventh step: place the text in the receive buffer (in order or held for reassembly),
 * advance RCV.NXT and decide how soon to ACK. Returns true when the whole segment was taken (so a FIN on
 * it is in the window).
 */
function processText(tcb: Tcb, seq: number, payload: Uint8Array): boolean {
  if (payload.length === 0) return true;
  let offset = seqDiff(seq, tcb.rcvNxt);
  let data = payload;
  if (offset < 0) {
    // Only the new part of a segment straddling RCV.NXT is processed; the old part is a duplicate,
    // reported in a D-SACK block (RFC 2883 §4.1.1).
    tcb.reportDuplicate(seq, seqAdd(seq, Math.min(-offset, data.length)));
    if (-offset >= data.length) {
      tcb.ackNow = true;
      return true;
    }
    data = data.subarray(-offset);
    offset = 0;
  }
  let limit = Math.min(seqDiff(tcb.rcvAdvRight, tcb.rcvNxt), tcb.receiveBuffer.spaceFromNext);
  if (tcb.pendingFinSeq !== undefined) limit = Math.min(limit, seqDiff(tcb.pendingFinSeq, tcb.rcvNxt));
  let whole = true;
  if (offset + data.length > limit) {
    whole = false;
    if (offset >= limit) {
      tcb.ackNow = true;
      tcb.drop('text beyond the window');
      return false;
    }
    data = data.subarray(0, limit - offset);
  }
  const buffer = tcb.receiveBuffer;
  if (tcb.env.memory?.exhausted === true && !memoryAdmits(tcb, offset)) return false;
  const hadGap = buffer.hasOutOfOrder;
  if (hadGap && tcb.sackEnabled) {
    // Out-of-order data we already hold: a duplicate too (RFC 2883 §4.1.2).
    const held = buffer.heldWithin(offset, data.length);
    if (held !== undefined) tcb.reportDuplicate(seqAdd(tcb.rcvNxt, held.start), seqAdd(tcb.rcvNxt, held.end));
  }
  const prunedBefore = buffer.prunedRanges;
  const advanced = buffer.insert(offset, data);
  if (advanced < 0) {
    tcb.env.counters.outOfOrderOverflows++;
    tcb.drop('reassembly ranges exhausted');
    tcb.ackNow = true;
    return false;
  }
  if (buffer.prunedRanges !== prunedBefore) {
    tcb.env.counters.outOfOrderPruned += buffer.prunedRanges - prunedBefore;
    tcb.note('reassembly full: highest out-of-order range forgotten for a lower one');
  }
  if (data.length > tcb.rcvMssEstimate) tcb.rcvMssEstimate = Math.min(data.length, tcb.advertisedMss);
  if (advanced > 0) {
    tcb.rcvNxt = seqAdd(tcb.rcvNxt, advanced);
    tcb.bytesReceived += advanced;
    tcb.receiveTuner?.onInOrderData(tcb.rcvNxt, tcb.rcvWnd);
    announceReadable(tcb);
  }
  if (offset > 0 || hadGap) {
    // RFC 5681 §4.2: an out-of-order segment gets an immediate (duplicate) ACK, and so does one that
    // fills all or part of a gap (RFC 9293 MAY-13, SHLD-31 queueing).
    tcb.ackNow = true;
  } else {
    // Delayed ACK (§3.8.6.3): at least every second full-sized segment (SHLD-19), and never later than
    // the delayed-ACK timeout (< 500 ms, MUST-40). As Linux, counted in bytes: once more than one
    // full-sized segment's worth is unacknowledged the ACK goes at once, so a full segment followed by
    // a short one (the tail of a write) is not held until the timeout.
    tcb.bytesSinceAck += advanced;
    if (!tcb.config.delayedAck) tcb.ackNow = true;
    else if (tcb.bytesSinceAck > tcb.rcvMssEstimate) ackOwed(tcb, advanced);
    else if (!tcb.timers.isArmed(DELAYED_ACK)) tcb.timers.setAfterNow(DELAYED_ACK, tcb.config.delayedAckMs);
  }
  return whole;
}

/**
 * Unacknowledged data is worth more than one full-sized segment: an ACK is owed now. With one ACK per
 * burst (TcpConfig.ackPerBurst) it goes once the segments that arrived in this same instant have been
 * processed: the delayed-ACK timer is set for now, and it runs after them (TcbEnvironment
 * .timersAfterBurst). No time passes, so the ACK is as immediate as SHLD-19 asks; what changes is that one
 * ACK covers the burst, as Linux's covers a GRO packet. Past `BURST_ACK_MAX_BYTES` it goes at once.
 *
 * On a virtual clock, only on a path that takes no time at all (the handshake measured an RTT of 0: an
 * in-process link without delay). A sender in slow start grows its window by at most two segments per
 * ACK (RFC 3465's L, RFC 5681 §3.1), so one ACK per burst would stretch each round's doubling over many
 * rounds: on a path with any delay, that is time (a 16 MiB transfer over 10 ms took 1.4 s instead of
 * 0.29 s). Where rounds take no time, only the number of ACKs changes. On a real clock, only for
 * coalesced packets (see `mayWaitForBurst`).
 */
function ackOwed(tcb: Tcb, segmentBytes: number): void {
  if (mayWaitForBurst(tcb, segmentBytes)) {
    // setAfterNow reads the time from the Tcb: passing tcb.now to a call not inlined here boxes a
    // fractional time into a heap number, half an object per segment over a 20 ms path.
    if (tcb.timers.get(DELAYED_ACK) > tcb.now) tcb.timers.setAfterNow(DELAYED_ACK, 0);
  } else {
    tcb.ackNow = true;
  }
}

/** One ACK (and one 'readable') per burst applies: see `ackOwed`. */
function answersPerBurst(tcb: Tcb): boolean {
  return (
    tcb.config.ackPerBurst && tcb.env.timersAfterBurst === true && tcb.rtt.hasSample && tcb.rtt.srtt === 0
  );
}

/**
 * New in-order data can be read. Where one ACK answers a burst (`ackOwed`), so does one 'readable': the
 * READABLE timer, set for now, runs once the segments that arrived in this instant have been processed,
 * and the application then reads the whole burst in one go instead of one segment per event (one event
 * and one read per segment were about 5% of an in-process bulk transfer). Any other event of the
 * connection queued meanwhile delivers it first (TcpConnection.queueEvent), so events keep the order
 * they happened in; only back-to-back 'readable' events merge.
 */
function announceReadable(tcb: Tcb): void {
  if (!answersPerBurst(tcb)) {
    tcb.env.event(READABLE_EVENT);
  } else if (!tcb.timers.isArmed(READABLE)) {
    tcb.timers.setAfterNow(READABLE, 0);
  }
}

/**
 * Whether the ACK a segment of `segmentBytes` made owed may wait for the end of its burst (see
 * `ackOwed`). On a real clock the burst is the batch of frames a device handed over at once (a TAP
 * device's read batch), the ACK going once the batch has been processed (TcbEnvironment
 * .timersAfterBatch), and only for a segment that is a coalesced packet of several full-sized ones (GRO
 * or LRO, more than one MSS by itself). Linux answers each such packet with an ACK; here up to
 * BATCH_ACK_MAX_BYTES of them in one batch share one. Full-sized segments are still acknowledged every
 * second one, so a sender whose slow start counts ACKs (RFC 3465's L) over a path with delay keeps its
 * pace; one that sends 64 KiB packets over a local link (the kernel over TAP) gets a quarter of the ACKs
 * to process.
 */
function mayWaitForBurst(tcb: Tcb, segmentBytes: number): boolean {
  if (answersPerBurst(tcb)) return tcb.bytesSinceAck < BURST_ACK_MAX_BYTES;
  return (
    tcb.config.ackPerBurst &&
    tcb.env.timersAfterBatch === true &&
    segmentBytes > tcb.rcvMssEstimate &&
    tcb.bytesSinceAck < BATCH_ACK_MAX_BYTES
  );
}

/** Data one burst may leave unacknowledged: the most one GRO packet carries (an IPv4 packet's 64 KiB). */
const BURST_ACK_MAX_BYTES = 65535;
/**
 * Data one device batch of coalesced packets may leave unacknowledged on a real clock: four of the
 * largest. A sender's window over a local link is megabytes once autotuned, so it keeps sending
 * meanwhile. Over TAP from the kernel (256 MiB, 64 KiB packets): 12.9k ACKs -> 2.8k.
 */
const BATCH_ACK_MAX_BYTES = 4 * 65536;

/**
 * The stack's TCP memory is at its maximum (tcp/memory.ts): only in-order data for an application that
 * has read everything is still taken (Linux forces that one in: every connection keeps making progress).
 * Anything else is dropped, to be sent again, and out-of-order data held is pruned to give memory back
 * (Linux's tcp_prune_ofo_queue: the sender sees its SACKed data reneged, RFC 2018 §8).
 */
function memoryAdmits(tcb: Tcb, offset: number): boolean {
  const buffer = tcb.receiveBuffer;
  if (offset === 0 && buffer.readable === 0) return true;
  if (buffer.hasOutOfOrder) {
    tcb.env.counters.outOfOrderPruned += buffer.outOfOrderRangeCount;
    buffer.truncateOutOfOrder(0);
    tcb.note('TCP memory at its maximum: out-of-order data pruned');
  }
  tcb.env.counters.memoryLimitDrops++;
  tcb.drop('TCP memory at its maximum');
  tcb.ackNow = true;
  return false;
}

/** §3.10.7.4 eighth step, for a FIN at sequence number `finSeq`. */
function processFin(tcb: Tcb, finSeq: number): void {
  if (tcb.remoteFinReceived) {
    tcb.ackNow = true;
    return;
  }
  if (finSeq !== tcb.rcvNxt) {
    // Ahead of a gap: remember it; it counts once the data before it has arrived.
    if (seqGt(finSeq, tcb.rcvNxt) && seqLt(finSeq, tcb.rcvAdvRight)) {
      if (tcb.pendingFinSeq === undefined || seqLt(finSeq, tcb.pendingFinSeq)) {
        tcb.pendingFinSeq = finSeq;
        tcb.receiveBuffer.truncateOutOfOrder(seqDiff(finSeq, tcb.rcvNxt));
      }
    }
    tcb.ackNow = true;
    return;
  }
  tcb.rcvNxt = seqAdd(tcb.rcvNxt, 1);
  tcb.remoteFinReceived = true;
  tcb.pendingFinSeq = undefined;
  tcb.receiveBuffer.truncateOutOfOrder(0);
  tcb.ackNow = true;
  tcb.env.event(END_EVENT);
  switch (tcb.state) {
    case 'SYN-RECEIVED':
    case 'ESTABLISHED':
      tcb.setState('CLOSE-WAIT');
      break;
    case 'FIN-WAIT-1':
      if (tcb.finAcked) enterTimeWait(tcb);
      else tcb.setState('CLOSING');
      break;
    case 'FIN-WAIT-2':
      enterTimeWait(tcb);
      break;
    default:
      break;
  }
}

/** TIME-WAIT for 2*MSL (MUST-13); every other timer stops. */
export function enterTimeWait(tcb: Tcb): void {
  const now = tcb.now;
  tcb.setState('TIME-WAIT');
  tcb.timers.cancelAll();
  tcb.timers.set(TIME_WAIT, now + 2 * tcb.config.mslMs);
}
