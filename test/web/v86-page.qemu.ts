/**
 * v86 in a real browser page (opt-in: `npm run test:qemu`): Debian's chromium (driven by playwright-core)
 * loads a page running v86 (npm's build) and tcpts (the browser entry); the emulated NE2000 card is on a
 * tcpts Gateway in the page, whose upstream is WISP through `tcpts wisp` (run as a user would, a child
 * process). The guest (Debian's i386 kernel with a busybox initramfs, test/gateway/helpers/
 * v86-guest-files.ts) takes a DHCP lease, resolves a name through the gateway's DNS (carried on to a
 * resolver on the host's 127.0.0.1 over WISP UDP), downloads 1 MiB from an HTTP server on the host's
 * 127.0.0.1 through 10.0.2.2, and prints its SHA-256 on the serial console.
 */
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dnsAnswer } from '../gateway/helpers/dns-responder.js';
import {
  buildV86Guest,
  V86_BIOS,
  V86_CMDLINE,
  V86_VGA_BIOS,
  V86_WASM,
  v86GuestMissing,
} from '../gateway/helpers/v86-guest-files.js';
import { killAllPrograms, Program } from '../interop/helpers/program.js';
import { TempDirectory } from '../interop/helpers/test-data.js';
import { chromiumSkipReason, launchChromium } from './chromium.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));
const LIBV86 = fileURLToPath(new URL('../../node_modules/v86/build/libv86.mjs', import.meta.url));
const reason =
  chromiumSkipReason ??
  (existsSync(LIBV86) ? v86GuestMissing() : 'npm package v86 is not installed (npm install)');
if (reason) console.log(`v86 page test skipped: ${reason}`);

const PAYLOAD = Buffer.alloc(1 << 20);
for (let i = 0; i < PAYLOAD.length; i++) PAYLOAD[i] = (i * 41 + (i >>> 10)) & 0xff;

describe.skipIf(reason !== undefined)("a v86 guest in a Chromium page on the page's tcpts Gateway", () => {
  const directory = new TempDirectory();
  let files: http.Server;
  let site: http.Server;
  let dns: dgram.Socket;
  let wisp: Program;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    files = http.createServer((_request, response) => {
      response.writeHead(200, { 'content-length': String(PAYLOAD.length) });
      response.end(PAYLOAD);
    });
    await new Promise<void>((d) => files.listen(0, '127.0.0.1', () => d()));
    dns = dgram.createSocket('udp4', (message, rinfo) => {
      const answer = dnsAnswer(message, { 'files.test': '10.0.2.2' });
      if (answer) dns.send(answer, rinfo.port, rinfo.address);
    });
    await new Promise<void>((d) => dns.bind(0, '127.0.0.1', () => d()));
    const guest = buildV86Guest(directory, (files.address() as AddressInfo).port);
    const esbuild = await import('esbuild');
    const bundle = await esbuild.build({
      entryPoints: [fileURLToPath(new URL('./pages/v86-page.ts', import.meta.url))],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      logLevel: 'silent',
    });
    const assets: Record<string, [string, Uint8Array | string]> = {
      '/': [
        'text/html; charset=utf-8',
        '<!doctype html><title>tcpts v86</title><body><script type="module" src="/page.js"></script>',
      ],
      '/page.js': ['text/javascript; charset=utf-8', bundle.outputFiles[0]!.contents],
      '/libv86.mjs': ['text/javascript; charset=utf-8', readFileSync(LIBV86)],
      '/v86.wasm': ['application/wasm', readFileSync(V86_WASM)],
      '/bios.bin': ['application/octet-stream', readFileSync(V86_BIOS)],
      '/vgabios.bin': ['application/octet-stream', readFileSync(V86_VGA_BIOS)],
      '/bzimage': ['application/octet-stream', readFileSync(guest.kernel)],
      '/initrd.gz': ['application/octet-stream', readFileSync(guest.initrd)],
    };
    site = http.createServer((request, response) => {
      const asset = assets[request.url ?? ''];
      if (request.url === '/favicon.ico') {
        response.writeHead(204).end();
        return;
      }
      if (asset === undefined) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { 'content-type': asset[0] });
      response.end(asset[1]);
    });
    await new Promise<void>((d) => site.listen(0, '127.0.0.1', () => d()));
    wisp = new Program(
      process.execPath,
      ['--import', 'tsx', MAIN, 'wisp', '--port', '0', '--allow', '127.0.0.0/8'],
      { cwd: REPOSITORY },
    );
    await wisp.waitFor(/wisp server listening on ws:\/\/127\.0\.0\.1:\d+\//, 30_000);
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    await page.goto(`http://127.0.0.1:${(site.address() as AddressInfo).port}/`);
    await page.waitForSelector('body[data-ready=yes]', { state: 'attached', timeout: 30_000 });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    wisp?.kill('SIGTERM');
    killAllPrograms();
    site?.close();
    files?.close();
    dns?.close();
    directory.remove();
  });

  it('boots, leases 10.0.2.15, resolves through 10.0.2.3 and downloads sha256-exact', async () => {
    const wispUrl = /(ws:\/\/127\.0\.0\.1:\d+\/)/.exec(wisp.stderr)![1]!;
    type V86Page = {
      tcptsV86: { boot(o: object): Promise<number>; serial(): string; counters(): string };
    };
    const version = await page.evaluate((options) => (window as unknown as V86Page).tcptsV86.boot(options), {
      wispUrl,
      dnsPort: (dns.address() as AddressInfo).port,
      cmdline: V86_CMDLINE,
    });
    expect(version).toBe(2);
    let serial = '';
    const end = Date.now() + 240_000;
    while (!serial.includes('GUEST-DONE') && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 1000));
      serial = await page.evaluate(() => (window as unknown as V86Page).tcptsV86.serial());
    }
    if (!serial.includes('DOWNLOAD')) {
      console.log(serial.slice(-3000));
      console.log(await page.evaluate(() => (window as unknown as V86Page).tcptsV86.counters()));
      console.log(consoleErrors, wisp.stderr);
    }
    expect(serial).toMatch(/LEASE ip=10\.0\.2\.15 router=10\.0\.2\.2 dns=10\.0\.2\.3/);
    expect(serial).toMatch(/RESOLVED 10\.0\.2\.2/);
    expect(serial).toMatch(new RegExp(`DOWNLOAD ${createHash('sha256').update(PAYLOAD).digest('hex')}`));
    expect(consoleErrors).toEqual([]);
  }, 300_000);
});
