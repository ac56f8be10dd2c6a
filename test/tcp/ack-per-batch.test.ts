/**
 * One ACK per device batch on a real clock (TcpConfig.ackPerBurst, TcbEnvironment.timersAfterBatch):
 * coalesced packets of several full-sized segments each (what a TAP device with offload hands over) that
 * arrive in one synchronous batch share an ACK, sent once the batch has been processed (from a
 * microtask, without waiting for a timer turn), and at the latest once 256 KiB are unacknowledged.
 * Full-sized segments are still acknowledged every second one.
 *
 * Two TCP layers on a real clock, joined by queues that the test empties by hand: everything queued for
 * one side is handed to it in one loop, as a device hands over a read batch.
 */
import { describe, expect, it } from 'vitest';
import type { TcpConfig } from '../../src/tcp/config.js';
import type { TcpConnection } from '../../src/tcp/connection.js';
import { type TcpIpBinding, TcpLayer } from '../../src/tcp/tcp-layer.js';
import { RealClock } from '../../src/time/real-clock.js';
import { NO_TRACE } from '../../src/trace/events.js';
import type { Ipv4Address } from '../../src/wire/address.js';
import { copyTcpSegment, type TcpSegment } from '../../src/wire/tcp.js';
import { pattern } from './dialogue.js';
import { ip } from './network.js';

interface Queued {
  src: Ipv4Address;
  dst: Ipv4Address;
  seg: TcpSegment;
}

const A = ip('10.0.0.1');
const B = ip('10.0.0.2');

class Wire {
  readonly clock = new RealClock({ unref: true });
  readonly queues = new Map<Ipv4Address, Queued[]>([
    [A, []],
    [B, []],
  ]);
  readonly layers = new Map<Ipv4Address, TcpLayer>();

  layer(own: Ipv4Address, config: Partial<TcpConfig>, tsoSize: number): TcpLayer {
    const binding: TcpIpBinding = {
      send: (src, dst, segment) => {
        this.queues
          .get(dst as number)!
          .push({ src: src as number, dst: dst as number, seg: copyTcpSegment(segment) });
      },
      isLocalAddress: (a) => a === own,
      isBroadcastOrMulticast: () => false,
      sourceAddressFor: () => own,
      mtuFor: () => 1500,
      tsoSizeFor: () => tsoSize,
    };
    const layer = new TcpLayer({
      ip: binding,
      clock: this.clock,
      config,
      secret: new Uint8Array(32).fill(own & 0xff),
      host: String(own),
      tracer: NO_TRACE,
    });
    this.layers.set(own, layer);
    return layer;
  }

  /** Hands everything queued for `to` over in one synchronous loop (one batch); returns what it handed over. */
  deliver(to: Ipv4Address): Queued[] {
    const queue = this.queues.get(to)!;
    const batch = queue.splice(0);
    const layer = this.layers.get(to)!;
    for (const { src, dst, seg } of batch) layer.receive(src, dst, seg);
    return batch;
  }

  /** Delivers both ways, letting microtasks run between batches, until nothing is queued. */
  async settle(): Promise<void> {
    for (let round = 0; round < 100; round++) {
      await Promise.resolve();
      if (this.queues.get(A)!.length === 0 && this.queues.get(B)!.length === 0) return;
      this.deliver(B);
      this.deliver(A);
    }
  }
}

/** A connection from A to B over `wire`, established; B's end reads everything into `received`. */
async function connected(
  wire: Wire,
  tsoSize: number,
): Promise<{ client: TcpConnection; received: number[]; server: () => TcpConnection }> {
  // A window of 400 segments lets the sender put 580 KB in flight at once, and B's buffer takes it.
  const a = wire.layer(A, { initialWindowSegments: 400, sendBufferSize: 2 * 1024 * 1024 }, tsoSize);
  const b = wire.layer(B, { receiveBufferSize: 2 * 1024 * 1024 }, tsoSize);
  const received: number[] = [];
  let server: TcpConnection | undefined;
  b.listen({ port: 80 }).on('connection', (conn) => {
    server = conn;
    conn.on('readable', () => {
      for (;;) {
        const data = conn.receive(0);
        if (data === null || data.length === 0) return;
        for (const byte of data) received.push(byte);
      }
    });
  });
  const client = a.connect({ remoteAddress: B, remotePort: 80 });
  await wire.settle();
  expect(client.state).toBe('ESTABLISHED');
  // The SYN-ACK's window is not scaled (RFC 7323 §2.2): a byte from B carries its whole window to A.
  server!.send(Uint8Array.of(1), wire.clock.now());
  await wire.settle();
  return { client, received, server: () => server! };
}

const isPureAck = (q: Queued): boolean => q.seg.payload.length === 0;

describe('one ACK per device batch on a real clock', () => {
  it('answers a batch of 64 KiB packets with an ACK per 256 KiB and one after the batch; every byte arrives', async () => {
    const wire = new Wire();
    const { client, received } = await connected(wire, 65535);
    const data = pattern(512 * 1024);
    client.send(data, wire.clock.now());
    const queuedForB = wire.queues.get(B)!;
    const segments = queuedForB.length;
    expect(segments).toBeGreaterThanOrEqual(8);
    expect(queuedForB.every((q) => q.seg.payload.length > 1460)).toBe(true);
    const last = queuedForB.at(-1)!.seg;
    const end = (last.seq + last.payload.length) >>> 0;

    wire.deliver(B);
    // During the batch only the 256 KiB limit sent ACKs: one per four or five packets, not one each.
    const duringBatch = wire.queues.get(A)!.filter(isPureAck);
    expect(duringBatch.length).toBeGreaterThanOrEqual(1);
    expect(duringBatch.length).toBeLessThanOrEqual(Math.ceil(segments / 4));
    // The rest is acknowledged once the batch has returned: a microtask later, no timer waited for.
    await Promise.resolve();
    await Promise.resolve();
    const afterBatch = wire.queues.get(A)!.filter(isPureAck);
    expect(afterBatch.length).toBe(duringBatch.length + 1);
    expect(afterBatch.at(-1)!.seg.ack).toBe(end);

    await wire.settle();
    expect(received.length).toBe(data.length);
    expect(Buffer.from(received).equals(Buffer.from(data))).toBe(true);
  });

  it('still acknowledges every second full-sized segment of a batch at once', async () => {
    const wire = new Wire();
    const { client, received } = await connected(wire, 1500);
    const data = pattern(40 * 1448);
    client.send(data, wire.clock.now());
    const segments = wire.queues.get(B)!.length;
    expect(segments).toBe(40);
    wire.deliver(B);
    expect(wire.queues.get(A)!.filter(isPureAck).length).toBe(20);
    await wire.settle();
    expect(Buffer.from(received).equals(Buffer.from(data))).toBe(true);
  });
});
