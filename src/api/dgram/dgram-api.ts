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
import { nodeError } from '../node-errors.js';
import { type DgramContext, type DgramSocketOptions, type RemoteInfo, Socket } from './socket.js';

export interface DgramApiOptions {
  /** Host names resolved without a lookup function, e.g. `{ 'dns.test': '10.0.0.53' }`. */
  hosts?: HostTable;
  /** Default resolver for other names (Node's `dns.lookup` signature). */
  lookup?: LookupFunction;
}

export interface DgramApi {
  readonly stack: Stack;
  /** `new dgram.Socket(type)` or `dgram.Socket(type)`, as Node's. */
  readonly Socket: CallableClass<
    new (
      options: DgramSocketOptions | 'udp4',
      messageListener?: (msg: Buffer, rinfo: RemoteInfo) => void,
    ) => Socket
  >;
  createSocket(
    type: 'udp4' | DgramSocketOptions,
    messageListener?: (msg: Buffer, rinfo: RemoteInfo) => void,
  ): Socket;
}

export function createDgramApi(stack: Stack, options: DgramApiOptions = {}): DgramApi {
  const context: DgramContext = {
    stack,
    lookup: stackLookup(options.hosts, options.lookup),
    holds: eventLoopHoldsFor(stack.clock),
  };

  class StackDgramSocket extends Socket {
    constructor(
      socketOptions: DgramSocketOptions | 'udp4',
      messageListener?: (msg: Buffer, rinfo: RemoteInfo) => void,
    ) {
      super(context, normalizeType(socketOptions), messageListener);
    }
  }

  return {
    stack,
    Socket: callableClass(StackDgramSocket),
    createSocket: (type, messageListener) => new StackDgramSocket(type, messageListener),
  };
}

function normalizeType(options: DgramSocketOptions | 'udp4' | string): DgramSocketOptions {
  const normalized = typeof options === 'string' ? { type: options } : options;
  if (normalized === null || typeof normalized !== 'object' || normalized.type !== 'udp4') {
    throw nodeError(
      'ERR_SOCKET_BAD_TYPE',
      'Bad socket type specified. Valid types are: udp4 (tcpts speaks IPv4 only)',
      TypeError,
    );
  }
  return normalized as DgramSocketOptions;
}
