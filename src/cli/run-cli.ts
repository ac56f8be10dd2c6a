/**
 * The `tcpts` dispatcher: `tcpts <command> [options]`. It finds the command in the registry and runs it;
 * `tcpts`, `tcpts --help` and `tcpts help` list the commands, `tcpts help COMMAND` and
 * `tcpts COMMAND --help` explain one, `tcpts --version` prints the version.
 *
 * Exit status: 0 on success, 2 for a mistake on the command line or an input that cannot be used (with a
 * message on stderr), 1 for any other failure.
 */
import { readFileSync } from 'node:fs';
import { type CliIo, describeError, InputError, UsageError } from './command-line.js';
import { COMMANDS } from './commands/registry.js';

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h') {
    io.stdout.write(overview());
    return 0;
  }
  if (first === '--version' || first === '-V') {
    io.stdout.write(`${version()}\n`);
    return 0;
  }
  if (first === 'help') {
    if (rest.length === 0) {
      io.stdout.write(overview());
      return 0;
    }
    return runCli([rest[0]!, '--help'], io);
  }
  const command = COMMANDS.find((c) => c.name === first);
  if (!command) {
    io.stderr.write(
      `tcpts: unknown command '${first}'\n${first.startsWith('-') ? '' : suggestion(first)}Try 'tcpts --help'.\n`,
    );
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`tcpts ${command.name}: ${error.message}\nTry 'tcpts ${command.name} --help'.\n`);
      return 2;
    }
    if (error instanceof InputError) {
      io.stderr.write(`tcpts ${command.name}: ${error.message}\n`);
      return 2;
    }
    io.stderr.write(`tcpts ${command.name}: ${describeError(error)}\n`);
    return 1;
  }
}

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  const lines = [
    'usage: tcpts <command> [options]',
    '',
    'tcpts is a TCP/IP stack in TypeScript with a deterministic network simulator and pictures of every',
    'conversation (ladder diagrams, graphs, pcap).',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    "Run 'tcpts <command> --help' for a command's options.",
  ];
  return `${lines.join('\n')}\n`;
}

function suggestion(word: string): string {
  const close = COMMANDS.filter((c) => c.name.startsWith(word.slice(0, 2)));
  return close.length ? `Did you mean ${close.map((c) => `'${c.name}'`).join(' or ')}?\n` : '';
}

function version(): string {
  try {
    const url = new URL('../../package.json', import.meta.url);
    const pkg = JSON.parse(readFileSync(url, 'utf8')) as { version?: string };
    return `tcpts ${pkg.version ?? 'unknown'}`;
  } catch {
    return 'tcpts (version unknown)';
  }
}
