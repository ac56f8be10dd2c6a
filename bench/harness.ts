/**
 * The benchmark harness: suites in bench/suites/ each export `run(): Promise<BenchRow[]>`; bench/run.ts
 * runs them and prints one table. A row sets tcpts's figure beside the comparable kernel or Node figure
 * measured in the same run ('—' when nothing comparable exists).
 */

export interface BenchRow {
  /** What was measured, e.g. 'internet checksum, 1500 B'. */
  name: string;
  /** tcpts's figure, formatted. */
  tcpts: string;
  /** The kernel's (or Node's native) figure for the same work in the same run, or '—'. */
  kernel: string;
  /** Unit of both figures, e.g. 'MB/s'. */
  unit?: string;
  /** What the comparison means, caveats. */
  note?: string;
}

export interface BenchSuite {
  name: string;
  run(): Promise<BenchRow[]>;
}

export const NOT_MEASURED = '—';

/** Results of measured functions are folded in here so the optimiser cannot drop the work. */
let sink = 0;

/** Read after a run to keep `sink` observable; returns a value no one should rely on. */
export function benchSink(): number {
  return sink;
}

export interface Measurement {
  /** Calls of `fn` per second. */
  perSecond: number;
  calls: number;
  elapsedMs: number;
}

/**
 * Calls `fn` in growing batches for about `budgetMs` after a short warm-up, and reports calls per second.
 * `fn` returns a number that is folded into a sink.
 */
export function measure(fn: () => number, budgetMs = 250): Measurement {
  const warmUpEnd = performance.now() + Math.min(50, budgetMs / 4);
  while (performance.now() < warmUpEnd) sink ^= fn();

  let calls = 0;
  let batch = 1;
  const start = performance.now();
  let now = start;
  while (now - start < budgetMs) {
    for (let i = 0; i < batch; i++) sink ^= fn();
    calls += batch;
    now = performance.now();
    // Batches long enough that reading the clock costs nothing, short enough to stop near the budget.
    if (now - start < budgetMs / 10) batch *= 2;
  }
  const elapsedMs = now - start;
  return { perSecond: (calls * 1000) / elapsedMs, calls, elapsedMs };
}

/** Formats a figure with thousands separators and about three significant digits. */
export function formatFigure(value: number): string {
  if (!Number.isFinite(value)) return NOT_MEASURED;
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export interface TableRow extends BenchRow {
  suite: string;
}

const HEADINGS = ['suite', 'benchmark', 'tcpts', 'kernel/Node', 'unit', 'note'] as const;

function cells(row: TableRow): string[] {
  return [row.suite, row.name, row.tcpts, row.kernel, row.unit ?? '', row.note ?? ''];
}

/** Fixed-width text table; figures right-aligned. */
export function renderTable(rows: readonly TableRow[]): string {
  const body = rows.map(cells);
  const widths = HEADINGS.map((heading, column) =>
    Math.max(heading.length, ...body.map((r) => r[column]!.length)),
  );
  const numeric = new Set([2, 3]);
  const line = (r: readonly string[]) =>
    r
      .map((cell, column) =>
        numeric.has(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!),
      )
      .join('  ')
      .trimEnd();
  return [line(HEADINGS), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** GitHub-flavoured Markdown table for BENCHMARKS.md. */
export function renderMarkdown(rows: readonly TableRow[]): string {
  const escapeCell = (cell: string) => cell.replaceAll('|', '\\|');
  const line = (r: readonly string[]) => `| ${r.map(escapeCell).join(' | ')} |`;
  return [line(HEADINGS), '| --- | --- | ---: | ---: | --- | --- |', ...rows.map((r) => line(cells(r)))].join(
    '\n',
  );
}
