/**
 * `tcpts view FILE.pcap`: the report tcpts draws for its own simulations, drawn from any classic pcap
 * capture with TCP in it (tcpdump -w on a real network, Wireshark's "pcap" format): ladder diagram,
 * time-sequence and window graphs, RTT samples, counters and the packet table. The beginning of the
 * ladder is printed in the terminal too.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { readCapture } from '../../pcap/pcapng-reader.js';
import type { Conversation } from '../../viz/conversation.js';
import { countConversation, countsText } from '../../viz/conversation-counts.js';
import { conversationFromPcap } from '../../viz/conversation-from-pcap.js';
import { renderHtmlReport } from '../../viz/html-report.js';
import { renderLadderText } from '../../viz/ladder-text.js';
import { parseIpv4 } from '../../wire/address.js';
import {
  type CliIo,
  type CommandSpec,
  describeError,
  flagValue,
  helpText,
  InputError,
  integerOption,
  parseCommandLine,
  stringValue,
  UsageError,
} from '../command-line.js';
import { displayPath, writeOutputFile } from '../output-files.js';
import { colorChoice, drawingWidth, paint, useColor } from '../terminal.js';

export const VIEW_SPEC: CommandSpec = {
  name: 'view',
  usage: ['FILE [--out REPORT.html] [--name ADDR[:PORT]=NAME ...] [--all] [--ladder N]'],
  description:
    'Reads a capture, pcap or pcapng (tcpdump -w, Wireshark, dumpcap, tshark; Ethernet, Linux cooked ' +
    'SLL and SLL2 as `tcpdump -i any` writes, raw IP, BSD loopback) and writes the same report tcpts ' +
    'draws for its simulations: a ladder diagram with relative sequence numbers, time-sequence and ' +
    'window graphs per TCP connection, RTT samples, counters and the packet table. A capture has one ' +
    'time per packet, so its arrows are level. When both ends of a connection share an address (a client ' +
    'and a server on one host, as on 127.0.0.1) each end is drawn as address:port. A line says which ' +
    'frames were left out and why (other protocols, hosts outside the TCP conversations).',
  options: [
    {
      name: 'out',
      short: 'o',
      type: 'string',
      value: 'FILE',
      description: 'the report (default: FILE with .html, next to the capture)',
    },
    {
      name: 'title',
      type: 'string',
      value: 'TEXT',
      description: 'title of the report (default: the file name)',
    },
    {
      name: 'name',
      short: 'n',
      type: 'string',
      value: 'ADDR=NAME',
      description: 'call an address by a name, e.g. 10.0.0.1=client (repeatable, or comma separated)',
    },
    {
      name: 'all',
      short: 'a',
      type: 'boolean',
      description: 'keep every host, not only those in TCP conversations',
    },
    {
      name: 'ladder',
      type: 'string',
      value: 'N',
      description: 'packets of the ladder to print (default 40; 0: none)',
    },
    {
      name: 'width',
      type: 'string',
      value: 'COLUMNS',
      description: 'width of the diagram (default: the terminal, else 100)',
    },
    { name: 'color', type: 'string', value: 'WHEN', description: 'auto (default), always, never' },
  ],
  examples: [
    'tcpdump -i eth0 -w web.pcap port 443   # then:',
    'tcpts view web.pcap',
    'tcpts view web.pcap --name 192.168.1.20=laptop --out /tmp/web.html',
  ],
};

export async function runView(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommandLine(VIEW_SPEC, args);
  if (parsed === 'help') {
    io.stdout.write(helpText(VIEW_SPEC));
    return 0;
  }
  if (parsed.positionals.length === 0) throw new UsageError('which capture? tcpts view FILE.pcap');
  if (parsed.positionals.length > 1)
    throw new UsageError(`one capture at a time; got ${parsed.positionals.length}`);
  const file = resolve(io.cwd, parsed.positionals[0]!);
  const hostNames = parseNames(args);
  const ladderText = stringValue(parsed, 'ladder');
  const ladder = ladderText === undefined ? 40 : integerOption('ladder', ladderText, 0, 1_000_000);
  const widthText = stringValue(parsed, 'width');
  const width =
    widthText === undefined ? drawingWidth(io.stdout) : integerOption('width', widthText, 72, 400);
  const color = useColor(io.stdout, io.env, colorChoice(stringValue(parsed, 'color')));
  const out = stringValue(parsed, 'out');
  const outPath =
    out !== undefined
      ? resolve(io.cwd, out)
      : resolve(dirname(file), `${basename(file, extname(file))}.html`);

  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new InputError(`cannot read ${displayPath(file, io.cwd)}: ${describeError(error)}`);
  }
  const capture = readCapture(bytes);
  if (!capture.ok) {
    throw new InputError(
      `${displayPath(file, io.cwd)} is not a capture tcpts can read: ${capture.error.message}`,
    );
  }
  const pcap = capture.value;
  const linkTypes = [...new Set(pcap.interfaces.map((i) => i.linkType))];
  const conversation = conversationFromPcap(pcap.records, {
    hostNames,
    include: flagValue(parsed, 'all') ? 'all' : 'tcp-hosts',
  });

  io.stdout.write(
    `${paint(color, 'bold', displayPath(file, io.cwd))} ${paint(color, 'dim', describeCapture(conversation, pcap.records.length))}\n`,
  );
  if (pcap.truncatedTail)
    io.stdout.write(
      paint(
        color,
        'yellow',
        'The capture ends inside a packet (cut short); the complete packets are shown.\n',
      ),
    );
  const skipped = skippedLine(conversation, pcap.skippedBlocks);
  if (skipped) io.stdout.write(`${paint(color, 'dim', skipped)}\n`);
  io.stdout.write(flowLines(conversation));
  if (ladder > 0 && conversation.packets.length > 0) {
    io.stdout.write('\n');
    io.stdout.write(renderLadderText(conversation, { width, color, maxPackets: ladder }));
  }

  const report = renderHtmlReport(conversation, {
    title: stringValue(parsed, 'title') ?? basename(file),
    description: `Capture ${basename(file)} (${pcap.format}): ${pcap.records.length} frames, link type${linkTypes.length === 1 ? '' : 's'} ${linkTypes.join(', ')}.${skipped ? ` ${skipped}` : ''}`,
  });
  writeOutputFile(dirname(outPath), basename(outPath), report);
  io.stdout.write(`\n${paint(color, 'bold', 'Written:')}\n  ${displayPath(outPath, io.cwd)}\n`);
  return 0;
}

/** Every --name/-n value (parseArgs keeps only the last of a repeated string option). */
function parseNames(args: readonly string[]): Record<string, string> {
  const names: Record<string, string> = {};
  const values: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--name' || a === '-n') values.push(args[++i] ?? '');
    else if (a.startsWith('--name=')) values.push(a.slice('--name='.length));
    else if (a.startsWith('-n') && a.length > 2) values.push(a.slice(2));
    else if (a === '--') break;
  }
  for (const value of values.flatMap((v) => v.split(','))) {
    const m = /^([\d.]+)(:\d{1,5})?=(.+)$/.exec(value.trim());
    if (!m || parseIpv4(m[1]!) === undefined) {
      throw new UsageError(`--name wants ADDR=NAME or ADDR:PORT=NAME, e.g. 10.0.0.1=client; got '${value}'`);
    }
    names[`${m[1]!}${m[2] ?? ''}`] = m[3]!;
  }
  return names;
}

