/**
 * The stack that tcpts's stand-ins for Node's built-in `net` and `dgram` (net.ts, dgram.ts) run on.
 *
 * A program written for Node imports `node:net`; a bundler alias or the `--import tcpts/node/register`
 * loader hands it tcpts's `net` instead, bound to this stack. Configure it before the program's modules
 * load (the register entry does, from TCPTS_STACK_MODULE); without configuration it is a real-time stack
 * with its loopback interface only (createRealTimeStack), so `127.0.0.1` and 'localhost' work at once.
 */
import dns from 'node:dns';
import Module from 'node:module';
import type { Stack } from '../../stack.js';
import { createDgramApi, type DgramApi, type DgramApiOptions } from '../dgram/dgram-api.js';
import type { LookupFunction } from '../host-names.js';
import { createNetApi, type NetApi } from '../net/net-api.js';
import type { NetApiOptions } from '../net/net-context.js';
import { createRealTimeStack } from '../real-time-stack-node.js';

export interface NodeModulesConfig {
  /** The stack the modules use. Default: a real-time stack with loopback only. */
  stack?: Stack;
  /** Options of the `net` module (host table, lookup, TCP settings). */
  net?: NetApiOptions;
  /** Options of the `dgram` module. */
  dgram?: DgramApiOptions;
}

interface Configured {
  config: NodeModulesConfig;
  stack?: Stack;
  net?: NetApi;
  dgram?: DgramApi;
}

/** Kept on globalThis, so that two copies of this module (a bundle and the register entry) agree. */
const KEY = Symbol.for('tcpts.node-builtins');

function state(): Configured {
  const holder = globalThis as unknown as Record<symbol, Configured | undefined>;
  let current = holder[KEY];
  if (current === undefined) {
    current = { config: {} };
    holder[KEY] = current;
  }
  return current;
}

/**
 * Sets the stack (and module options) the stand-in modules use. Must run before they are first
 * imported: once a program holds `net`, its functions stay bound to the stack they were made for.
 */
export function configureNodeModules(config: NodeModulesConfig): void {
  const current = state();
  if (current.net !== undefined || current.dgram !== undefined) {
    throw Object.assign(
      new Error('tcpts: the net/dgram stand-ins are already in use; configure them first'),
      {
        code: 'ERR_INVALID_STATE',
      },
    );
  }
  current.config = config;
  current.stack = config.stack;
}

/** The configured stack (created on first use when none was configured). */
export function configuredStack(): Stack {
  const current = state();
  current.stack ??= createRealTimeStack();
  return current.stack;
}

const builtinDnsLookup = dns.lookup;

/**
 * `dns.lookup` when the program replaced it, else undefined: the stack's names answer. Node's dgram
 * resolves through whatever `dns.lookup` is when a socket is made (literals included), Node's net
 * through whatever it is at each connect() to a name and listen() with a host.
 */
function replacedDnsLookup(): LookupFunction | undefined {
  const current = dns.lookup;
  return current === builtinDnsLookup ? undefined : (current as unknown as LookupFunction);
}

/** The `net` module of the configured stack. */
export function configuredNet(): NetApi {
  const current = state();
  current.net ??= createNetApi(configuredStack(), { socketLookup: replacedDnsLookup, ...current.config.net });
  return current.net;
}

/** The `dgram` module of the configured stack. */
export function configuredDgram(): DgramApi {
  const current = state();
  current.dgram ??= createDgramApi(configuredStack(), {
    socketLookup: replacedDnsLookup,
    ...current.config.dgram,
  });
  return current.dgram;
}

/** The built-in `net` members Node's own `http` reads when it loads (its Agent's and its Server's). */
const HTTP_NET_MEMBERS = ['connect', 'createConnection', 'createServer', 'Server'] as const;

/**
 * Points the built-in `net` module's `connect`, `createConnection`, `createServer` and `Server` at the
 * configured stack's, so Node's own `http`, when it loads after this call (Node loads it on first use),
 * serves and fetches over tcpts. `Socket` stays Node's in the built-in module: Node makes stdio and
 * child-process pipes from it around libuv handles. TLS (`tls`, `https`) stays on the kernel.
 */
export function swapBuiltinNet(): void {
  // http reads `net.Server.prototype` at call time but took it as its base class when it loaded: a swap
  // after that would mix the two. Node lists the built-ins it has loaded in process.moduleLoadList.
  const loaded = (process as unknown as { moduleLoadList?: string[] }).moduleLoadList ?? [];
  if (loaded.some((name) => /^NativeModule _http_(agent|server)$/.test(name))) {
    throw Object.assign(
      new Error(
        'tcpts: node:http was loaded before swapBuiltinNet(); swap first (an --import module, or the first import of a CommonJS bundle)',
      ),
      { code: 'ERR_INVALID_STATE' },
    );
  }
  // Not `import ... from 'node:net'`: a bundler alias for 'node:net' must not turn this into tcpts's own.
  // Any absolute anchor will do for a built-in (import.meta is empty in a CommonJS bundle).
  const builtin = Module.createRequire(`${process.cwd()}/`)('node:net') as Record<string, unknown>;
  const net = configuredNet() as unknown as Record<string, unknown>;
  for (const name of HTTP_NET_MEMBERS) builtin[name] = net[name];
}
