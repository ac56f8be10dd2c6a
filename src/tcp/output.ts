/**
 * What a connection sends: segmentation of the send buffer to the effective MSS, the sender's window
 * rules (peer window, congestion window, Nagle, sender SWS avoidance), the receive window it advertises
 * (receiver SWS avoidance), ACKs, resets, retransmissions and probes.
 *
 * RFC 9293 §3.7 (segmentation, Nagle), §3.8.6 (windows, SWS, zero-window probing), §3.10.2 (SEND);
 * RFC 6298 (retransmission timer), RFC 5681 (congestion window).
 */
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG, type TcpOptions } from '../wire/tcp.js';
import { type InvalidSegmentAnswer, invalidAnswerVerdict } from './ack-rate-limits.js';
import { dataSegmentEcn, ECN_NOT_ECT, synAckEcnFlags, synEcnFlags, takeCwr } from './ecn.js';
import { armLossProbe, recordTransmission, sackRecoveryActive } from './loss-recovery.js';
import { mtuProbeFailed, mtuProbeSent, mtuProbeToSend, overlapsMtuProbe } from './mtu-probing.js';
import { seqAdd, seqDiff, seqGt, seqLt } from './seq.js';
import type { Tcb } from './tcb.js';
import { DELAYED_ACK, PACING, PERSIST, RETRANSMISSION } from './timers.js';

/** Largest window a segment can advertise without window scaling. */
export const MAX_UNSCALED_WINDOW = 65535;

const NO_OPTIONS: TcpOptions = Object.freeze({}) as TcpOptions;

/**
 * Chooses the window to advertise, records the right edge it implies, and returns the value for the
 * window field (scaled down by our window scale, RFC 7323 §2.3).
 *
 * - The window is the free buffer space counted from RCV.NXT (§3.8.6).
 * - Receiver SWS avoidance (§3.8.6.2.2, MUST-39): the right edge only moves forward once it can move by
 *   at least min(buffer / 2, MSS); until then the previous right edge is kept.
 * - The right edge never moves left (SHLD-14): a smaller window is only ever the old edge seen from a
 *   later RCV.NXT. With a window scale the field is rounded up rather than down when the old edge is
 *   kept, so the edge cannot creep left by a rounding step (RFC 7323 §2.4); bytes past the buffer that
 *   this might admit are simply not accepted.
 */
export function selectWindow(tcb: Tcb): number {
  const wnd = windowIfAdvertisedNow(tcb);
  const shift = tcb.rcvWindowScale;
  // Windows and shifts are small enough (65535 << 14 < 2^31) for 32-bit integer arithmetic.
  const field = wnd === tcb.rcvWnd ? (wnd + (1 << shift) - 1) >>> shift : wnd >>> shift;
  const clamped = Math.min(field, MAX_UNSCALED_WINDOW);
  tcb.rcvAdvRight = seqAdd(tcb.rcvNxt, clamped << shift);
  return clamped;
}

/** The window (in bytes) `selectWindow` would choose now, without advertising it. */
export function windowIfAdvertisedNow(tcb: Tcb): number {
  const current = tcb.rcvWnd;
  const space = tcb.receiveBuffer.spaceFromNext;
  const largest = MAX_UNSCALED_WINDOW << tcb.rcvWindowScale;
  let wnd = Math.min(space, largest);
  // Under stack-wide memory pressure the window grows no further than 4 MSS (Linux's rcv_ssthresh
  // clamp, tcp_clamp_window); what was offered already stands (SHLD-14).
  if (tcb.env.memory?.underPressure === true) wnd = Math.min(wnd, Math.max(current, 4 * tcb.advertisedMss));
  const threshold = Math.min(Math.floor(tcb.receiveBuffer.capacity / 2), tcb.advertisedMss);
  return wnd - current < threshold ? current : wnd;
}

/** The window field of a SYN or SYN-ACK: never scaled (RFC 7323 §2.2). Records the right edge. */
function synWindow(tcb: Tcb): number {
  const wnd = Math.min(tcb.receiveBuffer.spaceFromNext, MAX_UNSCALED_WINDOW);
  tcb.rcvAdvRight = seqAdd(tcb.rcvNxt, wnd);
  return wnd;
}

