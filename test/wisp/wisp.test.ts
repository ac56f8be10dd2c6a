/**
 * WISP on loopback: tcpts's client against tcpts's server (v2 and v1) and against an independent server
 * (@mercuryworkshop/wisp-js, the protocol authors' implementation), reaching a TCP server on 127.0.0.1;
 * refusals and policy blocks surface as errors; CONTINUE credits stop a client whose destination does not
 * read; and a gateway whose upstream is a WISP client carries a guest's connection end to end.
 */
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { WebSocket } from 'ws';
import '../../src/api/sockets-node.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { allowList } from '../../src/gateway/policy.js';
import type { UpstreamStream, UpstreamStreamHandlers } from '../../src/gateway/upstream.js';
import { MemoryLink } from '../../src/link/memory-link.js';
import { Stack } from '../../src/stack.js';
import { RealClock } from '../../src/time/real-clock.js';
import { WispClient, type WispWebSocket, wispUpstream } from '../../src/wisp/wisp-client.js';
import {
  encodeConnect,
  encodeWispPacket,
  parseWispPacket,
  WISP_DATA,
  WISP_STREAM_UDP,
} from '../../src/wisp/wisp-packet.js';
import { startWispServer } from '../../src/wisp/wisp-server-node.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const createWebSocket = (url: string, protocols: string[]) =>
  new WebSocket(url, protocols) as unknown as WispWebSocket;

function pattern(length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = (i * 13 + (i >>> 10)) & 0xff;
  return out;
}
const sha = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');

