/**
 * TCP connections as WHATWG streams (ReadableStream / WritableStream), for browsers and any other
 * runtime with web streams: no Node built-in is used.
 *
 *   const conn = openTcpStream(stack, { host: '10.0.0.2', port: 80 });
 *   const writer = conn.writable.getWriter();
 *   await writer.write(new TextEncoder().encode('GET / HTTP/1.0\r\n\r\n'));
 *   await writer.close();                       // FIN after the data
 *   for await (const chunk of conn.readable) ... // until the peer's FIN
 *
 * Flow control is end to end: the readable side takes bytes out of the TCP receive buffer only when its
 * queue has room (the stream's `pull`), so a reader that stops reading closes the TCP window; a write
 * resolves only once TCP has taken every byte, so a writer that awaits its writes (or watches
 * `writer.ready`) is held back when the peer does not read.
 */
import type { Stack } from '../../stack.js';
import type { TcpConnection } from '../../tcp/connection.js';
import { TcpError } from '../../tcp/errors.js';
import type { TcpLayer } from '../../tcp/tcp-layer.js';
import { ipAddressToString } from '../../wire/ipv6-address.js';
import { type HostTable, resolveHostAddress } from '../host-names.js';
import { type TcpInfo, tcpInfoOf } from '../tcp-info.js';
import { tcpLayerOf } from '../tcp-layer-of-stack.js';

export interface TcpStreamOptions {
  /** IPv4 literal, 'localhost', or a name in `hosts`. */
  host: string;
  port: number;
  /** Local address (one of the stack's) and port; default: the route's address and an ephemeral port. */
  localAddress?: string;
  localPort?: number;
  /** Names to resolve, e.g. `{ 'server.test': '10.0.0.2' }`. */
  hosts?: HostTable;
  /** Nagle's algorithm off. */
  noDelay?: boolean;
  /** Keepalive probes after `keepAliveDelayMs` of idleness. */
  keepAlive?: boolean;
  keepAliveDelayMs?: number;
  /** Bytes the readable side queues before it stops taking data from TCP. Default 64 KiB. */
  readableHighWaterMark?: number;
  /** Bytes the writable side queues before `writer.ready` waits. Default 16 KiB. */
  writableHighWaterMark?: number;
  /** Aborting resets the connection. */
  signal?: AbortSignal;
}

/**
 * The options that shape a connection's streams however it was opened: a listener applies them to every
 * connection it accepts.
 */
export type TcpStreamConnectionOptions = Pick<
  TcpStreamOptions,
  'noDelay' | 'keepAlive' | 'keepAliveDelayMs' | 'readableHighWaterMark' | 'writableHighWaterMark'
>;

/** Addresses of an open connection (the value `opened` resolves with). */
export interface TcpStreamEndpoints {
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
}

/** One TCP connection as a pair of streams. */
export interface TcpStream {
  /** Bytes from the peer; closes at the peer's FIN, errors on reset or timeout. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the peer; `close()` sends FIN after the data, `abort()` resets the connection. */
  readonly writable: WritableStream<Uint8Array>;
  /** Resolves once the handshake completed; rejects if it failed (ECONNREFUSED, ETIMEDOUT, ...). */
  readonly opened: Promise<TcpStreamEndpoints>;
  /**
   * Resolves when both directions are finished (the peer's FIN was read or the readable cancelled, and
   * the writable closed); rejects with the error that ended the connection otherwise.
   */
  readonly closed: Promise<void>;
  /** Closes both directions gracefully: FIN after queued data; unread incoming data is discarded. */
  close(): void;
  /** Ends the connection at once with RST. */
  reset(): void;
  /** TCP_INFO-like statistics while the connection exists. */
  info(): TcpInfo | undefined;
}

const DEFAULT_READABLE_HIGH_WATER_MARK = 64 * 1024;
const DEFAULT_WRITABLE_HIGH_WATER_MARK = 16 * 1024;

/** Opens a TCP connection from `stack` and returns it as streams (usable at once; writes wait for the handshake). */
export function openTcpStream(stack: Stack, options: TcpStreamOptions): TcpStream {
  const tcp = tcpLayerOf(stack);
  // IPv4 (and 'localhost' as 127.0.0.1) or an IPv6 literal.
  const remote = resolveHostAddress(options.host, options.hosts);
  const local =
    options.localAddress === undefined ? undefined : resolveHostAddress(options.localAddress, undefined);
  let connection: TcpConnection | undefined;
  let failure: Error | undefined;
  if (remote === undefined) {
    failure = new TcpError('EINVAL', `cannot resolve host ${options.host}`);
  } else if (options.localAddress !== undefined && local === undefined) {
    failure = new TcpError('EINVAL', `invalid local address ${options.localAddress}`);
  } else {
    try {
      connection = tcp.connect({
        remoteAddress: remote,
        remotePort: options.port,
        localAddress: local,
        localPort: options.localPort,
      });
    } catch (error) {
      failure = error as Error;
    }
  }
  const stream = new TcpConnectionStreams(tcp, connection, options, false);
  if (failure !== undefined) stream.fail(failure);
  return stream;
}

