/**
 * TCP benchmarks: bulk throughput between two in-process tcpts stacks over a MemoryLink (MTU 1500, no
 * impairments), with checksums computed and verified (with GSO and GRO on the link ends, and again with
 * every segment through TCP/IP on its own) and again with checksum offload, and connections
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

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import { pathToFileURL } from 'node:url';
import * as v8 from 'node:v8';
import { importBundled, moduleOfLine } from '../bundled.js';
import { type BenchRow, formatFigure } from '../harness.js';
import { runAsync } from '../processes.js';

type Workloads = typeof import('../tcp-workloads.js');
type BulkPath = import('../tcp-workloads.js').BulkPath;

const BULK_BYTES = 128 * 1024 * 1024;
const CONNECTIONS = 2000;
const MANY_CONNECTIONS = 100_000;
/** Steady-state allocation measurement: bytes transferred before and while measuring. */
const STEADY_WARM_BYTES = 8 * 1024 * 1024;
const STEADY_BYTES = 32 * 1024 * 1024;
/**
 * The heap sampler's mean interval for counting objects: 1 byte, so every allocation is sampled and the
 * count is exact (a 4 MiB window costs about a second more). Coarser intervals misjudge small objects:
 * V8 reports a sampled 16-byte HeapNumber as 48 bytes, so the probability correction undercounts it about
 * 2x (path row: 1.04 objects per segment at 1 byte, 0.57-0.81 at 32), and at 128 bytes and over it misses
 * objects allocated inline.
 */
const SAMPLING_INTERVAL = 1;
/**
 * The process objects are counted in: one of its own, with V8's `--predictable` (compilation and garbage
 * collection on the main thread, in the same order every run), so the count is the same in every run.
 * Counted in the bench's own process after the other rows, the zero-delay row read 0.000 in 21 of 25
 * runs: V8 compiles in the background and installs the code whenever the job is done, and a function
 * called once per chunk or per slab (`sendNow`, ByteRing `reserve`, `nextSlab`, `read`) deoptimised by
 * an earlier transfer is compiled again 8-28 MiB into the next: installed in the window, its code is 8 to
 * 18 objects of 48 bytes to 11 KB counted against whatever stack code runs then, and until then such
 * code may run unoptimised, boxing each sequence number it touches (this stack's ISNs, fixed by the
 * simulation's seed, are past 2^30 both ways) and each fractional time (144 to 892 objects).
 */
const OBJECTS_NODE_FLAGS = ['--predictable'];
const STEADY_SAMPLED_BYTES = 4 * 1024 * 1024;
/**
 * Bytes the transfer goes on for after the objects are counted: the window closes before its end, whose
 * last chunk (a fresh view of the rest) and last, shorter segments are cut views once at lengths the
 * steady state never had (3-5 of the 6 objects the zero-delay row still counted in its 4 MiB window).
 * 8 MiB is more than a 4 MiB send buffer and the path's flight ahead of the reader.
 */
const STEADY_TAIL_BYTES = 8 * 1024 * 1024;
/**
 * Bytes the zero-delay transfer has read before objects are counted. In a fresh process V8 goes on
 * optimising the stack's functions for the first ~200 MiB (`--trace-opt`: per-ACK ones such as the RTT
 * estimator's `sample` about 70 MiB in, `markLosses` 180), each boxing what it touches until then (64 MiB:
 * 1.05 objects per segment; 128: 0.10; 160: 0.07; 192: 0). Functions called once in many segments follow
 * now and then, each compiled once, 8 to 15 objects where that falls in the window (`nextSlab` about
 * 332 MiB in, the clock's callback 428, `sendBufferFor` 476, `onRead` 536, `makeRoom` 624); none does
 * from 336 to 424 MiB. About half a second.
 */
