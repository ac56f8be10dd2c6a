import { describe, expect, it } from 'vitest';
import type { TcpConnection } from '../../src/tcp/connection.js';
import { TCP_RST } from '../../src/wire/tcp.js';
import { pattern } from './dialogue.js';
import { FakeNetwork, ip } from './network.js';

/**
 * Orphans: connections the application released while they still had a close to finish. A peer that
 * never reads (its window closed) keeps each one in FIN-WAIT-1 probing forever (RFC 9293 MUST-37), the
 * resource problem RFC 6429 describes; `TcpLimits.maxOrphans` (Linux tcp_max_orphans) bounds them.
 */
function stalledOrphans(count: number, maxOrphans: number) {
  const net = new FakeNetwork();
  const a = net.addHost(['10.0.0.1'], { limits: { maxOrphans } });
  const b = net.addHost(['10.0.0.2'], { config: { receiveBufferSize: 4096 } });
  b.listen({ port: 80 }); // never reads: its window closes after 4 KiB
  const clients: TcpConnection[] = [];
  for (let i = 0; i < count; i++) {
    const c = a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80 });
    c.on('connected', () => c.send(pattern(16 * 1024), net.clock.now()));
    clients.push(c);
  }
  net.run(1000);
  return { net, a, clients };
}

const resets = (net: FakeNetwork, port: number) =>
  net.packets.filter((p) => p.src === ip('10.0.0.1') && p.seg.srcPort === port && p.seg.flags & TCP_RST);

describe('orphan limit (TcpLimits.maxOrphans, Linux tcp_max_orphans)', () => {
  it('a connection released beyond the limit is reset at once; those within it go on closing', () => {
    const { net, a, clients } = stalledOrphans(3, 2);
    expect(clients.map((c) => c.state)).toEqual(['ESTABLISHED', 'ESTABLISHED', 'ESTABLISHED']);
    for (const c of clients) c.release(net.clock.now());
    // The first two are orphans, in FIN-WAIT-1 with data the peer's closed window holds back.
    expect(a.orphanCount).toBe(2);
    expect(clients.map((c) => c.state)).toEqual(['FIN-WAIT-1', 'FIN-WAIT-1', 'CLOSED']);
    expect(a.counters.orphansReset).toBe(1);
    const rst = resets(net, clients[2]!.local.port);
    expect(rst).toHaveLength(1);
    // <SEQ=SND.NXT><CTL=RST>: right after the highest byte sent.
    const sent = net.packets.filter(
      (p) => p.src === ip('10.0.0.1') && p.seg.srcPort === clients[2]!.local.port,
    );
    const iss = sent[0]!.seg.seq;
    const highest = Math.max(
      ...sent.map((p) => (p.seg.seq - iss + p.seg.payload.length + (p.seg.flags & 1)) >>> 0),
    );
    expect((rst[0]!.seg.seq - iss) >>> 0).toBe(highest);
    expect(resets(net, clients[0]!.local.port)).toHaveLength(0);
    // Within the limit (orphans x 2^backoffs <= 2 needs backoffs 0), the first probe finds 2 x 2 > 2:
    // the stalled orphans are reset at their next persist timer rather than probing forever.
    net.run(10_000);
    expect(clients.map((c) => c.state)).toEqual(['CLOSED', 'CLOSED', 'CLOSED']);
    expect(a.orphanCount).toBe(0);
    expect(a.counters.orphansReset).toBe(3);
    expect(resets(net, clients[0]!.local.port)).toHaveLength(1);
  });

  it('below the limit, stalled orphans keep probing (the peer answers every probe)', () => {
    const { net, a, clients } = stalledOrphans(2, 1024);
    for (const c of clients) c.release(net.clock.now());
    net.run(60_000);
    expect(a.orphanCount).toBe(2);
    expect(clients.map((c) => c.state)).toEqual(['FIN-WAIT-1', 'FIN-WAIT-1']);
    expect(a.counters.orphansReset).toBe(0);
  });

  it('an orphan that finishes its close leaves the count; a TIME-WAIT record is no orphan', () => {
    const net = new FakeNetwork();
    const a = net.addHost(['10.0.0.1'], { limits: { maxOrphans: 1 } });
    const b = net.addHost(['10.0.0.2']);
    b.listen({ port: 80 }).on('connection', (s) => s.on('end', () => s.close(net.clock.now())));
    const c = a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80 });
    net.run(100);
    c.release(net.clock.now());
    expect(a.orphanCount).toBe(1);
    net.run(100);
    expect(c.state).toBe('TIME-WAIT');
    expect(a.orphanCount).toBe(0);
    expect(a.counters.orphansReset).toBe(0);
  });
});

describe('orphan retries (TcpConfig.orphanRetries, Linux tcp_orphan_retries)', () => {
  /** A client with data queued toward a server that goes silent (everything it sends is lost). */
  function silentPeer(release: boolean, serverBuffer = 64 * 1024) {
    const net = new FakeNetwork();
    const a = net.addHost(['10.0.0.1']);
    const b = net.addHost(['10.0.0.2'], { config: { receiveBufferSize: serverBuffer } });
    b.listen({ port: 80 });
    const c = a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80 });
    let error: string | undefined;
    c.on('error', (e) => {
      error = (e as { code?: string }).code;
    });
    net.run(100);
    c.send(pattern(serverBuffer + 4096), net.clock.now());
    net.run(1000);
    net.drop = (p) => p.src === ip('10.0.0.2');
    c.send(pattern(1000), net.clock.now());
    if (release) c.release(net.clock.now());
    net.run(30 * 60_000);
    const fromClient = net.packets.filter((p) => p.src === ip('10.0.0.1') && p.seg.payload.length > 0);
    const lostAnswers = net.packets.filter((p) => p.src === ip('10.0.0.2') && p.dropped).length;
    return { a, c, fromClient, lostAnswers, error: () => error };
  }

  it('an orphan whose peer went silent is closed after 8 unanswered retransmissions, without R2', () => {
    const { a, c, fromClient } = silentPeer(true, 1 << 20);
    expect(c.state).toBe('CLOSED');
    expect(a.counters.orphansTimedOut).toBe(1);
    // The last data segment goes out once and is retransmitted 8 times (the FIN rides along).
    const last = fromClient.at(-1)!.seg.seq;
    expect(fromClient.filter((p) => p.seg.seq === last)).toHaveLength(9);
    expect(a.orphanCount).toBe(0);
  });

  it('an open connection waits for R2 (15 retransmissions) instead', () => {
    const { a, c, fromClient, error } = silentPeer(false, 1 << 20);
    expect(c.state).toBe('CLOSED');
    expect(error()).toBe('ETIMEDOUT');
    expect(a.counters.orphansTimedOut).toBe(0);
    const last = fromClient.at(-1)!.seg.seq;
    expect(fromClient.filter((p) => p.seg.seq === last)).toHaveLength(16);
  });

  it('an orphan probing a closed window is given up after 8 unanswered probes', () => {
    // The server's 4 KiB window closes; then it goes silent while the orphan probes.
    const { a, c, fromClient, lostAnswers } = silentPeer(true, 4096);
    expect(c.state).toBe('CLOSED');
    expect(a.counters.orphansTimedOut).toBe(1);
    // Zero-window probes (one octet each): one answered before the peer went silent, then 8 whose
    // answers were lost.
    const probes = fromClient.filter((p) => p.seg.payload.length === 1);
    expect(probes).toHaveLength(9);
    expect(lostAnswers).toBe(8);
  });
});
