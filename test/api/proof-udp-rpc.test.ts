/**
 * A UDP request/response protocol with retries over `stack.dgram`, on a link with 2% loss and 20 ms
 * delay each way (seeded). The client keeps up to 16 requests in flight, retransmits a request whose
 * answer has not come within its timeout (doubling it each time), and matches answers by id; the server
 * answers retransmissions from a cache so each request is executed exactly once. A request to a port
 * with no server fails fast with ECONNREFUSED (ICMP port unreachable on a connected socket) instead of
 * retrying. Timers run on the simulation's clock.
 */
import { createHash } from 'node:crypto';
import { expect, test } from 'vitest';
import { createDgramApi } from '../../src/api/dgram/dgram-api.js';
import type { Socket as DgramSocket } from '../../src/api/dgram/socket.js';
import { simPair } from './helpers/sim-pair.js';

const REQUESTS = 500;
const WINDOW = 16;
const INITIAL_TIMEOUT_MS = 100;
const MAX_ATTEMPTS = 8;

/** Request: u32 id + payload. Answer: u32 id + sha256(payload). */
function encodeRequest(id: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + payload.length);
  out.writeUInt32BE(id, 0);
  payload.copy(out, 4);
  return out;
}

function payloadFor(id: number): Buffer {
  const size = 16 + ((id * 131) % 1400);
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) out[i] = (id * 17 + i) & 0xff;
  return out;
}

function digest(payload: Uint8Array): Buffer {
  return createHash('sha256').update(payload).digest();
}

/** The client side of the protocol: call() resolves with the answer or rejects after MAX_ATTEMPTS. */
class RpcClient {
  retransmissions = 0;
  private readonly pending = new Map<
    number,
    { resolve: (answer: Buffer) => void; reject: (e: Error) => void }
  >();
  constructor(
    private readonly socket: DgramSocket,
    private readonly setTimer: (ms: number, callback: () => void) => { cancel(): void },
  ) {
    socket.on('message', (msg: Buffer) => {
      if (msg.length !== 36) return;
      const waiter = this.pending.get(msg.readUInt32BE(0));
      waiter?.resolve(msg.subarray(4));
    });
    socket.on('error', (error: Error) => {
      // ICMP port unreachable: nobody will ever answer, fail everything in flight.
      for (const waiter of this.pending.values()) waiter.reject(error);
    });
  }

  call(id: number, payload: Buffer): Promise<Buffer> {
    const request = encodeRequest(id, payload);
    return new Promise<Buffer>((resolve, reject) => {
      let attempt = 0;
      let timer: { cancel(): void } | undefined;
      const done = () => {
        timer?.cancel();
        this.pending.delete(id);
      };
      const send = () => {
        attempt++;
        if (attempt > MAX_ATTEMPTS) {
          done();
          reject(Object.assign(new Error(`request ${id}: no answer`), { code: 'ETIMEDOUT' }));
          return;
        }
        if (attempt > 1) this.retransmissions++;
        this.socket.send(request);
        timer = this.setTimer(INITIAL_TIMEOUT_MS * 2 ** (attempt - 1), send);
      };
      this.pending.set(id, {
        resolve: (answer) => {
          done();
          resolve(answer);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      });
      send();
    });
  }
}

test('UDP request/response with retries: 500 requests over 2% loss, each executed once, all answered', async () => {
  const pair = simPair({ seed: 99, delayMs: 20, impairments: { loss: 0.02 } });
  const clock = pair.network.clock;
  const serverDgram = createDgramApi(pair.server);
  const clientDgram = createDgramApi(pair.client);

  const outcome = await pair.run(async () => {
    // Server: execute each (client, id) once; answer retransmissions from the cache.
    const executed = new Map<number, number>();
    const answers = new Map<string, Buffer>();
    let datagramsIn = 0;
    const server = serverDgram.createSocket('udp4', (msg, rinfo) => {
      datagramsIn++;
      const id = msg.readUInt32BE(0);
      const key = `${rinfo.address}:${rinfo.port}/${id}`;
      let answer = answers.get(key);
      if (answer === undefined) {
        executed.set(id, (executed.get(id) ?? 0) + 1);
        answer = Buffer.concat([msg.subarray(0, 4), digest(msg.subarray(4))]);
        answers.set(key, answer);
      }
      server.send(answer, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => server.bind(5300, pair.serverAddress, resolve));

    const socket = clientDgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.connect(5300, pair.serverAddress, resolve));
    const rpc = new RpcClient(socket, (ms, callback) => clock.setTimer(ms, callback));
    const results: Array<Buffer | undefined> = new Array(REQUESTS);
    let nextId = 0;
    const worker = async () => {
      while (nextId < REQUESTS) {
        const id = nextId++;
        results[id] = await rpc.call(id, payloadFor(id));
      }
    };
    await Promise.all(Array.from({ length: WINDOW }, worker));
    socket.close();
    server.close();
    return { results, executed, datagramsIn, retransmissions: rpc.retransmissions, virtualMs: pair.now() };
  });

  console.log(
    `udp rpc: ${REQUESTS} requests in ${outcome.virtualMs.toFixed(0)} ms virtual, ` +
      `${outcome.retransmissions} retransmissions, ${outcome.datagramsIn} requests received`,
  );
  for (let id = 0; id < REQUESTS; id++) {
    expect(outcome.results[id]!.equals(digest(payloadFor(id)))).toBe(true);
    expect(outcome.executed.get(id)).toBe(1);
  }
  // Loss happened and was repaired by retransmission; duplicates reached the server and were absorbed.
  expect(outcome.retransmissions).toBeGreaterThan(0);
  expect(outcome.datagramsIn).toBeGreaterThan(REQUESTS);
});

test('UDP request to a port with no server fails fast with ECONNREFUSED instead of retrying', async () => {
  const pair = simPair({ seed: 3, delayMs: 20 });
  const clientDgram = createDgramApi(pair.client);
  await pair.run(async () => {
    const socket = clientDgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.connect(5301, pair.serverAddress, resolve));
    const rpc = new RpcClient(socket, (ms, callback) => pair.network.clock.setTimer(ms, callback));
    const start = pair.now();
    await expect(rpc.call(1, payloadFor(1))).rejects.toMatchObject({
      code: 'ECONNREFUSED',
      syscall: 'recvmsg',
    });
    // ARP for the server (one round trip, 40 ms), then the datagram and the ICMP answer (another 40 ms):
    // the failure is known before the first retry would have gone out (100 ms).
    expect(pair.now() - start).toBe(80);
    expect(rpc.retransmissions).toBe(0);
    socket.close();
  });
});
