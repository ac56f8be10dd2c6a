import { describe, expect, it } from 'vitest';
import type { TcpConfig } from '../../src/tcp/config.js';
import type { TcpConnection } from '../../src/tcp/connection.js';
import { TimeWaitTable } from '../../src/tcp/time-wait.js';
import { TCP_ACK, TCP_RST, TCP_SYN, type TcpSegment } from '../../src/wire/tcp.js';
import { flagsToString } from './dialogue.js';
import { FakeNetwork, ip } from './network.js';
import { timeWaitFields } from './time-wait-fields.js';

const A = ip('10.0.0.1');
const B = ip('10.0.0.2');

/** A client that closes first (so it holds TIME-WAIT) against a server that closes on end. */
function closedPair(options: { timestamps?: boolean; maxTimeWait?: number } = {}) {
  const net = new FakeNetwork();
  const config = { timestamps: options.timestamps ?? false };
  const a = net.addHost(['10.0.0.1'], {
    config,
    limits: options.maxTimeWait === undefined ? {} : { maxTimeWait: options.maxTimeWait },
  });
  const b = net.addHost(['10.0.0.2'], { config });
  b.listen({ port: 80 }).on('connection', (c) => c.on('end', () => c.close(net.clock.now())));
  const open = (localPort?: number): TcpConnection => {
    const c = a.connect({ remoteAddress: B, remotePort: 80, ...(localPort ? { localPort } : {}) });
    c.on('connected', () => c.close(net.clock.now()));
    return c;
  };
  return { net, a, b, open };
}

function segmentFromServer(client: TcpConnection, fields: Partial<TcpSegment>): TcpSegment {
  return {
    srcPort: 80,
    dstPort: client.local.port,
    seq: 0,
    ack: 0,
    flags: TCP_ACK,
    window: 1000,
    urgentPointer: 0,
    options: {},
    payload: new Uint8Array(0),
    ...fields,
  };
}

