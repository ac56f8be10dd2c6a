/**
 * What every `tcpts` subcommand shares: where it writes (so tests can run it in-process), its declared
 * options (parsed with node:util parseArgs, strict), the `--help` text generated from the same
 * declarations, and the checks that turn option text into numbers, sizes, rates and probabilities.
 *
 * A mistake on the command line is a UsageError: the dispatcher prints it with a hint and exits 2.
 */
import { parseArgs } from 'node:util';

/** A place to write text: process.stdout/stderr, or a buffer in tests. */
export interface OutputStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface CliIo {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Directory relative paths are resolved against. */
  readonly cwd: string;
}

/** A subcommand as the dispatcher knows it: a name, one line for `tcpts --help`, and how to run it. */
export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  /** Runs the command with the words after its name; resolves with the exit status. */
  run(args: readonly string[], io: CliIo): Promise<number>;
}

/** A mistake on the command line: printed with a pointer to --help, exit status 2. */
export class UsageError extends Error {
  readonly code = 'EINVAL';
}

/** An input the command cannot use (a missing file, not a capture): printed as is, exit status 2. */
export class InputError extends Error {
  readonly code = 'EINVAL';
}

export interface OptionSpec {
  readonly name: string;
  readonly short?: string;
  readonly type: 'string' | 'boolean';
  /** The option may be given several times (read with `stringValues`). */
  readonly multiple?: boolean;
  /** Placeholder for the value in the help text, e.g. 'DIR'. */
  readonly value?: string;
  readonly description: string;
}

export interface CommandSpec {
  readonly name: string;
  /** Usage lines without the leading 'tcpts NAME'. */
  readonly usage: readonly string[];
  /** A paragraph under the usage. */
  readonly description: string;
  readonly options: readonly OptionSpec[];
  /** Example invocations (full command lines). */
  readonly examples?: readonly string[];
}

const HELP_OPTION: OptionSpec = { name: 'help', short: 'h', type: 'boolean', description: 'show this help' };

export interface ParsedCommandLine {
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>;
  readonly positionals: readonly string[];
}

/** Parses `args` against `spec` (strict); 'help' when --help was given. Throws UsageError. */
export function parseCommandLine(spec: CommandSpec, args: readonly string[]): ParsedCommandLine | 'help' {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const o of [...spec.options, HELP_OPTION]) {
    options[o.name] = {
      type: o.type,
      ...(o.short ? { short: o.short } : {}),
      ...(o.multiple ? { multiple: true } : {}),
    };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...args], options, strict: true, allowPositionals: true });
  } catch (error) {
    // parseArgs explains well ("Unknown option '--x'"); drop its advice about '--', which rarely applies.
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  if (parsed.values.help) return 'help';
  return {
    values: parsed.values as Record<string, string | boolean | string[] | undefined>,
    positionals: parsed.positionals,
  };
}

/** The `--help` text of a command. */
export function helpText(spec: CommandSpec): string {
  const lines: string[] = [];
  for (const [i, u] of spec.usage.entries()) {
    lines.push(`${i === 0 ? 'usage: ' : '       '}tcpts ${spec.name} ${u}`);
  }
  lines.push('', ...wrapWords(spec.description, 100), '', 'options:');
  const all = [...spec.options, HELP_OPTION];
  const left = all.map(
    (o) => `${o.short ? `-${o.short}, ` : '    '}--${o.name}${o.value ? ` ${o.value}` : ''}`,
  );
  const width = Math.max(...left.map((l) => l.length)) + 2;
  for (const [i, o] of all.entries()) lines.push(`  ${left[i]!.padEnd(width)}${o.description}`);
  if (spec.examples?.length) {
    lines.push('', 'examples:');
    for (const e of spec.examples) lines.push(`  ${e}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Splits text into lines of at most `width` characters at spaces. */
export function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/** A string option's value, or undefined when absent. */
export function stringValue(parsed: ParsedCommandLine, name: string): string | undefined {
  const v = parsed.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** Every value of a repeatable string option (empty when absent). */
export function stringValues(parsed: ParsedCommandLine, name: string): string[] {
  const v = parsed.values[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

export function flagValue(parsed: ParsedCommandLine, name: string): boolean {
  return parsed.values[name] === true;
}

/** An integer in [min, max]. */
export function integerOption(name: string, text: string, min: number, max: number): number {
  const value = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} wants an integer from ${min} to ${max}; got '${text}'`);
  }
  return value;
}

/** A decimal number in [min, max]. */
export function numberOption(
  name: string,
  text: string,
  min: number,
  max = Number.POSITIVE_INFINITY,
): number {
  const value = /^\d+(\.\d*)?$|^\.\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max)) {
    const range = max === Number.POSITIVE_INFINITY ? `>= ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`--${name} wants a number ${range}; got '${text}'`);
  }
  return value;
}

/** A probability: '0.01' or '1%'. */
export function probabilityOption(name: string, text: string): number {
  const percent = /^(\d+(\.\d*)?|\.\d+)%$/.exec(text.trim());
  const value = percent
    ? Number(percent[1]) / 100
    : /^\d+(\.\d*)?$|^\.\d+$/.test(text.trim())
      ? Number(text)
      : NaN;
  if (!(value >= 0 && value <= 1)) {
    throw new UsageError(`--${name} wants a probability from 0 to 1, or a percentage like 2%; got '${text}'`);
  }
  return value;
}

/**
 * A number with an optional unit after it ('64k', '1.5 MB'): the number times the unit's factor in
 * `units` (matched without regard to case); NaN when the text is not that or the unit is not known.
 */
function numberWithUnit(text: string, units: Readonly<Record<string, number>>): number {
  const m = /^(\d+(\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? units[m[3]!.toLowerCase()] : undefined;
  return m && unit !== undefined ? Number(m[1]) * unit : Number.NaN;
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1e6,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1e9,
  gib: 1024 ** 3,
};

/** A byte count: '1500', '64k' / '64KiB' (x1024), '1MB' (x1000000). */
export function sizeOption(name: string, text: string, min: number, max: number): number {
  const value = Math.round(numberWithUnit(text, SIZE_UNITS));
  if (!(value >= min && value <= max)) {
    throw new UsageError(
      `--${name} wants a size from ${formatBytes(min)} to ${formatBytes(max)}, e.g. 65536, 64k or 1M; got '${text}'`,
    );
  }
  return value;
}

const RATE_UNITS: Record<string, number> = {
  '': 1,
  bit: 1,
  bps: 1,
  k: 1e3,
  kbit: 1e3,
  kbps: 1e3,
  m: 1e6,
  mbit: 1e6,
  mbps: 1e6,
  g: 1e9,
  gbit: 1e9,
  gbps: 1e9,
};

/** A rate in bits per second: '10mbit', '512kbit', '1g' (as tc writes them). */
export function rateOption(name: string, text: string): number {
  const value = numberWithUnit(text, RATE_UNITS);
  if (!(value >= 1000 && value <= 1e12)) {
    throw new UsageError(`--${name} wants a rate from 1kbit to 1000gbit, e.g. 10mbit; got '${text}'`);
  }
  return value;
}

/** 1536 -> '1.5 KiB'. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = n / 1024;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${Number(value.toFixed(value < 10 ? 2 : 1))} ${units[i]}`;
}

/** An error for the user: its message, with its code in front when the message does not name it. */
export function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}
