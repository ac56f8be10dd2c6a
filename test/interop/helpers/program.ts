/**
 * A program the test started and talks to while it runs (a kernel-side server, the tcpts CLI): its
 * output accumulates, the test can wait for a line to appear, write to its stdin, signal it, and await
 * its exit. Everything started is killed by `killAll()` (afterAll), even when a test failed.
 */
import { type ChildProcess, spawn } from 'node:child_process';

const running = new Set<Program>();

/** Kills every program still running (SIGKILL). */
export function killAllPrograms(): void {
  for (const program of [...running]) program.kill('SIGKILL');
}

export interface ProgramExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** performance.now() when it exited. */
  at: number;
}

export class Program {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<ProgramExit>;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly command: string,
    readonly args: readonly string[],
    options: { cwd?: string; stdin?: 'pipe' | 'ignore' } = {},
  ) {
    this.child = spawn(command, args, {
      cwd: options.cwd,
      stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
    });
    running.add(this);
    this.child.stdout!.setEncoding('latin1').on('data', (chunk: string) => {
      this.stdout += chunk;
      this.notify();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      this.notify();
    });
    this.exited = new Promise((resolve, reject) => {
      this.child.on('error', reject);
      // 'close': the exit status and every byte of output are in.
      this.child.on('close', (code, signal) => {
        running.delete(this);
        resolve({ code, signal, at: performance.now() });
        this.notify();
      });
    });
  }

  get hasExited(): boolean {
    return !running.has(this);
  }

  /** Resolves when `pattern` matches stdout or stderr; rejects when the program exits first or on timeout. */
  waitFor(
    pattern: RegExp,
    timeoutMs = 15_000,
    stream: 'stdout' | 'stderr' | 'either' = 'either',
  ): Promise<void> {
    const matches = (): boolean =>
      (stream !== 'stderr' && pattern.test(this.stdout)) ||
      (stream !== 'stdout' && pattern.test(this.stderr));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`${this.command}: no ${pattern} within ${timeoutMs} ms\n${this.describe()}`));
      }, timeoutMs);
      const check = (): void => {
        if (matches()) {
          clearTimeout(timer);
          this.waiters.delete(check);
          resolve();
        } else if (this.hasExited) {
          clearTimeout(timer);
          this.waiters.delete(check);
          reject(new Error(`${this.command} exited before ${pattern}\n${this.describe()}`));
        }
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Waits for the exit, killing the program if it takes longer than `timeoutMs`. */
  async finish(timeoutMs = 30_000): Promise<ProgramExit> {
    const timer = setTimeout(() => this.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  write(data: string | Uint8Array): void {
    this.child.stdin!.write(data);
  }

  endInput(data?: string | Uint8Array): void {
    this.child.stdin!.end(data);
  }

  kill(signal: NodeJS.Signals): void {
    if (!this.hasExited) this.child.kill(signal);
  }

  describe(): string {
    return `$ ${this.command} ${this.args.join(' ')}\n--- stdout ---\n${this.stdout.slice(-2000)}\n--- stderr ---\n${this.stderr.slice(-2000)}`;
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
