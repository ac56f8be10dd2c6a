/**
 * TCP over IPv6 between tcpts and the Linux kernel over a TAP device, tcpts's host running IPv6 only (no
 * IPv4 address), in a namespace the test creates (ULA addresses, fd00::/8):
 * - Linux `curl` downloads from an HTTP server on tcpts (Node's `http` over tcpts's `net`, listening on
 *   :: as Node does) at http://[fd00:...::2]:8080/;
 * - a tcpts client (Node's `http` again) downloads from `python3 -m http.server --bind fd00:...::1`.
 * Each body is checked by SHA-256; the kernel's view of the connection (ss) confirms IPv6 and MSS = MTU - 60.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from '../../src/api/net/socket.js';
import { parseIpv6 } from '../../src/wire/ipv6-address.js';
import { explainSkip, KernelPeer, removeAllPeers } from './helpers/kernel-peer.js';
import { sha256sumOutput, TempDirectory, type TestFile, writeTestFile } from './helpers/test-data.js';

const skip = explainSkip('IPv6 interop transfers');
const SIZE = 8 * 1024 * 1024;

let directory: TempDirectory;
let file: TestFile;

beforeAll(() => {
  if (skip) return;
  directory = new TempDirectory();
  file = writeTestFile(directory.file('data.bin'), SIZE, 'ipv6 transfers');
});

afterAll(() => {
  removeAllPeers();
  directory?.remove();
});

/** Polls `condition` every 50 ms (DAD runs on the real clock) until true or `ms` have passed. */
async function until(condition: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function ipv6OnlyPeer(): Promise<KernelPeer> {
  const peer = new KernelPeer({ ipv6Only: true });
  const address = parseIpv6(peer.tcptsIpv6Address!)!;
  await until(() => peer.host.stack.ipv6.isLocalAddress(address), 5000);
  return peer;
}

describe.skipIf(skip)('TCP over IPv6 with the Linux kernel (tcpts IPv6-only)', () => {
  it('the host has no IPv4 address', async () => {
    const peer = await ipv6OnlyPeer();
    try {
      expect(peer.host.interface).toBeUndefined();
      expect(peer.host.stack.interfaces).toEqual([]);
      expect(peer.host.stack.ipv6.interfaces.map((i) => i.name)).toEqual([peer.host.device.name]);
    } finally {
      peer.close();
    }
  });

  it('curl downloads from an HTTP server on tcpts at http://[fd00:...::2]:8080/', async () => {
    const peer = await ipv6OnlyPeer();
    try {
      const httpServer = http.createServer((_request, response) => {
        response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': file.size });
        createReadStream(file.path).pipe(response);
      });
      const server = peer.host.net.createServer((socket) => httpServer.emit('connection', socket));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(8080, () => resolve());
      });
      expect(server.address()).toEqual({ address: '::', family: 'IPv6', port: 8080 });
      const peers: Array<[string | undefined, string | undefined]> = [];
      server.on('connection', (socket: Socket) => peers.push([socket.remoteAddress, socket.remoteFamily]));
      const curl = await peer.run(
        [
          'bash',
          '-c',
          `set -o pipefail; curl -g -sS --fail --max-time 60 'http://[${peer.tcptsIpv6Address}]:8080/data' | sha256sum`,
        ],
        70_000,
      );
      expect(curl.stderr).toBe('');
      expect(curl.code).toBe(0);
      expect(sha256sumOutput(curl.stdout)).toBe(file.sha256);
      expect(peers).toEqual([[peer.kernelIpv6Address, 'IPv6']]);
      server.close();
    } finally {
      peer.close();
    }
  });

  it('tcpts downloads from python3 -m http.server --bind fd00:...::1; the kernel sees MSS 1500 - 60', async () => {
    const peer = await ipv6OnlyPeer();
    try {
      await peer
        .start([
          'python3',
          '-u',
          '-m',
          'http.server',
          '8000',
          '--bind',
          peer.kernelIpv6Address!,
          '--directory',
          directory.path,
        ])
        .waitFor(/Serving HTTP/);
      let socket: Socket | undefined;
      let kernelView = '';
      const result = await new Promise<{ status: number; bytes: number; sha256: string }>(
        (resolve, reject) => {
          const request = http.get(
            {
              host: peer.kernelIpv6Address,
              port: 8000,
              path: '/data.bin',
              createConnection: (() => {
                socket = peer.host.net.createConnection({ host: peer.kernelIpv6Address!, port: 8000 });
                return socket;
              }) as unknown as http.RequestOptions['createConnection'],
            },
            (response) => {
              const hash = createHash('sha256');
              let bytes = 0;
              // While the transfer runs, ask the kernel what it negotiated with tcpts.
              void peer.run(['ss', '-6', '-t', '-i', '-n', 'state', 'established']).then((ss) => {
                kernelView = ss.stdout;
              });
              response.on('data', (chunk: Buffer) => {
                hash.update(chunk);
                bytes += chunk.length;
              });
              response.on('end', () =>
                resolve({ status: response.statusCode ?? 0, bytes, sha256: hash.digest('hex') }),
              );
              response.on('error', reject);
            },
          );
          request.on('error', reject);
        },
      );
      expect(result).toEqual({ status: 200, bytes: SIZE, sha256: file.sha256 });
      expect([socket?.remoteAddress, socket?.remoteFamily, socket?.localAddress]).toEqual([
        peer.kernelIpv6Address,
        'IPv6',
        peer.tcptsIpv6Address,
      ]);
      // The kernel's send MSS toward tcpts: our SYN announced 1500 - 60, less the 12 bytes of timestamps
      // every segment carries when they are on (the kernel offers them by default).
      expect(kernelView).toContain(`[${peer.tcptsIpv6Address}]`);
      const timestamps = peer.host.tcp.config.timestamps;
      expect(kernelView).toMatch(new RegExp(`\\bmss:${1440 - (timestamps ? 12 : 0)}\\b`));
    } finally {
      peer.close();
    }
  });
});
