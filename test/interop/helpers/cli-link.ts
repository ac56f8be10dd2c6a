/**
 * A namespace for running the `tcpts` command itself against the kernel: a persistent TAP interface is
 * created inside it (as `ip tuntap add` would in the quick start), addressed 10.N.M.1/24 on the kernel
 * side, and the command runs in the same namespace as a child process, attaching to the interface by
 * name as tcpts 10.N.M.2.
 */
import { randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  type Completed,
  NetworkNamespace,
  runAsync,
  uniqueInterfaceName,
} from '../../tap/helpers/namespace.js';
import { killAllPrograms, Program } from './program.js';

export const REPOSITORY = fileURLToPath(new URL('../../..', import.meta.url));
const MAIN = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));

const open = new Set<CliLink>();

/** afterAll: kills every program and removes every namespace still there. */
export function removeAllLinks(): void {
  killAllPrograms();
  for (const link of [...open]) link.close();
}

export class CliLink {
  readonly namespace: NetworkNamespace;
  readonly ifname = uniqueInterfaceName();
  readonly kernelAddress: string;
  readonly tcptsAddress: string;
  private closed = false;

  constructor() {
    const subnet = `10.${randomInt(100, 250)}.${randomInt(1, 250)}`;
    this.kernelAddress = `${subnet}.1`;
    this.tcptsAddress = `${subnet}.2`;
    this.namespace = NetworkNamespace.create();
    open.add(this);
    try {
      this.namespace.ip('link', 'set', 'lo', 'up');
      this.namespace.ip('tuntap', 'add', 'dev', this.ifname, 'mode', 'tap');
      this.namespace.exec('sysctl', '-q', '-w', `net.ipv6.conf.${this.ifname}.disable_ipv6=1`);
      this.namespace.ip('addr', 'add', `${this.kernelAddress}/24`, 'dev', this.ifname);
      this.namespace.ip('link', 'set', this.ifname, 'up');
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /** The TAP options every command needs: `--tap IFNAME --ip ADDR/24`. */
  get tapArguments(): string[] {
    return ['--tap', this.ifname, '--ip', `${this.tcptsAddress}/24`];
  }

  /** Starts `tcpts ARGS` in the namespace. */
  tcpts(args: readonly string[], stdin: 'pipe' | 'ignore' = 'ignore'): Program {
    return new Program(
      'ip',
      ['netns', 'exec', this.namespace.name, process.execPath, '--import', 'tsx', MAIN, ...args],
      { cwd: REPOSITORY, stdin },
    );
  }

  /** Starts a kernel-side program in the namespace. */
  start(args: readonly string[], stdin: 'pipe' | 'ignore' = 'ignore'): Program {
    return new Program('ip', ['netns', 'exec', this.namespace.name, ...args], { stdin });
  }

  /** Runs a kernel-side command to completion. */
  run(args: readonly string[], timeoutMs = 30_000): Promise<Completed> {
    return runAsync('ip', ['netns', 'exec', this.namespace.name, ...args], timeoutMs);
  }

  /** Deletes the namespace (and the TAP interface in it). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    open.delete(this);
    this.namespace.delete();
  }
}
