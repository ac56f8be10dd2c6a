/**
 * `net.Server` over a tcpts TCP listener: listen/close/address/getConnections/maxConnections and the
 * events 'listening', 'connection', 'drop', 'close' and 'error', with Node's argument handling, ordering
 * and error shapes (Node's Server.prototype.listen, lookupAndListen and _emitCloseIfDrained are the
 * reference for when each thing happens).
 */
import { EventEmitter } from 'node:events';
import type { TcpConnection } from '../../tcp/connection.js';
import type { TcpListener } from '../../tcp/tcp-layer.js';
import type { LoopHandle } from '../event-loop-hold.js';
import {
  invalidArgType,
  invalidArgValue,
  nodeError,
  validateAbortSignal,
  validateNumber,
  validatePort,
} from '../node-errors.js';
import { describedSystemError } from '../system-errors-node.js';
import { type AddressChecker, isAddressChecker } from './block-list.js';
import { guarded, type NetContext } from './net-context.js';
import {
  type AddressInfo,
  addressInfoOf,
  isPipeName,
  type Socket,
  type SocketOptions,
  tcpAddressOf,
} from './socket.js';
import { ServerHandle, TcpHandle, type TcpHandleBinding } from './tcp-handle.js';

export interface ServerOptions {
  /** Accepted sockets keep their writable side open after the peer's FIN. Default false. */
  allowHalfOpen?: boolean;
  /** Accepted sockets start paused: nothing is read (and the TCP window closes) until resumed. */
  pauseOnConnect?: boolean;
  /** Nagle off on accepted sockets. */
  noDelay?: boolean;
  /** Keepalives on accepted sockets, first probe after `keepAliveInitialDelay` ms (whole seconds) idle. */
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  highWaterMark?: number;
  /** Peers whose connections are closed as soon as accepted (Node 22). */
  blockList?: AddressChecker;
}

export interface ListenOptions {
  port?: number | string | null;
  /**
   * Default: every address of the stack of both families (::, dual stack: IPv4 peers are reported as
   * ::ffff:a.b.c.d), as Node on a host with IPv6.
   */
  host?: string;
  /** Handshakes in progress plus connections not yet accepted. Default 511 (as Node). */
  backlog?: number;
  exclusive?: boolean;
  /** For :: (or no host): IPv6 connections only (IPV6_V6ONLY), leaving IPv4 to another server. */
  ipv6Only?: boolean;
  signal?: AbortSignal;
}

/** What a 'drop' event carries (maxConnections reached). */
export interface DropInfo {
  localAddress: string;
  localPort: number;
  localFamily: 'IPv4' | 'IPv6';
  remoteAddress: string;
  remotePort: number;
  remoteFamily: 'IPv4' | 'IPv6';
}

/** Node's default backlog. */
const DEFAULT_BACKLOG = 511;

/** Node's default stream buffer size. */
const DEFAULT_HIGH_WATER_MARK = 16 * 1024;

export class Server extends EventEmitter {
  /** Refuse (close at once) connections beyond this many; undefined: no limit. */
  maxConnections!: number;
  allowHalfOpen: boolean;
  pauseOnConnect: boolean;
  noDelay: boolean;
  keepAlive: boolean;
  /** In whole seconds, as Node keeps it. */
  keepAliveInitialDelay: number;
  highWaterMark: number;
  /** The `blockList` option: connections from these peers are closed at once (Node 22). */
  blockList: AddressChecker | undefined;
  /** `family:address:port` of the last listen() (Node's cluster key; some libraries read it). */
  _connectionKey: string | undefined;

  /** @internal */ protected readonly context: NetContext;
  private readonly createSocket: (options: SocketOptions) => Socket;
  private listener: TcpListener | undefined;
  private loopHandle: LoopHandle | undefined;
  /** unref() before listen() applies once listening, as Node's `_unref`. */
  private unrefWanted = false;
  private boundAddress: AddressInfo | undefined;
  /** Listening on an IPv6 address or :: : peers and local ends are reported as IPv6 (mapped for IPv4). */
  private ipv6Listener = false;
  private connectionCount = 0;
  /** Bumped at every listen()/close(), so a lookup answering late for an earlier one is ignored. */
  private listeningId = 1;
  /** `_handle` while listening, made when first read (see tcp-handle.ts). */
  private handleObject: ServerHandle | undefined;

