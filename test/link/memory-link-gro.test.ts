/**
 * Receive coalescing on the memory link (MemoryLinkOptions.gro): the frames that arrive in one batch (due
 * at one instant, nothing else due between them) reach the receiver as the packets GRO makes of them,
 * while taps see every frame as it crossed; and two stacks over such a link move every byte, answer a
 * batch with one ACK and count a corrupted segment as the stack always did.
 */
import { describe, expect, it } from 'vitest';
import type { ReceivedFrameInfo } from '../../src/link/device.js';
import type { LinkImpairments } from '../../src/link/impairments.js';
import { MemoryLink } from '../../src/link/memory-link.js';
import { SimulatedNetwork } from '../../src/sim/network.js';
import { VirtualClock } from '../../src/time/virtual-clock.js';
import { MAC_A, MAC_B } from './sample-frames.js';
import { ACK, bytes, CWR, concat, FIN, tcpFrame as frame, PSH, SYN } from './tcp-frame-builder.js';

const RST = 0x04;
const URG = 0x20;
const SEGMENT = 1000;

interface Received {
  time: number;
  frame: Uint8Array;
  info: ReceivedFrameInfo | undefined;
}

function groLink(impairments?: LinkImpairments): {
  clock: VirtualClock;
  link: MemoryLink;
  atB: Received[];
  wire: Uint8Array[];
  log: (string | Received)[];
} {
  const clock = new VirtualClock();
  const link = new MemoryLink({
    clock,
    seed: 3,
    a: { name: 'a', mac: MAC_A },
    b: { name: 'b', mac: MAC_B },
    aToB: impairments,
    gro: true,
  });
  const atB: Received[] = [];
  const log: (string | Received)[] = [];
  link.b.setReceiver((f, info) => {
    const received = { time: clock.now(), frame: f.slice(), info: info && { ...info } };
    atB.push(received);
    log.push(received);
  });
  const wire: Uint8Array[] = [];
  link.tap((_, f) => wire.push(f.slice()), { direction: 'a->b', point: 'delivered' });
  return { clock, link, atB, wire, log };
}

/** Segments of SEGMENT bytes from sequence number 0, the i-th carrying bytes(SEGMENT, i). */
function segment(i: number, flags = ACK): Uint8Array {
  return frame({ seq: i * SEGMENT, data: bytes(SEGMENT, i), id: 100 + i, flags });
}

/** The packet the sender would have sent for segments `from` .. `to` - 1 as one segment. */
function merged(from: number, to: number, flags = ACK): Uint8Array {
  const parts = Array.from({ length: to - from }, (_, k) => bytes(SEGMENT, from + k));
  return frame({ seq: from * SEGMENT, data: concat(...parts), id: 100 + from, flags });
}

const TRUSTED_MERGED = { checksumTrusted: true, segmentSize: SEGMENT };
const TRUSTED_ALONE = { checksumTrusted: true, segmentSize: 0 };

