/** The test responder's encoding (RFC 1035 §4.1, RFC 3596 §2.1), byte for byte. */
import { expect, test } from 'vitest';
import {
  DNS_TYPE_AAAA,
  encodeDnsQuery,
  encodeDnsResponse,
  parseDnsMessage,
} from '../../src/dns/dns-message.js';

// biome-ignore format: one row per section of the message
const AAAA_ANSWER = [
  0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, // id, QR RD, RA NOERROR, 1 question, 1 answer
  3, 0x77, 0x77, 0x77, 1, 0x61, 0, 0, 28, 0, 1, // www.a AAAA IN
  0xc0, 12, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16, // the question's name, AAAA IN, TTL 60, 16 bytes
  0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, // fd00::2
];

test('an AAAA answer carries the 16 address bytes; an empty NOERROR and NXDOMAIN differ only in rcode', () => {
  const query = parseDnsMessage(encodeDnsQuery(0x1234, 'www.a', DNS_TYPE_AAAA))!;
  expect(Array.from(encodeDnsResponse(query, ['fd00::2'], 60))).toEqual(AAAA_ANSWER);
  const header = (bytes: Uint8Array) => Array.from(bytes.subarray(0, 12));
  expect(header(encodeDnsResponse(query, [], 60, true))).toEqual([
    0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0,
  ]);
  expect(header(encodeDnsResponse(query, []))).toEqual([0x12, 0x34, 0x81, 0x83, 0, 1, 0, 0, 0, 0, 0, 0]);
});
