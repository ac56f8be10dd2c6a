/** A DNS answer for tests: A records from a fixed table, NXDOMAIN otherwise; undefined for non-queries. */
import { DNS_TYPE_A, encodeDnsResponse, parseDnsMessage } from '../../../src/dns/dns-message.js';

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
