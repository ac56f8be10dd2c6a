/**
 * WISP packets (the Wisp protocol, v1.2 and v2): one WebSocket binary message each, a type byte, a
 * little-endian 32-bit stream id, and a payload whose layout depends on the type. Parsing never throws.
 *
 *   CONNECT  0x01  stream type (1 TCP, 2 UDP), u16 port, hostname (UTF-8)
 *   DATA     0x02  bytes of the stream
 *   CONTINUE 0x03  u32 packets the server can still buffer for the stream (stream 0: the initial credit)
 *   CLOSE    0x04  u8 reason
 *   INFO     0x05  (v2) u8 major, u8 minor, extensions: u8 id, u32 length, metadata
 */

export const WISP_CONNECT = 0x01;
export const WISP_DATA = 0x02;
export const WISP_CONTINUE = 0x03;
export const WISP_CLOSE = 0x04;
export const WISP_INFO = 0x05;

export const WISP_STREAM_TCP = 0x01;
export const WISP_STREAM_UDP = 0x02;

/** Close reasons. */
export const WISP_CLOSE_UNKNOWN = 0x01;
export const WISP_CLOSE_VOLUNTARY = 0x02;
export const WISP_CLOSE_NETWORK_ERROR = 0x03;
export const WISP_CLOSE_INCOMPATIBLE = 0x04;
export const WISP_CLOSE_INVALID = 0x41;
export const WISP_CLOSE_UNREACHABLE = 0x42;
export const WISP_CLOSE_TIMEOUT = 0x43;
export const WISP_CLOSE_REFUSED = 0x44;
export const WISP_CLOSE_DATA_TIMEOUT = 0x47;
export const WISP_CLOSE_BLOCKED = 0x48;
export const WISP_CLOSE_THROTTLED = 0x49;
export const WISP_CLOSE_CLIENT_ERROR = 0x81;

/** The UDP extension's id (v2 INFO). */
export const WISP_EXTENSION_UDP = 0x01;
/**
 * tcpts's own v2 extension (the spec's extensions 0x01-0x05 have no half-close and no credits towards the
 * client; an id from the top of the range, used only when both sides list it in INFO, so any other peer
 * ignores it as the spec requires of unknown extensions). Metadata: uint32 LE, the packets per stream the
 * sender of the INFO buffers (its receive credit). When both sides list it, on TCP streams:
 * - half-close: a DATA packet with no payload means "no more data from me" (TCP's FIN); the stream ends
 *   with CLOSE 0x02 from the server once both directions finished;
 * - server-to-client credits: the server sends at most the client's credit of DATA packets on a stream,
 *   and the client's CONTINUE packets (as the server's towards it, the packets it can take now) grant
 *   more — the client grants only as its consumer (a gateway's guest TCP connection) takes the data.
 */
export const WISP_EXTENSION_TCPTS_STREAM_CONTROL = 0xf0;

export interface WispPacket {
  type: number;
  streamId: number;
  payload: Uint8Array;
}

const HEADER = 5;

export function encodeWispPacket(
  type: number,
  streamId: number,
  payload: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const out = new Uint8Array(HEADER + payload.length);
  out[0] = type;
  new DataView(out.buffer).setUint32(1, streamId >>> 0, true);
  out.set(payload, HEADER);
  return out;
}

export function parseWispPacket(bytes: Uint8Array): WispPacket | undefined {
  if (bytes.length < HEADER) return undefined;
  return {
    type: bytes[0]!,
    streamId: new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getUint32(1, true),
    payload: bytes.subarray(HEADER),
  };
}

export function encodeConnect(
  streamId: number,
  streamType: number,
  port: number,
  hostname: string,
): Uint8Array {
  const name = new TextEncoder().encode(hostname);
  const payload = new Uint8Array(3 + name.length);
  payload[0] = streamType;
  payload[1] = port & 0xff;
  payload[2] = port >>> 8;
  payload.set(name, 3);
  return encodeWispPacket(WISP_CONNECT, streamId, payload);
}

export function parseConnect(
  payload: Uint8Array,
): { streamType: number; port: number; hostname: string } | undefined {
  if (payload.length < 4) return undefined;
  let hostname: string;
  try {
    hostname = new TextDecoder('utf-8', { fatal: true }).decode(payload.subarray(3));
  } catch {
    return undefined;
  }
  return { streamType: payload[0]!, port: payload[1]! | (payload[2]! << 8), hostname };
}

export function encodeContinue(streamId: number, bufferRemaining: number): Uint8Array {
  const payload = new Uint8Array(4);
  new DataView(payload.buffer).setUint32(0, bufferRemaining >>> 0, true);
  return encodeWispPacket(WISP_CONTINUE, streamId, payload);
}

export function parseContinue(payload: Uint8Array): number | undefined {
  return payload.length >= 4
    ? new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0, true)
    : undefined;
}

export function encodeClose(streamId: number, reason: number): Uint8Array {
  return encodeWispPacket(WISP_CLOSE, streamId, Uint8Array.of(reason));
}

/** A v2 INFO packet: version 2.0 and the given extensions (id -> metadata). */
export function encodeInfo(extensions: ReadonlyMap<number, Uint8Array>): Uint8Array {
  let length = 2;
  for (const metadata of extensions.values()) length += 5 + metadata.length;
  const payload = new Uint8Array(length);
  const view = new DataView(payload.buffer);
  payload[0] = 2;
  payload[1] = 0;
  let offset = 2;
  for (const [id, metadata] of extensions) {
    payload[offset] = id;
    view.setUint32(offset + 1, metadata.length, true);
    payload.set(metadata, offset + 5);
    offset += 5 + metadata.length;
  }
  return encodeWispPacket(WISP_INFO, 0, payload);
}

export function parseInfo(
  payload: Uint8Array,
): { major: number; minor: number; extensions: Map<number, Uint8Array> } | undefined {
  if (payload.length < 2) return undefined;
  const extensions = new Map<number, Uint8Array>();
  const view = new DataView(payload.buffer, payload.byteOffset, payload.length);
  let offset = 2;
  while (offset < payload.length) {
    if (offset + 5 > payload.length) return undefined;
    const length = view.getUint32(offset + 1, true);
    if (offset + 5 + length > payload.length) return undefined;
    extensions.set(payload[offset]!, payload.subarray(offset + 5, offset + 5 + length));
    offset += 5 + length;
  }
  return { major: payload[0]!, minor: payload[1]!, extensions };
}

/** What a close reason means as a Node-style error code, for the side that opened the stream. */
export function wispCloseCode(reason: number): string {
  switch (reason) {
    case WISP_CLOSE_REFUSED:
      return 'ECONNREFUSED';
    case WISP_CLOSE_UNREACHABLE:
      return 'EHOSTUNREACH';
    case WISP_CLOSE_TIMEOUT:
    case WISP_CLOSE_DATA_TIMEOUT:
      return 'ETIMEDOUT';
    case WISP_CLOSE_BLOCKED:
      return 'EACCES';
    case WISP_CLOSE_INVALID:
      return 'EINVAL';
    case WISP_CLOSE_THROTTLED:
      return 'EAGAIN';
    default:
      return 'ECONNRESET';
  }
}
