/**
 * TCP segmentation (TSO/GSO) is cut by the peer's MSS, never only by the MTU: a peer that announces
 * MSS 536, or sends no MSS option (which means 536, RFC 9293 MUST-15), never receives a segment with
 * more payload, whether the device cuts TSO packets itself or IP cuts them in software — even when the
 * whole TSO packet would fit the 1500-byte MTU. The same holds for a large (GSO) packet a router
 * forwards. Checked frame by frame through a whole Stack, and over a simulated link.
 */
import { describe, expect, it } from 'vitest';
import type { FrameTransmitOptions, NetworkDevice, ReceivedFrameInfo } from '../../src/link/device.js';
import { MemoryLink } from '../../src/link/memory-link.js';
import { Stack } from '../../src/stack.js';
import { segmentTcpPacket } from '../../src/tcp/ip-glue/tcp-segmentation.js';
import { VirtualClock } from '../../src/time/virtual-clock.js';
import { checksumAdd, checksumFinish } from '../../src/wire/checksum.js';
import { IP_PROTOCOL_TCP, parseIpv4 } from '../../src/wire/ipv4.js';
import { TCP_ACK, type TcpOptions } from '../../src/wire/tcp.js';
import { pattern } from '../tcp/dialogue.js';
import { listeningStack, onTheWire, peerOpens, TSO, tcpFrame } from './tcp-peer.js';

function accepted(offload: boolean, synOptions: TcpOptions) {
  const s = listeningStack(offload);
  return { h: s.h, ...peerOpens(s, synOptions) };
}

describe('segments never exceed the peer’s MSS, with or without TSO', () => {
  for (const [peer, options] of [
    ['announces MSS 536', { mss: 536 }],
    ['sends no MSS option (536)', {}],
  ] as const) {
    for (const offload of [true, false]) {
      it(`peer ${peer}, TSO ${offload ? 'on' : 'off'}: 1000 and 3000 bytes leave as 536-byte pieces`, () => {
        const { h, conn, iss } = accepted(offload, options);
        expect(conn.status().effectiveMss).toBe(536);
        // 1000 bytes: less than MTU - 40, yet more than the peer's MSS.
        conn.send(pattern(1000), h.clock.now());
        const first = h.device.sent.map((f, i) => onTheWire(f, h.device.sentOptions[i]));
        // With TSO: one frame the device cuts by 536; without: IP sent the pieces itself.
        expect(h.device.sentOptions.map((o) => o?.segmentSize ?? 0)).toEqual(offload ? [536] : [0, 0]);
        expect(first.flat().map((p) => [p.seq - iss - 1, p.length])).toEqual([
          [0, 536],
          [536, 464],
        ]);
        h.device.take();
        h.device.inject(tcpFrame({ seq: 1001, ack: iss + 1 + 1000, flags: TCP_ACK }));
        h.device.take();
        conn.send(pattern(3000), h.clock.now());
        const pieces = h.device.sent.flatMap((f, i) => onTheWire(f, h.device.sentOptions[i]));
        expect(pieces.map((p) => p.length)).toEqual([536, 536, 536, 536, 536, 320]);
        expect(pieces.map((p) => p.seq - iss - 1)).toEqual([1000, 1536, 2072, 2608, 3144, 3680]);
        if (offload) expect(h.device.sentOptions.map((o) => o?.segmentSize)).toEqual([536]);
        else expect(h.device.sentOptions.every((o) => o === undefined)).toBe(true);
        // Linux's OutSegs: the segments the wire carries.
        expect(conn.status().segmentsSent).toBe(1 + 2 + 6);
      });
    }
  }

  it('a segment no longer than the peer’s MSS goes as one plain frame, even from a TSO device', () => {
    const { h, conn } = accepted(true, { mss: 536 });
    conn.send(pattern(536), h.clock.now());
    expect(h.device.sentOptions.map((o) => o?.segmentSize)).toEqual([0]);
    expect(h.device.sent.map((f) => f.length)).toEqual([14 + 20 + 20 + 536]);
  });
});

/**
 * A link end that offers TSO and partial checksums and does what a NIC (or the kernel behind a TAP) does
 * with them before the frame reaches the wire; `cut` counts the TSO frames and their segment sizes.
 */
class SegmentingDevice implements NetworkDevice {
  readonly offload = TSO;
  readonly cut: number[] = [];

