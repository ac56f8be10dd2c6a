/**
 * `net.Socket` over a tcpts TCP connection: a real `stream.Duplex` with the events, properties and error
 * codes of Node's socket, so libraries written for Node's `net` run over a simulated or user-space network
 * unchanged.
 *
 * Flow control is end to end. The readable side takes bytes out of the TCP receive buffer only while the
 * stream wants more (`_read`), and stops when `push()` says the stream buffer is full: unread bytes then
 * stay in TCP, its advertised window shrinks to zero and the peer stops sending. The writable side hands
 * chunks to the TCP send buffer and completes a write only once TCP accepted all of it, so when the send
 * buffer is full the stream buffers, `write()` returns false, and 'drain' follows when TCP makes room.
 */
import { Duplex } from 'node:stream';
import type { TcpConnection } from '../../tcp/connection.js';
import type { TcpError } from '../../tcp/errors.js';
import { type Ipv4Address, ipv4ToString, parseIpv4 } from '../../wire/address.js';
import { isIpv4Literal, type LookupFunction, lookupHost } from '../host-names.js';
import {
  invalidArgType,
  nodeError,
  type SystemError,
  systemError,
  systemErrorWithAddress,
  validatePort,
} from '../system-errors-node.js';
import { type TcpInfo, tcpInfoOf } from '../tcp-info.js';
import { guarded, type NetContext } from './net-context.js';

/** Options of `new Socket(options)`. */
export interface SocketOptions {
  /** Keep the writable side open after the peer's FIN (default false: end it automatically). */
  allowHalfOpen?: boolean;
  /** Stream buffer sizes (Node's defaults: 16 KiB). */
  highWaterMark?: number;
  readableHighWaterMark?: number;
  writableHighWaterMark?: number;
  /** Turn Nagle's algorithm off once connected. */
  noDelay?: boolean;
  /** Turn keepalives on once connected, first probe after `keepAliveInitialDelay` ms of idleness. */
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  /** Destroys the socket (with an AbortError) when aborted. */
  signal?: AbortSignal;
}

/** Options of `socket.connect(options)` and `net.connect(options)`. */
export interface SocketConnectOptions extends SocketOptions {
  /** Required (typed optional, as in the options objects Node's `http` passes to `createConnection`). */
  port?: number | string | null;
  /** IPv4 literal, 'localhost', a name the API knows, or one `lookup` resolves. Default 'localhost'. */
  host?: string | null;
  /** Local address to bind (one of the stack's) and local port (default: ephemeral). */
  localAddress?: string;
  localPort?: number;
  /** Only 4 (or 0) is supported. */
  family?: number;
  /** Resolves `host` (Node's `dns.lookup` signature). */
  lookup?: LookupFunction;
  /** Calls `setTimeout(timeout)`. */
  timeout?: number;
}

/** What `socket.address()` returns. */
export interface AddressInfo {
  address: string;
  family: 'IPv4';
  port: number;
}

/** Largest chunk taken from the TCP receive buffer per push (Node reads up to 64 KiB per callback). */
const READ_CHUNK = 64 * 1024;

type ConnectionHandlers = {
  connected: () => void;
  readable: () => void;
  end: () => void;
  closed: () => void;
  drain: () => void;
  error: (error: TcpError) => void;
};

export class Socket extends Duplex {
  /** The server that accepted this socket (server-side sockets), as in Node. */
  server: unknown = null;
  /** Idle timeout in ms set with setTimeout (undefined when none), as Node's `socket.timeout`. */
  timeout: number | undefined;
  /** True from connect() until the connection is established or fails. */
  connecting = false;
  /** The `address:port` this socket tried to connect to (one: tcpts has a single address family). */
  autoSelectFamilyAttemptedAddresses: string[] = [];

