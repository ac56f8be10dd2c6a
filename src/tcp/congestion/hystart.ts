/**
 * HyStart++ (RFC 9406): leaves slow start before it overshoots the bottleneck's queue, by watching the
 * round trip time rise as the queue builds, and then grows carefully (Conservative Slow Start, CSS) for
 * a few rounds in case the rise was noise.
 *
 * A round ends when an ACK passes the SND.MAX recorded at its start. In each round the smallest RTT
 * sample is kept; once a round has N_RTT_SAMPLE samples and its minimum exceeds the previous round's by
 * the threshold (1/8 of it, clamped to [4, 16] ms), slow start becomes CSS. In CSS the window grows
 * CSS_GROWTH_DIVISOR times slower; an RTT back below the baseline returns to slow start; after
 * CSS_ROUNDS rounds the controller moves to congestion avoidance (ssthresh = cwnd).
 *
 * RFC 9406 is written for one flow alone. Where several share a drop-tail bottleneck, the window a flow
 * holds when it leaves slow start is the share it keeps for many CUBIC epochs, since a shared overflow
 * later cuts every flow by the same factor (RFC 9438 §4.6). Each departure below keeps RFC 9406's intent,
 * leaving slow start before the queue overflows, while not mistaking another flow's queue for this
 * one's. None changes what a lone flow does on the paths measured (its goodput is the same to the digit);
 * the measurements behind each, over two flows opened 0-3 s apart and three or four flows, are in
 * BENCHMARKS.md ("Goodput over emulated paths").
 *
 * 1. CSS grows by half, not the quarter §4.3 recommends (any divisor of at least 2 is allowed): the flow
 *    that enters CSS early is most often one that sees another flow's queue, and the window it reaches
 *    in CSS is the share it keeps.
 * 2. The previous round's minimum is taken over its first N_RTT_SAMPLE samples, the samples the current
 *    round is judged on, where §4.2 takes it over the whole round. A round's first ACKs are those of its
 *    burst and carry whatever queue another flow's burst left ahead of it; its last few segments come
 *    back at the bare RTT. Judged against that whole-round minimum, a flow sees the other's queue as its
 *    own rise. A lone flow's burst is first in its queue, so its first samples are the round's minimum.
 * 3. The ACK train ends slow start too, as Linux's HyStart does beside its delay test: an unpaced sender
 *    sends each round in a burst at twice the bottleneck rate, the queue it builds drains before the
 *    next round, and the delay test acts one round late (a one-BDP queue then overflows). When one
 *    round's ACKs arrive back to back (at most ACK_TRAIN_GAP_MS apart) for half the minimum RTT, the
 *    window has reached about the bandwidth-delay product and slow start ends there. A paced sender
 *    (TcpConfig.pacing) spreads a window over half the RTT: its train must last a whole minimum RTT.
 * 4. A gap in the train is bridged, not a break, when the ACK after it carries at least the gap's worth
 *    of queueing delay: its segment reached the queue before the one ahead of it left, so the
 *    bottleneck was busy with another flow's segments throughout. Only an ACK back to back with the one
 *    before it can end slow start (a delayed ACK's sample carries its timer's wait, RFC 7323 §4.3, and
 *    would bridge any gap). A bridged gap is taken out of the train's length and rate: it was the other
 *    flow's time, and counted as this flow's it would end the train early at this flow's share.
 * 5. The train is also judged by its rate on every ACK: the length test judges a window once per
 *    doubling, so it ends slow start anywhere from 1 to 1.5 BDP. A window of TRAIN_RATE_WINDOW times the
 *    train's delivery rate times the minimum RTT ends slow start. 1.35, not 1: a lone flow at 50 ms
 *    leaves on the train's length at 1.22 BDP, and leaving lower cost it goodput at 0 and 0.1% loss.
 *    Unpaced only: a paced train's rate is the pacing rate.
 * 6. A delay rise does not start CSS while cwnd is below OWN_QUEUE_WINDOW times the fastest rate a train
 *    has shown times the minimum RTT: a window that small leaves the bottleneck's queue empty between
 *    its bursts, so a rise of its first samples is another flow's standing queue (§4.2 enters CSS on any
 *    rise). The train tests and a loss still end slow start. Runs of RUN_ACKS ACKs in a row, each back
 *    to back with the one before, count toward that fastest rate: a burst's own segments cross the
 *    bottleneck back to back and their ACKs show its rate, where a whole train crossing other flows'
 *    queue shows only this flow's share. Only this hold uses it, not the train tests. Unpaced only.
 * 7. A whole CSS round whose delivery rate (bytes delivered over the round's duration) is at least
 *    CSS_RATE_GROWTH times the previous round's resumes slow start. RFC 9406 returns to slow start only
 *    when the RTT falls back below the baseline, but another flow's queue stays. A flow whose own window
 *    fills the bottleneck delivers at the bottleneck's rate whatever its window; one still short of its
 *    share delivers more each round. The threshold is the BBR draft's for a pipe not yet full (25% a
 *    round).
 */

