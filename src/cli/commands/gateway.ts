/**
 * `tcpts gateway`: user-mode networking for a guest (a VM, a namespace, an emulator), like QEMU's
 * `-netdev user` or slirp4netns, over a link of the guest's choosing:
 *
 *   tcpts gateway --tap IFNAME                  a Linux TAP interface (move it into the guest's namespace)
 *   tcpts gateway --stream-listen unix:PATH     QEMU -netdev stream (or socket) connecting to us
 *   tcpts gateway --stream-connect HOST:PORT    ... or QEMU as the server
 *   tcpts gateway --dgram LHOST:LPORT,RHOST:RPORT   QEMU -netdev dgram (UDP)
 *   tcpts gateway --websocket-listen PORT       one Ethernet frame per binary message (browser emulators)
 *
 * The guest gets 10.0.2.15 by DHCP, 10.0.2.2 as router (which is also the host's 127.0.0.1) and 10.0.2.3
 * as DNS (forwarded to `--dns`, by default the first nameserver of /etc/resolv.conf). Its TCP and UDP
 * flows leave through the host's sockets, to the destinations `--allow` permits (default: all).
 * `--forward tcp:HOSTPORT:GUESTPORT` listens on 127.0.0.1:HOSTPORT and relays to the guest's port;
 * `tcp6:HOSTPORT:GUESTPORT` listens on [::1]:HOSTPORT and relays to the guest's IPv6 address.
 * SIGUSR2 prints the counters; SIGINT/SIGTERM stop it (open guest connections are reset).
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { resolve } from 'node:path';
import { Gateway } from '../../gateway/gateway.js';
import { pingEcho } from '../../gateway/ping-echo-node.js';
import { allowList, type DestinationPolicy } from '../../gateway/policy.js';
import { duplexStream, socketUpstream } from '../../gateway/socket-upstream-node.js';
import type { UpstreamStreamHandlers } from '../../gateway/upstream.js';
import { captureDevice } from '../../link/capture.js';
import { openDatagramDevice } from '../../link/datagram/datagram-device-node.js';
import type { NetworkDevice } from '../../link/device.js';
import { streamDevice } from '../../link/stream/stream-device-node.js';
import { openTap } from '../../link/tap/index.js';
import { type WebSocketLike, webSocketDevice } from '../../link/websocket/websocket-device.js';
import { createPcapFile } from '../../pcap/pcap-file-node.js';
import type { PcapWriter } from '../../pcap/pcap-writer.js';
import { Stack } from '../../stack.js';
import { RealClock } from '../../time/real-clock.js';
import { parseIpv4 } from '../../wire/address.js';
import { ipv6ToString } from '../../wire/ipv6-address.js';
import {
  type CliIo,
  type CommandSpec,
  describeError,
  helpText,
  integerOption,
  parseCommandLine,
  stringValue,
  stringValues,
  UsageError,
} from '../command-line.js';
import { onTerminatingSignal, say } from './tap-options.js';

/** QEMU's slirp uses 52:55:0a:00:02:02 for the gateway; guests and tools recognise it. */
const GATEWAY_MAC = 0x52_55_0a_00_02_02;

