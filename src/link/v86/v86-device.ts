/**
 * A link to the v86 emulator's network card through its bus: v86 emits 'net0-send' with each frame the
 * guest transmits, and takes frames for the guest with `bus.send('net0-receive', frame)`. Pass the
 * emulator's bus (`emulator.bus`) and put the device under a gateway:
 *
 *   const device = v86Device(emulator.bus, { name: 'v86', mac });
 *   new Gateway({ stack, device, upstream: wispUpstream(...) });
 */
import type { MacAddress } from '../../wire/address.js';
import { FramePort } from '../frame-port.js';

/** The part of v86's bus the device uses. */
export interface V86BusLike {
  register(name: 'net0-send', listener: (frame: Uint8Array) => void, context?: unknown): void;
  send(name: 'net0-receive', frame: Uint8Array): void;
  unregister?(name: 'net0-send', listener: (frame: Uint8Array) => void): void;
}

export interface V86DeviceOptions {
  name?: string;
  mac: MacAddress;
  mtu?: number;
}

export function v86Device(bus: V86BusLike, options: V86DeviceOptions): FramePort {
  let open = true;
  const listener = (frame: Uint8Array): void => {
    if (open) port.deliver(frame);
  };
  const port = new FramePort(
    { name: options.name ?? 'v86-net0', mac: options.mac, mtu: options.mtu },
    (frame) => {
      if (!open) return false;
      bus.send('net0-receive', frame);
      return true;
    },
    () => {
      open = false;
      bus.unregister?.('net0-send', listener);
    },
  );
  bus.register('net0-send', listener);
  return port;
}
