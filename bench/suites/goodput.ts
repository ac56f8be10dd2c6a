/**
 * Goodput over emulated paths (issue 9): one bulk flow through a bottleneck of 100 Mbit/s with a 50 ms
 * round trip and a drop-tail queue of one bandwidth-delay product, at 0, 0.1% and 1% random loss, and
 * over 1 Gbit/s with a 100 ms round trip at 0.01%; then two flows sharing the 100 Mbit/s path (CUBIC and
 * CUBIC, BBR and BBR, CUBIC and BBR). tcpts talks to tcpts in the simulator, in virtual time, with
 * timestamps on and 8 MiB buffers; goodput is what the receiving application read.
 *
 * The kernel's figure on the same path needs a real-time path between two network namespaces (the
 * planned `tcpts bridge`), which does not exist yet: the kernel column says so. The reference printed
 * instead is the most the link carries as TCP payload (1448 of every 1514 bytes with timestamps: 1436)
 * and, for lossy paths, the Mathis bound MSS/RTT x 1.22/sqrt(p) that caps loss-based algorithms.
 */
import { importBundled } from '../bundled.js';
import { type BenchRow, formatFigure } from '../harness.js';

type Workloads = typeof import('../goodput-workloads.js');

async function loadWorkloads(): Promise<{ workloads: Workloads; cleanup: () => void }> {
  const { module, cleanup } = await importBundled<Workloads>(
    new URL('../goodput-workloads.ts', import.meta.url),
  );
  return { workloads: module, cleanup };
}

const PAYLOAD_SHARE = 1436 / 1514;
const MSS = 1436;
const KERNEL = 'not measured: needs `tcpts bridge`';

function mathis(rttMs: number, loss: number): number {
  return ((MSS * 8) / (rttMs / 1000)) * (1.22 / Math.sqrt(loss));
}

function mbit(bits: number): string {
  return formatFigure(bits / 1e6);
}

export async function run(): Promise<BenchRow[]> {
  const { workloads, cleanup } = await loadWorkloads();
  const rows: BenchRow[] = [];
  try {
    const single = [
      { rate: 100e6, delayMs: 25, loss: 0, durationMs: 10_000 },
      { rate: 100e6, delayMs: 25, loss: 0.001, durationMs: 10_000 },
      { rate: 100e6, delayMs: 25, loss: 0.01, durationMs: 10_000 },
      { rate: 1e9, delayMs: 50, loss: 0.0001, durationMs: 4_000 },
    ];
    for (const path of single) {
      for (const cc of ['cubic', 'bbr'] as const) {
        const r = workloads.runBulkFlows({
          flows: [cc],
          rateBitsPerSecond: path.rate,
          delayMs: path.delayMs,
          loss: path.loss,
          durationMs: path.durationMs,
          measureFromMs: 0,
          tcp: { timestamps: true },
        });
        const ceiling = path.rate * PAYLOAD_SHARE;
        const bound =
          path.loss > 0 ? `, Mathis bound ${mbit(mathis(2 * path.delayMs, path.loss))} Mbit/s` : '';
        rows.push({
          name: `${cc}, ${path.rate / 1e6} Mbit/s, RTT ${2 * path.delayMs} ms, queue 1 BDP, loss ${path.loss * 100}%`,
          tcpts: mbit(r.totalBitsPerSecond),
          kernel: KERNEL,
          unit: 'Mbit/s',
          note: `${formatFigure(r.linkShare * 100)}% of the link (payload ceiling ${mbit(ceiling)}${bound}); ${r.flows[0]!.retransmissions} retransmissions, ${r.queueDrops} queue drops; ${path.durationMs / 1000} s virtual`,
        });
      }
    }
    for (const flows of [
      ['cubic', 'cubic'],
      ['bbr', 'bbr'],
      ['cubic', 'bbr'],
    ] as const) {
      const r = workloads.runBulkFlows({
        flows,
        rateBitsPerSecond: 100e6,
        delayMs: 25,
        durationMs: 20_000,
        measureFromMs: 10_000,
        tcp: { timestamps: true },
      });
      rows.push({
        name: `${flows.join(' + ')} sharing 100 Mbit/s, RTT 50 ms, seconds 10-20`,
        tcpts: formatFigure(r.fairness),
        kernel: KERNEL,
        unit: 'Jain index',
        note: `${r.flows.map((f) => `${f.congestionControl} ${mbit(f.goodputBitsPerSecond)}`).join(', ')} Mbit/s; within 10% of each other needs index >= 0.998`,
      });
    }
  } finally {
    cleanup();
  }
  return rows;
}
