/**
 * `tcpts sim`'s scenario (TransferScenario) and its buffers: sizes given are fixed, as SO_RCVBUF /
 * SO_SNDBUF fix them on Linux; sizes left out are autotuned (tcp_rmem / tcp_wmem).
 */
import { describe, expect, it } from 'vitest';
import { type TransferOptions, TransferScenario } from '../../src/sim/scenarios/transfer.js';

/** 4 MiB over 100 Mbit/s with a 50 ms round trip: the BDP (625 kB) is more than 256 KiB. */
const PATH = { clientBytes: 4 * 1024 * 1024, rateBitsPerSecond: 100e6, delayMs: 25, queueFrames: 413 };

/** Runs the transfer; returns how long it took and how often each side grew a buffer. */
function transfer(options: TransferOptions) {
  const scenario = new TransferScenario({ ...PATH, ...options });
  const result = scenario.runToEnd();
  expect(result.intact).toBe(true);
  const counters = scenario.network.counters();
  return {
    durationMs: result.durationMs,
    receiveGrowths: counters.server!.TcpReceiveBufferGrowths,
    sendGrowths: counters.client!.TcpSendBufferGrowths,
  };
}

describe('tcpts sim buffers', () => {
  it('without sizes the buffers grow with the path (autotuning)', () => {
    const run = transfer({});
    expect(run.receiveGrowths).toBeGreaterThan(0);
    expect(run.sendGrowths).toBeGreaterThan(0);
    // A fixed 256 KiB window would hold the rate to 256 KiB per 50 ms (42 Mbit/s): 4 MiB in 0.8 s at
    // best. Autotuned, the window passes the BDP.
    expect(run.durationMs).toBeLessThan(800);
  });

  it('sizes given are kept: no growth, and the window limits the rate', () => {
    const size = 256 * 1024;
    const run = transfer({ clientReceiveBuffer: size, serverReceiveBuffer: size, sendBuffer: size });
    expect([run.receiveGrowths, run.sendGrowths]).toEqual([0, 0]);
    expect(run.durationMs).toBeGreaterThan(800);
  });
});
