/**
 * TAP device benchmarks: frames per second between tcpts and the Linux kernel through a TAP interface.
 *
 * Receive: the kernel queues a burst of UDP datagrams on the TAP interface (a sender in a network namespace
 * of our own, the interface's queue sized to hold the whole burst) while reading is paused; then the time
 * to drain the burst is measured. The comparison column drains the same burst with Node's own way of
 * reading a descriptor, one `fs.read` (a thread-pool round trip) per frame.
 *
 * Send: frames written back to back; the comparison is `fs.writeSync` per frame on the same kind of
 * descriptor. The frames are addressed to another station's MAC, so the kernel drops them as soon as it
 * has looked at the Ethernet header: the figure is the device's cost, not the kernel's IP stack.
 */

import { randomBytes } from 'node:crypto';
import { closeSync, constants, openSync, read, writeSync } from 'node:fs';
import { FRAME_RELEASED } from '../../src/link/device.js';
import { openTap, type TapDevice, TUN_DEVICE_PATH, tapAvailability } from '../../src/link/tap/index.js';
import { attachTap, InterfaceControl } from '../../src/link/tap/interface-ioctl.js';
import { loadNativeHelper } from '../../src/link/tap/native-helper.js';
import { macToString, parseMac, writeMac } from '../../src/wire/address.js';
import { type BenchRow, formatFigure, NOT_MEASURED } from '../harness.js';
import { pythonIn, runAsync, sh } from '../processes.js';

const BURST = 20_000;
const TCPTS_MAC = parseMac('02:74:63:70:74:73')!;
const OTHER_HOST_MAC = parseMac('02:00:00:00:00:99')!;

const SENDER = `
import socket, sys
count, size = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
payload = b'x' * size
for i in range(count):
    s.sendto(payload, ('10.88.200.2', 9))
`;

/**
 * Moves `ifname` into `ns`, addresses the kernel side, and points 10.88.200.2 at tcpts's MAC. The commands
 * are started by the benchmarks' program spawner, not by forking this process: a fork just before a timed
 * drain would leave every page this process has written copy-on-write, and the drain would pay a page fault
 * per page it writes again (the receive slabs, the allocator's free lists, the JavaScript heap).
 */
async function adopt(ns: string, ifname: string): Promise<void> {
  await runAsync(['ip', 'link', 'set', ifname, 'netns', ns]);
  await runAsync(['ip', 'netns', 'exec', ns, 'sysctl', '-q', '-w', `net.ipv6.conf.${ifname}.disable_ipv6=1`]);
  await runAsync(['ip', '-n', ns, 'addr', 'add', '10.88.200.1/24', 'dev', ifname]);
  await runAsync(['ip', '-n', ns, 'link', 'set', ifname, 'up']);
  await runAsync([
    'ip',
    '-n',
    ns,
    'neigh',
    'replace',
    '10.88.200.2',
    'lladdr',
    macToString(TCPTS_MAC),
    'dev',
    ifname,
  ]);
}

/** Sends the burst from `ns`; started by the spawner too (see adopt). */
async function burst(ns: string, payloadBytes: number): Promise<void> {
  await runAsync(pythonIn(ns, SENDER, BURST, payloadBytes));
}

function interfaceName(): string {
  return `tcptsb${randomBytes(3).toString('hex')}`;
}

/** Frames per second TapDevice drains a queued burst at. */
async function tcptsReceive(ns: string, payloadBytes: number): Promise<number> {
  const name = interfaceName();
  const tap: TapDevice = openTap({ name, mac: TCPTS_MAC, up: false, kernelQueueLength: BURST + 1024 });
  try {
    await adopt(ns, name);
    let received = 0;
    let finish: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    // The receiver keeps nothing of a frame, and says so as the stack does for what it does not keep
    // (FRAME_RELEASED): the device then reads the next frames into the same memory.
    tap.setReceiver(() => {
      if (++received === BURST) finish();
      return FRAME_RELEASED;
    });
    tap.pause();
    await burst(ns, payloadBytes);
    const started = performance.now();
    tap.resume();
    await done;
    return BURST / ((performance.now() - started) / 1000);
  } finally {
    tap.close();
  }
}

/**
 * Opens a blocking TAP descriptor with the same setup, for Node's fs calls; `up` sets the interface up
 * with an ioctl (no `ip` command forked just before the timed writes).
 */
