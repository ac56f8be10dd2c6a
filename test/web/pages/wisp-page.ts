/**
 * The page of the WISP browser test: tcpts in the page is a guest and its gateway, the gateway's upstream
 * a WISP client on the page's WebSocket. `window.tcptsWisp.fetchThroughGateway` downloads from an HTTP
 * server on the host through `tcpts wisp`; `window.tcptsWisp.inbound` hands a stream made by the page to
 * a server on the guest (inbound forwarding). Built by esbuild for the browser: only tcpts's browser entry.
 */
import {
  Gateway,
  listenTcpStreams,
  MemoryLink,
  RealClock,
  Stack,
  socketsApi,
  WispClient,
  wispUpstream,
} from '../../../src/browser.js';

async function setUp(wispUrl: string) {
  const client = await WispClient.connect(wispUrl);
  const clock = new RealClock();
  const guest = new Stack({ name: 'guest', clock });
  const gatewayStack = new Stack({ name: 'gateway', clock });
  const link = new MemoryLink({
    clock,
    a: { name: 'guest0', mac: 0x02_00_00_00_00_0f },
    b: { name: 'gw0', mac: 0x52_55_0a_00_02_02 },
  });
  guest.addInterface(link.a, { address: '10.0.2.15/24', gateway: '10.0.2.2' });
  const gateway = new Gateway({ stack: gatewayStack, device: link.b, upstream: wispUpstream(client) });
  return { client, guest, gateway };
}

type Setup = Awaited<ReturnType<typeof setUp>>;
let setup: Promise<Setup> | undefined;

async function fetchThroughGateway(wispUrl: string, port: number, path: string) {
  setup ??= setUp(wispUrl);
  const { guest, client } = await setup;
  const socket = socketsApi(guest).connect({ hostname: '10.0.2.2', port });
  const writer = socket.writable.getWriter();
  await writer.write(new TextEncoder().encode(`GET ${path} HTTP/1.0\r\nHost: x\r\n\r\n`));
  const parts: Uint8Array[] = [];
  let total = 0;
  const reader = socket.readable.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    parts.push(value);
    total += value.length;
  }
  const all = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    all.set(p, offset);
    offset += p.length;
  }
  let headerEnd = 0;
  for (let i = 0; i + 3 < all.length; i++) {
    if (all[i] === 13 && all[i + 1] === 10 && all[i + 2] === 13 && all[i + 3] === 10) {
      headerEnd = i + 4;
      break;
    }
  }
  const head = new TextDecoder().decode(all.subarray(0, headerEnd));
  const body = all.subarray(headerEnd);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', body));
  return {
    status: head.split('\r\n')[0],
    length: body.length,
    sha256: [...digest].map((b) => b.toString(16).padStart(2, '0')).join(''),
    wispVersion: client.version,
  };
}

async function inbound(wispUrl: string, message: string) {
  setup ??= setUp(wispUrl);
  const { guest, gateway } = await setup;
  // The guest's server: answers each connection with its bytes upper-cased and the peer's address.
  const listener = listenTcpStreams(guest, { port: 8080 });
  void (async () => {
    for await (const conn of listener.connections as unknown as AsyncIterable<{
      readable: ReadableStream<Uint8Array>;
      writable: WritableStream<Uint8Array>;
      opened: Promise<{ remoteAddress: string }>;
    }>) {
      const { remoteAddress } = await conn.opened;
      let text = '';
      for await (const chunk of conn.readable as unknown as AsyncIterable<Uint8Array>)
        text += new TextDecoder().decode(chunk);
      const writer = conn.writable.getWriter();
      await writer.write(new TextEncoder().encode(`${text.toUpperCase()} (from ${remoteAddress})`));
      await writer.close();
    }
  })();
  // The page's own stream, handed to the gateway: it says its message, ends, and collects the answer.
  return new Promise<string>((resolve, reject) => {
    let reply = '';
    let said = false;
    gateway.connectToGuest(8080, (handlers) => {
      queueMicrotask(() => handlers.connect());
      return {
        write(chunk) {
          reply += new TextDecoder().decode(chunk);
          return true;
        },
        end() {
          resolve(reply);
        },
        pause() {},
        resume() {
          // The gateway resumes the outside stream once the guest accepted: say the message and end.
          if (said) return;
          said = true;
          queueMicrotask(() => {
            handlers.data(new TextEncoder().encode(message));
            handlers.end();
          });
        },
        destroy() {
          reject(new Error(`the guest connection failed; got "${reply}"`));
        },
      };
    });
  });
}

(window as unknown as { tcptsWisp: unknown }).tcptsWisp = { fetchThroughGateway, inbound };
document.body.dataset.ready = 'yes';
