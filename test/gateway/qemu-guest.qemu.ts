/**
 * A QEMU guest networked by `tcpts gateway` over `-netdev stream` (opt-in: `npm run test:qemu`, about a
 * minute under TCG on 2 cores). Debian's kernel (the linux-image-amd64 package, downloaded and unpacked
 * at test time with apt-get download: nothing is installed) boots a busybox initramfs built at test time;
 * the guest takes its address by DHCP, resolves a name through the gateway's DNS, downloads 4 MiB from an
 * HTTP server on the host's 127.0.0.1 through 10.0.2.2, prints its SHA-256, and powers off.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { readdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAllPrograms, Program } from '../interop/helpers/program.js';
import { TempDirectory } from '../interop/helpers/test-data.js';
import { dnsAnswer } from './helpers/dns-responder.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));
const BUILD = fileURLToPath(new URL('./qemu/build-initramfs.sh', import.meta.url));

function missing(): string | undefined {
  for (const tool of ['qemu-system-x86_64', 'busybox', 'cpio', 'apt-get', 'dpkg']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} is not installed`;
    }
  }
  return undefined;
}

const reason = missing();
if (reason) console.log(`QEMU guest test skipped: ${reason}`);

const PAYLOAD = Buffer.alloc(4 << 20);
for (let i = 0; i < PAYLOAD.length; i++) PAYLOAD[i] = (i * 41 + (i >>> 13)) & 0xff;

describe.skipIf(reason !== undefined)('a QEMU guest on tcpts gateway over -netdev stream', () => {
  const directory = new TempDirectory();
  let server: http.Server;
  let dns: dgram.Socket;
  let gateway: Program;
  let qemu: Program;

  beforeAll(async () => {
    server = http.createServer((_request, response) => {
      response.writeHead(200, { 'content-length': String(PAYLOAD.length) });
      response.end(PAYLOAD);
    });
    await new Promise<void>((d) => server.listen(0, '127.0.0.1', () => d()));
    dns = dgram.createSocket('udp4', (message, rinfo) => {
      const answer = dnsAnswer(message, { 'files.test': '10.0.2.2' });
      if (answer) dns.send(answer, rinfo.port, rinfo.address);
    });
    await new Promise<void>((d) => dns.bind(0, '127.0.0.1', () => d()));
    // Debian's kernel, unpacked here (the package's dependency names the current version).
    const depends = execFileSync('apt-cache', ['depends', 'linux-image-amd64'], { encoding: 'utf8' });
    const image = /Depends: (linux-image-\S+)/.exec(depends)![1]!;
    execFileSync('apt-get', ['download', image], { cwd: directory.path, stdio: 'ignore' });
    const deb = readdirSync(directory.path).find((f) => f.endsWith('.deb'))!;
    execFileSync('dpkg', ['-x', deb, 'tree'], { cwd: directory.path });
    execFileSync(BUILD, [
      directory.file('tree'),
      directory.file('initrd.gz'),
      String((server.address() as AddressInfo).port),
    ]);
  }, 300_000);

  afterAll(() => {
    qemu?.kill('SIGKILL');
    gateway?.kill('SIGTERM');
    killAllPrograms();
    server?.close();
    dns?.close();
    directory.remove();
  });

  it('boots, leases 10.0.2.15, resolves through 10.0.2.3 and downloads sha256-exact', async () => {
    const socketPath = directory.file('net.sock');
    gateway = new Program(
      process.execPath,
      [
        '--import',
        'tsx',
        MAIN,
        'gateway',
        '--stream-listen',
        `unix:${socketPath}`,
        '--dns',
        `127.0.0.1:${(dns.address() as AddressInfo).port}`,
        '--allow',
        '127.0.0.0/8',
      ],
      { cwd: REPOSITORY },
    );
    await gateway.waitFor(/waiting for the guest/, 30_000);
    const kernel = readdirSync(directory.file('tree/boot')).find((f) => f.startsWith('vmlinuz'))!;
    qemu = new Program('qemu-system-x86_64', [
      '-m',
      '256',
      '-nographic',
      '-no-reboot',
      '-kernel',
      directory.file(`tree/boot/${kernel}`),
      '-initrd',
      directory.file('initrd.gz'),
      '-append',
      'console=ttyS0 quiet panic=-1',
      '-netdev',
      `stream,id=n0,server=off,addr.type=unix,addr.path=${socketPath}`,
      '-device',
      'virtio-net-pci,netdev=n0',
    ]);
    await qemu.waitFor(/GUEST-DONE/, 240_000, 'stdout');
    const transcript = qemu.stdout.replace(/\x1b\[[0-9;?]*[a-zA-Z]|\x1bc/g, '');
    if (!transcript.includes('LEASE')) console.log(transcript.slice(-3000));
    expect(qemu.stdout).toMatch(/LEASE ip=10\.0\.2\.15 router=10\.0\.2\.2 dns=10\.0\.2\.3/);
    expect(qemu.stdout).toMatch(/RESOLVED 10\.0\.2\.2/);
    const sha = createHash('sha256').update(PAYLOAD).digest('hex');
    expect(qemu.stdout).toMatch(new RegExp(`DOWNLOAD ${sha}`));
    await gateway.waitFor(/gateway ready/, 1000);
  }, 300_000);
});
