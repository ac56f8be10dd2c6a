/**
 * `tcpts lab`: builds the web lab (tcpts itself, bundled for the browser) and serves it on localhost until
 * interrupted; or, with --build DIR, writes the static site for any web server.
 */
import { resolve } from 'node:path';
import {
  type CliIo,
  type CommandSpec,
  helpText,
  integerOption,
  parseCommandLine,
  stringValue,
  UsageError,
} from '../command-line.js';
import { buildLabSite, serveLabSite, writeLabSite } from '../lab-site.js';
import { displayPath } from '../output-files.js';

export const LAB_SPEC: CommandSpec = {
  name: 'lab',
  usage: ['[--port N] [--host ADDR]', '--build DIR'],
  description:
    'Builds the web lab, a page that runs tcpts in the browser (controls for the transfer, loss, delay, ' +
    'rate, queue, window, congestion control, SACK, timestamps, window scaling, ECN and up to four flows ' +
    'on one bottleneck; the ladder, running timers and charts grow as the simulation runs; any event ' +
    'can be gone back to; the demo story plays chapter by chapter), and serves it until you press ' +
    'Ctrl-C. With --build, writes the static site to DIR instead.',
  options: [
    {
      name: 'port',
      short: 'p',
      type: 'string',
      value: 'N',
      description: 'port to serve on (default 8093; 0: any free port)',
    },
    { name: 'host', type: 'string', value: 'ADDR', description: 'address to serve on (default 127.0.0.1)' },
    {
      name: 'build',
      short: 'b',
      type: 'string',
      value: 'DIR',
      description: 'write the site to DIR and exit',
    },
  ],
  examples: ['tcpts lab', 'tcpts lab --port 0', 'tcpts lab --build web/dist'],
};

export async function runLab(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommandLine(LAB_SPEC, args);
  if (parsed === 'help') {
    io.stdout.write(helpText(LAB_SPEC));
    return 0;
  }
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
  const build = stringValue(parsed, 'build');
  const portText = stringValue(parsed, 'port');
  const port = portText === undefined ? 8093 : integerOption('port', portText, 0, 65535);
  const host = stringValue(parsed, 'host') ?? '127.0.0.1';
  if (build !== undefined && (portText !== undefined || stringValue(parsed, 'host') !== undefined)) {
    throw new UsageError('--build writes files; it does not serve (drop --port/--host)');
  }

  const site = await buildLabSite();
  if (build !== undefined) {
    const dir = resolve(io.cwd, build);
    writeLabSite(site, dir);
    io.stdout.write(`The lab is in ${displayPath(dir, io.cwd)}: serve that directory and open index.html.\n`);
    return 0;
  }
  const server = await serveLabSite(site, { host, port });
  io.stdout.write(`tcpts lab: open ${server.url} (Ctrl-C stops)\n`);
  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void server.close().then(done);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}
