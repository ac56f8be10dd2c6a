/**
 * Goodput over emulated paths (issue 9): one bulk flow through a bottleneck of 100 Mbit/s with a 50 ms
 * round trip and a drop-tail queue of one bandwidth-delay product, at 0, 0.1% and 1% random loss (each
 * direction), and over 1 Gbit/s with a 100 ms round trip at 0.01%; then two flows sharing the 100 Mbit/s
 * path (CUBIC and CUBIC, BBR and BBR, CUBIC and BBR).
 *
 * Every figure has the kernel's beside it, measured in the same run on the same path:
 * - tcpts-to-tcpts runs in the simulator, in virtual time (the path is the simulator's own link);
 * - the kernel runs kernel-to-kernel between two network namespaces joined by `tcpts bridge`, which
 *   applies the simulator's impairments to real frames in real time (bench/bridged-path.ts);
 * - tcpts also runs over that same bridge against the kernel, both directions. The kernel receiving
 *   from the kernel in the direction tcpts receives in (B to A) is measured too, as the reference of the
 *   row where tcpts receives.
 * Each real-time case gets a bridge of its own, started with the same seed: the bridge draws each
 * direction's faults from a stream of its own, so every case meets the same loss pattern in the direction
 * its data flows (give or take the few frames of address resolution), whatever the cases before it sent. (One bridge for all the
 * cases of a path gave each case a different stretch of the stream: at 0.1% loss, where a handful of
 * losses decide a CUBIC flow's rate, the receive row then compared two unrelated loss patterns.)
 * tcpts uses the modern set (timestamps, SACK, RACK) and 8 MiB buffers; the kernel its defaults, with the
 * congestion control chosen per socket. Retransmissions: the sender's total (tcpi_total_retrans for the
 * kernel, tcpInfo().retransmissions for tcpts).
 *
 * Each real-time case runs SECONDS seconds (20 for the two-flow cases, measured from second 10), and
 * its goodput is the bytes the receiver got in those seconds after accept (its first byte) over their
 * length, as the simulation counts the bytes delivered in its window. (Timed to EOF instead, the kernel's
 * figure also had the sender's buffer draining at the full rate after its last write.)
 * The two flows of a pair start together on both sides: the kernel's senders at once (Promise.all),
 * the simulated ones at the same virtual instant (startGapMs 0).
 * A sender whose receiver has not taken everything DRAIN_GRACE_SECONDS after the last write resets the
 * flow, which then counts what arrived until the reset: a slow flow cannot hold the suite up.
 */
import { tapAvailability } from '../../src/link/tap/index.js';
import type { TcpConfig } from '../../src/tcp/config.js';
import {
  BridgedPath,
  FAR_KERNEL,
  NEAR_KERNEL,
  type PathSettings,
  type ReceivedFlow,
  TCPTS,
  tcptsReceive,
  tcptsSend,
} from '../bridged-path.js';
import { importBundled } from '../bundled.js';
import { type BenchRow, formatFigure, NOT_MEASURED } from '../harness.js';

type Workloads = typeof import('../goodput-workloads.js');

const SECONDS = 10;
const SHARED_SECONDS = 20;
const PAYLOAD_SHARE = 1448 / 1514;
const TCPTS_CONFIG: Partial<TcpConfig> = {
  timestamps: true,
  sack: true,
  rack: true,
  receiveBufferSize: 8 * 1024 * 1024,
  sendBufferSize: 8 * 1024 * 1024,
};

interface PathCase extends PathSettings {
  simSeconds: number;
}

const PATHS: readonly PathCase[] = [
  { rateBitsPerSecond: 100e6, delayMs: 25, loss: 0, simSeconds: 10 },
  { rateBitsPerSecond: 100e6, delayMs: 25, loss: 0.001, simSeconds: 10 },
  { rateBitsPerSecond: 100e6, delayMs: 25, loss: 0.01, simSeconds: 10 },
  { rateBitsPerSecond: 1e9, delayMs: 50, loss: 0.0001, simSeconds: 4 },
];

function mbit(bits: number): string {
  return formatFigure(bits / 1e6);
}

