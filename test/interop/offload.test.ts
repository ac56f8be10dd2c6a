/**
 * TAP offload against the real kernel, in a namespace of the test's own: with virtio-net headers the
 * kernel hands tcpts TCP packets of up to 64 KiB with checksums it vouches for, and takes tcpts's TSO
 * packets of up to 64 KiB whole; every transfer is checked by SHA-256, and the kernel's own counters and
 * `ethtool -k` say what it did. Without offload (asked for, or refused), frames stay within the MTU and
 * every checksum is verified, as before.
 */
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from '../../src/api/net/socket.js';
import { createTapHost, type TapHost } from '../../src/cli/tap-host.js';
import type { FrameTransmitOptions } from '../../src/link/device.js';
import { openTap, type TapDevice } from '../../src/link/tap/index.js';
import { parseIpv4 } from '../../src/wire/address.js';
import { parseIpv6 } from '../../src/wire/ipv6-address.js';
import { NetworkNamespace, run, uniqueInterfaceName } from '../tap/helpers/namespace.js';
import { explainSkip, TAP_AVAILABILITY } from './helpers/kernel-peer.js';
import { killAllPrograms, Program } from './helpers/program.js';
import { sha256sumOutput, TempDirectory, type TestFile, writeTestFile } from './helpers/test-data.js';

const skip = explainSkip('TAP offload interop');
const SIZE = 32 * 1024 * 1024;
const MSS = 1460;
const SMALL_SIZE = 2 * 1024 * 1024;

let directory: TempDirectory;
let file: TestFile;
/** A smaller file for transfers in 536-byte segments. */
let smallFile: TestFile;
const namespaces = new Set<NetworkNamespace>();
const hosts = new Set<TapHost>();

beforeAll(() => {
  if (skip) return;
  directory = new TempDirectory();
  file = writeTestFile(directory.file('data.bin'), SIZE, 'offload');
  smallFile = writeTestFile(directory.file('small.bin'), SMALL_SIZE, 'offload-small');
});

afterAll(() => {
  killAllPrograms();
  for (const host of hosts) host.close();
  for (const namespace of namespaces) namespace.delete();
  directory?.remove();
});

interface Link {
  namespace: NetworkNamespace;
  ifname: string;
  host: TapHost;
  tap: TapDevice;
  kernelAddress: string;
  tcptsAddress: string;
  close(): void;
}

/** The IPv6 addresses of a link made with `ipv6`: the kernel's and tcpts's. */
const KERNEL_IPV6 = 'fd00:91:7::1';
const TCPTS_IPV6 = 'fd00:91:7::2';

/**
 * A TAP (opened with or without offload) whose kernel side lives in a fresh namespace, tcpts on ours;
 * `gateway`: the kernel side is tcpts's default gateway; `ipv6`: both sides also have an IPv6 address
 * (KERNEL_IPV6, TCPTS_IPV6; wait for tcpts's DAD with `ipv6Ready`).
 */
function link(offload: boolean, gateway = false, receiveCoalescing = true, ipv6 = false): Link {
  const namespace = NetworkNamespace.create();
  namespaces.add(namespace);
  const ifname = uniqueInterfaceName();
  const tap = openTap({ name: ifname, up: false, offload, receiveCoalescing });
  let host: TapHost;
  try {
    namespace.adopt(ifname, '10.91.7.1/24');
    if (ipv6) {
      namespace.exec('sysctl', '-q', '-w', `net.ipv6.conf.${ifname}.disable_ipv6=0`);
      namespace.ip('addr', 'add', `${KERNEL_IPV6}/64`, 'dev', ifname, 'nodad');
    }
    host = createTapHost({
      tap,
      ip: '10.91.7.2/24',
      gateway: gateway ? '10.91.7.1' : undefined,
      ...(ipv6 ? { ipv6: [`${TCPTS_IPV6}/64`] } : {}),
    });
  } catch (error) {
    tap.close();
    throw error;
  }
  hosts.add(host);
  return {
    namespace,
    ifname,
    host,
    tap,
    kernelAddress: '10.91.7.1',
    tcptsAddress: '10.91.7.2',
    close() {
      hosts.delete(host);
      host.close();
      namespace.delete();
      namespaces.delete(namespace);
    },
  };
}

