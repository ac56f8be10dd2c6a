/**
 * `tcpts ping`: ICMP echo (RFC 792) from a tcpts host on a TAP device, printed the way ping(8) prints:
 *
 *   PING 10.9.0.1 (10.9.0.1) 56(84) bytes of data.
 *   64 bytes from 10.9.0.1: icmp_seq=1 ttl=64 time=0.412 ms
 *   ...
 *   --- 10.9.0.1 ping statistics ---
 *   3 packets transmitted, 3 received, 0% packet loss, time 2003ms
 *   rtt min/avg/max/mdev = 0.262/0.335/0.412/0.061 ms
 *
 * One request per interval; a reply that does not come within the timeout counts as lost. Exit status as
 * ping(8): 0 when some reply came, 1 when none did, 2 on other errors. SIGINT (or SIGTERM) stops it and
 * prints the statistics.
 */
import type { PingReply } from '../../ip/icmp-layer.js';
import { ipv4ToString, parseIpv4 } from '../../wire/address.js';
import { ipv6ToString, parseIpv6 } from '../../wire/ipv6-address.js';
import {
  type CliIo,
  type CommandSpec,
  describeError,
  helpText,
  integerOption,
  numberOption,
  parseCommandLine,
  stringValue,
  UsageError,
} from '../command-line.js';
import type { TapHost } from '../tap-host.js';
import {
  closeHost,
  onTerminatingSignal,
  openTapHost,
  say,
  TAP_HOST_OPTIONS,
  type TapCommandHostOptions,
  tapHostOptions,
} from './tap-options.js';

export const PING_SPEC: CommandSpec = {
  name: 'ping',
  usage: ['--tap IFNAME --ip ADDR/PREFIX [options] HOST [-c COUNT]'],
  description: [
    'ICMP echo from tcpts on a Linux TAP device, printed like ping(8): one line per reply with icmp_seq,',
    'ttl and time, then loss and rtt min/avg/max/mdev. Exits 0 when a reply came, 1 when none did.',
  ].join('\n'),
  options: [
    ...TAP_HOST_OPTIONS,
    { name: 'count', short: 'c', type: 'string', value: 'COUNT', description: 'stop after COUNT requests' },
    {
      name: 'interval',
      short: 'i',
      type: 'string',
      value: 'SECONDS',
      description: 'time between requests (default 1)',
    },
    { name: 'size', short: 's', type: 'string', value: 'BYTES', description: 'echo data bytes (default 56)' },
    {
      name: 'timeout',
      short: 'W',
      type: 'string',
      value: 'SECONDS',
      description: 'how long to wait for each reply (default 10)',
    },
    { name: 'ttl', short: 't', type: 'string', value: 'TTL', description: 'time to live (default 64)' },
  ],
  examples: [
    'tcpts ping --tap tap0 --ip 10.9.0.2/24 10.9.0.1 -c 3',
    'tcpts ping --tap tap0 --ip 10.9.0.2/24 --ip fd00:9::2/64 fd00:9::1 -c 3',
  ],
};

interface PingSettings {
  host: TapCommandHostOptions;
  target: string;
  count: number | undefined;
  intervalMs: number;
  size: number;
  timeoutMs: number;
  ttl: number;
}

function parsePingArguments(args: readonly string[], io: CliIo): PingSettings | 'help' {
  const parsed = parseCommandLine(PING_SPEC, args);
  if (parsed === 'help') return 'help';
  const host = tapHostOptions(parsed, io.cwd);
  if (parsed.positionals.length !== 1) throw new UsageError('give exactly one HOST to ping');
  const target = parsed.positionals[0]!;
  if (parseIpv4(target) === undefined && parseIpv6(target) === undefined)
    throw new UsageError(`HOST must be an IPv4 or IPv6 address; got '${target}'`);
  const count = stringValue(parsed, 'count');
  const interval = stringValue(parsed, 'interval');
  const size = stringValue(parsed, 'size');
  const timeout = stringValue(parsed, 'timeout');
  const ttl = stringValue(parsed, 'ttl');
  return {
    host,
    target,
    count: count === undefined ? undefined : integerOption('count', count, 1, 1e9),
    intervalMs: interval === undefined ? 1000 : numberOption('interval', interval, 0.002) * 1000,
    // 65507 bytes of data: the largest echo message that fits an IPv4 datagram (fragmented as needed).
    size: size === undefined ? 56 : integerOption('size', size, 0, 65507),
    timeoutMs: timeout === undefined ? 10_000 : numberOption('timeout', timeout, 0.001) * 1000,
    ttl: ttl === undefined ? 64 : integerOption('ttl', ttl, 1, 255),
  };
}

