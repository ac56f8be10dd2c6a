/**
 * A large run's report: a bulk transfer (1% loss, so retransmissions and SACK blocks too) must give a
 * small file that Chromium makes usable within a second, with every packet in its list (the rows in
 * view only in the page), the list's words exactly those of the packets, a filter over all of them, a
 * zoomable time-sequence graph and the ladder of the stretch clicked.
 *
 * The target is a 50 MiB run under 3 MB: `npm run test:large-report` runs that (about half a
 * minute on a quiet 2-core machine, mostly simulating). In `npm test` the run is 8 MiB and the size bound
 * the same per MiB (see SIZE_LIMIT); TCPTS_LARGE_REPORT_MIB chooses another size.
 *
 * "Usable within a second" is measured two ways: the main thread's CPU time from navigation to the first
 * frame drawn after the script's ready mark (Chromium's ThreadTime metric, best of three loads), which a
 * busy machine does not inflate, asserted always (see CPU_LIMIT); and the wall-clock time to the ready
 * mark, every one of three loads (the first with nothing cached), asserted only when the machine has a
 * core to spare (on a loaded one it measures the other work). The renderer's CPU time on all its threads (compositing, rasterizing,
 * compiling off the main thread) is printed beside them.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TransferScenario } from '../../src/sim/scenarios/transfer.js';
import { countConversation } from '../../src/viz/conversation-counts.js';
import { renderHtmlReport } from '../../src/viz/html-report.js';
import type { ReportHandle } from '../../src/viz/report-app.js';
import { REMARK_SEPARATOR, rowText } from '../../src/viz/report-data.js';
import { checkLayout, checkTimeScale } from '../viz/ladder-geometry-check.js';
import { chromiumSkipReason, launchChromium } from './chromium.js';

if (chromiumSkipReason) console.log(`large report browser test skipped: ${chromiumSkipReason}`);

declare const tcptsReport: ReportHandle;

const MIB = 1024 * 1024;
const RUN_MIB = Number(process.env.TCPTS_LARGE_REPORT_MIB ?? 8);
/**
 * The bound: 3 MB for a 50 MiB run. A shorter run gets the same bytes per MiB plus 100 kB for the
 * part of a report that does not grow with the run (style, script, fixed-size charts).
 */
const SIZE_LIMIT = RUN_MIB >= 50 ? 3_000_000 : (3_000_000 * RUN_MIB) / 50 + 100_000;

/**
 * Main-thread CPU from navigation to the first frame drawn after the script is ready: 1 s for a 50 MiB
 * run (the "interactive within 1 s"); a shorter run gets the same per MiB plus 300 ms for what
 * does not grow with the run (starting the page, the fixed-size charts), so the 8 MiB run of `npm test`
 * guards the 50 MiB target.
 */
const CPU_LIMIT = Math.min(1000, Math.round((1000 * RUN_MIB) / 50 + 300));

