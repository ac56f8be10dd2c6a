import { describe, expect, test } from 'vitest';
import { ARP_REPLY, ARP_REQUEST } from '../../src/wire/arp.js';
import { TCP_SYN } from '../../src/wire/tcp.js';
import {
  arpFrame,
  arpRequestFrom,
  decode,
  decodeUdp,
  drops,
  HOST_IP,
  HOST_MAC,
  harness,
  ip,
  OTHER_MAC,
  PEER_IP,
  PEER_MAC,
} from './harness.js';
import { listeningStack, peerOpens, TSO, tcpFrame } from './tcp-peer.js';

const BROADCAST_MAC = 0xffff_ffff_ffff;

function hex(frame: Uint8Array): string {
  return Buffer.from(frame).toString('hex');
}

function replyFromPeer(mac = PEER_MAC, senderIp = PEER_IP) {
  return arpFrame(
    { operation: ARP_REPLY, senderMac: mac, senderIp, targetMac: HOST_MAC, targetIp: HOST_IP },
    HOST_MAC,
  );
}

function sendUdp(h: ReturnType<typeof harness>, n: number, dst = PEER_IP) {
  const socket = h.stack.udp.bind({ port: 1000 + n });
  socket.send(Uint8Array.of(n), 9, dst);
  socket.close();
}

