/**
 * tcpts against the Linux kernel over a TAP device, the small conversations: ping both ways, UDP echo
 * both ways (with datagrams that need fragmenting), a kernel RST refusing a connection, a tcpts reset seen
 * by a kernel application, what `ss` shows after graceful closes, and path MTU discovery through a kernel
 * router with a narrower link behind it.
 */
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { Socket as DgramSocket } from '../../src/api/dgram/socket.js';
import type { Socket } from '../../src/api/net/socket.js';
import { ipv4ToString, macToString } from '../../src/wire/address.js';
import {
  explainSkip,
  KernelPeer,
  oneConnectionServer,
  removeAllPeers,
  UDP_CLIENT,
  UDP_ECHO_SERVER,
} from './helpers/kernel-peer.js';

const skip = explainSkip('interop kernel tests');

afterAll(() => removeAllPeers());

/** Datagram sizes: one byte, a full 1500-byte packet, and one the IP layers must fragment and reassemble. */
const DATAGRAM_SIZES = [1, 1472, 4000];

function pattern(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + size) & 0xff;
  return bytes;
}

/** Accepts one connection, reads until EOF or an error, and says which. */
const READ_UNTIL_END_SERVER = oneConnectionServer(`l.close()
print('accepted', flush=True)
total = 0
try:
    while True:
        d = c.recv(65536)
        if not d:
            print('EOF', total, flush=True)
            break
        total += len(d)
except ConnectionResetError as e:
    print('ECONNRESET', e.errno, total, flush=True)
c.close()
`);

/** Accepts one connection, sends a line and closes first (so the kernel ends in TIME-WAIT). */
const CLOSE_FIRST_SERVER = oneConnectionServer(`l.close()
c.sendall(b'bye from the kernel\\n')
c.close()
print('closed', flush=True)
`);

function connect(peer: KernelPeer, address: string, port: number, allowHalfOpen = false): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = peer.host.net.connect({ host: address, port, allowHalfOpen });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

function readAll(socket: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks)));
    socket.on('error', reject);
  });
}

function closed(socket: Socket): Promise<boolean> {
  return new Promise((resolve) => socket.once('close', (hadError: boolean) => resolve(hadError)));
}

/** `ss -tanH` in the namespace: one [state, local, peer] per TCP socket. */
async function kernelSockets(peer: KernelPeer): Promise<string[][]> {
  const ss = await peer.run(['ss', '-tanH']);
  expect(ss.code).toBe(0);
  return ss.stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const fields = line.trim().split(/\s+/);
      return [fields[0]!, fields[3]!, fields[4]!];
    });
}

