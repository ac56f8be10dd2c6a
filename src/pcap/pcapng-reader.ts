/**
 * Reader for pcapng capture files (draft-ietf-opsawg-pcapng; Wireshark's and dumpcap's default format),
 * and `readCapture`, which reads either pcapng or classic pcap into one shape.
 *
 * A pcapng file is a sequence of blocks (type, total length, body, total length again). A Section Header
 * Block starts each section and fixes its byte order; Interface Description Blocks give each interface
 * its link type and timestamp resolution; packets come in Enhanced Packet Blocks (with the interface and
 * a 64-bit timestamp), Simple Packet Blocks (interface 0, no time) or the obsolete Packet Block. Other
 * blocks (name resolution, statistics, custom, decryption secrets) are skipped by their length. Packets
 * are views into the input: nothing is copied. Never throws.
 */
import { malformed, type ParseResult, parsed } from '../wire/parse-result.js';
import { type PcapRecord, readPcap } from './pcap-reader.js';

const BLOCK_SECTION_HEADER = 0x0a0d0d0a;
const BLOCK_INTERFACE_DESCRIPTION = 0x00000001;
const BLOCK_PACKET_OBSOLETE = 0x00000002;
const BLOCK_SIMPLE_PACKET = 0x00000003;
const BLOCK_ENHANCED_PACKET = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** Interface option if_tsresol (draft-ietf-opsawg-pcapng §4.2). */
const OPTION_IF_TSRESOL = 9;
const OPTION_END = 0;

const PROTOCOL = 'pcapng';

/** A captured packet with the link type of the interface it was captured on. */
export interface CaptureRecord extends PcapRecord {
  readonly linkType: number;
  /** The pcapng interface (0 for classic pcap). */
  readonly interfaceId: number;
}

export interface CaptureInterface {
  readonly linkType: number;
  readonly snapLength: number;
  /** Units of a timestamp per second (1e6 unless if_tsresol says otherwise). */
  readonly ticksPerSecond: number;
  readonly name?: string;
}

export interface CaptureFile {
  readonly format: 'pcap' | 'pcapng';
  /** One per interface (classic pcap has exactly one). */
  readonly interfaces: readonly CaptureInterface[];
  readonly records: CaptureRecord[];
  /** Blocks skipped because they hold no packet tcpts draws (name resolution, statistics, ...), by type. */
  readonly skippedBlocks: number;
  /** The file ends inside a block or record; the complete ones before it are returned. */
  readonly truncatedTail: boolean;
}

/** Reads a pcapng or classic pcap file. */
export function readCapture(bytes: Uint8Array): ParseResult<CaptureFile> {
  if (bytes.length >= 4) {
    const first = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, false);
    if (first === BLOCK_SECTION_HEADER) return readPcapng(bytes);
  }
  const pcap = readPcap(bytes);
  if (!pcap.ok) return pcap;
  const p = pcap.value;
  return parsed({
    format: 'pcap',
    interfaces: [
      { linkType: p.linkType, snapLength: p.snapLength, ticksPerSecond: p.nanosecondResolution ? 1e9 : 1e6 },
    ],
    records: p.records.map((r) => ({ ...r, linkType: p.linkType, interfaceId: 0 })),
    skippedBlocks: 0,
    truncatedTail: p.truncatedTail,
  });
}

interface Section {
  littleEndian: boolean;
  interfaces: CaptureInterface[];
}

