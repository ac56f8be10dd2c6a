/**
 * A `dgram` module bound to one tcpts Stack (udp4 only):
 *
 *   const dgram = createDgramApi(stack);
 *   const socket = dgram.createSocket('udp4', (msg, rinfo) => socket.send(msg, rinfo.port, rinfo.address));
 *   socket.bind(53);
 */
import type { Stack } from '../../stack.js';
import { type CallableClass, callableClass } from '../callable-class.js';
import { eventLoopHoldsFor } from '../event-loop-hold.js';
import type { HostTable, LookupFunction } from '../host-names.js';
import { stackLookup } from '../lookup-node.js';
import { invalidArgValue, nodeError, validateFunction, validateUint32 } from '../node-errors.js';
import { type DgramContext, type DgramSocketOptions, type RemoteInfo, Socket } from './socket.js';

export interface DgramApiOptions {
  /** Host names resolved without a lookup function, e.g. `{ 'dns.test': '10.0.0.53' }`. */
  hosts?: HostTable;
  /** Default resolver for other names (Node's `dns.lookup` signature). */
  lookup?: LookupFunction;
  /**
   * Asked when a socket is created without a `lookup` option: a function answered here resolves every
   * address of that socket instead of the stack's names (undefined: the stack's). Node's dgram takes
   * `dns.lookup` as it stands at that moment; the stand-in module (node-builtins) answers a program's
   * replacement of it, so the program sees the calls Node would make.
   */
  socketLookup?: () => LookupFunction | undefined;
}

export interface DgramApi {
  readonly stack: Stack;
  /** `new dgram.Socket(type)` or `dgram.Socket(type)`, as Node's. */
  readonly Socket: CallableClass<
    new (
      options: DgramSocketOptions | 'udp4' | 'udp6',
      messageListener?: (msg: Buffer, rinfo: RemoteInfo) => void,
    ) => Socket
  >;
  createSocket(
    type: 'udp4' | 'udp6' | DgramSocketOptions,
    messageListener?: (msg: Buffer, rinfo: RemoteInfo) => void,
  ): Socket;
  /** Node's internal handle factory: tcpts has no handles (throws ERR_INVALID_ARG_VALUE). */
  _createSocketHandle(...args: unknown[]): never;
}

export function createDgramApi(stack: Stack, options: DgramApiOptions = {}): DgramApi {
  const context: DgramContext = {
    stack,
    lookup: stackLookup(options.hosts, options.lookup),
    holds: eventLoopHoldsFor(stack.clock),
  };

  class StackDgramSocket extends Socket {
    constructor(
      socketOptions: DgramSocketOptions | 'udp4' | 'udp6',
      messageListener?: (msg: Buffer, rinfo: RemoteInfo) => void,
    ) {
      const normalized = normalizeType(socketOptions);
      const lookup = normalized.lookup === undefined ? options.socketLookup?.() : undefined;
      super(context, lookup === undefined ? normalized : { ...normalized, lookup }, messageListener);
    }
  }

  return {
    stack,
    Socket: callableClass(StackDgramSocket),
    createSocket: (type, messageListener) => new StackDgramSocket(type, messageListener),
    _createSocketHandle(...args: unknown[]): never {
      throw invalidArgValue('address', args[0], 'is not supported by tcpts (no handles)');
    },
  };
}

/**
 * Node's Socket(type | options, listener) checks, in its order: the options' buffer sizes (uint32), the
 * lookup function, then the type ('udp4' or 'udp6').
 */
function normalizeType(options: unknown): DgramSocketOptions {
  let type = options;
  let lookup: unknown;
  if (options !== null && typeof options === 'object') {
    const settings = options as DgramSocketOptions;
    type = settings.type;
    lookup = settings.lookup;
    if (settings.recvBufferSize) validateUint32(settings.recvBufferSize, 'options.recvBufferSize');
    if (settings.sendBufferSize) validateUint32(settings.sendBufferSize, 'options.sendBufferSize');
  }
  if (lookup !== undefined) validateFunction(lookup, 'lookup');
  if (type === 'udp4' || type === 'udp6')
    return typeof options === 'string' ? { type } : (options as DgramSocketOptions);
  throw nodeError('ERR_SOCKET_BAD_TYPE', 'Bad socket type specified. Valid types are: udp4, udp6', TypeError);
}
