/**
 * The validation cases (validation-cases.ts) against three implementations — Node's own `net`/`dgram`,
 * tcpts on virtual time (a simulated pair) and tcpts on a real-time stack — each call's outcome compared
 * with what the live Node gives for the same call: error class, `name`, `code`, message, and `errno` and
 * `syscall` for system errors. Node must throw for every case (so no case is vacuous).
 */
import * as nodeDgram from 'node:dgram';
import * as nodeNet from 'node:net';
import { describe, expect, test } from 'vitest';
import { createRealTimeStack } from '../../src/api/sockets-node.js';
import type { Stack } from '../../src/stack.js';
import { simPair } from './helpers/sim-pair.js';
import { ipTexts, type ValidationModules, validationCases } from './validation-cases.js';

interface Outcome {
  threw: boolean;
  kind?: string;
  name?: string;
  code?: unknown;
  message?: string;
  errno?: unknown;
  syscall?: unknown;
}

function kindOf(error: unknown): string {
  if (error instanceof RangeError) return 'RangeError';
  if (error instanceof TypeError) return 'TypeError';
  if (error instanceof Error) return 'Error';
  return typeof error;
}

function outcomeOf(
  call: (m: ValidationModules) => unknown,
  modules: Omit<ValidationModules, 'created'>,
): Outcome {
  const created: unknown[] = [];
  try {
    call({ ...modules, created });
    return { threw: false };
  } catch (error) {
    const e = error as Record<string, unknown>;
    return {
      threw: true,
      kind: kindOf(error),
      name: e.name as string,
      code: e.code,
      message: e.message as string,
      errno: e.errno,
      syscall: e.syscall,
    };
  } finally {
    for (const thing of created) close(thing);
  }
}

function close(thing: unknown): void {
  const t = thing as { destroy?: () => void; close?: () => void; on?: (e: string, f: () => void) => void };
  t.on?.('error', () => {});
  try {
    if (typeof t.destroy === 'function') t.destroy();
    else t.close?.();
  } catch {
    // already closed
  }
}

const nodeModules = { net: nodeNet, dgram: nodeDgram } as unknown as Omit<ValidationModules, 'created'>;

function modulesOf(stack: Stack): Omit<ValidationModules, 'created'> {
  return { net: stack.net, dgram: stack.dgram } as unknown as Omit<ValidationModules, 'created'>;
}

describe("Node's net and dgram (reference): every validation case throws", () => {
  for (const c of validationCases) {
    test(c.name, () => {
      expect(outcomeOf(c.call, nodeModules).threw).toBe(true);
    });
  }
});

for (const [title, makeStack] of [
  ['tcpts on virtual time', () => simPair().client],
  ['tcpts on a real-time stack', () => createRealTimeStack({ name: 'validation' })],
] as const) {
  describe(`${title}: the same error as Node for every validation case`, () => {
    const stack = makeStack();
    for (const c of validationCases) {
      test(c.name, () => {
        expect(outcomeOf(c.call, modulesOf(stack))).toEqual(outcomeOf(c.call, nodeModules));
      });
    }
    test('net.isIP, isIPv4 and isIPv6 answer as Node for every text', () => {
      const api = stack.net;
      for (const text of ipTexts) {
        expect([text, api.isIP(text), api.isIPv4(text), api.isIPv6(text)]).toEqual([
          text,
          nodeNet.isIP(text as string),
          nodeNet.isIPv4(text as string),
          nodeNet.isIPv6(text as string),
        ]);
      }
    });
  });
}
