/**
 * The Node entry of the gateway (`tcpts/gateway`): everything of the browser entry's gateway, WISP client
 * and links, plus the Node-only parts — the host-socket upstream, the WISP server, and the stream and
 * datagram links QEMU speaks.
 */

export { DhcpServer, type DhcpServerOptions } from '../dhcp/dhcp-server.js';
export {
  type DatagramDevice,
  type DatagramDeviceOptions,
  openDatagramDevice,
} from '../link/datagram/datagram-device-node.js';
export { type StreamDeviceOptions, streamDevice } from '../link/stream/stream-device-node.js';
export { WispClient, type WispClientOptions, wispUpstream } from '../wisp/wisp-client.js';
export {
  startWispServer,
  WispServer,
  type WispServerCounters,
  type WispServerOptions,
} from '../wisp/wisp-server-node.js';
export { Gateway, type GatewayCounters, type GatewayOptions } from './gateway.js';
export { allowAll, allowList, type DestinationPolicy, type FlowDestination } from './policy.js';
export { duplexStream, type SocketUpstreamOptions, socketUpstream } from './socket-upstream-node.js';
export type * from './upstream.js';
