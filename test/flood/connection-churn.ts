/**
 * Connections opened and closed in a row against one server (the client closes first, so it holds
 * TIME-WAIT): no connect may fail, and TIME-WAIT costs a compact record per connection. `measureHeap`
 * (a function forcing a full garbage collection and returning heapUsed) lets the caller measure the
 * bytes per TIME-WAIT record. Shared by the test suite (scaled down) and `npm run flood`.
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
}

export function runConnectionChurn(count: number, measureHeap?: () => number): ChurnResult {
  const net = new FakeNetwork();
  const a = net.addHost(['10.0.0.1']);
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
    // The next connection starts once this one reached TIME-WAIT (or failed).
    conn.on('state', (_from, to) => {
      if (to === 'TIME-WAIT' || to === 'CLOSED') net.clock.setTimer(0, openNext);
    });
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
  };
}
