/**
 * Buffer autotuning, after Linux's dynamic right-sizing: buffers sized to the path's bandwidth-delay
 * product as measured, not configured up front, so default settings fill a long fat path while a
 * connection on a short or slow one keeps small buffers.
 *
 * Receive side (Linux tcp_rcv_space_adjust): the receiver measures its own round trip time without help
 * from the sender: a window's worth of data cannot arrive in less than one round trip, so the time from
 * advertising a right edge to RCV.NXT passing it bounds the RTT from above, and the smallest such sample
 * is kept (Linux tcp_rcv_rtt_measure). With timestamps the sender's echo of our TSval gives a direct
 * sample each time it changes, smoothed by 1/8 (Linux tcp_rcv_rtt_measure_ts), and those samples take
 * precedence. Once per measured RTT
 * it looks at how many bytes the application read in that RTT: when that beat the previous round, the
 * sender is still growing, and the buffer becomes twice the round's bytes (plus 16 segments, plus twice
 * the growth again while the sender is in slow start and doubling, counted at most twofold per round as
 * slow start grows), capped by `receiveBufferMax`. The
 * window follows the buffer: it is the buffer's free part.
 *
 * Send side (Linux tcp_sndbuf_expand): the buffer holds at least twice the congestion window, so that
 * one window is in flight while the next is queued, capped by `sendBufferMax`.
 *
 * Neither ever shrinks a buffer (Linux does not either, outside memory pressure); memory is still taken
 * only as bytes wait in the buffer and is given back once they are read or acknowledged. While the stack
 * reports memory pressure nothing grows.
 */

import type { CurrentTime } from '../time/clock.js';

/** Segments of headroom added to twice the measured round's bytes (Linux: 16 * advmss). */
const HEADROOM_SEGMENTS = 16;

export class ReceiveAutotuner {
  /** Receiver-side RTT estimate (ms); 0 until the first sample. */
  rttMs = 0;
  /** True once a timestamp echo gave a sample: window-based samples are then ignored. */
  private timestampSampled = false;
  /**
   * The last echo timed, 0 before any (the caller passes none of 0). A number from the start, not
   * undefined: a field that has held undefined keeps its numbers boxed, and each echo outside the small
   * integer range (half of all 32-bit values) was then a heap number stored per new echo.
   */
  private lastEcho = 0;
  /** The right edge being timed, and when it was advertised; undefined between measurements. */
  private measureEdge: number | undefined;
  private measureStart = 0;
  /** Bytes read per round the buffer was last sized for (Linux rcvq_space.space). */
  private space: number;
  /**
   * Start of the current round (valid once `roundStarted`) and what the application had read by then.
   * A number field, never `undefined`: a field that holds both keeps each fractional time stored in it as
   * a new heap number, one per round on a path whose times have fractions; a number field takes it in
   * place.
   */
  private roundStart = 0;
  private roundStarted = false;
  private readAtRoundStart = 0;
  /**
   * No read before this time can end the round: roundStart + the RTT estimate as it was when the round
   * was last checked, rounded down to a whole ms (a rise in the estimate since only makes it early, and
   * onRead then checks in full; a fall sets it to -Infinity, which does the same). Infinity before any
   * RTT sample. onRead runs on every read, and reads before it return after comparing the time with a
   * small integer, which makes no heap number even unoptimized: the full check (a subtraction, a double
   * field read twice) made about 1.4 per segment whenever the code around it was deoptimized, as
   * happens when the first fractional RTT sample after a zero-delay run changes the fields'
   * representation. A whole number of ms is stored as a small integer, never as a new heap number.
   * Declared without a value so that V8 keeps the field tagged (a double field is copied into a new
   * heap number on each unoptimized read).
   */
  private roundEnd: number;

  /** `time`: where the tuner reads the time of the data or read it is told of (the connection's Tcb). */
  constructor(
    initialSpace: number,
    private readonly time: CurrentTime,
  ) {
    this.space = Math.max(1, initialSpace);
    this.roundEnd = Number.POSITIVE_INFINITY;
  }

