/**
 * `stack.net` behaviours that loopback cannot show (unreachable networks and hosts, dead peers, names,
 * keepalives, TCP_INFO), over simulated links on virtual time, with Node's error shapes.
 */
import { describe, expect, test } from 'vitest';
import { createNetApi, type NetApi } from '../../src/api/net/net-api.js';
import type { Socket } from '../../src/api/net/socket.js';
import { tcpLayerOf } from '../../src/api/tcp-layer-of-stack.js';
import { type SimPair, simPair } from './helpers/sim-pair.js';

type NodeError = Error & { code: string; errno: number; syscall: string; address?: string; port?: number };

function failure(socket: Socket): Promise<{ error: NodeError; hadError: boolean }> {
  return new Promise((resolve) => {
    let error: NodeError | undefined;
    socket.once('error', (e: NodeError) => {
      error = e;
    });
    socket.once('close', (hadError: boolean) => resolve({ error: error!, hadError }));
  });
}

function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
}

/**
 * Inside `pair.run`: a server on the server's port 80 that reads and drops, and the client's socket that
 * `connect` opens to it, once connected.
 */
async function connectedToDiscardServer(
  pair: SimPair,
  connect: (net: NetApi) => Socket = (net) => net.connect(80, '10.0.0.2'),
): Promise<Socket> {
  createNetApi(pair.server)
    .createServer((socket) => socket.resume())
    .listen(80);
  const socket = connect(createNetApi(pair.client));
  await connected(socket);
  return socket;
}

describe('stack.net errors from the network', () => {
  test('no route: ENETUNREACH (syscall connect)', async () => {
    const pair = simPair();
    const net = createNetApi(pair.client);
    await pair.run(async () => {
      const socket = net.connect(80, '192.0.2.1');
      const { error, hadError } = await failure(socket);
      expect([error.code, error.errno, error.syscall, error.message]).toEqual([
        'ENETUNREACH',
        -101,
        'connect',
        'connect ENETUNREACH 192.0.2.1:80',
      ]);
      expect(hadError).toBe(true);
    });
  });

  test('nobody answers ARP for an on-link address: EHOSTUNREACH (syscall connect)', async () => {
    const pair = simPair();
    const net = createNetApi(pair.client);
    await pair.run(async () => {
      const start = pair.now();
      const socket = net.connect(80, '10.0.0.3');
      const { error } = await failure(socket);
      expect([error.code, error.errno, error.syscall, error.address, error.port]).toEqual([
        'EHOSTUNREACH',
        -113,
        'connect',
        '10.0.0.3',
        80,
      ]);
      // ARP gives up after 3 requests 1 s apart and IP reports host unreachable for the queued SYN; as on
      // Linux, an error about the SYN ends the connection attempt at once (RFC 5461 §4.1).
      expect(pair.now() - start).toBe(3000);
    });
  });

  test('a peer that vanishes mid-connection: the socket errors (syscall read) once TCP gives up', async () => {
    const pair = simPair();
    await pair.run(async () => {
      const socket = await connectedToDiscardServer(pair);
      pair.network.links[0]!.link.setDown(true);
      const start = pair.now();
      socket.write(Buffer.alloc(10_000));
      const { error, hadError } = await failure(socket);
      expect(hadError).toBe(true);
      // ETIMEDOUT, or the soft error that explains it (RFC 1122 §4.2.3.9, as Linux reports): while the
      // link is down the ARP entry goes stale and re-resolution fails with host unreachable.
      expect(['ETIMEDOUT', 'EHOSTUNREACH']).toContain(error.code);
      expect([error.syscall, error.message]).toEqual(['read', `read ${error.code}`]);
      // R2 (RFC 9293 §3.8.3): at least 100 s of retransmissions first.
      expect(pair.now() - start).toBeGreaterThanOrEqual(100_000);
    });
  });

  test('a local address that is not ours: EADDRNOTAVAIL (syscall bind, as Node binds first)', async () => {
    const pair = simPair();
    const net = createNetApi(pair.client);
    await pair.run(async () => {
      const socket = net.connect({ port: 80, host: '10.0.0.2', localAddress: '10.9.9.9' });
      const { error } = await failure(socket);
      expect([error.code, error.errno, error.syscall, error.message]).toEqual([
        'EADDRNOTAVAIL',
        -99,
        'bind',
        'bind EADDRNOTAVAIL 10.9.9.9',
      ]);
    });
  });

  test('listening on an address that is not ours: EADDRNOTAVAIL (syscall listen)', async () => {
    const pair = simPair();
    const net = createNetApi(pair.server);
    await pair.run(async () => {
      const server = net.createServer();
      const failed = new Promise<NodeError>((resolve) => server.once('error', resolve));
      server.listen(80, '10.9.9.9');
      const error = await failed;
      expect([error.code, error.errno, error.syscall, error.message]).toEqual([
        'EADDRNOTAVAIL',
        -99,
        'listen',
        'listen EADDRNOTAVAIL: address not available 10.9.9.9:80',
      ]);
      expect(server.listening).toBe(false);
    });
  });
});