export const GATEWAY_SPEC: CommandSpec = {
  name: 'gateway',
  usage: [
    '(--tap IFNAME | --stream-listen ADDR | --stream-connect ADDR | --dgram LOCAL,REMOTE | --websocket-listen PORT) [options]',
  ],
  description: [
    'User-mode networking for a guest, like QEMU -netdev user: DHCP (10.0.2.15 onwards), router 10.0.2.2',
    '(also the host loopback), DNS 10.0.2.3 forwarded to --dns, and every TCP and UDP flow of the guest',
    'relayed through the host sockets. ADDR is unix:PATH or HOST:PORT. It prints "gateway ready" on stderr',
    'once serving; SIGUSR2 prints the counters.',
  ].join('\n'),
  options: [
    {
      name: 'tap',
      type: 'string',
      value: 'IFNAME',
      description: 'serve a Linux TAP interface (created if absent)',
    },
    {
      name: 'stream-listen',
      type: 'string',
      value: 'ADDR',
      description: 'wait for QEMU -netdev stream/socket to connect (4-byte length before each frame)',
    },
    { name: 'stream-connect', type: 'string', value: 'ADDR', description: 'connect to a stream server' },
    {
      name: 'dgram',
      type: 'string',
      value: 'LOCAL,REMOTE',
      description: 'QEMU -netdev dgram: bind LOCAL (HOST:PORT), send to REMOTE',
    },
    {
      name: 'websocket-listen',
      type: 'string',
      value: 'PORT',
      description: 'serve one guest over WebSocket on 127.0.0.1:PORT (one frame per binary message)',
    },
    {
      name: 'websocket-framing',
      type: 'string',
      value: 'message|stream',
      description:
        "with --websocket-listen: 'stream' reads the messages as one byte stream of length-prefixed frames (container2wasm's c2w-net protocol)",
    },
    {
      name: 'forward',
      type: 'string',
      multiple: true,
      value: 'tcp:HOSTPORT:GUESTPORT',
      description:
        "listen on 127.0.0.1:HOSTPORT and relay to the guest port; tcp6: listens on [::1] and relays to the guest's IPv6 address (repeatable)",
    },
    {
      name: 'allow',
      type: 'string',
      multiple: true,
      value: 'PREFIX',
      description: 'destinations the guest may reach, e.g. 127.0.0.0/8 (repeatable; default: all)',
    },
    {
      name: 'dns',
      type: 'string',
      value: 'ADDR[:PORT]',
      description: 'upstream resolver (default: /etc/resolv.conf)',
    },
    {
      name: 'address',
      type: 'string',
      value: 'ADDR/PREFIX',
      description: 'gateway address (default 10.0.2.2/24)',
    },
    {
      name: 'ipv6-prefix',
      type: 'string',
      value: 'PREFIX/64|off',
      description: "guests' IPv6 prefix, announced by router advertisements (default fec0::/64, QEMU's)",
    },
    {
      name: 'dhcp6',
      type: 'string',
      value: 'stateless|stateful|off',
      description:
        'DHCPv6 on the IPv6 link: DNS servers only (default, RA flag O), also addresses PREFIX::100 and up (M), or none',
    },
    {
      name: 'dns-address',
      type: 'string',
      value: 'ADDR',
      description: 'DNS address for the guest (default 10.0.2.3)',
    },
    {
      name: 'first-lease',
      type: 'string',
      value: 'ADDR',
      description: 'first DHCP address (default 10.0.2.15)',
    },
    { name: 'mtu', type: 'string', value: 'N', description: 'link MTU (default 1500)' },
    { name: 'pcap', type: 'string', value: 'FILE', description: 'record every frame on the guest link' },
  ],
  examples: [
    'tcpts gateway --tap tapguest0 --forward tcp:8022:22',
    'tcpts gateway --stream-listen unix:/tmp/tcpts.sock   # qemu ... -netdev stream,id=n0,addr.type=unix,addr.path=/tmp/tcpts.sock',
  ],
};

interface LinkChoice {
  kind: 'tap' | 'stream-listen' | 'stream-connect' | 'dgram' | 'websocket-listen';
  value: string;
  /** --websocket-framing: how frames ride the WebSocket's messages. */
  framing?: 'message' | 'stream';
}

interface Forward {
  /** 4: the host listens on 127.0.0.1 and reaches the guest's lease; 6: [::1] and the guest's IPv6 address. */
  family: 4 | 6;
  hostPort: number;
  guestPort: number;
}

export function parseForward(text: string): Forward {
  const m = /^tcp(6?):(\d{1,5}):(\d{1,5})$/.exec(text);
  if (m === null)
    throw new UsageError(
      `--forward wants tcp:HOSTPORT:GUESTPORT or tcp6:HOSTPORT:GUESTPORT, e.g. tcp:8022:22; got '${text}'`,
    );
  return {
    family: m[1] === '6' ? 6 : 4,
    hostPort: integerOption('forward', m[2]!, 1, 65535),
    guestPort: integerOption('forward', m[3]!, 1, 65535),
  };
}

/** Where a forward listens, as its own spec says it ('127.0.0.1:8022', '[::1]:8022'). */
function forwardListenAddress(forward: Forward): string {
  return forward.family === 6 ? `[::1]:${forward.hostPort}` : `127.0.0.1:${forward.hostPort}`;
}

/** 'unix:/path' or 'host:port' as `net` options. */
function socketAddress(option: string, text: string): { path: string } | { host: string; port: number } {
  if (text.startsWith('unix:')) {
    if (text.length <= 5) throw new UsageError(`--${option} wants unix:PATH; got '${text}'`);
    return { path: text.slice(5) };
  }
  return hostPort(option, text);
}

