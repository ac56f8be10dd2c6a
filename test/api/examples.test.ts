/**
 * The runnable examples (examples/*.ts) run as a user runs them, in a child process on a real clock, and
 * exit by themselves with the output they promise.
 */
import { spawnSync } from 'node:child_process';
import { expect, test } from 'vitest';

test('examples/real-time-echo.ts: loopback and a link between two real-time stacks, then exits', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'examples/real-time-echo.ts'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect([run.status, run.stdout]).toEqual([
    0,
    'loopback: hello over loopback\nlink: hello over a link (at least 3 round trips)\n',
  ]);
}, 40_000);
