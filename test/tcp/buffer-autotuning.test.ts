/**
 * Buffer autotuning (Linux's dynamic right-sizing): the receiver's RTT estimate and buffer sizing with
 * explicit times, the configuration's lock, and a bulk transfer with default settings over a
 * 100 Mbit/s x 100 ms path, where the advertised window grows on the wire to the path's BDP.
 */
import { describe, expect, it } from 'vitest';
import { runBulkFlows } from '../../src/sim/scenarios/bulk-flows.js';
import { ReceiveAutotuner, sendBufferFor } from '../../src/tcp/buffer-autotuning.js';
import { DEFAULT_TCP_CONFIG, receiveBufferCeiling, resolveTcpConfig } from '../../src/tcp/config.js';
import { windowScaleFor } from '../../src/tcp/tcb.js';

/** The time the object under test reads (a connection's Tcb in the stack). */
const time = { now: 0 };

describe('ReceiveAutotuner', () => {
  it('measures the RTT as the time for RCV.NXT to pass the right edge advertised, keeping the smallest', () => {
    const tuner = new ReceiveAutotuner(14_480, time);
    time.now = 0;
    tuner.onInOrderData(1000, 10_000); // edge 11000 advertised at t=0
    time.now = 30;
    tuner.onInOrderData(9000, 10_000); // not there yet
    expect(tuner.rttMs).toBe(0);
    time.now = 120;
    tuner.onInOrderData(11_000, 10_000); // passed at t=120: sample 120, next edge 21000
    expect(tuner.rttMs).toBe(120);
    time.now = 220;
    tuner.onInOrderData(21_500, 10_000); // sample 100: smaller, kept
    expect(tuner.rttMs).toBe(100);
    time.now = 400;
    tuner.onInOrderData(31_500, 10_000); // sample 180: larger, ignored
    expect(tuner.rttMs).toBe(100);
  });

  it('with timestamps takes one sample per new echo, smoothed by 1/8, and ignores the window-based ones', () => {
    const tuner = new ReceiveAutotuner(14_480, time);
    tuner.onTimestampEcho(1100, 1000);
    expect(tuner.rttMs).toBe(100);
    tuner.onTimestampEcho(1150, 1000); // the same echo again: no sample
    expect(tuner.rttMs).toBe(100);
    tuner.onTimestampEcho(1300, 1120); // 180: 100 + 80 / 8
    expect(tuner.rttMs).toBe(110);
    time.now = 0;
    tuner.onInOrderData(0, 1000);
    time.now = 20;
    tuner.onInOrderData(1000, 1000);
    expect(tuner.rttMs).toBe(110);
  });

  it('once per RTT sizes the buffer to twice the bytes read, plus 16 segments, plus the growth', () => {
    const tuner = new ReceiveAutotuner(14_480, time);
    time.now = 0;
    tuner.onInOrderData(0, 1000);
    time.now = 100;
    tuner.onInOrderData(1000, 1000); // RTT 100 ms
    time.now = 100;
    expect(tuner.onRead(5000, 1448, 6 << 20)).toBe(0); // the first round starts
    time.now = 150;
    expect(tuner.onRead(20_000, 1448, 6 << 20)).toBe(0); // within the round
    // 28960 bytes read in the round (space 14480): window = 2 * 28960 + 16 * 1448 = 81088, grown by
    // 2 * 81088 * (28960 - 14480) / 14480 = 162176: 243264.
    time.now = 200;
    expect(tuner.onRead(33_960, 1448, 6 << 20)).toBe(243_264);
    // The next round read less than the last: nothing changes.
    time.now = 300;
    expect(tuner.onRead(50_000, 1448, 6 << 20)).toBe(0);
    // Capped by the maximum.
    time.now = 400;
    expect(tuner.onRead(50_000 + 4_000_000, 1448, 6 << 20)).toBe(6 << 20);
  });

  it('a round lasts the RTT estimate as it is when the round is checked, whether it fell or rose meanwhile', () => {
    const tuner = new ReceiveAutotuner(14_480, time);
    tuner.onTimestampEcho(1100, 1000); // RTT 100
    time.now = 0;
    expect(tuner.onRead(0, 1448, 6 << 20)).toBe(0); // the first round starts at t=0
    tuner.onTimestampEcho(1200, 1180); // sample 20: RTT 100 - 80 / 8 = 90
    time.now = 89.5;
    expect(tuner.onRead(20_000, 1448, 6 << 20)).toBe(0);
    // Over at 90, not at the 100 the round started with.
    time.now = 90;
    expect(tuner.onRead(30_000, 1448, 6 << 20)).toBeGreaterThan(0);
    tuner.onTimestampEcho(1300, 1050); // sample 250: RTT 90 + 160 / 8 = 110; the round that began at 90 ends at 200
    time.now = 185;
    expect(tuner.onRead(50_000, 1448, 6 << 20)).toBe(0);
    time.now = 199.5;
    expect(tuner.onRead(60_000, 1448, 6 << 20)).toBe(0);
    time.now = 200;
    expect(tuner.onRead(70_000, 1448, 6 << 20)).toBeGreaterThan(0);
  });

  it('the send buffer holds twice the congestion window, up to the maximum, never shrinking', () => {
    expect(sendBufferFor(100_000, 262_144, 4 << 20)).toBe(0);
    expect(sendBufferFor(200_000, 262_144, 4 << 20)).toBe(400_000);
    expect(sendBufferFor(3_000_000, 262_144, 4 << 20)).toBe(4 << 20);
    // A window a little past half the buffer: a quarter more at once, not a few bytes per ACK (each
    // growth copies the ring).
    expect(sendBufferFor(140_000, 262_144, 4 << 20)).toBe(327_680);
    expect(sendBufferFor(140_000, 279_000, 4 << 20)).toBe(348_750);
    expect(sendBufferFor(2_000_000, 4 << 20, 4 << 20)).toBe(0);
    expect(sendBufferFor(2_000_000, 3_500_000, 4 << 20)).toBe(4 << 20);
  });
});

