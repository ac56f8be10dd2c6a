/**
 * Chapter 1: the three-way handshake (RFC 9293 §3.5). The server listens; the client's SYN carries its
 * initial sequence number x, the server's SYN-ACK its own y and ack x+1, the client's ACK seq x+1, ack y+1.
 */
import type { ChapterScript } from '../chapter-script.js';
import { STORY_SERVER_BUFFER, STORY_SERVER_PORT } from '../story-stage.js';

export const handshakeChapter: ChapterScript = {
  title: 'The three-way handshake',
  play(stage) {
    const net = stage.network;
    const listener = net.serverTcp.listen({
      port: STORY_SERVER_PORT,
      config: { receiveBufferSize: STORY_SERVER_BUFFER },
    });
    stage.listener = listener;
    listener.once('connection', (conn) => {
      stage.server = conn;
      stage.attachServer(conn);
    });
    stage.note('server', `listening on port ${STORY_SERVER_PORT}`);
    const client = net.clientTcp.connect({ remoteAddress: net.serverAddress, remotePort: STORY_SERVER_PORT });
    stage.client = client;
    stage.attachClient(client);
    stage.waitFor(() => stage.server?.state === 'ESTABLISHED');
    const x = client.status().iss;
    const y = stage.server!.status().iss;
    return {
      absolute: true,
      summary: `SYN seq=x, SYN-ACK seq=y ack=x+1, ACK seq=x+1 ack=y+1 (here x = ${x}, y = ${y}).`,
      explanation:
        'The client asks first: a SYN carrying its initial sequence number x. The server agrees with a ' +
        'SYN-ACK carrying its own y and acknowledging x+1; the client confirms with seq x+1, ack y+1. Three ' +
        'letters, and each side knows both directions work. From here on each side counts its bytes from ' +
        "its initial number: seq=1 is x+1. (The two ARP packets first find the server's Ethernet address.)",
    };
  },
};
