/**
 * `tcpts sim`: a transfer of the user's choosing between two simulated hosts (bytes each way, loss, delay,
 * rate, MTU, buffers, seed), printed as the beginning and end of its ladder diagram and a summary, and
 * written as a capture and a report. A progress bar runs on stderr while it simulates, on a terminal.
 */

import { bdpQueueFrames, runBulkFlows } from '../../sim/scenarios/bulk-flows.js';
import {
  CONGESTION_CONTROLS,
  type CongestionControlName,
  type TransferOptions,
  type TransferResult,
  TransferScenario,
} from '../../sim/scenarios/transfer.js';
import { CLIENT, SERVER } from '../../sim/scenarios/two-hosts.js';
import type { TcpConfig } from '../../tcp/config.js';
import type { Conversation } from '../../viz/conversation.js';
import { countsText } from '../../viz/conversation-counts.js';
import { renderHtmlReport } from '../../viz/html-report.js';
import { renderLadderText } from '../../viz/ladder-text.js';
import {
  type CliIo,
  type CommandSpec,
  formatBytes,
  helpText,
  integerOption,
  numberOption,
  type ParsedCommandLine,
  parseCommandLine,
  probabilityOption,
  rateOption,
  sizeOption,
  stringValue,
  UsageError,
} from '../command-line.js';
import { displayPath, outputDirectory, writeOutputFile } from '../output-files.js';
import { colorChoice, drawingWidth, ProgressBar, paint, useColor } from '../terminal.js';

const MAX_BYTES = 256 * 1024 * 1024;

