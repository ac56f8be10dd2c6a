/**
 * Test payloads for transfers against the kernel: files of pseudo-random bytes (an AES-256-CTR key
 * stream, fast and without any period a transfer bug could hide in), with their SHA-256.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CHUNK = 1024 * 1024;

export interface TestFile {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

/** Writes `size` bytes derived from `seed` to `path`; returns the file's SHA-256. */
export function writeTestFile(path: string, size: number, seed: string): TestFile {
  const key = createHash('sha256').update(`key/${seed}`).digest();
  const iv = createHash('sha256').update(`iv/${seed}`).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  const zeros = Buffer.alloc(CHUNK);
  const hash = createHash('sha256');
  const fd = openSync(path, 'w');
  try {
    for (let written = 0; written < size; ) {
      const n = Math.min(CHUNK, size - written);
      const block = cipher.update(zeros.subarray(0, n));
      hash.update(block);
      writeSync(fd, block);
      written += n;
    }
  } finally {
    closeSync(fd);
  }
  return { path, size, sha256: hash.digest('hex') };
}

/** A temporary directory, removed with everything in it by `remove()`. */
export class TempDirectory {
  readonly path = mkdtempSync(join(tmpdir(), 'tcpts-interop-'));

  file(name: string): string {
    return join(this.path, name);
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

/** The first hex word of `sha256sum` output. */
export function sha256sumOutput(stdout: string): string {
  return stdout.trim().split(/\s+/)[0] ?? '';
}
