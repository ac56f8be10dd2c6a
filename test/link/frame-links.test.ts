/**
 * The links that carry Ethernet frames over other transports, each between two stacks on real sockets on
 * loopback: a length-prefixed byte stream (QEMU -netdev stream), UDP datagrams (QEMU -netdev dgram), a
 * WebSocket (one frame per binary message, or a length-prefixed stream across messages as container2wasm's
 * c2w-net speaks it), and v86's bus. A TCP echo of 1 MiB crosses each one
 * byte-exact; the stream decoder takes any split of its input and rejects a stream of another format.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import '../../src/api/sockets-node.js';
import { openDatagramDevice } from '../../src/link/datagram/datagram-device-node.js';
import type { NetworkDevice } from '../../src/link/device.js';
import { encodeLengthPrefixed, LengthPrefixedDecoder } from '../../src/link/stream/length-prefixed-framer.js';
import { streamDevice } from '../../src/link/stream/stream-device-node.js';
import { v86Device } from '../../src/link/v86/v86-device.js';
import { webSocketDevice } from '../../src/link/websocket/websocket-device.js';
import { Stack } from '../../src/stack.js';
import { RealClock } from '../../src/time/real-clock.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

async function echoAcross(a: NetworkDevice, b: NetworkDevice): Promise<void> {
  const clock = new RealClock();
  const left = new Stack({ name: 'left', clock });
  const right = new Stack({ name: 'right', clock });
  cleanups.push(() => {
    left.close();
    right.close();
    clock.close();
  });
  left.addInterface(a, { address: '10.77.0.1/24' });
  right.addInterface(b, { address: '10.77.0.2/24' });
  right.net.createServer((socket) => socket.pipe(socket)).listen(7);
  const payload = new Uint8Array(1 << 20);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + (i >>> 8)) & 0xff;
  const echoed = await new Promise<Buffer>((resolve, reject) => {
    const socket = left.net.connect(7, '10.77.0.2', () => socket.end(payload));
    const parts: Buffer[] = [];
    socket.on('data', (d: Buffer) => parts.push(d));
    socket.on('end', () => resolve(Buffer.concat(parts)));
    socket.on('error', reject);
  });
  const sha = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');
  expect(echoed.length).toBe(payload.length);
  expect(sha(echoed)).toBe(sha(payload));
}

describe('length-prefixed frames', () => {
  test('frames split at every byte boundary come out whole and in order', () => {
    const frames = [Uint8Array.of(1, 2, 3), new Uint8Array(1500).fill(9), Uint8Array.of(42)];
    const stream = Buffer.concat(frames.map(encodeLengthPrefixed));
    for (const split of [1, 2, 3, 5, 7, 1000]) {
      const got: Uint8Array[] = [];
      const decoder = new LengthPrefixedDecoder(
        65_535,
        (f) => got.push(f),
        (m) => {
          throw new Error(m);
        },
      );
      for (let i = 0; i < stream.length; i += split) decoder.push(stream.subarray(i, i + split));
      expect(got.map((f) => Buffer.from(f).toString('hex'))).toEqual(
        frames.map((f) => Buffer.from(f).toString('hex')),
      );
    }
  });

  test('a length of 0 or above the limit is reported once and ends decoding', () => {
    const errors: string[] = [];
    const got: Uint8Array[] = [];
    const decoder = new LengthPrefixedDecoder(
      2000,
      (f) => got.push(f),
      (m) => errors.push(m),
    );
    decoder.push(Buffer.from('GET / HTTP/1.1\r\n'));
    decoder.push(encodeLengthPrefixed(Uint8Array.of(1)));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/outside 1-2000/);
    expect(got).toHaveLength(0);
  });
});

/** Both ends of a WebSocket connection on loopback (closed after the test). */
async function webSocketPair(): Promise<{ client: WebSocket; serverSide: WebSocket }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((done) => server.once('listening', () => done()));
  const accepted = new Promise<WebSocket>((done) => server.once('connection', done));
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  await new Promise<void>((done) => client.once('open', () => done()));
  const serverSide = await accepted;
  cleanups.push(() => {
    client.terminate();
    server.close();
  });
  return { client, serverSide };
}