/** Bits per second over the flow's measurement window (bytes delivered in it over its length). */
function rate(flow: ReceivedFlow): number {
  return (flow.windowBytes * 8) / flow.windowSeconds;
}

function describePath(p: PathSettings): string {
  return `${p.rateBitsPerSecond / 1e6} Mbit/s, RTT ${2 * p.delayMs} ms, queue 1 BDP, loss ${p.loss * 100}%`;
}

interface KernelRun {
  /** Each flow's goodput from `markSeconds` to `seconds` after its accept. */
  bitsPerSecond: number[];
  retransmissions: number[];
}

/**
 * Kernel to kernel, one flow per algorithm given, all at once, from namespace A to B (or B to A when
 * `towardA`); goodput counted from second `markSeconds` to second `seconds` after each accept.
 */
async function kernelFlows(
  path: BridgedPath,
  algorithms: readonly string[],
  seconds: number,
  markSeconds: number,
  towardA = false,
): Promise<KernelRun> {
  const [from, to, address] = towardA ? [path.nsB, path.nsA, NEAR_KERNEL] : [path.nsA, path.nsB, FAR_KERNEL];
  const ports = algorithms.map((_, i) => 5201 + i);
  const sink = path.receive(to, address, ports, markSeconds, seconds);
  await sink.ready;
  const retransmissions = await Promise.all(
    algorithms.map((cc, i) => path.kernelSend(from, address, ports[i]!, cc, seconds)),
  );
  const flows = await sink.done;
  return { bitsPerSecond: flows.map(rate), retransmissions };
}

function jain(rates: readonly number[]): number {
  const total = rates.reduce((a, b) => a + b, 0);
  const squares = rates.reduce((a, b) => a + b * b, 0);
  return squares > 0 ? (total * total) / (rates.length * squares) : 0;
}

/**
 * Each real-time case on one path, each on a bridge of its own: kernel CUBIC/BBR, tcpts CUBIC/BBR sending
 * to the kernel, the kernel sending to the kernel and to tcpts in the other direction.
 */
async function realTimeCases(p: PathSettings) {
  const kernelCubic = await BridgedPath.with(p, (path) => kernelFlows(path, ['cubic'], SECONDS, 0));
  const kernelBbr = await BridgedPath.with(p, (path) => kernelFlows(path, ['bbr'], SECONDS, 0));
  const tcptsSends: Record<string, { bitsPerSecond: number; retransmissions: number }> = {};
  for (const cc of ['cubic', 'bbr'] as const) {
    tcptsSends[cc] = await BridgedPath.with(p, async (path) => {
      const host = path.tcptsHost({ ...TCPTS_CONFIG, congestionControl: cc });
      try {
        const sink = path.receive(path.nsB, FAR_KERNEL, [5301], 0, SECONDS);
        await sink.ready;
        const retransmissions = await tcptsSend(host, FAR_KERNEL, 5301, SECONDS);
        const [flow] = await sink.done;
        return { bitsPerSecond: rate(flow!), retransmissions };
      } finally {
        host.close();
      }
    });
  }
  const kernelTowardA = await BridgedPath.with(p, (path) => kernelFlows(path, ['cubic'], SECONDS, 0, true));
  const { receives, bridge } = await BridgedPath.with(p, async (path) => {
    const host = path.tcptsHost(TCPTS_CONFIG);
    try {
      const sink = tcptsReceive(host, 5401, SECONDS);
      await sink.ready;
      const retransmissions = await path.kernelSend(path.nsB, TCPTS, 5401, 'cubic', SECONDS);
      return {
        receives: { bitsPerSecond: rate(await sink.done), retransmissions },
        bridge: path.lastBridgeStats(),
      };
    } finally {
      host.close();
    }
  });
  return { kernelCubic, kernelBbr, tcptsSends, kernelTowardA, receives, bridge };
}

