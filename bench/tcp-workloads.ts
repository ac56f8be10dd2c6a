/**
 * The tcpts side of the TCP benchmarks (bench/suites/tcp.ts): two in-process stacks on one MemoryLink,
 * driven by a VirtualClock run as fast as it goes, timed in real (wall-clock) milliseconds. Core code only,
 * so the suite can bundle this module as plain ESM and measure the stack as an application would run it.
 */
import { SimulatedNetwork } from '../src/sim/network.js';
import type { Stack } from '../src/stack.js';

const CLIENT = 0x0a000001; // 10.0.0.1
const SERVER = 0x0a000002; // 10.0.0.2
const PORT = 5001;
const CHUNK = 64 * 1024;

function pair(checksumOffload: boolean): { net: SimulatedNetwork; client: Stack; server: Stack } {
  const net = new SimulatedNetwork({ seed: 1, trace: false, checksumOffload });
  const client = net.host('client', '10.0.0.1/24');
  const server = net.host('server', '10.0.0.2/24');
  const link = net.link(client, server, { mtu: 1500 });
  // Static neighbours: kernel loopback, the comparison, has no ARP either.
  link.a.interface.arp.addStatic(SERVER, link.link.b.mac);
  link.b.interface.arp.addStatic(CLIENT, link.link.a.mac);
  return { net, client, server };
}

/**
 * Sends `totalBytes` from one stack to the other over one connection (MTU 1500, no impairments, default
 * TCP settings) and returns the wall-clock milliseconds from connect() until the receiver has read the
 * last byte. With `checksumOffload` the link lets both ends skip the TCP checksum, as Linux does on
 * loopback; without, every segment's checksum is computed by the sender and verified by the receiver.
 */
export function bulkTransferMs(totalBytes: number, checksumOffload: boolean): number {
  const { net, client, server } = pair(checksumOffload);
  const chunk = new Uint8Array(CHUNK);
  const sink = new Uint8Array(CHUNK);
  let received = 0;
  let doneAt = 0;
  server.tcp.listen({ port: PORT }).on('connection', (conn) => {
    conn.on('readable', () => {
      for (;;) {
        const n = conn.receiveInto(sink, net.clock.now());
        if (n <= 0) break;
        received += n;
      }
      if (received === totalBytes && doneAt === 0) doneAt = performance.now();
    });
  });
  const started = performance.now();
  const conn = client.tcp.connect({ remoteAddress: SERVER, remotePort: PORT });
  let sent = 0;
  const write = (): void => {
    while (sent < totalBytes) {
      const wanted = Math.min(CHUNK, totalBytes - sent);
      const accepted = conn.send(chunk.subarray(0, wanted), net.clock.now());
      sent += accepted;
      if (accepted < wanted) return;
    }
  };
  conn.on('connected', write);
  conn.on('drain', write);
  net.clock.runUntilIdle({ maxEvents: Number.MAX_SAFE_INTEGER });
  if (received !== totalBytes) throw new Error(`bulk transfer: ${received} of ${totalBytes} bytes arrived`);
  return doneAt - started;
}

/**
 * Opens and closes `count` connections one after the other: handshake, FIN from the client, FIN from the
 * server, and the next connection as soon as the server's side is closed and the client's is in
 * TIME-WAIT (as with a kernel, TIME-WAIT connections pile up meanwhile; they run out in virtual time at
 * the end, inside the measurement). Returns the wall-clock milliseconds it all took.
 */
export function connectionsMs(count: number): number {
  const { net, client, server } = pair(false);
  let serverClosed = 0;
  server.tcp.listen({ port: PORT, backlog: 1024 }).on('connection', (conn) => {
    conn.on('end', () => conn.close(net.clock.now()));
    conn.on('closed', () => serverClosed++);
  });
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const conn = client.tcp.connect({ remoteAddress: SERVER, remotePort: PORT });
    conn.on('connected', () => conn.close(net.clock.now()));
    while (serverClosed === i || conn.state !== 'TIME-WAIT') {
      if (!net.clock.step()) throw new Error(`connection ${i} stalled in ${conn.state}`);
    }
  }
  net.clock.runUntilIdle({ maxEvents: Number.MAX_SAFE_INTEGER });
  const elapsed = performance.now() - started;
  const closed = serverClosed;
  if (closed !== count || client.tcp.connectionCount + server.tcp.connectionCount !== 0) {
    throw new Error(`connections: ${closed} of ${count} closed`);
  }
  return elapsed;
}