export const SIM_SPEC: CommandSpec = {
  name: 'sim',
  usage: [
    '[--client-bytes SIZE] [--server-bytes SIZE] [--delay MS] [--loss P] [--rate RATE] [--mtu N] [options]',
  ],
  description:
    'Simulates one TCP connection between hosts client (10.0.0.1) and server (10.0.0.2) over a cable ' +
    'with the delay, loss and rate you choose. The client sends its bytes, the server its own, both ' +
    'close. Every byte is checked on arrival. Prints the start and end of the ladder diagram and a ' +
    'summary, and writes NAME.pcap and NAME.html. The same seed gives the same run, packet for packet.',
  options: [
    {
      name: 'client-bytes',
      short: 'b',
      type: 'string',
      value: 'SIZE',
      description: 'bytes the client sends (default 256k; k/M = KiB/MiB)',
    },
    {
      name: 'server-bytes',
      type: 'string',
      value: 'SIZE',
      description: 'bytes the server sends back (default 0)',
    },
    {
      name: 'delay',
      short: 'd',
      type: 'string',
      value: 'MS',
      description: 'one-way delay of the cable in ms (default 10)',
    },
    {
      name: 'jitter',
      type: 'string',
      value: 'MS',
      description: 'random extra delay per frame, up to MS (default 0)',
    },
    {
      name: 'loss',
      short: 'l',
      type: 'string',
      value: 'P',
      description: 'probability a frame is lost, each way: 0.01 or 1% (default 0)',
    },
    {
      name: 'duplicate',
      type: 'string',
      value: 'P',
      description: 'probability a frame arrives twice (default 0)',
    },
    {
      name: 'reorder',
      type: 'string',
      value: 'P',
      description: 'probability a frame is overtaken by later ones (default 0)',
    },
    {
      name: 'corrupt',
      type: 'string',
      value: 'P',
      description: 'probability a frame arrives with a flipped bit (default 0)',
    },
    {
      name: 'rate',
      short: 'r',
      type: 'string',
      value: 'RATE',
      description: 'bottleneck rate each way, e.g. 10mbit (default: unlimited)',
    },
    {
      name: 'queue',
      type: 'string',
      value: 'FRAMES',
      description: 'frames the bottleneck queue holds (default 1000)',
    },
    {
      name: 'mtu',
      type: 'string',
      value: 'N',
      description: 'MTU of the cable; the MSS is MTU - 40 (default 1500)',
    },
    {
      name: 'client-buffer',
      type: 'string',
      value: 'SIZE',
      description:
        "client's receive buffer, fixed (default: autotuned from 256k up to 6M, as Linux; above 64k needs window scaling, on by default)",
    },
    {
      name: 'server-buffer',
      type: 'string',
      value: 'SIZE',
      description: "server's receive buffer, fixed (default: autotuned from 256k up to 6M)",
    },
    {
      name: 'send-buffer',
      type: 'string',
      value: 'SIZE',
      description: 'send buffer of both sides, fixed (default: autotuned from 256k up to 4M)',
    },
    {
      name: 'cc',
      type: 'string',
      value: 'NAME',
      description: `congestion control: ${CONGESTION_CONTROLS.join(', ')} (default cubic)`,
    },
    {
      name: 'window-scaling',
      type: 'string',
      value: 'on|off',
      description: 'window scaling, RFC 7323 (default on)',
    },
    {
      name: 'sack',
      type: 'string',
      value: 'on|off',
      description: 'selective acknowledgments, RFC 2018, with RACK-TLP loss detection (default on)',
    },
    {
      name: 'timestamps',
      type: 'string',
      value: 'on|off',
      description: 'timestamps, RFC 7323 (default on)',
    },
    {
      name: 'rack',
      type: 'string',
      value: 'on|off',
      description: 'RACK-TLP loss detection with SACK, RFC 8985; off: RFC 6675 (default on)',
    },
    {
      name: 'pacing',
      type: 'string',
      value: 'on|off',
      description: 'pace reno/newreno/cubic at 2x/1.2x cwnd per RTT (default off; bbr always paces)',
    },
    {
      name: 'ecn',
      type: 'string',
      value: 'on|off',
      description:
        'ECN (RFC 3168) on both hosts; with --rate the bottleneck marks CE instead of dropping once ' +
        'half its queue is full (see --ecn-mark) (default off)',
    },
    {
      name: 'ecn-mark',
      type: 'string',
      value: 'FRAMES',
      description:
        'queue length at which the bottleneck marks ECN-capable packets CE (default: half of --queue)',
    },
    {
      name: 'flows',
      type: 'string',
      value: 'N',
      description:
        "N bulk flows client → server through one bottleneck (needs --rate): prints each flow's goodput " +
        'and their fairness instead of a ladder; --cc takes a comma list to mix algorithms (e.g. cubic,bbr); ' +
        'the path takes --delay, --queue, --loss, --seed and --ecn, the flows the on/off TCP switches; ' +
        'options of a single transfer (bytes, buffers, --mtu, --jitter, files) are refused',
    },
    {
      name: 'duration',
      type: 'string',
      value: 'SECONDS',
      description: 'with --flows: simulated time the flows run (default 20; goodput from the second half)',
    },
    {
      name: 'start-gap',
      type: 'string',
      value: 'MS',
      description:
        'with --flows: time from one flow opening to the next, at least its handshake (four one-way ' +
        'delays and 10 ms, the default); 0 opens them all at once',
    },
    {
      name: 'seed',
      short: 's',
      type: 'string',
      value: 'N',
      description: 'seed of every random choice (default 1)',
    },
    {
      name: 'time-limit',
      type: 'string',
      value: 'SECONDS',
      description: 'give up after this much simulated time (default 600)',
    },
    {
      name: 'out',
      short: 'o',
      type: 'string',
      value: 'DIR',
      description: 'where to write the files (default: .)',
    },
    {
      name: 'name',
      type: 'string',
      value: 'NAME',
      description: 'file name stem: NAME.pcap, NAME.html (default sim)',
    },
    {
      name: 'ladder',
      type: 'string',
      value: 'N',
      description: 'packets of the ladder to print from the start and the end (default 24; 0: none)',
    },
    {
      name: 'width',
      type: 'string',
      value: 'COLUMNS',
      description: 'width of the diagrams (default: the terminal, else 100)',
    },
    { name: 'color', type: 'string', value: 'WHEN', description: 'auto (default), always, never' },
  ],
  examples: [
    'tcpts sim --client-bytes 1M --loss 1% --delay 20 --rate 10mbit',
    'tcpts sim -b 64k --server-bytes 64k --mtu 576 --seed 7',
    'tcpts sim --client-bytes 4M --server-buffer 8k --ladder 0 --out runs --name small-window',
    'tcpts sim --flows 2 --cc cubic,bbr --rate 100mbit --delay 25',
  ],
};

interface SimSettings {
  transfer: TransferOptions;
  dir: string;
  name: string;
  ladder: number;
}

