/**
 * Round-trip time estimation and the retransmission timeout, per RFC 6298.
 *
 * - Before any sample the RTO is the initial value (1 s, §2.1).
 * - The first sample R sets SRTT = R, RTTVAR = R/2 (§2.2); later ones use alpha = 1/8, beta = 1/4 (§2.3).
 * - RTO = SRTT + max(G, 4*RTTVAR), clamped to [min, max] (§2.4, §2.5).
 * - Each expiry doubles the RTO up to the maximum (§5.5). The doubled value stays until the next valid
 *   sample recomputes it (§5.7 and the note after it): Karn's algorithm (MUST-18) means samples are only
 *   taken from segments that were never retransmitted, which the connection enforces.
 */
export interface RttEstimatorConfig {
  initialRtoMs: number;
  minRtoMs: number;
  maxRtoMs: number;
  clockGranularityMs: number;
}

export class RttEstimator {
  private readonly config: RttEstimatorConfig;
  private srttMs = 0;
  private rttvarMs = 0;
  private rtoMs: number;
  private sampled = false;
  private backoffCount = 0;

  constructor(config: RttEstimatorConfig) {
    this.config = config;
    this.rtoMs = this.clamp(config.initialRtoMs);
  }

  /** Smoothed RTT, or 0 before the first sample. */
  get srtt(): number {
    return this.srttMs;
  }

  get rttvar(): number {
    return this.rttvarMs;
  }

  /** The current retransmission timeout, backoff included. */
  get rto(): number {
    return this.rtoMs;
  }

  get hasSample(): boolean {
    return this.sampled;
  }

  /** Expiries since the last valid sample. */
  get backoffs(): number {
    return this.backoffCount;
  }

  /**
   * Feeds one RTT measurement (ms) of a segment that was never retransmitted (or timed by timestamps).
   * `expectedSamples` > 1 spreads the gains over that many samples per RTT (RFC 7323 Appendix G:
   * alpha' = alpha / ExpectedSamples, beta' = beta / ExpectedSamples), for senders sampling every ACK.
   */
  sample(rttMs: number, expectedSamples = 1): void {
    if (!(rttMs >= 0) || !Number.isFinite(rttMs)) return;
    if (!this.sampled) {
      this.srttMs = rttMs;
      this.rttvarMs = rttMs / 2;
      this.sampled = true;
    } else {
      const beta = 0.25 / expectedSamples;
      const alpha = 0.125 / expectedSamples;
      this.rttvarMs = (1 - beta) * this.rttvarMs + beta * Math.abs(this.srttMs - rttMs);
      this.srttMs = (1 - alpha) * this.srttMs + alpha * rttMs;
    }
    this.backoffCount = 0;
    // Clamped here rather than by `clamp`: a fractional RTO passed to a call that is not inlined is a heap
    // number made per call, one per ACK on a path with delay in the runs where the ACK path's inlining
    // budget ran out before this call.
    const config = this.config;
    const rto = this.srttMs + Math.max(config.clockGranularityMs, 4 * this.rttvarMs);
    this.rtoMs = Math.min(Math.max(rto, config.minRtoMs), config.maxRtoMs);
  }

  /** The retransmission timer expired: double the RTO (RFC 6298 §5.5), up to the maximum. */
  backoff(): void {
    this.backoffCount++;
    this.rtoMs = Math.min(this.rtoMs * 2, this.config.maxRtoMs);
  }

  /**
   * RFC 6298 §5.7: if the SYN (or SYN-ACK) timed out and the RTO in use is below 3 s, data transmission
   * starts with an RTO of 3 s (unless a valid sample has since been taken).
   */
  resetAfterSynTimeout(): void {
    if (this.sampled || this.config.initialRtoMs >= 3000) return;
    this.rtoMs = this.clamp(3000);
    this.backoffCount = 0;
  }

  private clamp(rto: number): number {
    return Math.min(Math.max(rto, this.config.minRtoMs), this.config.maxRtoMs);
  }
}
