/**
 * Opening a TAP device: create or attach the kernel interface, configure it, and wrap the descriptor in a
 * `TapDevice`.
 */

import { randomBytes } from 'node:crypto';
import { closeSync, constants, openSync } from 'node:fs';
import { endianness } from 'node:os';
import type { Clock } from '../../time/clock.js';
import type { Tracer } from '../../trace/events.js';
import { isGroupMac, type MacAddress, readMac } from '../../wire/address.js';
import {
  attachTap,
  IFF_VNET_HDR,
  InterfaceControl,
  isValidInterfaceName,
  setPersistent,
  setTunOffload,
  setVnetHeaderSize,
  setVnetLittleEndian,
  TUN_F_CSUM,
  TUN_F_TSO4,
  TUN_F_TSO6,
  tunFeatures,
} from './interface-ioctl.js';
import { loadNativeHelper, type NativeHelper } from './native-helper.js';
import { TapDevice, type TapVirtioHeaderParameters } from './tap-device.js';
import { tapError } from './tap-error.js';
import { VIRTIO_NET_HEADER_LENGTH, VIRTIO_NET_HEADER_LENGTH_V1 } from './virtio-net-header.js';

export const TUN_DEVICE_PATH = '/dev/net/tun';

/**
 * - 'create-or-attach': attach to the interface if it exists, create it otherwise.
 * - 'create': create it; EBUSY if it exists.
 * - 'attach': attach to an existing TAP interface; ENODEV if there is none.
 */
export type TapOpenMode = 'create-or-attach' | 'create' | 'attach';

export interface TapOptions {
  /**
   * Interface name (at most 15 bytes). A name with '%d', such as 'tap%d', lets the kernel pick the first
   * free number; that is the default, with mode 'create'.
   */
  name?: string;
  /** Default 'create-or-attach' when a name is given. */
  mode?: TapOpenMode;
  /**
   * tcpts's MAC address on this link. Default: a random locally administered unicast address. It is never
   * the kernel interface's own address: the kernel and tcpts are two stations on one wire.
   */
  mac?: MacAddress;
  /** Sets the kernel interface's MTU (68-65535). Default: keep it (1500 for a new interface). */
  mtu?: number;
  /**
   * true: the interface outlives this process (TUNSETPERSIST). false: it is deleted when the device is
   * closed. Default: leave as it is (new interfaces are not persistent).
   */
  persistent?: boolean;
  /** Sets the kernel interface administratively up. Default true. */
  up?: boolean;
  /**
   * Sets the interface's txqueuelen, which for a TAP interface is how many frames the kernel holds for
   * tcpts to read before it drops (default 1000 for a new interface). Larger absorbs longer bursts.
   */
  kernelQueueLength?: number;
  /** Frames that may wait when the kernel refuses a write with EAGAIN; more are dropped. Default 1024. */
  sendQueueLimit?: number;
  /** Most frames read per wake-up before other callbacks get a turn. Default 256. */
  receiveBudget?: number;
  /**
   * Offload (IFF_VNET_HDR with TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6): the kernel hands over IPv4 and IPv6
   * TCP packets of up to 64 KiB whose checksums it vouches for, and takes such packets from the stack,
   * which it segments itself; one system call then moves up to 44 segments instead of one. The device offers this
   * to the stack as `device.offload`, so only a stack (or a wrapper) that understands `ReceivedFrameInfo`
   * may receive from it. When the kernel refuses, the device runs without, and `offloadStatus.reason` says
   * why. Default false.
   */
  offload?: boolean;
  /**
   * Receive coalescing (Linux GRO, see link/tcp-receive-coalescer.ts): in-order TCP segments of one flow
   * read in one wake-up reach the stack as one packet of up to 64 KiB, so IP and TCP work once per batch.
   * Default true, as `ethtool -K dev gro on` is Linux's default.
   */
  receiveCoalescing?: boolean;
  /** Receives a 'drop' event (layer 'tap') for every frame the device drops. */
  tracer?: Tracer;
  /** Time source for trace events; default `performance.now()`. */
  clock?: Clock;
}

const DEFAULT_SEND_QUEUE_LIMIT = 1024;
const DEFAULT_RECEIVE_BUDGET = 256;
const MIN_IPV4_MTU = 68;
const MAX_MTU = 65535;

