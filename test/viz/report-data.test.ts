import { describe, expect, it } from 'vitest';
import { conversationFromTrace } from '../../src/viz/conversation-from-trace.js';
import { decodeColumn, decodeReportPackets } from '../../src/viz/report-app.js';
import { base64, encodeReportData, rowText, splitTemplate } from '../../src/viz/report-data.js';
import { events, lossAndRetransmission } from './scenarios.js';

describe('the report data packing', () => {
  it('writes base64 as RFC 4648 does, for every length remainder', () => {
    for (const length of [0, 1, 2, 3, 4, 5, 10_000]) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 37 + 11) & 0xff);
      expect(base64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
    }
  });

  it('splits text into words and numbers, keeping numbers it cannot restore exactly in the words', () => {
    expect(splitTemplate('PSH,ACK seq=1001 ack=1 win=65535 len=1000')).toEqual({
      template: 'PSH,ACK seq=\u0001 ack=\u0001 win=\u0001 len=\u0001',
      numbers: [1001, 1, 65535, 1000],
    });
    // A MAC address's '00' and a 16-digit run would not survive a round trip through a number.
    expect(splitTemplate('is-at 02:00:0a id=1234567890123456')).toEqual({
      template: 'is-at 02:00:\u0001a id=1234567890123456',
      numbers: [0],
    });
  });

  it('reads back columns of deltas, negative steps and numbers above 2^32 included', () => {
    const conversation = conversationFromTrace(events(lossAndRetransmission()));
    const data = encodeReportData(conversation, {});
    const packets = decodeReportPackets(data);
    expect(packets.count).toBe(conversation.packets.length);
    conversation.packets.forEach((p, i) => {
      expect(packets.rowWords(i)).toBe(rowText(p, {}));
      expect(packets.ids[i]).toBe(p.id);
      expect(packets.sent[i]).toBe(Math.round((p.sentAt - conversation.timeOrigin) * 1000));
      expect(packets.frameLength[i]).toBe(p.frameLength);
    });
    // Absolute numbers (up to 2^32 - 1) and times in µs of a long run.
    const absolute = encodeReportData(conversation, { relative: false });
    const again = decodeReportPackets(absolute);
    conversation.packets.forEach((p, i) => {
      expect(again.rowWords(i)).toBe(rowText(p, { relative: false }));
    });
    const big = [0, 4_294_967_295, 3, 2 ** 40, 5, 2 ** 40 - 7];
    const text = encodeReportData(
      { ...conversation, packets: conversation.packets.map((p, i) => ({ ...p, id: big[i % big.length]! })) },
      {},
    ).id;
    expect(Array.from(decodeColumn(text, conversation.packets.length, true))).toEqual(
      conversation.packets.map((_, i) => big[i % big.length]),
    );
  });
});