describe('stack.net names', () => {
  test('an unknown name: "lookup" then ENOTFOUND (syscall getaddrinfo)', async () => {
    const pair = simPair();
    const net = createNetApi(pair.client);
    await pair.run(async () => {
      const socket = net.connect(80, 'nowhere.test');
      const lookups: unknown[][] = [];
      socket.on('lookup', (...args: unknown[]) => lookups.push(args));
      const { error } = await failure(socket);
      expect([error.code, error.syscall, error.message, (error as { hostname?: string }).hostname]).toEqual([
        'ENOTFOUND',
        'getaddrinfo',
        'getaddrinfo ENOTFOUND nowhere.test',
        'nowhere.test',
      ]);
      // As Node 20 (autoSelectFamily on by default): the failed lookup names no address and no family.
      expect(lookups).toEqual([[error, undefined, undefined, 'nowhere.test']]);
    });
  });

  test('names from the API host table and from a lookup function', async () => {
    const pair = simPair();
    const clientNet = createNetApi(pair.client, { hosts: { 'server.test': '10.0.0.2' } });
    const serverNet = createNetApi(pair.server);
    await pair.run(async () => {
      serverNet.createServer((socket) => socket.end('hi')).listen(80);
      const byTable = clientNet.connect(80, 'server.test');
      const lookups: unknown[][] = [];
      byTable.on('lookup', (...args: unknown[]) => lookups.push(args));
      await connected(byTable);
      expect(lookups).toEqual([[null, '10.0.0.2', 4, 'server.test']]);
      expect(byTable.remoteAddress).toBe('10.0.0.2');
      const asked: string[] = [];
      const byFunction = clientNet.connect({
        port: 80,
        host: 'custom.test',
        // With autoSelectFamily (Node's default) lookups are asked for every address: { all: true }.
        lookup: (hostname, options, callback) => {
          asked.push(hostname);
          if (options.all) callback(null, [{ address: '10.0.0.2', family: 4 }]);
          else callback(null, '10.0.0.2', 4);
        },
      });
      await connected(byFunction);
      expect(asked).toEqual(['custom.test']);
      const localhost = createNetApi(pair.server).connect(80, 'localhost');
      await connected(localhost);
      // 'localhost' is ::1 first, and the server listens on :: (both families), so IPv6 carries it.
      expect([localhost.remoteAddress, localhost.localAddress]).toEqual(['::1', '::1']);
      expect([localhost.remoteFamily, localhost.localFamily]).toEqual(['IPv6', 'IPv6']);
      for (const s of [byTable, byFunction, localhost]) s.destroy();
    });
  });
});

