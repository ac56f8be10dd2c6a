/**
 * Handle semantics on a real-time stack: a child process running a small program exits when Node's
 * would (everything closed or unref'd) and stays alive when Node's would. Each program runs twice, once
 * with Node's own `net`/`dgram` on the kernel's loopback and once with a tcpts real-time stack's, and the
 * two must agree with each other and with the expectation.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, expect, test } from 'vitest';

const directory = mkdtempSync(join(tmpdir(), 'tcpts-exit-'));
/** tcpts's Node entry bundled once, so each child starts as fast as a plain Node program. */
const ENTRY = pathToFileURL(join(directory, 'tcpts-node.mjs')).href;
beforeAll(async () => {
  await build({
    entryPoints: [resolve('src/api/sockets-node.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: join(directory, 'tcpts-node.mjs'),
    logLevel: 'silent',
  });
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** How long after its start a program that should stay alive is watched before it is judged alive. */
const ALIVE_WINDOW_MS = 2000;
/** Programs run at once (each is a Node process compiling TypeScript: the machine has 2 cores). */
const CONCURRENCY = 8;

interface ExitCase {
  name: string;
  /** The program body: `net` and `dgram` are in scope; it prints nothing it relies on. */
  body: string;
  exits: boolean;
}

const cases: ExitCase[] = [
  { name: 'nothing open', body: '', exits: true },
  { name: 'a listening server', body: `net.createServer().listen(0, '127.0.0.1');`, exits: false },
  {
    name: 'a listening server, unref()',
    body: `net.createServer().listen(0, '127.0.0.1').unref();`,
    exits: true,
  },
  {
    name: 'unref() before listen(), applied once listening',
    body: `const s = net.createServer(); s.unref(); s.listen(0, '127.0.0.1');`,
    exits: true,
  },
  {
    name: 'unref() then ref()',
    body: `net.createServer().listen(0, '127.0.0.1').unref().ref();`,
    exits: false,
  },
  {
    name: 'a server closed once listening',
    body: `const s = net.createServer().listen(0, '127.0.0.1', () => s.close());`,
    exits: true,
  },
  {
    name: 'a connected pair, both ends open (server unref’d)',
    body: `const s = net.createServer(() => {}).listen(0, '127.0.0.1', () => {
      s.unref();
      net.connect(s.address().port, '127.0.0.1');
    });`,
    exits: false,
  },
  {
    name: 'a connected pair, both sockets unref’d',
    body: `const s = net.createServer((c) => c.unref()).listen(0, '127.0.0.1', () => {
      s.unref();
      net.connect(s.address().port, '127.0.0.1').unref();
    });`,
    exits: true,
  },
  {
    name: 'a listening server whose _handle was unref’d',
    body: `const s = net.createServer().listen(0, '127.0.0.1', () => s._handle.unref());`,
    exits: true,
  },
  {
    name: 'a connected pair held by the client only, whose _handle is unref’d then ref’d',
    body: `const s = net.createServer((c) => c.unref()).listen(0, '127.0.0.1', () => {
      s.unref();
      const c = net.connect(s.address().port, '127.0.0.1');
      c.on('connect', () => { c._handle.unref(); c._handle.ref(); });
    });`,
    exits: false,
  },
  {
    name: 'a connected pair whose client _handle was closed ("read EINVAL"; the server’s end sees the FIN)',
    body: `const s = net.createServer((c) => { c.resume(); c.on('end', () => s.close()); }).listen(0, '127.0.0.1', () => {
      const c = net.connect(s.address().port, '127.0.0.1');
      c.on('error', (e) => { if (e.message !== 'read EINVAL') throw e; });
      c.on('connect', () => c._handle.close());
    });`,
    exits: true,
  },
  {
    name: 'a request and reply, then everything closed',
    body: `const s = net.createServer((c) => c.end('bye')).listen(0, '127.0.0.1', () => {
      const c = net.connect(s.address().port, '127.0.0.1');
      c.resume();
      c.on('end', () => s.close());
    });`,
    exits: true,
  },
  {
    name: 'a connection attempt to a closed port',
    body: `net.connect(9, '127.0.0.1').on('error', () => {});`,
    exits: true,
  },
  {
    name: 'a socket timeout alone does not hold the process',
    body: `const s = net.createServer((c) => c.unref()).listen(0, '127.0.0.1', () => {
      s.unref();
      const c = net.connect(s.address().port, '127.0.0.1');
      c.setTimeout(60000);
      c.unref();
    });`,
    exits: true,
  },
  {
    name: 'a socket that read its peer’s FIN and has written everything (libuv’s handle is idle)',
    body: `const s = net.createServer((c) => { s.close(); c.end(); }).listen(0, '127.0.0.1', () => {
      const c = net.connect(s.address().port, '127.0.0.1');
      c.on('end', () => c.write('after the peer ended'));
    });`,
    exits: true,
  },
  {
    name: 'a socket half-open after the peer’s FIN, still reading (allowHalfOpen, nothing received yet)',
    body: `const s = net.createServer({ allowHalfOpen: true }, (c) => { s.close(); }).listen(0, '127.0.0.1', () => {
      const c = net.connect({ port: s.address().port, host: '127.0.0.1', allowHalfOpen: true });
      c.on('connect', () => c.end());
    });`,
    exits: false,
  },
  {
    name: 'a connected socket paused before it read anything (its handle never starts reading)',
    body: `net.createServer((c) => c.unref()).listen(0, '127.0.0.1', function () {
      this.unref();
      net.connect(this.address().port, '127.0.0.1').pause();
    });`,
    exits: true,
  },
  {
    name: 'a connected socket with a data listener (reading)',
    body: `net.createServer((c) => c.unref()).listen(0, '127.0.0.1', function () {
      this.unref();
      net.connect(this.address().port, '127.0.0.1').on('data', () => {});
    });`,
    exits: false,
  },
  {
    name: 'a server with pauseOnConnect: the accepted socket does not hold (the client does)',
    body: `net.createServer({ pauseOnConnect: true }, () => {}).listen(0, '127.0.0.1', function () {
      this.unref();
      net.connect(this.address().port, '127.0.0.1').unref();
    });`,
    exits: true,
  },
  {
    name: 'a connect whose custom lookup never answers (only a lookup would hold)',
    body: `net.connect({ port: 80, host: 'nowhere.test', lookup: () => {} });`,
    exits: true,
  },
  {
    name: 'a connect that fails its argument check (no handle is left behind)',
    body: `try { net.connect({ port: 80, autoSelectFamily: 'yes' }); } catch {}`,
    exits: true,
  },
  {
    name: 'a connected dgram socket',
    body: `const d = dgram.createSocket('udp4'); d.connect(9, '127.0.0.1');`,
    exits: false,
  },
  {
    name: 'a connected dgram socket, unref()',
    body: `const d = dgram.createSocket('udp4'); d.connect(9, '127.0.0.1'); d.unref();`,
    exits: true,
  },
  { name: 'a bound dgram socket', body: `dgram.createSocket('udp4').bind(0, '127.0.0.1');`, exits: false },
  {
    name: 'a bound dgram socket, unref()',
    body: `dgram.createSocket('udp4').bind(0, '127.0.0.1').unref();`,
    exits: true,
  },
  {
    name: 'a dgram socket closed once bound',
    body: `const d = dgram.createSocket('udp4'); d.bind(0, '127.0.0.1', () => d.close());`,
    exits: true,
  },
  {
    name: 'an unbound dgram socket',
    body: `dgram.createSocket('udp4');`,
    exits: true,
  },
];

function program(body: string, implementation: 'node' | 'tcpts'): string {
  const modules =
    implementation === 'node'
      ? `import * as net from 'node:net';\nimport * as dgram from 'node:dgram';`
      : `import { createRealTimeStack } from '${ENTRY}';\nconst stack = createRealTimeStack();\nconst net = stack.net;\nconst dgram = stack.dgram;`;
  return `${modules}\n${body}\nprocess.stdout.write('started');\n`;
}

/** Runs a program; resolves 'exited' (with its code) or 'alive' once the window passed (then kills it). */
function run(file: string): Promise<{ outcome: 'exited' | 'alive'; code: number | null; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    let alive = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // The window opens once the program's own code has run (module loading takes a while here).
    child.stdout.once('data', () => {
      timer = setTimeout(() => {
        alive = true;
        child.kill('SIGKILL');
      }, ALIVE_WINDOW_MS);
    });
    child.on('exit', (code) => {
      if (timer !== undefined) clearTimeout(timer);
      resolvePromise({ outcome: alive ? 'alive' : 'exited', code, stderr });
    });
  });
}

test('a program on a real-time stack exits when Node’s would and stays alive when Node’s would', async () => {
  const jobs = cases.flatMap((c, index) =>
    (['node', 'tcpts'] as const).map((implementation) => async () => {
      const file = join(directory, `case-${index}-${implementation}.mjs`);
      writeFileSync(file, program(c.body, implementation));
      const result = await run(file);
      return { name: c.name, implementation, expected: c.exits ? 'exited' : 'alive', ...result };
    }),
  );
  const results: Array<Awaited<ReturnType<(typeof jobs)[number]>>> = [];
  const workers = Array.from({ length: CONCURRENCY }, async () => {
    for (let job = jobs.shift(); job !== undefined; job = jobs.shift()) results.push(await job());
  });
  await Promise.all(workers);
  const mismatches = results
    .filter((r) => r.outcome !== r.expected || (r.outcome === 'exited' && r.code !== 0))
    .map((r) => `${r.implementation}: ${r.name}: ${r.outcome} (code ${r.code}) ${r.stderr.slice(0, 300)}`);
  expect(mismatches).toEqual([]);
}, 60_000);
