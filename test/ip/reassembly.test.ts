import { describe, expect, test } from 'vitest';
import { IP_PROTOCOL_UDP } from '../../src/wire/ipv4.js';
import { decode, decodeIcmp, drops, HOST_IP, harness, ipv4Frame, PEER_IP, udpBytes } from './harness.js';

function udpDatagram(size: number, id = 7) {
  const payload = Uint8Array.from({ length: size }, (_, i) => (i * 13 + id) & 0xff);
  return { payload, bytes: udpBytes({ srcPort: 4000, dstPort: 5000, payload }) };
}

/** Fragment frames of `bytes` (an IP payload) cut at the given offsets. */
function fragments(bytes: Uint8Array, cuts: number[], id = 7): Uint8Array[] {
  const bounds = [...cuts, bytes.length];
  const frames: Uint8Array[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    frames.push(
      ipv4Frame({
        id,
        protocol: IP_PROTOCOL_UDP,
        fragmentOffset: bounds[i]!,
        moreFragments: i + 2 < bounds.length,
        payload: bytes.subarray(bounds[i]!, bounds[i + 1]!),
      }),
    );
  }
  return frames;
}

function listen(h: ReturnType<typeof harness>) {
  const received: Uint8Array[] = [];
  h.stack.udp.bind({ port: 5000 }, { message: (payload) => received.push(payload.slice()) });
  return received;
}

