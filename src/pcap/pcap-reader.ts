/**
 * Reader for classic libpcap capture files (draft-ietf-opsawg-pcap; the format tcpdump -w writes):
 * a 24-byte file header, then per packet a 16-byte record header and the captured bytes.
 *
 * The file's byte order is whatever the writing machine used; the magic number says which, and whether
 * the fraction of a second is in microseconds (0xa1b2c3d4) or nanoseconds (0xa1b23c4d). Records are views
 * into the input: nothing is copied.
 */

import { ETHERNET_HEADER_LENGTH, ETHERTYPE_IPV4, EthernetView } from '../wire/ethernet.js';
import { malformed, type ParseResult, parsed } from '../wire/parse-result.js';

export const PCAP_MAGIC_MICROSECONDS = 0xa1b2c3d4;
export const PCAP_MAGIC_NANOSECONDS = 0xa1b23c4d;
/** pcapng section header block type: recognised only to say it is not classic pcap. */
const PCAPNG_MAGIC = 0x0a0d0d0a;

export const PCAP_FILE_HEADER_LENGTH = 24;
export const PCAP_RECORD_HEADER_LENGTH = 16;

/** Link types (tcpdump.org/linktypes.html). */
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LINUX_SLL = 113;
/** Linux "cooked" capture header length (LINKTYPE_LINUX_SLL). */
const LINUX_SLL_HEADER_LENGTH = 16;

export interface PcapRecord {
  /** Capture time in milliseconds since the Unix epoch (fractional; exact to the microsecond). */
  timestampMs: number;
  /** Whole seconds of the capture time. */
  seconds: number;
  /** Fraction of the second in nanoseconds (exact for both file precisions). */
  nanoseconds: number;
  /** The captured bytes, possibly fewer than `originalLength` when the snap length cut the packet; a view. */
  data: Uint8Array;
  /** Length of the packet on the wire. */
  originalLength: number;
}

export interface PcapFile {
  linkType: number;
  snapLength: number;
  /** True for nanosecond-resolution files. */
  nanosecondResolution: boolean;
  /** True when the file was written on a big-endian machine. */
  bigEndian: boolean;
  versionMajor: number;
  versionMinor: number;
  records: PcapRecord[];
  /**
   * True when the file ends inside a record (a capture cut short, e.g. the writer was killed): the
   * complete records before it are returned, as tcpdump -r does.
   */
  truncatedTail: boolean;
}

const PROTOCOL = 'pcap';

/** Parses a whole capture file held in memory. Never throws. */
export function readPcap(bytes: Uint8Array): ParseResult<PcapFile> {
  if (bytes.length < PCAP_FILE_HEADER_LENGTH) {
    return malformed(PROTOCOL, 'truncated', `${bytes.length} bytes, the pcap file header needs 24`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magicBig = view.getUint32(0, false);
  const magicLittle = view.getUint32(0, true);
  let littleEndian: boolean;
  let nanosecondResolution: boolean;
  if (magicLittle === PCAP_MAGIC_MICROSECONDS || magicLittle === PCAP_MAGIC_NANOSECONDS) {
    littleEndian = true;
    nanosecondResolution = magicLittle === PCAP_MAGIC_NANOSECONDS;
  } else if (magicBig === PCAP_MAGIC_MICROSECONDS || magicBig === PCAP_MAGIC_NANOSECONDS) {
    littleEndian = false;
    nanosecondResolution = magicBig === PCAP_MAGIC_NANOSECONDS;
  } else if (magicBig === PCAPNG_MAGIC) {
    return malformed(PROTOCOL, 'unsupported', 'pcapng file: only classic pcap is read');
  } else {
    return malformed(PROTOCOL, 'bad-field', `magic number 0x${magicBig.toString(16).padStart(8, '0')}`);
  }
  const versionMajor = view.getUint16(4, littleEndian);
  const versionMinor = view.getUint16(6, littleEndian);
  if (versionMajor !== 2) {
    return malformed(PROTOCOL, 'unsupported', `format version ${versionMajor}.${versionMinor}`);
  }
  const snapLength = view.getUint32(16, littleEndian);
  // The upper bits of this field may carry FCS information; the link type is the low 16 bits.
  const linkType = view.getUint32(20, littleEndian) & 0xffff;

  const records: PcapRecord[] = [];
  let truncatedTail = false;
  let offset = PCAP_FILE_HEADER_LENGTH;
  // Record fields are taken as written, like libpcap does: an odd timestamp or a captured length above the
  // original one does not make the remaining packets unreadable.
  while (offset < bytes.length) {
    if (offset + PCAP_RECORD_HEADER_LENGTH > bytes.length) {
      truncatedTail = true;
      break;
    }
    const seconds = view.getUint32(offset, littleEndian);
    const fraction = view.getUint32(offset + 4, littleEndian);
    const capturedLength = view.getUint32(offset + 8, littleEndian);
    const originalLength = view.getUint32(offset + 12, littleEndian);
    const dataStart = offset + PCAP_RECORD_HEADER_LENGTH;
    if (dataStart + capturedLength > bytes.length) {
      truncatedTail = true;
      break;
    }
    const nanoseconds = nanosecondResolution ? fraction : fraction * 1000;
    records.push({
      timestampMs: seconds * 1000 + nanoseconds / 1e6,
      seconds,
      nanoseconds,
      data: bytes.subarray(dataStart, dataStart + capturedLength),
      originalLength,
    });
    offset = dataStart + capturedLength;
  }
  return parsed({
    linkType,
    snapLength,
    nanosecondResolution,
    bigEndian: !littleEndian,
    versionMajor,
    versionMinor,
    records,
    truncatedTail,
  });
}

export interface NetworkPacket {
  /** EtherType of the packet (ETHERTYPE_IPV4, ETHERTYPE_ARP, ...). */
  etherType: number;
  /** The network-layer packet; a view into the record. */
  packet: Uint8Array;
}

/**
 * Strips the link-layer framing of a record so Ethernet, Linux cooked (SLL) and raw-IP captures can be
 * read alike. Never throws.
 */
export function networkPacketOf(linkType: number, data: Uint8Array): ParseResult<NetworkPacket> {
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      const frame = EthernetView.fromBytes(data);
      if (!frame.ok) return frame;
      return parsed({ etherType: frame.value.etherType, packet: data.subarray(ETHERNET_HEADER_LENGTH) });
    }
    case LINKTYPE_LINUX_SLL: {
      if (data.length < LINUX_SLL_HEADER_LENGTH) {
        return malformed(PROTOCOL, 'truncated', `${data.length} bytes, the Linux cooked header needs 16`);
      }
      // The protocol field holds an EtherType for every packet an IPv4 stack cares about.
      return parsed({
        etherType: (data[14]! << 8) | data[15]!,
        packet: data.subarray(LINUX_SLL_HEADER_LENGTH),
      });
    }
    case LINKTYPE_RAW: {
      if (data.length === 0) return malformed(PROTOCOL, 'truncated', 'empty raw IP packet');
      const version = data[0]! >>> 4;
      if (version !== 4) return malformed(PROTOCOL, 'unsupported', `raw IP version ${version}`);
      return parsed({ etherType: ETHERTYPE_IPV4, packet: data });
    }
    default:
      return malformed(PROTOCOL, 'unsupported', `link type ${linkType}`);
  }
}