  constructor(
    context: NetContext,
    createSocket: (options: SocketOptions) => Socket,
    options?: ServerOptions | ((socket: Socket) => void) | null,
    connectionListener?: (socket: Socket) => void,
  ) {
    super();
    let settings: ServerOptions;
    if (typeof options === 'function') {
      settings = {};
      this.on('connection', options);
    } else if (options === null || options === undefined || typeof options === 'object') {
      settings = { ...options };
      if (typeof connectionListener === 'function') this.on('connection', connectionListener);
    } else {
      throw invalidArgType('options', 'Object', options);
    }
    if (settings.keepAliveInitialDelay !== undefined) {
      validateNumber(settings.keepAliveInitialDelay, 'options.keepAliveInitialDelay');
      if (settings.keepAliveInitialDelay < 0) settings.keepAliveInitialDelay = 0;
    }
    if (settings.highWaterMark !== undefined) validateNumber(settings.highWaterMark, 'options.highWaterMark');
    if (settings.blockList) {
      if (!isAddressChecker(settings.blockList)) {
        throw invalidArgType('options.blockList', 'net.BlockList', settings.blockList);
      }
      this.blockList = settings.blockList;
    }
    this.context = context;
    this.createSocket = createSocket;
    this.allowHalfOpen = settings.allowHalfOpen || false;
    this.pauseOnConnect = Boolean(settings.pauseOnConnect);
    this.noDelay = Boolean(settings.noDelay);
    this.keepAlive = Boolean(settings.keepAlive);
    this.keepAliveInitialDelay = ~~((settings.keepAliveInitialDelay ?? 0) / 1000);
    this.highWaterMark = settings.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  }

  /** Node's cluster fields: tcpts servers are never shared with workers. */
  _usingWorkers = false;
  _workers: unknown[] = [];

  /**
   * Node's listening handle while listening, else null. Accepted connections go through its
   * `onconnection(err, clientHandle)`, which an application may wrap (Node's own tests do).
   */
  get _handle(): ServerHandle | null {
    if (this.listener === undefined) return null;
    this.handleObject ??= new ServerHandle({
      hold: () => this.loopHandle,
      endpoint: () => this.boundAddress,
      accepted: (clientHandle) => {
        const connection = clientHandle.connection;
        if (connection !== undefined) this.onConnection(connection, clientHandle);
      },
      close: () => this.close(),
    });
    return this.handleObject;
  }

  /** Node's counter of listen()/close() calls, which its lookups check for staleness. */
  get _listeningId(): number {
    return this.listeningId;
  }

  /** Whether unref() is in force (Node's `_unref`). */
  get _unref(): boolean {
    return this.unrefWanted;
  }

  get listening(): boolean {
    return this.listener !== undefined;
  }

  /** `{ address, family, port }` while listening, else null. */
  address(): AddressInfo | null {
    return this.boundAddress === undefined ? null : { ...this.boundAddress };
  }

  /**
   * listen([port[, host[, backlog]]][, callback]) or listen(options[, callback]). Port 0, null or none
   * takes an ephemeral port. Without a host the server listens at once (address() is valid on return);
   * with one, after the host is looked up. 'listening' follows on a later tick; EADDRINUSE and
   * EADDRNOTAVAIL come as 'error' events.
   */
  listen(port?: number | null, host?: string, backlog?: number, listeningListener?: () => void): this;
  listen(port?: number | null, host?: string, listeningListener?: () => void): this;
  listen(port?: number | null, backlog?: number, listeningListener?: () => void): this;
  listen(port?: number | null, listeningListener?: () => void): this;
  /** Numeric strings are ports; IPC paths are not supported (ERR_INVALID_ARG_VALUE). */
  listen(port: string, backlog?: number, listeningListener?: () => void): this;
  listen(port: string, listeningListener?: () => void): this;
  listen(options: ListenOptions, listeningListener?: () => void): this;
  /** Handles are not supported: throws ERR_INVALID_ARG_VALUE. */
  listen(handle: unknown, backlog?: number, listeningListener?: () => void): this;
  listen(handle: unknown, listeningListener?: () => void): this;
  listen(...args: unknown[]): this {
    const [parsed, callback] = normalizeListenArgs(args);
    let options = parsed;
    if (this.listener !== undefined) {
      throw nodeError(
        'ERR_SERVER_ALREADY_LISTEN',
        'Listen method has been called more than once without closing.',
      );
    }
    if (callback !== null) this.once('listening', callback);
    const backlogFromArgs = toNumber(args.length > 1 && args[1]) || toNumber(args.length > 2 && args[2]);
    const handle =
      (options as { _handle?: unknown; handle?: unknown })._handle ??
      (options as { handle?: unknown }).handle;
    if (handle !== undefined && handle !== null) {
      throw invalidArgValue('options.handle', handle, 'is not supported by tcpts (no handle passing)');
    }
    this.listeningId++;
    const signal = options.signal;
    validateAbortSignal(signal, 'options.signal');
    if (signal !== undefined) {
      if (signal.aborted) process.nextTick(() => this.close());
      else signal.addEventListener('abort', () => this.close(), { once: true });
    }
    const fd = (options as { fd?: unknown }).fd;
    if (typeof fd === 'number' && fd >= 0) {
      throw invalidArgValue('options.fd', fd, 'is not supported by tcpts (no file descriptors)');
    }
    if (
      args.length === 0 ||
      typeof args[0] === 'function' ||
      (options.port === undefined && 'port' in options) ||
      options.port === null
    ) {
      options = { ...options, port: 0 };
    }
    if (typeof options.port === 'number' || typeof options.port === 'string') {
      const port = validatePort(options.port, 'options.port');
      const backlog = Number(options.backlog) || backlogFromArgs || DEFAULT_BACKLOG;
      const ipv6Only = options.ipv6Only === true;
      if (options.host) this.lookupAndListen(port, options.host, backlog, ipv6Only);
      else this.listenOn(null, port, backlog, ipv6Only);
      return this;
    }
    const path = (options as { path?: unknown }).path;
    if (path) {
      throw invalidArgValue('options.path', path, 'is not supported by tcpts (no IPC)');
    }
    if (!('port' in options || 'path' in options)) {
      throw invalidArgValue('options', options, 'must have the property "port" or "path"');
    }
    throw invalidArgValue('options', options);
  }

