/**
 * A v86 guest networked by a tcpts Gateway on the emulator's bus (opt-in: `npm run test:qemu`, about half
 * a minute on 2 cores). v86 (npm, a 32-bit x86 emulator in WebAssembly) boots Debian's non-PAE i386
 * kernel with Debian's seabios; the kernel and busybox-static come from `apt-get download` of the i386
 * packages (unpacked here, nothing installed), so the machine needs `dpkg --add-architecture i386`. The
 * initramfs loads the NE2000 driver (v86's network card), takes an address by DHCP, resolves a name
 * through the gateway's DNS, downloads 1 MiB from an HTTP server on the host's 127.0.0.1 through
 * 10.0.2.2, prints its SHA-256 on the serial console, and powers off.
 */
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../src/gateway/gateway.js';
import { socketUpstream } from '../../src/gateway/socket-upstream-node.js';
import { v86Device } from '../../src/link/v86/v86-device.js';
import { Stack } from '../../src/stack.js';
import { RealClock } from '../../src/time/real-clock.js';
import { TempDirectory } from '../interop/helpers/test-data.js';
import { dnsAnswer } from './helpers/dns-responder.js';
import {
  buildV86Guest,
  V86_BIOS,
  V86_CMDLINE,
  V86_VGA_BIOS,
  V86_WASM,
  v86GuestMissing,
} from './helpers/v86-guest-files.js';

const reason = v86GuestMissing();
if (reason) console.log(`v86 guest test skipped: ${reason}`);

const PAYLOAD = Buffer.alloc(1 << 20);
for (let i = 0; i < PAYLOAD.length; i++) PAYLOAD[i] = (i * 37 + (i >>> 11)) & 0xff;

function bytes(path: string): { buffer: ArrayBuffer } {
  const data = readFileSync(path);
  return { buffer: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer };
}

interface Emulator {
  bus: Parameters<typeof v86Device>[0];
  add_listener(event: 'serial0-output-byte', listener: (byte: number) => void): void;
  destroy(): Promise<void>;
}

describe.skipIf(reason !== undefined)('a v86 guest on a tcpts Gateway over the emulator bus', () => {
  const directory = new TempDirectory();
  let server: http.Server;
  let dns: dgram.Socket;
  let emulator: Emulator | undefined;
  let gateway: Gateway | undefined;
  let guest: { kernel: string; initrd: string };

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
    guest = buildV86Guest(directory, (server.address() as AddressInfo).port);
  }, 300_000);

  afterAll(async () => {
    gateway?.close();
    await emulator?.destroy();
    server?.close();
    dns?.close();
    directory.remove();
  });

  it('boots, leases 10.0.2.15, resolves through 10.0.2.3 and downloads sha256-exact', async () => {
    // Imported by a name in a variable so that type-checking does not need the package installed.
    const emulatorPackage = 'v86';
    const { V86 } = (await import(emulatorPackage)) as { V86: new (options: object) => Emulator };
    emulator = new V86({
      wasm_path: V86_WASM,
      bios: bytes(V86_BIOS),
      vga_bios: bytes(V86_VGA_BIOS),
      bzimage: bytes(guest.kernel),
      initrd: bytes(guest.initrd),
      cmdline: V86_CMDLINE,
      memory_size: 128 << 20,
      autostart: true,
      disable_keyboard: true,
      disable_mouse: true,
      net_device: { type: 'ne2k' },
    });
    gateway = new Gateway({
      stack: new Stack({ name: 'gateway', clock: new RealClock() }),
      device: v86Device(emulator.bus, { mac: 0x52550a000202 }),
      upstream: socketUpstream(),
      dnsUpstream: { address: '127.0.0.1', port: (dns.address() as AddressInfo).port },
    });
    let console_ = '';
    await new Promise<void>((done, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`no GUEST-DONE after 240 s:\n${console_.slice(-3000)}`)),
        240_000,
      );
      emulator!.add_listener('serial0-output-byte', (byte) => {
        console_ += String.fromCharCode(byte);
        if (console_.includes('GUEST-DONE')) {
          clearTimeout(timer);
          done();
        }
      });
    });
    if (!console_.includes('LEASE')) console.log(console_.slice(-3000));
    expect(console_).toMatch(/LEASE ip=10\.0\.2\.15 router=10\.0\.2\.2 dns=10\.0\.2\.3/);
    expect(console_).toMatch(/RESOLVED 10\.0\.2\.2/);
    const sha = createHash('sha256').update(PAYLOAD).digest('hex');
    expect(console_).toMatch(new RegExp(`DOWNLOAD ${sha}`));
  }, 300_000);
});
