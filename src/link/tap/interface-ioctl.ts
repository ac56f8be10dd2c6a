/**
 * The ioctls that create or attach a TAP device and configure its kernel interface, with the `struct ifreq`
 * they take (linux/if.h, linux/if_tun.h, linux/sockios.h).
 *
 * Attaching is done on the /dev/net/tun descriptor (TUNSETIFF, TUNSETPERSIST); interface settings (up,
 * MTU, queue length, hardware address) are socket ioctls on a throwaway AF_INET datagram socket, exactly
 * what `ip link` does through netlink with the same effect.
 */

import { endianness } from 'node:os';
import type { NativeHelper } from './native-helper.js';
import { tapError } from './tap-error.js';

/** IFNAMSIZ: interface names are at most 15 bytes plus a terminating NUL. */
export const INTERFACE_NAME_MAX = 15;

/** `struct ifreq` is 40 bytes on 64-bit Linux (32 on 32-bit); the larger buffer serves both. */
const IFREQ_SIZE = 40;
/** The union after the name starts at byte 16: ifr_flags (short), ifr_mtu / ifr_qlen (int), ifr_hwaddr. */
const IFREQ_UNION = 16;

const LITTLE_ENDIAN = endianness() === 'LE';

// linux/if_tun.h
const IFF_TAP = 0x0002;
const IFF_NO_PI = 0x1000;
/** Every frame read or written is preceded by a `struct virtio_net_hdr` (offload metadata). */
export const IFF_VNET_HDR = 0x4000;
/** Fail with EBUSY instead of attaching when the interface already exists. */
const IFF_TUN_EXCL = 0x8000;

// linux/if.h
const IFF_UP = 0x1;

// linux/sockios.h (the same numbers on every Linux architecture)
const SOCKET_IOCTL = {
  SIOCGIFFLAGS: 0x8913,
  SIOCSIFFLAGS: 0x8914,
  SIOCGIFMTU: 0x8921,
  SIOCSIFMTU: 0x8922,
  SIOCGIFHWADDR: 0x8927,
  SIOCGIFINDEX: 0x8933,
  SIOCGIFTXQLEN: 0x8942,
  SIOCSIFTXQLEN: 0x8943,
} as const;
type SocketIoctl = keyof typeof SOCKET_IOCTL;

const AF_INET = 2;
const SOCK_DGRAM = 2;

/**
 * _IOC() of asm-generic/ioctl.h. MIPS, PowerPC and SPARC encode the direction in 3 bits at bit 29 with a
 * 13-bit size, and "write" is 4 there instead of 1.
 */
function ioctlNumber(direction: 'read' | 'write', type: string, number: number, size: number): number {
  const legacy = ['mips', 'mipsel', 'ppc', 'ppc64'].includes(process.arch);
  const dirBits = legacy ? (direction === 'write' ? 4 : 2) : direction === 'write' ? 1 : 2;
  const dirShift = legacy ? 29 : 30;
  return dirBits * 2 ** dirShift + size * 0x10000 + type.charCodeAt(0) * 0x100 + number;
}

const SIZEOF_INT = 4;
const TUNSETIFF = ioctlNumber('write', 'T', 202, SIZEOF_INT);
const TUNSETPERSIST = ioctlNumber('write', 'T', 203, SIZEOF_INT);
const TUNGETFEATURES = ioctlNumber('read', 'T', 207, SIZEOF_INT);
const TUNSETOFFLOAD = ioctlNumber('write', 'T', 208, SIZEOF_INT);
const TUNSETVNETHDRSZ = ioctlNumber('write', 'T', 216, SIZEOF_INT);
const TUNSETVNETLE = ioctlNumber('write', 'T', 220, SIZEOF_INT);

// linux/if_tun.h: what TUNSETOFFLOAD lets the kernel hand us.
/** Packets may carry a partial checksum (VIRTIO_NET_HDR_F_NEEDS_CSUM); needed by every other offload. */
export const TUN_F_CSUM = 0x01;
/** IPv4 TCP packets up to 64 KiB, to be read as one (VIRTIO_NET_HDR_GSO_TCPV4). */
export const TUN_F_TSO4 = 0x02;
/** IPv6 TCP packets up to 64 KiB, to be read as one (VIRTIO_NET_HDR_GSO_TCPV6). */
export const TUN_F_TSO6 = 0x04;

/** A name the kernel accepts (dev_valid_name): 1-15 printable bytes, no '/', ':' or whitespace. */
export function isValidInterfaceName(name: string): boolean {
  return /^[\x21-\x7e]{1,15}$/.test(name) && !/[/:]/.test(name) && name !== '.' && name !== '..';
}

