/**
 * Kernel-side setup for TAP tests: a network namespace of our own (so nothing touches the host's
 * interfaces or routes), the TAP interface moved into it with a 10.x address, and commands run inside it.
 *
 * The tcpts process stays in the root namespace: the TAP descriptor keeps working after its interface
 * moves to another namespace.
 */

import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export function run(command: string, args: readonly string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface Completed {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command without blocking the event loop (the TAP device must keep serving frames meanwhile). */
export function runAsync(
  command: string,
  args: readonly string[],
  timeoutMs: number,
  onStdout?: (chunk: string) => void,
): Promise<Completed> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      onStdout?.(chunk);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A fresh interface name, 13 characters (the kernel allows 15). */
export function uniqueInterfaceName(): string {
  return `tcpts${randomBytes(4).toString('hex')}`;
}

export interface LinkInfo {
  ifname: string;
  mtu: number;
  address: string;
  flags: string[];
  txqlen?: number;
}

/** `ip -j link show` of an interface in the root namespace, or undefined when there is none. */
export function rootLink(ifname: string): LinkInfo | undefined {
  try {
    return (JSON.parse(run('ip', ['-j', '-d', 'link', 'show', 'dev', ifname])) as LinkInfo[])[0];
  } catch {
    return undefined;
  }
}

export class NetworkNamespace {
  private deleted = false;

  private constructor(readonly name: string) {}

  static create(): NetworkNamespace {
    const name = `tcpts-tap-${randomBytes(4).toString('hex')}`;
    run('ip', ['netns', 'add', name]);
    return new NetworkNamespace(name);
  }

  ip(...args: string[]): string {
    return run('ip', ['-n', this.name, ...args]);
  }

  exec(...args: string[]): string {
    return run('ip', ['netns', 'exec', this.name, ...args]);
  }

  execAsync(args: readonly string[], timeoutMs = 10_000): Promise<Completed> {
    return runAsync('ip', ['netns', 'exec', this.name, ...args], timeoutMs);
  }

  /**
   * Moves a root-namespace interface here, gives the kernel side `address` (CIDR), and sets it up.
   * IPv6 is disabled on it first so the kernel sends no router/neighbour solicitations of its own.
   */
  adopt(ifname: string, address: string): void {
    run('ip', ['link', 'set', ifname, 'netns', this.name]);
    this.exec('sysctl', '-q', '-w', `net.ipv6.conf.${ifname}.disable_ipv6=1`);
    this.ip('addr', 'add', address, 'dev', ifname);
    this.ip('link', 'set', ifname, 'up');
  }

  link(ifname: string): LinkInfo {
    return (JSON.parse(this.ip('-j', 'link', 'show', 'dev', ifname)) as LinkInfo[])[0]!;
  }

  /** Deletes the namespace and every virtual interface left in it. Idempotent; never throws. */
  delete(): void {
    if (this.deleted) return;
    this.deleted = true;
    try {
      run('ip', ['netns', 'delete', this.name]);
    } catch {
      // Already gone.
    }
  }
}
