/**
 * Writes the classic libpcap capture format that Wireshark, tshark and tcpdump read
 * (https://www.tcpdump.org/manpages/pcap-savefile.5.html, and draft-ietf-opsawg-pcap).
 *
 * Files are little-endian and use nanosecond timestamps by default (magic 0xa1b23c4d): virtual time is
 * exact to fractions of a microsecond — a 64-byte frame takes 51.2 ns to serialise at 10 Gbit/s — and
 * microsecond stamps would merge distinct events. Microsecond resolution (magic 0xa1b2c3d4) remains an
 * option for old readers. Timestamps are whatever the caller passes, normally `clock.now()`, so a
 * simulation on virtual time writes byte-identical captures on every run.
 */

/**
 * Where capture bytes go. `write` must consume or copy `chunk` before it returns: the writer reuses its
 * header buffer, and packet bytes belong to the stack.
 */
export interface PcapSink {
  write(chunk: Uint8Array): void;
  close?(): void;
}

export const PCAP_MAGIC_MICROSECONDS = 0xa1b2c3d4;
export const PCAP_MAGIC_NANOSECONDS = 0xa1b23c4d;
export const PCAP_VERSION_MAJOR = 2;
export const PCAP_VERSION_MINOR = 4;
/** LINKTYPE_ETHERNET: frames start with the Ethernet II header, no FCS. */
export const LINKTYPE_ETHERNET = 1;
/**
 * tcpdump's default (MAXIMUM_SNAPLEN, since libpcap 1.x / tcpdump 4.x): whole frames, including TCP
 * super-segments of an offloading link (up to 65535 bytes of IP datagram plus the Ethernet header).
 */
export const PCAP_DEFAULT_SNAP_LENGTH = 262_144;
export const PCAP_FILE_HEADER_LENGTH = 24;
export const PCAP_RECORD_HEADER_LENGTH = 16;

export type PcapTimestampResolution = 'nanosecond' | 'microsecond';

export interface PcapWriterOptions {
  /** Default 'nanosecond'. */
  resolution?: PcapTimestampResolution;
  /** Bytes kept per packet; longer packets are truncated and keep their original length. Default 262144. */
  snapLength?: number;
  /** Default LINKTYPE_ETHERNET. */
  linkType?: number;
  /**
   * Added to every timestamp, in ms since the Unix epoch. Default 0, so virtual time 0 shows as
   * 1970-01-01T00:00:00Z and captures stay deterministic.
   */
  timeOriginMs?: number;
}

export class PcapWriter {
  readonly resolution: PcapTimestampResolution;
  readonly snapLength: number;
  readonly linkType: number;
  /** The time origin split into whole seconds and a millisecond remainder, for precision (see writePacket). */
  private readonly originSeconds: number;
  private readonly originFractionMs: number;
  private readonly recordHeader = new Uint8Array(PCAP_RECORD_HEADER_LENGTH);
  private readonly recordView = new DataView(this.recordHeader.buffer);
  private packets = 0;
  private isClosed = false;

  constructor(
    private readonly sink: PcapSink,
    options: PcapWriterOptions = {},
  ) {
    this.resolution = options.resolution ?? 'nanosecond';
    this.snapLength = options.snapLength ?? PCAP_DEFAULT_SNAP_LENGTH;
    this.linkType = options.linkType ?? LINKTYPE_ETHERNET;
    const timeOriginMs = options.timeOriginMs ?? 0;
    if (this.resolution !== 'nanosecond' && this.resolution !== 'microsecond') {
      throw invalid(`unknown timestamp resolution ${String(this.resolution)}`);
    }
    if (!Number.isInteger(this.snapLength) || this.snapLength < 1 || this.snapLength > 0x7fffffff) {
      throw invalid(`snapLength must be an integer in 1..2^31-1, got ${this.snapLength}`);
    }
    if (!Number.isFinite(timeOriginMs)) throw invalid('timeOriginMs must be finite');
    this.originSeconds = Math.floor(timeOriginMs / 1000);
    this.originFractionMs = timeOriginMs - this.originSeconds * 1000;

    const header = new Uint8Array(PCAP_FILE_HEADER_LENGTH);
    const view = new DataView(header.buffer);
    view.setUint32(
      0,
      this.resolution === 'nanosecond' ? PCAP_MAGIC_NANOSECONDS : PCAP_MAGIC_MICROSECONDS,
      true,
    );
    view.setUint16(4, PCAP_VERSION_MAJOR, true);
    view.setUint16(6, PCAP_VERSION_MINOR, true);
    view.setInt32(8, 0, true); // thiszone: timestamps are UTC
    view.setUint32(12, 0, true); // sigfigs: always 0 in practice
    view.setUint32(16, this.snapLength, true);
    view.setUint32(20, this.linkType, true);
    sink.write(header);
  }

