/**
 * A pcap sink that writes a file (Node only). Writes are synchronous and batched through a 64 KiB buffer:
 * the writer's chunks are copied at once, so the stack may reuse its buffers, and the file holds every
 * packet as soon as `flush()` or `close()` returns.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { type PcapSink, PcapWriter, type PcapWriterOptions } from './pcap-writer.js';

const BUFFER_SIZE = 64 * 1024;

export class PcapFileSink implements PcapSink {
  private fd: number | undefined;
  private readonly buffer = new Uint8Array(BUFFER_SIZE);
  private used = 0;

  /** Creates (or truncates) the file at `path`. */
  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }

  write(chunk: Uint8Array): void {
    if (this.fd === undefined) {
      throw Object.assign(new Error(`pcap file ${this.path} is closed`), {
        code: 'ERR_STREAM_WRITE_AFTER_END',
      });
    }
    if (this.used + chunk.length > this.buffer.length) this.flush();
    if (chunk.length > this.buffer.length) {
      this.writeAll(chunk);
      return;
    }
    this.buffer.set(chunk, this.used);
    this.used += chunk.length;
  }

  /** Writes buffered bytes to the file. */
  flush(): void {
    if (this.fd === undefined || this.used === 0) return;
    this.writeAll(this.buffer.subarray(0, this.used));
    this.used = 0;
  }

  /** Flushes and closes the file. Closing twice is harmless. */
  close(): void {
    if (this.fd === undefined) return;
    try {
      this.flush();
    } finally {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }

  private writeAll(bytes: Uint8Array): void {
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(this.fd!, bytes, offset, bytes.length - offset);
  }
}

/** A PcapWriter writing to a new file at `path`. */
export function createPcapFile(path: string, options?: PcapWriterOptions): PcapWriter {
  return new PcapWriter(new PcapFileSink(path), options);
}
