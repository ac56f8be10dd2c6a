/**
 * Proportional Rate Reduction (RFC 6937): how much may be sent on each ACK during loss recovery, so the
 * window comes down to ssthresh smoothly and evenly over the recovery instead of in one step (which
 * stalls the ACK clock) or not at all (RFC 3517's pipe, which sends bursts).
 *
 * Per ACK: prr_delivered grows by what the ACK delivered; while pipe > ssthresh the sender sends
 * ssthresh/RecoverFS of it (the proportional part); once pipe has fallen to ssthresh or below, the
 * slow-start reduction bound (PRR-SSRB) lets pipe climb back to ssthresh, at most one MSS more than was
 * delivered. The result is expressed as a window, cwnd = pipe + sndcnt, so the output path's usual rule
 * (send while cwnd - pipe allows) sends exactly sndcnt.
 */
export class ProportionalRateReduction {
  /** Bytes delivered to the receiver since recovery began (prr_delivered). */
  delivered = 0;
  /** FlightSize when recovery began (RecoverFS). */
  private recoverFs = 1;
  /** `sentTotal` when recovery began: prr_out is the difference. */
  private sentAtStart = 0;
  /**
   * Bytes credited for duplicate ACKs (one MSS each, RFC 6937 §3 without SACK) and not yet covered by a
   * cumulative ACK: a later ACK of those bytes delivers only the rest.
   */
  private dupAckCredit = 0;

  /** Recovery starts (RFC 6937 §3 "on entering recovery"). */
  start(flightSize: number, sentTotal: number): void {
    this.delivered = 0;
    this.recoverFs = Math.max(1, flightSize);
    this.sentAtStart = sentTotal;
    this.dupAckCredit = 0;
  }

  /** prr_out: bytes sent (new or retransmitted) since recovery began. */
  out(sentTotal: number): number {
    return sentTotal - this.sentAtStart;
  }

  /**
   * Bytes delivered by a cumulative ACK of `bytesAcked`, less what duplicate ACKs already credited. The
   * first MSS always counts (the ACK covers at least the retransmitted segment, which no dupack did).
   */
  deliveredByCumulativeAck(bytesAcked: number, mss: number): number {
    const covered = Math.min(this.dupAckCredit, Math.max(0, bytesAcked - mss));
    this.dupAckCredit -= covered;
    return bytesAcked - covered;
  }

  /** A duplicate ACK without SACK: one MSS left the network. */
  deliveredByDuplicateAck(mss: number): number {
    this.dupAckCredit += mss;
    return mss;
  }

  /**
   * RFC 6937 §3 "on every ACK during recovery": returns the window, pipe + sndcnt. `deliveredData` is
   * this ACK's DeliveredData.
   */
  window(deliveredData: number, pipe: number, ssthresh: number, sentTotal: number, mss: number): number {
    this.delivered += deliveredData;
    const prrOut = this.out(sentTotal);
    let sndcnt: number;
    if (pipe > ssthresh) {
      // Proportional rate reduction.
      sndcnt = Math.ceil((this.delivered * ssthresh) / this.recoverFs) - prrOut;
    } else {
      // PRR-SSRB: slow start back to ssthresh, at most one MSS beyond what was delivered.
      const limit = Math.max(this.delivered - prrOut, deliveredData) + mss;
      sndcnt = Math.min(ssthresh - pipe, limit);
    }
    // Nothing sent yet in this recovery: at least the retransmission that starts it may go (Linux does
    // the same, so a sender whose pipe exceeds ssthresh by little is not stuck waiting).
    if (prrOut === 0) sndcnt = Math.max(sndcnt, mss);
    return pipe + Math.max(sndcnt, 0);
  }
}