/** RFC 9406 §4.3 constants, and those of the departures in the header (each marked). */
export const HYSTART = Object.freeze({
  MIN_RTT_THRESH_MS: 4,
  MAX_RTT_THRESH_MS: 16,
  MIN_RTT_DIVISOR: 8,
  N_RTT_SAMPLE: 8,
  /** RFC 9406 recommends 4 and requires at least 2; see the header for why 2. */
  CSS_GROWTH_DIVISOR: 2,
  CSS_ROUNDS: 5,
  /** Most time between two ACKs of one train (Linux's hystart_ack_delta: 2 ms). */
  ACK_TRAIN_GAP_MS: 2,
  /**
   * A whole CSS round delivering at this multiple of the previous round's rate or more resumes slow
   * start (not RFC 9406; see the header).
   */
  CSS_RATE_GROWTH: 1.25,
  /**
   * An unbroken ACK train ends slow start once cwnd reaches this multiple of the train's delivery rate
   * times the minimum RTT (not RFC 9406; see the header).
   */
  TRAIN_RATE_WINDOW: 1.35,
  /**
   * A delay rise while cwnd is below this multiple of the fastest ACK train's rate times the minimum
   * RTT is another flow's queue, and does not start CSS (not RFC 9406; see the header).
   */
  OWN_QUEUE_WINDOW: 1.35,
  /**
   * So many ACKs in a row, each back to back with the one before, give a rate that counts toward the
   * fastest train's (not RFC 9406; see the header).
   */
  RUN_ACKS: 4,
});

export type HyStartPhase = 'slow-start' | 'css' | 'done';

function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

export class HyStartPlusPlus {
  phase: HyStartPhase = 'slow-start';

  /** `paced`: the output path paces the sender (see the ACK-train test in onAck). */
  constructor(private readonly paced = false) {}

  private windowEnd: number | undefined;
  // The RTTs and times below start `undefined` ("none yet") rather than at Infinity or 0. This runs
  // once per ACK burst, too rarely to be optimized soon, and V8 keeps a field that only ever held
  // numbers unboxed: every read of one in unoptimized code allocates a copy of the number. A field that
  // also held `undefined` keeps the caller's number as it came, and reading it allocates nothing.
  /** The smallest of the last round's first N_RTT_SAMPLE samples (see the header for why not all). */
  private lastRoundMinRtt: number | undefined;
  private currentRoundMinRtt: number | undefined;
  /** The smallest of this round's first N_RTT_SAMPLE samples: lastRoundMinRtt once the round is over. */
  private currentRoundFirstMinRtt: number | undefined;
  private rttSampleCount = 0;
  private cssBaselineMinRtt: number | undefined;
  private cssRounds = 0;
  /** Smallest RTT seen in slow start, ms (the train's yardstick). */
  private minRtt: number | undefined;
  /** When the current round began, and when the last ACK of its train arrived. */
  private roundStartTime: number | undefined;
  private lastTrainAck: number | undefined;
  /** The train's last gap was bridged by queueing delay and awaits a back-to-back ACK. */
  private bridged = false;
  /** Bytes the current train's ACKs delivered after its first (the train's delivery rate). */
  private trainDelivered = 0;
  /**
   * The current train's bridged gaps, ms (another flow's segments crossing the bottleneck): not this
   * flow's time, so not counted in the train's length or its rate.
   */
  private trainBridgedMs = 0;
  /** Bytes delivered in the current round, and the last round's delivery rate (bytes per ms). */
  private roundDelivered = 0;
  private lastRoundRate: number | undefined;
  /**
   * The fastest rate an ACK train of this slow start has delivered at, bytes per ms: the path's
   * bottleneck rate as this flow has seen it (see the header: a delay rise is not this flow's queue
   * while its window is below this rate times the minimum RTT).
   */
  private maxTrainRate = 0;
  /** The current run of back-to-back ACKs: how many, over how long (ms), delivering how much. */
  private runAcks = 0;
  private runMs = 0;
  private runDelivered = 0;
  /** Why slow start ended, for tests and traces. */
  exit: 'delay' | 'ack-train' | 'congestion' | undefined;

