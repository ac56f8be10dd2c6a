/**
 * The examples of docs/sockets.md, run as written (on a simulated network, on virtual time), so the
 * documentation cannot drift from the code.
 */
import * as http from 'node:http';
import { expect, test } from 'vitest';
import { settleOnVirtualTime } from '../../src/api/sockets-node.js';
import { openTcpStream } from '../../src/api/streams/tcp-stream.js';
import { listenTcpStreams } from '../../src/api/streams/tcp-stream-listener.js';
import { SimulatedNetwork } from '../../src/sim/network.js';

function docsNetwork() {
  const network = new SimulatedNetwork({ seed: 1 });
  const client = network.host('client', '10.0.0.1/24');
  const server = network.host('server', '10.0.0.2/24');
  network.link(client, server, { delayMs: 10 });
  return { network, client, server };
}

test('docs: net echo', async () => {
  const { network, client, server } = docsNetwork();
  const result = await settleOnVirtualTime(network.clock, async () => {
    server.net.createServer((socket) => socket.pipe(socket)).listen(7); // echo
    const socket = client.net.connect(7, '10.0.0.2', () => socket.end('hello'));
    const received: string[] = [];
    socket.on('data', (data) => received.push(`${data}`));
    const hadError = await new Promise((resolve) => socket.on('close', resolve));
    return { received, hadError };
  });
  expect(result).toEqual({ received: ['hello'], hadError: false });
});

test('docs: Node http over stack.net', async () => {
  const { network, client, server } = docsNetwork();
  const body = await settleOnVirtualTime(network.clock, async () => {
    const web = http.createServer((_req, res) => res.end('hi'));
    server.net.createServer((socket) => web.emit('connection', socket)).listen(80);
    return new Promise<string>((resolve) => {
      http.get(
        { host: '10.0.0.2', port: 80, createConnection: (opts) => client.net.createConnection(opts) },
        (res) => {
          let text = '';
          res.on('data', (chunk) => {
            text += chunk;
          });
          res.on('end', () => resolve(text));
        },
      );
    });
  });
  expect(body).toBe('hi');
});

test('docs: dgram echo', async () => {
  const { network, client, server } = docsNetwork();
  const result = await settleOnVirtualTime(network.clock, async () => {
    const echo = server.dgram.createSocket('udp4', (msg, rinfo) => echo.send(msg, rinfo.port, rinfo.address));
    echo.bind(7);
    const socket = client.dgram.createSocket('udp4');
    const message = new Promise<string>((resolve) =>
      socket.on('message', (msg, rinfo) => resolve(`${msg} from ${rinfo.address}:${rinfo.port}`)),
    );
    const sent = new Promise<[Error | null, number]>((resolve) =>
      socket.send('ping', 7, '10.0.0.2', (error, bytes) => resolve([error, bytes])),
    );
    return { sent: await sent, message: await message };
  });
  expect(result).toEqual({ sent: [null, 4], message: 'ping from 10.0.0.2:7' });
});

test('docs: web streams echo', async () => {
  const { network, client, server } = docsNetwork();
  const text = await settleOnVirtualTime(network.clock, async () => {
    const listener = listenTcpStreams(server, { port: 7 });
    (async () => {
      for (const reader = listener.connections.getReader(); ; ) {
        const { value: conn, done } = await reader.read();
        if (done) break;
        conn.readable.pipeTo(conn.writable);
      }
    })();
    const conn = openTcpStream(client, { host: '10.0.0.2', port: 7 });
    const writer = conn.writable.getWriter();
    await writer.write(new TextEncoder().encode('hello'));
    await writer.close(); // FIN after the data
    const { value } = await conn.readable.getReader().read();
    await conn.closed; // both directions done
    listener.close();
    return new TextDecoder().decode(value);
  });
  expect(text).toBe('hello');
});
