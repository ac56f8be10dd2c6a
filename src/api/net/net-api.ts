/**
 * A `net` module bound to one tcpts Stack: the same functions and classes as Node's `net`, with sockets
 * that run over the stack's TCP instead of the kernel's.
 *
 *   const net = createNetApi(stack);
 *   net.createServer((socket) => socket.pipe(socket)).listen(7);
 *   const socket = net.connect(7, '10.0.0.2', () => socket.end('hello'));
 *
 * As in Node, `Socket`, `Server` and `Stream` may be called without `new`.
 */
import type { Stack } from '../../stack.js';
import { type CallableClass, callableClass } from '../callable-class.js';
import { eventLoopHoldsFor } from '../event-loop-hold.js';
import { stackLookup } from '../lookup-node.js';
import { invalidArgValue, validateBoolean, validateInt32 } from '../node-errors.js';
import { tcpLayerOf } from '../tcp-layer-of-stack.js';
import { BlockList } from './block-list.js';
import { isIP, isIPv4, isIPv6 } from './is-ip.js';
import type { NetApiOptions, NetContext } from './net-context.js';
import { Server, type ServerOptions } from './server.js';
import { normalizeConnectArgs, Socket, type SocketConnectOptions, type SocketOptions } from './socket.js';
import { SocketAddress } from './socket-address.js';

export interface NetApi {
  /** The stack this module's sockets use. */
  readonly stack: Stack;
  /** `new net.Socket(options)` (or `net.Socket(options)`), then `socket.connect(...)`. */
  readonly Socket: CallableClass<new (options?: SocketOptions) => Socket>;
  readonly Server: CallableClass<
    new (
      options?: ServerOptions | ((socket: Socket) => void),
      connectionListener?: (socket: Socket) => void,
    ) => Server
  >;
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
  /** Address rules (servers' and sockets' `blockList` option) and validated addresses, as Node's. */
  readonly BlockList: typeof BlockList;
  readonly SocketAddress: typeof SocketAddress;
  /** Node's old name for Socket. */
  readonly Stream: CallableClass<new (options?: SocketOptions) => Socket>;
  /** Whether connect() tries every address a lookup answers (Node's default: true). */
  getDefaultAutoSelectFamily(): boolean;
  setDefaultAutoSelectFamily(value: boolean): void;
  /** How long (ms, at least 10) each of those attempts has before the next starts (default 250). */
  getDefaultAutoSelectFamilyAttemptTimeout(): number;
  setDefaultAutoSelectFamilyAttemptTimeout(value: number): void;
  /** Node's argument normalizer for connect()/listen() forms (used by some libraries). */
  _normalizeArgs(args: unknown[]): unknown[];
  /** A no-op in Node on every platform but Windows (with a DEP0121 warning, once); kept for libraries. */
  _setSimultaneousAccepts(handle: unknown): void;
  /** Node's internal handle factory: tcpts has no handles (throws ERR_INVALID_ARG_VALUE). */
  _createServerHandle(...args: unknown[]): never;
}

/** A `net` module over `stack`. Options: host names to resolve, a lookup function, TCP settings. */
export function createNetApi(stack: Stack, options: NetApiOptions = {}): NetApi {
  const context: NetContext = {
    stack,
    tcp: tcpLayerOf(stack),
    clock: stack.clock,
    options,
    lookup: stackLookup(options.hosts, options.lookup),
    holds: eventLoopHoldsFor(stack.clock),
    defaults: { autoSelectFamily: true, autoSelectFamilyAttemptTimeout: 250 },
  };

  class StackSocket extends Socket {
    constructor(socketOptions?: SocketOptions) {
      super(context, socketOptions);
    }
  }
  const SocketClass = callableClass(StackSocket);

  const createSocket = (socketOptions: SocketOptions): Socket => new StackSocket(socketOptions);

  class StackServer extends Server {
    constructor(
      serverOptions?: ServerOptions | ((socket: Socket) => void),
      connectionListener?: (socket: Socket) => void,
    ) {
      super(context, createSocket, serverOptions, connectionListener);
    }
  }
  const ServerClass = callableClass(StackServer);

  function connect(...args: unknown[]): Socket {
    const normalized = normalizeConnectArgs(args);
    const [connectOptions] = normalized;
    const socket = new StackSocket(connectOptions);
    if (connectOptions.timeout) socket.setTimeout(connectOptions.timeout);
    return socket.connect(normalized as never);
  }

  function createServer(
    serverOptions?: ServerOptions | ((socket: Socket) => void),
    connectionListener?: (socket: Socket) => void,
  ): Server {
    return new StackServer(serverOptions, connectionListener);
  }

  return {
    stack,
    Socket: SocketClass,
    Server: ServerClass,
    createServer,
    connect: connect as NetApi['connect'],
    createConnection: connect as NetApi['createConnection'],
    isIP,
    isIPv4,
    isIPv6,
    BlockList,
    SocketAddress,
    Stream: SocketClass,
    getDefaultAutoSelectFamily: () => context.defaults.autoSelectFamily,
    setDefaultAutoSelectFamily(value: boolean) {
      validateBoolean(value, 'value');
      context.defaults.autoSelectFamily = value;
    },
    getDefaultAutoSelectFamilyAttemptTimeout: () => context.defaults.autoSelectFamilyAttemptTimeout,
    setDefaultAutoSelectFamilyAttemptTimeout(value: number) {
      validateInt32(value, 'value', 1);
      context.defaults.autoSelectFamilyAttemptTimeout = Math.max(10, value);
    },
    _normalizeArgs: (args) => normalizeConnectArgs(args),
    _setSimultaneousAccepts: warnSimultaneousAccepts,
    _createServerHandle(...args: unknown[]): never {
      throw invalidArgValue('handle', args[0], 'is not supported by tcpts (no handles)');
    },
  };
}

let warnedSimultaneousAccepts = false;

/** Node's `_setSimultaneousAccepts` off Windows: nothing to do but warn (once per process, as Node). */
function warnSimultaneousAccepts(): void {
  if (warnedSimultaneousAccepts) return;
  warnedSimultaneousAccepts = true;
  process.emitWarning(
    'net._setSimultaneousAccepts() is deprecated and will be removed.',
    'DeprecationWarning',
    'DEP0121',
  );
}
