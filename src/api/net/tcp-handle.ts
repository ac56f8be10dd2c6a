/**
 * `socket._handle` and `server._handle`: objects with the members of Node's TCP handle (libuv's TCPWrap)
 * that Node's `net` and libraries call — ref/unref/hasRef, getAsyncId, fd, setNoDelay/setKeepAlive,
 * getsockname/getpeername, readStart/readStop, close, and a server handle's `onconnection`. `net.Socket`
 * and `net.Server` go through these members where Node's do (setNoDelay, setKeepAlive, accepting), so an
 * application that wraps one (as Node's own tests do) sees the same calls with the same arguments.
 *
 * They are views over the socket's TCP connection and its event-loop hold, not stream handles: they
 * have no `isStreamBase` (Node's http then reads the socket as a stream, as for any JavaScript socket),
 * no writeBuffer/writev/shutdown requests, and `fd` is -1 (there is no file descriptor).
 */
import { AsyncResource } from 'node:async_hooks';
import type { TcpConnection } from '../../tcp/connection.js';
import type { LoopHandle } from '../event-loop-hold.js';
import { errnoNumber } from '../system-errors-node.js';

/** `{ address, family, port }` as getsockname/getpeername fill it. */
export interface HandleAddress {
  address: string;
  family: string;
  port: number;
}

/** What a handle reaches of its socket (or, for a server handle, of its server). */
export interface TcpHandleBinding {
  /** The connection behind the handle, while there is one. */
  connection(): TcpConnection | undefined;
  now(): number;
  /** The event-loop hold the handle stands for (undefined once released). */
  hold(): LoopHandle | undefined;
  /** The local or remote end as Node reports it, or undefined while there is none. */
  endpoint(which: 'local' | 'remote'): HandleAddress | undefined;
  /** The application closed the handle (uv_close): the connection is given up. */
  close(): void;
  /** Reading from the connection starts or stops (uv_read_start / uv_read_stop). */
  readStart(): void;
  readStop(): void;
}

/** The members shared by socket and server handles (libuv's HandleWrap). */
abstract class HandleBase {
  /** There is no file descriptor behind a tcpts handle. */
  readonly fd = -1;
  /** The handle's async id, as Node's getAsyncId() answers it (its async_hooks resource). */
  readonly #resource: AsyncResource;
  #closed = false;

  protected constructor(type: string) {
    this.#resource = new AsyncResource(type);
  }

  protected abstract loopHold(): LoopHandle | undefined;
  protected abstract closeNow(): void;

  getAsyncId(): number {
    return this.#resource.asyncId();
  }

  /** The id of the resource that was running when the handle was made (Node's getTriggerAsyncId). */
  getTriggerAsyncId(): number {
    return this.#resource.triggerAsyncId();
  }

  ref(): void {
    this.loopHold()?.ref();
  }

  unref(): void {
    this.loopHold()?.unref();
  }

  hasRef(): boolean {
    return !this.#closed && (this.loopHold()?.hasRef() ?? false);
  }

  /** uv_close: a second close does nothing; `callback` runs a loop iteration later, as libuv's. */
  close(callback?: () => void): void {
    if (this.#closed) return;
    this.#closed = true;
    this.closeNow();
    if (typeof callback === 'function') setImmediate(callback);
  }

  /** @internal Whether close() was called. */
  get closed(): boolean {
    return this.#closed;
  }
}

/** A connection's handle (`socket._handle`). */
export class TcpHandle extends HandleBase {
  /** Set by net.Socket while it reads (Node keeps the same flag on its handle). */
  reading = false;
  #binding: TcpHandleBinding;

  constructor(binding: TcpHandleBinding) {
    super('TCPWRAP');
    this.#binding = binding;
  }

  /** @internal The connection behind the handle (an accepted handle's, before a socket adopts it). */
  get connection(): TcpConnection | undefined {
    return this.#binding.connection();
  }

  /** @internal A socket took the handle over: from now on it answers for the connection. */
  rebind(binding: TcpHandleBinding): void {
    this.#binding = binding;
  }

