/**
 * Small conversations with known answers, as trace events carrying real frames: the seed's handshake,
 * its sliding-window example, and a loss repaired by a timeout retransmission.
 */
import type { TraceEvent } from '../../src/trace/events.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN } from '../../src/wire/tcp.js';
import { conn, type HostSpec, TraceScript, tcpFrame } from './trace-script.js';

export const client: HostSpec = { name: 'client', ip: '10.0.0.1', mac: 0x02_00_00_00_00_01 };
export const server: HostSpec = { name: 'server', ip: '10.0.0.2', mac: 0x02_00_00_00_00_02 };
export const CLIENT_PORT = 49152;
export const SERVER_PORT = 80;
export const CLIENT_ISN = 1000;
export const SERVER_ISN = 5000;
/** One-way delay of every link in these scenarios. */
export const DELAY = 10;

export const clientConn = conn(client, CLIENT_PORT, server, SERVER_PORT);
export const serverConn = conn(server, SERVER_PORT, client, CLIENT_PORT);
export const listenerConn = conn(server, SERVER_PORT, { name: '', ip: '0.0.0.0', mac: 0 }, 0);

/** One end of the scenarios' connection: its host, port, initial sequence number and default window. */
interface End {
  host: HostSpec;
  port: number;
  isn: number;
  window: number;
}

const CLIENT_END: End = { host: client, port: CLIENT_PORT, isn: CLIENT_ISN, window: 65535 };
const SERVER_END: End = { host: server, port: SERVER_PORT, isn: SERVER_ISN, window: 4096 };

type SegmentExtra = { window?: number; payload?: number; options?: object };

/** A segment `from` → `to` with seq and ack relative to the ISNs; an ack sets the ACK flag. */
function segmentFrame(
  from: End,
  to: End,
  seq: number,
  ack: number | undefined,
  flags: number,
  extra: SegmentExtra,
) {
  return tcpFrame(from.host, to.host, {
    srcPort: from.port,
    dstPort: to.port,
    seq: from.isn + seq,
    ack: ack === undefined ? 0 : to.isn + ack,
    flags: ack === undefined ? flags : flags | TCP_ACK,
    window: extra.window ?? from.window,
    options: extra.options,
    payload: extra.payload,
  });
}

export function fromClient(seq: number, ack: number | undefined, flags: number, extra: SegmentExtra = {}) {
  return segmentFrame(CLIENT_END, SERVER_END, seq, ack, flags, extra);
}

export function fromServer(seq: number, ack: number | undefined, flags: number, extra: SegmentExtra = {}) {
  return segmentFrame(SERVER_END, CLIENT_END, seq, ack, flags, extra);
}

/** RFC 9293 §3.5 figure: SYN seq=x; SYN,ACK seq=y ack=x+1; ACK seq=x+1 ack=y+1 (relative x = y = 0). */
export function handshake(t = new TraceScript()): TraceScript {
  t.state(0, server, listenerConn, 'CLOSED', 'LISTEN');
  t.state(0, client, clientConn, 'CLOSED', 'SYN-SENT');
  t.send(0, client, server, fromClient(0, undefined, TCP_SYN, { options: { mss: 1460 } }), DELAY);
  t.state(DELAY, server, serverConn, 'LISTEN', 'SYN-RECEIVED');
  t.send(DELAY, server, client, fromServer(0, 1, TCP_SYN, { options: { mss: 1460 } }), 2 * DELAY);
  t.state(2 * DELAY, client, clientConn, 'SYN-SENT', 'ESTABLISHED');
  t.send(2 * DELAY, client, server, fromClient(1, 1, 0), 3 * DELAY);
  t.state(3 * DELAY, server, serverConn, 'SYN-RECEIVED', 'ESTABLISHED');
  return t;
}

/**
 * The seed's sliding-window example after the handshake: four 1024-byte segments into a 4096-byte
 * window; the receiver's buffer holds three, so it answers ACK 3073 with window 3072.
 */
export function slidingWindow(t = handshake()): TraceScript {
  for (let i = 0; i < 4; i++) {
    t.send(100 + i, client, server, fromClient(1 + 1024 * i, 1, TCP_PSH, { payload: 1024 }), 100 + i + DELAY);
  }
  t.send(120, server, client, fromServer(1, 3073, 0, { window: 3072 }), 120 + DELAY);
  return t;
}

/** The second data segment is lost; the sender's timer fires and it is sent again. */
export function lossAndRetransmission(t = handshake()): TraceScript {
  t.send(100, client, server, fromClient(1, 1, TCP_PSH, { payload: 1000 }), 100 + DELAY);
  t.send(101, client, server, fromClient(1001, 1, TCP_PSH, { payload: 1000 }), 'lost');
  t.send(102, client, server, fromClient(2001, 1, TCP_PSH, { payload: 1000 }), 102 + DELAY);
  t.send(110, server, client, fromServer(1, 1001, 0), 110 + DELAY);
  t.send(112, server, client, fromServer(1, 1001, 0), 112 + DELAY);
  t.add({ kind: 'note', time: 300, host: 'client', text: 'retransmission timer expired' });
  t.add({
    kind: 'tcp.retransmit',
    time: 300,
    host: 'client',
    conn: clientConn,
    seq: CLIENT_ISN + 1001,
    length: 1000,
    cause: 'rto',
  });
  t.send(300, client, server, fromClient(1001, 1, TCP_PSH, { payload: 1000 }), 300 + DELAY);
  t.send(310, server, client, fromServer(1, 3001, 0), 310 + DELAY);
  return t;
}

/** Active close by the client through TIME-WAIT. */
export function close(t: TraceScript, at: number, clientSeq: number, serverSeq: number): TraceScript {
  t.state(at, client, clientConn, 'ESTABLISHED', 'FIN-WAIT-1');
  t.send(at, client, server, fromClient(clientSeq, serverSeq, TCP_FIN), at + DELAY);
  t.state(at + DELAY, server, serverConn, 'ESTABLISHED', 'CLOSE-WAIT');
  t.send(at + DELAY, server, client, fromServer(serverSeq, clientSeq + 1, 0), at + 2 * DELAY);
  t.state(at + 2 * DELAY, client, clientConn, 'FIN-WAIT-1', 'FIN-WAIT-2');
  t.state(at + 3 * DELAY, server, serverConn, 'CLOSE-WAIT', 'LAST-ACK');
  t.send(at + 3 * DELAY, server, client, fromServer(serverSeq, clientSeq + 1, TCP_FIN), at + 4 * DELAY);
  t.state(at + 4 * DELAY, client, clientConn, 'FIN-WAIT-2', 'TIME-WAIT');
  t.send(at + 4 * DELAY, client, server, fromClient(clientSeq + 1, serverSeq + 1, 0), at + 5 * DELAY);
  t.state(at + 5 * DELAY, server, serverConn, 'LAST-ACK', 'CLOSED');
  return t;
}

export function events(t: TraceScript): TraceEvent[] {
  return t.flush();
}
