/**
 * Runs Wireshark's tshark over a capture and reports what its dissectors complain about, so tests can
 * assert that the frames tcpts writes are well formed and carry correct checksums.
 *
 * Checksum verification is off by default in Wireshark (offloading makes captured checksums unreliable);
 * it is switched on here for IPv4, TCP and UDP (ICMP is always verified). A packet counts as having a bad
 * checksum when any `*.checksum.status` field says Bad (0) or an expert item of the Checksum group is an
 * error; as malformed when `_ws.malformed` is present or an expert item of the Malformed group appears.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface TsharkReport {
  /** Packets tshark read. */
  packets: number;
  /** Packets with a malformed-packet exception or expert item. */
  malformed: number;
  /** Packets with at least one bad IPv4, ICMP, TCP or UDP checksum. */
  badChecksums: number;
  /** Expert items of severity warning or error, as 'frame N: [severity] message'. */
  messages: string[];
}

// epan/proto.h: expert severities and groups as tshark prints them in `_ws.expert.*` fields.
const SEVERITY_WARN = 0x00600000;
const SEVERITY_ERROR = 0x00800000;
const GROUP_CHECKSUM = 0x01000000;
const GROUP_MALFORMED = 0x07000000;
const CHECKSUM_STATUS_BAD = '0';

/** Separates occurrences of one field; a control character no expert message contains. */
const AGGREGATOR = '\u001f';

const CHECKSUM_STATUS_FIELDS = [
  'ip.checksum.status',
  'icmp.checksum.status',
  'tcp.checksum.status',
  'udp.checksum.status',
];

let cachedPath: string | null | undefined;

/** Absolute path of tshark on PATH, or undefined when it is not installed. */
export function findTshark(): string | undefined {
  if (cachedPath !== undefined) return cachedPath ?? undefined;
  cachedPath = null;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'tshark');
    try {
      accessSync(candidate, constants.X_OK);
      cachedPath = candidate;
      break;
    } catch {
      // not here
    }
  }
  return cachedPath ?? undefined;
}

/** Why tshark tests are skipped, or undefined when tshark is available. */
export function tsharkSkipReason(): string | undefined {
  return findTshark() === undefined
    ? 'tshark is not installed (Debian package "tshark"; .ci/run installs it)'
    : undefined;
}

/** Dissects the capture file at `path`. Throws when tshark cannot read it (e.g. a truncated file). */
export function analyzePcapFile(path: string): TsharkReport {
  const tshark = findTshark();
  if (tshark === undefined) throw new Error('tshark is not installed');
  const fields = [
    'frame.number',
    '_ws.malformed',
    '_ws.expert.severity',
    '_ws.expert.group',
    '_ws.expert.message',
    ...CHECKSUM_STATUS_FIELDS,
  ];
  const args = [
    '-r',
    path,
    '-n', // no name resolution: faster, and no network access
    '-o',
    'ip.check_checksum:TRUE',
    '-o',
    'tcp.check_checksum:TRUE',
    '-o',
    'udp.check_checksum:TRUE',
    '-T',
    'fields',
    ...fields.flatMap((f) => ['-e', f]),
    '-E',
    'occurrence=a',
    '-E',
    `aggregator=${AGGREGATOR}`,
    '-E',
    'separator=/t',
  ];
  const result = spawnSync(tshark, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`tshark exited with ${result.status}: ${result.stderr.trim()}`);
  }

  const report: TsharkReport = { packets: 0, malformed: 0, badChecksums: 0, messages: [] };
  for (const line of result.stdout.split('\n')) {
    if (line === '') continue;
    const columns = line.split('\t');
    const [frame, malformedField, severities, groups, messages] = columns.map((c) =>
      c === '' ? [] : c.split(AGGREGATOR),
    );
    report.packets++;
    const severity = (severities ?? []).map(Number);
    const group = (groups ?? []).map(Number);
    const text = messages ?? [];
    const statuses = columns.slice(5).flatMap((c) => (c === '' ? [] : c.split(AGGREGATOR)));

    if ((malformedField ?? []).length > 0 || group.includes(GROUP_MALFORMED)) report.malformed++;
    const checksumExpertError = group.some((g, i) => g === GROUP_CHECKSUM && severity[i]! >= SEVERITY_ERROR);
    if (checksumExpertError || statuses.includes(CHECKSUM_STATUS_BAD)) report.badChecksums++;
    for (let i = 0; i < severity.length; i++) {
      if (severity[i]! >= SEVERITY_WARN) {
        const level = severity[i]! >= SEVERITY_ERROR ? 'error' : 'warning';
        report.messages.push(`frame ${frame?.[0]}: [${level}] ${text[i] ?? ''}`);
      }
    }
  }
  return report;
}

