/**
 * `node --import tcpts/node/register app` runs an unmodified Node program over a tcpts stack: the same
 * program (an ES module importing 'node:net' and 'dgram', and a CommonJS one requiring 'net' and
 * 'node:dgram') runs in a child process once on Node's own modules and once with the register entry,
 * prints the same, exits by itself both times (everything closed), and the tcpts run shows its traffic
 * in the configured stack's counters.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, expect, test } from 'vitest';

const root = mkdtempSync(join(tmpdir(), 'tcpts-standin-'));
const tree = join(root, 'tcpts');
const app = join(root, 'app');

beforeAll(async () => {
  // The package's layout in miniature: the stand-ins under api/node-builtins, sharing one copy of tcpts.
  await build({
    entryPoints: {
      'api/node-builtins/register': resolve('src/api/node-builtins/register.ts'),
      'api/node-builtins/hooks': resolve('src/api/node-builtins/hooks.ts'),
      'api/node-builtins/net': resolve('src/api/node-builtins/net.ts'),
      'api/node-builtins/dgram': resolve('src/api/node-builtins/dgram.ts'),
      node: resolve('src/api/sockets-node.ts'),
    },
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    outdir: tree,
    logLevel: 'silent',
  });
  mkdirSync(app);
  writeFileSync(
    join(app, 'stack.mjs'),
    `import { createRealTimeStack } from '../tcpts/node.js';
const stack = createRealTimeStack({ name: 'app' });
process.on('exit', () => {
  const tcp = stack.tcp.counters;
  process.stderr.write(JSON.stringify({ activeOpens: tcp.activeOpens, passiveOpens: tcp.passiveOpens }));
});
export default stack;
`,
  );
}, 60_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const BODY = `
const server = net.createServer((socket) => socket.pipe(socket));
server.listen(0, '127.0.0.1', () => {
  const client = net.connect(server.address().port, 'localhost', () => client.end('hello over tcp'));
  let reply = '';
  client.on('data', (data) => { reply += data; });
  client.on('close', () => {
    console.log('tcp:', reply, client instanceof net.Socket);
    server.close();
    const udp = dgram.createSocket('udp4');
    const echo = dgram.createSocket('udp4', (msg, rinfo) => echo.send(msg, rinfo.port, rinfo.address));
    echo.bind(0, '127.0.0.1', () => {
      udp.on('message', (msg) => {
        console.log('udp:', String(msg));
        udp.close();
        echo.close();
      });
      udp.send('hello over udp', echo.address().port, '127.0.0.1');
    });
  });
});
`;

const PROGRAMS = {
  'esm.mjs': `import net from 'node:net';\nimport * as dgram from 'dgram';\n${BODY}`,
  'cjs.cjs': `const net = require('net');\nconst dgram = require('node:dgram');\n${BODY}`,
};

/** Node's own http, unmodified, over the swapped `net`: a server and a client request. */
const HTTP_PROGRAM = `import http from 'node:http';
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', () => res.end(\`\${req.method} \${req.url} \${body}\`));
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const request = http.request({ host: '127.0.0.1', port, path: '/echo', method: 'POST' }, (res) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (chunk) => { text += chunk; });
    res.on('end', () => {
      console.log(res.statusCode, text, res.headers['content-length']);
      server.close();
    });
  });
  request.end('hello over http');
});
`;

function run(file: string, withTcpts: boolean) {
  const args = withTcpts ? ['--import', join(tree, 'api/node-builtins/register.js'), file] : [file];
  return spawnSync(process.execPath, args, {
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, TCPTS_STACK_MODULE: join(app, 'stack.mjs') },
  });
}

for (const [name, source] of Object.entries(PROGRAMS)) {
  test(`an unmodified ${name.endsWith('.mjs') ? 'ES module' : 'CommonJS'} program runs over tcpts as over Node`, () => {
    const file = join(app, name);
    writeFileSync(file, source);
    const node = run(file, false);
    expect([node.status, node.stdout]).toEqual([0, 'tcp: hello over tcp true\nudp: hello over udp\n']);
    const tcpts = run(file, true);
    expect([tcpts.status, tcpts.stdout]).toEqual([0, node.stdout]);
    // 'localhost' is ::1 then 127.0.0.1 on tcpts (as on a host whose /etc/hosts names both): the server
    // listens on 127.0.0.1 only, so the ::1 attempt is refused before the IPv4 one connects.
    expect(JSON.parse(tcpts.stderr)).toEqual({ activeOpens: 2, passiveOpens: 1 });
  }, 60_000);
}

test('an unmodified node:http server and client run over tcpts through the register entry', () => {
  const file = join(app, 'http.mjs');
  writeFileSync(file, HTTP_PROGRAM);
  const node = run(file, false);
  expect([node.status, node.stdout]).toEqual([0, '200 POST /echo hello over http 26\n']);
  const tcpts = run(file, true);
  expect([tcpts.status, tcpts.stdout, tcpts.stderr.slice(0, 200)]).toEqual([
    0,
    node.stdout,
    expect.any(String),
  ]);
  // The request went over the stack's TCP, not the kernel's.
  expect(JSON.parse(tcpts.stderr)).toEqual({ activeOpens: 1, passiveOpens: 1 });
}, 60_000);