/** Resolves once tcpts's IPv6 address passed duplicate address detection (on the real clock). */
async function ipv6Ready(l: Link): Promise<void> {
  const address = parseIpv6(TCPTS_IPV6)!;
  for (let i = 0; i < 100 && !l.host.stack.ipv6.isLocalAddress(address); i++)
    await new Promise((resolve) => setTimeout(resolve, 50));
  expect(l.host.stack.ipv6.isLocalAddress(address)).toBe(true);
}

/** Every TCP frame tcpts hands the TAP: its payload length and the TSO segment size it asked for (0: none). */
function recordTcpSends(l: Link): { payload: number; segmentSize: number }[] {
  const sent: { payload: number; segmentSize: number }[] = [];
  const send = l.tap.send.bind(l.tap);
  l.tap.send = (frame: Uint8Array, options?: FrameTransmitOptions) => {
    const ip = frame.subarray(14);
    if (frame[12] === 0x08 && frame[13] === 0x00 && ip[9] === 6) {
      const ipHeader = (ip[0]! & 0x0f) * 4;
      const total = (ip[2]! << 8) | ip[3]!;
      const tcpHeader = (ip[ipHeader + 12]! >>> 4) * 4;
      sent.push({ payload: total - ipHeader - tcpHeader, segmentSize: options?.segmentSize ?? 0 });
    }
    send(frame, options);
  };
  return sent;
}

/** `ethtool -k` of the kernel side, as feature -> on/off. */
function kernelFeatures(l: Link): Map<string, boolean> {
  const text = l.namespace.exec('ethtool', '-k', l.ifname);
  const features = new Map<string, boolean>();
  for (const match of text.matchAll(/^\s*([a-z0-9-]+): (on|off)/gm))
    features.set(match[1]!, match[2] === 'on');
  return features;
}

/** The kernel's count of packets it received from tcpts on the TAP (one per write() tcpts made). */
function kernelReceivedPackets(l: Link): number {
  return Number(l.namespace.exec('cat', `/sys/class/net/${l.ifname}/statistics/rx_packets`).trim());
}

/** socat in the namespace sends the test file to tcpts; resolves with what tcpts received. */
async function kernelSendsToTcpts(
  l: Link,
  port: number,
  target = `TCP:${l.tcptsAddress}:${port}`,
): Promise<{ bytes: number; sha256: string }> {
  const received = new Promise<{ bytes: number; sha256: string }>((resolve, reject) => {
    const server = l.host.net.createServer((socket: Socket) => {
      const hash = createHash('sha256');
      let bytes = 0;
      socket.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        bytes += chunk.length;
      });
      socket.on('end', () => {
        server.close();
        resolve({ bytes, sha256: hash.digest('hex') });
      });
      socket.on('error', reject);
    });
    server.listen(port);
  });
  const socat = new Program('ip', [
    'netns',
    'exec',
    l.namespace.name,
    'socat',
    '-u',
    `OPEN:${file.path},rdonly`,
    target,
  ]);
  const [result, exit] = await Promise.all([received, socat.exited]);
  expect(exit.code).toBe(0);
  return result;
}

/**
 * tcpts sends the test file to socat in `namespace` (default: the link's), listening on `address`;
 * resolves with the SHA-256 the kernel side saw.
 */
