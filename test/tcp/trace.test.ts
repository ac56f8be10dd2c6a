import { describe, expect, it } from 'vitest';
import { established, LOCAL, pattern, REMOTE } from './dialogue.js';

describe('trace events (tcp.state, tcp.retransmit, tcp.metrics, drop)', () => {
  it('records state changes, retransmissions with their cause, metrics on ACKs, and drops with a reason', () => {
    const d = established();
    d.conn.send(pattern(100), d.now);
    d.at(1000); // the handshake at t=0 gave a 0 ms RTT sample, so the RTO is the 200 ms minimum
    d.at(1001).recv({ flags: 'A', seq: 9001, ack: 1101 });
    d.recv({ flags: 'A', seq: 1, ack: 1101 }); // far outside the window: dropped with an ACK
    const events = d.trace.events;
    const conn = { local: LOCAL, remote: REMOTE };
    expect(events.filter((e) => e.kind === 'tcp.state')).toEqual([
      { kind: 'tcp.state', time: 0, host: 'local', conn, from: 'CLOSED', to: 'SYN-SENT' },
      { kind: 'tcp.state', time: 0, host: 'local', conn, from: 'SYN-SENT', to: 'ESTABLISHED' },
    ]);
    const retransmits = events.filter((e) => e.kind === 'tcp.retransmit');
    expect(retransmits[0]).toEqual({
      kind: 'tcp.retransmit',
      time: 200,
      host: 'local',
      conn,
      seq: 1001,
      length: 100,
      cause: 'rto',
    });
    const metrics = events.filter((e) => e.kind === 'tcp.metrics');
    expect(metrics.at(-1)).toMatchObject({
      kind: 'tcp.metrics',
      time: 1001,
      bytesInFlight: 0,
      sendWindow: 65535,
    });
    expect(events.filter((e) => e.kind === 'drop').map((e) => (e.kind === 'drop' ? e.reason : ''))).toEqual([
      'segment outside the window',
    ]);
  });
});
