import { describe, expect, it } from 'vitest';
import { captureDevice } from '../../src/link/capture.js';
import { MemoryPcapSink, PcapWriter } from '../../src/pcap/pcap-writer.js';
import { makeLink, numberedFrame, readPcapRecords, seqOf } from './link-fixtures.js';
import { MAC_A, MAC_B } from './sample-frames.js';

function memoryWriter(): { sink: MemoryPcapSink; writer: PcapWriter } {
  const sink = new MemoryPcapSink();
  return { sink, writer: new PcapWriter(sink) };
}

describe('capture', () => {
  it('captureDevice records both directions of a device with clock timestamps', () => {
    const t = makeLink({ impairments: { delayMs: 2.5 }, checksumOffload: true });
    const { sink, writer } = memoryWriter();
    const device = captureDevice(t.link.a, writer, t.clock);
    expect([device.name, device.mac, device.mtu]).toEqual(['a', MAC_A, 1500]);
    expect(device.checksumOffload).toBe(false); // a capture must show real checksums
    const got: number[] = [];
    device.setReceiver((f) => got.push(seqOf(f)));
    t.link.b.setReceiver((f) => t.link.b.send(numberedFrame(seqOf(f) + 100, 50, MAC_B, MAC_A)));
    t.clock.advance(1);
    device.send(numberedFrame(1));
    t.clock.runUntilIdle();
    expect(got).toEqual([101]);
    const records = readPcapRecords(sink.bytes());
    expect(records.map((r) => [seqOf(r.data), r.seconds, r.fraction, r.originalLength])).toEqual([
      [1, 0, 1_000_000, 114],
      [101, 0, 6_000_000, 64],
    ]);
    expect(records[0]!.data).toEqual(numberedFrame(1));
  });

  it('link.capture records what enters the link, or what reaches the far end', () => {
    const t = makeLink({ seed: 3, aToB: { loss: 0.3, duplicate: 0.3, delayMs: 1 } });
    const entering = memoryWriter();
    const arriving = memoryWriter();
    const onlyBtoA = memoryWriter();
    t.link.capture(entering.writer);
    t.link.capture(arriving.writer, { point: 'delivered' });
    t.link.capture(onlyBtoA.writer, { direction: 'b->a' });
    for (let i = 0; i < 50; i++) t.link.a.send(numberedFrame(i));
    t.link.b.send(numberedFrame(1000, 100, MAC_B, MAC_A));
    t.clock.runUntilIdle();
    const c = t.link.counters('a->b');
    expect(entering.writer.packetCount).toBe(51);
    expect(arriving.writer.packetCount).toBe(c.delivered + 1);
    expect(c.delivered).not.toBe(50);
    // The far-end capture shows exactly what b received (duplicates included, in order), plus b->a's frame.
    const arrived = readPcapRecords(arriving.sink.bytes()).map((r) => seqOf(r.data));
    expect(arrived.filter((s) => s !== 1000)).toEqual(t.atB.map((d) => d.seq));
    expect(arrived.filter((s) => s === 1000)).toHaveLength(1);
    expect(
      readPcapRecords(entering.sink.bytes())
        .map((r) => seqOf(r.data))
        .slice(0, 50),
    ).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(readPcapRecords(onlyBtoA.sink.bytes()).map((r) => seqOf(r.data))).toEqual([1000]);
  });

  it('stops on detach and skips a closed writer', () => {
    const t = makeLink();
    const a = memoryWriter();
    const b = memoryWriter();
    const detach = t.link.capture(a.writer);
    t.link.capture(b.writer);
    t.link.a.send(numberedFrame(1));
    detach();
    b.writer.close();
    t.link.a.send(numberedFrame(2));
    t.clock.runUntilIdle();
    expect(a.writer.packetCount).toBe(1);
    expect(b.writer.packetCount).toBe(1);
    expect(t.atB).toHaveLength(2);
  });
});
