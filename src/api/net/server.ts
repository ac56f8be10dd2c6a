/**
 * `net.Server` over a tcpts TCP listener: listen/close/address/getConnections/maxConnections and the
 * events 'listening', 'connection', 'drop', 'close' and 'error', with Node's ordering and error shapes.
 */
import { EventEmitter } from 'node:events';
import type { TcpConnection } from '../../tcp/connection.js';
import type { TcpListener } from '../../tcp/tcp-layer.js';
import { type Ipv4Address, ipv4ToString } from '../../wire/address.js';
import { lookupHost } from '../host-names.js';
import { describedSystemError, invalidArgType, nodeError, validatePort } from '../system-errors-node.js';
import { guarded, type NetContext } from './net-context.js';
import type { AddressInfo, Socket, SocketOptions } from './socket.js';

export interface ServerOptions {
  /** Accepted sockets keep their writable side open after the peer's FIN. Default false. */
  allowHalfOpen?: boolean;
  /** Accepted sockets start paused: nothing is read (and the TCP window closes) until resumed. */
  pauseOnConnect?: boolean;
  /** Nagle off on accepted sockets. */
  noDelay?: boolean;
  /** Keepalives on accepted sockets, first probe after `keepAliveInitialDelay` ms idle. */
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  highWaterMark?: number;
}

export interface ListenOptions {
  port?: number;
  /** Default: every address of the stack (0.0.0.0). */
  host?: string;
  /** Handshakes in progress plus connections not yet accepted. Default 511 (as Node). */
  backlog?: number;
  exclusive?: boolean;
  signal?: AbortSignal;
}

/** What a 'drop' event carries (maxConnections reached). */
export interface DropInfo {
  localAddress: string;
  localPort: number;
  localFamily: 'IPv4';
  remoteAddress: string;
  remotePort: number;
  remoteFamily: 'IPv4';
}

/** Node's default backlog. */
const DEFAULT_BACKLOG = 511;

export class Server extends EventEmitter {
  /** Refuse (close at once) connections beyond this many; undefined: no limit. */
  maxConnections!: number;

  /** @internal */ protected readonly context: NetContext;
  private readonly options: ServerOptions;
  private readonly createSocket: (options: SocketOptions) => Socket;
  private listener: TcpListener | undefined;
  private boundAddress: AddressInfo | undefined;
  private connectionCount = 0;

  constructor(
    context: NetContext,
    createSocket: (options: SocketOptions) => Socket,
    options: ServerOptions = {},
    connectionListener?: (socket: Socket) => void,
  ) {
    super();
    this.context = context;
    this.createSocket = createSocket;
    this.options = { ...options };
    if (connectionListener !== undefined) this.on('connection', connectionListener);
  }

  get listening(): boolean {
    return this.listener !== undefined;
  }

  /** `{ address, family, port }` while listening, else null. */
  address(): AddressInfo | null {
    return this.boundAddress === undefined ? null : { ...this.boundAddress };
  }

  /**
   * listen([port[, host[, backlog]]][, callback]) or listen(options[, callback]). Port 0 (or none)
   * takes an ephemeral port. 'listening' follows on the next tick; EADDRINUSE and EADDRNOTAVAIL come as
   * 'error' events.
   */
  listen(port?: number, host?: string, backlog?: number, listeningListener?: () => void): this;
  listen(port?: number, host?: string, listeningListener?: () => void): this;
  listen(port?: number, backlog?: number, listeningListener?: () => void): this;
  listen(port?: number, listeningListener?: () => void): this;
  /** Numeric strings are ports; IPC paths are not supported (ERR_INVALID_ARG_VALUE). */
  listen(port: string, backlog?: number, listeningListener?: () => void): this;
  listen(port: string, listeningListener?: () => void): this;
  listen(options: ListenOptions, listeningListener?: () => void): this;
  /** Handles are not supported: throws ERR_INVALID_ARG_VALUE. */
  listen(handle: unknown, backlog?: number, listeningListener?: () => void): this;
  listen(handle: unknown, listeningListener?: () => void): this;
  listen(...args: unknown[]): this {
    const last = args[args.length - 1];
    const callback = typeof last === 'function' ? (last as () => void) : undefined;
    let options: Omit<ListenOptions, 'port'> & { port?: number | string };
    const first = args[0];
    if (first !== null && typeof first === 'object') {
      options = first as ListenOptions;
      const unsupported = ['path', 'fd', '_handle', 'handle'].find(
        (key) => (first as Record<string, unknown>)[key] !== undefined,
      );
      if (unsupported !== undefined) {
        throw nodeError(
          'ERR_INVALID_ARG_VALUE',
          `listen(${unsupported}) is not supported by tcpts`,
          TypeError,
        );
      }
    } else {
      options = {};
      if (typeof first === 'number' || typeof first === 'string') options.port = first;
      if (typeof args[1] === 'string') options.host = args[1];
      if (typeof args[2] === 'number') options.backlog = args[2];
      else if (typeof args[1] === 'number') options.backlog = args[1];
    }
    if (this.listener !== undefined) {
      throw nodeError(
        'ERR_SERVER_ALREADY_LISTEN',
        'Listen method has been called more than once without closing.',
      );
    }
    if (typeof options.port === 'string' && !/^\s*\d+\s*$/.test(options.port)) {
      throw nodeError(
        'ERR_INVALID_ARG_VALUE',
        `IPC paths are not supported by tcpts: ${options.port}`,
        TypeError,
      );
    }
    const port = options.port === undefined ? 0 : validatePort(options.port, 'options.port');
    if (options.host !== undefined && typeof options.host !== 'string') {
      throw invalidArgType('options.host', 'of type string', options.host);
    }
    const backlog = options.backlog ?? DEFAULT_BACKLOG;
    if (callback !== undefined) this.once('listening', callback);
    const signal = options.signal;
    if (signal !== undefined) {
      if (signal.aborted) {
        process.nextTick(() => this.close());
        return this;
      }
      signal.addEventListener('abort', () => this.close(), { once: true });
    }
    const host = options.host;
    if (host === undefined) {
      this.bind(0, '0.0.0.0', port, backlog);
      return this;
    }
    // Literals, 'localhost' and known names resolve synchronously, so `listening` and `address()` are
    // valid right after listen() as in Node; a lookup function answers later.
    let synchronous = true;
    lookupHost(host, this.context.options.hosts, this.context.options.lookup, (error, address, text) => {
      if (error || address === undefined) {
        const fail = () => this.emit('error', error);
        if (synchronous) process.nextTick(fail);
        else fail();
        return;
      }
      this.bind(address, text, port, backlog);
    });
    synchronous = false;
    return this;
  }

