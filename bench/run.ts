/**
 * `npm run bench`: runs the benchmark suites and prints one table.
 *
 *   npm run bench                      every suite, aligned text table
 *   npm run bench -- --markdown        Markdown table with date and machine, for BENCHMARKS.md
 *   npm run bench -- wire              only the named suites
 *
 * A suite is a module in bench/suites/ exporting `run(): Promise<BenchRow[]>` (see bench/harness.ts);
 * add it to SUITES below.
 */

import * as os from 'node:os';
import { type BenchSuite, benchSink, renderMarkdown, renderTable, type TableRow } from './harness.js';
import * as gateway from './suites/gateway.js';
import * as goodput from './suites/goodput.js';
import * as tap from './suites/tap.js';
import * as tcp from './suites/tcp.js';
import * as tcpTap from './suites/tcp-tap.js';
import * as wire from './suites/wire.js';

const SUITES: readonly BenchSuite[] = [
  { name: 'wire', run: wire.run },
  { name: 'tcp', run: tcp.run },
  { name: 'tap', run: tap.run },
  { name: 'tcp-tap', run: tcpTap.run },
  { name: 'gateway', run: gateway.run },
  { name: 'goodput', run: goodput.run },
];

function machine(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() ?? 'unknown CPU';
  return `${model}, ${cpus.length} logical CPUs, ${os.platform()} ${os.release()}, Node ${process.version}`;
}

async function main(argv: readonly string[]): Promise<number> {
  const markdown = argv.includes('--markdown');
  const wanted = argv.filter((arg) => !arg.startsWith('--'));
  const unknown = wanted.filter((name) => !SUITES.some((suite) => suite.name === name));
  if (unknown.length > 0) {
    console.error(`unknown suite(s): ${unknown.join(', ')}; known: ${SUITES.map((s) => s.name).join(', ')}`);
    return 2;
  }
  const selected = wanted.length > 0 ? SUITES.filter((suite) => wanted.includes(suite.name)) : SUITES;

  const rows: TableRow[] = [];
  for (const suite of selected) {
    for (const row of await suite.run()) rows.push({ suite: suite.name, ...row });
  }

  const date = new Date().toISOString().slice(0, 10);
  if (markdown) {
    console.log(`Measured ${date} on ${machine()}.\n`);
    console.log(renderMarkdown(rows));
  } else {
    console.log(`tcpts benchmarks, ${date}, ${machine()}\n`);
    console.log(renderTable(rows));
  }
  // Keeps the optimiser from discarding measured work; never true in practice.
  if (benchSink() === Number.MIN_SAFE_INTEGER) console.log('');
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
