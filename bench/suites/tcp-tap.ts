/**
 * TCP throughput between tcpts and the Linux kernel over a TAP device (MTU 1500), each direction, beside
 * kernel-to-kernel throughput over a veth pair between two network namespaces measured in the same run.
 *
 * The kernel end is the same small Python program in every case (one `sendall` of 1 MiB at a time, or
 * `recv_into` a 1 MiB buffer), so the kernel column differs from the tcpts column only in who runs TCP on
 * the other side and over what link. The receiver times from the accepted connection to the sender's FIN.
 * tcpts receives the way that receiver does: into one 1 MiB buffer of its own (Node's `onread` option on
 * a connecting socket, so here tcpts connects and the kernel end listens, then sends), timed from
 * 'connect' to the FIN. The offloaded receive row also gives, in its note, a receive read through 'data'
 * events, where every chunk is the application's to keep: TCP then hands over the 64 KiB packets it kept
 * as they arrived (no copy), and their memory is left to the garbage collector, where a copy into the
 * application's buffer gives each packet back to the TAP device to be read into again (half of the
 * warm-up connections read through 'data' events, so both ways are compiled when timed).
 * The veth pair keeps the kernel's defaults (GSO/GRO: segments of up to 64 KiB cross it at once), which is
 * what two local containers see. tcpts runs twice: with the TAP's offloads (virtio-net headers, TSO and
 * checksum offload: up to 64 KiB per read() or write(), as the veth pair gets), and without, where every
 * 1514-byte frame costs a read() or write() and a pass through the kernel's stack of its own.
 */

import { createTapHost, type TapHost } from '../../src/cli/tap-host.js';
import { openTap, tapAvailability } from '../../src/link/tap/index.js';
import { tcptsReceive } from '../bridged-path.js';
import { type BenchRow, formatFigure, NOT_MEASURED } from '../harness.js';
import { pythonIn, runAsync, runListening, sh, uniqueName } from '../processes.js';

const BYTES = 256 * 1024 * 1024;
/**
 * Bytes each direction carries once, untimed, before it is measured: a fresh tcpts process runs its
 * receive path (coalescer, reassembly, ring copy) and its send path as interpreted code for the first tens
 * of MiB, and each direction's code is compiled only when that direction runs. The kernel pair warms up the
 * same way so both columns are measured in the same state.
 *
 * What counts is segments, not bytes: V8 optimises the per-segment code after some thousands of calls.
 * Without offload 32 MiB is 23,000 segments. With offload it is only 512 TSO segments, and the timed run
 * then paid for the compiling (`--trace-opt`: about 1 s of it during that run; successive 256 MiB sends in
 * one process ran at 3.0, then 7.5, 11.4, 10.7 Gbit/s at load 2), so offloaded runs warm up on 256 MiB
 * (4,096 TSO segments), and the kernel pair on the same amount.
 *
 * And what counts is connections too: the warm-up is carried by WARM_UP_CONNECTIONS connections in a row,
 * not one. Sequence numbers and timestamps are random 32-bit numbers per connection, and V8 keeps a field
 * or a value that has only held numbers below 2^31 as a small integer; the first connection whose ISN, the
 * peer's ISN or a timestamp is 2^31 or more changes the field's representation and the code trained on it
 * is thrown away and compiled again (--trace-deopt: 30-60 deoptimisations and about 100 functions compiled
 * again, Tcb accessors, parseTcpInto, seqLe/seqGt). With one warm-up connection the timed one was the
 * second in the process and met such numbers for the first time with even odds per field. 256 MiB sends at
 * load 8-12, six processes for each warm-up: after one warm-up connection of 256 MiB the timed send took 431-565 ms
 * of tcpts CPU (median 487) and ran at a median of 2,645 Mbit/s; after eight of 32 MiB, 191-577 ms (median
 * 258) and 6,542 Mbit/s. TCP has since kept sequence numbers and timestamps in their signed 32-bit form
 * (tcp/seq.ts), always small integers, which removed most of those: over this warm-up (offload, two runs
 * each), "wrong map" bailouts after each direction's first connection went from 19 and 43 to 1 and 0. The
 * warm-up is still spread over WARM_UP_CONNECTIONS connections, so that figures compare across runs.
 */
