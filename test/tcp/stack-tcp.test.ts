/**
 * The TCP layer inside a real Stack (`stack.tcp`): how it is created and attached, what IP's error
 * reports (ICMP, ARP failure) do to a connection attempt, and what happens when IP cannot send a segment.
 */
import { describe, expect, it } from 'vitest';
import { tcpLayerOf } from '../../src/api/tcp-layer-of-stack.js';
import { SimulatedNetwork } from '../../src/sim/network.js';
import type { Stack } from '../../src/stack.js';
import type { TcpConnection } from '../../src/tcp/connection.js';
import { parseIpv4 } from '../../src/wire/address.js';
import { pattern } from './dialogue.js';

function ip(text: string): number {
  return parseIpv4(text)!;
}

function record(conn: TcpConnection): string[] {
  const events: string[] = [];
  conn.on('connected', () => events.push('connected'));
  conn.on('soft-error', (e) => events.push(`soft-error:${e.code}`));
  conn.on('error', (e) => events.push(`error:${e.code}`));
  conn.on('closed', () => events.push('closed'));
  return events;
}

/** a 10.0.1.2 --5 ms-- r --10 ms-- b 10.0.2.2; r routes only between the two subnets. */
function routed() {
  const net = new SimulatedNetwork({ seed: 3, trace: false });
  const a = net.host('a', '10.0.1.2/24', { gateway: '10.0.1.1' });
  const b = net.host('b', '10.0.2.2/24', { gateway: '10.0.2.1' });
  const r = net.router('r');
  net.link(a, [r, '10.0.1.1/24'], { delayMs: 5 });
  net.link([r, '10.0.2.1/24'], b, { delayMs: 10 });
  return { net, a, b, r };
}

describe('stack.tcp', () => {
  it('is created on first use, once, and is what tcpLayerOf returns', () => {
    const net = new SimulatedNetwork({ trace: false });
    const a = net.host('a', '10.0.0.1/24');
    const tcp = a.tcp;
    expect(a.tcp).toBe(tcp);
    expect(tcpLayerOf(a)).toBe(tcp);
    // Its connections take the stack's TCP defaults.
    const b = net.host('b', '10.0.0.2/24', { tcp: { receiveBufferSize: 5000 } });
    net.link(a, b);
    a.tcp.listen({ port: 80 });
    b.tcp.connect({ remoteAddress: ip('10.0.0.1'), remotePort: 80 });
    net.run(10);
    const [accepted] = a.tcp.connections();
    expect(accepted!.state).toBe('ESTABLISHED');
    expect(accepted!.status().sndWnd).toBe(5000);
  });

  it('send and receiveInto without a time read the layer’s clock, as the same calls given its reading', () => {
    // Established in the first milliseconds, then idle until 5 s: a send at 5 s arms its retransmission
    // timer an RTO after 5 s, and the transfer that follows is the one the calls given the time make.
    const transfer = (withTime: boolean) => {
      const net = new SimulatedNetwork({ seed: 4, trace: false });
      const a = net.host('a', '10.0.0.1/24');
      const b = net.host('b', '10.0.0.2/24');
      const link = net.link(a, b, { delayMs: 3.25 });
      const frames: string[] = [];
      link.link.tap((time: number, frame: Uint8Array) => frames.push(`${time} ${frame.length}`), {
        point: 'delivered',
      });
      let received = 0;
      const sink = new Uint8Array(4096);
      a.tcp.listen({ port: 80 }).on('connection', (conn) => {
        conn.on('readable', () => {
          for (;;) {
            const n = withTime ? conn.receiveInto(sink, net.clock.now()) : conn.receiveInto(sink);
            if (n <= 0) break;
            received += n;
          }
        });
      });
      const conn = b.tcp.connect({ remoteAddress: ip('10.0.0.1'), remotePort: 80 });
      net.run(5000);
      expect(conn.state).toBe('ESTABLISHED');
      const data = new Uint8Array(20_000);
      const accepted = withTime ? conn.send(data, net.clock.now()) : conn.send(data);
      const deadline = conn.nextDeadline();
      net.run(1000);
      return { accepted, deadline, received, frames };
    };
    const implicit = transfer(false);
    expect(implicit.deadline).toBeGreaterThan(5000);
    expect(implicit.received).toBe(20_000);
    expect(implicit).toEqual(transfer(true));
  });

  it('a TCP of the caller’s own (attachTcp) and stack.tcp exclude each other: EADDRINUSE', () => {
    const net = new SimulatedNetwork({ trace: false });
    const a = net.host('a', '10.0.0.1/24');
    a.attachTcp({ receive() {} });
    expect(() => a.tcp).toThrow(expect.objectContaining({ code: 'EADDRINUSE' }));
    const b = net.host('b', '10.0.0.2/24');
    void b.tcp;
    expect(() => b.attachTcp({ receive() {} })).toThrow(expect.objectContaining({ code: 'EADDRINUSE' }));
  });

  it('a stack that never used TCP still answers a SYN to a closed port with RST: ECONNREFUSED', () => {
    const net = new SimulatedNetwork({ trace: false });
    const a = net.host('a', '10.0.0.1/24');
    const b = net.host('b', '10.0.0.2/24');
    net.link(a, b, { delayMs: 1 });
    const conn = a.tcp.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 7 });
    const events = record(conn);
    net.run(100);
    expect(events).toEqual(['error:ECONNREFUSED', 'closed']);
    expect(b.counters.IpInUnknownProtos).toBe(0);
    expect(b.tcp.counters.resetsSent).toBe(1);
  });

  it('closing the stack aborts its connections with RST and closes its listeners', () => {
    const net = new SimulatedNetwork({ trace: false });
    const a = net.host('a', '10.0.0.1/24');
    const b = net.host('b', '10.0.0.2/24');
    net.link(a, b, { delayMs: 1 });
    const listener = b.tcp.listen({ port: 80 });
    const conn = a.tcp.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80 });
    net.run(10);
    const [server] = b.tcp.connections();
    const serverEvents = record(server!);
    expect(conn.state).toBe('ESTABLISHED');
    b.close();
    expect(listener.isClosed).toBe(true);
    expect(b.tcp.connectionCount).toBe(0);
    expect(serverEvents).toEqual(['closed']);
    const clientEvents = record(conn);
    net.run(10);
    // The RST went out before the interfaces were taken down.
    expect(clientEvents).toEqual(['error:ECONNRESET', 'closed']);
  });
});

