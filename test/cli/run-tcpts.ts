/**
 * Runs the `tcpts` dispatcher in-process with captured output, as a user would see it on a pipe (or, with
 * `tty`, on a terminal of a given width).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OutputStream } from '../../src/cli/command-line.js';
import { runCli } from '../../src/cli/run-cli.js';

export interface TcptsRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Pretend stdout and stderr are terminals of this many columns. */
  tty?: number;
}

class Capture implements OutputStream {
  text = '';
  constructor(
    readonly isTTY: boolean,
    readonly columns: number | undefined,
  ) {}
  write(text: string): boolean {
    this.text += text;
    return true;
  }
}

export async function runTcpts(args: readonly string[], options: RunOptions = {}): Promise<TcptsRun> {
  const tty = options.tty !== undefined;
  const stdout = new Capture(tty, options.tty);
  const stderr = new Capture(tty, options.tty);
  const code = await runCli(args, {
    stdout,
    stderr,
    env: options.env ?? { NO_COLOR: '1' },
    cwd: options.cwd ?? process.cwd(),
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** A fresh temporary directory, and a function that removes it. */
export function temporaryDirectory(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `tcpts-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** ANSI SGR escape sequences. */
export const ANSI = /\u001b\[[0-9;]*m/;