describe('TIME-WAIT as a compact record (RFC 9293 §3.10.7.4, tcp_max_tw_buckets)', () => {
  it('a connection nobody listens to reads CLOSED once its record ends, even after the slot was reused', () => {
    const { net, a, open } = closedPair();
    const first = open();
    net.run(100);
    expect(first.state).toBe('TIME-WAIT');
    const enteredAt = net.clock.now();
    // The record ends unseen (the layer keeps no reference to the connection); a new connection's record
    // then takes the same slot.
    net.runUntil(enteredAt + 60_000);
    expect(a.timeWaitCount).toBe(0);
    const second = open();
    net.run(100);
    expect([a.timeWaitCount, second.state]).toEqual([1, 'TIME-WAIT']);
    expect([first.state, first.status().state]).toEqual(['CLOSED', 'CLOSED']);
    expect(second.state).toBe('TIME-WAIT');
  });

  it('a listener added in TIME-WAIT hears the end when the record ends', () => {
    const { net, open } = closedPair();
    const client = open();
    net.run(100);
    expect(client.state).toBe('TIME-WAIT');
    const heard: string[] = [];
    client.on('state', (from, to) => heard.push(`${from}>${to}@${net.clock.now()}`));
    client.once('closed', () => heard.push(`closed@${net.clock.now()}`));
    const status = client.status();
    expect(status.state).toBe('TIME-WAIT');
    net.run(120_000);
    expect(heard.length).toBe(2);
    const endedAt = Number(heard[1]!.split('@')[1]);
    expect(heard).toEqual([`TIME-WAIT>CLOSED@${endedAt}`, `closed@${endedAt}`]);
    expect(endedAt).toBeLessThanOrEqual(100 + 60_000);
    expect(endedAt).toBeGreaterThan(60_000);
  });

  it('re-acknowledges a retransmitted FIN and waits 2 MSL anew; the watched connection closes at the end', () => {
    const { net, a, b, open } = closedPair();
    const client = open();
    const closedAt: number[] = [];
    client.on('closed', () => closedAt.push(net.clock.now()));
    // The client's last ACK (of the server's FIN) is lost once: the server resends its FIN at RTO.
    let dropped = false;
    net.drop = (p) => {
      if (!dropped && p.src === A && p.seg.flags === TCP_ACK && client.state === 'TIME-WAIT') {
        dropped = true;
        return true;
      }
      return false;
    };
    net.run(100);
    expect(client.state).toBe('TIME-WAIT');
    expect([a.timeWaitCount, a.connections().length]).toEqual([1, 0]);
    const status = client.status();
    net.packets.length = 0;
    net.run(2000);
    const answers = net.packets.filter((p) => p.src === A);
    expect(answers.map((p) => [flagsToString(p.seg.flags), p.seg.seq, p.seg.ack])).toEqual([
      ['A', status.sndNxt, status.rcvNxt],
    ]);
    const restartedAt = answers[0]!.time;
    expect(b.connectionCount).toBe(0);
    net.runUntil(restartedAt + 60_000 - 1);
    expect(a.timeWaitCount).toBe(1);
    net.runUntil(restartedAt + 60_000);
    expect(a.timeWaitCount).toBe(0);
    expect(client.state).toBe('CLOSED');
    expect(closedAt).toEqual([restartedAt + 60_000]);
    expect(a.hasPendingTimers).toBe(false);
  });

  it('ignores RST (RFC 1337), answers out-of-window segments and stale SYNs within the rate limit', () => {
    const { net, a, open } = closedPair();
    const client = open();
    net.run(100);
    const s = client.status();
    net.packets.length = 0;
    a.receive(B, A, segmentFromServer(client, { seq: s.rcvNxt, flags: TCP_RST }));
    for (let i = 0; i < 5; i++)
      a.receive(B, A, segmentFromServer(client, { seq: (s.rcvNxt + 1_000_000 + i) >>> 0, ack: s.sndNxt }));
    a.receive(B, A, segmentFromServer(client, { seq: (s.rcvNxt - 5) >>> 0, flags: TCP_SYN }));
    const fromClient = () => net.packets.filter((p) => p.src === A).map((p) => flagsToString(p.seg.flags));
    expect(fromClient()).toEqual(['A']);
    expect([a.counters.ackSkippedTimeWait, a.counters.ackSkippedChallenge]).toEqual([4, 1]);
    expect(a.timeWaitCount).toBe(1);
    net.run(500);
    a.receive(B, A, segmentFromServer(client, { seq: (s.rcvNxt - 5) >>> 0, flags: TCP_SYN }));
    expect(fromClient()).toEqual(['A', 'A']);
    expect(a.timeWaitCount).toBe(1);
  });

  it('keeps the 4-tuple busy: connect from the same port is EADDRINUSE, an ephemeral port avoids it', () => {
    const { net, a, open } = closedPair();
    const client = open(5555);
    net.run(100);
    expect(client.state).toBe('TIME-WAIT');
    expect(() => a.connect({ remoteAddress: B, remotePort: 80, localPort: 5555 })).toThrow(/EADDRINUSE/);
    expect(a.connect({ remoteAddress: B, remotePort: 80 }).local.port).not.toBe(5555);
  });

  it('with timestamps, a SYN with a newer timestamp reopens the 4-tuple even with a lower sequence number (RFC 6191)', () => {
    const { net, b } = closedPair({ timestamps: true });
    // Here the server closes first and holds TIME-WAIT.
    const net2 = net;
    const a2 = net2.hosts.get(A)!;
    b.listen({ port: 81 }).on('connection', (c) => c.close(net2.clock.now()));
    const first = a2.connect({ remoteAddress: B, remotePort: 81, localPort: 7000 });
    first.on('end', () => first.close(net2.clock.now()));
    net2.run(100);
    expect(b.timeWaitCount).toBe(1);
    const old = first.status();
    net2.run(1000);
    net2.packets.length = 0;
    b.receive(A, B, {
      srcPort: 7000,
      dstPort: 81,
      seq: (old.sndNxt - 1000) >>> 0,
      ack: 0,
      flags: TCP_SYN,
      window: 1000,
      urgentPointer: 0,
      options: { mss: 1460, timestamp: { value: 0xffffffff, echo: 0 } },
      payload: new Uint8Array(0),
    });
    // Its TSval is not newer than the old connection's: refused (a challenge ACK).
    expect(net2.packets.map((p) => flagsToString(p.seg.flags))).toEqual(['A']);
    expect(b.counters.timeWaitTakeovers).toBe(0);
    const tsNow = net2.packets[0]!.seg.options.timestamp!.echo;
    b.receive(A, B, {
      srcPort: 7000,
      dstPort: 81,
      seq: (old.sndNxt - 1000) >>> 0,
      ack: 0,
      flags: TCP_SYN,
      window: 1000,
      urgentPointer: 0,
      options: { mss: 1460, timestamp: { value: (tsNow + 1000) >>> 0, echo: 0 } },
      payload: new Uint8Array(0),
    });
    expect(b.counters.timeWaitTakeovers).toBe(1);
    expect(flagsToString(net2.packets.at(-1)!.seg.flags)).toBe('SA');
    expect(b.timeWaitCount).toBe(0);
  });

  it('closes at once, counted, when the table is full', () => {
    const { net, a, open } = closedPair({ maxTimeWait: 2 });
    const clients = [open(), open(), open()];
    net.run(100);
    expect(clients.map((c) => c.state)).toEqual(['TIME-WAIT', 'TIME-WAIT', 'CLOSED']);
    expect(a.counters.timeWaitOverflows).toBe(1);
    expect(a.timeWaitCount).toBe(2);
  });

  it('stores each record in well under 300 bytes', () => {
    const { net, a, open } = closedPair();
    for (let i = 0; i < 1000; i++) open();
    net.run(1000);
    expect(a.timeWaitCount).toBe(1000);
    expect(a.timeWaitStorageBytes / a.timeWaitCount).toBeLessThan(150);
    expect(a.connections()).toHaveLength(0);
    net.run(61_000);
    expect(a.connectionCount).toBe(0);
  });

  it('lets go of the wake-ups of connections that are gone (a closed connection is not kept until its old deadline)', () => {
    const { net, a, b, open } = closedPair();
    for (let i = 0; i < 1000; i++) {
      open();
      net.run(1); // far less than the retransmission timeout (1 s) each connection armed
    }
    net.run(50);
    expect(a.timeWaitCount).toBe(1000);
    expect(a.connections()).toHaveLength(0);
    expect(b.connections()).toHaveLength(0);
    expect(a.scheduledWakeups).toBeLessThanOrEqual(64 + 1);
    expect(b.scheduledWakeups).toBeLessThanOrEqual(64 + 1);
  });

  it('shutdown ends every record, and returns when the table has emptied by expiry', () => {
    const { net, a, open } = closedPair();
    open();
    open();
    net.run(1000);
    expect(a.timeWaitCount).toBe(2);
    a.shutdown();
    expect(a.timeWaitCount).toBe(0);
    open();
    net.run(1000);
    net.run(61_000);
    expect(a.timeWaitCount).toBe(0);
    a.shutdown();
    expect(a.connectionCount).toBe(0);
  });
});