async function tcptsSendsToKernel(
  l: Link,
  port: number,
  namespace = l.namespace,
  address = l.kernelAddress,
  options: { file?: TestFile; listenOptions?: string; pacedWrites?: number } = {},
): Promise<string> {
  const sink = new Program('ip', [
    'netns',
    'exec',
    namespace.name,
    'sh',
    '-c',
    `socat -u TCP-LISTEN:${port},reuseaddr${options.listenOptions ?? ''} STDOUT | sha256sum`,
  ]);
  // socat listens once ss shows the socket.
  for (let i = 0; i < 100; i++) {
    if (namespace.exec('ss', '-Hltn', `sport = :${port}`).trim() !== '') break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await new Promise<void>((resolve, reject) => {
    const socket = l.host.net.connect({ host: address, port }, async () => {
      const path = (options.file ?? file).path;
      // `pacedWrites` writes of 1000 bytes first, each once the one before is acknowledged: segments
      // shorter than the MTU yet longer than a small MSS.
      const paced = options.pacedWrites ?? 0;
      if (paced > 0) {
        const head = readFileSync(path).subarray(0, paced * 1000);
        for (let at = 0; at < head.length; at += 1000) {
          socket.write(head.subarray(at, at + 1000));
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      }
      createReadStream(path, { start: paced * 1000 }).pipe(socket);
    });
    socket.on('finish', resolve);
    socket.on('error', reject);
  });
  const exit = await sink.exited;
  expect(exit.code).toBe(0);
  return sha256sumOutput(sink.stdout);
}

describe.skipIf(skip)('TAP offload with the Linux kernel', () => {
  it('the kernel hands tcpts 64 KiB packets with vouched-for checksums; the data arrives sha-exact', async () => {
    const l = link(true);
    try {
      expect(l.tap.offloadStatus).toEqual({
        enabled: true,
        headerLength: 12,
        receiveChecksum: true,
        receiveLargeTcp: true,
        receiveLargeTcp6: true,
      });
      const features = kernelFeatures(l);
      expect(features.get('tx-tcp-segmentation')).toBe(true);
      expect(features.get('tx-checksum-ip-generic')).toBe(true);

      const result = await kernelSendsToTcpts(l, 9101);
      expect(result).toEqual({ bytes: SIZE, sha256: file.sha256 });
      const stats = l.tap.stats;
      expect(stats.largeFramesReceived).toBeGreaterThan(0);
      expect(stats.trustedChecksumFrames).toBeGreaterThan(0);
      expect(stats.framesTruncated + stats.framesMalformed).toBe(0);
      // Far fewer reads than 1460-byte segments: the kernel's GSO packets arrived whole.
      expect(stats.framesReceived).toBeLessThan(SIZE / MSS / 4);
      expect(l.host.stack.counters.TcpInCsumErrors).toBe(0);
    } finally {
      l.close();
    }
  }, 60_000);

  /** socat in the namespace listens and sends the test file; tcpts connects and reads with onread. */
  async function tcptsReadsIntoBuffer(l: Link, port: number): Promise<void> {
    const source = new Program('ip', [
      'netns',
      'exec',
      l.namespace.name,
      'socat',
      '-u',
      `OPEN:${file.path},rdonly`,
      `TCP-LISTEN:${port},reuseaddr`,
    ]);
    for (let i = 0; i < 100; i++) {
      if (l.namespace.exec('ss', '-Hltn', `sport = :${port}`).trim() !== '') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const hash = createHash('sha256');
    let bytes = 0;
    await new Promise<void>((resolve, reject) => {
      const socket = l.host.net.connect({
        host: l.kernelAddress,
        port,
        onread: {
          buffer: Buffer.allocUnsafe(256 * 1024),
          callback: (count: number, buffer: Uint8Array) => {
            hash.update(buffer.subarray(0, count));
            bytes += count;
            return true;
          },
        },
      });
      socket.on('end', resolve);
      socket.on('error', reject);
    });
    expect((await source.exited).code).toBe(0);
    expect({ bytes, sha256: hash.digest('hex') }).toEqual({ bytes: SIZE, sha256: file.sha256 });
  }

  it('read into a buffer of the application (onread), the 64 KiB packets go back to the device as they are copied: sha-exact, in a few slabs', async () => {
    const l = link(true);
    try {
      await tcptsReadsIntoBuffer(l, 9108);
      const stats = l.tap.stats;
      expect(stats.largeFramesReceived).toBeGreaterThan(0);
      // Packets of 16 KiB or more were held by TCP as they came and given back once copied out (smaller
      // ones were copied at once), so the reads went into the same memory again: the held ones alone,
      // left to the collector, would have taken a slab of 256 KiB for every few of them.
      expect(stats.heldFramesGivenBack).toBeGreaterThan(0);
      expect(stats.receiveSlabsAllocated).toBeLessThan(8);
    } finally {
      l.close();
    }
  }, 60_000);

  it('without offload, read with onread, the merged packets go back to the coalescer as they are copied: sha-exact', async () => {
    const l = link(false);
    try {
      await tcptsReadsIntoBuffer(l, 9109);
      const coalescing = l.tap.coalescing!;
      // 32 MiB in merged packets of up to 64 KiB, each held by TCP and given back once copied: left to
      // the collector, they would have taken a slab of 256 KiB for every few packets.
      expect(coalescing.packetsMerged).toBeGreaterThan(100);
      expect(coalescing.heldPacketsGivenBack).toBeGreaterThan(0);
      expect(coalescing.slabsAllocated).toBeLessThan(8);
    } finally {
      l.close();
    }
  }, 60_000);

  it('tcpts hands the kernel TSO packets of up to 64 KiB; the kernel takes them and the data arrives sha-exact', async () => {
    const l = link(true);
    try {
      const before = kernelReceivedPackets(l);
      expect(await tcptsSendsToKernel(l, 9102)).toBe(file.sha256);
      const stats = l.tap.stats;
      expect(stats.largeFramesSent).toBeGreaterThan(0);
      expect(stats.sendErrors + stats.framesOversize).toBe(0);
      // The kernel counts one packet per write(): far fewer than the 1460-byte segments the data makes.
      const packets = kernelReceivedPackets(l) - before;
      expect(packets).toBe(stats.framesSent);
      expect(packets).toBeLessThan(SIZE / MSS / 4);
    } finally {
      l.close();
    }
  }, 60_000);

  it('over IPv6 the kernel and tcpts hand each other 64 KiB TCP packets (GSO_TCPV6) both ways, sha-exact', async () => {
    const l = link(true, false, true, true);
    try {
      expect(l.tap.offloadStatus).toMatchObject({ receiveLargeTcp: true, receiveLargeTcp6: true });
      expect(kernelFeatures(l).get('tx-tcp6-segmentation')).toBe(true);
      await ipv6Ready(l);
      // tcpts -> kernel: TSO packets the kernel cuts (or takes whole for its own socket).
      const stats = l.tap.stats;
      const before = kernelReceivedPackets(l);
      const sentBefore = stats.framesSent;
      expect(await tcptsSendsToKernel(l, 9109, l.namespace, KERNEL_IPV6, { listenOptions: ',pf=ip6' })).toBe(
        file.sha256,
      );
      expect(stats.largeFramesSent).toBeGreaterThan(0);
      expect(stats.sendErrors + stats.framesOversize).toBe(0);
      // One packet per write(), as over IPv4 (neighbour discovery and MLD included on both sides).
      const packets = kernelReceivedPackets(l) - before;
      expect(packets).toBe(stats.framesSent - sentBefore);
      expect(packets).toBeLessThan(SIZE / (MSS - 20) / 4);
      // kernel -> tcpts: the kernel's GSO packets arrive whole, checksums vouched for.
      const largeBefore = stats.largeFramesReceived;
      const readsBefore = stats.framesReceived;
      expect(await kernelSendsToTcpts(l, 9110, `TCP6:[${TCPTS_IPV6}]:9110`)).toEqual({
        bytes: SIZE,
        sha256: file.sha256,
      });
      expect(stats.largeFramesReceived - largeBefore).toBeGreaterThan(0);
      expect(stats.framesReceived - readsBefore).toBeLessThan(SIZE / (MSS - 20) / 4);
      expect(stats.framesTruncated + stats.framesMalformed).toBe(0);
      expect(l.host.stack.counters.TcpInCsumErrors).toBe(0);
    } finally {
      l.close();
    }
  }, 60_000);

  it('TSO through a kernel router to a smaller MTU: "fragmentation needed" shrinks the pieces, data sha-exact', async () => {
    const l = link(true, true);
    const far = NetworkNamespace.create();
    namespaces.add(far);
    try {
      // Router (the TAP's namespace) -> veth, MTU 1400 on the router's end -> far host 10.91.9.2, whose
      // own MTU of 1500 makes it offer MSS 1460: the bottleneck is in the middle of the path.
      const routerEnd = uniqueInterfaceName();
      const farEnd = uniqueInterfaceName();
      l.namespace.ip('link', 'add', routerEnd, 'mtu', '1400', 'type', 'veth', 'peer', 'name', farEnd);
      l.namespace.ip('link', 'set', farEnd, 'netns', far.name);
      l.namespace.exec('sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');
      l.namespace.ip('addr', 'add', '10.91.9.1/24', 'dev', routerEnd);
      l.namespace.ip('link', 'set', routerEnd, 'up');
      far.ip('link', 'set', 'lo', 'up');
      far.ip('link', 'set', farEnd, 'mtu', '1500');
      far.ip('addr', 'add', '10.91.9.2/24', 'dev', farEnd);
      far.ip('link', 'set', farEnd, 'up');
      far.ip('route', 'add', 'default', 'via', '10.91.9.1');

      const farAddress = parseIpv4('10.91.9.2')!;
      expect(await tcptsSendsToKernel(l, 9105, far, '10.91.9.2')).toBe(file.sha256);
      // The router checked the segments a TSO packet stands for against its 1400-byte MTU and answered
      // "fragmentation needed"; tcpts learned the path MTU and went on with TSO packets of smaller pieces.
      expect(l.host.stack.ip.pathMtu.get(farAddress)).toBe(1400);
      expect(l.host.stack.ip.mtuFor(farAddress)).toBe(1400);
      expect(l.tap.stats.largeFramesSent).toBeGreaterThan(0);
      expect(l.tap.stats.framesSent).toBeLessThan(SIZE / 1360 / 4);
    } finally {
      far.delete();
      namespaces.delete(far);
      l.close();
    }
  }, 60_000);

  for (const offload of [true, false]) {
    it(`a kernel listener announcing MSS 536 never gets a longer segment from tcpts (offload ${offload ? 'on' : 'off'})`, async () => {
      const l = link(offload);
      try {
        const sent = recordTcpSends(l);
        expect(
          await tcptsSendsToKernel(l, 9106, l.namespace, l.kernelAddress, {
            file: smallFile,
            listenOptions: ',mss=536',
            pacedWrites: 20,
          }),
        ).toBe(smallFile.sha256);
        // Every frame tcpts wrote: a plain one carries at most 536 bytes; a TSO one is cut by the kernel
        // into pieces of 536 less the 12-byte timestamp option both ends use, whatever its size relative
        // to the 1500-byte MTU.
        const data = sent.filter((f) => f.payload > 0);
        expect(data.length).toBeGreaterThan(0);
        expect(
          Math.max(...data.filter((f) => f.segmentSize === 0).map((f) => f.payload)),
        ).toBeLessThanOrEqual(536);
        const tso = data.filter((f) => f.segmentSize > 0);
        if (offload) {
          expect(tso.length).toBeGreaterThan(0);
          expect(new Set(tso.map((f) => f.segmentSize))).toEqual(new Set([536 - 12]));
        } else {
          expect(tso).toEqual([]);
        }
        expect(l.tap.stats.sendErrors + l.tap.stats.framesOversize).toBe(0);
      } finally {
        l.close();
      }
    }, 60_000);
  }

  it('without offload the kernel sends frames within the MTU and tcpts verifies every checksum', async () => {
    const l = link(false);
    try {
      expect(l.tap.offload).toBeUndefined();
      expect(l.tap.offloadStatus.enabled).toBe(false);
      const features = kernelFeatures(l);
      expect(features.get('tx-tcp-segmentation')).toBe(false);
      expect(features.get('tx-checksum-ip-generic')).toBe(false);

      expect(await kernelSendsToTcpts(l, 9103)).toEqual({ bytes: SIZE, sha256: file.sha256 });
      const stats = l.tap.stats;
      expect(stats.largeFramesReceived + stats.trustedChecksumFrames + stats.framesTruncated).toBe(0);
      expect(stats.framesReceived).toBeGreaterThan(SIZE / MSS);
      expect(await tcptsSendsToKernel(l, 9104)).toBe(file.sha256);
      expect(stats.largeFramesSent).toBe(0);
      expect(stats.framesSent).toBeGreaterThan(SIZE / MSS);
    } finally {
      l.close();
    }
  }, 60_000);

  for (const coalescing of [true, false]) {
    it(`without offload, receive coalescing ${coalescing ? 'on merges' : 'off passes'} the kernel's MTU-sized segments${coalescing ? ' before IP' : ' one by one'}`, async () => {
      const l = link(false, false, coalescing);
      try {
        expect(await kernelSendsToTcpts(l, coalescing ? 9107 : 9108)).toEqual({
          bytes: SIZE,
          sha256: file.sha256,
        });
        const stats = l.tap.stats;
        const ipPackets = l.host.stack.counters.IpInReceives;
        expect(stats.largeFramesReceived).toBe(0);
        expect(stats.framesReceived).toBeGreaterThan(SIZE / MSS);
        expect(l.host.stack.counters.TcpInCsumErrors).toBe(0);
        if (coalescing) {
          // Segments read in one wake-up reach IP as one packet: far fewer IP packets than frames read.
          const merged = l.tap.coalescing!;
          expect(merged.packetsMerged).toBeGreaterThan(0);
          // (A few frames read are not IPv4: the kernel's ARP and IPv6 neighbour discovery.)
          expect(ipPackets).toBeLessThanOrEqual(stats.framesReceived - merged.segmentsMerged);
          expect(ipPackets).toBeGreaterThan(stats.framesReceived - merged.segmentsMerged - 16);
          expect(ipPackets).toBeLessThan(stats.framesReceived / 2);
        } else {
          expect(l.tap.coalescing).toBeUndefined();
          expect(ipPackets).toBeLessThanOrEqual(stats.framesReceived);
          expect(ipPackets).toBeGreaterThan(stats.framesReceived - 16);
        }
      } finally {
        l.close();
      }
    }, 60_000);
  }

  it('attaching without offload resets the offloads an earlier owner of the interface enabled', () => {
    const ifname = uniqueInterfaceName();
    const first = openTap({ name: ifname, offload: true, persistent: true });
    first.close();
    const tso = (): string =>
      /tx-tcp-segmentation: (on|off)/.exec(run('ethtool', ['-k', ifname]))?.[1] ?? 'missing';
    try {
      expect(tso()).toBe('on');
      const second = openTap({ name: ifname, mode: 'attach', persistent: false });
      expect(tso()).toBe('off');
      second.close();
    } finally {
      try {
        run('ip', ['link', 'delete', ifname]);
      } catch {
        // Deleted with its last descriptor, as it should be.
      }
    }
  });

  it('createTapHost uses offload by default, and not with a capture in between', () => {
    const host = createTapHost({ tap: uniqueInterfaceName(), ip: '10.91.8.2/24' });
    try {
      expect(host.tap.offloadStatus.enabled).toBe(TAP_AVAILABILITY.ok);
      expect(host.device).toBe(host.tap);
    } finally {
      host.close();
    }
    const pcap = directory.file('offload.pcap');
    const captured = createTapHost({ tap: uniqueInterfaceName(), ip: '10.91.8.2/24', pcap });
    try {
      expect(captured.tap.offloadStatus.enabled).toBe(false);
    } finally {
      captured.close();
    }
    expect(() =>
      createTapHost({ tap: uniqueInterfaceName(), ip: '10.91.8.2/24', pcap, offload: true }),
    ).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});