/** A TCP server on 127.0.0.1 that sends `reply` after reading `expect` bytes (or at once), then closes. */
async function tcpServer(reply: Buffer, expectBytes = 0): Promise<{ port: number; received: () => Buffer }> {
  const parts: Buffer[] = [];
  const server = net.createServer((socket) => {
    let got = 0;
    const answer = () => socket.end(reply);
    if (expectBytes === 0) answer();
    socket.on('data', (d: Buffer) => {
      parts.push(d);
      got += d.length;
      if (got === expectBytes) answer();
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((d) => server.listen(0, '127.0.0.1', () => d()));
  cleanups.push(() => server.close());
  return { port: (server.address() as AddressInfo).port, received: () => Buffer.concat(parts) };
}

/** Sends `data` over a stream and collects what comes back until the server closes. */
function exchange(
  client: WispClient,
  port: number,
  data: Buffer,
): Promise<{ reply: Buffer; error?: string }> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let stream: UpstreamStream;
    const handlers: UpstreamStreamHandlers = {
      connect() {},
      data: (chunk) => parts.push(Buffer.from(chunk)),
      end() {},
      drain: () => pump(),
      close: (error) => resolve({ reply: Buffer.concat(parts), error: error?.code }),
    };
    let offset = 0;
    let ended = false;
    const pump = () => {
      while (offset < data.length) {
        const piece = data.subarray(offset, offset + 16_384);
        offset += piece.length;
        if (!stream.write(piece)) return;
      }
      // All written: half-close, as a socket would (a no-op towards servers without stream control).
      if (!ended) {
        ended = true;
        stream.end();
      }
    };
    stream = client.openStream({ address: '127.0.0.1', port }, handlers);
    pump();
  });
}

async function ourServer(options: Parameters<typeof startWispServer>[0] = { port: 0 }) {
  const server = await startWispServer(options);
  cleanups.push(() => server.close());
  return server;
}

async function connectClient(port: number, v2 = true) {
  const client = await WispClient.connect(`ws://127.0.0.1:${port}/`, { createWebSocket, v2 });
  cleanups.push(() => client.close());
  return client;
}

describe('WISP', () => {
  test.each([true, false])('client and server (v2: %s): 4 MiB up, 4 MiB down, sha256-exact', async (v2) => {
    const down = pattern(4 << 20);
    const up = pattern(4 << 20).reverse();
    const target = await tcpServer(down, up.length);
    const server = await ourServer({ port: 0, policy: allowList(['127.0.0.0/8']) });
    const client = await connectClient(server.port, v2);
    expect(client.version).toBe(v2 ? 2 : 1);
    expect(client.initialCredits).toBe(64);
    const result = await exchange(client, target.port, up);
    expect(result.error).toBeUndefined();
    expect(sha(result.reply)).toBe(sha(down));
    expect(sha(target.received())).toBe(sha(up));
  });

  test('refused, blocked by policy and unresolvable destinations close the stream with the reason', async () => {
    const target = await tcpServer(Buffer.from('x'));
    const closed = net.createServer();
    await new Promise<void>((d) => closed.listen(0, '127.0.0.1', () => d()));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((d) => closed.close(() => d()));
    const server = await ourServer({ port: 0, policy: allowList(['127.0.0.1/32']) });
    const client = await connectClient(server.port);
    expect((await exchange(client, closedPort, Buffer.alloc(0))).error).toBe('ECONNREFUSED');
    const blocked = await new Promise<string | undefined>((resolve) => {
      client.openStream(
        { address: '127.0.0.2', port: target.port },
        {
          connect() {},
          data() {},
          end() {},
          drain() {},
          close: (error) => resolve(error?.code),
        },
      );
    });
    expect(blocked).toBe('EACCES');
    expect(server.server.counters.streamsRefusedByPolicy).toBe(1);
    const unknown = await new Promise<string | undefined>((resolve) => {
      client.openStream(
        { address: 'no-such-host.invalid', port: 80 },
        {
          connect() {},
          data() {},
          end() {},
          drain() {},
          close: (error) => resolve(error?.code),
        },
      );
    });
    expect(unknown).toBe('EHOSTUNREACH');
  });

  test('credits run out while the destination reads nothing, and come back when it reads', async () => {
    let serverSocket: net.Socket | undefined;
    let received = 0;
    const target = net.createServer((socket) => {
      serverSocket = socket;
      socket.pause();
      socket.on('data', (d: Buffer) => {
        received += d.length;
      });
    });
    await new Promise<void>((d) => target.listen(0, '127.0.0.1', () => d()));
    cleanups.push(() => {
      serverSocket?.destroy();
      target.close();
    });
    const server = await ourServer({ port: 0, bufferPackets: 8 });
    const client = await connectClient(server.port);
    let drained = 0;
    const stream = client.openStream(
      { address: '127.0.0.1', port: (target.address() as AddressInfo).port },
      { connect() {}, data() {}, end() {}, drain: () => drained++, close() {} },
    );
    let accepted = 0;
    const chunk = Buffer.alloc(65_536, 1);
    // Write until the stream says stop, waiting for credits as a caller would.
    for (let i = 0; i < 400; i++) {
      accepted += chunk.length;
      if (!stream.write(chunk)) {
        await new Promise((r) => setTimeout(r, 50));
        if (drained === 0) break;
        drained = 0;
      }
    }
    // Blocked well short of what the 400 writes would be: the server buffers at most 8 packets beyond
    // what the destination's socket and TCP window hold.
    expect(accepted).toBeLessThan(400 * 65_536);
    const blockedAt = accepted;
    serverSocket!.resume();
    await new Promise((r) => setTimeout(r, 300));
    expect(drained).toBeGreaterThan(0);
    expect(received).toBeGreaterThanOrEqual(blockedAt - 8 * 65_536);
  });

  test.each([2, 1])('tcpts client against the wisp-js server (v%i)', async (version) => {
    const wisp = await import('@mercuryworkshop/wisp-js/server');
    wisp.server.options.allow_loopback_ips = true;
    wisp.server.options.wisp_version = 2;
    wisp.logging.set_level(wisp.logging.NONE);
    const httpServer = http.createServer();
    httpServer.on('upgrade', (request, socket, head) => wisp.server.routeRequest(request, socket, head));
    await new Promise<void>((d) => httpServer.listen(0, '127.0.0.1', () => d()));
    cleanups.push(() => {
      httpServer.closeAllConnections();
      httpServer.close();
    });
    const down = pattern(2 << 20);
    const up = pattern(1 << 20);
    const target = await tcpServer(down, up.length);
    const client = await connectClient((httpServer.address() as AddressInfo).port, version === 2);
    expect(client.version).toBe(version);
    const result = await exchange(client, target.port, up);
    expect(sha(result.reply)).toBe(sha(down));
    expect(sha(target.received())).toBe(sha(up));
  });

  test('a gateway with a WISP upstream carries a guest connection to the host loopback', async () => {
    const down = pattern(3 << 20);
    const target = await tcpServer(down);
    const server = await ourServer({ port: 0, policy: allowList(['127.0.0.0/8']) });
    const client = await connectClient(server.port);
    const { guest } = guestBehindWisp(client);
    const got = await new Promise<Buffer>((resolve, reject) => {
      const socket = guest.net.connect(target.port, '10.0.2.2');
      const parts: Buffer[] = [];
      socket.on('data', (d: Buffer) => parts.push(d));
      socket.on('end', () => resolve(Buffer.concat(parts)));
      socket.on('error', reject);
    });
    expect(sha(got)).toBe(sha(down));
    expect(server.server.counters.streamsOpened).toBe(1);
  });
});

/** A guest stack behind a gateway whose upstream is a WISP client. */
function guestBehindWisp(client: WispClient) {
  const clock = new RealClock();
  const guest = new Stack({ name: 'guest', clock });
  const gatewayStack = new Stack({ name: 'gateway', clock });
  const link = new MemoryLink({
    clock,
    a: { name: 'guest0', mac: 0x02_00_00_00_00_0f },
    b: { name: 'gw0', mac: 0x52_55_0a_00_02_02 },
  });
  guest.addInterface(link.a, { address: '10.0.2.15/24', gateway: '10.0.2.2' });
  const gateway = new Gateway({ stack: gatewayStack, device: link.b, upstream: wispUpstream(client) });
  cleanups.push(() => {
    gateway.close();
    guest.close();
    gatewayStack.close();
    clock.close();
  });
  return { guest, gateway };
}

describe('WISP stream control (tcpts client and server)', () => {
  test('half-close both ways through a gateway: the destination sees the guest FIN, the guest the destination FIN', async () => {
    const upload = pattern(1 << 20);
    const greeting = pattern(200_000).reverse();
    const uploads: Buffer[] = [];
    // Destination 1 answers only after the guest's end of data; destination 2 ends first and then reads.
    const answersAfterEnd = net.createServer({ allowHalfOpen: true }, (socket) => {
      const parts: Buffer[] = [];
      socket.on('data', (d: Buffer) => parts.push(d));
      socket.on('end', () => {
        const got = Buffer.concat(parts);
        socket.end(`${got.length} ${sha(got)}`);
      });
    });
    const endsFirst = net.createServer({ allowHalfOpen: true }, (socket) => {
      const parts: Buffer[] = [];
      socket.end(greeting);
      socket.on('data', (d: Buffer) => parts.push(d));
      socket.on('end', () => uploads.push(Buffer.concat(parts)));
    });
    for (const s of [answersAfterEnd, endsFirst]) {
      await new Promise<void>((d) => s.listen(0, '127.0.0.1', () => d()));
      cleanups.push(() => s.close());
    }
    const server = await ourServer({ port: 0, policy: allowList(['127.0.0.0/8']) });
    const client = await connectClient(server.port);
    expect(client.streamControl).toBe(true);
    const { guest } = guestBehindWisp(client);

    const answer = await new Promise<string>((resolve, reject) => {
      const socket = guest.net.connect({
        port: (answersAfterEnd.address() as AddressInfo).port,
        host: '10.0.2.2',
        allowHalfOpen: true,
      });
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => {
        text += d;
      });
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
      socket.end(upload);
    });
    expect(answer).toBe(`${upload.length} ${sha(upload)}`);

    const got = await new Promise<Buffer>((resolve, reject) => {
      const socket = guest.net.connect({
        port: (endsFirst.address() as AddressInfo).port,
        host: '10.0.2.2',
        allowHalfOpen: true,
      });
      const parts: Buffer[] = [];
      socket.on('data', (d: Buffer) => parts.push(d));
      // Only after the destination's FIN does the guest send, then end.
      socket.on('end', () => socket.end(upload));
      socket.on('close', () => resolve(Buffer.concat(parts)));
      socket.on('error', reject);
    });
    expect(sha(got)).toBe(sha(greeting));
    await new Promise((r) => setTimeout(r, 200));
    expect(uploads.map((u) => sha(u))).toEqual([sha(upload)]);
    expect(server.server.counters.halfClosesFromClient).toBe(2);
    expect(server.server.counters.halfClosesToClient).toBe(2);
    expect(client.streamCount).toBe(0);
  });

  test('credits towards the client: a paused stream holds at most its credit, then takes all 24 MiB sha256-exact', async () => {
    const down = pattern(24 << 20);
    let written = false;
    const target = net.createServer((socket) => {
      socket.end(down, () => {
        written = true;
      });
    });
    await new Promise<void>((d) => target.listen(0, '127.0.0.1', () => d()));
    cleanups.push(() => target.close());
    const server = await ourServer({ port: 0 });
    const client = await WispClient.connect(`ws://127.0.0.1:${server.port}/`, {
      createWebSocket,
      receiveCredits: 8,
    });
    cleanups.push(() => client.close());
    const parts: Buffer[] = [];
    let closed!: () => void;
    const done = new Promise<void>((r) => {
      closed = r;
    });
    const stream = client.openStream(
      { address: '127.0.0.1', port: (target.address() as AddressInfo).port },
      {
        connect() {},
        data: (chunk) => parts.push(Buffer.from(chunk)),
        end() {},
        drain() {},
        close: () => closed(),
      },
    );
    stream.pause();
    await new Promise((r) => setTimeout(r, 500));
    // The server stopped reading at the client's credit: at most 8 packets (64 KiB each) wait here, and
    // the destination could not hand all it wrote to its kernel.
    expect(client.heldBytes).toBeGreaterThan(0);
    expect(client.heldBytes).toBeLessThanOrEqual(8 * 65_536);
    expect(server.server.counters.clientCreditStalls).toBeGreaterThanOrEqual(1);
    expect(written).toBe(false);
    stream.resume();
    stream.end();
    await done;
    expect(sha(Buffer.concat(parts))).toBe(sha(down));
  });
});

