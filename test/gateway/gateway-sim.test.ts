/**
 * The gateway on virtual time: a guest stack's TCP and UDP flows terminate in the gateway's stack and are
 * relayed through an upstream (a third tcpts stack's `net`/`dgram`) to a server; flow control holds both
 * ways, refusals and resets reach the guest, the policy is enforced, DNS is forwarded, and inbound
 * forwarding reaches a guest port.
 */
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { describe, expect, test } from 'vitest';
import { allowList } from '../../src/gateway/policy.js';
import { duplexStream } from '../../src/gateway/socket-upstream-node.js';
import { ipv6ToString } from '../../src/wire/ipv6-address.js';
import { simGateway } from './helpers/sim-gateway.js';

function pattern(length: number, salt = 0): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = (i * 131 + salt + (i >>> 11)) & 0xff;
  return out;
}

const sha = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

function collect(socket: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => parts.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(parts)));
    socket.on('error', reject);
  });
}

function failure(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    socket.on('error', (error: Error & { code?: string }) => resolve(error.code ?? 'no code'));
    socket.on('close', () => resolve('closed without error'));
  });
}

describe('gateway in simulation', () => {
  test('a guest connection to a server beyond the upstream carries 2 MiB each way, sha256-exact', async () => {
    const sim = simGateway();
    const upload = pattern(2 << 20, 1);
    const download = pattern(2 << 20, 2);
    let received: Buffer | undefined;
    sim.server.net
      .createServer({ allowHalfOpen: true }, (socket) => {
        collect(socket).then((data) => {
          received = data;
          socket.end(download);
        });
      })
      .listen(80);
    const got = await sim.run(async () => {
      const socket = sim.guest.net.connect({ host: '10.9.0.2', port: 80, allowHalfOpen: true });
      const reply = collect(socket);
      socket.end(upload);
      return reply;
    });
    expect(sha(received!)).toBe(sha(upload));
    expect(sha(got)).toBe(sha(download));
    await sim.run(() => sim.delay(1000));
    expect(sim.gateway.counters.tcpFlowsOpened).toBe(1);
    expect(sim.gateway.tcpFlowCount).toBe(0);
    expect(sim.gatewayStack.tcp.connectionCount).toBe(0);
  });

  test('guest bytes an upstream keeps queued are never overwritten by the relay reading on', async () => {
    // An upstream that keeps every chunk it is given (as a socket queues what the kernel did not take)
    // and says so: the relay must read each next chunk into a new array, not the one it handed over.
    const kept: Uint8Array[] = [];
    const sim = simGateway({
      wrapUpstream: (upstream) => ({
        ...upstream,
        openStream(destination, handlers) {
          const stream = upstream.openStream(destination, handlers);
          return {
            ...stream,
            write(chunk) {
              kept.push(chunk);
              return stream.write(chunk);
            },
            queuedBytes: () => 1,
          };
        },
      }),
    });
    const upload = pattern(1 << 20, 3);
    let received: Buffer | undefined;
    sim.server.net.createServer((socket) => collect(socket).then((data) => (received = data))).listen(80);
    await sim.run(async () => {
      const socket = sim.guest.net.connect(80, '10.9.0.2');
      socket.end(upload);
      while (received === undefined) await sim.delay(100);
    });
    expect(sha(received!)).toBe(sha(upload));
    expect(kept.length).toBeGreaterThan(1);
    expect(sha(Buffer.concat(kept))).toBe(sha(upload));
  });

  test('the gateway address is the host loopback alias: 10.0.2.2:PORT reaches 127.0.0.1:PORT', async () => {
    const sim = simGateway();
    let peer: string | undefined;
    sim.host.net
      .createServer((socket) => {
        peer = `${socket.localAddress}`;
        socket.end('from loopback');
      })
      .listen(8080, '127.0.0.1');
    const got = await sim.run(() => collect(sim.guest.net.connect(8080, '10.0.2.2')));
    expect(got.toString()).toBe('from loopback');
    expect(peer).toBe('127.0.0.1');
  });

  test('a refused upstream makes the guest see ECONNREFUSED, with no connection left anywhere', async () => {
    const sim = simGateway();
    const code = await sim.run(() => failure(sim.guest.net.connect(81, '10.9.0.2')));
    expect(code).toBe('ECONNREFUSED');
    expect(sim.gateway.counters.tcpUpstreamFailures).toBe(1);
    expect(sim.gateway.tcpFlowCount).toBe(0);
    expect(sim.gatewayStack.tcp.connectionCount).toBe(0);
  });

  test('the destination policy refuses what it does not allow', async () => {
    const sim = simGateway({ policy: allowList(['127.0.0.0/8']) });
    sim.server.net.createServer((s) => s.end('x')).listen(80);
    const code = await sim.run(() => failure(sim.guest.net.connect(80, '10.9.0.2')));
    expect(code).toBe('ECONNREFUSED');
    expect(sim.gateway.counters.tcpRefusedByPolicy).toBe(1);
    expect(sim.gateway.counters.tcpFlowsOpened).toBe(0);
  });

  test('a slow upstream closes the guest window: memory stays bounded while the guest tries to send 16 MiB', async () => {
    const buffers = { receiveBufferSize: 65_536, sendBufferSize: 65_536 };
    const sim = simGateway({ tcp: buffers });
    let serverSocket: Socket | undefined;
    sim.server.net
      .createServer((socket) => {
        serverSocket = socket;
        socket.pause(); // reads nothing
      })
      .listen(80);
    const total = 16 << 20;
    const chunk = pattern(65_536);
    let written = 0;
    const guestSocket = sim.guest.net.connect(80, '10.9.0.2');
    await sim.run(async () => {
      await new Promise<void>((resolve) => guestSocket.once('connect', () => resolve()));
      const pump = (): void => {
        while (written < total) {
          written += chunk.length;
          if (!guestSocket.write(chunk)) {
            guestSocket.once('drain', pump);
            return;
          }
        }
      };
      pump();
      await sim.delay(30_000);
    });
    const relayed = sim.gatewayStack.tcp.connections()[0]!;
    // The guest's own buffers are full, the gateway holds at most its receive buffer plus what the
    // upstream socket queues before pushing back, and the sender is stalled far short of 16 MiB.
    const guestConn = sim.guest.tcp.connections()[0]!;
    expect(guestConn.writableFree).toBe(0);
    expect(relayed.readableLength).toBeLessThanOrEqual(65_536);
    const upstreamSocket = sim.host.tcp.connections()[0]!;
    // The host's send buffer autotunes (the default): it holds at most its cap.
    const hostConfig = sim.host.tcp.config;
    const sendCap = hostConfig.sendBufferAutotuning ? hostConfig.sendBufferMax : hostConfig.sendBufferSize;
    expect(upstreamSocket.writableLength).toBeLessThanOrEqual(sendCap);
    const inFlight = written - guestSocket.writableLength;
    expect(inFlight).toBeLessThan(1 << 20);
    // Window closed towards the guest: the gateway's connection advertises zero.
    expect(relayed.status().rcvWnd).toBe(0);
    // Reading resumes: everything arrives, each byte as sent (chunks the upstream socket queued were
    // never overwritten by the relay's later reads).
    let got = 0;
    let mismatches = 0;
    serverSocket!.on('data', (data: Buffer) => {
      for (let i = 0; i < data.length; i++) if (data[i] !== chunk[(got + i) % chunk.length]) mismatches++;
      got += data.length;
    });
    serverSocket!.resume();
    await sim.run(async () => {
      while (got < total) await sim.delay(1000);
    });
    expect([got, mismatches]).toEqual([total, 0]);
  });

  test('a closed upstream resets the guest connection', async () => {
    const sim = simGateway();
    sim.server.net
      .createServer((socket) => {
        socket.once('data', () => (socket as Socket & { resetAndDestroy(): void }).resetAndDestroy());
      })
      .listen(80);
    const code = await sim.run(async () => {
      const socket = sim.guest.net.connect(80, '10.9.0.2', () => socket.write('hello'));
      return failure(socket);
    });
    expect(code).toBe('ECONNRESET');
    await sim.run(() => sim.delay(1000));
    expect(sim.gateway.tcpFlowCount).toBe(0);
  });

  test('1,000 concurrent guest flows each get their own bytes back', async () => {
    const sim = simGateway();
    sim.server.net.createServer({ allowHalfOpen: true }, (socket) => socket.pipe(socket)).listen(7);
    const flows = 1000;
    const results = await sim.run(async () => {
      const all: Promise<boolean>[] = [];
      for (let i = 0; i < flows; i++) {
        const socket = sim.guest.net.connect({ port: 7, host: '10.9.0.2', allowHalfOpen: true });
        const message = `flow ${i} `.repeat(20);
        all.push(collect(socket).then((data) => data.toString() === message));
        socket.end(message);
      }
      return Promise.all(all);
    }, 600_000);
    expect(results.filter(Boolean).length).toBe(flows);
    expect(sim.gateway.counters.tcpFlowsOpened).toBe(flows);
    await sim.run(() => sim.delay(5000));
    expect(sim.gateway.tcpFlowCount).toBe(0);
  });

  test('UDP flows are relayed, and DNS to 10.0.2.3 goes to the upstream resolver and back from 10.0.2.3:53', async () => {
    const sim = simGateway({ dnsUpstream: { address: '10.9.0.2', port: 5353 } });
    const echo = sim.server.dgram.createSocket('udp4', (msg, rinfo) =>
      echo.send(msg, rinfo.port, rinfo.address),
    );
    echo.bind(7);
    const resolver = sim.server.dgram.createSocket('udp4', (msg, rinfo) =>
      resolver.send(Buffer.concat([Buffer.from('answer:'), msg]), rinfo.port, rinfo.address),
    );
    resolver.bind(5353);
    const client = sim.guest.dgram.createSocket('udp4');
    const replies = await sim.run(
      () =>
        new Promise<string[]>((resolve) => {
          const got: string[] = [];
          client.on('message', (msg, rinfo) => {
            got.push(`${rinfo.address}:${rinfo.port} ${msg}`);
            if (got.length === 2) resolve(got.sort());
          });
          client.send('ping', 7, '10.9.0.2');
          client.send('query', 53, '10.0.2.3');
        }),
    );
    expect(replies).toEqual(['10.0.2.3:53 answer:query', '10.9.0.2:7 ping']);
    expect(sim.gateway.counters.dnsQueries).toBe(1);
    client.close();
    await sim.run(() => sim.delay(60_000));
    expect(sim.gateway.counters.udpFlowsActive).toBe(0);
  });

  test('inbound forwarding: an outside stream reaches a guest port', async () => {
    const sim = simGateway();
    sim.guest.net.createServer((socket) => socket.end(`guest sees ${socket.remoteAddress}`)).listen(22);
    // The "outside" is a connection accepted by the upstream host (as the CLI's 127.0.0.1 listener does).
    sim.host.net
      .createServer((outside) =>
        sim.gateway.connectToGuest(22, (handlers) => {
          const stream = duplexStream(outside, handlers);
          handlers.connect();
          return stream;
        }),
      )
      .listen(2222, '127.0.0.1');
    const got = await sim.run(() => collect(sim.host.net.connect(2222, '127.0.0.1')));
    // The guest's server listens on :: (Node's default), so its IPv4 peer shows as IPv4-mapped.
    expect(got.toString()).toBe('guest sees ::ffff:10.0.2.2');
    expect(sim.gateway.counters.tcpInbound).toBe(1);
  });
});

