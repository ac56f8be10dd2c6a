/**
 * A WISP client (v1.2 and v2), for browsers and Node: many TCP (and UDP) streams multiplexed over one
 * WebSocket to a WISP server, which opens the real sockets. Usable on its own (`client.openStream`) and as a
 * gateway's Upstream (`wispUpstream(client)`).
 *
 * Version: the client asks for v2 by sending a Sec-WebSocket-Protocol header; a server that answers with
 * INFO speaks v2 (the client answers with its own INFO, then waits for the initial CONTINUE), a server
 * whose first packet is CONTINUE speaks v1.
 *
 * Flow control, client to server: each DATA packet spends one credit of the stream's buffer; `write` returns
 * false when the credits are spent, and the chunk it was given waits until the server's next CONTINUE. A
 * gateway stops reading its guest's TCP connection then, so the guest's TCP window closes — the server's
 * credits end up tied to the TCP windows on both sides. Server to client: the WISP spec has no credits this
 * way. With a server that also lists tcpts's stream-control extension (WISP_EXTENSION_TCPTS_STREAM_CONTROL,
 * tcpts's own server does) the client grants them: at most `receiveCredits` packets per stream, more only as
 * the consumer takes them (a gateway pauses the stream while its guest's TCP send buffer is full, so the
 * server stops reading its socket and the destination's TCP window closes). With any other server what
 * arrives while paused is held without bound (the server is expected to stop reading its socket only when
 * its WebSocket backs up).
 *
 * Opening: with v2's stream-open-confirmation extension the stream counts as open at the server's first
 * CONTINUE for it (so a refused connection surfaces as ECONNREFUSED before anything was sent); otherwise
 * it counts as open at once and a refusal arrives as a CLOSE.
 *
 * Half-close: the WISP spec cannot express it (CLOSE ends both directions; reason 0x02 "equates to one
 * side resetting the connection"). With the stream-control extension `end()` sends an empty DATA packet
 * (TCP's FIN), an empty DATA from the server is `end`, and the server closes the stream once both
 * directions finished. Without it `end()` keeps the stream open for the server's data — sending CLOSE
 * would discard the reply — and the stream closes when the server closes it (or `destroy()`); a
 * destination that waits for the client's end of data before answering then waits until `destroy()`.
 */
import type {
  Upstream,
  UpstreamDatagramHandlers,
  UpstreamDatagramSocket,
  UpstreamDestination,
  UpstreamStream,
  UpstreamStreamHandlers,
} from '../gateway/upstream.js';
import {
  encodeClose,
  encodeConnect,
  encodeContinue,
  encodeInfo,
  encodeWispPacket,
  parseContinue,
  parseInfo,
  parseWispPacket,
  WISP_CLOSE,
  WISP_CLOSE_INCOMPATIBLE,
  WISP_CLOSE_VOLUNTARY,
  WISP_CONTINUE,
  WISP_DATA,
  WISP_EXTENSION_TCPTS_STREAM_CONTROL,
  WISP_EXTENSION_UDP,
  WISP_INFO,
  WISP_STREAM_TCP,
  WISP_STREAM_UDP,
  wispCloseCode,
} from './wisp-packet.js';

/** The v2 extension by which the server confirms each opened stream with a CONTINUE. */
export const WISP_EXTENSION_OPEN_CONFIRMATION = 0x05;
/** Largest DATA payload the client sends (a bigger write is cut). */
const MAX_DATA_PAYLOAD = 65_536;

/** The part of the WebSocket interface the client uses (browser WebSocket, Node 22's, `ws`). */
export interface WispWebSocket {
  binaryType: string;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'close' | 'error', listener: (event: unknown) => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
}

export interface WispClientOptions {
  /** Makes the WebSocket. Default: `new WebSocket(url, protocols)` (browsers, Node >= 22). */
  createWebSocket?: (url: string, protocols: string[]) => WispWebSocket;
  /** Ask for v2. Default true (a v1 server still works: it answers with CONTINUE). */
  v2?: boolean;
  /** Give up on the handshake after this long, ms. Default 10000. */
  handshakeTimeoutMs?: number;
  /**
   * Packets per stream the client takes from a server with the stream-control extension before it must
   * wait for the client's CONTINUE. Default 32 (at most 32 x 64 KiB held per stream).
   */
  receiveCredits?: number;
}

