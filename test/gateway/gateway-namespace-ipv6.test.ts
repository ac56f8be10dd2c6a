/**
 * IPv6 through `tcpts gateway`: a network namespace whose only interface is the gateway's TAP, the
 * kernel configuring itself from the gateway's router advertisement (SLAAC address in fd00:0:0:2::/64,
 * default route, RDNSS), resolving a name to an AAAA record through the gateway's DNS at
 * fd00:0:0:2::3, and downloading and uploading 16 MiB sha256-exact from and to an HTTP server on the
 * host's ::1 through [fd00:0:0:2::2]; the RA's O flag sending ISC dhclient to the gateway's stateless
 * DHCPv6 server for the DNS server.
 */
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import net, { type AddressInfo } from 'node:net';
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
import { dnsAnswerAaaa } from './helpers/dns-responder.js';
import { startPayloadServer } from './helpers/payload-server.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));
const SIZE = 16 * 1024 * 1024;
const skip = explainSkip('gateway IPv6 namespace test');
/** ISC dhclient (Debian isc-dhcp-client) is the guest's DHCPv6 client; .ci/run installs it. */
const noDhclient = spawnSync('sh', ['-c', 'command -v dhclient']).status !== 0;
if (noDhclient) console.warn('gateway DHCPv6 namespace step skipped: no dhclient (Debian isc-dhcp-client)');

