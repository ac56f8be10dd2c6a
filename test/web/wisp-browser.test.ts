/**
 * tcpts in a real browser (Debian's chromium, driven by playwright-core) reaching the host through WISP:
 * the page runs a guest stack and its gateway, whose upstream is tcpts's WISP client on the page's own
 * WebSocket to `tcpts wisp` (run as a user would, a child process). The guest downloads 1 MiB from an HTTP
 * server on the host's 127.0.0.1 (sha256-exact), and a stream the page hands to the gateway reaches a
 * server on the guest (inbound forwarding).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAllPrograms, Program } from '../interop/helpers/program.js';

const CHROMIUM = '/usr/bin/chromium';
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));
const skipReason = existsSync(CHROMIUM)
  ? undefined
  : `${CHROMIUM} is not installed (Debian package "chromium"; .ci/run installs it)`;
if (skipReason) console.log(`WISP browser test skipped: ${skipReason}`);

const PAYLOAD = Buffer.alloc(1 << 20);
for (let i = 0; i < PAYLOAD.length; i++) PAYLOAD[i] = (i * 29 + (i >>> 12)) & 0xff;

describe.skipIf(skipReason !== undefined)('tcpts with WISP in Chromium', () => {
  let wisp: Program;
  let wispUrl: string;
  let server: http.Server;
  let port: number;
  let browser: BrowserContext;
  let profile: string;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    const esbuild = await import('esbuild');
    const bundle = await esbuild.build({
      entryPoints: [fileURLToPath(new URL('./pages/wisp-page.ts', import.meta.url))],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      logLevel: 'silent',
    });
    const script = bundle.outputFiles[0]!.contents;
    server = http.createServer((request, response) => {
      if (request.url === '/') {
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        response.end(
          '<!doctype html><title>tcpts wisp</title><body><script type="module" src="/page.js"></script>',
        );
      } else if (request.url === '/page.js') {
        response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
        response.end(script);
      } else if (request.url === '/payload') {
        response.writeHead(200, { 'content-length': String(PAYLOAD.length) });
        response.end(PAYLOAD);
      } else if (request.url === '/favicon.ico') {
        response.writeHead(204).end();
      } else {
        response.writeHead(404).end();
      }
    });
    await new Promise<void>((d) => server.listen(0, '127.0.0.1', () => d()));
    port = (server.address() as AddressInfo).port;
    wisp = new Program(
      process.execPath,
      ['--import', 'tsx', MAIN, 'wisp', '--port', '0', '--allow', '127.0.0.0/8'],
      {
        cwd: REPOSITORY,
      },
    );
    await wisp.waitFor(/wisp server listening on ws:\/\/127\.0\.0\.1:\d+\//, 30_000);
    wispUrl = /(ws:\/\/127\.0\.0\.1:\d+\/)/.exec(wisp.stderr)![1]!;
    const { chromium } = await import('playwright-core');
    profile = mkdtempSync(join(tmpdir(), 'tcpts-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
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
    page = await browser.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForSelector('body[data-ready=yes]', { state: 'attached', timeout: 20_000 });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    wisp?.kill('SIGTERM');
    killAllPrograms();
    server?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('downloads 1 MiB from the host loopback through the page gateway and tcpts wisp, sha256-exact', async () => {
    const result = await page.evaluate(
      ([url, p]) =>
        (
          window as unknown as {
            tcptsWisp: { fetchThroughGateway(u: string, p: number, path: string): Promise<unknown> };
          }
        ).tcptsWisp.fetchThroughGateway(url, p, '/payload'),
      [wispUrl, port] as const,
    );
    expect(result).toEqual({
      status: 'HTTP/1.1 200 OK',
      length: PAYLOAD.length,
      sha256: createHash('sha256').update(PAYLOAD).digest('hex'),
      wispVersion: 2,
    });
    expect(consoleErrors).toEqual([]);
  }, 60_000);

  it('serves an inbound connection: a stream from the page reaches the guest server', async () => {
    const reply = await page.evaluate(
      (url) =>
        (
          window as unknown as { tcptsWisp: { inbound(u: string, m: string): Promise<string> } }
        ).tcptsWisp.inbound(url, 'hello guest'),
      wispUrl,
    );
    expect(reply).toBe('HELLO GUEST (from 10.0.2.2)');
    expect(consoleErrors).toEqual([]);
  }, 60_000);
});
