/**
 * `tcpts bridge`: a user-space netem. Two TAP interfaces are joined by a bridge that forwards every frame
 * through the simulator's impairments in real time: one-way delay, a rate-limited bottleneck with a
 * drop-tail queue, seeded loss, jitter, reordering, duplication, corruption. Put each interface in its own
 * network namespace and the kernels (or any programs) on either side talk over an emulated WAN path:
 *
 *   ip netns add left; ip netns add right
 *   tcpts bridge --a tbl --b tbr --netns-a left --netns-b right \
 *       --delay 25 --rate 100mbit --loss 0.1% --stats 1 &
 *   ip -n left addr add 10.77.0.1/24 dev tbl; ip -n right addr add 10.77.0.2/24 dev tbr
 *   ip netns exec left ping 10.77.0.2          # about 50 ms
 *
 * Each setting applies to both directions. The queue defaults to one bandwidth-delay product (rate x
 * 2 x delay), the classic router buffer. Statistics (per direction: delivered rate, drops by reason, how
 * late frames left compared with their due time) are printed every --stats seconds and at the end.
 * SIGINT or SIGTERM stop the bridge; the interfaces it created disappear with it.
 */
import { execFileSync } from 'node:child_process';
import { FrameBridge } from '../../link/frame-bridge.js';
import type { ImpairedPath, LinkImpairments } from '../../link/impairments.js';
import { openTap, type TapDevice } from '../../link/tap/index.js';
import { RealClock } from '../../time/real-clock.js';
import {
  type CliIo,
  type CommandSpec,
  describeError,
  helpText,
  integerOption,
  numberOption,
  parseCommandLine,
  probabilityOption,
  rateOption,
  sizeOption,
  stringValue,
  UsageError,
} from '../command-line.js';
import { onTerminatingSignal, say } from './tap-options.js';

export const BRIDGE_SPEC: CommandSpec = {
  name: 'bridge',
  usage: ['--a IFNAME --b IFNAME [--delay MS] [--rate RATE] [--loss P] [options]'],
  description: [
    'A user-space netem: forwards every Ethernet frame between two TAP interfaces (created, or attached',
    'when they exist) through the simulator’s impairments in real time. Each setting applies to both',
    'directions. With --netns-a/--netns-b the interfaces are moved into those namespaces and set up, so two',
    'namespaces talk over the emulated path. Stop with Ctrl-C.',
  ].join('\n'),
  options: [
    { name: 'a', type: 'string', value: 'IFNAME', description: 'first TAP interface (required)' },
    { name: 'b', type: 'string', value: 'IFNAME', description: 'second TAP interface (required)' },
    {
      name: 'netns-a',
      type: 'string',
      value: 'NS',
      description: 'move the first interface into this network namespace (which must exist) and set it up',
    },
    { name: 'netns-b', type: 'string', value: 'NS', description: 'likewise for the second interface' },
    { name: 'delay', type: 'string', value: 'MS', description: 'one-way propagation delay (default 0)' },
    { name: 'jitter', type: 'string', value: 'MS', description: 'extra delay drawn from [0, MS) per frame' },
    {
      name: 'rate',
      type: 'string',
      value: 'RATE',
      description: 'bottleneck rate, e.g. 100mbit (default: no limit)',
    },
    {
      name: 'queue',
      type: 'string',
      value: 'SIZE',
      description: 'drop-tail queue in bytes, e.g. 625k (default: one BDP, rate x 2 x delay)',
    },
    { name: 'queue-frames', type: 'string', value: 'N', description: 'queue limit in frames (default 1000)' },
    { name: 'loss', type: 'string', value: 'P', description: 'random loss per frame, e.g. 0.001 or 0.1%' },
    { name: 'reorder', type: 'string', value: 'P', description: 'share of frames held back and overtaken' },
    { name: 'duplicate', type: 'string', value: 'P', description: 'share of frames delivered twice' },
    { name: 'corrupt', type: 'string', value: 'P', description: 'share of frames with a bit flipped' },
    { name: 'seed', type: 'string', value: 'N', description: 'seed of the fault pattern (default 1)' },
    {
      name: 'stats',
      type: 'string',
      value: 'SECONDS',
      description: 'print per-direction statistics every SECONDS (and always at the end)',
    },
    { name: 'duration', type: 'string', value: 'SECONDS', description: 'stop after SECONDS' },
  ],
  examples: [
    'tcpts bridge --a tbl --b tbr --netns-a left --netns-b right --delay 25 --rate 100mbit --stats 1',
    'tcpts bridge --a tbl --b tbr --delay 50 --rate 1gbit --loss 0.01% --seed 7',
  ],
};

