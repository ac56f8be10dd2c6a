/**
 * The TAP device's side of offload, byte for byte, against a scripted stand-in for the kernel: the
 * virtio-net header read before every received frame (what it tells the stack), the header written before
 * every sent frame (partial checksums, TSO), headroom versus copies, the send queue with headers, and the
 * negotiation's fallbacks when the kernel refuses an ioctl. The real kernel's view is in
 * test/interop/offload.test.ts.
 */

import { openSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { FrameTransmitOptions, ReceivedFrameInfo } from '../../src/link/device.js';
import type { NativeHelper, PollCallback, PollHandle } from '../../src/link/tap/native-helper.js';
import { negotiateOffload } from '../../src/link/tap/open-tap.js';
import { TapDevice, type TapVirtioHeaderParameters } from '../../src/link/tap/tap-device.js';

const EAGAIN = 11;
const EINVAL = 22;
const TUNSETOFFLOAD = 0x400454d0;
const TUNSETVNETHDRSZ = 0x400454d8;

class ScriptedKernel implements NativeHelper {
  readonly version = 'scripted';
  readonly errno = { EAGAIN, EINTR: 4, EIO: 5, EBADFD: 77, ENODEV: 19 };
  readonly incoming: Uint8Array[] = [];
  readonly writeFailures: number[] = [];
  readonly written: Uint8Array[] = [];
  /** ioctl calls: [request, value or buffer copy]. */
  readonly ioctls: [number, number | number[]][] = [];
  /** ioctl results by request; a function gets the value passed by value. */
  readonly refuse = new Map<number, (value: number) => boolean>();
  private callback: PollCallback | undefined;

  read(_fd: number, into: Uint8Array, length: number): number {
    const next = this.incoming.shift();
    if (next === undefined) return -EAGAIN;
    into.set(next.subarray(0, Math.min(length, next.length)));
    return next.length;
  }

  write(_fd: number, from: Uint8Array, length: number): number {
    const failure = this.writeFailures.shift();
    if (failure !== undefined && failure !== 0) return -failure;
    this.written.push(from.slice(0, length));
    return length;
  }

  ioctlBuffer(_fd: number, request: number, arg: Uint8Array): number {
    this.ioctls.push([request, [...arg]]);
    return this.refuse.get(request)?.(0) ? -EINVAL : 0;
  }

  ioctlValue(_fd: number, request: number, value: number): number {
    this.ioctls.push([request, value]);
    return this.refuse.get(request)?.(value) ? -EINVAL : 0;
  }

  socket(): number {
    return -EINVAL;
  }

  close(): number {
    return 0;
  }

  poll(_fd: number, _interest: unknown, callback: PollCallback): PollHandle {
    this.callback = callback;
    return {
      start: (_next, cb) => {
        this.callback = cb;
      },
      stop: () => {},
      close: () => {},
      ref: () => {},
      unref: () => {},
    };
  }

  errnoName(errno: number): string {
    return `E${errno}`;
  }

  async ready(events: { readable?: boolean; writable?: boolean }): Promise<void> {
    this.callback!(0, { readable: false, writable: false, disconnect: false, ...events });
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const devices: TapDevice[] = [];
afterEach(() => {
  for (const device of devices.splice(0)) device.close();
});

const V1_HEADER: TapVirtioHeaderParameters = {
  length: 12,
  littleEndian: true,
  receiveChecksum: true,
  receiveLargeTcp: true,
  receiveLargeTcp6: true,
};

function makeDevice(kernel: ScriptedKernel, virtioHeader?: TapVirtioHeaderParameters): TapDevice {
  const device = new TapDevice({
    native: kernel,
    fd: openSync('/dev/null', 'r'),
    name: 'tap-test',
    mtu: 1500,
    mac: 0x02_00_00_00_00_02,
    kernelMac: 0x02_00_00_00_00_01,
    created: true,
    sendQueueLimit: 4,
    receiveBudget: 256,
    tracer: undefined,
    clock: undefined,
    virtioHeader,
  });
  devices.push(device);
  return device;
}

/** An Ethernet + IPv4 + TCP frame (20-byte IP header, `tcpHeader`-byte TCP header) of `length` bytes. */
function tcpFrame(length: number, tcpHeader = 32, protocol = 6): Uint8Array {
  const frame = new Uint8Array(length);
  frame[12] = 0x08;
  frame[14] = 0x45;
  const ipLength = length - 14;
  frame[16] = ipLength >>> 8;
  frame[17] = ipLength & 0xff;
  frame[20] = 0x40; // DF
  frame[23] = protocol;
  frame[34 + 12] = (tcpHeader / 4) << 4;
  for (let i = 34 + tcpHeader; i < length; i++) frame[i] = i & 0xff;
  return frame;
}

/** An Ethernet + IPv6 + TCP frame (`tcpHeader`-byte TCP header) of `length` bytes, next header `next`. */
function tcp6Frame(length: number, tcpHeader = 32, next = 6): Uint8Array {
  const frame = new Uint8Array(length);
  frame[12] = 0x86;
  frame[13] = 0xdd;
  frame[14] = 0x60;
  const payloadLength = length - 14 - 40;
  frame[18] = payloadLength >>> 8;
  frame[19] = payloadLength & 0xff;
  frame[20] = next;
  frame[21] = 64;
  frame[54 + 12] = (tcpHeader / 4) << 4;
  for (let i = 54 + tcpHeader; i < length; i++) frame[i] = i & 0xff;
  return frame;
}

/** `frame` placed in a buffer with `headroom` bytes before it (filled with 0xee). */
function withHeadroom(frame: Uint8Array, headroom: number): Uint8Array {
  const buffer = new Uint8Array(headroom + frame.length).fill(0xee);
  buffer.set(frame, headroom);
  return buffer.subarray(headroom);
}

function options(partial: Partial<FrameTransmitOptions>): FrameTransmitOptions {
  return { checksumStart: 0, checksumOffset: 0, segmentSize: 0, headroom: 0, ...partial };
}

describe('TapDevice with virtio-net headers: receiving', () => {
  it('strips the header and tells the receiver what it said, for large and plain frames', async () => {
    const kernel = new ScriptedKernel();
    const device = makeDevice(kernel, V1_HEADER);
    expect(device.offload).toEqual({
      transmitChecksum: true,
      tcpSegmentationMax: 65535,
      tcp6SegmentationMax: 65535,
      headroom: 12,
    });
    const seen: [number, number, ReceivedFrameInfo][] = [];
    device.setReceiver((frame, info) => seen.push([frame.length, frame[14]!, { ...info! }]));
    // NEEDS_CSUM + GSO TCPV4, hdr_len 66, gso_size 1448 (0x05a8), csum_start 34, csum_offset 16.
    const large = new Uint8Array(12 + 14 + 64000);
    large.set([0x01, 0x01, 66, 0, 0xa8, 0x05, 34, 0, 16, 0, 0, 0]);
    large[12 + 14] = 0x45;
    // DATA_VALID, no GSO.
    const verified = new Uint8Array(12 + 60);
    verified.set([0x02, 0x00]);
    verified[12 + 14] = 0x46;
    // All zeros: a plain frame with a complete checksum.
    const plain = new Uint8Array(12 + 42);
    plain[12 + 14] = 0x47;
    kernel.incoming.push(large, verified, plain);

    await kernel.ready({ readable: true });

    expect(seen).toEqual([
      [64014, 0x45, { checksumTrusted: true, segmentSize: 1448 }],
      [60, 0x46, { checksumTrusted: true, segmentSize: 0 }],
      [42, 0x47, { checksumTrusted: false, segmentSize: 0 }],
    ]);
    expect(device.stats).toMatchObject({
      framesReceived: 3,
      bytesReceived: 64014 + 60 + 42,
      largeFramesReceived: 1,
      trustedChecksumFrames: 2,
      framesTruncated: 0,
    });
  });

  it('aligns the IP header after a 12- or a 10-byte header on 8 bytes', async () => {
    for (const length of [12, 10]) {
      const kernel = new ScriptedKernel();
      const device = makeDevice(kernel, { ...V1_HEADER, length });
      const offsets: number[] = [];
      device.setReceiver((frame) => offsets.push((frame.byteOffset + 14) % 8));
      kernel.incoming.push(new Uint8Array(length + 60), new Uint8Array(length + 1514));
      await kernel.ready({ readable: true });
      expect(offsets).toEqual([0, 0]);
    }
  });

  it('drops a read shorter than the header, and one beyond a 64 KiB packet', async () => {
    const kernel = new ScriptedKernel();
    const device = makeDevice(kernel, V1_HEADER);
    let delivered = 0;
    device.setReceiver(() => delivered++);
    kernel.incoming.push(new Uint8Array(8), new Uint8Array(12 + 14 + 4 + 65535 + 1), new Uint8Array(12 + 60));
    await kernel.ready({ readable: true });
    expect(delivered).toBe(1);
    expect(device.stats).toMatchObject({ framesMalformed: 1, framesTruncated: 1 });
  });

  it('without the header, frames and readers are exactly as before: no info argument', async () => {
    const kernel = new ScriptedKernel();
    const device = makeDevice(kernel);
    expect(device.offload).toBeUndefined();
    expect(device.offloadStatus).toEqual({
      enabled: false,
      headerLength: 0,
      receiveChecksum: false,
      receiveLargeTcp: false,
      receiveLargeTcp6: false,
    });
    const args: number[] = [];
    device.setReceiver((...received: unknown[]) => args.push(received.length));
    kernel.incoming.push(new Uint8Array(60));
    await kernel.ready({ readable: true });
    expect(args).toEqual([1]);
  });
});

describe('TapDevice with virtio-net headers: sending', () => {
  it('writes a TSO packet as header + frame from the headroom, without copying', () => {
    const kernel = new ScriptedKernel();
    const device = makeDevice(kernel, V1_HEADER);
    const frame = withHeadroom(tcpFrame(14 + 20 + 32 + 8000), 12);
    device.send(frame, options({ checksumStart: 34, checksumOffset: 16, segmentSize: 1448, headroom: 12 }));
    expect(kernel.written).toHaveLength(1);
    const wire = kernel.written[0]!;
    // flags NEEDS_CSUM, gso TCPV4, hdr_len 66, gso_size 1448, csum_start 34, csum_offset 16, num_buffers 0.
    expect([...wire.subarray(0, 12)]).toEqual([1, 1, 66, 0, 0xa8, 0x05, 34, 0, 16, 0, 0, 0]);
    expect(wire.subarray(12)).toEqual(frame);
    expect(device.stats).toMatchObject({
      framesSent: 1,
      bytesSent: frame.length,
      largeFramesSent: 1,
      headerCopies: 0,
    });
  });

  it('writes an IPv6 TSO packet with gso_type TCPV6, its headers (Ethernet, IPv6, TCP) as hdr_len', () => {
    const kernel = new ScriptedKernel();
    const device = makeDevice(kernel, V1_HEADER);
    const frame = withHeadroom(tcp6Frame(14 + 40 + 32 + 60000), 12);
    device.send(frame, options({ checksumStart: 54, checksumOffset: 16, segmentSize: 1428, headroom: 12 }));
    // flags NEEDS_CSUM, gso TCPV6 (4), hdr_len 86, gso_size 1428 (0x0594), csum_start 54, csum_offset 16.
    expect([...kernel.written[0]!.subarray(0, 12)]).toEqual([1, 4, 86, 0, 0x94, 0x05, 54, 0, 16, 0, 0, 0]);
    expect(kernel.written[0]!.subarray(12)).toEqual(frame);
    expect(device.stats).toMatchObject({ framesSent: 1, largeFramesSent: 1, headerCopies: 0 });
  });

  it('refuses an IPv6 TSO request whose TCP header does not follow the fixed header', () => {
    const kernel = new ScriptedKernel();
    const device = makeDevice(kernel, V1_HEADER);
    // A Hop-by-Hop header (next header 0) before TCP: the kernel would refuse it with EINVAL.
    device.send(
      tcp6Frame(14 + 40 + 3000, 32, 0),
      options({ checksumStart: 54, checksumOffset: 16, segmentSize: 1428 }),
    );
    // The checksum start not at the TCP header.
    device.send(
      tcp6Frame(14 + 40 + 3000),
      options({ checksumStart: 34, checksumOffset: 16, segmentSize: 1428 }),
    );
    expect(kernel.written).toHaveLength(0);
    expect(device.stats).toMatchObject({ sendErrors: 2 });
  });

  it('writes a partial-checksum frame with NEEDS_CSUM and no GSO; a plain one with a zero header', () => {
    const kernel = new ScriptedKernel();
    const device = makeDevice(kernel, V1_HEADER);
    const udp = withHeadroom(tcpFrame(14 + 20 + 100, 32, 17), 12);
    device.send(udp, options({ checksumStart: 34, checksumOffset: 6, headroom: 12 }));
    const arp = new Uint8Array(42).fill(7);
    device.send(arp);
    expect([...kernel.written[0]!.subarray(0, 12)]).toEqual([1, 0, 42, 0, 0, 0, 34, 0, 6, 0, 0, 0]);
    expect(kernel.written[1]).toEqual(Uint8Array.from([...new Array(12).fill(0), ...arp]));
    // The frame without headroom went behind a copy.
    expect(device.stats).toMatchObject({ framesSent: 2, largeFramesSent: 0, headerCopies: 1 });
  });

  it('writes a 10-byte header when that is what the descriptor uses', () => {
    const kernel = new ScriptedKernel();
    const device = makeDevice(kernel, { ...V1_HEADER, length: 10 });
    const frame = withHeadroom(tcpFrame(14 + 20 + 20 + 3000, 20), 10);
    device.send(frame, options({ checksumStart: 34, checksumOffset: 16, segmentSize: 1460, headroom: 10 }));
    expect([...kernel.written[0]!.subarray(0, 10)]).toEqual([1, 1, 54, 0, 0xb4, 0x05, 34, 0, 16, 0]);
    expect(kernel.written[0]!.length).toBe(10 + frame.length);
  });

  it('queues header + frame on EAGAIN, copying the scratch buffer before it is reused', async () => {
    const kernel = new ScriptedKernel();
    const device = makeDevice(kernel, V1_HEADER);
    kernel.writeFailures.push(EAGAIN);
    const first = new Uint8Array(60).fill(1);
    const second = new Uint8Array(60).fill(2);
    device.send(first);
    device.send(second);
    expect(device.sendQueueLength).toBe(2);
    await kernel.ready({ writable: true });
    expect(kernel.written.map((w) => [w.length, w[0], w[12]])).toEqual([
      [72, 0, 1],
      [72, 0, 2],
    ]);
    expect(device.stats).toMatchObject({ framesSent: 2, bytesSent: 120, sendBlocked: 1 });
  });

  it('refuses a TSO request that is not an IPv4 TCP packet, and one beyond 64 KiB', () => {
    const kernel = new ScriptedKernel();
    const device = makeDevice(kernel, V1_HEADER);
    const udp = tcpFrame(14 + 20 + 3000, 32, 17);
    device.send(udp, options({ checksumStart: 34, checksumOffset: 16, segmentSize: 1448 }));
    const noChecksum = tcpFrame(14 + 20 + 3000);
    device.send(noChecksum, options({ segmentSize: 1448 }));
    const huge = tcpFrame(14 + 65536);
    device.send(huge, options({ checksumStart: 34, checksumOffset: 16, segmentSize: 1448 }));
    // Beyond the MTU without TSO.
    device.send(tcpFrame(14 + 1501));
    expect(kernel.written).toHaveLength(0);
    expect(device.stats).toMatchObject({ sendErrors: 2, framesOversize: 2 });
  });

  it('without the header, offload requests are ignored and the frame is written as it is', () => {
    const kernel = new ScriptedKernel();
    const device = makeDevice(kernel);
    const frame = tcpFrame(100);
    device.send(frame, options({ checksumStart: 34, checksumOffset: 16 }));
    expect(kernel.written).toEqual([frame]);
  });
});

describe('offload negotiation', () => {
  it('asks for 12-byte headers and checksum + TSO4 + TSO6 offload', () => {
    const kernel = new ScriptedKernel();
    expect(negotiateOffload(kernel, 3)).toEqual(V1_HEADER);
    expect(kernel.ioctls).toEqual([
      [TUNSETVNETHDRSZ, [12, 0, 0, 0]],
      [TUNSETOFFLOAD, 0x07],
    ]);
  });

  it('falls back to IPv4 TSO alone when the kernel refuses TSO6', () => {
    const kernel = new ScriptedKernel();
    kernel.refuse.set(TUNSETOFFLOAD, (flags) => (flags & 0x04) !== 0);
    expect(negotiateOffload(kernel, 3)).toEqual({
      ...V1_HEADER,
      receiveLargeTcp6: false,
      reason: 'TUNSETOFFLOAD refused TSO6: the kernel sends IPv6 frames of at most the MTU',
    });
    expect(kernel.ioctls.slice(1)).toEqual([
      [TUNSETOFFLOAD, 0x07],
      [TUNSETOFFLOAD, 0x03],
    ]);
  });

  it('falls back to checksum offload only, then to none, and to 10-byte headers', () => {
    const kernel = new ScriptedKernel();
    kernel.refuse.set(TUNSETOFFLOAD, (flags) => (flags & 0x02) !== 0);
    expect(negotiateOffload(kernel, 3)).toEqual({
      ...V1_HEADER,
      receiveLargeTcp: false,
      receiveLargeTcp6: false,
      reason: 'TUNSETOFFLOAD refused TSO4: the kernel sends frames of at most the MTU',
    });

    const stubborn = new ScriptedKernel();
    stubborn.refuse.set(TUNSETOFFLOAD, (flags) => flags !== 0);
    stubborn.refuse.set(TUNSETVNETHDRSZ, () => true);
    expect(negotiateOffload(stubborn, 3)).toEqual({
      length: 10,
      littleEndian: true,
      receiveChecksum: false,
      receiveLargeTcp: false,
      receiveLargeTcp6: false,
      reason:
        'TUNSETVNETHDRSZ refused: 10-byte headers; TUNSETOFFLOAD refused: the kernel sends plain frames',
    });
    expect(stubborn.ioctls.map(([request, value]) => [request.toString(16), value])).toEqual([
      [TUNSETVNETHDRSZ.toString(16), [12, 0, 0, 0]],
      [TUNSETOFFLOAD.toString(16), 0x07],
      [TUNSETOFFLOAD.toString(16), 0x03],
      [TUNSETOFFLOAD.toString(16), 0x01],
      [TUNSETOFFLOAD.toString(16), 0x00],
    ]);
  });
});