const WARM_UP_BYTES = 32 * 1024 * 1024;
/** The TAP's two ends: the kernel's (in the namespace) and tcpts's. */
const KERNEL_ADDRESS = '10.88.201.1';
const TCPTS_ADDRESS = '10.88.201.2';
const OFFLOAD_WARM_UP_BYTES = 256 * 1024 * 1024;
const WARM_UP_CONNECTIONS = 8;

const SENDER = `
import socket, sys
if sys.argv[4] == 'listen':
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((sys.argv[1], int(sys.argv[2])))
    l.listen(1)
    print('listening', flush=True)
    s, _ = l.accept()
else:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
block = bytes(1 << 20)
for _ in range(int(sys.argv[3]) >> 20):
    s.sendall(block)
s.close()
`;

/** Prints 'listening', then per connection: bytes and seconds from accept to EOF. */
const RECEIVER = `
import socket, sys, time
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], int(sys.argv[2])))
l.listen(1)
print('listening', flush=True)
c, _ = l.accept()
start = time.perf_counter()
buf = bytearray(1 << 20)
total = 0
while True:
    n = c.recv_into(buf)
    if n == 0:
        break
    total += n
print(total, time.perf_counter() - start, flush=True)
`;

/** Starts the receiver and resolves with its report once it is done; `ready` resolves when it listens. */
function receiver(
  ns: string,
  address: string,
  port: number,
  expected = BYTES,
): { ready: Promise<void>; done: Promise<number> } {
  const server = runListening(pythonIn(ns, RECEIVER, address, port));
  const done = server.done.then((output) => {
    const [bytes, seconds] = output.trim().split('\n').pop()!.split(' ').map(Number) as [number, number];
    if (bytes !== expected) throw new Error(`receiver got ${bytes} of ${expected} bytes`);
    return (bytes * 8) / seconds / 1e6;
  });
  return { ready: server.ready, done };
}

function sender(ns: string, address: string, port: number, bytes = BYTES): Promise<string> {
  return runAsync(pythonIn(ns, SENDER, address, port, bytes, 'connect'));
}

/** tcpts sends BYTES to the kernel receiver; Mbit/s as the receiver measured it. */
async function tcptsToKernel(
  host: TapHost,
  ns: string,
  kernelAddress: string,
  bytes = BYTES,
): Promise<number> {
  const port = 5001;
  const sink = receiver(ns, kernelAddress, port, bytes);
  await sink.ready;
  const block = Buffer.alloc(1 << 20);
  const socket = host.net.connect({ host: kernelAddress, port });
  await new Promise<void>((resolve, reject) => {
    let sent = 0;
    const pump = (): void => {
      while (sent < bytes) {
        sent += block.length;
        if (!socket.write(block)) {
          socket.once('drain', pump);
          return;
        }
      }
      socket.end(resolve);
    };
    socket.once('connect', pump);
    socket.once('error', reject);
  });
  return sink.done;
}

/** The one buffer tcpts reads into, as the kernel's receiver reads into one of 1 MiB. */
const READ_BUFFER = Buffer.allocUnsafe(1 << 20);

/**
 * The kernel sends BYTES to tcpts, which connects to it and reads into READ_BUFFER (`onread`); Mbit/s from
 * 'connect' to the FIN. With `dataEvents`, the kernel connects to a tcpts server that reads through
 * 'data' events instead, timed from the accepted connection to the FIN.
 */
async function kernelToTcpts(
  host: TapHost,
  ns: string,
  expected = BYTES,
  port = 5002,
  dataEvents = false,
): Promise<number> {
  if (dataEvents) {
    const flow = tcptsReceive(host, port);
    await flow.ready;
    await sender(ns, TCPTS_ADDRESS, port, expected);
    const { bytes, seconds } = await flow.done;
    if (bytes !== expected) throw new Error(`tcpts got ${bytes} of ${expected} bytes`);
    return (bytes * 8) / seconds / 1e6;
  }
  const source = runListening(pythonIn(ns, SENDER, KERNEL_ADDRESS, port, expected, 'listen'));
  await source.ready;
  let bytes = 0;
  const seconds = await new Promise<number>((resolve, reject) => {
    let started = 0;
    const socket = host.net.connect({
      host: KERNEL_ADDRESS,
      port,
      onread: {
        buffer: READ_BUFFER,
        callback: (count: number) => {
          bytes += count;
          return true;
        },
      },
    });
    socket.once('connect', () => {
      started = performance.now();
    });
    socket.once('end', () => {
      resolve((performance.now() - started) / 1000);
      socket.destroy();
    });
    socket.once('error', reject);
  });
  await source.done;
  if (bytes !== expected) throw new Error(`tcpts got ${bytes} of ${expected} bytes`);
  return (bytes * 8) / seconds / 1e6;
}

