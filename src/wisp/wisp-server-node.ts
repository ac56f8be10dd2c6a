/**
 * A WISP server (v1.2 and v2) relaying its clients' streams to the host's sockets, behind the same
 * destination policy as the gateway. Node only; the WebSocket server is `ws` (an optional dependency).
 *
 *   const server = await startWispServer({ port: 6001, policy: allowList(['127.0.0.0/8']) });
 *
 * Per connection: v2 when the upgrade request carried Sec-WebSocket-Protocol (INFO, then the client's
 * INFO, then the initial CONTINUE), else v1 (the initial CONTINUE at once). Extensions offered: UDP and
 * stream-open confirmation (a CONTINUE for each stream once its socket connected).
 *
 * Flow control: the server buffers at most `bufferPackets` DATA packets per stream (the credit it
 * grants). It grants more (CONTINUE) only while the destination socket takes what it is given — a socket
 * whose TCP window is closed stops the credits, and with them the client. Towards the client, a stream's
 * socket is paused while the WebSocket has more than `maxWebSocketBuffer` bytes queued.
 *
 * With a client that lists tcpts's stream-control extension (WISP_EXTENSION_TCPTS_STREAM_CONTROL) a TCP
 * stream half-closes each way (an empty DATA packet is a FIN) and the server sends at most the client's
 * credit of DATA packets before waiting for its CONTINUE (the socket is paused meanwhile). With any other
 * client, the destination's end of data closes the stream (CLOSE 0x02) and the server's socket is ended
 * too, since the client can no longer send on it.
 *
 * Bounds (named, counted): `maxStreamsPerConnection` (default 1024; more are closed with reason 0x49),
 * `bufferPackets` (default 64), `maxWebSocketBuffer` (default 4 MiB).
 */
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import type { IncomingMessage } from 'node:http';
import { isIPv4 } from 'node:net';
import { allowAll, type DestinationPolicy } from '../gateway/policy.js';
import { socketUpstream } from '../gateway/socket-upstream-node.js';
import type { UpstreamStream } from '../gateway/upstream.js';
import { WISP_EXTENSION_OPEN_CONFIRMATION } from './wisp-client.js';
import {
  encodeClose,
  encodeContinue,
  encodeInfo,
  encodeWispPacket,
  parseConnect,
  parseContinue,
  parseInfo,
  parseWispPacket,
  WISP_CLOSE,
  WISP_CLOSE_BLOCKED,
  WISP_CLOSE_INVALID,
  WISP_CLOSE_NETWORK_ERROR,
  WISP_CLOSE_REFUSED,
  WISP_CLOSE_THROTTLED,
  WISP_CLOSE_TIMEOUT,
  WISP_CLOSE_UNREACHABLE,
  WISP_CLOSE_VOLUNTARY,
  WISP_CONNECT,
  WISP_CONTINUE,
  WISP_DATA,
  WISP_EXTENSION_TCPTS_STREAM_CONTROL,
  WISP_EXTENSION_UDP,
  WISP_INFO,
  WISP_STREAM_TCP,
  WISP_STREAM_UDP,
} from './wisp-packet.js';

export interface WispServerOptions {
  policy?: DestinationPolicy;
  bufferPackets?: number;
  maxStreamsPerConnection?: number;
  maxWebSocketBuffer?: number;
}

export interface WispServerCounters {
  connections: number;
  streamsOpened: number;
  streamsRefusedByPolicy: number;
  streamsFailed: number;
  streamLimitHits: number;
  malformedPackets: number;
  /** Times a stream's socket was paused because the client's credit ran out (stream control). */
  clientCreditStalls: number;
  /** Half-closes carried (stream control): client to destination, destination to client. */
  halfClosesFromClient: number;
  halfClosesToClient: number;
  /** UDP datagrams dropped because MAX_QUEUED_DATAGRAMS were already waiting for the socket to connect. */
  udpDatagramsDroppedConnecting: number;
}

/** Datagrams a UDP stream holds while its socket connects; more are lost, as on any network. */
const MAX_QUEUED_DATAGRAMS = 64;

/** Sends on a connected UDP socket; a datagram that cannot be sent is lost, as on any network. */
function sendDatagram(socket: dgram.Socket, payload: Uint8Array): void {
  try {
    socket.send(payload);
  } catch {
    // closed, or the destination failed: nothing to tell the client beyond what CLOSE will say
  }
}