describe('TIME-WAIT reuse by an active open (timeWaitReuse, Linux tcp_tw_reuse)', () => {
  /** One ephemeral port only: a second open to the same server needs the first one's 4-tuple. */
  function onePort(client: string, server: string, config: Partial<TcpConfig>) {
    const net = new FakeNetwork();
    const a = net.addHost([client], { config, limits: { ephemeralPortMin: 40000, ephemeralPortMax: 40000 } });
    const b = net.addHost([server], { config });
    b.listen({ port: 80 }).on('connection', (c) => c.on('end', () => c.close(net.clock.now())));
    const open = (): TcpConnection => {
      const c = a.connect({ remoteAddress: ip(server), remotePort: 80 });
      c.on('connected', () => c.close(net.clock.now()));
      return c;
    };
    const syns = () => net.packets.filter((p) => p.src === ip(client) && p.seg.flags === TCP_SYN);
    return { net, a, open, syns };
  }

  it('between loopback addresses (the default) a record whose last timestamp is over 1 s old is taken over', () => {
    const { net, a, open, syns } = onePort('127.0.0.1', '127.0.0.2', {});
    const first = open();
    net.run(100);
    expect(first.state).toBe('TIME-WAIT');
    const oldSndNxt = net.packets.filter((p) => p.src === ip('127.0.0.1')).at(-1)!.seg.seq;
    // Within a second of the last timestamp PAWS could not tell the incarnations apart: the port stays busy.
    expect(() => open()).toThrow(expect.objectContaining({ code: 'EADDRNOTAVAIL' }));
    net.run(1000);
    const second = open();
    expect(a.counters.timeWaitReused).toBe(1);
    expect(a.timeWaitCount).toBe(0);
    expect(first.state).toBe('CLOSED');
    const syn = syns().at(-1)!.seg;
    expect(syn.dstPort).toBe(80);
    expect(syn.srcPort).toBe(40000);
    // The new ISS lies beyond everything the old incarnation sent.
    expect((syn.seq - oldSndNxt) >>> 0 > 0 && (syn.seq - oldSndNxt) >>> 0 < 2 ** 31).toBe(true);
    net.run(100);
    expect(second.state).toBe('TIME-WAIT');
  });

  it('not between other addresses by default, nor with timestamps off, nor when turned off', () => {
    for (const [client, server, config] of [
      ['10.0.0.1', '10.0.0.2', {}],
      ['127.0.0.1', '127.0.0.2', { timestamps: false }],
      ['127.0.0.1', '127.0.0.2', { timeWaitReuse: 'off' }],
    ] as Array<[string, string, Partial<TcpConfig>]>) {
      const { net, a, open } = onePort(client, server, config);
      open();
      net.run(5000);
      expect(a.timeWaitCount).toBe(1);
      expect(() => open()).toThrow(expect.objectContaining({ code: 'EADDRNOTAVAIL' }));
      expect(a.counters.timeWaitReused).toBe(0);
    }
  });

  it("'on' takes over records toward any address; an explicit local port is reused the same way", () => {
    const { net, a, open } = onePort('10.0.0.1', '10.0.0.2', { timeWaitReuse: 'on' });
    open();
    net.run(2000);
    open();
    expect(a.counters.timeWaitReused).toBe(1);
    net.run(2000);
    expect(a.timeWaitCount).toBe(1);
    const again = a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80, localPort: 40000 });
    expect(again.local.port).toBe(40000);
    expect(a.counters.timeWaitReused).toBe(2);
  });

  it('rejects an unknown setting', () => {
    const net = new FakeNetwork();
    expect(() => net.addHost(['10.0.0.1'], { config: { timeWaitReuse: 'always' as 'on' } })).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
  });
});

describe('TimeWaitTable lookups', () => {
  const fields = (localPort: number, remotePort: number) =>
    timeWaitFields({ localAddress: A, localPort, remoteAddress: B, remotePort });

  it('finds each of many records towards one server endpoint (a client closing first), and forgets removed ones', () => {
    const table = new TimeWaitTable();
    const slots = new Map<number, number>();
    for (let port = 1024; port < 1024 + 5000; port++) slots.set(port, table.add(fields(port, 80), 60_000));
    table.add(fields(1024, 443), 60_000); // same local port, another server port
    for (const [port, slot] of slots) expect(table.find(A, port, B, 80)).toBe(slot);
    for (const [port, slot] of slots) if (port % 2 === 0) table.remove(slot);
    for (const [port, slot] of slots) expect(table.find(A, port, B, 80)).toBe(port % 2 === 0 ? -1 : slot);
    expect(table.find(A, 1024, B, 443)).not.toBe(-1);
    expect(table.find(B, 1025, A, 80)).toBe(-1);
    expect(table.size).toBe(2501);
  });
});
