/** Small helpers shared by the link tests: numbered frames and a two-ended link that logs deliveries. */
import type { LinkImpairments } from '../../src/link/impairments.js';
import { MemoryLink, type MemoryLinkOptions } from '../../src/link/memory-link.js';
import { VirtualClock } from '../../src/time/virtual-clock.js';
import type { Tracer } from '../../src/trace/events.js';
import { writeMac } from '../../src/wire/address.js';
import { MAC_A, MAC_B } from './sample-frames.js';

/** An Ethernet frame carrying `seq` in the first four payload bytes; `payloadLength` >= 4. */
export function numberedFrame(seq: number, payloadLength = 100, src = MAC_A, dst = MAC_B): Uint8Array {
  const frame = new Uint8Array(14 + payloadLength);
  writeMac(frame, 0, dst);
  writeMac(frame, 6, src);
  frame[12] = 0x08;
  frame[13] = 0x00;
  new DataView(frame.buffer).setUint32(14, seq);
  for (let i = 18; i < frame.length; i++) frame[i] = (i * 31 + seq) & 0xff;
  return frame;
}

export function seqOf(frame: Uint8Array): number {
  return new DataView(frame.buffer, frame.byteOffset).getUint32(14);
}

export interface Delivery {
  time: number;
  seq: number;
  frame: Uint8Array;
}

export interface TestLink {
  clock: VirtualClock;
  link: MemoryLink;
  /** Frames received by end b (sent a->b) and by end a (sent b->a). */
  atB: Delivery[];
  atA: Delivery[];
}

export function makeLink(
  options: {
    seed?: number | string;
    impairments?: LinkImpairments;
    aToB?: LinkImpairments;
    bToA?: LinkImpairments;
    tracer?: Tracer;
    mtuA?: number;
    mtuB?: number;
    checksumOffload?: boolean;
  } = {},
): TestLink {
  const clock = new VirtualClock();
  const linkOptions: MemoryLinkOptions = {
    clock,
    seed: options.seed ?? 1,
    name: 'test-link',
    a: { name: 'a', mac: MAC_A, mtu: options.mtuA },
    b: { name: 'b', mac: MAC_B, mtu: options.mtuB },
    impairments: options.impairments,
    aToB: options.aToB,
    bToA: options.bToA,
    tracer: options.tracer,
    checksumOffload: options.checksumOffload,
  };
  const link = new MemoryLink(linkOptions);
  const atA: Delivery[] = [];
  const atB: Delivery[] = [];
  link.a.setReceiver((frame) => atA.push({ time: clock.now(), seq: seqOf(frame), frame }));
  link.b.setReceiver((frame) => atB.push({ time: clock.now(), seq: seqOf(frame), frame }));
  return { clock, link, atA, atB };
}

/** Sends `count` numbered frames a->b, one every `intervalMs`, and runs the clock until all is quiet. */
export function sendStream(t: TestLink, count: number, intervalMs: number, payloadLength = 100): void {
  for (let i = 0; i < count; i++) {
    t.clock.setTimerAt(i * intervalMs, () => t.link.a.send(numberedFrame(i, payloadLength)));
  }
  const result = t.clock.runUntilIdle({ maxEvents: 10 * count + 1000 });
  if (result.reason !== 'idle') throw new Error(`link did not go idle: ${result.reason}`);
}

export interface PcapRecord {
  seconds: number;
  fraction: number;
  capturedLength: number;
  originalLength: number;
  data: Uint8Array;
}

/** Reads the records of a little-endian classic pcap file (enough to check what the writer wrote). */
export function readPcapRecords(bytes: Uint8Array): PcapRecord[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: PcapRecord[] = [];
  let offset = 24;
  while (offset < bytes.length) {
    const capturedLength = view.getUint32(offset + 8, true);
    records.push({
      seconds: view.getUint32(offset, true),
      fraction: view.getUint32(offset + 4, true),
      capturedLength,
      originalLength: view.getUint32(offset + 12, true),
      data: bytes.slice(offset + 16, offset + 16 + capturedLength),
    });
    offset += 16 + capturedLength;
  }
  return records;
}

/** Bytes of a slab of MTU-sized frames in link/frame-allocator.ts (RESIDENT_SLAB_BYTES). */
const MTU_SLAB_BYTES = 256 * 1024;

/**
 * Whether two MTU-sized frames from allocateFrame were carved from one slab: slabs carved in the checksum
 * memory all share its buffer, one slab per 256 KiB of it from its start.
 */
export function sameSlab(a: Uint8Array, b: Uint8Array): boolean {
  return (
    a.buffer === b.buffer &&
    Math.floor(a.byteOffset / MTU_SLAB_BYTES) === Math.floor(b.byteOffset / MTU_SLAB_BYTES)
  );
}

/** How many slabs the MTU-sized `frames` were carved from. */
export function slabCount(frames: readonly Uint8Array[]): number {
  const firsts: Uint8Array[] = [];
  for (const frame of frames) if (!firsts.some((first) => sameSlab(first, frame))) firsts.push(frame);
  return firsts.length;
}
