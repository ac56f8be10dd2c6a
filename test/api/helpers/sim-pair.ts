/**
 * Two hosts on one simulated link, for the socket API tests: 'client' 10.0.0.1 and 'server' 10.0.0.2
 * (with `family: 6` also fd00::1 and fd00::2), on virtual time driven by settleOnVirtualTime.
 */
import { settleOnVirtualTime } from '../../../src/api/virtual-time-node.js';
import type { LinkImpairments } from '../../../src/link/impairments.js';
import { SimulatedNetwork } from '../../../src/sim/network.js';
import type { Stack } from '../../../src/stack.js';
import type { TcpConfig } from '../../../src/tcp/config.js';

export interface SimPairOptions {
  seed?: number;
  delayMs?: number;
  impairments?: LinkImpairments;
  mtu?: number;
  trace?: boolean;
  /**
   * 6: the hosts also run IPv6 (client fd00::1, server fd00::2, after DAD) and the pair's addresses are
   * those. Default 4.
   */
  family?: 4 | 6;
  /** TCP settings of both hosts over the defaults. */
  tcp?: Partial<TcpConfig>;
}

export interface SimPair {
  readonly network: SimulatedNetwork;
  readonly client: Stack;
  readonly server: Stack;
  readonly clientAddress: string;
  readonly serverAddress: string;
  /** Runs `body` to completion on virtual time. */
  run<T>(body: () => Promise<T>, maxDurationMs?: number): Promise<T>;
  /** Resolves after `ms` of virtual time. */
  delay(ms: number): Promise<void>;
  now(): number;
}

export function simPair(options: SimPairOptions = {}): SimPair {
  const network = new SimulatedNetwork({ seed: options.seed ?? 1, trace: options.trace ?? false });
  const hostOptions = options.tcp !== undefined ? { tcp: options.tcp } : {};
  const client = network.host('client', '10.0.0.1/24', hostOptions);
  const server = network.host('server', '10.0.0.2/24', hostOptions);
  const link = network.link(client, server, {
    delayMs: options.delayMs ?? 1,
    impairments: options.impairments,
    mtu: options.mtu,
  });
  const ipv6 = options.family === 6;
  if (ipv6) {
    client.addIpv6Interface(link.link.a, { addresses: ['fd00::1/64'] });
    server.addIpv6Interface(link.link.b, { addresses: ['fd00::2/64'] });
    network.run(3000); // duplicate address detection
  }
  const clock = network.clock;
  return {
    network,
    client,
    server,
    clientAddress: ipv6 ? 'fd00::1' : '10.0.0.1',
    serverAddress: ipv6 ? 'fd00::2' : '10.0.0.2',
    run: (body, maxDurationMs) => settleOnVirtualTime(clock, body, { maxDurationMs }),
    delay: (ms) => new Promise((resolve) => clock.setTimer(ms, resolve)),
    now: () => clock.now(),
  };
}
