/** TCP transfers over a memory link, and their frames decoded as a capture tool would. */
import type { LinkImpairments } from '../../src/link/impairments.js';
import type { MemoryLink } from '../../src/link/memory-link.js';
import { type HostOptions, SimulatedNetwork, type SimulatedNetworkOptions } from '../../src/sim/network.js';
import type { Stack } from '../../src/stack.js';
import { checksumAdd, checksumFinish, internetChecksum, pseudoHeaderSum } from '../../src/wire/checksum.js';
import type { IpAddress } from '../../src/wire/ipv6-address.js';

export { ACK, FIN, PSH, SYN } from './tcp-frame-builder.js';

export const SERVER = 0x0a000002;
export const PORT = 5001;
/** 1500 - 20 - 20 - 12 (timestamps on every segment). */
export const MSS = 1448;

export interface WireSegment {
  length: number;
  /** The IPv4 identification. */
  id: number;
  /** The IPv4 header checksum is right. */
  ipChecksumOk: boolean;
  seq: number;
  flags: number;
  payload: number;
  /** The TCP header's length (its options). */
  headerLength: number;
  /** The TCP checksum field as carried. */
  checksum: number;
  /** True when the field holds the full checksum, false when it holds only the pseudo-header sum. */
  complete: boolean;
  partial: boolean;
}

/** Decodes an Ethernet/IPv4/TCP frame as a capture tool would; undefined for anything else. */
export function tcpOf(frame: Uint8Array): WireSegment | undefined {
  if (frame[12] !== 0x08 || frame[13] !== 0x00 || frame[23] !== 6) return undefined;
  const ihl = (frame[14]! & 0x0f) * 4;
  const total = (frame[16]! << 8) | frame[17]!;
  const start = 14 + ihl;
  const tcpLength = total - ihl;
  const src = ((frame[26]! << 24) | (frame[27]! << 16) | (frame[28]! << 8) | frame[29]!) >>> 0;
  const dst = ((frame[30]! << 24) | (frame[31]! << 16) | (frame[32]! << 8) | frame[33]!) >>> 0;
  const pseudo = pseudoHeaderSum(src, dst, 6, tcpLength);
  const checksum = (frame[start + 16]! << 8) | frame[start + 17]!;
  const headerLength = (frame[start + 12]! >>> 4) * 4;
  return {
    length: frame.length,
    id: (frame[18]! << 8) | frame[19]!,
    ipChecksumOk: internetChecksum(frame, 14, ihl) === 0,
    seq:
      ((frame[start + 4]! << 24) |
        (frame[start + 5]! << 16) |
        (frame[start + 6]! << 8) |
        frame[start + 7]!) >>>
      0,
    flags: frame[start + 13]!,
    payload: tcpLength - headerLength,
    headerLength,
    checksum,
    complete: checksumFinish(checksumAdd(pseudo, frame, start, tcpLength)) === 0,
    partial: checksum === pseudo,
  };
}

export interface TappedPair {
  net: SimulatedNetwork;
  client: Stack;
  server: Stack;
  link: MemoryLink;
  /** A copy of every frame the client's end put on the path, in order. */
  frames: Uint8Array[];
}

/**
 * A client and a server (10.0.0.1 and .2, or 2001:db8::1 and ::2 with `ipv6`) on one link of MTU 1500,
 * with every frame from the client tapped. Seed 1, so two runs that differ only in `network` (offload,
 * gso) see the same path.
 */
export function tappedPair(
  network: Omit<SimulatedNetworkOptions, 'seed' | 'trace'>,
  options: { impairments?: LinkImpairments; server?: HostOptions; ipv6?: boolean } = {},
): TappedPair {
  const net = new SimulatedNetwork({ seed: 1, trace: false, ...network });
  const [clientAddress, serverAddress] = options.ipv6
    ? ['2001:db8::1/64', '2001:db8::2/64']
    : ['10.0.0.1/24', '10.0.0.2/24'];
  const client = net.host('client', clientAddress);
  const server = net.host('server', serverAddress, options.server);
  const { link } = net.link(client, server, { mtu: 1500, impairments: options.impairments });
  const frames: Uint8Array[] = [];
  link.tap((_, frame) => frames.push(frame.slice()), { direction: 'a->b' });
  return { net, client, server, link, frames };
}

export function pattern(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 7 + (i >>> 8)) & 0xff);
}

/** Sends `data` from `client` to `server` over one connection; returns what the server read. */
export function transfer(
  net: SimulatedNetwork,
  client: Stack,
  server: Stack,
  data: Uint8Array,
  remoteAddress: IpAddress = SERVER,
): Uint8Array {
  const received = new Uint8Array(data.length);
  let got = 0;
  const address = typeof remoteAddress === 'bigint' ? 0n : undefined;
  server.tcp.listen({ port: PORT, address }).on('connection', (conn) => {
    conn.on('readable', () => {
      for (;;) {
        const n = conn.receiveInto(received.subarray(got), net.clock.now());
        if (n <= 0) break;
        got += n;
      }
    });
  });
  const conn = client.tcp.connect({ remoteAddress, remotePort: PORT });
  conn.on('connected', () => {
    conn.send(data, net.clock.now());
    conn.close(net.clock.now());
  });
  net.clock.runUntilIdle();
  return received.subarray(0, got);
}