describe.skipIf(chromiumSkipReason !== undefined)(`the report of a ${RUN_MIB} MiB transfer`, () => {
  it(`is under ${(SIZE_LIMIT / 1e6).toFixed(2)} MB, usable within a second in Chromium, and shows every packet`, async () => {
    const scenario = new TransferScenario({ clientBytes: RUN_MIB * MIB, loss: 0.01, seed: 7 });
    expect(scenario.runToEnd().phase).toBe('done');
    const conversation = scenario.network.conversation();
    const counts = countConversation(conversation);
    // At least one 1448-byte segment per 1448 bytes (about 724 per MiB), and ACKs beside them: how many
    // depends on the ACK rule (one per burst on the virtual clock, TcpConfig.ackPerBurst).
    expect(conversation.packets.length).toBeGreaterThan(Math.ceil((RUN_MIB * MIB) / 1448));
    expect(counts.retransmissions).toBeGreaterThan(RUN_MIB * 2);
    const html = renderHtmlReport(conversation, { title: `${RUN_MIB} MiB, 1% loss` });
    const size = Buffer.byteLength(html);
    console.log(
      `${RUN_MIB} MiB report: ${conversation.packets.length} packets in ${(size / 1e6).toFixed(2)} MB`,
    );
    expect(size).toBeLessThan(SIZE_LIMIT);

    const dir = mkdtempSync(join(tmpdir(), 'tcpts-large-report-'));
    const browser = await launchChromium();
    try {
      const path = join(dir, 'large.html');
      writeFileSync(path, html);
      const errors: string[] = [];
      const wall: number[] = [];
      let cpu = Number.POSITIVE_INFINITY;
      let processCpu = Number.POSITIVE_INFINITY;
      for (let load = 0; load < 3; load++) {
        const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
        page.on('pageerror', (e) => errors.push(String(e)));
        page.on('console', (m) => {
          if (m.type() === 'error') errors.push(m.text());
        });
        const cdp = await page.context().newCDPSession(page);
        await cdp.send('Performance.enable');
        await page.goto(`file://${path}`);
        await page.waitForSelector('html[data-ready]', { timeout: 60_000 });
        // Interactive: the page drawn once with the list and charts in it, and its thread free again.
        await page.evaluate(
          () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0))),
        );
        const metrics = (await cdp.send('Performance.getMetrics')).metrics;
        const metric = (name: string) => 1000 * metrics.find((m) => m.name === name)!.value;
        cpu = Math.min(cpu, metric('ThreadTime'));
        processCpu = Math.min(processCpu, metric('ProcessTime'));
        wall.push(await page.evaluate(() => tcptsReport.readyAt));
        await page.close();
      }
      const busy = loadavg()[0]! >= cpus().length;
      console.log(
        `ready after ${wall.map((t) => Math.round(t)).join(', ')} ms; to the first frame, main thread CPU ` +
          `${Math.round(cpu)} ms (bound ${CPU_LIMIT} ms), renderer CPU on all its threads ${Math.round(processCpu)} ms; ` +
          `load ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`,
      );
      expect(cpu).toBeLessThan(CPU_LIMIT);
      if (busy) console.log('wall-clock bound not asserted: the machine has no core to spare');
      // Every load, the first (nothing cached) included: a reader opens the report once.
      else expect(Math.max(...wall)).toBeLessThan(1000);

      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`file://${path}`);
      await page.waitForSelector('html[data-ready]', { timeout: 60_000 });

      // Every packet is in the list, word for word, though only the rows in view are in the page.
      expect(await page.evaluate(() => tcptsReport.count)).toBe(conversation.packets.length);
      const words = await page.evaluate(() =>
        Array.from({ length: tcptsReport.count }, (_, i) => tcptsReport.rowText(i)),
      );
      const expected = conversation.packets.map((p) => rowText(p, {}));
      expect(words.length).toBe(expected.length);
      expect(words.findIndex((w, i) => w !== expected[i])).toBe(-1);
      const inPage = await page.$$eval('table.packets tbody tr[data-index]', (rows) => rows.length);
      expect(inPage).toBeGreaterThan(10);
      expect(inPage).toBeLessThan(100);
      // Scrolled to the end, the last packet is there.
      await page.$eval('#packet-scroll', (e) => {
        e.scrollTop = e.scrollHeight;
      });
      const lastId = String(conversation.packets.at(-1)!.id);
      await page.waitForFunction(
        (id) =>
          Array.from(document.querySelectorAll('table.packets tbody tr[data-index]')).at(-1)
            ?.firstElementChild?.textContent === id,
        lastId,
      );

      // The filter runs over all of them.
      await page.fill('#packet-filter', 'dup ACK');
      await page.waitForFunction(() => document.getElementById('packet-filter-count')?.textContent !== '');
      expect(await page.textContent('#packet-filter-count')).toBe(
        `${counts.duplicateAcks} of ${conversation.packets.length} packets`,
      );
      const dupRows = expected.filter((w) => w.split(REMARK_SEPARATOR).some((r) => r.startsWith('dup ACK')));
      expect(dupRows).toHaveLength(counts.duplicateAcks);

      // Wheel zoom on the time-sequence graph narrows the time shown around the pointer.
      const canvas = page.locator('canvas.time-sequence').first();
      await canvas.scrollIntoViewIfNeeded();
      const box = (await canvas.boundingBox())!;
      const whole = await page.evaluate(() => tcptsReport.view(0));
      const pointer = { x: box.x + box.width * 0.6, y: box.y + box.height * 0.5 };
      const under = await page.evaluate((x) => tcptsReport.timeAt(0, x), box.width * 0.6);
      await page.mouse.move(pointer.x, pointer.y);
      for (let k = 0; k < 5; k++) await page.mouse.wheel(0, -300);
      await page.waitForFunction((t1) => tcptsReport.view(0).t1 < t1, whole.t1);
      const zoomed = await page.evaluate(() => tcptsReport.view(0));
      expect(zoomed.t1 - zoomed.t0).toBeLessThan((whole.t1 - whole.t0) / 5);
      expect(zoomed.t0).toBeLessThan(under);
      expect(zoomed.t1).toBeGreaterThan(under);
      // A click there opens the ladder of the packets sent from that time on: 40 consecutive packets.
      const clicked = await page.evaluate((x) => tcptsReport.timeAt(0, x), box.width * 0.6);
      await page.mouse.click(pointer.x, pointer.y);
      await page.waitForSelector('#ladder-window svg.ladder');
      const caption = (await page.textContent('#ladder-window .ladder-window-caption'))!;
      const [, first, last, of, t0, t1] = /#(\d+)–#(\d+) of (\d+), ([\d.]+)–([\d.]+) ms/.exec(caption)!;
      expect(Number(last) - Number(first)).toBe(39);
      expect(Number(of)).toBe(conversation.packets.length);
      expect(Number(t0)).toBeLessThanOrEqual(clicked);
      expect(Number(t1)).toBeGreaterThanOrEqual(clicked);
      const drawn = await page.$$eval('#ladder-window svg.ladder g.packet', (g) =>
        g.map((e) => Number(e.getAttribute('data-packet'))),
      );
      expect(drawn[0]).toBe(Number(first));
      expect(drawn.every((id, i) => i === 0 || id > drawn[i - 1]!)).toBe(true);
      // Every stretch is laid out as the SVG ladder is: the one clicked, others across the run, and the
      // stretches that begin at each lost packet or 5 ms before it (a lost arrow is drawn half-length,
      // its label centred on it, and may sit beside the column of crowded-out labels); and labels every
      // arrow.
      const stretches = [await page.$eval('#ladder-window svg.ladder', (e) => e.outerHTML)];
      const lastTime = conversation.packets.at(-1)!.sentAt - conversation.timeOrigin;
      const lost = conversation.packets.filter((p) => p.dropped !== undefined);
      expect(lost.length).toBeGreaterThan(RUN_MIB * 2);
      const lostTimes = lost.flatMap((p) => [0, -5].map((d) => p.sentAt - conversation.timeOrigin + d));
      for (const t of [0, lastTime * 0.37, lastTime * 0.81, lastTime, ...lostTimes]) {
        await page.evaluate((time) => tcptsReport.openLadder(time), t);
        stretches.push(await page.$eval('#ladder-window svg.ladder', (e) => e.outerHTML));
      }
      stretches.forEach((svg, k) => {
        checkLayout(svg, `stretch ${k}`);
        checkTimeScale(svg, conversation, `stretch ${k}`);
      });

      mkdirSync('artifacts', { recursive: true });
      await canvas.screenshot({ path: join('artifacts', 'report-large-time-sequence.png') });
      await page.locator('#ladder-window').screenshot({ path: join('artifacts', 'report-large-ladder.png') });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
