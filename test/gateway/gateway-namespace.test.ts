/**
 * A Linux "guest": a network namespace whose only interface is a TAP served by `tcpts gateway` (run as a
 * user would, a child process). The kernel gets its address from the gateway's DHCP (busybox udhcpc),
 * resolves a name through the gateway's DNS (glibc, via the namespace's resolv.conf), downloads and
 * uploads 100 MiB from/to an HTTP server on the host's 127.0.0.1 through 10.0.2.2 (sha256-exact), and is
 * reached through an inbound port forward.
 */
import dgram from 'node:dgram';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainSkip } from '../interop/helpers/kernel-peer.js';
import { killAllPrograms, Program } from '../interop/helpers/program.js';
import {
  sha256sumOutput,
  TempDirectory,
  type TestFile,
  writeTestFile,
} from '../interop/helpers/test-data.js';
import { NetworkNamespace, run, runAsync, uniqueInterfaceName } from '../tap/helpers/namespace.js';
import { dnsAnswer } from './helpers/dns-responder.js';
import { startPayloadServer } from './helpers/payload-server.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));

function hasBusybox(): boolean {
  try {
    run('busybox', ['udhcpc', '--help']);
    return true;
  } catch (error) {
    // busybox prints its usage and exits 1 for --help; a missing binary throws ENOENT.
    return (error as { code?: string }).code !== 'ENOENT' && !String(error).includes('ENOENT');
  }
}

function skipReason(): boolean {
  if (explainSkip('gateway namespace test')) return true;
  if (hasBusybox()) return false;
  console.warn('gateway namespace test skipped: busybox (udhcpc) is not installed');
  return true;
}

const skip = skipReason();

const UDHCPC_SCRIPT = `#!/bin/sh
case "$1" in
  deconfig) ip addr flush dev "$interface"; ip link set "$interface" up ;;
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/$mask" dev "$interface"
    [ -n "$mtu" ] && ip link set "$interface" mtu "$mtu"
    [ -n "$router" ] && ip route replace default via "$router" dev "$interface"
    echo "ip=$ip mask=$mask router=$router dns=$dns mtu=$mtu lease=$lease"
    ;;
esac
exit 0
`;

const SIZE = 100 * 1024 * 1024;

