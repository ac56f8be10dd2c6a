/**
 * The web lab in a real browser: Debian's chromium driven by playwright-core. The page is built the way
 * `tcpts lab` builds it (esbuild for the browser: a Node built-in anywhere in tcpts's imports would fail
 * the build) and served on localhost. It must load without a console error, run a handshake whose arrows
 * carry the right numbers (the same numbers the simulation gives in Node), update its pictures while a
 * transfer runs, and show the demo's story. A screenshot is left in artifacts/web-lab.png.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLabSite, type LabServer, serveLabSite } from '../../src/cli/lab-site.js';
import { TransferScenario } from '../../src/sim/scenarios/transfer.js';

const CHROMIUM = '/usr/bin/chromium';
const skipReason = existsSync(CHROMIUM)
  ? undefined
  : `${CHROMIUM} is not installed (Debian package "chromium"; .ci/run installs it)`;
if (skipReason) console.log(`web lab tests skipped: ${skipReason}`);

describe.skipIf(skipReason !== undefined)('the web lab in Chromium', () => {
  let server: LabServer;
  let browser: BrowserContext;
  let profile: string;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    const site = await buildLabSite();
    expect([...site.keys()].sort()).toEqual(['index.html', 'lab.css', 'lab.js', 'lab.js.map']);
    server = await serveLabSite(site, { port: 0 });
    const { chromium } = await import('playwright-core');
    profile = mkdtempSync(join(tmpdir(), 'tcpts-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 1000 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  async function open(query: string): Promise<Page> {
    const page = await browser.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(`${query}: ${message.text()}`);
    });
    page.on('pageerror', (error) => consoleErrors.push(`${query}: ${error.message}`));
    await page.goto(`${server.url}${query}`);
    return page;
  }

  async function finished(page: Page): Promise<string> {
    await page.waitForSelector('body[data-phase=done], body[data-phase=failed]', { timeout: 30_000 });
    return (await page.getAttribute('body', 'data-phase'))!;
  }

  it('loads without a console error, ready to run', async () => {
    const page = await open('');
    await expect(page.title()).resolves.toBe('tcpts lab');
    expect(await page.getAttribute('body', 'data-phase')).toBe('idle');
    expect(await page.isEnabled('#run')).toBe(true);
    expect(await page.inputValue('input[name=bytes]')).toBe('65536');
    expect(consoleErrors).toEqual([]);
    await page.close();
  });

  it('runs a handshake whose SYN, SYN-ACK and ACK arrows carry x, y, x+1 and y+1', async () => {
    const page = await open('?bytes=0&reply=0&relative=0&seed=5&speed=1000&autorun=1');
    expect(await finished(page)).toBe('done');
    const arrows = await page.$$eval('svg.ladder g.packet-label', (groups) =>
      groups.map((g) => ({
        id: Number(g.getAttribute('data-packet')),
        text: g.querySelector('text')?.textContent ?? '',
      })),
    );
    const tcp = arrows.filter((a) => /^(SYN|SYN,ACK|ACK|FIN,ACK) seq=/.test(a.text));
    const [syn, synAck, ack] = tcp;
    const x = Number(/^SYN seq=(\d+) /.exec(syn!.text)![1]);
    const y = Number(/^SYN,ACK seq=(\d+) /.exec(synAck!.text)![1]);
    // The modern defaults: window scaling (a 256 KiB buffer needs a shift of 3), SACK and timestamps.
    expect(synAck!.text).toMatch(
      new RegExp(`^SYN,ACK seq=${y} ack=${(x + 1) >>> 0} win=65535 <mss 1460,ws 3,sackOK,ts>$`),
    );
    expect(ack!.text).toBe(`ACK seq=${(x + 1) >>> 0} ack=${(y + 1) >>> 0} win=262144 len=0`);
    // The numbers are the simulation's own: the same run in Node gives the same ISNs.
    const node = new TransferScenario({ clientBytes: 0, serverBytes: 0, seed: 5 });
    node.runToEnd();
    const flow = node.network.conversation().flows[0]!;
    expect([x, y]).toEqual([flow.isnA, flow.isnB]);
    // Each arrow points the right way: SYN and ACK from the client (left) to the server, SYN-ACK back.
    const direction = async (id: number) =>
      page.$eval(`svg.ladder g.packet[data-packet="${id}"] line`, (line) =>
        Number(line.getAttribute('x2')) > Number(line.getAttribute('x1')) ? 'right' : 'left',
      );
    expect([await direction(syn!.id), await direction(synAck!.id), await direction(ack!.id)]).toEqual([
      'right',
      'left',
      'right',
    ]);
    expect(await page.$$eval('svg.ladder g.packet.packet-syn', (g) => g.length)).toBe(2);
    expect(await page.textContent('#status-text')).toMatch(/^done · 0 B of 0 B delivered/);
    expect(consoleErrors).toEqual([]);
    await page.close();
  });

  it('redraws the ladder and graphs while a lossy transfer runs, then offers the capture and report', async () => {
    const page = await open('?bytes=200000&reply=0&loss=5&rate=2&delay=20&seed=2&speed=250&autorun=1');
    await page.waitForSelector('body[data-phase=running]');
    // The newest packet drawn (a burst is one arrow, so count packets by their ids, not arrows).
    const newest = () =>
      page.$$eval('svg.ladder g.packet', (g) =>
        Math.max(
          0,
          ...g.flatMap((e) =>
            (e.getAttribute('data-packets') ?? e.getAttribute('data-packet') ?? '0').split(' ').map(Number),
          ),
        ),
      );
    await page.waitForFunction(() => document.querySelectorAll('svg.ladder g.packet').length > 0);
    const early = await newest();
    await page.waitForFunction(
      (n) =>
        Math.max(
          0,
          ...Array.from(document.querySelectorAll('svg.ladder g.packet')).flatMap((e) =>
            (e.getAttribute('data-packets') ?? e.getAttribute('data-packet') ?? '0').split(' ').map(Number),
          ),
        ) > n,
      early,
    );
    expect(await page.getAttribute('body', 'data-phase')).toBe('running');
    expect(await finished(page)).toBe('done');
    expect(await newest()).toBeGreaterThan(early);
    expect(await page.textContent('#status-text')).toMatch(/every byte arrived intact$/);
    expect(await page.$$eval('svg.ladder g.packet-lost', (g) => g.length)).toBeGreaterThan(0);
    for (const chart of ['#time-sequence svg', '#cwnd svg', '#rtt svg', '#states svg']) {
      expect(await page.$(chart), chart).not.toBeNull();
    }
    // The capture of the run downloads as a pcap file (little-endian, nanosecond magic).
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-pcap')]);
    expect(download.suggestedFilename()).toBe('tcpts-lab.pcap');
    const saved = readFileSync((await download.path())!);
    expect([...saved.subarray(0, 4)]).toEqual([0x4d, 0x3c, 0xb2, 0xa1]);
    expect(await page.isEnabled('#download-report')).toBe(true);
    mkdirSync('artifacts', { recursive: true });
    await page.screenshot({ path: join('artifacts', 'web-lab.png') });
    expect(consoleErrors).toEqual([]);
    await page.close();
  });

  it("tells the demo's story chapter by chapter", async () => {
    const page = await open('?scenario=story&autorun=1');
    expect(await finished(page)).toBe('done');
    await page.selectOption('#chapter', '1');
    expect(await page.textContent('#chapter-title')).toBe('2. Sending data: the sliding window');
    const labels = await page.$$eval('svg.ladder g.packet-label text', (t) => t.map((e) => e.textContent));
    expect(labels).toContain('ACK seq=1 ack=3073 win=3072 len=0');
    expect(consoleErrors).toEqual([]);
    await page.close();
  });
});