/** The server side of one WebSocket, as `ws` gives it. */
export interface ServerWebSocket {
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: Uint8Array, callback?: (error?: Error) => void): void;
  close(code?: number): void;
  on(event: 'message', listener: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

interface ServerStream {
  id: number;
  tcp?: UpstreamStream;
  udp?: dgram.Socket;
  /** Datagrams from the client while the UDP socket connects (sent once it has). */
  udpQueue?: Uint8Array[];
  received: number;
  blocked: boolean;
  /** Paused because the WebSocket backed up. */
  paused: boolean;
  /** DATA packets the client may still take (stream control); the socket is paused at 0. */
  sendCredits: number;
  creditPaused: boolean;
  closed: boolean;
}

/** What the stream-control extension settled for one connection (undefined: not in use). */
interface StreamControl {
  /** The client's receive credit per stream, from its INFO. */
  clientCredits: number;
}

function closeReasonFor(code: string | undefined): number {
  switch (code) {
    case 'ECONNREFUSED':
      return WISP_CLOSE_REFUSED;
    case 'ETIMEDOUT':
      return WISP_CLOSE_TIMEOUT;
    case 'ENOTFOUND':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EAI_AGAIN':
      return WISP_CLOSE_UNREACHABLE;
    default:
      return WISP_CLOSE_NETWORK_ERROR;
  }
}

export class WispServer {
  readonly counters: WispServerCounters = {
    connections: 0,
    streamsOpened: 0,
    streamsRefusedByPolicy: 0,
    streamsFailed: 0,
    streamLimitHits: 0,
    malformedPackets: 0,
    clientCreditStalls: 0,
    halfClosesFromClient: 0,
    halfClosesToClient: 0,
    udpDatagramsDroppedConnecting: 0,
  };
  private readonly policy: DestinationPolicy;
  private readonly bufferPackets: number;
  private readonly maxStreams: number;
  private readonly maxWebSocketBuffer: number;
  private readonly upstream = socketUpstream();

  constructor(options: WispServerOptions = {}) {
    this.policy = options.policy ?? allowAll;
    this.bufferPackets = options.bufferPackets ?? 64;
    this.maxStreams = options.maxStreamsPerConnection ?? 1024;
    this.maxWebSocketBuffer = options.maxWebSocketBuffer ?? 4 << 20;
  }

  /** Serves one WebSocket connection. */
  handle(ws: ServerWebSocket, request?: IncomingMessage): void {
    this.counters.connections++;
    const v2 = request?.headers['sec-websocket-protocol'] !== undefined;
    const streams = new Map<number, ServerStream>();
    let ready = !v2;
    let openConfirmation = false;
    let control: StreamControl | undefined;
    const send = (packet: Uint8Array): void => {
      if (ws.readyState === 1) ws.send(packet);
    };
    const pausedStreams = new Set<ServerStream>();
    // Streams paused because the WebSocket backed up resume once it drains (ws has no 'drain': poll).
    let drainTimer: ReturnType<typeof setInterval> | undefined;
    const watchDrain = (): void => {
      if (drainTimer !== undefined) return;
      drainTimer = setInterval(() => {
        if (ws.bufferedAmount > this.maxWebSocketBuffer / 2) return;
        clearInterval(drainTimer);
        drainTimer = undefined;
        for (const s of pausedStreams) {
          s.paused = false;
          if (!s.creditPaused) s.tcp?.resume();
        }
        pausedStreams.clear();
      }, 5);
    };
    const closeStream = (stream: ServerStream, reason: number | undefined): void => {
      if (stream.closed) return;
      stream.closed = true;
      streams.delete(stream.id);
      pausedStreams.delete(stream);
      if (reason !== undefined) send(encodeClose(stream.id, reason));
    };

    if (v2) {
      send(
        encodeInfo(
          new Map([
            [WISP_EXTENSION_UDP, new Uint8Array(0)],
            [WISP_EXTENSION_OPEN_CONFIRMATION, new Uint8Array(0)],
            [WISP_EXTENSION_TCPTS_STREAM_CONTROL, uint32le(this.bufferPackets)],
          ]),
        ),
      );
    } else {
      send(encodeContinue(0, this.bufferPackets));
    }

    ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        this.counters.malformedPackets++;
        return;
      }
      const bytes = Array.isArray(data)
        ? Buffer.concat(data)
        : data instanceof ArrayBuffer
          ? new Uint8Array(data)
          : data;
      const packet = parseWispPacket(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      if (packet === undefined) {
        this.counters.malformedPackets++;
        return;
      }
      if (!ready) {
        if (packet.type === WISP_INFO && packet.streamId === 0) {
          const info = parseInfo(packet.payload);
          openConfirmation = info?.extensions.has(WISP_EXTENSION_OPEN_CONFIRMATION) === true;
          const credits = info?.extensions.get(WISP_EXTENSION_TCPTS_STREAM_CONTROL);
          if (credits !== undefined && credits.length >= 4) {
            const clientCredits = new DataView(credits.buffer, credits.byteOffset, 4).getUint32(0, true);
            if (clientCredits > 0) control = { clientCredits };
          }
          ready = true;
          send(encodeContinue(0, this.bufferPackets));
        } else this.counters.malformedPackets++;
        return;
      }
      switch (packet.type) {
        case WISP_CONNECT:
          void this.connect(
            packet.streamId,
            packet.payload,
            streams,
            send,
            closeStream,
            openConfirmation,
            control,
            ws,
            pausedStreams,
            watchDrain,
          );
          return;
        case WISP_DATA: {
          const stream = streams.get(packet.streamId);
          if (stream === undefined) return;
          if (stream.udp !== undefined) {
            const queue = stream.udpQueue;
            if (queue === undefined) sendDatagram(stream.udp, packet.payload);
            else if (queue.length < MAX_QUEUED_DATAGRAMS) queue.push(packet.payload);
            else this.counters.udpDatagramsDroppedConnecting++;
            return;
          }
          if (stream.tcp === undefined) return;
          if (control !== undefined && packet.payload.length === 0) {
            // The client's end of data (stream control): half-close the socket.
            this.counters.halfClosesFromClient++;
            stream.tcp.end();
            return;
          }
          stream.received++;
          const more = stream.tcp.write(Buffer.from(packet.payload));
          if (!more) stream.blocked = true;
          else if (stream.received >= this.bufferPackets / 2) {
            stream.received = 0;
            send(encodeContinue(stream.id, this.bufferPackets));
          }
          return;
        }
        case WISP_CLOSE: {
          const stream = streams.get(packet.streamId);
          if (stream === undefined) return;
          const reason = packet.payload[0];
          closeStream(stream, undefined);
          if (stream.udp !== undefined) stream.udp.close();
          else if (reason === WISP_CLOSE_VOLUNTARY) stream.tcp?.end();
          else stream.tcp?.destroy();
          return;
        }
        case WISP_CONTINUE: {
          // The client's credit (stream control): what it can take now.
          const stream = streams.get(packet.streamId);
          const credits = parseContinue(packet.payload);
          if (control === undefined || stream === undefined || credits === undefined) return;
          stream.sendCredits = credits;
          if (stream.creditPaused && credits > 0) {
            stream.creditPaused = false;
            if (!stream.paused) stream.tcp?.resume();
          }
          return;
        }
        case WISP_INFO:
          return;
        default:
          this.counters.malformedPackets++;
      }
    });
    const teardown = (): void => {
      if (drainTimer !== undefined) clearInterval(drainTimer);
      for (const stream of [...streams.values()]) {
        closeStream(stream, undefined);
        stream.tcp?.destroy();
        stream.udp?.close();
      }
    };
    ws.on('close', teardown);
    ws.on('error', teardown);
  }

  private async connect(
    id: number,
    payload: Uint8Array,
    streams: Map<number, ServerStream>,
    send: (packet: Uint8Array) => void,
    closeStream: (stream: ServerStream, reason: number | undefined) => void,
    openConfirmation: boolean,
    control: StreamControl | undefined,
    ws: ServerWebSocket,
    pausedStreams: Set<ServerStream>,
    watchDrain: () => void,
  ): Promise<void> {
    const request = parseConnect(payload);
    if (id === 0 || streams.has(id) || request === undefined || request.port === 0) {
      this.counters.malformedPackets++;
      send(encodeClose(id, WISP_CLOSE_INVALID));
      return;
    }
    if (request.streamType !== WISP_STREAM_TCP && request.streamType !== WISP_STREAM_UDP) {
      send(encodeClose(id, WISP_CLOSE_INVALID));
      return;
    }
    if (streams.size >= this.maxStreams) {
      this.counters.streamLimitHits++;
      send(encodeClose(id, WISP_CLOSE_THROTTLED));
      return;
    }
    const stream: ServerStream = {
      id,
      received: 0,
      blocked: false,
      paused: false,
      sendCredits: control?.clientCredits ?? 0,
      creditPaused: false,
      closed: false,
    };
    streams.set(id, stream);
    let address = request.hostname;
    if (!isIPv4(address)) {
      try {
        address = (await lookup(request.hostname, { family: 4 })).address;
      } catch {
        this.counters.streamsFailed++;
        closeStream(stream, WISP_CLOSE_UNREACHABLE);
        return;
      }
      if (stream.closed) return;
    }
    const protocol = request.streamType === WISP_STREAM_TCP ? 'tcp' : 'udp';
    if (!this.policy({ protocol, address, port: request.port })) {
      this.counters.streamsRefusedByPolicy++;
      closeStream(stream, WISP_CLOSE_BLOCKED);
      return;
    }
    this.counters.streamsOpened++;
    if (protocol === 'udp') {
      const socket = dgram.createSocket('udp4');
      stream.udp = socket;
      socket.on('message', (msg) => send(encodeWispPacket(WISP_DATA, id, msg)));
      socket.on('error', () => {
        closeStream(stream, WISP_CLOSE_NETWORK_ERROR);
        socket.close();
      });
      // Connecting takes a turn of the event loop, and a client sends its first datagram right after
      // CONNECT (often in the same read): until then datagrams wait, as many as MAX_QUEUED_DATAGRAMS.
      stream.udpQueue = [];
      socket.connect(request.port, address, () => {
        const queue = stream.udpQueue ?? [];
        stream.udpQueue = undefined;
        for (const payload of queue) sendDatagram(socket, payload);
      });
      return;
    }
    stream.tcp = this.upstream.openStream(
      { address, port: request.port },
      {
        connect: () => {
          if (openConfirmation) send(encodeContinue(id, this.bufferPackets));
        },
        data: (chunk) => {
          send(encodeWispPacket(WISP_DATA, id, chunk));
          if (control !== undefined && --stream.sendCredits <= 0 && !stream.creditPaused) {
            stream.creditPaused = true;
            this.counters.clientCreditStalls++;
            stream.tcp?.pause();
          }
          if (ws.bufferedAmount > this.maxWebSocketBuffer && !stream.paused) {
            stream.paused = true;
            stream.tcp?.pause();
            pausedStreams.add(stream);
            watchDrain();
          }
        },
        end: () => {
          if (control !== undefined) {
            // Half-close towards the client; CLOSE follows when the socket closed both ways.
            this.counters.halfClosesToClient++;
            send(encodeWispPacket(WISP_DATA, id, new Uint8Array(0)));
            return;
          }
          // The client cannot send on a closed stream: end the socket too, or it would stay half-open.
          closeStream(stream, WISP_CLOSE_VOLUNTARY);
          stream.tcp?.end();
        },
        drain: () => {
          if (!stream.blocked || stream.closed) return;
          stream.blocked = false;
          stream.received = 0;
          send(encodeContinue(id, this.bufferPackets));
        },
        close: (error) => {
          if (error !== undefined) this.counters.streamsFailed++;
          closeStream(stream, error === undefined ? WISP_CLOSE_VOLUNTARY : closeReasonFor(error.code));
        },
      },
    );
  }
}

/** A listening WISP server on `host:port` (default 127.0.0.1). Rejects with the listen error. */
export async function startWispServer(
  options: WispServerOptions & { port: number; host?: string },
): Promise<{ server: WispServer; port: number; close(): Promise<void> }> {
  let ws: typeof import('ws');
  try {
    ws = await import('ws');
  } catch {
    throw Object.assign(new Error("the WISP server needs the 'ws' package: npm install ws"), {
      code: 'ENOENT',
    });
  }
  const server = new WispServer(options);
  const wss = new ws.WebSocketServer({
    host: options.host ?? '127.0.0.1',
    port: options.port,
    // Any offered subprotocol is accepted: its presence is what selects v2.
    handleProtocols: (protocols) => protocols.values().next().value ?? false,
  });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', () => resolve());
    wss.once('error', reject);
  });
  wss.on('connection', (socket, request) => server.handle(socket as unknown as ServerWebSocket, request));
  const address = wss.address();
  return {
    server,
    port: typeof address === 'object' && address !== null ? address.port : options.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
}

function uint32le(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value, true);
  return bytes;
}