function hostPort(option: string, text: string, defaultPort?: number): { host: string; port: number } {
  const m = /^([0-9.]+)(?::(\d{1,5}))?$/.exec(text);
  if (m === null || parseIpv4(m[1]!) === undefined || (m[2] === undefined && defaultPort === undefined)) {
    throw new UsageError(
      `--${option} wants ${defaultPort === undefined ? 'HOST:PORT' : 'ADDR[:PORT]'} with an IPv4 address; got '${text}'`,
    );
  }
  return { host: m[1]!, port: m[2] === undefined ? defaultPort! : integerOption(option, m[2], 1, 65535) };
}

function systemResolver(): { address: string; port: number } | undefined {
  try {
    for (const line of readFileSync('/etc/resolv.conf', 'utf8').split('\n')) {
      const m = /^\s*nameserver\s+([0-9.]+)\s*$/.exec(line);
      if (m !== null && parseIpv4(m[1]!) !== undefined) return { address: m[1]!, port: 53 };
    }
  } catch {
    // no resolv.conf: no DNS forwarding unless --dns says where
  }
  return undefined;
}

export async function runGateway(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommandLine(GATEWAY_SPEC, args);
  if (parsed === 'help') {
    io.stdout.write(helpText(GATEWAY_SPEC));
    return 0;
  }
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
  const links: LinkChoice[] = [];
  for (const kind of ['tap', 'stream-listen', 'stream-connect', 'dgram', 'websocket-listen'] as const) {
    const value = stringValue(parsed, kind);
    if (value !== undefined) links.push({ kind, value });
  }
  if (links.length !== 1) {
    throw new UsageError(
      links.length === 0
        ? 'say which link the guest is on: --tap, --stream-listen, --stream-connect, --dgram or --websocket-listen'
        : `one link at a time; got ${links.map((l) => `--${l.kind}`).join(' and ')}`,
    );
  }
  const link = links[0]!;
  const forwards = stringValues(parsed, 'forward').map(parseForward);
  const ipv6Off = stringValue(parsed, 'ipv6-prefix') === 'off';
  const forward6 = forwards.find((f) => f.family === 6);
  if (ipv6Off && forward6 !== undefined)
    throw new UsageError(
      `--forward tcp6:${forward6.hostPort}:${forward6.guestPort} needs IPv6 (--ipv6-prefix is off)`,
    );
  const dhcp6Mode = stringValue(parsed, 'dhcp6') ?? 'stateless';
  if (!['stateless', 'stateful', 'off'].includes(dhcp6Mode))
    throw new UsageError(`--dhcp6 wants stateless, stateful or off; got '${dhcp6Mode}'`);
  const allow = stringValues(parsed, 'allow');
  let policy: DestinationPolicy | undefined;
  if (allow.length > 0) {
    try {
      policy = allowList(allow);
    } catch (error) {
      throw new UsageError(`--allow: ${(error as Error).message}`);
    }
  }
  const dnsText = stringValue(parsed, 'dns');
  const dns = dnsText === undefined ? systemResolver() : { ...hostPort('dns', dnsText, 53) };
  const dnsUpstream =
    dns === undefined ? undefined : { address: 'address' in dns ? dns.address : dns.host, port: dns.port };
  const mtuText = stringValue(parsed, 'mtu');
  const mtu = mtuText === undefined ? 1500 : integerOption('mtu', mtuText, 576, 65521);
  const pcapPath = stringValue(parsed, 'pcap');
  // Check the link's form before anything opens.
  if (link.kind === 'stream-listen' || link.kind === 'stream-connect') socketAddress(link.kind, link.value);
  let dgramEnds:
    | { local: { host: string; port: number }; remote: { host: string; port: number } }
    | undefined;
  if (link.kind === 'dgram') {
    const [local, remote, extra] = link.value.split(',');
    if (local === undefined || remote === undefined || extra !== undefined)
      throw new UsageError(`--dgram wants LOCAL,REMOTE as HOST:PORT,HOST:PORT; got '${link.value}'`);
    dgramEnds = { local: hostPort('dgram', local), remote: hostPort('dgram', remote) };
  }
  if (link.kind === 'websocket-listen') integerOption('websocket-listen', link.value, 1, 65535);
  const framing = stringValue(parsed, 'websocket-framing');
  if (framing !== undefined) {
    if (link.kind !== 'websocket-listen')
      throw new UsageError('--websocket-framing goes with --websocket-listen');
    if (framing !== 'message' && framing !== 'stream')
      throw new UsageError(`--websocket-framing wants message or stream; got '${framing}'`);
    link.framing = framing;
  }

  const clock = new RealClock();
  const cleanups: Array<() => void> = [() => clock.close()];
  const cleanup = (): void => {
    for (const c of cleanups.reverse()) {
      try {
        c();
      } catch {
        // best effort on the way out
      }
    }
    cleanups.length = 0;
  };
  let device: NetworkDevice;
  try {
    device = await openLink(link, mtu, dgramEnds, io, cleanups, pcapPath === undefined);
  } catch (error) {
    say(io, `tcpts gateway: ${describeError(error)}`);
    cleanup();
    return 1;
  }
  let pcap: PcapWriter | undefined;
  if (pcapPath !== undefined) {
    pcap = createPcapFile(resolve(io.cwd, pcapPath), { timeOriginMs: performance.timeOrigin });
    device = captureDevice(device, pcap, clock);
    const writer = pcap;
    cleanups.push(() => writer.close());
  }
  // Guests' pings beyond the gateway go through the host's ping command; one echo to the host's loopback
  // says at start whether this host permits it, so the user knows why pings would go unanswered.
  const echo = pingEcho();
  const echoProbe = await echo({ address: '127.0.0.1', size: 0, ttl: 64, timeoutMs: 1000 });
  const echoLine =
    echoProbe.kind === 'reply'
      ? "ICMP echo beyond the gateway: through the host's ping command"
      : `ICMP echo beyond the gateway: unavailable (${echoProbe.kind === 'unavailable' ? echoProbe.reason : `ping of 127.0.0.1: ${echoProbe.kind}`}); guests' pings to other hosts go unanswered`;
  const ipv6Prefix = stringValue(parsed, 'ipv6-prefix');
  const stack = new Stack({ name: 'gateway', clock });
  let gateway: Gateway;
  try {
    gateway = new Gateway({
      stack,
      device,
      upstream: socketUpstream({ echo: echoProbe.kind === 'reply' ? echo : false, transientChunks: true }),
      policy,
      dnsUpstream,
      address: stringValue(parsed, 'address'),
      dnsAddress: stringValue(parsed, 'dns-address'),
      firstLease: stringValue(parsed, 'first-lease'),
      ipv6Prefix: ipv6Prefix === 'off' ? false : ipv6Prefix,
      dhcp6: dhcp6Mode === 'off' ? false : dhcp6Mode === 'stateful' ? 'stateful' : true,
      mtu,
    });
  } catch (error) {
    say(io, `tcpts gateway: ${describeError(error)}`);
    cleanup();
    return 2;
  }
  cleanups.push(() => {
    gateway.close();
    stack.close();
  });
  for (const forward of forwards) {
    const server = net.createServer((socket) => {
      const open = (handlers: UpstreamStreamHandlers) => {
        const stream = duplexStream(socket, handlers);
        handlers.connect();
        return stream;
      };
      if (forward.family === 6) gateway.connectToGuest6(forward.guestPort, open);
      else gateway.connectToGuest(forward.guestPort, open);
    });
    try {
      await new Promise<void>((done, fail) => {
        server.once('error', fail);
        server.listen(forward.hostPort, forward.family === 6 ? '::1' : '127.0.0.1', () => done());
      });
    } catch (error) {
      say(
        io,
        `tcpts gateway: --forward tcp${forward.family === 6 ? '6' : ''}:${forward.hostPort}:${forward.guestPort}: ${describeError(error)}`,
      );
      cleanup();
      return 1;
    }
    cleanups.push(() => server.close());
  }
  const lines = [
    `gateway ready: ${stringValue(parsed, 'address') ?? '10.0.2.2/24'} on ${device.name}, leases from ${stringValue(parsed, 'first-lease') ?? '10.0.2.15'}, DNS ${stringValue(parsed, 'dns-address') ?? '10.0.2.3'} -> ${dnsUpstream === undefined ? 'none' : `${dnsUpstream.address}:${dnsUpstream.port}`}`,
    gateway.address6 === undefined
      ? 'IPv6: off'
      : `IPv6: ${ipv6ToString(gateway.ipv6Prefix!)}/64 by router advertisement, gateway ${ipv6ToString(gateway.address6)} (the host's ::1), DNS ${ipv6ToString(gateway.dnsAddress6!)} (RDNSS${gateway.dhcp6 === undefined ? '' : gateway.dhcp6.stateful ? ', DHCPv6 with addresses' : ', stateless DHCPv6'})`,
    ...forwards.map(
      (f) =>
        `forwarding ${forwardListenAddress(f)} -> guest ${f.family === 6 ? 'IPv6 ' : ''}port ${f.guestPort}`,
    ),
    echoLine,
  ];
  for (const line of lines) say(io, line);
  const printCounters = (): void => {
    say(
      io,
      `counters: ${JSON.stringify({ ...gateway.counters, dhcp: gateway.dhcp?.counters, dhcp6: gateway.dhcp6?.counters })}`,
    );
  };
  process.on('SIGUSR2', printCounters);
  cleanups.push(() => process.off('SIGUSR2', printCounters));
  return new Promise<number>((done) => {
    const removeSignals = onTerminatingSignal((code) => {
      removeSignals();
      printCounters();
      cleanup();
      done(code);
    });
  });
}

