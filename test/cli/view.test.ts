/**
 * `tcpts view` on real kernel captures: an Ethernet capture from a veth pair (test/fixtures/kernel-basic.pcap)
 * and an HTTP exchange taken with `tcpdump -i any` (Linux cooked, SLL2: test/fixtures/kernel-http-any.pcap).
 * The report and the terminal ladder carry the kernel's own numbers; unusable inputs exit 2.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTcpts, temporaryDirectory } from './run-tcpts.js';

const FIXTURES = join(process.cwd(), 'test', 'fixtures');

describe('tcpts view', () => {
  it('draws the Ethernet capture of a kernel TCP connection, and writes its report', async () => {
    const temp = temporaryDirectory('view');
    try {
      const out = join(temp.dir, 'kernel.html');
      const run = await runTcpts(
        ['view', join(FIXTURES, 'kernel-basic.pcap'), '--out', out, '--width', '110'],
        {
          cwd: temp.dir,
        },
      );
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/kernel-basic\.pcap 23 frames, 23 shown \(10 TCP\), 0\.762 s, from 20\d\d-/);
      expect(run.stdout).toContain(
        '  connection 1: 10.77.0.1:40000 → 10.77.0.2:7777  10 packets, 22 bytes →, 22 bytes ←',
      );
      // The kernel's handshake, relative numbers, its options; level arrows (one time per packet).
      const lines = run.stdout.split('\n');
      const syn = lines.findIndex((l) => l.includes('SYN seq=0 win=64240 <mss 1460,ws 10,sackOK,ts>'));
      expect(syn).toBeGreaterThan(0);
      expect(lines[syn + 1]).toMatch(/├─+>│$/);
      expect(lines[syn + 2]).toContain('SYN,ACK seq=0 ack=1 win=65160 <mss 1460,ws 10,sackOK,ts>');
      expect(lines[syn + 3]).toMatch(/│<─+┤$/);
      expect(run.stdout).toContain('ACK seq=1 ack=1 win=64512 len=0');
      expect(run.stdout).toContain('FIN,ACK seq=23 ack=24 win=65536 len=0');
      expect(run.stdout).toContain('ICMP port unreachable');
      expect(run.stdout).toContain('Written:\n  ./kernel.html\n');

      const html = readFileSync(out, 'utf8');
      expect(html).toContain('<title>kernel-basic.pcap</title>');
      expect(html).toContain('Connection 1: 10.77.0.1 10.77.0.1:40000 ↔ 10.77.0.2 10.77.0.2:7777');
      expect(html).toContain('from a capture started 20');
      expect(html).toMatch(/<svg[^>]*class="ladder"/);
      expect(html).toContain('SYN,ACK seq=0 ack=1 win=65160');
      expect(html).toContain('Time-sequence');
      // Only the report's data and the script that draws from it; nothing fetched.
      expect(html.match(/<script[ >]/g)).toHaveLength(2);
      expect(html.replace(/<script[^>]*>[\s\S]*?<\/script>/g, '')).not.toMatch(/<script|src="http/);
    } finally {
      temp.remove();
    }
  });

  it('reads a Linux cooked capture (tcpdump -i any) and names the hosts as asked', async () => {
    const temp = temporaryDirectory('view-sll');
    try {
      const capture = join(temp.dir, 'http.pcap');
      writeFileSync(capture, readFileSync(join(FIXTURES, 'kernel-http-any.pcap')));
      const run = await runTcpts(
        ['view', capture, '--name', '127.0.0.1=curl', '-n', '127.0.0.2=web', '--ladder', '5'],
        {
          cwd: temp.dir,
        },
      );
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/connection 1: curl:\d+ → web:8080 {2}12 packets, 86 bytes →, 3188 bytes ←/);
      expect(run.stdout).toMatch(/curl +web/);
      expect(run.stdout).toContain('SYN seq=0 win=65495 <mss 65495,ws 10,sackOK,ts>');
      expect(run.stdout).toContain('PSH,ACK seq=1 ack=1 win=65536 len=86');
      expect(run.stdout).toContain('5 packets, 7 more not shown');
      // The default report path: next to the capture, .pcap replaced by .html.
      expect(existsSync(join(temp.dir, 'http.html'))).toBe(true);
      const html = readFileSync(join(temp.dir, 'http.html'), 'utf8');
      expect(html).toContain('Connection 1: curl 127.0.0.1:');
      expect(html).toContain('3188 bytes web → curl');
    } finally {
      temp.remove();
    }
  });

  it('exits 2 with the reason for a missing file, a broken pcapng file or something else', async () => {
    const temp = temporaryDirectory('view-bad');
    try {
      const missing = await runTcpts(['view', 'missing.pcap'], { cwd: temp.dir });
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/^tcpts view: cannot read \.\/missing\.pcap: .*ENOENT/);
      const pcapng = join(temp.dir, 'capture.pcapng');
      writeFileSync(
        pcapng,
        new Uint8Array([
          0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 255, 255, 255, 255, 255,
          255, 255, 255, 28, 0, 0, 0,
        ]),
      );
      // A pcapng section with no interface and no packet is read (and is empty)...
      const ng = await runTcpts(['view', 'capture.pcapng', '--color', 'never'], { cwd: temp.dir });
      expect(ng.code).toBe(0);
      expect(ng.stdout).toContain('./capture.pcapng 0 frames, 0 shown');
      // ...one whose byte-order magic is wrong is not.
      const broken = join(temp.dir, 'broken.pcapng');
      const bytes = readFileSync(pcapng);
      bytes[8] = 0;
      writeFileSync(broken, bytes);
      const bad = await runTcpts(['view', 'broken.pcapng'], { cwd: temp.dir });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(
        /^tcpts view: \.\/broken\.pcapng is not a capture tcpts can read: .*byte-order magic/,
      );
      writeFileSync(join(temp.dir, 'notes.txt'), 'not a capture at all, just some words');
      const text = await runTcpts(['view', 'notes.txt'], { cwd: temp.dir });
      expect(text.code).toBe(2);
      expect(text.stderr).toContain('is not a capture tcpts can read: magic number 0x6e6f7420');
    } finally {
      temp.remove();
    }
  });
});
