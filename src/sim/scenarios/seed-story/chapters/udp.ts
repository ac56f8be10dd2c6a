/**
 * Chapter 8: UDP (RFC 768). No connection, no handshake, no acknowledgment: each datagram stands alone.
 * The server runs an echo service (port 7); of three datagrams the client sends, the second is lost and
 * nothing in UDP notices or repeats it.
 */
import type { ChapterScript } from '../chapter-script.js';
import { STORY_UDP_PORT } from '../story-stage.js';

const MESSAGES = ['hello', 'one', 'two', 'three'];

export const udpChapter: ChapterScript = {
  title: 'UDP: datagrams, no handshake, no ACK',
  play(stage) {
    const net = stage.network;
    const encoder = new TextEncoder();
    const decoder = new TextDecoder();
    const echo = net.server.udp.bind(
      { port: STORY_UDP_PORT },
      {
        message(payload, info) {
          echo.send(payload, info.port, info.address);
        },
      },
    );
    const received: string[] = [];
    const socket = net.client.udp.bind(
      {},
      {
        message(payload) {
          received.push(decoder.decode(payload));
        },
      },
    );
    stage.network.loss.lose({
      from: 'client',
      when: (f) => f.decoded.udp !== undefined,
      nth: 3,
      label: '"two"',
    });
    for (const [i, text] of MESSAGES.entries()) {
      if (i > 0) stage.wait(i === 1 ? 100 : 20);
      stage.note('client', `application sends "${text}"`);
      socket.send(encoder.encode(text), STORY_UDP_PORT, net.serverAddress);
    }
    stage.wait(200);
    stage.note('client', `application received ${received.map((r) => `"${r}"`).join(', ')}`);
    socket.close();
    echo.close();
    return {
      protocols: ['udp', 'icmp', 'arp'],
      summary: 'UDP: no handshake, no ACK; of "one", "two", "three" the second is lost, and nothing notices.',
      explanation:
        'UDP sends datagrams without a connection: no handshake, no acknowledgment, no ordering, only an ' +
        '8-byte header with ports, length and checksum. The server echoes what it gets on port 7. Of "one", ' +
        '"two" and "three", the second is lost, and nothing in UDP notices or sends it again: an ' +
        'application that cares has to do that itself.',
    };
  },
};
