/**
 * Limits on the ACKs TCP sends in answer to segments it refuses (RFC 5961 §7), so that a blind attacker
 * injecting segments cannot turn the stack into a reflector, nor make the real peer take a stream of
 * our answers for duplicate ACKs (and halve its sending rate, RFC 5681 §3.2).
 *
 * Two limits, as on Linux:
 * - per connection (`TcpConfig.invalidRateLimitMs`, Linux `tcp_invalid_ratelimit`, 500 ms): at most one
 *   answer per interval to out-of-window segments, challenge ACKs (RFC 5961 §3.2, §4.2, §5.2) and,
 *   once timestamps exist, PAWS drops (RFC 7323 §5.3). Segments that carry data and lie within one
 *   window below RCV.NXT are exempt: they are the peer's retransmissions after a lost ACK, and it needs
 *   the answer to make progress (Linux exempts every data segment; a blind attacker's data lands
 *   anywhere, so only this range is spared here);
 * - stack-wide (`TcpLimits.challengeAckLimit`, Linux `tcp_challenge_ack_limit`): challenge ACKs per
 *   second over all connections, with the per-second budget drawn at random between half and one and a
 *   half times the limit, as Linux does since CVE-2016-5696: a fixed global budget is a side channel
 *   that tells an off-path attacker when it guessed a connection's 4-tuple.
 */
import { sipHash24, sipHashKey } from '../util/siphash.js';

/** Why an ACK answering an invalid segment is asked for; each has its own "skipped" counter. */
export type InvalidSegmentAnswer = 'out-of-window' | 'challenge' | 'paws' | 'time-wait';

/** Stack-wide budget of challenge ACKs per second (Linux `tcp_challenge_ack_limit`). */
export class ChallengeAckBudget {
  /** Challenge ACKs allowed per second; 0 or Infinity disables the limit. */
  readonly limit: number;
  private readonly key;
  private second = Number.NaN;
  private remaining = 0;
  private readonly input = new Uint8Array(8);
  private readonly hash = new Uint32Array(2);

  /** `secret`: 16 bytes that make the per-second budgets unpredictable from outside. */
  constructor(limit: number, secret: Uint8Array) {
    this.limit = limit;
    this.key = sipHashKey(secret);
  }

  /** Takes one challenge ACK from the budget of the second `now` falls in; false when it is spent. */
  take(now: number): boolean {
    const limit = this.limit;
    if (!(limit > 0) || limit === Number.POSITIVE_INFINITY) return true;
    const second = Math.floor(now / 1000);
    if (second !== this.second) {
      this.second = second;
      const half = Math.floor((limit + 1) / 2);
      // A keyed hash of the second: repeatable in a simulation, unpredictable to an attacker.
      const view = new DataView(this.input.buffer);
      view.setFloat64(0, second);
      sipHash24(this.key, this.input, this.hash);
      this.remaining = half + (this.hash[0]! % limit);
    }
    if (this.remaining <= 0) return false;
    this.remaining--;
    return true;
  }
}

/** The counters an invalid-segment answer touches. */
interface AnswerCounters {
  challengeAcks: number;
  challengeAcksOverLimit: number;
  ackSkippedSeq: number;
  ackSkippedChallenge: number;
  ackSkippedPaws: number;
  ackSkippedTimeWait: number;
}

/**
 * The verdict on one answer to an invalid segment, for a connection (or TIME-WAIT record) that last
 * answered one at `lastAnswer`: 'skip' (the per-connection limit holds; counted by kind), 'over-limit'
 * (a challenge ACK the stack-wide budget has no room for; counted), or 'send' (counted for challenge
 * ACKs). On 'send' and 'over-limit' the caller records `now` as its last answer, as Linux does.
 */
export function invalidAnswerVerdict(
  why: InvalidSegmentAnswer,
  now: number,
  lastAnswer: number,
  intervalMs: number,
  counters: AnswerCounters,
  budget: ChallengeAckBudget | undefined,
): 'skip' | 'over-limit' | 'send' {
  const elapsed = now - lastAnswer;
  if (intervalMs > 0 && elapsed >= 0 && elapsed < intervalMs) {
    if (why === 'out-of-window') counters.ackSkippedSeq++;
    else if (why === 'challenge') counters.ackSkippedChallenge++;
    else if (why === 'paws') counters.ackSkippedPaws++;
    else counters.ackSkippedTimeWait++;
    return 'skip';
  }
  if (why === 'challenge') {
    if (budget !== undefined && !budget.take(now)) {
      counters.challengeAcksOverLimit++;
      return 'over-limit';
    }
    counters.challengeAcks++;
  }
  return 'send';
}