const OBJECTS_WARM_BYTES = 384 * 1024 * 1024;
/**
 * The second steady state objects are counted in, after the first in the same process: a path with a
 * bottleneck and a round trip (1 Gbit/s, 20 ms, a queue of 10,000 frames), where times have fractions,
 * the send buffer autotunes to its 4 MiB cap and the ring never drains; the zero-delay MemoryLink keeps
 * every time an integer and the send buffer at 1.25 MB. Its warm-up passes the cap (about 13 MiB in).
 * It still counts 29 objects (0.007 per segment): 17 heap numbers from the clock's wake-ups (`clockFired`,
 * `rearm`, `armClock`, the clock's `set`: a few per round trip, never optimised here, each boxing the
 * fractional times it passes on), 4 from the scoreboard's `split` making a record, and 8 of the code V8
 * compiles for the frame allocator's `nextSlab`, which falls in this window.
 */
const STEADY_PATH = { delayMs: 10, rateBitsPerSecond: 1e9, queueFrames: 10_000 };
const OBJECTS_PATH_WARM_BYTES = 24 * 1024 * 1024;
/**
 * The third, after the other two: the zero-delay transfer with the bulk row's GSO and GRO. Its other
 * shape (super-segments through TCP/IP, stretch ACKs) tiers up anew: objects per segment 0.077 after
 * 256 MiB, then 0.028-0.035 from 384 to 768 MiB (what it still costs: the view of the rest of a kept
 * segment a read ended inside, and a super-segment's view at a start the send ring had not seen). About
 * a third of a second.
 */
const OBJECTS_OFFLOADS_WARM_BYTES = 512 * 1024 * 1024;
/** Loopback connections the kernel's idle figure is taken over (two descriptors each, under 20,000). */
const KERNEL_IDLE_CONNECTIONS = 9000;
const ROUNDS = 3;
const CHUNK = 64 * 1024;

