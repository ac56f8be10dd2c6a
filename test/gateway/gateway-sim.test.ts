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
    expect(upstreamSocket.writableLength).toBeLessThanOrEqual(sim.host.tcp.config.sendBufferSize);
    const inFlight = written - guestSocket.writableLength;
    expect(inFlight).toBeLessThan(1 << 20);
    // Window closed towards the guest: the gateway's connection advertises zero.
    expect(relayed.status().rcvWnd).toBe(0);
    // Reading resumes: everything arrives.
    let got = 0;
    serverSocket!.on('data', (data: Buffer) => {
      got += data.length;
    });
    serverSocket!.resume();
    await sim.run(async () => {
      while (got < total) await sim.delay(1000);
    });
    expect(got).toBe(total);
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
