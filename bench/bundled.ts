/**
 * Bundles a workload module (and the stack it imports) with esbuild into one ESM file and imports it, so
 * a suite measures the stack as an application bundle or `tsc` output would run it: the on-the-fly
 * CommonJS transform the bench runner uses turns every cross-module call into a getter and halves the
 * stack's speed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

/** `file` is the bundle's path (esbuild marks where each source module starts with a `// path` line). */
export async function importBundled<T>(
  entry: URL,
): Promise<{ module: T; file: string; cleanup: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'tcpts-bench-'));
  const outfile = join(dir, 'workloads.mjs');
  await build({
    entryPoints: [fileURLToPath(entry)],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outfile,
    logLevel: 'warning',
  });
  const module = (await import(pathToFileURL(outfile).href)) as T;
  return { module, file: outfile, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** For each line of the bundle, the source module it came from (esbuild's `// path` markers). */
export function moduleOfLine(bundle: string): (line: number) => string {
  const starts: { line: number; module: string }[] = [];
  const lines = bundle.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const match = /^\/\/ ((?:src|bench)\/\S+\.ts)$/.exec(lines[i]!);
    if (match) starts.push({ line: i, module: match[1]! });
  }
  return (line) => {
    let found = '(bundle)';
    for (const start of starts) {
      if (start.line > line) break;
      found = start.module;
    }
    return found;
  };
}
