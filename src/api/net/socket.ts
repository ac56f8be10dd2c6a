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
import { inspect } from 'node:util';
import { LOOPBACK_ADDRESS } from '../../ip/ipv4-output.js';
import type { TcpConnection, TcpStreamEvent } from '../../tcp/connection.js';
import type { TcpError } from '../../tcp/errors.js';
import { ipv4ToString, parseIpv4 } from '../../wire/address.js';
import {
  type IpAddress,
  ipv4FromMapped,
  ipv4MappedIpv6,
  ipv6ToString,
  isIpv4MappedIpv6,
  parseIpv6,
} from '../../wire/ipv6-address.js';
import type { LoopHandle } from '../event-loop-hold.js';
import type { LookupAddress, LookupFunction, LookupOptions } from '../host-names.js';
import {
  abortError,
  invalidArgType,
  invalidArgValue,
  missingArgs,
  nodeError,
  outOfRange,
  validateAbortSignal,
  validateBoolean,
  validateFunction,
  validateInt32,
  validateNumber,
  validatePort,
} from '../node-errors.js';
import { type SystemError, systemError, systemErrorWithAddress } from '../system-errors-node.js';
import { type TcpInfo, tcpInfoOf } from '../tcp-info.js';
import { type AddressChecker, isAddressChecker } from './block-list.js';
import { isIP } from './is-ip.js';
import { guarded, type NetContext, surface } from './net-context.js';
import { type HandleAddress, TcpHandle, type TcpHandleBinding } from './tcp-handle.js';

/** Node's `onread` option: received bytes go into `buffer` and to `callback` instead of 'data' events. */
export interface OnReadOptions {
  /** The buffer to fill, or a function returning the buffer to use for each read. */
  buffer: Uint8Array | (() => Uint8Array);
  /** Called with the byte count and the buffer; returning false pauses reading until `resume()`. */
  callback: (bytesWritten: number, buffer: Uint8Array) => unknown;
}

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
  /** Turn keepalives on once connected, first probe after `keepAliveInitialDelay` ms (whole seconds) idle. */
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  /** Destroys the socket (with an AbortError) when aborted. */
  signal?: AbortSignal;
  /** Received bytes into a buffer of the application's (see OnReadOptions). */
  onread?: OnReadOptions;
  /** Addresses this socket must not connect to (Node 22): such an attempt fails with ERR_IP_BLOCKED. */
  blockList?: AddressChecker;
  /**
   * A handle to wrap, as Node's: a tcpts handle (a server's `onconnection` argument) brings its
   * connection; any other object becomes `_handle`, whose setNoDelay/setKeepAlive/readStart the socket
   * calls as Node does, though no data moves through it (tcpts reads and writes its own connections).
   */
  handle?: unknown;
}

/** Options of `socket.connect(options)` and `net.connect(options)`. */
export interface SocketConnectOptions extends SocketOptions {
  /** Required (typed optional, as in the options objects Node's `http` passes to `createConnection`). */
  port?: number | string | null;
  /** IP literal, 'localhost', a name the API knows, or one `lookup` resolves. Default 'localhost'. */
  host?: string | null;
  /** Local address to bind (one of the stack's) and local port (default: ephemeral). */
  localAddress?: string;
  localPort?: number;
  /** 0, 4, 6, 'IPv4' or 'IPv6': the address family the lookup asks for. */
  family?: number;
  /** getaddrinfo hints passed to the lookup. */
  hints?: number;
  /** Resolves `host` (Node's `dns.lookup` signature). */
  lookup?: LookupFunction;
  /** Calls `setTimeout(timeout)`. */
  timeout?: number;
  /** Try every address a lookup answers (Happy Eyeballs, RFC 8305), each for the attempt timeout. */
  autoSelectFamily?: boolean;
  autoSelectFamilyAttemptTimeout?: number;
}

/** What `socket.address()` returns. */
export interface AddressInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
}

/**
 * A literal as the TCP layer takes it: IPv4 as a number, IPv6 as a bigint — except an IPv4-mapped IPv6
 * address (::ffff:a.b.c.d), which an AF_INET6 socket reaches over IPv4 (RFC 4291 §2.5.5.2), so it comes
 * back as the IPv4 number with `mapped` set. Undefined for anything else.
 */
export function tcpAddressOf(text: string): { ip: IpAddress; mapped: boolean } | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { ip: v4, mapped: false };
  const v6 = text.includes(':') ? parseIpv6(text) : undefined;
  if (v6 === undefined) return undefined;
  if (isIpv4MappedIpv6(v6)) return { ip: ipv4FromMapped(v6), mapped: true };
  return { ip: v6, mapped: false };
}

/**
 * An address as a socket of the given view reports it: an IPv6 socket (one on ::, or connected to a
 * mapped address) sees IPv4 peers as ::ffff:a.b.c.d, family IPv6, as Linux's AF_INET6 sockaddr.
 */
/**
 * An address and port as `address()` and `remoteAddress` show them. Built as one literal, so every
 * endpoint shares a hidden class (a spread copy plus a property gets a map of its own in V8: about
 * 250 bytes more per socket end).
 */
function endpointInfoOf(
  address: IpAddress,
  port: number,
  ipv6View: boolean,
): { address: string; family: 'IPv4' | 'IPv6'; port: number } {
  const info = addressInfoOf(address, ipv6View);
  return { address: info.address, family: info.family, port };
}

export function addressInfoOf(
  address: IpAddress,
  ipv6View: boolean,
): { address: string; family: 'IPv4' | 'IPv6' } {
  if (typeof address === 'bigint') return { address: ipv6ToString(address), family: 'IPv6' };
  if (ipv6View) return { address: ipv6ToString(ipv4MappedIpv6(address)), family: 'IPv6' };
  return { address: ipv4ToString(address), family: 'IPv4' };
}

/** Largest chunk taken from the TCP receive buffer per push (Node reads up to 64 KiB per callback). */
const READ_CHUNK = 64 * 1024;

/**
 * Storage for bytes copied out of the receive buffer: uninitialised, as Node's own reads get (the copy
 * fills every byte; zero-filling each 64 KiB chunk first was 5% of a bulk receiver's instructions), and
 * its own allocation, not a slice of Node's shared pool, so a chunk the application keeps pins nothing else.
 */
function allocateChunk(length: number): Uint8Array {
  return Buffer.allocUnsafeSlow(length);
}

/** What internalConnect was asked for: the address connected to and the local end requested. */
interface ConnectRequest {
  address: string;
  port: number;
  family: number;
  localAddress: string | undefined;
  localPort: number | undefined;
}

/** One connection attempt in progress, told how it ends. */
interface Attempt {
  request: ConnectRequest;
  onConnected(): void;
  onFailed(error: SystemError): void;
}

