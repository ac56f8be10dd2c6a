/**
 * A delivery-rate estimate from ACK arrivals alone, for connections whose ACK events carry no rate
 * sample from send records (RateSample). It measures how fast the peer acknowledges data: the bytes
 * delivered over the last interval of at least one minimum RTT, divided by that interval. With send
 * records the sampler of draft-cheng-iccrg-delivery-rate-estimation is better (it also bounds the
 * sample by the send rate); this one is its ACK-rate half.
 */

/** Points kept: enough for one RTT of ACKs at a few thousand ACKs per RTT, older ones thinned. */
const POINTS = 64;

export class AckRateSampler {
  /** Bytes delivered over the connection so far. */
  delivered = 0;
  private readonly times = new Float64Array(POINTS);
  private readonly totals = new Float64Array(POINTS);
  private head = 0;
  private count = 0;

  /**
   * Records `bytes` delivered at `now` and returns the delivery rate (bytes per ms) over the last
   * interval of at least `windowMs`, or 0 when no interval that long has been seen yet.
   */
  onDelivered(bytes: number, now: number, windowMs: number): number {
    this.delivered += bytes;
    // Keep at most one point per 1/16 of the window, so the ring covers the window however many ACKs.
    const last = (this.head + POINTS - 1) % POINTS;
    if (this.count > 0 && now - this.times[last]! < windowMs / 16) {
      this.totals[last] = this.delivered;
    } else {
      this.times[this.head] = now;
      this.totals[this.head] = this.delivered;
      this.head = (this.head + 1) % POINTS;
      if (this.count < POINTS) this.count++;
    }
    // The newest point at least `windowMs` old.
    for (let i = 1; i < this.count; i++) {
      const at = (this.head + POINTS - 1 - i) % POINTS;
      const interval = now - this.times[at]!;
      if (interval >= windowMs) return (this.delivered - this.totals[at]!) / interval;
    }
    return 0;
  }
}

/** A windowed maximum over rounds (Kathleen Nichols' algorithm, as BBR's max filter): best of the last `window`. */
export class WindowedMax {
  private readonly values: number[] = [];
  private readonly rounds: number[] = [];

  constructor(private readonly window: number) {}

  get best(): number {
    return this.values.length > 0 ? this.values[0]! : 0;
  }

  update(value: number, round: number): void {
    // Drop samples that fell out of the window, then those this one dominates.
    while (this.rounds.length > 0 && round - this.rounds[0]! >= this.window) {
      this.rounds.shift();
      this.values.shift();
    }
    while (this.values.length > 0 && this.values[this.values.length - 1]! <= value) {
      this.values.pop();
      this.rounds.pop();
    }
    this.values.push(value);
    this.rounds.push(round);
  }

  reset(): void {
    this.values.length = 0;
    this.rounds.length = 0;
  }
}
