/**
 * DNS messages (RFC 1035 §4), as much as a stub resolver and a test responder need: a query for one name
 * and type, and a response's answers (A records' addresses, CNAMEs followed by the caller), with name
 * compression (§4.1.4) on reading. Parsing never throws: bad input gives undefined.
 */
import { ipv6Bytes, parseIpv6 } from '../wire/ipv6-address.js';

export const DNS_TYPE_A = 1;
export const DNS_TYPE_CNAME = 5;
/** RFC 3596 §2.1. */
export const DNS_TYPE_AAAA = 28;
export const DNS_CLASS_IN = 1;
/** RFC 1035 §4.1.1 RCODEs. */
export const DNS_RCODE_NXDOMAIN = 3;

export interface DnsQuestion {
  name: string;
  type: number;
}

export interface DnsRecord {
  name: string;
  type: number;
  ttl: number;
  /** A: the address as text; CNAME: the target name; others: undefined. */
  value: string | undefined;
}

export interface DnsMessage {
  id: number;
  response: boolean;
  rcode: number;
  /** TC: the answer did not fit in the UDP datagram (retry over TCP, RFC 7766). */
  truncated: boolean;
  questions: DnsQuestion[];
  answers: DnsRecord[];
}

function encodeName(name: string): number[] {
  const out: number[] = [];
  for (const label of name.replace(/\.$/, '').split('.')) {
    if (label === '') continue;
    const bytes = new TextEncoder().encode(label);
    if (bytes.length > 63) throw Object.assign(new Error(`DNS label too long: ${label}`), { code: 'EINVAL' });
    out.push(bytes.length, ...bytes);
  }
  out.push(0);
  return out;
}

/** A recursive query (RD set) for `name`. */
export function encodeDnsQuery(id: number, name: string, type = DNS_TYPE_A): Uint8Array {
  return Uint8Array.from([
    id >> 8,
    id & 0xff,
    0x01, // RD
    0x00,
    0,
    1, // QDCOUNT
    0,
    0,
    0,
    0,
    0,
    0,
    ...encodeName(name),
    type >> 8,
    type & 0xff,
    0,
    DNS_CLASS_IN,
  ]);
}

/**
 * A response to `query` answering with `addresses`: an A record for each IPv4 text, an AAAA record
 * (RFC 3596) for each IPv6 text. With none it is NXDOMAIN, unless `nameExists` says the name is there
 * without records of the type asked (an empty NOERROR answer, as a zone gives).
 */
export function encodeDnsResponse(
  query: DnsMessage,
  addresses: readonly string[],
  ttl = 60,
  nameExists = addresses.length > 0,
): Uint8Array {
  const question = query.questions[0]!;
  const name = encodeName(question.name);
  const out: number[] = [
    query.id >> 8,
    query.id & 0xff,
    0x81, // QR, RD
    nameExists ? 0x80 : 0x80 | DNS_RCODE_NXDOMAIN, // RA, rcode
    0,
    1,
    addresses.length >> 8,
    addresses.length & 0xff,
    0,
    0,
    0,
    0,
    ...name,
    question.type >> 8,
    question.type & 0xff,
    0,
    DNS_CLASS_IN,
  ];
  for (const address of addresses) {
    const ipv6 = address.includes(':') ? parseIpv6(address) : undefined;
    out.push(0xc0, 12); // pointer to the question's name
    out.push(
      0,
      ipv6 === undefined ? DNS_TYPE_A : DNS_TYPE_AAAA,
      0,
      DNS_CLASS_IN,
      ttl >>> 24,
      (ttl >>> 16) & 0xff,
      (ttl >>> 8) & 0xff,
      ttl & 0xff,
      0,
      ipv6 === undefined ? 4 : 16,
    );
    if (ipv6 === undefined) out.push(...address.split('.').map(Number));
    else out.push(...ipv6Bytes(ipv6));
  }
  return Uint8Array.from(out);
}

function readName(bytes: Uint8Array, start: number): { name: string; next: number } | undefined {
  const labels: string[] = [];
  let offset = start;
  let next = -1;
  for (let jumps = 0; jumps < 64; jumps++) {
    if (offset >= bytes.length) return undefined;
    const length = bytes[offset]!;
    if (length === 0) {
      return { name: labels.join('.'), next: next < 0 ? offset + 1 : next };
    }
    if ((length & 0xc0) === 0xc0) {
      if (offset + 1 >= bytes.length) return undefined;
      if (next < 0) next = offset + 2;
      offset = ((length & 0x3f) << 8) | bytes[offset + 1]!;
      continue;
    }
    if (length > 63 || offset + 1 + length > bytes.length) return undefined;
    labels.push(new TextDecoder().decode(bytes.subarray(offset + 1, offset + 1 + length)));
    offset += 1 + length;
  }
  return undefined; // a compression loop
}

export function parseDnsMessage(bytes: Uint8Array): DnsMessage | undefined {
  if (bytes.length < 12) return undefined;
  const u16 = (i: number): number => (bytes[i]! << 8) | bytes[i + 1]!;
  const flags = u16(2);
  const questionCount = u16(4);
  const answerCount = u16(6);
  const questions: DnsQuestion[] = [];
  const answers: DnsRecord[] = [];
  let offset = 12;
  for (let i = 0; i < questionCount; i++) {
    const name = readName(bytes, offset);
    if (name === undefined || name.next + 4 > bytes.length) return undefined;
    questions.push({ name: name.name, type: u16(name.next) });
    offset = name.next + 4;
  }
  for (let i = 0; i < answerCount; i++) {
    const name = readName(bytes, offset);
    if (name === undefined || name.next + 10 > bytes.length) return undefined;
    const type = u16(name.next);
    const ttl = ((u16(name.next + 4) << 16) | u16(name.next + 6)) >>> 0;
    const length = u16(name.next + 8);
    const data = name.next + 10;
    if (data + length > bytes.length) return undefined;
    let value: string | undefined;
    if (type === DNS_TYPE_A && length === 4) value = Array.from(bytes.subarray(data, data + 4)).join('.');
    else if (type === DNS_TYPE_CNAME) value = readName(bytes, data)?.name;
    answers.push({ name: name.name, type, ttl, value });
    offset = data + length;
  }
  return {
    id: u16(0),
    response: (flags & 0x8000) !== 0,
    rcode: flags & 0x0f,
    truncated: (flags & 0x0200) !== 0,
    questions,
    answers,
  };
}
