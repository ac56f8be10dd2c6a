/**
 * Chapter 3: a lost segment is sent again when the retransmission timer expires (RFC 9293 §3.8.1,
 * RFC 6298). The receiver kept the segments that arrived after the gap, so one ACK then covers them all.
 */
import type { ChapterScript } from '../chapter-script.js';

export const timeoutRetransmissionChapter: ChapterScript = {
  title: 'A lost segment: retransmission on timeout',
  play(stage) {
    const client = stage.client!;
    const { iss, rto } = client.status();
    const start = stage.now();
    stage.waitFor(() => client.status().sndUna === (iss + 6145) >>> 0);
    stage.until(Math.max(stage.now(), start) + 100);
    stage.serverRead();
    stage.serverReading = true;
    stage.wait(100);
    return {
      summary: `No ACK for byte 3073 within the RTO (${rto} ms): the client resends it, and one ACK covers all.`,
      explanation:
        `No ACK covers byte 3073 within the retransmission timeout (${rto} ms, computed from the measured ` +
        'round-trip time), so the client sends that segment again. The server kept the two segments that ' +
        'came after the gap, so one ACK 6145 acknowledges everything. Its buffer is now full (window 0) ' +
        'until its application reads; then it announces the free space in a window update, and the 2048 ' +
        'bytes the client had been holding back since chapter 2 leave at last.',
    };
  },
};