describe('IP error reports during the handshake (Linux behaviour, RFC 5461 §4.1)', () => {
  it('ICMP net unreachable from a router ends connect at once with ENETUNREACH', () => {
    const { net, a, r } = routed();
    const conn = a.tcp.connect({ remoteAddress: ip('10.9.9.9'), remotePort: 80 });
    const events = record(conn);
    net.run(100);
    expect(r.counters.IcmpOutDestUnreachs).toBe(1);
    expect(events).toEqual(['error:ENETUNREACH', 'closed']);
    expect(a.tcp.connectionCount).toBe(0);
    expect(a.tcp.counters.attemptFails).toBe(1);
  });

  it('no ARP answer for the next hop: EHOSTUNREACH after the three ARP requests (3 s), not after 3 minutes', () => {
    const net = new SimulatedNetwork({ trace: false });
    const a = net.host('a', '10.0.0.1/24');
    const b = net.host('b', '10.0.0.2/24');
    net.link(a, b);
    const conn = a.tcp.connect({ remoteAddress: ip('10.0.0.77'), remotePort: 80 });
    const events = record(conn);
    let endedAt = 0;
    conn.on('closed', () => {
      endedAt = net.clock.now();
    });
    net.run(10_000);
    expect(events).toEqual(['error:EHOSTUNREACH', 'closed']);
    expect(endedAt).toBe(3000);
  });

  it('in ESTABLISHED the same errors are soft: reported, remembered, never fatal (MUST-56)', () => {
    const { net, a, b } = routed();
    b.tcp.listen({ port: 80 });
    const conn = a.tcp.connect({ remoteAddress: ip('10.0.2.2'), remotePort: 80 });
    const events = record(conn);
    net.run(100);
    const status = conn.status();
    a.tcp.handleIcmpError(
      { kind: 'host-unreachable' },
      { src: ip('10.0.1.2'), dst: ip('10.0.2.2'), srcPort: conn.local.port, dstPort: 80, seq: status.sndNxt },
    );
    // Nothing in flight: the quoted sequence number cannot be ours (RFC 5927 §4.1).
    expect(events).toEqual(['connected']);
    conn.send(pattern(10), net.clock.now());
    a.tcp.handleIcmpError(
      { kind: 'host-unreachable' },
      { src: ip('10.0.1.2'), dst: ip('10.0.2.2'), srcPort: conn.local.port, dstPort: 80, seq: status.sndNxt },
    );
    expect(events).toEqual(['connected', 'soft-error:EHOSTUNREACH']);
    expect(conn.state).toBe('ESTABLISHED');
  });
});

describe('segments IP cannot send', () => {
  function twoHosts(): { net: SimulatedNetwork; a: Stack; b: Stack } {
    const net = new SimulatedNetwork({ trace: false });
    const a = net.host('a', '10.0.0.1/24');
    const b = net.host('b', '10.0.0.2/24');
    net.link(a, b, { delayMs: 1 });
    return { net, a, b };
  }

  it('a SYN with no route fails connect at once with ENETUNREACH', () => {
    const { a } = twoHosts();
    // The local address is given, so connect() does not look the route up itself: IP refuses the SYN.
    const conn = a.tcp.connect({
      localAddress: ip('10.0.0.1'),
      remoteAddress: ip('192.0.2.1'),
      remotePort: 80,
    });
    expect(conn.state).toBe('CLOSED');
    expect(conn.error?.code).toBe('ENETUNREACH');
    expect(a.tcp.counters.outputErrors).toBe(1);
    expect(a.tcp.counters.attemptFails).toBe(1);
    expect(a.tcp.connectionCount).toBe(0);
  });

  it('data IP refuses (the route went away) counts as lost: retransmitted once the route is back', () => {
    const { net, a, b } = twoHosts();
    const received: number[] = [];
    b.tcp.listen({ port: 80 }).on('connection', (c) =>
      c.on('readable', () => {
        for (let d = c.receive(net.clock.now()); d !== null && d.length > 0; d = c.receive(net.clock.now())) {
          received.push(...d);
        }
      }),
    );
    const conn = a.tcp.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80 });
    const events = record(conn);
    net.run(10);
    const [connected] = a.routes.list().filter((route) => route.gateway === undefined);
    a.routes.remove(connected!);
    expect(conn.send(pattern(3000), net.clock.now())).toBe(3000);
    expect(a.tcp.counters.outputErrors).toBeGreaterThan(0);
    expect(conn.status().lastSoftError).toBe('ENETUNREACH');
    expect(conn.state).toBe('ESTABLISHED');
    a.routes.addConnected(a.interfaces[0]!);
    net.run(5000);
    expect(received).toEqual([...pattern(3000)]);
    expect(conn.status().retransmissions).toBeGreaterThan(0);
    expect(events).toEqual(['connected']);
  });
});
