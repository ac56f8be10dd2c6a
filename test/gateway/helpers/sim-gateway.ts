/**
 * A gateway in simulation: a 'guest' stack on a link to the 'gateway' stack (QEMU addressing: guest
 * 10.0.2.15, gateway 10.0.2.2, DNS 10.0.2.3), whose upstream is a third stack, 'host' (10.9.0.1), with a
 * 'server' (10.9.0.2; with `upstream6`, also fd00:9::2 behind host fd00:9::1) behind it. Everything runs on one virtual clock.
 */
import '../../../src/api/sockets-node.js';
import { settleOnVirtualTime } from '../../../src/api/virtual-time-node.js';
import { Gateway, type GatewayOptions } from '../../../src/gateway/gateway.js';
import { socketUpstream } from '../../../src/gateway/socket-upstream-node.js';
import type { Upstream, UpstreamEchoRequest, UpstreamEchoResult } from '../../../src/gateway/upstream.js';
import { MemoryLink } from '../../../src/link/memory-link.js';
import { SimulatedNetwork } from '../../../src/sim/network.js';
import type { Stack } from '../../../src/stack.js';
import { ipv4ToString } from '../../../src/wire/address.js';

/** The upstream's ICMPv6 echo done by the host stack's ping6, with its errors in RFC 4443 codes. */
async function stackEcho6(host: Stack, request: UpstreamEchoRequest): Promise<UpstreamEchoResult> {
  try {
    await host.ping6(request.address, {
      size: request.size,
      hopLimit: request.ttl,
      timeoutMs: request.timeoutMs,
    });
    return { kind: 'reply' };
  } catch (error) {
    const e = error as { code?: string; icmpType?: string; icmpCode?: number; reporter?: string };
    // An error the host raised itself (its own neighbour resolution failed) is the gateway's to report.
    const from = e.reporter !== undefined && !host.isLocalAddress(e.reporter) ? e.reporter : undefined;
    if (e.icmpType === 'destination-unreachable') return { kind: 'unreachable', code: e.icmpCode ?? 3, from };
    if (e.icmpType === 'time-exceeded') return { kind: 'time-exceeded', from };
    if (e.code === 'EHOSTUNREACH') return { kind: 'unreachable', code: 3 };
    if (e.code === 'ENETUNREACH') return { kind: 'unreachable', code: 0 };
    return { kind: 'timeout' };
  }
}

/** The upstream's ICMP echo done by a tcpts stack's own ping (the 'host' of the simulation). */
async function stackEcho(host: Stack, request: UpstreamEchoRequest): Promise<UpstreamEchoResult> {
  if (request.address.includes(':')) return stackEcho6(host, request);
  try {
    await host.ping(request.address, { size: request.size, ttl: request.ttl, timeoutMs: request.timeoutMs });
    return { kind: 'reply' };
  } catch (error) {
    const e = error as { code?: string; icmpType?: number; icmpCode?: number; reporter?: number };
    // An error the host raised itself (its own address resolution failed) is the gateway's to report.
    const from =
      typeof e.reporter === 'number' && !host.ip.isLocalAddress(e.reporter)
        ? ipv4ToString(e.reporter)
        : undefined;
    if (e.icmpType === 3) return { kind: 'unreachable', code: e.icmpCode ?? 1, from };
    if (e.icmpType === 11) return { kind: 'time-exceeded', from };
    if (e.code === 'EHOSTUNREACH') return { kind: 'unreachable', code: 1 };
    if (e.code === 'ENETUNREACH') return { kind: 'unreachable', code: 0 };
    return { kind: 'timeout' };
  }
}

export interface SimGateway {
  network: SimulatedNetwork;
  guest: Stack;
  gatewayStack: Stack;
  gateway: Gateway;
  host: Stack;
  server: Stack;
  link: MemoryLink;
  run<T>(body: () => Promise<T>, maxDurationMs?: number): Promise<T>;
  delay(ms: number): Promise<void>;
}

export function simGateway(
  options: Partial<Omit<GatewayOptions, 'stack' | 'device' | 'upstream'>> & {
    guestConfigured?: boolean;
    /** false: an upstream that carries no ICMP (as WISP). */
    upstreamEcho?: false;
    /** Also join host and server over IPv6 (host fd00:9::1, server fd00:9::2, on a link of their own). */
    upstream6?: true;
    tcp?: { receiveBufferSize?: number; sendBufferSize?: number };
    /** Wraps the host-socket upstream (to watch or alter what the relays hand it). */
    wrapUpstream?: (upstream: Upstream) => Upstream;
  } = {},
): SimGateway {
  const { guestConfigured, tcp, upstreamEcho, upstream6, wrapUpstream, ...gatewayOptions } = options;
  const network = new SimulatedNetwork({ seed: 7, trace: false });
  const host = network.host('host', '10.9.0.1/24');
  const server = network.host('server', '10.9.0.2/24');
  network.link(host, server, { delayMs: 1 });
  if (upstream6) network.link([host, 'fd00:9::1/64'], [server, 'fd00:9::2/64'], { delayMs: 1 });
  const guest = network.host('guest', undefined, { tcp });
  const gatewayStack = network.host('gateway', undefined, { tcp });
  const link = new MemoryLink({
    clock: network.clock,
    a: { name: 'guest-eth0', mac: 0x02_00_00_00_10_0f },
    b: { name: 'gateway-eth0', mac: 0x52_55_0a_00_02_02 },
    impairments: { delayMs: 1 },
  });
  if (guestConfigured !== false) guest.addInterface(link.a, { address: '10.0.2.15/24', gateway: '10.0.2.2' });
  const gateway = new Gateway({
    stack: gatewayStack,
    device: link.b,
    upstream: (wrapUpstream ?? ((upstream) => upstream))(
      socketUpstream({
        net: host.net,
        dgram: host.dgram,
        echo: upstreamEcho ?? ((request) => stackEcho(host, request)),
      }),
    ),
    ...gatewayOptions,
  });
  const clock = network.clock;
  return {
    network,
    guest,
    gatewayStack,
    gateway,
    host,
    server,
    link,
    run: (body, maxDurationMs) => settleOnVirtualTime(clock, body, { maxDurationMs }),
    delay: (ms) => new Promise((resolve) => clock.setTimer(ms, () => resolve())),
  };
}
