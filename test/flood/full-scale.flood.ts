/**
 * `npm run flood`: the flood suite of issue 10 at full scale, in simulation (virtual time). Each scenario
 * asserts what it must hold, and the figures are written to docs/hardening.md.
 */
import { writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect, it } from 'vitest';
import { runBlindInjection } from './blind-injection.js';
import { runConnectionChurn } from './connection-churn.js';
import { runFragmentFlood } from './fragment-flood.js';
import { runIdleAfterBulk } from './idle-after-bulk.js';
import { runSynFlood } from './syn-flood.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
function measureHeap(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const rows: string[] = [];

it('100k spoofed SYNs: a legitimate client connects within 1 s during and after the flood', () => {
  const start = performance.now();
  const r = runSynFlood({
    syns: 100_000,
    rate: 20_000,
    connectAt: [500, 2500, 4900, 5500, 10_000, 60_000],
    tailMs: 70_000,
  });
  for (const ms of r.connectMs) expect(ms).toBeLessThan(1000);
  expect(r.connectionsAtEnd).toBe(0);
  rows.push(
    `| 100k spoofed SYNs at 20k/s (5 s), default limits | client connect times ${r.connectMs.map((m) => `${m} ms`).join(', ')} (at 0.5, 2.5, 4.9 s during; 5.5, 10, 60 s after); half-open peak ${r.maxHalfOpen} (SYN queue ${r.synQueueLimit}); ${r.cookiesSent} cookies sent, ${r.cookiesReceived} returned; ${r.synAckTimeouts} half-open entries dropped after 5 SYN-ACK retries; table empty at the end | ${((performance.now() - start) / 1000).toFixed(1)} s |`,
  );
});

it('100k blind RSTs, SYNs and data segments: answers within the rate limit, goodput within 10%', () => {
  const start = performance.now();
  const r = runBlindInjection(32 * 1024 * 1024, 100_000);
  expect(r.attacked.bytesOk).toBe(true);
  expect(r.replies).toBeLessThanOrEqual(r.allowed);
  expect(r.goodputRatio).toBeGreaterThan(0.9);
  rows.push(
    `| 100k blind RST/SYN/data (random seq/ack, right 4-tuple) at both ends of a 32 MiB transfer | ${r.replies} extra segments sent (limit allows ${r.allowed}); ${r.attacked.skipped} answers skipped by the limits; goodput ${(r.goodputRatio * 100).toFixed(1)}% of the unattacked run (${r.baseline.durationMs} ms vs ${r.attacked.durationMs} ms); bytes exact | ${((performance.now() - start) / 1000).toFixed(1)} s |`,
  );
});

it('200k connections opened and closed in a row against one server: no EADDRNOTAVAIL, TIME-WAIT under 300 bytes each', () => {
  const start = performance.now();
  const r = runConnectionChurn(200_000, { measureHeap });
  expect(r.failures).toEqual([]);
  expect(r.heapBytesPerRecord!).toBeLessThan(300);
  rows.push(
    `| 200k connections opened and closed in a row (client closes first, holds TIME-WAIT) | ${r.opened} opened, ${r.failures.length} failures, ${r.timeWaitOverflows} TIME-WAIT overflows, ${r.timeWaitReused} TIME-WAIT records reused; ${r.timeWaitRecords} TIME-WAIT records at the end, ${r.heapBytesPerRecord!.toFixed(0)} heap bytes each (measured, after GC), ${r.storageBytesPerRecord.toFixed(0)} bytes of table storage each; ${(r.virtualMs / 1000).toFixed(0)} s virtual | ${((performance.now() - start) / 1000).toFixed(1)} s |`,
  );
});

it('100k hostile fragments: memory stays within the reassembly budget', () => {
  const start = performance.now();
  const r = runFragmentFlood(100_000, { measureHeap });
  expect(r.peakCharged).toBeLessThanOrEqual(r.budget);
  expect(r.copies).toBe(r.fragments);
  expect(r.legitimateReceived).toBe(r.legitimateSent);
  // The heap really held stays near the budget (frames pinned by views would be 150 MB).
  expect(r.heapBytes!).toBeLessThan(1.25 * r.budget);
  rows.push(
    `| 100k IPv4 fragments (8 data bytes each, each in its own 1514-byte frame, random sources and ids), default 4 MiB budget | peak charge ${r.peakCharged} bytes (budget ${r.budget}); ${r.copies} fragments copied out of their frames; ${r.evicted} partial datagrams evicted; heap held after the flood ${(r.heapBytes! / 1024 / 1024).toFixed(1)} MiB (measured, after GC; pinned frames would be ${((r.fragments * 1514) / 1024 / 1024).toFixed(0)} MiB); ${r.legitimateReceived}/${r.legitimateSent} legitimate datagrams reassembled | ${((performance.now() - start) / 1000).toFixed(1)} s |`,
  );
});

it('100k connections that each sent 512 KiB, then idle: memory back under 4 KB per connection beyond the socket object', () => {
  const start = performance.now();
  const r = runIdleAfterBulk(100_000, 512 * 1024, measureHeap);
  expect([r.connections, r.exact, r.bufferBytes]).toEqual([100_000, 100_000, 0]);
  expect(r.heapBytesBeyondIdle!).toBeLessThan(4096);
  rows.push(
    `| 100k connections that each sent 512 KiB (250 at a time), then idle | ${r.exact} of ${r.connections} received every byte; ${r.bufferBytes} bytes of buffer storage held at either end; heap ${r.heapBytesBeyondIdle!.toFixed(0)} bytes per connection (both ends) beyond that of 100k connections that never carried data (measured, after GC); ${(r.virtualMs / 1000).toFixed(0)} s virtual | ${((performance.now() - start) / 1000).toFixed(1)} s |`,
  );
});

it('writes docs/hardening.md', () => {
  const cpus = os.cpus();
  const doc = `# Hardening: flood suite figures

Produced by \`npm run flood\` (test/flood/full-scale.flood.ts) on ${new Date().toISOString().slice(0, 10)},
${cpus[0]?.model.trim() ?? 'unknown CPU'} (${cpus.length} logical CPUs), Node ${process.version}. Simulation in
virtual time (two TCP layers over an in-memory network, 1 ms one-way delay, 5 ms for the transfer); the
last column is wall-clock time of the run. \`npm test\` runs the same scenarios scaled down
(test/flood/floods.test.ts, test/tcp/syn-cookies.test.ts). The limits involved are tabled in
[limits.md](limits.md).

| Scenario | Result | Run time |
|---|---|---|
${rows.join('\n')}

## Fuzz campaign

\`npm run fuzz -- --frames 10000000\` (test/fuzz/run-fuzz.ts: mutated frames injected into a live
two-stack network with four flows in progress, seeds 1-100) on 2026-12-04, main at 6a78d7d, AMD EPYC
(2 logical CPUs), Node v20.20.2, quiet machine: 10,000,000 frames injected in 67 s; 100 of 100 rounds with
4/4 flows byte-exact, 0 internal errors, 0 exceptions escaped.
`;
  writeFileSync(new URL('../../docs/hardening.md', import.meta.url), doc);
  expect(rows).toHaveLength(5);
});
