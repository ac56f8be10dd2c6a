/**
 * 100k hostile IPv4 fragments against one stack: 8 data bytes each, every one in a 1514-byte frame of its
 * own (the shape that pins the most memory per byte if fragments are kept as views), from random sources
 * and identifications, with more-fragments set so none ever completes. Meanwhile a legitimate fragmented
 * datagram is sent now and then and must still be reassembled.
 *
 * Shared by the scaled-down flood test and `npm run flood`; `measureHeap` (full scale) reports the heap
 * the reassembly queue really holds at the end of the flood.
 */
import { Random } from '../../src/util/random.js';
import { IP_PROTOCOL_UDP } from '../../src/wire/ipv4.js';
import { HOST_IP, harness, ipv4Frame, udpBytes } from '../ip/harness.js';

export interface FragmentFloodResult {
  fragments: number;
  budget: number;
  /** Highest charge the reassembly queue reached during the flood. */
  peakCharged: number;
  /** Fragments copied out of their frames instead of pinning them. */
  copies: number;
  /** Partial datagrams evicted to stay within the budget. */
  evicted: number;
  legitimateSent: number;
  legitimateReceived: number;
  /** Heap growth after the flood (after GC) while the queue is full, when measured. */
  heapBytes?: number;
}

export function runFragmentFlood(
  fragments: number,
  options: { maxBytes?: number; measureHeap?: () => number } = {},
): FragmentFloodResult {
  const { measureHeap } = options;
  const random = new Random(1);
  const h = harness({
    stack: { reassembly: { maxDatagrams: 1_000_000, maxBytes: options.maxBytes } },
  });
  const budget = h.stack.ip.reassembler.maxBytes;
  const received: Uint8Array[] = [];
  h.stack.udp.bind({ port: 5000 }, { message: (payload) => received.push(payload.slice()) });
  const payload = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff);
  const bytes = udpBytes({ srcPort: 4000, dstPort: 5000, payload });
  let legitimateSent = 0;
  let peakCharged = 0;
  const before = measureHeap?.();
  for (let i = 0; i < fragments; i++) {
    const frame = ipv4Frame({
      src: (0x0a000000 | random.int(0x1000000)) >>> 0,
      dst: HOST_IP,
      id: random.int(0x10000),
      protocol: IP_PROTOCOL_UDP,
      moreFragments: true,
      fragmentOffset: 8 * random.int(8000),
      payload: random.bytes(8),
    });
    const padded = new Uint8Array(1514);
    padded.set(frame);
    h.device.inject(padded);
    // The harness records every trace event (a drop per evicted datagram): not the stack's memory.
    if (h.trace.events.length > 1000) h.trace.events.length = 0;
    peakCharged = Math.max(peakCharged, h.stack.ip.reassembler.bytesHeld);
    if (i % 10_000 === 5_000) {
      // A real peer's datagram in two fragments, back to back.
      const id = 0x8000 + legitimateSent;
      h.device.inject(
        ipv4Frame({ id, moreFragments: true, fragmentOffset: 0, payload: bytes.subarray(0, 1480) }),
      );
      h.device.inject(ipv4Frame({ id, fragmentOffset: 1480, payload: bytes.subarray(1480) }));
      legitimateSent++;
    }
  }
  h.trace.events.length = 0;
  const after = measureHeap?.();
  const legitimateReceived = received.filter(
    (r) => r.length === payload.length && r.every((x, i) => x === payload[i]),
  ).length;
  return {
    fragments,
    budget,
    peakCharged,
    copies: h.stack.counters.IpReasmCopies,
    evicted: h.stack.counters.IpReasmFails,
    legitimateSent,
    legitimateReceived,
    heapBytes: before !== undefined && after !== undefined ? after - before : undefined,
  };
}