  /** Packets written so far. */
  get packetCount(): number {
    return this.packets;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * Appends one packet stamped `timeMs` (ms; fractions kept to the file's resolution; times before the
   * epoch are written as 0). Writing after close is an error with code ERR_STREAM_WRITE_AFTER_END.
   */
  writePacket(timeMs: number, packet: Uint8Array): void {
    if (this.isClosed) {
      throw Object.assign(new Error('pcap writer is closed'), { code: 'ERR_STREAM_WRITE_AFTER_END' });
    }
    // Seconds and fractions are added separately: an epoch-sized sum (1.7e12 ms) would keep only about a
    // quarter of a microsecond of the virtual time's precision.
    let seconds = Math.floor(timeMs / 1000);
    let fractionMs = timeMs - seconds * 1000 + this.originFractionMs;
    seconds += this.originSeconds;
    if (fractionMs >= 1000) {
      seconds += 1;
      fractionMs -= 1000;
    }
    const unitsPerSecond = this.resolution === 'nanosecond' ? 1e9 : 1e6;
    let fraction = Math.round(fractionMs * (unitsPerSecond / 1000));
    if (fraction >= unitsPerSecond) {
      seconds += 1;
      fraction -= unitsPerSecond;
    }
    if (seconds < 0) {
      // Before the Unix epoch: not representable, written as 0.
      seconds = 0;
      fraction = 0;
    }
    const captured = Math.min(packet.length, this.snapLength);
    const view = this.recordView;
    view.setUint32(0, seconds >>> 0, true);
    view.setUint32(4, fraction, true);
    view.setUint32(8, captured, true);
    view.setUint32(12, packet.length, true);
    this.sink.write(this.recordHeader);
    this.sink.write(captured === packet.length ? packet : packet.subarray(0, captured));
    this.packets++;
  }

  /** Closes the sink. Closing twice is harmless. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.sink.close?.();
  }
}

/** Largest block a MemoryPcapSink allocates: a capture grows by blocks of this size once it is large. */
const MEMORY_SINK_BLOCK = 1 << 20;

/**
 * Collects a capture in memory, e.g. for tests or to offer a download in a browser. The bytes are kept in
 * blocks (growing to 1 MiB each) rather than one array doubled when full: doubling copies the whole
 * capture at once, a pause of tens of milliseconds in the middle of a simulation once it is some MiB
 * long (the web lab records every frame it simulates).
 */
export class MemoryPcapSink implements PcapSink {
  private readonly full: Uint8Array[] = [];
  private block = new Uint8Array(4096);
  private inBlock = 0;
  private used = 0;

  write(chunk: Uint8Array): void {
    let from = 0;
    while (from < chunk.length) {
      if (this.inBlock === this.block.length) {
        this.full.push(this.block);
        this.block = new Uint8Array(Math.min(MEMORY_SINK_BLOCK, this.block.length * 2));
        this.inBlock = 0;
      }
      const n = Math.min(chunk.length - from, this.block.length - this.inBlock);
      this.block.set(from === 0 && n === chunk.length ? chunk : chunk.subarray(from, from + n), this.inBlock);
      this.inBlock += n;
      from += n;
    }
    this.used += chunk.length;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.used;
  }

  /** The capture so far as one array (a copy: later writes do not change it). */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.used);
    let at = 0;
    for (const block of this.full) {
      out.set(block, at);
      at += block.length;
    }
    out.set(this.block.subarray(0, this.inBlock), at);
    return out;
  }
}

function invalid(message: string): Error {
  return Object.assign(new Error(message), { code: 'EINVAL' });
}