/** Bundles bench/tcp-workloads.ts (and the stack it imports) into one ESM file and imports it. */
async function loadWorkloads(): Promise<{ workloads: Workloads; file: string; cleanup: () => void }> {
  const { module, file, cleanup } = await importBundled<Workloads>(
    new URL('../tcp-workloads.ts', import.meta.url),
  );
  return { workloads: module, file, cleanup };
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

/**
 * Bytes allocated on the JS heap per TCP segment (both stacks, data and ACKs) in a bulk transfer's steady
 * state: the heap's used size at the end less at the start, plus everything each garbage collection in
 * between freed (V8's GCProfiler reports the used size before and after each one). Exact in bytes.
 */
function allocatedBytesPerSegment(w: Workloads): number {
  let profiler: v8.GCProfiler | undefined;
  let startUsed = 0;
  let allocated = 0;
  const segments = w.bulkSteadyState(STEADY_BYTES, STEADY_WARM_BYTES, {
    start() {
      profiler = new v8.GCProfiler();
      profiler.start();
      startUsed = v8.getHeapStatistics().used_heap_size;
    },
    stop() {
      const endUsed = v8.getHeapStatistics().used_heap_size;
      const result = profiler!.stop() as unknown as {
        statistics: {
          beforeGC: { heapStatistics: { usedHeapSize: number } };
          afterGC: { heapStatistics: { usedHeapSize: number } };
        }[];
      };
      let freed = 0;
      for (const gc of result.statistics)
        freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
      allocated = endUsed - startUsed + freed;
    },
  });
  return allocated / segments;
}

/** Where frames of the bundled workloads come from: the bundle's URL and the source module of each line. */
interface BundleMap {
  url: string;
  moduleAt: (line: number) => string;
}

interface SampledNode {
  id: number;
  callFrame: { url: string; lineNumber: number };
  children: SampledNode[];
}

/** Objects counted in a steady state: the stack's, and the benchmark's own (see `madeByStack`). */
interface ObjectCounts {
  stack: number;
  other: number;
}

/**
 * Whether the allocation sampled at `node` was the stack's: the innermost frame that has a script
 * (builtins such as `subarray` have none) is the stack's code (src/), not the workload's own (its
 * handler, its writes: bench/) nor the inspector's answering the profiler (node:inspector) when the
 * meter stops it, which the window also sees.
 */
function madeByStack(
  node: SampledNode | undefined,
  parents: Map<number, SampledNode>,
  bundle: BundleMap,
): boolean {
  for (let at = node; at !== undefined; at = parents.get(at.id)) {
    const { url, lineNumber } = at.callFrame;
    if (url === '') continue;
    return url === bundle.url && bundle.moduleAt(lineNumber).startsWith('src/');
  }
  return false;
}

/**
 * Objects allocated per TCP segment in the steady state of a bulk transfer, of one over `STEADY_PATH`
 * and of one with GSO and GRO, estimated with V8's sampling heap profiler (what DevTools' "allocation sampling" uses):
 * an object of `size` bytes is sampled with probability 1 - exp(-size / interval), so each sample stands
 * for 1 / that many objects (see SAMPLING_INTERVAL). Counted apart: the objects the stack's code
 * allocated, and the others (see `madeByStack`). All three are taken in one Node process of their own
 * (see OBJECTS_NODE_FLAGS), in that order; `map` locates the workloads' bundle and its lines.
 */
async function allocatedObjectsPerSegment(
  map: BundleMap,
): Promise<{ zeroDelay: ObjectCounts; path: ObjectCounts; offloads: ObjectCounts }> {
  // Objects the collector has already freed by the end count too: they are what a segment costs.
  const sampling = {
    samplingInterval: SAMPLING_INTERVAL,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  };
  const transfer = (warm: number, path?: BulkPath, offloads = false): string =>
    `measure(${warm + STEADY_SAMPLED_BYTES + STEADY_TAIL_BYTES}, ${warm}, ${JSON.stringify(path)}, ${warm + STEADY_SAMPLED_BYTES}, ${offloads})`;
  const script = `
import { Session } from 'node:inspector';
const workloads = await import(${JSON.stringify(map.url)});
const session = new Session();
session.connect();
const measure = (total, warm, path, stop, offloads) => {
  let profile;
  const meter = {
    start() {
      session.post('HeapProfiler.enable');
      session.post('HeapProfiler.startSampling', ${JSON.stringify(sampling)});
    },
    stop() {
      // Same-thread inspector sessions answer synchronously.
      session.post('HeapProfiler.stopSampling', (error, result) => {
        if (error) throw error;
        profile = result.profile;
      });
    },
  };
  const segments = workloads.bulkSteadyState(total, warm, meter, path, stop, { gro: offloads, gso: offloads });
  return { segments, profile };
};
const zeroDelay = ${transfer(OBJECTS_WARM_BYTES)};
const path = ${transfer(OBJECTS_PATH_WARM_BYTES, STEADY_PATH)};
const offloads = ${transfer(OBJECTS_OFFLOADS_WARM_BYTES, undefined, true)};
session.disconnect();
process.stdout.write(JSON.stringify({ zeroDelay, path, offloads }));
`;
  const output = await runAsync([
    process.execPath,
    ...OBJECTS_NODE_FLAGS,
    '--input-type=module',
    '-e',
    script,
  ]);
  const measured = JSON.parse(output) as Record<'zeroDelay' | 'path' | 'offloads', SteadyStateProfile>;
  return {
    zeroDelay: countObjects(measured.zeroDelay, map),
    path: countObjects(measured.path, map),
    offloads: countObjects(measured.offloads, map),
  };
}

/** What the child of `allocatedObjectsPerSegment` reports for one transfer. */
interface SteadyStateProfile {
  segments: number;
  profile: { head: SampledNode; samples?: { size: number; nodeId: number }[] };
}

/** Objects per segment in one transfer's profile, the stack's and the others. */
function countObjects({ segments, profile }: SteadyStateProfile, map: BundleMap): ObjectCounts {
  const nodes = new Map<number, SampledNode>();
  const parents = new Map<number, SampledNode>();
  const visit = (node: SampledNode): void => {
    nodes.set(node.id, node);
    for (const child of node.children) {
      parents.set(child.id, node);
      visit(child);
    }
  };
  visit(profile.head);
  const counts = { stack: 0, other: 0 };
  for (const sample of profile.samples ?? []) {
    const objects = 1 / (1 - Math.exp(-sample.size / SAMPLING_INTERVAL));
    if (madeByStack(nodes.get(sample.nodeId), parents, map)) counts.stack += objects;
    else counts.other += objects;
  }
  return { stack: counts.stack / segments, other: counts.other / segments };
}

/**
 * Memory per idle established connection: heap (and ArrayBuffers) in use with `count` connections
 * established and idle, less before, per endpoint (both stacks are in one heap, so 2 x count). Each
 * figure is taken in a Node process of its own (`workload` from the bundle at `bundle`): in a process
 * that has run other workloads, pools and tables they left grown are counted in the "before" reading
 * and reused, which made the socket figure 2 KB lower than it is.
 */
async function bytesPerIdleConnection(
  bundle: string,
  workload: 'idleConnections' | 'idleSockets',
  count: number,
): Promise<number> {
  const script = `
const workloads = await import(${JSON.stringify(pathToFileURL(bundle).href)});
// A full garbage collection, then what the JS heap and ArrayBuffers (frame and ring buffers) hold.
const inUse = () => { gc(); gc(); const usage = process.memoryUsage(); return usage.heapUsed + usage.arrayBuffers; };
const readings = [];
await workloads.${workload}(${count}, () => readings.push(inUse()));
process.stdout.write(String((readings[1] - readings[0]) / (2 * ${count})));
`;
  const output = await runAsync([process.execPath, '--expose-gc', '--input-type=module', '-e', script]);
  return Number(output);
}

/** Bytes in the kernel's slab caches (every cache's active objects times their size). */
function kernelSlabBytes(): number {
  let total = 0;
  for (const line of readFileSync('/proc/slabinfo', 'utf8').split('\n').slice(2)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length > 3) total += Number(fields[1]) * Number(fields[3]);
  }
  return total;
}

