/**
 * The `ws` WebSocket library, unmodified, over tcpts: the server side through Node's `http` server and
 * `WebSocketServer.handleUpgrade` (sockets handed over with `server.emit('connection', socket)`), the
 * client with the `createConnection` option. 10,000 messages (text and binary, 1 byte to 8 KiB) go to
 * the server and 10,000 answers come back, in order and exact, over 2% loss and 20 ms delay; then the
 * closing handshake completes with code 1000 on both sides. Runs on virtual time.
 */
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import { expect, test } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { createNetApi } from '../../src/api/net/net-api.js';
import { tcpLayerOf } from '../../src/api/tcp-layer-of-stack.js';
import { simPair } from './helpers/sim-pair.js';

const MESSAGES = 10_000;

/** Message i: text for even i, binary for odd i; sizes from 1 byte to 8 KiB. */
function message(i: number): string | Buffer {
  const size = 1 + ((i * 7919) % 8192);
  if (i % 2 === 0) return `m${i}:`.padEnd(size, String.fromCharCode(97 + (i % 26)));
  const bytes = Buffer.allocUnsafe(size);
  for (let j = 0; j < size; j++) bytes[j] = (i + j * 31) & 0xff;
  return bytes;
}

/** What the server answers to message i: its index, kind, length and sha256. */
function answer(i: number, data: Buffer, isBinary: boolean): string {
  return `${i} ${isBinary ? 'binary' : 'text'} ${data.length} ${createHash('sha256').update(data).digest('hex')}`;
}

test('ws: 10,000 messages each way over 2% loss and 20 ms delay, in order and exact', async () => {
  const pair = simPair({ seed: 77, delayMs: 20, impairments: { loss: 0.02 } });
  const serverNet = createNetApi(pair.server);
  const clientNet = createNetApi(pair.client);
  const started = performance.now();

  const httpServer = http.createServer((_req, res) => res.writeHead(426).end());
  const wss = new WebSocketServer({ noServer: true });
  let serverClosed!: Promise<[number, string]>;
  httpServer.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      serverClosed = new Promise((resolve) =>
        ws.on('close', (code, reason) => resolve([code, reason.toString()])),
      );
      let next = 0;
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        ws.send(answer(next++, data, isBinary));
      });
    });
  });
  const listener = serverNet.createServer((socket) => httpServer.emit('connection', socket));

  const outcome = await pair.run(async () => {
    await new Promise<void>((resolve) => listener.listen(80, pair.serverAddress, resolve));
    const ws = new WebSocket(`ws://${pair.serverAddress}/chat`, {
      perMessageDeflate: false,
      createConnection: ((options: { port: number; host: string }) =>
        clientNet.createConnection({
          port: Number(options.port),
          host: options.host,
        })) as unknown as WebSocket.ClientOptions['createConnection'],
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const expected: string[] = [];
    for (let i = 0; i < MESSAGES; i++) {
      const m = message(i);
      expected.push(answer(i, Buffer.isBuffer(m) ? m : Buffer.from(m), Buffer.isBuffer(m)));
    }
    const received: string[] = [];
    const allAnswered = new Promise<void>((resolve, reject) => {
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        if (isBinary) reject(new Error('answers are text'));
        received.push(data.toString());
        if (received.length === MESSAGES) resolve();
      });
      ws.once('error', reject);
    });
    for (let i = 0; i < MESSAGES; i++) ws.send(message(i));
    await allAnswered;
    const clientClosed = new Promise<[number, string]>((resolve) =>
      ws.once('close', (code, reason) => resolve([code, reason.toString()])),
    );
    ws.close(1000, 'done');
    return {
      received,
      expected,
      client: await clientClosed,
      server: await serverClosed,
      virtualMs: pair.now(),
    };
  });

  const retransmitted =
    tcpLayerOf(pair.client).counters.retransmittedSegments +
    tcpLayerOf(pair.server).counters.retransmittedSegments;
  console.log(
    `ws 10,000 messages each way: ${outcome.virtualMs.toFixed(0)} ms virtual, ` +
      `${(performance.now() - started).toFixed(0)} ms real; ${retransmitted} segments retransmitted`,
  );
  expect(outcome.received.length).toBe(MESSAGES);
  expect(outcome.received).toEqual(outcome.expected);
  expect(outcome.client).toEqual([1000, 'done']);
  expect(outcome.server).toEqual([1000, 'done']);
  expect(retransmitted).toBeGreaterThan(0);
});