/**
 * Options carried on SYN and SYN-ACK: the MSS (MUST-14; never on other segments, MUST-65) and, when
 * offered, the window scale (RFC 7323 §2.2) and timestamps (RFC 7323 §3.2: TSecr 0 on a SYN); on a
 * SYN-ACK each only if the SYN carried it.
 *
 * The record has every field of the data segments' options (`outgoingOptions` in tcb.ts), in the same
 * order, absent ones undefined: one hidden class for both. Built field by field from `{ mss }` it had one
 * of its own, which the code that writes options never saw once optimised (a process's first handshake
 * runs before the engine collects type feedback), so every later handshake deoptimised that code.
 */
export function synOptions(tcb: Tcb): TcpOptions {
  const synSent = tcb.state === 'SYN-SENT';
  return {
    mss: tcb.advertisedMss,
    windowScale: tcb.offeredWindowScale,
    sackPermitted: (synSent ? tcb.config.sack : tcb.sackEnabled) ? true : undefined,
    sack: undefined,
    timestamp: (synSent ? tcb.config.timestamps : tcb.tsEnabled)
      ? { value: tcb.tsVal(), echo: synSent ? 0 : tcb.tsRecent }
      : undefined,
  };
}

/**
 * Sequence number for a segment without data or FIN. It is the RFC's SND.NXT, which here is SND.MAX
 * (SND.NXT may have been pulled back for retransmission), but never beyond the right edge of the peer's
 * window (SND.UNA + SND.WND): a probe octet the closed window refused, for example, must not make our
 * ACKs unacceptable to the peer (Linux does the same). With a zero window that is exactly SND.UNA.
 */
export function ackSeq(tcb: Tcb): number {
  const right = seqAdd(tcb.sndUna, tcb.sndWnd);
  return seqGt(tcb.sndMax, right) ? right : tcb.sndMax;
}

/** Records that an ACK went out: nothing is owed to the peer any more. */
function ackSent(tcb: Tcb): void {
  tcb.ackNow = false;
  tcb.bytesSinceAck = 0;
  tcb.timers.cancel(DELAYED_ACK);
}

/** <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> (§3.10.7.4 and elsewhere). */
export function sendAck(tcb: Tcb): void {
  tcb.transmit(TCP_ACK, ackSeq(tcb), selectWindow(tcb));
  ackSent(tcb);
}

/**
 * The ACK that answers a segment refused as invalid, if the limits allow it (RFC 5961 §7; see
 * ack-rate-limits.ts): an out-of-window segment (§3.10.7.4 first check), a challenge ACK (RFC 5961
 * §3.2, §4.2, §5.2, as adopted by RFC 9293 §3.10.7.4), a PAWS drop (RFC 7323 §5.3) or a segment in
 * TIME-WAIT. At most one such answer per connection every `invalidRateLimitMs`; challenge ACKs also draw
 * on the stack-wide budget. Each one skipped is counted by kind. Returns true when the ACK was sent.
 */
export function answerInvalidSegment(tcb: Tcb, why: InvalidSegmentAnswer): boolean {
  const now = tcb.now;
  const env = tcb.env;
  const verdict = invalidAnswerVerdict(
    why,
    now,
    tcb.lastInvalidAnswerTime,
    tcb.config.invalidRateLimitMs,
    env.counters,
    env.challengeAckBudget,
  );
  if (verdict === 'skip') return false;
  tcb.lastInvalidAnswerTime = now;
  if (verdict === 'over-limit') return false;
  sendAck(tcb);
  return true;
}

/** <SEQ=seq><CTL=RST>. */
export function sendReset(tcb: Tcb, seq: number): void {
  tcb.transmit(TCP_RST, seq, 0);
}

/** SYN (SYN-SENT) or SYN-ACK (SYN-RECEIVED), first transmission or retransmission (§3.10.1, §3.10.7.2). */
export function sendSyn(tcb: Tcb): void {
  if (tcb.state === 'SYN-SENT') {
    // The window of a SYN is never scaled (RFC 7323 §2.2); the peer may send this much after its SYN.
    const wnd = Math.min(tcb.receiveBuffer.spaceFromNext, MAX_UNSCALED_WINDOW);
    tcb.initialReceiveWindow = wnd;
    tcb.transmit(TCP_SYN | synEcnFlags(tcb), tcb.iss, wnd, undefined, synOptions(tcb));
  } else {
    const flags = TCP_SYN | TCP_ACK | synAckEcnFlags(tcb);
    tcb.transmit(flags, tcb.iss, synWindow(tcb), undefined, synOptions(tcb));
    ackSent(tcb);
  }
}