  protected loopHold(): LoopHandle | undefined {
    return this.#binding.hold();
  }

  protected closeNow(): void {
    this.#binding.close();
  }

  /** Nagle's algorithm off (true) or on; 0, or libuv's EBADF once closed. */
  setNoDelay(enable: boolean): number {
    const connection = this.usable();
    if (connection === undefined) return errnoNumber('EBADF');
    connection.setNoDelay(Boolean(enable), this.#binding.now());
    return 0;
  }

  /** Keepalive on or off; `delaySeconds` is the idle time before the first probe (0: the default). */
  setKeepAlive(enable: boolean, delaySeconds: number): number {
    const connection = this.usable();
    if (connection === undefined) return errnoNumber('EBADF');
    const seconds = Number(delaySeconds) || 0;
    connection.setKeepAlive(Boolean(enable), this.#binding.now(), seconds > 0 ? seconds * 1000 : undefined);
    return 0;
  }

  /** Fills `out` with the local end; 0, or libuv's ENOTCONN/EBADF. */
  getsockname(out: Partial<HandleAddress>): number {
    return this.fill(out, 'local');
  }

  /** Fills `out` with the peer; 0, or libuv's ENOTCONN/EBADF. */
  getpeername(out: Partial<HandleAddress>): number {
    return this.fill(out, 'remote');
  }

  /** 0, or libuv's EINVAL once closed. */
  readStart(): number {
    if (this.closed) return errnoNumber('EINVAL');
    this.#binding.readStart();
    return 0;
  }

  readStop(): number {
    if (this.closed) return errnoNumber('EINVAL');
    this.#binding.readStop();
    return 0;
  }

  /** Bytes written but not yet taken by TCP (libuv's write queue size). */
  get writeQueueSize(): number {
    return 0;
  }

  private usable(): TcpConnection | undefined {
    if (this.closed) return undefined;
    const connection = this.#binding.connection();
    return connection === undefined || connection.state === 'CLOSED' ? undefined : connection;
  }

  private fill(out: Partial<HandleAddress>, which: 'local' | 'remote'): number {
    return fillAddress(out, this.closed, this.#binding.endpoint(which), 'ENOTCONN');
  }
}

/** getsockname/getpeername: `out` filled and 0, or libuv's EBADF (closed) or `missing` (no address). */
function fillAddress(
  out: Partial<HandleAddress>,
  closed: boolean,
  endpoint: HandleAddress | undefined,
  missing: string,
): number {
  if (closed) return errnoNumber('EBADF');
  if (endpoint === undefined) return errnoNumber(missing);
  out.address = endpoint.address;
  out.family = endpoint.family;
  out.port = endpoint.port;
  return 0;
}

/** What a server handle reaches of its server. */
export interface ServerHandleBinding {
  hold(): LoopHandle | undefined;
  endpoint(): HandleAddress | undefined;
  /** What Node's onconnection does with an accepted handle: make the socket, emit 'connection'. */
  accepted(clientHandle: TcpHandle): void;
  close(): void;
}

/**
 * A listening server's handle (`server._handle`). Each accepted connection is handed to
 * `onconnection(err, clientHandle)`, an own property an application may replace and call through, as
 * with Node's.
 */
export class ServerHandle extends HandleBase {
  readonly #binding: ServerHandleBinding;
  onconnection: (error: number | null, clientHandle: TcpHandle) => void;

  constructor(binding: ServerHandleBinding) {
    super('TCPSERVERWRAP');
    this.#binding = binding;
    this.onconnection = function onconnection(this: ServerHandle, _error, clientHandle) {
      this.#binding.accepted(clientHandle);
    };
  }

  protected loopHold(): LoopHandle | undefined {
    return this.#binding.hold();
  }

  protected closeNow(): void {
    this.#binding.close();
  }

  getsockname(out: Partial<HandleAddress>): number {
    return fillAddress(out, this.closed, this.#binding.endpoint(), 'EINVAL');
  }
}