  /**
   * In-order data arrived; `rcvNxt` is after it and `rcvWnd` the window now open. The time for RCV.NXT
   * to reach an edge advertised earlier is one sample (an upper bound on the RTT).
   */
  onInOrderData(rcvNxt: number, rcvWnd: number): void {
    const now = this.time.now;
    if (this.timestampSampled) return;
    if (this.measureEdge !== undefined && ((rcvNxt - this.measureEdge) | 0) < 0) return;
    if (this.measureEdge !== undefined) {
      const sample = now - this.measureStart;
      if (sample > 0 && (this.rttMs === 0 || sample < this.rttMs)) {
        this.rttMs = sample;
        this.roundEnd = Number.NEGATIVE_INFINITY; // the first sample, or a fall (see roundEnd)
      }
    }
    this.measureEdge = (rcvNxt + Math.max(1, rcvWnd)) | 0;
    this.measureStart = now;
  }

  /**
   * A data segment echoed `echo`, one of our TSvals; `tsNow` is our TSval clock now. One sample per new
   * echo (the same echo on many segments would only measure how long the sender took to send them).
   */
  onTimestampEcho(tsNow: number, echo: number): void {
    if (echo === this.lastEcho) return;
    this.lastEcho = echo;
    const sample = (tsNow - echo) | 0;
    if (sample <= 0 || sample > 60_000) return;
    const previous = this.rttMs;
    this.rttMs = this.timestampSampled ? previous + (sample - previous) / 8 : sample;
    this.timestampSampled = true;
    // The first sample, or a fall (see roundEnd).
    if (previous === 0 || this.rttMs < previous) this.roundEnd = Number.NEGATIVE_INFINITY;
  }

  /**
   * The application has read `bytesRead` bytes in all. Once per RTT, returns the receive buffer size the
   * last round calls for (0 when the buffer should stay as it is).
   */
  onRead(bytesRead: number, mss: number, max: number): number {
    const now = this.time.now;
    if (now < this.roundEnd) return 0;
    if (this.rttMs === 0) return 0;
    const started = this.roundStarted;
    if (started && now - this.roundStart < this.rttMs) {
      // Not over: the estimate rose (or fell) since roundEnd was set.
      this.roundEnd = Math.floor(this.roundStart + this.rttMs);
      return 0;
    }
    const copied = bytesRead - this.readAtRoundStart;
    // A new round starts now. Started here, not in a method of its own: called once a round, such a
    // method was never optimised, and each of its reads of a fractional time made a heap number (three
    // a round over 1 Gbit/s, 20 ms), while onRead runs on every read and is optimised.
    this.roundStart = now;
    this.roundStarted = true;
    this.readAtRoundStart = bytesRead;
    this.roundEnd = Math.floor(now + this.rttMs);
    if (!started || copied <= this.space) return 0;
    let window = 2 * copied + HEADROOM_SEGMENTS * mss;
    // The sender grew by (copied - space) / space in the round: allow for it growing as much again.
    window += 2 * window * Math.min(1, (copied - this.space) / this.space);
    this.space = copied;
    return Math.min(Math.ceil(window), max);
  }
}

/**
 * The send buffer size a congestion window calls for: twice the window, within [current, max], and at
 * least a quarter more than now. The buffer's storage is one contiguous ring, and growing it copies what
 * it holds: in congestion avoidance cwnd grows by a few bytes an ACK, and following it byte for byte
 * copied a buffer of megabytes on every ACK.
 */
export function sendBufferFor(cwndBytes: number, current: number, max: number): number {
  const wanted = 2 * Math.ceil(cwndBytes);
  if (wanted <= current || current >= max) return 0;
  return Math.min(Math.max(wanted, Math.ceil(current * SEND_BUFFER_STEP)), max);
}

/** Least growth of the send buffer, as a factor of its size. */
export const SEND_BUFFER_STEP = 1.25;
