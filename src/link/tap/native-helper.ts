/**
 * The few C calls a TAP device needs (ioctl, read, write, socket, close) and libuv readiness notification,
 * through the optional `koffi` package: a foreign-function interface that ships prebuilt binaries inside
 * its npm packages, so nothing is compiled at install time.
 *
 * The package is loaded lazily and only here, so the rest of tcpts installs and runs without it; when it is
 * missing (or too old to expose `koffi.node.poll`), `loadNativeHelper` says so with an ENOTSUP error.
 */

import { createRequire } from 'node:module';
import { tapError } from './tap-error.js';

/** Readiness a poll handle waits for. */
export interface PollInterest {
  readable?: boolean;
  writable?: boolean;
}

/** Readiness reported by a poll handle. */
export interface PollEvents {
  readable: boolean;
  writable: boolean;
  disconnect: boolean;
}

/** libuv status (0, or a negative UV_E* code when polling failed, e.g. the device vanished) and events. */
export type PollCallback = (status: number, events: PollEvents) => void;

/** A libuv `uv_poll_t` on Node's own event loop, as koffi exposes it. */
export interface PollHandle {
  /** Starts polling, or changes what is polled for. */
  start(interest: PollInterest, callback: PollCallback): void;
  stop(): void;
  /** Stops polling at once (the descriptor may be closed right after) and releases the handle. */
  close(): void;
  ref(): void;
  unref(): void;
}

/** The part of koffi used here, declared locally so tcpts typechecks whether or not koffi is installed. */
interface Koffi {
  readonly version: string;
  load(path: string | null): { func(prototype: string): (...args: unknown[]) => unknown };
  errno(): number;
  readonly os: { readonly errno: Record<string, number> };
  readonly node?: {
    readonly poll?: (fd: number, interest: PollInterest, callback: PollCallback) => PollHandle;
  };
}

/**
 * Thin wrappers over libc. Calls that fail return the negated errno (e.g. -11 for EAGAIN) instead of
 * throwing, so the per-frame paths stay branch-cheap and allocation-free.
 */
export interface NativeHelper {
  /** Version of the native helper package, for messages. */
  readonly version: string;
  read(fd: number, into: Uint8Array, length: number): number;
  write(fd: number, from: Uint8Array, length: number): number;
  /** ioctl whose argument points at `arg` (read and/or written by the kernel). */
  ioctlBuffer(fd: number, request: number, arg: Uint8Array): number;
  /** ioctl whose argument is passed by value. */
  ioctlValue(fd: number, request: number, value: number): number;
  socket(domain: number, type: number, protocol: number): number;
  close(fd: number): number;
  /** Starts a libuv poll on `fd`; the callback runs on the main thread from Node's event loop. */
  poll(fd: number, interest: PollInterest, callback: PollCallback): PollHandle;
  /** errno number -> name ('EAGAIN'), or 'E<number>' when unknown. */
  errnoName(errno: number): string;
  /** Well-known errno values of this platform. */
  readonly errno: {
    readonly EAGAIN: number;
    readonly EINTR: number;
    readonly EIO: number;
    readonly EBADFD: number;
    readonly ENODEV: number;
  };
}

let helper: NativeHelper | undefined;
let failure: Error | undefined;

/**
 * Loads koffi and binds the calls once per process. Throws an ENOTSUP error saying why TAP devices cannot
 * work here (not Linux, package not installed, package too old).
 */
export function loadNativeHelper(): NativeHelper {
  if (helper) return helper;
  if (failure) throw failure;
  try {
    helper = bindNativeHelper();
    return helper;
  } catch (error) {
    failure =
      error instanceof Error && 'code' in error
        ? error
        : tapError('ENOTSUP', `the TAP native helper failed to load: ${(error as Error).message}`);
    throw failure;
  }
}

/** dlopen(NULL): the C library Node itself is linked with, whichever it is (glibc, musl). */
function loadLibc(koffi: Koffi): ReturnType<Koffi['load']> {
  try {
    return koffi.load(null);
  } catch {
    return koffi.load('libc.so.6');
  }
}

function bindNativeHelper(): NativeHelper {
  if (process.platform !== 'linux') {
    throw tapError('ENOTSUP', `TAP devices need Linux; this is ${process.platform}`);
  }
  let koffi: Koffi;
  try {
    koffi = createRequire(import.meta.url)('koffi') as Koffi;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') {
      throw tapError('ENOTSUP', `the optional native helper 'koffi' is not installed (npm install koffi)`);
    }
    const firstLine = String((error as Error).message).split('\n')[0];
    throw tapError('ENOTSUP', `the optional native helper 'koffi' failed to load: ${firstLine}`);
  }
  const poll = koffi.node?.poll;
  if (typeof poll !== 'function') {
    throw tapError(
      'ENOTSUP',
      `koffi ${koffi.version} does not expose koffi.node.poll (libuv readiness); TAP devices need koffi >= 3`,
    );
  }

  const libc = loadLibc(koffi);
  const read = libc.func('long read(int fd, _Out_ uint8_t *buf, size_t count)') as (
    fd: number,
    buf: Uint8Array,
    count: number,
  ) => number;
  const write = libc.func('long write(int fd, const uint8_t *buf, size_t count)') as (
    fd: number,
    buf: Uint8Array,
    count: number,
  ) => number;
  // ioctl is variadic: declaring it so makes koffi follow the variadic calling convention.
  const ioctl = libc.func('int ioctl(int fd, unsigned long request, ...)') as (
    fd: number,
    request: number,
    argType: string,
    arg: Uint8Array | number,
  ) => number;
  const socket = libc.func('int socket(int domain, int type, int protocol)') as (
    domain: number,
    type: number,
    protocol: number,
  ) => number;
  const close = libc.func('int close(int fd)') as (fd: number) => number;

  const errnoValues = koffi.os.errno;
  const errnoNames = new Map<number, string>();
  for (const [name, value] of Object.entries(errnoValues)) {
    if (!errnoNames.has(value)) errnoNames.set(value, name);
  }
  const known = (name: string, linuxValue: number): number => errnoValues[name] ?? linuxValue;

  return {
    version: koffi.version,
    read: (fd, into, length) => {
      const n = read(fd, into, length);
      return n >= 0 ? n : -koffi.errno();
    },
    write: (fd, from, length) => {
      const n = write(fd, from, length);
      return n >= 0 ? n : -koffi.errno();
    },
    ioctlBuffer: (fd, request, arg) => (ioctl(fd, request, 'uint8_t *', arg) >= 0 ? 0 : -koffi.errno()),
    ioctlValue: (fd, request, value) =>
      ioctl(fd, request, 'unsigned long', value) >= 0 ? 0 : -koffi.errno(),
    socket: (domain, type, protocol) => {
      const fd = socket(domain, type, protocol);
      return fd >= 0 ? fd : -koffi.errno();
    },
    close: (fd) => (close(fd) >= 0 ? 0 : -koffi.errno()),
    poll: (fd, interest, callback) => poll(fd, interest, callback),
    errnoName: (errno) => errnoNames.get(errno) ?? `E${errno}`,
    errno: {
      EAGAIN: known('EAGAIN', 11),
      EINTR: known('EINTR', 4),
      EIO: known('EIO', 5),
      EBADFD: known('EBADFD', 77),
      ENODEV: known('ENODEV', 19),
    },
  };
}