describe('WISP server UDP streams', () => {
  test('carries datagrams sent in the same read as their CONNECT (they wait while the socket connects)', async () => {
    const echo = dgram.createSocket('udp4', (message, rinfo) =>
      echo.send(message, rinfo.port, rinfo.address),
    );
    await new Promise<void>((d) => echo.bind(0, '127.0.0.1', () => d()));
    cleanups.push(() => echo.close());
    const server = await ourServer({ port: 0, policy: allowList(['127.0.0.0/8']) });
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`);
    cleanups.push(() => ws.close());
    const replies: string[] = [];
    ws.on('message', (data: Buffer) => {
      const packet = parseWispPacket(new Uint8Array(data));
      if (packet?.type === WISP_DATA && packet.streamId === 1)
        replies.push(new TextDecoder().decode(packet.payload));
    });
    await new Promise<void>((d) => ws.once('open', () => d()));
    // One TCP write: CONNECT and three datagrams reach the server in one read.
    const socket = (ws as unknown as { _socket: net.Socket })._socket;
    socket.cork();
    ws.send(encodeConnect(1, WISP_STREAM_UDP, (echo.address() as AddressInfo).port, '127.0.0.1'));
    for (const text of ['one', 'two', 'three'])
      ws.send(encodeWispPacket(WISP_DATA, 1, new TextEncoder().encode(text)));
    socket.uncork();
    for (let i = 0; i < 100 && replies.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
    expect(replies).toEqual(['one', 'two', 'three']);
    expect(server.server.counters.udpDatagramsDroppedConnecting).toBe(0);
  });
});
