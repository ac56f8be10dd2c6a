/**
 * Chapter 4: duplicate ACKs and fast retransmit (RFC 5681 §3.2). The server sends this time (a TCP
 * connection carries data both ways); its fifth segment is lost, each later segment makes the client
 * repeat the same ACK at once (RFC 9293 §3.10.7.4, MUST-58 / RFC 5681 §4.2: out-of-order data is
 * acknowledged immediately), and the third duplicate makes the server resend without waiting for its timer.
 *
 * Nine segments are enough: the server's congestion window starts at four segments and has grown to six
 * by its second flight, so four segments follow the lost one.
 */
import type { ChapterScript } from '../chapter-script.js';
import { storyBytes } from '../story-stage.js';

const SEGMENTS = 9;
const LOST = 5;

export const fastRetransmitChapter: ChapterScript = {
  title: 'Duplicate ACKs and fast retransmit',
  play(stage) {
    const server = stage.server!;
    stage.network.loss.lose({
      from: 'server',
      when: (f) => (f.decoded.tcp?.length ?? 0) > 0,
      nth: LOST,
      label: 'the fifth data segment',
    });
    stage.note('server', `application writes ${SEGMENTS * 1024} bytes`);
    server.send(storyBytes(SEGMENTS * 1024, 'reply '), stage.now());
    stage.waitFor(() => {
      const s = server.status();
      return s.sndUna === s.sndMax;
    });
    return {
      summary:
        "The server's 5th segment is lost; three duplicate ACKs make it resend at once, before its timer.",
      explanation:
        'Now the server sends: one connection carries data both ways. Its fifth segment is lost. Each ' +
        'segment after the gap arrives out of order, and the client answers each at once with the same ACK ' +
        '4097: duplicate ACKs. Three of them while data keeps arriving mean one segment is missing, so the ' +
        'server resends it at once instead of waiting for its timer (fast retransmit), and the next ACK ' +
        'covers everything.',
    };
  },
};
