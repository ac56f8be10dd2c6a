/**
 * One guest TCP connection, terminated in the gateway's stack, relayed to one upstream stream — with flow
 * control in both directions and nothing buffered without bound:
 *
 * - guest -> upstream: bytes are read from the guest connection only while the upstream takes them
 *   (`write` true). When it pushes back, reading stops, the receive buffer fills, and TCP closes the
 *   guest's window (RFC 9293 §3.8.6) until `drain`. Held at most: the TCP receive buffer plus what the
 *   upstream queues before it says false plus one chunk.
 * - upstream -> guest: each chunk goes into the guest connection's send buffer; what does not fit is kept
 *   (one chunk at most) and the upstream paused until TCP's 'drain'.
 * - ends: a guest FIN half-closes the upstream, an upstream end half-closes the guest (FIN after the
 *   data); an upstream failure resets the guest connection (RST), and a guest reset destroys the upstream.
 */
import type { TcpConnection } from '../tcp/connection.js';
import type { Clock } from '../time/clock.js';
import type { UpstreamStream, UpstreamStreamHandlers } from './upstream.js';

export interface TcpRelayEvents {
  /** The upstream opened (before a guest connection exists, for a relay made from a held SYN). */
  upstreamConnected?(relay: TcpRelay): void;
  /** The upstream closed before any guest connection was attached (refused, unreachable, timed out). */
  upstreamFailed?(relay: TcpRelay, error: (Error & { code?: string }) | undefined): void;
  /** Both sides are done; the relay may be forgotten. */
  finished(relay: TcpRelay): void;
}

/** Bytes taken from the guest connection per read. */
const READ_CHUNK = 65_536;

/**
 * The buffer guest bytes are read into on their way to an upstream that says what it still queues: shared
 * by every relay (reads and writes run one at a time on this thread), and replaced whenever an upstream
 * keeps a chunk (queued behind a full socket). A new array per read was 9% of a gateway's time relaying an
 * upload, most of it the collector's.
 */
let readBuffer: Uint8Array | undefined;

/** Storage for guest bytes copied out of the receive buffer: a view of the shared read buffer. */
function borrowReadBuffer(length: number): Uint8Array {
  readBuffer ??= new Uint8Array(READ_CHUNK);
  return readBuffer.subarray(0, length);
}

function newChunk(length: number): Uint8Array {
  return new Uint8Array(length);
}

export class TcpRelay implements UpstreamStreamHandlers {
  /** The upstream; set right after construction (it needs this relay's handlers to be opened). */
  upstream!: UpstreamStream;
  private upstreamBlocked = false;
  private upstreamEnded = false;
  private upstreamClosed = false;
  private guestEnded = false;
  /** Upstream bytes the guest's send buffer had no room for. */
  private held: Uint8Array | undefined;
  private attached = false;
  private finished = false;
  /** Bytes relayed each way, for counters and tests. */
  bytesToUpstream = 0;
  bytesToGuest = 0;

  conn: TcpConnection | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly events: TcpRelayEvents,
  ) {}

  /** Starts relaying over `conn` (the guest connection, established). */
  attach(conn: TcpConnection): void {
    this.conn = conn;
    this.attached = true;
    // One read per batch of arriving segments, not one per segment: the upstream gets fewer, larger
    // writes (each a system call on a host socket).
    conn.on('readable', () => this.schedulePump());
    conn.on('end', () => this.schedulePump());
    conn.on('drain', () => this.flushToGuest());
    conn.on('error', () => this.upstream.destroy());
    conn.on('closed', () => {
      // Closed both ways after both FINs: the upstream closes by itself. Anything else cuts it off.
      if (!this.upstreamClosed && !(this.upstreamEnded && this.guestEnded)) this.upstream.destroy();
      this.finish();
    });
    this.pumpToUpstream();
    this.upstream.resume();
  }

  // --- UpstreamStreamHandlers ---

  connect(): void {
    this.events.upstreamConnected?.(this);
  }

  data(chunk: Uint8Array): void {
    const conn = this.conn;
    if (conn === undefined || !this.attached) {
      // Cannot happen with a paused upstream; keep it bounded all the same.
      this.upstream.pause();
      this.held = this.held === undefined ? copyOf(chunk) : concat(this.held, chunk);
      return;
    }
    if (this.held !== undefined) {
      this.held = concat(this.held, chunk);
      this.upstream.pause();
      return;
    }
    const accepted = this.sendToGuest(chunk);
    if (accepted < chunk.length) {
      // The chunk may be the upstream's reused read buffer (socketUpstream's transientChunks): what is
      // kept is copied.
      this.held = copyOf(chunk.subarray(accepted));
      this.upstream.pause();
    }
  }

  end(): void {
    this.upstreamEnded = true;
    if (this.held === undefined) this.conn?.close(this.clock.now());
  }

  drain(): void {
    this.upstreamBlocked = false;
    this.pumpToUpstream();
  }

  close(error?: Error & { code?: string }): void {
    this.upstreamClosed = true;
    const conn = this.conn;
    if (conn !== undefined && (error !== undefined || !this.upstreamEnded)) {
      // A failed or reset upstream: the guest learns it as a reset (as a kernel relaying would).
      if (conn.state !== 'CLOSED') conn.abort(this.clock.now());
      this.finish();
      return;
    }
    if (conn === undefined) {
      this.events.upstreamFailed?.(this, error);
      this.finish();
    }
  }

  // --- internals ---

  private pumpScheduled = false;

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.pumpToUpstream();
    });
  }

  private pumpToUpstream(): void {
    const conn = this.conn;
    if (conn === undefined || !this.attached || this.guestEnded) return;
    const upstream = this.upstream;
    const reuse = upstream.queuedBytes !== undefined;
    while (!this.upstreamBlocked) {
      // A large segment comes as the view it arrived in (no copy: the guest's bytes go from the device's
      // read straight to the upstream's write), anything else as a copy into the shared read buffer (or
      // a new array for an upstream that does not say what it queues).
      const chunk = conn.receiveChunk(this.clock.now(), READ_CHUNK, reuse ? borrowReadBuffer : newChunk);
      if (chunk === null) {
        this.guestEnded = true;
        if (!this.upstreamClosed) upstream.end();
        return;
      }
      if (chunk.length === 0) return;
      this.bytesToUpstream += chunk.length;
      const more = upstream.write(chunk);
      // Anything still queued includes this chunk (it went behind the rest): the upstream owns its array.
      // (A kept view is the upstream's anyway: nothing else writes into it.)
      if (reuse && chunk.buffer === readBuffer?.buffer && upstream.queuedBytes!() > 0) readBuffer = undefined;
      if (!more) this.upstreamBlocked = true;
    }
  }

  private flushToGuest(): void {
    const held = this.held;
    if (held === undefined) return;
    const accepted = this.sendToGuest(held);
    if (accepted < held.length) {
      this.held = held.subarray(accepted);
      return;
    }
    this.held = undefined;
    if (this.upstreamEnded) this.conn?.close(this.clock.now());
    else this.upstream.resume();
  }

  private sendToGuest(chunk: Uint8Array): number {
    const conn = this.conn!;
    try {
      const accepted = conn.send(chunk, this.clock.now());
      this.bytesToGuest += accepted;
      return accepted;
    } catch {
      // The guest connection is closing or gone: nothing more can reach it.
      this.upstream.destroy();
      return chunk.length;
    }
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.events.finished(this);
  }
}

function copyOf(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}
