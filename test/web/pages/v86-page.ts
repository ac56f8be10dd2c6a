/**
 * The page of the v86 browser test: v86 (npm's browser-capable build, loaded as a module the test serves)
 * boots a Debian i386 guest whose NE2000 card is on a tcpts Gateway in the page, over the emulator's bus;
 * the gateway's upstream is tcpts's WISP client on the page's WebSocket to `tcpts wisp`. The guest's serial
 * console is kept for the test (`window.tcptsV86.serial()`). Built by esbuild for the browser: only
 * tcpts's browser entry; v86 itself is imported at run time from the URL the test serves it at.
 */
import {
  Gateway,
  RealClock,
  Stack,
  type V86BusLike,
  v86Device,
  WispClient,
  wispUpstream,
} from '../../../src/browser.js';

interface Emulator {
  bus: V86BusLike;
  add_listener(event: 'serial0-output-byte', listener: (byte: number) => void): void;
}

let serial = '';
let gateway: Gateway | undefined;

async function boot(options: { wispUrl: string; dnsPort: number; cmdline: string }) {
  // A URL in a variable: esbuild leaves the import to the browser.
  const emulatorModule = '/libv86.mjs';
  const { V86 } = (await import(emulatorModule)) as { V86: new (options: object) => Emulator };
  const client = await WispClient.connect(options.wispUrl);
  const emulator = new V86({
    wasm_path: '/v86.wasm',
    bios: { url: '/bios.bin' },
    vga_bios: { url: '/vgabios.bin' },
    bzimage: { url: '/bzimage' },
    initrd: { url: '/initrd.gz' },
    cmdline: options.cmdline,
    memory_size: 128 << 20,
    autostart: true,
    disable_keyboard: true,
    disable_mouse: true,
    net_device: { type: 'ne2k' },
  });
  emulator.add_listener('serial0-output-byte', (byte) => {
    serial += String.fromCharCode(byte);
  });
  gateway = new Gateway({
    stack: new Stack({ name: 'gateway', clock: new RealClock() }),
    device: v86Device(emulator.bus, { mac: 0x52_55_0a_00_02_02 }),
    upstream: wispUpstream(client),
    dnsUpstream: { address: '127.0.0.1', port: options.dnsPort },
  });
  return client.version;
}

(window as unknown as { tcptsV86: unknown }).tcptsV86 = {
  boot,
  serial: () => serial,
  counters: () => JSON.stringify(gateway?.counters),
};
document.body.dataset.ready = 'yes';
