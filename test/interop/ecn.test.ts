import { createHash, randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { Socket } from '../../src/api/net/socket.js';
import { TCPI_OPT_ECN } from '../../src/api/tcp-info.js';
import { findTshark, tsharkFields } from '../helpers/tshark.js';
import { explainSkip, KernelPeer, removeAllPeers } from './helpers/kernel-peer.js';
import { sha256sumOutput, TempDirectory } from './helpers/test-data.js';

const TSHARK = findTshark() !== undefined;
const skip = explainSkip('ECN interop');
if (!skip && !TSHARK) console.log('ECN interop skipped: tshark is not installed');
const SIZE = 256 * 1024;

const directory = skip || !TSHARK ? undefined : new TempDirectory();

afterAll(() => {
  removeAllPeers();
  directory?.remove();
});

/**
 * The handshake as the capture shows it: the opener's SYN with ECE and CWR, the answer with ECE alone;
 * then data segments from both ends ECT(0) (the IP ECN field 2), and none of the pure ACKs ECN-capable.
 */
function checkWire(pcap: string, opener: string, responder: string): void {
  const syn = tsharkFields(pcap, 'tcp.flags.syn == 1 && tcp.flags.ack == 0', [
    'ip.src',
    'tcp.flags.ece',
    'tcp.flags.cwr',
  ]);
  expect(new Set(syn.map((f) => f.join(' ')))).toEqual(new Set([`${opener} 1 1`]));
  const synAck = tsharkFields(pcap, 'tcp.flags.syn == 1 && tcp.flags.ack == 1', [
    'ip.src',
    'tcp.flags.ece',
    'tcp.flags.cwr',
  ]);
  expect(new Set(synAck.map((f) => f.join(' ')))).toEqual(new Set([`${responder} 1 0`]));
  // New data only: a retransmission (the kernel's too, a busy machine may make it resend) is Not-ECT.
  const resent = '(tcp.analysis.retransmission || tcp.analysis.fast_retransmission)';
  const dataEcn = tsharkFields(pcap, `tcp.len > 0 && !${resent}`, ['ip.src', 'ip.dsfield.ecn']);
  expect(new Set(dataEcn.map((f) => f.join(' ')))).toEqual(new Set([`${opener} 2`, `${responder} 2`]));
  const resentEcn = tsharkFields(pcap, `tcp.len > 0 && ${resent}`, ['ip.dsfield.ecn']);
  expect(resentEcn.filter(([ecn]) => ecn !== '0')).toEqual([]);
  const ectAcks = tsharkFields(pcap, 'tcp.len == 0 && tcp.flags.syn == 0 && ip.dsfield.ecn != 0', ['ip.src']);
  expect(ectAcks).toEqual([]);
}

/** Hashes what `socket` receives until the peer's FIN; TCP_INFO's options at that moment. */
function receiveAndHash(socket: Socket): Promise<{ bytes: number; sha256: string; options: number }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let bytes = 0;
    socket.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    socket.on('end', () =>
      resolve({ bytes, sha256: hash.digest('hex'), options: socket.tcpInfo()?.options ?? 0 }),
    );
    socket.on('error', reject);
  });
}

/** Echoes what it receives and hashes it, until the peer's FIN. */
function echoAndHash(socket: Socket): Promise<{ bytes: number; sha256: string; options: number }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let bytes = 0;
    socket.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
      socket.write(chunk);
    });
    socket.on('end', () => {
      const options = socket.tcpInfo()?.options ?? 0;
      socket.end();
      resolve({ bytes, sha256: hash.digest('hex'), options });
    });
    socket.on('error', reject);
  });
}

describe.skipIf(skip || !TSHARK)('ECN with the Linux kernel (net.ipv4.tcp_ecn=1)', () => {
  for (const direction of ['tcpts connects', 'the kernel connects'] as const) {
    it(`${direction}: ECN agreed in the handshake, data ECT(0) both ways, bytes exact`, async () => {
      const pcap = directory!.file(`ecn-${direction.replace(/ /g, '-')}.pcap`);
      // tcpts asks for ECN when it connects (true) and only accepts it when the kernel does ('passive').
      const ecn = direction === 'tcpts connects' ? true : ('passive' as const);
      const peer = new KernelPeer({ host: { pcap, tcp: { ecn } } });
      try {
        expect((await peer.sh('sysctl -qw net.ipv4.tcp_ecn=1')).code).toBe(0);
        const data = 'head -c 262144 /dev/urandom > in.bin && sha256sum < in.bin > in.sha';
        if (direction === 'tcpts connects') {
          // Both ends send 256 KiB at once: the kernel its file, tcpts its own bytes; each hashes what it gets.
          const kernel = peer.sh(
            `cd $(mktemp -d) && ${data} && socat -t 30 -b 65536 TCP-LISTEN:7010,bind=${peer.kernelAddress} OPEN:in.bin,rdonly!!STDOUT > out.bin; cat in.sha; sha256sum < out.bin`,
            60_000,
          );
          const ready = await peer.sh(
            'for i in $(seq 100); do ss -ltn | grep -q ":7010 " && exit 0; sleep 0.05; done; exit 1',
          );
          expect(ready.code).toBe(0);
          const socket = peer.host.net.createConnection({
            host: peer.kernelAddress,
            port: 7010,
            allowHalfOpen: true,
          });
          const ours = randomBytes(SIZE);
          const received = receiveAndHash(socket);
          socket.end(ours);
          const got = await received;
          const done = await kernel;
          expect(done.code).toBe(0);
          const [sent, back] = done.stdout.trim().split('\n');
          expect(sha256sumOutput(back!)).toBe(createHash('sha256').update(ours).digest('hex'));
          expect(got.bytes).toBe(SIZE);
          expect(got.sha256).toBe(sha256sumOutput(sent!));
          expect(got.options & TCPI_OPT_ECN).toBe(TCPI_OPT_ECN);
          peer.close();
          checkWire(pcap, peer.tcptsAddress, peer.kernelAddress);
        } else {
          let result: Promise<{ bytes: number; sha256: string; options: number }> | undefined;
          const server = peer.host.net.createServer({ allowHalfOpen: true }, (socket: Socket) => {
            result = echoAndHash(socket);
          });
          await new Promise<void>((resolve) => server.listen(7011, resolve));
          const kernel = await peer.sh(
            `cd $(mktemp -d) && ${data} && socat -t 30 -b 65536 OPEN:in.bin,rdonly!!STDOUT TCP:${peer.tcptsAddress}:7011 > out.bin; cat in.sha; sha256sum < out.bin`,
            60_000,
          );
          expect(kernel.code).toBe(0);
          const [sent, back] = kernel.stdout.trim().split('\n');
          expect(sha256sumOutput(back!)).toBe(sha256sumOutput(sent!));
          const echoed = await result!;
          expect(echoed.bytes).toBe(SIZE);
          expect(echoed.options & TCPI_OPT_ECN).toBe(TCPI_OPT_ECN);
          server.close();
          peer.close();
          checkWire(pcap, peer.kernelAddress, peer.tcptsAddress);
        }
      } finally {
        peer.close();
      }
    }, 90_000);
  }
});
