/**
 * Stack-wide TCP memory, as Linux's `tcp_mem` (min / pressure / max) regulates it: the storage every
 * connection's send and receive buffers hold (ring storage and out-of-order chunks, what
 * `TcpConnection.bufferMemory` reports), summed over the stack.
 *
 * - Above `pressure` the stack is under memory pressure (Linux tcp_enter_memory_pressure): no buffer
 *   grows by autotuning, and a receiver offers no window beyond max(what it already offered, 4 MSS), as
 *   Linux's tcp_clamp_window / rcv_ssthresh do. The pressure ends once the total is back under `min`.
 * - At `max` no more data is taken in (Linux's tcp_try_rmem_schedule failing): out-of-order data is
 *   dropped and the connection's own out-of-order queue pruned (tcp_prune_ofo_queue; the sender sees the
 *   SACKed data reneged and sends it again), in-order data too unless the application has nothing unread
 *   (Linux forces that one in, so every connection still makes progress), and a write waits while its own
 *   send buffer still holds data (sk_stream_wait_memory). No byte is lost: dropped segments are sent
 *   again by the peer, refused writes wait for 'drain'.
 *
 * Each connection reports what it holds after every input (`TcpConnection.settle`), so the total can
 * pass `max` by what one input allocates (a segment, or one doubling of a ring's storage), and by the
 * segment forced into each connection whose application has read everything (a ring's first 2 KiB
 * each: with 1,000 such connections, up to 2 MiB; Linux's forced charge has the same effect).
 */

/** What a connection sees of the stack's TCP memory. */
export interface TcpMemoryAccount {
  /** Above `pressure`, until back under `min`. */
  readonly underPressure: boolean;
  /** At or above `max`: no more storage may be taken. */
  readonly exhausted: boolean;
  /** A connection's buffers hold `delta` bytes more (or fewer, when negative) than it last reported. */
  adjust(delta: number): void;
}

export interface TcpMemoryLimits {
  memoryMin: number;
  memoryPressure: number;
  memoryMax: number;
}

export interface TcpMemoryCounters {
  memoryPressureEntered: number;
}

export class TcpMemory implements TcpMemoryAccount {
  private total = 0;
  private pressure = false;
  /** The most the total has been. */
  peak = 0;

  constructor(
    private readonly limits: TcpMemoryLimits,
    private readonly counters: TcpMemoryCounters,
  ) {}

  /** Bytes the stack's TCP buffers hold now. */
  get allocated(): number {
    return this.total;
  }

  get underPressure(): boolean {
    return this.pressure;
  }

  get exhausted(): boolean {
    return this.total >= this.limits.memoryMax;
  }

  adjust(delta: number): void {
    const total = this.total + delta;
    this.total = total;
    if (total > this.peak) this.peak = total;
    if (this.pressure) {
      if (total < this.limits.memoryMin) this.pressure = false;
    } else if (total > this.limits.memoryPressure) {
      this.pressure = true;
      this.counters.memoryPressureEntered++;
    }
  }
}
