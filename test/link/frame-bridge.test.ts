/**
 * FrameBridge: two ports joined through the simulator's impairments, on virtual time, with stand-in
 * devices that record what the bridge hands them (frame, time).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseBridgeArguments } from '../../src/cli/commands/bridge.js';
import type { NetworkDevice } from '../../src/link/device.js';
import { FrameBridge, type FrameBridgeOptions } from '../../src/link/frame-bridge.js';
import type { Clock } from '../../src/time/clock.js';
import { RealClock } from '../../src/time/real-clock.js';
import { VirtualClock } from '../../src/time/virtual-clock.js';
import { numberedFrame, seqOf } from './link-fixtures.js';

class Port implements NetworkDevice {
  readonly mtu = 1500;
  readonly mac = 0x02_00_00_00_00_01;
  readonly got: Array<[number, number]> = [];
  receiver: ((frame: Uint8Array) => void) | undefined;
  constructor(
    readonly name: string,
    private readonly clock: VirtualClock,
  ) {}
  send(frame: Uint8Array): void {
    this.got.push([seqOf(frame), this.clock.now()]);
  }
  setReceiver(receiver: (frame: Uint8Array) => void): void {
    this.receiver = receiver;
  }
}

function setup(options: Omit<FrameBridgeOptions, 'clock'>) {
  const clock = new VirtualClock();
  const a = new Port('tapa', clock);
  const b = new Port('tapb', clock);
  const bridge = new FrameBridge(a, b, { clock, ...options });
  return { clock, a, b, bridge };
}

describe('FrameBridge', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('forwards each direction after its delay, whatever the addresses', () => {
    const { clock, a, b } = setup({ aToB: { delayMs: 25 }, bToA: { delayMs: 10 } });
    a.receiver!(numberedFrame(1));
    b.receiver!(numberedFrame(2));
    clock.advance(9.999);
    expect([a.got, b.got]).toEqual([[], []]);
    clock.advance(0.001);
    expect(a.got).toEqual([[2, 10]]);
    clock.advance(15);
    expect(b.got).toEqual([[1, 25]]);
  });

  it('serialises at the configured rate behind a drop-tail queue of the given bytes', () => {
    // 1514-byte frames at 12.112 Mbit/s: exactly 1 ms each. The queue holds 3 frames (the one on the
    // wire included): of 5 sent at once, frames 4 and 5 are tail-dropped.
    const { clock, a, b, bridge } = setup({
      aToB: { delayMs: 25, rateBitsPerSecond: 12.112e6, queueLimitBytes: 3 * 1514 },
    });
    for (let seq = 1; seq <= 5; seq++) a.receiver!(numberedFrame(seq, 1500));
    clock.advance(100);
    expect(b.got).toEqual([
      [1, 26],
      [2, 27],
      [3, 28],
    ]);
    expect(bridge.aToB.counters.dropped['queue-full']).toBe(2);
    expect(bridge.aToB.counters.deliveredBytes).toBe(3 * 1514);
    expect(bridge.lateness('a->b')).toEqual({ frames: 3, totalMs: 0, maxMs: 0 });
  });

  it('delivers the configured rate over a long run: 100 Mbit/s for a second', () => {
    const { clock, a, b, bridge } = setup({ aToB: { rateBitsPerSecond: 100e6, queueLimitBytes: 625_000 } });
    // Offered at 120 Mbit/s: one 1514-byte frame every 0.1 ms.
    let seq = 0;
    const offer = (): void => {
      a.receiver!(numberedFrame(++seq, 1500));
      if (seq < 10_000) clock.setTimer(0.1, offer);
    };
    offer();
    clock.advance(1000);
    const bits = bridge.aToB.counters.deliveredBytes * 8;
    expect(bits).toBeGreaterThanOrEqual(100e6 - 1514 * 8);
    expect(bits).toBeLessThanOrEqual(100e6);
    expect(b.got.length).toBe(bridge.aToB.counters.delivered);
  });

  it('keeps frames in order even when the clock sets some timers late (a real clock slack)', () => {
    const virtual = new VirtualClock();
    let timers = 0;
    // Every other timer lands 0.3 ms late, more than the 0.12 ms between two frames at 100 Mbit/s.
    const sloppy: Clock = {
      now: () => virtual.now(),
      setTimer: (delay, callback) => virtual.setTimer(delay + (timers++ % 2) * 0.3, callback),
    };
    const a = new Port('tapa', virtual);
    const b = new Port('tapb', virtual);
    new FrameBridge(a, b, { clock: sloppy, aToB: { delayMs: 25, rateBitsPerSecond: 100e6 } });
    for (let seq = 1; seq <= 50; seq++) a.receiver!(numberedFrame(seq, 1500));
    virtual.advance(100);
    expect(b.got.map(([seq]) => seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('loses frames with the seeded pattern: the same seed, the same frames', () => {
    const run = (seed: number) => {
      const { clock, a, b } = setup({ seed, aToB: { loss: 0.1 } });
      for (let seq = 1; seq <= 1000; seq++) a.receiver!(numberedFrame(seq));
      clock.advance(1);
      return b.got.map(([s]) => s);
    };
    const first = run(7);
    expect(run(7)).toEqual(first);
    expect(run(8)).not.toEqual(first);
    expect(1000 - first.length).toBeGreaterThan(60);
    expect(1000 - first.length).toBeLessThan(140);
  });

  it('stops forwarding when closed', () => {
    const { clock, a, b, bridge } = setup({ aToB: { delayMs: 5 } });
    a.receiver!(numberedFrame(1));
    bridge.close();
    a.receiver!(numberedFrame(2));
    clock.advance(10);
    expect(b.got).toEqual([]);
    expect(bridge.aToB.counters.dropped['link-down']).toBe(2);
  });
});

describe('tcpts bridge command line', () => {
  it('takes one setting for both directions and sizes the queue to one BDP', () => {
    const settings = parseBridgeArguments([
      '--a',
      'tba',
      '--b',
      'tbb',
      '--delay',
      '25',
      '--rate',
      '100mbit',
      '--loss',
      '0.1%',
      '--seed',
      '3',
    ]);
    expect(settings).toMatchObject({
      a: 'tba',
      b: 'tbb',
      seed: 3,
      impairments: { delayMs: 25, rateBitsPerSecond: 100e6, queueLimitBytes: 625_000, loss: 0.001 },
    });
  });

  it('refuses a queue without a rate, and one interface twice', () => {
    expect(() => parseBridgeArguments(['--a', 'x', '--b', 'y', '--queue', '64k'])).toThrow(/need --rate/);
    expect(() => parseBridgeArguments(['--a', 'x', '--b', 'x'])).toThrow(/two different/);
    expect(() => parseBridgeArguments(['--a', 'x'])).toThrow(/required/);
  });
  it('on a real clock that wakes up early, delivers every frame due within the window in one pass, without waiting for each', () => {
    // The host's time moves on 0.001 ms with every reading. Eight 1514-byte frames at 100 Mbit/s leave
    // the bottleneck 0.121 ms apart and arrive 25.121 ... 25.969 ms after they were sent.
    let time = 0;
    const reading = vi.spyOn(globalThis.performance, 'now').mockImplementation(() => (time += 0.001));
    const clock = new RealClock({ earlyMs: 1 });
    const got: number[] = [];
    const port = (name: string): NetworkDevice => ({
      name,
      mtu: 1500,
      mac: 0x02_00_00_00_00_01,
      send: (frame) => got.push(seqOf(frame)),
      setReceiver() {},
    });
    const bridge = new FrameBridge(port('tapa'), port('tapb'), {
      clock,
      aToB: { delayMs: 25, rateBitsPerSecond: 100e6, queueLimitBytes: 625_000 },
    });
    const sentAt = time;
    for (let seq = 1; seq <= 8; seq++) bridge.aToB.send(numberedFrame(seq, 1500));
    // The host timer fires at 24.9 ms: the pass may run timers up to 25.9 ms.
    time = sentAt + 24.9;
    const before = reading.mock.calls.length;
    (clock as unknown as { fire(): void }).fire();
    // Seven frames are due by then and leave at once (up to 1 ms early); the eighth waits. Checking each
    // frame against the clock and setting its timer again would have spun until each one's time came:
    // about 1,000 readings of the clock at 0.001 ms each.
    expect(got).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(reading.mock.calls.length - before).toBeLessThan(100);
    expect(time - sentAt).toBeLessThan(25);
    bridge.close();
    clock.close();
  });
});
