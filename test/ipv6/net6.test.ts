/**
 * `net` over IPv6 and dual stack, as Node reports it: listen() without a host is :: and takes IPv4 peers
 * as ::ffff:a.b.c.d, ipv6Only leaves IPv4 out, a client over IPv6 sees IPv6 endpoints, 'localhost' is ::1
 * then 127.0.0.1, and autoSelectFamily (RFC 8305, Node's connectMultiple) moves on from an IPv6 address
 * that does not answer to the IPv4 one after the attempt timeout.
 */
import '../../src/api/sockets-node.js';
import { describe, expect, test } from 'vitest';
import { createNetApi } from '../../src/api/net/net-api.js';
import type { Socket } from '../../src/api/net/socket.js';
import { openTcpStream } from '../../src/api/streams/tcp-stream.js';
import { listenTcpStreams } from '../../src/api/streams/tcp-stream-listener.js';
import { simPair } from '../api/helpers/sim-pair.js';

function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
}

function failed(socket: Socket): Promise<string> {
  return new Promise((resolve) =>
    socket.once('error', (e: Error & { code?: string }) => resolve(e.code ?? '')),
  );
}

describe('net over IPv6', () => {
  test('listen() is :: for both families: IPv6 peers as themselves, IPv4 peers as ::ffff:a.b.c.d', async () => {
    const pair = simPair({ family: 6 });
    const serverNet = createNetApi(pair.server);
    const clientNet = createNetApi(pair.client);
    await pair.run(async () => {
      const peers: Array<[string | undefined, string | undefined, string | undefined]> = [];
      const server = serverNet.createServer((socket) => {
        peers.push([socket.remoteAddress, socket.remoteFamily, socket.localAddress]);
        socket.end('hi');
      });
      await new Promise<void>((resolve) => server.listen(8080, resolve));
      expect(server.address()).toEqual({ address: '::', family: 'IPv6', port: 8080 });
      const six = clientNet.connect(8080, 'fd00::2');
      await connected(six);
      expect([six.remoteAddress, six.remoteFamily, six.localAddress, six.localFamily]).toEqual([
        'fd00::2',
        'IPv6',
        'fd00::1',
        'IPv6',
      ]);
      expect(six.address()).toMatchObject({ address: 'fd00::1', family: 'IPv6' });
      const four = clientNet.connect(8080, '10.0.0.2');
      await connected(four);
      expect([four.remoteAddress, four.remoteFamily]).toEqual(['10.0.0.2', 'IPv4']);
      await pair.delay(10);
      expect(peers).toEqual([
        ['fd00::1', 'IPv6', 'fd00::2'],
        ['::ffff:10.0.0.1', 'IPv6', '::ffff:10.0.0.2'],
      ]);
      for (const s of [six, four]) s.destroy();
      server.close();
    });
  });

  test('ipv6Only: IPv4 connections are refused, and a second server may take 0.0.0.0 on the port', async () => {
    const pair = simPair({ family: 6 });
    const serverNet = createNetApi(pair.server);
    const clientNet = createNetApi(pair.client);
    await pair.run(async () => {
      const server = serverNet.createServer();
      await new Promise<void>((resolve) => server.listen({ port: 81, host: '::', ipv6Only: true }, resolve));
      expect(await failed(clientNet.connect(81, '10.0.0.2'))).toBe('ECONNREFUSED');
      const v4 = serverNet.createServer();
      await new Promise<void>((resolve) => v4.listen(81, '0.0.0.0', resolve));
      expect(v4.address()).toEqual({ address: '0.0.0.0', family: 'IPv4', port: 81 });
      // Without ipv6Only, :: and 0.0.0.0 on one port clash.
      const dual = serverNet.createServer();
      dual.listen(82);
      await new Promise((resolve) => dual.once('listening', resolve));
      const clash = serverNet.createServer();
      clash.listen(82, '0.0.0.0');
      expect(
        await new Promise((resolve) =>
          clash.once('error', (e: Error & { code?: string }) => resolve(e.code)),
        ),
      ).toBe('EADDRINUSE');
      for (const s of [server, v4, dual]) s.close();
    });
  });

  test("'localhost' is ::1 first; family: 4 asks for 127.0.0.1 only", async () => {
    const pair = simPair();
    const net = createNetApi(pair.server);
    await pair.run(async () => {
      const server = net.createServer((s) => s.end());
      await new Promise<void>((resolve) => server.listen(90, resolve));
      const first = net.connect(90, 'localhost');
      await connected(first);
      expect([first.remoteAddress, first.remoteFamily]).toEqual(['::1', 'IPv6']);
      const four = net.connect({ port: 90, host: 'localhost', family: 4 });
      await connected(four);
      expect([four.remoteAddress, four.localAddress]).toEqual(['127.0.0.1', '127.0.0.1']);
      for (const s of [first, four]) s.destroy();
      server.close();
    });
  });

  test('autoSelectFamily: an IPv6 address that does not answer is left after the attempt timeout for IPv4', async () => {
    const pair = simPair({ family: 6 });
    const serverNet = createNetApi(pair.server);
    const clientNet = createNetApi(pair.client);
    await pair.run(async () => {
      const server = serverNet.createServer((s) => s.end());
      await new Promise<void>((resolve) => server.listen(80, resolve));
      const events: unknown[][] = [];
      const socket = clientNet.connect({
        port: 80,
        host: 'both.test',
        lookup: (_name, options, callback) => {
          const answers = [
            { address: 'fd00::99', family: 6 }, // on-link, but nobody answers neighbour solicitation
            { address: '10.0.0.2', family: 4 },
          ];
          // Asynchronous, as dns.lookup answers.
          if (options.all) process.nextTick(callback, null, answers);
          else process.nextTick(callback, null, answers[0]!.address, 6);
        },
      });
      for (const name of [
        'connectionAttempt',
        'connectionAttemptTimeout',
        'connectionAttemptFailed',
        'connect',
      ])
        socket.on(name, (...args: unknown[]) => events.push([name, ...args, pair.now()]));
      const start = pair.now();
      await connected(socket);
      expect(events.map((e) => e.slice(0, -1))).toEqual([
        ['connectionAttempt', 'fd00::99', 80, 6],
        ['connectionAttemptTimeout', 'fd00::99', 80, 6],
        ['connectionAttempt', '10.0.0.2', 80, 4],
        ['connect'],
      ]);
      // Node's autoSelectFamilyAttemptTimeout default: 250 ms.
      expect((events[1]!.at(-1) as number) - start).toBe(250);
      expect(socket.remoteAddress).toBe('10.0.0.2');
      socket.destroy();
      server.close();
    });
  });

  test('web streams over IPv6: a listener on fd00::2 and a client by IPv6 literal, bytes exact', async () => {
    const pair = simPair({ family: 6 });
    await pair.run(async () => {
      const listener = listenTcpStreams(pair.server, { host: 'fd00::2', port: 7 });
      expect([listener.localAddress, listener.localPort]).toEqual(['fd00::2', 7]);
      const serving = (async () => {
        const reader = listener.connections.getReader();
        const { value: conn } = await reader.read();
        reader.releaseLock();
        expect(await conn!.opened).toMatchObject({ localAddress: 'fd00::2', remoteAddress: 'fd00::1' });
        await conn!.readable.pipeTo(conn!.writable);
      })();
      const client = openTcpStream(pair.client, { host: 'fd00::2', port: 7 });
      const writer = client.writable.getWriter();
      await writer.write(new TextEncoder().encode('over IPv6'));
      await writer.close();
      const reader = client.readable.getReader();
      let text = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      expect(text).toBe('over IPv6');
      expect(await client.opened).toMatchObject({ remoteAddress: 'fd00::2', localAddress: 'fd00::1' });
      await serving;
      listener.close();
    });
  });
});
