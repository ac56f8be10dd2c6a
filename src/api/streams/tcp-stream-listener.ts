/**
 * A TCP listener whose connections arrive as a ReadableStream of TcpStreams (no Node built-ins):
 *
 *   const server = listenTcpStreams(stack, { port: 7 });
 *   for await (const conn of server.connections) conn.readable.pipeTo(conn.writable); // echo
 *
 * Connections the application has not taken yet wait in the TCP listener's accept queue, where they
 * count against the backlog (further SYNs are then dropped, as by Linux), rather than piling up in the
 * stream's queue.
 */
import type { Stack } from '../../stack.js';
import type { TcpConnection } from '../../tcp/connection.js';
import { TcpError } from '../../tcp/errors.js';
import type { TcpListener } from '../../tcp/tcp-layer.js';
import { type IpAddress, ipAddressToString } from '../../wire/ipv6-address.js';
import { type HostTable, resolveHostAddress } from '../host-names.js';
import { tcpLayerOf } from '../tcp-layer-of-stack.js';
import {
  TcpConnectionStreams,
  type TcpStream,
  type TcpStreamConnectionOptions,
  type TcpStreamOptions,
} from './tcp-stream.js';

/** Besides where to listen, the options (noDelay, keepAlive, ...) applied to every accepted connection. */
export interface TcpStreamListenerOptions extends TcpStreamConnectionOptions {
  /** Port to listen on; 0 (default) picks an ephemeral port. */
  port?: number;
  /** Local address; default every address of the stack. */
  host?: string;
  hosts?: HostTable;
  /** Handshakes in progress plus connections not yet taken. Default 128. */
  backlog?: number;
  /** Aborting closes the listener. */
  signal?: AbortSignal;
}

export interface TcpStreamListener {
  /** Accepted connections, in arrival order; closes when the listener closes. */
  readonly connections: ReadableStream<TcpStream>;
  readonly localAddress: string;
  readonly localPort: number;
  /** Stops listening; connections not yet taken are reset. Accepted ones are untouched. */
  close(): void;
}

/** Listens on `stack`; throws a TcpError (EADDRINUSE, EADDRNOTAVAIL, EINVAL) when it cannot. */
export function listenTcpStreams(stack: Stack, options: TcpStreamListenerOptions = {}): TcpStreamListener {
  const tcp = tcpLayerOf(stack);
  let address: IpAddress = 0;
  if (options.host !== undefined) {
    const resolved = resolveHostAddress(options.host, options.hosts);
    if (resolved === undefined) throw new TcpError('EINVAL', `cannot resolve host ${options.host}`);
    address = resolved;
  }
  const listener: TcpListener = tcp.listen({ port: options.port ?? 0, address, backlog: options.backlog });
  const streamOptions: Partial<TcpStreamOptions> = {
    noDelay: options.noDelay,
    keepAlive: options.keepAlive,
    keepAliveDelayMs: options.keepAliveDelayMs,
    readableHighWaterMark: options.readableHighWaterMark,
    writableHighWaterMark: options.writableHighWaterMark,
  };
  let controller!: ReadableStreamDefaultController<TcpStream>;
  let stopWaiting: (() => void) | undefined;
  let done = false;
  const wrap = (connection: TcpConnection): TcpStream =>
    new TcpConnectionStreams(tcp, connection, streamOptions, true);

  const finish = (): void => {
    if (done) return;
    done = true;
    stopWaiting?.();
    stopWaiting = undefined;
    try {
      controller.close();
    } catch {
      // cancelled by the reader
    }
  };

  const connections = new ReadableStream<TcpStream>(
    {
      start: (c) => {
        controller = c;
      },
      pull: () => {
        if (done) return undefined;
        // Take from the accept queue while the stream wants more; otherwise wait for the next one.
        const ready = listener.accept();
        if (ready !== undefined) {
          controller.enqueue(wrap(ready));
          return undefined;
        }
        return new Promise<void>((resolve) => {
          const onConnection = (connection: TcpConnection) => {
            listener.off('connection', onConnection);
            stopWaiting = undefined;
            controller.enqueue(wrap(connection));
            resolve();
          };
          listener.on('connection', onConnection);
          stopWaiting = () => {
            listener.off('connection', onConnection);
            resolve();
          };
        });
      },
      cancel: () => {
        done = true;
        stopWaiting?.();
        listener.close();
      },
    },
    // Nothing is taken from the accept queue before the application asks for it.
    { highWaterMark: 0 },
  );

  const close = (): void => {
    listener.close();
    finish();
  };
  listener.on('close', finish);

  const signal = options.signal;
  if (signal !== undefined) {
    if (signal.aborted) close();
    else signal.addEventListener('abort', close, { once: true });
  }
  return {
    connections,
    localAddress: ipAddressToString(listener.address),
    localPort: listener.port,
    close,
  };
}
