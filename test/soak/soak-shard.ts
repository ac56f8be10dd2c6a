/**
 * Splits the soak's seeds over several test files (shards), so a test runner with several workers runs
 * them in parallel, and handles what a failing seed must leave behind: the command that replays it and a
 * pcap of its frames.
 *
 *   npx vitest run test/soak                     the default 2,000 seeds (1..2000)
 *   SOAK_RUNS=20000 npx vitest run test/soak     more seeds
 *   SOAK_FIRST_SEED=50001 npx vitest run ...     another range
 *   SOAK_SEED=1234 npx vitest run test/soak      replays one seed (and writes its pcap if it fails)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, test } from 'vitest';
import { tcpLayerOf } from '../../src/api/tcp-layer-of-stack.js';
import { type SoakOutcome, soakRun } from './soak-run.js';

export const SOAK_SHARDS = 4;
const DEFAULT_RUNS = 2000;

function envInteger(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, got ${text}`);
  return value;
}

/** The seeds shard `index` (0-based) runs. */
export function shardSeeds(index: number): number[] {
  const single = envInteger('SOAK_SEED');
  if (single !== undefined) return index === 0 ? [single] : [];
  const runs = envInteger('SOAK_RUNS') ?? DEFAULT_RUNS;
  const first = envInteger('SOAK_FIRST_SEED') ?? 1;
  const seeds: number[] = [];
  for (let seed = first + index; seed < first + runs; seed += SOAK_SHARDS) seeds.push(seed);
  return seeds;
}

/** Replays `seed` with a capture and writes the pcap; returns its path. */
function writePcap(seed: number): string {
  const outcome = soakRun(seed, { capture: true, tcpLayerOf });
  const file = `tcp-soak-seed-${seed}.pcap`;
  for (const dir of [resolve('artifacts', 'soak'), tmpdir()]) {
    try {
      mkdirSync(dir, { recursive: true });
      const path = join(dir, file);
      writeFileSync(path, outcome.pcap!);
      return path;
    } catch {
      // Not writable: try the next place.
    }
  }
  return '(no writable directory for the pcap)';
}

function report(outcome: SoakOutcome): string {
  const s = outcome.scenario;
  return [
    `seed ${s.seed} failed:`,
    ...outcome.problems.map((p) => `  - ${p}`),
    `  scenario: ${JSON.stringify(s)}`,
    `  replay:   SOAK_SEED=${s.seed} npx vitest run test/soak`,
    `  pcap:     ${writePcap(s.seed)}`,
  ].join('\n');
}

/** Defines the vitest test of shard `index` (0-based). */
export function defineSoakShard(index: number): void {
  const seeds = shardSeeds(index);
  test.skipIf(seeds.length === 0)(
    `${seeds.length} seeded runs (shard ${index + 1} of ${SOAK_SHARDS})`,
    () => {
      const started = performance.now();
      const failures: string[] = [];
      let segments = 0;
      let retransmissions = 0;
      for (const seed of seeds) {
        let outcome: SoakOutcome;
        try {
          outcome = soakRun(seed, { tcpLayerOf });
        } catch (error) {
          failures.push(
            `seed ${seed} threw ${error instanceof Error ? error.stack : String(error)}\n` +
              `  replay:   SOAK_SEED=${seed} npx vitest run test/soak`,
          );
          continue;
        }
        segments += outcome.segmentsOut;
        retransmissions += outcome.retransmissions;
        if (outcome.problems.length > 0) {
          const text = report(outcome);
          console.error(text);
          failures.push(text);
        }
      }
      const seconds = (performance.now() - started) / 1000;
      console.log(
        `tcp soak shard ${index + 1}/${SOAK_SHARDS}: ${seeds.length} runs in ${seconds.toFixed(1)} s, ` +
          `${segments} segments sent, ${retransmissions} retransmitted, ${failures.length} failed`,
      );
      expect(failures).toEqual([]);
    },
  );
}
