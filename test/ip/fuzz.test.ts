/**
 * Hostile input: thousands of random and mutated frames, with checksums repaired half of the time so the
 * damage reaches the layers behind them. Nothing may throw, every frame must be accounted for, memory
 * stays within its bounds, every timer eventually ends, and the stack still answers afterwards.
 */
import { describe, expect, test } from 'vitest';
import { Random } from '../../src/util/random.js';
import { ARP_REQUEST } from '../../src/wire/arp.js';
import { emitTcp, TCP_ACK, TCP_SYN } from '../../src/wire/tcp.js';
import { repairChecksums } from '../helpers/frame-checksums.js';
import {
  arpFrame,
  decodeIcmp,
  type Harness,
  HOST_IP,
  harness,
  icmpFrame,
  ip,
  ipv4Frame,
  PEER_IP,
  PEER_MAC,
  RecordingDevice,
  udpBytes,
} from './harness.js';

function corpus(): Uint8Array[] {
  const tcp = new Uint8Array(32);
  emitTcp(
    {
      srcPort: 1234,
      dstPort: 80,
      seq: 1,
      ack: 2,
      flags: TCP_SYN | TCP_ACK,
      window: 100,
      urgentPointer: 0,
      options: { mss: 1460, windowScale: 7, sackPermitted: true },
      payload: new Uint8Array(0),
    },
    PEER_IP,
    HOST_IP,
    tcp,
    0,
  );
  const udpOpen = udpBytes({ srcPort: 9, dstPort: 5000, payload: new Uint8Array(40).fill(3) });
  const udpClosed = udpBytes({ srcPort: 9, dstPort: 5001, payload: new Uint8Array(10) });
  const big = udpBytes({ srcPort: 9, dstPort: 5000, payload: new Uint8Array(3000).fill(7) });
  const sentByUs = ipv4Frame({
    src: HOST_IP,
    dst: PEER_IP,
    payload: udpBytes({ srcPort: 5000, dstPort: 9, payload: new Uint8Array(8) }, HOST_IP, PEER_IP),
  });
  return [
    arpFrame(
      { operation: ARP_REQUEST, senderMac: PEER_MAC, senderIp: PEER_IP, targetMac: 0, targetIp: HOST_IP },
      0xffff_ffff_ffff,
    ),
    icmpFrame({ kind: 'echo-request', identifier: 1, sequence: 2, data: new Uint8Array(32) }),
    icmpFrame({
      kind: 'destination-unreachable',
      code: 3,
      nextHopMtu: 0,
      original: sentByUs.subarray(14, 42),
    }),
    icmpFrame({
      kind: 'destination-unreachable',
      code: 4,
      nextHopMtu: 576,
      original: sentByUs.subarray(14, 42),
    }),
    icmpFrame({ kind: 'time-exceeded', code: 0, original: sentByUs.subarray(14, 42) }),
    ipv4Frame({ payload: udpOpen }),
    ipv4Frame({ payload: udpClosed }),
    ipv4Frame({ protocol: 6, payload: tcp }),
    ipv4Frame({ id: 77, moreFragments: true, payload: big.subarray(0, 1480) }),
    ipv4Frame({ id: 77, fragmentOffset: 1480, moreFragments: true, payload: big.subarray(1480, 2960) }),
    ipv4Frame({ id: 77, fragmentOffset: 2960, payload: big.subarray(2960) }),
    ipv4Frame({
      dst: 0xffffffff,
      dstMac: 0xffff_ffff_ffff,
      payload: udpBytes({ srcPort: 9, dstPort: 5000, payload: new Uint8Array(4) }, PEER_IP, 0xffffffff),
    }),
    ipv4Frame({ dst: ip('192.0.2.1'), payload: udpOpen, ttl: 1 }),
    ipv4Frame({ dst: ip('192.0.2.1'), payload: big.subarray(0, 1600), dontFragment: true }),
    ipv4Frame({ dst: ip('10.0.9.9'), payload: udpOpen }),
    ipv4Frame({
      dst: ip('192.0.2.1'),
      id: 5,
      fragmentOffset: 65000,
      moreFragments: true,
      payload: big.subarray(0, 1400),
    }),
    ipv4Frame({ id: 5, fragmentOffset: 65000, payload: big.subarray(0, 1400) }),
  ];
}