interface ClientStream {
  id: number;
  type: number;
  handlers: UpstreamStreamHandlers;
  credits: number;
  waiting: Uint8Array[];
  blocked: boolean;
  opened: boolean;
  closed: boolean;
  paused: boolean;
  /** Data that arrived while paused (bounded by `receiveCredits` with stream control). */
  held: Uint8Array[];
  /** `end()` was called: the empty DATA goes after `waiting` (stream control). */
  endQueued: boolean;
  /** The server's empty DATA arrived (stream control); delivered as `end` after `held`. */
  endReceived: boolean;
  endDelivered: boolean;
  /** Packets handed on since the last CONTINUE the client sent (stream control). */
  consumed: number;
  datagram?: (payload: Uint8Array) => void;
}

function toBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

export class WispClient {
  /** 1 or 2, once connected. */
  version = 1;
  /** Credits each new stream starts with (the initial CONTINUE). */
  initialCredits = 0;
  /** Extensions both sides support (v2). */
  readonly extensions = new Set<number>();
  private readonly streams = new Map<number, ClientStream>();
  private nextId = 1;
  private closedError: Error | undefined;
  /** Both sides listed tcpts's stream-control extension: half-close and credits towards the client. */
  streamControl = false;
  readonly receiveCredits: number;

  private constructor(
    private readonly socket: WispWebSocket,
    receiveCredits: number,
  ) {
    this.receiveCredits = Math.max(2, receiveCredits);
  }

  /** Opens the WebSocket and completes the WISP handshake. Rejects with ECONNREFUSED-style errors. */
  static connect(url: string, options: WispClientOptions = {}): Promise<WispClient> {
    const create =
      options.createWebSocket ??
      ((u: string, protocols: string[]) => {
        const Ctor = (globalThis as { WebSocket?: new (u: string, p: string[]) => WispWebSocket }).WebSocket;
        if (Ctor === undefined) {
          throw Object.assign(new Error('no WebSocket in this runtime: pass createWebSocket'), {
            code: 'ENOTSUP',
          });
        }
        return new Ctor(u, protocols);
      });
    const socket = create(url, options.v2 === false ? [] : ['wisp-v2']);
    socket.binaryType = 'arraybuffer';
    const client = new WispClient(socket, options.receiveCredits ?? 32);
    return client.handshake(options.handshakeTimeoutMs ?? 10_000);
  }

