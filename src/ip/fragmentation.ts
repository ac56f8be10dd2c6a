/**
 * IPv4 fragmentation (RFC 791 §3.2 "Fragmentation and Reassembly", §3.1 fragment offset and MF).
 *
 * Every fragment but the last carries a multiple of 8 data bytes; offsets are relative to the original
 * datagram, so a fragment that is fragmented again by a router keeps its place (and its MF flag on the
 * last piece). The first fragment keeps every IP option, later ones only the options whose "copied" flag
 * is set (RFC 791 §3.1 "Options").
 */
import { emitIpv4Header, type Ipv4Header, ipv4HeaderLength } from '../wire/ipv4.js';

/** Largest value of the fragment offset field, in bytes (8191 units of 8). */
const MAX_FRAGMENT_OFFSET = 8191 * 8;

/** Options with the copied flag (high bit of the option type), for fragments after the first. */
export function copiedOptions(options: Uint8Array | undefined): Uint8Array | undefined {
  if (options === undefined || options.length === 0) return undefined;
  const kept: number[] = [];
  let i = 0;
  while (i < options.length) {
    const type = options[i]!;
    if (type === 0) break; // End of Option List
    if (type === 1) {
      i++; // No Operation: single byte, not copied
      continue;
    }
    if (i + 1 >= options.length) break;
    const length = options[i + 1]!;
    if (length < 2 || i + length > options.length) break; // malformed: copy nothing further
    if ((type & 0x80) !== 0) for (let k = 0; k < length; k++) kept.push(options[i + k]!);
    i += length;
  }
  return kept.length === 0 ? undefined : Uint8Array.from(kept);
}

/**
 * Splits `payload` (the data of a datagram with header `header`) into frames of at most `mtu` IP bytes
 * each, every one preceded by `linkHeaderLength` bytes left for the caller's link header. `header`
 * describes the datagram being split: its `fragmentOffset` and `moreFragments` are those of the original
 * (0 and false for a datagram not yet fragmented). Returns undefined when `mtu` cannot hold 8 data bytes
 * after the header, or a piece would start past the largest fragment offset.
 */
export function fragmentDatagram(
  header: Ipv4Header,
  payload: Uint8Array,
  mtu: number,
  linkHeaderLength: number,
): Uint8Array[] | undefined {
  const laterOptions = copiedOptions(header.options);
  const firstHeaderLength = ipv4HeaderLength(header);
  const laterHeaderLength = ipv4HeaderLength({ options: laterOptions });
  const firstMax = Math.floor((mtu - firstHeaderLength) / 8) * 8;
  const laterMax = Math.floor((mtu - laterHeaderLength) / 8) * 8;
  if (firstMax <= 0 || laterMax <= 0) return undefined;

  const frames: Uint8Array[] = [];
  let position = 0;
  while (position < payload.length || frames.length === 0) {
    // The 13-bit offset field ends at 65528: a (hostile) fragment reaching past it cannot be split.
    if (header.fragmentOffset + position > MAX_FRAGMENT_OFFSET) return undefined;
    const first = frames.length === 0;
    const max = first ? firstMax : laterMax;
    const chunk = Math.min(max, payload.length - position);
    const last = position + chunk >= payload.length;
    const fragmentHeader: Ipv4Header = {
      ...header,
      options: first ? header.options : laterOptions,
      dontFragment: false,
      moreFragments: last ? header.moreFragments : true,
      fragmentOffset: header.fragmentOffset + position,
    };
    const headerLength = first ? firstHeaderLength : laterHeaderLength;
    const frame = new Uint8Array(linkHeaderLength + headerLength + chunk);
    emitIpv4Header(fragmentHeader, chunk, frame, linkHeaderLength);
    frame.set(payload.subarray(position, position + chunk), linkHeaderLength + headerLength);
    frames.push(frame);
    position += chunk;
  }
  return frames;
}
