/**
 * Runs in a child process so tests can observe what only a whole process shows: whether an open or closed
 * TAP device keeps Node alive, and what a process without CAP_NET_ADMIN is told.
 * Usage: node --import tsx tap-child.ts <scenario> <interface-name>; prints one line per observation.
 */

import { execFileSync } from 'node:child_process';
import { openTap, tapAvailability } from '../../../src/link/tap/index.js';

const [scenario, name] = process.argv.slice(2);

function report(line: string): void {
  process.stdout.write(`${line}\n`);
}

switch (scenario) {
  case 'unprivileged': {
    report(JSON.stringify(tapAvailability()));
    try {
      openTap({ name });
      report('opened');
    } catch (error) {
      report(JSON.stringify({ code: (error as { code?: string }).code, message: (error as Error).message }));
    }
    break;
  }
  case 'open-then-close': {
    // The device is closed at once: nothing may keep the process alive for the unref'd timer.
    const tap = openTap({ name });
    tap.on('close', () => report('closed'));
    setTimeout(() => report('still alive'), 3000).unref();
    tap.close();
    break;
  }
  case 'open-stays-alive': {
    // Only the device can keep the process alive until this unref'd timer fires.
    const tap = openTap({ name });
    setTimeout(() => {
      report('still alive');
      tap.close();
    }, 200).unref();
    break;
  }
  case 'open-unref': {
    const tap = openTap({ name }).unref();
    setTimeout(() => {
      report('still alive');
      tap.close();
    }, 200).unref();
    break;
  }
  case 'exit-with-frame-waiting': {
    // The process ends with an unref'd device still open and a frame waiting on its descriptor: Node tears
    // down its event loop with the descriptor readable, which must neither crash nor hang.
    const namespace = process.argv[4]!;
    const tap = openTap({ name, mac: 0x02_00_00_00_00_02, up: false }).unref();
    const inNamespace = (...args: string[]) => execFileSync('ip', ['netns', 'exec', namespace, ...args]);
    execFileSync('ip', ['link', 'set', tap.name, 'netns', namespace]);
    inNamespace('ip', 'addr', 'add', '10.88.9.1/24', 'dev', tap.name);
    inNamespace('ip', 'link', 'set', tap.name, 'up');
    inNamespace('ip', 'neigh', 'replace', '10.88.9.2', 'lladdr', '02:00:00:00:00:02', 'dev', tap.name);
    inNamespace('python3', '-c', "import socket; socket.socket(2, 2).sendto(b'x', ('10.88.9.2', 9))");
    report('frame sent');
    break;
  }
  default:
    report(`unknown scenario ${scenario}`);
    process.exitCode = 2;
}
