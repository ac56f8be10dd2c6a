import { describe, expect, it } from 'vitest';
import type { TcpConnection } from '../../src/tcp/connection.js';
import type { Tcb } from '../../src/tcp/tcb.js';
import { pattern } from './dialogue.js';
import { FakeNetwork, ip } from './network.js';

/** Two hosts on a FakeNetwork, 10.0.0.1 (a) and 10.0.0.2 (b), and a list for b's accepted connections. */
function twoHosts() {
  const net = new FakeNetwork();
  const servers: TcpConnection[] = [];
  return { net, a: net.addHost(['10.0.0.1']), b: net.addHost(['10.0.0.2']), servers };
}

describe('buffer memory is given back when the data has been acknowledged or read', () => {
  it('connections that each sent 512 KiB then idle hold no buffer storage at either end', () => {
    const { net, a, b, servers } = twoHosts();
    const received: number[] = [];
    b.listen({ port: 80 }).on('connection', (c) => {
      servers.push(c);
      const index = servers.length - 1;
      received[index] = 0;
      c.on('readable', () => {
        for (let d = c.receive(net.clock.now()); d && d.length > 0; d = c.receive(net.clock.now())) {
          received[index]! += d.length;
        }
      });
    });
    const data = pattern(512 * 1024);
    const clients = Array.from({ length: 20 }, () => {
      const c = a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80 });
      let sent = 0;
      const pump = (): void => {
        while (sent < data.length) {
          const n = c.send(data.subarray(sent), net.clock.now());
          if (n === 0) return;
          sent += n;
        }
      };
      c.on('connected', pump);
      c.on('drain', pump);
      return c;
    });
    let peak = 0;
    for (let t = 0; t < 5000; t += 10) {
      net.run(10);
      peak = Math.max(peak, ...clients.map((c) => c.bufferMemory));
    }
    expect(received).toEqual(clients.map(() => 512 * 1024));
    // While sending, the send buffer held up to its 256 KiB; once everything was acknowledged, nothing.
    expect(peak).toBeGreaterThan(64 * 1024);
    expect(clients.map((c) => [c.state, c.bufferMemory])).toEqual(clients.map(() => ['ESTABLISHED', 0]));
    expect(servers.map((c) => c.bufferMemory)).toEqual(servers.map(() => 0));
  });
});

/** The connection's control block, for checks of what it holds (not part of the connection's API). */
function tcbOf(connection: TcpConnection): Tcb {
  return (connection as unknown as { tcb: Tcb }).tcb;
}

describe('an idle connection holds no send records', () => {
  it('the scoreboard comes with the first data sent, not with the handshake or its ACKs', () => {
    const { net, a, b, servers } = twoHosts();
    b.listen({ port: 80 }).on('connection', (c) => servers.push(c));
    const client = a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80 });
    net.run(1000);
    const server = servers[0]!;
    expect([client.state, server.state]).toEqual(['ESTABLISHED', 'ESTABLISHED']);
    // The layer's listener that hands the accepted connection to its listener went with the event.
    expect(server.listenerCount('connected')).toBe(0);
    expect([tcbOf(client).existingScoreboard, tcbOf(server).existingScoreboard]).toEqual([
      undefined,
      undefined,
    ]);
    // What STATUS reports of loss recovery is what an empty scoreboard would say, and reading it creates none.
    const status = client.status();
    expect([status.sackEnabled, status.sackedBytes, status.lostBytes, status.reordering]).toEqual([
      true,
      0,
      0,
      3,
    ]);
    expect(tcbOf(client).existingScoreboard).toBeUndefined();
    client.send(pattern(1000), net.clock.now());
    net.run(1000);
    expect(server.receive(net.clock.now())?.length).toBe(1000);
    // The sender records what it sent; the receiver, which only acknowledged, still has none.
    expect(tcbOf(client).existingScoreboard?.segmentSize).toBe(tcbOf(client).effMss);
    expect(tcbOf(server).existingScoreboard).toBeUndefined();
  });
});
