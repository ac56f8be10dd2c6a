/**
 * User-mode gateway throughput: a namespace guest (the Linux kernel, curl) downloads from and uploads to
 * an HTTP server on the host's 127.0.0.1 through its gateway's address 10.0.2.2, served in turn by
 * `tcpts gateway` over a TAP interface, by slirp4netns and by pasta (Debian's packages), in the same run,
 * at MTU 1500 and 65520. Each figure is curl's own average speed over 100 MiB, measured after the tool
 * relayed WARM_UP_BYTES each way (steady state: tcpts runs on a JIT); every tool is measured
 * in ROUNDS rounds, the tools taking turns within a round (so a change of machine load hits all of them
 * alike), and the row shows the median with the range in the note. A transfer still running after
 * TRANSFER_LIMIT_SECONDS is stopped and counts with the speed it had reached.
 *
 * Every tool gets the same kind of guest: a fresh namespace whose only interface is the tool's TAP,
 * 10.0.2.15/24 with the default route through 10.0.2.2. A tool that is not installed, or a machine
 * without TAP devices, leaves its figures unmeasured with the reason in the note.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tapAvailability } from '../../src/link/tap/index.js';
import { type BenchRow, formatFigure, NOT_MEASURED } from '../harness.js';

const SIZE = 100 * 1024 * 1024;
/** Bytes each tool relays each way before it is measured (each warm-up transfer stops after 5 s). */
const WARM_UP_BYTES = 16 * 1024 * 1024;
/** Rounds per tool and MTU (TCPTS_BENCH_GATEWAY_ROUNDS overrides): one transfer is too noisy to compare. */
const ROUNDS = Math.max(1, Number(process.env.TCPTS_BENCH_GATEWAY_ROUNDS ?? 3) || 3);
/** pasta uploads at ~15 Mbit/s here: 100 MiB would take a minute per round. */
const TRANSFER_LIMIT_SECONDS = 20;
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));

type Tool = 'tcpts' | 'slirp4netns' | 'pasta';

function has(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function sh(command: string, args: readonly string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Starts `tool` serving namespace `ns` at `mtu`; resolves once the guest is configured. */
async function startTool(tool: Tool, ns: string, mtu: number): Promise<ChildProcess> {
  if (tool === 'tcpts') {
    const ifname = `tg${randomBytes(3).toString('hex')}`;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', MAIN, 'gateway', '--tap', ifname, '--mtu', String(mtu), '--allow', '127.0.0.0/8'],
      { cwd: REPOSITORY, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    await new Promise<void>((resolve, reject) => {
      let text = '';
      child.stderr!.on('data', (d: Buffer) => {
        text += d;
        if (text.includes('gateway ready')) resolve();
      });
      child.on('exit', () => reject(new Error(`tcpts gateway exited: ${text}`)));
    });
    sh('ip', ['link', 'set', ifname, 'netns', ns]);
    sh('ip', ['-n', ns, 'link', 'set', ifname, 'mtu', String(mtu), 'up']);
    sh('ip', ['-n', ns, 'addr', 'add', '10.0.2.15/24', 'dev', ifname]);
    sh('ip', ['-n', ns, 'route', 'add', 'default', 'via', '10.0.2.2']);
    return child;
  }
  if (tool === 'slirp4netns') {
    const child = spawn(
      'slirp4netns',
      ['--configure', `--mtu=${mtu}`, '--netns-type=path', `/run/netns/${ns}`, 'tap0'],
      { stdio: 'ignore' },
    );
    await waitFor(() => sh('ip', ['-n', ns, '-4', 'addr', 'show', 'tap0']).includes('inet '));
    // slirp4netns leases 10.0.2.100; the same guest address as the others keeps the runs alike.
    sh('ip', ['-n', ns, 'addr', 'flush', 'dev', 'tap0']);
    sh('ip', ['-n', ns, 'addr', 'add', '10.0.2.15/24', 'dev', 'tap0']);
    sh('ip', ['-n', ns, 'route', 'replace', 'default', 'via', '10.0.2.2']);
    return child;
  }
  // pasta daemonizes unless told to stay in the foreground (-f), which lets us stop it by its pid.
  const child = spawn(
    'pasta',
    [
      '-f',
      '--config-net',
      '--netns',
      `/run/netns/${ns}`,
      '--runas',
      '0',
      '-4',
      '-a',
      '10.0.2.15',
      '-n',
      '24',
      '-g',
      '10.0.2.2',
      '-m',
      String(mtu),
      '--quiet',
    ],
    { stdio: 'ignore' },
  );
  await waitFor(() => sh('ip', ['-n', ns, '-4', 'addr']).includes('10.0.2.15'));
  return child;
}

async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error('timed out waiting for the guest network');
    await new Promise((r) => setTimeout(r, 100));
  }
}

function curl(ns: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        ns,
        'curl',
        '-sS',
        '--fail',
        '--max-time',
        String(TRANSFER_LIMIT_SECONDS),
        '-o',
        '/dev/null',
        ...args,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d;
    });
    // Exit 28 is curl's time limit: its -w output still holds the average speed reached.
    child.on('close', (code) =>
      code === 0 || (code === 28 && Number(out) > 0)
        ? resolve(Number(out))
        : reject(new Error(`curl: ${err}`)),
    );
  });
}

interface Figures {
  download: number;
  upload: number;
  reason?: string;
}