  /** @internal */ protected readonly context: NetContext;
  private connection: TcpConnection | undefined;
  private handlers: ConnectionHandlers | undefined;
  /** connect() was called or the socket was accepted: 'close' then carries hadError. */
  private opened = false;
  private localEndpoint: AddressInfo | undefined;
  private remoteEndpoint: { address: string; port: number } | undefined;
  /** The stream asked for data and has not been refused by push(). */
  private reading = false;
  private pulling = false;
  private received = 0;
  private dispatched = 0;
  /** A chunk waiting for the connection to exist (connect() resolves the host first). */
  private waitingWrite: { data: Uint8Array; callback: (error?: Error | null) => void } | undefined;
  /** The unsent rest of a chunk TCP had no room for, and its completion callback. */
  private blockedWrite: { data: Uint8Array; callback: (error?: Error | null) => void } | undefined;
  private idleTimer: { cancel(): void } | undefined;
  private lastActivity = 0;
  private resetOnDestroy = false;
  private wantNoDelay: boolean | undefined;
  private wantKeepAlive: { enable: boolean; initialDelay: number } | undefined;

  constructor(context: NetContext, options: SocketOptions = {}) {
    super({
      allowHalfOpen: options.allowHalfOpen === true,
      // Node's socket: emits its own 'close' (with hadError) and destroys itself once both sides ended.
      emitClose: false,
      autoDestroy: true,
      highWaterMark: options.highWaterMark,
      readableHighWaterMark: options.readableHighWaterMark,
      writableHighWaterMark: options.writableHighWaterMark,
    });
    this.context = context;
    if (options.noDelay) this.wantNoDelay = true;
    if (options.keepAlive) {
      this.wantKeepAlive = { enable: true, initialDelay: options.keepAliveInitialDelay ?? 0 };
    }
    this.on('end', onReadableEnd);
    const signal = options.signal;
    if (signal !== undefined) {
      if (signal.aborted) process.nextTick(() => this.destroy(abortError(signal)));
      else signal.addEventListener('abort', () => this.destroy(abortError(signal)), { once: true });
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Properties, as Node's socket has them.

  get remoteAddress(): string | undefined {
    return this.remoteEndpoint?.address;
  }

  get remotePort(): number | undefined {
    return this.remoteEndpoint?.port;
  }

  get remoteFamily(): string | undefined {
    return this.remoteEndpoint === undefined ? undefined : 'IPv4';
  }

  get localAddress(): string | undefined {
    return this.localEndpoint?.address;
  }

  get localPort(): number | undefined {
    return this.localEndpoint?.port;
  }

  get localFamily(): string | undefined {
    return this.localEndpoint === undefined ? undefined : 'IPv4';
  }

  /** Bytes received and handed to the stream. */
  get bytesRead(): number {
    return this.received;
  }

  /** Bytes written: handed to the connection, plus those still in the stream's buffer (as Node counts). */
  get bytesWritten(): number {
    let bytes = this.dispatched;
    // Node's Writable exposes its queue as `writableBuffer` (undocumented; Node's own socket uses it).
    const queued = (
      this as unknown as { writableBuffer?: Array<{ chunk: Buffer | string; encoding: BufferEncoding }> }
    ).writableBuffer;
    for (const entry of queued ?? []) {
      bytes +=
        typeof entry.chunk === 'string' ? Buffer.byteLength(entry.chunk, entry.encoding) : entry.chunk.length;
    }
    return bytes;
  }

  /** True while there is no established connection behind the socket (before connect and after close). */
  get pending(): boolean {
    return this.connection === undefined || this.connecting;
  }

  get readyState(): 'opening' | 'open' | 'readOnly' | 'writeOnly' | 'closed' {
    if (this.connecting) return 'opening';
    if (this.readable && this.writable) return 'open';
    if (this.readable && !this.writable) return 'readOnly';
    if (!this.readable && this.writable) return 'writeOnly';
    return 'closed';
  }

  /** Deprecated in Node; the bytes buffered for writing. */
  get bufferSize(): number {
    return this.writableLength;
  }

  /** `{ address, family, port }` of the local end, or `{}` before the connection exists. */
  address(): AddressInfo | Record<string, never> {
    return this.localEndpoint === undefined ? {} : { ...this.localEndpoint };
  }

  /** The connection's TCP_INFO-like statistics, or undefined when there is no connection. */
  tcpInfo(): TcpInfo | undefined {
    return this.connection === undefined ? undefined : tcpInfoOf(this.connection);
  }

  // -------------------------------------------------------------------------------------------------
  // Connecting.

  /**
   * Opens a connection: connect(port[, host][, listener]) or connect(options[, listener]). 'connect' and
   * 'ready' follow the handshake; failures are 'error' events (ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH,
   * ENETUNREACH, ENOTFOUND for an unknown name), then 'close'.
   */
  connect(options: SocketConnectOptions | { path: string }, connectListener?: () => void): this;
  connect(port: number | string, host?: string, connectListener?: () => void): this;
  connect(port: number | string, connectListener?: () => void): this;
  connect(...args: unknown[]): this {
    const [options, listener] = normalizeConnectArgs(args);
    if (this.destroyed) throw nodeError('ERR_SOCKET_CLOSED', 'Socket is closed');
    if (this.connecting || this.connection !== undefined) {
      throw nodeError('ERR_SOCKET_CONNECTION_IN_PROGRESS', 'Socket is already connecting or connected');
    }
    if (options.port === undefined || options.port === null) {
      throw nodeError(
        'ERR_MISSING_ARGS',
        'The "options" or "port" or "path" argument must be specified',
        TypeError,
      );
    }
    const port = validatePort(options.port);
    const host = options.host ?? 'localhost';
    if (typeof host !== 'string') throw invalidArgType('options.host', 'of type string', host);
    if (options.family !== undefined && options.family !== 0 && options.family !== 4) {
      throw nodeError(
        'ERR_INVALID_ARG_VALUE',
        `The property 'options.family' must be one of: 0, 4. Received ${options.family}`,
        TypeError,
      );
    }
    let localAddress: Ipv4Address | undefined;
    if (options.localAddress !== undefined) {
      localAddress = parseIpv4(options.localAddress);
      if (localAddress === undefined) {
        throw nodeError('ERR_INVALID_IP_ADDRESS', `Invalid IP address: ${options.localAddress}`, TypeError);
      }
    }
    const localPort =
      options.localPort === undefined ? undefined : validatePort(options.localPort, 'localPort');
    if (options.noDelay) this.wantNoDelay = true;
    if (options.keepAlive) {
      this.wantKeepAlive = { enable: true, initialDelay: options.keepAliveInitialDelay ?? 0 };
    }
    if (options.timeout !== undefined) this.setTimeout(options.timeout);
    if (listener !== undefined) this.once('connect', listener);
    this.connecting = true;
    this.opened = true;
    // As Node: the attempt starts on the next tick (after the name lookup), so destroy() right after
    // connect() cancels it before anything is sent.
    process.nextTick(() => {
      if (!this.connecting || this.destroyed) return;
      lookupHost(
        host,
        this.context.options.hosts,
        options.lookup ?? this.context.options.lookup,
        (error, address, text) => {
          if (!isIpv4Literal(host)) this.emit('lookup', error, error ? undefined : text, 4, host);
          if (!this.connecting || this.destroyed) return;
          if (error || address === undefined) {
            this.connecting = false;
            this.destroy(error ?? undefined);
            return;
          }
          this.open(address, text, port, localAddress, localPort);
        },
      );
    });
    return this;
  }

  private open(
    remoteAddress: Ipv4Address,
    remoteText: string,
    remotePort: number,
    localAddress: Ipv4Address | undefined,
    localPort: number | undefined,
  ): void {
    if (localAddress !== undefined && !this.context.stack.isLocalAddress(localAddress)) {
      // Node binds before connecting, so a foreign local address fails the bind (syscall 'bind').
      this.connecting = false;
      this.destroy(systemErrorWithAddress('EADDRNOTAVAIL', 'bind', ipv4ToString(localAddress), localPort));
      return;
    }
    let connection: TcpConnection;
    try {
      connection = this.context.tcp.connect({
        remoteAddress,
        remotePort,
        localAddress,
        localPort,
        config: this.context.options.tcp,
      });
    } catch (error) {
      this.connecting = false;
      const code = (error as { code?: string }).code ?? 'EINVAL';
      this.destroy(systemErrorWithAddress(code, 'connect', remoteText, remotePort));
      return;
    }
    this.remoteEndpoint = { address: remoteText, port: remotePort };
    this.autoSelectFamilyAttemptedAddresses = [`${remoteText}:${remotePort}`];
    if (connection.state === 'CLOSED') {
      // Failed while sending the SYN, before we could listen for its error.
      this.connecting = false;
      const code = connection.error?.code ?? 'ECONNABORTED';
      this.destroy(systemErrorWithAddress(code, 'connect', remoteText, remotePort));
      return;
    }
    this.attach(connection);
    this.applySocketOptions();
    const waiting = this.waitingWrite;
    if (waiting !== undefined) {
      this.waitingWrite = undefined;
      this.writeToConnection(waiting.data, waiting.callback);
    }
  }

  /**
   * @internal Server side: takes over a connection a listener accepted (already established).
   * `paused` implements the server's pauseOnConnect.
   */
  adopt(connection: TcpConnection, paused: boolean): void {
    this.opened = true;
    this.attach(connection);
    this.applySocketOptions();
    if (paused) this.pause();
    else this.read(0);
  }

  private attach(connection: TcpConnection): void {
    this.connection = connection;
    const local = connection.local;
    this.localEndpoint = { address: ipv4ToString(local.address), family: 'IPv4', port: local.port };
    const remote = connection.remote;
    this.remoteEndpoint ??= { address: ipv4ToString(remote.address), port: remote.port };
    const handlers: ConnectionHandlers = {
      connected: () => guarded(() => this.onConnected()),
      readable: () => guarded(() => this.pull()),
      end: () => guarded(() => this.pull()),
      closed: () => guarded(() => this.pull()),
      drain: () => guarded(() => this.continueBlockedWrite()),
      error: (error) => guarded(() => this.onConnectionError(error)),
    };
    this.handlers = handlers;
    connection.on('connected', handlers.connected);
    connection.on('readable', handlers.readable);
    connection.on('end', handlers.end);
    connection.on('closed', handlers.closed);
    connection.on('drain', handlers.drain);
    connection.on('error', handlers.error);
  }

  private detach(): void {
    const connection = this.connection;
    const handlers = this.handlers;
    if (connection === undefined || handlers === undefined) return;
    this.handlers = undefined;
    connection.off('connected', handlers.connected);
    connection.off('readable', handlers.readable);
    connection.off('end', handlers.end);
    connection.off('closed', handlers.closed);
    connection.off('drain', handlers.drain);
    connection.off('error', handlers.error);
  }

  private applySocketOptions(): void {
    const connection = this.connection!;
    const now = this.context.clock.now();
    if (this.wantNoDelay !== undefined) connection.setNoDelay(this.wantNoDelay, now);
    const keepAlive = this.wantKeepAlive;
    if (keepAlive !== undefined) {
      connection.setKeepAlive(
        keepAlive.enable,
        now,
        keepAlive.initialDelay > 0 ? keepAlive.initialDelay : undefined,
      );
    }
  }

  private onConnected(): void {
    if (!this.connecting) return;
    this.connecting = false;
    this.touch();
    this.emit('connect');
    this.emit('ready');
    if (!this.destroyed && this.readable && !this.isPaused()) this.read(0);
  }

  private onConnectionError(error: TcpError): void {
    if (this.destroyed) return;
    const wasConnecting = this.connecting;
    this.connecting = false;
    const remote = this.remoteEndpoint;
    const nodeStyle: SystemError =
      wasConnecting && remote !== undefined
        ? systemErrorWithAddress(error.code, 'connect', remote.address, remote.port)
        : systemError(error.code, 'read');
    this.destroy(nodeStyle);
  }

  // -------------------------------------------------------------------------------------------------
  // Reading: pull from the TCP receive buffer only while the stream wants data.

  override _read(): void {
    this.reading = true;
    if (this.connection !== undefined && !this.connecting) this.pull();
  }

  private pull(): void {
    // push() and read(0) below may call _read() synchronously, which lands here again: the loop already
    // running picks up the renewed demand (this.reading), so a nested call has nothing to do. (Connection
    // events never arrive during receive(): a connection delivers them only from its outermost call.)
    if (this.pulling) return;
    const connection = this.connection;
    if (connection === undefined) return;
    this.pulling = true;
    try {
      while (this.reading && !this.destroyed && this.connection === connection) {
        if (connection.error !== undefined) return; // the 'error' event destroys the socket
        const data = connection.receive(this.context.clock.now(), READ_CHUNK);
        if (data === null) {
          this.reading = false;
          this.push(null);
          // As Node on EOF: with nothing left buffered, 'end' is emitted even if nobody is reading.
          this.read(0);
          return;
        }
        if (data.length === 0) return;
        this.received += data.length;
        this.touch();
        if (!this.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength))) this.reading = false;
      }
    } finally {
      this.pulling = false;
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Writing: complete a write once TCP took every byte of it.

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.dispatched += chunk.length;
    this.touch();
    if (this.connection === undefined || this.handlers === undefined) {
      // connect() is still resolving the host: hold the chunk until the connection exists.
      this.waitingWrite = { data: chunk, callback };
      return;
    }
    this.writeToConnection(chunk, callback);
  }

  private writeToConnection(data: Uint8Array, callback: (error?: Error | null) => void): void {
    const connection = this.connection!;
    let accepted: number;
    try {
      accepted = connection.send(data, this.context.clock.now());
    } catch (error) {
      callback(writeError(error));
      return;
    }
    if (accepted === data.length) {
      callback();
      return;
    }
    this.blockedWrite = { data: data.subarray(accepted), callback };
  }

  private continueBlockedWrite(): void {
    const blocked = this.blockedWrite;
    if (blocked === undefined || this.connection === undefined) return;
    this.blockedWrite = undefined;
    this.writeToConnection(blocked.data, blocked.callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.connecting || (this.connection === undefined && this.opened && !this.destroyed)) {
      // end() before the handshake completed: the FIN follows once connected, as in Node.
      this.once('connect', () => this._final(callback));
      return;
    }
    if (this.connection !== undefined) {
      try {
        this.connection.close(this.context.clock.now());
      } catch (error) {
        callback(writeError(error));
        return;
      }
    }
    callback();
  }

  // -------------------------------------------------------------------------------------------------
  // Closing.

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.connecting = false;
    this.clearIdleTimer();
    this.waitingWrite = undefined;
    this.blockedWrite = undefined;
    const connection = this.connection;
    if (connection !== undefined) {
      this.detach();
      this.connection = undefined;
      const now = this.context.clock.now();
      // Like close(2): unsent data still goes out before the FIN; unread data turns the close into a
      // reset (RFC 1122 §4.2.2.13). resetAndDestroy() asks for the reset outright.
      if (this.resetOnDestroy) connection.abort(now);
      else connection.release(now);
    }
    callback(error);
    // Node emits 'close' when the handle has closed: a loop iteration later, after 'error' (a nextTick).
    const hadError = error !== null && error !== undefined;
    if (this.opened) setImmediate(() => this.emit('close', hadError));
    else setImmediate(() => this.emit('close'));
  }

