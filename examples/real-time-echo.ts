/**
 * An application on tcpts in real time: an echo server and its client on a real-time stack's loopback,
 * then the same over a link between two real-time stacks (an in-process cable with 20 ms of delay each
 * way). The process ends by itself once everything is closed, as a Node program on the kernel would.
 *
 *   npx tsx examples/real-time-echo.ts
 *
 * In a project of your own, import from 'tcpts' and 'tcpts/node' instead of ../src.
 */
import { createRealTimeStack } from '../src/api/sockets-node.js';
import { MemoryLink } from '../src/link/memory-link.js';
import { RealClock } from '../src/time/real-clock.js';

/** Echoes one message from `clientNet` to a server of `serverNet` listening on `host`; resolves the reply. */
function echo(
  serverNet: ReturnType<typeof createRealTimeStack>['net'],
  clientNet: ReturnType<typeof createRealTimeStack>['net'],
  host: string,
  message: string,
): Promise<{ reply: string; ms: number }> {
  return new Promise((resolve) => {
    const server = serverNet.createServer((socket) => socket.pipe(socket));
    server.listen(0, host, () => {
      const { port } = server.address()!;
      const started = performance.now();
      const socket = clientNet.connect(port, host, () => socket.end(message));
      let reply = '';
      socket.on('data', (data) => {
        reply += data;
      });
      socket.on('close', () => {
        server.close();
        resolve({ reply, ms: performance.now() - started });
      });
    });
  });
}

// One stack, its loopback.
const local = createRealTimeStack({ name: 'local' });
const onLoopback = await echo(local.net, local.net, '127.0.0.1', 'hello over loopback');
console.log(`loopback: ${onLoopback.reply}`);

// Two stacks and a cable between them: any link works the same way (a TAP device from 'tcpts/tap' ...).
const clock = new RealClock({ unref: true });
const client = createRealTimeStack({ name: 'client', clock });
const server = createRealTimeStack({ name: 'server', clock });
const cable = new MemoryLink({
  clock,
  seed: 1,
  a: { name: 'client-eth0', mac: 0x02_00_00_00_00_01 },
  b: { name: 'server-eth0', mac: 0x02_00_00_00_00_02 },
});
cable.setImpairments('both', { delayMs: 20 });
client.addInterface(cable.a, { address: '10.0.0.1/24' });
server.addInterface(cable.b, { address: '10.0.0.2/24' });
const overLink = await echo(server.net, client.net, '10.0.0.2', 'hello over a link');
// Handshake, data, FIN exchange: at least three round trips of 40 ms.
console.log(`link: ${overLink.reply} (${overLink.ms >= 120 ? 'at least' : 'under'} 3 round trips)`);