/** Runs `tcpts ping` with `args` (the words after 'ping'); resolves with the exit status. Throws UsageError. */
export async function runPing(args: readonly string[], io: CliIo): Promise<number> {
  const settings = parsePingArguments(args, io);
  if (settings === 'help') {
    io.stdout.write(helpText(PING_SPEC));
    return 0;
  }
  const host = openTapHost('ping', settings.host, io);
  if (host === undefined) return 2;
  return new PingSession(host, settings, io).run();
}

/** Round-trip statistics as ping(8) reports them. */
export class RttStatistics {
  private count = 0;
  private sum = 0;
  private sumOfSquares = 0;
  private minimum = Number.POSITIVE_INFINITY;
  private maximum = 0;

  add(rttMs: number): void {
    this.count++;
    this.sum += rttMs;
    this.sumOfSquares += rttMs * rttMs;
    if (rttMs < this.minimum) this.minimum = rttMs;
    if (rttMs > this.maximum) this.maximum = rttMs;
  }

  get samples(): number {
    return this.count;
  }

  /** 'rtt min/avg/max/mdev = a/b/c/d ms', mdev being the standard deviation, or undefined without samples. */
  summary(): string | undefined {
    if (this.count === 0) return undefined;
    const average = this.sum / this.count;
    const mdev = Math.sqrt(Math.max(0, this.sumOfSquares / this.count - average * average));
    const f = (ms: number) => ms.toFixed(3);
    return `rtt min/avg/max/mdev = ${f(this.minimum)}/${f(average)}/${f(this.maximum)}/${f(mdev)} ms`;
  }
}

/** ping(8)'s time=: three significant digits, at most three decimals. */
export function formatRtt(ms: number): string {
  if (ms < 1) return ms.toFixed(3);
  if (ms < 10) return ms.toFixed(2);
  if (ms < 100) return ms.toFixed(1);
  return ms.toFixed(0);
}

/** A reply of either ICMP version, as printed. */
type EchoReply = Omit<PingReply, 'from'> & { from: string };

class PingSession {
  private sent = 0;
  private received = 0;
  private errors = 0;
  private outstanding = 0;
  private readonly rtt = new RttStatistics();
  private started = 0;
  private finished = false;
  private sendTimer: ReturnType<typeof setTimeout> | undefined;
  private resolveExit: (code: number) => void = () => {};
  private removeSignalHandlers: () => void = () => {};

  constructor(
    private readonly host: TapHost,
    private readonly settings: PingSettings,
    private readonly io: CliIo,
  ) {}

  run(): Promise<number> {
    const exit = new Promise<number>((resolve) => {
      this.resolveExit = resolve;
    });
    this.removeSignalHandlers = onTerminatingSignal(() => this.finish());
    this.host.tap.on('error', (error: Error) => {
      say(this.io, `tcpts ping: TAP device: ${describeError(error)}`);
      this.finish(2);
    });
    const { target, size } = this.settings;
    // ping(8)'s header: IPv4 counts the 28 header bytes, IPv6 names only the data.
    this.io.stdout.write(
      target.includes(':')
        ? `PING ${target} (${target}) ${size} data bytes\n`
        : `PING ${target} (${target}) ${size}(${size + 28}) bytes of data.\n`,
    );
    this.started = performance.now();
    if (target.includes(':')) this.whenIpv6Ready(() => this.sendNext());
    else this.sendNext();
    return exit;
  }