describe('gateway ICMP', () => {
  test('echo beyond the gateway is answered only when the destination answers upstream', async () => {
    const sim = simGateway();
    const replies = await sim.run(async () => ({
      server: await sim.guest.ping('10.9.0.2', { size: 100 }),
      gateway: await sim.guest.ping('10.0.2.2'),
      dns: await sim.guest.ping('10.0.2.3'),
    }));
    expect(replies.server.from).toBe(0x0a_09_00_02);
    expect(replies.server.bytes).toBe(108);
    expect(replies.gateway.from).toBe(0x0a_00_02_02);
    expect(replies.dns.from).toBe(0x0a_00_02_03);
    // Only the echo beyond the gateway went upstream: the host stack sent one echo of its own.
    expect(sim.gateway.counters.icmpEchoForwarded).toBe(1);
    expect(sim.gateway.counters.icmpEchoReplies).toBe(1);
    expect(sim.host.counters.IcmpOutEchos).toBe(1);
    expect(sim.server.counters.IcmpInEchos).toBe(1);
  });

  test('an echo to an unreachable host comes back as host unreachable; one beyond the routes as net unreachable', async () => {
    // Address resolution gives up after 3 s: the upstream waits longer than that for its echo.
    const sim = simGateway({ echoTimeoutMs: 10_000 });
    const codes = await sim.run(async () => {
      const host = await sim.guest
        .ping('10.9.0.77', { timeoutMs: 20_000 })
        .catch((e: { code: string; icmpCode?: number }) => e);
      const net = await sim.guest
        .ping('192.0.2.9', { timeoutMs: 20_000 })
        .catch((e: { code: string; icmpCode?: number }) => e);
      return { host, net };
    }, 60_000);
    expect(codes.host).toMatchObject({
      code: 'EHOSTUNREACH',
      icmpType: 3,
      icmpCode: 1,
      reporter: 0x0a_00_02_02,
    });
    expect(codes.net).toMatchObject({
      code: 'ENETUNREACH',
      icmpType: 3,
      icmpCode: 0,
      reporter: 0x0a_00_02_02,
    });
    expect(sim.gateway.counters.icmpErrorsToGuest).toBe(2);
  });

  test('an echo with TTL 1 ends at the gateway with time exceeded; the policy drops echoes it does not allow', async () => {
    const sim = simGateway({ policy: allowList(['10.9.0.2/32']) });
    const results = await sim.run(async () => ({
      ttl: await sim.guest.ping('10.9.0.2', { ttl: 1 }).catch((e: object) => e),
      blocked: await sim.guest.ping('10.9.0.1').catch((e: object) => e),
    }));
    expect(results.ttl).toMatchObject({
      code: 'EHOSTUNREACH',
      icmpType: 11,
      icmpCode: 0,
      reporter: 0x0a_00_02_02,
    });
    expect(results.blocked).toMatchObject({ code: 'ETIMEDOUT' });
    expect(sim.gateway.counters.icmpEchoRefusedByPolicy).toBe(1);
    expect(sim.gateway.counters.icmpEchoForwarded).toBe(0);
  });

  test('an upstream without ICMP (WISP) answers no echo beyond the gateway, and counts it', async () => {
    const sim = simGateway({ upstreamEcho: false });
    expect(sim.gateway.echoUnavailableReason).toBe('the upstream carries no ICMP');
    const result = await sim.run(() => sim.guest.ping('10.9.0.2').catch((e: object) => e));
    expect(result).toMatchObject({ code: 'ETIMEDOUT' });
    expect(sim.gateway.counters.icmpEchoUnavailable).toBe(1);
    expect(sim.server.counters.IcmpInEchos).toBe(0);
  });

  test('a host the upstream cannot reach: the guest connection fails with ICMP host/net unreachable, not a reset', async () => {
    const sim = simGateway();
    const codes = await sim.run(
      async () => ({
        host: await failure(sim.guest.net.connect(80, '10.9.0.77')),
        net: await failure(sim.guest.net.connect(80, '192.0.2.9')),
      }),
      600_000,
    );
    expect(codes).toEqual({ host: 'EHOSTUNREACH', net: 'ENETUNREACH' });
    expect(sim.gateway.counters.icmpErrorsToGuest).toBeGreaterThanOrEqual(2);
    expect(sim.gateway.counters.tcpUpstreamFailures).toBe(2);
    expect(sim.gatewayStack.counters.IcmpOutDestUnreachs).toBe(sim.gateway.counters.icmpErrorsToGuest);
  });

  test('UDP to a closed port beyond the gateway: the guest socket gets ECONNREFUSED from port unreachable', async () => {
    const sim = simGateway();
    const code = await sim.run(
      () =>
        new Promise<string>((resolve) => {
          const socket = sim.guest.dgram.createSocket('udp4');
          socket.on('error', (error: Error & { code?: string }) => {
            resolve(error.code ?? 'no code');
            socket.close();
          });
          socket.connect(9, '10.9.0.2', () => {
            socket.send('anyone there?');
            sim.delay(200).then(() => socket.send('still?'));
          });
        }),
    );
    expect(code).toBe('ECONNREFUSED');
    expect(sim.gateway.counters.udpUnreachableToGuest).toBeGreaterThanOrEqual(1);
    expect(sim.server.counters.IcmpOutDestUnreachs).toBeGreaterThanOrEqual(1);
  });
});

