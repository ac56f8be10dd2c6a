/**
 * An Upstream over Node-style `net` and `dgram` modules: the host's own sockets (Node's modules, the
 * default), or another tcpts stack's (`stack.net`, `stack.dgram`) in a simulation. Node only.
 *
 * Flow control maps one to one: `write` returns what `socket.write` returns (false past the socket's
 * writable high-water mark) and `drain` is the socket's; `pause`/`resume` are the socket's.
 */
import nodeDgram from 'node:dgram';
import nodeNet from 'node:net';
import type { Duplex } from 'node:stream';
import type {
  Upstream,
  UpstreamDatagramHandlers,
  UpstreamDatagramSocket,
  UpstreamDestination,
  UpstreamStream,
  UpstreamStreamHandlers,
} from './upstream.js';

/** The part of Node's `net` module an upstream uses. */
export interface NetModuleLike {
  connect(options: { host: string; port: number; allowHalfOpen?: boolean }): Duplex;
}

interface DgramSocketLike {
  on(
    event: 'message',
    listener: (msg: Uint8Array, rinfo: { address: string; port: number }) => void,
  ): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  send(msg: Uint8Array, port: number, address: string): void;
  close(): void;
}

/** The part of Node's `dgram` module an upstream uses. */
export interface DgramModuleLike {
  createSocket(type: 'udp4'): DgramSocketLike;
}

export interface SocketUpstreamOptions {
  net?: NetModuleLike;
  dgram?: DgramModuleLike;
}

export function socketUpstream(options: SocketUpstreamOptions = {}): Upstream {
  const net = options.net ?? (nodeNet as unknown as NetModuleLike);
  const dgram = options.dgram ?? (nodeDgram as unknown as DgramModuleLike);
  return {
    openStream(destination: UpstreamDestination, handlers: UpstreamStreamHandlers): UpstreamStream {
      const socket = net.connect({ host: destination.address, port: destination.port, allowHalfOpen: true });
      socket.once('connect', () => handlers.connect());
      return duplexStream(socket, handlers);
    },
    openDatagram(handlers: UpstreamDatagramHandlers): UpstreamDatagramSocket {
      const socket = dgram.createSocket('udp4');
      socket.on('message', (msg, rinfo) =>
        handlers.message(new Uint8Array(msg.buffer, msg.byteOffset, msg.length), {
          address: rinfo.address,
          port: rinfo.port,
        }),
      );
      socket.on('error', (error) => handlers.close?.(error));
      return {
        send(payload, to) {
          try {
            socket.send(payload, to.port, to.address);
          } catch {
            // A datagram that cannot be sent is lost, as on any network.
          }
        },
        close() {
          try {
            socket.close();
          } catch {
            // already closed
          }
        },
      };
    },
  };
}

/**
 * Wires a Node Duplex (a connected or connecting socket) to stream handlers: for upstream connections and
 * for inbound forwarded connections alike (call `handlers.connect()` yourself for an accepted socket).
 */
export function duplexStream(socket: Duplex, handlers: UpstreamStreamHandlers): UpstreamStream {
  let failure: (Error & { code?: string }) | undefined;
  socket.on('data', (chunk: Buffer) =>
    handlers.data(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)),
  );
  socket.on('end', () => handlers.end());
  socket.on('drain', () => handlers.drain());
  socket.on('error', (error: Error & { code?: string }) => {
    failure = error;
  });
  socket.on('close', () => handlers.close(failure));
  return {
    write: (chunk) => socket.write(chunk),
    end: () => {
      socket.end();
    },
    pause: () => {
      socket.pause();
    },
    resume: () => {
      socket.resume();
    },
    destroy: () => {
      // resetAndDestroy sends a RST where the socket has one (Node >= 16.17), as a relay should.
      const resettable = socket as Duplex & { resetAndDestroy?: () => void };
      if (typeof resettable.resetAndDestroy === 'function' && !socket.destroyed) {
        try {
          resettable.resetAndDestroy();
          return;
        } catch {
          // not connected yet
        }
      }
      socket.destroy();
    },
  };
}
