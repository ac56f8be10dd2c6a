import { createHash } from 'node:crypto';
import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { socketUpstream } from '../../src/gateway/socket-upstream-node.js';

const SIZE = 4 * 1024 * 1024;

function payload(): Buffer {
  const bytes = Buffer.alloc(SIZE);
  for (let i = 0; i < SIZE; i++) bytes[i] = (i * 7 + (i >>> 11)) & 0xff;
  return bytes;
}

describe('socketUpstream', () => {
  let server: net.Server | undefined;
  afterEach(() => server?.close());

  it('with transientChunks reads every stream into one reused buffer; paused and resumed, every byte arrives', async () => {
    const sent = payload();
    server = net.createServer((socket) => socket.end(sent));
    await new Promise<void>((done) => server!.listen(0, '127.0.0.1', done));
    const { port } = server.address() as AddressInfo;
    const upstream = socketUpstream({ transientChunks: true, echo: false });
    const buffers = new Set<ArrayBufferLike>();
    const received = createHash('sha256');
    let bytes = 0;
    let pauses = 0;
    let paused = false;
    let whilePaused = 0;
    await new Promise<void>((done, fail) => {
      const stream = upstream.openStream(
        { address: '127.0.0.1', port },
        {
          connect() {},
          data(chunk) {
            if (paused) whilePaused++;
            buffers.add(chunk.buffer);
            // Consumed during the call, as the relay does (it copies into a TCP send buffer).
            received.update(chunk);
            bytes += chunk.length;
            if (pauses < 5) {
              // Paused as a relay does when the guest's send buffer is full; reading resumes later.
              pauses++;
              paused = true;
              stream.pause();
              setTimeout(() => {
                paused = false;
                stream.resume();
              }, 5);
            }
          },
          end: () => {
            stream.end();
            done();
          },
          drain() {},
          close: (error) => {
            if (error !== undefined) fail(error);
          },
        },
      );
    });
    expect(bytes).toBe(SIZE);
    expect(received.digest('hex')).toBe(createHash('sha256').update(sent).digest('hex'));
    expect([pauses, whilePaused]).toEqual([5, 0]);
    expect(buffers.size).toBe(1);
  });
});