  /** Ends the writable side, then destroys the socket once everything was written. */
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  /** Closes the connection with a RST (the peer sees ECONNRESET) and destroys the socket. */
  resetAndDestroy(): this {
    if (this.connecting) {
      this.once('connect', () => this.resetNow());
    } else if (this.connection !== undefined) {
      this.resetNow();
    } else {
      this.destroy(nodeError('ERR_SOCKET_CLOSED', 'Socket is closed'));
    }
    return this;
  }

  private resetNow(): void {
    this.resetOnDestroy = true;
    this.destroy();
  }

  // -------------------------------------------------------------------------------------------------
  // Socket options and the idle timeout.

  /** Emits 'timeout' after `timeout` ms without reads or writes (0 disables). The socket stays open. */
  setTimeout(timeout: number, callback?: () => void): this {
    if (typeof timeout !== 'number' || !(timeout >= 0) || !Number.isFinite(timeout)) {
      throw nodeError(
        'ERR_OUT_OF_RANGE',
        `The value of "msecs" is out of range. It must be a non-negative finite number. Received ${timeout}`,
        RangeError,
      );
    }
    this.clearIdleTimer();
    if (timeout === 0) {
      this.timeout = undefined;
      if (callback !== undefined) this.removeListener('timeout', callback);
      return this;
    }
    this.timeout = timeout;
    if (callback !== undefined) this.once('timeout', callback);
    this.lastActivity = this.context.clock.now();
    if (!this.destroyed) this.armIdleTimer(timeout);
    return this;
  }

