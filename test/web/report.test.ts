/**
 * The demo's HTML report in a real browser (Debian's chromium driven by playwright-core): it loads
 * without a console error, its packet filter keeps exactly the rows that match (the duplicate ACKs the
 * counts name), and screenshots of a chapter's ladder and of a connection's charts are left in artifacts/.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSeedStory } from '../../src/sim/scenarios/seed-story/seed-story.js';
import { renderStoryReport } from '../../src/sim/scenarios/seed-story/story-report.js';
import { countConversation } from '../../src/viz/conversation-counts.js';

const CHROMIUM = '/usr/bin/chromium';
const skipReason = existsSync(CHROMIUM)
  ? undefined
  : `${CHROMIUM} is not installed (Debian package "chromium"; .ci/run installs it)`;
if (skipReason) console.log(`report browser tests skipped: ${skipReason}`);

describe.skipIf(skipReason !== undefined)('the demo report in Chromium', () => {
  it('loads cleanly, filters its packet list, and shows the ladder and charts', async () => {
    const story = runSeedStory({ seed: 1 });
    const dir = mkdtempSync(join(tmpdir(), 'tcpts-report-'));
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
      ],
    });
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
      const all = await page.$$eval('table.packets tbody tr', (rows) => rows.length);
      expect(all).toBe(story.stage.network.conversation().packets.length);
      await page.fill('#packet-filter', 'dup ACK');
      await page.waitForFunction(() => document.getElementById('packet-filter-count')?.textContent !== '');
      const shown = await page.$$eval('table.packets tbody tr:not([hidden])', (rows) =>
        rows.map((r) => r.textContent ?? ''),
      );
      const dupAcks = countConversation(story.stage.network.conversation()).duplicateAcks;
      expect(shown).toHaveLength(dupAcks);
      for (const row of shown) expect(row).toMatch(/dup ACK #\d/);
      expect(await page.textContent('#packet-filter-count')).toBe(`${dupAcks} of ${all} packets`);
      await page.fill('#packet-filter', '');
      await page.waitForFunction(() => document.getElementById('packet-filter-count')?.textContent === '');
      expect(await page.$$eval('table.packets tbody tr:not([hidden])', (rows) => rows.length)).toBe(all);

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
