/**
 * Scripted losses: the chosen frame is lost by the link itself, so the trace, the link's counters and the
 * capture all record it; rules count only matching frames from their host, and are used up once.
 */
import { describe, expect, it } from 'vitest';
import { readPcap } from '../../src/pcap/pcap-reader.js';
import { TwoHostNetwork } from '../../src/sim/scenarios/two-hosts.js';

describe('ScriptedLoss', () => {
  it('loses exactly the nth matching frame from a host, and the link, trace and capture agree', async () => {
    const n = new TwoHostNetwork({ delayMs: 5 });
    const received: string[] = [];
    const decoder = new TextDecoder();
    n.server.udp.bind({ port: 9 }, { message: (payload) => received.push(decoder.decode(payload)) });
    const socket = n.client.udp.bind({});
    // Never used: the server sends no UDP (only frames from the named host count).
    n.loss.lose({ from: 'server', when: (f) => f.decoded.udp !== undefined });
    n.loss.lose({
      from: 'client',
      when: (f) => f.decoded.udp !== undefined,
      nth: 2,
      label: 'the second datagram',
    });
    expect(n.loss.pending).toBe(2);
    for (const text of ['one', 'two', 'three']) {
      socket.send(new TextEncoder().encode(text), 9, n.serverAddress);
      n.run(20);
    }
    expect(received).toEqual(['one', 'three']);
    expect(n.loss.drops).toEqual([{ time: 20, from: 'client', label: 'the second datagram' }]);
    expect(n.loss.pending).toBe(1);
    expect(n.link.counters('a->b').dropped.loss).toBe(1);
    expect(n.link.counters('b->a').dropped.loss).toBe(0);
    const c = n.conversation();
    expect(c.packets.map((p) => [p.from, p.protocol, p.dropped ?? 'delivered'])).toEqual([
      ['client', 'arp', 'delivered'],
      ['server', 'arp', 'delivered'],
      ['client', 'udp', 'delivered'],
      ['client', 'udp', 'loss'],
      ['client', 'udp', 'delivered'],
    ]);
    // The capture holds every frame as sent, the lost ones included.
    const pcap = readPcap(n.pcap());
    expect(pcap.ok && pcap.value.records.length).toBe(5);
    // The link's own impairments are back as they were.
    expect(n.link.impairments('a->b')).toEqual({ delayMs: 5 });
  });

  it('refuses a rule for a frame before the first', () => {
    const n = new TwoHostNetwork();
    expect(() => n.loss.lose({ from: 'client', nth: 0 })).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
  });
});
