import { describe, expect, it } from 'vitest';
import type { TcpConnection } from '../../src/tcp/connection.js';
import { EPHEMERAL_PORT_MAX, EPHEMERAL_PORT_MIN } from '../../src/tcp/ephemeral-ports.js';
import type { TcpError } from '../../src/tcp/errors.js';
import { TCP_ACK, TCP_RST, TCP_SYN } from '../../src/wire/tcp.js';
import { flagsToString, pattern } from './dialogue.js';
import { describePacket, FakeNetwork, ip } from './network.js';

function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as TcpError).code;
  }
  return undefined;
}

function record(conn: TcpConnection): string[] {
  const events: string[] = [];
  for (const name of ['connected', 'end', 'closed'] as const) conn.on(name, () => events.push(name));
  conn.on('error', (e) => events.push(`error:${e.code}`));
  return events;
}

function readAll(conn: TcpConnection, sink: number[]): void {
  conn.on('readable', () => {
    for (;;) {
      const data = conn.receive(0);
      if (data === null || data.length === 0) return;
      sink.push(...data);
    }
  });
}

describe('TcpLayer: demultiplexing, listeners and a whole conversation', () => {
  it('connect, accept, exchange data both ways, close both ends; tables and timers end empty', () => {
    const net = new FakeNetwork();
    const a = net.addHost(['10.0.0.1']);
    const b = net.addHost(['10.0.0.2']);
    const listener = b.listen({ port: 80 });
    let server: TcpConnection | undefined;
    const serverGot: number[] = [];
    listener.on('connection', (c) => {
      server = c;
      readAll(c, serverGot);
      c.on('end', () => {
        c.send(pattern(3000, 7), net.clock.now());
        c.close(net.clock.now());
      });
    });
    const client = a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80 });
    expect(client.local.port).toBeGreaterThanOrEqual(EPHEMERAL_PORT_MIN);
    expect(client.local.port).toBeLessThanOrEqual(EPHEMERAL_PORT_MAX);
    expect(client.local.address).toBe(ip('10.0.0.1')); // from the route (MUST-44)
    const clientGot: number[] = [];
    readAll(client, clientGot);
    const clientEvents = record(client);
    client.on('connected', () => {
      client.send(pattern(5000), net.clock.now());
      client.close(net.clock.now());
    });
    net.runUntil(10_000);
    expect(serverGot).toEqual(Array.from(pattern(5000)));
    expect(clientGot).toEqual(Array.from(pattern(3000, 7)));
    expect(clientEvents).toEqual(['connected', 'end']);
    expect(client.state).toBe('TIME-WAIT');
    expect(server!.state).toBe('CLOSED');
    expect(b.connectionCount).toBe(0);
    net.runUntil(10_000 + 60_000);
    expect(client.state).toBe('CLOSED');
    expect(a.connectionCount).toBe(0);
    expect(a.hasPendingTimers).toBe(false);
    expect(b.hasPendingTimers).toBe(false);
    expect(net.clock.pendingTimers).toBe(0);
    listener.close();
    expect(b.listenerCount).toBe(0);
    expect(a.counters.internalErrors + b.counters.internalErrors).toBe(0);
  });

  it('answers a SYN to a closed port with <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>: ECONNREFUSED (§3.10.7.1)', () => {
    const net = new FakeNetwork();
    const a = net.addHost(['10.0.0.1']);
    net.addHost(['10.0.0.2']);
    const client = a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 81 });
    const events = record(client);
    net.run(10);
    const [syn, rst] = net.packets;
    expect(flagsToString(rst!.seg.flags)).toBe('RA');
    expect(rst!.seg.seq).toBe(0);
    expect(rst!.seg.ack).toBe((syn!.seg.seq + 1) >>> 0);
    expect(events).toEqual(['error:ECONNREFUSED', 'closed']);
    expect(a.connectionCount).toBe(0);
  });

  it('answers an ACK for no connection with <SEQ=SEG.ACK><CTL=RST>, and never answers a RST', () => {
    const net = new FakeNetwork();
    const b = net.addHost(['10.0.0.2']);
    const mk = (flags: number, seq: number, ack: number) => ({
      srcPort: 1234,
      dstPort: 80,
      seq,
      ack,
      flags,
      window: 1000,
      urgentPointer: 0,
      options: {},
      payload: new Uint8Array(5),
    });
    b.receive(ip('10.0.0.1'), ip('10.0.0.2'), mk(TCP_ACK, 100, 777));
    b.receive(ip('10.0.0.1'), ip('10.0.0.2'), mk(TCP_RST, 100, 0));
    b.receive(ip('10.0.0.1'), ip('10.0.0.2'), mk(TCP_RST | TCP_ACK, 100, 5));
    expect(net.packets.map((p) => [flagsToString(p.seg.flags), p.seg.seq, p.seg.ack])).toEqual([
      ['R', 777, 0],
    ]);
    // Data without ACK: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
    b.receive(ip('10.0.0.1'), ip('10.0.0.2'), mk(0, 100, 0));
    expect(net.packets.slice(1).map((p) => [flagsToString(p.seg.flags), p.seg.seq, p.seg.ack])).toEqual([
      ['RA', 0, 105],
    ]);
  });

  it('a listener answers an ACK with RST, ignores RST, and needs SYN', () => {
    const net = new FakeNetwork();
    const b = net.addHost(['10.0.0.2']);
    b.listen({ port: 80 });
    const base = {
      srcPort: 1234,
      dstPort: 80,
      window: 1000,
      urgentPointer: 0,
      options: {},
      payload: new Uint8Array(0),
    };
    b.receive(ip('10.0.0.1'), ip('10.0.0.2'), { ...base, seq: 1, ack: 55, flags: TCP_ACK });
    b.receive(ip('10.0.0.1'), ip('10.0.0.2'), { ...base, seq: 1, ack: 0, flags: TCP_RST });
    b.receive(ip('10.0.0.1'), ip('10.0.0.2'), { ...base, seq: 1, ack: 0, flags: 0 });
    expect(net.packets.map((p) => [flagsToString(p.seg.flags), p.seg.seq])).toEqual([['R', 55]]);
    expect(b.connectionCount).toBe(0);
  });

  it('a specific and a wildcard listener share a port; the specific one wins for its address (MUST-42)', () => {
    const net = new FakeNetwork();
    const a = net.addHost(['10.0.0.1']);
    const b = net.addHost(['10.0.0.2', '10.0.0.3']);
    const specific = b.listen({ port: 80, address: ip('10.0.0.2') });
    const wildcard = b.listen({ port: 80 });
    expect(errorCode(() => b.listen({ port: 80 }))).toBe('EADDRINUSE');
    expect(errorCode(() => b.listen({ port: 80, address: ip('10.0.0.2') }))).toBe('EADDRINUSE');
    expect(errorCode(() => b.listen({ port: 81, address: ip('10.0.0.9') }))).toBe('EADDRNOTAVAIL');
    a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80 });
    a.connect({ remoteAddress: ip('10.0.0.3'), remotePort: 80 });
    net.run(10);
    expect(specific.pendingCount).toBe(1);
    expect(wildcard.pendingCount).toBe(1);
    expect(specific.accept()!.local.address).toBe(ip('10.0.0.2'));
    expect(wildcard.accept()!.local.address).toBe(ip('10.0.0.3'));
  });

  it('ephemeral ports come from 49152-65535 (RFC 6056), differ per connection, repeat with the same secret', () => {
    const ports = (): number[] => {
      const net = new FakeNetwork();
      const a = net.addHost(['10.0.0.1']);
      net.addHost(['10.0.0.2']).listen({ port: 80 });
      const out: number[] = [];
      for (let i = 0; i < 50; i++)
        out.push(a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80 }).local.port);
      return out;
    };
    const first = ports();
    expect(new Set(first).size).toBe(50);
    for (const p of first) {
      expect(p).toBeGreaterThanOrEqual(49152);
      expect(p).toBeLessThanOrEqual(65535);
    }
    expect(ports()).toEqual(first);
  });

  it('refuses OPEN to broadcast and multicast addresses (MUST-46) and bad arguments', () => {
    const net = new FakeNetwork();
    const a = net.addHost(['10.0.0.1']);
    expect(errorCode(() => a.connect({ remoteAddress: ip('255.255.255.255'), remotePort: 80 }))).toBe(
      'EADDRNOTAVAIL',
    );
    expect(errorCode(() => a.connect({ remoteAddress: ip('10.0.0.255'), remotePort: 80 }))).toBe(
      'EADDRNOTAVAIL',
    );
    expect(errorCode(() => a.connect({ remoteAddress: ip('224.0.0.1'), remotePort: 80 }))).toBe(
      'EADDRNOTAVAIL',
    );
    expect(errorCode(() => a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 0 }))).toBe('EINVAL');
    expect(errorCode(() => a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 70000 }))).toBe('EINVAL');
    expect(errorCode(() => a.connect({ remoteAddress: ip('192.168.1.1'), remotePort: 80 }))).toBe(
      'ENETUNREACH',
    );
    expect(
      errorCode(() =>
        a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80, localAddress: ip('10.0.0.7') }),
      ),
    ).toBe('EADDRNOTAVAIL');
    expect(net.packets).toEqual([]);
  });

  it('silently drops segments to broadcast or multicast addresses (MUST-57)', () => {
    const net = new FakeNetwork();
    const b = net.addHost(['10.0.0.2']);
    b.listen({ port: 80 });
    const syn = {
      srcPort: 1234,
      dstPort: 80,
      seq: 1,
      ack: 0,
      flags: TCP_SYN,
      window: 1000,
      urgentPointer: 0,
      options: {},
      payload: new Uint8Array(0),
    };
    b.receive(ip('10.0.0.1'), ip('10.0.0.255'), syn);
    b.receive(ip('10.0.0.1'), ip('224.1.2.3'), syn);
    b.receive(ip('224.1.2.3'), ip('10.0.0.2'), syn);
    expect(net.packets).toEqual([]);
    expect(b.connectionCount).toBe(0);
    expect(b.counters.segmentsDropped).toBe(3);
  });

  it('bounds the SYN queue and the accept queue separately (tcp_max_syn_backlog, backlog)', () => {
    const net = new FakeNetwork();
    const a = net.addHost(['10.0.0.1']);
    const b = net.addHost(['10.0.0.2'], { limits: { synCookies: 'off', maxSynBacklog: 1 } });
    const listener = b.listen({ port: 80, backlog: 2 });
    expect([listener.backlog, listener.synQueueLimit]).toEqual([2, 1]);
    for (let i = 0; i < 3; i++) a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80 });
    net.run(1);
    // One SYN fills the SYN queue; the two others are dropped (no cookies), not counted as overflows.
    expect(listener.halfOpenCount).toBe(1);
    expect([b.counters.listenDrops, b.counters.listenOverflows]).toEqual([2, 0]);
    net.run(10);
    expect(listener.pendingCount).toBe(1);
    // Both retransmit their SYN at 1 s: one finds the SYN queue free, the other does not.
    net.runUntil(1100);
    expect(listener.pendingCount).toBe(2);
    expect(b.counters.listenDrops).toBe(3);
    // At 3 s the last SYN finds the accept queue full: an overflow.
    net.runUntil(3100);
    expect(b.counters.listenOverflows).toBe(1);
    expect(listener.pendingCount).toBe(2);
    expect(listener.accept()).toBeDefined();
    net.runUntil(7100);
    expect(listener.pendingCount).toBe(2);
  });

  it('drops the ACK completing a handshake while the accept queue is full; the SYN-ACK retransmission completes it', () => {
    const net = new FakeNetwork();
    const a = net.addHost(['10.0.0.1']);
    const b = net.addHost(['10.0.0.2']);
    const listener = b.listen({ port: 80, backlog: 2 });
    a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80 });
    net.run(10);
    expect(listener.pendingCount).toBe(1);
    const c2 = a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80 });
    const c3 = a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80 });
    net.run(10);
    expect([c2.state, c3.state]).toEqual(['ESTABLISHED', 'ESTABLISHED']);
    expect(listener.pendingCount).toBe(2);
    expect(listener.halfOpenCount).toBe(1);
    expect(b.counters.listenOverflows).toBe(1);
    listener.accept();
    // The SYN-ACK goes again at 1 s after it was first sent; the client's answer completes the handshake.
    net.runUntil(1030);
    expect(listener.halfOpenCount).toBe(0);
    expect(listener.pendingCount).toBe(2);
  });

  it('keeps a 4-tuple busy during TIME-WAIT (S8): a new connection on it is refused', () => {
    const net = new FakeNetwork();
    const a = net.addHost(['10.0.0.1']);
    const b = net.addHost(['10.0.0.2']);
    b.listen({ port: 80 }).on('connection', (c) => c.on('end', () => c.close(net.clock.now())));
    const client = a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80, localPort: 5555 });
    client.on('connected', () => client.close(net.clock.now()));
    net.run(100);
    expect(client.state).toBe('TIME-WAIT');
    expect(
      errorCode(() => a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80, localPort: 5555 })),
    ).toBe('EADDRINUSE');
    net.run(60_000);
    expect(a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80, localPort: 5555 }).state).toBe(
      'SYN-SENT',
    );
  });

  it('a new SYN with a higher sequence number takes over a TIME-WAIT 4-tuple (MAY-2); an old one gets a challenge ACK', () => {
    const net = new FakeNetwork();
    // Sequence numbers decide here: without timestamps (with them, RFC 6191's rule applies instead).
    const config = { timestamps: false };
    const a = net.addHost(['10.0.0.1'], { config });
    const b = net.addHost(['10.0.0.2'], { config });
    // The server closes first, so the server side holds TIME-WAIT.
    const listener = b.listen({ port: 80 });
    let accepted = 0;
    let tw: TcpConnection | undefined;
    listener.on('connection', (c) => {
      if (accepted++ === 0) {
        tw = c;
        c.close(net.clock.now());
      }
    });
    const first = a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80, localPort: 5555 });
    first.on('end', () => first.close(net.clock.now()));
    net.run(100);
    expect(first.state).toBe('CLOSED');
    // TIME-WAIT is a compact record in the layer; the connection object reads TIME-WAIT meanwhile.
    expect([b.connections().length, b.timeWaitCount, b.connectionCount]).toEqual([0, 1, 1]);
    if (tw === undefined) throw new Error('no connection accepted');
    expect(tw.state).toBe('TIME-WAIT');
    const old = tw.status();
    // A stale SYN (sequence number not above RCV.NXT): RFC 5961 challenge ACK, TIME-WAIT stays.
    net.packets.length = 0;
    b.receive(ip('10.0.0.1'), ip('10.0.0.2'), {
      srcPort: 5555,
      dstPort: 80,
      seq: (old.rcvNxt - 10) >>> 0,
      ack: 0,
      flags: TCP_SYN,
      window: 1000,
      urgentPointer: 0,
      options: {},
      payload: new Uint8Array(0),
    });
    expect(net.packets.map((p) => flagsToString(p.seg.flags))).toEqual(['A']);
    expect(tw.state).toBe('TIME-WAIT');
    // Reconnect from the same port a second later: the ISN clock has moved on, the SYN is higher.
    net.run(1000);
    const second = a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80, localPort: 5555 });
    net.run(10);
    expect(second.state).toBe('ESTABLISHED');
    expect(b.counters.timeWaitTakeovers).toBe(1);
    expect(tw.state).toBe('CLOSED');
    expect(b.timeWaitCount).toBe(0);
    const fresh = b.connections()[0]!;
    expect((fresh.status().iss - old.sndMax) | 0).toBeGreaterThan(0);
  });

  it('simultaneous open between two layers yields one connection on each side (S2)', () => {
    const net = new FakeNetwork();
    const a = net.addHost(['10.0.0.1']);
    const b = net.addHost(['10.0.0.2']);
    const ca = a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 6000, localPort: 5000 });
    const cb = b.connect({ remoteAddress: ip('10.0.0.1'), remotePort: 5000, localPort: 6000 });
    const statesA: string[] = [];
    const statesB: string[] = [];
    ca.on('state', (_f, t) => statesA.push(t));
    cb.on('state', (_f, t) => statesB.push(t));
    net.run(20);
    expect(ca.state).toBe('ESTABLISHED');
    expect(cb.state).toBe('ESTABLISHED');
    expect(statesA).toEqual(['SYN-RECEIVED', 'ESTABLISHED']);
    expect(statesB).toEqual(['SYN-RECEIVED', 'ESTABLISHED']);
    expect(a.connectionCount).toBe(1);
    expect(b.connectionCount).toBe(1);
    const got: number[] = [];
    readAll(cb, got);
    ca.send(pattern(100), net.clock.now());
    net.run(100);
    expect(got).toEqual(Array.from(pattern(100)));
  });

  it('abort sends RST; the peer sees ECONNRESET (S9, MUST-12)', () => {
    const net = new FakeNetwork();
    const a = net.addHost(['10.0.0.1']);
    const b = net.addHost(['10.0.0.2']);
    let server: TcpConnection | undefined;
    const serverEvents: string[] = [];
    b.listen({ port: 80 }).on('connection', (c) => {
      server = c;
      c.on('error', (e) => serverEvents.push(e.code));
    });
    const client = a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80 });
    net.run(10);
    client.send(pattern(10), net.clock.now());
    net.run(100);
    client.abort(net.clock.now());
    net.run(10);
    expect(net.packets.map(describePacket).at(-1)).toMatch(/ R len=0$/);
    expect(serverEvents).toEqual(['ECONNRESET']);
    expect(server!.state).toBe('CLOSED');
    expect(a.connectionCount + b.connectionCount).toBe(0);
  });

  it('runs all connections from one clock timer', () => {
    const net = new FakeNetwork();
    const a = net.addHost(['10.0.0.1']);
    net.addHost(['10.0.0.2']);
    for (let i = 0; i < 20; i++) a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 9 });
    net.drop = () => true;
    // 20 SYNs in flight toward a black hole: the layer holds one clock timer for all their timers.
    expect(net.clock.pendingTimers).toBe(21); // 20 deliveries + 1 layer timer
    net.run(5000);
    expect(a.connections().every((c) => c.status().retransmissions === 2)).toBe(true);
  });

  it('closing a listener aborts its unaccepted connections', () => {
    const net = new FakeNetwork();
    const a = net.addHost(['10.0.0.1']);
    const b = net.addHost(['10.0.0.2']);
    const listener = b.listen({ port: 80 });
    const client = a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80 });
    const events = record(client);
    net.run(10);
    listener.close();
    net.run(10);
    expect(events).toEqual(['connected', 'error:ECONNRESET', 'closed']);
    expect(b.connectionCount).toBe(0);
  });
});