function simSettings(parsed: ParsedCommandLine, cwd: string): SimSettings {
  const v = (name: string) => stringValue(parsed, name);
  const t: TransferOptions = {};
  const optional = <T>(name: string, parse: (text: string) => T, set: (value: T) => void) => {
    const text = v(name);
    if (text !== undefined) set(parse(text));
  };
  optional(
    'client-bytes',
    (s) => sizeOption('client-bytes', s, 0, MAX_BYTES),
    (x) => (t.clientBytes = x),
  );
  optional(
    'server-bytes',
    (s) => sizeOption('server-bytes', s, 0, MAX_BYTES),
    (x) => (t.serverBytes = x),
  );
  optional(
    'delay',
    (s) => numberOption('delay', s, 0, 60_000),
    (x) => (t.delayMs = x),
  );
  optional(
    'jitter',
    (s) => numberOption('jitter', s, 0, 60_000),
    (x) => (t.jitterMs = x),
  );
  optional(
    'loss',
    (s) => probabilityOption('loss', s),
    (x) => (t.loss = x),
  );
  optional(
    'duplicate',
    (s) => probabilityOption('duplicate', s),
    (x) => (t.duplicate = x),
  );
  optional(
    'reorder',
    (s) => probabilityOption('reorder', s),
    (x) => (t.reorder = x),
  );
  optional(
    'corrupt',
    (s) => probabilityOption('corrupt', s),
    (x) => (t.corrupt = x),
  );
  optional(
    'rate',
    (s) => rateOption('rate', s),
    (x) => (t.rateBitsPerSecond = x),
  );
  optional(
    'queue',
    (s) => integerOption('queue', s, 1, 1_000_000),
    (x) => (t.queueFrames = x),
  );
  optional(
    'mtu',
    (s) => integerOption('mtu', s, 576, 9000),
    (x) => (t.mtu = x),
  );
  optional(
    'client-buffer',
    (s) => sizeOption('client-buffer', s, 1, 16 * 1024 * 1024),
    (x) => (t.clientReceiveBuffer = x),
  );
  optional(
    'server-buffer',
    (s) => sizeOption('server-buffer', s, 1, 16 * 1024 * 1024),
    (x) => (t.serverReceiveBuffer = x),
  );
  optional(
    'send-buffer',
    (s) => sizeOption('send-buffer', s, 1, 64 * 1024 * 1024),
    (x) => (t.sendBuffer = x),
  );
  optional(
    'seed',
    (s) => integerOption('seed', s, 0, 2 ** 32 - 1),
    (x) => (t.seed = x),
  );
  optional(
    'time-limit',
    (s) => numberOption('time-limit', s, 0.001, 86_400),
    (x) => (t.timeLimitMs = x * 1000),
  );
  optional(
    'cc',
    (s) => {
      if (!(CONGESTION_CONTROLS as readonly string[]).includes(s)) {
        throw new UsageError(`--cc wants one of ${CONGESTION_CONTROLS.join(', ')}; got '${s}'`);
      }
      return s as CongestionControlName;
    },
    (x) => (t.congestionControl = x),
  );
  const tcp: Partial<TcpConfig> = {};
  optional(
    'window-scaling',
    (s) => onOffOption('window-scaling', s),
    (x) => (tcp.windowScaling = x),
  );
  optional(
    'sack',
    (s) => onOffOption('sack', s),
    (x) => (tcp.sack = x),
  );
  optional(
    'timestamps',
    (s) => onOffOption('timestamps', s),
    (x) => (tcp.timestamps = x),
  );
  optional(
    'rack',
    (s) => onOffOption('rack', s),
    (x) => (tcp.rack = x),
  );
  optional(
    'pacing',
    (s) => onOffOption('pacing', s),
    (x) => (tcp.pacing = x),
  );
  optional(
    'ecn',
    (s) => onOffOption('ecn', s),
    (x) => (tcp.ecn = x),
  );
  const mark = ecnMarkFrames(v, t.queueFrames ?? 1000);
  if (mark !== undefined) t.ecnMarkFrames = mark;
  if (Object.keys(tcp).length > 0) t.tcp = tcp;
  const name = v('name') ?? 'sim';
  if (!/^[\w.-]+$/.test(name)) throw new UsageError(`--name wants a plain file name stem; got '${name}'`);
  const ladderText = v('ladder');
  return {
    transfer: t,
    dir: outputDirectory(v('out'), cwd),
    name,
    ladder: ladderText === undefined ? 24 : integerOption('ladder', ladderText, 0, 100_000),
  };
}