  /** Nagle's algorithm off (true, the default argument) or on. */
  setNoDelay(noDelay = true): this {
    this.wantNoDelay = noDelay;
    if (this.connection !== undefined && this.connection.state !== 'CLOSED') {
      this.connection.setNoDelay(noDelay, this.context.clock.now());
    }
    return this;
  }

  /** Keepalive probes on or off; `initialDelay` (ms, > 0) is the idle time before the first probe. */
  setKeepAlive(enable = false, initialDelay = 0): this {
    this.wantKeepAlive = { enable, initialDelay };
    if (this.connection !== undefined && this.connection.state !== 'CLOSED') {
      this.connection.setKeepAlive(
        enable,
        this.context.clock.now(),
        initialDelay > 0 ? initialDelay : undefined,
      );
    }
    return this;
  }

  /** No effect: sockets on a tcpts stack do not hold the process open by themselves. */
  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  /** Records activity for the idle timeout; re-arms it if it had fired. */
  private touch(): void {
    if (this.timeout === undefined) return;
    this.lastActivity = this.context.clock.now();
    if (this.idleTimer === undefined && !this.destroyed) this.armIdleTimer(this.timeout);
  }

  private armIdleTimer(delay: number): void {
    this.idleTimer = this.context.clock.setTimer(delay, () => {
      this.idleTimer = undefined;
      const timeout = this.timeout;
      if (timeout === undefined || this.destroyed) return;
      const idleFor = this.context.clock.now() - this.lastActivity;
      if (idleFor < timeout) {
        this.armIdleTimer(timeout - idleFor);
        return;
      }
      // Not re-armed: the next read or write starts a new idle period, as Node does.
      guarded(() => this.emit('timeout'));
    });
  }