describe('ARP (RFC 826)', () => {
  test('the first datagram waits for an exact who-has / is-at exchange; the next one does not', () => {
    const h = harness({ peerKnown: false });
    sendUdp(h, 1);
    const [request, ...rest] = h.device.take();
    expect(rest).toHaveLength(0);
    // Ethernet: ff:ff:ff:ff:ff:ff <- 02:00:00:00:00:01, type 0806; ARP: Ethernet/IPv4, 6/4, request,
    // sender 02:00:00:00:00:01 10.0.0.1, target 00:00:00:00:00:00 10.0.0.2
    expect(hex(request!)).toBe(
      'ffffffffffff' +
        '020000000001' +
        '0806' +
        '0001' +
        '0800' +
        '0604' +
        '0001' +
        '020000000001' +
        '0a000001' +
        '000000000000' +
        '0a000002',
    );
    expect(h.stack.neighbors()).toEqual([
      {
        address: PEER_IP,
        mac: undefined,
        state: 'incomplete',
        expiresInMs: undefined,
        interfaceName: 'host-eth0',
      },
    ]);

    h.clock.advance(3);
    h.device.inject(replyFromPeer());
    const [queued] = h.device.take();
    expect(decode(queued!)).toMatchObject({ dstMac: PEER_MAC, srcMac: HOST_MAC, ip: { dst: PEER_IP } });
    expect(decodeUdp(queued!).payload).toEqual(Uint8Array.of(1));

    sendUdp(h, 2);
    const [direct] = h.device.take();
    expect(decode(direct!)).toMatchObject({ dstMac: PEER_MAC, ip: { dst: PEER_IP } });
    expect(h.stack.counters).toMatchObject({ ArpOutRequests: 1, ArpInReplies: 1, NeighbourQueueDrops: 0 });
    expect(h.stack.neighbors()).toEqual([
      {
        address: PEER_IP,
        mac: PEER_MAC,
        state: 'reachable',
        expiresInMs: 30_000,
        interfaceName: 'host-eth0',
      },
    ]);
    expect(h.clock.pendingTimers).toBe(0);
  });

  test('a request for our address is answered with is-at, and its sender is learned', () => {
    const h = harness({ peerKnown: false });
    const otherIp = ip('10.0.0.3');
    h.device.inject(arpRequestFrom(OTHER_MAC, otherIp, HOST_IP));
    const [reply] = h.device.take();
    expect(hex(reply!)).toBe(
      '020000000003' +
        '020000000001' +
        '0806' +
        '0001080006040002' +
        '020000000001' +
        '0a000001' +
        '020000000003' +
        '0a000003',
    );
    sendUdp(h, 1, otherIp);
    const frames = h.device.take();
    expect(frames.map((f) => decode(f).etherType)).toEqual([0x0800]);
    expect(decode(frames[0]!).dstMac).toBe(OTHER_MAC);
    expect(h.stack.counters).toMatchObject({ ArpInRequests: 1, ArpOutReplies: 1, ArpOutRequests: 0 });
  });

  test('merge rule: a request for someone else updates a known sender but adds no unknown one', () => {
    const h = harness({ peerKnown: false });
    const otherIp = ip('10.0.0.3');
    // Unknown sender asking for a third host: not learned.
    h.device.inject(arpRequestFrom(OTHER_MAC, otherIp, ip('10.0.0.9')));
    expect(h.device.take()).toHaveLength(0);
    expect(h.stack.neighbors()).toEqual([]);

    // Known sender (learned from a request to us) moves to a new MAC: updated by any ARP packet.
    h.device.inject(arpRequestFrom(PEER_MAC, PEER_IP, HOST_IP));
    h.device.take();
    h.device.inject(arpRequestFrom(0x02_00_00_00_00_99, PEER_IP, ip('10.0.0.9')));
    expect(h.stack.neighbors().map((n) => n.mac)).toEqual([0x02_00_00_00_00_99]);
  });

  test('with arp.announce, adding an address sends one gratuitous ARP (RFC 5227 §2.3 announcement)', () => {
    const h = harness({ peerKnown: false, stack: { arp: { announce: true } } });
    h.clock.runUntilIdle();
    const [announcement, ...rest] = h.device.take();
    expect(rest).toEqual([]);
    expect(decode(announcement!)).toMatchObject({
      dstMac: BROADCAST_MAC,
      srcMac: HOST_MAC,
      arp: {
        operation: ARP_REQUEST,
        senderMac: HOST_MAC,
        senderIp: HOST_IP,
        targetMac: 0,
        targetIp: HOST_IP,
      },
    });
    expect(h.stack.counters).toMatchObject({ ArpOutAnnouncements: 1, ArpOutRequests: 1 });
    // A bare stack (the default) announces nothing.
    const quiet = harness({ peerKnown: false });
    quiet.clock.runUntilIdle();
    expect(quiet.device.take()).toEqual([]);
  });

  test('gratuitous ARP updates a STALE entry we hold and creates none', () => {
    const h = harness({ peerKnown: false });
    // Learned from a request: STALE (RFC 4861 §7.3.3; Linux does the same for ARP).
    h.device.inject(arpRequestFrom(PEER_MAC, PEER_IP, HOST_IP));
    h.device.take();
    h.clock.advance(50_000);
    const newMac = 0x02_00_00_00_00_42;
    h.device.inject(arpRequestFrom(newMac, PEER_IP, PEER_IP));
    h.device.inject(arpRequestFrom(OTHER_MAC, ip('10.0.0.3'), ip('10.0.0.3')));
    expect(h.device.take()).toHaveLength(0);
    expect(h.stack.neighbors()).toEqual([
      { address: PEER_IP, mac: newMac, state: 'stale', expiresInMs: undefined, interfaceName: 'host-eth0' },
    ]);
  });

  test('frames to a neighbour carry its MAC byte for byte, as learned and as changed', () => {
    const h = harness({ peerKnown: false });
    // Every byte of both addresses has its top bit set but the first (a unicast address), so neither
    // half of either fits in fewer bits than it has.
    const learned = 0xfe_dc_ba_98_76_54;
    const changed = 0x8a_bc_de_f1_23_45;
    h.device.inject(arpRequestFrom(learned, PEER_IP, HOST_IP));
    h.device.take();
    sendUdp(h, 1);
    expect(hex(h.device.take()[0]!.subarray(0, 6))).toBe('fedcba987654');
    // STALE again after the probe timers, then a gratuitous ARP moves the entry to the new address.
    h.clock.advance(50_000);
    h.device.take();
    h.device.inject(arpRequestFrom(learned, PEER_IP, HOST_IP));
    h.device.take();
    h.device.inject(arpRequestFrom(changed, PEER_IP, PEER_IP));
    sendUdp(h, 2);
    expect(hex(h.device.take()[0]!.subarray(0, 6))).toBe('8abcdef12345');
    expect(h.stack.neighbors()[0]).toMatchObject({ mac: changed });
  });

  test('a frame with offload requests is addressed from the cache at once, byte for byte', () => {
    const s = listeningStack(true);
    const mac = 0xfe_dc_ba_98_76_54;
    s.h.iface.arp.addStatic(PEER_IP, mac);
    const { conn } = peerOpens(s, { mss: 536 });
    s.h.device.take();
    conn.send(new Uint8Array(3000), s.h.clock.now());
    // One TSO frame, handed to the device with its segment size, to the neighbour's MAC.
    expect(s.h.device.sentOptions.map((o) => o?.segmentSize)).toEqual([536]);
    expect(hex(s.h.device.sent[0]!.subarray(0, 6))).toBe('fedcba987654');
  });

  test('NUD: a frame with offload requests is a use of a STALE entry too: DELAY, then a unicast probe 5 s later', () => {
    // RFC 4861 §7.3.3 (as ARP's NUD here): the first use of a STALE entry starts DELAY, whichever way the
    // frame is addressed. A device with TSO and checksum offload is handed every TCP frame with requests.
    const h = harness({ peerKnown: false, deviceOffload: TSO });
    h.stack.tcp.listen({ port: 80 });
    h.device.inject(arpRequestFrom(PEER_MAC, PEER_IP, HOST_IP));
    h.device.take();
    expect(h.stack.neighbors()[0]!.state).toBe('stale');
    h.device.inject(tcpFrame({ srcPort: 40000, seq: 1000, flags: TCP_SYN, options: { mss: 1460 } }));
    // The SYN-ACK leaves at once, with its requests, to the cached MAC.
    expect(h.device.sentOptions.map((o) => o !== undefined)).toEqual([true]);
    expect(h.device.take().map((f) => [decode(f).etherType, decode(f).dstMac])).toEqual([[0x0800, PEER_MAC]]);
    expect(h.stack.neighbors()[0]!.state).toBe('delay');
    // DELAY -> PROBE after 5 s: a unicast who-has to the cached MAC (the SYN-ACK's retransmissions
    // meanwhile are left aside).
    h.clock.advance(5000);
    const probes = h.device.take().filter((f) => decode(f).etherType === 0x0806);
    expect(probes.map((f) => decode(f))).toMatchObject([
      { dstMac: PEER_MAC, arp: { operation: ARP_REQUEST, targetIp: PEER_IP } },
    ]);
    expect(h.stack.neighbors()[0]!.state).toBe('probe');
  });

  test('NUD: a STALE entry is used at once, probed by unicast 5 s later, and dropped when 3 probes go unanswered', () => {
    const h = harness({ peerKnown: false });
    h.device.inject(arpRequestFrom(PEER_MAC, PEER_IP, HOST_IP));
    h.device.take();
    sendUdp(h, 1);
    // STALE -> DELAY: the datagram leaves to the cached MAC without waiting.
    expect(h.device.take().map((f) => [decode(f).etherType, decode(f).dstMac])).toEqual([[0x0800, PEER_MAC]]);
    expect(h.stack.neighbors()[0]!.state).toBe('delay');
    h.clock.advance(4999);
    expect(h.device.take()).toEqual([]);
    h.clock.advance(1);
    // DELAY -> PROBE: unicast who-has to the cached MAC, three of them 1 s apart.
    for (let i = 0; i < 3; i++) {
      const [probe] = h.device.take();
      expect(decode(probe!)).toMatchObject({
        dstMac: PEER_MAC,
        arp: { operation: ARP_REQUEST, targetIp: PEER_IP },
      });
      expect(h.stack.neighbors()[0]!.state).toBe('probe');
      h.clock.advance(1000);
    }
    expect(h.stack.neighbors()).toEqual([]);
    expect(h.stack.counters.NeighbourResolutionFailures).toBe(1);
    // The next datagram resolves afresh, by broadcast.
    sendUdp(h, 2);
    expect(decode(h.device.take()[0]!)).toMatchObject({ dstMac: BROADCAST_MAC, arp: { targetIp: PEER_IP } });
  });

  test('NUD: a probe answered makes the entry REACHABLE for 30 s, then STALE again, never forgotten', () => {
    const h = harness({ peerKnown: false });
    h.device.inject(arpRequestFrom(PEER_MAC, PEER_IP, HOST_IP));
    h.device.take();
    sendUdp(h, 1);
    h.clock.advance(5000);
    h.device.take();
    h.device.inject(replyFromPeer());
    expect(h.stack.neighbors()[0]).toMatchObject({ state: 'reachable', expiresInMs: 30_000 });
    h.clock.advance(30_000);
    expect(h.stack.neighbors()[0]).toMatchObject({ state: 'stale', mac: PEER_MAC });
    expect(h.clock.pendingTimers).toBe(0);
  });

  test('an unsolicited or forged reply does not replace a REACHABLE entry’s address', () => {
    const h = harness({ peerKnown: false });
    sendUdp(h, 1);
    h.device.take();
    h.device.inject(replyFromPeer());
    h.device.take();
    const forged = 0x02_00_00_00_66_66;
    const forgedReply = (senderIp: number) =>
      arpFrame(
        { operation: ARP_REPLY, senderMac: forged, senderIp, targetMac: HOST_MAC, targetIp: HOST_IP },
        HOST_MAC,
      );
    h.device.inject(forgedReply(PEER_IP));
    h.device.inject(arpRequestFrom(forged, PEER_IP, PEER_IP));
    expect(h.stack.neighbors()[0]).toMatchObject({ mac: PEER_MAC, state: 'reachable' });
    expect(h.stack.counters.NeighbourUpdatesRefused).toBe(2);
    sendUdp(h, 2);
    expect(decode(h.device.take()[0]!).dstMac).toBe(PEER_MAC);
    // An unsolicited reply about a neighbour we never asked for creates nothing (as Linux, arp_accept 0).
    h.device.inject(forgedReply(ip('10.0.0.77')));
    expect(h.stack.neighbors().map((n) => n.address)).toEqual([PEER_IP]);
  });

  test('three unanswered requests 1 s apart, then failure: queue dropped, senders told EHOSTUNREACH', async () => {
    const h = harness({ peerKnown: false });
    const errors: string[] = [];
    const socket = h.stack.udp.bind({ port: 2000 }, { error: (e) => errors.push(e.code) });
    socket.connect(PEER_IP, 9);
    socket.send(Uint8Array.of(1));
    const ping = h.stack.ping(PEER_IP, { timeoutMs: 10_000 });
    const outcome = ping.then(
      () => 'replied',
      (e: { code: string }) => `${e.code}@${h.clock.now()}`,
    );
    const times: number[] = [];
    for (let t = 0; t < 3000; t += 500) {
      for (const f of h.device.take()) {
        expect(decode(f).arp).toMatchObject({ operation: ARP_REQUEST, targetIp: PEER_IP });
        times.push(h.clock.now());
      }
      h.clock.advance(500);
    }
    expect(times).toEqual([0, 1000, 2000]);
    expect(await outcome).toBe('EHOSTUNREACH@3000');
    expect(errors).toEqual(['EHOSTUNREACH']);
    expect(h.stack.counters).toMatchObject({
      ArpOutRequests: 3,
      NeighbourResolutionFailures: 1,
      NeighbourQueueDrops: 2,
    });
    expect(drops(h.trace)).toEqual(['arp:resolution-failed', 'arp:resolution-failed']);
    expect(h.device.take()).toHaveLength(0);
    expect(h.clock.pendingTimers).toBe(0);
  });

  test('the queue keeps the newest datagrams per destination and refuses past the interface total', () => {
    const h = harness({ peerKnown: false, stack: { arp: { queuePerDestination: 3, queueTotal: 5 } } });
    for (let n = 1; n <= 5; n++) sendUdp(h, n);
    const third = ip('10.0.0.3');
    for (let n = 6; n <= 9; n++) sendUdp(h, n, third);
    expect(h.stack.counters.NeighbourQueueDrops).toBe(4);
    expect(drops(h.trace)).toEqual([
      'arp:queue-full',
      'arp:queue-full',
      'arp:queue-total-full',
      'arp:queue-total-full',
    ]);
    expect(h.stack.interfaces[0]!.arp.queuedFrameCount).toBe(5);
    h.device.take();
    h.device.inject(replyFromPeer());
    expect(h.device.take().map((f) => decodeUdp(f).payload[0])).toEqual([3, 4, 5]);
    h.device.inject(replyFromPeer(OTHER_MAC, third));
    expect(h.device.take().map((f) => decodeUdp(f).payload[0])).toEqual([6, 7]);
  });

  test('a packet claiming our own address is a conflict, not a cache entry', () => {
    const h = harness({ peerKnown: false });
    h.device.inject(arpRequestFrom(OTHER_MAC, HOST_IP, HOST_IP));
    expect(h.stack.counters.ArpAddressConflicts).toBe(1);
    expect(drops(h.trace)).toEqual(['arp:address-conflict']);
    expect(h.stack.neighbors()).toEqual([]);
  });

  test('an ARP probe (sender 0.0.0.0) for our address is answered, nothing learned', () => {
    const h = harness({ peerKnown: false });
    h.device.inject(arpRequestFrom(OTHER_MAC, 0, HOST_IP));
    const [reply] = h.device.take();
    expect(decode(reply!)).toMatchObject({ dstMac: OTHER_MAC, arp: { operation: ARP_REPLY, targetIp: 0 } });
    expect(h.stack.neighbors()).toEqual([]);
  });

  test('malformed and foreign ARP is counted and traced', () => {
    const h = harness({ peerKnown: false });
    const good = arpRequestFrom(OTHER_MAC, ip('10.0.0.3'), HOST_IP);
    h.device.inject(good.subarray(0, 30));
    const wrongHardware = good.slice();
    wrongHardware[15] = 6; // hardware type 6 (IEEE 802)
    h.device.inject(wrongHardware);
    const broadcastSender = arpRequestFrom(0x01_00_5e_00_00_01, ip('10.0.0.3'), HOST_IP);
    h.device.inject(broadcastSender);
    expect(drops(h.trace)).toEqual(['arp:truncated', 'arp:unsupported', 'arp:bad-sender-mac']);
    expect(h.stack.counters.ArpInErrors).toBe(3);
    expect(h.device.take()).toHaveLength(0);
  });

  test('static entries never expire', () => {
    const h = harness();
    h.clock.advance(10 * 60_000);
    sendUdp(h, 1);
    expect(decode(h.device.take()[0]!).dstMac).toBe(PEER_MAC);
    expect(h.stack.neighbors()[0]).toMatchObject({ state: 'static', expiresInMs: Number.POSITIVE_INFINITY });
  });
  test('maxEntries: STALE entries are evicted first, then the least recently confirmed; INCOMPLETE ones are never, so a full table refuses', async () => {
    const h = harness({ peerKnown: false, stack: { arp: { maxEntries: 3 } } });
    const [a, b, c, d, e] = [
      ip('10.0.0.11'),
      ip('10.0.0.12'),
      ip('10.0.0.13'),
      ip('10.0.0.14'),
      ip('10.0.0.15'),
    ];
    const answer = (address: number, mac: number) => h.device.inject(replyFromPeer(mac, address));
    // a, b, c resolved in that order; then a's confirmation runs out (STALE) while c and b are confirmed
    // again by answers, b last.
    for (const [n, address] of [a, b, c].entries()) {
      sendUdp(h, n, address);
      answer(address, 0x02_00_00_00_01_00 + n);
    }
    h.clock.advance(30_000);
    for (const address of [c, b]) {
      sendUdp(h, 9, address);
      answer(address, address === b ? 0x02_00_00_00_01_01 : 0x02_00_00_00_01_02);
    }
    h.device.take();
    const state = () => h.stack.neighbors().map((n) => [n.address, n.state]);
    expect(state()).toEqual([
      [a, 'stale'],
      [c, 'reachable'],
      [b, 'reachable'],
    ]);

    // d: the table is full; the STALE a goes, not the confirmed ones.
    sendUdp(h, 4, d);
    expect(state()).toEqual([
      [c, 'reachable'],
      [b, 'reachable'],
      [d, 'incomplete'],
    ]);
    // e: no STALE entry left; the least recently confirmed (c) goes.
    sendUdp(h, 5, e);
    expect(state()).toEqual([
      [b, 'reachable'],
      [d, 'incomplete'],
      [e, 'incomplete'],
    ]);
    h.stack.interfaces[0]!.arp.delete(b);
    sendUdp(h, 1, a);
    // Now every entry is resolving (frames wait in each): the next destination is refused, its datagram
    // dropped and its sender told, as Linux's "neighbour table overflow".
    const ping = h.stack.ping(b, { timeoutMs: 10_000 });
    await expect(ping).rejects.toMatchObject({ code: 'EHOSTUNREACH' });
    expect(state()).toEqual([
      [d, 'incomplete'],
      [e, 'incomplete'],
      [a, 'incomplete'],
    ]);
    expect(h.stack.counters.NeighbourTableFull).toBe(3);
    expect(drops(h.trace)).toContain('neighbour:table-full');
    // Requests went out for d, e and a only.
    const asked = h.device.take().map((f) => decode(f).arp?.targetIp);
    expect(asked).toEqual([d, e, a]);
  });
});