export interface BridgeSettings {
  a: string;
  b: string;
  netnsA: string | undefined;
  netnsB: string | undefined;
  impairments: LinkImpairments;
  seed: number;
  statsMs: number | undefined;
  durationMs: number | undefined;
}

/** The default queue: one bandwidth-delay product of the path, at least 16 full frames. */
export function defaultQueueBytes(rateBitsPerSecond: number, delayMs: number): number {
  return Math.max(16 * 1514, Math.round((rateBitsPerSecond / 8) * ((2 * delayMs) / 1000)));
}

/** Checks the command line; throws UsageError. Exported for tests. */
export function parseBridgeArguments(args: readonly string[]): BridgeSettings | 'help' {
  const parsed = parseCommandLine(BRIDGE_SPEC, args);
  if (parsed === 'help') return 'help';
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
  const a = stringValue(parsed, 'a');
  const b = stringValue(parsed, 'b');
  if (a === undefined || b === undefined) throw new UsageError('--a IFNAME and --b IFNAME are required');
  if (a === b) throw new UsageError('--a and --b must be two different interfaces');
  const impairments: LinkImpairments = {};
  const text = (name: string): string | undefined => stringValue(parsed, name);
  const delay = text('delay');
  if (delay !== undefined) impairments.delayMs = numberOption('delay', delay, 0, 3_600_000);
  const jitter = text('jitter');
  if (jitter !== undefined) impairments.jitterMs = numberOption('jitter', jitter, 0, 3_600_000);
  const rate = text('rate');
  if (rate !== undefined) impairments.rateBitsPerSecond = rateOption('rate', rate);
  const queue = text('queue');
  const queueFrames = text('queue-frames');
  if ((queue !== undefined || queueFrames !== undefined) && rate === undefined)
    throw new UsageError('--queue and --queue-frames need --rate (without a rate nothing queues)');
  if (queue !== undefined) impairments.queueLimitBytes = sizeOption('queue', queue, 1514, 2 ** 31);
  else if (impairments.rateBitsPerSecond !== undefined)
    impairments.queueLimitBytes = defaultQueueBytes(impairments.rateBitsPerSecond, impairments.delayMs ?? 0);
  // A byte-limited queue should not also stop at Linux's 1000 frames unless asked: a BDP of small
  // frames (ACKs) would otherwise be cut short.
  if (queueFrames !== undefined)
    impairments.queueLimitFrames = integerOption('queue-frames', queueFrames, 1, 1e7);
  else if (impairments.queueLimitBytes !== undefined)
    impairments.queueLimitFrames = Math.max(1000, Math.ceil(impairments.queueLimitBytes / 64));
  for (const name of ['loss', 'reorder', 'duplicate', 'corrupt'] as const) {
    const value = text(name);
    if (value !== undefined) impairments[name] = probabilityOption(name, value);
  }
  const seed = text('seed');
  const stats = text('stats');
  const duration = text('duration');
  return {
    a,
    b,
    netnsA: text('netns-a'),
    netnsB: text('netns-b'),
    impairments,
    seed: seed === undefined ? 1 : integerOption('seed', seed, 0, 2 ** 32 - 1),
    statsMs: stats === undefined ? undefined : numberOption('stats', stats, 0.1) * 1000,
    durationMs: duration === undefined ? undefined : numberOption('duration', duration, 0.001) * 1000,
  };
}

