/**
 * A tcpts host on a Linux TAP device (Node only): one call opens (or creates) the TAP interface, builds a
 * Stack on a RealClock, gives it an IPv4 address, prefix, gateway and MTU, and hands back the stack with
 * its Node-style `net` and `dgram` modules.
 *
 *   const host = createTapHost({ tap: 'tap0', ip: '10.9.0.2/24', gateway: '10.9.0.1', pcap: 'tap0.pcap' });
 *   host.net.createServer((socket) => socket.pipe(socket)).listen(7);
 *   ...
 *   host.close();
 *
 * The devices are layered stack -> capture -> impairments -> TAP: the pcap file shows what tcpts itself
 * sent and received, so a frame the impairment drops on the way in never appears, while one it drops on
 * the way out does (the stack did send it).
 *
 * Offload (TSO and checksum offload through virtio-net headers, see `openTap`) is on by default when the
 * kernel allows it and the stack talks to the TAP directly; a capture or impairments in between see frames
 * one by one as the wire carries them, so with either of them the TAP is opened without offload.
 */
import { createDgramApi, type DgramApi } from '../api/dgram/dgram-api.js';
import { createNetApi, type NetApi } from '../api/net/net-api.js';
import { tcpLayerOf } from '../api/tcp-layer-of-stack.js';
import type { IpInterface } from '../ip/ip-interface.js';
import { captureDevice } from '../link/capture.js';
import type { NetworkDevice } from '../link/device.js';
import { impairDevice } from '../link/impaired-device.js';
import type { LinkImpairments } from '../link/impairments.js';
import { openTap, type TapDevice } from '../link/tap/index.js';
import { createPcapFile } from '../pcap/pcap-file-node.js';
import type { PcapWriter } from '../pcap/pcap-writer.js';
import { Stack } from '../stack.js';
import type { TcpConfig } from '../tcp/config.js';
import type { TcpLayer } from '../tcp/tcp-layer.js';
import { RealClock } from '../time/real-clock.js';
import type { Tracer } from '../trace/events.js';
import type { Seed } from '../util/random.js';
import { type MacAddress, parseMac } from '../wire/address.js';

export interface TapHostOptions {
  /**
   * The TAP interface: a name (attached when it exists, created otherwise; creating needs CAP_NET_ADMIN),
   * or a device already opened with `openTap`.
   */
  tap: string | TapDevice;
  /**
   * tcpts's IPv4 address and prefix on the link, e.g. '10.9.0.2/24'. May be left out when `ipv6` gives
   * addresses: the host then runs IPv6 only.
   */
  ip?: string;
  /** Default gateway (on the link's subnet): IPv4, or with `ipv6`, an IPv6 router's address. */
  gateway?: string;
  /**
   * Link MTU. With a TAP name it is set on the kernel interface too, so both stations agree on it;
   * with an open device it only lowers tcpts's interface MTU. Default: the interface's MTU.
   */
  mtu?: number;
  /**
   * tcpts's MAC address ('02:00:00:00:00:01' or the 48-bit number). Default: a random locally
   * administered address, never the kernel interface's own.
   */
  mac?: string | MacAddress;
  /** Records every frame tcpts sends and receives on the link to this pcap file (created or truncated). */
  pcap?: string;
  /**
   * Announce the IPv4 address with a gratuitous ARP when the host comes up (RFC 5227 §2.3), so a kernel
   * that cached another MAC for it (an earlier run on the same address) updates at once. Default true.
   */
  announce?: boolean;
  /** IPv6 addresses with prefix length (e.g. 'fd00::2/64'): IPv6 runs beside IPv4 on the device. */
  ipv6?: readonly string[];
  /** Seeded faults on tcpts's side of the link (testing against real peers under loss). */
  impairments?: {
    inbound?: LinkImpairments;
    outbound?: LinkImpairments;
    seed?: Seed;
  };
  /** Host name in traces. Default 'tcpts'. */
  name?: string;
  tracer?: Tracer;
  /** TCP settings for every connection opened or accepted through `net` (buffer sizes, MSL, ...). */
  tcp?: Partial<TcpConfig>;
  /** Frames the kernel queues for tcpts before dropping (the TAP's txqueuelen). Default: keep it. */
  kernelQueueLength?: number;
  /**
   * TCP segmentation and checksum offload with the kernel (`openTap`'s `offload`), for a TAP opened here.
   * Default: on, unless `pcap` or `impairments` is given (they need frames as the wire carries them);
   * asking for it together with either is an EINVAL error. Falls back to plain frames when the kernel
   * refuses (`tap.offloadStatus` says why).
   */
  offload?: boolean;
}

