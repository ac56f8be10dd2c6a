/**
 * `tcpts view` on the captures people actually make, made here by tcpdump: curl fetching a file from
 * `python3 -m http.server` on 127.0.0.1 (both ends share the address), captured on `lo` (Ethernet),
 * on `-i any` (Linux cooked v2, and v1 with -y LINUX_SLL), and converted to pcapng by editcap. The report's
 * numbers are exact (bytes each way from curl's own counts, frames from tshark) and its retransmissions,
 * zero-window probes and duplicate ACKs are those of tshark's analysis of the same file.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCapture } from '../../src/pcap/pcapng-reader.js';
import { countConversation } from '../../src/viz/conversation-counts.js';
import { conversationFromPcap } from '../../src/viz/conversation-from-pcap.js';
import { findTshark, tsharkTcpAnalysis } from '../helpers/tshark.js';
import { runTcpts, temporaryDirectory } from './run-tcpts.js';

function missing(): string | undefined {
  if (process.getuid?.() !== 0) return 'capturing needs root (tcpdump on lo)';
  for (const tool of ['tcpdump', 'curl', 'python3', 'editcap']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  }
  if (!findTshark()) return 'tshark is not installed';
  return undefined;
}
const skipReason = missing();

const temp = temporaryDirectory('captures');
const BODY = 100_000;
let port = 0;
let server: ChildProcess | undefined;
/** curl's own counts: request bytes, response header bytes, body bytes. */
const sizes: { request: number; header: number; body: number }[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/** Starts tcpdump and resolves once it is listening. */
function startCapture(args: string[]): Promise<{ child: ChildProcess; stderr: () => string }> {
  return new Promise((resolve, reject) => {
    // -Z root: tcpdump would otherwise drop to its own user, who cannot write into the test's private
    // temporary directory; --immediate-mode: hand over each packet at once (TPACKET_V3 otherwise holds a
    // block for up to a second, and what is held when tcpdump stops is lost); -B: a roomy kernel buffer.
    const child = spawn(
      'tcpdump',
      ['-U', '--immediate-mode', '-B', '32768', '-Z', 'root', ...args, `port ${port}`],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('listening on')) resolve({ child, stderr: () => err });
    });
    child.once('exit', (code) => reject(new Error(`tcpdump exited (${code}): ${err}`)));
  });
}

/** Stops tcpdump; resolves with the packets it says the kernel dropped. */
function stopCapture(capture: { child: ChildProcess; stderr: () => string }): Promise<number> {
  return new Promise((resolve) => {
    capture.child.removeAllListeners('exit');
    capture.child.once('exit', () =>
      resolve(Number(/(\d+) packets? dropped by kernel/.exec(capture.stderr())?.[1] ?? 0)),
    );
    capture.child.kill('SIGINT');
  });
}

function fetchOnce(url: string): { request: number; header: number; body: number } {
  const r = spawnSync(
    'curl',
    ['-s', '-o', '/dev/null', '-w', '%{size_request} %{size_header} %{size_download}', url],
    {
      encoding: 'utf8',
      timeout: 20_000,
    },
  );
  const [request, header, body] = r.stdout.trim().split(' ').map(Number);
  return { request: request!, header: header!, body: body! };
}

/**
 * Captures one fetch of the file (plus, on lo, one refused IPv6 attempt) into `file`. A busy machine may
 * drop packets before tcpdump reads them (it says so when it stops): then the capture is made again.
 */
async function capture(file: string, args: string[], ipv6 = false): Promise<string> {
  const path = join(temp.dir, file);
  for (let attempt = 1; ; attempt++) {
    const running = await startCapture([...args, '-w', path]);
    let size: ReturnType<typeof fetchOnce>;
    let dropped: number;
    try {
      size = fetchOnce(`http://127.0.0.1:${port}/blob.bin`);
      // Nothing listens on [::1]:port: a SYN and the kernel's RST, both IPv6.
      if (ipv6) spawnSync('curl', ['-s', '-o', '/dev/null', `http://[::1]:${port}/`], { timeout: 10_000 });
      // Let tcpdump see the last FIN/ACK before it stops.
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      dropped = await stopCapture(running);
    }
    if (dropped === 0 || attempt === 5) {
      sizes.push(size);
      return path;
    }
  }
}

const files: Record<string, string> = {};