function newIfreq(name: string): { bytes: Uint8Array; view: DataView } {
  const bytes = new Uint8Array(IFREQ_SIZE);
  for (let i = 0; i < name.length; i++) bytes[i] = name.charCodeAt(i);
  return { bytes, view: new DataView(bytes.buffer) };
}

function ifreqName(bytes: Uint8Array): string {
  let end = 0;
  while (end < INTERFACE_NAME_MAX + 1 && bytes[end] !== 0) end++;
  return String.fromCharCode(...bytes.subarray(0, end));
}

/**
 * TUNSETIFF: binds the /dev/net/tun descriptor to TAP interface `name`, creating it when missing (or failing
 * with EBUSY when `exclusive` and it exists). IFF_NO_PI: frames come and go as plain Ethernet, without the
 * 4-byte packet-information prefix. Returns the interface's name (the kernel fills in patterns like 'tap%d').
 */
export function attachTap(
  native: NativeHelper,
  fd: number,
  name: string,
  exclusive: boolean,
  vnetHeader = false,
): string {
  const ifr = newIfreq(name);
  const flags = IFF_TAP | IFF_NO_PI | (exclusive ? IFF_TUN_EXCL : 0) | (vnetHeader ? IFF_VNET_HDR : 0);
  ifr.view.setUint16(IFREQ_UNION, flags, LITTLE_ENDIAN);
  const result = native.ioctlBuffer(fd, TUNSETIFF, ifr.bytes);
  if (result < 0) throw attachError(native, -result, name, exclusive);
  return ifreqName(ifr.bytes);
}

function attachError(native: NativeHelper, errno: number, name: string, exclusive: boolean): Error {
  const code = native.errnoName(errno);
  const details = { errno, syscall: 'ioctl(TUNSETIFF)' };
  const label = name === '' ? 'a new TAP device' : `TAP device '${name}'`;
  switch (code) {
    case 'EPERM':
    case 'EACCES':
      return tapError(
        'EPERM',
        `not permitted to create or attach ${label}: this needs CAP_NET_ADMIN (run as root or grant the ` +
          `capability), or a persistent device owned by this user ('ip tuntap add NAME mode tap user USER')`,
        details,
      );
    case 'EBUSY':
      return tapError(
        'EBUSY',
        exclusive
          ? `${label} already exists (creation was requested, not attachment)`
          : `${label} is already attached by another process`,
        details,
      );
    case 'EINVAL':
      return tapError(
        'EINVAL',
        `${label} exists but is not a single-queue TAP device (TUN, or multi-queue)`,
        details,
      );
    default:
      return tapError(code, `cannot create or attach ${label}: ioctl TUNSETIFF failed with ${code}`, details);
  }
}

/** TUNSETPERSIST: a persistent interface outlives the descriptor; a non-persistent one is deleted with it. */
export function setPersistent(native: NativeHelper, fd: number, name: string, persistent: boolean): void {
  const result = native.ioctlValue(fd, TUNSETPERSIST, persistent ? 1 : 0);
  if (result < 0) {
    const code = native.errnoName(-result);
    throw tapError(code, `cannot make '${name}' ${persistent ? '' : 'non-'}persistent (${code})`, {
      errno: -result,
      syscall: 'ioctl(TUNSETPERSIST)',
    });
  }
}

/** TUNGETFEATURES: the IFF_* flags this kernel's TUNSETIFF accepts (0 when the ioctl itself is refused). */
export function tunFeatures(native: NativeHelper, fd: number): number {
  const arg = new Uint8Array(SIZEOF_INT);
  if (native.ioctlBuffer(fd, TUNGETFEATURES, arg) < 0) return 0;
  return new DataView(arg.buffer).getUint32(0, LITTLE_ENDIAN);
}

/** TUNSETVNETHDRSZ: the size of the header before each frame (10, or 12 with virtio 1.0's num_buffers). */
export function setVnetHeaderSize(native: NativeHelper, fd: number, size: number): number {
  const arg = new Uint8Array(SIZEOF_INT);
  new DataView(arg.buffer).setInt32(0, size, LITTLE_ENDIAN);
  return native.ioctlBuffer(fd, TUNSETVNETHDRSZ, arg);
}