/**
 * Arms the retransmission timer for one RTO, but not past the moment R2 is reached (§3.8.3), so the
 * connection gives up exactly then: for SYNs that is a time limit; for data it also needs the
 * retransmission count (see TcpConfig.r2TimeoutMs).
 */
export function armRetransmissionTimer(tcb: Tcb): void {
  const now = tcb.now;
  const deadline = now + tcb.rtt.rto;
  const config = tcb.config;
  let limit = Number.POSITIVE_INFINITY;
  if (tcb.state === 'SYN-SENT' || tcb.state === 'SYN-RECEIVED')
    limit = tcb.stallSince + config.synR2TimeoutMs;
  else if (tcb.retransmitCount >= config.r2Retransmissions) limit = tcb.stallSince + config.r2TimeoutMs;
  // A limit already passed does not cut short the wait for an answer to the segment just sent.
  // The deadline goes through `next` rather than `set` (see ConnectionTimers.next): this runs on every
  // ACK of new data, and `set` was not inlined here in some runs.
  const timers = tcb.timers;
  timers.next = limit > now ? Math.min(deadline, limit) : deadline;
  timers.armNext(RETRANSMISSION);
}

/** Interval until the next zero-window probe: RTO, doubled per unanswered probe (SHLD-29, SHLD-30). */
export function persistInterval(tcb: Tcb): number {
  return Math.min(tcb.rtt.rto * 2 ** tcb.persistBackoff, tcb.config.maxRtoMs);
}

function traceRetransmit(
  tcb: Tcb,
  seq: number,
  length: number,
  cause: 'rto' | 'fast-retransmit' | 'probe' | 'syn' | 'fin',
): void {
  const tracer = tcb.env.tracer;
  if (tracer.enabled) {
    // The sequence number as people read it: unsigned (TCP keeps it signed, see seq.ts).
    tracer.emit({
      kind: 'tcp.retransmit',
      time: tcb.now,
      host: tcb.env.host,
      conn: tcb.id,
      seq: seq >>> 0,
      length,
      cause,
    });
  }
}

/** Records a retransmitted SYN or SYN-ACK. */
export function countSynRetransmission(tcb: Tcb): void {
  tcb.retransmissions++;
  tcb.env.counters.retransmittedSegments++;
  traceRetransmit(tcb, tcb.iss, 0, 'syn');
}

/**
 * Payload bytes a segment sent now may carry: the effective MSS less the SACK blocks it will carry (as
 * Linux's tcp_current_mss), so a receiver reporting holes while sending data still fits the path.
 */
function currentMss(tcb: Tcb): number {
  return tcb.effMss - tcb.sackOptionLength;
}

/**
 * Builds and sends one segment of data (and/or FIN) starting at `seq`, `length` bytes long. Returns the
 * flags used. Does not move SND.NXT. `mss`: `currentMss` now, passed by a caller that has it (a second
 * read of the SACK option's length was a call of its own on every segment sent).
 */
function emitDataSegment(
  tcb: Tcb,
  seq: number,
  length: number,
  fin: boolean,
  mtuProbe = false,
  windowProbe = false,
  mss = currentMss(tcb),
): void {
  // A path MTU probe sent again (for whatever reason) says nothing more about its size: it failed.
  if (seqLt(seq, tcb.sndMax) && overlapsMtuProbe(tcb, seq, length)) mtuProbeFailed(tcb);
  const buffer = tcb.sendBuffer;
  const payload = length > 0 ? buffer.bytesAt(seq, length) : undefined;
  let flags = TCP_ACK;
  // MUST-61: PSH on the segment carrying the last byte the application has written so far (successive
  // writes buffered together share one PSH, SHLD-27).
  if (length > 0 && seqAdd(seq, length) === buffer.endSeq) flags |= TCP_PSH;
  if (fin) flags |= TCP_FIN;
  let urgentPointer = 0;
  if (tcb.sndUrgent && seqGt(tcb.sndUp, seq)) {
    // MUST-62 / RFC 6093: the pointer gives the sequence number just past the urgent data, relative to
    // this segment; a pointer beyond 16 bits is capped (the URG flag keeps the mode signalled).
    flags |= TCP_URG;
    urgentPointer = Math.min(seqDiff(tcb.sndUp, seq), 0xffff);
  }
  // RFC 3168 §6.1: new data is ECN-capable; the first such segment after a reduction carries CWR.
  const ecn = dataSegmentEcn(tcb, seq, length, windowProbe);
  if (ecn !== ECN_NOT_ECT) flags |= takeCwr(tcb);
  if (tcb.ccReady) recordTransmission(tcb, seq, seqAdd(seq, length + (fin ? 1 : 0)));
  // More than one MSS only with TSO (see sendNextSegment): IP cuts it, PSH and FIN on the last piece. A
  // path MTU probe is larger than the MSS on purpose and leaves whole.
  const segmentSize = length > mss && !mtuProbe ? mss : 0;
  tcb.transmit(flags, seq, selectWindow(tcb), payload, NO_OPTIONS, urgentPointer, segmentSize, ecn);
  ackSent(tcb);
}

