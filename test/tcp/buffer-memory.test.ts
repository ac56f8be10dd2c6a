import { describe, expect, it } from 'vitest';
import type { TcpConnection } from '../../src/tcp/connection.js';
import type { Tcb } from '../../src/tcp/tcb.js';
import { bulkTransfers } from './bulk-transfers.js';
import { pattern } from './dialogue.js';
import { describePacket, FakeNetwork, ip } from './network.js';

/** Two hosts on a FakeNetwork, 10.0.0.1 (a) and 10.0.0.2 (b), and a list for b's accepted connections. */
function twoHosts() {
  const net = new FakeNetwork();
  const servers: TcpConnection[] = [];
  return { net, a: net.addHost(['10.0.0.1']), b: net.addHost(['10.0.0.2']), servers };
}

describe('buffer memory is given back when the data has been acknowledged or read', () => {
  it('connections that each sent 512 KiB then idle hold no buffer storage at either end', () => {
    const { net, a, b } = twoHosts();
    const t = bulkTransfers(net, a, b, 20, pattern(512 * 1024));
    let peak = 0;
    for (let time = 0; time < 5000; time += 10) {
      net.run(10);
      peak = Math.max(peak, ...t.clients.map((c) => c.bufferMemory));
    }
    expect(t.exact()).toEqual(t.clients.map(() => true));
    // While sending, the send buffer held up to its 256 KiB; once everything was acknowledged, nothing.
    expect(peak).toBeGreaterThan(64 * 1024);
    expect(t.clients.map((c) => [c.state, c.bufferMemory])).toEqual(t.clients.map(() => ['ESTABLISHED', 0]));
    expect(t.servers.map((c) => c.bufferMemory)).toEqual(t.servers.map(() => 0));
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
    // The layer hears 'connected', 'state' and 'closed' as the connections' owner, not as a listener: an
    // idle connection the application does not listen to holds no listener (nor its closure).
    for (const event of ['connected', 'state', 'closed'] as const) {
      expect([client.listenerCount(event), server.listenerCount(event)]).toEqual([0, 0]);
    }
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

describe('a connection that sends no data makes no congestion control', () => {
  /** Client connects and closes at once; the server closes when it reads the end. */
  function openAndClose(dropFirstFin: boolean) {
    // Untraced: a traced connection makes its controller to report cwnd in its metrics events.
    const net = new FakeNetwork();
    const a = net.addHost(['10.0.0.1'], { trace: false });
    const b = net.addHost(['10.0.0.2'], { trace: false });
    const servers: TcpConnection[] = [];
    let finsDropped = 0;
    net.drop = (p) => {
      if (!dropFirstFin || (p.seg.flags & 0x01) === 0 || finsDropped > 0) return false;
      finsDropped++;
      return true;
    };
    b.listen({ port: 80 }).on('connection', (c) => {
      servers.push(c);
      c.on('end', () => c.close(net.clock.now()));
    });
    const client = a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80 });
    client.on('connected', () => client.close(net.clock.now()));
    return { net, client, servers };
  }

  it('FINs alone leave without one, on the wire as before: FIN, ACK, FIN, ACK, then TIME-WAIT', () => {
    const { net, client, servers } = openAndClose(false);
    net.run(100);
    const server = servers[0]!;
    expect(net.packets.map((p) => describePacket(p).split(' ')[1])).toEqual([
      'S',
      'SA',
      'A',
      'FA',
      'A',
      'FA',
      'A',
    ]);
    expect([client.state, server.state]).toEqual(['TIME-WAIT', 'CLOSED']);
    expect([tcbOf(client).existingCc, tcbOf(server).existingCc]).toEqual([undefined, undefined]);
    // STATUS still reports the algorithm's initial window (it makes the controller to read it).
    expect(server.status().cwnd).toBe(10 * tcbOf(server).effMss);
  });

  it('a lost FIN is sent again after the retransmission timeout, and the connection closes', () => {
    const { net, client, servers } = openAndClose(true);
    net.run(5000);
    const fins = net.packets.filter((p) => (p.seg.flags & 0x01) !== 0).map((p) => describePacket(p));
    expect(fins).toHaveLength(3);
    expect(fins[0]).toContain('(dropped)');
    expect(fins[1]).toBe(fins[0]!.replace(' (dropped)', ''));
    expect([client.state, servers[0]!.state]).toEqual(['TIME-WAIT', 'CLOSED']);
    expect(client.status().retransmissions).toBe(1);
  });
});

describe('a bulk sender cuts its segments from views it cut before', () => {
  it('its send ring is a whole number of MSS, so segment after segment is served a view cut one lap earlier', () => {
    const net = new FakeNetwork();
    // A fixed send buffer of 1,000,000 bytes (not a multiple of the MSS), larger than the receiver's fixed
    // 256 KiB window: the sender is held by the window, never short of data, so every segment is full.
    const a = net.addHost(['10.0.0.1'], { trace: false, config: { sendBufferSize: 1_000_000 } });
    const b = net.addHost(['10.0.0.2'], { trace: false, config: { receiveBufferSize: 262_144 } });
    const t = bulkTransfers(net, a, b, 1, pattern(8 * 1024 * 1024));
    net.run(1);
    const tcb = tcbOf(t.clients[0]!);
    // Every payload view the send buffer hands the segment builder: distinct objects against segments.
    const views = new Set<Uint8Array>();
    let segments = 0;
    const buffer = tcb.sendBuffer;
    const bytesAt = buffer.bytesAt.bind(buffer);
    buffer.bytesAt = (seq: number, length: number): Uint8Array => {
      const view = bytesAt(seq, length);
      segments++;
      views.add(view);
      return view;
    };
    net.run(60_000);
    expect(t.exact()).toEqual([true]);
    expect(tcb.effMss).toBe(1448);
    // 8 MiB in 1,448-byte segments (5,794) through a ring of 1,000,568 bytes (691 segments): the views of
    // the first lap, and one for the last, short, segment.
    expect(segments).toBeGreaterThanOrEqual(5794);
    expect(views.size).toBeLessThanOrEqual(692);
  });
});
