/**
 * 100 MiB transfers between tcpts and the Linux kernel over a TAP device, each checked by SHA-256:
 * - Linux `curl` downloads from an HTTP server on tcpts (Node's own `http` module over tcpts's `net`);
 * - a tcpts client (Node's `http` again) downloads from `python3 -m http.server`;
 * - `socat` and tcpts exchange 100 MiB in both directions at once.
 * Then the same three with 2% loss and 2% reordering injected on tcpts's side of the link, both ways.
 * Both ends run their defaults: SACK, timestamps and window scaling (negotiated, as modern-options.test.ts
 * checks on the wire), and on tcpts's side RACK-TLP recovery.
 *
 * Each transfer prints its throughput, so a run doubles as a rough performance record.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from '../../src/api/net/server.js';
import type { Socket } from '../../src/api/net/socket.js';
import type { TapHost } from '../../src/cli/tap-host.js';
import { ImpairedDevice } from '../../src/link/impaired-device.js';
import type { LinkImpairments } from '../../src/link/impairments.js';
import { explainSkip, KernelPeer, type KernelPeerOptions, removeAllPeers } from './helpers/kernel-peer.js';
import { sha256sumOutput, TempDirectory, type TestFile, writeTestFile } from './helpers/test-data.js';

const skip = explainSkip('interop bulk transfers');
const SIZE = 100 * 1024 * 1024;
const LOSSY: LinkImpairments = { loss: 0.02, reorder: 0.02 };

let directory: TempDirectory;
/** What tcpts sends (and python serves). */
let outgoing: TestFile;
/** What the kernel sends to tcpts in the two-way exchange. */
let incoming: TestFile;

beforeAll(() => {
  if (skip) return;
  directory = new TempDirectory();
  outgoing = writeTestFile(directory.file('outgoing.bin'), SIZE, 'tcpts to kernel');
  incoming = writeTestFile(directory.file('incoming.bin'), SIZE, 'kernel to tcpts');
});

afterAll(() => {
  removeAllPeers();
  directory?.remove();
});

function report(what: string, bytes: number, started: number, peer: KernelPeer): void {
  const seconds = (performance.now() - started) / 1000;
  const mbits = (bytes * 8) / seconds / 1e6;
  const device = peer.host.device;
  let faults = '';
  if (device instanceof ImpairedDevice) {
    const out = device.outbound.counters;
    const inb = device.inbound.counters;
    faults = `; injected: out ${out.dropped.loss} lost ${out.reordered} reordered, in ${inb.dropped.loss} lost ${inb.reordered} reordered`;
  }
  console.log(
    `${what}: ${(bytes / 1048576).toFixed(0)} MiB in ${seconds.toFixed(2)} s = ${mbits.toFixed(0)} Mbit/s${faults}`,
  );
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
}

/** Node's http server over tcpts, answering every request with the outgoing file. */
function serveFileOverHttp(host: TapHost, file: TestFile): Server {
  const httpServer = http.createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': file.size });
    createReadStream(file.path).pipe(response);
  });
  return host.net.createServer((socket) => httpServer.emit('connection', socket));
}

/** Node's http client over tcpts: GET and hash the body. */
function downloadOverHttp(host: TapHost, address: string, port: number, path: string) {
  return new Promise<{ status: number; bytes: number; sha256: string }>((resolve, reject) => {
    let socket: Socket | undefined;
    const request = http.get(
      {
        host: address,
        port,
        path,
        // No `agent` option: with one (even `false`, which makes a fresh Agent) Node ignores
        // createConnection and would use the kernel's own TCP.
        createConnection: (() => {
          socket = host.net.createConnection({ host: address, port });
          return socket;
        }) as unknown as http.RequestOptions['createConnection'],
      },
      (response) => {
        const overTcpts = socket !== undefined && response.socket === socket;
        const hash = createHash('sha256');
        let bytes = 0;
        response.on('data', (chunk: Buffer) => {
          hash.update(chunk);
          bytes += chunk.length;
        });
        response.on('end', () => {
          if (!overTcpts) reject(new Error('the response did not come over tcpts'));
          else resolve({ status: response.statusCode ?? 0, bytes, sha256: hash.digest('hex') });
        });
        response.on('error', reject);
      },
    );
    request.on('error', reject);
  });
}

