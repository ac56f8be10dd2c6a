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

/** Segments of headroom added to twice the measured round's bytes (Linux: 16 * advmss). */
const HEADROOM_SEGMENTS = 16;

export class ReceiveAutotuner {
  /** Receiver-side RTT estimate (ms); 0 until the first sample. */
  rttMs = 0;
  /** True once a timestamp echo gave a sample: window-based samples are then ignored. */
  private timestampSampled = false;
  private lastEcho: number | undefined;
  /** The right edge being timed, and when it was advertised; undefined between measurements. */
  private measureEdge: number | undefined;
  private measureStart = 0;
  /** Bytes read per round the buffer was last sized for (Linux rcvq_space.space). */
  private space: number;
  /** Start of the current round and what the application had read by then. */
  private roundStart: number | undefined;
  private readAtRoundStart = 0;

  constructor(initialSpace: number) {
    this.space = Math.max(1, initialSpace);
  }

  /**
   * In-order data arrived; `rcvNxt` is after it and `rcvWnd` the window now open. The time for RCV.NXT
   * to reach an edge advertised earlier is one sample (an upper bound on the RTT).
   */
  onInOrderData(now: number, rcvNxt: number, rcvWnd: number): void {
    if (this.timestampSampled) return;
    if (this.measureEdge !== undefined && ((rcvNxt - this.measureEdge) | 0) < 0) return;
    if (this.measureEdge !== undefined) {
      const sample = now - this.measureStart;
      if (sample > 0 && (this.rttMs === 0 || sample < this.rttMs)) this.rttMs = sample;
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
    this.rttMs = this.timestampSampled ? this.rttMs + (sample - this.rttMs) / 8 : sample;
    this.timestampSampled = true;
  }

  /**
   * The application has read `bytesRead` bytes in all. Once per RTT, returns the receive buffer size the
   * last round calls for (0 when the buffer should stay as it is).
   */
  onRead(now: number, bytesRead: number, mss: number, max: number): number {
    if (this.rttMs === 0) return 0;
    if (this.roundStart === undefined) {
      this.roundStart = now;
      this.readAtRoundStart = bytesRead;
      return 0;
    }
    if (now - this.roundStart < this.rttMs) return 0;
    const copied = bytesRead - this.readAtRoundStart;
    this.roundStart = now;
    this.readAtRoundStart = bytesRead;
    if (copied <= this.space) return 0;
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
