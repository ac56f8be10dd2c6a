/**
 * The web lab's sources, without a browser: they typecheck against the DOM alone (no Node types, so no
 * `process` or `Buffer` can hide in anything the page imports), and `tcpts lab --build DIR` writes the
 * static site.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTcpts, temporaryDirectory } from '../cli/run-tcpts.js';

describe('the web lab sources', () => {
  it('typecheck with the DOM library and without Node types (web/tsconfig.json)', () => {
    const tsc = join(process.cwd(), 'node_modules', '.bin', 'tsc');
    const result = spawnSync(tsc, ['-p', join('web', 'tsconfig.json')], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('build into a static site with tcpts lab --build DIR', async () => {
    const temp = temporaryDirectory('lab-build');
    try {
      const run = await runTcpts(['lab', '--build', 'site'], { cwd: temp.dir });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toBe('The lab is in ./site: serve that directory and open index.html.\n');
      const dir = join(temp.dir, 'site');
      expect(readdirSync(dir).sort()).toEqual(['index.html', 'lab.css', 'lab.js', 'lab.js.map']);
      const html = readFileSync(join(dir, 'index.html'), 'utf8');
      expect(html).toContain('<script type="module" src="lab.js"></script>');
      const js = readFileSync(join(dir, 'lab.js'), 'utf8');
      expect(js).toContain('sourceMappingURL=lab.js.map');
      expect(js).not.toMatch(/from ?["']node:|require\(["']node:/);
    } finally {
      temp.remove();
    }
  });

  it('refuses to serve and build at once', async () => {
    const run = await runTcpts(['lab', '--build', 'x', '--port', '1234']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('tcpts lab: --build writes files; it does not serve (drop --port/--host)');
  });
});
