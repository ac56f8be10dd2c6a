/**
 * `npm run profile -- <workload>`: runs one bench workload under V8's sampling CPU profiler, writes the
 * profile (a `.cpuprofile`, which Chrome DevTools' Performance panel and speedscope open) and prints the
 * functions that took the most time themselves ("self time"), with the source module each comes from.
 *
 *   npm run profile -- bulk                     in-process bulk, MTU 1500, checksums verified, GSO and GRO
 *   npm run profile -- bulk-per-segment         the same with every segment through TCP/IP (no GSO/GRO)
 *   npm run profile -- bulk-gso                 the same, sent through GSO only (received per segment)
 *   npm run profile -- bulk-gro                 the same, received through GRO only (sent per segment)
 *   npm run profile -- bulk-offload             the same over links with TSO/checksum offload (64 KiB)
 *   npm run profile -- connections              connections opened and closed one after the other
 *   npm run profile -- bulk --out p.cpuprofile --top 30
 *
 * The workload runs bundled (bench/bundled.ts), as the bench measures it; esbuild starts each source
 * module with a `// src/...` comment line, which is how a frame's line in the bundle is traced back to
 * the module it came from. One warm-up run comes first, so the profile shows optimised code.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { importBundled, moduleOfLine } from './bundled.js';

type Workloads = typeof import('./tcp-workloads.js');

const BULK_BYTES = 128 * 1024 * 1024;

const WORKLOADS: Record<string, { describe: string; run: (w: Workloads) => unknown }> = {
  bulk: {
    describe: `${BULK_BYTES >> 20} MiB over one connection, MTU 1500, checksums computed and verified, GSO and GRO`,
    run: (w) => w.bulkTransferMs(BULK_BYTES, { gso: true, gro: true }),
  },
  'bulk-per-segment': {
    describe: `${BULK_BYTES >> 20} MiB, MTU 1500, checksums verified, every segment through TCP/IP (no GSO/GRO)`,
    run: (w) => w.bulkTransferMs(BULK_BYTES),
  },
  'bulk-gso': {
    describe: `${BULK_BYTES >> 20} MiB, MTU 1500, checksums verified, sent through GSO (MemoryLinkOptions.gso)`,
    run: (w) => w.bulkTransferMs(BULK_BYTES, { gso: true }),
  },
  'bulk-gro': {
    describe: `${BULK_BYTES >> 20} MiB, MTU 1500, checksums verified, received through GRO (MemoryLinkOptions.gro)`,
    run: (w) => w.bulkTransferMs(BULK_BYTES, { gro: true }),
  },
  'bulk-checksum-offload': {
    describe: `${BULK_BYTES >> 20} MiB, MTU 1500, TCP checksums neither computed nor verified`,
    run: (w) => w.bulkTransferMs(BULK_BYTES, { checksumOffload: true }),
  },
  'bulk-offload': {
    describe: `${BULK_BYTES >> 20} MiB over links with TSO and checksum offload (64 KiB super-segments)`,
    run: (w) => w.bulkTransferMs(BULK_BYTES, { offload: true }),
  },
  connections: {
    describe: '20,000 connections opened and closed one after the other',
    run: (w) => w.connectionsMs(20_000),
  },
};

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

export interface TopFrame {
  name: string;
  where: string;
  selfMs: number;
  percent: number;
}

/** Self time per function (same name and place), largest first. */
export function topFrames(profile: CpuProfile, place: (url: string, line: number) => string): TopFrame[] {
  const total = profile.nodes.reduce((n, node) => n + (node.hitCount ?? 0), 0);
  const msPerSample = (profile.endTime - profile.startTime) / 1000 / Math.max(1, total);
  const byFrame = new Map<string, TopFrame>();
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    const frame = node.callFrame;
    const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
    const where = frame.url === '' ? '' : place(frame.url, frame.lineNumber);
    const key = `${name}@${where}`;
    const entry = byFrame.get(key) ?? { name, where, selfMs: 0, percent: 0 };
    entry.selfMs += hits * msPerSample;
    entry.percent += (hits / total) * 100;
    byFrame.set(key, entry);
  }
  return [...byFrame.values()].sort((a, b) => b.selfMs - a.selfMs);
}

async function main(argv: readonly string[]): Promise<number> {
  const name = argv.find((arg, i) => !arg.startsWith('--') && !argv[i - 1]?.startsWith('--'));
  const option = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const workload = name === undefined ? undefined : WORKLOADS[name];
  if (workload === undefined) {
    console.error('usage: npm run profile -- <workload> [--out file.cpuprofile] [--top N]\nworkloads:');
    for (const [key, w] of Object.entries(WORKLOADS)) console.error(`  ${key.padEnd(22)} ${w.describe}`);
    return 2;
  }
  const out = option('--out') ?? `tcpts-${name}.cpuprofile`;
  const top = Number(option('--top') ?? 20);

  const { module, file, cleanup } = await importBundled<Workloads>(
    new URL('./tcp-workloads.ts', import.meta.url),
  );
  try {
    const bundleUrl = new URL(`file://${file}`).href;
    const moduleAt = moduleOfLine(readFileSync(file, 'utf8'));
    await workload.run(module); // warm-up: the JIT's first pass is not the stack's speed
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
    const started = performance.now();
    await workload.run(module);
    const elapsed = performance.now() - started;
    const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile };
    session.disconnect();
    writeFileSync(out, JSON.stringify(profile));

    const place = (url: string, line: number): string =>
      url === bundleUrl ? `${moduleAt(line)}` : url.replace(/^node:/, 'node:');
    console.log(`${name}: ${workload.describe}; ${elapsed.toFixed(0)} ms profiled; written to ${out}\n`);
    console.log(`${'self ms'.padStart(9)} ${'self %'.padStart(7)}  function (module)`);
    for (const frame of topFrames(profile, place).slice(0, top)) {
      const where = frame.where === '' ? '' : ` (${frame.where})`;
      console.log(
        `${frame.selfMs.toFixed(1).padStart(9)} ${frame.percent.toFixed(1).padStart(7)}  ${frame.name}${where}`,
      );
    }
  } finally {
    cleanup();
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