/** Runs `tcpts bridge` with `args`; resolves with the exit status when stopped. Throws UsageError. */
export async function runBridge(args: readonly string[], io: CliIo): Promise<number> {
  const settings = parseBridgeArguments(args);
  if (settings === 'help') {
    io.stdout.write(helpText(BRIDGE_SPEC));
    return 0;
  }
  const devices: TapDevice[] = [];
  let bridge: FrameBridge | undefined;
  // Frames due within the next millisecond leave in this wake-up: Node's timers have whole-millisecond
  // granularity, and without this each deadline would land 0-2 ms late (measured: mean +1.2 ms, with
  // it about 0 +- 0.5 ms).
  const clock = new RealClock({ earlyMs: 1 });
  try {
    // Read every frame the kernel offers per wake-up up to a generous budget: at 100 Mbit/s and more,
    // thousands of frames a second arrive, and the kernel drops what its queue cannot hold.
    for (const [name, netns] of [
      [settings.a, settings.netnsA],
      [settings.b, settings.netnsB],
    ] as const) {
      const device = openTap({
        name,
        up: netns === undefined,
        kernelQueueLength: 10_000,
        receiveBudget: 1024,
        // A bridge forwards frames as they were read: receive coalescing would merge a flow's segments
        // into packets of up to 64 KiB and hand them, whole, to an interface whose MTU is 1500.
        receiveCoalescing: false,
      });
      devices.push(device);
      if (netns !== undefined) {
        execFileSync('ip', ['link', 'set', name, 'netns', netns], { stdio: ['ignore', 'ignore', 'pipe'] });
        execFileSync('ip', ['-n', netns, 'link', 'set', name, 'up'], { stdio: ['ignore', 'ignore', 'pipe'] });
      }
    }
    bridge = new FrameBridge(devices[0]!, devices[1]!, {
      clock,
      seed: settings.seed,
      aToB: settings.impairments,
      bToA: settings.impairments,
    });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    say(io, `tcpts bridge: ${stderr || describeError(error)}`);
    clock.close();
    for (const device of devices) device.close();
    return 2;
  }
  say(io, `tcpts bridge: ${settings.a} <-> ${settings.b}: ${describeImpairments(settings.impairments)}`);
  const running = bridge;
  return new Promise<number>((resolve) => {
    const first = snapshot(running);
    let last = first;
    const statsTimer =
      settings.statsMs === undefined
        ? undefined
        : setInterval(() => {
            const now = snapshot(running);
            io.stdout.write(statsLine(last, now));
            last = now;
          }, settings.statsMs);
    const stop = (code: number): void => {
      if (statsTimer !== undefined) clearInterval(statsTimer);
      if (durationTimer !== undefined) clearTimeout(durationTimer);
      removeSignalHandlers();
      io.stdout.write(statsLine(first, snapshot(running), 'total'));
      running.close();
      clock.close();
      for (const device of devices) device.close();
      resolve(code);
    };
    const durationTimer =
      settings.durationMs === undefined ? undefined : setTimeout(() => stop(0), settings.durationMs);
    const removeSignalHandlers = onTerminatingSignal(stop);
  });
}

function describeImpairments(i: LinkImpairments): string {
  const parts: string[] = [];
  parts.push(`delay ${i.delayMs ?? 0} ms each way`);
  if (i.rateBitsPerSecond !== undefined)
    parts.push(`rate ${i.rateBitsPerSecond / 1e6} Mbit/s, queue ${i.queueLimitBytes} bytes`);
  if (i.loss) parts.push(`loss ${i.loss * 100}%`);
  if (i.jitterMs) parts.push(`jitter ${i.jitterMs} ms`);
  if (i.reorder) parts.push(`reorder ${i.reorder * 100}%`);
  if (i.duplicate) parts.push(`duplicate ${i.duplicate * 100}%`);
  if (i.corrupt) parts.push(`corrupt ${i.corrupt * 100}%`);
  return parts.join(', ');
}

interface DirectionSnapshot {
  deliveredBytes: number;
  delivered: number;
  lost: number;
  queueDrops: number;
  lateFrames: number;
  lateTotalMs: number;
  lateMaxMs: number;
}

interface BridgeSnapshot {
  timeMs: number;
  aToB: DirectionSnapshot;
  bToA: DirectionSnapshot;
}

function snapshot(bridge: FrameBridge): BridgeSnapshot {
  const one = (path: ImpairedPath): DirectionSnapshot => ({
    deliveredBytes: path.counters.deliveredBytes,
    delivered: path.counters.delivered,
    lost: path.counters.dropped.loss + path.counters.dropped['burst-loss'],
    queueDrops: path.counters.dropped['queue-full'],
    lateFrames: path.lateness.frames,
    lateTotalMs: path.lateness.totalMs,
    lateMaxMs: path.lateness.maxMs,
  });
  return { timeMs: performance.now(), aToB: one(bridge.aToB), bToA: one(bridge.bToA) };
}

/** Each direction's figures between two snapshots (max lateness is since the start). */
function statsLine(from: BridgeSnapshot, to: BridgeSnapshot, label?: string): string {
  const one = (label: string, f: DirectionSnapshot, t: DirectionSnapshot, seconds: number): string => {
    const frames = t.lateFrames - f.lateFrames;
    const meanLate = frames > 0 ? (t.lateTotalMs - f.lateTotalMs) / frames : 0;
    const rate = seconds > 0 ? ((t.deliveredBytes - f.deliveredBytes) * 8) / seconds / 1e6 : 0;
    return `${label} ${rate.toFixed(2)} Mbit/s ${t.delivered - f.delivered} frames, lost ${t.lost - f.lost}, queue drops ${t.queueDrops - f.queueDrops}, late mean ${meanLate.toFixed(3)} ms max ${t.lateMaxMs.toFixed(3)} ms`;
  };
  const seconds = (to.timeMs - from.timeMs) / 1000;
  const head = `${label ?? 'interval'} ${seconds.toFixed(2)} s:`;
  return `${head} ${one('a->b', from.aToB, to.aToB, seconds)}; ${one('b->a', from.bToA, to.bToA, seconds)}\n`;
}
