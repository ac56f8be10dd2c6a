/**
 * `tcpts demo`: the seed's story of TCP and UDP, played by two simulated hosts and printed chapter by
 * chapter as ladder diagrams; then the capture (demo.pcap) and the report (demo.html) are written.
 */

import { runSeedStory, type SeedStory } from '../../sim/scenarios/seed-story/seed-story.js';
import {
  renderStoryReport,
  STORY_TITLE,
  storyDescription,
} from '../../sim/scenarios/seed-story/story-report.js';
import type { StoryChapter } from '../../sim/scenarios/seed-story/story-stage.js';
import { CLIENT, SERVER } from '../../sim/scenarios/two-hosts.js';
import { renderLadderText } from '../../viz/ladder-text.js';
import {
  type CliIo,
  type CommandSpec,
  flagValue,
  helpText,
  integerOption,
  parseCommandLine,
  stringValue,
  UsageError,
  wrapWords,
} from '../command-line.js';
import { displayPath, outputDirectory, writeOutputFile } from '../output-files.js';
import { colorChoice, drawingWidth, paint, useColor } from '../terminal.js';

export const DEMO_SPEC: CommandSpec = {
  name: 'demo',
  usage: ['[--out DIR] [--chapter N] [--brief] [--seed N] [--color WHEN]'],
  description:
    'Plays the story of TCP and UDP between two simulated hosts, client and server: the three-way ' +
    'handshake, the sliding window, a retransmission on timeout, fast retransmit, a zero window, the ' +
    'four-way close with a lost final ACK, a reset, and UDP. Each chapter is printed as a ladder ' +
    'diagram; then demo.pcap (open it in Wireshark) and demo.html (the full report) are written.',
  options: [
    {
      name: 'out',
      short: 'o',
      type: 'string',
      value: 'DIR',
      description: 'where to write demo.pcap and demo.html (default: .)',
    },
    {
      name: 'chapter',
      short: 'c',
      type: 'string',
      value: 'N',
      description: 'print only chapter N (1-8); the files hold all',
    },
    {
      name: 'brief',
      short: 'b',
      type: 'boolean',
      description: 'only the one-line summary under each chapter, not its explanation',
    },
    {
      name: 'explain',
      short: 'e',
      type: 'boolean',
      description: 'print the explanation under each chapter (the default)',
    },
    {
      name: 'seed',
      type: 'string',
      value: 'N',
      description: 'seed of the simulation (it picks ISNs and ports; default 1)',
    },
    {
      name: 'width',
      type: 'string',
      value: 'COLUMNS',
      description: 'width of the diagrams (default: the terminal, else 100)',
    },
    {
      name: 'color',
      type: 'string',
      value: 'WHEN',
      description: 'auto (default: on a terminal, unless NO_COLOR is set), always, never',
    },
  ],
  examples: [
    'tcpts demo',
    'tcpts demo --chapter 2',
    'tcpts demo --brief',
    'tcpts demo --out /tmp/tcpts --color never',
  ],
};

export async function runDemo(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommandLine(DEMO_SPEC, args);
  if (parsed === 'help') {
    io.stdout.write(helpText(DEMO_SPEC));
    return 0;
  }
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
  const chapterText = stringValue(parsed, 'chapter');
  const onlyChapter = chapterText === undefined ? undefined : integerOption('chapter', chapterText, 1, 8);
  const seedText = stringValue(parsed, 'seed');
  const seed = seedText === undefined ? 1 : integerOption('seed', seedText, 0, 2 ** 32 - 1);
  const widthText = stringValue(parsed, 'width');
  const width =
    widthText === undefined ? drawingWidth(io.stdout) : integerOption('width', widthText, 72, 400);
  const color = useColor(io.stdout, io.env, colorChoice(stringValue(parsed, 'color')));
  const explain = !flagValue(parsed, 'brief');
  const dir = outputDirectory(stringValue(parsed, 'out'), io.cwd);

  const story = runSeedStory({ seed });
  const out: string[] = [];
  if (onlyChapter === undefined) out.push(banner(story, width, color));
  for (const chapter of story.chapters) {
    if (onlyChapter !== undefined && chapter.number !== onlyChapter) continue;
    out.push(chapterText_(story, chapter, width, color, explain));
  }
  io.stdout.write(out.join('\n'));

  const network = story.stage.network;
  const pcap = writeOutputFile(dir, 'demo.pcap', network.pcap());
  const html = writeOutputFile(dir, 'demo.html', renderStoryReport(story));
  const packets = network.conversation().packets.length;
  io.stdout.write(
    [
      '',
      paint(color, 'bold', 'Written:'),
      `  ${displayPath(pcap, io.cwd)}  ${paint(color, 'dim', `${packets} packets: open it in Wireshark, or tshark -r ${displayPath(pcap, io.cwd)}`)}`,
      `  ${displayPath(html, io.cwd)}  ${paint(color, 'dim', 'the report: every ladder as SVG, time-sequence and window graphs, states, counters')}`,
      '',
    ].join('\n'),
  );
  return 0;
}

function banner(story: SeedStory, width: number, color: boolean): string {
  const rule = '═'.repeat(Math.min(width, 100));
  return [
    paint(color, 'bold-cyan', rule),
    paint(color, 'bold', STORY_TITLE),
    ...wrapWords(storyDescription(story), Math.min(width, 100)).map((l) => paint(color, 'dim', l)),
    paint(color, 'bold-cyan', rule),
    '',
  ].join('\n');
}

function chapterText_(
  story: SeedStory,
  chapter: StoryChapter,
  width: number,
  color: boolean,
  explain: boolean,
): string {
  const head = `── ${chapter.number} · ${chapter.title} `;
  const lines = [
    paint(color, 'bold-cyan', `${head}${'─'.repeat(Math.max(3, Math.min(width, 100) - [...head].length))}`),
    paint(color, 'bold', chapter.summary),
  ];
  if (explain)
    lines.push(...wrapWords(chapter.explanation, Math.min(width, 100)).map((l) => paint(color, 'dim', l)));
  lines.push('');
  const ladder = renderLadderText(story.stage.network.conversation(), {
    hosts: [CLIENT, SERVER],
    from: chapter.from,
    to: chapter.to,
    relative: !chapter.absolute,
    width,
    color,
    ...(chapter.protocols ? { protocols: chapter.protocols } : {}),
  });
  lines.push(ladder);
  return lines.join('\n');
}