describe('stack.net socket options and TCP_INFO', () => {
  test('tcpInfo() reports state, RTT, windows and byte counts of a transfer', async () => {
    const pair = simPair({ delayMs: 10 });
    const clientNet = createNetApi(pair.client);
    const serverNet = createNetApi(pair.server);
    await pair.run(async () => {
      let received = 0;
      const done = new Promise<void>((resolve) => {
        serverNet
          .createServer((socket) => {
            socket.on('data', (chunk: Buffer) => {
              received += chunk.length;
              if (received === 200_000) resolve();
            });
          })
          .listen(80);
      });
      const socket = clientNet.connect({ port: 80, host: '10.0.0.2', noDelay: true });
      expect(socket.tcpInfo()).toBe(undefined);
      socket.write(Buffer.alloc(200_000, 1));
      await done;
      await pair.delay(100); // the last ACKs come back
      const info = socket.tcpInfo()!;
      expect(info.state).toBe('ESTABLISHED');
      // 20 ms round trip, plus at most the receiver's 40 ms delayed-ACK timer on some samples.
      expect(info.rtt).toBeGreaterThanOrEqual(20);
      expect(info.rtt).toBeLessThan(60);
      expect(info.rto).toBeGreaterThanOrEqual(200);
      expect(info.cwnd).toBeGreaterThan(info.sendMss);
      expect(info.sendMss).toBe(1448); // 1460 less the timestamp option
      expect(info.bytesAcked).toBe(200_000);
      expect(info.bytesInFlight).toBe(0);
      expect(info.sendQueued).toBe(0);
      expect(info.receiveWindow).toBeGreaterThan(0);
      expect(info.sendWindow).toBeGreaterThan(0);
      expect(info.retransmissions).toBe(0);
      expect(info.noDelay).toBe(true);
      expect(info.keepAlive).toBe(false);
      // The modern set, negotiated with a peer that has it too: TCPI_OPT_TIMESTAMPS | SACK | WSCALE, and
      // shift 7 both ways, for the 6 MiB the default buffers may autotune to.
      expect(info.options).toBe(1 | 2 | 4);
      expect([info.sndWscale, info.rcvWscale]).toEqual([7, 7]);
      // A clean path: nothing SACKed, lost or retransmitted; no reordering.
      expect([info.sacked, info.lost, info.retrans, info.reordSeen]).toEqual([0, 0, 0, 0]);
      expect(info.reordering).toBe(3);
      expect(info.minRtt).toBeGreaterThanOrEqual(20);
      expect(info.minRtt).toBeLessThanOrEqual(info.rtt);
      // Delivered bytes per second over at least one round trip: at most what the link could carry.
      expect(info.deliveryRate).toBeGreaterThan(0);
      expect(['slow-start', 'congestion-avoidance']).toContain(info.congestionState);
      socket.destroy();
    });
  });

  test('setKeepAlive probes an idle connection and detects a dead peer', async () => {
    const pair = simPair();
    await pair.run(async () => {
      const socket = await connectedToDiscardServer(pair);
      socket.setKeepAlive(true, 5_000);
      expect(socket.tcpInfo()!.keepAlive).toBe(true);
      await pair.delay(30_000);
      // The peer answered every probe: still connected.
      const probes = tcpLayerOf(pair.client).counters.keepaliveProbes;
      expect(probes).toBeGreaterThanOrEqual(5);
      expect(socket.destroyed).toBe(false);
      pair.network.links[0]!.link.setDown(true);
      const start = pair.now();
      const { error } = await failure(socket);
      expect(['ETIMEDOUT', 'EHOSTUNREACH']).toContain(error.code);
      expect(error.syscall).toBe('read');
      // Nine unanswered probes, 75 s apart (the TCP defaults, as Linux's).
      expect(pair.now() - start).toBeGreaterThanOrEqual(9 * 75_000 - 5_000);
      expect(pair.now() - start).toBeLessThanOrEqual(9 * 75_000 + 5_000);
    });
  });

  test('connect with localPort and timeout options', async () => {
    const pair = simPair();
    await pair.run(async () => {
      const socket = await connectedToDiscardServer(pair, (net) =>
        net.connect({ port: 80, host: '10.0.0.2', localPort: 40_000, timeout: 500 }),
      );
      expect(socket.localPort).toBe(40_000);
      expect(socket.timeout).toBe(500);
      const start = pair.now();
      await new Promise((resolve) => socket.once('timeout', resolve));
      expect(pair.now() - start).toBeGreaterThanOrEqual(499);
      socket.destroy();
    });
  });

  test('isIP / isIPv4 / isIPv6 follow Node', () => {
    const net = createNetApi(simPair().client);
    expect(
      [
        '10.0.0.1',
        '010.0.0.1',
        '::1',
        '::ffff:10.0.0.1',
        'fe80::1%eth0',
        '1:2:3:4:5:6:7:8',
        '1::2::3',
        'x',
      ].map(net.isIP),
    ).toEqual([4, 0, 6, 6, 6, 6, 0, 0]);
    expect(net.isIPv4('255.255.255.255')).toBe(true);
    expect(net.isIPv6('1:2:3:4:5:6:7')).toBe(false);
  });
});
