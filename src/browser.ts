/**
 * tcpts for browsers (and any runtime with web streams): the whole stack and simulator, plus TCP
 * connections as WHATWG ReadableStream/WritableStream pairs. Nothing reachable from here imports a Node
 * built-in; the Node `net`/`dgram` modules have their own entry (src/api/node.ts).
 */

export { type HostTable, resolveHostName } from './api/host-names.js';
export {
  type Socket,
  type SocketAddress,
  type SocketInfo,
  type SocketOptions,
  type SocketsApi,
  socketsApi,
} from './api/sockets/sockets-api.js';
export {
  openTcpStream,
  type TcpStream,
  type TcpStreamEndpoints,
  type TcpStreamOptions,
} from './api/streams/tcp-stream.js';
export {
  listenTcpStreams,
  type TcpStreamListener,
  type TcpStreamListenerOptions,
} from './api/streams/tcp-stream-listener.js';
export { type TcpInfo, tcpInfoOf } from './api/tcp-info.js';
export { tcpLayerOf } from './api/tcp-layer-of-stack.js';
export * from './index.js';
