/**
 * The WinterTC Sockets API (`connect()` returning `{ readable, writable, opened, closed, close() }`, as in
 * Cloudflare Workers and other WinterTC runtimes) over a tcpts stack, in browsers and Node alike:
 *
 *   const { connect } = socketsApi(stack);
 *   const socket = connect({ hostname: '10.0.2.2', port: 80 });   // or connect('10.0.2.2:80')
 *   const writer = socket.writable.getWriter();
 *   await writer.write(new TextEncoder().encode('GET / HTTP/1.0\r\n\r\n'));
 *   for await (const chunk of socket.readable) ...
 *
 * What the specification asks and tcpts does:
 * - `connect` validates its arguments synchronously: a malformed address or port is a TypeError thrown
 *   at once; connection failures (refused, unreachable, timed out) reject `opened` and `closed`, and
 *   error both streams.
 * - `secureTransport` must be 'off' (tcpts has no TLS): 'on' or 'starttls' throw a TypeError saying so.
 * - `allowHalfOpen` false (the default): when the readable side ends (the peer's FIN), the writable
 *   side is closed too; true keeps it writable.
 * - `opened` resolves with `{ remoteAddress, localAddress }` ('a.b.c.d:port'); `close()` closes both
 *   directions and returns `closed`.
 * Flow control is TCP's: see openTcpStream.
 */
import type { Stack } from '../../stack.js';
import type { HostTable } from '../host-names.js';
import { openTcpStream, type TcpStream } from '../streams/tcp-stream.js';

export interface SocketAddress {
  hostname: string;
  port: number;
}

export interface SocketOptions {
  secureTransport?: 'off' | 'on' | 'starttls';
  allowHalfOpen?: boolean;
}

export interface SocketInfo {
  remoteAddress?: string;
  localAddress?: string;
}

export interface Socket {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly opened: Promise<SocketInfo>;
  readonly closed: Promise<void>;
  readonly upgraded: boolean;
  readonly secureTransport: 'off';
  close(reason?: unknown): Promise<void>;
  startTls(): Socket;
}

export interface SocketsApi {
  connect(address: SocketAddress | string, options?: SocketOptions): Socket;
}

export interface SocketsApiOptions {
  /** Names `connect` may be given, e.g. `{ 'server.test': '10.0.0.2' }`. */
  hosts?: HostTable;
}

function parseAddress(address: SocketAddress | string): SocketAddress {
  if (typeof address === 'string') {
    const colon = address.lastIndexOf(':');
    if (colon <= 0) throw new TypeError(`address must be "hostname:port", got "${address}"`);
    return { hostname: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
  }
  if (address === null || typeof address !== 'object')
    throw new TypeError('address must be a string or { hostname, port }');
  return address;
}

export function socketsApi(stack: Stack, apiOptions: SocketsApiOptions = {}): SocketsApi {
  return {
    connect(addressInput, options = {}) {
      const address = parseAddress(addressInput);
      if (typeof address.hostname !== 'string' || address.hostname === '')
        throw new TypeError('hostname must be a non-empty string');
      if (!Number.isInteger(address.port) || address.port < 1 || address.port > 65535)
        throw new TypeError(`port must be an integer from 1 to 65535, got ${String(address.port)}`);
      const secureTransport = options.secureTransport ?? 'off';
      if (secureTransport !== 'off') {
        throw new TypeError(`secureTransport '${secureTransport}' is not supported: tcpts has no TLS`);
      }
      // An unknown name is a connection failure (`opened` rejects), not an argument error.
      const tcp = openTcpStream(stack, {
        host: address.hostname,
        port: address.port,
        hosts: apiOptions.hosts,
      });
      return new TcpSocket(tcp, options.allowHalfOpen === true);
    },
  };
}

class TcpSocket implements Socket {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly opened: Promise<SocketInfo>;
  readonly closed: Promise<void>;
  readonly upgraded = false;
  readonly secureTransport = 'off' as const;
  private readonly inner: WritableStreamDefaultWriter<Uint8Array>;
  private writableClosed = false;

  constructor(
    private readonly tcp: TcpStream,
    allowHalfOpen: boolean,
  ) {
    this.opened = tcp.opened.then((e) => ({
      remoteAddress: `${e.remoteAddress}:${e.remotePort}`,
      localAddress: `${e.localAddress}:${e.localPort}`,
    }));
    this.closed = tcp.closed;
    // Unhandled rejections are the caller's to see on `opened`/`closed`; these copies must not warn.
    this.opened.catch(() => {});
    this.closed.catch(() => {});
    this.inner = tcp.writable.getWriter();
    const inner = this.inner;
    this.writable = new WritableStream<Uint8Array>(
      {
        write: (chunk) => {
          if (this.writableClosed) throw new TypeError('the socket is closed for writing');
          return inner.write(chunk);
        },
        close: () => this.closeWritable(),
        abort: () => {
          tcp.reset();
        },
      },
      { highWaterMark: 0 },
    );
    if (allowHalfOpen) this.readable = tcp.readable;
    else {
      // allowHalfOpen false: the end of the peer's data closes our writing side as well.
      this.readable = tcp.readable.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          flush: () => this.closeWritable(),
        }),
      );
    }
  }

  close(): Promise<void> {
    this.writableClosed = true;
    this.tcp.close();
    return this.closed;
  }

  startTls(): Socket {
    throw new TypeError('startTls is not supported: tcpts has no TLS');
  }

  private async closeWritable(): Promise<void> {
    if (this.writableClosed) return;
    this.writableClosed = true;
    await this.inner.close().catch(() => {});
  }
}