  private handshake(timeoutMs: number): Promise<WispClient> {
    return new Promise((resolve, reject) => {
      let done = false;
      const fail = (error: Error): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.socket.close();
        reject(error);
      };
      const timer = setTimeout(
        () => fail(Object.assign(new Error('WISP handshake timed out'), { code: 'ETIMEDOUT' })),
        timeoutMs,
      );
      this.socket.addEventListener('error', () =>
        fail(Object.assign(new Error('WISP WebSocket failed to open'), { code: 'ECONNREFUSED' })),
      );
      this.socket.addEventListener('close', () => {
        fail(Object.assign(new Error('WISP WebSocket closed during the handshake'), { code: 'ECONNRESET' }));
        this.shutdown(Object.assign(new Error('WISP connection closed'), { code: 'ECONNRESET' }));
      });
      this.socket.addEventListener('message', (event) => {
        const bytes = toBytes(event.data);
        const packet = bytes && parseWispPacket(bytes);
        if (packet === undefined) return;
        if (!done) {
          if (packet.type === WISP_INFO && packet.streamId === 0) {
            const info = parseInfo(packet.payload);
            if (info === undefined || info.major !== 2) {
              this.socket.send(encodeClose(0, WISP_CLOSE_INCOMPATIBLE));
              fail(Object.assign(new Error('WISP server sent an unusable INFO'), { code: 'EPROTO' }));
              return;
            }
            this.version = 2;
            const credits = new Uint8Array(4);
            new DataView(credits.buffer).setUint32(0, this.receiveCredits, true);
            const ours = new Map<number, Uint8Array>([
              [WISP_EXTENSION_UDP, new Uint8Array(0)],
              [WISP_EXTENSION_OPEN_CONFIRMATION, new Uint8Array(0)],
              [WISP_EXTENSION_TCPTS_STREAM_CONTROL, credits],
            ]);
            for (const id of info.extensions.keys()) if (ours.has(id)) this.extensions.add(id);
            this.streamControl = this.extensions.has(WISP_EXTENSION_TCPTS_STREAM_CONTROL);
            this.socket.send(encodeInfo(ours));
            return;
          }
          if (packet.type === WISP_CONTINUE && packet.streamId === 0) {
            this.initialCredits = parseContinue(packet.payload) ?? 0;
            done = true;
            clearTimeout(timer);
            resolve(this);
            return;
          }
          if (packet.type === WISP_CLOSE && packet.streamId === 0) {
            fail(
              Object.assign(new Error(`WISP server refused the connection (reason ${packet.payload[0]})`), {
                code: 'ECONNREFUSED',
              }),
            );
          }
          return;
        }
        this.receive(packet.type, packet.streamId, packet.payload);
      });
    });
  }

  /** Streams open right now. */
  get streamCount(): number {
    return this.streams.size;
  }

  /** Bytes that arrived on paused streams and wait for their consumer (bounded only with stream control). */
  get heldBytes(): number {
    let total = 0;
    for (const stream of this.streams.values()) for (const chunk of stream.held) total += chunk.length;
    return total;
  }

  /** Opens a TCP stream to `destination` (a host name or address) through the server. */
  openStream(
    destination: { address: string; port: number },
    handlers: UpstreamStreamHandlers,
  ): UpstreamStream {
    const stream = this.newStream(WISP_STREAM_TCP, handlers);
    this.send(encodeConnect(stream.id, WISP_STREAM_TCP, destination.port, destination.address));
    if (!this.extensions.has(WISP_EXTENSION_OPEN_CONFIRMATION)) this.markOpen(stream);
    return {
      write: (chunk) => this.write(stream, chunk),
      end: () => this.end(stream),
      pause: () => {
        stream.paused = true;
      },
      resume: () => {
        stream.paused = false;
        this.deliverHeld(stream);
      },
      destroy: () => this.closeStream(stream, WISP_CLOSE_VOLUNTARY, true),
    };
  }

  /** Opens a UDP stream to one destination (needs a server with UDP). */
  openDatagramStream(
    destination: { address: string; port: number },
    receive: (payload: Uint8Array) => void,
  ): { send(payload: Uint8Array): void; close(): void } {
    const stream = this.newStream(WISP_STREAM_UDP, {
      connect() {},
      data: receive,
      end() {},
      drain() {},
      close() {},
    });
    stream.datagram = receive;
    this.send(encodeConnect(stream.id, WISP_STREAM_UDP, destination.port, destination.address));
    return {
      send: (payload) => {
        if (!stream.closed) this.send(encodeWispPacket(WISP_DATA, stream.id, payload));
      },
      close: () => this.closeStream(stream, WISP_CLOSE_VOLUNTARY, true),
    };
  }

  close(): void {
    this.shutdown(Object.assign(new Error('WISP client closed'), { code: 'ECONNABORTED' }));
    this.socket.close(1000);
  }

  private newStream(type: number, handlers: UpstreamStreamHandlers): ClientStream {
    if (this.closedError !== undefined) throw this.closedError;
    let id = this.nextId;
    while (this.streams.has(id) || id === 0) id = (id + 1) >>> 0;
    this.nextId = (id + 1) >>> 0;
    const stream: ClientStream = {
      id,
      type,
      handlers,
      credits: this.initialCredits,
      waiting: [],
      blocked: false,
      opened: false,
      closed: false,
      paused: false,
      held: [],
      endQueued: false,
      endReceived: false,
      endDelivered: false,
      consumed: 0,
    };
    this.streams.set(id, stream);
    return stream;
  }

  private markOpen(stream: ClientStream): void {
    if (stream.opened) return;
    stream.opened = true;
    // Asynchronously, as a socket's 'connect' would be: the caller has its stream object by then.
    queueMicrotask(() => {
      if (!stream.closed) stream.handlers.connect();
    });
  }

  /** Half-close (stream control only; see the header comment for other servers). */
  private end(stream: ClientStream): void {
    if (!this.streamControl || stream.type !== WISP_STREAM_TCP || stream.closed || stream.endQueued) return;
    stream.endQueued = true;
    if (stream.waiting.length === 0) this.send(encodeWispPacket(WISP_DATA, stream.id, new Uint8Array(0)));
  }

  /** Hands on what was held while paused, then a held end; grants the server more credit for it. */
  private deliverHeld(stream: ClientStream): void {
    while (!stream.paused && stream.held.length > 0) this.deliver(stream, stream.held.shift()!);
    this.grant(stream);
    if (!stream.paused && stream.held.length === 0 && stream.endReceived && !stream.endDelivered) {
      stream.endDelivered = true;
      stream.handlers.end();
    }
  }

  private deliver(stream: ClientStream, chunk: Uint8Array): void {
    stream.handlers.data(chunk);
    stream.consumed++;
    this.grant(stream);
  }

  /**
   * Credits back once half the buffer was taken and the consumer is not paused: the server may send what
   * the client can hold now (stream control only).
   */
  private grant(stream: ClientStream): void {
    if (!this.streamControl || stream.closed || stream.paused || stream.type !== WISP_STREAM_TCP) return;
    if (stream.consumed < this.receiveCredits / 2) return;
    stream.consumed = 0;
    this.send(encodeContinue(stream.id, this.receiveCredits - stream.held.length));
  }

  private write(stream: ClientStream, chunk: Uint8Array): boolean {
    if (stream.closed || stream.endQueued) return false;
    for (let offset = 0; offset < chunk.length; offset += MAX_DATA_PAYLOAD) {
      const piece = chunk.subarray(offset, offset + MAX_DATA_PAYLOAD);
      if (stream.credits > 0 && stream.waiting.length === 0) {
        stream.credits--;
        this.send(encodeWispPacket(WISP_DATA, stream.id, piece));
      } else {
        stream.waiting.push(piece.slice());
      }
    }
    if (stream.credits === 0 || stream.waiting.length > 0) {
      stream.blocked = true;
      return false;
    }
    return true;
  }

  private receive(type: number, streamId: number, payload: Uint8Array): void {
    const stream = this.streams.get(streamId);
    if (stream === undefined) return;
    switch (type) {
      case WISP_DATA:
        this.markOpen(stream);
        if (this.streamControl && stream.type === WISP_STREAM_TCP && payload.length === 0) {
          stream.endReceived = true;
          this.deliverHeld(stream);
          return;
        }
        if (stream.paused || stream.held.length > 0) stream.held.push(payload.slice());
        else this.deliver(stream, payload);
        return;
      case WISP_CONTINUE: {
        this.markOpen(stream);
        stream.credits = parseContinue(payload) ?? stream.credits;
        while (stream.credits > 0 && stream.waiting.length > 0) {
          stream.credits--;
          this.send(encodeWispPacket(WISP_DATA, stream.id, stream.waiting.shift()!));
          if (stream.waiting.length === 0 && stream.endQueued) {
            this.send(encodeWispPacket(WISP_DATA, stream.id, new Uint8Array(0)));
          }
        }
        if (stream.blocked && stream.credits > 0 && stream.waiting.length === 0) {
          stream.blocked = false;
          stream.handlers.drain();
        }
        return;
      }
      case WISP_CLOSE: {
        const reason = payload[0] ?? 0;
        this.streams.delete(stream.id);
        stream.closed = true;
        if (reason === WISP_CLOSE_VOLUNTARY && stream.opened) {
          // The server's socket ended cleanly: end of data, then the close.
          for (const chunk of stream.held.splice(0)) stream.handlers.data(chunk);
          if (!stream.endDelivered) {
            stream.endDelivered = true;
            stream.handlers.end();
          }
          stream.handlers.close();
          return;
        }
        stream.handlers.close(
          Object.assign(new Error(`WISP stream closed (reason 0x${reason.toString(16)})`), {
            code: wispCloseCode(reason),
          }),
        );
        return;
      }
      default:
        return;
    }
  }

  private closeStream(stream: ClientStream, reason: number, notify: boolean): void {
    if (stream.closed) return;
    stream.closed = true;
    this.streams.delete(stream.id);
    this.send(encodeClose(stream.id, reason));
    if (notify) queueMicrotask(() => stream.handlers.close());
  }

  private send(packet: Uint8Array): void {
    if (this.closedError === undefined && this.socket.readyState === 1) this.socket.send(packet);
  }

  private shutdown(error: Error): void {
    if (this.closedError !== undefined) return;
    this.closedError = error;
    for (const stream of [...this.streams.values()]) {
      stream.closed = true;
      stream.handlers.close(error);
    }
    this.streams.clear();
  }
}

/**
 * A gateway Upstream over a WISP client: each guest TCP connection is one WISP stream; each guest UDP
 * endpoint gets one WISP UDP stream per destination it talks to.
 */
export function wispUpstream(client: WispClient): Upstream {
  return {
    openStream(destination: UpstreamDestination, handlers: UpstreamStreamHandlers): UpstreamStream {
      return client.openStream(destination, handlers);
    },
    openDatagram(handlers: UpstreamDatagramHandlers): UpstreamDatagramSocket {
      const byDestination = new Map<string, { send(payload: Uint8Array): void; close(): void }>();
      return {
        send(payload, to) {
          const key = `${to.address}:${to.port}`;
          let stream = byDestination.get(key);
          if (stream === undefined) {
            stream = client.openDatagramStream(to, (data) => handlers.message(data, to));
            byDestination.set(key, stream);
          }
          stream.send(payload);
        },
        close() {
          for (const stream of byDestination.values()) stream.close();
          byDestination.clear();
        },
      };
    },
  };
}
