/**
 * A `net` module bound to one tcpts Stack: the same functions and classes as Node's `net`, with sockets
 * that run over the stack's TCP instead of the kernel's.
 *
 *   const net = createNetApi(stack);
 *   net.createServer((socket) => socket.pipe(socket)).listen(7);
 *   const socket = net.connect(7, '10.0.0.2', () => socket.end('hello'));
 */
import { BlockList, SocketAddress } from 'node:net';
import type { Stack } from '../../stack.js';
import { tcpLayerOf } from '../tcp-layer-of-stack.js';
import { isIP, isIPv4, isIPv6 } from './is-ip.js';
import type { NetApiOptions, NetContext } from './net-context.js';
import { Server, type ServerOptions } from './server.js';
import { normalizeConnectArgs, Socket, type SocketConnectOptions, type SocketOptions } from './socket.js';

export interface NetApi {
  /** The stack this module's sockets use. */
  readonly stack: Stack;
  /** `new net.Socket(options)`, then `socket.connect(...)`. */
  readonly Socket: new (
    options?: SocketOptions,
  ) => Socket;
  readonly Server: new (
    options?: ServerOptions | ((socket: Socket) => void),
    connectionListener?: (socket: Socket) => void,
  ) => Server;
  createServer(options?: ServerOptions, connectionListener?: (socket: Socket) => void): Server;
  createServer(connectionListener?: (socket: Socket) => void): Server;
  connect(options: SocketConnectOptions, connectionListener?: () => void): Socket;
  connect(port: number | string, host?: string, connectionListener?: () => void): Socket;
  connect(port: number | string, connectionListener?: () => void): Socket;
  createConnection(options: SocketConnectOptions, connectionListener?: () => void): Socket;
  createConnection(port: number | string, host?: string, connectionListener?: () => void): Socket;
  createConnection(port: number | string, connectionListener?: () => void): Socket;
  isIP(input: unknown): 0 | 4 | 6;
  isIPv4(input: unknown): boolean;
  isIPv6(input: unknown): boolean;
  /** Node's own address utilities (they touch no socket). */
  readonly BlockList: typeof BlockList;
  readonly SocketAddress: typeof SocketAddress;
  /** Node's old name for Socket. */
  readonly Stream: new (
    options?: SocketOptions,
  ) => Socket;
  /** A single address family: there is nothing to select (always false; setting it has no effect). */
  getDefaultAutoSelectFamily(): boolean;
  setDefaultAutoSelectFamily(value: boolean): void;
  getDefaultAutoSelectFamilyAttemptTimeout(): number;
  setDefaultAutoSelectFamilyAttemptTimeout(value: number): void;
}

/** A `net` module over `stack`. Options: host names to resolve, a lookup function, TCP settings. */
export function createNetApi(stack: Stack, options: NetApiOptions = {}): NetApi {
  const context: NetContext = { stack, tcp: tcpLayerOf(stack), clock: stack.clock, options };

  class StackSocket extends Socket {
    constructor(socketOptions?: SocketOptions) {
      super(context, socketOptions);
    }
  }

  const createSocket = (socketOptions: SocketOptions): Socket => new StackSocket(socketOptions);

  class StackServer extends Server {
    constructor(
      serverOptions?: ServerOptions | ((socket: Socket) => void),
      connectionListener?: (socket: Socket) => void,
    ) {
      if (typeof serverOptions === 'function') super(context, createSocket, {}, serverOptions);
      else super(context, createSocket, serverOptions ?? {}, connectionListener);
    }
  }

  function connect(...args: unknown[]): Socket {
    const [connectOptions, listener] = normalizeConnectArgs(args);
    const socket = new StackSocket(connectOptions);
    return socket.connect(connectOptions, listener);
  }

  function createServer(
    serverOptions?: ServerOptions | ((socket: Socket) => void),
    connectionListener?: (socket: Socket) => void,
  ): Server {
    return new StackServer(serverOptions, connectionListener);
  }

  return {
    stack,
    Socket: StackSocket,
    Server: StackServer,
    createServer,
    connect: connect as NetApi['connect'],
    createConnection: connect as NetApi['createConnection'],
    isIP,
    isIPv4,
    isIPv6,
    BlockList,
    SocketAddress,
    Stream: StackSocket,
    getDefaultAutoSelectFamily: () => false,
    setDefaultAutoSelectFamily: () => {},
    getDefaultAutoSelectFamilyAttemptTimeout: () => 250,
    setDefaultAutoSelectFamilyAttemptTimeout: () => {},
  };
}