/** Kernel to kernel over a veth pair between two namespaces, one direction. */
async function kernelToKernel(
  from: string,
  to: string,
  toAddress: string,
  port: number,
  bytes = BYTES,
): Promise<number> {
  const sink = receiver(to, toAddress, port, bytes);
  await sink.ready;
  await sender(from, toAddress, port, bytes);
  return sink.done;
}

async function withTapHost<T>(offload: boolean, body: (host: TapHost, ns: string) => Promise<T>): Promise<T> {
  const ns = uniqueName('tcpts-bench-');
  sh('ip', ['netns', 'add', ns]);
  let host: TapHost | undefined;
  try {
    const ifname = uniqueName('tcptsb');
    const tap = openTap({ name: ifname, up: false, offload });
    sh('ip', ['link', 'set', ifname, 'netns', ns]);
    sh('ip', ['-n', ns, 'addr', 'add', `${KERNEL_ADDRESS}/24`, 'dev', ifname]);
    sh('ip', ['-n', ns, 'link', 'set', ifname, 'up']);
    host = createTapHost({ tap, ip: `${TCPTS_ADDRESS}/24` });
    return await body(host, ns);
  } finally {
    host?.close();
    sh('ip', ['netns', 'delete', ns]);
  }
}

async function withVethPair<T>(body: (a: string, b: string) => Promise<T>): Promise<T> {
  const a = uniqueName('tcpts-bench-a-');
  const b = uniqueName('tcpts-bench-b-');
  sh('ip', ['netns', 'add', a]);
  sh('ip', ['netns', 'add', b]);
  try {
    const ifA = uniqueName('veth');
    const ifB = uniqueName('veth');
    sh('ip', ['-n', a, 'link', 'add', ifA, 'type', 'veth', 'peer', 'name', ifB, 'netns', b]);
    sh('ip', ['-n', a, 'addr', 'add', '10.88.202.1/24', 'dev', ifA]);
    sh('ip', ['-n', b, 'addr', 'add', '10.88.202.2/24', 'dev', ifB]);
    sh('ip', ['-n', a, 'link', 'set', ifA, 'up']);
    sh('ip', ['-n', b, 'link', 'set', ifB, 'up']);
    return await body(a, b);
  } finally {
    sh('ip', ['netns', 'delete', a]);
    sh('ip', ['netns', 'delete', b]);
  }
}

/**
 * One TAP run's figures (Mbit/s): each direction's timed run, and its untimed warm-up as the other end
 * measured it (what a fresh process gets, compiling its code as it goes).
 */
interface TapFigures {
  sends: number;
  receives: number;
  /** The receive run again, read through 'data' events. */
  receivesByDataEvents: number;
  warmUpSends: number;
  warmUpReceives: number;
  offloadRefused: string | undefined;
}

