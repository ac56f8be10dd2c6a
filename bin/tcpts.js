#!/usr/bin/env node
// The `tcpts` command. In a clone (the TypeScript sources beside this file, dev dependencies installed)
// it runs the sources through tsx, so `npx tcpts` works right after `npm install` with no build step;
// an installed package carries only the compiled `dist/` and runs that.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
const built = new URL('../dist/cli/main.js', import.meta.url);

async function typeScriptLoader() {
  try {
    return await import('tsx/esm/api');
  } catch {
    return undefined;
  }
}

const tsx = existsSync(source) ? await typeScriptLoader() : undefined;
if (tsx) {
  tsx.register();
  await import(source.href);
} else if (existsSync(built)) {
  await import(built.href);
} else {
  process.stderr.write(
    'tcpts: neither the sources with tsx (run npm install) nor a build (npm run build) found\n',
  );
  process.exitCode = 1;
}