  constructor(private readonly inner: NetworkDevice) {}

  get name(): string {
    return this.inner.name;
  }

  get mtu(): number {
    return this.inner.mtu;
  }

  get mac(): number {
    return this.inner.mac;
  }

  send(frame: Uint8Array, options?: FrameTransmitOptions): void {
    if (options !== undefined && options.segmentSize > 0) {
      this.cut.push(options.segmentSize);
      for (const piece of segmentTcpPacket(frame.subarray(14), options.segmentSize, 14)!) {
        piece.set(frame.subarray(0, 14));
        this.inner.send(piece);
      }
      return;
    }
    if (options !== undefined && options.checksumStart > 0) {
      const field = options.checksumStart + options.checksumOffset;
      const sum = checksumFinish(
        checksumAdd(0, frame, options.checksumStart, frame.length - options.checksumStart),
      );
      frame[field] = sum >>> 8;
      frame[field + 1] = sum & 0xff;
    }
    this.inner.send(frame);
  }

  setReceiver(receiver: (frame: Uint8Array, info?: ReceivedFrameInfo) => void): void {
    this.inner.setReceiver(receiver);
  }
}

describe('simulated: a client on a TSO device sends to a server whose MTU of 576 makes it announce MSS 536', () => {
  for (const offload of [true, false]) {
    it(`TSO ${offload ? 'on' : 'off'}: 200 kB arrive byte-exact, no segment on the wire over 536 bytes`, () => {
      const clock = new VirtualClock();
      const link = new MemoryLink({
        clock,
        a: { name: 'client-eth0', mac: 0x02_00_00_00_00_01 },
        b: { name: 'server-eth0', mac: 0x02_00_00_00_00_02 },
        impairments: { delayMs: 2 },
        // The plain device of the 'TSO off' case: its frames are what the wire carries.
        offload: false,
      });
      const onWire: number[] = [];
      const clientDevice = offload ? new SegmentingDevice(link.a) : link.a;
      const client = new Stack({ name: 'client', clock, seed: 1 });
      const server = new Stack({ name: 'server', clock, seed: 2 });
      client.addInterface(clientDevice, { address: '10.5.0.1/24' });
      const serverIface = server.addInterface(link.b, { address: '10.5.0.2/24', mtu: 576 });
      // Observe every frame that reaches the server, before its stack sees it.
      const deliver = (frame: Uint8Array) => {
        const packet = parseIpv4(frame.subarray(14));
        if (packet.ok && packet.value.protocol === IP_PROTOCOL_TCP && packet.value.src === 0x0a050001) {
          onWire.push(
            packet.value.totalLength - packet.value.headerLength - (packet.value.payload[12]! >>> 4) * 4,
          );
        }
        server.ip.receiveFrame(serverIface, frame);
      };
      link.b.setReceiver(deliver);

      const data = pattern(200_000);
      const received: Uint8Array[] = [];
      server.tcp.listen({ port: 9 }).on('connection', (c) =>
        c.on('readable', () => {
          for (let x = c.receive(clock.now()); x !== null && x.length > 0; x = c.receive(clock.now())) {
            received.push(x.slice());
          }
        }),
      );
      const conn = client.tcp.connect({ remoteAddress: 0x0a050002, remotePort: 9 });
      let offset = 0;
      const write = () => {
        while (offset < data.length) {
          const n = conn.send(data.subarray(offset), clock.now());
          if (n === 0) return;
          offset += n;
        }
      };
      conn.on('connected', write);
      conn.on('drain', write);
      clock.runUntil(20_000);
      const total = received.reduce((n, r) => n + r.length, 0);
      expect(total).toBe(data.length);
      const joined = new Uint8Array(total);
      let at = 0;
      for (const r of received) {
        joined.set(r, at);
        at += r.length;
      }
      expect(joined).toEqual(data);
      // The peer's MSS less the 12 bytes of the timestamp option every segment carries (RFC 7323 §3,
      // on by default): the segments are exactly as large as 536 allows.
      expect(Math.max(...onWire)).toBe(536 - 12);
      if (clientDevice instanceof SegmentingDevice) {
        // The client did use TSO, always with that effective MSS as the segment size.
        expect(clientDevice.cut.length).toBeGreaterThan(0);
        expect(new Set(clientDevice.cut)).toEqual(new Set([536 - 12]));
      }
    });
  }
});