  /**
   * Feeds one ACK in slow start. Returns the divisor of the slow start increase: 1 in slow start,
   * CSS_GROWTH_DIVISOR in CSS, or 0 when slow start is over (the caller sets ssthresh = cwnd). `rttMs` is
   * the ACK's RTT sample, or -1 without one. `now` (ms) times ACK trains and rounds; without it only the
   * delay test runs. `delivered`: the bytes this ACK delivered (the rate tests of the ACK train and
   * of CSS); `cwnd`: the window in bytes (the train's rate test).
   */
  onAck(ack: number, sndMax: number, rttMs: number, now?: number, delivered = 0, cwnd = 0): number {
    if (this.phase === 'done') return 1;
    if (this.windowEnd === undefined || seqGt(ack, this.windowEnd)) {
      // §4.2: a new round starts with the first ACK beyond windowEnd (as Linux's HyStart): an ACK for
      // exactly windowEnd is the last one of the previous round's train, and the round must begin with
      // the first of the next train, whose first samples are the round's.
      if (now !== undefined) this.roundOver(now);
      this.windowEnd = sndMax;
      if (now !== undefined) this.roundStartTime = this.lastTrainAck = now;
      this.bridged = false;
      this.trainDelivered = 0;
      this.trainBridgedMs = 0;
      this.lastRoundMinRtt = this.currentRoundFirstMinRtt;
      this.currentRoundMinRtt = undefined;
      this.currentRoundFirstMinRtt = undefined;
      this.rttSampleCount = 0;
      if (this.phase === 'css' && ++this.cssRounds >= HYSTART.CSS_ROUNDS) {
        this.exit = 'delay';
        this.phase = 'done';
        return 0;
      }
    }
    this.roundDelivered += delivered;
    if (rttMs >= 0) {
      if (this.currentRoundMinRtt === undefined || rttMs < this.currentRoundMinRtt)
        this.currentRoundMinRtt = rttMs;
      if (this.rttSampleCount < HYSTART.N_RTT_SAMPLE) this.currentRoundFirstMinRtt = this.currentRoundMinRtt;
      if (this.minRtt === undefined || rttMs < this.minRtt) this.minRtt = rttMs;
      this.rttSampleCount++;
    }
    if (
      this.phase === 'slow-start' &&
      now !== undefined &&
      this.minRtt !== undefined &&
      this.lastTrainAck !== undefined &&
      this.roundStartTime !== undefined
    ) {
      if (
        this.ackTrainEnds(now, rttMs, this.minRtt, this.roundStartTime, this.lastTrainAck, delivered, cwnd)
      ) {
        this.phase = 'done';
        this.exit = 'ack-train';
        return 0;
      }
    }
    if (this.rttSampleCount >= HYSTART.N_RTT_SAMPLE && this.currentRoundMinRtt !== undefined) {
      if (this.phase === 'slow-start' && this.lastRoundMinRtt !== undefined) {
        const threshold = Math.min(
          HYSTART.MAX_RTT_THRESH_MS,
          Math.max(HYSTART.MIN_RTT_THRESH_MS, this.lastRoundMinRtt / HYSTART.MIN_RTT_DIVISOR),
        );
        if (
          this.currentRoundMinRtt >= this.lastRoundMinRtt + threshold &&
          !this.belowPath(cwnd, this.minRtt)
        ) {
          this.cssBaselineMinRtt = this.currentRoundMinRtt;
          this.phase = 'css';
          this.exit = 'delay';
          this.cssRounds = 0;
        }
      } else if (
        this.phase === 'css' &&
        this.cssBaselineMinRtt !== undefined &&
        this.currentRoundMinRtt < this.cssBaselineMinRtt
      ) {
        // §4.2: the RTT increase was spurious; back to slow start.
        this.cssBaselineMinRtt = undefined;
        this.phase = 'slow-start';
        this.exit = undefined;
      }
    }
    return this.phase === 'css' ? HYSTART.CSS_GROWTH_DIVISOR : 1;
  }

