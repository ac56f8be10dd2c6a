/**
 * `tcpts nc`: netcat over tcpts on a TAP device.
 *
 *   tcpts nc --tap IFNAME --ip ADDR/PREFIX [--gateway ADDR] [--mtu N] [--pcap FILE] -l PORT [--echo | --discard | --hold] [--rcvbuf BYTES] [--sndbuf BYTES]
 *   tcpts nc --tap IFNAME --ip ADDR/PREFIX [options] HOST PORT
 *   tcpts nc --tap IFNAME --ip ADDR/PREFIX -u [options] (-l PORT [--echo] | HOST PORT)
 *
 * Listening serves connections until killed: `--echo` sends each connection's bytes back and closes its
 * own side after the peer's FIN; `--discard` reads and drops; `--hold` accepts and never reads, so the
 * receive window fills and closes; otherwise the bytes go to stdout.
 *
 * The client sends stdin, writes what arrives to stdout, and half-closes (sends its FIN) at stdin's EOF
 * while still reading. When both directions are closed it says so and stays alive for 2*MSL: a TCP that
 * closed first must hold the connection in TIME-WAIT that long (RFC 9293 §3.6, MUST-13), and the
 * connection lives in this process. A reset, refusal or timeout ends it with exit status 1 and the error
 * on stderr. SIGINT or SIGTERM end any mode at once (open connections are reset).
 */
