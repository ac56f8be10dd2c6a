/**
 * Debian's chromium driven by playwright-core, for the report's browser tests: where it is, why a test
 * skips when it is not there, and a headless launch with the flags a container needs.
 */
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined when they can. */
export const chromiumSkipReason = existsSync(CHROMIUM)
  ? undefined
  : `${CHROMIUM} is not installed (Debian package "chromium"; .ci/run installs it)`;

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
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
}