/** Repairs the IPv4 header checksum and, where the packet allows, the transport checksum. */
function mutate(random: Random, seed: Uint8Array): Uint8Array {
  switch (random.int(5)) {
    case 0: // random bytes of a random length behind a plausible Ethernet header
      return Uint8Array.from([...seed.subarray(0, 14), ...random.bytes(random.int(100))]);
    case 1: // truncated
      return seed.slice(0, random.int(seed.length + 1));
    default: {
      // a few flipped bytes, biased toward the headers
      const frame = seed.slice();
      const flips = 1 + random.int(4);
      for (let i = 0; i < flips; i++) {
        const at = random.chance(0.7) ? random.int(Math.min(frame.length, 70)) : random.int(frame.length);
        frame[at] = random.int(256);
      }
      if (random.chance(0.5)) repairChecksums(frame);
      return frame;
    }
  }
}

function fuzz(h: Harness, seed: number, frames: number): void {
  const random = new Random(seed);
  const seeds = corpus();
  for (let i = 0; i < frames; i++) {
    const frame = mutate(random, random.pick(seeds));
    expect(() => h.device.inject(frame)).not.toThrow();
    if (i % 50 === 0) h.clock.advance(random.int(2000));
    h.device.take();
  }
}

async function stillAnswers(h: Harness): Promise<void> {
  h.device.inject(icmpFrame({ kind: 'echo-request', identifier: 9, sequence: 9, data: Uint8Array.of(1, 2) }));
  expect(decodeIcmp(h.device.take()[0]!)).toEqual({
    kind: 'echo-reply',
    identifier: 9,
    sequence: 9,
    data: Uint8Array.of(1, 2),
  });
  const ping = h.stack.ping(PEER_IP);
  const request = decodeIcmp(h.device.take()[0]!);
  if (request.kind !== 'echo-request') throw new Error('expected an echo request');
  h.clock.advance(1);
  h.device.inject(icmpFrame({ ...request, kind: 'echo-reply' }));
  expect((await ping).rtt).toBe(1);
}

describe('fuzzed frames', () => {
  test('a host survives 5000 mutated frames, accounts for them, and still answers', async () => {
    const h = harness({ stack: { reassembly: { maxBytes: 64 * 1024 } } });
    h.stack.udp.bind({ port: 5000 }, { message() {} });
    h.stack.attachTcp({ receive() {} });
    fuzz(h, 1, 5000);

    const c = h.stack.counters;
    expect(c.EthernetInFrames).toBe(5000);
    expect(c.IpInHdrErrors).toBeGreaterThan(100);
    expect(c.EthernetInErrors + c.EthernetInUnknownProtos + c.EthernetInOtherHost).toBeGreaterThan(10);
    expect(c.UdpInErrors + c.IcmpInErrors + c.TcpInErrs).toBeGreaterThan(10);
    expect(c.ArpInErrors).toBeGreaterThan(0);
    expect(c.IpReasmReqds).toBeGreaterThan(0);
    expect(h.stack.ip.reassembler.bytesHeld).toBeLessThanOrEqual(64 * 1024);
    const traced = h.trace.events.filter((e) => e.kind === 'drop').length;
    expect(traced).toBe([...c.drops.values()].reduce((a, b) => a + b, 0));

    await stillAnswers(h);
    // Every timer ends: ARP retries, reassembly timeouts.
    h.clock.advance(120_000);
    expect(h.stack.ip.reassembler.datagramCount).toBe(0);
    expect(h.clock.pendingTimers).toBe(0);
  });

  test('a router survives 5000 mutated frames and still forwards', async () => {
    const h = harness({ stack: { forwarding: true } });
    // A small inside MTU makes the router re-fragment what it forwards.
    const inside = new RecordingDevice('host-eth1', 0x02_00_00_00_01_01, 576);
    const iface = h.stack.addInterface(inside, { address: '192.0.2.254/24' });
    iface.arp.addStatic(ip('192.0.2.1'), 0x02_00_00_00_01_02);
    fuzz(h, 2, 5000);
    inside.take();
    expect(h.stack.counters.IpForwDatagrams).toBeGreaterThan(0);
    h.device.inject(
      ipv4Frame({
        dst: ip('192.0.2.1'),
        payload: udpBytes({ srcPort: 1, dstPort: 2, payload: new Uint8Array(4) }, PEER_IP, ip('192.0.2.1')),
      }),
    );
    expect(inside.take()).toHaveLength(1);
    await stillAnswers(h);
    h.clock.advance(120_000);
    expect(h.clock.pendingTimers).toBe(0);
  });
});
