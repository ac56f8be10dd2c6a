/**
 * tcpts public API (browser-safe: nothing here imports a Node built-in; Node-only parts such as the TAP
 * device and pcap files have their own entry points).
 */

// Network layer
export type { AddressInput, AddressWithPrefix, PrefixInput } from './ip/address-prefix.js';
export type { ArpEntryInfo, ArpEntryState, ArpOptions } from './ip/arp-resolver.js';
export type {
  DestinationKind,
  IpProtocolHandler,
  IpSendOptions,
  IpSendStatus,
  PayloadWriter,
  ReceivedDatagram,
  TransportErrorReport,
} from './ip/datagram.js';
export { type ErrnoCode, type ErrnoError, errnoError } from './ip/errors.js';
export type { IcmpOptions, PingOptions, PingReply } from './ip/icmp-layer.js';
export type { IpInterface } from './ip/ip-interface.js';
export { DEFAULT_TTL, type InterfaceConfig } from './ip/ipv4-layer.js';
export type { PathMtuOptions } from './ip/path-mtu-cache.js';
export type { ReassemblyOptions } from './ip/reassembly.js';
export type { Route, RouteInput, RoutingTable } from './ip/routing-table.js';
export { captureDevice, type PacketRecorder } from './link/capture.js';
// Links, time, capture, tracing
export type { NetworkDevice } from './link/device.js';
export { EthernetSwitch, type EthernetSwitchOptions } from './link/ethernet-switch.js';
export type { LinkImpairments } from './link/impairments.js';
export { MemoryLink, type MemoryLinkOptions } from './link/memory-link.js';
export { readPcap } from './pcap/pcap-reader.js';
export { MemoryPcapSink, type PcapSink, PcapWriter, type PcapWriterOptions } from './pcap/pcap-writer.js';
export {
  type HostOptions,
  type LanOptions,
  type LinkEnd,
  type LinkOptions,
  type SimulatedCapture,
  type SimulatedLan,
  type SimulatedLink,
  SimulatedNetwork,
  type SimulatedNetworkOptions,
  type SimulatedStackOptions,
} from './sim/network.js';
// The stack and the simulator
export { Stack, type StackOptions } from './stack.js';
export type { TcpIpBinding, TcpReceiver } from './tcp/ip-glue/tcp-attachment.js';
export type { Clock, TimerHandle } from './time/clock.js';
export { RealClock } from './time/real-clock.js';
export { VirtualClock } from './time/virtual-clock.js';
export { type CounterName, StackCounters } from './trace/counters.js';
export { NO_TRACE, type TraceEvent, TraceRecorder, type Tracer } from './trace/events.js';
// UDP
export {
  EPHEMERAL_PORT_FIRST,
  EPHEMERAL_PORT_LAST,
  UDP_MAX_PAYLOAD,
  type UdpLayer,
} from './udp/udp-layer.js';
export type {
  UdpBindOptions,
  UdpMessageInfo,
  UdpSendOptions,
  UdpSocket,
  UdpSocketHandlers,
} from './udp/udp-socket.js';
export { Random, type Seed } from './util/random.js';

// Addresses
export {
  type Ipv4Address,
  ipv4ToString,
  type MacAddress,
  macToString,
  parseIpv4 as parseIpv4Address,
  parseMac,
} from './wire/address.js';
