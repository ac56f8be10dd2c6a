/**
 * What a v86 guest boots from, for the v86 tests (in Node and in a Chromium page): Debian's seabios, and
 * Debian's non-PAE i386 kernel with a busybox-static:i386 initramfs (test/gateway/qemu/build-initramfs.sh)
 * whose init takes a DHCP lease, resolves files.test through 10.0.2.3, downloads
 * http://files.test:PORT/payload, prints its SHA-256 on the serial console and `GUEST-DONE`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TempDirectory } from '../../interop/helpers/test-data.js';

const BUILD = fileURLToPath(new URL('../qemu/build-initramfs.sh', import.meta.url));
export const V86_BIOS = '/usr/share/seabios/bios.bin';
export const V86_VGA_BIOS = '/usr/share/seabios/vgabios-stdvga.bin';
export const V86_WASM = fileURLToPath(new URL('../../../node_modules/v86/build/v86.wasm', import.meta.url));
export const V86_CMDLINE = 'console=ttyS0 quiet panic=-1';

/** Why a v86 guest cannot be built on this machine, or undefined when it can. */
export function v86GuestMissing(): string | undefined {
  for (const tool of ['cpio', 'apt-get', 'dpkg']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} is not installed`;
    }
  }
  if (!existsSync(V86_BIOS)) return `${V86_BIOS} is missing (Debian package seabios)`;
  const foreign = execFileSync('dpkg', ['--print-foreign-architectures'], { encoding: 'utf8' });
  if (!foreign.split('\n').includes('i386'))
    return 'dpkg has no i386 architecture (dpkg --add-architecture i386)';
  return undefined;
}

/**
 * Downloads the i386 kernel and busybox (`apt-get download`, unpacked in `directory`, nothing installed)
 * and builds the initramfs for a payload server on `port`; returns the kernel's and initramfs' paths.
 */
export function buildV86Guest(directory: TempDirectory, port: number): { kernel: string; initrd: string } {
  const depends = execFileSync('apt-cache', ['depends', 'linux-image-686:i386'], { encoding: 'utf8' });
  const image = /Depends: (linux-image-\S+)/.exec(depends)![1]!;
  execFileSync('apt-get', ['download', image, 'busybox-static:i386'], {
    cwd: directory.path,
    stdio: 'ignore',
  });
  for (const deb of readdirSync(directory.path).filter((f) => f.endsWith('.deb'))) {
    execFileSync('dpkg', ['-x', deb, 'tree'], { cwd: directory.path });
  }
  execFileSync(BUILD, [
    directory.file('tree'),
    directory.file('initrd.gz'),
    String(port),
    directory.file('tree/bin/busybox'),
    '8390 ne2k-pci',
  ]);
  const kernel = readdirSync(directory.file('tree/boot')).find((f) => f.startsWith('vmlinuz'))!;
  return { kernel: directory.file(`tree/boot/${kernel}`), initrd: directory.file('initrd.gz') };
}
