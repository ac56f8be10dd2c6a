/**
 * A link over a WebSocket. By default one Ethernet frame per binary message — the convention of the relays
 * in-browser emulators use (v86's). With `framing: 'stream'` the messages together form a byte stream of
 * frames each preceded by its 4-byte big-endian length, message boundaries meaning nothing: QEMU's stream
 * format carried over a WebSocket, which is what container2wasm's `c2w-net --listen-ws` serves its
 * in-browser containers (gvisor-tap-vsock's QEMU protocol). Works with the browser's WebSocket and with
 * Node's `ws` (both dispatch 'message' events whose `data` is an ArrayBuffer once `binaryType` is
 * 'arraybuffer'). Text messages and frames of a wrong size are counted and dropped; a stream that is not
 * length-prefixed frames is reported once and read no further (its frame boundaries cannot be found again).
 *
 * While `bufferedAmount` exceeds `maxBufferedBytes`, frames are dropped (counted) rather than queued
 * without bound: TCP above recovers, and memory stays bounded.
 */
import type { MacAddress } from '../../wire/address.js';
import { FramePort } from '../frame-port.js';
import {
  encodeLengthPrefixed,
  LengthPrefixedDecoder,
  MAX_STREAM_FRAME,
} from '../stream/length-prefixed-framer.js';

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
  /** 'message' (default): one frame per binary message; 'stream': length-prefixed frames across messages. */
  framing?: 'message' | 'stream';
}

const OPEN = 1;

export function webSocketDevice(socket: WebSocketLike, options: WebSocketDeviceOptions): FramePort {
  const maxBuffered = options.maxBufferedBytes ?? 1 << 20;
  const stream = options.framing === 'stream';
  socket.binaryType = 'arraybuffer';
  const port = new FramePort(
    options,
    (frame) => {
      if (socket.readyState !== OPEN || socket.bufferedAmount > maxBuffered) return false;
      socket.send(stream ? encodeLengthPrefixed(frame) : frame);
      return true;
    },
    () => socket.close(1000, 'device closed'),
  );
  const decoder = stream
    ? new LengthPrefixedDecoder(
        MAX_STREAM_FRAME,
        (frame) => port.deliver(frame),
        () => {
          // No later frame boundary can be found: the link is over. (4002: a code of the range applications
          // may use, which browsers accept from a page as well as servers do; 1002 is for servers only.)
          port.counters.malformedIn++;
          socket.close(4002, 'not a stream of length-prefixed frames');
        },
      )
    : undefined;
  const deliver = (bytes: Uint8Array): void => {
    if (decoder === undefined) port.deliver(bytes);
    else decoder.push(bytes);
  };
  socket.addEventListener('message', (event) => {
    const data = event.data;
    if (data instanceof ArrayBuffer) deliver(new Uint8Array(data));
    else if (ArrayBuffer.isView(data)) deliver(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    else port.counters.malformedIn++;
  });
  socket.addEventListener('close', () => port.close());
  return port;
}
