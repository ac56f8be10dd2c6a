/**
 * Module resolution hooks (Node's `module.register`) that hand ES modules tcpts's `net` and `dgram` when
 * they import `net`, `node:net`, `dgram` or `node:dgram`. tcpts's own modules are left alone: its gateway
 * and link devices talk to the host through Node's real sockets.
 */

/** Where the stand-ins live, next to this file. */
const STAND_INS: Readonly<Record<string, string>> = {
  net: new URL('./net.js', import.meta.url).href,
  'node:net': new URL('./net.js', import.meta.url).href,
  dgram: new URL('./dgram.js', import.meta.url).href,
  'node:dgram': new URL('./dgram.js', import.meta.url).href,
};

/** tcpts's own tree (src/ or dist/): the directory above this file's folder's parent. */
const OWN_TREE = new URL('../../', import.meta.url).href;

interface ResolveContext {
  parentURL?: string;
}

type NextResolve = (specifier: string, context: ResolveContext) => unknown;

export function resolve(specifier: string, context: ResolveContext, nextResolve: NextResolve): unknown {
  const standIn = STAND_INS[specifier];
  if (standIn !== undefined && !(context.parentURL ?? '').startsWith(OWN_TREE)) {
    return nextResolve(standIn, context);
  }
  return nextResolve(specifier, context);
}