  private bind(address: Ipv4Address, text: string, port: number, backlog: number): void {
    let listener: TcpListener;
    try {
      listener = this.context.tcp.listen({
        port,
        address,
        backlog: Math.max(1, Math.floor(backlog) || DEFAULT_BACKLOG),
        config: this.context.options.tcp,
      });
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'EINVAL';
      process.nextTick(() => this.emit('error', describedSystemError(code, 'listen', text, port)));
      return;
    }
    this.listener = listener;
    this.boundAddress = { address: address === 0 ? '0.0.0.0' : text, family: 'IPv4', port: listener.port };
    listener.on('connection', (connection) => guarded(() => this.accept(connection)));
    process.nextTick(() => {
      if (this.listener === listener) this.emit('listening');
    });
  }

  private accept(connection: TcpConnection): void {
    const now = this.context.clock.now();
    if (
      this.maxConnections !== undefined &&
      this.maxConnections !== null &&
      this.connectionCount >= this.maxConnections
    ) {
      const drop: DropInfo = {
        localAddress: ipv4ToString(connection.local.address),
        localPort: connection.local.port,
        localFamily: 'IPv4',
        remoteAddress: ipv4ToString(connection.remote.address),
        remotePort: connection.remote.port,
        remoteFamily: 'IPv4',
      };
      this.emit('drop', drop);
      // Closed as soon as accepted, as Node closes the handle: the client sees its connection end.
      connection.release(now);
      return;
    }
    const options = this.options;
    const socket = this.createSocket({
      allowHalfOpen: options.allowHalfOpen,
      highWaterMark: options.highWaterMark,
      noDelay: options.noDelay,
      keepAlive: options.keepAlive,
      keepAliveInitialDelay: options.keepAliveInitialDelay,
    });
    socket.server = this;
    socket.adopt(connection, options.pauseOnConnect === true);
    this.connectionCount++;
    socket.once('close', () => {
      this.connectionCount--;
      this.emitCloseIfDrained();
    });
    this.emit('connection', socket);
  }

  /**
   * Stops listening at once (new connections are refused); 'close' and the callback follow when the last
   * accepted connection has closed. Closing a server that is not listening calls back with
   * ERR_SERVER_NOT_RUNNING.
   */
  close(callback?: (error?: Error) => void): this {
    if (typeof callback === 'function') {
      if (this.listener === undefined) {
        this.once('close', () => callback(nodeError('ERR_SERVER_NOT_RUNNING', 'Server is not running.')));
      } else {
        this.once('close', callback);
      }
    }
    if (this.listener !== undefined) {
      this.listener.close();
      this.listener = undefined;
      this.boundAddress = undefined;
    }
    this.emitCloseIfDrained();
    return this;
  }

  /** Calls back (asynchronously, as Node) with the number of open accepted connections. */
  getConnections(callback: (error: Error | null, count: number) => void): this {
    const count = this.connectionCount;
    process.nextTick(callback, null, count);
    return this;
  }

  /** Deprecated in Node: the number of open accepted connections (use getConnections). */
  get connections(): number {
    return this.connectionCount;
  }

  /** `await using server = ...`: closes the server and waits for its 'close'. */
  [Symbol.asyncDispose](): Promise<void> {
    if (this.listener === undefined) return Promise.resolve();
    return new Promise((resolve) => this.close(() => resolve()));
  }

  /** No effect: a tcpts server does not hold the process open by itself. */
  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  private emitCloseIfDrained(): void {
    if (this.listener !== undefined || this.connectionCount > 0) return;
    process.nextTick(() => this.emit('close'));
  }
}