import type { Socket as DgramSocket } from '../../api/dgram/socket.js';
import type { Socket } from '../../api/net/socket.js';
import { DEFAULT_TCP_CONFIG, type TcpConfig } from '../../tcp/config.js';
import { ipv4ToString, parseIpv4 } from '../../wire/address.js';
import { ipv6ToString, parseIpv6 } from '../../wire/ipv6-address.js';
import {
  type CliIo,
  type CommandSpec,
  describeError,
  flagValue,
  helpText,
  integerOption,
  numberOption,
  parseCommandLine,
  sizeOption,
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

export const NC_SPEC: CommandSpec = {
  name: 'nc',
  usage: [
    '--tap IFNAME --ip ADDR/PREFIX [--gateway ADDR] [--mtu N] [--pcap FILE] -l PORT [--echo | --discard | --hold] [--rcvbuf BYTES] [--sndbuf BYTES]',
    '--tap IFNAME --ip ADDR/PREFIX [options] HOST PORT',
    '--tap IFNAME --ip ADDR/PREFIX -u [options] (-l PORT [--echo] | HOST PORT)',
  ],
  description: [
    'netcat over tcpts on a Linux TAP device. Listening serves connections until killed; the client sends',
    'stdin, writes what arrives to stdout, half-closes at the end of stdin, and once both directions are',
    'closed stays 2*MSL for TIME-WAIT before it exits 0. "listening on ADDR:PORT" or "connected to',
    'ADDR:PORT" on stderr says it is ready; a reset, refusal or timeout exits 1 with the error on stderr.',
  ].join('\n'),
  options: [
    ...TAP_HOST_OPTIONS,
    { name: 'listen', short: 'l', type: 'string', value: 'PORT', description: 'listen on PORT' },
    {
      name: 'echo',
      type: 'boolean',
      description: "send every connection's bytes back (UDP: every datagram)",
    },
    { name: 'discard', type: 'boolean', description: 'read and drop what arrives' },
    { name: 'hold', type: 'boolean', description: 'accept and never read (the receive window closes)' },
    { name: 'udp', short: 'u', type: 'boolean', description: 'UDP instead of TCP' },
    {
      name: 'rcvbuf',
      type: 'string',
      value: 'BYTES',
      description: 'TCP receive buffer (the largest window offered)',
    },
    { name: 'sndbuf', type: 'string', value: 'BYTES', description: 'TCP send buffer' },
    {
      name: 'msl',
      type: 'string',
      value: 'SECONDS',
      description: `maximum segment lifetime; TIME-WAIT lasts 2*MSL (default ${DEFAULT_TCP_CONFIG.mslMs / 1000})`,
    },
    {
      name: 'wait',
      short: 'w',
      type: 'string',
      value: 'SECONDS',
      description: 'give up connecting after SECONDS',
    },
    {
      name: 'linger',
      short: 'q',
      type: 'string',
      value: 'SECONDS',
      description: "UDP client: after stdin's end, wait SECONDS for replies, then exit (default 1)",
    },
  ],
  examples: [
    'tcpts nc --tap tap0 --ip 10.9.0.2/24 -l 8080 --echo',
    'tcpts nc --tap tap0 --ip 10.9.0.2/24 10.9.0.1 8080 < request.txt',
    'tcpts nc --tap tap0 --ip 10.9.0.2/24 -u -l 5353 --echo',
  ],
};

/** Largest UDP payload in one IPv4 datagram: 65535 - 20 (IP) - 8 (UDP). */
const MAX_UDP_PAYLOAD = 65507;

type ListenMode = 'stdout' | 'echo' | 'discard' | 'hold';

interface NcSettings {
  host: TapCommandHostOptions;
  udp: boolean;
  listenPort: number | undefined;
  remote: { address: string; port: number } | undefined;
  mode: ListenMode;
  tcp: Partial<TcpConfig>;
  mslSeconds: number;
  connectTimeoutSeconds: number | undefined;
  lingerSeconds: number;
}

function parseNcArguments(args: readonly string[], io: CliIo): NcSettings | 'help' {
  const parsed = parseCommandLine(NC_SPEC, args);
  if (parsed === 'help') return 'help';
  const host = tapHostOptions(parsed, io.cwd);
  const udp = flagValue(parsed, 'udp');
  const modes = (['echo', 'discard', 'hold'] as const).filter((m) => flagValue(parsed, m));
  if (modes.length > 1)
    throw new UsageError(`choose one of --echo, --discard, --hold; got ${modes.join(', ')}`);
  const mode: ListenMode = modes[0] ?? 'stdout';
  const positionals = parsed.positionals;
  const listen = stringValue(parsed, 'listen');
  let listenPort: number | undefined;
  let remote: NcSettings['remote'];
  if (listen !== undefined) {
    listenPort = integerOption('listen', listen, 1, 65535);
    if (positionals.length > 0) throw new UsageError(`-l takes no HOST PORT; got '${positionals.join(' ')}'`);
  } else {
    if (positionals.length !== 2) throw new UsageError('give -l PORT to listen, or HOST PORT to connect');
    const [address, port] = positionals as [string, string];
    if (parseIpv4(address) === undefined && (!address.includes(':') || parseIpv6(address) === undefined))
      throw new UsageError(`HOST must be an IPv4 or IPv6 address; got '${address}'`);
    const portNumber = /^\d+$/.test(port) ? Number(port) : Number.NaN;
    if (!(portNumber >= 1 && portNumber <= 65535))
      throw new UsageError(`PORT must be 1-65535; got '${port}'`);
    remote = { address, port: portNumber };
    if (modes.length > 0) throw new UsageError(`--${mode} is for listening (-l PORT)`);
  }
  if (udp && (mode === 'discard' || mode === 'hold')) throw new UsageError(`--${mode} is for TCP`);
  const tcp: Partial<TcpConfig> = {};
  const rcvbuf = stringValue(parsed, 'rcvbuf');
  if (rcvbuf !== undefined) tcp.receiveBufferSize = sizeOption('rcvbuf', rcvbuf, 1, 0x3fffffff);
  const sndbuf = stringValue(parsed, 'sndbuf');
  if (sndbuf !== undefined) tcp.sendBufferSize = sizeOption('sndbuf', sndbuf, 1, 0x3fffffff);
  const msl = stringValue(parsed, 'msl');
  const mslSeconds = msl === undefined ? DEFAULT_TCP_CONFIG.mslMs / 1000 : numberOption('msl', msl, 0, 3600);
  tcp.mslMs = mslSeconds * 1000;
  const wait = stringValue(parsed, 'wait');
  const connectTimeoutSeconds = wait === undefined ? undefined : numberOption('wait', wait, 0.001);
  const linger = stringValue(parsed, 'linger');
  const lingerSeconds = linger === undefined ? 1 : numberOption('linger', linger, 0, 3600);
  return { host, udp, listenPort, remote, mode, tcp, mslSeconds, connectTimeoutSeconds, lingerSeconds };
}

/** Runs `tcpts nc` with `args` (the words after 'nc'); resolves with the exit status. Throws UsageError. */
export async function runNc(args: readonly string[], io: CliIo): Promise<number> {
  const settings = parseNcArguments(args, io);
  if (settings === 'help') {
    io.stdout.write(helpText(NC_SPEC));
    return 0;
  }
  const host = openTapHost('nc', { ...settings.host, tcp: settings.tcp }, io);
  if (host === undefined) return 1;
  return new NcSession(host, settings, io).run();
}

/** One run of nc: owns the host, ends exactly once with an exit status. */
class NcSession {
  private finished = false;
  /** stdin is touched only by the clients: a listener must not hold it open (or read a terminal). */
  private usesStdin = false;
  private resolveExit: (code: number) => void = () => {};
  private removeSignalHandlers: () => void = () => {};
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(
    private readonly host: TapHost,
    private readonly settings: NcSettings,
    private readonly io: CliIo,
  ) {}

  run(): Promise<number> {
    const exit = new Promise<number>((resolve) => {
      this.resolveExit = resolve;
    });
    this.removeSignalHandlers = onTerminatingSignal((code) => this.finish(code));
    this.host.tap.on('error', (error: Error) => this.fail(`TAP device: ${describeError(error)}`));
    const { udp, listenPort } = this.settings;
    this.whenIpv6Ready(() => {
      try {
        if (listenPort !== undefined) {
          if (udp) this.listenUdp(listenPort);
          else this.listenTcp(listenPort);
        } else if (udp) this.connectUdp();
        else this.connectTcp();
      } catch (error) {
        this.fail(describeError(error));
      }
    });
    return exit;
  }

  /**
   * IPv6 addresses given with --ip are usable only after duplicate address detection (RFC 4862 §5.4,
   * about a second): until then no connection could pick a source, nor a listener bind one. Waits for
   * it (at most 5 s; a duplicate is reported by the stack), as `tcpts ping` does.
   */
  private whenIpv6Ready(go: () => void, waitedMs = 0): void {
    const tentative = this.host.stack.ipv6.interfaces.some((i) =>
      i.addresses.some((a) => a.state === 'tentative'),
    );
    if (!tentative || waitedMs >= 5000) go();
    else this.later(50, () => this.whenIpv6Ready(go, waitedMs + 50));
  }

  /** The host's IPv4 address, or on an IPv6-only host its first IPv6 address of those given. */
  private get localAddress(): string {
    const iface = this.host.interface;
    if (iface !== undefined) return ipv4ToString(iface.address);
    const v6 = this.host.stack.ipv6.interfaces[0]?.addresses.find((a) => a.origin === 'manual');
    return v6 === undefined ? '::' : ipv6ToString(v6.address);
  }

  /** `address:port`, with an IPv6 address in brackets (RFC 3986 §3.2.2). */
  private endpoint(address: string, port: number): string {
    return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
  }

  // --- TCP ------------------------------------------------------------------------------------------

  private listenTcp(port: number): void {
    const mode = this.settings.mode;
    const server = this.host.net.createServer(
      { allowHalfOpen: true, pauseOnConnect: mode === 'hold' },
      (socket) => this.serve(socket, mode),
    );
    server.on('error', (error: Error) => this.fail(describeError(error)));
    server.listen(port, () => say(this.io, `listening on ${this.endpoint(this.localAddress, port)}`));
  }

  private serve(socket: Socket, mode: ListenMode): void {
    // The server listens on :: (both families): an IPv4 peer is shown as itself, not IPv4-mapped.
    const remote = socket.remoteAddress ?? '';
    const address = remote.startsWith('::ffff:') && remote.includes('.') ? remote.slice(7) : remote;
    const peer = this.endpoint(address, socket.remotePort ?? 0);
    say(this.io, `connection from ${peer}`);
    socket.on('error', (error: Error) => say(this.io, `tcpts nc: ${peer}: ${describeError(error)}`));
    socket.on('close', (hadError: boolean) => {
      if (!hadError) say(this.io, `connection from ${peer} closed`);
    });
    switch (mode) {
      case 'echo':
        // pipe() ends our side once the peer's FIN has been read and every byte echoed.
        socket.pipe(socket);
        return;
      case 'discard':
        socket.resume();
        socket.on('end', () => socket.end());
        return;
      case 'hold':
        // Paused from the start (pauseOnConnect): nothing is read, so TCP's window fills and closes.
        return;
      case 'stdout':
        socket.pipe(process.stdout, { end: false });
        socket.on('end', () => socket.end());
        return;
    }
  }

  private connectTcp(): void {
    const remote = this.settings.remote!;
    const target = this.endpoint(remote.address, remote.port);
    const socket = this.host.net.connect({ host: remote.address, port: remote.port, allowHalfOpen: true });
    const timeout = this.settings.connectTimeoutSeconds;
    if (timeout !== undefined) {
      this.later(timeout * 1000, () => {
        if (socket.connecting) this.fail(`connect ETIMEDOUT ${target}`);
      });
    }
    socket.on('connect', () => {
      say(this.io, `connected to ${target}`);
      // stdin's EOF ends our writable side: the FIN goes out and reading goes on (a half-close).
      this.usesStdin = true;
      process.stdin.pipe(socket);
    });
    socket.pipe(process.stdout, { end: false });
    socket.on('error', (error: Error) => this.fail(describeError(error)));
    socket.on('close', (hadError: boolean) => {
      if (hadError || this.finished) return;
      this.waitOutTimeWait();
    });
  }

  /** Both directions are closed: stay 2*MSL (and until the connection has left TIME-WAIT), then exit 0. */
  private waitOutTimeWait(): void {
    this.releaseStdin();
    const msl = this.settings.mslSeconds;
    say(
      this.io,
      `both directions closed; staying 2*MSL (${formatSeconds(2 * msl)}) for TIME-WAIT before exiting`,
    );
    const deadline = performance.now() + 2 * msl * 1000;
    const check = (): void => {
      const remaining = deadline - performance.now();
      if (remaining > 0) this.later(remaining, check);
      else if (this.host.tcp.connectionCount > 0) this.later(20, check);
      else this.finish(0);
    };
    this.later(2 * msl * 1000, check);
  }

  // --- UDP ------------------------------------------------------------------------------------------

  private listenUdp(port: number): void {
    const echo = this.settings.mode === 'echo';
    const socket = this.host.dgram.createSocket(this.localAddress.includes(':') ? 'udp6' : 'udp4');
    socket.on('error', (error: Error) => this.fail(describeError(error)));
    socket.on('message', (message, from) => {
      if (echo) socket.send(message, from.port, from.address);
      else process.stdout.write(message);
    });
    socket.bind(port, this.localAddress, () =>
      say(this.io, `listening on ${this.endpoint(this.localAddress, port)} (udp)`),
    );
  }

  private connectUdp(): void {
    const remote = this.settings.remote!;
    const socket: DgramSocket = this.host.dgram.createSocket(remote.address.includes(':') ? 'udp6' : 'udp4');
    socket.on('error', (error: Error) => this.fail(describeError(error)));
    socket.on('message', (message) => process.stdout.write(message));
    socket.connect(remote.port, remote.address, () => {
      say(this.io, `connected to ${this.endpoint(remote.address, remote.port)} (udp)`);
      this.usesStdin = true;
      process.stdin.on('data', (chunk: Buffer) => {
        for (let offset = 0; offset < chunk.length; offset += MAX_UDP_PAYLOAD) {
          socket.send(chunk.subarray(offset, offset + MAX_UDP_PAYLOAD));
        }
      });
      process.stdin.on('end', () => this.later(this.settings.lingerSeconds * 1000, () => this.finish(0)));
    });
  }

  // --- ending ---------------------------------------------------------------------------------------

  private fail(message: string): void {
    if (this.finished) return;
    say(this.io, `tcpts nc: ${message}`);
    this.finish(1);
  }

  private finish(code: number): void {
    if (this.finished) return;
    this.finished = true;
    this.removeSignalHandlers();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.releaseStdin();
    closeHost(this.host, 'nc', this.io);
    // Whatever is still buffered for stdout is written before the status is reported.
    process.stdout.write('', () => this.resolveExit(code));
  }

  private releaseStdin(): void {
    if (!this.usesStdin) return;
    process.stdin.unpipe();
    process.stdin.destroy();
  }

  private later(ms: number, callback: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      callback();
    }, ms);
    this.timers.add(timer);
  }
}

function formatSeconds(seconds: number): string {
  return `${Number(seconds.toFixed(3))} s`;
}
