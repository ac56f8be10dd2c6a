/**
 * Connections that each sent 512 KiB and then sit idle: their buffers give every byte of storage back,
 * so what an idle connection costs is its socket object alone. Run in batches (a few hundred transfers
 * at a time) on an in-memory network whose segments travel as TSO-sized units. `measureHeap` (a
 * function forcing a full garbage collection and returning heapUsed) lets the caller compare the heap
 * with that of as many connections that never carried data. Shared by the test suite (scaled down) and
 * `npm run flood`.
 */
import type { TcpConnection } from '../../src/tcp/connection.js';
import { FakeNetwork, ip } from '../tcp/network.js';

export interface IdleAfterBulkResult {
  connections: number;
  /** Connections whose server side received exactly the bytes sent. */
  exact: number;
  /** Buffer storage held by all connections (both ends) once idle. */
  bufferBytes: number;
  /** Heap bytes per connection (both ends) beyond those of connections that carried nothing. */
  heapBytesBeyondIdle: number | undefined;
  virtualMs: number;
}

const BATCH = 250;
const CLIENT_ADDRESSES = [
  '10.0.0.1',
  '10.0.0.11',
  '10.0.0.12',
  '10.0.0.13',
  '10.0.0.14',
  '10.0.0.15',
  '10.0.0.16',
  '10.0.0.17',
];

function network() {
  const net = new FakeNetwork();
  // TSO-sized units keep the run's object count down; the stacks still segment by their MSS.
  // Clients on eight addresses: one address has 16,384 ephemeral ports toward the server's port.
  const a = net.addHost(CLIENT_ADDRESSES, { tsoSize: 65_536, trace: false });
  const b = net.addHost(['10.0.0.2'], { tsoSize: 65_536, trace: false });
  net.drop = () => {
    net.packets.length = 0;
    return false;
  };
  return { net, a, b };
}

/** Opens `count` connections, each sending `bytes` (0: none), `BATCH` at a time; returns both ends. */
function openAll(count: number, bytes: number) {
  const { net, a, b } = network();
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) data[i] = (i * 7 + (i >>> 9)) & 0xff;
  const servers: TcpConnection[] = [];
  const received: number[] = [];
  const exact: boolean[] = [];
  b.listen({ port: 80, backlog: 4096 }).on('connection', (c) => {
    const index = servers.push(c) - 1;
    received[index] = 0;
    exact[index] = true;
    c.on('readable', () => {
      for (let d = c.receive(net.clock.now()); d && d.length > 0; d = c.receive(net.clock.now())) {
        // Spot-check the bytes where they land (a full compare of 51 GB would dominate the run).
        const at = received[index]!;
        if (d[0] !== data[at] || d[d.length - 1] !== data[at + d.length - 1]) exact[index] = false;
        received[index] = at + d.length;
      }
    });
  });
  const clients: TcpConnection[] = [];
  for (let start = 0; start < count; start += BATCH) {
    for (let i = start; i < Math.min(count, start + BATCH); i++) {
      const c = a.connect({
        remoteAddress: ip('10.0.0.2'),
        remotePort: 80,
        localAddress: ip(CLIENT_ADDRESSES[i % CLIENT_ADDRESSES.length]!),
      });
      let sent = 0;
      const pump = (): void => {
        while (sent < bytes) {
          const n = c.send(data.subarray(sent), net.clock.now());
          if (n === 0) return;
          sent += n;
        }
      };
      if (bytes > 0) {
        c.on('connected', pump);
        c.on('drain', pump);
      }
      clients.push(c);
    }
    net.run(bytes > 0 ? 2000 : 50);
  }
  net.run(1000);
  const exactCount = servers.filter((_, i) => exact[i] && received[i] === bytes).length;
  return { net, clients, servers, exactCount };
}

/**
 * Heap held by `count` connections that never carried data, measured while they live. They are let go
 * when this returns, before the run with data starts, so the two networks (200k endpoints each at full
 * scale) never live at once.
 */
function idleRunHeap(count: number, measureHeap: () => number): number {
  const before = measureHeap();
  const idle = openAll(count, 0);
  const held = measureHeap() - before;
  // Keep the idle run reachable until it has been measured.
  if (idle.servers.length !== count) throw new Error(`idle run accepted ${idle.servers.length}`);
  return held;
}

export function runIdleAfterBulk(
  count: number,
  bytes: number,
  measureHeap?: () => number,
): IdleAfterBulkResult {
  let heapBytesBeyondIdle: number | undefined;
  const idleHeap = measureHeap === undefined ? 0 : idleRunHeap(count, measureHeap);
  const before = measureHeap?.() ?? 0;
  const run = openAll(count, bytes);
  if (measureHeap !== undefined) heapBytesBeyondIdle = (measureHeap() - before - idleHeap) / count;
  const bufferBytes =
    run.clients.reduce((sum, c) => sum + c.bufferMemory, 0) +
    run.servers.reduce((sum, c) => sum + c.bufferMemory, 0);
  return {
    connections: run.servers.length,
    exact: run.exactCount,
    bufferBytes,
    heapBytesBeyondIdle,
    virtualMs: run.net.clock.now(),
  };
}