/**
 * Tries to send one new (or, after SND.NXT was pulled back, re-sent) segment at SND.NXT. `force` skips
 * Nagle and sender SWS avoidance (the first segment after a retransmission timeout, or the SWS override
 * of the persist timer) but never the window. Returns false when nothing was sent.
 */
function sendNextSegment(tcb: Tcb, force: boolean, burstLimit: number): boolean {
  const buffer = tcb.sendBuffer;
  const unsent = buffer.bytesFrom(tcb.sndNxt);
  const finPending = tcb.finPending;
  if (unsent === 0 && !finPending) return false;
  // A FIN alone takes no window room (its length is 0 whatever the room), so it is sent without making
  // congestion control (see transmitPending); data makes it.
  const cwnd = unsent > 0 ? tcb.cc!.cwnd : (tcb.existingCc?.cwnd ?? 0);
  const windowRoom = seqDiff(seqAdd(tcb.sndUna, tcb.sndWnd), tcb.sndNxt);
  const room = Math.max(0, Math.min(windowRoom, cwnd - tcb.pipe));
  // currentMss, with the SACK option's length read once for both limits (a getter that counts blocks).
  const sackOptionLength = tcb.sackOptionLength;
  const mss = tcb.effMss - sackOptionLength;
  const maxPayload = Math.min(tcb.maxSegmentPayload - sackOptionLength, Math.max(mss, burstLimit));
  // PLPMTUD (tcp/mtu-probing.ts): when the search calls for one, this segment is a probe of a larger size.
  const probe = force ? 0 : mtuProbeToSend(tcb, unsent, windowRoom);
  let length = probe > 0 ? probe : Math.min(unsent, maxPayload, room);
  if (length > mss && probe === 0) {
    // A TSO segment (several MSS at once). Cut anywhere but at the end of the data it would leave a short
    // piece in the middle of the stream, which the window or cwnd, not the application, caused: keep it
    // to whole MSS-sized pieces then (as Linux's tcp_mss_split_point). Urgent data goes out unbundled,
    // so every segment carries its own urgent pointer.
    if (length < unsent) length -= length % mss;
    if (tcb.sndUrgent && seqGt(tcb.sndUp, tcb.sndNxt)) length = mss;
  }
  if (unsent > 0 && length === 0) return false;
  if (
    probe === 0 &&
    maxPayload > mss &&
    length < maxPayload &&
    length < unsent &&
    !force &&
    tcb.flightSize > 0 &&
    length * 3 < Math.min(tcb.sndWnd, cwnd)
  ) {
    // TSO deferral (as Linux's tcp_tso_should_defer): the windows leave room for less than a third of
    // what they allow and ACKs for data in flight are on their way, each opening more room. Waiting for
    // them lets the next segment carry many MSS at once instead of cutting the stream into the small
    // pieces each ACK frees, which would keep every later segment small as well.
    return false;
  }
  // Data sent before (go-back-N after a timeout) was allowed out once already: no Nagle/SWS hold.
  if (length > 0 && length < mss && !force && !seqLt(tcb.sndNxt, tcb.sndMax)) {
    if (length === unsent) {
      // Nagle (§3.7.4, SHLD-7), in Minshall's form (as Linux): while a previous short segment is
      // unacknowledged, hold this short one until that ACK arrives or a full segment has accumulated.
      // So at most one short segment is in flight, and the tail of a large write is not delayed. A
      // pending FIN is not held back.
      if (tcb.nagle && seqGt(tcb.shortSegmentEnd, tcb.sndUna) && !tcb.finQueued) return false;
    } else if (!(tcb.maxSndWnd > 0 && length >= tcb.maxSndWnd / 2)) {
      // Sender SWS avoidance (§3.8.6.2.1, MUST-38): window-limited, send only a full segment or at least
      // half the largest window the peer has offered.
      return false;
    }
  }
  const fin = finPending && length === unsent;
  const seq = tcb.sndNxt;
  if (tcb.sndUna === tcb.sndMax) tcb.stallSince = tcb.now; // first segment outstanding: R2 counts from here
  const retransmission = seqLt(seq, tcb.sndMax);
  // Traced before the segment leaves, so observers meet the cause before the segment it explains.
  if (retransmission) traceRetransmit(tcb, seq, length, length === 0 ? 'fin' : 'rto');
  emitDataSegment(tcb, seq, length, fin, probe > 0, false, mss);
  if (probe > 0) mtuProbeSent(tcb, seq, length);
  tcb.sndNxt = seqAdd(seq, length + (fin ? 1 : 0));
  if (fin) tcb.finSent = true;
  if (seqGt(tcb.sndNxt, tcb.sndMax)) tcb.sndMax = tcb.sndNxt;
  tcb.bytesSent += length;
  if (length > 0) tcb.sentNow();
  // Minshall's Nagle remembers the end of the last segment with a short piece (a TSO segment may end in
  // one, as Linux's snd_sml records; a probe is not short).
  if (length > 0 && length % mss !== 0 && probe === 0) tcb.shortSegmentEnd = tcb.sndNxt;
  if (retransmission) {
    if (tcb.tsEnabled) tcb.tsRetransmitted = tcb.tsVal();
    tcb.retransmissions++;
    tcb.bytesRetransmitted += length;
    tcb.env.counters.retransmittedSegments++;
  } else {
    tcb.startTiming(tcb.sndNxt);
  }
  // RFC 6298 §5.1: the timer runs whenever data is outstanding.
  tcb.timers.cancel(PERSIST);
  if (!tcb.timers.isArmed(RETRANSMISSION)) armRetransmissionTimer(tcb);
  return true;
}