async function openLink(
  link: LinkChoice,
  mtu: number,
  dgramEnds: { local: { host: string; port: number }; remote: { host: string; port: number } } | undefined,
  io: CliIo,
  cleanups: Array<() => void>,
  offload: boolean,
): Promise<NetworkDevice> {
  switch (link.kind) {
    case 'tap': {
      // `mac` is the gateway's station address on the link; the kernel interface keeps its own. Segmentation
      // and checksum offload with the guest's kernel unless a capture needs frames as the wire carries them.
      const tap = openTap({ name: link.value, mtu, mac: GATEWAY_MAC, offload });
      cleanups.push(() => tap.close());
      return tap;
    }
    case 'dgram': {
      const ends = dgramEnds!;
      const opened = await openDatagramDevice({
        name: 'dgram0',
        mac: GATEWAY_MAC,
        mtu,
        local: { address: ends.local.host, port: ends.local.port },
        remote: { address: ends.remote.host, port: ends.remote.port },
      });
      cleanups.push(() => opened.device.close());
      return opened.device;
    }
    case 'stream-connect': {
      const address = socketAddress(link.kind, link.value);
      const socket = net.connect(address);
      await new Promise<void>((done, fail) => {
        socket.once('connect', () => done());
        socket.once('error', fail);
      });
      return guestStream(socket, mtu, io, cleanups);
    }
    case 'stream-listen': {
      const address = socketAddress(link.kind, link.value);
      const server = net.createServer();
      await new Promise<void>((done, fail) => {
        server.once('error', fail);
        server.listen(address, () => done());
      });
      cleanups.push(() => server.close());
      say(io, `waiting for the guest on ${link.value}`);
      const socket = await new Promise<net.Socket>((done) => server.once('connection', done));
      // One guest per link: later connections are turned away.
      server.on('connection', (extra) => extra.destroy());
      return guestStream(socket, mtu, io, cleanups);
    }
    case 'websocket-listen': {
      const port = integerOption('websocket-listen', link.value, 1, 65535);
      const { WebSocketServer } = await loadWs();
      const server = new WebSocketServer({ host: '127.0.0.1', port });
      await new Promise<void>((done, fail) => {
        server.once('listening', () => done());
        server.once('error', fail);
      });
      cleanups.push(() => server.close());
      say(io, `waiting for the guest on ws://127.0.0.1:${port}/`);
      const socket = await new Promise<WebSocketLike>((done) => server.once('connection', done));
      server.on('connection', (extra: WebSocketLike) => extra.close(1013, 'one guest per gateway'));
      const device = webSocketDevice(socket, { name: 'ws0', mac: GATEWAY_MAC, mtu, framing: link.framing });
      cleanups.push(() => device.close());
      return device;
    }
  }
}

/** The `ws` package (an optional dependency) for WebSocket servers; a clear error when it is missing. */
export async function loadWs(): Promise<{
  WebSocketServer: new (options: {
    host: string;
    port: number;
  }) => {
    once(event: string, listener: (...args: never[]) => void): void;
    on(event: string, listener: (...args: never[]) => void): void;
    close(): void;
  };
}> {
  try {
    return (await import('ws')) as never;
  } catch {
    throw Object.assign(new Error("WebSocket serving needs the 'ws' package: npm install ws"), {
      code: 'ENOENT',
    });
  }
}

/** The guest's stream link over a connected socket (either side may have listened). */
function guestStream(socket: net.Socket, mtu: number, io: CliIo, cleanups: Array<() => void>): NetworkDevice {
  const device = streamDevice(socket, {
    name: 'stream0',
    mac: GATEWAY_MAC,
    mtu,
    onClose: (error) =>
      say(io, `tcpts gateway: the guest link closed${error ? `: ${describeError(error)}` : ''}`),
  });
  cleanups.push(() => device.close());
  return device;
}