describe('autotuning configuration', () => {
  it('when on, has Linux’s caps, and the SYN offers the scale the cap needs', () => {
    const config = resolveTcpConfig({ receiveBufferAutotuning: true, sendBufferAutotuning: true });
    expect([config.receiveBufferAutotuning, config.receiveBufferMax]).toEqual([true, 6 * 1024 * 1024]);
    expect([config.sendBufferAutotuning, config.sendBufferMax]).toEqual([true, 4 * 1024 * 1024]);
    expect(windowScaleFor(receiveBufferCeiling(config))).toBe(7);
  });

  it('a buffer size set explicitly locks that buffer (as SO_RCVBUF / SO_SNDBUF do), unless asked', () => {
    const on = { receiveBufferAutotuning: true, sendBufferAutotuning: true };
    const locked = resolveTcpConfig(
      { receiveBufferSize: 65_535, sendBufferSize: 8192 },
      resolveTcpConfig(on),
    );
    expect([locked.receiveBufferAutotuning, locked.sendBufferAutotuning]).toEqual([false, false]);
    expect(windowScaleFor(receiveBufferCeiling(locked))).toBe(0);
    const both = resolveTcpConfig({ receiveBufferSize: 65_535, receiveBufferAutotuning: true });
    expect(both.receiveBufferAutotuning).toBe(true);
    // Inherited from a base that set it: still locked.
    expect(resolveTcpConfig({}, locked).receiveBufferAutotuning).toBe(false);
    expect(DEFAULT_TCP_CONFIG.receiveBufferAutotuning).toBe(true);
    expect(DEFAULT_TCP_CONFIG.sendBufferAutotuning).toBe(true);
  });
});

describe('autotuning on a long fat path (simulated)', () => {
  it('default settings (autotuned buffers) fill 100 Mbit/s x 100 ms, the advertised window growing on the wire', () => {
    const windows: Array<[number, number]> = [];
    let scale = 0;
    const result = runBulkFlows({
      flows: ['cubic'],
      rateBitsPerSecond: 100e6,
      delayMs: 50,
      // A queue of 5 BDP: no slow-start overshoot loss, so the figure is autotuning's alone.
      queueFrames: 5 * 826,
      durationMs: 3000,
      measureFromMs: 1500,
      // Nothing set: tcpts's defaults, autotuning on as Linux's tcp_moderate_rcvbuf.
      autotunedBuffers: true,
      observe: (link) =>
        link.link.path('b->a').addTap('sent', (time, frame) => {
          const tcp = 14 + (frame[14]! & 0x0f) * 4;
          const flags = frame[tcp + 13]!;
          if (flags & 0x02) {
            // The server's SYN-ACK: find the window scale option (kind 3).
            const end = tcp + (frame[tcp + 12]! >> 4) * 4;
            for (let i = tcp + 20; i < end; ) {
              const kind = frame[i]!;
              if (kind === 0) break;
              if (kind === 1) {
                i++;
                continue;
              }
              if (kind === 3) scale = frame[i + 2]!;
              i += frame[i + 1]!;
            }
            return;
          }
          windows.push([time, ((frame[tcp + 14]! << 8) | frame[tcp + 15]!) << scale]);
        }),
    });
    expect(scale).toBe(7);
    const at = (t: number) => windows.filter(([time]) => time <= t).at(-1)![1];
    // Starts from the 256 KiB default buffer ...
    expect(at(300)).toBeLessThanOrEqual(256 * 1024);
    // ... and grows past the path's BDP (1.25 MB) within a few seconds, staying under the 6 MiB cap.
    expect(at(1500)).toBeGreaterThan(1_250_000);
    expect(Math.max(...windows.map(([, w]) => w))).toBeLessThanOrEqual(6 * 1024 * 1024);
    expect(result.flows[0]!.retransmissions).toBe(0);
    expect(result.linkShare).toBeGreaterThanOrEqual(0.9);
  });
});
