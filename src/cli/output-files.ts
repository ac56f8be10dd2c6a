/**
 * Writing what a command produced (captures, reports) and naming it back to the user.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';

/** Writes `content` to `dir/name` (creating `dir`), returns the absolute path. */
export function writeOutputFile(dir: string, name: string, content: Uint8Array | string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** A path as the user would type it from `cwd`: './demo.pcap', 'out/demo.html', or absolute outside it. */
export function displayPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return path;
  return rel.includes('/') ? rel : `./${rel}`;
}

/** `dir` resolved against `cwd` (default: `cwd` itself). */
export function outputDirectory(dir: string | undefined, cwd: string): string {
  return resolve(cwd, dir ?? '.');
}
