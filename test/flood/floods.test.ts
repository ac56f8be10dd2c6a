import { describe, expect, it } from 'vitest';
import { runBlindInjection } from './blind-injection.js';
import { runConnectionChurn } from './connection-churn.js';
import { runFragmentFlood } from './fragment-flood.js';
import { runIdleAfterBulk } from './idle-after-bulk.js';

describe('flood suite, scaled down (npm run flood runs it at full scale)', () => {
  it('10k blind RSTs, SYNs and data segments draw no more answers than the rate limit allows; goodput within 10%', () => {
    const r = runBlindInjection(4 * 1024 * 1024, 10_000);
    expect(r.baseline.bytesOk).toBe(true);
    expect(r.attacked.bytesOk).toBe(true);
    expect(r.attacked.connectionAlive).toBe(true);
    expect(r.replies).toBeLessThanOrEqual(r.allowed);
    expect(r.attacked.skipped).toBeGreaterThan(0);
    expect(r.goodputRatio).toBeGreaterThan(0.9);
  });

  it('2,000 connections opened and closed in a row from 1,000 ephemeral ports: none fails, TIME-WAIT ports reused, compact records', () => {
    const r = runConnectionChurn(2000, { ports: 1000 });
    expect(r.failures).toEqual([]);
    expect(r.opened).toBe(2000);
    expect(r.timeWaitReused).toBeGreaterThan(0);
    expect(r.timeWaitRecords).toBeGreaterThan(0);
    expect(r.storageBytesPerRecord).toBeLessThan(300);
  });

  it('500 connections that each sent 512 KiB, then idle: every byte arrived, no buffer storage held', () => {
    const r = runIdleAfterBulk(500, 512 * 1024);
    expect([r.connections, r.exact, r.bufferBytes]).toEqual([500, 500, 0]);
  });

  it('20k hostile fragments against a 512 KiB budget: the reassembly queue stays within its budget, a real datagram still arrives', () => {
    const r = runFragmentFlood(20_000, { maxBytes: 512 * 1024 });
    expect(r.peakCharged).toBeLessThanOrEqual(r.budget);
    // Every 8-byte fragment in its 1514-byte frame was copied out rather than pinning the frame.
    expect(r.copies).toBe(r.fragments);
    expect(r.evicted).toBeGreaterThan(0);
    expect(r.legitimateReceived).toBe(r.legitimateSent);
  });
});
