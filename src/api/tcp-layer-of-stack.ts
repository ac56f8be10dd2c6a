/**
 * The TCP layer of a Stack, for the socket APIs. A stack that carries its own layer (`stack.tcp`) is used
 * as is; otherwise one TcpLayer is created per stack on first use and attached as its protocol 6, with
 * IP's error reports translated into the TCP layer's ICMP input.
 */
import type { TransportErrorReport } from '../ip/datagram.js';
import type { Stack } from '../stack.js';
import type { TcpIcmpError } from '../tcp/connection.js';
import { TcpLayer } from '../tcp/tcp-layer.js';
import {
  ICMP_DESTINATION_UNREACHABLE,
  ICMP_FRAGMENTATION_NEEDED,
  ICMP_HOST_UNREACHABLE,
  ICMP_NET_UNREACHABLE,
  ICMP_PORT_UNREACHABLE,
  ICMP_PROTOCOL_UNREACHABLE,
  ICMP_SOURCE_ROUTE_FAILED,
  ICMP_TIME_EXCEEDED,
} from '../wire/icmp.js';

const ICMP_SOURCE_QUENCH = 4;
const ICMP_PARAMETER_PROBLEM = 12;

const layers = new WeakMap<Stack, TcpLayer>();

/** The TCP layer of `stack`, attaching one if the stack has none yet. */
export function tcpLayerOf(stack: Stack): TcpLayer {
  const own = (stack as { tcp?: unknown }).tcp;
  if (own instanceof TcpLayer) return own;
  let layer = layers.get(stack);
  if (layer !== undefined) return layer;
  const created = new TcpLayer({
    ip: stack.tcpBinding,
    clock: stack.clock,
    tracer: stack.tracer,
    host: stack.name,
    // From the stack's seeded randomness, so simulated runs repeat exactly (ISNs, ephemeral ports).
    secret: stack.random.fork('tcp/secret').bytes(32),
  });
  stack.attachTcp({
    receive: (src, dst, segment) => created.receive(src, dst, segment),
    receiveIcmpError: (report) => deliverIcmpError(created, report),
  });
  layers.set(stack, created);
  layer = created;
  return layer;
}

/** Turns IP's report about one of our segments into the TCP layer's ICMP input (RFC 5927 §4.1). */
function deliverIcmpError(layer: TcpLayer, report: TransportErrorReport): void {
  const t = report.transport;
  if (t.length < 8) return;
  const kind = icmpKind(report);
  if (kind === undefined) return;
  const error: Omit<TcpIcmpError, 'seq'> = { kind };
  if (kind === 'fragmentation-needed' && report.pathMtu !== undefined) error.mtu = report.pathMtu;
  layer.handleIcmpError(error, {
    src: report.src,
    dst: report.dst,
    srcPort: (t[0]! << 8) | t[1]!,
    dstPort: (t[2]! << 8) | t[3]!,
    seq: ((t[4]! << 24) | (t[5]! << 16) | (t[6]! << 8) | t[7]!) >>> 0,
  });
}

function icmpKind(report: TransportErrorReport): TcpIcmpError['kind'] | undefined {
  switch (report.icmpType) {
    case ICMP_DESTINATION_UNREACHABLE:
      switch (report.icmpCode) {
        case ICMP_NET_UNREACHABLE:
          return 'net-unreachable';
        case ICMP_HOST_UNREACHABLE:
          return 'host-unreachable';
        case ICMP_PROTOCOL_UNREACHABLE:
          return 'protocol-unreachable';
        case ICMP_PORT_UNREACHABLE:
          return 'port-unreachable';
        case ICMP_FRAGMENTATION_NEEDED:
          return 'fragmentation-needed';
        case ICMP_SOURCE_ROUTE_FAILED:
          return 'source-route-failed';
        default:
          return 'other-unreachable';
      }
    case ICMP_TIME_EXCEEDED:
      return 'time-exceeded';
    case ICMP_PARAMETER_PROBLEM:
      return 'parameter-problem';
    case ICMP_SOURCE_QUENCH:
      return 'source-quench';
    default:
      return undefined;
  }
}