describe.skipIf(skip)('tcpts gateway serving an IPv6 namespace guest over TAP', () => {
  const directory = new TempDirectory();
  const ifname = uniqueInterfaceName();
  let namespace: NetworkNamespace;
  let netnsEtc: string;
  let gateway: Program;
  let file: TestFile;
  let httpServer: http.Server;
  let httpPort: number;
  let dnsServer: dgram.Socket;
  let dnsQueries = 0;
  let forwardPort: number;

  beforeAll(async () => {
    file = writeTestFile(directory.file('payload'), SIZE, 'gateway6');
    ({ server: httpServer, port: httpPort } = await startPayloadServer(file.path, SIZE, '::1'));
    dnsServer = dgram.createSocket('udp4', (message, rinfo) => {
      dnsQueries++;
      const answer = dnsAnswerAaaa(message, { 'files6.test': 'fd00:0:0:2::2' });
      if (answer !== undefined) dnsServer.send(answer, rinfo.port, rinfo.address);
    });
    await new Promise<void>((done) => dnsServer.bind(0, '127.0.0.1', () => done()));

    const free = net.createServer();
    await new Promise<void>((done) => free.listen(0, '::1', () => done()));
    forwardPort = (free.address() as AddressInfo).port;
    await new Promise<void>((done) => free.close(() => done()));

    namespace = NetworkNamespace.create();
    namespace.ip('link', 'set', 'lo', 'up');
    netnsEtc = `/etc/netns/${namespace.name}`;
    mkdirSync(netnsEtc, { recursive: true });
    writeFileSync(`${netnsEtc}/resolv.conf`, 'nameserver fd00:0:0:2::3\n');
    gateway = new Program(
      process.execPath,
      [
        '--import',
        'tsx',
        MAIN,
        'gateway',
        '--tap',
        ifname,
        '--ipv6-prefix',
        'fd00:0:0:2::/64',
        '--dns',
        `127.0.0.1:${(dnsServer.address() as AddressInfo).port}`,
        '--allow',
        '::1',
        '--allow',
        '127.0.0.0/8',
        '--forward',
        `tcp6:${forwardPort}:8022`,
      ],
      { cwd: REPOSITORY },
    );
    await gateway.waitFor(/IPv6: fd00:0:0:2::\/64/, 30_000);
    run('ip', ['link', 'set', ifname, 'netns', namespace.name]);
    namespace.exec('sysctl', '-q', '-w', `net.ipv6.conf.${ifname}.disable_ipv6=0`);
    namespace.exec('sysctl', '-q', '-w', `net.ipv6.conf.${ifname}.accept_ra=1`);
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

  it('configures a SLAAC address, the default route and the router from the advertisement', async () => {
    let addresses = '';
    // Until DAD is over (the address is no longer 'tentative').
    const usable = /inet6 fd00::2:[0-9a-f:]+\/64 scope global dynamic/;
    for (let i = 0; i < 150 && !usable.test(addresses); i++) {
      await new Promise((r) => setTimeout(r, 100));
      addresses = (await inGuest(['ip', '-6', '-o', 'addr', 'show', 'dev', ifname, 'scope', 'global']))
        .stdout;
    }
    expect(addresses).toMatch(usable);
    const routes = (await inGuest(['ip', '-6', 'route', 'show', 'default'])).stdout;
    // The gateway's link-local address, EUI-64 of its MAC 52:55:0a:00:02:02.
    expect(routes).toContain(`default via fe80::5055:aff:fe00:202 dev ${ifname}`);
  }, 60_000);

  it('resolves an AAAA name through fd00:0:0:2::3 and downloads 16 MiB from the host ::1, sha256-exact', async () => {
    const before = dnsQueries;
    const download = await inGuest(
      ['sh', '-c', `curl -6 -sS --fail http://files6.test:${httpPort}/payload | sha256sum`],
      120_000,
    );
    expect(download.stderr, `DNS queries seen: ${dnsQueries - before}`).toBe('');
    expect(sha256sumOutput(download.stdout)).toBe(file.sha256);
    expect(dnsQueries).toBeGreaterThan(before);
  }, 180_000);

  it('uploads 16 MiB to the host ::1 through [fd00:0:0:2::2], sha256-exact', async () => {
    const upload = await inGuest(
      ['curl', '-6', '-sS', '--fail', '-T', file.path, `http://[fd00:0:0:2::2]:${httpPort}/upload`],
      120_000,
    );
    expect(upload.stdout.trim()).toBe(`${SIZE} ${file.sha256}`);
  }, 180_000);

  it('answers ping -6 to fd00:0:0:2::2 and ::3, and UDP to a closed host ::1 port is refused (ICMPv6 port unreachable)', async () => {
    for (const address of ['fd00:0:0:2::2', 'fd00:0:0:2::3']) {
      const ping = await inGuest(['ping', '-6', '-n', '-c', '2', '-i', '0.2', '-W', '2', address]);
      expect(ping.stdout).toMatch(/2 packets transmitted, 2 received/);
    }
    const closed = dgram.createSocket('udp6');
    await new Promise<void>((done) => closed.bind(0, '::1', () => done()));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((done) => closed.close(() => done()));
    const probe = await inGuest([
      'python3',
      '-c',
      [
        'import socket',
        's = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)',
        's.settimeout(5)',
        `s.connect(('fd00:0:0:2::2', ${closedPort}))`,
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

  it('reaches a guest server on its SLAAC address through --forward tcp6:HOSTPORT:8022 on [::1]', async () => {
    const guestServer = new Program('ip', [
      'netns',
      'exec',
      namespace.name,
      'python3',
      '-c',
      [
        'import socket',
        's = socket.socket(socket.AF_INET6)',
        's.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)',
        "s.bind(('::', 8022))",
        's.listen(1)',
        "print('listening', flush=True)",
        'c, a = s.accept()',
        "c.sendall(('guest ' + c.getsockname()[0] + ' sees ' + a[0] + '\\n').encode())",
        'c.close()',
      ].join('\n'),
    ]);
    await guestServer.waitFor(/listening/);
    const guestAddress = /inet6 (fd00::2:[0-9a-f:]+)\/64/.exec(
      (await inGuest(['ip', '-6', '-o', 'addr', 'show', 'dev', ifname, 'scope', 'global'])).stdout,
    )?.[1];
    const text = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(forwardPort, '::1');
      let data = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        data += chunk;
      });
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(text).toBe(`guest ${guestAddress} sees fd00:0:0:2::2\n`);
    await guestServer.finish();
  }, 60_000);

  it.skipIf(noDhclient)(
    'answers a stateless DHCPv6 client (dhclient -6 -S) with the DNS server fd00:0:0:2::3',
    async () => {
      // dhclient's script only records what it was given (the stock one would rewrite resolv.conf).
      const script = directory.file('dhclient-script');
      const seen = directory.file('dhclient-seen');
      writeFileSync(script, `#!/bin/sh\necho "$reason $new_dhcp6_name_servers" >> ${seen}\n`);
      chmodSync(script, 0o755);
      const pidFile = directory.file('dhclient.pid');
      const common = ['-6', '-lf', directory.file('dhclient.leases'), '-pf', pidFile, '-sf', script];
      try {
        // -S: Information-request only (RFC 8415 §18.2.6); -1: one try, exit 2 when nothing answers.
        const client = await inGuest(['dhclient', ...common, '-S', '-1', ifname], 60_000);
        expect(client.stderr).not.toMatch(/No DHCPv6 server|exiting/i);
      } finally {
        // -x: stop the client dhclient left running for the refresh (it runs the script once more).
        await inGuest(['dhclient', ...common, '-x', ifname], 30_000).catch(() => undefined);
      }
      // dhclient 4.4 reports configuration from an Information-request's Reply with reason RENEW6.
      expect(readFileSync(seen, 'utf8')).toMatch(/^RENEW6 fd00:0:0:2::3$/m);
    },
    90_000,
  );
});

describe.skipIf(skip || noDhclient)('tcpts gateway --dhcp6 stateful leasing to a namespace guest', () => {
  const directory = new TempDirectory();
  const ifname = uniqueInterfaceName();
  let namespace: NetworkNamespace;
  let gateway: Program;

  beforeAll(async () => {
    namespace = NetworkNamespace.create();
    namespace.ip('link', 'set', 'lo', 'up');
    gateway = new Program(
      process.execPath,
      [
        '--import',
        'tsx',
        MAIN,
        'gateway',
        '--tap',
        ifname,
        '--ipv6-prefix',
        'fd00:0:0:7::/64',
        '--dhcp6',
        'stateful',
        '--dns',
        '127.0.0.1:53',
        '--allow',
        '::1',
      ],
      { cwd: REPOSITORY },
    );
    await gateway.waitFor(/IPv6: fd00:0:0:7::\/64.*DHCPv6 with addresses/, 30_000);
    run('ip', ['link', 'set', ifname, 'netns', namespace.name]);
    namespace.exec('sysctl', '-q', '-w', `net.ipv6.conf.${ifname}.disable_ipv6=0`);
    namespace.ip('link', 'set', ifname, 'up');
  }, 120_000);

  afterAll(() => {
    gateway?.kill('SIGTERM');
    killAllPrograms();
    namespace?.delete();
    directory.remove();
  });

  const inGuest = (args: string[], timeoutMs = 60_000) =>
    runAsync('ip', ['netns', 'exec', namespace.name, ...args], timeoutMs);

  it('dhclient -6 is given fd00:0:0:7::100 and the DNS server by Solicit, Advertise, Request, Reply; the address then answers ping -6 through the gateway', async () => {
    // Until the link-local address has finished DAD: dhclient needs it as its source.
    for (let i = 0; i < 100; i++) {
      const shown = (await inGuest(['ip', '-6', '-o', 'addr', 'show', 'dev', ifname, 'scope', 'link']))
        .stdout;
      if (/inet6 fe80::/.test(shown) && !/tentative/.test(shown)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const script = directory.file('dhclient-script');
    const seen = directory.file('dhclient-seen');
    // Records what it was given and configures the address as the stock script would (without DAD).
    writeFileSync(
      script,
      [
        '#!/bin/sh',
        `echo "$reason $new_ip6_address/$new_ip6_prefixlen $new_dhcp6_name_servers" >> ${seen}`,
        'if [ "$reason" = BOUND6 ]; then ip -6 addr add "$new_ip6_address/64" dev "$interface" nodad; fi',
        '',
      ].join('\n'),
    );
    chmodSync(script, 0o755);
    const pidFile = directory.file('dhclient.pid');
    const common = ['-6', '-lf', directory.file('dhclient.leases'), '-pf', pidFile, '-sf', script];
    try {
      await inGuest(['dhclient', ...common, '-1', ifname], 60_000);
      expect(readFileSync(seen, 'utf8')).toMatch(/^BOUND6 fd00:0:0:7::100\/128 fd00:0:0:7::3$/m);
      const ping = await inGuest(
        ['ping', '-6', '-n', '-c', '1', '-W', '2', '-I', 'fd00:0:0:7::100', 'fd00:0:0:7::2'],
        30_000,
      );
      expect(ping.stdout).toMatch(/1 packets transmitted, 1 received/);
    } finally {
      await inGuest(['dhclient', ...common, '-x', ifname], 30_000).catch(() => undefined);
    }
  }, 120_000);
});
