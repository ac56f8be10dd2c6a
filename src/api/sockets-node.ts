/**
 * The Node entry of the socket APIs. Importing it gives every Stack two properties:
 *
 *   stack.net   — Node's `net` module over the stack's TCP (createServer, connect, Socket, Server, ...)
 *   stack.dgram — Node's `dgram` module (udp4) over the stack's UDP
 *
 * Each is created on first use and cached per stack; `createNetApi(stack, options)` and
 * `createDgramApi(stack, options)` make one with options (host names, a lookup function, TCP settings).
 * Browsers use the web-streams API instead (src/browser.ts): this module needs Node's `stream` and
 * `events`.
 */
import { Stack } from '../stack.js';
import { createDgramApi, type DgramApi } from './dgram/dgram-api.js';
import { createNetApi, type NetApi } from './net/net-api.js';

declare module '../stack.js' {
  interface Stack {
    /** Node's `net` over this stack (available once tcpts's Node socket entry is imported). */
    readonly net: NetApi;
    /** Node's `dgram` (udp4) over this stack (available once tcpts's Node socket entry is imported). */
    readonly dgram: DgramApi;
  }
}

const netApis = new WeakMap<Stack, NetApi>();
const dgramApis = new WeakMap<Stack, DgramApi>();

function install(name: 'net' | 'dgram', get: (stack: Stack) => NetApi | DgramApi): void {
  if (Object.getOwnPropertyDescriptor(Stack.prototype, name) !== undefined) return;
  Object.defineProperty(Stack.prototype, name, {
    configurable: true,
    enumerable: false,
    get(this: Stack) {
      return get(this);
    },
  });
}

install('net', (stack) => {
  let api = netApis.get(stack);
  if (api === undefined) {
    api = createNetApi(stack);
    netApis.set(stack, api);
  }
  return api;
});

install('dgram', (stack) => {
  let api = dgramApis.get(stack);
  if (api === undefined) {
    api = createDgramApi(stack);
    dgramApis.set(stack, api);
  }
  return api;
});

export { createDgramApi, type DgramApi, type DgramApiOptions } from './dgram/dgram-api.js';
export type { BindOptions, DgramAddressInfo, DgramSocketOptions, RemoteInfo } from './dgram/socket.js';
export { Socket as DgramSocket } from './dgram/socket.js';
export type { HostTable, LookupAddress, LookupFunction, LookupOptions } from './host-names.js';
export { isIP, isIPv4, isIPv6 } from './net/is-ip.js';
export { createNetApi, type NetApi } from './net/net-api.js';
export type { NetApiOptions } from './net/net-context.js';
export { type DropInfo, type ListenOptions, Server, type ServerOptions } from './net/server.js';
export { type AddressInfo, Socket, type SocketConnectOptions, type SocketOptions } from './net/socket.js';
export {
  configuredStack,
  configureNodeModules,
  type NodeModulesConfig,
  swapBuiltinNet,
} from './node-builtins/configured-stack.js';
export { createRealTimeStack, type RealTimeStackOptions } from './real-time-stack-node.js';
export type { TcpInfo } from './tcp-info.js';
export { type SettleOptions, settleOnVirtualTime } from './virtual-time-node.js';