/** The normalized arguments of connect()/listen(), marked so they are not normalized twice (as Node). */
export const NORMALIZED = Symbol('normalizedArgs');
export type NormalizedArgs = [SocketConnectOptions, (() => void) | null] & { [NORMALIZED]?: true };

/** Node's `socket.connect()` state errors for a second connect on the same handle. */
const SECOND_CONNECT_CODE = { connecting: 'EALREADY', connected: 'EISCONN' } as const;

export class Socket extends Duplex {
  /** The server that accepted this socket (server-side sockets), as in Node. */
  server: unknown = null;
  /** Node's own name for it. */
  _server: unknown = null;
  /** Idle timeout in ms set with setTimeout (undefined until set), as Node's `socket.timeout`. */
  timeout: number | undefined;
  /** True from connect() until the connection is established or fails. */
  connecting = false;
  /**
   * The `address:port` pairs a connect with autoSelectFamily tried, in order; undefined (as in Node)
   * until a lookup answered more than one address.
   */
  autoSelectFamilyAttemptedAddresses!: string[];
  /** The `blockList` option: addresses connect() refuses (ERR_IP_BLOCKED), as Node 22's. */
  blockList: AddressChecker | undefined;
  /** The host name connect() looked up (Node's `_host`); null for none. */
  _host: string | null = null;
  /** Node's fields that libraries read: the socket a TLS socket wraps (none), the flag http sets on error. */
  _parent: null = null;
  _hadError = false;
  _closeAfterHandlingError = false;
  /** Node keeps the encoding of data written while connecting here (tcpts writes Buffers: ''). */
  _pendingEncoding = '';
  /** Node caches the local address here after `_getsockname()`; tcpts fills it on the first call. */
  _sockname: AddressInfo | null = null;

  /** @internal */ protected readonly context: NetContext;
  private connection: TcpConnection | undefined;
  /** True while this socket observes its connection (attach to detach). */
  private attached = false;
  /** The socket's hold on the event loop: opened by connect() or accept, closed by destroy. */
  private loopHandle: LoopHandle | undefined;
  /** The request of the connection in progress or established. */
  private request: ConnectRequest | undefined;
  /** The attempt the TCP connection belongs to while connecting. */
  private attempt: Attempt | undefined;
  /** Bumped at every connect(), so callbacks of an earlier one find themselves stale. */
  private generation = 0;
  /** See `localEndpoint`. */
  private localInfo: AddressInfo | undefined;
  /** See `remoteEndpoint`. */
  private remoteInfo: { address: string; port: number; family?: 'IPv4' | 'IPv6' } | undefined;
  /**
   * The connection attached whose endpoints are not made into `localInfo` and `remoteInfo` yet: made the
   * first time either is read or set, or when the connection is detached. Made at once, an idle socket
   * held two records and two address strings per end that nothing read (about 140 B).
   */
  private endpointsOf: TcpConnection | undefined;
  /**
   * The connection is seen through an IPv6 socket: accepted by a dual-stack server, or connected to an
   * IPv4-mapped address. IPv4 addresses are then reported as ::ffff:a.b.c.d, family IPv6.
   */
  private ipv6View = false;
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
  private noDelayWanted = false;
  private keepAliveWanted = false;
  /** Keepalive idle time in whole seconds, as Node keeps it. */
  private keepAliveDelaySeconds = 0;
  private readonly onread:
    | { buffer: Uint8Array | (() => Uint8Array); callback: OnReadOptions['callback'] }
    | undefined;
  /** connect() is waiting for its lookup: no attempt is under way yet. */
  private lookingUp = false;
  /** The peer's FIN was read (the readable side ended). */
  private eofReceived = false;
  /** onread's callback returned false: reading stops until resume(). */
  private onreadStopped = false;
  /**
   * What `_handle` answers: undefined while it is the socket's own handle (made only when first read,
   * null when the socket has no hold on the loop), else what the application set (or the accepted
   * handle the server handed over).
   */
  private handleObject: TcpHandle | { setNoDelay?: unknown; setKeepAlive?: unknown } | null | undefined;
  /** The application closed `_handle` (uv_close): writes fail with EBADF. */
  private handleClosed = false;

  constructor(context: NetContext, options: SocketOptions = {}) {
    const settings = options !== null && typeof options === 'object' ? options : {};
    rejectObjectMode(settings as Record<string, unknown>);
    super({
      allowHalfOpen: settings.allowHalfOpen === true,
      // Node's socket: emits its own 'close' (with hadError) and destroys itself once both sides ended.
      emitClose: false,
      autoDestroy: true,
      highWaterMark: settings.highWaterMark,
      readableHighWaterMark: settings.readableHighWaterMark,
      writableHighWaterMark: settings.writableHighWaterMark,
    });
    this.context = context;
    this.noDelayWanted = Boolean(settings.noDelay);
    this.keepAliveWanted = Boolean(settings.keepAlive);
    // A negative delay counts as none (Node clamps it to 0).
    this.keepAliveDelaySeconds = Math.max(0, ~~((settings.keepAliveInitialDelay ?? 0) / 1000));
    const onread = settings.onread as unknown;
    if (
      onread !== null &&
      typeof onread === 'object' &&
      ((onread as OnReadOptions).buffer instanceof Uint8Array ||
        typeof (onread as OnReadOptions).buffer === 'function') &&
      typeof (onread as OnReadOptions).callback === 'function'
    ) {
      this.onread = {
        buffer: (onread as OnReadOptions).buffer,
        callback: (onread as OnReadOptions).callback,
      };
    }
    if (settings.blockList) {
      if (!isAddressChecker(settings.blockList)) {
        throw invalidArgType('options.blockList', 'net.BlockList', settings.blockList);
      }
      this.blockList = settings.blockList;
    }
    this.on('end', onReadableEnd);
    const handle = settings.handle;
    if (handle instanceof TcpHandle && handle.connection !== undefined) {
      this.adopt(handle.connection, false, false, handle);
    } else if (handle !== null && typeof handle === 'object') {
      this.handleObject = handle;
      // Node starts reading at once (read(0) -> readStart), unless the socket is not readable.
      const start = (handle as { readStart?: unknown }).readStart;
      if ((settings as { readable?: unknown }).readable !== false && typeof start === 'function') {
        (handle as { reading?: boolean }).reading = true;
        start.call(handle);
      }
    }
    const signal = settings.signal;
    if (signal !== undefined) {
      validateAbortSignal(signal, 'signal');
      if (signal.aborted) process.nextTick(() => this.destroy(abortError(signal)));
      else signal.addEventListener('abort', () => this.destroy(abortError(signal)), { once: true });
    }
  }

