/**
 * HyStart++ (RFC 9406): leaves slow start before it overshoots the bottleneck's queue, by watching the
 * round trip time rise as the queue builds, and then grows carefully (Conservative Slow Start, CSS) for
 * a few rounds in case the rise was noise.
 *
 * A round ends when an ACK passes the SND.MAX recorded at its start. In each round the smallest RTT
 * sample is kept; once a round has N_RTT_SAMPLE samples and its minimum exceeds the previous round's by
 * the threshold (1/8 of it, clamped to [4, 16] ms), slow start becomes CSS. In CSS the window grows
 * half as fast; an RTT back below the baseline returns to slow start; after CSS_ROUNDS rounds the
 * controller moves to congestion avoidance (ssthresh = cwnd).
 *
 * Half, not the quarter RFC 9406 §4.3 recommends (it allows any divisor of at least 2): the flow that
 * enters CSS early is most often one that shares the bottleneck and sees the other flows' queue, and the
 * window it reaches in CSS is the share it keeps, since a shared drop-tail overflow later cuts every
 * flow by the same factor (RFC 9438 §4.6). Two CUBIC flows opened together over 100 Mbit/s x 50 ms (a
 * one-BDP queue): the second enters CSS at about 190 segments while the first leaves slow start on its
 * ACK train at 528; with a quarter the split over seconds 10-20 was 0.79, with half 0.85, and over start
 * gaps of 0 to 2 s the mean went from 0.77 to 0.91 (0.49 to 0.83 at worst). On six other paths (20,
 * 80 and 100 ms round trips; 20, 50 and 200 Mbit/s) the mean moved from 0.57-0.75 to 0.69-0.84, with
 * one worse (0.75 to 0.70 at 20 ms). A lone flow that leaves slow start on its ACK train never enters
 * CSS.
 *
 * The previous round's minimum is taken over its first N_RTT_SAMPLE samples, the same samples the
 * current round is judged on, where RFC 9406 §4.2 takes it over the whole round. The first ACKs of a
 * round are those of its burst, and where another flow's burst reaches the bottleneck just ahead of
 * this one's every round, they carry that queue; the round's last few segments, sent into the emptied
 * queue after the burst (released, for one, by the delayed ACK of an odd segment), come back at the
 * path's bare RTT. Against that whole-round minimum, the next round's first samples see the other
 * flow's burst grow as an RTT rise and enter CSS while the queue still drains between bursts, and the
 * flow grows half as fast until a straggler ends CSS again. Two CUBIC flows opened together over
 * 100 Mbit/s x 50 ms: the second entered CSS at 172 segments, 255 when the first left slow start at
 * 528, and took its first loss at 448 against 530; judged first samples against first samples it keeps
 * doubling until the first flow's last slow-start burst (343 segments) and loses at 487 against 529.
 * Seconds 10-20 go from 0.84 to 0.89, seconds 10-60 from 0.73 to 0.86; at 80 ms the same start went
 * from 0.81 to 0.99 (723 frames dropped; 0.70 and 308 with the bridged train below). A lone flow's
 * burst is first in its queue, so its first samples are its round's minimum and nothing changes for
 * it. CSS's test that a rise was spurious still takes every sample.
 *
 * Delay alone acts one round late when the sender does not pace: each round's data leaves in a burst
 * at twice the bottleneck rate, the queue it builds drains in the gap before the next round, and the
 * first ACKs of every round (the round's minimum) see an empty queue; the round in which the window
 * passes the bandwidth-delay product then doubles it again, and a queue of one BDP overflows. So, as
 * Linux's HyStart does beside its delay test, the ACK train ends slow start too: when the ACKs of one
 * round arrive back to back (at most ACK_TRAIN_GAP_MS apart) for longer than half the minimum RTT, the
 * window has reached about the bandwidth-delay product, and slow start ends there (ssthresh = cwnd),
 * before any queue forms. A paced sender (TcpConfig.pacing) spreads a window over half the RTT: its
 * train must last a whole minimum RTT.
 *
 * Another flow's burst through the same queue interrupts the train: its segments cross the bottleneck
 * between two of this flow's, and at 100 Mbit/s sixteen of them (eight ACKs of the other flow) leave a
 * gap of 2 ms. Linux's train ends there, and so did this one: two CUBIC flows over 100 Mbit/s x 80 ms
 * opened 0.2 s apart, the first flow's train broke 14 ms into the round in which its window passed the
 * path's, and the delay test did not see that round either (its first samples met the queue the last
 * burst left drained, 80 ms, while its RTT rose to 116 ms by its end; the threshold, 10 ms, was not the
 * reason): it doubled on to 1,232 segments before CSS, lost at 1,620, and the bottleneck dropped 1,172
 * frames. A gap says nothing of a drained path when the ACK after it carries at least the gap's worth
 * of queueing delay (its RTT sample above the minimum): its segment reached the queue before the one
 * ahead of it left, so the bottleneck was busy throughout and the gap was another flow's. Such a gap
 * bridges the train, but only an ACK back to back with the one before it can end slow start: one the
 * peer's delayed-ACK timer held carries that wait in its sample too (the echoed timestamp is the
 * earliest unacknowledged segment's, RFC 7323 §4.3) and would bridge any gap. The same pair: the first
 * flow leaves slow start on its train at 956 segments, the first losses come at 949 and 534, and the
 * bottleneck drops 215 frames in 20 s.
 *
 * The train's length judges a window only once per doubling: the round that passes half the
 * bandwidth-delay product ends slow start after half the minimum RTT of ACKs, at anywhere from 1 to 1.5
 * BDP depending on where the doublings fall. At 100 Mbit/s x 80 ms that round starts at 640 segments
 * (690 fill the path) and ends at 972 (1.41 BDP); a second flow opened beside it, whose train other
 * segments stretch, leaves at 620, and shared losses then keep the split (0.70 over seconds 10-20).
 * So the train is also judged by its rate on every ACK: its bytes delivered after its first ACK over
 * its length are what the path delivers to this flow, and a window of TRAIN_RATE_WINDOW (1.35) times
 * that rate times the minimum RTT ends slow start. This is not RFC 9406 (nor Linux's HyStart); it keeps
 * RFC 9406's intent of leaving slow start before the queue overflows, by another measure than the
 * delay RFC 9406 uses. The bridged gaps of a train are not counted in its length (below). Not paced: a paced train's rate is the pacing rate. 1.35, not 1: a lone flow at 50 ms
 * leaves on the train's length at 528 segments (1.22 BDP), and the multiple must stay above that, as
 * leaving at the BDP (or 1.15 of it) cost a lone flow at 0 and 0.1% loss (93.48 -> 93.01 Mbit/s, 19.50
 * -> 18.96). The same pair at 80 ms: 892 and 620, 192 frames dropped in 2 s instead of 272. Over 24
 * start gaps from 0 to 3 s, seconds 10-20: at 80 ms the mean went from 0.719 to 0.787 (within 10%: 1
 * to 4 of 24; worst 0.29 to 0.36; 8,250 to 7,811 drops), at 50 ms from 0.890 to 0.897 (13 to 14; worst
 * 0.60 both; 5,494 to 5,394 drops). A multiple of 1 gave 0.807 at 80 ms but 0.836 at 50; 1.25 gave
 * 0.867 at 80 ms but 0.886 at 50, and 1.3 0.817 and 0.887: over ten seconds the split is the draw of
 * two or three congestion events, and single gaps move far either way.
 *
 * A bridged gap is time the bottleneck spent on another flow's segments. Counted as this flow's, it
 * stretches the train: its length reaches half the minimum RTT with fewer of this flow's segments
 * through, and its rate is this flow's share of the path, not the path's (so the rate test used to skip
 * a bridged train). Two CUBIC flows over 100 Mbit/s x 80 ms opened together: the second left slow start
 * on its stretched train at 620 segments while the first left on its rate at 892, and shared losses
 * kept that split (0.75 over seconds 10-20); opened 0.45 s apart, the second left at 386, and with 886
 * and 386 on a path that holds 1,320 with its queue the next loss waited until 5 s (0.36). So a train
 * counts its own time only: a bridged gap is taken out of its length, and the ACK that closes it starts
 * the rest of the train as the round's first ACK starts one, its bytes not counted in the rate (the gap
 * held its own segment's time too). Both tests then judge the train as if the other flow's segments had
 * not crossed it, and a late flow's window ends up about where a lone flow's would: opened together,
 * the second flow slow-starts on to a loss at 969 segments against 893 (0.97); 0.45 s apart it leaves
 * on its train at 740 against 886 (0.86); 0.2 s apart the first flow's train, bridged by the second's
 * bursts, ends on its rate at 892 instead of on its length at 956 (0.77 instead of 0.65). Over the 24
 * start gaps, seconds 10-20: at 80 ms the mean went from 0.787 to 0.840 (within 10%: 4 to 6 of 24;
 * worst 0.36 to 0.50), at 50 ms from 0.897 to 0.905 (14 both; worst 0.60 to 0.63); the bottleneck drops
 * more, as the pair's windows no longer stop short of what the path holds (7,811 to 8,778 frames over
 * the 24 runs at 80 ms, 5,394 to 5,543 at 50). A lone flow's train is not bridged: its figures do not
 * change.
 *
 * A delay rise is this flow's own queue only if its window can hold one: a window below what the path
 * delivers in a minimum RTT leaves the bottleneck's queue empty between its bursts, and its first
 * samples rise only when another flow's window keeps a queue standing. A flow opened 5 to 225 ms after
 * another over 100 Mbit/s x 80 ms saw that flow's last slow-start burst and standing queue (892
 * segments against a path of 690) as its own rise and entered CSS at 334 segments; it took its first
 * loss at 639 against 894, and shared losses kept that split (0.77 over seconds 10-20). So the delay
 * test does not start CSS while cwnd is below OWN_QUEUE_WINDOW (1.35) times the fastest ACK train's
 * rate times the minimum RTT: the fastest train, measured over at least ACK_TRAIN_GAP_MS, is the
 * bottleneck's rate as this flow has seen it (its first rounds' trains cross an emptier queue), where
 * the current train's rate is only its share. This departs from RFC 9406 §4.2, which enters CSS on any
 * rise of the threshold; the ACK train's tests and a loss still end slow start, so the flow leaves it
 * about where it would alone. Unpaced only: a paced train's rate is the pacing rate. The same flow now
 * slow-starts on to 822 segments by its first loss against 894 (0.96; 549 frames dropped in 20 s
 * instead of 249), and two flows opened together over 100 Mbit/s x 50 ms reach 528 and 529 (0.99 over
 * seconds 10-20, 48.1 / 47.5 Mbit/s; 0.89 before). Over 24 start gaps from 0 to 3 s, seconds 10-20: at
 * 80 ms the mean went from 0.840 to 0.926 (within 10%: 6 to 20 of 24; worst 0.50 to 0.76), at 50 ms
 * from 0.905 to 0.935 (14 to 21; worst 0.63 to 0.80). The cost is the bottleneck's drops, as the late
 * flow slow-starts into the other's queue: 8,778 to 12,268 frames over the 24 runs at 80 ms, 5,543 to
 * 7,209 at 50. Multiples of 0.6, 0.75, 0.9, 1 and 1.1 gave 0.843, 0.827, 0.876, 0.812 and 0.808 at 80
 * ms (0.899, 0.890, 0.882, 0.913 and 0.908 at 50); 1.2 gave 0.911 and 0.942: below about 1.2 the hold
 * ends in the round whose burst meets the other flow's queue, and the late flow overshoots or stops
 * short. A lone flow whose window passes the path leaves on its ACK train before its first samples rise
 * (above): its figures do not change.
 *
 * A train that crosses other flows' standing queue delivers only this flow's share: a flow that opens
 * beside two others takes a fraction of the path for the whole of it, and the hold above lets their
 * queue start its CSS. Three CUBIC flows over 100 Mbit/s x 50 ms opened 0.5 s apart: the second
 * slow-starts beside the first's 536 segments to 548, and the third, opened at 1.1 s into the overflow
 * that follows, entered CSS on the others' queue at 36 segments, lost at 37 and kept 15.4 Mbit/s
 * against 42.8 and 37.4 over seconds 10-20 (Jain 0.879). Within a train, though, a burst's own
 * segments often cross the bottleneck back to back, and their ACKs come back spaced by the
 * bottleneck's rate whatever the others queue around them. So every RUN_ACKS (4) ACKs in a row, each
 * back to back with the one before it (no bridged gap, no break), give a rate that counts toward the
 * fastest train's. This departs from RFC 9406 as the hold does; neither ACK-train test uses it, only
 * the hold of a delay rise. The third flow now slow-starts on to its first loss at 40 segments and
 * keeps 24.5 against 34.4 and 36.7 (Jain 0.973). Three and four flows opened 0, 0.2, 0.5 and 1 s
 * apart: mean Jain over the eight cases 0.918 to 0.934 (three at 0.5 s 0.879 to 0.973, four at 0.2 s
 * 0.938 to 0.951 and at 0.5 s 0.906 to 0.928; the other five as they were, three and four at 1 s still
 * 0.874 and 0.899). Two flows over the 24 start gaps, seconds 10-20: at 50 ms the mean went from 0.935
 * to 0.948 (within 10%: 21 to 22 of 24), at 80 ms from 0.926 to 0.930 (20 to 21); worst 0.80 and 0.76
 * both. A lone flow's figures do not change.
 *
 * CSS exists because a rise may be spurious (§4.2): RFC 9406 returns to slow start when the RTT falls
 * back below the baseline. A rise can also be another flow's queue, which stays: a flow that opens
 * while an earlier one leaves slow start sees that flow's overshoot in its first rounds, enters CSS
 * with a few dozen segments, and leaves it for good CSS_ROUNDS later far below its share, with nothing
 * in RFC 9438 to bring the two together for many epochs. The delivery rate tells the two apart. A flow
 * whose own window fills the bottleneck delivers at the bottleneck's rate, whatever its window: its
 * rate stays flat from round to round. A flow whose window is still short of its share of the path
 * delivers more each round: a whole CSS round whose delivery rate (bytes delivered over the round's
 * duration) is at least CSS_RATE_GROWTH times the previous round's says the path is not full, the
 * rise was not this flow's queue, and slow start resumes. This test is not RFC 9406's; its threshold
 * is the draft BBR's for a pipe that is not yet full (25% a round). A lone flow that builds its own
 * queue stays in CSS: its rate is flat. Two CUBIC flows over 100 Mbit/s x 50 ms opened 0.35 s apart:
 * the second entered CSS at 36 segments, reached 184 there and 232 by its first loss against 587, and
 * got 0.36 of the first's goodput over seconds 10-20; with the test it resumes slow start at 93 and
 * leaves on its ACK train at 215 (0.60; 427 and 0.80 once its train's bridged gaps were not counted
 * as its own time, above; since its runs of back-to-back ACKs count toward the fastest train, above,
 * it takes no CSS there and leaves on its train at 528, 1.00). Over 24 start gaps from 0 to 3 s the
 * mean over seconds 10-20
 * went from 0.870 to 0.890 (at RTT 80 ms 0.711 to 0.719), the worst from 0.36 to 0.60; the bottleneck
 * drops more while the second flow slow-starts into the first's queue (4,685 -> 5,494 frames over the
 * 24 runs; 7,692 -> 8,250 at 80 ms).
 */

/** RFC 9406 §4.3 constants. */
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
