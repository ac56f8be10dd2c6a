/** A DNS answer for tests: A records from a fixed table, NXDOMAIN otherwise; undefined for non-queries. */
import {
  DNS_TYPE_A,
  DNS_TYPE_AAAA,
  encodeDnsResponse,
  parseDnsMessage,
} from '../../../src/dns/dns-message.js';

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
  const answers = question.type === DNS_TYPE_AAAA && address !== undefined ? [address] : [];
  return encodeDnsResponse(query, answers, 60, address !== undefined);
}