/** @internal Wraps a connection (connecting or established) as a TcpStream. */
export class TcpConnectionStreams implements TcpStream {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly opened: Promise<TcpStreamEndpoints>;
  readonly closed: Promise<void>;

  private readonly tcp: TcpLayer;
  private connection: TcpConnection | undefined;
  private established: boolean;
  private failure: Error | undefined;
  private readController!: ReadableStreamDefaultController<Uint8Array>;
  private writeController!: WritableStreamDefaultController;
  private resolveOpened!: (endpoints: TcpStreamEndpoints) => void;
  private rejectOpened!: (error: Error) => void;
  private resolveClosed!: () => void;
  private rejectClosed!: (error: Error) => void;
  /** The readable side asked for data and got none yet. */
  private pullWaiter: (() => void) | undefined;
  /** The writer waits for the handshake or for room in the send buffer. */
  private writeWaiter: (() => void) | undefined;
  private readDone = false;
  private writeDone = false;
  private finished = false;
  /** Readable cancelled: keep taking data from TCP (so the peer is not stalled) and drop it. */
  private discarding = false;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    tcp: TcpLayer,
    connection: TcpConnection | undefined,
    options: Partial<TcpStreamOptions>,
    established: boolean,
  ) {
    this.tcp = tcp;
    this.connection = connection;
    this.established = established;
    this.opened = new Promise((resolve, reject) => {
      this.resolveOpened = resolve;
      this.rejectOpened = reject;
    });
    this.closed = new Promise((resolve, reject) => {
      this.resolveClosed = resolve;
      this.rejectClosed = reject;
    });
    // Callers that only use the streams should not see unhandled rejections from these two.
    this.opened.catch(() => {});
    this.closed.catch(() => {});

    this.readable = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.readController = controller;
        },
        pull: () => this.pull(),
        cancel: () => this.cancelReading(),
      },
      new ByteLengthQueuingStrategy({
        highWaterMark: options.readableHighWaterMark ?? DEFAULT_READABLE_HIGH_WATER_MARK,
      }),
    );
    this.writable = new WritableStream<Uint8Array>(
      {
        start: (controller) => {
          this.writeController = controller;
        },
        write: (chunk) => this.write(chunk),
        close: () => this.closeWriting(),
        abort: () => this.reset(),
      },
      new ByteLengthQueuingStrategy({
        highWaterMark: options.writableHighWaterMark ?? DEFAULT_WRITABLE_HIGH_WATER_MARK,
      }),
    );

    if (connection !== undefined) {
      this.subscribe(connection);
      const now = this.tcp.now();
      if (options.noDelay) connection.setNoDelay(true, now);
      if (options.keepAlive) connection.setKeepAlive(true, now, options.keepAliveDelayMs);
      if (established) this.resolveOpened(this.endpoints(connection));
    }
    const signal = options.signal;
    if (signal !== undefined) {
      if (signal.aborted) this.reset();
      else signal.addEventListener('abort', () => this.reset(), { once: true });
    }
  }

  info(): TcpInfo | undefined {
    return this.connection === undefined ? undefined : tcpInfoOf(this.connection);
  }

  close(): void {
    if (this.finished) return;
    // Works whether or not the streams are locked by a reader or writer: bytes already handed to TCP are
    // still delivered before the FIN; later writes fail (EPIPE); pending reads end.
    if (!this.writeDone) {
      this.writeDone = true;
      if (this.connection !== undefined && this.established) this.connection.close(this.tcp.now());
      else this.connection?.abort(this.tcp.now());
    }
    if (!this.readDone) {
      this.readDone = true;
      this.discarding = true;
      try {
        this.readController.close();
      } catch {
        // already closed
      }
      this.discard();
    }
    this.wakeReader();
    this.maybeFinished();
  }

  reset(): void {
    const connection = this.connection;
    if (this.finished || connection === undefined) return;
    connection.abort(this.tcp.now());
    this.fail(new TcpError('ECONNABORTED', 'connection reset by the application'));
  }

  /** @internal Ends everything with `error` (failed open, reset, timeout). */
  fail(error: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.failure = error;
    this.detach();
    this.rejectOpened(error);
    this.rejectClosed(error);
    if (!this.readDone) {
      this.readDone = true;
      try {
        this.readController.error(error);
      } catch {
        // already closed
      }
    }
    if (!this.writeDone) {
      this.writeDone = true;
      try {
        this.writeController.error(error);
      } catch {
        // already closed
      }
    }
    this.wakeReader();
    this.wakeWriter();
  }

  private subscribe(connection: TcpConnection): void {
    const on = <K extends 'connected' | 'readable' | 'end' | 'drain' | 'closed'>(
      event: K,
      handler: () => void,
    ) => {
      connection.on(event, handler);
      this.unsubscribe.push(() => connection.off(event, handler));
    };
    on('connected', () => {
      this.established = true;
      this.resolveOpened(this.endpoints(connection));
      this.wakeWriter();
      this.wakeReader();
    });
    on('readable', () => this.wakeReader());
    on('end', () => this.wakeReader());
    on('drain', () => this.wakeWriter());
    on('closed', () => {
      this.wakeReader();
      this.wakeWriter();
    });
    const onError = (error: TcpError) => this.fail(error);
    connection.on('error', onError);
    this.unsubscribe.push(() => connection.off('error', onError));
  }

  private detach(): void {
    for (const off of this.unsubscribe.splice(0)) off();
  }

  private endpoints(connection: TcpConnection): TcpStreamEndpoints {
    return {
      localAddress: ipAddressToString(connection.local.address),
      localPort: connection.local.port,
      remoteAddress: ipAddressToString(connection.remote.address),
      remotePort: connection.remote.port,
    };
  }

  // Reading -------------------------------------------------------------------------------------------

  private pull(): Promise<void> | undefined {
    if (this.readChunk()) return undefined;
    return new Promise<void>((resolve) => {
      this.pullWaiter = resolve;
    });
  }

  /** Moves one chunk (or the end) into the readable queue; false when TCP has nothing yet. */
  private readChunk(): boolean {
    const connection = this.connection;
    if (this.readDone || connection === undefined || this.failure !== undefined) return true;
    if (!this.established) return false;
    const wanted = Math.max(1, this.readController.desiredSize ?? 1);
    const data = connection.receive(this.tcp.now(), wanted);
    if (data === null) {
      this.readDone = true;
      this.readController.close();
      this.maybeFinished();
      return true;
    }
    if (data.length === 0) return false;
    this.readController.enqueue(data);
    return true;
  }

  private wakeReader(): void {
    if (this.discarding) {
      this.discard();
      return;
    }
    const waiter = this.pullWaiter;
    if (waiter === undefined) return;
    if (this.failure !== undefined || this.readChunk()) {
      this.pullWaiter = undefined;
      waiter();
    }
  }

  private cancelReading(): void {
    if (this.readDone) return;
    this.readDone = true;
    this.discarding = true;
    this.discard();
    this.maybeFinished();
  }

  /** After cancel: read and drop whatever arrives, so the peer is never stalled by a closed window. */
  private discard(): void {
    const connection = this.connection;
    if (connection === undefined || !this.established) return;
    const sink = new Uint8Array(16 * 1024);
    while (connection.receiveInto(sink, this.tcp.now()) > 0) {
      // dropped
    }
  }

  // Writing -------------------------------------------------------------------------------------------

  private async write(chunk: Uint8Array): Promise<void> {
    let rest = asBytes(chunk as unknown);
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      const connection = this.connection;
      if (connection === undefined) throw new TcpError('ENOTCONN', 'no connection');
      if (this.established || connection.state === 'SYN-SENT') {
        const accepted = connection.send(rest, this.tcp.now());
        if (accepted === rest.length) return;
        rest = rest.subarray(accepted);
      }
      await new Promise<void>((resolve) => {
        this.writeWaiter = resolve;
      });
    }
  }

  private async closeWriting(): Promise<void> {
    while (!this.established && this.failure === undefined) {
      await new Promise<void>((resolve) => {
        this.writeWaiter = resolve;
      });
    }
    if (this.failure !== undefined) throw this.failure;
    this.connection?.close(this.tcp.now());
    this.writeDone = true;
    this.maybeFinished();
  }

  private wakeWriter(): void {
    const waiter = this.writeWaiter;
    this.writeWaiter = undefined;
    waiter?.();
  }

  /** Both directions done: the connection is left to finish its close on its own. */
  private maybeFinished(): void {
    if (this.finished || !this.readDone || !this.writeDone) return;
    this.finished = true;
    const connection = this.connection;
    if (connection !== undefined && !this.discarding) {
      this.detach();
      connection.release(this.tcp.now());
    } else if (connection !== undefined) {
      // Keep discarding until the peer finishes; release once its FIN has been consumed.
      connection.close(this.tcp.now());
    }
    this.resolveClosed();
  }
}

/** Writable chunks: any ArrayBufferView or an ArrayBuffer, as bytes (no copy). */
function asBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  throw new TypeError('TcpStream.writable accepts Uint8Array, ArrayBufferView or ArrayBuffer chunks');
}