export async function run(): Promise<BenchRow[]> {
  const { module: workloads, cleanup } = await importBundled<Workloads>(
    new URL('../goodput-workloads.ts', import.meta.url),
  );
  const availability = tapAvailability();
  const rows: BenchRow[] = [];
  try {
    for (const p of PATHS) {
      const name = describePath(p);
      const ceiling = p.rateBitsPerSecond * PAYLOAD_SHARE;
      const real = availability.ok ? await realTimeCases(p) : undefined;
      const skipped = `not measured: ${availability.reason}`;
      for (const cc of ['cubic', 'bbr'] as const) {
        const sim = workloads.runBulkFlows({
          flows: [cc],
          rateBitsPerSecond: p.rateBitsPerSecond,
          delayMs: p.delayMs,
          loss: p.loss,
          ackLoss: p.loss,
          durationMs: p.simSeconds * 1000,
          measureFromMs: 0,
          tcp: TCPTS_CONFIG,
        });
        const kernel = cc === 'cubic' ? real?.kernelCubic : real?.kernelBbr;
        rows.push({
          name: `${cc}, ${name}: tcpts -> tcpts (simulated) vs kernel -> kernel (bridge)`,
          tcpts: mbit(sim.totalBitsPerSecond),
          kernel: kernel ? mbit(kernel.bitsPerSecond[0]!) : NOT_MEASURED,
          unit: 'Mbit/s',
          note: `tcpts ${formatFigure((sim.totalBitsPerSecond / ceiling) * 100)}% of the payload ceiling ${mbit(ceiling)}, ${sim.flows[0]!.retransmissions} retransmissions, ${sim.queueDrops} queue drops, ${p.simSeconds} s virtual; kernel ${kernel ? `${kernel.retransmissions[0]} retransmissions, ${SECONDS} s` : skipped}`,
        });
        const sends = real?.tcptsSends[cc];
        rows.push({
          name: `${cc}, ${name}: tcpts -> kernel over the bridge`,
          tcpts: sends ? mbit(sends.bitsPerSecond) : NOT_MEASURED,
          kernel: kernel ? mbit(kernel.bitsPerSecond[0]!) : NOT_MEASURED,
          unit: 'Mbit/s',
          note: sends
            ? `tcpts ${sends.retransmissions} retransmissions; kernel column: kernel -> kernel, ${kernel!.retransmissions[0]} retransmissions; ${SECONDS} s each`
            : skipped,
        });
      }
      rows.push({
        name: `cubic, ${name}: kernel -> tcpts over the bridge`,
        tcpts: real ? mbit(real.receives.bitsPerSecond) : NOT_MEASURED,
        kernel: real ? mbit(real.kernelTowardA.bitsPerSecond[0]!) : NOT_MEASURED,
        unit: 'Mbit/s',
        note: real
          ? `kernel sender ${real.receives.retransmissions} retransmissions; kernel column: kernel -> kernel in the same direction (B to A), ${real.kernelTowardA.retransmissions[0]} retransmissions; bridge at the end: ${real.bridge}`
          : skipped,
      });
    }
    for (const flows of [
      ['cubic', 'cubic'],
      ['bbr', 'bbr'],
      ['cubic', 'bbr'],
    ] as const) {
      const sim = workloads.runBulkFlows({
        flows,
        rateBitsPerSecond: 100e6,
        delayMs: 25,
        durationMs: SHARED_SECONDS * 1000,
        measureFromMs: 10_000,
        startGapMs: 0,
        tcp: TCPTS_CONFIG,
      });
      const kernel = availability.ok
        ? await BridgedPath.with({ rateBitsPerSecond: 100e6, delayMs: 25, loss: 0 }, (path) =>
            kernelFlows(path, flows, SHARED_SECONDS, 10),
          )
        : undefined;
      rows.push({
        name: `${flows.join(' + ')} sharing 100 Mbit/s, RTT 50 ms, seconds 10-20`,
        tcpts: formatFigure(sim.fairness),
        kernel: kernel ? formatFigure(jain(kernel.bitsPerSecond)) : NOT_MEASURED,
        unit: 'Jain index',
        note: `tcpts (simulated) ${sim.flows.map((f) => `${f.congestionControl} ${mbit(f.goodputBitsPerSecond)}`).join(', ')}; kernel (bridge) ${kernel ? flows.map((cc, i) => `${cc} ${mbit(kernel.bitsPerSecond[i]!)}`).join(', ') : 'not measured'} Mbit/s; within 10% of each other needs index >= 0.998`,
      });
    }
  } finally {
    cleanup();
  }
  return rows;
}