describe('TcpLayer: ICMP errors (§3.9.2.2, RFC 5927)', () => {
  function pending() {
    const net = new FakeNetwork();
    const a = net.addHost(['10.0.0.1']);
    net.drop = () => true;
    const conn = a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80 });
    const events = record(conn);
    const quoted = {
      src: ip('10.0.0.1'),
      dst: ip('10.0.0.2'),
      srcPort: conn.local.port,
      dstPort: 80,
      seq: conn.status().iss,
    };
    return { net, a, conn, events, quoted };
  }

  it('port unreachable during SYN-SENT refuses the connection', () => {
    const { a, conn, events, quoted } = pending();
    a.handleIcmpError({ kind: 'port-unreachable' }, quoted);
    expect(conn.state).toBe('CLOSED');
    expect(events).toEqual(['error:ECONNREFUSED', 'closed']);
  });

  it('host and net unreachable during SYN-SENT end the attempt at once (as Linux, RFC 5461 §4.1)', () => {
    const first = pending();
    first.a.handleIcmpError({ kind: 'host-unreachable' }, first.quoted);
    expect(first.conn.state).toBe('CLOSED');
    expect(first.events).toEqual(['error:EHOSTUNREACH', 'closed']);
    const second = pending();
    second.a.handleIcmpError({ kind: 'net-unreachable' }, second.quoted);
    expect(second.events).toEqual(['error:ENETUNREACH', 'closed']);
    // The errno IP worked out from the ICMP code wins over the one the kind suggests.
    const third = pending();
    third.a.handleIcmpError({ kind: 'other-unreachable', code: 'EHOSTDOWN' }, third.quoted);
    expect(third.events).toEqual(['error:EHOSTDOWN', 'closed']);
    expect(first.a.counters.attemptFails + second.a.counters.attemptFails).toBe(2);
  });

  it('with abortConnectOnIcmpError off, host unreachable is soft (MUST-56): retries go on, a timeout reports it', () => {
    const net = new FakeNetwork();
    const a = net.addHost(['10.0.0.1'], { config: { abortConnectOnIcmpError: false } });
    net.drop = () => true;
    const conn = a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80 });
    const events = record(conn);
    conn.on('soft-error', (e) => events.push(`soft-error:${e.code}`));
    const quoted = { src: ip('10.0.0.1'), dst: ip('10.0.0.2'), srcPort: conn.local.port, dstPort: 80 };
    a.handleIcmpError({ kind: 'host-unreachable' }, { ...quoted, seq: conn.status().iss });
    expect(conn.state).toBe('SYN-SENT');
    expect(conn.status().lastSoftError).toBe('EHOSTUNREACH');
    // Only hard errors (port, protocol unreachable: SHLD-26) would end the attempt; the SYN timeout
    // (3 minutes, MUST-23) reports the soft one.
    net.run(200_000);
    expect(events).toEqual(['soft-error:EHOSTUNREACH', 'error:EHOSTUNREACH', 'closed']);
  });

  it('ignores errors quoting a sequence number not in flight, and source quench (MUST-55)', () => {
    const { a, conn, quoted } = pending();
    a.handleIcmpError({ kind: 'port-unreachable' }, { ...quoted, seq: quoted.seq + 5000 });
    a.handleIcmpError({ kind: 'source-quench' }, quoted);
    expect(conn.state).toBe('SYN-SENT');
    expect(conn.status().lastSoftError).toBeUndefined();
  });

  it('fragmentation needed lowers the MSS and resends in smaller segments; hard errors do not abort an established connection', () => {
    const net = new FakeNetwork();
    const a = net.addHost(['10.0.0.1']);
    const b = net.addHost(['10.0.0.2']);
    b.listen({ port: 80 });
    const conn = a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80 });
    net.run(10);
    net.drop = (p) => p.seg.payload.length > 960;
    conn.send(pattern(2920), net.clock.now());
    const quoted = {
      src: ip('10.0.0.1'),
      dst: ip('10.0.0.2'),
      srcPort: conn.local.port,
      dstPort: 80,
      seq: conn.status().sndUna,
    };
    net.packets.length = 0;
    a.handleIcmpError({ kind: 'fragmentation-needed', mtu: 1000 }, quoted);
    // 1000 - 40 bytes of headers - 12 of the timestamp option every segment carries.
    expect(conn.status().effectiveMss).toBe(948);
    expect(net.packets.every((p) => p.seg.payload.length <= 948)).toBe(true);
    expect(net.packets.length).toBeGreaterThan(0);
    a.handleIcmpError({ kind: 'port-unreachable' }, quoted);
    expect(conn.state).toBe('ESTABLISHED');
    net.run(5000);
    expect(conn.status().sndUna).toBe((conn.status().iss + 2921) >>> 0);
  });
});

