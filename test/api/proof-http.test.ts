/**
 * Node's own `http` server and client, unmodified, over tcpts: the server gets its sockets through
 * `server.emit('connection', socket)`, the client through the `createConnection` option. The link loses
 * 2% of frames each way (seeded) and delays each by 20 ms. One POST uploads 20 MB while its response
 * downloads 20 MB at the same time; both arrive byte-exact (sha256), the upload's hash travelling back
 * in an HTTP trailer. Runs on virtual time.
 */
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import { expect, test } from 'vitest';
import { createNetApi } from '../../src/api/net/net-api.js';
import type { Socket } from '../../src/api/net/socket.js';
import { tcpLayerOf } from '../../src/api/tcp-layer-of-stack.js';
import { patternSha256, patternStream } from './helpers/pattern.js';
import { simPair } from './helpers/sim-pair.js';

const SIZE = 20 * 1024 * 1024;
const UPLOAD_SEED = 0x1234567;
const DOWNLOAD_SEED = 0x7654321;

test('http: 20 MB up and 20 MB down in one request over 2% loss and 20 ms delay, byte-exact', async () => {
  const pair = simPair({ seed: 2024, delayMs: 20, impairments: { loss: 0.02 } });
  const serverNet = createNetApi(pair.server);
  const clientNet = createNetApi(pair.client);
  const started = performance.now();

  const httpServer = http.createServer((req, res) => {
    const upload = createHash('sha256');
    let uploaded = 0;
    let uploadDone = false;
    let downloadDone = false;
    const finish = () => {
      if (!uploadDone || !downloadDone) return;
      res.addTrailers({ 'x-upload-sha256': upload.digest('hex'), 'x-upload-bytes': String(uploaded) });
      res.end();
    };
    req.on('data', (chunk: Buffer) => {
      upload.update(chunk);
      uploaded += chunk.length;
    });
    req.on('end', () => {
      uploadDone = true;
      finish();
    });
    // The response starts while the upload is still arriving: both directions carry 20 MB at once.
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      trailer: 'x-upload-sha256, x-upload-bytes',
    });
    const source = patternStream(DOWNLOAD_SEED, SIZE);
    source.pipe(res, { end: false });
    source.on('end', () => {
      downloadDone = true;
      finish();
    });
  });
  const listener = serverNet.createServer((socket) => httpServer.emit('connection', socket));

  const result = await pair.run(async () => {
    await new Promise<void>((resolve) => listener.listen(80, pair.serverAddress, resolve));
    let clientSocket: Socket | undefined;
    const response = await new Promise<{
      status: number;
      sha256: string;
      bytes: number;
      trailers: NodeJS.Dict<string>;
    }>((resolve, reject) => {
      const req = http.request(
        {
          host: pair.serverAddress,
          port: 80,
          method: 'POST',
          path: '/transfer',
          headers: { 'content-type': 'application/octet-stream' },
          createConnection: ((options: { port: number; host: string }) => {
            clientSocket = clientNet.createConnection({ port: options.port, host: options.host });
            return clientSocket;
          }) as unknown as http.RequestOptions['createConnection'],
        },
        (res) => {
          const download = createHash('sha256');
          let bytes = 0;
          res.on('data', (chunk: Buffer) => {
            download.update(chunk);
            bytes += chunk.length;
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode!,
              sha256: download.digest('hex'),
              bytes,
              trailers: res.trailers,
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      patternStream(UPLOAD_SEED, SIZE).pipe(req);
    });
    expect(clientSocket!.remoteAddress).toBe(pair.serverAddress);
    return { response, virtualMs: pair.now() };
  }, 3_600_000);

  const { response, virtualMs } = result;
  const clientTcp = tcpLayerOf(pair.client).counters;
  const serverTcp = tcpLayerOf(pair.server).counters;
  console.log(
    `http 20 MB each way: ${virtualMs.toFixed(0)} ms virtual, ${(performance.now() - started).toFixed(0)} ms real; ` +
      `segments retransmitted: client ${clientTcp.retransmittedSegments}, server ${serverTcp.retransmittedSegments}`,
  );
  expect(response.status).toBe(200);
  expect(response.bytes).toBe(SIZE);
  expect(response.sha256).toBe(patternSha256(DOWNLOAD_SEED, SIZE));
  expect(response.trailers['x-upload-bytes']).toBe(String(SIZE));
  expect(response.trailers['x-upload-sha256']).toBe(patternSha256(UPLOAD_SEED, SIZE));
  // The loss was real: both senders had to retransmit.
  expect(clientTcp.retransmittedSegments).toBeGreaterThan(0);
  expect(serverTcp.retransmittedSegments).toBeGreaterThan(0);
  expect(clientTcp.internalErrors + serverTcp.internalErrors).toBe(0);
});
