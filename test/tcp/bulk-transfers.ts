/**
 * Bulk transfers for TCP layer tests on a FakeNetwork: `count` clients on a (10.0.0.1) each send `data`
 * to b (10.0.0.2:80), writing again on every 'drain'. b's application reads from `readFrom` on (at once
 * by default, never with Infinity), `readDelayMs` after each 'readable'.
 */
import type { TcpConnection } from '../../src/tcp/connection.js';
import type { TcpLayer } from '../../src/tcp/tcp-layer.js';
import { type FakeNetwork, ip } from './network.js';

export function bulkTransfers(
  net: Pick<FakeNetwork, 'clock'>,
  a: TcpLayer,
  b: TcpLayer,
  count: number,
  data: Uint8Array,
  options: {
    readFrom?: number;
    /** Called for each connection b accepts. */
    accepted?: (c: TcpConnection) => void;
    /** How long b's application takes to get to new data (0: at once, within the same input). */
    readDelayMs?: number;
  } = {},
) {
  const { readFrom = 0, accepted, readDelayMs = 0 } = options;
  const received: Uint8Array[][] = [];
  const servers: TcpConnection[] = [];
  const drain = (c: TcpConnection, index: number): void => {
    if (net.clock.now() < readFrom) return;
    for (let d = c.receive(net.clock.now()); d && d.length > 0; d = c.receive(net.clock.now())) {
      received[index]!.push(d);
    }
  };
  b.listen({ port: 80, backlog: count }).on('connection', (c) => {
    const index = servers.push(c) - 1;
    received[index] = [];
    c.on('readable', () => {
      if (readDelayMs === 0) drain(c, index);
      else net.clock.setTimer(readDelayMs, () => drain(c, index));
    });
    accepted?.(c);
  });
  if (Number.isFinite(readFrom)) {
    net.clock.setTimer(readFrom, () => {
      for (const [i, c] of servers.entries()) drain(c, i);
    });
  }
  const clients = Array.from({ length: count }, () => {
    const c = a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80 });
    let sent = 0;
    const pump = (): void => {
      while (sent < data.length) {
        const n = c.send(data.subarray(sent), net.clock.now());
        if (n === 0) return;
        sent += n;
      }
    };
    c.on('connected', pump);
    c.on('drain', pump);
    return c;
  });
  /** Per connection, whether b received exactly `data` (a byte-wise toEqual of MiBs would be slow). */
  const exact = () => received.map((parts) => Buffer.concat(parts).equals(data));
  return { clients, servers, exact };
}
