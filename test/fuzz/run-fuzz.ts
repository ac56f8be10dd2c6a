/**
 * `npm run fuzz -- --frames N [--seed S]`: the live-network fuzz campaign (test/fuzz/live-network.ts) at
 * any length, in rounds of 100,000 frames with successive seeds. Prints one line per round and a summary;
 * exits 1 when an exception escaped, an internal error was counted or a flow lost a byte.
 */
import { runLiveFuzz } from './live-network.js';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} needs a positive integer`);
  return value;
}

const total = option('frames', 1_000_000);
let seed = option('seed', 1);
const ROUND = 100_000;
let done = 0;
let failed = 0;
const start = performance.now();
while (done < total) {
  const frames = Math.min(ROUND, total - done);
  const r = runLiveFuzz(seed, frames);
  const ok = r.escaped.length === 0 && r.internalErrors === 0 && r.flowsExact === r.flows;
  if (!ok) failed++;
  console.log(
    `seed ${seed}: ${r.framesInjected} frames, ${r.flowsExact}/${r.flows} flows exact, ${r.internalErrors} internal errors, ${r.escaped.length} escaped${ok ? '' : '  FAILED'}${r.escaped.length ? ` ${r.escaped[0]}` : ''}`,
  );
  done += frames;
  seed++;
}
console.log(
  `${done} frames in ${((performance.now() - start) / 1000).toFixed(0)} s, ${failed} failed rounds`,
);
process.exitCode = failed > 0 ? 1 : 0;
