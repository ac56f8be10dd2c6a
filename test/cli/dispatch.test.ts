/**
 * The `tcpts` dispatcher: the command list, help for every command, and mistakes on the command line
 * answered with a message and exit status 2. One run goes through the real program, the bin `npx tcpts`
 * runs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands/registry.js';
import { runTcpts, temporaryDirectory } from './run-tcpts.js';

describe('tcpts', () => {
  it('lists its commands with --help, help, or nothing at all', async () => {
    for (const args of [[], ['--help'], ['-h'], ['help']]) {
      const run = await runTcpts(args);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^usage: tcpts <command> \[options\]/);
      for (const name of ['demo', 'sim', 'view', 'lab'])
        expect(run.stdout).toMatch(new RegExp(`\\n  ${name} +\\S`));
    }
  });

  it('prints its version', async () => {
    const run = await runTcpts(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^tcpts \d+\.\d+\.\d+\n$/);
  });

  it('explains every command with --help (and with `help COMMAND`), exit 0', async () => {
    for (const command of COMMANDS) {
      for (const args of [
        [command.name, '--help'],
        ['help', command.name],
      ]) {
        const run = await runTcpts(args);
        expect(run.code, `${args.join(' ')}`).toBe(0);
        expect(run.stdout).toMatch(new RegExp(`^usage: tcpts ${command.name} `));
        expect(run.stdout).toContain('  -h, --help');
      }
    }
    const demo = await runTcpts(['demo', '--help']);
    expect(demo.stdout).toContain('-o, --out DIR');
    expect(demo.stdout).toContain('examples:\n  tcpts demo\n');
  });

  it('refuses an unknown command with exit status 2', async () => {
    const run = await runTcpts(['dmeo']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe("tcpts: unknown command 'dmeo'\nTry 'tcpts --help'.\n");
    expect((await runTcpts(['simulate'])).stderr).toContain("Did you mean 'sim'?");
  });

  it('answers mistakes in options with the reason, a pointer to --help and exit status 2', async () => {
    const cases: [string[], string][] = [
      [['demo', '--bogus'], "tcpts demo: Unknown option '--bogus'"],
      [['demo', '--chapter', '9'], "tcpts demo: --chapter wants an integer from 1 to 8; got '9'"],
      [['demo', 'extra'], "tcpts demo: unexpected argument 'extra'"],
      [['demo', '--color', 'sometimes'], "tcpts demo: --color wants auto, always or never; got 'sometimes'"],
      [
        ['sim', '--loss', '2'],
        "tcpts sim: --loss wants a probability from 0 to 1, or a percentage like 2%; got '2'",
      ],
      [['sim', '--client-bytes', 'lots'], 'tcpts sim: --client-bytes wants a size from 0 B to 256 MiB'],
      [
        ['sim', '--rate', '10 furlongs'],
        "tcpts sim: --rate wants a rate from 1kbit to 1000gbit, e.g. 10mbit; got '10 furlongs'",
      ],
      [['sim', '--mtu', '40'], "tcpts sim: --mtu wants an integer from 576 to 9000; got '40'"],
      [['sim', '--cc', 'vegas'], "tcpts sim: --cc wants one of reno, newreno, cubic, bbr; got 'vegas'"],
      [['sim', '--delay'], "tcpts sim: Option '-d, --delay <value>' argument missing"],
      [['view'], 'tcpts view: which capture? tcpts view FILE.pcap'],
      [['view', 'a.pcap', 'b.pcap'], 'tcpts view: one capture at a time; got 2'],
      [
        ['view', 'x.pcap', '--name', 'client'],
        "tcpts view: --name wants ADDR=NAME or ADDR:PORT=NAME, e.g. 10.0.0.1=client; got 'client'",
      ],
      [['lab', '--port', '70000'], "tcpts lab: --port wants an integer from 0 to 65535; got '70000'"],
    ];
    for (const [args, message] of cases) {
      const run = await runTcpts(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stdout, args.join(' ')).toBe('');
      expect(run.stderr, args.join(' ')).toContain(message);
      expect(run.stderr).toMatch(new RegExp(`Try 'tcpts ${args[0]} --help'\\.\\n$`));
    }
  });

  it('runs as a program: the `tcpts` bin `npm install` links (what `npx tcpts` runs) exits with the command status', () => {
    const temp = temporaryDirectory('main');
    try {
      // package.json lists the package itself as a dev dependency, so `npm install` in a clone links its
      // bin into node_modules/.bin, where npx finds it; the bin runs the sources through tsx.
      const tcpts = join(process.cwd(), 'node_modules', '.bin', 'tcpts');
      const env = { ...process.env, NO_COLOR: '1' };
      const demo = spawnSync(tcpts, ['demo', '--chapter', '1', '--out', temp.dir], {
        encoding: 'utf8',
        env,
        timeout: 60_000,
      });
      expect(demo.stderr).toBe('');
      expect(demo.status).toBe(0);
      expect(demo.stdout).toContain('── 1 · The three-way handshake');
      expect(existsSync(join(temp.dir, 'demo.pcap'))).toBe(true);
      const wrong = spawnSync(tcpts, ['sim', '--loss', '-1'], { encoding: 'utf8', env, timeout: 60_000 });
      expect(wrong.status).toBe(2);
      expect(wrong.stderr).toContain('tcpts sim:');
    } finally {
      temp.remove();
    }
  });
});