export function readPcapng(bytes: Uint8Array): ParseResult<CaptureFile> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const interfaces: CaptureInterface[] = [];
  const records: CaptureRecord[] = [];
  let section: Section | undefined;
  let skippedBlocks = 0;
  let truncatedTail = false;
  let offset = 0;
  while (offset < bytes.length) {
    if (offset + 12 > bytes.length) {
      truncatedTail = true;
      break;
    }
    const rawType = view.getUint32(offset, false);
    if (rawType === BLOCK_SECTION_HEADER) {
      // The byte-order magic decides how this section's numbers are read, the SHB's length included.
      const magic = view.getUint32(offset + 8, true);
      let littleEndian: boolean;
      if (magic === BYTE_ORDER_MAGIC) littleEndian = true;
      else if (view.getUint32(offset + 8, false) === BYTE_ORDER_MAGIC) littleEndian = false;
      else return malformed(PROTOCOL, 'bad-field', `byte-order magic at offset ${offset + 8}`);
      const major = view.getUint16(offset + 12, littleEndian);
      if (major !== 1) return malformed(PROTOCOL, 'unsupported', `section version ${major}`);
      section = { littleEndian, interfaces: [] };
    }
    if (!section) return malformed(PROTOCOL, 'bad-field', 'the file does not start with a section header');
    const le = section.littleEndian;
    const type = view.getUint32(offset, le);
    const length = view.getUint32(offset + 4, le);
    if (length < 12 || length % 4 !== 0) {
      return malformed(PROTOCOL, 'bad-field', `block of length ${length} at offset ${offset}`);
    }
    if (offset + length > bytes.length) {
      truncatedTail = true;
      break;
    }
    const body = offset + 8;
    const bodyEnd = offset + length - 4;
    switch (type) {
      case BLOCK_SECTION_HEADER:
        break;
      case BLOCK_INTERFACE_DESCRIPTION: {
        if (bodyEnd - body < 8)
          return malformed(PROTOCOL, 'truncated', `interface block at offset ${offset}`);
        const iface = {
          linkType: view.getUint16(body, le),
          snapLength: view.getUint32(body + 4, le),
          ...interfaceOptions(view, body + 8, bodyEnd, le),
        };
        section.interfaces.push(iface);
        interfaces.push(iface);
        break;
      }
      case BLOCK_ENHANCED_PACKET:
      case BLOCK_PACKET_OBSOLETE: {
        if (bodyEnd - body < 20) return malformed(PROTOCOL, 'truncated', `packet block at offset ${offset}`);
        const interfaceId =
          type === BLOCK_ENHANCED_PACKET ? view.getUint32(body, le) : view.getUint16(body, le);
        const iface = section.interfaces[interfaceId];
        if (!iface) return malformed(PROTOCOL, 'bad-field', `packet of unknown interface ${interfaceId}`);
        const high = view.getUint32(body + 4, le);
        const low = view.getUint32(body + 8, le);
        const captured = view.getUint32(body + 12, le);
        const original = view.getUint32(body + 16, le);
        const dataStart = body + 20;
        if (dataStart + captured > bodyEnd) {
          return malformed(PROTOCOL, 'truncated', `packet data overruns its block at offset ${offset}`);
        }
        records.push({
          ...timeOf(high, low, iface.ticksPerSecond),
          data: bytes.subarray(dataStart, dataStart + captured),
          originalLength: original,
          linkType: iface.linkType,
          interfaceId: interfaces.indexOf(iface),
        });
        break;
      }
      case BLOCK_SIMPLE_PACKET: {
        const iface = section.interfaces[0];
        if (!iface) return malformed(PROTOCOL, 'bad-field', 'simple packet block before any interface');
        const original = view.getUint32(body, le);
        const captured = Math.min(original, iface.snapLength || original, bodyEnd - body - 4);
        records.push({
          timestampMs: 0,
          seconds: 0,
          nanoseconds: 0,
          data: bytes.subarray(body + 4, body + 4 + captured),
          originalLength: original,
          linkType: iface.linkType,
          interfaceId: interfaces.indexOf(iface),
        });
        break;
      }
      default:
        skippedBlocks++;
    }
    offset += length;
  }
  if (!section) return malformed(PROTOCOL, 'truncated', 'no section header');
  return parsed({ format: 'pcapng', interfaces, records, skippedBlocks, truncatedTail });
}

function interfaceOptions(
  view: DataView,
  start: number,
  end: number,
  le: boolean,
): { ticksPerSecond: number; name?: string } {
  let ticksPerSecond = 1e6;
  let name: string | undefined;
  let at = start;
  while (at + 4 <= end) {
    const code = view.getUint16(at, le);
    const length = view.getUint16(at + 2, le);
    if (code === OPTION_END) break;
    if (at + 4 + length > end) break;
    if (code === OPTION_IF_TSRESOL && length >= 1) {
      // High bit clear: a negative power of 10; set: a negative power of 2.
      const v = view.getUint8(at + 4);
      ticksPerSecond = v & 0x80 ? 2 ** (v & 0x7f) : 10 ** v;
    } else if (code === 2) {
      name = new TextDecoder().decode(new Uint8Array(view.buffer, view.byteOffset + at + 4, length));
    }
    at += 4 + Math.ceil(length / 4) * 4;
  }
  return name === undefined ? { ticksPerSecond } : { ticksPerSecond, name };
}

/** A 64-bit tick count split into whole seconds and nanoseconds without losing precision. */
function timeOf(
  high: number,
  low: number,
  ticksPerSecond: number,
): { timestampMs: number; seconds: number; nanoseconds: number } {
  const ticks = (BigInt(high) << 32n) | BigInt(low);
  const perSecond = BigInt(Math.round(ticksPerSecond));
  const seconds = Number(ticks / perSecond);
  const nanoseconds = Number(((ticks % perSecond) * 1_000_000_000n) / perSecond);
  return { timestampMs: seconds * 1000 + nanoseconds / 1e6, seconds, nanoseconds };
}
