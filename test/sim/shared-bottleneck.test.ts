/**
 * Several flows on one bottleneck, run in slices (the web lab's multi-flow scenario): every byte of every
 * flow arrives, the flows really share the queue (it fills, and the flows' segments interleave on the
 * wire), each flow uses the congestion control it was given, and a slice stops when told to.
 */
import { describe, expect, it } from 'vitest';
import { SharedBottleneckScenario } from '../../src/sim/scenarios/shared-bottleneck.js';

describe('SharedBottleneckScenario', () => {
  it('carries two flows with different algorithms through one queue, byte for byte', () => {
    const scenario = new SharedBottleneckScenario({
      flows: ['cubic', 'reno'],
      bytesPerFlow: 150_000,
      rateBitsPerSecond: 10e6,
      delayMs: 10,
      seed: 3,
    });
    // A BDP of 10 Mbit/s x 20 ms in 1514-byte frames.
    expect(scenario.queueFrames).toBe(17);
    let queuedMax = 0;
    let slices = 0;
    let algorithms: string[] = [];
    while (!scenario.advance(2)) {
      slices++;
      // Both flows are open 60 ms in (the second starts a round trip after the first).
      if (slices === 30)
        algorithms = scenario.network.clientTcp.connections().map((conn) => conn.status().congestionControl);
      queuedMax = Math.max(queuedMax, scenario.network.link.queueOccupancy('a->b').frames);
    }
    expect(slices).toBeGreaterThan(50);
    const progress = scenario.progress();
    expect(progress.phase).toBe('done');
    expect(scenario.delivered()).toEqual([150_000, 150_000]);
    expect(scenario.intact()).toBe(true);
    expect(queuedMax).toBeGreaterThan(5);
    expect(queuedMax).toBeLessThanOrEqual(17);
    const c = scenario.network.conversation();
    expect(c.flows.length).toBe(2);
    // The flows overlap in time: data of flow 1 is sent between data segments of flow 0.
    const data = c.packets.filter((p) => p.tcp && p.tcp.length > 0 && p.from === 'client');
    const lastOf0 = Math.max(...data.filter((p) => p.tcp!.flowId === 0).map((p) => p.id));
    const firstOf1 = Math.min(...data.filter((p) => p.tcp!.flowId === 1).map((p) => p.id));
    expect(firstOf1).toBeLessThan(lastOf0);
    expect(algorithms.sort()).toEqual(['cubic', 'reno']);
  });

  it('stops a slice when the caller has had enough', () => {
    const scenario = new SharedBottleneckScenario({
      flows: ['cubic'],
      bytesPerFlow: 100_000,
      rateBitsPerSecond: 10e6,
      delayMs: 10,
    });
    let asked = 0;
    expect(scenario.advance(1000, () => ++asked >= 3)).toBe(false);
    expect(asked).toBe(3);
    expect(scenario.network.now()).toBeLessThan(1000);
  });
});