async function measureTool(
  tool: Tool,
  mtu: number,
  port: number,
  file: string,
  warmUpFile: string,
): Promise<Figures> {
  const ns = `tcpts-bench-gw-${randomBytes(4).toString('hex')}`;
  sh('ip', ['netns', 'add', ns]);
  let child: ChildProcess | undefined;
  try {
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    child = await startTool(tool, ns, mtu);
    // Warm-up, the same for every tool: ARP and a first connection, then WARM_UP_BYTES each way, so the
    // figures are the tool's steady state (tcpts runs on a JIT: a fresh process interprets its data path
    // for the first tens of MiB), as for a gateway serving a guest for hours. Then the measured transfers
    // (curl reports bytes per second).
    await curl(ns, [`http://10.0.2.2:${port}/bytes/65536`]);
    await curl(ns, [
      '--max-time',
      '5',
      '-w',
      '%{speed_download}',
      `http://10.0.2.2:${port}/bytes/${WARM_UP_BYTES}`,
    ]);
    await curl(ns, [
      '--max-time',
      '5',
      '-w',
      '%{speed_upload}',
      '-T',
      warmUpFile,
      `http://10.0.2.2:${port}/upload`,
    ]);
    const download = await curl(ns, ['-w', '%{speed_download}', `http://10.0.2.2:${port}/bytes/${SIZE}`]);
    const upload = await curl(ns, ['-w', '%{speed_upload}', '-T', file, `http://10.0.2.2:${port}/upload`]);
    return { download: (download * 8) / 1e6, upload: (upload * 8) / 1e6 };
  } catch (error) {
    return { download: Number.NaN, upload: Number.NaN, reason: (error as Error).message.split('\n')[0] };
  } finally {
    if (child?.pid !== undefined) child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    try {
      sh('ip', ['netns', 'del', ns]);
    } catch {
      // already gone
    }
  }
}

/** The median of one direction's figures over the rounds, their range, and the first failure if any. */
function summarize(
  figures: readonly Figures[],
  direction: 'download' | 'upload',
): { median: number; range: string; reason?: string } {
  const reason = figures.find((f) => f.reason !== undefined)?.reason;
  const values = figures.map((f) => f[direction]).filter((v) => Number.isFinite(v));
  if (values.length === 0) return { median: Number.NaN, range: '-', reason };
  values.sort((x, y) => x - y);
  const middle = values.length >> 1;
  const median = values.length % 2 === 1 ? values[middle]! : (values[middle - 1]! + values[middle]!) / 2;
  return { median, range: `${Math.round(values[0]!)}-${Math.round(values[values.length - 1]!)}`, reason };
}

export async function run(): Promise<BenchRow[]> {
  const tap = tapAvailability();
  const missing = (['slirp4netns', 'pasta', 'curl'] as const).filter((c) => !has(c));
  if (!tap.ok) {
    return [{ name: 'gateway throughput', tcpts: NOT_MEASURED, kernel: NOT_MEASURED, note: tap.reason }];
  }
  const chunk = Buffer.alloc(1 << 20, 0x5a);
  const server = http.createServer((request, response) => {
    const m = /^\/bytes\/(\d+)$/.exec(request.url ?? '');
    if (request.method === 'GET' && m) {
      let left = Number(m[1]);
      response.writeHead(200, { 'content-length': String(left) });
      const pump = (): void => {
        while (left > 0) {
          const piece = chunk.subarray(0, Math.min(chunk.length, left));
          left -= piece.length;
          if (!response.write(piece)) {
            response.once('drain', pump);
            return;
          }
        }
        response.end();
      };
      pump();
      return;
    }
    request.on('data', () => {});
    request.on('end', () => response.end('ok\n'));
  });
  await new Promise<void>((d) => server.listen(0, '127.0.0.1', () => d()));
  const port = (server.address() as AddressInfo).port;
  const file = join(tmpdir(), `tcpts-bench-upload-${process.pid}`);
  writeFileSync(file, Buffer.alloc(SIZE, 0xa5));
  const warmUpFile = join(tmpdir(), `tcpts-bench-warm-up-${process.pid}`);
  writeFileSync(warmUpFile, Buffer.alloc(WARM_UP_BYTES, 0x5a));
  const rows: BenchRow[] = [];
  try {
    for (const mtu of [1500, 65520]) {
      const samples = new Map<Tool, Figures[]>([
        ['tcpts', []],
        ['slirp4netns', []],
        ['pasta', []],
      ]);
      for (let round = 0; round < ROUNDS; round++) {
        for (const [tool, figures] of samples) {
          figures.push(
            missing.includes(tool as (typeof missing)[number])
              ? { download: Number.NaN, upload: Number.NaN, reason: `${tool} is not installed` }
              : await measureTool(tool, mtu, port, file, warmUpFile),
          );
        }
      }
      const ours = samples.get('tcpts')!;
      for (const other of ['slirp4netns', 'pasta'] as const) {
        const theirs = samples.get(other)!;
        for (const direction of ['download', 'upload'] as const) {
          const a = summarize(ours, direction);
          const b = summarize(theirs, direction);
          rows.push({
            name: `gateway ${direction === 'download' ? 'host->guest' : 'guest->host'}, MTU ${mtu}, vs ${other}`,
            tcpts: formatFigure(a.median),
            kernel: formatFigure(b.median),
            unit: 'Mbit/s',
            note:
              [a.reason, b.reason].filter(Boolean).join('; ') ||
              `median of ${ROUNDS} x 100 MiB after 16 MiB each way (tcpts ${a.range}, ${other} ${b.range}); right column: ${other}`,
          });
        }
      }
    }
  } finally {
    server.close();
    rmSync(file, { force: true });
    rmSync(warmUpFile, { force: true });
  }
  return rows;
}
