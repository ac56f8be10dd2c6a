/**
 * Chapter 5: a zero window and the window probe (RFC 9293 §3.8.6.1). The server's application stops
 * reading, its buffer fills and it advertises window 0. The client must not send into a closed window,
 * but it must not wait forever either (the window update could be lost): its persist timer sends a probe
 * of one byte, again at growing intervals (MUST-36, SHLD-29), until the window opens.
 */
import type { ChapterScript } from '../chapter-script.js';
import { STORY_SERVER_BUFFER, storyBytes } from '../story-stage.js';

const PROBES = 2;
const WRITTEN = 8192;

export const zeroWindowChapter: ChapterScript = {
  title: 'A zero window and the window probe',
  play(stage) {
    const client = stage.client!;
    const probes = () => stage.network.clientTcp.counters.zeroWindowProbes;
    const before = probes();
    stage.serverReading = false;
    stage.note('client', `application writes ${WRITTEN} bytes`);
    client.send(storyBytes(WRITTEN), stage.now());
    stage.waitFor(() => probes() >= before + PROBES);
    stage.wait(100);
    stage.serverReading = true;
    stage.serverRead();
    stage.waitFor(() => {
      const s = client.status();
      return s.sndUna === s.sndMax && s.sendQueued === 0;
    });
    return {
      summary: 'The server stops reading: window 0; the client probes with one byte until the window opens.',
      explanation:
        `The server's application stops reading; after ${STORY_SERVER_BUFFER} bytes its buffer is full and ` +
        'it advertises window 0. The client keeps the rest of its data, but if the window update got lost ' +
        'both sides would wait forever, so its persist timer sends a one-byte window probe, and again after ' +
        'twice the time, until an answer shows room. The application reads, the server announces the ' +
        'space, and the transfer resumes.',
    };
  },
};
