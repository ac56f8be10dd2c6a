/**
 * ECN through a simulated bottleneck (RFC 3168): a queue that marks CE at a threshold instead of
 * overflowing lets an ECN flow slow down without losing anything.
 */
import { describe, expect, it } from 'vitest';
import { runBulkFlows } from '../../src/sim/scenarios/bulk-flows.js';

describe('ECN marking at the bottleneck', () => {
  it('marks replace drops: the ECN flow loses and retransmits nothing, its window reduced by ECE, the link kept busy', () => {
    const path = {
      flows: ['cubic' as const],
      rateBitsPerSecond: 20e6,
      delayMs: 10,
      queueFrames: 60,
      durationMs: 3000,
      measureFromMs: 1000,
    };
    const dropTail = runBulkFlows({ ...path, tcp: { ecn: false }, ecnMarkThresholdFrames: 20 });
    // Without ECN the packets are Not-ECT: the marker leaves them alone and slow start overflows the queue.
    expect(dropTail.ceMarks).toBe(0);
    expect(dropTail.queueDrops).toBeGreaterThan(0);
    expect(dropTail.flows[0]!.retransmissions).toBeGreaterThan(0);

    const marked = runBulkFlows({ ...path, tcp: { ecn: true }, ecnMarkThresholdFrames: 20 });
    expect(marked.ceMarks).toBeGreaterThan(0);
    expect(marked.ecnReductions).toBeGreaterThan(0);
    expect(marked.queueDrops).toBe(0);
    expect(marked.flows[0]!.retransmissions).toBe(0);
    expect(marked.linkShare).toBeGreaterThan(0.8);
  });
});
