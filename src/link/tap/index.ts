/**
 * Linux TAP devices for tcpts (Node only): `openTap` returns a `NetworkDevice` attached to a kernel TAP
 * interface; `tapAvailability` says whether that can work in this process.
 */

export { type TapAvailability, tapAvailability } from './availability.js';
export { openTap, randomLocalMac, type TapOpenMode, type TapOptions, TUN_DEVICE_PATH } from './open-tap.js';
export { TapDevice, type TapStatistics } from './tap-device.js';
export type { TapError } from './tap-error.js';