export interface TapHost {
  readonly stack: Stack;
  /** The kernel TAP device under everything. */
  readonly tap: TapDevice;
  /** The device the stack talks to (the TAP, possibly wrapped for capture and impairments). */
  readonly device: NetworkDevice;
  /** The IPv4 interface; undefined on an IPv6-only host (see `stack.ipv6.interfaces`). */
  readonly interface: IpInterface | undefined;
  readonly clock: RealClock;
  readonly tcp: TcpLayer;
  /** Node's `net` over this host. */
  readonly net: NetApi;
  /** Node's `dgram` (udp4) over this host. */
  readonly dgram: DgramApi;
  /** The capture, when `pcap` was given. */
  readonly pcap: PcapWriter | undefined;
  /**
   * Shuts the host down: every TCP connection is aborted (the peers get a reset), the stack is closed,
   * the pcap file flushed and closed, and the TAP device released (a TAP interface this host created and
   * did not make persistent disappears). Idempotent.
   */
  close(): void;
}

/**
 * Builds a host on a TAP device. Throws an Error with `code`: the TAP's (ENOTSUP, ENODEV, EPERM, EBUSY,
 * EINVAL, see `openTap`) or the stack's (EINVAL for a bad address, prefix, gateway or MTU; ENETUNREACH for
 * a gateway off the subnet). Nothing is left open when it throws.
 */
export function createTapHost(options: TapHostOptions): TapHost {
  const mac = options.mac === undefined ? undefined : toMac(options.mac);
  const wrapped = options.pcap !== undefined || options.impairments !== undefined;
  if (wrapped && (options.offload === true || (typeof options.tap !== 'string' && options.tap.offload))) {
    // A capture or impairment device passes frames on without the per-frame offload information.
    throw Object.assign(
      new Error('TAP offload cannot be combined with pcap or impairments: open the TAP without offload'),
      { code: 'EINVAL' },
    );
  }
  const clock = new RealClock();
  const ownsTap = typeof options.tap === 'string';
  const tap =
    typeof options.tap === 'string'
      ? openTap({
          name: options.tap,
          mac,
          mtu: options.mtu,
          kernelQueueLength: options.kernelQueueLength,
          offload: options.offload ?? !wrapped,
          // Impairments work on wire-size frames (an ImpairedPath drops frames beyond the MTU).
          receiveCoalescing: options.impairments === undefined,
        })
      : options.tap;
  let pcap: PcapWriter | undefined;
  try {
    let device: NetworkDevice = tap;
    const impairments = options.impairments;
    if (impairments !== undefined) {
      device = impairDevice(device, {
        clock,
        seed: impairments.seed,
        inbound: impairments.inbound,
        outbound: impairments.outbound,
        tracer: options.tracer,
      });
    }
    if (options.pcap !== undefined) {
      // Wall-clock timestamps: the clock counts from process start, the file wants the Unix epoch.
      pcap = createPcapFile(options.pcap, { timeOriginMs: performance.timeOrigin });
      device = captureDevice(device, pcap, clock);
    }
    const stack = new Stack({ name: options.name ?? 'tcpts', clock, tracer: options.tracer });
    if (options.ip === undefined && (options.ipv6 === undefined || options.ipv6.length === 0)) {
      throw Object.assign(new Error('a TAP host needs an IPv4 or an IPv6 address'), { code: 'EINVAL' });
    }
    const gateway6 = options.gateway?.includes(':') === true ? options.gateway : undefined;
    const iface =
      options.ip === undefined
        ? undefined
        : stack.addInterface(device, {
            address: options.ip,
            gateway: gateway6 === undefined ? options.gateway : undefined,
            mtu: ownsTap ? undefined : options.mtu,
            arp: { announce: options.announce ?? true },
          });
    if (options.ipv6 !== undefined) {
      stack.addIpv6Interface(device, {
        addresses: options.ipv6,
        gateway: gateway6,
        mtu: ownsTap ? undefined : options.mtu,
      });
    }
    const tcp = tcpLayerOf(stack);
    const net = createNetApi(stack, { tcp: options.tcp });
    const dgram = createDgramApi(stack);
    let closed = false;
    const writer = pcap;
    return {
      stack,
      tap,
      device,
      interface: iface,
      clock,
      tcp,
      net,
      dgram,
      pcap: writer,
      close() {
        if (closed) return;
        closed = true;
        try {
          tcp.shutdown();
          stack.close();
        } finally {
          writer?.close();
          device.close?.();
          tap.close();
          clock.close();
        }
      },
    };
  } catch (error) {
    pcap?.close();
    if (ownsTap) tap.close();
    clock.close();
    throw error;
  }
}

function toMac(input: string | MacAddress): MacAddress {
  const mac = typeof input === 'number' ? input : parseMac(input);
  if (mac === undefined || !Number.isInteger(mac) || mac <= 0 || mac > 0xffff_ffff_ffff) {
    throw Object.assign(new Error(`invalid MAC address: ${String(input)}`), { code: 'EINVAL' });
  }
  return mac;
}
