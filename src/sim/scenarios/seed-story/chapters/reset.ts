/**
 * Chapter 7: a forced close (RFC 9293 §3.10.5 ABORT). A second connection is opened; the client's
 * application aborts it, which sends RST <SEQ=SND.NXT> and forgets the connection at once. The server,
 * on a valid RST, drops the connection and tells its application ECONNRESET (§3.10.7.4).
 */
import type { TcpConnection } from '../../../../tcp/connection.js';
import type { ChapterScript } from '../chapter-script.js';
import { STORY_SERVER_PORT, storyBytes } from '../story-stage.js';

export const resetChapter: ChapterScript = {
  title: 'A forced close: RST',
  play(stage) {
    const net = stage.network;
    let server: TcpConnection | undefined;
    stage.listener!.once('connection', (conn) => {
      server = conn;
      conn.on('error', (error) =>
        stage.note('server', `application: the connection failed with ${error.code}`),
      );
    });
    stage.note('client', 'application opens a second connection');
    const client = net.clientTcp.connect({ remoteAddress: net.serverAddress, remotePort: STORY_SERVER_PORT });
    stage.attachClient(client);
    stage.waitFor(() => client.state === 'ESTABLISHED' && server?.state === 'ESTABLISHED');
    stage.wait(50);
    client.send(storyBytes(100, 'hello '), stage.now());
    stage.waitFor(() => client.status().sndUna === client.status().sndMax);
    stage.wait(100);
    stage.note('client', 'application aborts the connection');
    client.abort(stage.now());
    stage.waitFor(() => server!.state === 'CLOSED');
    return {
      summary:
        'A second connection is aborted: one RST, and both ends are gone at once, with no acknowledgment.',
      explanation:
        'A second connection: a new client port, a new handshake. Instead of the four-way close, the ' +
        "client's application aborts it: one RST segment, and the connection is gone on both sides at " +
        'once, with no acknowledgment and nothing more to wait for. The server tells its application that ' +
        'the connection was reset (ECONNRESET).',
    };
  },
};
