/**
 * TCP as WHATWG streams over a simulated link, on virtual time: echo with exact bytes, refusal, reset,
 * end-to-end backpressure (a reader that stops reading closes the TCP window and stalls the writer),
 * and a listener whose pending connections wait in the accept queue.
 */
import { describe, expect, test } from 'vitest';
import { openTcpStream, type TcpStream } from '../../src/api/streams/tcp-stream.js';
import { listenTcpStreams } from '../../src/api/streams/tcp-stream-listener.js';
import { simPair } from './helpers/sim-pair.js';

function pattern(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + (i >>> 9)) & 0xff;
  return out;
}

async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  const reader = readable.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    parts.push(value);
    total += value.length;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

async function firstConnection(listener: { connections: ReadableStream<TcpStream> }): Promise<TcpStream> {
  const reader = listener.connections.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  return value!;
}

describe('TCP web streams', () => {
  test('echo: bytes arrive exactly, FIN closes the readable, closed resolves on both sides', async () => {
    const pair = simPair();
    await pair.run(async () => {
      const listener = listenTcpStreams(pair.server, { port: 7 });
      expect([listener.localAddress, listener.localPort]).toEqual(['0.0.0.0', 7]);
      const serving = (async () => {
        const conn = await firstConnection(listener);
        expect(await conn.opened).toMatchObject({
          localAddress: '10.0.0.2',
          localPort: 7,
          remoteAddress: '10.0.0.1',
        });
        await conn.readable.pipeTo(conn.writable);
        await conn.closed;
      })();
      const client = openTcpStream(pair.client, { host: '10.0.0.2', port: 7 });
      const payload = pattern(300_000);
      const writing = (async () => {
        const writer = client.writable.getWriter();
        for (let offset = 0; offset < payload.length; offset += 7000) {
          await writer.write(payload.subarray(offset, offset + 7000));
        }
        await writer.close();
      })();
      const echoed = await readAll(client.readable);
      await writing;
      await client.closed;
      await serving;
      const opened = await client.opened;
      expect(opened).toEqual({
        localAddress: '10.0.0.1',
        localPort: opened.localPort,
        remoteAddress: '10.0.0.2',
        remotePort: 7,
      });
      expect(echoed.length).toBe(payload.length);
      expect(Buffer.from(echoed).equals(Buffer.from(payload))).toBe(true);
      listener.close();
    });
  });

  test('over IPv6: a listener on :: and a client to fd00::2 echo bytes exactly; addresses are IPv6 text', async () => {
    const pair = simPair({ family: 6 });
    await pair.run(async () => {
      const listener = listenTcpStreams(pair.server, { host: '::', port: 7 });
      expect([listener.localAddress, listener.localPort]).toEqual(['::', 7]);
      const serving = (async () => {
        const conn = await firstConnection(listener);
        expect(await conn.opened).toMatchObject({ localAddress: 'fd00::2', remoteAddress: 'fd00::1' });
        await conn.readable.pipeTo(conn.writable);
      })();
      const client = openTcpStream(pair.client, { host: 'fd00::2', port: 7 });
      const payload = pattern(50_000);
      const writing = (async () => {
        const writer = client.writable.getWriter();
        await writer.write(payload);
        await writer.close();
      })();
      const echoed = await readAll(client.readable);
      await writing;
      await serving;
      expect(await client.opened).toMatchObject({
        localAddress: 'fd00::1',
        remoteAddress: 'fd00::2',
        remotePort: 7,
      });
      expect(Buffer.from(echoed).equals(Buffer.from(payload))).toBe(true);
      listener.close();
    });
  });

  test('close() with both streams locked: queued bytes then FIN reach the peer, pending reads end', async () => {
    const pair = simPair();
    await pair.run(async () => {
      const listener = listenTcpStreams(pair.server, { port: 80 });
      const client = openTcpStream(pair.client, { host: '10.0.0.2', port: 80 });
      const server = await firstConnection(listener);
      const writer = client.writable.getWriter();
      const reader = client.readable.getReader();
      const pendingRead = reader.read();
      await writer.write(new TextEncoder().encode('last words'));
      client.close();
      expect(await pendingRead).toEqual({ value: undefined, done: true });
      await client.closed;
      await expect(writer.write(new Uint8Array(1))).rejects.toMatchObject({ code: 'EPIPE' });
      expect(new TextDecoder().decode(await readAll(server.readable))).toBe('last words');
      listener.close();
    });
  });

  test('a refused connection rejects opened and closed and errors both streams with ECONNREFUSED', async () => {
    const pair = simPair();
    await pair.run(async () => {
      const client = openTcpStream(pair.client, { host: '10.0.0.2', port: 9 });
      await expect(client.opened).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      await expect(client.closed).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      await expect(client.readable.getReader().read()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      await expect(client.writable.getWriter().write(new Uint8Array(1))).rejects.toMatchObject({
        code: 'ECONNREFUSED',
      });
    });
  });

  test('reset() sends RST: the peer readable errors with ECONNRESET', async () => {
    const pair = simPair();
    await pair.run(async () => {
      const listener = listenTcpStreams(pair.server, { port: 80 });
      const client = openTcpStream(pair.client, { host: '10.0.0.2', port: 80 });
      const server = await firstConnection(listener);
      await client.opened;
      const reading = server.readable.getReader().read();
      client.reset();
      await expect(reading).rejects.toMatchObject({ code: 'ECONNRESET' });
      await expect(server.closed).rejects.toMatchObject({ code: 'ECONNRESET' });
      await expect(client.closed).rejects.toMatchObject({ code: 'ECONNABORTED' });
      listener.close();
    });
  });

  test('backpressure: an idle reader closes the TCP window and stalls writes until it reads', async () => {
    // Fixed buffers: with autotuning the window shut by the idle reader is the same, but where it shuts
    // depends on how far the buffer grew while the reader still read.
    const pair = simPair({ tcp: { receiveBufferAutotuning: false, sendBufferAutotuning: false } });
    await pair.run(async () => {
      const listener = listenTcpStreams(pair.server, { port: 80, readableHighWaterMark: 16 * 1024 });
      const client = openTcpStream(pair.client, { host: '10.0.0.2', port: 80 });
      const server = await firstConnection(listener);
      const writer = client.writable.getWriter();
      const chunk = pattern(8 * 1024);
      let accepted = 0;
      let stalled = false;
      // Write until one write has not completed after a full second of virtual time.
      while (!stalled) {
        const write = writer.write(chunk).then(() => true);
        const done = await Promise.race([write, pair.delay(1000).then(() => false)]);
        if (done) accepted += chunk.length;
        else stalled = true;
      }
      // Everything the reader does not hold is in TCP buffers: the receiver's window is shut.
      const receiverInfo = server.info()!;
      expect(receiverInfo.receiveWindow).toBe(0);
      expect(receiverInfo.receiveQueued).toBeGreaterThan(0);
      expect(client.info()!.sendWindow).toBe(0);
      expect(accepted).toBeGreaterThanOrEqual(64 * 1024);
      // Reading resumes the flow; the stalled write completes and every byte arrives in order.
      const reading = readAll(server.readable);
      await writer.ready;
      await writer.close();
      const received = await reading;
      expect(received.length).toBe(accepted + chunk.length);
      for (let offset = 0; offset < received.length; offset += chunk.length) {
        expect(Buffer.from(received.subarray(offset, offset + chunk.length)).equals(Buffer.from(chunk))).toBe(
          true,
        );
      }
      listener.close();
    });
  });

  test('connections not yet taken wait in the accept queue; closing the listener resets them', async () => {
    const pair = simPair();
    await pair.run(async () => {
      const listener = listenTcpStreams(pair.server, { port: 80, backlog: 2 });
      const clients = [0, 1].map(() => openTcpStream(pair.client, { host: '10.0.0.2', port: 80 }));
      await Promise.all(clients.map((c) => c.opened));
      // The third SYN finds the accept queue full and is dropped (its SYN will be retransmitted).
      clients.push(openTcpStream(pair.client, { host: '10.0.0.2', port: 80 }));
      await pair.delay(100);
      const third = await Promise.race([
        clients[2]!.opened.then(() => 'open'),
        pair.delay(1).then(() => 'waiting'),
      ]);
      expect(third).toBe('waiting');
      const first = await firstConnection(listener);
      expect((await first.opened).remotePort).toBe((await clients[0]!.opened).localPort);
      listener.close();
      await expect(clients[1]!.closed).rejects.toMatchObject({ code: 'ECONNRESET' });
      first.close();
    });
  });
});