  /** The local end as Node reports it (address, family, port), undefined while there is none. */
  private get localEndpoint(): AddressInfo | undefined {
    if (this.endpointsOf !== undefined) this.makeEndpoints();
    return this.localInfo;
  }
  private set localEndpoint(value: AddressInfo | undefined) {
    if (this.endpointsOf !== undefined) this.makeEndpoints();
    this.localInfo = value;
  }

  /** The peer: the address connected to (as asked), else the connection's; undefined while none. */
  private get remoteEndpoint(): { address: string; port: number; family?: 'IPv4' | 'IPv6' } | undefined {
    if (this.endpointsOf !== undefined) this.makeEndpoints();
    return this.remoteInfo;
  }
  private set remoteEndpoint(value: { address: string; port: number; family?: 'IPv4' | 'IPv6' } | undefined) {
    if (this.endpointsOf !== undefined) this.makeEndpoints();
    this.remoteInfo = value;
  }

  /** Makes the endpoints of the connection attached (see `endpointsOf`), as `attach` did. */
  private makeEndpoints(): void {
    const connection = this.endpointsOf!;
    this.endpointsOf = undefined;
    const local = connection.local;
    this.localInfo = endpointInfoOf(local.address, local.port, this.ipv6View);
    const remote = connection.remote;
    this.remoteInfo ??= endpointInfoOf(remote.address, remote.port, this.ipv6View);
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
    return this.remoteEndpoint === undefined ? undefined : (this.remoteEndpoint.family ?? 'IPv4');
  }

  get localAddress(): string | undefined {
    return this.localEndpoint?.address;
  }

  get localPort(): number | undefined {
    return this.localEndpoint?.port;
  }

  get localFamily(): string | undefined {
    return this.localEndpoint?.family;
  }

  /** Node's old name for `connecting` (libraries still read it). */
  get _connecting(): boolean {
    return this.connecting;
  }

  /**
   * Node's handle (see tcp-handle.ts): from connect() (or accepting) until the socket is destroyed, else
   * null. It has no `isStreamBase`, so Node's http reads the socket as a stream, as any JavaScript one.
   */
  get _handle(): TcpHandle | object | null {
    if (this.handleObject !== undefined) return this.handleObject;
    if (this.loopHandle === undefined) return null;
    const handle = new TcpHandle(this.handleBinding());
    this.handleObject = handle;
    return handle;
  }

  /** Node's code and libraries replace it (null: the socket counts as closed, ERR_SOCKET_CLOSED). */
  set _handle(value: TcpHandle | object | null) {
    this.handleObject = value;
  }

  /** What the socket's handle reaches of it. */
  private handleBinding(): TcpHandleBinding {
    return {
      connection: () => this.connection,
      now: () => this.context.clock.now(),
      hold: () => this.loopHandle,
      endpoint: (which) => {
        if (which === 'local') return this.localEndpoint;
        const peer = this._getpeername();
        return 'address' in peer ? (peer as HandleAddress) : undefined;
      },
      close: () => this.closeHandle(),
      readStart: () => {
        this.reading = true;
        this.updateActivity();
        this.pull();
      },
      readStop: () => {
        this.reading = false;
        this.updateActivity();
      },
    };
  }

  /**
   * `_handle.close()` by the application (libuv's uv_close on the TCP handle): the connection is closed
   * as close(2) does (a FIN, or a RST with unread data) and the loop is released; the socket stays as it
   * is until destroyed, its writes failing with EBADF.
   */
  private closeHandle(): void {
    this.handleClosed = true;
    const connection = this.connection;
    if (connection !== undefined) {
      this.detach();
      this.connection = undefined;
      connection.release(this.context.clock.now());
    }
    this.loopHandle?.close();
    this.loopHandle = undefined;
  }

  /** The data written while connect() was still under way (Node's `_pendingData`), or null. */
  get _pendingData(): Buffer | null {
    const waiting = this.waitingWrite?.data;
    return waiting === undefined ? null : Buffer.from(waiting.buffer, waiting.byteOffset, waiting.byteLength);
  }

  /** Bytes handed to the connection (Node's `_bytesDispatched`: not those waiting for it or queued). */
  get _bytesDispatched(): number {
    return this.dispatched - (this.waitingWrite?.data.length ?? 0);
  }

  /** `{ address, family, port }` of the peer, or `{}` while there is none (Node's `_getpeername`). */
  _getpeername(): AddressInfo | Record<string, never> {
    if (this.remoteEndpoint === undefined || this.connecting) return {};
    return {
      address: this.remoteEndpoint.address,
      family: this.remoteEndpoint.family ?? 'IPv4',
      port: this.remoteEndpoint.port,
    };
  }

