/**
 * Run an unmodified Node program over a tcpts stack:
 *
 *   node --import tcpts/node/register app.js
 *   TCPTS_STACK_MODULE=./my-stack.mjs node --import tcpts/node/register app.js
 *
 * Loaded before the program, this entry
 * 1. configures the stack the stand-in modules use: the default export of the module named by
 *    TCPTS_STACK_MODULE (a Stack, a NodeModulesConfig, or a function returning either, possibly async),
 *    else a real-time stack with loopback only;
 * 2. registers resolution hooks so `import ... from 'node:net'` (and 'net', 'dgram', 'node:dgram') in
 *    ES modules gets tcpts's modules;
 * 3. makes `require('net')` and the others in CommonJS modules return the same stand-ins.
 *
 * 4. points the built-in `net` module's `connect`, `createConnection`, `createServer` and `Server` at the
 *    stack, so Node's own `http` (loaded after this entry, as it is on first use) runs over it as well.
 *    TLS (`tls`, `https`) stays on the kernel: it builds on Node's own Socket class and libuv handles.
 */
import Module, { register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Stack } from '../../stack.js';
import { configureNodeModules, type NodeModulesConfig, swapBuiltinNet } from './configured-stack.js';

async function loadConfiguration(): Promise<void> {
  const location = process.env.TCPTS_STACK_MODULE;
  if (location === undefined || location === '') return;
  const url = /^[a-z]+:/i.test(location) ? location : pathToFileURL(location).href;
  const loaded = (await import(url)) as { default?: unknown };
  let value = loaded.default;
  if (typeof value === 'function') value = await (value as () => unknown)();
  if (isStack(value)) configureNodeModules({ stack: value });
  else if (value !== null && typeof value === 'object') configureNodeModules(value as NodeModulesConfig);
  else {
    throw Object.assign(
      new Error(`TCPTS_STACK_MODULE ${location}: its default export is not a Stack or a configuration`),
      {
        code: 'ERR_INVALID_ARG_VALUE',
      },
    );
  }
}

/** A Stack, possibly from another copy of tcpts (a bundle of the application's own). */
function isStack(value: unknown): value is Stack {
  if (value instanceof Stack) return true;
  const candidate = value as Partial<Stack> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.addInterface === 'function' &&
    typeof candidate.clock?.setTimer === 'function'
  );
}

await loadConfiguration();

register(new URL('./hooks.js', import.meta.url));

const net = await import('./net.js');
const dgram = await import('./dgram.js');
const STAND_INS: Readonly<Record<string, unknown>> = { net, 'node:net': net, dgram, 'node:dgram': dgram };

// Node's own http, loaded after this (on first use), takes its connections and its Server from the stack.
swapBuiltinNet();

// CommonJS: Module._load is what `require` calls; builtins are answered before any file lookup.
const loader = Module as unknown as { _load: (request: string, parent: unknown, isMain: boolean) => unknown };
const load = loader._load;
loader._load = function loadWithStandIns(request: string, parent: unknown, isMain: boolean): unknown {
  const standIn = STAND_INS[request];
  return standIn !== undefined ? standIn : load.call(this, request, parent, isMain);
};