export async function run(): Promise<BenchRow[]> {
  const availability = tapAvailability();
  if (!availability.ok) {
    return [
      {
        name: 'TCP over TAP',
        tcpts: NOT_MEASURED,
        kernel: NOT_MEASURED,
        note: `skipped: ${availability.reason}`,
      },
    ];
  }
  const measureTap = (offload: boolean): Promise<TapFigures> =>
    withTapHost(offload, async (host, ns) => {
      // Each direction warms up untimed first, over several connections, so its data path is compiled
      // when timed (see WARM_UP_CONNECTIONS). The warm-up's figure is its bytes over its summed durations.
      const each = (offload ? OFFLOAD_WARM_UP_BYTES : WARM_UP_BYTES) / WARM_UP_CONNECTIONS;
      const warmUp = async (transfer: (k: number) => Promise<number>): Promise<number> => {
        let seconds = 0;
        for (let k = 0; k < WARM_UP_CONNECTIONS; k++) seconds += (each * 8) / 1e6 / (await transfer(k));
        return (each * WARM_UP_CONNECTIONS * 8) / 1e6 / seconds;
      };
      const warmUpSends = await warmUp(() => tcptsToKernel(host, ns, KERNEL_ADDRESS, each));
      const sends = await tcptsToKernel(host, ns, KERNEL_ADDRESS);
      // Every other warm-up connection reads through 'data' events, so that path is compiled too when
      // the offloaded row times it for its note.
      const warmUpReceives = await warmUp((k) =>
        kernelToTcpts(host, ns, each, 5020 + k, offload && k % 2 === 1),
      );
      const receives = await kernelToTcpts(host, ns);
      const receivesByDataEvents = offload ? await kernelToTcpts(host, ns, BYTES, 5005, true) : Number.NaN;
      const status = host.tap.offloadStatus;
      return {
        sends,
        receives,
        receivesByDataEvents,
        warmUpSends,
        warmUpReceives,
        offloadRefused: offload && !status.enabled ? status.reason : undefined,
      };
    });
  const {
    sends: tcptsSends,
    receives: tcptsReceives,
    receivesByDataEvents,
    warmUpSends,
    warmUpReceives,
    offloadRefused,
  } = await measureTap(true);
  const { sends: plainSends, receives: plainReceives } = await measureTap(false);
  const [kernelForward, kernelBackward] = await withVethPair(async (a, b) => {
    await kernelToKernel(a, b, '10.88.202.2', 5013, OFFLOAD_WARM_UP_BYTES);
    const forward = await kernelToKernel(a, b, '10.88.202.2', 5003);
    await kernelToKernel(b, a, '10.88.202.1', 5014, OFFLOAD_WARM_UP_BYTES);
    return [forward, await kernelToKernel(b, a, '10.88.202.1', 5004)];
  });
  const size = (warmUp: number): string =>
    `${BYTES / 1048576} MiB after ${warmUp / 1048576} MiB untimed over ${WARM_UP_CONNECTIONS} connections`;
  const offloadNote =
    offloadRefused === undefined ? 'TAP offload (TSO, checksum)' : `offload refused: ${offloadRefused}`;
  // The first 256 MiB each way run while V8 is still compiling the per-segment code: shown
  // beside the steady-state figure, not instead of it.
  const warmUpNote = (mbits: number): string =>
    `; the untimed first ${OFFLOAD_WARM_UP_BYTES / 1048576} MiB in this direction (${WARM_UP_CONNECTIONS} connections) ran at ${formatFigure(mbits)} Mbit/s`;
  return [
    {
      name: `TCP send, tcpts -> kernel over TAP, MTU 1500, ${size(OFFLOAD_WARM_UP_BYTES)}`,
      tcpts: formatFigure(tcptsSends),
      kernel: formatFigure(kernelForward),
      unit: 'Mbit/s',
      note: `${offloadNote}${warmUpNote(warmUpSends)}; kernel column: kernel -> kernel over a veth pair (GSO/GRO on), same sender and receiver`,
    },
    {
      name: `TCP receive, kernel -> tcpts over TAP, MTU 1500, ${size(OFFLOAD_WARM_UP_BYTES)}`,
      tcpts: formatFigure(tcptsReceives),
      kernel: formatFigure(kernelBackward),
      unit: 'Mbit/s',
      note: `${offloadNote}; tcpts reads into one 1 MiB buffer (onread), as the kernel's receiver does (recv_into); read through 'data' events instead (each chunk kept by the application, no copy): ${formatFigure(receivesByDataEvents)} Mbit/s${warmUpNote(warmUpReceives)}; kernel column: the other direction of the same veth pair`,
    },
    {
      name: `TCP send, tcpts -> kernel over TAP without offload, ${size(WARM_UP_BYTES)}`,
      tcpts: formatFigure(plainSends),
      kernel: formatFigure(kernelForward),
      unit: 'Mbit/s',
      note: 'one 1514-byte frame per write()',
    },
    {
      name: `TCP receive, kernel -> tcpts over TAP without offload, ${size(WARM_UP_BYTES)}`,
      tcpts: formatFigure(plainReceives),
      kernel: formatFigure(kernelBackward),
      unit: 'Mbit/s',
      note: 'one 1514-byte frame per read()',
    },
  ];
}
