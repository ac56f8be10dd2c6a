/**
 * Connections opened and closed in a row against one server (the client closes first, so it holds
 * TIME-WAIT): no connect may fail, and TIME-WAIT costs a compact record per connection. `measureHeap`
 * (a function forcing a full garbage collection and returning heapUsed) lets the caller measure the
 * bytes per TIME-WAIT record. Shared by the test suite (scaled down) and `npm run flood`.
 *
 * With `ports`, the ephemeral range is narrowed to that many ports, fewer than the run's connections
 * within TIME-WAIT's 60 s, and the client reuses TIME-WAIT ports (timeWaitReuse 'on', Linux's
 * tcp_tw_reuse=1: a record over 1 s old, with timestamps). Without it the defaults hold: the 16,384
 * ports of the range outlast TIME-WAIT at this rate.
 */
import type { TcpConnection } from '../../src/tcp/connection.js';
import { FakeNetwork, ip } from '../tcp/network.js';

export interface ChurnResult {
  opened: number;
  failures: string[];
  virtualMs: number;
  /** Most TIME-WAIT records held at once (measured at the end of the run). */
  timeWaitRecords: number;
  /** Heap bytes per TIME-WAIT record (when measureHeap was given), table storage included. */
  heapBytesPerRecord: number | undefined;
  storageBytesPerRecord: number;
  timeWaitOverflows: number;
  /** TIME-WAIT records taken over by a new connection to the same 4-tuple. */
  timeWaitReused: number;
}

export function runConnectionChurn(
  count: number,
  options: { measureHeap?: () => number; ports?: number } = {},
): ChurnResult {
  const { measureHeap, ports } = options;
  const net = new FakeNetwork();
  const a = net.addHost(
    ['10.0.0.1'],
    ports === undefined
      ? {}
      : {
          config: { timeWaitReuse: 'on' },
          limits: { ephemeralPortMin: 50_000, ephemeralPortMax: 50_000 + ports - 1 },
        },
  );
  const b = net.addHost(['10.0.0.2']);
  b.listen({ port: 80, backlog: 4096 }).on('connection', (c) => c.on('end', () => c.close(net.clock.now())));
  net.drop = () => {
    net.packets.length = 0;
    return false;
  };
  const failures: string[] = [];
  let opened = 0;
  const openNext = (): void => {
    if (opened >= count) return;
    opened++;
    let conn: TcpConnection;
    try {
      conn = a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80 });
    } catch (error) {
      failures.push((error as { code?: string }).code ?? String(error));
      return;
    }
    conn.on('connected', () => conn.close(net.clock.now()));
    conn.on('error', (e) => failures.push(e.code));
    // The next connection starts once this one's FIN is acknowledged (FIN-WAIT-2; TIME-WAIT follows the
    // server's FIN a moment later), or it failed. The listener goes then, before TIME-WAIT: a connection
    // nobody watches costs only its compact TIME-WAIT record (the layer keeps a watched one whole), and
    // its end does not start a second chain of connections beside this one.
    const follow = (_from: string, to: string): void => {
      if (to !== 'FIN-WAIT-2' && to !== 'TIME-WAIT' && to !== 'CLOSED') return;
      conn.off('state', follow);
      net.clock.setTimer(0, openNext);
    };
    conn.on('state', follow);
  };
  openNext();
  while (opened < count && failures.length === 0) net.run(1000);
  net.run(100);
  const records = a.timeWaitCount;
  let heapBytesPerRecord: number | undefined;
  if (measureHeap !== undefined) {
    const withRecords = measureHeap();
    net.run(61_000);
    const without = measureHeap();
    heapBytesPerRecord = (withRecords - without) / Math.max(1, records);
  }
  return {
    opened,
    failures,
    virtualMs: net.clock.now(),
    timeWaitRecords: records,
    heapBytesPerRecord,
    storageBytesPerRecord: records > 0 ? a.timeWaitStorageBytes / records : 0,
    timeWaitOverflows: a.counters.timeWaitOverflows,
    timeWaitReused: a.counters.timeWaitReused,
  };
}