export async function runSim(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommandLine(SIM_SPEC, args);
  if (parsed === 'help') {
    io.stdout.write(helpText(SIM_SPEC));
    return 0;
  }
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
  if (stringValue(parsed, 'flows') !== undefined) return runFlows(parsed, io);
  const settings = simSettings(parsed, io.cwd);
  const widthText = stringValue(parsed, 'width');
  const width =
    widthText === undefined ? drawingWidth(io.stdout) : integerOption('width', widthText, 72, 400);
  const color = useColor(io.stdout, io.env, colorChoice(stringValue(parsed, 'color')));

  const scenario = new TransferScenario(settings.transfer);
  io.stdout.write(
    `${paint(color, 'bold', 'tcpts sim')} ${paint(color, 'dim', describeSettings(scenario))}\n\n`,
  );
  const bar = new ProgressBar(io.stderr, 'simulating');
  const result = scenario.runToEnd((p) => {
    bar.update(
      p.fraction,
      `${formatBytes(p.serverBytesReceived + p.clientBytesReceived)} · ${(p.time / 1000).toFixed(2)} s simulated`,
    );
  }, 50);
  bar.done();

  const network = scenario.network;
  const conversation = network.conversation();
  if (settings.ladder > 0) io.stdout.write(ladderExcerpt(conversation, settings.ladder, width, color));
  io.stdout.write(summary(result, scenario, color));

  const pcap = writeOutputFile(settings.dir, `${settings.name}.pcap`, network.pcap());
  const report = renderHtmlReport(conversation, {
    title: `tcpts sim: ${formatBytes(scenario.options.clientBytes)} client → server, ${formatBytes(scenario.options.serverBytes)} back`,
    description: `Simulated with ${describeSettings(scenario)}. ${outcomeText(result)}`,
    hosts: [CLIENT, SERVER],
    counters: network.counters(),
  });
  const html = writeOutputFile(settings.dir, `${settings.name}.html`, report);
  io.stdout.write(
    `\n${paint(color, 'bold', 'Written:')}\n  ${displayPath(pcap, io.cwd)}\n  ${displayPath(html, io.cwd)}\n`,
  );
  return result.phase === 'failed' ? 1 : 0;
}

function describeSettings(s: TransferScenario): string {
  const o = s.options;
  const parts = [
    `client → server ${formatBytes(o.clientBytes)}`,
    `server → client ${formatBytes(o.serverBytes)}`,
    `delay ${o.delayMs} ms${o.jitterMs ? ` ± ${o.jitterMs}` : ''}`,
  ];
  if (o.loss) parts.push(`loss ${percent(o.loss)}`);
  if (o.duplicate) parts.push(`duplicate ${percent(o.duplicate)}`);
  if (o.reorder) parts.push(`reorder ${percent(o.reorder)}`);
  if (o.corrupt) parts.push(`corrupt ${percent(o.corrupt)}`);
  if (o.rateBitsPerSecond !== undefined)
    parts.push(`rate ${formatRate(o.rateBitsPerSecond)}, queue ${o.queueFrames}`);
  parts.push(`MTU ${o.mtu}`);
  parts.push(`buffers ${o.clientReceiveBuffer ?? 'auto'}/${o.serverReceiveBuffer ?? 'auto'}`);
  parts.push(o.congestionControl);
  if (o.tcp.windowScaling === false) parts.push('no window scaling');
  if (o.tcp.sack === false) parts.push('no SACK');
  if (o.tcp.timestamps === false) parts.push('no timestamps');
  if (o.tcp.rack === false) parts.push('no RACK');
  if (o.tcp.pacing) parts.push('pacing');
  if (o.tcp.ecn) parts.push('ECN');
  if (o.ecnMarkFrames !== undefined && o.rateBitsPerSecond !== undefined)
    parts.push(`CE marks from ${o.ecnMarkFrames} queued`);
  parts.push(`seed ${o.seed}`);
  return parts.join(' · ');
}

/**
 * Options of the single-transfer mode that --flows has no use for (its flows send without end, over a
 * path of rate, delay, queue and random loss alone, and write no files): refused rather than ignored.
 */
