/**
 * Path MTU discovery hardened (RFC 1191, RFC 5927): an ICMP "fragmentation needed" changes nothing until
 * TCP has matched it to a connection and found its quoted sequence number in flight; a validated one
 * lowers the path MTU (never below the 552-byte floor), every connection to that host re-cuts its
 * segments, the one it was about re-sends what was too big, and nothing is ever sent as IP fragments. The
 * MSS announced on new SYNs stays the interface's. Parameter problems reach TCP (RFC 1122 §3.2.2.5).
 * Driven frame by frame through a whole Stack.
 */
import { describe, expect, it } from 'vitest';
import { Stack } from '../../src/stack.js';
import { VirtualClock } from '../../src/time/virtual-clock.js';
import { ICMP_FRAGMENTATION_NEEDED, ICMP_PARAMETER_PROBLEM } from '../../src/wire/icmp.js';
import { TCP_ACK, TCP_SYN } from '../../src/wire/tcp.js';
import { pattern } from '../tcp/dialogue.js';
import { GATEWAY_IP, type Harness, icmpFrame, PEER_IP } from './harness.js';
import { listeningStack, peerOpens, takeSegments, tcpFrame } from './tcp-peer.js';

/** The quote an ICMP error carries: the IP header and first 8 bytes of `frame`'s TCP header, `seq` patched. */
function quoteOf(frame: Uint8Array, seq?: number): Uint8Array {
  const quote = frame.slice(14, 14 + 28);
  if (seq !== undefined) {
    quote[24] = seq >>> 24;
    quote[25] = (seq >>> 16) & 0xff;
    quote[26] = (seq >>> 8) & 0xff;
    quote[27] = seq & 0xff;
  }
  return quote;
}

function fragmentationNeeded(h: Harness, quote: Uint8Array, nextHopMtu: number): void {
  h.device.inject(
    icmpFrame(
      { kind: 'destination-unreachable', code: ICMP_FRAGMENTATION_NEEDED, nextHopMtu, original: quote },
      { src: GATEWAY_IP },
    ),
  );
}

/** An established connection from the peer's port 40000 with 3000 bytes sent by the stack, unacknowledged. */
function inFlight() {
  const s = listeningStack(false);
  const { conn, iss } = peerOpens(s, { mss: 1460 });
  conn.send(pattern(3000), s.h.clock.now());
  const frames = [...s.h.device.sent];
  const segments = takeSegments(s.h);
  expect(segments.map((p) => [p.seq - iss - 1, p.length, p.dontFragment])).toEqual([
    [0, 1460, true],
    [1460, 1460, true],
    [2920, 80, true],
  ]);
  return { ...s, conn, iss, frames };
}

