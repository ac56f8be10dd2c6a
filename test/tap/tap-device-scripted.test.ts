/**
 * TapDevice's readiness handling, receive budget, send queue and failure paths, driven by a scripted
 * stand-in for the native helper: the kernel never refuses a TAP write with EAGAIN in practice and cannot
 * be made to fail on cue, so these paths are proven here, deterministically and without privileges.
 */

import { openSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { FRAME_HELD, FRAME_RELEASED, giveBackFrame } from '../../src/link/device.js';
import type {
  NativeHelper,
  PollCallback,
  PollEvents,
  PollHandle,
  PollInterest,
} from '../../src/link/tap/native-helper.js';
import { TapDevice } from '../../src/link/tap/tap-device.js';
import type { Clock } from '../../src/time/clock.js';
import { TraceRecorder } from '../../src/trace/events.js';
import { bytes, concat, tcpFrame } from '../link/tcp-frame-builder.js';

const EAGAIN = 11;
const EINTR = 4;
const EIO = 5;
const EINVAL = 22;
const EBADFD = 77;
const ERRNO_NAMES: Record<number, string> = {
  4: 'EINTR',
  5: 'EIO',
  11: 'EAGAIN',
  22: 'EINVAL',
  77: 'EBADFD',
};

/** Plays the kernel's side of the descriptor and libuv's side of the poll handle. */
class ScriptedKernel implements NativeHelper {
  readonly version = 'scripted';
  readonly errno = { EAGAIN, EINTR, EIO, EBADFD, ENODEV: 19 };
  /** Frames waiting to be read; a number is an errno the next read fails with. */
  readonly incoming: (Uint8Array | number)[] = [];
  /** Outcomes of the next writes, in order: an errno to fail with, or 0 to succeed; empty means succeed. */
  readonly writeFailures: number[] = [];
  readonly written: Uint8Array[] = [];
  reads = 0;
  interest: PollInterest | 'stopped' | 'closed' = 'stopped';
  refed = true;
  private callback: PollCallback | undefined;

  read(_fd: number, into: Uint8Array, length: number): number {
    this.reads++;
    const next = this.incoming.shift();
    if (next === undefined) return -EAGAIN;
    if (typeof next === 'number') return -next;
    into.set(next.subarray(0, Math.min(length, next.length)));
    return next.length;
  }

  write(_fd: number, from: Uint8Array, length: number): number {
    const failure = this.writeFailures.shift();
    if (failure !== undefined && failure !== 0) return -failure;
    this.written.push(from.slice(0, length));
    return length;
  }

  ioctlBuffer(): number {
    return 0;
  }

  ioctlValue(): number {
    return 0;
  }

  socket(): number {
    return -EINVAL;
  }

  close(): number {
    return 0;
  }

  poll(_fd: number, interest: PollInterest, callback: PollCallback): PollHandle {
    this.interest = interest;
    this.callback = callback;
    return {
      start: (next, cb) => {
        this.interest = next;
        this.callback = cb;
      },
      stop: () => {
        this.interest = 'stopped';
      },
      close: () => {
        this.interest = 'closed';
      },
      ref: () => {
        this.refed = true;
      },
      unref: () => {
        this.refed = false;
      },
    };
  }

  errnoName(errno: number): string {
    return ERRNO_NAMES[errno] ?? `E${errno}`;
  }

  /** libuv reporting readiness, then one loop turn so the device's deferred service runs. */
  async ready(events: Partial<PollEvents>, status = 0): Promise<void> {
    this.callback!(status, { readable: false, writable: false, disconnect: false, ...events });
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const fixedClock: Clock = {
  now: () => 1234,
  setTimer: () => ({ cancel() {} }),
};

const devices: TapDevice[] = [];

function makeDevice(
  kernel: ScriptedKernel,
  options: {
    mtu?: number;
    sendQueueLimit?: number;
    receiveBudget?: number;
    tracer?: TraceRecorder;
    receiveCoalescing?: boolean;
  } = {},
): TapDevice {
  const device = new TapDevice({
    native: kernel,
    // The device closes its descriptor on close(); give it a real one to close.
    fd: openSync('/dev/null', 'r'),
    name: 'tap-test',
    mtu: options.mtu ?? 1500,
    mac: 0x02_00_00_00_00_02,
    kernelMac: 0x02_00_00_00_00_01,
    created: true,
    sendQueueLimit: options.sendQueueLimit ?? 4,
    receiveBudget: options.receiveBudget ?? 256,
    receiveCoalescing: options.receiveCoalescing,
    tracer: options.tracer,
    clock: fixedClock,
  });
  devices.push(device);
  return device;
}

/** A frame of `length` bytes whose every byte is `fill`. */
function frame(length: number, fill: number): Uint8Array {
  return new Uint8Array(length).fill(fill);
}

afterEach(() => {
  for (const device of devices.splice(0)) device.close();
});

describe('TapDevice receiving', () => {
  it('reads every waiting frame in one wake-up, as views the next reads never overwrite', async () => {
    const kernel = new ScriptedKernel();
    const device = makeDevice(kernel);
    expect(kernel.interest).toEqual({ readable: true });
    const received: Uint8Array[] = [];
    device.setReceiver((f) => received.push(f));
    kernel.incoming.push(frame(60, 1), frame(1514, 2), frame(42, 3));

    await kernel.ready({ readable: true });

    expect(received.map((f) => [f.length, f[0], f.at(-1)])).toEqual([
      [60, 1, 1],
      [1514, 2, 2],
      [42, 3, 3],
    ]);
    // The IP header after the 14-byte Ethernet header lands on an 8-byte boundary.
    for (const f of received) expect(f.byteOffset % 8).toBe(2);
    // Plain Uint8Array views, as in a browser; not Node Buffers.
    for (const f of received) expect(Object.getPrototypeOf(f)).toBe(Uint8Array.prototype);
    expect(kernel.reads).toBe(4); // three frames, then EAGAIN
    expect(device.stats).toMatchObject({ framesReceived: 3, bytesReceived: 1616, receiveWakeups: 1 });
  });

  it('with receive coalescing, merges the in-order segments of each read batch (GRO), never across batches', async () => {
    const kernel = new ScriptedKernel();
    const device = makeDevice(kernel, { receiveBudget: 4, receiveCoalescing: true });
    const received: { frame: Uint8Array; segmentSize: number | undefined }[] = [];
    device.setReceiver((f, info) => received.push({ frame: f.slice(), segmentSize: info?.segmentSize }));
    const data = Array.from({ length: 6 }, (_, i) => bytes(1448, i));
    const segment = (i: number) => tcpFrame({ seq: 1 + i * 1448, data: data[i]! });
    const arp = frame(42, 0);
    arp[12] = 0x08;
    arp[13] = 0x06;
    kernel.incoming.push(segment(0), segment(1), arp, segment(2), segment(3), segment(4), segment(5));

    await kernel.ready({ readable: true });
    // The batch's other frames pass at once; the merged packet follows when the batch ends.
    expect(received).toEqual([
      { frame: arp, segmentSize: undefined },
      { frame: tcpFrame({ seq: 1, data: concat(data[0]!, data[1]!, data[2]!) }), segmentSize: 1448 },
    ]);
    await kernel.ready({ readable: true });
    expect(received.slice(2)).toEqual([
      {
        frame: tcpFrame({ seq: 1 + 3 * 1448, data: concat(data[3]!, data[4]!, data[5]!) }),
        segmentSize: 1448,
      },
    ]);
    expect(device.coalescing).toMatchObject({ frames: 7, segmentsMerged: 4, packetsMerged: 2 });
    expect(device.stats.framesReceived).toBe(7);
  });

  it('stops at receiveBudget frames per wake-up and reads the rest on the next ones', async () => {
    const kernel = new ScriptedKernel();
    const device = makeDevice(kernel, { receiveBudget: 4 });
    const received: number[] = [];
    device.setReceiver((f) => received.push(f[0]!));
    for (let i = 0; i < 10; i++) kernel.incoming.push(frame(60, i));

    await kernel.ready({ readable: true });
    expect(received).toEqual([0, 1, 2, 3]);
    // libuv polls level-triggered: the descriptor is still readable, so it reports again.
    await kernel.ready({ readable: true });
    await kernel.ready({ readable: true });
    expect(received).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(device.stats.receiveWakeups).toBe(3);
    expect(kernel.reads).toBe(11);
  });

  it('services several readiness reports of one loop turn with one wake-up', async () => {
    const kernel = new ScriptedKernel();
    const device = makeDevice(kernel);
    let count = 0;
    device.setReceiver(() => count++);
    kernel.incoming.push(frame(60, 1));
    kernel.ready({ readable: true });
    await kernel.ready({ readable: true });
    expect(count).toBe(1);
    expect(device.stats.receiveWakeups).toBe(1);
  });

  it('drops and traces a frame longer than MTU + header + VLAN tag, and retries reads interrupted by a signal', async () => {
    const kernel = new ScriptedKernel();
    const tracer = new TraceRecorder();
    const device = makeDevice(kernel, { mtu: 1000, tracer });
    const received: number[] = [];
    device.setReceiver((f) => received.push(f.length));
    kernel.incoming.push(frame(1018, 1), frame(1019, 2), EINTR, frame(64, 3));

    await kernel.ready({ readable: true });

    expect(received).toEqual([1018, 64]);
    expect(device.stats).toMatchObject({ framesReceived: 3, framesTruncated: 1 });
    expect(tracer.events).toEqual([
      { kind: 'drop', time: 1234, host: 'tap-test', layer: 'tap', reason: 'truncated' },
    ]);
  });

  it('counts frames read before a receiver is installed', async () => {
    const kernel = new ScriptedKernel();
    const device = makeDevice(kernel);
    kernel.incoming.push(frame(60, 1), frame(60, 2));
    await kernel.ready({ readable: true });
    expect(device.stats).toMatchObject({ framesReceived: 2, framesUnclaimed: 2 });
  });

  it('delivers nothing more once the receiver closes the device', async () => {
    const kernel = new ScriptedKernel();
    const device = makeDevice(kernel);
    const received: number[] = [];
    const closed = new Promise<void>((resolve) => device.on('close', resolve));
    device.setReceiver((f) => {
      received.push(f[0]!);
      device.close();
    });
    kernel.incoming.push(frame(60, 1), frame(60, 2));

    await kernel.ready({ readable: true });
    await closed;

    expect(received).toEqual([1]);
    expect(kernel.interest).toBe('closed');
    expect(kernel.incoming.length).toBe(1);
    expect(device.closed).toBe(true);
  });

  it('stops polling while paused and reads again after resume', async () => {
    const kernel = new ScriptedKernel();
    const device = makeDevice(kernel);
    const received: number[] = [];
    device.setReceiver((f) => received.push(f[0]!));
    kernel.incoming.push(frame(60, 1));

    device.pause();
    expect(kernel.interest).toBe('stopped');
    device.resume();
    expect(kernel.interest).toEqual({ readable: true, writable: false });
    await kernel.ready({ readable: true });
    expect(received).toEqual([1]);
  });

  it('ignores readiness reported just before a pause until resumed', async () => {
    const kernel = new ScriptedKernel();
    const device = makeDevice(kernel);
    const received: number[] = [];
    device.setReceiver((f) => received.push(f[0]!));
    kernel.incoming.push(frame(60, 1));
    const reported = kernel.ready({ readable: true });
    device.pause();
    await reported;
    expect(received).toEqual([]);
    device.resume();
    await kernel.ready({ readable: true });
    expect(received).toEqual([1]);
  });
});

describe('TapDevice receive memory', () => {
  it('reads into memory again where the receiver gave frames back, never over a frame it keeps', async () => {
    const run = async (release: boolean) => {
      const kernel = new ScriptedKernel();
      const device = makeDevice(kernel);
      const kept: { frame: Uint8Array; fill: number }[] = [];
      let index = 0;
      device.setReceiver((f) => {
        const fill = index++ & 0xff;
        expect(f[0]).toBe(fill);
        // Every fifth frame is kept; the others are given back (or, without release, just not kept).
        if (fill % 5 === 0) {
          kept.push({ frame: f, fill });
          return undefined;
        }
        return release ? FRAME_RELEASED : undefined;
      });
      for (let i = 0; i < 400; i++) kernel.incoming.push(frame(1514, i & 0xff));
      await kernel.ready({ readable: true });
      await kernel.ready({ readable: true });
      expect(index).toBe(400);
      // What was kept still holds what was read into it.
      for (const { frame: f, fill } of kept) expect(f.every((b) => b === fill)).toBe(true);
      const { receiveSlabsAllocated, receiveSlabsForgotten } = device.stats;
      return [receiveSlabsAllocated, receiveSlabsForgotten];
    };
    // 400 frames of 1514 B take 10 slabs of 64 KiB when none comes back: 9 replaced with frames out, of
    // which RETIRED_SLABS_MAX (8) wait and the oldest is forgotten. The 80 kept take 2 (43 a slab).
    expect(await run(false)).toEqual([10, 1]);
    expect(await run(true)).toEqual([2, 0]);
  });

  it('reads again into frames held (FRAME_HELD) once given back, counting each once, never one not held', async () => {
    // 1514-byte frames, 43 to a 64 KiB slab. Frame 0 is returned as nothing (the receiver's for good) and
    // "given back" all the same; every other frame is held and given back twice, by a view of its
    // payload, once its batch was read.
    const kernel = new ScriptedKernel();
    const device = makeDevice(kernel);
    const frames: Uint8Array[] = [];
    device.setReceiver((f) => {
      frames.push(f);
      return frames.length === 1 ? undefined : FRAME_HELD;
    });
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 40; i++) kernel.incoming.push(frame(1514, (round * 40 + i) & 0xff));
      await kernel.ready({ readable: true });
      for (let i = round * 40; i < frames.length; i++) {
        giveBackFrame(frames[i]!.subarray(54));
        giveBackFrame(frames[i]!.subarray(54));
      }
    }
    expect(frames.length).toBe(400);
    // The first slab keeps frame 0 out, so it is never read into again once full; the second takes the
    // other frames in turn. Counting frame 0, or any frame twice, would have read over frame 0.
    expect(frames[0]!.every((b) => b === 0)).toBe(true);
    expect(device.stats).toMatchObject({ receiveSlabsAllocated: 2, heldFramesGivenBack: 399 });
  });

  it('lets a frame given back while it is delivered go only if the receiver then says it held it', async () => {
    const run = async (answer: typeof FRAME_HELD | undefined) => {
      const kernel = new ScriptedKernel();
      const device = makeDevice(kernel);
      const frames: Uint8Array[] = [];
      // The application reads at once (as onread may, inside the delivery), and a layer in between
      // (a capture) then says nothing, which makes the frame the receiver's for good.
      device.setReceiver((f) => {
        frames.push(f);
        giveBackFrame(f.subarray(54));
        return answer;
      });
      for (let i = 0; i < 400; i++) kernel.incoming.push(frame(1514, i & 0xff));
      await kernel.ready({ readable: true });
      await kernel.ready({ readable: true });
      expect(frames.length).toBe(400);
      return [device.stats.receiveSlabsAllocated, device.stats.heldFramesGivenBack, frames];
    };
    const [heldSlabs, heldCount] = await run(FRAME_HELD);
    expect([heldSlabs, heldCount]).toEqual([1, 400]);
    const [slabs, count, frames] = await run(undefined);
    expect([slabs, count]).toEqual([10, 0]);
    // Nothing was read over: every frame still holds what was read into it.
    expect((frames as Uint8Array[]).every((f, i) => f.every((b) => b === (i & 0xff)))).toBe(true);
  });

  /**
   * Eight TCP flows, one full-sized segment each per round, one read batch a round, on a
   * device with receive coalescing: each flow's segment is held to the end of its batch, then passed on
   * as it came. Checks every frame arrives as sent; returns the device.
   */
  async function heldFlowRounds(mtu: number, rounds: number, release: boolean): Promise<TapDevice> {
    const kernel = new ScriptedKernel();
    const device = makeDevice(kernel, { mtu, receiveCoalescing: true });
    const got: Uint8Array[] = [];
    device.setReceiver((f) => {
      got.push(f.slice());
      return release ? FRAME_RELEASED : undefined;
    });
    const sent: Uint8Array[] = [];
    const dataLength = mtu - 52; // IPv4 20 + TCP 20 + the builder's 12 bytes of options
    for (let round = 0; round < rounds; round++) {
      for (let flow = 0; flow < 8; flow++) {
        const segment = tcpFrame({
          seq: 1 + round * dataLength,
          data: bytes(dataLength, round * 8 + flow),
          srcPort: 40000 + flow,
        });
        sent.push(segment);
        kernel.incoming.push(segment);
      }
      await kernel.ready({ readable: true });
    }
    expect(got.length).toBe(sent.length);
    expect(got.every((f, i) => Buffer.from(f).equals(sent[i]!))).toBe(true);
    return device;
  }

  it('gives a slab replaced while frames were out back once they come back, and reads into it again', async () => {
    // MTU 9000: a 64 KiB slab holds seven frames, so the coalescer's eight held flows outlast a slab.
    expect((await heldFlowRounds(9000, 6, false)).stats.receiveSlabsAllocated).toBeGreaterThanOrEqual(7);
    expect((await heldFlowRounds(9000, 6, true)).stats.receiveSlabsAllocated).toBe(2);
  });

  it('keeps at most SPARE_SLABS_MAX (2) slabs whose frames all came back, and counts the ones it lets go', async () => {
    // MTU 30000: a 64 KiB slab holds two frames. Each round's eight segments fill four slabs, and the
    // read that finds nothing more starts a fifth; the four come back when the batch ends: two stay as
    // spares, two go. Round one allocates five slabs, each later round two (its first two replacements
    // are the spares): 9 in all, 6 let go.
    const device = await heldFlowRounds(30000, 3, true);
    expect(device.stats).toMatchObject({
      receiveSlabsAllocated: 9,
      receiveSlabsForgotten: 0,
      spareSlabsDropped: 6,
    });
  });

  it('with coalescing, reads into the memory of segments copied into a merged packet the receiver keeps', async () => {
    const kernel = new ScriptedKernel();
    const device = makeDevice(kernel, { receiveCoalescing: true });
    const kept: Uint8Array[] = [];
    device.setReceiver((f) => {
      kept.push(f);
    });
    const expected: Uint8Array[] = [];
    for (let round = 0; round < 6; round++) {
      const data = Array.from({ length: 44 }, (_, i) => bytes(1448, round * 44 + i));
      data.forEach((d, i) => {
        kernel.incoming.push(tcpFrame({ seq: 1 + (round * 44 + i) * 1448, data: d }));
      });
      expected.push(tcpFrame({ seq: 1 + round * 44 * 1448, data: concat(...data) }));
      await kernel.ready({ readable: true });
    }
    // The merged packets live in the coalescer's memory; the 264 segments all went through one slab.
    expect(kept.length).toBe(expected.length);
    expect(kept.every((f, i) => Buffer.from(f).equals(expected[i]!))).toBe(true);
    expect(device.coalescing).toMatchObject({ frames: 264, packetsMerged: 6 });
    expect(device.stats.receiveSlabsAllocated).toBe(1);
  });
});

describe('TapDevice sending', () => {
  it('writes at once while the kernel accepts', () => {
    const kernel = new ScriptedKernel();
    const device = makeDevice(kernel);
    const carrier = frame(100, 9);
    device.send(carrier.subarray(10, 70));
    expect(kernel.written.map((f) => f.length)).toEqual([60]);
    expect(device.stats).toMatchObject({ framesSent: 1, bytesSent: 60 });
  });

  it('queues frames the kernel refuses with EAGAIN, in order, drops beyond the limit, and flushes when writable', async () => {
    const kernel = new ScriptedKernel();
    const tracer = new TraceRecorder();
    const device = makeDevice(kernel, { sendQueueLimit: 3, tracer });
    kernel.writeFailures.push(EAGAIN);

    device.send(frame(60, 1)); // refused: queued
    expect(kernel.interest).toEqual({ readable: true, writable: true });
    device.send(frame(60, 2)); // behind frame 1, not written ahead of it
    device.send(frame(60, 3));
    device.send(frame(60, 4)); // queue full: dropped
    expect(kernel.written).toEqual([]);
    expect(device.sendQueueLength).toBe(3);
    expect(device.stats).toMatchObject({ sendBlocked: 1, sendQueueDrops: 1, framesSent: 0 });
    expect(tracer.events).toEqual([
      { kind: 'drop', time: 1234, host: 'tap-test', layer: 'tap', reason: 'send-queue-full' },
    ]);

    kernel.writeFailures.push(EINTR); // a signal interrupts the first flush write: retried
    await kernel.ready({ writable: true });

    expect(kernel.written.map((f) => f[0])).toEqual([1, 2, 3]);
    expect(device.sendQueueLength).toBe(0);
    expect(kernel.interest).toEqual({ readable: true, writable: false });
    expect(device.stats).toMatchObject({ framesSent: 3, sendQueueDrops: 1 });
  });

  it('keeps the rest queued when the kernel refuses again halfway through a flush', async () => {
    const kernel = new ScriptedKernel();
    const device = makeDevice(kernel);
    kernel.writeFailures.push(EAGAIN);
    device.send(frame(60, 1));
    device.send(frame(60, 2));
    kernel.writeFailures.push(0, EAGAIN); // the flush writes frame 1, then the kernel refuses frame 2
    await kernel.ready({ writable: true });
    expect(kernel.written.map((f) => f[0])).toEqual([1]);
    expect(device.sendQueueLength).toBe(1);
    expect(kernel.interest).toEqual({ readable: true, writable: true });

    await kernel.ready({ writable: true });
    expect(kernel.written.map((f) => f[0])).toEqual([1, 2]);
    expect(kernel.interest).toEqual({ readable: true, writable: false });
  });

  it('drops oversize frames, frames for a down interface and frames the kernel rejects, counting each', () => {
    const kernel = new ScriptedKernel();
    const tracer = new TraceRecorder();
    const device = makeDevice(kernel, { mtu: 100, tracer });
    device.send(frame(115, 0)); // 101-byte payload
    const tagged = frame(118, 0); // VLAN-tagged: 4 more bytes allowed
    tagged[12] = 0x81;
    tagged[13] = 0x00;
    device.send(tagged);
    kernel.writeFailures.push(EIO, EINVAL);
    device.send(frame(60, 1));
    device.send(frame(10, 2));
    expect(kernel.written.map((f) => f.length)).toEqual([118]);
    expect(device.stats).toMatchObject({
      framesOversize: 1,
      framesLinkDown: 1,
      sendErrors: 1,
      framesSent: 1,
    });
    expect(tracer.events.map((e) => (e.kind === 'drop' ? e.reason : e.kind))).toEqual([
      'oversize',
      'link-down',
      'write-error-EINVAL',
    ]);
  });
});

describe('TapDevice failures and lifetime', () => {
  it('turns a poll error into an ENODEV error event, then closes', async () => {
    const kernel = new ScriptedKernel();
    const device = makeDevice(kernel);
    const events: string[] = [];
    device.on('error', (error: Error & { code?: string }) => events.push(`error ${error.code}`));
    const closed = new Promise<void>((resolve) => device.on('close', resolve));
    await kernel.ready({}, -9);
    await closed;
    expect(events).toEqual(['error ENODEV']);
    expect(kernel.interest).toBe('closed');
  });

  it('turns EBADFD from read or write into ENODEV, and other read errors into their own code', async () => {
    const codes: string[] = [];
    for (const script of ['read-EBADFD', 'write-EBADFD', 'read-EIO']) {
      const kernel = new ScriptedKernel();
      const device = makeDevice(kernel);
      const failed = new Promise<void>((resolve) =>
        device.on('error', (error: Error & { code?: string }) => {
          codes.push(`${script}: ${error.code}`);
          resolve();
        }),
      );
      if (script === 'write-EBADFD') {
        kernel.writeFailures.push(EBADFD);
        device.send(frame(60, 1));
      } else {
        kernel.incoming.push(script === 'read-EBADFD' ? EBADFD : EIO);
        await kernel.ready({ readable: true });
      }
      await failed;
      expect(device.closed).toBe(true);
    }
    expect(codes).toEqual(['read-EBADFD: ENODEV', 'write-EBADFD: ENODEV', 'read-EIO: EIO']);
  });

  it('forwards ref/unref to the poll handle, closes once, and ignores sends after close', async () => {
    const kernel = new ScriptedKernel();
    const device = makeDevice(kernel);
    expect(device.unref()).toBe(device);
    expect(kernel.refed).toBe(false);
    device.ref();
    expect(kernel.refed).toBe(true);
    let closes = 0;
    device.on('close', () => closes++);
    device.close();
    device.close();
    device.send(frame(60, 1));
    await new Promise((resolve) => setImmediate(resolve));
    expect(closes).toBe(1);
    expect(kernel.written).toEqual([]);
    expect(kernel.interest).toBe('closed');
  });
});
