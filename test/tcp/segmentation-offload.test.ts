/**
 * TCP segmentation offload: when IP says it can cut a large segment into MSS-sized ones on the way
 * (tsoSize above the path MTU), the connection hands it segments of several MSS at once, with the MSS
 * as `segmentSize`. What goes on the wire is the same byte stream cut the same way.
 */
import { describe, expect, it } from 'vitest';
import { established, pattern } from './dialogue.js';
import { FakeNetwork, ip } from './network.js';

const D = 1001;
const P = 9001;
const MSS = 1460;

describe('TCP segmentation offload (TSO)', () => {
  it('sends as many whole MSS as the congestion window allows in one segment, cut by IP into MSS pieces', () => {
    const d = established({
      tsoSize: 65535,
      peerWindow: 65535,
      config: { congestionControl: 'reno', initialWindowSegments: undefined },
    });
    d.conn.send(pattern(60_000), d.now);
    // Initial window: 3 segments (RFC 5681 §3.1, MSS 1460): one TSO segment of 3 MSS.
    const first = d.expect({ flags: 'A', seq: D, ack: P, len: 3 * MSS });
    expect(d.segmentSizes.get(first)).toBe(MSS);
    d.expectNone();
    // Counted as the three segments the wire carries.
    expect(d.counters.segmentsOut).toBe(2 + 3);
    // One ACK for the whole super-segment (a receiver with GRO acknowledges it at once): slow start
    // counts its bytes (RFC 3465, L = the segments of one super-segment), so cwnd doubles to 6 MSS.
    d.at(10).recv({ flags: 'A', seq: P, ack: D + 3 * MSS });
    expect(d.conn.status().cwnd).toBe(6 * MSS);
    const second = d.expect({ flags: 'A', seq: D + 3 * MSS, ack: P, len: 6 * MSS });
    expect(d.segmentSizes.get(second)).toBe(MSS);
    d.at(20).recv({ flags: 'A', seq: P, ack: D + 9 * MSS });
    d.expect({ flags: 'A', seq: D + 9 * MSS, ack: P, len: 12 * MSS });
  });

  it('the tail of the data may end in a short piece; PSH marks it, and Nagle remembers it', () => {
    const d = established({ tsoSize: 65535, config: { initialWindowSegments: 10 } });
    d.conn.send(pattern(5000), d.now);
    const seg = d.expect({ flags: 'PA', seq: D, ack: P, len: 5000 });
    expect(d.segmentSizes.get(seg)).toBe(MSS);
    // 5000 = 3 * 1460 + 620: a short last piece is in flight, so a further short write waits (Nagle).
    d.conn.send(pattern(10), d.now);
    d.expectNone();
    d.at(10).recv({ flags: 'A', seq: P, ack: D + 5000 });
    d.expect({ flags: 'PA', seq: D + 5000, ack: P, len: 10 });
  });

  it('cut by the window in the middle of the data, a segment keeps to whole MSS', () => {
    const d = established({ tsoSize: 65535, peerWindow: 4000, config: { initialWindowSegments: 10 } });
    d.conn.send(pattern(20_000), d.now);
    // Room 4000 = 2 MSS + 1080: the 1080 are not sent as a short piece in mid-stream.
    const seg = d.expect({ flags: 'A', seq: D, ack: P, len: 2 * MSS });
    expect(d.segmentSizes.get(seg)).toBe(MSS);
    d.expectNone();
  });

  it('defers a small segment while ACKs are on their way, so the next one carries many MSS (as Linux)', () => {
    const d = established({
      tsoSize: 65535,
      peerWindow: 65535,
      config: { congestionControl: 'reno', initialWindowSegments: 10 },
    });
    d.conn.send(pattern(100_000), d.now);
    d.expect({ flags: 'A', seq: D, ack: P, len: 10 * MSS });
    // 1 MSS acknowledged: cwnd 11 MSS, 9 in flight, room for 2 MSS, less than a third of the window.
    d.at(10).recv({ flags: 'A', seq: P, ack: D + MSS });
    d.expectNone();
    // The rest acknowledged (9 MSS, growing cwnd by them): room for the whole window (20 MSS) at once.
    d.at(11).recv({ flags: 'A', seq: P, ack: D + 10 * MSS });
    const seg = d.expect({ flags: 'A', seq: D + 10 * MSS, ack: P, len: 20 * MSS });
    expect(d.segmentSizes.get(seg)).toBe(MSS);
    d.expectNone();
  });

  it('one MSS is not TSO: it goes without a segment size', () => {
    const d = established({ tsoSize: 65535 });
    d.conn.send(pattern(MSS), d.now);
    const seg = d.expect({ flags: 'PA', seq: D, ack: P, len: MSS });
    expect(d.segmentSizes.has(seg)).toBe(false);
  });

  it('urgent data and segmentationOffload: false go out in MSS-sized segments', () => {
    const urgent = established({ tsoSize: 65535, config: { initialWindowSegments: 10 } });
    urgent.conn.send(pattern(3000), urgent.now, { urgent: true });
    urgent.expect({ flags: 'AU', seq: D, ack: P, len: MSS, urgentPointer: 3000 });
    const off = established({
      tsoSize: 65535,
      config: { segmentationOffload: false, initialWindowSegments: 10 },
    });
    off.conn.send(pattern(3000), off.now);
    expect(off.takeAll().map((s) => s.payload.length)).toEqual([MSS, MSS, 80]);
  });

  it('between two layers whose IP offers TSO, a transfer completes in large segments', () => {
    const net = new FakeNetwork();
    const a = net.addHost(['10.0.0.1'], { tsoSize: 65535 });
    const b = net.addHost(['10.0.0.2']);
    const received: number[] = [];
    b.listen({ port: 80 }).on('connection', (c) =>
      c.on('readable', () => {
        for (let x = c.receive(net.clock.now()); x !== null && x.length > 0; x = c.receive(net.clock.now())) {
          received.push(...x);
        }
      }),
    );
    const conn = a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80 });
    const data = pattern(300_000);
    let offset = 0;
    const write = () => {
      while (offset < data.length) {
        const n = conn.send(data.subarray(offset, offset + 65536), net.clock.now());
        offset += n;
        if (n === 0) return;
      }
    };
    conn.on('connected', write);
    conn.on('drain', write);
    net.run(10_000);
    expect(received.length).toBe(data.length);
    expect(received.every((v, i) => v === data[i])).toBe(true);
    const largest = Math.max(...net.packets.map((p) => p.seg.payload.length));
    // Timestamps (on by default) take 12 bytes of every segment.
    const mss = conn.status().effectiveMss;
    expect(mss).toBe(MSS - 12);
    expect(largest).toBeGreaterThan(10 * mss);
    expect(largest % mss).toBe(0);
    expect(net.packets.filter((p) => p.segmentSize !== undefined).every((p) => p.segmentSize === mss)).toBe(
      true,
    );
  });
});
