/**
 * `tcpts sim`'s scenario (TransferScenario) and its buffers: sizes given are fixed, as SO_RCVBUF /
 * SO_SNDBUF fix them on Linux; sizes left out are autotuned (tcp_rmem / tcp_wmem).
 */
import { describe, expect, it } from 'vitest';
import { TransferScenario } from '../../src/sim/scenarios/transfer.js';

/** 4 MiB over 100 Mbit/s with a 50 ms round trip: the BDP (625 kB) is more than 256 KiB. */
const PATH = { clientBytes: 4 * 1024 * 1024, rateBitsPerSecond: 100e6, delayMs: 25, queueFrames: 413 };

describe('tcpts sim buffers', () => {
  it('without sizes the buffers grow with the path (autotuning)', () => {
    const scenario = new TransferScenario(PATH);
    const result = scenario.runToEnd();
    expect(result.intact).toBe(true);
    const server = scenario.network.counters().server!;
    const client = scenario.network.counters().client!;
    expect(server.TcpReceiveBufferGrowths).toBeGreaterThan(0);
    expect(client.TcpSendBufferGrowths).toBeGreaterThan(0);
    // A fixed 256 KiB window would hold the rate to 256 KiB per 50 ms (42 Mbit/s): 4 MiB in 0.8 s at
    // best. Autotuned, the window passes the BDP.
    expect(result.durationMs).toBeLessThan(800);
  });

  it('sizes given are kept: no growth, and the window limits the rate', () => {
    const scenario = new TransferScenario({
      ...PATH,
      clientReceiveBuffer: 256 * 1024,
      serverReceiveBuffer: 256 * 1024,
      sendBuffer: 256 * 1024,
    });
    const result = scenario.runToEnd();
    expect(result.intact).toBe(true);
    const server = scenario.network.counters().server!;
    const client = scenario.network.counters().client!;
    expect(server.TcpReceiveBufferGrowths).toBe(0);
    expect(client.TcpSendBufferGrowths).toBe(0);
    expect(result.durationMs).toBeGreaterThan(800);
  });
});
