/**
 * Frames on a byte stream, each preceded by its length as a 4-byte big-endian number: the format of QEMU's
 * `-netdev stream` and `-netdev socket` and of gvisor-tap-vsock's QEMU protocol. The decoder takes the
 * stream in arbitrary pieces and yields whole frames; a length of 0 or above `maxFrameLength` means the
 * peer does not speak this format (or the stream is corrupt), which is reported once — there is no way to
 * find the next frame boundary after it.
 */

export const LENGTH_PREFIX_BYTES = 4;
/** The largest frame a peer of this format sends: QEMU's limit is NET_BUFSIZE, 68 KiB (65535 + 14 + 4 fit). */
export const MAX_STREAM_FRAME = 69_632;

export function encodeLengthPrefixed(frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(LENGTH_PREFIX_BYTES + frame.length);
  new DataView(out.buffer).setUint32(0, frame.length);
  out.set(frame, LENGTH_PREFIX_BYTES);
  return out;
}

export class LengthPrefixedDecoder {
  /** Bytes of an incomplete length or frame, kept between pieces (at most one frame's worth). */
  private pending: Uint8Array = new Uint8Array(0);
  private failed = false;

  constructor(
    private readonly maxFrameLength: number,
    private readonly onFrame: (frame: Uint8Array) => void,
    private readonly onError: (message: string) => void,
  ) {}

  push(piece: Uint8Array): void {
    if (this.failed) return;
    let data = piece;
    if (this.pending.length > 0) {
      data = new Uint8Array(this.pending.length + piece.length);
      data.set(this.pending);
      data.set(piece, this.pending.length);
    }
    let offset = 0;
    while (data.length - offset >= LENGTH_PREFIX_BYTES) {
      const length =
        ((data[offset]! << 24) | (data[offset + 1]! << 16) | (data[offset + 2]! << 8) | data[offset + 3]!) >>>
        0;
      if (length === 0 || length > this.maxFrameLength) {
        this.failed = true;
        this.pending = new Uint8Array(0);
        this.onError(
          `frame length ${length} is outside 1-${this.maxFrameLength}: not a length-prefixed frame stream`,
        );
        return;
      }
      if (data.length - offset - LENGTH_PREFIX_BYTES < length) break;
      const start = offset + LENGTH_PREFIX_BYTES;
      // A copy when the data is our own concatenation's tail would alias later pieces: slice either way.
      this.onFrame(data.slice(start, start + length));
      offset = start + length;
    }
    this.pending = offset === data.length ? new Uint8Array(0) : data.slice(offset);
  }
}
