/**
 * A connection's owner as one object (TcpConnectionOwner, the TCP layer's form: no closures per
 * connection) or as separate callbacks: both see the same segments, deadlines and orphan decisions.
 */
import { describe, expect, it } from 'vitest';
import { TcpConnection, type TcpConnectionOwner } from '../../src/tcp/connection.js';
import { newTcpCounters } from '../../src/tcp/counters.js';
import { TcpError } from '../../src/tcp/errors.js';
import { TCP_ACK, TCP_SYN, type TcpSegment } from '../../src/wire/tcp.js';

const local = { address: 0x0a000001, port: 40000 };
const remote = { address: 0x0a000002, port: 80 };

class RecordingOwner implements TcpConnectionOwner {
  readonly sent: { flags: number; seq: number; mss: number | undefined }[] = [];
  readonly deadlines: number[] = [];
  admits = 0;
  output(segment: TcpSegment): 'ok' {
    this.sent.push({ flags: segment.flags, seq: segment.seq, mss: segment.options.mss });
    return 'ok';
  }
  deadlineChanged(connection: TcpConnection): void {
    this.deadlines.push(connection.reportedDeadline);
  }
  admitOrphan(): boolean {
    this.admits++;
    return false;
  }
  readonly heard: string[] = [];
  stateChanged(from: string, to: string): void {
    this.heard.push(`${from}>${to}`);
  }
  closed(): void {
    this.heard.push('closed');
  }
}

describe('connection owner', () => {
  it('an owner object receives the SYN, the retransmission deadline and the orphan question', () => {
    const owner = new RecordingOwner();
    const counters = newTcpCounters();
    const conn = TcpConnection.connect({ local, remote, pathMtu: 1500, owner, counters }, 1000, 0);
    expect(owner.sent).toEqual([{ flags: TCP_SYN, seq: 1000, mss: 1460 }]);
    // RFC 6298 §2.1: the first retransmission timeout is 1 s.
    expect(owner.deadlines).toEqual([1000]);
    // The application releases it while the owner's orphan limit is full: the connection is reset rather
    // than left to finish on its own (SYN-SENT: no RST on the wire, RFC 9293 §3.10.5).
    const listenerSaw: string[][] = [];
    conn.on('closed', () => listenerSaw.push([...owner.heard]));
    conn.release(1);
    // The owner hears 'state' and 'closed' before the connection's listeners do.
    expect(owner.heard).toEqual(['CLOSED>SYN-SENT', 'SYN-SENT>CLOSED', 'closed']);
    expect(listenerSaw).toEqual([['CLOSED>SYN-SENT', 'SYN-SENT>CLOSED', 'closed']]);
    expect(owner.admits).toBe(1);
    expect(counters.orphansReset).toBe(1);
    expect(conn.state).toBe('CLOSED');
    expect(owner.sent.length).toBe(1);
  });

  it('separate callbacks get the arguments the connection passed', () => {
    const calls: unknown[][] = [];
    const deadlines: number[] = [];
    TcpConnection.connect(
      {
        local,
        remote,
        pathMtu: 1500,
        output: (...args: unknown[]) => {
          calls.push(args);
        },
        onDeadlineChange: (_c, deadline) => deadlines.push(deadline),
      },
      7,
      0,
    );
    expect(calls.length).toBe(1);
    expect(calls[0]!.length).toBe(1);
    expect((calls[0]![0] as TcpSegment).seq).toBe(7);
    expect(deadlines).toEqual([1000]);
  });

  it("a segment sent from inside another connection's output does not overwrite the one being sent", () => {
    // The output of the client hands its SYN straight to a new server connection, whose SYN-ACK is sent
    // from inside that call: the client's segment must still read as the SYN once the call returns.
    const seen: string[] = [];
    const describe = (s: TcpSegment) =>
      `${s.srcPort}>${s.dstPort} flags ${s.flags} seq ${s.seq} ack ${s.ack}`;
    TcpConnection.connect(
      {
        local,
        remote,
        pathMtu: 1500,
        output: (syn) => {
          TcpConnection.accept(
            {
              local: remote,
              remote: local,
              pathMtu: 1500,
              output: (synAck) => {
                seen.push(describe(synAck));
              },
            },
            syn,
            5000,
            0,
          );
          seen.push(describe(syn));
        },
      },
      1000,
      0,
    );
    expect(seen).toEqual([
      `80>40000 flags ${TCP_SYN | TCP_ACK} seq 5000 ack 1001`,
      `40000>80 flags ${TCP_SYN} seq 1000 ack 0`,
    ]);
  });

  it('a connection with neither an owner nor an output is refused with EINVAL', () => {
    let error: unknown;
    try {
      TcpConnection.connect({ local, remote, pathMtu: 1500 }, 1, 0);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TcpError);
    expect((error as TcpError).code).toBe('EINVAL');
  });
});
