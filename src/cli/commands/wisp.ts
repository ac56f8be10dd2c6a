/**
 * `tcpts wisp --port N`: a WISP server (v1.2 and v2) relaying its clients' TCP and UDP streams to the
 * host's sockets, for browsers running tcpts (or any WISP client). Destinations are limited by
 * `--allow PREFIX` (repeatable; default: all). It listens on 127.0.0.1 unless `--host` says otherwise.
 * SIGUSR2 prints the counters; SIGINT/SIGTERM stop it.
 */
import { allowList, type DestinationPolicy } from '../../gateway/policy.js';
import { parseIpv4 } from '../../wire/address.js';
import { startWispServer } from '../../wisp/wisp-server-node.js';
import {
  type CliIo,
  type CommandSpec,
  describeError,
  helpText,
  integerOption,
  parseCommandLine,
  stringValue,
  stringValues,
  UsageError,
} from '../command-line.js';
import { onTerminatingSignal, say } from './tap-options.js';

export const WISP_SPEC: CommandSpec = {
  name: 'wisp',
  usage: ['--port N [--host ADDR] [--allow PREFIX]... [--buffer PACKETS]'],
  description: [
    "A WISP server relaying TCP and UDP streams to this host's sockets: the upstream of tcpts running in a",
    'browser. Prints "wisp server listening on ws://HOST:PORT/" on stderr once ready.',
  ].join('\n'),
  options: [
    { name: 'port', type: 'string', value: 'N', description: 'port to listen on (0: any free port)' },
    { name: 'host', type: 'string', value: 'ADDR', description: 'address to listen on (default 127.0.0.1)' },
    {
      name: 'allow',
      type: 'string',
      multiple: true,
      value: 'PREFIX',
      description: 'destinations clients may reach, e.g. 127.0.0.0/8 (repeatable; default: all)',
    },
    {
      name: 'buffer',
      type: 'string',
      value: 'PACKETS',
      description: 'DATA packets buffered per stream (default 64)',
    },
  ],
  examples: ['tcpts wisp --port 6001 --allow 127.0.0.0/8'],
};

export async function runWisp(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommandLine(WISP_SPEC, args);
  if (parsed === 'help') {
    io.stdout.write(helpText(WISP_SPEC));
    return 0;
  }
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
  const portText = stringValue(parsed, 'port');
  if (portText === undefined) throw new UsageError('--port N is required');
  const port = integerOption('port', portText, 0, 65535);
  const host = stringValue(parsed, 'host') ?? '127.0.0.1';
  if (parseIpv4(host) === undefined) throw new UsageError(`--host wants an IPv4 address; got '${host}'`);
  const bufferText = stringValue(parsed, 'buffer');
  const bufferPackets = bufferText === undefined ? undefined : integerOption('buffer', bufferText, 1, 65536);
  let policy: DestinationPolicy | undefined;
  const allow = stringValues(parsed, 'allow');
  if (allow.length > 0) {
    try {
      policy = allowList(allow);
    } catch (error) {
      throw new UsageError(`--allow: ${(error as Error).message}`);
    }
  }
  let server: Awaited<ReturnType<typeof startWispServer>>;
  try {
    server = await startWispServer({ port, host, policy, bufferPackets });
  } catch (error) {
    say(io, `tcpts wisp: cannot listen on ${host}:${port}: ${describeError(error)}`);
    return 1;
  }
  say(io, `wisp server listening on ws://${host}:${server.port}/`);
  const printCounters = (): void => say(io, `counters: ${JSON.stringify(server.server.counters)}`);
  process.on('SIGUSR2', printCounters);
  return new Promise<number>((done) => {
    const removeSignals = onTerminatingSignal((code) => {
      removeSignals();
      process.off('SIGUSR2', printCounters);
      printCounters();
      void server.close().then(() => done(code));
    });
  });
}