/**
 * Creates or attaches a TAP interface and returns it as a `NetworkDevice`. Throws an Error with `code`:
 * ENOTSUP (not Linux, or the optional native helper 'koffi' is not installed), ENODEV (no /dev/net/tun, or
 * mode 'attach' and no such interface), EPERM (no CAP_NET_ADMIN), EBUSY (attached elsewhere, or mode
 * 'create' and it exists), EINVAL (bad options, or the interface is not a TAP).
 */
export function openTap(options: TapOptions = {}): TapDevice {
  const settings = validateOptions(options);
  const native = loadNativeHelper();
  const fd = openTunDescriptor();
  try {
    return configure(native, fd, settings, options);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

interface Settings {
  name: string;
  mode: TapOpenMode;
  mac: MacAddress;
  sendQueueLimit: number;
  receiveBudget: number;
}

function configure(native: NativeHelper, fd: number, settings: Settings, options: TapOptions): TapDevice {
  const control = new InterfaceControl(native);
  try {
    let existed = false;
    if (!settings.name.includes('%')) {
      existed = control.exists(settings.name);
      if (settings.mode === 'attach' && !existed) {
        throw tapError('ENODEV', `there is no interface '${settings.name}' to attach to`);
      }
    }
    let refusal: string | undefined;
    if (options.offload === true && (tunFeatures(native, fd) & IFF_VNET_HDR) === 0) {
      refusal = 'this kernel does not offer virtio-net headers on TAP devices (IFF_VNET_HDR)';
    }
    const vnet = options.offload === true && refusal === undefined;
    const name = attachTap(native, fd, settings.name, settings.mode === 'create', vnet);
    const virtioHeader = vnet ? negotiateOffload(native, fd) : undefined;
    // An interface attached without headers must not keep offloads a previous owner enabled: the kernel
    // would hand us 64 KiB packets with nothing to say what they are. New interfaces start without any.
    if (!vnet && existed) setTunOffload(native, fd, 0);
    if (options.mtu !== undefined) control.setMtu(name, options.mtu);
    if (options.kernelQueueLength !== undefined) control.setTxQueueLength(name, options.kernelQueueLength);
    if (options.up ?? true) control.setUp(name);
    const mtu = control.getMtu(name);
    const kernelMac = readMac(control.getHardwareAddress(name), 0);
    // Last, so a failure above leaves no persistent interface behind (closing the descriptor deletes it).
    if (options.persistent !== undefined) setPersistent(native, fd, name, options.persistent);
    return new TapDevice({
      native,
      fd,
      name,
      mtu,
      mac: settings.mac,
      kernelMac,
      created: !existed,
      sendQueueLimit: settings.sendQueueLimit,
      receiveBudget: settings.receiveBudget,
      receiveCoalescing: options.receiveCoalescing !== false,
      tracer: options.tracer,
      clock: options.clock,
      virtioHeader,
      offloadRefusal: refusal,
    });
  } finally {
    control.close();
  }
}

/**
 * Sets up the virtio-net header on a descriptor attached with IFF_VNET_HDR: its size (12 bytes, as virtio
 * 1.0 devices use; 10 when the kernel refuses), its byte order (little-endian, the kernel's default on
 * little-endian hosts), and which offloads the kernel may use towards us, falling back from
 * checksum + TSO for both IP versions to checksum + IPv4 TSO, to checksum only, to none. In every case we may still send TSO and partial-checksum frames:
 * what the kernel accepts from the descriptor does not depend on TUNSETOFFLOAD. Exported for tests.
 */
export function negotiateOffload(native: NativeHelper, fd: number): TapVirtioHeaderParameters {
  const reasons: string[] = [];
  let length = VIRTIO_NET_HEADER_LENGTH_V1;
  if (setVnetHeaderSize(native, fd, length) < 0) {
    length = VIRTIO_NET_HEADER_LENGTH;
    reasons.push('TUNSETVNETHDRSZ refused: 10-byte headers');
  }
  let littleEndian = endianness() === 'LE';
  if (!littleEndian && setVnetLittleEndian(native, fd) === 0) littleEndian = true;
  let receiveChecksum = true;
  let receiveLargeTcp = true;
  let receiveLargeTcp6 = true;
  if (setTunOffload(native, fd, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) < 0) {
    receiveLargeTcp6 = false;
    if (setTunOffload(native, fd, TUN_F_CSUM | TUN_F_TSO4) < 0) {
      receiveLargeTcp = false;
      if (setTunOffload(native, fd, TUN_F_CSUM) < 0) {
        receiveChecksum = false;
        setTunOffload(native, fd, 0);
        reasons.push('TUNSETOFFLOAD refused: the kernel sends plain frames');
      } else {
        reasons.push('TUNSETOFFLOAD refused TSO4: the kernel sends frames of at most the MTU');
      }
    } else {
      reasons.push('TUNSETOFFLOAD refused TSO6: the kernel sends IPv6 frames of at most the MTU');
    }
  }
  return {
    length,
    littleEndian,
    receiveChecksum,
    receiveLargeTcp,
    receiveLargeTcp6,
    ...(reasons.length > 0 ? { reason: reasons.join('; ') } : {}),
  };
}

function openTunDescriptor(): number {
  try {
    // Node adds O_CLOEXEC; O_NONBLOCK because every read and write happens on the event loop's thread.
    return openSync(TUN_DEVICE_PATH, constants.O_RDWR | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
    if (code === 'ENOENT' || code === 'ENXIO' || code === 'ENODEV') {
      throw tapError(
        'ENODEV',
        `${TUN_DEVICE_PATH} is missing: load the tun kernel module (modprobe tun), or give the container the device`,
        { syscall: 'open' },
      );
    }
    if (code === 'EACCES' || code === 'EPERM') {
      throw tapError(
        'EPERM',
        `cannot open ${TUN_DEVICE_PATH} (${code}): run as root or fix its permissions`,
        {
          syscall: 'open',
        },
      );
    }
    throw tapError(code, `cannot open ${TUN_DEVICE_PATH}: ${(error as Error).message}`, { syscall: 'open' });
  }
}

function validateOptions(options: TapOptions): Settings {
  const name = options.name ?? 'tap%d';
  if (!isValidInterfaceName(name)) {
    throw tapError(
      'EINVAL',
      `invalid interface name '${name}': 1-15 printable characters, no '/', ':' or spaces`,
    );
  }
  const mode = options.mode ?? (options.name === undefined ? 'create' : 'create-or-attach');
  if (mode !== 'create-or-attach' && mode !== 'create' && mode !== 'attach') {
    throw tapError('EINVAL', `invalid mode '${String(mode)}'`);
  }
  if (mode === 'attach' && name.includes('%')) {
    throw tapError('EINVAL', `mode 'attach' needs an exact interface name, got '${name}'`);
  }
  if (options.mtu !== undefined && !isIntegerIn(options.mtu, MIN_IPV4_MTU, MAX_MTU)) {
    throw tapError('EINVAL', `invalid MTU ${options.mtu}: an integer from ${MIN_IPV4_MTU} to ${MAX_MTU}`);
  }
  if (options.kernelQueueLength !== undefined && !isIntegerIn(options.kernelQueueLength, 1, 0x7fffffff)) {
    throw tapError('EINVAL', `invalid kernelQueueLength ${options.kernelQueueLength}: a positive integer`);
  }
  const sendQueueLimit = options.sendQueueLimit ?? DEFAULT_SEND_QUEUE_LIMIT;
  if (!isIntegerIn(sendQueueLimit, 0, 1 << 24)) {
    throw tapError('EINVAL', `invalid sendQueueLimit ${sendQueueLimit}: an integer from 0 to ${1 << 24}`);
  }
  const receiveBudget = options.receiveBudget ?? DEFAULT_RECEIVE_BUDGET;
  if (!isIntegerIn(receiveBudget, 1, 1 << 24)) {
    throw tapError('EINVAL', `invalid receiveBudget ${receiveBudget}: an integer from 1 to ${1 << 24}`);
  }
  const mac = options.mac ?? randomLocalMac();
  if (!isIntegerIn(mac, 1, 0xffff_ffff_ffff) || isGroupMac(mac)) {
    throw tapError('EINVAL', `invalid MAC address ${mac}: a non-zero unicast 48-bit address`);
  }
  return { name, mode, mac, sendQueueLimit, receiveBudget };
}

function isIntegerIn(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

/** A random unicast address with the locally administered bit set (IEEE 802 U/L bit), like Linux's. */
export function randomLocalMac(): MacAddress {
  const bytes = randomBytes(6);
  bytes[0] = (bytes[0]! & 0xfc) | 0x02;
  return readMac(bytes, 0);
}
