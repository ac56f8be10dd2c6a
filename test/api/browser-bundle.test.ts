/**
 * The browser entry must bundle for a browser with no Node built-in anywhere in its import graph:
 * esbuild, platform 'browser', fails to resolve any 'node:*' or bare built-in module ('fs', 'stream',
 * 'events', ...), and the metafile is checked as well, so a built-in marked external by mistake would
 * still be caught; the bundle must not use Node-only globals (Buffer, process, setImmediate) either.
 */
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { expect, test } from 'vitest';

const entry = fileURLToPath(new URL('../../src/browser.ts', import.meta.url));
const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

test('src/browser.ts bundles for the browser without any Node built-in', async () => {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  expect(result.errors).toEqual([]);
  const imports = Object.values(result.metafile.inputs).flatMap((input) => input.imports.map((i) => i.path));
  expect(imports.filter((path) => builtins.has(path) || path.startsWith('node:'))).toEqual([]);
  const inputs = Object.keys(result.metafile.inputs);
  // The streams API and the stack are in; the Node socket modules are not.
  expect(inputs.some((path) => path.endsWith('src/api/streams/tcp-stream.ts'))).toBe(true);
  expect(inputs.some((path) => path.endsWith('src/stack.ts'))).toBe(true);
  expect(inputs.filter((path) => /src\/api\/(net|dgram)\/|-node\.ts$/.test(path))).toEqual([]);
  const code = result.outputFiles[0]!.text;
  expect(code).toContain('openTcpStream');
  // Nor any Node-only global a browser lacks.
  expect(code.match(/(?<![\w$.])(Buffer|process|setImmediate|require|__dirname)\b/g)).toBe(null);
});

test('the check catches a Node built-in (the net module does not bundle for the browser)', async () => {
  const failure = await build({
    entryPoints: [fileURLToPath(new URL('../../src/api/net/net-api.ts', import.meta.url))],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    logLevel: 'silent',
  }).then(
    () => undefined,
    (error: { errors: Array<{ text: string }> }) => error.errors.map((e) => e.text),
  );
  expect(failure).toBeDefined();
  expect(failure!.some((text) => /node:stream|node:events|node:os/.test(text))).toBe(true);
});
