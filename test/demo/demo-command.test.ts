/**
 * `tcpts demo` as a user sees it: the chapters' ladders in plain text (NO_COLOR, or not a terminal) with
 * the seed's numbers on the right arrows, colors only when asked for, and the two files it writes —
 * a capture tshark reads without complaint, and the report.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANSI, runTcpts, type TcptsRun, temporaryDirectory } from '../cli/run-tcpts.js';
import { analyzePcapFile, tsharkSkipReason } from '../helpers/tshark.js';

const temp = temporaryDirectory('demo');
let run: TcptsRun;

beforeAll(async () => {
  run = await runTcpts(['demo', '--out', temp.dir], { env: { NO_COLOR: '1' }, cwd: temp.dir });
});
afterAll(() => temp.remove());

/** The text of chapter `n`, from its heading to the next one. */
function chapterText(n: number): string {
  const start = run.stdout.indexOf(`── ${n} · `);
  const next = run.stdout.indexOf(`── ${n + 1} · `);
  expect(start).toBeGreaterThanOrEqual(0);
  return run.stdout.slice(start, next < 0 ? undefined : next);
}

/** The arrow drawn under the label that contains `label` (the label line is followed by its arrow). */
function arrowUnder(text: string, label: string): { line: string; arrow: string } {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.includes(label));
  expect(i, `a line with '${label}'`).toBeGreaterThanOrEqual(0);
  return { line: lines[i]!, arrow: lines[i + 1]! };
}

const leftward = /│<─+┤/;
const rightward = /├─+>│/;

