import { describe, expect, test } from 'vitest';
import { readPcap } from '../../src/pcap/pcap-reader.js';
import { SimulatedNetwork } from '../../src/sim/network.js';
import { analyzePcapBytes, tsharkSkipReason } from '../helpers/tshark.js';

const skip = tsharkSkipReason();
if (skip) console.warn(`skipping tshark validation: ${skip}`);

/** A ping scenario captured on both links: ARP, echo, fragments, UDP, port unreachable, time exceeded. */
async function capturedScenario() {
  const net = new SimulatedNetwork({ seed: 9 });
  const a = net.host('a', '10.0.1.2/24', { gateway: '10.0.1.1' });
  const b = net.host('b', '10.0.2.2/24', { gateway: '10.0.2.1' });
  const r = net.router('r');
  const ar = net.link(a, [r, '10.0.1.1/24'], { delayMs: 1 });
  const rb = net.link([r, '10.0.2.1/24'], b, { delayMs: 2, mtu: 1000 });
  const first = net.capture(ar);
  const second = net.capture(rb);
  await net.ping(a, b);
  await net.ping(a, b, { size: 4000 });
  await net.ping(a, b, { ttl: 1 }).catch(() => undefined);
  await net.ping(a, b, { size: 1200, dontFragment: true }).catch(() => undefined);
  a.udp.bind({}).send(new TextEncoder().encode('anyone there?'), 4444, '10.0.2.2');
  net.runUntilIdle();
  return { first: first.bytes(), second: second.bytes() };
}

describe('pcap of a ping scenario', () => {
  test('is byte-identical across runs and readable back', async () => {
    const one = await capturedScenario();
    const two = await capturedScenario();
    expect(two.first).toEqual(one.first);
    expect(two.second).toEqual(one.second);
    const parsed = readPcap(one.first);
    if (!parsed.ok) throw new Error(parsed.error.message);
    // ARP x2, echo x2, the 4000-byte echo in 3 fragments and its reply in 5 (b's link has MTU 1000, so b
    // fragments it smaller and r forwards the pieces as they are), TTL-1 echo + time exceeded, DF echo +
    // frag needed, UDP + port unreachable, and r's unicast probe of a (learned STALE from a's request,
    // RFC 4861 §7.3.3) with a's answer
    expect(parsed.value.records).toHaveLength(20);
  });

  test.skipIf(skip !== undefined)('tshark finds no malformed packets and no bad checksums', async () => {
    const { first, second } = await capturedScenario();
    for (const capture of [first, second]) {
      const report = analyzePcapBytes(capture);
      expect(report.malformed).toBe(0);
      expect(report.badChecksums).toBe(0);
      expect(report.messages.filter((m) => m.includes('[error]'))).toEqual([]);
    }
    expect(analyzePcapBytes(first).packets).toBe(20);
  });
});
