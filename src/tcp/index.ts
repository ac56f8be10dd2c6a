/**
 * The TCP engine's public surface: the layer (demultiplexing, listeners, ports), the connection state
 * machine, configuration, errors and counters. Everything else under src/tcp is internal.
 */
export { DEFAULT_IPV4_MSS, DEFAULT_TCP_CONFIG, resolveTcpConfig, type TcpConfig } from './config.js';
export type {
  AckEvent,
  CongestionControl,
  CongestionControlFactory,
  DuplicateAckAction,
  DuplicateAckEvent,
} from './congestion/congestion-control.js';
export { createRenoCongestionControl, RenoCongestionControl } from './congestion/reno.js';
export {
  type SendOptions,
  TcpConnection,
  type TcpConnectionEvents,
  type TcpConnectionOptions,
  type TcpConnectionStatus,
  type TcpIcmpError,
} from './connection.js';
export { newTcpCounters, type TcpCounters } from './counters.js';
export { EPHEMERAL_PORT_MAX, EPHEMERAL_PORT_MIN } from './ephemeral-ports.js';
export { TcpError, type TcpErrorCode } from './errors.js';
export { DEFAULT_TCP_LIMITS, resolveTcpLimits, type TcpLimits } from './limits.js';
export {
  type ConnectOptions,
  DEFAULT_BACKLOG,
  type ListenOptions,
  type QuotedTcpSegment,
  type TcpIpBinding,
  TcpLayer,
  type TcpLayerOptions,
  TcpListener,
  type TcpListenerEvents,
  type TcpSendStatus,
} from './tcp-layer.js';
export type { TimerName } from './timers.js';
