/**
 * The pictures of a real run: stacks on a simulated network, their trace turned into a conversation.
 * Link events name devices ('client-eth0'); the conversation names the hosts.
 */
import { describe, expect, it } from 'vitest';
import { tcpLayerOf } from '../../src/api/tcp-layer-of-stack.js';
import { SimulatedNetwork } from '../../src/sim/network.js';
import type { TcpConnection } from '../../src/tcp/connection.js';
import { conversationFromTrace, hostOfDevice } from '../../src/viz/conversation-from-trace.js';
import { renderHtmlReport } from '../../src/viz/html-report.js';
import { renderLadderText } from '../../src/viz/ladder-text.js';
import { packetLabel } from '../../src/viz/packet-label.js';
import { parseIpv4 } from '../../src/wire/address.js';
import { checkMarkup } from './markup-check.js';

describe('hostOfDevice', () => {
  it("maps the simulator's device and switch-port names to their host", () => {
    expect(['client-eth0', 'router-eth12', 'lan.port3', 'server', 'my-eth0x'].map(hostOfDevice)).toEqual([
      'client',
      'router',
      'lan',
      'server',
      'my-eth0x',
    ]);
  });
});

describe('a simulated network', () => {
  it('draws a ping: ARP first, then the echo, between the hosts', async () => {
    const net = new SimulatedNetwork({ seed: 3 });
    const a = net.host('client', '10.0.0.1/24');
    const b = net.host('server', '10.0.0.2/24');
    net.link(a, b, { delayMs: 5 });
    await net.ping(a, b);
    const c = conversationFromTrace(net.trace.events);
    expect(c.hosts).toEqual(['client', 'server']);
    expect(c.packets.map((p) => [p.from, p.to, p.sentAt, p.arrivedAt])).toEqual([
      ['client', 'server', 0, 5],
      ['server', 'client', 5, 10],
      ['client', 'server', 10, 15],
      ['server', 'client', 15, 20],
    ]);
    const labels = c.packets.map((p) => packetLabel(p));
    expect(labels[0]).toBe('ARP who-has 10.0.0.2 tell 10.0.0.1');
    expect(labels[2]).toMatch(/^ICMP echo request id=\d+ seq=1$/);
    expect(labels[3]).toMatch(/^ICMP echo reply id=\d+ seq=1$/);
  });

  it('draws a TCP connection of the real stack from its own trace', () => {
    const net = new SimulatedNetwork({ seed: 5 });
    const a = net.host('client', '10.0.0.1/24');
    const b = net.host('server', '10.0.0.2/24');
    net.link(a, b, { delayMs: 10 });
    let accepted: TcpConnection | undefined;
    tcpLayerOf(b)
      .listen({ port: 80 })
      .on('connection', (conn) => {
        accepted = conn;
      });
    const conn = tcpLayerOf(a).connect({ remoteAddress: parseIpv4('10.0.0.2')!, remotePort: 80 });
    net.run(100);
    conn.send(new Uint8Array(3000), net.clock.now());
    net.run(300);
    accepted!.receive(net.clock.now());
    conn.close(net.clock.now());
    net.run(300);
    accepted!.close(net.clock.now());
    net.run(300);

    const c = conversationFromTrace(net.trace.events);
    const tcp = c.packets.filter((p) => p.tcp);
    expect(c.flows).toHaveLength(1);
    const flow = c.flows[0]!;
    expect([flow.a.host, flow.a.address, flow.b.host, flow.b.address, flow.b.port]).toEqual([
      'client',
      '10.0.0.1',
      'server',
      '10.0.0.2',
      80,
    ]);
    expect(tcp[0]!.tcp!.seq).toBe(flow.isnA);
    expect(flow.bytesAtoB).toBe(3000);
    const labels = tcp.map((p) => packetLabel(p, { tcpOptions: 'none' }));
    expect(labels[0]).toMatch(/^SYN seq=0 win=\d+$/);
    expect(labels[1]).toMatch(/^SYN,ACK seq=0 ack=1 win=\d+$/);
    expect(labels[2]).toMatch(/^ACK seq=1 ack=1 win=\d+ len=0$/);
    expect(labels.filter((l) => / len=[1-9]/.test(l)).join(' ')).toMatch(/seq=1 ack=1 .*len=\d+/);
    expect(labels.some((l) => l.startsWith('FIN,ACK seq=3001 ack=1 '))).toBe(true);
    expect(labels.some((l) => l.startsWith('FIN,ACK seq=1 ack=3002 '))).toBe(true);
    expect(labels.at(-1)).toMatch(/^ACK seq=3002 ack=2 win=\d+ len=0$/);

    // Every state change is tied to the flow, and the ladder shows both sides' states.
    expect(c.states.every((s) => s.flowId === 0)).toBe(true);
    const text = renderLadderText(c);
    for (const state of [
      'SYN-SENT',
      'SYN-RECEIVED',
      'ESTABLISHED',
      'FIN-WAIT-1',
      'CLOSE-WAIT',
      'LAST-ACK',
      'TIME-WAIT',
    ]) {
      expect(text).toContain(state);
    }
    expect(text).not.toContain('client-eth0');

    const html = renderHtmlReport(c, { title: 'real run' });
    expect(checkMarkup(html, true).problems).toEqual([]);
    expect(html).toMatch(/<canvas class="time-sequence" data-index="0"/);
  });
});
