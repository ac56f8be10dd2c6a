/**
 * The stack that tcpts's stand-ins for Node's built-in `net` and `dgram` (net.ts, dgram.ts) run on.
 *
 * A program written for Node imports `node:net`; a bundler alias or the `--import tcpts/node/register`
 * loader hands it tcpts's `net` instead, bound to this stack. Configure it before the program's modules
 * load (the register entry does, from TCPTS_STACK_MODULE); without configuration it is a real-time stack
 * with its loopback interface only (createRealTimeStack), so `127.0.0.1` and 'localhost' work at once.
 */
import type { Stack } from '../../stack.js';
import { createDgramApi, type DgramApi, type DgramApiOptions } from '../dgram/dgram-api.js';
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

/** The `net` module of the configured stack. */
export function configuredNet(): NetApi {
  const current = state();
  current.net ??= createNetApi(configuredStack(), current.config.net);
  return current.net;
}

/** The `dgram` module of the configured stack. */
export function configuredDgram(): DgramApi {
  const current = state();
  current.dgram ??= createDgramApi(configuredStack(), current.config.dgram);
  return current.dgram;
}
