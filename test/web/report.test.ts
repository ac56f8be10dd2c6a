/**
 * The demo's HTML report in a real browser (Debian's chromium driven by playwright-core): it loads
 * without a console error, its packet list holds every packet and its filter exactly the rows that match
 * (the duplicate ACKs the counts name), a click in a time-sequence graph opens the ladder at that time,
 * and screenshots of a chapter's ladder and of a connection's charts are left in artifacts/.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSeedStory } from '../../src/sim/scenarios/seed-story/seed-story.js';
import { renderStoryReport } from '../../src/sim/scenarios/seed-story/story-report.js';
import { countConversation } from '../../src/viz/conversation-counts.js';
import type { ReportHandle } from '../../src/viz/report-app.js';
import { checkLayout, checkTimeScale, parse } from '../viz/ladder-geometry-check.js';
import { launchChromium, chromiumSkipReason as skipReason } from './chromium.js';

if (skipReason) console.log(`report browser tests skipped: ${skipReason}`);

declare const tcptsReport: ReportHandle;

describe.skipIf(skipReason !== undefined)('the demo report in Chromium', () => {
  it('loads cleanly, filters its packet list, and shows the ladder and charts', async () => {
    const story = runSeedStory({ seed: 1 });
    const dir = mkdtempSync(join(tmpdir(), 'tcpts-report-'));
    const browser = await launchChromium();
    try {
      const path = join(dir, 'demo.html');
      writeFileSync(path, renderStoryReport(story));
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`file://${path}`);
      await page.waitForSelector('html[data-ready]');
      const conversation = story.stage.network.conversation();
      const all = conversation.packets.length;
      expect(await page.evaluate(() => tcptsReport.count)).toBe(all);
      // The demo's packets all fit the list's view: every row is in the page, in order.
      const numbers = await page.$$eval('table.packets tbody tr[data-index]', (rows) =>
        rows.map((r) => r.firstElementChild?.textContent),
      );
      expect(numbers.slice(0, 5)).toEqual(['1', '2', '3', '4', '5']);
      await page.fill('#packet-filter', 'dup ACK');
      await page.waitForFunction(() => document.getElementById('packet-filter-count')?.textContent !== '');
      const shown = await page.$$eval('table.packets tbody tr[data-index]', (rows) =>
        rows.map((r) => r.textContent ?? ''),
      );
      const dupAcks = countConversation(conversation).duplicateAcks;
      expect(shown).toHaveLength(dupAcks);
      for (const row of shown) expect(row).toMatch(/dup ACK #\d/);
      expect(await page.textContent('#packet-filter-count')).toBe(`${dupAcks} of ${all} packets`);
      await page.fill('#packet-filter', '');
      await page.waitForFunction(() => document.getElementById('packet-filter-count')?.textContent === '');
      expect(await page.evaluate(() => tcptsReport.shown())).toBe(all);

      // A click in connection 1's first graph opens the ladder of the packets sent from that time on.
      expect(await page.isHidden('#ladder-window')).toBe(true);
      const canvas = page.locator('canvas.time-sequence').first();
      const box = (await canvas.boundingBox())!;
      const x = box.width * 0.5;
      const clicked = await page.evaluate((cssX) => tcptsReport.timeAt(0, cssX), x);
      await canvas.click({ position: { x, y: box.height * 0.5 } });
      await page.waitForSelector('#ladder-window:not([hidden]) svg.ladder');
      const caption = (await page.textContent('#ladder-window .ladder-window-caption'))!;
      const [, firstTime, lastTime] = /, ([\d.]+)–([\d.]+) ms/.exec(caption)!;
      expect(Number(firstTime)).toBeLessThanOrEqual(clicked);
      expect(Number(lastTime)).toBeGreaterThanOrEqual(clicked);
      const arrows = await page.$$eval('#ladder-window svg.ladder g.packet', (g) => g.length);
      expect(arrows).toBeGreaterThan(0);
      // Laid out as the SVG ladder is: no label over a label or an arrow, one linear time scale.
      const svg = await page.$eval('#ladder-window svg.ladder', (e) => e.outerHTML);
      checkLayout(svg, 'demo, ladder around the click');
      checkTimeScale(svg, conversation, 'demo, ladder around the click');
      expect(parse(svg).labels.length).toBeGreaterThan(arrows / 2);
      // A click on a row of the packet list opens the ladder of the stretch holding that packet.
      await page.click('table.packets tbody tr[data-index="20"]');
      await page.waitForFunction(() =>
        document.querySelector('#ladder-window .ladder-window-caption')?.textContent?.includes('#'),
      );
      const rowCaption = (await page.textContent('#ladder-window .ladder-window-caption'))!;
      const [, from, to] = /#(\d+)–#(\d+) of/.exec(rowCaption)!;
      expect(Number(from)).toBeLessThanOrEqual(21);
      expect(Number(to)).toBeGreaterThanOrEqual(21);
      expect(
        await page.$$eval('#ladder-window svg.ladder g.packet', (g) =>
          g.map((e) => e.getAttribute('data-packet')),
        ),
      ).toContain('21');

      mkdirSync('artifacts', { recursive: true });
      await page
        .locator('section#ladder figure')
        .nth(1)
        .screenshot({ path: join('artifacts', 'report-chapter-2.png') });
      await page.locator('#connection-1').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join('artifacts', 'report-connection-1.png') });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
