/**
 * `impairDevice`: seeded faults on one device's two directions, on virtual time, against a stand-in device
 * that records what reaches it.
 */
import { describe, expect, it } from 'vitest';
import type { NetworkDevice, ReceivedFrameInfo } from '../../src/link/device.js';
import { impairDevice } from '../../src/link/impaired-device.js';
import { VirtualClock } from '../../src/time/virtual-clock.js';
import { bytes, concat, tcpFrame } from './tcp-frame-builder.js';

class RecordingDevice implements NetworkDevice {
  readonly name = 'tap9';
  readonly mtu = 1500;
  readonly mac = 0x02_00_00_00_00_09;
  readonly sent: Uint8Array[] = [];
  receiver: ((frame: Uint8Array, info?: ReceivedFrameInfo) => void) | undefined;
  closed = false;

  send(frame: Uint8Array): void {
    this.sent.push(frame);
  }

  setReceiver(receiver: (frame: Uint8Array, info?: ReceivedFrameInfo) => void): void {
    this.receiver = receiver;
  }

  close(): void {
    this.closed = true;
  }
}

/** A 60-byte frame whose first payload byte is `id`. */
function frame(id: number, length = 60): Uint8Array {
  const bytes = new Uint8Array(length);
  bytes[14] = id;
  return bytes;
}

const ids = (frames: Uint8Array[]) => frames.map((f) => f[14]);

describe('impairDevice', () => {
  it('cuts a coalesced TCP packet from the wrapped device back into wire-size segments', () => {
    const clock = new VirtualClock();
    const inner = new RecordingDevice();
    const device = impairDevice(inner, { clock, inbound: { rateBitsPerSecond: 1e9 } });
    const received: Uint8Array[] = [];
    device.setReceiver((f) => received.push(f));
    const parts = [bytes(1448, 1), bytes(1448, 2), bytes(500, 3)];
    inner.receiver!(tcpFrame({ seq: 1, data: concat(...parts), id: 7 }), {
      checksumTrusted: true,
      segmentSize: 1448,
    });
    clock.advance(1);
    expect(received).toEqual([
      tcpFrame({ seq: 1, data: parts[0]!, id: 7 }),
      tcpFrame({ seq: 1449, data: parts[1]!, id: 8 }),
      tcpFrame({ seq: 2897, data: parts[2]!, id: 9 }),
    ]);
    expect(device.inbound.counters.dropped.mtu).toBe(0);
  });

  it('without impairments passes every frame on, through the clock, in order', () => {
    const clock = new VirtualClock();
    const inner = new RecordingDevice();
    const device = impairDevice(inner, { clock });
    const received: Uint8Array[] = [];
    device.setReceiver((f) => received.push(f));
    expect([device.name, device.mtu, device.mac, device.checksumOffload]).toEqual([
      'tap9',
      1500,
      inner.mac,
      false,
    ]);

    for (let id = 1; id <= 3; id++) device.send(frame(id));
    for (let id = 11; id <= 13; id++) inner.receiver!(frame(id));
    // Never synchronously: a send never re-enters a receiver.
    expect(inner.sent).toHaveLength(0);
    expect(received).toHaveLength(0);
    clock.advance(0);
    expect(ids(inner.sent)).toEqual([1, 2, 3]);
    expect(ids(received)).toEqual([11, 12, 13]);
    expect(device.outbound.counters.delivered).toBe(3);
    expect(device.inbound.counters.delivered).toBe(3);
  });

  it('applies each direction its own impairments', () => {
    const clock = new VirtualClock();
    const inner = new RecordingDevice();
    const device = impairDevice(inner, {
      clock,
      seed: 5,
      outbound: { loss: 1 },
      inbound: { delayMs: 10 },
    });
    const received: Uint8Array[] = [];
    device.setReceiver((f) => received.push(f));
    device.send(frame(1));
    inner.receiver!(frame(2));
    clock.advance(9);
    expect(received).toHaveLength(0);
    clock.advance(1);
    expect(ids(received)).toEqual([2]);
    expect(inner.sent).toHaveLength(0);
    expect(device.outbound.counters.dropped.loss).toBe(1);

    // Frames larger than the wrapped device's MTU are dropped like on a link.
    device.setImpairments('outbound', {});
    device.send(frame(3, 14 + 1501));
    clock.advance(1);
    expect(device.outbound.counters.dropped.mtu).toBe(1);
  });

  it('repeats the same fault pattern for the same seed', () => {
    const pattern = (seed: number): number[] => {
      const clock = new VirtualClock();
      const inner = new RecordingDevice();
      const device = impairDevice(inner, {
        clock,
        seed,
        outbound: { loss: 0.3, reorder: 0.3, reorderDelayMs: 5 },
      });
      for (let id = 0; id < 100; id++) {
        device.send(frame(id));
        clock.advance(1);
      }
      clock.advance(10);
      return ids(inner.sent) as number[];
    };
    const first = pattern(7);
    expect(pattern(7)).toEqual(first);
    expect(first.length).toBeGreaterThan(50);
    expect(first.length).toBeLessThan(90);
    // Reordered: some frame arrives after a later one.
    expect(first.some((id, i) => i > 0 && id < first[i - 1]!)).toBe(true);
    expect(pattern(8)).not.toEqual(first);
  });

  it('close loses what is on the way and closes the wrapped device', () => {
    const clock = new VirtualClock();
    const inner = new RecordingDevice();
    const device = impairDevice(inner, { clock, outbound: { delayMs: 5 } });
    device.send(frame(1));
    device.close();
    clock.advance(10);
    expect(inner.sent).toHaveLength(0);
    expect(inner.closed).toBe(true);
    expect(device.outbound.counters.dropped['link-down']).toBe(1);
  });

  it('refuses bad settings with EINVAL', () => {
    const clock = new VirtualClock();
    expect(() => impairDevice(new RecordingDevice(), { clock, inbound: { loss: 2 } })).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
  });
});
