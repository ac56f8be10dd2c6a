/**
 * The web lab as files: web/lab.ts bundled by esbuild for browsers (a Node built-in anywhere in its
 * imports fails the build, which is how the browser-safety of the core is enforced), plus the page and
 * its stylesheet. Served from memory on localhost, or written to a directory.
 *
 * esbuild is a development dependency: `tcpts lab` works from a clone (npm install), where web/ is.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { InputError } from './command-line.js';
import { writeOutputFile } from './output-files.js';

/** web/ of the repository: two levels up from src/cli (or dist/cli). */
export const WEB_DIRECTORY = fileURLToPath(new URL('../../web/', import.meta.url));

/** The lab's files by name (index.html, lab.js, lab.js.map, lab.css). */
export type LabSite = ReadonlyMap<string, Uint8Array>;

const STATIC_FILES = ['index.html', 'lab.css'];

export async function buildLabSite(webDirectory = WEB_DIRECTORY): Promise<LabSite> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    throw new InputError(
      'building the lab needs esbuild, a development dependency: run npm install in the tcpts clone',
    );
  }
  const site = new Map<string, Uint8Array>();
  for (const name of STATIC_FILES) {
    try {
      site.set(name, readFileSync(`${webDirectory}${name}`));
    } catch {
      throw new InputError(
        `the lab's page is missing (${webDirectory}${name}): run tcpts lab from a tcpts clone`,
      );
    }
  }
  const result = await esbuild.build({
    entryPoints: [`${webDirectory}lab.ts`],
    bundle: true,
    write: false,
    outdir: '/lab',
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: 'linked',
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  for (const file of result.outputFiles) site.set(file.path.replace(/^.*\//, ''), file.contents);
  return site;
}

/** Writes the site into `dir`; returns the paths written. */
export function writeLabSite(site: LabSite, dir: string): string[] {
  return [...site].map(([name, content]) => writeOutputFile(dir, name, content));
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  map: 'application/json',
};

export interface LabServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves the site on `host:port` (port 0: any free one). */
export function serveLabSite(
  site: LabSite,
  options: { host?: string; port?: number } = {},
): Promise<LabServer> {
  const host = options.host ?? '127.0.0.1';
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const name = path === '/' ? 'index.html' : path.slice(1);
    const body = site.get(name);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (body === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`${name}: not found\n`);
      return;
    }
    response.writeHead(200, {
      'content-type': TYPES[name.replace(/^.*\./, '')] ?? 'application/octet-stream',
      'content-length': body.length,
      'cache-control': 'no-store',
    });
    response.end(request.method === 'HEAD' ? undefined : body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}