function describeCapture(c: Conversation, frames: number): string {
  const seconds = (c.endTime - c.startTime) / 1000;
  const start = c.wallClockStart !== undefined ? `, from ${new Date(c.wallClockStart).toISOString()}` : '';
  const tcp = c.packets.filter((p) => p.tcp).length;
  return `${frames} frames, ${c.packets.length} shown (${tcp} TCP), ${seconds.toFixed(3)} s${start}`;
}

/** 'Not drawn: 12 frames: 10 not between the hosts ..., 2 ...', or '' when every frame is drawn. */
export function skippedLine(c: Conversation, skippedBlocks = 0): string {
  const reasons = Object.entries(c.skipped ?? {}).sort((x, y) => y[1] - x[1]);
  const total = reasons.reduce((n, [, count]) => n + count, 0);
  const parts = reasons.map(([why, count]) => `${count} ${why}`);
  if (skippedBlocks) parts.push(`${skippedBlocks} pcapng blocks that hold no packet`);
  if (parts.length === 0) return '';
  return `Not drawn: ${total} frame${total === 1 ? '' : 's'}: ${parts.join('; ')}.`;
}

/** 'client:45000', or the host alone when it is already named by address and port. */
function endpointName(e: { host: string; port: number }): string {
  return e.host.endsWith(`:${e.port}`) ? e.host : `${e.host}:${e.port}`;
}

function flowLines(c: Conversation): string {
  if (c.flows.length === 0) return 'No TCP connection in this capture.\n';
  const lines = c.flows.slice(0, 20).map((f) => {
    const counts = countsText(countConversation(c, f.id), { packets: false });
    const resent = counts ? `, ${counts}` : '';
    return `  connection ${f.id + 1}: ${endpointName(f.a)} → ${endpointName(f.b)}  ${f.packets} packets, ${f.bytesAtoB} bytes →, ${f.bytesBtoA} bytes ←${resent}`;
  });
  if (c.flows.length > 20) lines.push(`  … and ${c.flows.length - 20} more`);
  return `${lines.join('\n')}\n`;
}