describe('frame links between two stacks', () => {
  test('a byte stream on loopback TCP (QEMU -netdev stream)', async () => {
    const server = net.createServer();
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
    const accepted = new Promise<net.Socket>((done) => server.once('connection', done));
    const client = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
    const serverSide = await accepted;
    cleanups.push(() => {
      client.destroy();
      serverSide.destroy();
      server.close();
    });
    const a = streamDevice(client, { name: 's-a', mac: 0x02_00_00_00_00_0a });
    const b = streamDevice(serverSide, { name: 's-b', mac: 0x02_00_00_00_00_0b });
    await echoAcross(a, b);
    expect(a.counters.framesOut).toBeGreaterThan(700);
    expect(b.counters.malformedIn).toBe(0);
  });

  test('UDP datagrams on loopback (QEMU -netdev dgram), foreign senders ignored', async () => {
    const portOf = async (): Promise<number> => {
      const s = net.createServer();
      await new Promise<void>((d) => s.listen(0, '127.0.0.1', () => d()));
      const port = (s.address() as AddressInfo).port;
      await new Promise<void>((d) => s.close(() => d()));
      return port;
    };
    const pa = await portOf();
    const pb = await portOf();
    const a = await openDatagramDevice({
      name: 'd-a',
      mac: 0x02_00_00_00_01_0a,
      local: { address: '127.0.0.1', port: pa },
      remote: { address: '127.0.0.1', port: pb },
    });
    const b = await openDatagramDevice({
      name: 'd-b',
      mac: 0x02_00_00_00_01_0b,
      local: { address: '127.0.0.1', port: pb },
      remote: { address: '127.0.0.1', port: pa },
    });
    cleanups.push(() => {
      a.device.close();
      b.device.close();
    });
    await echoAcross(a.device, b.device);
    expect(a.foreignDatagrams).toBe(0);
  });

  test('a WebSocket on loopback, one frame per binary message', async () => {
    const { client, serverSide } = await webSocketPair();
    const a = webSocketDevice(client, { name: 'w-a', mac: 0x02_00_00_00_02_0a });
    const b = webSocketDevice(serverSide, { name: 'w-b', mac: 0x02_00_00_00_02_0b });
    await echoAcross(a, b);
    expect(b.counters.framesIn).toBeGreaterThan(100);
  });

  test('a WebSocket carrying a byte stream of length-prefixed frames (container2wasm c2w-net)', async () => {
    const { client, serverSide } = await webSocketPair();
    const a = webSocketDevice(client, { name: 'w-a', mac: 0x02_00_00_00_03_0a, framing: 'stream' });
    const b = webSocketDevice(serverSide, { name: 'w-b', mac: 0x02_00_00_00_03_0b, framing: 'stream' });
    await echoAcross(a, b);
    expect(b.counters.framesIn).toBeGreaterThan(100);
    expect(a.counters.malformedIn + b.counters.malformedIn).toBe(0);
  });

  test('stream framing over a WebSocket: frames split across and merged within messages, and a foreign stream', async () => {
    const sent: Uint8Array[] = [];
    const listeners: { message?: (event: { data: unknown }) => void; close?: () => void } = {};
    const fake = {
      binaryType: '',
      bufferedAmount: 0,
      readyState: 1,
      closedWith: undefined as number | undefined,
      send: (data: Uint8Array) => sent.push(data.slice()),
      close(code?: number) {
        this.closedWith = code;
      },
      addEventListener(type: 'message' | 'close', listener: never) {
        listeners[type] = listener;
      },
    };
    const device = webSocketDevice(fake, { name: 'w-f', mac: 0x02_00_00_00_04_0a, framing: 'stream' });
    const frames: number[][] = [];
    device.setReceiver((frame) => frames.push([...frame]));
    const frameOf = (n: number, fill: number) => new Uint8Array(60 + n).fill(fill);
    const wire = new Uint8Array([
      ...encodeLengthPrefixed(frameOf(0, 1)),
      ...encodeLengthPrefixed(frameOf(4, 2)),
    ]);
    // The first frame and the first 3 bytes of the second's length in one message, the rest in two more.
    for (const [from, to] of [
      [0, 67],
      [67, 100],
      [100, wire.length],
    ] as const) {
      listeners.message!({ data: wire.slice(from, to).buffer });
    }
    expect(frames).toEqual([[...frameOf(0, 1)], [...frameOf(4, 2)]]);
    // Outgoing frames carry their length in front.
    device.send(frameOf(2, 3));
    expect(sent).toEqual([encodeLengthPrefixed(frameOf(2, 3))]);
    // A length of 0 cannot be this format: counted, the link closed, nothing more read.
    listeners.message!({ data: new Uint8Array([0, 0, 0, 0, 9, 9]).buffer });
    listeners.message!({ data: encodeLengthPrefixed(frameOf(0, 4)).buffer });
    expect(device.counters.malformedIn).toBe(1);
    expect(fake.closedWith).toBe(4002);
    expect(frames).toHaveLength(2);
  });

  test("v86's network bus: net0-send from the card, net0-receive to it", async () => {
    // Two emulator buses as v86 has them (register/send of named events), wired back to back the way two
    // emulated cards on one wire would be.
    const busPair = () => {
      const events = new EventEmitter();
      return {
        register: (name: string, listener: (f: Uint8Array) => void) => events.on(name, listener),
        unregister: (name: string, listener: (f: Uint8Array) => void) => events.off(name, listener),
        send: (name: string, frame: Uint8Array) => events.emit(name, frame),
        events,
      };
    };
    const busA = busPair();
    const busB = busPair();
    // What tcpts gives the card on A is what card B transmits, and back.
    busA.events.on('net0-receive', (f: Uint8Array) => setImmediate(() => busB.send('net0-send', f)));
    busB.events.on('net0-receive', (f: Uint8Array) => setImmediate(() => busA.send('net0-send', f)));
    const a = v86Device(busA, { mac: 0x02_00_00_00_03_0a });
    const b = v86Device(busB, { mac: 0x02_00_00_00_03_0b });
    await echoAcross(a, b);
    a.close();
    expect(busA.events.listenerCount('net0-send')).toBe(0);
  });
});