const NOT_WITH_FLOWS = [
  'client-bytes',
  'server-bytes',
  'jitter',
  'duplicate',
  'reorder',
  'corrupt',
  'mtu',
  'client-buffer',
  'server-buffer',
  'send-buffer',
  'time-limit',
  'out',
  'name',
  'ladder',
] as const;

/** The on/off TCP switches --flows passes on to every flow, each with the TcpConfig field it sets. */
const FLOW_SWITCHES = [
  ['window-scaling', 'windowScaling'],
  ['sack', 'sack'],
  ['timestamps', 'timestamps'],
  ['rack', 'rack'],
  ['pacing', 'pacing'],
] as const;

/** `--flows N`: several bulk flows through one bottleneck, each flow's goodput and their fairness. */
function runFlows(parsed: ParsedCommandLine, io: CliIo): number {
  const v = (name: string) => stringValue(parsed, name);
  const count = integerOption('flows', v('flows')!, 1, 64);
  const rateText = v('rate');
  if (rateText === undefined) throw new UsageError('--flows needs --rate (the bottleneck they share)');
  for (const name of NOT_WITH_FLOWS) {
    if (v(name) !== undefined) throw new UsageError(`--${name} does not apply with --flows`);
  }
  const rate = rateOption('rate', rateText);
  const names = (v('cc') ?? 'cubic').split(',');
  for (const name of names) {
    if (!(CONGESTION_CONTROLS as readonly string[]).includes(name)) {
      throw new UsageError(`--cc wants one of ${CONGESTION_CONTROLS.join(', ')}; got '${name}'`);
    }
  }
  const flows = Array.from({ length: count }, (_, i) => names[i % names.length] as CongestionControlName);
  const delayText = v('delay');
  const delayMs = delayText === undefined ? 10 : numberOption('delay', delayText, 0, 60_000);
  const durationText = v('duration');
  const durationMs =
    (durationText === undefined ? 20 : numberOption('duration', durationText, 0.1, 3600)) * 1000;
  const gapText = v('start-gap');
  const startGapMs = gapText === undefined ? undefined : numberOption('start-gap', gapText, 0, 3_600_000);
  const lossText = v('loss');
  const queueText = v('queue');
  const seedText = v('seed');
  const ecnText = v('ecn');
  const ecn = ecnText !== undefined && onOffOption('ecn', ecnText);
  const queueFrames =
    queueText !== undefined ? integerOption('queue', queueText, 1, 1_000_000) : bdpQueueFrames(rate, delayMs);
  const mark = ecnMarkFrames(v, queueFrames);
  const tcp: Partial<TcpConfig> = { timestamps: true, ...(ecn ? { ecn: true } : {}) };
  for (const [option, field] of FLOW_SWITCHES) {
    const text = v(option);
    if (text !== undefined) tcp[field] = onOffOption(option, text);
  }
  const result = runBulkFlows({
    flows,
    rateBitsPerSecond: rate,
    delayMs,
    durationMs,
    ...(lossText !== undefined ? { loss: probabilityOption('loss', lossText) } : {}),
    queueFrames,
    ...(seedText !== undefined ? { seed: integerOption('seed', seedText, 0, 2 ** 32 - 1) } : {}),
    ...(mark !== undefined ? { ecnMarkThresholdFrames: mark } : {}),
    ...(startGapMs !== undefined ? { startGapMs } : {}),
    tcp,
  });
  const opened =
    startGapMs === undefined || count === 1
      ? ''
      : startGapMs === 0
        ? ' · opened together'
        : ` · opened ${Math.max(startGapMs, 4 * delayMs + 10)} ms apart`;
  const mbit = (bits: number) => `${(bits / 1e6).toFixed(1)} Mbit/s`;
  io.stdout.write(
    `tcpts sim ${count} flow${count === 1 ? '' : 's'} · rate ${formatRate(rate)} · delay ${delayMs} ms · ` +
      `${durationMs / 1000} s simulated, goodput from ${durationMs / 2000} s${opened}\n\n`,
  );
  result.flows.forEach((f, i) => {
    io.stdout.write(
      `  flow ${i + 1}  ${f.congestionControl.padEnd(7)} ${mbit(f.goodputBitsPerSecond).padStart(14)}  ` +
        `${f.retransmissions} retransmitted\n`,
    );
  });
  io.stdout.write(
    `\n  total    ${mbit(result.totalBitsPerSecond)} (${(result.linkShare * 100).toFixed(1)}% of the link)\n` +
      `  fairness ${result.fairness.toFixed(3)} (Jain's index: 1 = equal shares)\n` +
      `  dropped  ${result.queueDrops} at the full queue, ${result.randomDrops} by random loss\n` +
      (mark !== undefined
        ? `  ECN      ${result.ceMarks} marked CE from ${mark} queued, ${result.ecnReductions} window reductions for ECE\n`
        : ''),
  );
  return 0;
}