/** With pacing, the most data (ms at the pacing rate) one TSO segment carries, and a late sender catches up. */
export const PACING_BURST_MS = 1;
/**
 * How far behind its schedule a sender that pacing held back may be and still catch up (ms). On a real
 * clock the pacing timer fires a millisecond or two late (Node's timers have whole-millisecond
 * granularity, and the event loop has other work): restarting the schedule at every late wake-up would
 * send one burst per wake-up, a fraction of the pacing rate (BBR then measured, and believed, 20-45
 * Mbit/s on a 100 Mbit/s path). Beyond this much (a stalled event loop), the schedule restarts rather
 * than releasing a long burst. Linux paces with high-resolution timers and needs no such allowance.
 */
export const PACING_MAX_LAG_MS = 10;

/**
 * The pacing rate in bytes per ms, or 0 when segments leave as the windows allow. A controller that paces
 * (BBR) says its rate; otherwise, with `TcpConfig.pacing`, the rate is cwnd / SRTT times 2 in slow start
 * and 1.2 in congestion avoidance (Linux's tcp_pacing_ss_ratio and tcp_pacing_ca_ratio), so a window is
 * spread over the round trip instead of leaving in bursts that overflow a bottleneck's queue.
 */
export function pacingRate(tcb: Tcb): number {
  const cc = tcb.existingCc;
  if (cc === undefined) return 0;
  if (cc.pacingRate > 0) return cc.pacingRate;
  const srtt = tcb.rtt.srtt;
  if (!tcb.config.pacing || !(srtt > 0)) return 0;
  return ((cc.cwnd < cc.ssthresh / 2 ? 2 : 1.2) * cc.cwnd) / srtt;
}

/**
 * Sends everything the windows and the SWS/Nagle rules allow, then an ACK if one is owed and no segment
 * carried it. Called after every event that may allow sending: SEND, CLOSE, an arriving ACK or window
 * update, a timer.
 */