  /** As Node: a host is looked up first (asynchronously, even a literal), then the server listens. */
  private lookupAndListen(port: number, host: string, backlog: number, ipv6Only: boolean): void {
    const id = this.listeningId;
    const listen = (error: Error | null, address: unknown) => {
      if (id !== this.listeningId) return;
      if (error) {
        this.emit('error', error);
        return;
      }
      this.listenOn(typeof address === 'string' ? address : null, port, backlog, ipv6Only);
    };
    const replaced = this.context.options.socketLookup?.();
    // Node calls dns.lookup(host, callback), without options.
    if (replaced !== undefined)
      (replaced as unknown as (host: string, done: typeof listen) => void)(host, listen);
    else this.context.lookup(host, {}, listen);
  }

  /**
   * Listens on `host` (a literal; null: '::', both families, as Node does where IPv6 exists). An IPv6
   * listener — '::' or an IPv6 address, or an IPv4-mapped one — reports its IPv4 peers as IPv4-mapped
   * IPv6 addresses, as an AF_INET6 socket does.
   */
  private listenOn(host: string | null, port: number, backlog: number, ipv6Only = false): void {
    const text = host ?? '::';
    const target = tcpAddressOf(text);
    this.ipv6Listener = target !== undefined && (target.mapped || typeof target.ip === 'bigint');
    this._connectionKey = `${this.ipv6Listener ? 6 : 4}:${text}:${port}`;
    let listener: TcpListener;
    try {
      if (target === undefined) throw Object.assign(new Error('not an IP address'), { code: 'EINVAL' });
      listener = this.context.tcp.listen({
        port,
        address: target.ip,
        ipv6Only,
        backlog: Math.max(1, Math.floor(backlog) || DEFAULT_BACKLOG),
        config: this.context.options.tcp,
      });
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'EINVAL';
      process.nextTick(() => this.emit('error', describedSystemError(code, 'listen', text, port)));
      return;
    }
    this.listener = listener;
    this.loopHandle = this.context.holds.open();
    if (this.unrefWanted) this.loopHandle.unref();
    this.boundAddress = { ...addressInfoOf(target.ip, this.ipv6Listener), port: listener.port };
    listener.on('connection', (connection) => guarded(() => this.accept(connection)));
    process.nextTick(() => {
      if (this.listener === listener) this.emit('listening');
    });
  }

  /**
   * A connection the listener accepted. Through `_handle.onconnection` with a handle for it when the
   * application has seen the server's handle (it may have wrapped onconnection), else straight on.
   */
  private accept(connection: TcpConnection): void {
    const handle = this.handleObject;
    if (handle === undefined) {
      this.onConnection(connection, undefined);
      return;
    }
    handle.onconnection(null, new TcpHandle(this.acceptedBinding(connection)));
  }

  /** What an accepted handle reaches before a socket takes it over: the connection alone. */
  private acceptedBinding(connection: TcpConnection): TcpHandleBinding {
    const now = () => this.context.clock.now();
    let open: TcpConnection | undefined = connection;
    return {
      connection: () => open,
      now,
      hold: () => undefined,
      endpoint: (which) => {
        const end = which === 'local' ? connection.local : connection.remote;
        return { ...addressInfoOf(end.address, this.ipv6Listener), port: end.port };
      },
      close: () => {
        open = undefined;
        connection.release(now());
      },
      readStart: () => {},
      readStop: () => {},
    };
  }