describe.skipIf(skip)('tcpts gateway serving a namespace guest over TAP', () => {
  const directory = new TempDirectory();
  const ifname = uniqueInterfaceName();
  let namespace: NetworkNamespace;
  let netnsEtc: string;
  let gateway: Program;
  let file: TestFile;
  let httpServer: http.Server;
  let httpPort: number;
  let dnsServer: dgram.Socket;
  let forwardPort: number;
  let dnsQueries = 0;

  beforeAll(async () => {
    file = writeTestFile(directory.file('payload'), SIZE, 'gateway');
    writeFileSync(directory.file('udhcpc.sh'), UDHCPC_SCRIPT, { mode: 0o755 });
    ({ server: httpServer, port: httpPort } = await startPayloadServer(file.path, SIZE, '127.0.0.1'));
    dnsServer = dgram.createSocket('udp4', (message, rinfo) => {
      dnsQueries++;
      const answer = dnsAnswer(message, { 'files.test': '10.0.2.2' });
      if (answer !== undefined) dnsServer.send(answer, rinfo.port, rinfo.address);
    });
    await new Promise<void>((done) => dnsServer.bind(0, '127.0.0.1', () => done()));
    const free = net.createServer();
    await new Promise<void>((done) => free.listen(0, '127.0.0.1', () => done()));
    forwardPort = (free.address() as AddressInfo).port;
    await new Promise<void>((done) => free.close(() => done()));

    namespace = NetworkNamespace.create();
    namespace.ip('link', 'set', 'lo', 'up');
    netnsEtc = `/etc/netns/${namespace.name}`;
    mkdirSync(netnsEtc, { recursive: true });
    writeFileSync(`${netnsEtc}/resolv.conf`, 'nameserver 10.0.2.3\n');
    gateway = new Program(
      process.execPath,
      [
        '--import',
        'tsx',
        MAIN,
        'gateway',
        '--tap',
        ifname,
        '--dns',
        `127.0.0.1:${(dnsServer.address() as AddressInfo).port}`,
        '--allow',
        '127.0.0.0/8',
        '--forward',
        `tcp:${forwardPort}:8022`,
      ],
      { cwd: REPOSITORY },
    );
    await gateway.waitFor(/gateway ready/, 30_000);
    // The gateway made the TAP in the root namespace; the guest's namespace takes it.
    run('ip', ['link', 'set', ifname, 'netns', namespace.name]);
    namespace.exec('sysctl', '-q', '-w', `net.ipv6.conf.${ifname}.disable_ipv6=1`);
    namespace.ip('link', 'set', ifname, 'up');
  }, 120_000);

  afterAll(() => {
    gateway?.kill('SIGTERM');
    killAllPrograms();
    namespace?.delete();
    if (netnsEtc !== undefined) rmSync(netnsEtc, { recursive: true, force: true });
    httpServer?.close();
    dnsServer?.close();
    directory.remove();
  });

  const inGuest = (args: string[], timeoutMs = 60_000) =>
    runAsync('ip', ['netns', 'exec', namespace.name, ...args], timeoutMs);

  it('leases 10.0.2.15 with router 10.0.2.2, DNS 10.0.2.3 and MTU 1500 to udhcpc', async () => {
    const lease = await inGuest(
      [
        'busybox',
        'udhcpc',
        '-i',
        ifname,
        '-s',
        directory.file('udhcpc.sh'),
        '-n',
        '-q',
        '-t',
        '5',
        '-T',
        '1',
      ],
      30_000,
    );
    expect(lease.stdout).toContain('ip=10.0.2.15 mask=24 router=10.0.2.2 dns=10.0.2.3 mtu=1500 lease=86400');
    const address = await inGuest(['ip', '-4', '-o', 'addr', 'show', 'dev', ifname]);
    expect(address.stdout).toContain('inet 10.0.2.15/24');
  }, 60_000);

  it('resolves a name through the gateway DNS and downloads 100 MiB from the host loopback, sha256-exact', async () => {
    const before = dnsQueries;
    const download = await inGuest(
      ['sh', '-c', `curl -sS --fail http://files.test:${httpPort}/payload | sha256sum`],
      240_000,
    );
    expect(download.stderr).toBe('');
    expect(sha256sumOutput(download.stdout)).toBe(file.sha256);
    expect(dnsQueries).toBeGreaterThan(before);
  }, 300_000);

  it('uploads 100 MiB to the host loopback, sha256-exact', async () => {
    const upload = await inGuest(
      ['curl', '-sS', '--fail', '-T', file.path, `http://10.0.2.2:${httpPort}/upload`],
      240_000,
    );
    expect(upload.stdout.trim()).toBe(`${SIZE} ${file.sha256}`);
  }, 300_000);

  it('answers pings to 10.0.2.2, and UDP to a closed host port is refused (ICMP port unreachable)', async () => {
    const ping = await inGuest(['ping', '-n', '-c', '2', '-i', '0.2', '-W', '2', '10.0.2.2']);
    expect(ping.stdout).toMatch(/2 packets transmitted, 2 received/);
    const closed = dgram.createSocket('udp4');
    await new Promise<void>((done) => closed.bind(0, '127.0.0.1', () => done()));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((done) => closed.close(() => done()));
    const probe = await inGuest([
      'python3',
      '-c',
      [
        'import socket',
        's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
        's.settimeout(5)',
        `s.connect(('10.0.2.2', ${closedPort}))`,
        "s.send(b'anyone?')",
        'try:',
        '    s.recv(100)',
        "    print('data')",
        'except ConnectionRefusedError:',
        "    print('refused')",
        'except socket.timeout:',
        "    print('timeout')",
      ].join('\n'),
    ]);
    expect(probe.stdout.trim()).toBe('refused');
  }, 60_000);

  it('reaches a guest server through --forward tcp:HOSTPORT:8022 on 127.0.0.1', async () => {
    const guestServer = new Program('ip', [
      'netns',
      'exec',
      namespace.name,
      'python3',
      '-c',
      [
        'import socket',
        's = socket.socket()',
        's.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)',
        "s.bind(('0.0.0.0', 8022))",
        's.listen(1)',
        "print('listening', flush=True)",
        'c, a = s.accept()',
        "c.sendall(('hello from the guest, you are ' + a[0] + '\\n').encode())",
        'c.close()',
      ].join('\n'),
    ]);
    await guestServer.waitFor(/listening/);
    const text = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(forwardPort, '127.0.0.1');
      let data = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        data += chunk;
      });
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(text).toBe('hello from the guest, you are 10.0.2.2\n');
    await guestServer.finish();
  }, 60_000);
});