describe('MemoryLink with gro', () => {
  it('hands on the segments that arrive in one instant as one packet; taps still see every frame', () => {
    const t = groLink();
    const sent = [0, 1, 2, 3].map((i) => segment(i));
    for (const f of sent) t.link.a.send(f);
    t.clock.runUntilIdle();
    expect(t.atB.map((r) => r.frame)).toEqual([merged(0, 4)]);
    expect(t.atB[0]!.info).toEqual(TRUSTED_MERGED);
    expect(t.wire).toEqual(sent);
    expect(t.link.counters('a->b').delivered).toBe(4);
    expect(t.link.coalescing('a->b')).toMatchObject({
      frames: 4,
      segmentsMerged: 3,
      packetsMerged: 1,
      framesPassed: 0,
      badChecksums: 0,
    });
    expect(t.link.coalescing('b->a')).toMatchObject({ frames: 0 });
  });

  it('ends a batch where another timer falls between two frames, or time moves on: the order stays', () => {
    const t = groLink();
    t.link.a.send(segment(0));
    t.link.a.send(segment(1));
    t.clock.setTimer(0, () => t.log.push('timer'));
    t.link.a.send(segment(2));
    t.link.a.send(segment(3));
    t.clock.runUntilIdle();
    t.clock.setTimer(1, () => {
      t.link.a.send(segment(4));
      t.link.a.send(segment(5));
    });
    t.clock.runUntilIdle();
    expect(t.log.map((e) => (typeof e === 'string' ? e : [e.time, e.frame]))).toEqual([
      [0, merged(0, 2)],
      'timer',
      [0, merged(2, 4)],
      [1, merged(4, 6)],
    ]);
    expect(t.link.coalescing('a->b')).toMatchObject({ frames: 6, packetsMerged: 3, framesPassed: 0 });
  });

  it('delivers the rest of a batch after a receiver threw, and the link goes on', () => {
    const t = groLink();
    let throws = 1;
    t.link.b.setReceiver((f, info) => {
      if (throws-- > 0) throw new Error('receiver failed');
      t.atB.push({ time: t.clock.now(), frame: f.slice(), info: info && { ...info } });
    });
    // The first frame (PSH, nothing held before it) goes on at once, and its receiver throws.
    t.link.a.send(segment(0, ACK | PSH));
    for (let i = 1; i < 4; i++) t.link.a.send(segment(i));
    expect(() => t.clock.runUntilIdle()).toThrow('receiver failed');
    t.clock.runUntilIdle();
    expect(t.atB.map((r) => r.frame)).toEqual([merged(1, 4)]);
    expect(t.link.framesInFlight('a->b')).toBe(0);
    t.link.a.send(segment(4));
    t.clock.runUntilIdle();
    expect(t.atB.map((r) => r.frame)).toEqual([merged(1, 4), segment(4)]);
  });

  it('passes a frame alone in its batch as it came, vouched for after its check', () => {
    const t = groLink();
    t.link.a.send(segment(0));
    t.clock.runUntilIdle();
    expect(t.atB.map((r) => [r.frame, r.info])).toEqual([[segment(0), TRUSTED_ALONE]]);
    expect(t.link.coalescing('a->b')).toMatchObject({ frames: 1, packetsMerged: 0, framesPassed: 1 });
  });

  it('a gap ends the packet: what follows it merges into the next', () => {
    const t = groLink();
    for (const i of [0, 1, 3, 4, 5]) t.link.a.send(segment(i));
    t.clock.runUntilIdle();
    expect(t.atB.map((r) => r.frame)).toEqual([merged(0, 2), merged(3, 6)]);
  });

  it('merges runs of what crossed under loss and duplication, and nothing else', () => {
    const t = groLink({ loss: 0.2, duplicate: 0.2 });
    for (let i = 0; i < 40; i++) t.link.a.send(segment(i));
    t.clock.runUntilIdle();
    const counters = t.link.counters('a->b');
    expect(counters.dropped.loss).toBeGreaterThan(0);
    expect(counters.duplicated).toBeGreaterThan(0);
    // What the stack must see: each run of frames, in the order they crossed (a duplicate right after its
    // original), whose sequence numbers continue one another, as one packet.
    const runs: number[][] = [];
    let previous = -2;
    for (const f of t.wire) {
      const i = new DataView(f.buffer).getUint32(38) / SEGMENT;
      if (i === previous + 1) runs.at(-1)!.push(i);
      else runs.push([i]);
      previous = i;
    }
    const expected = runs.map((run) =>
      run.length === 1 ? segment(run[0]!) : merged(run[0]!, run.at(-1)! + 1),
    );
    expect(t.atB.map((r) => r.frame)).toEqual(expected);
    expect(runs.some((run) => run.length === 1)).toBe(true);
    expect(runs.some((run) => run.length > 1)).toBe(true);
    const c = t.link.coalescing('a->b')!;
    expect(c.frames).toBe(t.wire.length);
    expect(c.segmentsMerged + c.packetsMerged + c.framesPassed).toBe(t.wire.length);
  });

  it('a segment held back arrives alone later; those around it merge apart', () => {
    const t = groLink();
    t.link.a.send(segment(0));
    t.link.a.send(segment(1));
    t.link.setImpairments('a->b', { reorder: 1, reorderDelayMs: 1 });
    t.link.a.send(segment(2));
    t.link.setImpairments('a->b', {});
    t.link.a.send(segment(3));
    t.link.a.send(segment(4));
    t.clock.runUntilIdle();
    expect(t.atB.map((r) => [r.time, r.frame])).toEqual([
      [0, merged(0, 2)],
      [0, merged(3, 5)],
      [1, segment(2)],
    ]);
  });

  it('passes a corrupted segment alone, as it came, for the stack to count and drop', () => {
    const t = groLink();
    const bad = frame({ seq: 2 * SEGMENT, data: bytes(SEGMENT, 2), id: 102, corruptTcp: true });
    for (const f of [segment(0), segment(1), bad, segment(3), segment(4)]) t.link.a.send(f);
    t.clock.runUntilIdle();
    expect(t.atB.map((r) => [r.frame, r.info])).toEqual([
      [merged(0, 2), TRUSTED_MERGED],
      [bad, undefined],
      [merged(3, 5), TRUSTED_MERGED],
    ]);
    expect(t.link.coalescing('a->b')).toMatchObject({ badChecksums: 1, framesPassed: 1, packetsMerged: 2 });
  });

  it('keeps the flag rules: PSH and FIN end a packet, SYN, RST, URG and CWR pass alone', () => {
    const t = groLink();
    const sent = [
      segment(0),
      segment(1, ACK | PSH), // merged, then ends the packet
      segment(2),
      segment(3, ACK | CWR), // alone: the packet of 2 goes first
      segment(4),
      segment(5, ACK | URG),
      segment(6, ACK | RST),
      segment(7, SYN),
      segment(8),
      segment(9, ACK | FIN),
    ];
    for (const f of sent) t.link.a.send(f);
    t.clock.runUntilIdle();
    expect(t.atB.map((r) => r.frame)).toEqual([
      merged(0, 2, ACK | PSH),
      segment(2),
      segment(3, ACK | CWR),
      segment(4),
      segment(5, ACK | URG),
      segment(6, ACK | RST),
      segment(7, SYN),
      merged(8, 10, ACK | FIN),
    ]);
  });

  it('holds another flow apart and keeps each flow in order', () => {
    const t = groLink();
    const other = (i: number) =>
      frame({ seq: 50_000 + i * SEGMENT, data: bytes(SEGMENT, 50 + i), id: 200 + i, srcPort: 40001 });
    for (const f of [segment(0), other(0), segment(1), other(1), segment(2)]) t.link.a.send(f);
    t.clock.runUntilIdle();
    expect(t.atB.map((r) => r.frame)).toEqual([
      merged(0, 3),
      frame({ seq: 50_000, data: concat(bytes(SEGMENT, 50), bytes(SEGMENT, 51)), id: 200, srcPort: 40001 }),
    ]);
  });
});