  /** Node's onconnection: the connection limit, the block list, then the socket and 'connection'. */
  private onConnection(connection: TcpConnection, clientHandle: TcpHandle | undefined): void {
    const now = this.context.clock.now();
    if (
      this.maxConnections !== undefined &&
      this.maxConnections !== null &&
      this.connectionCount >= this.maxConnections
    ) {
      const local = addressInfoOf(connection.local.address, this.ipv6Listener);
      const peer = addressInfoOf(connection.remote.address, this.ipv6Listener);
      const drop: DropInfo = {
        localAddress: local.address,
        localPort: connection.local.port,
        localFamily: local.family,
        remoteAddress: peer.address,
        remotePort: connection.remote.port,
        remoteFamily: peer.family,
      };
      this.emit('drop', drop);
      // Closed as soon as accepted, as Node closes the handle: the client sees its connection end.
      connection.release(now);
      return;
    }
    // The block list sees the peer as the kernel reports it (a mapped address on an IPv6 listener).
    const remote = addressInfoOf(connection.remote.address, this.ipv6Listener);
    if (this.blockList?.check(remote.address, remote.family === 'IPv6' ? 'ipv6' : 'ipv4')) {
      // Node 22 closes the accepted handle without an event: the peer sees its connection end.
      connection.release(now);
      return;
    }
    const socket = this.createSocket({
      allowHalfOpen: this.allowHalfOpen,
      highWaterMark: this.highWaterMark,
    });
    socket.server = this;
    socket._server = this;
    socket.adopt(connection, this.pauseOnConnect, this.ipv6Listener, clientHandle);
    socket.acceptOptions(this.noDelay, this.keepAlive, this.keepAliveInitialDelay);
    this.connectionCount++;
    socket.once('close', () => {
      this.connectionCount--;
      this._emitCloseIfDrained();
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
    this.listeningId++;
    if (this.listener !== undefined) {
      this.listener.close();
      this.listener = undefined;
      this.boundAddress = undefined;
      this.loopHandle?.close();
      this.loopHandle = undefined;
      this.handleObject = undefined;
    }
    this._emitCloseIfDrained();
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

  /** Node's count of open accepted connections. */
  get _connections(): number {
    return this.connectionCount;
  }

  /** `await using server = ...`: closes the server and waits for its 'close'. */
  [Symbol.asyncDispose](): Promise<void> {
    if (this.listener === undefined) return Promise.resolve();
    return new Promise((resolve) => this.close(() => resolve()));
  }

  /**
   * With `captureRejections`, a rejected promise from an async 'connection' listener destroys that
   * socket with the error; from any other listener it becomes an 'error' event (as Node's Server).
   */
  [Symbol.for('nodejs.rejection')](error: Error, event: string, socket?: Socket): void {
    if (event === 'connection' && socket !== undefined) socket.destroy(error);
    else this.emit('error', error);
  }

  /**
   * Keeps the process alive while listening (the default). On a stack running in real time this holds
   * Node's event loop as a listening handle does; on virtual time it is recorded only.
   */
  ref(): this {
    this.unrefWanted = false;
    this.loopHandle?.ref();
    return this;
  }

  /** Lets the process exit while listening (see ref()); applies to a later listen() too. */
  unref(): this {
    this.unrefWanted = true;
    this.loopHandle?.unref();
    return this;
  }

  /** Emits 'close' (next tick) once the server stopped listening and its last connection closed. */
  _emitCloseIfDrained(): void {
    if (this.listener !== undefined || this.connectionCount > 0) return;
    process.nextTick(() => this.emit('close'));
  }
}

/** Node's normalizeArgs for listen(): [options, callback]. */
function normalizeListenArgs(
  args: unknown[],
): [ListenOptions & Record<string, unknown>, (() => void) | null] {
  let options: ListenOptions & Record<string, unknown> = {};
  if (args.length > 0) {
    const first = args[0];
    if (typeof first === 'object' && first !== null)
      options = first as ListenOptions & Record<string, unknown>;
    else if (isPipeName(first)) options.path = first;
    else {
      options.port = first as number;
      if (args.length > 1 && typeof args[1] === 'string') options.host = args[1];
    }
  }
  const last = args[args.length - 1];
  return [options, typeof last === 'function' ? (last as () => void) : null];
}

/** Node's toNumber for backlog arguments: a non-negative number, else false. */
function toNumber(value: unknown): number | false {
  const number = Number(value);
  return number >= 0 ? number : false;
}