export function transmitPending(tcb: Tcb, force = false): void {
  const now = tcb.now;
  const state = tcb.state;
  if (
    tcb.ccReady &&
    (state === 'ESTABLISHED' ||
      state === 'CLOSE-WAIT' ||
      state === 'FIN-WAIT-1' ||
      state === 'CLOSING' ||
      state === 'LAST-ACK') &&
    // With nothing in flight and nothing to send, the block below does nothing: skipped, an idle
    // connection needs no congestion control made for it (Tcb.cc).
    (tcb.sndUna !== tcb.sndMax || tcb.finPending || tcb.sendBuffer.bytesFrom(tcb.sndNxt) > 0)
  ) {
    // Congestion control is made with the first data to send (Tcb.cc). A flight of a FIN alone needs
    // none: no window room is asked for it (sendNextSegment), so a connection that opens and closes
    // without sending data never makes one.
    const cc = tcb.sendBuffer.bytesFrom(tcb.sndNxt) > 0 ? tcb.cc : tcb.existingCc;
    if (
      tcb.sndUna === tcb.sndMax &&
      tcb.lastSendTime > 0 &&
      now - tcb.lastSendTime > tcb.rtt.rto &&
      tcb.sendBuffer.bytesFrom(tcb.sndNxt) > 0
    ) {
      cc!.onIdleRestart(now); // RFC 5681 §4.1
    }
    const rate = pacingRate(tcb);
    // With pacing, a TSO segment carries about 1 ms of data at the pacing rate (at least 2 MSS), as
    // Linux's tcp_tso_autosize: large bursts would defeat the spacing.
    const burstLimit =
      rate > 0
        ? Math.max(2 * tcb.effMss, Math.floor((rate * PACING_BURST_MS) / tcb.effMss) * tcb.effMss)
        : Infinity;
    let first = true;
    // Segments judged lost go first (RFC 6675 NextSeg rule 1), then new data (rule 2).
    if (sackRecoveryActive(tcb)) while (retransmitLost(tcb)) first = false;
    for (;;) {
      if (rate > 0 && tcb.pacingNext > now) {
        // Pacing: the next segment may not leave before its earliest departure time.
        if (tcb.sendBuffer.bytesFrom(tcb.sndNxt) > 0 || tcb.finPending) {
          tcb.timers.set(PACING, tcb.pacingNext);
          tcb.pacingHeld = true;
        }
        break;
      }
      const sentBefore = tcb.bytesSent;
      if (!sendNextSegment(tcb, force && first, burstLimit)) {
        tcb.pacingHeld = false;
        break;
      }
      first = false;
      if (rate > 0) {
        // The next departure is one segment's transmission time at the pacing rate later. A sender a
        // little behind its schedule keeps it, catching up, and so does one that pacing held back and a
        // late timer released (up to PACING_MAX_LAG_MS); one that was idle for longer restarts it.
        const behind = now - tcb.pacingNext;
        const keep = behind <= PACING_BURST_MS || (tcb.pacingHeld && behind <= PACING_MAX_LAG_MS);
        tcb.pacingNext = (keep ? tcb.pacingNext : now) + (tcb.bytesSent - sentBefore) / rate;
      }
    }
    // RFC 7661: the window counts as used (validated) while at least half of it is in flight; an
    // application or a receive window that keeps the flight below that freezes cwnd.
    if (cc !== undefined && 2 * tcb.pipe >= cc.cwnd) {
      tcb.cwndLimited = true;
      tcb.cwndLimitedUntil = tcb.sndMax;
    }
    // Nothing in flight, data waiting, and no segment allowed out (zero or tiny window): without a timer
    // nothing would ever happen, so the persist timer probes the window (MUST-36) or overrides SWS.
    if (
      tcb.sendBuffer.bytesFrom(tcb.sndNxt) > 0 &&
      tcb.flightSize === 0 &&
      !tcb.timers.isArmed(RETRANSMISSION) &&
      !tcb.timers.isArmed(PERSIST) &&
      !tcb.timers.isArmed(PACING)
    ) {
      tcb.timers.set(PERSIST, now + persistInterval(tcb));
    }
  }
  if (tcb.ackNow && tcb.state !== 'CLOSED' && tcb.state !== 'SYN-SENT' && tcb.state !== 'LISTEN')
    sendAck(tcb);
  if (tcb.ccReady) armLossProbe(tcb);
}

/**
 * Retransmits the lowest segment judged lost (RFC 6675 NextSeg rule 1, RACK), up to one MSS, if
 * cwnd - pipe leaves room for it (RFC 6675 §5 step (C)). Returns false when nothing was sent.
 */
