/**
 * Whether this process can use TAP devices, and if not, why: so tests can skip with the reason and tools
 * can tell the user what to fix before trying.
 */

import { closeSync, constants, openSync, readFileSync } from 'node:fs';
import { loadNativeHelper } from './native-helper.js';
import { TUN_DEVICE_PATH } from './open-tap.js';

export interface TapAvailability {
  readonly ok: boolean;
  /** Why TAP devices cannot be used here; absent when `ok`. */
  readonly reason?: string;
  /** The error code `openTap` would fail with (ENOTSUP, ENODEV, EPERM); absent when `ok`. */
  readonly code?: string;
}

/** Bit of CAP_NET_ADMIN in the capability sets (linux/capability.h). */
const CAP_NET_ADMIN = 12n;

/**
 * Checks, without creating anything: Linux, the optional native helper, /dev/net/tun, and CAP_NET_ADMIN in
 * the effective capability set (needed to create TAP interfaces; attaching to a persistent interface owned
 * by this user would not need it, but that is the exception).
 */
export function tapAvailability(): TapAvailability {
  try {
    loadNativeHelper();
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'ENOTSUP';
    const message = (error as Error).message;
    // The error's message starts with its code; the reason is the sentence after it.
    return {
      ok: false,
      code,
      reason: message.startsWith(`${code}: `) ? message.slice(code.length + 2) : message,
    };
  }
  try {
    closeSync(openSync(TUN_DEVICE_PATH, constants.O_RDWR | constants.O_NONBLOCK));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') {
      return { ok: false, code: 'EPERM', reason: `cannot open ${TUN_DEVICE_PATH} (${code})` };
    }
    return {
      ok: false,
      code: 'ENODEV',
      reason: `${TUN_DEVICE_PATH} is not usable (${code}): load the tun kernel module or give the container the device`,
    };
  }
  const effective = effectiveCapabilities();
  if (effective !== undefined && ((effective >> CAP_NET_ADMIN) & 1n) === 0n) {
    return {
      ok: false,
      code: 'EPERM',
      reason: 'this process lacks CAP_NET_ADMIN, which creating TAP interfaces needs (run as root)',
    };
  }
  return { ok: true };
}

/** The CapEff mask from /proc/self/status, or undefined when it cannot be read. */
function effectiveCapabilities(): bigint | undefined {
  try {
    const match = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'latin1'));
    return match ? BigInt(`0x${match[1]}`) : undefined;
  } catch {
    return undefined;
  }
}