describe('TcpLayer: passive SYN-RECEIVED and RST (MUST-11)', () => {
  it('a reset embryonic connection disappears, the listener stays and serves the next SYN', () => {
    const net = new FakeNetwork();
    const b = net.addHost(['10.0.0.2']);
    const listener = b.listen({ port: 80 });
    const syn = {
      srcPort: 1234,
      dstPort: 80,
      seq: 500,
      ack: 0,
      flags: TCP_SYN,
      window: 1000,
      urgentPointer: 0,
      options: {},
      payload: new Uint8Array(0),
    };
    b.receive(ip('10.0.0.1'), ip('10.0.0.2'), syn);
    expect(b.connectionCount).toBe(1);
    b.receive(ip('10.0.0.1'), ip('10.0.0.2'), { ...syn, flags: TCP_RST, seq: 501 });
    expect(b.connectionCount).toBe(0);
    expect(listener.embryonic.size).toBe(0);
    b.receive(ip('10.0.0.1'), ip('10.0.0.2'), { ...syn, seq: 900 });
    expect(net.packets.map((p) => flagsToString(p.seg.flags))).toEqual(['SA', 'SA']);
    expect(net.packets[1]!.seg.ack).toBe(901);
  });
});

describe('the list of connections due at one wake-up', () => {
  it('is kept for the next wake-up up to 1,024 connections, and counted when left to the collector', () => {
    const dueAtOnce = (count: number) => {
      const net = new FakeNetwork();
      net.drop = () => true;
      const host = net.addHost(['10.0.0.1']);
      for (let i = 0; i < count; i++) host.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 1 + i });
      // Every SYN went at 0 and was lost: all the retransmission timers fire at the same instant.
      net.run(1500);
      const synsSent = net.packets.filter((p) => p.seg.flags === TCP_SYN).length;
      return [synsSent, host.counters.dueListsDropped];
    };
    expect(dueAtOnce(1024)).toEqual([2048, 0]);
    expect(dueAtOnce(1025)).toEqual([2050, 1]);
  });
});