  /** IPv6 addresses are usable only after DAD (RFC 4862 §5.4, about a second): the first echo waits. */
  private whenIpv6Ready(go: () => void, waitedMs = 0): void {
    const ready = this.host.stack.ipv6.sourceAddressFor(parseIpv6(this.settings.target)!) !== undefined;
    if (ready || waitedMs >= 5000) go();
    else this.sendTimer = setTimeout(() => this.whenIpv6Ready(go, waitedMs + 50), 50);
  }

  private sendNext(): void {
    this.sendTimer = undefined;
    if (this.finished) return;
    const { target, size, timeoutMs, ttl, count, intervalMs } = this.settings;
    const sequence = ++this.sent;
    this.outstanding++;
    // The echo sequence number is 16 bits wide and wraps, as ping(8)'s does.
    // An IPv6 HOST gets ICMPv6 echo (RFC 4443 §4.1); its hop limit plays the TTL's part.
    const reply: Promise<EchoReply> = target.includes(':')
      ? this.host.stack
          .ping6(target, { size, timeoutMs, hopLimit: ttl })
          .then((r) => ({ ...r, from: ipv6ToString(r.from), ttl: r.hopLimit }))
      : this.host.stack
          .ping(target, { size, timeoutMs, ttl, sequence: sequence & 0xffff })
          .then((r) => ({ ...r, from: ipv4ToString(r.from) }));
    reply.then(
      (r) => this.replied(r),
      (error: unknown) => this.failed(sequence, error),
    );
    if (count === undefined || this.sent < count)
      this.sendTimer = setTimeout(() => this.sendNext(), intervalMs);
  }

  private replied(reply: EchoReply): void {
    if (this.finished) return;
    this.outstanding--;
    this.received++;
    this.rtt.add(reply.rtt);
    this.io.stdout.write(
      `${reply.bytes} bytes from ${reply.from}: icmp_seq=${reply.sequence} ttl=${reply.ttl} time=${formatRtt(reply.rtt)} ms\n`,
    );
    this.finishIfDone();
  }

  private failed(sequence: number, error: unknown): void {
    if (this.finished) return;
    this.outstanding--;
    const code = (error as { code?: string }).code;
    // A request that simply got no answer is a loss, silent as in ping(8); anything else is an error line.
    if (code !== 'ETIMEDOUT') {
      this.errors++;
      const reporter = (error as { reporter?: number | string }).reporter;
      const from =
        typeof reporter === 'string'
          ? reporter
          : reporter !== undefined
            ? ipv4ToString(reporter)
            : this.host.interface !== undefined
              ? ipv4ToString(this.host.interface.address)
              : 'tcpts';
      this.io.stdout.write(`From ${from} icmp_seq=${sequence} ${errorText(error)}\n`);
    }
    this.finishIfDone();
  }

  private finishIfDone(): void {
    const count = this.settings.count;
    if (count !== undefined && this.sent >= count && this.outstanding === 0) this.finish();
  }

  private finish(code?: number): void {
    if (this.finished) return;
    this.finished = true;
    this.removeSignalHandlers();
    if (this.sendTimer !== undefined) clearTimeout(this.sendTimer);
    const elapsed = Math.round(performance.now() - this.started);
    const lost = this.sent === 0 ? 0 : ((this.sent - this.received) / this.sent) * 100;
    const target = this.settings.target;
    let lines = `\n--- ${target} ping statistics ---\n`;
    lines += `${this.sent} packets transmitted, ${this.received} received`;
    if (this.errors > 0) lines += `, +${this.errors} errors`;
    lines += `, ${Number(lost.toFixed(4))}% packet loss, time ${elapsed}ms\n`;
    const summary = this.rtt.summary();
    if (summary !== undefined) lines += `${summary}\n`;
    closeHost(this.host, 'ping', this.io);
    this.io.stdout.write(lines);
    this.resolveExit(code ?? (this.received > 0 ? 0 : 1));
  }
}

function errorText(error: unknown): string {
  switch ((error as { code?: string }).code) {
    case 'EHOSTUNREACH':
      return 'Destination Host Unreachable';
    case 'ENETUNREACH':
      return 'Destination Net Unreachable';
    default:
      return describeError(error);
  }
}