describe('ICMP fragmentation needed, validated against TCP state (RFC 5927 §4.1)', () => {
  it('a forged report quoting a sequence number never sent changes nothing, and is counted', () => {
    const { h, conn, iss, frames } = inFlight();
    fragmentationNeeded(h, quoteOf(frames[0]!, iss + 1 + 100_000), 68);
    expect(h.stack.ip.pathMtu.get(PEER_IP)).toBeUndefined();
    expect(h.stack.mtuFor(PEER_IP)).toBe(1500);
    expect(conn.status()).toMatchObject({ pathMtu: 1500, effectiveMss: 1460 });
    expect(h.stack.tcp.counters.icmpOutOfWindow).toBe(1);
    expect(takeSegments(h)).toEqual([]);
    // Acknowledged data is no longer in flight either: a report quoting it is just as forged.
    h.device.inject(tcpFrame({ seq: 1001, ack: iss + 1 + 1460, flags: TCP_ACK }));
    fragmentationNeeded(h, quoteOf(frames[0]!), 1000);
    expect(h.stack.tcp.counters.icmpOutOfWindow).toBe(2);
    expect(h.stack.ip.pathMtu.get(PEER_IP)).toBeUndefined();
    // New data still leaves in full-sized segments, DF set.
    conn.send(pattern(2920), h.clock.now());
    expect(takeSegments(h).map((p) => [p.length, p.dontFragment])).toEqual([
      [1460, true],
      [1460, true],
    ]);
  });

  it('a report quoting a 4-tuple with no connection changes nothing, and is counted', () => {
    const { h, frames } = inFlight();
    const quote = quoteOf(frames[0]!);
    quote[22] = 0x1f; // destination port 8000: no such connection
    fragmentationNeeded(h, quote, 600);
    expect(h.stack.ip.pathMtu.get(PEER_IP)).toBeUndefined();
    expect(h.stack.tcp.counters.icmpNoConnection).toBe(1);
  });

  it('a valid report: the MTU is learned, the queue re-cut and re-sent with DF, other connections follow, new SYNs keep MSS 1460', () => {
    const { h, conn, iss, frames, accepted } = inFlight();
    const other = peerOpens({ h, accepted }, { mss: 1460 }, 40001);
    fragmentationNeeded(h, quoteOf(frames[0]!), 1000);
    expect(h.stack.ip.pathMtu.get(PEER_IP)).toBe(1000);
    expect(conn.status()).toMatchObject({ pathMtu: 1000, effectiveMss: 960 });
    // What was in flight goes again from SND.UNA in 960-byte segments (RFC 1191 §6.4), never fragmented.
    const resent = takeSegments(h);
    expect(resent.map((p) => [p.seq - iss - 1, p.length, p.dontFragment, p.fragment])).toEqual([
      [0, 960, true, false],
      [960, 960, true, false],
      [1920, 960, true, false],
      [2880, 120, true, false],
    ]);
    // The other connection to the same host took the new MSS without re-sending anything.
    expect(other.conn.status()).toMatchObject({ pathMtu: 1000, effectiveMss: 960 });
    other.conn.send(pattern(1460), h.clock.now());
    expect(takeSegments(h).map((p) => [p.srcPort, p.dstPort, p.length])).toEqual([
      [80, 40001, 960],
      [80, 40001, 500],
    ]);
    // A new connection announces the interface's MSS (a path MTU never shrinks what peers send us), and
    // sends by the path MTU.
    h.device.inject(tcpFrame({ srcPort: 40002, seq: 5000, flags: TCP_SYN, options: { mss: 1460 } }));
    const [synAck] = takeSegments(h);
    expect(synAck!.options.mss).toBe(1460);
    expect(h.stack.counters.IpFragCreates).toBe(0);
  });

  it('a report below 552 is raised to the floor (Linux min_pmtu), counted, and segments keep DF', () => {
    const { h, conn, frames } = inFlight();
    fragmentationNeeded(h, quoteOf(frames[1]!), 300);
    expect(h.stack.ip.pathMtu.get(PEER_IP)).toBe(552);
    expect(h.stack.counters.PathMtuFloorClamps).toBe(1);
    expect(conn.status()).toMatchObject({ pathMtu: 552, effectiveMss: 512 });
    const resent = takeSegments(h);
    expect(resent.map((p) => p.length)).toEqual([512, 512, 512, 512, 512, 440]);
    expect(resent.every((p) => p.dontFragment && !p.fragment && p.totalLength <= 552)).toBe(true);
    expect(h.stack.counters.IpFragCreates).toBe(0);
  });

  it('the floor is a named, configurable limit (pathMtu.minimumMtu), at least 68', () => {
    const clock = new VirtualClock();
    expect(new Stack({ name: 'a', clock }).ip.pathMtu.minimumMtu).toBe(552);
    expect(new Stack({ name: 'b', clock, pathMtu: { minimumMtu: 1280 } }).ip.pathMtu.minimumMtu).toBe(1280);
    expect(new Stack({ name: 'c', clock, pathMtu: { minimumMtu: 10 } }).ip.pathMtu.minimumMtu).toBe(68);
  });
});

describe('ICMP parameter problem reaches TCP (RFC 1122 §3.2.2.5)', () => {
  function parameterProblem(h: Harness, quote: Uint8Array): void {
    h.device.inject(
      icmpFrame(
        { kind: 'other', type: ICMP_PARAMETER_PROBLEM, code: 0, restOfHeader: 20 << 24, body: quote },
        { src: PEER_IP },
      ),
    );
  }

  it('ends a connection attempt with EPROTO', () => {
    const { h } = listeningStack(false);
    const conn = h.stack.tcp.connect({ remoteAddress: PEER_IP, remotePort: 7 });
    const errors: string[] = [];
    conn.on('error', (e) => errors.push(e.code));
    const [syn] = h.device.take();
    parameterProblem(h, quoteOf(syn!));
    expect(errors).toEqual(['EPROTO']);
    expect(conn.state).toBe('CLOSED');
    expect(h.stack.counters.IcmpInParmProbs).toBe(1);
  });

  it('is a soft error on an established connection; one quoting nothing in flight is ignored', () => {
    const { h, conn, iss, frames } = inFlight();
    const soft: string[] = [];
    conn.on('soft-error', (e) => soft.push(e.code));
    parameterProblem(h, quoteOf(frames[0]!, iss - 5000));
    expect(soft).toEqual([]);
    parameterProblem(h, quoteOf(frames[0]!));
    expect(soft).toEqual(['EPROTO']);
    expect(conn.state).toBe('ESTABLISHED');
  });
});