describe('stacks over a link with gro', () => {
  function transfer(
    bytesToSend: number,
    options: { gro: boolean; impairments?: LinkImpairments; chunk?: number },
  ): {
    received: Uint8Array;
    net: SimulatedNetwork;
    link: MemoryLink;
    acks: number;
  } {
    const net = new SimulatedNetwork({ seed: 5, trace: false, gro: options.gro });
    const client = net.host('client', '10.0.0.1/24');
    const server = net.host('server', '10.0.0.2/24');
    const simulated = net.link(client, server, { mtu: 1500, impairments: options.impairments });
    simulated.a.interface.arp.addStatic(0x0a000002, simulated.link.b.mac);
    simulated.b.interface.arp.addStatic(0x0a000001, simulated.link.a.mac);
    const data = bytes(bytesToSend, 9);
    const parts: Uint8Array[] = [];
    const sink = new Uint8Array(65536);
    server.tcp.listen({ port: 7 }).on('connection', (conn) => {
      conn.on('readable', () => {
        for (;;) {
          const n = conn.receiveInto(sink);
          if (n <= 0) break;
          parts.push(sink.slice(0, n));
        }
      });
    });
    const conn = client.tcp.connect({ remoteAddress: 0x0a000002, remotePort: 7 });
    const chunk = options.chunk ?? 65536;
    let sent = 0;
    const write = (): void => {
      while (sent < bytesToSend) {
        const accepted = conn.send(data.subarray(sent, Math.min(sent + chunk, bytesToSend)), net.clock.now());
        sent += accepted;
        if (accepted === 0) return;
      }
    };
    conn.on('connected', write);
    conn.on('drain', write);
    let acks = 0;
    simulated.link.tap(() => acks++, { direction: 'b->a', point: 'sent' });
    net.clock.runUntilIdle({ maxTime: 600_000 });
    return { received: concat(...parts), net, link: simulated.link, acks };
  }

  it('moves every byte exactly, through merged packets, with an ACK per batch at most', () => {
    const size = 1024 * 1024 + 77;
    const off = transfer(size, { gro: false });
    const on = transfer(size, { gro: true });
    expect(on.received).toEqual(bytes(size, 9));
    const c = on.link.coalescing('a->b')!;
    expect(c.packetsMerged).toBeGreaterThan(0);
    expect(c.segmentsMerged + c.packetsMerged + c.framesPassed).toBe(c.frames);
    expect(c.frames).toBe(on.link.counters('a->b').delivered);
    // Each batch is answered with one ACK at most (the SYN-ACK aside), never more than without GRO.
    expect(on.acks).toBeLessThanOrEqual(c.packetsMerged + c.framesPassed + 1);
    expect(on.acks).toBeLessThanOrEqual(off.acks);
    expect(off.received).toEqual(on.received);
  });

  it('never gives a frame a tap was given back to the allocator: what the tap keeps stays as it crossed', () => {
    const net = new SimulatedNetwork({ seed: 5, trace: false, gro: true });
    const client = net.host('client', '10.0.0.1/24');
    const server = net.host('server', '10.0.0.2/24');
    const simulated = net.link(client, server, { mtu: 1500 });
    const kept: { frame: Uint8Array; copy: Uint8Array }[] = [];
    const stop = simulated.link.tap((_, f) => kept.push({ frame: f, copy: f.slice() }), {
      direction: 'a->b',
      point: 'delivered',
    });
    const size = 256 * 1024;
    const data = bytes(size, 4);
    let received = 0;
    server.tcp.listen({ port: 7 }).on('connection', (conn) => {
      const sink = new Uint8Array(65536);
      conn.on('readable', () => {
        for (let n = conn.receiveInto(sink); n > 0; n = conn.receiveInto(sink)) received += n;
      });
    });
    const conn = client.tcp.connect({ remoteAddress: 0x0a000002, remotePort: 7 });
    conn.on('connected', () => conn.send(data, net.clock.now()));
    net.clock.runUntil(50);
    stop();
    // More traffic after the tap is gone: frames given back are carved again and written over.
    conn.send(data, net.clock.now());
    net.clock.runUntilIdle({ maxTime: 60_000 });
    expect(received).toBe(2 * size);
    expect(simulated.link.coalescing('a->b')!.packetsMerged).toBeGreaterThan(2);
    expect(kept.length).toBeGreaterThan(100);
    for (const { frame, copy } of kept) expect(frame).toEqual(copy);
    expect(simulated.link.releasedFrames('a->b')).toBeGreaterThan(0);
  });

  it('answers a window that arrives in one batch with one ACK', () => {
    const t = transfer(10 * 1448, { gro: true });
    const c = t.link.coalescing('a->b')!;
    expect(t.received).toEqual(bytes(10 * 1448, 9));
    // SYN-ACK's ACK plus the ten segments, merged into one packet; the server's ACKs: SYN-ACK, one for the ten.
    expect(c).toMatchObject({ packetsMerged: 1, segmentsMerged: 9 });
    expect(t.acks).toBe(2);
  });

  it('moves every byte under loss, reordering, duplication and corruption; a bad segment is counted', () => {
    const size = 512 * 1024;
    const t = transfer(size, {
      gro: true,
      impairments: { loss: 0.01, reorder: 0.01, duplicate: 0.01, corrupt: 0.01 },
    });
    expect(t.received).toEqual(bytes(size, 9));
    const c = t.link.coalescing('a->b')!;
    expect(c.packetsMerged).toBeGreaterThan(0);
    expect(c.badChecksums).toBeGreaterThan(0);
    const server = t.net.stacks.get('server')!;
    expect(server.counters.TcpInCsumErrors).toBeGreaterThan(0);
    expect(server.counters.TcpInCsumErrors).toBeLessThanOrEqual(c.badChecksums);
  });
});