  /**
   * The round that began at roundStartTime ends at `now`: its delivery rate, and the test that a whole
   * CSS round delivering CSS_RATE_GROWTH times the last round's rate was not this flow's queue (see the
   * header).
   */
  private roundOver(now: number): void {
    const start = this.roundStartTime;
    const delivered = this.roundDelivered;
    this.roundDelivered = 0;
    if (start === undefined || now <= start) return;
    const rate = delivered / (now - start);
    // cssRounds counts the round starts since CSS began: at 1 or more the round ending here was CSS
    // throughout (the one CSS began in was partly slow start).
    if (
      this.phase === 'css' &&
      this.cssRounds >= 1 &&
      this.lastRoundRate !== undefined &&
      rate >= this.lastRoundRate * HYSTART.CSS_RATE_GROWTH
    ) {
      this.cssBaselineMinRtt = undefined;
      this.phase = 'slow-start';
      this.exit = undefined;
    }
    this.lastRoundRate = rate;
  }

  /**
   * The ACK-train test (see the header), for an ACK at `now` with RTT sample `rttMs` (-1: none): true
   * when the train has lasted long enough to end slow start. A gap longer than ACK_TRAIN_GAP_MS ends the
   * train unless the ACK after it carries at least the gap's worth of queueing delay (another flow's
   * burst through the same queue; see the header).
   */
  private ackTrainEnds(
    now: number,
    rttMs: number,
    minRtt: number,
    roundStart: number,
    lastTrainAck: number,
    delivered: number,
    cwnd: number,
  ): boolean {
    const gap = now - lastTrainAck;
    if (gap > HYSTART.ACK_TRAIN_GAP_MS) {
      this.runAcks = this.runMs = this.runDelivered = 0;
      // A straggler held by the peer's delayed-ACK timer also carries its wait in its sample: the
      // bridge counts only once an ACK back to back with it confirms the train goes on.
      if (rttMs >= 0 && rttMs - minRtt >= gap && !this.bridged) {
        this.lastTrainAck = now;
        this.bridged = true;
        // The gap was the other flow's segments and this ACK's own: it resumes the train as the round's
        // first ACK begins one, neither its time nor its bytes counted in the train's rate.
        this.trainBridgedMs += gap;
      }
      return false;
    }
    // A run of back-to-back ACKs of this flow's own segments (see the header): its rate is the
    // bottleneck's whatever other flows queue around it.
    if (gap > 0 && !this.bridged && delivered > 0) {
      this.runMs += gap;
      this.runDelivered += delivered;
      if (++this.runAcks === HYSTART.RUN_ACKS) {
        if (this.runDelivered / this.runMs > this.maxTrainRate)
          this.maxTrainRate = this.runDelivered / this.runMs;
        this.runAcks = this.runMs = this.runDelivered = 0;
      }
    } else this.runAcks = this.runMs = this.runDelivered = 0;
    this.lastTrainAck = now;
    this.bridged = false;
    if (now > roundStart) this.trainDelivered += delivered;
    // The train's own length: the bridged gaps were other flows' segments crossing the bottleneck.
    const span = now - roundStart - this.trainBridgedMs;
    if (span >= HYSTART.ACK_TRAIN_GAP_MS && this.trainDelivered / span > this.maxTrainRate)
      this.maxTrainRate = this.trainDelivered / span;
    // The train's own delivery rate says how much window the path holds (see the header): only for an
    // unpaced sender, whose ACKs are spaced by the bottleneck.
    if (
      !this.paced &&
      span >= minRtt / 8 &&
      this.trainDelivered > 0 &&
      cwnd >= (this.trainDelivered / span) * minRtt * HYSTART.TRAIN_RATE_WINDOW
    )
      return true;
    // Unpaced, a window's ACKs return in a train as long as the window takes to cross the bottleneck;
    // paced at twice cwnd/SRTT in slow start, they are spread over half the RTT already, so the
    // train must last a whole minimum RTT (Linux halves the threshold only without pacing).
    return span > (this.paced ? minRtt : minRtt / 2);
  }

  /**
   * True when a window of `cwnd` bytes cannot hold a queue of its own at the bottleneck: it is below
   * what the fastest ACK train seen delivers in a minimum RTT (see the header). Unpaced only.
   */
  private belowPath(cwnd: number, minRtt: number | undefined): boolean {
    if (this.paced || minRtt === undefined || this.maxTrainRate === 0) return false;
    return cwnd < this.maxTrainRate * minRtt * HYSTART.OWN_QUEUE_WINDOW;
  }

  /** A congestion event or a timeout ends the initial slow start for good (§4.2, §4.3). */
  stop(): void {
    if (this.phase !== 'done') this.exit ??= 'congestion';
    this.phase = 'done';
  }
}