describe.skipIf(skip)('tcpts and the Linux kernel over TAP', () => {
  it('tcpts announces its address when it comes up: a kernel with arp_accept=1 learns it, one with the default 0 does not', async () => {
    /** The kernel's neighbour entry for tcpts's address, polled until the announcement has arrived. */
    const neighbour = async (peer: KernelPeer): Promise<string> => {
      let line = '';
      for (let i = 0; i < 20 && line === ''; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        const shown = await peer.run(['ip', 'neigh', 'show', 'dev', peer.ifname, 'to', peer.tcptsAddress]);
        line = shown.stdout.trim();
      }
      return line;
    };
    const accepting = new KernelPeer({ arpAccept: true });
    try {
      const mac = macToString(accepting.host.interface!.mac);
      // RFC 5227 §2.3 announcement: a broadcast request whose sender and target are our address. Linux
      // (arp_accept=1) creates a STALE entry from it without ever having asked.
      expect(await neighbour(accepting)).toBe(`${accepting.tcptsAddress} lladdr ${mac} STALE`);
      expect(accepting.host.stack.counters).toMatchObject({ ArpOutAnnouncements: 1, ArpOutRequests: 1 });
    } finally {
      accepting.close();
    }
    const plain = new KernelPeer();
    try {
      // Linux's default (arp_accept=0) only updates entries it already holds, so nothing appears.
      expect(await neighbour(plain)).toBe('');
      expect(plain.host.stack.counters.ArpOutAnnouncements).toBe(1);
    } finally {
      plain.close();
    }
  });

  it('ping both ways', async () => {
    const peer = new KernelPeer();
    try {
      for (let sequence = 1; sequence <= 3; sequence++) {
        const reply = await peer.host.stack.ping(peer.kernelAddress, { sequence, timeoutMs: 3000 });
        expect(ipv4ToString(reply.from)).toBe(peer.kernelAddress);
        expect(reply.sequence).toBe(sequence);
        expect(reply.ttl).toBe(64);
        expect(reply.bytes).toBe(64);
      }
      const ping = await peer.run([
        'ping',
        '-c',
        '3',
        '-i',
        '0.2',
        '-W',
        '2',
        '-s',
        '3000',
        peer.tcptsAddress,
      ]);
      expect(ping.stdout).toContain('3 packets transmitted, 3 received, 0% packet loss');
      // 3000 data bytes: the kernel fragments each request, tcpts reassembles it and fragments its reply.
      expect(ping.stdout).toMatch(
        new RegExp(`3008 bytes from ${peer.tcptsAddress.replaceAll('.', '\\.')}: icmp_seq=1 ttl=64`),
      );
      expect(ping.code).toBe(0);
      expect(peer.host.stack.counters.IcmpInEchos).toBe(3);
      expect(peer.host.stack.counters.IcmpOutEchoReps).toBe(3);
    } finally {
      peer.close();
    }
  });

  it('UDP echo both ways', async () => {
    const peer = new KernelPeer();
    try {
      // Kernel client -> tcpts echo server.
      const echo = peer.host.dgram.createSocket('udp4', (message, from) =>
        echo.send(message, from.port, from.address),
      );
      await new Promise<void>((resolve) => echo.bind(7, resolve));
      const client = await peer.run([
        'python3',
        '-c',
        UDP_CLIENT,
        peer.tcptsAddress,
        '7',
        ...DATAGRAM_SIZES.map(String),
      ]);
      expect(client.stderr).toBe('');
      expect(client.stdout).toBe(DATAGRAM_SIZES.map((n) => `ok ${n} ${n}\n`).join(''));
      echo.close();

      // tcpts client -> kernel echo server.
      const server = peer.start(['python3', '-c', UDP_ECHO_SERVER, peer.kernelAddress, '5007']);
      await server.waitFor(/ready/);
      const socket: DgramSocket = peer.host.dgram.createSocket('udp4');
      const replies: Buffer[] = [];
      let replied: () => void = () => {};
      socket.on('message', (message) => {
        replies.push(message);
        replied();
      });
      await new Promise<void>((resolve) => socket.connect(5007, peer.kernelAddress, resolve));
      for (const size of DATAGRAM_SIZES) {
        const arrived = new Promise<void>((resolve) => {
          replied = resolve;
        });
        socket.send(pattern(size));
        await arrived;
      }
      expect(replies.map((r) => r.length)).toEqual(DATAGRAM_SIZES);
      expect(replies.map((reply, i) => reply.equals(pattern(DATAGRAM_SIZES[i]!)))).toEqual([
        true,
        true,
        true,
      ]);
      socket.close();
    } finally {
      peer.close();
    }
  });

  it('a kernel RST to a closed port is ECONNREFUSED in tcpts', async () => {
    const peer = new KernelPeer();
    try {
      const started = performance.now();
      const error = await connect(peer, peer.kernelAddress, 9).then(
        () => undefined,
        (e: NodeJS.ErrnoException) => e,
      );
      expect(error?.code).toBe('ECONNREFUSED');
      expect(error?.syscall).toBe('connect');
      expect(error?.message).toBe(`connect ECONNREFUSED ${peer.kernelAddress}:9`);
      // The answer was the kernel's RST, not a timeout.
      expect(performance.now() - started).toBeLessThan(2000);
    } finally {
      peer.close();
    }
  });

  it('a tcpts abort is ECONNRESET for the kernel application', async () => {
    const peer = new KernelPeer();
    try {
      const server = peer.start(['python3', '-c', READ_UNTIL_END_SERVER, peer.kernelAddress, '5001']);
      await server.waitFor(/listening/);
      const socket = await connect(peer, peer.kernelAddress, 5001);
      await new Promise<void>((resolve) => socket.write(Buffer.alloc(1000, 1), () => resolve()));
      await server.waitFor(/accepted/);
      // Give the kernel the bytes before the reset, so it is a reset of a connection in use.
      await new Promise((resolve) => setTimeout(resolve, 100));
      socket.resetAndDestroy();
      const exit = await server.finish(10_000);
      expect(server.stdout).toContain('ECONNRESET 104 1000\n');
      expect(exit.code).toBe(0);
      expect(await kernelSockets(peer)).toEqual([]);
    } finally {
      peer.close();
    }
  });

  it('after a graceful close the kernel keeps no socket but a TIME-WAIT', async () => {
    const peer = new KernelPeer({ host: { tcp: { mslMs: 500 } } });
    try {
      // The kernel closes first: it is the one in TIME-WAIT; tcpts (LAST-ACK) ends at once.
      const closer = peer.start(['python3', '-c', CLOSE_FIRST_SERVER, peer.kernelAddress, '5002']);
      await closer.waitFor(/listening/);
      const first = await connect(peer, peer.kernelAddress, 5002);
      const firstLocal = `${peer.tcptsAddress}:${first.localPort}`;
      expect((await readAll(first)).toString()).toBe('bye from the kernel\n');
      expect(await closed(first)).toBe(false);
      await closer.finish(10_000);
      await waitUntil(() => peer.host.tcp.connectionCount === 0, 3000);
      expect(await kernelSockets(peer)).toEqual([['TIME-WAIT', `${peer.kernelAddress}:5002`, firstLocal]]);

      // tcpts closes first: tcpts is in TIME-WAIT, and the kernel's socket is gone after LAST-ACK.
      const reader = peer.start(['python3', '-c', READ_UNTIL_END_SERVER, peer.kernelAddress, '5003']);
      await reader.waitFor(/listening/);
      const second = await connect(peer, peer.kernelAddress, 5003);
      second.end(Buffer.alloc(5000, 2));
      await readAll(second);
      expect(await closed(second)).toBe(false);
      await reader.finish(10_000);
      expect(reader.stdout).toContain('EOF 5000\n');
      // TIME-WAIT is kept as a compact record, not as a connection.
      expect(peer.host.tcp.connections()).toEqual([]);
      expect(peer.host.tcp.timeWaitCount).toBe(1);
      await waitUntil(
        async () => (await kernelSockets(peer)).every(([state]) => state === 'TIME-WAIT'),
        3000,
      );
      expect(await kernelSockets(peer)).toEqual([['TIME-WAIT', `${peer.kernelAddress}:5002`, firstLocal]]);
      // TIME-WAIT lasts 2*MSL (here 1 s), then the connection is gone from tcpts too.
      await waitUntil(() => peer.host.tcp.connectionCount === 0, 3000);
    } finally {
      peer.close();
    }
  });

  it('path MTU: an ICMP "fragmentation needed" from a kernel router lowers the MSS', async () => {
    const peer = new KernelPeer({ gateway: true });
    try {
      // tcpts -- TAP (1500) -- kernel router -- veth (router side 1280) -- far host (1500).
      const far = peer.addRoutedNetwork(1280, 1500);
      const sink = peer.startIn(far.namespace, [
        'sh',
        '-c',
        `socat -u TCP-LISTEN:5004,bind=${far.farAddress} - | sha256sum`,
      ]);
      await waitForListener(peer, far.namespace.name, 5004);
      const socket = await connect(peer, far.farAddress, 5004);
      // The far host offered MSS 1460 (less the 12-byte timestamp option both ends agreed on): the
      // bottleneck is only discovered on the way.
      expect(socket.tcpInfo()?.sendMss).toBe(1460 - 12);
      const data = pattern(2 * 1024 * 1024);
      socket.write(data);
      await waitUntil(() => socket.tcpInfo()?.bytesAcked === data.length, 20_000);
      const info = socket.tcpInfo();
      socket.end();
      await closed(socket);
      await sink.finish(20_000);
      expect(sink.stdout.trim().split(/\s+/)[0]).toBe(createHash('sha256').update(data).digest('hex'));
      expect(peer.host.stack.counters.IcmpInDestUnreachs).toBeGreaterThanOrEqual(1);
      expect(info?.pathMtu).toBe(1280);
      expect(info?.sendMss).toBe(1240 - 12);
      expect(peer.host.stack.mtuFor(far.farAddress)).toBe(1280);
    } finally {
      peer.close();
    }
  });
});

async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Waits until a TCP listener on `port` exists in `namespace` (socat prints nothing when ready). */
async function waitForListener(peer: KernelPeer, namespace: string, port: number): Promise<void> {
  await waitUntil(async () => {
    const ss = await peer.run(['ip', 'netns', 'exec', namespace, 'ss', '-tlnH', `sport = :${port}`]);
    return ss.stdout.trim() !== '';
  }, 10_000);
}