function retransmitLost(tcb: Tcb, whateverCwnd = false): boolean {
  // Nothing lost without a scoreboard (one comes with the first data sent).
  const record = tcb.existingScoreboard?.nextLost();
  if (record === undefined) return false;
  const withFin = tcb.finSent && record.end === seqAdd(tcb.finSeq, 1);
  const dataEnd = withFin ? tcb.finSeq : record.end;
  const dataLength = Math.max(0, seqDiff(dataEnd, record.start));
  // Data stays within the peer's window as it is now (it may have shrunk since the first transmission):
  // a retransmission past its right edge would be refused, and a peer that took it anyway would hold
  // data beyond what our ACKs may claim (Linux trims retransmissions the same way). A closed window is
  // the persist timer's business. A FIN alone needs no room, as when it was first sent.
  const room = seqDiff(seqAdd(tcb.sndUna, tcb.sndWnd), record.start);
  if (dataLength > 0 && room <= 0) return false;
  const length = Math.min(dataLength, currentMss(tcb), Math.max(room, 0));
  const fin = withFin && seqAdd(record.start, length) === tcb.finSeq;
  if (!whateverCwnd && tcb.cc!.cwnd - tcb.pipe < Math.max(1, length)) return false;
  sendRetransmission(tcb, record.start, length, fin, tcb.retransmitCount > 0 ? 'rto' : 'fast-retransmit');
  return true;
}

/**
 * The retransmission timer expired on a SACK connection: the first segment judged lost goes now, whatever
 * cwnd - pipe says (RFC 6298 §5.4; segments RACK still counts in flight may fill the one-segment
 * window), then whatever the windows allow.
 */
export function retransmitAfterTimeout(tcb: Tcb): void {
  retransmitLost(tcb, true);
  transmitPending(tcb, true);
}

/** Sends [seq, seq + length) (and the FIN) again, with the bookkeeping every retransmission needs. */
function sendRetransmission(
  tcb: Tcb,
  seq: number,
  length: number,
  fin: boolean,
  cause: 'rto' | 'fast-retransmit' | 'probe',
): void {
  // Karn (MUST-18): an RTT timing covering these bytes would now be ambiguous.
  if (tcb.timing !== undefined && seqLt(seq, tcb.timing.endSeq)) tcb.timing = undefined;
  if (tcb.tsEnabled) tcb.tsRetransmitted = tcb.tsVal();
  traceRetransmit(tcb, seq, length, cause);
  emitDataSegment(tcb, seq, length, fin);
  tcb.retransmissions++;
  tcb.bytesRetransmitted += length;
  tcb.bytesSent += length;
  tcb.env.counters.retransmittedSegments++;
  if (cause === 'fast-retransmit') tcb.env.counters.fastRetransmits++;
  if (!tcb.timers.isArmed(RETRANSMISSION)) armRetransmissionTimer(tcb);
}

/**
 * A path MTU probe was lost (RFC 4821 §7.6.2) and the peer has no SACK: its data goes again at once, cut to
 * the MSS, outside the congestion window (whose room the probe already held), as Linux's
 * tcp_simple_retransmit.
 */
export function retransmitFailedProbe(tcb: Tcb): void {
  const end = tcb.mtuProbe.probeSeqEnd;
  tcb.mtuProbe.probeRecoveryEnd = tcb.sndMax;
  let seq = tcb.sndUna;
  while (seqLt(seq, end)) {
    const length = Math.min(currentMss(tcb), seqDiff(end, seq));
    sendRetransmission(tcb, seq, length, false, 'fast-retransmit');
    seq = seqAdd(seq, length);
  }
}

/**
 * The tail loss probe (RFC 8985 §7.3): one new segment if the peer's window allows one (whatever cwnd
 * says), otherwise the last segment sent again. Either way the peer answers with an ACK that carries
 * SACK information about the tail, so RACK can repair losses there without the RTO.
 */