/**
 * The bottleneck's CE marking threshold: --ecn-mark, or with --ecn on half the queue (a queue that marks
 * before it overflows lets ECN flows slow down without a loss).
 */
function ecnMarkFrames(v: (name: string) => string | undefined, queueFrames: number): number | undefined {
  const text = v('ecn-mark');
  if (text !== undefined) return integerOption('ecn-mark', text, 1, 1_000_000);
  if (v('ecn') === 'on') return Math.max(1, Math.floor(queueFrames / 2));
  return undefined;
}

function onOffOption(name: string, text: string): boolean {
  if (text === 'on') return true;
  if (text === 'off') return false;
  throw new UsageError(`--${name} wants on or off; got '${text}'`);
}

function percent(p: number): string {
  return `${Number((p * 100).toPrecision(3))}%`;
}

function formatRate(bits: number): string {
  if (bits >= 1e9) return `${Number((bits / 1e9).toPrecision(3))} Gbit/s`;
  if (bits >= 1e6) return `${Number((bits / 1e6).toPrecision(3))} Mbit/s`;
  return `${Number((bits / 1e3).toPrecision(3))} kbit/s`;
}

/** The first `n` packets and, for longer runs, the last `n` (the close), with the gap counted. */
function ladderExcerpt(c: Conversation, n: number, width: number, color: boolean): string {
  const common = { hosts: [CLIENT, SERVER], width, color };
  const packets = c.packets.length;
  if (packets <= 2 * n + 4) return `${renderLadderText(c, common)}\n`;
  const head = renderLadderText(c, { ...common, maxPackets: n, footer: false });
  const tailFrom = c.packets[packets - n]!.sentAt;
  // Packets sent at the same instant as the first one of the tail are drawn with it.
  const shownInTail = c.packets.filter((p) => p.sentAt >= tailFrom).length;
  const skipped = packets - n - shownInTail;
  const tail = renderLadderText(c, { ...common, from: tailFrom });
  const gap = paint(
    color,
    'dim',
    `   ⋮   ${skipped} packet${skipped === 1 ? '' : 's'} not shown (all are in the pcap and the report)`,
  );
  return `${head}${gap}\n${tail}\n`;
}

function outcomeText(r: TransferResult): string {
  if (r.phase === 'failed') return `The transfer failed: ${r.failure}.`;
  return r.intact ? 'Every byte arrived once, in order, unchanged.' : 'The data did NOT arrive intact.';
}

function summary(r: TransferResult, s: TransferScenario, color: boolean): string {
  const o = s.options;
  const seconds = r.durationMs / 1000;
  const goodput = (bytes: number) =>
    seconds > 0 && bytes > 0 ? ` (${formatRate((bytes * 8) / seconds)} goodput)` : '';
  const lines = [paint(color, 'bold', 'Result:')];
  const status =
    r.phase === 'failed'
      ? paint(color, 'red', `failed: ${r.failure}`)
      : r.intact
        ? paint(color, 'green', 'complete, every byte intact')
        : paint(color, 'red', 'complete, but the data was damaged');
  lines.push(`  outcome      ${status}`);
  lines.push(
    `  delivered    ${formatBytes(r.serverBytesReceived)} of ${formatBytes(o.clientBytes)} client → server, ` +
      `${formatBytes(r.clientBytesReceived)} of ${formatBytes(o.serverBytes)} server → client`,
  );
  lines.push(
    `  time         ${seconds.toFixed(3)} s simulated${goodput(r.serverBytesReceived + r.clientBytesReceived)}`,
  );
  lines.push(
    `  packets      ${r.packets}, ${r.lostOnLink} lost on the cable; ` +
      (countsText(r.counts, { packets: false, lost: false }) || 'no retransmission'),
  );
  lines.push(`  end states   client ${r.clientState}, server ${r.serverState}`);
  return `${lines.join('\n')}\n`;
}