beforeAll(async () => {
  if (skipReason) return;
  writeFileSync(join(temp.dir, 'blob.bin'), new Uint8Array(BODY).fill(0x61));
  port = await freePort();
  server = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1'], {
    cwd: temp.dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Ready when it answers.
  for (let i = 0; i < 100; i++) {
    const r = spawnSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${port}/`]);
    if (r.stdout?.toString() === '200') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  files.lo = await capture('lo.pcap', ['-i', 'lo'], true);
  files.sll2 = await capture('any.pcap', ['-i', 'any']);
  files.sll = await capture('any-sll.pcap', ['-i', 'any', '-y', 'LINUX_SLL']);
  files.pcapng = join(temp.dir, 'lo.pcapng');
  spawnSync('editcap', ['-F', 'pcapng', files.lo, files.pcapng]);
}, 60_000);

afterAll(() => {
  server?.kill();
  temp.remove();
});

describe('tcpts view on captures made by tcpdump', () => {
  it('is skipped only when the machine cannot capture', (context) => {
    if (skipReason) {
      console.log(`skipped: ${skipReason}`);
      context.skip();
    }
    expect(sizes).toHaveLength(3);
  });

  it('reads each format with the link type tcpdump wrote', (context) => {
    if (skipReason) context.skip();
    const linkTypes = Object.fromEntries(
      Object.entries(files).map(([name, path]) => {
        const c = readCapture(readFileSync(path));
        if (!c.ok) throw new Error(`${name}: ${c.error.message}`);
        return [name, [c.value.format, ...c.value.interfaces.map((i) => i.linkType)]];
      }),
    );
    expect(linkTypes).toEqual({
      lo: ['pcap', 1],
      sll2: ['pcap', 276],
      sll: ['pcap', 113],
      pcapng: ['pcapng', 1],
    });
  });

  for (const name of ['lo', 'sll2', 'sll', 'pcapng'] as const) {
    it(`${name}: two lifelines (address:port), one connection, the bytes curl counted, tshark's frames and analysis`, async (context) => {
      if (skipReason) context.skip();
      const path = files[name]!;
      const capture = readCapture(readFileSync(path));
      if (!capture.ok) throw new Error(capture.error.message);
      const c = conversationFromPcap(capture.value.records);
      const size = sizes[name === 'sll2' ? 1 : name === 'sll' ? 2 : 0]!;
      const ipv4Flows = c.flows.filter((f) => f.a.address === '127.0.0.1');
      expect(ipv4Flows).toHaveLength(1);
      const flow = ipv4Flows[0]!;
      expect(flow.b.port).toBe(port);
      expect(c.hosts.filter((h) => h.startsWith('127.'))).toEqual([
        `127.0.0.1:${flow.a.port}`,
        `127.0.0.1:${port}`,
      ]);
      expect([flow.bytesAtoB, flow.bytesBtoA]).toEqual([size.request, size.header + size.body]);
      expect(size.body).toBe(BODY);
      const wireshark = tsharkTcpAnalysis(path);
      // Every frame is drawn: the IPv4 fetch, and on lo the refused IPv6 attempt (SYN, RST) as a second
      // connection between [::1] lifelines.
      expect(c.packets.length).toBe(wireshark.frames);
      expect(flow.packets).toBe(wireshark.tcpIpv4Frames);
      const ipv6 = wireshark.ipv6Frames;
      expect(ipv6).toBe(name === 'lo' || name === 'pcapng' ? 2 : 0);
      expect(wireshark.frames).toBe(wireshark.ipv4Frames + ipv6);
      const ipv6Flows = c.flows.filter((f) => f.a.address === '::1');
      expect(ipv6Flows.map((f) => [f.b.port, f.packets])).toEqual(ipv6 ? [[port, 2]] : []);
      if (ipv6) expect(c.hosts).toContain(`[::1]:${port}`);
      expect(c.skipped ?? {}).toEqual({});
      const counts = countConversation(c);
      expect({
        retransmissions: counts.retransmissions,
        zeroWindowProbes: counts.zeroWindowProbes,
        duplicateAcks: counts.duplicateAcks,
      }).toEqual({
        retransmissions: wireshark.retransmissions,
        zeroWindowProbes: wireshark.zeroWindowProbes,
        duplicateAcks: wireshark.duplicateAcks,
      });

      const run = await runTcpts(['view', path, '--out', join(temp.dir, `${name}.html`), '--ladder', '5'], {
        env: { NO_COLOR: '1' },
      });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(
        `connection 1: 127.0.0.1:${flow.a.port} → 127.0.0.1:${port}  ${flow.packets} packets, ${size.request} bytes →, ${size.header + BODY} bytes ←`,
      );
      expect(run.stdout).not.toContain('Not drawn');
    });
  }
});