async function curlDownloadsFromTcpts(options: KernelPeerOptions, label: string): Promise<void> {
  const peer = new KernelPeer(options);
  try {
    await listen(serveFileOverHttp(peer.host, outgoing), 8080);
    const started = performance.now();
    const curl = await peer.run(
      [
        'bash',
        '-c',
        `set -o pipefail; curl -sS --fail --max-time 280 http://${peer.tcptsAddress}:8080/data | sha256sum`,
      ],
      290_000,
    );
    report(`curl <- tcpts${label}`, SIZE, started, peer);
    expect(curl.stderr).toBe('');
    expect(curl.code).toBe(0);
    expect(sha256sumOutput(curl.stdout)).toBe(outgoing.sha256);
  } finally {
    peer.close();
  }
}

async function tcptsDownloadsFromPython(options: KernelPeerOptions, label: string): Promise<void> {
  const peer = new KernelPeer(options);
  try {
    await peer
      .start([
        'python3',
        '-u',
        '-m',
        'http.server',
        '8000',
        '--bind',
        peer.kernelAddress,
        '--directory',
        directory.path,
      ])
      .waitFor(/Serving HTTP/);
    const started = performance.now();
    const result = await downloadOverHttp(peer.host, peer.kernelAddress, 8000, '/outgoing.bin');
    report(`tcpts <- python3 http.server${label}`, result.bytes, started, peer);
    expect(result.status).toBe(200);
    expect(result.bytes).toBe(SIZE);
    expect(result.sha256).toBe(outgoing.sha256);
  } finally {
    peer.close();
  }
}

async function socatExchangesWithTcpts(options: KernelPeerOptions, label: string): Promise<void> {
  const peer = new KernelPeer(options);
  try {
    let uploaded: Promise<{ bytes: number; sha256: string }> | undefined;
    const server = peer.host.net.createServer({ allowHalfOpen: true }, (socket: Socket) => {
      uploaded = new Promise((resolve, reject) => {
        const hash = createHash('sha256');
        let bytes = 0;
        socket.on('data', (chunk: Buffer) => {
          hash.update(chunk);
          bytes += chunk.length;
        });
        socket.on('end', () => resolve({ bytes, sha256: hash.digest('hex') }));
        socket.on('error', reject);
      });
      // Sent while the upload arrives; the FIN follows the last byte.
      createReadStream(outgoing.path).pipe(socket);
    });
    await listen(server, 9000);
    const started = performance.now();
    // socat sends its file and writes what it receives to stdout; -t lets the other direction finish
    // after its own EOF (its default is to give up 0.5 s after one side ends).
    const socat = await peer.run(
      [
        'bash',
        '-c',
        `set -o pipefail; socat -t 280 -b 65536 OPEN:${incoming.path},rdonly!!STDOUT TCP:${peer.tcptsAddress}:9000 | sha256sum`,
      ],
      290_000,
    );
    expect(socat.stderr).toBe('');
    expect(socat.code).toBe(0);
    expect(uploaded).toBeDefined();
    const received = await uploaded!;
    report(`socat <-> tcpts${label} (each way)`, SIZE, started, peer);
    expect(sha256sumOutput(socat.stdout)).toBe(outgoing.sha256);
    expect(received.bytes).toBe(SIZE);
    expect(received.sha256).toBe(incoming.sha256);
  } finally {
    peer.close();
  }
}

const lossy = (seed: number): KernelPeerOptions => ({
  host: { impairments: { seed, inbound: LOSSY, outbound: LOSSY } },
});

describe.skipIf(skip)('100 MiB between tcpts and the kernel over TAP, sha256-checked', () => {
  it('curl downloads from an HTTP server on tcpts', () => curlDownloadsFromTcpts({}, ''), 120_000);

  it('tcpts downloads from python3 -m http.server', () => tcptsDownloadsFromPython({}, ''), 120_000);

  it(
    'socat and tcpts exchange 100 MiB in both directions at once',
    () => socatExchangesWithTcpts({}, ''),
    120_000,
  );
});

// Concurrent: with this much loss the transfers spend most of their time waiting out retransmission
// timeouts, not computing, so running the three side by side costs little more than the slowest one.
describe
  .skipIf(skip)
  .concurrent('the same with 2% loss and 2% reordering on tcpts side, both directions', () => {
    it(
      'curl downloads from an HTTP server on tcpts',
      () => curlDownloadsFromTcpts(lossy(1), ', lossy'),
      300_000,
    );

    it(
      'tcpts downloads from python3 -m http.server',
      () => tcptsDownloadsFromPython(lossy(2), ', lossy'),
      300_000,
    );

    it(
      'socat and tcpts exchange 100 MiB in both directions at once',
      () => socatExchangesWithTcpts(lossy(3), ', lossy'),
      300_000,
    );
  });