describe('gateway limits', () => {
  test('maxTcpFlows: a connection beyond it is reset; maxPendingConnects: a SYN beyond it waits for its retry', async () => {
    const sim = simGateway({ maxTcpFlows: 2, maxPendingConnects: 1 });
    const held: Socket[] = [];
    sim.server.net.createServer((socket) => held.push(socket)).listen(80);
    const outcome = await sim.run(async () => {
      const first = sim.guest.net.connect(80, '10.9.0.2');
      const second = sim.guest.net.connect(80, '10.9.0.2');
      const opened = await Promise.all(
        [first, second].map(
          (s) => new Promise<number>((r) => s.once('connect', () => r(sim.network.clock.now()))),
        ),
      );
      const third = await failure(sim.guest.net.connect(80, '10.9.0.2'));
      first.destroy();
      second.destroy();
      return { opened, third };
    });
    expect(outcome.third).toBe('ECONNREFUSED');
    expect(sim.gateway.counters.tcpFlowLimitHits).toBe(1);
    // The second SYN came while the first waited for its upstream: dropped, and let in at the guest's
    // retransmission one second later (RFC 6298 initial RTO).
    expect(sim.gateway.counters.tcpPendingLimitHits).toBe(1);
    expect(outcome.opened[1]! - outcome.opened[0]!).toBeGreaterThanOrEqual(990);
    expect(sim.gateway.counters.tcpFlowsOpened).toBe(2);
  });

  test('maxUdpFlows: a guest endpoint beyond it is dropped; udpIdleMs: idle flows close', async () => {
    const sim = simGateway({ maxUdpFlows: 1, udpIdleMs: 5000 });
    const seen: string[] = [];
    const sink = sim.server.dgram.createSocket('udp4', (msg) => seen.push(String(msg)));
    sink.bind(9);
    const a = sim.guest.dgram.createSocket('udp4');
    const b = sim.guest.dgram.createSocket('udp4');
    await sim.run(async () => {
      a.send('from a', 9, '10.9.0.2');
      await sim.delay(10);
      b.send('from b', 9, '10.9.0.2');
      await sim.delay(100);
    });
    expect(seen).toEqual(['from a']);
    expect(sim.gateway.counters.udpFlowLimitHits).toBe(1);
    expect(sim.gateway.counters.udpFlowsActive).toBe(1);
    await sim.run(() => sim.delay(10_000));
    expect(sim.gateway.counters.udpFlowsActive).toBe(0);
    await sim.run(async () => {
      b.send('from b again', 9, '10.9.0.2');
      await sim.delay(100);
    });
    expect(seen).toEqual(['from a', 'from b again']);
    a.close();
    b.close();
  });

  test('maxPendingEchoes: an echo beyond it is dropped and counted', async () => {
    const sim = simGateway({ maxPendingEchoes: 1, echoTimeoutMs: 10_000 });
    const results = await sim.run(
      () =>
        Promise.all([
          // 10.9.0.77 does not exist: the upstream echo waits out address resolution (3 s).
          sim.guest.ping('10.9.0.77', { timeoutMs: 20_000 }).catch((e: { code: string }) => e.code),
          sim.guest.ping('10.9.0.2', { timeoutMs: 1000 }).catch((e: { code: string }) => e.code),
        ]),
      60_000,
    );
    expect(results).toEqual(['EHOSTUNREACH', 'ETIMEDOUT']);
    expect(sim.gateway.counters.icmpEchoLimitHits).toBe(1);
    expect(sim.gateway.counters.icmpEchoForwarded).toBe(1);
  });
});