function blockingTap(name: string, queueLength: number, up = false): number {
  const native = loadNativeHelper();
  const fd = openSync(TUN_DEVICE_PATH, constants.O_RDWR);
  attachTap(native, fd, name, true);
  const control = new InterfaceControl(native);
  try {
    control.setTxQueueLength(name, queueLength);
    if (up) control.setUp(name);
  } finally {
    control.close();
  }
  return fd;
}

/** Frames per second `fs.read`, one call per frame, drains the same burst at. */
async function fsReadReceive(ns: string, payloadBytes: number): Promise<number> {
  const name = interfaceName();
  const fd = blockingTap(name, BURST + 1024);
  try {
    await adopt(ns, name);
    await burst(ns, payloadBytes);
    const buffer = Buffer.allocUnsafe(2048);
    const started = performance.now();
    for (let i = 0; i < BURST; i++) {
      await new Promise<void>((resolve, reject) =>
        read(fd, buffer, 0, buffer.length, null, (error) => (error ? reject(error) : resolve())),
      );
    }
    return BURST / ((performance.now() - started) / 1000);
  } finally {
    closeSync(fd);
  }
}

function otherHostFrame(length: number): Uint8Array {
  const frame = new Uint8Array(length);
  writeMac(frame, 0, OTHER_HOST_MAC);
  writeMac(frame, 6, TCPTS_MAC);
  frame[12] = 0x08; // IPv4 EtherType; the kernel drops the frame before looking further
  return frame;
}

function tcptsSend(frameBytes: number): number {
  const tap = openTap({ name: interfaceName(), mac: TCPTS_MAC });
  try {
    const frames = Array.from({ length: BURST }, () => otherHostFrame(frameBytes));
    const started = performance.now();
    for (const frame of frames) tap.send(frame);
    const elapsed = performance.now() - started;
    if (tap.stats.framesSent !== BURST)
      throw new Error(`only ${tap.stats.framesSent} of ${BURST} frames sent`);
    return BURST / (elapsed / 1000);
  } finally {
    tap.close();
  }
}

function fsWriteSend(frameBytes: number): number {
  const name = interfaceName();
  const fd = blockingTap(name, 1000, true);
  try {
    const frames = Array.from({ length: BURST }, () => otherHostFrame(frameBytes));
    const started = performance.now();
    for (const frame of frames) writeSync(fd, frame);
    return BURST / ((performance.now() - started) / 1000);
  } finally {
    closeSync(fd);
  }
}

export async function run(): Promise<BenchRow[]> {
  const availability = tapAvailability();
  if (!availability.ok) {
    return [
      {
        name: 'TAP device',
        tcpts: NOT_MEASURED,
        kernel: NOT_MEASURED,
        note: `skipped: ${availability.reason}`,
      },
    ];
  }
  const ns = `tcpts-bench-${randomBytes(4).toString('hex')}`;
  sh('ip', ['netns', 'add', ns]);
  const rows: BenchRow[] = [];
  try {
    for (const [label, payloadBytes] of [
      ['60 B frames', 18],
      ['1514 B frames', 1472],
    ] as const) {
      // Warm-up round so the JIT has compiled the receive path before it is timed.
      await tcptsReceive(ns, payloadBytes);
      const ours = await tcptsReceive(ns, payloadBytes);
      const node = await fsReadReceive(ns, payloadBytes);
      rows.push({
        name: `TAP receive, queued burst, ${label}`,
        tcpts: formatFigure(ours),
        kernel: formatFigure(node),
        unit: 'frames/s',
        note: 'comparison: Node fs.read, one thread-pool round trip per frame',
      });
    }
    for (const [label, frameBytes] of [
      ['60 B frames', 60],
      ['1514 B frames', 1514],
    ] as const) {
      tcptsSend(frameBytes);
      rows.push({
        name: `TAP send, ${label}`,
        tcpts: formatFigure(tcptsSend(frameBytes)),
        kernel: formatFigure(fsWriteSend(frameBytes)),
        unit: 'frames/s',
        note: 'comparison: Node fs.writeSync per frame; frames to another MAC, dropped by the kernel at once',
      });
    }
  } finally {
    sh('ip', ['netns', 'delete', ns]);
  }
  return rows;
}
