import type { Clock } from '../time/clock.js';

/**
 * A token bucket: up to `burst` events at once, refilled at `ratePerSecond`. Used to rate-limit ICMP
 * error messages (RFC 1812 §4.3.2.8, RFC 1122 §3.2.2), so a flood of bad packets cannot turn the stack
 * into a flood of ICMP. Refilled lazily from the clock, so it needs no timer.
 */
export class TokenBucket {
  private tokens: number;
  private lastRefill: number;

  constructor(
    private readonly clock: Clock,
    readonly ratePerSecond: number,
    readonly burst: number,
  ) {
    this.tokens = burst;
    this.lastRefill = clock.now();
  }

  /** Takes one token if there is one; returns false (and takes nothing) when the bucket is empty. */
  take(): boolean {
    const now = this.clock.now();
    if (now > this.lastRefill) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.lastRefill) * this.ratePerSecond) / 1000);
      this.lastRefill = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