describe('reassembly', () => {
  test('fragments in any order are reassembled into the original datagram', () => {
    const h = harness();
    const received = listen(h);
    const { payload, bytes } = udpDatagram(3000);
    const [f0, f1, f2] = fragments(bytes, [0, 1480, 2960]);
    h.device.inject(f2!);
    h.device.inject(f0!);
    expect(received).toHaveLength(0);
    expect(h.stack.ip.reassembler.datagramCount).toBe(1);
    h.device.inject(f1!);
    expect(received).toEqual([payload]);
    expect(h.stack.counters).toMatchObject({
      IpReasmReqds: 3,
      IpReasmOKs: 1,
      IpReasmFails: 0,
      UdpInDatagrams: 1,
    });
    expect(h.stack.ip.reassembler.bytesHeld).toBe(0);
    expect(h.stack.ip.reassembler.datagramCount).toBe(0);
    expect(h.clock.pendingTimers).toBe(0);
  });

  test('an exact duplicate fragment is ignored', () => {
    const h = harness();
    const received = listen(h);
    const { payload, bytes } = udpDatagram(2000);
    const [f0, f1] = fragments(bytes, [0, 1000]);
    h.device.inject(f0!);
    h.device.inject(f0!);
    h.device.inject(f1!);
    expect(received).toEqual([payload]);
    expect(drops(h.trace)).toEqual(['ip-reassembly:duplicate-fragment']);
    expect(h.stack.counters.IpReasmOKs).toBe(1);
  });

  test('overlapping fragments with different data discard the datagram, and its stragglers', () => {
    const h = harness();
    const received = listen(h);
    const { bytes } = udpDatagram(2000);
    const [f0, f1] = fragments(bytes, [0, 1000]);
    // Same range as f0, different bytes: an attempt to rewrite the transport header.
    const forged = bytes.slice(0, 1000);
    forged[8] = forged[8]! ^ 0xff;
    h.device.inject(f0!);
    h.device.inject(ipv4Frame({ id: 7, moreFragments: true, fragmentOffset: 0, payload: forged }));
    h.device.inject(f1!);
    expect(received).toHaveLength(0);
    expect(h.stack.counters).toMatchObject({ IpReasmOverlaps: 1, IpReasmFails: 1, IpReasmOKs: 0 });
    expect(drops(h.trace)).toEqual(['ip-reassembly:overlap', 'ip-reassembly:discarded-datagram']);
    expect(h.stack.ip.reassembler.bytesHeld).toBe(0);

    // After the timeout the key is forgotten: the same identification works again.
    h.clock.advance(30_000);
    expect(h.stack.ip.reassembler.datagramCount).toBe(0);
    for (const f of fragments(bytes, [0, 1000])) h.device.inject(f);
    expect(received).toHaveLength(1);
    // The discarded datagram expiring is not a second failure, and sends no ICMP.
    expect(h.stack.counters.IpReasmFails).toBe(1);
    expect(h.device.sent).toHaveLength(0);
  });

  test('a partial overlap (teardrop) discards the datagram', () => {
    const h = harness();
    const received = listen(h);
    const { bytes } = udpDatagram(40);
    h.device.inject(
      ipv4Frame({ id: 7, moreFragments: true, fragmentOffset: 0, payload: bytes.subarray(0, 24) }),
    );
    h.device.inject(
      ipv4Frame({ id: 7, moreFragments: false, fragmentOffset: 16, payload: bytes.subarray(16, 48) }),
    );
    expect(received).toHaveLength(0);
    expect(drops(h.trace)).toEqual(['ip-reassembly:overlap']);
  });

  test('fragments of different datagrams (id, source) are kept apart', () => {
    const h = harness();
    const received = listen(h);
    const a = udpDatagram(1600, 1);
    const b = udpDatagram(1600, 2);
    const fa = fragments(a.bytes, [0, 800], 1);
    const fb = fragments(b.bytes, [0, 800], 2);
    h.device.inject(fa[0]!);
    h.device.inject(fb[1]!);
    h.device.inject(fb[0]!);
    h.device.inject(fa[1]!);
    expect(received).toEqual([b.payload, a.payload]);
  });

  test('a datagram left incomplete expires after 30 s: memory freed, Time Exceeded code 1 sent', () => {
    const h = harness();
    listen(h);
    const { bytes } = udpDatagram(3000);
    const [f0, , f2] = fragments(bytes, [0, 1480, 2960]);
    h.device.inject(f0!);
    h.device.inject(f2!);
    // Each fragment fills most of its frame: charged the whole frame (14 + 20 + data) plus 256 for its
    // records; the partial datagram 768 for its own.
    expect(h.stack.ip.reassembler.bytesHeld).toBe(768 + 1514 + 82 + 2 * 256);
    h.clock.advance(29_999);
    expect(h.stack.ip.reassembler.datagramCount).toBe(1);
    h.clock.advance(1);
    expect(h.stack.ip.reassembler.datagramCount).toBe(0);
    expect(h.stack.ip.reassembler.bytesHeld).toBe(0);
    expect(h.stack.counters).toMatchObject({ IpReasmTimeout: 1, IpReasmFails: 1, IcmpOutTimeExcds: 1 });
    expect(drops(h.trace)).toEqual(['ip-reassembly:timeout']);

    const [frame] = h.device.take();
    const { ip } = decode(frame!);
    expect(ip).toMatchObject({ src: HOST_IP, dst: PEER_IP, protocol: 1 });
    const icmp = decodeIcmp(frame!);
    expect(icmp).toMatchObject({ kind: 'time-exceeded', code: 1 });
    // Quotes the first fragment's header and its first 8 data bytes (the UDP header).
    if (icmp.kind !== 'time-exceeded') throw new Error('unreachable');
    expect(icmp.original).toEqual(f0!.subarray(14, 14 + 28));
    expect(h.clock.pendingTimers).toBe(0);
  });

  test('no Time Exceeded when the first fragment never came', () => {
    const h = harness();
    const { bytes } = udpDatagram(3000);
    h.device.inject(fragments(bytes, [0, 1480, 2960])[1]!);
    h.clock.advance(30_000);
    expect(h.stack.counters.IpReasmTimeout).toBe(1);
    expect(h.device.sent).toHaveLength(0);
  });

  test('a fragment reaching past 65535 bytes (ping of death) discards the datagram', () => {
    const h = harness();
    h.device.inject(
      ipv4Frame({ id: 9, moreFragments: true, fragmentOffset: 0, payload: new Uint8Array(64) }),
    );
    h.device.inject(
      ipv4Frame({ id: 9, moreFragments: false, fragmentOffset: 65520, payload: new Uint8Array(16) }),
    );
    expect(drops(h.trace)).toEqual(['ip-reassembly:oversize']);
    expect(h.stack.counters.IpReasmFails).toBe(1);
    expect(h.stack.ip.reassembler.bytesHeld).toBe(0);
  });

  test('a non-final fragment whose length is not a multiple of 8 is refused', () => {
    const h = harness();
    h.device.inject(
      ipv4Frame({ id: 9, moreFragments: true, fragmentOffset: 0, payload: new Uint8Array(12) }),
    );
    expect(drops(h.trace)).toEqual(['ip-reassembly:bad-fragment-length']);
  });

  test('two different last fragments discard the datagram', () => {
    const h = harness();
    h.device.inject(
      ipv4Frame({ id: 9, moreFragments: false, fragmentOffset: 16, payload: new Uint8Array(16) }),
    );
    h.device.inject(
      ipv4Frame({ id: 9, moreFragments: false, fragmentOffset: 16, payload: new Uint8Array(24) }),
    );
    expect(drops(h.trace)).toEqual(['ip-reassembly:inconsistent-last-fragment']);
  });

  test('a fragment beyond the known end discards the datagram', () => {
    const h = harness();
    h.device.inject(
      ipv4Frame({ id: 9, moreFragments: false, fragmentOffset: 16, payload: new Uint8Array(16) }),
    );
    h.device.inject(
      ipv4Frame({ id: 9, moreFragments: true, fragmentOffset: 32, payload: new Uint8Array(16) }),
    );
    expect(drops(h.trace)).toEqual(['ip-reassembly:beyond-last-fragment']);
  });

  test('the global byte budget evicts the oldest partial datagrams', () => {
    const h = harness({ stack: { reassembly: { maxBytes: 6000 } } });
    for (let id = 1; id <= 4; id++) {
      h.device.inject(
        ipv4Frame({ id, moreFragments: true, fragmentOffset: 0, payload: new Uint8Array(1480) }),
      );
    }
    // Each first fragment fills most of its 1514-byte frame, kept and charged whole, plus 256 for its
    // records and 768 for its datagram's: only two fit in 6000.
    expect(h.stack.ip.reassembler.datagramCount).toBe(2);
    expect(h.stack.ip.reassembler.bytesHeld).toBe(2 * (768 + 1514 + 256));
    expect(h.stack.counters.IpReasmCopies).toBe(0);
    expect(h.stack.counters.IpReasmFails).toBe(2);
    expect(drops(h.trace)).toEqual(['ip-reassembly:memory-limit', 'ip-reassembly:memory-limit']);
    // The survivors are the newest (ids 3 and 4): completing id 4 works.
    const received = listen(h);
    h.device.inject(
      ipv4Frame({ id: 4, moreFragments: false, fragmentOffset: 1480, payload: new Uint8Array(8) }),
    );
    expect(h.stack.counters.IpReasmOKs).toBe(1);
    expect(received).toHaveLength(0); // all-zero "UDP header": port 0, nobody listens
  });

  test('a small fragment in a large received buffer is copied out and charged what it holds', () => {
    const h = harness({ stack: { reassembly: { maxDatagrams: 10_000 } } });
    // 8 data bytes in a 1514-byte frame (Ethernet padding after the IP datagram), as a hostile sender
    // would send them to pin whole frames.
    for (let id = 1; id <= 500; id++) {
      const frame = ipv4Frame({ id, moreFragments: true, fragmentOffset: 0, payload: new Uint8Array(8) });
      const padded = new Uint8Array(1514);
      padded.set(frame);
      h.device.inject(padded);
    }
    // Several frames read into one 64 KiB buffer (a TAP read), each a view of it; the last one starts a
    // real UDP datagram.
    const { payload, bytes } = udpDatagram(1580 - 8, 1);
    const batch = new Uint8Array(65_536);
    const views: Uint8Array[] = [];
    for (let i = 0; i < 40; i++) {
      const data = i === 39 ? bytes.subarray(0, 1480) : new Uint8Array(1480);
      const frame = ipv4Frame({ id: 1000 + i, moreFragments: true, fragmentOffset: 0, payload: data });
      batch.set(frame, i * 1514);
      views.push(batch.subarray(i * 1514, i * 1514 + frame.length));
    }
    for (const view of views) h.device.inject(view);
    expect(h.stack.ip.reassembler.datagramCount).toBe(540);
    // Each its own datagram (768) and fragment (256): 500 with 8 bytes copied, 40 with 1480 copied out of
    // the shared buffer.
    expect(h.stack.ip.reassembler.bytesHeld).toBe(500 * (768 + 256 + 8) + 40 * (768 + 256 + 1480));
    expect(h.stack.counters.IpReasmCopies).toBe(540);
    // The copies do not depend on the buffer they came from: the device may reuse it at once.
    batch.fill(0xee);
    const received = listen(h);
    h.device.inject(ipv4Frame({ id: 1039, fragmentOffset: 1480, payload: bytes.subarray(1480) }));
    expect(h.stack.counters.IpReasmOKs).toBe(1);
    expect(received).toEqual([payload]);
  });
});
