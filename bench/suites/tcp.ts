/**
 * TCP benchmarks: bulk throughput between two in-process tcpts stacks over a MemoryLink (MTU 1500, no
 * impairments), with checksums computed and verified and again with checksum offload, and connections
 * opened and closed per second. Beside each, Node's `net` over the kernel's loopback, measured in the
 * same run with the same sizes: one connection, 64 KiB writes, the receiver timing to the last byte.
 *
 * Both sides of a tcpts transfer run in this one thread, so a tcpts figure carries two stacks' work (the
 * kernel's loopback has the other CPU as well, and no checksums or Ethernet). The stacks run on a
 * VirtualClock advanced as fast as it goes; every figure is real (wall-clock) time.
 *
 * The tcpts code is bundled with esbuild into one ESM module before it is timed, as an application
 * bundle or `tsc` output would run it: the on-the-fly CommonJS transform the bench runner itself uses
 * turns every cross-module call into a getter and halves the stack's speed.
 */
import * as net from 'node:net';
import { importBundled } from '../bundled.js';
import { type BenchRow, formatFigure } from '../harness.js';

type Workloads = typeof import('../tcp-workloads.js');

const BULK_BYTES = 128 * 1024 * 1024;
const CONNECTIONS = 2000;
const ROUNDS = 3;
const CHUNK = 64 * 1024;

/** Bundles bench/tcp-workloads.ts (and the stack it imports) into one ESM file and imports it. */
async function loadWorkloads(): Promise<{ workloads: Workloads; cleanup: () => void }> {
  const { module, cleanup } = await importBundled<Workloads>(new URL('../tcp-workloads.ts', import.meta.url));
  return { workloads: module, cleanup };
}

/** Best of `ROUNDS` after one warm-up round (the JIT's first pass is not the stack's speed). */
async function best(measure: () => number | Promise<number>): Promise<number> {
  await measure();
  let fastest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < ROUNDS; i++) fastest = Math.min(fastest, await measure());
  return fastest;
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
}

/** Node `net` over loopback: milliseconds from connect until the server has read `totalBytes`. */
async function nodeBulkMs(totalBytes: number): Promise<number> {
  let done: (ms: number) => void = () => {};
  const finished = new Promise<number>((resolve) => {
    done = resolve;
  });
  let started = 0;
  const server = net.createServer((socket) => {
    let received = 0;
    socket.on('data', (data: Buffer) => {
      received += data.length;
      if (received === totalBytes) done(performance.now() - started);
    });
  });
  const port = await listen(server);
  const chunk = Buffer.alloc(CHUNK);
  started = performance.now();
  const client = net.connect(port, '127.0.0.1');
  let sent = 0;
  const write = (): void => {
    while (sent < totalBytes) {
      const n = Math.min(CHUNK, totalBytes - sent);
      sent += n;
      if (!client.write(n === CHUNK ? chunk : chunk.subarray(0, n))) return;
    }
    client.end();
  };
  client.on('connect', write);
  client.on('drain', write);
  const ms = await finished;
  client.destroy();
  server.close();
  return ms;
}

/** Node `net` over loopback: milliseconds to open and close `count` connections one after the other. */
async function nodeConnectionsMs(count: number): Promise<number> {
  const server = net.createServer((socket) => {
    socket.on('end', () => socket.end());
    socket.resume();
  });
  const port = await listen(server);
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.end());
      socket.on('error', reject);
      socket.on('close', () => resolve());
      socket.resume();
    });
  }
  const ms = performance.now() - started;
  server.close();
  return ms;
}

function megabytesPerSecond(bytes: number, ms: number): number {
  return bytes / 1e6 / (ms / 1000);
}

export async function run(): Promise<BenchRow[]> {
  const { workloads, cleanup } = await loadWorkloads();
  try {
    const nodeBulk = await best(() => nodeBulkMs(BULK_BYTES));
    const verified = await best(() => workloads.bulkTransferMs(BULK_BYTES, false));
    const offloaded = await best(() => workloads.bulkTransferMs(BULK_BYTES, true));
    const nodeConnections = await best(() => nodeConnectionsMs(CONNECTIONS));
    const connections = await best(() => workloads.connectionsMs(CONNECTIONS));
    const mb = `${BULK_BYTES / (1024 * 1024)} MiB`;
    return [
      {
        name: `bulk transfer, ${mb}, MTU 1500, checksums verified`,
        tcpts: formatFigure(megabytesPerSecond(BULK_BYTES, verified)),
        kernel: formatFigure(megabytesPerSecond(BULK_BYTES, nodeBulk)),
        unit: 'MB/s',
        note: 'two tcpts stacks on one MemoryLink, one thread; kernel: Node net over loopback (MTU 65536)',
      },
      {
        name: `bulk transfer, ${mb}, MTU 1500, checksum offload`,
        tcpts: formatFigure(megabytesPerSecond(BULK_BYTES, offloaded)),
        kernel: formatFigure(megabytesPerSecond(BULK_BYTES, nodeBulk)),
        unit: 'MB/s',
        note: 'TCP checksums neither computed nor verified, as on Linux loopback',
      },
      {
        name: `connections opened and closed, ${CONNECTIONS} in a row`,
        tcpts: formatFigure((CONNECTIONS * 1000) / connections),
        kernel: formatFigure((CONNECTIONS * 1000) / nodeConnections),
        unit: 'conn/s',
        note: 'handshake, FIN both ways, TIME-WAIT; kernel: Node net over loopback',
      },
    ];
  } finally {
    cleanup();
  }
}