/** A program that replaces dns.lookup: Node's dgram resolves every address through the replacement. */
const DNS_LOOKUP_PROGRAM = `const dgram = require('dgram');
const dns = require('dns');
const original = dns.lookup;
const seen = [];
dns.lookup = (host, family, callback) => {
  seen.push(host + '/' + family);
  original(host, family, callback);
};
const socket = dgram.createSocket('udp4');
socket.bind(0, '127.0.0.1', () => {
  socket.on('message', (msg, rinfo) => {
    console.log(String(msg), rinfo.address, seen.join(' '));
    socket.close();
  });
  socket.send('over udp', socket.address().port, 'localhost');
});
`;

/** The same for net: a listen() with a host and a connect() to a name go through the replacement. */
const NET_DNS_LOOKUP_PROGRAM = `const net = require('net');
const dns = require('dns');
const original = dns.lookup;
const seen = [];
dns.lookup = (host, options, callback) => {
  seen.push(host + ' ' + (typeof options === 'function' ? 'no options' : JSON.stringify(options)));
  original(host, options, callback);
};
const server = net.createServer((socket) => socket.end('over tcp'));
server.listen(0, 'localhost', () => {
  const client = net.connect(server.address().port, 'localhost');
  let reply = '';
  client.on('data', (data) => { reply += data; });
  client.on('end', () => {
    console.log(reply, client.remoteAddress, seen.join(', '));
    server.close();
  });
});
`;

test("net's connect() and listen() go through dns.lookup as the program left it", () => {
  const file = join(app, 'net-dns-lookup.cjs');
  writeFileSync(file, NET_DNS_LOOKUP_PROGRAM);
  const node = run(file, false);
  expect([node.status, node.stdout]).toEqual([
    0,
    'over tcp 127.0.0.1 localhost no options, localhost {"hints":32,"all":true}\n',
  ]);
  const tcpts = run(file, true);
  expect([tcpts.status, tcpts.stdout]).toEqual([0, node.stdout]);
}, 60_000);

test("dgram's default lookup is dns.lookup as the program left it: a replacement sees Node's calls", () => {
  const file = join(app, 'dns-lookup.cjs');
  writeFileSync(file, DNS_LOOKUP_PROGRAM);
  const node = run(file, false);
  expect([node.status, node.stdout]).toEqual([0, 'over udp 127.0.0.1 127.0.0.1/4 localhost/4\n']);
  const tcpts = run(file, true);
  expect([tcpts.status, tcpts.stdout]).toEqual([0, node.stdout]);
}, 60_000);

/**
 * The bundler recipe: alias the built-ins to the stand-ins and import a setup module first that
 * configures the stack and swaps the built-in `net` for Node's own http. In a CommonJS bundle the setup
 * runs before http loads; in an ES module bundle http's import is hoisted above it, which the swap
 * detects and refuses (ERR_INVALID_STATE) rather than mix two `net`s.
 */
test('a bundle with the built-ins aliased runs the unmodified http program over tcpts', async () => {
  const bundleDirectory = join(root, 'bundle');
  mkdirSync(bundleDirectory, { recursive: true });
  writeFileSync(join(bundleDirectory, 'app.mjs'), HTTP_PROGRAM);
  writeFileSync(
    join(bundleDirectory, 'setup.mjs'),
    `import { configureNodeModules, createRealTimeStack, swapBuiltinNet } from ${JSON.stringify(resolve('src/api/sockets-node.ts'))};
const stack = createRealTimeStack({ name: 'bundled' });
configureNodeModules({ stack });
swapBuiltinNet();
process.on('exit', () => process.stderr.write(JSON.stringify({ activeOpens: stack.tcp.counters.activeOpens })));
`,
  );
  writeFileSync(join(bundleDirectory, 'main.mjs'), `import './setup.mjs';\nimport './app.mjs';\n`);
  const standIns = resolve('src/api/node-builtins');
  const alias = {
    net: join(standIns, 'net.ts'),
    'node:net': join(standIns, 'net.ts'),
    dgram: join(standIns, 'dgram.ts'),
    'node:dgram': join(standIns, 'dgram.ts'),
  };
  for (const format of ['cjs', 'esm'] as const) {
    await build({
      entryPoints: [join(bundleDirectory, 'main.mjs')],
      bundle: true,
      platform: 'node',
      format,
      alias,
      outfile: join(bundleDirectory, `bundle.${format === 'cjs' ? 'cjs' : 'mjs'}`),
      logLevel: 'silent',
    });
  }
  const commonJs = spawnSync(process.execPath, [join(bundleDirectory, 'bundle.cjs')], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  expect([commonJs.status, commonJs.stdout, commonJs.stderr]).toEqual([
    0,
    '200 POST /echo hello over http 26\n',
    JSON.stringify({ activeOpens: 1 }),
  ]);
  const esModule = spawnSync(process.execPath, [join(bundleDirectory, 'bundle.mjs')], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  expect(esModule.status).toBe(1);
  expect(esModule.stderr).toContain('node:http was loaded before swapBuiltinNet()');
}, 60_000);
