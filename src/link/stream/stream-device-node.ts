/**
 * A link over a Node byte stream (a Unix or TCP socket) carrying length-prefixed frames: the peer is QEMU
 * (`-netdev stream`/`-netdev socket`) or gvisor-tap-vsock's QEMU protocol. Node only.
 *
 *   const device = streamDevice(socket, { name: 'qemu0', mac });   // socket: net.Socket, connected
 *   gatewayOrStack.addInterface(device, ...)
 *
 * A peer that stops reading fills the socket's write queue; frames beyond `maxQueuedBytes` are dropped
 * (counted), as a NIC drops what its full ring cannot take, so memory stays bounded and TCP above
 * recovers. Node's default would buffer without limit.
 */
import type { Duplex } from 'node:stream';
import type { MacAddress } from '../../wire/address.js';
import { FramePort } from '../frame-port.js';
import { encodeLengthPrefixed, LengthPrefixedDecoder, MAX_STREAM_FRAME } from './length-prefixed-framer.js';

export interface StreamDeviceOptions {
  name: string;
  mac: MacAddress;
  /** Default 1500. */
  mtu?: number;
  /** Bytes the socket may queue before frames are dropped. Default 1 MiB (Linux's txqueuelen 1000 x 1 KiB). */
  maxQueuedBytes?: number;
  /** The stream ended, failed, or was not speaking the format (`error` says which). */
  onClose?: (error?: Error) => void;
}

export function streamDevice(socket: Duplex, options: StreamDeviceOptions): FramePort {
  const maxQueued = options.maxQueuedBytes ?? 1 << 20;
  const port = new FramePort(
    options,
    (frame) => {
      if (socket.destroyed || socket.writableLength > maxQueued) return false;
      socket.write(encodeLengthPrefixed(frame));
      return true;
    },
    () => socket.destroy(),
  );
  const decoder = new LengthPrefixedDecoder(
    MAX_STREAM_FRAME,
    (frame) => port.deliver(frame),
    (message) => {
      const error = new Error(message);
      socket.destroy(error);
    },
  );
  let failure: Error | undefined;
  socket.on('data', (chunk: Buffer) =>
    decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)),
  );
  socket.on('error', (error) => {
    failure = error;
  });
  socket.on('close', () => {
    port.close();
    options.onClose?.(failure);
  });
  return port;
}
