/** A DNS answer for tests: A records from a fixed table, NXDOMAIN otherwise; undefined for non-queries. */
import { DNS_TYPE_A, encodeDnsResponse, parseDnsMessage } from '../../../src/dns/dns-message.js';
import { parseIpv6 } from '../../../src/wire/ipv6-address.js';

/** RFC 3596 §2.1. */
const DNS_TYPE_AAAA = 28;

export function dnsAnswer(
  message: Uint8Array,
  table: Readonly<Record<string, string>>,
): Uint8Array | undefined {
  const query = parseDnsMessage(message);
  if (query === undefined || query.response || query.questions.length !== 1) return undefined;
  const question = query.questions[0]!;
  const address = table[question.name.toLowerCase()];
  return encodeDnsResponse(query, question.type === DNS_TYPE_A && address !== undefined ? [address] : []);
}

/**
 * A DNS answer for IPv6 names: AAAA records from a fixed table (an A query for such a name gets an empty
 * NOERROR answer, as a real zone without A records gives), NXDOMAIN for other names.
 */
export function dnsAnswerAaaa(
  message: Uint8Array,
  table: Readonly<Record<string, string>>,
): Uint8Array | undefined {
  const query = parseDnsMessage(message);
  if (query === undefined || query.response || query.questions.length !== 1) return undefined;
  const question = query.questions[0]!;
  const address = table[question.name.toLowerCase()];
  // The question section as the query carried it: labels up to the root, then type and class.
  let end = 12;
  while (message[end]! !== 0) end += message[end]! + 1;
  end += 5;
  const answers = address !== undefined && question.type === DNS_TYPE_AAAA ? 1 : 0;
  const header = [
    message[0]!,
    message[1]!,
    0x81,
    address === undefined ? 0x83 : 0x80,
    0,
    1,
    0,
    answers,
    0,
    0,
    0,
    0,
  ];
  const out = [...header, ...message.subarray(12, end)];
  if (answers === 1) {
    const value = parseIpv6(address!)!;
    out.push(0xc0, 12, 0, DNS_TYPE_AAAA, 0, 1, 0, 0, 0, 60, 0, 16);
    for (let shift = 120n; shift >= 0n; shift -= 8n) out.push(Number((value >> shift) & 0xffn));
  }
  return Uint8Array.from(out);
}
