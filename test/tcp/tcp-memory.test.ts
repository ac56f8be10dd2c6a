/**
 * Stack-wide TCP memory (TcpLimits.memoryMin / memoryPressure / memoryMax, Linux's tcp_mem): what all
 * connections' buffers hold is summed; under pressure receive windows grow no further than 4 MSS; at the
 * maximum incoming data is dropped (to be sent again) and writes wait, and every byte still arrives.
 */
import { describe, expect, it } from 'vitest';
import { resolveTcpLimits } from '../../src/tcp/limits.js';
import { TcpMemory } from '../../src/tcp/memory.js';
import { bulkTransfers } from './bulk-transfers.js';
import { pattern } from './dialogue.js';
import { FakeNetwork, ip } from './network.js';

const KiB = 1024;
const MiB = 1024 * 1024;

describe('stack-wide TCP memory (tcp_mem)', () => {
  it('limits are checked: min <= pressure <= max, each a number', () => {
    expect(resolveTcpLimits().memoryMax).toBe(192 * MiB);
    expect(() => resolveTcpLimits({ memoryMin: 2 * MiB, memoryPressure: MiB })).toThrow(
      'TCP memory limits must be memoryMin <= memoryPressure <= memoryMax',
    );
    expect(() => resolveTcpLimits({ memoryMin: -1 })).toThrow('TCP limit memoryMin must be a number >= 0');
  });

  it('pressure starts above `pressure` and ends only under `min`; `max` is where it is exhausted', () => {
    const counters = { memoryPressureEntered: 0 };
    const memory = new TcpMemory({ memoryMin: 100, memoryPressure: 200, memoryMax: 300 }, counters);
    memory.adjust(200);
    expect(memory.underPressure).toBe(false);
    memory.adjust(1);
    expect([memory.underPressure, counters.memoryPressureEntered]).toEqual([true, 1]);
    memory.adjust(-101);
    expect(memory.underPressure).toBe(true);
    memory.adjust(-1);
    expect(memory.underPressure).toBe(false);
    memory.adjust(201);
    expect([memory.exhausted, memory.allocated, memory.peak, counters.memoryPressureEntered]).toEqual([
      true,
      300,
      300,
      2,
    ]);
  });

  it('under pressure a receiver offers no window beyond 4 MSS, and the transfer still completes', () => {
    const net = new FakeNetwork();
    const a = net.addHost(['10.0.0.1']);
    // Pressure from the first byte held, and never under `min` again.
    const b = net.addHost(['10.0.0.2'], { limits: { memoryMin: 0, memoryPressure: 0 } });
    const data = pattern(512 * KiB);
    // b's application reads 1 ms after data arrives, so data is held between inputs.
    const t = bulkTransfers(net, a, b, 1, data, { readDelayMs: 1 });
    net.run(5000);
    expect(t.exact()).toEqual([true]);
    expect(b.memory.underPressure).toBe(true);
    expect(b.counters.memoryPressureEntered).toBe(1);
    // The window b offers on each ACK, in bytes (its shift is the one it announced on its SYN-ACK).
    const synAck = net.packets.find(
      (p) => p.src === ip('10.0.0.2') && p.seg.options.windowScale !== undefined,
    );
    const shift = synAck!.seg.options.windowScale!;
    const windows = net.packets
      .filter((p) => p.src === ip('10.0.0.2') && p !== synAck && p.seg.ack !== 0)
      .map((p) => p.seg.window << shift);
    const mss = 1460;
    // Once the first window (offered before any data was held) is used up, every offer is at most
    // 4 MSS, rounded up to the scale (RFC 7323 §2.3).
    const settled = windows.slice(windows.findIndex((w) => w <= 4 * mss + (1 << shift)));
    expect(settled.length).toBeGreaterThan(100);
    expect(Math.max(...settled)).toBeLessThanOrEqual(4 * mss + (1 << shift));
    expect(b.counters.receiveBufferGrowths).toBe(0);
  });

  it('at `max` incoming data is dropped and sent again: the total stays bounded, every byte arrives, and the memory is given back', () => {
    const net = new FakeNetwork();
    const a = net.addHost(['10.0.0.1']);
    const limits = { memoryMin: 512 * KiB, memoryPressure: 768 * KiB, memoryMax: MiB };
    const b = net.addHost(['10.0.0.2'], { limits, config: { receiveBufferSize: 256 * KiB } });
    const data = pattern(256 * KiB);
    // 16 senders offer 4 MiB that b holds until its application reads, from 3 s on.
    const t = bulkTransfers(net, a, b, 16, data, { readFrom: 3000 });
    net.run(2900);
    expect(b.memory.allocated).toBeLessThanOrEqual(limits.memoryMax + 256 * KiB);
    expect(b.memory.underPressure).toBe(true);
    net.run(60_000);
    expect(t.exact()).toEqual(t.servers.map(() => true));
    expect(b.counters.memoryPressureEntered).toBeGreaterThanOrEqual(1);
    expect(b.counters.memoryLimitDrops).toBeGreaterThan(0);
    // One input may take a ring's next doubling past the maximum, no more.
    expect(b.memory.peak).toBeLessThanOrEqual(limits.memoryMax + 256 * KiB);
    expect([b.memory.allocated, b.memory.underPressure]).toEqual([0, false]);
  });

  it('at `max` a write with data still queued waits for drain; the bytes all arrive and the total stays bounded', () => {
    const net = new FakeNetwork();
    const limits = { memoryMin: 128 * KiB, memoryPressure: 256 * KiB, memoryMax: 512 * KiB };
    const a = net.addHost(['10.0.0.1'], { limits, config: { sendBufferSize: 256 * KiB } });
    const b = net.addHost(['10.0.0.2']);
    const data = pattern(MiB);
    const t = bulkTransfers(net, a, b, 8, data, {});
    net.run(30_000);
    expect(t.exact()).toEqual(t.servers.map(() => true));
    expect(a.counters.memoryLimitWrites).toBeGreaterThan(0);
    expect(a.memory.peak).toBeLessThanOrEqual(limits.memoryMax + 256 * KiB);
    expect(t.clients.map((c) => c.bufferMemory)).toEqual(t.clients.map(() => 0));
    expect(a.memory.allocated).toBe(0);
  });

  it('a connection that ends in TIME-WAIT with unread data stops counting against the stack', () => {
    const net = new FakeNetwork();
    const a = net.addHost(['10.0.0.1']);
    const b = net.addHost(['10.0.0.2']);
    const data = pattern(64 * KiB);
    // b closes its side at once and never reads; a sends 64 KiB, then closes: b reaches TIME-WAIT
    // holding the 64 KiB for its application.
    const t = bulkTransfers(net, a, b, 1, data, {
      readFrom: Number.POSITIVE_INFINITY,
      accepted: (c) => c.close(net.clock.now()),
    });
    net.run(500);
    expect(b.memory.allocated).toBeGreaterThanOrEqual(64 * KiB);
    t.clients[0]!.close(net.clock.now());
    net.run(500);
    expect(t.servers[0]!.state).toBe('TIME-WAIT');
    expect(t.servers[0]!.readableLength).toBe(64 * KiB);
    expect(b.memory.allocated).toBe(0);
  });
  it('1,000 connections offered autotuned windows: the total stays within max plus one forced segment each, every byte arrives', () => {
    const net = new FakeNetwork();
    const a = net.addHost(['10.0.0.1']);
    const limits = { memoryMin: 2 * MiB, memoryPressure: 3 * MiB, memoryMax: 4 * MiB };
    const b = net.addHost(['10.0.0.2'], { limits });
    const data = pattern(16 * KiB);
    // 1,000 senders offer 16 MiB that b holds until its application reads, from 2 s on.
    const t = bulkTransfers(net, a, b, 1000, data, { readFrom: 2000 });
    net.run(1900);
    expect([b.memory.underPressure, b.memory.exhausted]).toEqual([true, true]);
    net.run(30_000);
    expect(t.servers.length).toBe(1000);
    expect(t.exact()).toEqual(t.servers.map(() => true));
    expect(b.counters.memoryPressureEntered).toBeGreaterThanOrEqual(1);
    expect(b.counters.memoryLimitDrops).toBeGreaterThan(0);
    // At the maximum a connection whose application has read everything still takes one in-order
    // segment (as Linux forces it in), into a ring's first 2 KiB: the most the total can pass max by.
    expect(b.memory.peak).toBeLessThanOrEqual(limits.memoryMax + 1000 * 2 * KiB);
    expect([b.memory.allocated, b.memory.underPressure]).toEqual([0, false]);
  });
});
