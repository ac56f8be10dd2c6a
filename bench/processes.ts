/**
 * Running the kernel-side programs of the benchmarks (iproute2, python3 receivers, the bridge process):
 * one-shot commands, unique interface and namespace names, and long runs that leave the event loop free
 * for the tcpts stack in this process.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';

/** Runs a command to completion and returns its stdout; throws on a non-zero exit. */
export function sh(command: string, args: readonly string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `prefix` and six random hex digits: an interface or namespace name no other run uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}${randomBytes(3).toString('hex')}`;
}

/**
 * Starts each program it is sent (one JSON line: job number and argv) and reports its stdout lines and
 * exit status as JSON lines ([job, 'out', line], [job, 'exit', code], [job, 'error', message]).
 */
const SPAWNER = `
import json, subprocess, sys, threading
lock = threading.Lock()
def say(*message):
    with lock:
        sys.stdout.write(json.dumps(message) + '\\n')
        sys.stdout.flush()
def run(job, argv):
    try:
        child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    except OSError as error:
        say(job, 'error', str(error))
        return
    for line in child.stdout:
        say(job, 'out', line.decode('utf-8', 'replace'))
    say(job, 'exit', child.wait())
for line in sys.stdin:
    job, argv = json.loads(line)
    threading.Thread(target=run, args=(job, argv), daemon=True).start()
`;

interface Job {
  readonly args: readonly string[];
  readonly onLine: ((line: string) => void) | undefined;
  output: string;
  readonly resolve: (output: string) => void;
  readonly reject: (error: Error) => void;
}

/**
 * Programs are started by one small Python process rather than by this one. Forking this process (as
 * child_process.spawn does) marks every page it has written copy-on-write, so for a while after each
 * spawn its next write to each page takes a page fault: the TAP device's reused receive memory and the
 * allocator's free lists, tens of MiB, which in this VM cost 100-150 ms of CPU per spawn, billed to the
 * tcpts side of a timed run that starts its kernel peer. The spawner is forked once, the first time it is
 * needed, and never again.
 */
let spawner: ChildProcess | undefined;
const jobs = new Map<number, Job>();
let nextJob = 0;

function startSpawner(): ChildProcess {
  const child = spawn('python3', ['-c', SPAWNER], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.on('error', (error) => failAll(error));
  child.on('exit', () => failAll(new Error('the program spawner exited')));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const [job, kind, value] = JSON.parse(line) as [number, 'out' | 'exit' | 'error', string | number];
    const entry = jobs.get(job);
    if (entry === undefined) return;
    if (kind === 'out') {
      const text = value as string;
      entry.output += text;
      const trimmed = text.endsWith('\n') ? text.slice(0, -1) : text;
      if (trimmed !== '') entry.onLine?.(trimmed);
      return;
    }
    jobs.delete(job);
    holdEventLoop();
    if (kind === 'exit' && value === 0) entry.resolve(entry.output);
    else if (kind === 'exit') entry.reject(new Error(`${entry.args.join(' ')} exited with ${value}`));
    else entry.reject(new Error(`${entry.args.join(' ')}: ${value}`));
  });
  return child;
}

function failAll(error: Error): void {
  spawner = undefined;
  for (const entry of jobs.values()) entry.reject(error);
  jobs.clear();
}

/** The spawner keeps this process alive only while one of its programs runs. */
function holdEventLoop(): void {
  const child = spawner;
  if (child === undefined) return;
  const stdout = child.stdout as unknown as { ref(): void; unref(): void };
  const stdin = child.stdin as unknown as { ref(): void; unref(): void };
  if (jobs.size > 0) {
    child.ref();
    stdout.ref();
    stdin.ref();
  } else {
    child.unref();
    stdout.unref();
    stdin.unref();
  }
}

/** The command line that runs a python3 `script` with `args` inside network namespace `ns`. */
export function pythonIn(ns: string, script: string, ...args: (string | number)[]): string[] {
  return ['ip', 'netns', 'exec', ns, 'python3', '-c', script, ...args.map(String)];
}

/**
 * Runs `args` (a server that prints a line `listening` once its sockets are bound) as `runAsync` does:
 * `ready` resolves at that line, `done` with the whole output.
 */
export function runListening(args: readonly string[]): { ready: Promise<void>; done: Promise<string> } {
  let listening: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    listening = resolve;
  });
  const done = runAsync(args, (line) => line === 'listening' && listening());
  return { ready, done };
}

/** Runs a program to completion without blocking the event loop; `onLine` sees each stdout line. */
export function runAsync(args: readonly string[], onLine?: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    spawner ??= startSpawner();
    const job = nextJob++;
    jobs.set(job, { args, onLine, output: '', resolve, reject });
    holdEventLoop();
    spawner.stdin!.write(`${JSON.stringify([job, args])}\n`);
  });
}
