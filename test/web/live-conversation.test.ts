/**
 * The lab's incremental model of a running conversation (web/live-conversation.ts) must say what the
 * batch analysis says about every packet (relative numbers, retransmissions and their causes, duplicate
 * ACKs, probes, losses, arrival times), however the trace is cut into slices; and its RTT samples must
 * follow Karn's rule as the conversation's do.
 */
import { describe, expect, it } from 'vitest';
import { TransferScenario } from '../../src/sim/scenarios/transfer.js';
import { LiveConversation } from '../../web/live-conversation.js';

describe('LiveConversation', () => {
  it('labels every packet of a lossy run as the batch analysis does, read in slices', () => {
    const scenario = new TransferScenario({
      clientBytes: 120_000,
      serverBytes: 20_000,
      loss: 0.05,
      delayMs: 15,
      rateBitsPerSecond: 4e6,
      seed: 7,
    });
    const live = new LiveConversation(scenario.network.net.trace.events);
    let slices = 0;
    while (!scenario.advance(3)) {
      live.pump();
      slices++;
    }
    live.pump();
    expect(slices).toBeGreaterThan(20);
    const batch = scenario.network.conversation();
    expect(live.packets.length).toBe(batch.packets.length);
    const view = (p: (typeof batch.packets)[number]) => ({
      id: p.id,
      from: p.from,
      sentAt: p.sentAt,
      arrivedAt: p.arrivedAt,
      dropped: p.dropped,
      tcp: p.tcp,
    });
    expect(live.packets.map(view)).toEqual(batch.packets.map(view));
    // The run had something to say: losses, retransmissions with causes from the stack, dup ACKs.
    const resent = live.packets.filter((p) => p.tcp?.retransmission);
    expect(resent.length).toBeGreaterThan(0);
    expect(resent.every((p) => p.tcp!.retransmission !== 'detected')).toBe(true);
    expect(live.packets.some((p) => p.dropped)).toBe(true);
    // The flows: the same endpoints and initial sequence numbers (their end times and totals are the
    // batch's business: the live model analyses a packet when it is sent).
    const ends = (f: { a: unknown; b: unknown; isnA?: number; isnB?: number }) => [f.a, f.b, f.isnA, f.isnB];
    expect(live.flows().map(ends)).toEqual(batch.flows.map(ends));
    // RTT samples: the same instants and values as the conversation's (Karn's rule on both sides).
    const samples = (list: readonly { host: string; time: number; rtt: number }[]) =>
      list.map((s) => `${s.host} ${s.time.toFixed(3)} ${s.rtt.toFixed(3)}`);
    expect(samples(live.rttSamples)).toEqual(samples(batch.rttSamples));
    // Metrics carry the flow they belong to, as in the conversation.
    expect(live.metrics.map((m) => m.flowId)).toEqual(batch.metrics.map((m) => m.flowId));
  });
});
