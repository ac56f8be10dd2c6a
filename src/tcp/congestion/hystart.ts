/**
 * HyStart++ (RFC 9406): leaves slow start before it overshoots the bottleneck's queue, by watching the
 * round trip time rise as the queue builds, and then grows carefully (Conservative Slow Start, CSS) for
 * a few rounds in case the rise was noise.
 *
 * A round ends when the ACK passes the SND.MAX recorded at its start. In each round the smallest RTT
 * sample is kept; once a round has N_RTT_SAMPLE samples and its minimum exceeds the previous round's by
 * the threshold (1/8 of it, clamped to [4, 16] ms), slow start becomes CSS. In CSS the window grows a
 * quarter as fast; an RTT back below the baseline returns to slow start; after CSS_ROUNDS rounds the
 * controller moves to congestion avoidance (ssthresh = cwnd).
 */

/** RFC 9406 §4.3 constants. */
export const HYSTART = Object.freeze({
  MIN_RTT_THRESH_MS: 4,
  MAX_RTT_THRESH_MS: 16,
  MIN_RTT_DIVISOR: 8,
  N_RTT_SAMPLE: 8,
  CSS_GROWTH_DIVISOR: 4,
  CSS_ROUNDS: 5,
});

export type HyStartPhase = 'slow-start' | 'css' | 'done';

function seqGe(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

export class HyStartPlusPlus {
  phase: HyStartPhase = 'slow-start';
  private windowEnd: number | undefined;
  private lastRoundMinRtt = Number.POSITIVE_INFINITY;
  private currentRoundMinRtt = Number.POSITIVE_INFINITY;
  private rttSampleCount = 0;
  private cssBaselineMinRtt = Number.POSITIVE_INFINITY;
  private cssRounds = 0;

  /**
   * Feeds one ACK in slow start. Returns the divisor of the slow start increase: 1 in slow start,
   * CSS_GROWTH_DIVISOR in CSS, or 0 when slow start is over (the caller sets ssthresh = cwnd).
   */
  onAck(ack: number, sndMax: number, rttMs: number | undefined): number {
    if (this.phase === 'done') return 1;
    if (this.windowEnd === undefined || seqGe(ack, this.windowEnd)) {
      // §4.2: a new round starts.
      this.windowEnd = sndMax;
      this.lastRoundMinRtt = this.currentRoundMinRtt;
      this.currentRoundMinRtt = Number.POSITIVE_INFINITY;
      this.rttSampleCount = 0;
      if (this.phase === 'css' && ++this.cssRounds >= HYSTART.CSS_ROUNDS) {
        this.phase = 'done';
        return 0;
      }
    }
    if (rttMs !== undefined) {
      if (rttMs < this.currentRoundMinRtt) this.currentRoundMinRtt = rttMs;
      this.rttSampleCount++;
    }
    if (this.rttSampleCount >= HYSTART.N_RTT_SAMPLE && Number.isFinite(this.currentRoundMinRtt)) {
      if (this.phase === 'slow-start' && Number.isFinite(this.lastRoundMinRtt)) {
        const threshold = Math.min(
          HYSTART.MAX_RTT_THRESH_MS,
          Math.max(HYSTART.MIN_RTT_THRESH_MS, this.lastRoundMinRtt / HYSTART.MIN_RTT_DIVISOR),
        );
        if (this.currentRoundMinRtt >= this.lastRoundMinRtt + threshold) {
          this.cssBaselineMinRtt = this.currentRoundMinRtt;
          this.phase = 'css';
          this.cssRounds = 0;
        }
      } else if (this.phase === 'css' && this.currentRoundMinRtt < this.cssBaselineMinRtt) {
        // §4.2: the RTT increase was spurious; back to slow start.
        this.cssBaselineMinRtt = Number.POSITIVE_INFINITY;
        this.phase = 'slow-start';
      }
    }
    return this.phase === 'css' ? HYSTART.CSS_GROWTH_DIVISOR : 1;
  }

  /** A congestion event or a timeout ends the initial slow start for good (§4.2, §4.3). */
  stop(): void {
    this.phase = 'done';
  }
}
