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
import { pingEcho } from './ping-echo-node.js';
import type {
  Upstream,
  UpstreamDatagramHandlers,
  UpstreamDatagramSocket,
  UpstreamDestination,
  UpstreamEchoRequest,
  UpstreamEchoResult,
  UpstreamStream,
  UpstreamStreamHandlers,
} from './upstream.js';

/** The part of Node's `net` module an upstream uses. */
export interface NetModuleLike {
  connect(options: {
    host: string;
    port: number;
    allowHalfOpen?: boolean;
    onread?: { buffer: Uint8Array; callback: (bytes: number, buffer: Uint8Array) => boolean | undefined };
  }): Duplex;
}

interface DgramSocketLike {
  on(
    event: 'message',
    listener: (msg: Uint8Array, rinfo: { address: string; port: number }) => void,
  ): unknown;
  on(event: 'error', listener: (error: Error & { code?: string }) => void): unknown;
  send(msg: Uint8Array, port: number, address: string): void;
  send(msg: Uint8Array): void;
  connect(port: number, address: string, callback: () => void): void;
  disconnect(): void;
  close(): void;
}

/** The part of Node's `dgram` module an upstream uses. */
export interface DgramModuleLike {
  createSocket(type: 'udp4' | 'udp6'): DgramSocketLike;
}

export interface SocketUpstreamOptions {
  net?: NetModuleLike;
  dgram?: DgramModuleLike;
  /** ICMP echo beyond the gateway. Default: the host's `ping` command (pingEcho); false: none. */
  echo?: false | ((request: UpstreamEchoRequest) => Promise<UpstreamEchoResult>);
  /**
   * Streams read into one buffer shared by all of them (Node's `onread`) instead of a fresh 64 KiB buffer
   * per read, so `data` chunks are valid only during the call: for handlers that copy what they keep
   * (the gateway's relay copies every chunk into a TCP send buffer). Each read then allocates nothing,
   * where a relayed download made one 64 KiB buffer for the collector per read. Default false. A `net`
   * without `onread` (another tcpts stack's) hands out fresh chunks as before.
   */
  transientChunks?: boolean;
}

/** Bytes a stream takes per read with `transientChunks` (what Node reads into a fresh buffer otherwise). */
const SHARED_READ_BYTES = 65_536;

/** Datagrams held while a flow's socket binds and connects; more are lost, as on any network. */
const MAX_QUEUED_DATAGRAMS = 64;

export function socketUpstream(options: SocketUpstreamOptions = {}): Upstream {
  const net = options.net ?? (nodeNet as unknown as NetModuleLike);
  const dgram = options.dgram ?? (nodeDgram as unknown as DgramModuleLike);
  const echo = options.echo ?? pingEcho();
  // Reads are delivered one at a time on this thread, each handled before the next: one buffer serves all.
  const shared = options.transientChunks === true ? new Uint8Array(SHARED_READ_BYTES) : undefined;
  return {
    openStream(destination: UpstreamDestination, handlers: UpstreamStreamHandlers): UpstreamStream {
      const socket = net.connect({
        host: destination.address,
        port: destination.port,
        allowHalfOpen: true,
        ...(shared === undefined
          ? {}
          : {
              onread: {
                buffer: shared,
                callback: (bytes: number, buffer: Uint8Array) => {
                  handlers.data(buffer.subarray(0, bytes));
                  return undefined;
                },
              },
            }),
      });
      socket.once('connect', () => handlers.connect());
      return duplexStream(socket, handlers);
    },
    openDatagram: (handlers, family) => datagramFlow(dgram, handlers, family === 6 ? 'udp6' : 'udp4'),
    ...(echo === false ? {} : { echo }),
  };
}

/**
 * One guest UDP endpoint's host socket. While the guest talks to one destination the socket is connected
 * to it, so the host reports ICMP errors about it (Linux tells only connected UDP sockets, and Node has no
 * IP_RECVERR) and the gateway can pass port unreachable on; replies then come only from that destination,
 * the address-and-port-dependent filtering of Linux's own NAT (RFC 4787 §5). Once the guest sends to a
 * second destination the socket is disconnected and takes replies from anyone (endpoint-independent, as
 * slirp), at the price of no more ICMP errors.
 */
function datagramFlow(
  dgram: DgramModuleLike,
  handlers: UpstreamDatagramHandlers,
  type: 'udp4' | 'udp6',
): UpstreamDatagramSocket {
  const socket = dgram.createSocket(type);
  let state: 'fresh' | 'connecting' | 'connected' | 'unconnected' | 'closed' = 'fresh';
  let peer: UpstreamDestination | undefined;
  const queue: Array<{ payload: Uint8Array; to: UpstreamDestination }> = [];
  const same = (a: UpstreamDestination, b: UpstreamDestination) =>
    a.address === b.address && a.port === b.port;
  const transmit = (payload: Uint8Array, to: UpstreamDestination) => {
    try {
      if (state === 'connected' && peer !== undefined && same(peer, to)) {
        socket.send(payload);
        return;
      }
      if (state === 'connected') {
        socket.disconnect();
        state = 'unconnected';
      }
      socket.send(payload, to.port, to.address);
    } catch {
      // A datagram that cannot be sent is lost, as on any network.
    }
  };
  socket.on('message', (msg, rinfo) =>
    handlers.message(new Uint8Array(msg.buffer, msg.byteOffset, msg.length), {
      address: rinfo.address,
      port: rinfo.port,
    }),
  );
  socket.on('error', (error) => {
    // Errors on a connected socket are the ICMP errors about its peer (recvmsg ECONNREFUSED ...).
    if (state === 'connected' && peer !== undefined && error.code !== undefined) {
      handlers.unreachable?.(peer, error.code);
      return;
    }
    if (state !== 'closed') handlers.close?.(error);
  });
  return {
    send(payload, to) {
      if (state === 'closed') return;
      if (state === 'fresh') {
        state = 'connecting';
        peer = { address: to.address, port: to.port };
        queue.push({ payload, to });
        try {
          socket.connect(to.port, to.address, () => {
            if (state !== 'connecting') return;
            state = 'connected';
            for (const item of queue.splice(0)) transmit(item.payload, item.to);
          });
        } catch {
          state = 'unconnected';
          for (const item of queue.splice(0)) transmit(item.payload, item.to);
        }
        return;
      }
      if (state === 'connecting') {
        if (queue.length < MAX_QUEUED_DATAGRAMS) queue.push({ payload, to });
        return;
      }
      transmit(payload, to);
    },
    close() {
      state = 'closed';
      queue.length = 0;
      try {
        socket.close();
      } catch {
        // already closed
      }
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
    // A write the kernel took whole leaves nothing queued (Node copies nothing; libuv wrote it at once).
    queuedBytes: () => socket.writableLength,
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
