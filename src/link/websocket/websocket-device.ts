/**
 * A link over a WebSocket, one Ethernet frame per binary message — the convention of the relays that
 * in-browser emulators use (v86's, container2wasm's). Works with the browser's WebSocket and with Node's
 * `ws` (both dispatch 'message' events whose `data` is an ArrayBuffer once `binaryType` is
 * 'arraybuffer'). Text messages and frames of a wrong size are counted and dropped.
 *
 * While `bufferedAmount` exceeds `maxBufferedBytes`, frames are dropped (counted) rather than queued
 * without bound: TCP above recovers, and memory stays bounded.
 */
import type { MacAddress } from '../../wire/address.js';
import { FramePort } from '../frame-port.js';

/** The part of the WebSocket interface the device uses (browser WebSocket, `ws`). */
export interface WebSocketLike {
  binaryType: string;
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: () => void): void;
}

export interface WebSocketDeviceOptions {
  name: string;
  mac: MacAddress;
  mtu?: number;
  /** Default 1 MiB. */
  maxBufferedBytes?: number;
}

const OPEN = 1;

export function webSocketDevice(socket: WebSocketLike, options: WebSocketDeviceOptions): FramePort {
  const maxBuffered = options.maxBufferedBytes ?? 1 << 20;
  socket.binaryType = 'arraybuffer';
  const port = new FramePort(
    options,
    (frame) => {
      if (socket.readyState !== OPEN || socket.bufferedAmount > maxBuffered) return false;
      socket.send(frame);
      return true;
    },
    () => socket.close(1000, 'device closed'),
  );
  socket.addEventListener('message', (event) => {
    const data = event.data;
    if (data instanceof ArrayBuffer) port.deliver(new Uint8Array(data));
    else if (ArrayBuffer.isView(data))
      port.deliver(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    else port.counters.malformedIn++;
  });
  socket.addEventListener('close', () => port.close());
  return port;
}