export function sendLossProbe(tcb: Tcb): void {
  const unsent = tcb.sendBuffer.bytesFrom(tcb.sndNxt);
  const windowRoom = seqDiff(seqAdd(tcb.sndUna, tcb.sndWnd), tcb.sndNxt);
  tcb.env.counters.lossProbes++;
  if (unsent > 0 && windowRoom > 0 && tcb.sndNxt === tcb.sndMax) {
    const length = Math.min(unsent, windowRoom, currentMss(tcb));
    const fin = tcb.finPending && length === unsent;
    const seq = tcb.sndNxt;
    emitDataSegment(tcb, seq, length, fin);
    tcb.sndNxt = seqAdd(seq, length + (fin ? 1 : 0));
    if (fin) tcb.finSent = true;
    tcb.sndMax = tcb.sndNxt;
    tcb.bytesSent += length;
    tcb.sentNow();
    tcb.tlpRetransmitted = false;
  } else {
    const last = tcb.existingScoreboard?.last();
    if (last === undefined) return;
    const withFin = tcb.finSent && last.end === seqAdd(tcb.finSeq, 1);
    const dataEnd = withFin ? tcb.finSeq : last.end;
    const length = Math.min(seqDiff(dataEnd, last.start), currentMss(tcb));
    sendRetransmission(tcb, seqAdd(dataEnd, -length), length, withFin, 'probe');
    tcb.tlpRetransmitted = true;
  }
  tcb.tlpEndSeq = tcb.sndMax;
  // RFC 8985 §7.3: the retransmission timer restarts after the probe.
  armRetransmissionTimer(tcb);
}

/**
 * A zero-window probe (§3.8.6.1, MUST-36): one octet of new data sent past the closed window (or the
 * pending FIN when no data is left). SND.NXT moves past it, so the peer's ACK of it is acceptable when
 * the window has reopened; while the window stays shut the octet is simply sent again.
 */
export function sendWindowProbe(tcb: Tcb): void {
  const now = tcb.now;
  tcb.sndNxt = tcb.sndUna;
  const unsent = tcb.sendBuffer.bytesFrom(tcb.sndNxt);
  const seq = tcb.sndNxt;
  if (unsent > 0 || tcb.finPending) traceRetransmit(tcb, seq, unsent > 0 ? 1 : 0, 'probe');
  if (unsent > 0) {
    emitDataSegment(tcb, seq, 1, false, false, true);
    tcb.sndNxt = seqAdd(seq, 1);
  } else if (tcb.finPending) {
    emitDataSegment(tcb, seq, 0, true, false, true);
    tcb.sndNxt = seqAdd(seq, 1);
    tcb.finSent = true;
  } else {
    return;
  }
  if (seqGt(tcb.sndNxt, tcb.sndMax)) tcb.sndMax = tcb.sndNxt;
  tcb.timing = undefined;
  tcb.lastProbeTime = now;
  tcb.unansweredProbes++;
  tcb.env.counters.zeroWindowProbes++;
}

/** Fast retransmit (RFC 5681 §3.2 step 3): the segment at SND.UNA, once, without moving SND.NXT. */
export function fastRetransmit(tcb: Tcb): void {
  // Only bytes sent before may be retransmitted: the range [SND.UNA, SND.MAX) less a FIN.
  const available = Math.min(tcb.sendBuffer.bytesFrom(tcb.sndUna), seqDiff(tcb.sndMax, tcb.sndUna));
  const length = Math.min(available, currentMss(tcb));
  const fin = tcb.finSent && length === tcb.sendBuffer.bytesFrom(tcb.sndUna);
  if (length === 0 && !fin) return;
  tcb.timing = undefined; // Karn (MUST-18): no RTT sample across a retransmission
  if (tcb.tsEnabled) tcb.tsRetransmitted = tcb.tsVal();
  traceRetransmit(tcb, tcb.sndUna, length, 'fast-retransmit');
  emitDataSegment(tcb, tcb.sndUna, length, fin);
  tcb.retransmissions++;
  tcb.bytesRetransmitted += length;
  tcb.bytesSent += length;
  tcb.env.counters.retransmittedSegments++;
  tcb.env.counters.fastRetransmits++;
}

/**
 * A keepalive probe (§3.8.4): <SEQ=SND.NXT-1><ACK=RCV.NXT><CTL=ACK> without data (SHLD-12). The peer
 * finds the sequence number outside its window and answers with an ACK.
 */
export function sendKeepaliveProbe(tcb: Tcb): void {
  tcb.env.counters.keepaliveProbes++;
  tcb.transmit(TCP_ACK, seqAdd(tcb.sndMax, -1), selectWindow(tcb));
  ackSent(tcb);
}
