/** Ethernet/IPv4/TCP frames with correct checksums, built byte by byte for tests of receive paths. */
import { checksumAdd, checksumFinish, pseudoHeaderSum } from '../../src/wire/checksum.js';

const SRC = 0x0a_00_00_01;
const DST = 0x0a_00_00_02;
export const FIN = 0x01;
export const SYN = 0x02;
export const PSH = 0x08;
export const ACK = 0x10;
export const CWR = 0x80;
/** NOP, NOP, timestamps (RFC 7323 §3 layout, as Linux sends it). */
export function timestamps(value: number, echo: number): number[] {
  return [
    1,
    1,
    8,
    10,
    value >>> 24,
    (value >>> 16) & 0xff,
    (value >>> 8) & 0xff,
    value & 0xff,
    echo >>> 24,
    (echo >>> 16) & 0xff,
    (echo >>> 8) & 0xff,
    echo & 0xff,
  ];
}

export interface SegmentSpec {
  seq: number;
  data: Uint8Array;
  flags?: number;
  ack?: number;
  window?: number;
  options?: number[];
  id?: number;
  ttl?: number;
  srcPort?: number;
  corruptTcp?: boolean;
}

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 8;
  b[at + 1] = v & 0xff;
}
function put32(b: Uint8Array, at: number, v: number): void {
  put16(b, at, v >>> 16);
  put16(b, at + 2, v & 0xffff);
}

/** An Ethernet/IPv4/TCP frame with correct checksums. */
export function tcpFrame(spec: SegmentSpec): Uint8Array {
  const options = spec.options ?? timestamps(1000, 2000);
  const tcpHeader = 20 + options.length;
  const total = 20 + tcpHeader + spec.data.length;
  const f = new Uint8Array(14 + total);
  put32(f, 0, 0x0200_0000);
  put16(f, 4, 0x000b);
  put32(f, 6, 0x0200_0000);
  put16(f, 10, 0x000a);
  put16(f, 12, 0x0800);
  f[14] = 0x45;
  put16(f, 16, total);
  put16(f, 18, spec.id ?? 1);
  f[20] = 0x40;
  f[22] = spec.ttl ?? 64;
  f[23] = 6;
  put32(f, 26, SRC);
  put32(f, 30, DST);
  put16(f, 24, checksumFinish(checksumAdd(0, f, 14, 20)));
  put16(f, 34, spec.srcPort ?? 40000);
  put16(f, 36, 5001);
  put32(f, 38, spec.seq);
  put32(f, 42, spec.ack ?? 7000);
  f[46] = (tcpHeader / 4) << 4;
  f[47] = spec.flags ?? ACK;
  put16(f, 48, spec.window ?? 512);
  f.set(options, 54);
  f.set(spec.data, 34 + tcpHeader);
  const sum = checksumFinish(
    checksumAdd(
      pseudoHeaderSum(SRC, DST, 6, tcpHeader + spec.data.length),
      f,
      34,
      tcpHeader + spec.data.length,
    ),
  );
  put16(f, 50, spec.corruptTcp ? sum ^ 0x0100 : sum);
  return f;
}

export function bytes(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed * 7) & 0xff);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