describe('tcpts demo', () => {
  it('succeeds, in plain text, and names the files it wrote', () => {
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).not.toMatch(ANSI);
    expect(run.stdout).toContain('tcpts demo: the story of TCP and UDP');
    expect(run.stdout).toMatch(/Written:\n {2}\.\/demo\.pcap {2}\d+ packets/);
    expect(run.stdout).toContain('  ./demo.html  ');
    expect(existsSync(join(temp.dir, 'demo.pcap'))).toBe(true);
    expect(existsSync(join(temp.dir, 'demo.html'))).toBe(true);
  });

  it('prints every chapter with its title, one line that sums it up and a paragraph that explains it', () => {
    for (const [n, title] of [
      [1, 'The three-way handshake'],
      [2, 'Sending data: the sliding window'],
      [3, 'A lost segment: retransmission on timeout'],
      [4, 'Duplicate ACKs and fast retransmit'],
      [5, 'A zero window and the window probe'],
      [6, 'The four-way close, and a lost final ACK'],
      [7, 'A forced close: RST'],
      [8, 'UDP: datagrams, no handshake, no ACK'],
    ] as const) {
      const lines = chapterText(n).split('\n');
      expect(lines[0]).toMatch(new RegExp(`^── ${n} · ${title.replace(/[()]/g, '\\$&')} ─+$`));
      expect(lines[1]!.length).toBeGreaterThan(20);
      expect(lines[1]!.length).toBeLessThanOrEqual(100);
      const blank = lines.indexOf('', 2);
      expect(blank).toBeGreaterThan(2);
      expect(lines.slice(2, blank).join(' ').length).toBeGreaterThan(100);
      expect(chapterText(n)).toMatch(/client +server/);
    }
  });

  it('1: SYN seq=x, SYN-ACK seq=y ack=x+1, ACK seq=x+1 ack=y+1 on the right arrows', () => {
    const text = chapterText(1);
    const [, x, y] = /here x = (\d+), y = (\d+)/.exec(text)!.map(Number);
    const syn = arrowUnder(text, `SYN seq=${x} win=65535 <mss 1024>`);
    expect(syn.arrow).toMatch(rightward);
    const synAck = arrowUnder(text, `SYN,ACK seq=${y} ack=${x! + 1} win=6144 <mss 1024>`);
    expect(synAck.arrow).toMatch(leftward);
    const ack = arrowUnder(text, `ACK seq=${x! + 1} ack=${y! + 1} win=65535 len=0`);
    expect(ack.arrow).toMatch(rightward);
    expect(text).toMatch(/SYN-SENT │/);
    expect(text).toMatch(/│ SYN-RECEIVED/);
    expect(text).toMatch(/ESTABLISHED │/);
    expect(text).toMatch(/│ ESTABLISHED/);
  });

  it("2: the seed's 'ack=3073 win=3072' on an ACK from the server; the lost fourth segment is marked", () => {
    const text = chapterText(2);
    expect(arrowUnder(text, 'ACK seq=1 ack=3073 win=3072 len=0').arrow).toMatch(leftward);
    for (const seq of [1, 1025, 2049])
      expect(arrowUnder(text, `seq=${seq} ack=1 win=65535 len=1024`).arrow).toMatch(rightward);
    expect(arrowUnder(text, 'seq=3073 ack=1 win=65535 len=1024').arrow).toMatch(/├─+X lost/);
    expect(text).toContain('[dup ACK #2]');
  });

  it('3-5: the timeout retransmission, fast retransmit after three duplicate ACKs, the zero window and its probes', () => {
    const three = chapterText(3);
    expect(arrowUnder(three, 'seq=3073 ack=1 win=65535 len=1024 [retransmission (timeout)]').arrow).toMatch(
      rightward,
    );
    expect(arrowUnder(three, 'ACK seq=1 ack=6145 win=0 len=0 [zero window]').arrow).toMatch(leftward);
    const four = chapterText(4);
    expect(four).toContain('ack=4097 win=65535 len=0 [dup ACK #3]');
    expect(arrowUnder(four, 'seq=4097 ack=8193 win=6144 len=1024 [fast retransmit]').arrow).toMatch(leftward);
    expect(four).toContain('17 packets, 1 lost, 1 retransmission (1 fast retransmit), 3 duplicate ACKs');
    const five = chapterText(5);
    expect(five.match(/len=1 \[zero-window probe\]/g)).toHaveLength(2);
    expect(five).toContain('17 packets, 2 zero-window probes\n');
    expect(five).toContain('[zero window]');
    expect(five).toContain('win=6144 len=0 [window update]');
  });

  it('6: every closing state, the lost final ACK and the retransmitted FIN acknowledged again', () => {
    const text = chapterText(6);
    for (const state of [
      'FIN-WAIT-1 │',
      'FIN-WAIT-2 │',
      '│ CLOSE-WAIT',
      '│ LAST-ACK',
      'TIME-WAIT │',
      '│ CLOSED',
      'CLOSED │',
    ]) {
      expect(text).toContain(state);
    }
    const fin = /FIN,ACK seq=(\d+) ack=\d+ win=6144 len=0 \[FIN retransmission\]/.exec(text);
    expect(fin).not.toBeNull();
    const finalAck = `ack=${Number(fin![1]) + 1} win=`;
    const lines = text.split('\n');
    const acks = lines.flatMap((l, i) =>
      l.includes(finalAck) && l.includes('ACK seq=') ? [lines[i + 1]!] : [],
    );
    expect(acks).toHaveLength(2);
    expect(acks[0]).toMatch(/├─+X lost/);
    expect(acks[1]).toMatch(rightward);
    expect(text).toContain('* TIME-WAIT expired');
  });

  it('7-8: RST, then UDP without handshake or ACK', () => {
    const seven = chapterText(7);
    expect(arrowUnder(seven, 'RST seq=101 win=0 len=0').arrow).toMatch(rightward);
    expect(seven).toContain('ECONNRESET');
    const eight = chapterText(8);
    expect(eight).not.toMatch(/SYN|ACK seq/);
    expect(eight.match(/UDP \d+ > 7 len=\d/g)).toHaveLength(4);
    expect(eight.match(/UDP 7 > \d+ len=\d/g)).toHaveLength(3);
    expect(eight).toMatch(/├─+X lost/);
  });

  it('writes a capture tshark reads with no malformed packet and no bad checksum', (context) => {
    const skip = tsharkSkipReason();
    if (skip) {
      console.log(`skipped: ${skip}`);
      context.skip();
    }
    const report = analyzePcapFile(join(temp.dir, 'demo.pcap'));
    const packets = Number(/(\d+) packets: open it in Wireshark/.exec(run.stdout)![1]);
    expect(report.packets).toBe(packets);
    expect(report.malformed).toBe(0);
    expect(report.badChecksums).toBe(0);
    expect(report.messages.filter((m) => m.includes('[error]'))).toEqual([]);
  });

  it('writes the report: one ladder per chapter with its explanation, charts, counters and packets', () => {
    const html = readFileSync(join(temp.dir, 'demo.html'), 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('<title>tcpts demo: the story of TCP and UDP</title>');
    for (const title of [
      '1. The three-way handshake',
      '2. Sending data: the sliding window',
      '8. UDP: datagrams, no handshake, no ACK',
    ]) {
      expect(html).toContain(`<h3>${title}</h3>`);
    }
    expect(html.match(/<svg[^>]*class="ladder"/g)).toHaveLength(8);
    expect(html).toContain('ACK seq=1 ack=3073 win=3072 len=0');
    expect(html).toContain('Connection 1: client 10.0.0.1:');
    expect(html).toContain('Connection 2: client 10.0.0.1:');
    expect(html).toContain('TcpRetransmittedSegments');
    // Self-contained: the data and the script that draws from it are inline; nothing is fetched.
    expect(html.match(/<script[ >]/g)).toHaveLength(2);
    expect(html.replace(/<script[^>]*>[\s\S]*?<\/script>/g, '')).not.toMatch(/<script|<link |src="http/);
  });

  it('colors a terminal, and respects NO_COLOR there', async () => {
    const dir = temporaryDirectory('demo-color');
    try {
      const colored = await runTcpts(['demo', '--chapter', '1', '--out', dir.dir], { env: {}, tty: 100 });
      expect(colored.code).toBe(0);
      expect(colored.stdout).toMatch(ANSI);
      const plain = await runTcpts(['demo', '--chapter', '1', '--out', dir.dir], {
        env: { NO_COLOR: '1' },
        tty: 100,
      });
      expect(plain.stdout).not.toMatch(ANSI);
      // Only chapter 1 is printed; its paragraph is there by default, and --brief leaves it out.
      expect(plain.stdout).not.toContain('── 2 · ');
      const explained = await runTcpts(['demo', '-c', '2', '--out', dir.dir], { env: { NO_COLOR: '1' } });
      const paragraph = '4096 bytes is its window for now (its initial congestion window;';
      expect(explained.stdout.replace(/\s+/g, ' ')).toContain(paragraph);
      const brief = await runTcpts(['demo', '-c', '2', '--brief', '--out', dir.dir], {
        env: { NO_COLOR: '1' },
      });
      expect(brief.stdout.replace(/\s+/g, ' ')).not.toContain(paragraph);
      expect(brief.stdout).toContain('ACK 3073 win 3072 holds the sender to 3072 bytes');
    } finally {
      dir.remove();
    }
  });
});
