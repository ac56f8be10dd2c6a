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
export { DhcpClient, type DhcpClientOptions, type DhcpLeaseInfo } from './dhcp/dhcp-client.js';
export { DnsResolver, type DnsResolverCounters, type DnsResolverOptions } from './dns/dns-resolver.js';
export { Gateway, type GatewayCounters, type GatewayOptions } from './gateway/gateway.js';
export { allowAll, allowList, type DestinationPolicy, type FlowDestination } from './gateway/policy.js';
export type {
  Upstream,
  UpstreamDatagramHandlers,
  UpstreamDatagramSocket,
  UpstreamDestination,
  UpstreamStream,
  UpstreamStreamHandlers,
} from './gateway/upstream.js';
export * from './index.js';
export { FramePort, type FramePortCounters } from './link/frame-port.js';
export { type V86BusLike, v86Device } from './link/v86/v86-device.js';
export { type WebSocketLike, webSocketDevice } from './link/websocket/websocket-device.js';
export { WispClient, type WispClientOptions, type WispWebSocket, wispUpstream } from './wisp/wisp-client.js';