describe('gateway IPv6', () => {
  test('a SLAAC guest gets the prefix and router from the advertisement, reaches the host ::1 over TCP and UDP, and DNS at PREFIX::3', async () => {
    const sim = simGateway({
      ipv6Prefix: 'fd00:0:0:2::/64',
      dnsUpstream: { address: '10.9.0.2', port: 5353 },
    });
    const guest6 = sim.guest.addIpv6Interface(sim.link.a);
    sim.host.net
      .createServer((socket) => socket.end(`v6 host sees ${socket.remoteAddress}`))
      .listen(8080, '::1');
    const echo = sim.host.dgram.createSocket('udp6', (msg, rinfo) =>
      echo.send(msg, rinfo.port, rinfo.address),
    );
    echo.bind(7, '::1');
    const resolver = sim.server.dgram.createSocket('udp4', (msg, rinfo) =>
      resolver.send(Buffer.concat([Buffer.from('answer:'), msg]), rinfo.port, rinfo.address),
    );
    resolver.bind(5353);
    const result = await sim.run(async () => {
      // Router solicitation, advertisement, SLAAC and DAD take a few seconds of virtual time.
      await sim.delay(5000);
      const text = await collect(sim.guest.net.connect(8080, 'fd00:0:0:2::2'));
      const client = sim.guest.dgram.createSocket('udp6');
      const replies = await new Promise<string[]>((resolve) => {
        const got: string[] = [];
        client.on('message', (msg, rinfo) => {
          got.push(`[${rinfo.address}]:${rinfo.port} ${msg}`);
          if (got.length === 2) resolve(got.sort());
        });
        client.send('ping6', 7, 'fd00:0:0:2::2');
        client.send('query6', 53, 'fd00:0:0:2::3');
      });
      client.close();
      return { text: text.toString(), replies };
    });
    const global = guest6.addresses.find((a) => a.address >> 64n === 0xfd00_0000_0000_0002n);
    expect(global).toBeDefined();
    // The default router is the gateway's link-local address (EUI-64 of its MAC 52:55:0a:00:02:02).
    expect(guest6.defaultRouters(sim.network.clock.now())).toEqual([
      0xfe80_0000_0000_0000_5055_0aff_fe00_0202n,
    ]);
    expect(result.text).toMatch(/^v6 host sees ::1$/);
    expect(result.replies).toEqual(['[fd00:0:0:2::2]:7 ping6', '[fd00:0:0:2::3]:53 answer:query6']);
    expect(sim.gateway.counters.tcpFlowsOpened).toBe(1);
    expect(sim.gateway.counters.dnsQueries).toBe(1);
  });

  test('ICMPv6 echo beyond the gateway is answered only when the destination answers upstream; its own addresses answer at once', async () => {
    const sim = simGateway({ ipv6Prefix: 'fd00:0:0:2::/64', upstream6: true });
    sim.guest.addIpv6Interface(sim.link.a);
    const replies = await sim.run(async () => {
      await sim.delay(5000);
      return {
        server: await sim.guest.ping6('fd00:9::2', { size: 100 }),
        gateway: await sim.guest.ping6('fd00:0:0:2::2'),
        dns: await sim.guest.ping6('fd00:0:0:2::3'),
      };
    });
    expect(replies.server).toMatchObject({ from: 0xfd00_0009_0000_0000_0000_0000_0000_0002n, bytes: 108 });
    expect(replies.gateway.from).toBe(0xfd00_0000_0000_0002_0000_0000_0000_0002n);
    expect(replies.dns.from).toBe(0xfd00_0000_0000_0002_0000_0000_0000_0003n);
    // Only the echo beyond the gateway went upstream.
    expect(sim.gateway.counters.icmpEchoForwarded).toBe(1);
    expect(sim.gateway.counters.icmpEchoReplies).toBe(1);
  });

  test('an ICMPv6 echo the upstream cannot deliver comes back as address unreachable, no route, or hop limit exceeded, from the gateway', async () => {
    const sim = simGateway({ ipv6Prefix: 'fd00:0:0:2::/64', upstream6: true, echoTimeoutMs: 10_000 });
    sim.guest.addIpv6Interface(sim.link.a);
    const errors = await sim.run(async () => {
      await sim.delay(5000);
      const fail = (address: string, options: { hopLimit?: number } = {}) =>
        sim.guest.ping6(address, { timeoutMs: 20_000, ...options }).catch((e: object) => e);
      return {
        // Nobody holds fd00:9::77 on the host's link: its neighbour resolution gives up after 3 s.
        address: await fail('fd00:9::77'),
        // The host has no route to fd00:99::/64.
        route: await fail('fd00:99::1'),
        hopLimit: await fail('fd00:9::2', { hopLimit: 1 }),
      };
    }, 60_000);
    const gateway = 'fd00:0:0:2::2';
    expect(errors.address).toMatchObject({
      code: 'EHOSTUNREACH',
      icmpType: 'destination-unreachable',
      icmpCode: 3,
      reporter: gateway,
    });
    expect(errors.route).toMatchObject({
      code: 'ENETUNREACH',
      icmpType: 'destination-unreachable',
      icmpCode: 0,
      reporter: gateway,
    });
    expect(errors.hopLimit).toMatchObject({ icmpType: 'time-exceeded', icmpCode: 0, reporter: gateway });
    expect(sim.gateway.counters.icmpErrorsToGuest).toBe(3);
    expect(sim.gateway.counters.icmpEchoForwarded).toBe(2);
  });

  test('an IPv6 guest connection the upstream cannot make fails with ICMPv6 address unreachable / no route, not a reset', async () => {
    const sim = simGateway({ ipv6Prefix: 'fd00:0:0:2::/64', upstream6: true });
    sim.guest.addIpv6Interface(sim.link.a);
    const codes = await sim.run(async () => {
      await sim.delay(5000);
      return {
        address: await failure(sim.guest.net.connect(80, 'fd00:9::77')),
        route: await failure(sim.guest.net.connect(80, 'fd00:99::1')),
        refused: await failure(sim.guest.net.connect(81, 'fd00:9::2')),
      };
    }, 600_000);
    expect(codes).toEqual({ address: 'EHOSTUNREACH', route: 'ENETUNREACH', refused: 'ECONNREFUSED' });
    expect(sim.gateway.counters.tcpUpstreamFailures).toBe(3);
    // The refused one was a reset; the other two, one ICMPv6 error each.
    expect(sim.gateway.counters.icmpErrorsToGuest).toBe(2);
  });

  test('UDP over IPv6 to a closed port beyond the gateway: the guest socket gets ECONNREFUSED from port unreachable', async () => {
    const sim = simGateway({ ipv6Prefix: 'fd00:0:0:2::/64', upstream6: true });
    sim.guest.addIpv6Interface(sim.link.a);
    const code = await sim.run(async () => {
      await sim.delay(5000);
      return new Promise<string>((resolve) => {
        const socket = sim.guest.dgram.createSocket('udp6');
        socket.on('error', (error: Error & { code?: string }) => {
          resolve(error.code ?? 'no code');
          socket.close();
        });
        socket.connect(9, 'fd00:9::2', () => {
          socket.send('anyone there?');
          sim.delay(200).then(() => socket.send('still?'));
        });
      });
    });
    expect(code).toBe('ECONNREFUSED');
    expect(sim.gateway.counters.udpUnreachableToGuest).toBeGreaterThanOrEqual(1);
    expect(sim.gateway.counters.icmpErrorsToGuest).toBe(sim.gateway.counters.udpUnreachableToGuest);
  });

  test('inbound forwarding over IPv6 reaches the guest at the address it uses, its link-local one while it has said nothing else, or one given', async () => {
    const sim = simGateway({ ipv6Prefix: 'fd00:0:0:2::/64', upstream6: true });
    const guest6 = sim.guest.addIpv6Interface(sim.link.a);
    sim.guest.net
      .createServer((socket) => socket.end(`guest ${socket.localAddress} sees ${socket.remoteAddress}`))
      .listen(22);
    let explicit: string | undefined;
    sim.host.net
      .createServer((outside) =>
        sim.gateway.connectToGuest6(
          22,
          (handlers) => {
            const stream = duplexStream(outside, handlers);
            handlers.connect();
            return stream;
          },
          explicit,
        ),
      )
      .listen(2222, '::1');
    const fetch = async () => (await collect(sim.host.net.connect(2222, '::1'))).toString();
    const got = await sim.run(async () => {
      await sim.delay(5000);
      // Nothing but router solicitation, SLAAC and DAD yet: the guest is known by its link-local address.
      const silent = await fetch();
      // The guest speaks from its SLAAC address (a datagram to the host's ::1 through the gateway).
      const client = sim.guest.dgram.createSocket('udp6');
      client.send('hello', 7, 'fd00:0:0:2::2');
      await sim.delay(100);
      client.close();
      const spoken = await fetch();
      explicit = 'fe80::ff:fe00:100f';
      const given = await fetch().catch((e: Error) => e.message);
      return { silent, spoken, given };
    });
    const global = guest6.addresses.find((a) => a.address >> 64n === 0xfd00_0000_0000_0002n)!.address;
    const linkLocal = guest6.addresses.find((a) => a.address >> 64n === 0xfe80_0000_0000_0000n)!.address;
    const text = (a: bigint) => ipv6ToString(a);
    expect(got.silent).toBe(`guest ${text(linkLocal)} sees fe80::5055:aff:fe00:202`);
    expect(got.spoken).toBe(`guest ${text(global)} sees fd00:0:0:2::2`);
    expect(got.given).toBe(`guest fe80::ff:fe00:100f sees fe80::5055:aff:fe00:202`);
    expect(sim.gateway.guestAddress6()).toBe(global);
    expect(sim.gateway.counters.tcpInbound).toBe(3);
  });

  test('an IPv6 forward with no guest address known, or no IPv6 on the gateway, closes the outside stream and counts it', async () => {
    const sim = simGateway({ ipv6Prefix: false });
    const outcome = await sim.run(
      () =>
        new Promise<string>((resolve) => {
          sim.gateway.connectToGuest6(22, (handlers) => {
            handlers.connect();
            return {
              write: () => true,
              end: () => {},
              pause: () => {},
              resume: () => {},
              destroy: () => resolve('destroyed'),
            };
          });
        }),
    );
    expect(outcome).toBe('destroyed');
    expect(sim.gateway.counters.tcpInboundNoGuest).toBe(1);
    expect(sim.gateway.guestAddress6()).toBeUndefined();
    expect(() => sim.gateway.connectToGuest6(22, () => ({}) as never, 'not-an-address')).toThrow(
      'not-an-address is not an IPv6 address',
    );
  });

  test('a router solicitation is answered at once (the gateway listens on all-routers) and its sender becomes a STALE neighbour', async () => {
    const sim = simGateway({ ipv6Prefix: 'fd00:0:0:2::/64' });
    const guest6 = sim.guest.addIpv6Interface(sim.link.a);
    // The guest solicits once its link-local address has passed DAD (about 1 s); the gateway's first
    // unsolicited advertisement would come only at 4 s.
    const routers = await sim.run(async () => {
      await sim.delay(2500);
      return guest6.defaultRouters(sim.network.clock.now());
    });
    expect(guest6.solicitationsSent).toBe(1);
    expect(routers).toEqual([0xfe80_0000_0000_0000_5055_0aff_fe00_0202n]);
    const linkLocal = guest6.addresses.find((a) => a.address >> 64n === 0xfe80_0000_0000_0000n)!.address;
    expect(sim.gatewayStack.ipv6.neighbors()).toMatchObject([
      { address: linkLocal, mac: 0x02_00_00_00_10_0f, state: 'stale', isRouter: false },
    ]);
  });
});