/** TUNSETVNETLE: little-endian header fields whatever the host's byte order (virtio 1.0 style). */
export function setVnetLittleEndian(native: NativeHelper, fd: number): number {
  const arg = new Uint8Array(SIZEOF_INT);
  new DataView(arg.buffer).setInt32(0, 1, LITTLE_ENDIAN);
  return native.ioctlBuffer(fd, TUNSETVNETLE, arg);
}

/** TUNSETOFFLOAD (argument by value): which TUN_F_* offloads the kernel may use towards us. */
export function setTunOffload(native: NativeHelper, fd: number, flags: number): number {
  return native.ioctlValue(fd, TUNSETOFFLOAD, flags);
}

/** Interface settings through socket ioctls; `close()` releases the socket. */
export class InterfaceControl {
  private readonly socketFd: number;

  constructor(private readonly native: NativeHelper) {
    const fd = native.socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
      const code = native.errnoName(-fd);
      throw tapError(code, `cannot open a control socket for interface settings (${code})`, {
        errno: -fd,
        syscall: 'socket',
      });
    }
    this.socketFd = fd;
  }

  close(): void {
    this.native.close(this.socketFd);
  }

  /** True when an interface of that name exists in this process's network namespace. */
  exists(name: string): boolean {
    const ifr = newIfreq(name);
    const result = this.native.ioctlBuffer(this.socketFd, SOCKET_IOCTL.SIOCGIFINDEX, ifr.bytes);
    if (result === 0) return true;
    if (result === -this.native.errno.ENODEV) return false;
    throw this.failure(-result, 'SIOCGIFINDEX', `cannot look up interface '${name}'`);
  }

  /** Sets IFF_UP (administratively up), as `ip link set NAME up` does. */
  setUp(name: string): void {
    const ifr = newIfreq(name);
    this.call(ifr.bytes, 'SIOCGIFFLAGS', `cannot read the flags of '${name}'`);
    const flags = ifr.view.getUint16(IFREQ_UNION, LITTLE_ENDIAN);
    if (flags & IFF_UP) return;
    ifr.view.setUint16(IFREQ_UNION, flags | IFF_UP, LITTLE_ENDIAN);
    this.call(ifr.bytes, 'SIOCSIFFLAGS', `cannot set '${name}' up`);
  }

  getMtu(name: string): number {
    const ifr = newIfreq(name);
    this.call(ifr.bytes, 'SIOCGIFMTU', `cannot read the MTU of '${name}'`);
    return ifr.view.getInt32(IFREQ_UNION, LITTLE_ENDIAN);
  }

  setMtu(name: string, mtu: number): void {
    const ifr = newIfreq(name);
    ifr.view.setInt32(IFREQ_UNION, mtu, LITTLE_ENDIAN);
    this.call(ifr.bytes, 'SIOCSIFMTU', `cannot set the MTU of '${name}' to ${mtu}`);
  }

  getTxQueueLength(name: string): number {
    const ifr = newIfreq(name);
    this.call(ifr.bytes, 'SIOCGIFTXQLEN', `cannot read the queue length of '${name}'`);
    return ifr.view.getInt32(IFREQ_UNION, LITTLE_ENDIAN);
  }

  /** For a TAP interface this sizes the kernel's queue of frames waiting for us to read them. */
  setTxQueueLength(name: string, length: number): void {
    const ifr = newIfreq(name);
    ifr.view.setInt32(IFREQ_UNION, length, LITTLE_ENDIAN);
    this.call(ifr.bytes, 'SIOCSIFTXQLEN', `cannot set the queue length of '${name}' to ${length}`);
  }

  /** The kernel side's own MAC (ifr_hwaddr.sa_data), as 6 bytes. */
  getHardwareAddress(name: string): Uint8Array {
    const ifr = newIfreq(name);
    this.call(ifr.bytes, 'SIOCGIFHWADDR', `cannot read the hardware address of '${name}'`);
    return ifr.bytes.slice(IFREQ_UNION + 2, IFREQ_UNION + 8);
  }

  private call(ifr: Uint8Array, request: SocketIoctl, what: string): void {
    const result = this.native.ioctlBuffer(this.socketFd, SOCKET_IOCTL[request], ifr);
    if (result < 0) throw this.failure(-result, request, what);
  }

  private failure(errno: number, request: string, what: string): Error {
    const code = this.native.errnoName(errno);
    const hint = code === 'EPERM' || code === 'EACCES' ? ': this needs CAP_NET_ADMIN' : '';
    return tapError(code === 'EACCES' ? 'EPERM' : code, `${what} (${code})${hint}`, {
      errno,
      syscall: `ioctl(${request})`,
    });
  }
}