  /** `{ address, family, port }` of the local end, or `{}` (Node's `_getsockname`, cached in `_sockname`). */
  _getsockname(): AddressInfo | Record<string, never> {
    if (this.localEndpoint === undefined) return {};
    this._sockname ??= { ...this.localEndpoint };
    return this._sockname;
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
  // Connecting, as Node's Socket.prototype.connect, lookupAndConnect and internalConnect.

  /**
   * Opens a connection: connect(port[, host][, listener]) or connect(options[, listener]). 'connect' and
   * 'ready' follow the handshake; failures are 'error' events (ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH,
   * ENETUNREACH, ENOTFOUND for an unknown name), then 'close'. A socket that closed may connect again.
   */
  connect(options: SocketConnectOptions | { path: string }, connectListener?: () => void): this;
  connect(port: number | string, host?: string, connectListener?: () => void): this;
  connect(port: number | string, connectListener?: () => void): this;
  /** IPC paths are refused (ERR_INVALID_ARG_VALUE): tcpts has no local sockets. */
  connect(path: string, connectListener?: () => void): this;
  connect(...args: unknown[]): this {
    const normalized =
      Array.isArray(args[0]) && (args[0] as NormalizedArgs)[NORMALIZED]
        ? (args[0] as NormalizedArgs)
        : normalizeConnectArgs(args);
    const [options, listener] = normalized;
    if (listener !== null) this.once('connect', listener);
    if (options.port === undefined && (options as { path?: unknown }).path == null) {
      throw missingArgs(['options', 'port', 'path']);
    }
    if (this.write !== Socket.prototype.write) this.write = Socket.prototype.write;
    if (this.destroyed) this.reopen();
    if ((options as { path?: unknown }).path != null) {
      throw invalidArgValue(
        'options.path',
        (options as { path?: unknown }).path,
        'is not supported by tcpts (no IPC)',
      );
    }
    const hadHandle = this.loopHandle !== undefined;
    this.loopHandle ??= this.context.holds.open();
    this.touch();
    this.connecting = true;
    // While the address is looked up only the lookup holds the process (Node's handle is idle then).
    this.lookingUp = true;
    this.updateActivity();
    try {
      this.lookupAndConnect(options);
    } catch (error) {
      // An argument Node refuses before it makes a handle: nothing may stay open (or hold the process).
      this.connecting = false;
      if (!hadHandle) {
        this.loopHandle?.close();
        this.loopHandle = undefined;
      }
      throw error;
    }
    return this;
  }

  /** A destroyed socket made ready to connect again (Node's `_undestroy` with a fresh handle). */
  private reopen(): void {
    (this as unknown as { _undestroy(): void })._undestroy();
    this.generation++;
    this.connection = undefined;
    this.request = undefined;
    this.attempt = undefined;
    this.localEndpoint = undefined;
    this.remoteEndpoint = undefined;
    this.received = 0;
    this.dispatched = 0;
    this.resetOnDestroy = false;
    this._sockname = null;
    this.eofReceived = false;
    this.onreadStopped = false;
    this.reading = false;
    this.handleObject = undefined;
    this.handleClosed = false;
  }

  private lookupAndConnect(options: SocketConnectOptions): void {
    const { localAddress, localPort } = options;
    const host = options.host || 'localhost';
    let port = options.port as unknown;
    if (localAddress && !isIP(localAddress))
      throw nodeError('ERR_INVALID_IP_ADDRESS', `Invalid IP address: ${localAddress}`, TypeError);
    if (localPort) validateNumber(localPort, 'options.localPort');
    if (port !== undefined) {
      if (typeof port !== 'number' && typeof port !== 'string') {
        throw invalidArgType('options.port', ['number', 'string'], port);
      }
      validatePort(port);
    }
    port = (port as number) | 0;
    let autoSelectFamily = options.autoSelectFamily;
    if (autoSelectFamily != null) validateBoolean(autoSelectFamily, 'options.autoSelectFamily');
    else autoSelectFamily = this.context.defaults.autoSelectFamily;
    let attemptTimeout = options.autoSelectFamilyAttemptTimeout;
    if (attemptTimeout != null) {
      validateInt32(attemptTimeout, 'options.autoSelectFamilyAttemptTimeout', 1);
      if (attemptTimeout < 10) attemptTimeout = 10;
    } else {
      attemptTimeout = this.context.defaults.autoSelectFamilyAttemptTimeout;
    }
    const generation = this.generation;
    const local = { address: localAddress, port: localPort };
    // A literal needs no lookup: the attempt starts on the next tick (so destroy() right after connect()
    // cancels it before anything is sent).
    const literalFamily = typeof host === 'string' ? isIP(host) : 0;
    if (literalFamily !== 0) {
      process.nextTick(() => {
        if (this.connecting && generation === this.generation) {
          this.internalConnect(host as string, port as number, literalFamily, local);
        }
      });
      return;
    }
    if (options.lookup != null) validateFunction(options.lookup, 'options.lookup');
    const family = socketToDnsFamily(options.family);
    const dnsOptions: { family: number | undefined; hints: number; all?: boolean } = {
      family,
      hints: options.hints || 0,
    };
    // getaddrinfo's AI_ADDRCONFIG, which Node asks for unless a family is named.
    if (family !== 4 && family !== 6 && dnsOptions.hints === 0) dnsOptions.hints = ADDRCONFIG;
    this._host = host as string;
    const lookup = options.lookup ?? this.context.options.socketLookup?.() ?? this.context.lookup;
    if (family !== 4 && family !== 6 && !localAddress && autoSelectFamily) {
      dnsOptions.all = true;
      this.lookupAndConnectMultiple(
        lookup,
        host as string,
        dnsOptions,
        port as number,
        local,
        attemptTimeout,
        generation,
      );
      return;
    }
    lookup(host as string, dnsOptions as LookupOptions, (error, ip, addressType) => {
      if (generation !== this.generation) return;
      this.emit('lookup', error, ip, addressType, host);
      if (!this.connecting) return;
      if (error) {
        process.nextTick(() => this.connectFailed(error));
      } else if (typeof ip !== 'string' || !isIP(ip)) {
        const failure = nodeError(
          'ERR_INVALID_IP_ADDRESS',
          `Invalid IP address: ${formatInvalidIp(ip)}`,
          TypeError,
        );
        process.nextTick(() => this.connectFailed(failure));
      } else if (addressType !== 4 && addressType !== 6) {
        const failure = invalidAddressFamily(addressType, host as string, port as number);
        process.nextTick(() => this.connectFailed(failure));
      } else {
        this.touch();
        this.internalConnect(ip, port as number, addressType, local);
      }
    });
  }

  /** autoSelectFamily: every address answered is tried in turn (RFC 8305 §4's interleaving by family). */
  private lookupAndConnectMultiple(
    lookup: LookupFunction,
    host: string,
    dnsOptions: LookupOptions,
    port: number,
    local: { address: string | undefined; port: number | undefined },
    attemptTimeout: number,
    generation: number,
  ): void {
    lookup(host, dnsOptions, (error, answer) => {
      if (generation !== this.generation || !this.connecting) return;
      if (error) {
        this.emit('lookup', error, undefined, undefined, host);
        process.nextTick(() => this.connectFailed(error));
        return;
      }
      const addresses = (Array.isArray(answer) ? answer : []) as LookupAddress[];
      if (!Array.isArray(answer)) {
        const failure = nodeError(
          'ERR_INVALID_IP_ADDRESS',
          `Invalid IP address: ${formatInvalidIp(undefined)}`,
          TypeError,
        );
        process.nextTick(() => this.connectFailed(failure));
        return;
      }
      const byFamily: [LookupAddress[], LookupAddress[]] = [[], []];
      let order: Record<number, 0 | 1> | undefined;
      for (const entry of addresses) {
        this.emit('lookup', error, entry.address, entry.family, host);
        if (!this.connecting || generation !== this.generation) return;
        if (isIP(entry.address) && (entry.family === 4 || entry.family === 6)) {
          order ??= entry.family === 6 ? { 6: 0, 4: 1 } : { 4: 0, 6: 1 };
          const list = byFamily[order[entry.family]!];
          if (!list.some((known) => known.address === entry.address)) list.push(entry);
        }
      }
      if (byFamily[0].length === 0 && byFamily[1].length === 0) {
        if (addresses.length === 0) {
          // Node reads the first answer here and throws for an empty list; tcpts reports it instead.
          const failure = nodeError('ERR_INVALID_IP_ADDRESS', 'Invalid IP address: undefined', TypeError);
          process.nextTick(() => this.connectFailed(failure));
          return;
        }
        const first = addresses[0]!;
        const failure = !isIP(first.address)
          ? nodeError('ERR_INVALID_IP_ADDRESS', `Invalid IP address: ${first.address}`, TypeError)
          : invalidAddressFamily(first.family, host, port);
        process.nextTick(() => this.connectFailed(failure));
        return;
      }
      const toAttempt: LookupAddress[] = [];
      for (let i = 0; i < Math.max(byFamily[0].length, byFamily[1].length); i++) {
        if (i < byFamily[0].length) toAttempt.push(byFamily[0][i]!);
        if (i < byFamily[1].length) toAttempt.push(byFamily[1][i]!);
      }
      if (toAttempt.length === 1) {
        this.touch();
        const only = toAttempt[0]!;
        this.internalConnect(only.address, port, only.family, local);
        return;
      }
      this.autoSelectFamilyAttemptedAddresses = [];
      this.connectMultiple(toAttempt, port, attemptTimeout, [], generation);
    });
  }

  /** One attempt of a multi-address connect; the next follows on failure or after `attemptTimeout` ms. */
  private connectMultiple(
    addresses: readonly LookupAddress[],
    port: number,
    attemptTimeout: number,
    errors: Array<Error & { code?: string }>,
    generation: number,
  ): void {
    const [current, ...rest] = addresses;
    if (current === undefined) return;
    const request: ConnectRequest = {
      address: current.address,
      port,
      family: current.family,
      localAddress: undefined,
      localPort: undefined,
    };
    let timer: { cancel(): void } | undefined;
    const next = () => {
      if (generation !== this.generation || !this.connecting) return;
      if (rest.length > 0) {
        this.connectMultiple(rest, port, attemptTimeout, errors, generation);
        return;
      }
      const failure =
        errors.length === 1
          ? errors[0]!
          : Object.assign(new AggregateError(errors, ''), { code: errors[0]?.code });
      this.connectFailed(failure);
    };
    if (this.blockList?.check(current.address, `ipv${current.family}`)) {
      // A listed address is skipped as a failed attempt (Node 22's internalConnectMultiple).
      const blocked = ipBlocked(current.address);
      errors.push(blocked);
      this.emit('connectionAttemptFailed', current.address, port, current.family, blocked);
      next();
      return;
    }
    this.autoSelectFamilyAttemptedAddresses?.push(`${current.address}:${port}`);
    this.startAttempt({
      request,
      onConnected: () => timer?.cancel(),
      onFailed: (error) => {
        timer?.cancel();
        errors.push(error);
        this.emit('connectionAttemptFailed', request.address, port, request.family, error);
        next();
      },
    });
    if (rest.length > 0 && this.attempt?.request === request) {
      timer = this.context.clock.setTimer(attemptTimeout, () => {
        if (this.attempt?.request !== request || generation !== this.generation) return;
        this.abandonAttempt();
        this.emit('connectionAttemptTimeout', request.address, port, request.family);
        next();
      });
    }
  }

  /** Node's internalConnect: binds the local end if asked, then starts the handshake. */
  private internalConnect(
    address: string,
    port: number,
    family: number,
    local: { address: string | undefined; port: number | undefined },
  ): void {
    let localAddress = local.address;
    const localPort = local.port;
    if (localAddress || localPort) {
      localAddress ||= family === 6 ? '::' : '0.0.0.0';
      const bindError = this.bindLocal(localAddress, localPort ?? 0);
      if (bindError !== undefined) {
        this.destroy(systemErrorWithAddress(bindError, 'bind', localAddress, localPort));
        return;
      }
    }
    if (this.blockList?.check(address, `ipv${family}`)) {
      this.destroy(ipBlocked(address));
      return;
    }
    const request: ConnectRequest = { address, port, family, localAddress, localPort };
    this.startAttempt({
      request,
      onConnected: () => {},
      onFailed: (error) => {
        this.emit('connectionAttemptFailed', address, port, family, error);
        this.connectFailed(error);
      },
    });
  }

  /** The errno a bind of the local end would fail with, or undefined when it is free. */
  private bindLocal(address: string, port: number): string | undefined {
    const ip = tcpAddressOf(address)?.ip;
    if (ip === undefined) return 'EAFNOSUPPORT';
    if (ip !== 0 && ip !== 0n && !this.context.stack.isLocalAddress(ip)) return 'EADDRNOTAVAIL';
    if (port !== 0 && this.context.tcp.listenerHolds(ip, port)) return 'EADDRINUSE';
    if (port < 0 || port > 65535 || !Number.isInteger(port)) return 'EINVAL';
    return undefined;
  }

  /** Opens the TCP connection of one attempt; its outcome reaches `attempt`. */
  private startAttempt(attempt: Attempt): void {
    const { request } = attempt;
    this.lookingUp = false;
    this.updateActivity();
    this.emit('connectionAttempt', request.address, request.port, request.family);
    if (this.connection !== undefined) {
      // A second connect() on a live handle: the kernel says the connection exists or is under way.
      const code =
        this.connection.state === 'SYN-SENT' ? SECOND_CONNECT_CODE.connecting : SECOND_CONNECT_CODE.connected;
      const local = this.localEndpoint;
      const details = local === undefined ? undefined : `${local.address}:${local.port}`;
      this.destroy(systemErrorWithAddress(code, 'connect', request.address, request.port, details));
      return;
    }
    const target = tcpAddressOf(request.address);
    if (target === undefined) {
      attempt.onFailed(systemErrorWithAddress('EINVAL', 'connect', request.address, request.port));
      return;
    }
    // Linux (ip_route_connect, ip6_datagram_connect): a connect to the wildcard goes to this host, the
    // loopback address; the peer is then reported as that address.
    const remote = target.ip === 0 ? LOOPBACK_ADDRESS : target.ip === 0n ? 1n : target.ip;
    const local = request.localAddress === undefined ? undefined : tcpAddressOf(request.localAddress);
    // The wildcard of either family lets the route choose the source (MUST-44).
    const localIp = local === undefined || local.ip === 0 || local.ip === 0n ? undefined : local.ip;
    if (localIp !== undefined && typeof localIp !== typeof remote) {
      // Linux: an address of the other family than the bound one.
      attempt.onFailed(systemErrorWithAddress('EAFNOSUPPORT', 'connect', request.address, request.port));
      return;
    }
    this.ipv6View =
      target.mapped || (local?.mapped ?? false) || (local?.ip === 0n && typeof remote === 'number');
    let connection: TcpConnection;
    try {
      connection = this.context.tcp.connect({
        remoteAddress: remote,
        remotePort: request.port,
        localAddress: localIp,
        localPort: request.localPort,
        config: this.context.options.tcp,
      });
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'EINVAL';
      attempt.onFailed(systemErrorWithAddress(code, 'connect', request.address, request.port));
      return;
    }
    this.request = request;
    this.attempt = attempt;
    this.remoteEndpoint = endpointInfoOf(remote, request.port, this.ipv6View);
    if (connection.state === 'CLOSED') {
      // Failed while sending the SYN, before we could listen for its error.
      this.attempt = undefined;
      const code = connection.error?.code ?? 'ECONNABORTED';
      attempt.onFailed(this.connectError(code, request));
      return;
    }
    this.attach(connection);
  }

  /** Drops the attempt in progress (its timeout passed): the half-open connection is aborted. */
  private abandonAttempt(): void {
    const connection = this.connection;
    this.attempt = undefined;
    if (connection === undefined) return;
    this.detach();
    this.connection = undefined;
    this.localEndpoint = undefined;
    connection.abort(this.context.clock.now());
  }

  /** Node's afterConnect error: with the ' - Local (addr:port)' details when both were asked for. */
  private connectError(code: string, request: ConnectRequest): SystemError {
    const details =
      request.localAddress && request.localPort ? `${request.localAddress}:${request.localPort}` : undefined;
    const error = systemErrorWithAddress(code, 'connect', request.address, request.port, details);
    if (details !== undefined) {
      (error as SystemError & { localAddress?: string; localPort?: number }).localAddress =
        request.localAddress;
      (error as SystemError & { localAddress?: string; localPort?: number }).localPort = request.localPort;
    }
    return error;
  }

  private connectFailed(error: Error): void {
    if (this.destroyed) return;
    this.destroy(error);
  }

  /**
   * @internal Server side: takes over a connection a listener accepted (already established).
   * `paused` implements the server's pauseOnConnect.
   */
  adopt(connection: TcpConnection, paused: boolean, ipv6View = false, handle?: TcpHandle): void {
    this.ipv6View = ipv6View;
    this.loopHandle ??= this.context.holds.open();
    if (handle !== undefined) {
      handle.rebind(this.handleBinding());
      this.handleObject = handle;
    }
    this.attach(connection);
    this.applySocketOptions();
    if (paused) this.pause();
    else if (this.onread !== undefined) this.pull();
    else this.read(0);
    this.updateActivity();
  }

  private attach(connection: TcpConnection): void {
    this.connection = connection;
    if (this.endpointsOf !== undefined) this.makeEndpoints();
    this.endpointsOf = connection;
    this.attached = true;
    connection.observe(this);
  }

  private detach(): void {
    const connection = this.connection;
    // The endpoints stay readable once the connection is gone (as Node's cached names do).
    if (this.endpointsOf !== undefined) this.makeEndpoints();
    if (connection === undefined || !this.attached) return;
    this.attached = false;
    connection.observe(undefined);
  }

  /**
   * @internal The connection's stream events (TcpStreamObserver): 'readable', 'end' and 'closed' all
   * pull. What the application's listeners throw is surfaced outside the stack's call chain.
   */
  streamEvent(event: TcpStreamEvent, error?: TcpError): void {
    try {
      switch (event) {
        case 'connected':
          this.onConnected();
          return;
        case 'drain':
          this.continueBlockedWrite();
          return;
        case 'error':
          this.onConnectionError(error!);
          return;
        default:
          this.pull();
      }
    } catch (thrown) {
      surface(thrown);
    }
  }

  /** Once connected, the options asked for before go to the handle (Node's afterConnect). */
  private applySocketOptions(): void {
    if (this.noDelayWanted) this.handleSetNoDelay(true);
    if (this.keepAliveWanted) this.handleSetKeepAlive(true, this.keepAliveDelaySeconds);
  }

  /**
   * @internal A server's noDelay/keepAlive options on an accepted socket, applied through its handle as
   * Node's onconnection does (`keepAliveDelaySeconds` in whole seconds).
   */
  acceptOptions(noDelay: boolean, keepAlive: boolean, keepAliveDelaySeconds: number): void {
    if (noDelay && this.handleHas('setNoDelay')) {
      this.noDelayWanted = true;
      this.handleSetNoDelay(true);
    }
    if (keepAlive && this.handleHas('setKeepAlive')) {
      this.keepAliveWanted = true;
      this.keepAliveDelaySeconds = keepAliveDelaySeconds;
      this.handleSetKeepAlive(true, keepAliveDelaySeconds);
    }
  }

  /** Whether `_handle` is not null (without making the socket's own handle). */
  private hasHandle(): boolean {
    return this.handleObject !== undefined ? this.handleObject !== null : this.loopHandle !== undefined;
  }

  /** Whether `_handle` exists and has the method (the socket's own handle has them all). */
  private handleHas(method: 'setNoDelay' | 'setKeepAlive'): boolean {
    const handle = this.handleObject;
    if (handle === undefined) return this.loopHandle !== undefined;
    return handle !== null && typeof (handle as Record<string, unknown>)[method] === 'function';
  }

  // Node calls these through `_handle`, so a replaced method sees each call; the socket's own handle,
  // never read, is skipped and the connection set directly.
  private handleSetNoDelay(enable: boolean): void {
    const handle = this.handleObject;
    if (handle === undefined) {
      const connection = this.connection;
      if (connection !== undefined && connection.state !== 'CLOSED') {
        connection.setNoDelay(enable, this.context.clock.now());
      }
      return;
    }
    if (handle !== null && typeof handle.setNoDelay === 'function') handle.setNoDelay(enable);
  }

  private handleSetKeepAlive(enable: boolean, seconds: number): void {
    const handle = this.handleObject;
    if (handle === undefined) {
      const connection = this.connection;
      if (connection !== undefined && connection.state !== 'CLOSED') {
        connection.setKeepAlive(enable, this.context.clock.now(), seconds > 0 ? seconds * 1000 : undefined);
      }
      return;
    }
    if (handle !== null && typeof handle.setKeepAlive === 'function') handle.setKeepAlive(enable, seconds);
  }

  private onConnected(): void {
    if (!this.connecting) return;
    const attempt = this.attempt;
    this.attempt = undefined;
    this.connecting = false;
    attempt?.onConnected();
    this.touch();
    this.applySocketOptions();
    this.emit('connect');
    this.emit('ready');
    if (!this.destroyed && this.readable) {
      if (this.onread !== undefined) this.pull();
      else if (!this.isPaused()) this.read(0);
    }
    this.updateActivity();
  }

  private onConnectionError(error: TcpError): void {
    if (this.destroyed) return;
    const attempt = this.attempt;
    if (this.connecting && attempt !== undefined && this.request !== undefined) {
      // The handshake failed: the attempt decides (another address may be tried).
      const request = this.request;
      this.detach();
      this.connection = undefined;
      this.localEndpoint = undefined;
      this.attempt = undefined;
      attempt.onFailed(this.connectError(error.code, request));
      return;
    }
    this.connecting = false;
    this.destroy(systemError(error.code, 'read'));
  }

  // -------------------------------------------------------------------------------------------------
  // Reading: pull from the TCP receive buffer only while the stream wants data.

  override _read(): void {
    if (this.handleClosed) {
      // libuv refuses to start reading on a closed handle (Node's tryReadStart: 'read EINVAL').
      this.destroy(systemError('EINVAL', 'read'));
      return;
    }
    this.reading = true;
    this.updateActivity();
    if (this.connection !== undefined && !this.connecting) this.pull();
  }

  /** With onread, pause() stops reading at once (Node's readStop), even inside the callback. */
  override pause(): this {
    if (this.onread !== undefined && !this.connecting && this.connection !== undefined) {
      this.onreadStopped = true;
      this.updateActivity();
    }
    return super.pause();
  }

  /** With onread, reading restarts here after the callback returned false (as Node's resume). */
  override resume(): this {
    if (this.onread !== undefined && this.onreadStopped && !this.connecting) {
      this.onreadStopped = false;
      this.updateActivity();
      super.resume();
      this.pull();
      return this;
    }
    return super.resume();
  }

  private pull(): void {
    // push() and read(0) below may call _read() synchronously, which lands here again: the loop already
    // running picks up the renewed demand (this.reading), so a nested call has nothing to do. (Connection
    // events never arrive during receive(): a connection delivers them only from its outermost call.)
    if (this.pulling) return;
    const connection = this.connection;
    if (connection === undefined || this.connecting) return;
    this.pulling = true;
    try {
      if (this.onread !== undefined) this.pullIntoBuffer(connection);
      else this.pullIntoStream(connection);
    } finally {
      this.pulling = false;
    }
  }

  private pullIntoStream(connection: TcpConnection): void {
    while (this.reading && !this.destroyed && this.connection === connection) {
      if (connection.error !== undefined) return; // the 'error' event destroys the socket
      const data = connection.receiveChunk(this.context.clock.now(), READ_CHUNK, allocateChunk);
      if (data === null) {
        this.reading = false;
        this.eofReceived = true;
        this.updateActivity();
        this.push(null);
        // As Node on EOF: with nothing left buffered, 'end' is emitted even if nobody is reading.
        this.read(0);
        return;
      }
      if (data.length === 0) return;
      this.received += data.length;
      this.touch();
      // A large segment comes as the view it arrived in (no copy): wrapping it copies nothing either.
      const chunk =
        data instanceof Buffer ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      if (!this.push(chunk)) {
        // The stream's buffer is full: TCP keeps the rest (and closes its window), as readStop() does.
        this.reading = false;
        this.updateActivity();
      }
    }
  }

  /** onread: fill the application's buffer and call its callback, until it returns false. */
  private pullIntoBuffer(connection: TcpConnection): void {
    const onread = this.onread!;
    while (!this.onreadStopped && !this.destroyed && this.connection === connection) {
      if (connection.error !== undefined) return;
      // A buffer is asked for only when there is something to read (bytes, or the end): as libuv
      // allocates one per read, the end included.
      const idle =
        connection.readableLength === 0 && !connection.readableEnded && connection.state !== 'CLOSED';
      if (idle) return;
      const buffer = typeof onread.buffer === 'function' ? onread.buffer() : onread.buffer;
      const count = connection.receiveInto(buffer, this.context.clock.now());
      if (count < 0) {
        this.eofReceived = true;
        this.updateActivity();
        this.push(null);
        this.read(0);
        return;
      }
      if (count === 0) return;
      this.received += count;
      this.touch();
      if (onread.callback.call(this, count, buffer) === false) {
        this.onreadStopped = true;
        this.updateActivity();
        super.pause();
      }
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Writing: complete a write once TCP took every byte of it.

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.connecting || (this.connection !== undefined && !this.attached)) {
      // connect() is still under way: hold the chunk until the connection is established (Node's
      // _pendingData, which bytesWritten counts); if the socket closes first the write fails as Node's.
      this.dispatched += chunk.length;
      this.waitingWrite = { data: chunk, callback };
      this.updateActivity();
      // Written out by a 'connect' listener, as Node does: listeners registered before this write (the
      // one connect() was given) run first.
      if (this.connecting) this.once('connect', this.flushWaitingWrite);
      return;
    }
    if (this.handleObject === null || (this.connection === undefined && !this.handleClosed)) {
      callback(nodeError('ERR_SOCKET_CLOSED', 'Socket is closed'));
      return;
    }
    if (this.handleClosed) {
      // The application closed the handle: libuv's write on it fails (Node's errnoException).
      callback(systemError('EBADF', 'write'));
      return;
    }
    this.dispatched += chunk.length;
    this.touch();
    this.writeToConnection(chunk, callback);
  }

  /** Corked or queued chunks go to TCP as one write, as Node's `_writev` hands them to writev(2). */
  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    callback: (error?: Error | null) => void,
  ): void {
    const data = chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((entry) => entry.chunk));
    this._write(data, 'buffer' as BufferEncoding, callback);
  }

  /** Sends the chunk written while connecting (a 'connect' listener; nothing if it was dropped). */
  private flushWaitingWrite(): void {
    const waiting = this.waitingWrite;
    if (waiting === undefined || this.connection === undefined) return;
    this.waitingWrite = undefined;
    this.writeToConnection(waiting.data, waiting.callback);
    this.updateActivity();
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
    this.updateActivity();
  }

  private continueBlockedWrite(): void {
    const blocked = this.blockedWrite;
    if (blocked === undefined || this.connection === undefined) return;
    this.blockedWrite = undefined;
    this.writeToConnection(blocked.data, blocked.callback);
    this.updateActivity();
  }

  /**
   * Whether the socket has work under way, as libuv counts a TCP handle active: connecting, reading
   * (the stream wants data and the peer's FIN has not come), or a write not yet taken by TCP. A socket
   * with none of these — paused before any read, its buffer full, or done — holds the process no more
   * than Node's does (its handle is inactive then), even while ref'd.
   */
  private updateActivity(): void {
    const reading = !this.eofReceived && (this.onread !== undefined ? !this.onreadStopped : this.reading);
    const busy =
      !this.lookingUp &&
      (this.connecting || reading || this.blockedWrite !== undefined || this.waitingWrite !== undefined);
    this.loopHandle?.setActive(busy);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.connecting) {
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
    this.attempt = undefined;
    this.clearIdleTimer();
    const waiting = this.waitingWrite;
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
    const handle = this.loopHandle;
    this.loopHandle = undefined;
    // Node drops its handle here (`_handle` is null from now on).
    this.handleObject = undefined;
    callback(error);
    if (waiting !== undefined) {
      waiting.callback(
        nodeError(
          'ERR_SOCKET_CLOSED_BEFORE_CONNECTION',
          'Socket closed before the connection was established',
        ),
      );
    }
    if (handle !== undefined) {
      // Node emits 'close' when the handle has closed: a loop iteration later, after 'error' (a nextTick).
      // The handle holds the event loop until then.
      const hadError = error !== null && error !== undefined;
      setImmediate(() => {
        handle.close();
        this.emit('close', hadError);
      });
    } else {
      process.nextTick(() => this.emit('close'));
    }
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

  /** Node's internal reset: destroy with a RST instead of a FIN (what resetAndDestroy() ends in). */
  _reset(): this {
    this.resetOnDestroy = true;
    return this.destroy();
  }

  private resetNow(): void {
    this.resetOnDestroy = true;
    this.destroy();
  }

  // -------------------------------------------------------------------------------------------------
  // Socket options, the idle timeout and the event-loop handle.

  /** Emits 'timeout' after `msecs` ms without reads or writes (0 disables). The socket stays open. */
  setTimeout(msecs: number, callback?: () => void): this {
    if (this.destroyed) return this;
    this.timeout = msecs;
    validateNumber(msecs, 'msecs');
    if (msecs < 0 || !Number.isFinite(msecs)) {
      throw outOfRange('msecs', 'a non-negative finite number', msecs);
    }
    this.clearIdleTimer();
    if (msecs === 0) {
      if (callback !== undefined) {
        validateFunction(callback, 'callback');
        this.removeListener('timeout', callback);
      }
      return this;
    }
    this.lastActivity = this.context.clock.now();
    this.armIdleTimer(msecs);
    if (callback !== undefined) {
      validateFunction(callback, 'callback');
      this.once('timeout', callback);
    }
    return this;
  }

  /** Nagle's algorithm off (true, the default argument) or on. */
  setNoDelay(enable?: boolean): this {
    const noDelay = Boolean(enable === undefined ? true : enable);
    if (!this.hasHandle()) {
      this.noDelayWanted = noDelay;
      return this;
    }
    if (this.handleHas('setNoDelay') && noDelay !== this.noDelayWanted) {
      this.noDelayWanted = noDelay;
      this.handleSetNoDelay(noDelay);
    }
    return this;
  }

  /**
   * Keepalive probes on or off; `initialDelay` (ms) is the idle time before the first probe, in whole
   * seconds as Node passes it to the kernel (0: the stack's default).
   */
  setKeepAlive(enable?: boolean, initialDelay?: number): this {
    const on = Boolean(enable);
    const seconds = ~~((initialDelay ?? 0) / 1000);
    if (!this.hasHandle()) {
      this.keepAliveWanted = on;
      this.keepAliveDelaySeconds = seconds;
      return this;
    }
    if (!this.handleHas('setKeepAlive')) return this;
    if (on !== this.keepAliveWanted || (on && seconds !== this.keepAliveDelaySeconds)) {
      this.keepAliveWanted = on;
      this.keepAliveDelaySeconds = seconds;
      this.handleSetKeepAlive(on, seconds);
    }
    return this;
  }

  /**
   * Keeps the process alive while the socket is open (the default). On a stack running in real time this
   * holds Node's event loop as a kernel socket's handle does; on virtual time it is recorded only.
   * Before connect() it applies once connected, as in Node.
   */
  ref(): this {
    if (this.loopHandle === undefined) {
      this.once('connect', this.ref);
      return this;
    }
    this.loopHandle.ref();
    return this;
  }

  /** Lets the process exit while the socket is open (see ref()). */
  unref(): this {
    if (this.loopHandle === undefined) {
      this.once('connect', this.unref);
      return this;
    }
    this.loopHandle.unref();
    return this;
  }

  /** Node's idle-timer expiry: emits 'timeout' (libraries call it to force one). */
  _onTimeout(): void {
    this.emit('timeout');
  }

  /** Node's internal timer refresh, called by libraries (http) on activity. */
  _unrefTimer(): void {
    this.touch();
  }

  /** Records activity for the idle timeout; re-arms it if it had fired. */
  private touch(): void {
    if (this.timeout === undefined || this.timeout === 0) return;
    this.lastActivity = this.context.clock.now();
    if (this.idleTimer === undefined && !this.destroyed) this.armIdleTimer(this.timeout);
  }

  private armIdleTimer(delay: number): void {
    this.idleTimer = this.context.clock.setTimer(delay, () => {
      this.idleTimer = undefined;
      const timeout = this.timeout;
      if (timeout === undefined || timeout === 0 || this.destroyed) return;
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

/** getaddrinfo's AI_ADDRCONFIG on Linux, which Node adds to lookups that name no family. */
const ADDRCONFIG = 32;

function socketToDnsFamily(family: unknown): number | undefined {
  if (family === 'IPv4') return 4;
  if (family === 'IPv6') return 6;
  return family as number | undefined;
}

/** A socket carries bytes: Node refuses the object modes of its stream options. */
function rejectObjectMode(settings: Record<string, unknown>): void {
  if (settings.objectMode) {
    throw invalidArgValue('options.objectMode', settings.objectMode, 'is not supported');
  }
  if (settings.readableObjectMode || settings.writableObjectMode) {
    const name = settings.readableObjectMode ? 'readableObjectMode' : 'writableObjectMode';
    throw invalidArgValue(`options.${name}`, settings[name], 'is not supported');
  }
}

/** Node 22's error for an address the socket's blockList holds. */
function ipBlocked(address: string): Error & { code: string } {
  return nodeError('ERR_IP_BLOCKED', `IP(${address}) is blocked by net.BlockList`);
}

/** How Node prints a lookup answer that is not an address in ERR_INVALID_IP_ADDRESS. */
function formatInvalidIp(ip: unknown): string {
  return typeof ip === 'string' ? ip : inspect(ip);
}

function invalidAddressFamily(family: unknown, host: string, port: number): Error {
  const error = nodeError(
    'ERR_INVALID_ADDRESS_FAMILY',
    `Invalid address family: ${family} ${host}:${port}`,
    RangeError,
  );
  return Object.assign(error, { host, port });
}

/**
 * connect(options[, cb]) | connect(port[, host][, cb]) | connect(path[, cb]), as Node's normalizeArgs:
 * a string that is not a number is a path (IPC), which tcpts refuses when connecting.
 */
export function normalizeConnectArgs(args: unknown[]): NormalizedArgs {
  let options: SocketConnectOptions = {};
  if (args.length > 0) {
    const first = args[0];
    if (typeof first === 'object' && first !== null) {
      options = first as SocketConnectOptions;
    } else if (isPipeName(first)) {
      (options as { path?: unknown }).path = first;
    } else {
      options.port = first as number;
      if (args.length > 1 && typeof args[1] === 'string') options.host = args[1];
    }
  }
  const last = args[args.length - 1];
  const normalized: NormalizedArgs = [options, typeof last === 'function' ? (last as () => void) : null];
  normalized[NORMALIZED] = true;
  return normalized;
}

/** Node's test: a string that does not read as a non-negative number. */
export function isPipeName(value: unknown): boolean {
  return typeof value === 'string' && !(Number(value) >= 0);
}
