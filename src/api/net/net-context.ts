/**
 * What every `net` object of one stack shares: the stack, its TCP layer and clock, how host names are
 * resolved, what holds the event loop, and the module-wide settings (`setDefaultAutoSelectFamily`...).
 */
import type { Stack } from '../../stack.js';
import type { TcpConfig } from '../../tcp/config.js';
import type { TcpLayer } from '../../tcp/tcp-layer.js';
import type { Clock } from '../../time/clock.js';
import type { EventLoopHolds } from '../event-loop-hold.js';
import type { HostTable, LookupFunction } from '../host-names.js';

export interface NetApiOptions {
  /** Host names the API resolves without a `lookup` function, e.g. `{ 'server.test': '10.0.0.2' }`. */
  hosts?: HostTable;
  /**
   * The resolver for names that are neither literals, 'localhost' nor in `hosts` (Node's `dns.lookup`
   * signature, including `{ all: true }` answers). Without one such names fail with ENOTFOUND.
   */
  lookup?: LookupFunction;
  /**
   * Asked at each connect() without a `lookup` option and at each listen() with a host: a function
   * answered here resolves instead of the stack's names (undefined: the stack's). Node's net calls
   * `dns.lookup` as it stands at that moment; the stand-in module (node-builtins) answers a program's
   * replacement of it.
   */
  socketLookup?: () => LookupFunction | undefined;
  /** TCP configuration overrides for every connection opened or accepted through this API. */
  tcp?: Partial<TcpConfig>;
}

/** The module-wide settings Node keeps in `net` (get/setDefaultAutoSelectFamily...). */
export interface NetDefaults {
  autoSelectFamily: boolean;
  autoSelectFamilyAttemptTimeout: number;
}

export interface NetContext {
  readonly stack: Stack;
  readonly tcp: TcpLayer;
  readonly clock: Clock;
  readonly options: NetApiOptions;
  /** The default `lookup` of sockets and servers: the stack's names, then `options.lookup`. */
  readonly lookup: LookupFunction;
  /** Handles that keep the process alive while sockets and servers are open and ref'd. */
  readonly holds: EventLoopHolds;
  readonly defaults: NetDefaults;
}

/**
 * Rethrows an application's exception outside the stack's call chain, as Node would surface an exception
 * thrown by an event listener: uncaught, instead of inside the TCP layer (which would count and swallow it).
 */
export function surface(error: unknown): void {
  process.nextTick(() => {
    throw error;
  });
}

/** Runs `body` (which emits events to application code) and surfaces whatever it throws. */
export function guarded(body: () => void): void {
  try {
    body();
  } catch (error) {
    surface(error);
  }
}