  private clearIdleTimer(): void {
    this.idleTimer?.cancel();
    this.idleTimer = undefined;
  }
}

/** Without allowHalfOpen, writing between the peer's FIN and our automatic end() is EPIPE (as Node). */
function onReadableEnd(this: Socket): void {
  if (this.allowHalfOpen) return;
  this.write = writeAfterFin as Socket['write'];
}

function writeAfterFin(
  this: Socket,
  chunk: unknown,
  encoding?: BufferEncoding | ((error?: Error | null) => void),
  callback?: (error?: Error | null) => void,
): boolean {
  if (!this.writableEnded) {
    return Duplex.prototype.write.call(this, chunk, encoding as BufferEncoding, callback);
  }
  const done = typeof encoding === 'function' ? encoding : callback;
  const error = Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' });
  if (done !== undefined) process.nextTick(done, error);
  this.destroy(error);
  return false;
}

function writeError(error: unknown): Error {
  const code = (error as { code?: string }).code;
  return code === undefined ? (error as Error) : systemError(code === 'ENOTCONN' ? 'EPIPE' : code, 'write');
}

function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('The operation was aborted', { cause: signal.reason }), {
    code: 'ABORT_ERR',
    name: 'AbortError',
  });
}

/** connect(options[, cb]) | connect(port[, host][, cb]), as Node's normalizeArgs. */
export function normalizeConnectArgs(args: unknown[]): [SocketConnectOptions, (() => void) | undefined] {
  const last = args[args.length - 1];
  const listener = typeof last === 'function' ? (last as () => void) : undefined;
  const first = args[0];
  if (first !== null && typeof first === 'object') {
    const path = (first as { path?: unknown }).path;
    if (path !== undefined && path !== null) {
      throw nodeError(
        'ERR_INVALID_ARG_VALUE',
        `IPC paths are not supported by tcpts: ${String(path)}`,
        TypeError,
      );
    }
    return [first as SocketConnectOptions, listener];
  }
  if (typeof first === 'string' && !/^\d+$/.test(first.trim())) {
    throw nodeError('ERR_INVALID_ARG_VALUE', `IPC paths are not supported by tcpts: ${first}`, TypeError);
  }
  const options: SocketConnectOptions = { port: first as number };
  if (typeof args[1] === 'string') options.host = args[1];
  return [options, listener];
}
