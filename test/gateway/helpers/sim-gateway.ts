/**
 * A gateway in simulation: a 'guest' stack on a link to the 'gateway' stack (QEMU addressing: guest
 * 10.0.2.15, gateway 10.0.2.2, DNS 10.0.2.3), whose upstream is a third stack, 'host' (10.9.0.1), with a
 * 'server' (10.9.0.2) behind it. Everything runs on one virtual clock.
 */
import '../../../src/api/sockets-node.js';
import { settleOnVirtualTime } from '../../../src/api/virtual-time-node.js';
import { Gateway, type GatewayOptions } from '../../../src/gateway/gateway.js';
import { socketUpstream } from '../../../src/gateway/socket-upstream-node.js';
import { MemoryLink } from '../../../src/link/memory-link.js';
import { SimulatedNetwork } from '../../../src/sim/network.js';
import type { Stack } from '../../../src/stack.js';

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
    tcp?: { receiveBufferSize?: number; sendBufferSize?: number };
  } = {},
): SimGateway {
  const { guestConfigured, tcp, ...gatewayOptions } = options;
  const network = new SimulatedNetwork({ seed: 7, trace: false });
  const host = network.host('host', '10.9.0.1/24');
  const server = network.host('server', '10.9.0.2/24');
  network.link(host, server, { delayMs: 1 });
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
    upstream: socketUpstream({ net: host.net, dgram: host.dgram }),
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