/** Dissects a capture held in memory (written to a temporary file first). */
export function analyzePcapBytes(bytes: Uint8Array): TsharkReport {
  const dir = mkdtempSync(join(tmpdir(), 'tcpts-tshark-'));
  try {
    const path = join(dir, 'capture.pcap');
    writeFileSync(path, bytes);
    return analyzePcapFile(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Wireshark's own TCP analysis of a capture: how many frames carry each tcp.analysis flag. */
export interface TsharkTcpAnalysis {
  /** tcp.analysis.retransmission, fast_retransmission and spurious_retransmission (each frame once). */
  retransmissions: number;
  fastRetransmissions: number;
  spuriousRetransmissions: number;
  zeroWindowProbes: number;
  duplicateAcks: number;
  zeroWindows: number;
  /**
   * Frame numbers of the retransmissions (any of the three kinds above) and of the segments Wireshark
   * calls out-of-order: below the highest sequence number sent, but less than an RTT (or 3 ms) after it,
   * which from a sender's vantage point is a retransmission sent soon after new data.
   */
  retransmittedFrames: number[];
  outOfOrderFrames: number[];
  /** Frames in the file, with IPv4, with IPv6, and IPv4 frames carrying TCP. */
  frames: number;
  ipv4Frames: number;
  ipv6Frames: number;
  tcpIpv4Frames: number;
}

export function tsharkTcpAnalysis(path: string): TsharkTcpAnalysis {
  const tshark = findTshark();
  if (tshark === undefined) throw new Error('tshark is not installed');
  const flags = [
    'tcp.analysis.retransmission',
    'tcp.analysis.fast_retransmission',
    'tcp.analysis.spurious_retransmission',
    'tcp.analysis.zero_window_probe',
    'tcp.analysis.duplicate_ack',
    'tcp.analysis.zero_window',
    'tcp.analysis.out_of_order',
  ];
  const result = spawnSync(
    tshark,
    [
      '-r',
      path,
      '-n',
      '-T',
      'fields',
      '-e',
      'frame.number',
      ...flags.flatMap((f) => ['-e', f]),
      // ip.src, not ip.version: the IPv6 dissector fills ip.version too.
      ...['ip.src', 'ipv6.src', 'tcp.srcport'].flatMap((f) => ['-e', f]),
    ],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
  );
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`tshark exited with ${result.status}: ${result.stderr.trim()}`);
  const counts = [0, 0, 0, 0, 0, 0, 0];
  const retransmittedFrames: number[] = [];
  const outOfOrderFrames: number[] = [];
  let anyRetransmission = 0;
  let frames = 0;
  let ipv4Frames = 0;
  let ipv6Frames = 0;
  let tcpIpv4Frames = 0;
  for (const line of result.stdout.split('\n')) {
    if (line === '') continue;
    frames++;
    const frame = Number(line.split('\t')[0]);
    const columns = line.split('\t').slice(1);
    columns.slice(0, flags.length).forEach((c, i) => {
      if (c !== '') counts[i]!++;
    });
    if (columns.slice(0, 3).some((c) => c !== '')) {
      anyRetransmission++;
      retransmittedFrames.push(frame);
    }
    if (columns[6] !== '') outOfOrderFrames.push(frame);
    const [ip4, ip6, tcp] = columns.slice(flags.length);
    if (ip4) ipv4Frames++;
    if (ip6) ipv6Frames++;
    if (ip4 && tcp) tcpIpv4Frames++;
  }
  return {
    retransmissions: anyRetransmission,
    fastRetransmissions: counts[1]!,
    spuriousRetransmissions: counts[2]!,
    zeroWindowProbes: counts[3]!,
    duplicateAcks: counts[4]!,
    zeroWindows: counts[5]!,
    retransmittedFrames,
    outOfOrderFrames,
    frames,
    ipv4Frames,
    ipv6Frames,
    tcpIpv4Frames,
  };
}

/** tshark's `fields` of the frames in the capture at `path` that match the display `filter`, one array per frame. */
export function tsharkFields(path: string, filter: string, fields: readonly string[]): string[][] {
  const run = spawnSync(
    'tshark',
    ['-r', path, '-Y', filter, '-T', 'fields', '-E', 'separator=/t', ...fields.flatMap((f) => ['-e', f])],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
  );
  if (run.status !== 0) throw new Error(`tshark failed: ${run.stderr}`);
  return run.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split('\t'));
}
