/**
 * `tcpts sim` and the transfer scenario under it: the bytes arrive intact under the impairments asked
 * for, the run repeats exactly for a seed, the ladder is cut to its beginning and end, and the files are
 * written (a capture tshark reads cleanly, a report).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TransferScenario } from '../../src/sim/scenarios/transfer.js';
import { analyzePcapFile, tsharkSkipReason } from '../helpers/tshark.js';
import { ANSI, runTcpts, temporaryDirectory } from './run-tcpts.js';

describe('the transfer scenario', () => {
  it('delivers every byte both ways over a lossy, rate-limited cable, then both sides close', () => {
    const s = new TransferScenario({
      clientBytes: 200_000,
      serverBytes: 30_000,
      loss: 0.03,
      rateBitsPerSecond: 20e6,
      delayMs: 5,
      seed: 4,
    });
    const r = s.runToEnd();
    expect(r.phase).toBe('done');
    expect(r.intact).toBe(true);
    expect([r.serverBytesReceived, r.clientBytesReceived]).toEqual([200_000, 30_000]);
    expect(r.lostOnLink).toBeGreaterThan(0);
    expect(r.retransmissions).toBeGreaterThan(0);
    // The client closed once it had sent everything; the server once the client had finished too.
    expect([r.clientState, r.serverState].sort()).toEqual(['CLOSED', 'TIME-WAIT']);
    // Each direction's rate limit holds: 200 kB at 20 Mbit/s needs at least 80 ms.
    expect(r.durationMs).toBeGreaterThan(80);
  });

  it('reports progress slice by slice, and the same seed gives the same capture', () => {
    const fractions: number[] = [];
    const a = new TransferScenario({ clientBytes: 100_000, rateBitsPerSecond: 10e6, seed: 9 });
    a.runToEnd((p) => fractions.push(p.fraction), 20);
    expect(fractions.length).toBeGreaterThan(3);
    expect(fractions.every((f, i) => f >= 0 && f <= 1 && (i === 0 || f >= fractions[i - 1]!))).toBe(true);
    const b = new TransferScenario({ clientBytes: 100_000, rateBitsPerSecond: 10e6, seed: 9 });
    b.runToEnd();
    expect(b.network.pcap()).toEqual(a.network.pcap());
  });

  it('fails with the connection error when the cable loses everything', () => {
    const s = new TransferScenario({ clientBytes: 1000, loss: 1, timeLimitMs: 600_000 });
    const r = s.runToEnd(undefined, 10_000);
    expect(r.phase).toBe('failed');
    // ARP never finds the server, so the connection attempt times out explained by that soft error.
    expect(r.failure).toBe('EHOSTUNREACH');
    expect(r.intact).toBe(false);
  });
});

describe('tcpts sim', () => {
  it('prints the settings, the start and end of the ladder, and a summary; writes NAME.pcap and NAME.html', async (context) => {
    const temp = temporaryDirectory('sim');
    try {
      const run = await runTcpts(
        [
          'sim',
          '-b',
          '128k',
          '--server-bytes',
          '8k',
          '--loss',
          '5%',
          '--rate',
          '10mbit',
          '--seed',
          '3',
          '--ladder',
          '6',
          '--out',
          temp.dir,
          '--name',
          'lossy',
        ],
        { cwd: temp.dir },
      );
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).not.toMatch(ANSI);
      expect(run.stdout.split('\n')[0]).toBe(
        'tcpts sim client → server 128 KiB · server → client 8 KiB · delay 10 ms · loss 5% · rate 10 Mbit/s, queue 1000 · MTU 1500 · buffers auto/auto · cubic · seed 3',
      );
      // The beginning: the handshake; then the gap; then the end: the close.
      expect(run.stdout).toMatch(/SYN seq=0 win=65535 <mss 1460,ws 7,sackOK,ts>/);
      expect(run.stdout).toMatch(/ {3}⋮ {3}\d+ packets not shown \(all are in the pcap and the report\)/);
      expect(run.stdout).toMatch(/FIN/);
      expect(run.stdout).toContain('  outcome      complete, every byte intact');
      expect(run.stdout).toContain(
        '  delivered    128 KiB of 128 KiB client → server, 8 KiB of 8 KiB server → client',
      );
      expect(run.stdout).toMatch(
        / {2}packets {6}\d+, [1-9]\d* lost on the cable; \d+ retransmissions? \(\d+ (timeout|fast retransmit)/,
      );
      expect(run.stdout).toContain('Written:\n  ./lossy.pcap\n  ./lossy.html\n');
      const html = readFileSync(join(temp.dir, 'lossy.html'), 'utf8');
      expect(html).toContain('<title>tcpts sim: 128 KiB client → server, 8 KiB back</title>');
      expect(html).toContain('Every byte arrived once, in order, unchanged.');
      expect(html).toContain('Time-sequence');
      if (tsharkSkipReason()) {
        console.log(`tshark check skipped: ${tsharkSkipReason()}`);
        context.skip();
      }
      const report = analyzePcapFile(join(temp.dir, 'lossy.pcap'));
      expect(report.packets).toBeGreaterThan(100);
      expect(report.malformed).toBe(0);
      expect(report.badChecksums).toBe(0);
    } finally {
      temp.remove();
    }
  });

  it('draws a progress bar on a terminal stderr only', async () => {
    const temp = temporaryDirectory('sim-tty');
    try {
      const tty = await runTcpts(
        ['sim', '-b', '300k', '--rate', '5mbit', '--ladder', '0', '--out', temp.dir],
        {
          tty: 100,
          env: { NO_COLOR: '1' },
        },
      );
      expect(tty.code).toBe(0);
      expect(tty.stderr).toMatch(/\r\u001b\[2Ksimulating [█░]{30} +\d+% /);
      expect(tty.stderr.endsWith('\r\u001b[2K')).toBe(true);
      const pipe = await runTcpts([
        'sim',
        '-b',
        '300k',
        '--rate',
        '5mbit',
        '--ladder',
        '0',
        '--out',
        temp.dir,
      ]);
      expect(pipe.stderr).toBe('');
    } finally {
      temp.remove();
    }
  });

  it('switches the modern set off: --sack off --timestamps off --rack off --window-scaling off', async () => {
    const temp = temporaryDirectory('sim-classic');
    try {
      const run = await runTcpts(
        [
          'sim',
          '-b',
          '16k',
          ...['--sack', 'off', '--timestamps', 'off', '--rack', 'off', '--window-scaling', 'off'],
          ...['--seed', '3', '--ladder', '6', '--out', temp.dir],
        ],
        { cwd: temp.dir },
      );
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout.split('\n')[0]).toContain(
        ' · no window scaling · no SACK · no timestamps · no RACK · seed 3',
      );
      // The SYN offers the MSS alone.
      expect(run.stdout).toMatch(/SYN seq=0 win=65535 <mss 1460>/);
      const bad = await runTcpts(['sim', '--rack', 'maybe']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('rack');
    } finally {
      temp.remove();
    }
  });

  it('exits 1 and says why when the transfer fails', async () => {
    const temp = temporaryDirectory('sim-fail');
    try {
      const run = await runTcpts(['sim', '-b', '1k', '--loss', '100%', '--ladder', '0', '--out', temp.dir]);
      expect(run.code).toBe(1);
      expect(run.stdout).toContain('  outcome      failed: EHOSTUNREACH');
    } finally {
      temp.remove();
    }
  });
});

describe('tcpts sim --flows', () => {
  it('runs several flows through one bottleneck and prints each goodput and the fairness', async () => {
    const run = await runTcpts([
      'sim',
      '--flows',
      '2',
      '--cc',
      'cubic,bbr',
      '--rate',
      '20mbit',
      '--delay',
      '5',
      '--duration',
      '1',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe(
      'tcpts sim 2 flows · rate 20 Mbit/s · delay 5 ms · 1 s simulated, goodput from 0.5 s',
    );
    expect(run.stdout).toMatch(/ {2}flow 1 {2}cubic +\d+\.\d Mbit\/s {2}\d+ retransmitted/);
    expect(run.stdout).toMatch(/ {2}flow 2 {2}bbr +\d+\.\d Mbit\/s {2}\d+ retransmitted/);
    expect(run.stdout).toMatch(/ {2}fairness (0|1)\.\d{3} \(Jain's index/);
    // --start-gap reaches the run: two CUBIC flows opened together share the path otherwise than two
    // opened 300 ms apart (the second then finds the first's queue), and the header says which it was.
    const pair = (gap: string) =>
      runTcpts([
        'sim',
        '--flows',
        '2',
        '--rate',
        '20mbit',
        '--delay',
        '10',
        '--duration',
        '2',
        '--start-gap',
        gap,
      ]);
    const [together, apart] = await Promise.all([pair('0'), pair('300')]);
    expect(together.code).toBe(0);
    expect(together.stdout.split('\n')[0]).toMatch(/ · opened together$/);
    expect(apart.stdout.split('\n')[0]).toMatch(/ · opened 300 ms apart$/);
    const goodputs = (out: string) => [...out.matchAll(/flow \d +cubic +(\d+\.\d) Mbit/g)].map((m) => m[1]);
    expect(goodputs(together.stdout)).toHaveLength(2);
    expect(goodputs(together.stdout)).not.toEqual(goodputs(apart.stdout));
    const negative = await runTcpts(['sim', '--flows', '2', '--rate', '20mbit', '--start-gap=-1']);
    expect(negative.code).toBe(2);
    expect(negative.stderr).toContain('--start-gap wants a number from 0');
    const wrong = await runTcpts(['sim', '--flows', '2']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--flows needs --rate');
  });

  it('passes the TCP switches on to every flow and refuses the options it has no use for', async () => {
    const pair = (...extra: string[]) =>
      runTcpts(['sim', '--flows', '2', '--rate', '20mbit', '--delay', '10', '--duration', '2', ...extra]);
    const [plain, paced, noSack] = await Promise.all([pair(), pair('--pacing', 'on'), pair('--sack', 'off')]);
    for (const run of [plain, paced, noSack]) {
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
    }
    // Each switch reaches the flows: the same path and seed give other figures.
    const figures = (out: string) => out.split('\n').filter((line) => /^ {2}(flow \d|dropped)/.test(line));
    expect(figures(paced.stdout)).not.toEqual(figures(plain.stdout));
    expect(figures(noSack.stdout)).not.toEqual(figures(plain.stdout));
    for (const [option, value] of [
      ['--jitter', '1'],
      ['--reorder', '1%'],
      ['--client-bytes', '1M'],
      ['--mtu', '9000'],
      ['--name', 'x'],
    ] as const) {
      const refused = await pair(option, value);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(`${option} does not apply with --flows`);
    }
    const bad = await pair('--pacing', 'maybe');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--pacing');
  });
});
