/**
 * A bulk sender whose send buffer autotunes to its 4 MiB cap behind a bottleneck: its ring never drains
 * (acknowledgments free room a few segments at a time), so each segment's start depends on the ring
 * being a whole number of segments; the segment views cut one lap earlier serve the next lap only then.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedNetwork } from '../../src/sim/network.js';
import { segmentViewCounters } from '../../src/tcp/byte-ring.js';
import { parseIpv4 } from '../../src/wire/address.js';

const MIB = 1024 * 1024;

describe('send ring at the autotuned cap', () => {
  it('holds whole segments, and segments after the first laps are served the views cut before', () => {
    const net = new SimulatedNetwork({ seed: 1, trace: false });
    const client = net.host('client', '10.0.0.1/24');
    const server = net.host('server', '10.0.0.2/24');
    // 1 Gbit/s, 20 ms round trip (BDP 2.5 MB): the window outgrows the 4 MiB send buffer's share.
    net.link(client, server, {
      impairments: { delayMs: 10, rateBitsPerSecond: 1e9, queueLimitFrames: 10_000 },
    });
    const total = 40 * MIB;
    const chunk = new Uint8Array(65536).map((_, i) => i * 7);
    const sink = new Uint8Array(65536);
    let received = 0;
    let corrupt = 0;
    // Cuts counted while the last 16 MiB arrive, and the buffer's size then (held + free).
    let cutsAt24 = -1;
    let cutsAt40 = -1;
    let held = 0;
    server.tcp.listen({ port: 5001 }).on('connection', (conn) => {
      conn.on('readable', () => {
        for (;;) {
          const n = conn.receiveInto(sink, net.clock.now());
          if (n <= 0) break;
          for (let i = 0; i < n; i += 997) if (sink[i] !== (((received + i) & 0xffff) * 7) % 256) corrupt++;
          received += n;
          if (cutsAt24 < 0 && received >= 24 * MIB) cutsAt24 = segmentViewCounters.cut;
          if (cutsAt40 < 0 && received === total) cutsAt40 = segmentViewCounters.cut;
        }
      });
    });
    const conn = client.tcp.connect({ remoteAddress: parseIpv4('10.0.0.2')!, remotePort: 5001 });
    let sent = 0;
    const write = (): void => {
      while (sent < total) {
        // The rest of the chunk a partial write left, so that byte k of the stream is chunk[k % 65536].
        const offset = sent % 65536;
        const accepted = conn.send(offset === 0 ? chunk : chunk.subarray(offset), net.clock.now());
        sent += accepted;
        if (accepted === 0) {
          held = Math.max(held, conn.writableLength + conn.writableFree);
          return;
        }
      }
    };
    conn.on('connected', write);
    conn.on('drain', write);
    net.clock.runUntilIdle({ maxEvents: Number.MAX_SAFE_INTEGER });
    expect([received, corrupt]).toEqual([total, 0]);
    // At the cap the buffer holds the whole segments below 4 MiB: 2,896 of 1,448 bytes.
    expect(held).toBe(2896 * 1448);
    // About 11,600 segments left meanwhile; each was cut a view of its own when the ring was 4 MiB.
    expect(cutsAt40 - cutsAt24).toBeLessThan(100);
  });
});
