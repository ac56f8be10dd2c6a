/**
 * Chapter 2: flow control with the sliding window (RFC 9293 §3.8.6), the seed's example: four 1024-byte
 * segments in a 4096-byte window; the server keeps three, answers ACK 3073 with window 3072, and the
 * client keeps no more than 3072 bytes unacknowledged.
 *
 * The numbers come from real mechanisms, not from a script: the MSS is 1024 (MTU 1064); the client's
 * initial congestion window is four such segments (RFC 5681 §3.1); the server's application reads
 * nothing, so three segments leave 6144 - 3072 = 3072 bytes of its buffer free, which is the window it
 * advertises. The fourth segment is lost on the way.
 */
import type { ChapterScript } from '../chapter-script.js';
import { storyBytes } from '../story-stage.js';

/** What the application writes after ACK 3073 win 3072: more than the window lets out. */
const SECOND_WRITE = 4096;

export const slidingWindowChapter: ChapterScript = {
  title: 'Sending data: the sliding window',
  play(stage) {
    const client = stage.client!;
    const start = stage.now();
    const { iss } = client.status();
    stage.network.loss.lose({
      from: 'client',
      when: (f) => (f.decoded.tcp?.length ?? 0) > 0,
      nth: 4,
      label: 'the fourth data segment',
    });
    stage.note('client', 'application writes 4096 bytes');
    client.send(storyBytes(4096), stage.now());
    // The ACK of the first three segments: 3073 relative to x.
    stage.waitFor(() => client.status().sndUna === (iss + 3073) >>> 0);
    stage.until(start + 100);
    stage.note('client', `application writes ${SECOND_WRITE} more bytes`);
    client.send(storyBytes(SECOND_WRITE), stage.now());
    // The segments the window allowed left at once; say what holds the rest back.
    const s = client.status();
    const unacknowledged = (s.sndMax - s.sndUna) >>> 0;
    const right = (s.sndUna + s.sndWnd - iss) >>> 0;
    stage.note(
      'client',
      `window full: ${unacknowledged} bytes unacknowledged = window ${s.sndWnd} (may send up to byte ` +
        `${right - 1}); ${s.sendUnsent} bytes wait`,
    );
    stage.wait(60);
    return {
      summary:
        'Four 1024-byte segments, window 4096, the 4th lost; ACK 3073 win 3072 holds the sender to 3072 bytes',
      explanation:
        'The client sends four 1024-byte segments at once: 4096 bytes is its window for now (its initial ' +
        "congestion window; the server offered 6144). The fourth is lost. The server's application reads " +
        'nothing, so three segments fill 3072 of its 6144-byte buffer: it answers ACK 3073 (bytes 1 to 3072 ' +
        'arrived) with window 3072, so the client may now have at most 3072 bytes unacknowledged, bytes ' +
        `3073 to 6144. Of those, 1024 are already out (the lost segment), so when the application writes ` +
        `${SECOND_WRITE} more bytes only two segments leave; the other ${SECOND_WRITE - 2048} bytes wait ` +
        'until the window moves (chapter 3). The server can only repeat ACK 3073, once per segment that ' +
        "arrived after the gap. Sequence numbers here count from the client's initial one (x = 0).",
    };
  },
};
