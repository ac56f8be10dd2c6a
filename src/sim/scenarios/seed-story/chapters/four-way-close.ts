/**
 * Chapter 6: the four-way close (RFC 9293 §3.6) with a half-close and a lost final ACK. The client closes
 * first (FIN-WAIT-1); the server acknowledges (CLOSE-WAIT) and, the connection being half closed, still
 * sends what it has left before it closes too (LAST-ACK). The client's last ACK is lost, so the server's
 * retransmission timer sends the FIN again; the client, in TIME-WAIT, acknowledges it again and keeps the
 * connection for 2 MSL so that no late segment of it can reach a new connection on the same ports (§3.6.1).
 */
import { TCP_FIN, TCP_RST, TCP_SYN } from '../../../../wire/tcp.js';
import type { ChapterScript } from '../chapter-script.js';
import { storyBytes } from '../story-stage.js';

export const fourWayCloseChapter: ChapterScript = {
  title: 'The four-way close, and a lost final ACK',
  play(stage) {
    const client = stage.client!;
    const server = stage.server!;
    let serverSawEnd = false;
    server.on('end', () => {
      serverSawEnd = true;
    });
    // The seed's letters: the client's FIN carries seq=u, the server's seq=w (relative numbers).
    const u = relative(client.status().sndNxt, client.status().iss);
    stage.note('client', 'application closes: nothing more to send');
    client.close(stage.now());
    stage.waitFor(() => serverSawEnd && client.state === 'FIN-WAIT-2');
    stage.note('server', 'application reads end of data');
    stage.wait(100);
    stage.note('server', 'application sends its last 300 bytes');
    server.send(storyBytes(300, 'goodbye '), stage.now());
    stage.waitFor(() => server.status().sndUna === server.status().sndMax);
    stage.wait(100);

    // The FIN will take sequence number SND.NXT; the ACK of it carries that plus one.
    const finAck = (server.status().sndNxt + 1) >>> 0;
    stage.network.loss.lose({
      from: 'client',
      when: (f) => {
        const t = f.decoded.tcp;
        return (
          t !== undefined &&
          t.length === 0 &&
          (t.flags & (TCP_SYN | TCP_FIN | TCP_RST)) === 0 &&
          t.ack === finAck
        );
      },
      label: 'the final ACK',
    });
    const w = relative(server.status().sndNxt, server.status().iss);
    stage.note('server', 'application closes');
    server.close(stage.now());
    stage.waitFor(() => server.state === 'CLOSED');
    const { mslMs } = stage.network.clientTcp.config;
    stage.waitFor(() => client.state === 'CLOSED', 4 * mslMs + 1000);
    return {
      summary:
        'FIN-WAIT-1, CLOSE-WAIT, FIN-WAIT-2, LAST-ACK, TIME-WAIT; the last ACK is lost, the FIN comes again.',
      explanation:
        `The client closes first: FIN with seq=u (here ${u}), FIN-WAIT-1. The server acknowledges u+1 ` +
        '(CLOSE-WAIT) and the client waits (FIN-WAIT-2). The connection is half closed: the server still ' +
        `sends its last data, then its own FIN with seq=w (here ${w}), LAST-ACK. The client acknowledges ` +
        'w+1 and enters TIME-WAIT, but that ACK is lost: the ' +
        "server's timer sends the FIN again, and the client acknowledges it again. The client stays in " +
        `TIME-WAIT for 2 MSL (${(2 * mslMs) / 1000} s), so that no late segment can reach a new connection ` +
        'that reuses these ports.',
    };
  },
};

/** A sequence number relative to the initial one: the ISN itself is 0, the first data byte 1. */
function relative(seq: number, iss: number): number {
  return (seq - iss) >>> 0;
}
