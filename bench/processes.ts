/**
 * Running the kernel-side programs of the benchmarks (iproute2, python3 receivers, the bridge process):
 * one-shot commands, unique interface and namespace names, and long runs that leave the event loop free
 * for the tcpts stack in this process.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** Runs a command to completion and returns its stdout; throws on a non-zero exit. */
export function sh(command: string, args: readonly string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `prefix` and six random hex digits: an interface or namespace name no other run uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}${randomBytes(3).toString('hex')}`;
}

/** Runs a program to completion without blocking the event loop; `onLine` sees each stdout line. */
export function runAsync(args: readonly string[], onLine?: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(args[0]!, args.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      for (const line of chunk.split('\n')) if (line !== '') onLine?.(line);
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`${args.join(' ')} exited with ${code}`)),
    );
  });
}
