import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from '../../src/api/net/socket.js';
import type { LinkImpairments } from '../../src/link/impairments.js';
import { findTshark, tsharkFields } from '../helpers/tshark.js';
import { explainSkip, KernelPeer, removeAllPeers } from './helpers/kernel-peer.js';
import { sha256sumOutput, TempDirectory, type TestFile, writeTestFile } from './helpers/test-data.js';

const TSHARK = findTshark() !== undefined;
const skip = explainSkip('interop with SACK and timestamps');
if (!skip && !TSHARK) console.log('interop with SACK and timestamps skipped: tshark is not installed');
const SIZE = 4 * 1024 * 1024;
const LOSSY: LinkImpairments = { loss: 0.02, reorder: 0.02 };

let directory: TempDirectory;
let file: TestFile;

beforeAll(() => {
  if (skip || !TSHARK) return;
  directory = new TempDirectory();
  file = writeTestFile(directory.file('data.bin'), SIZE, 'modern options');
});

afterAll(() => {
  removeAllPeers();
  directory?.remove();
});

/**
 * What the capture shows: the SYN and SYN-ACK each carry SACK-permitted, a timestamp and a window
 * scale (checked by source address), and both ends sent SACK blocks during the transfer.
 */
function checkWire(pcap: string, peer: KernelPeer, opener: string): void {
  const options = 'tcp.options.sack_perm && tcp.options.timestamp.tsval && tcp.options.wscale.shift';
  const synFrom = tsharkFields(pcap, `tcp.flags.syn == 1 && tcp.flags.ack == 0 && ${options}`, ['ip.src']);
  const synAckFrom = tsharkFields(pcap, `tcp.flags.syn == 1 && tcp.flags.ack == 1 && ${options}`, ['ip.src']);
  const responder = opener === peer.tcptsAddress ? peer.kernelAddress : peer.tcptsAddress;
  expect(new Set(synFrom.map(([src]) => src))).toEqual(new Set([opener]));
  expect(new Set(synAckFrom.map(([src]) => src))).toEqual(new Set([responder]));
  // Every non-SYN segment carries the timestamp option, from both ends.
  const withoutTs = tsharkFields(
    pcap,
    'tcp.flags.syn == 0 && tcp.flags.reset == 0 && !tcp.options.timestamp.tsval',
    ['ip.src'],
  );
  expect(withoutTs).toEqual([]);
  const sackSenders = new Set(tsharkFields(pcap, 'tcp.options.sack_le', ['ip.src']).map(([src]) => src));
  expect(sackSenders).toEqual(new Set([peer.tcptsAddress, peer.kernelAddress]));
}

/** Everything `socket` receives until the peer's FIN, and TCP_INFO at that moment. */
function receiveAll(socket: Socket): Promise<{ bytes: number; sha256: string; options: number | undefined }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let bytes = 0;
    socket.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    socket.on('end', () =>
      resolve({ bytes, sha256: hash.digest('hex'), options: socket.tcpInfo()?.options }),
    );
    socket.on('error', reject);
  });
}

const lossy = (seed: number, pcap: string) => ({
  host: { pcap, impairments: { seed, inbound: LOSSY, outbound: LOSSY } },
});

describe.skipIf(skip || !TSHARK)(
  'SACK, timestamps and window scaling with the Linux kernel, under loss',
  () => {
    it('tcpts connects to the kernel; 4 MiB each way at once: options on the wire both ways, bytes exact', async () => {
      const pcap = directory.file('tcpts-connects.pcap');
      const peer = new KernelPeer(lossy(11, pcap));
      try {
        // The kernel sends the file and hashes what it receives.
        const socat = peer.run(
          [
            'bash',
            '-c',
            `set -o pipefail; socat -t 60 -b 65536 TCP-LISTEN:7000,bind=${peer.kernelAddress} OPEN:${file.path},rdonly!!STDOUT | sha256sum`,
          ],
          90_000,
        );
        const ready = await peer.sh(
          'for i in $(seq 100); do ss -ltn | grep -q ":7000 " && exit 0; sleep 0.05; done; exit 1',
        );
        expect(ready.code).toBe(0);
        const socket = peer.host.net.createConnection({
          host: peer.kernelAddress,
          port: 7000,
          allowHalfOpen: true,
        });
        const received = receiveAll(socket);
        socket.end(readFileSync(file.path));
        const result = await received;
        const kernel = await socat;
        socket.destroy();
        expect(result).toEqual({ bytes: SIZE, sha256: file.sha256, options: 1 | 2 | 4 });
        expect(kernel.stderr).toBe('');
        expect(kernel.code).toBe(0);
        expect(sha256sumOutput(kernel.stdout)).toBe(file.sha256);
        // tcpts lost segments on the way out and recovered them with its scoreboard.
        expect(peer.host.tcp.counters.sackRecoveries).toBeGreaterThan(0);
        peer.close(); // flushes the capture
        checkWire(pcap, peer, peer.tcptsAddress);
      } finally {
        peer.close();
      }
    }, 120_000);

    it('the kernel connects to tcpts, which echoes 4 MiB: options on the wire both ways, bytes exact', async () => {
      const pcap = directory.file('kernel-connects.pcap');
      const peer = new KernelPeer(lossy(12, pcap));
      try {
        let options: number | undefined;
        const server = peer.host.net.createServer({ allowHalfOpen: true }, (socket: Socket) => {
          socket.pipe(socket);
          socket.on('end', () => {
            options = socket.tcpInfo()?.options;
          });
        });
        await new Promise<void>((resolve) => server.listen(7001, resolve));
        const socat = await peer.run(
          [
            'bash',
            '-c',
            `set -o pipefail; socat -t 60 -b 65536 OPEN:${file.path},rdonly!!STDOUT TCP:${peer.tcptsAddress}:7001 | sha256sum`,
          ],
          90_000,
        );
        expect(socat.stderr).toBe('');
        expect(socat.code).toBe(0);
        expect(sha256sumOutput(socat.stdout)).toBe(file.sha256);
        expect(options).toBe(1 | 2 | 4);
        expect(peer.host.tcp.counters.sackRecoveries).toBeGreaterThan(0);
        server.close();
        peer.close();
        checkWire(pcap, peer, peer.kernelAddress);
      } finally {
        peer.close();
      }
    }, 120_000);
  },
);