/** Holds `count` idle established loopback connections (both ends) until its stdin closes. */
const KERNEL_IDLE_HOLDER = `
import socket, sys
n = int(sys.argv[1])
listener = socket.socket()
listener.bind(('127.0.0.1', 0))
listener.listen(4096)
port = listener.getsockname()[1]
held = []
for i in range(n):
    c = socket.create_connection(('127.0.0.1', port))
    s, _ = listener.accept()
    held += [c, s]
print('ready', flush=True)
sys.stdin.read()
`;

/**
 * The kernel's memory per idle established TCP endpoint, measured in the same run: slab bytes while a
 * python3 process holds `count` loopback connections (2 x count sockets, each with its socket, inode,
 * file and dentry), less before. undefined when /proc/slabinfo or python3 is not there.
 */
async function kernelBytesPerIdleConnection(count: number): Promise<number | undefined> {
  let before: number;
  try {
    before = kernelSlabBytes();
  } catch {
    return undefined;
  }
  const child = spawn('python3', ['-c', KERNEL_IDLE_HOLDER, String(count)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const ready = await new Promise<boolean>((resolve) => {
    child.stdout.on('data', (data: Buffer) => resolve(data.toString().includes('ready')));
    child.on('error', () => resolve(false));
    child.on('exit', () => resolve(false));
  });
  const after = ready ? kernelSlabBytes() : before;
  child.stdin.end();
  await new Promise((resolve) => child.on('exit', resolve));
  return ready ? (after - before) / (2 * count) : undefined;
}

function megabytesPerSecond(bytes: number, ms: number): number {
  return bytes / 1e6 / (ms / 1000);
}

export async function run(): Promise<BenchRow[]> {
  const { workloads, file, cleanup } = await loadWorkloads();
  try {
    const nodeBulk = await best(() => nodeBulkMs(BULK_BYTES));
    const verified = await best(() => workloads.bulkTransferMs(BULK_BYTES, { gso: true, gro: true }));
    const perSegment = await best(() => workloads.bulkTransferMs(BULK_BYTES));
    const offloaded = await best(() => workloads.bulkTransferMs(BULK_BYTES, { checksumOffload: true }));
    const superSegments = await best(() => workloads.bulkTransferMs(BULK_BYTES, { offload: true }));
    const nodeConnections = await best(() => nodeConnectionsMs(CONNECTIONS));
    const connections = await best(() => workloads.connectionsMs(CONNECTIONS));
    // One round each: 100,000 take tens of seconds.
    const nodeManyConnections = await nodeConnectionsMs(MANY_CONNECTIONS);
    const manyConnections = await workloads.connectionsMs(MANY_CONNECTIONS);
    const bytesPerSegment = allocatedBytesPerSegment(workloads);
    const bundle = { url: pathToFileURL(file).href, moduleAt: moduleOfLine(readFileSync(file, 'utf8')) };
    const objects = await allocatedObjectsPerSegment(bundle);
    const objectsPerSegment = objects.zeroDelay;
    const objectsPerSegmentOnPath = objects.path;
    const objectsPerSegmentOffloaded = objects.offloads;
    const idleRaw = await bytesPerIdleConnection(file, 'idleConnections', MANY_CONNECTIONS);
    const kernelIdle = await kernelBytesPerIdleConnection(KERNEL_IDLE_CONNECTIONS);
    const idleSocket = await bytesPerIdleConnection(file, 'idleSockets', MANY_CONNECTIONS);
    const mb = `${BULK_BYTES / (1024 * 1024)} MiB`;
    return [
      {
        name: `bulk transfer, ${mb}, MTU 1500, checksums verified`,
        tcpts: formatFigure(megabytesPerSecond(BULK_BYTES, verified)),
        kernel: formatFigure(megabytesPerSecond(BULK_BYTES, nodeBulk)),
        unit: 'MB/s',
        note: 'two tcpts stacks on one MemoryLink, one thread; GSO and GRO, as Linux runs a NIC without hardware offload: TCP/IP build 64 KiB super-segments, the sending end cuts them into 1500-byte frames with full checksums before the link, the receiving end verifies each and merges those that arrive together; kernel: Node net over loopback (MTU 65536)',
      },
      {
        name: `bulk transfer, ${mb}, MTU 1500, checksums verified, every segment through TCP/IP, no GSO/GRO`,
        tcpts: formatFigure(megabytesPerSecond(BULK_BYTES, perSegment)),
        kernel: formatFigure(megabytesPerSecond(BULK_BYTES, nodeBulk)),
        unit: 'MB/s',
        note: 'the same frames on the link, each built by TCP and IP on its own',
      },
      {
        name: `bulk transfer, ${mb}, MTU 1500, checksum offload`,
        tcpts: formatFigure(megabytesPerSecond(BULK_BYTES, offloaded)),
        kernel: formatFigure(megabytesPerSecond(BULK_BYTES, nodeBulk)),
        unit: 'MB/s',
        note: 'every segment through TCP/IP; TCP checksums neither computed nor verified, as on Linux loopback',
      },
      {
        name: `bulk transfer, ${mb}, TSO/GSO and checksum offload (64 KiB super-segments)`,
        tcpts: formatFigure(megabytesPerSecond(BULK_BYTES, superSegments)),
        kernel: formatFigure(megabytesPerSecond(BULK_BYTES, nodeBulk)),
        unit: 'MB/s',
        note: 'MemoryLink offload on (as loopback and veth): segments of up to 64 KiB cross whole',
      },
      {
        name: `connections opened and closed, ${CONNECTIONS} in a row`,
        tcpts: formatFigure((CONNECTIONS * 1000) / connections),
        kernel: formatFigure((CONNECTIONS * 1000) / nodeConnections),
        unit: 'conn/s',
        note: 'handshake, FIN both ways, TIME-WAIT; kernel: Node net over loopback',
      },
      {
        name: `connections opened and closed, ${formatFigure(MANY_CONNECTIONS)} in a row`,
        tcpts: formatFigure((MANY_CONNECTIONS * 1000) / manyConnections),
        kernel: formatFigure((MANY_CONNECTIONS * 1000) / nodeManyConnections),
        unit: 'conn/s',
        note: 'one round each; TIME-WAIT piles up (tcpts: ports 1024-65535, 8 server ports; kernel: tcp_tw_reuse)',
      },
      {
        name: 'heap bytes allocated per TCP segment, steady-state bulk',
        tcpts: formatFigure(bytesPerSegment),
        kernel: '—',
        unit: 'B/segment',
        note: 'V8 GCProfiler: used-heap growth plus what each GC freed, over 24 MiB, both stacks, data + ACKs',
      },
      {
        name: 'objects allocated per TCP segment, steady-state bulk',
        tcpts: objectsPerSegment.stack.toFixed(3),
        kernel: '—',
        unit: 'objects/segment',
        note: `V8 sampling heap profiler at a 1-byte interval (every allocation sampled), freed objects included, the stack's code only (the workload's and the profiler's own: ${objectsPerSegment.other.toFixed(3)}), 4 MiB after ${OBJECTS_WARM_BYTES / (1024 * 1024)} MiB in a node --predictable process of its own; target 0`,
      },
      {
        name: 'objects allocated per TCP segment, steady-state bulk over 1 Gbit/s, 20 ms (4 MiB send buffer)',
        tcpts: objectsPerSegmentOnPath.stack.toFixed(3),
        kernel: '—',
        unit: 'objects/segment',
        note: `as above, after the zero-delay transfer and ${OBJECTS_PATH_WARM_BYTES / (1024 * 1024)} MiB of this one; the simulated bottleneck and delay (rate limiter, queue, timers) counted too (the workload's and the profiler's own: ${objectsPerSegmentOnPath.other.toFixed(3)})`,
      },
      {
        name: 'objects allocated per TCP segment, steady-state bulk with GSO and GRO',
        tcpts: objectsPerSegmentOffloaded.stack.toFixed(3),
        kernel: '—',
        unit: 'objects/segment',
        note: `as the first, with the bulk row's GSO and GRO on the link ends, after the other two transfers and ${OBJECTS_OFFLOADS_WARM_BYTES / (1024 * 1024)} MiB of this one; per wire segment (the workload's and the profiler's own: ${objectsPerSegmentOffloaded.other.toFixed(3)})`,
      },
      {
        name: `memory per idle established connection, ${formatFigure(MANY_CONNECTIONS)} connections`,
        tcpts: formatFigure(idleRaw),
        kernel: kernelIdle === undefined ? '—' : formatFigure(kernelIdle),
        unit: 'B/endpoint',
        note: `heap + ArrayBuffers after GC, per endpoint (both stacks in one heap, a process of its own); kernel: slab growth with ${formatFigure(KERNEL_IDLE_CONNECTIONS)} loopback connections held by python3`,
      },
      {
        name: `memory per idle connection with a net.Socket, ${formatFigure(MANY_CONNECTIONS)} connections`,
        tcpts: formatFigure(idleSocket),
        kernel: kernelIdle === undefined ? '—' : formatFigure(kernelIdle),
        unit: 'B/endpoint',
        note: 'createNetApi sockets on both ends; same method',
      },
    ];
  } finally {
    cleanup();
  }
}
