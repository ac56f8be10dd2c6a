/**
 * The story `tcpts demo` tells, checked on the packets themselves: each chapter's span holds the segments
 * the seed describes, with its numbers (relative to each side's ISN), the states each side passes
 * through, and the losses the script chose.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runSeedStory, type SeedStory } from '../../src/sim/scenarios/seed-story/seed-story.js';
import { STORY_SERVER_PORT, STORY_UDP_PORT } from '../../src/sim/scenarios/seed-story/story-stage.js';
import type { Conversation, PacketRecord } from '../../src/viz/conversation.js';

let story: SeedStory;
let conversation: Conversation;

beforeAll(() => {
  story = runSeedStory();
  conversation = story.stage.network.conversation();
});

function chapter(n: number) {
  const c = story.chapters[n - 1]!;
  const inside = (t: number) => t >= c.from && t < c.to;
  return {
    ...c,
    packets: conversation.packets.filter((p) => inside(p.sentAt)),
    tcp: conversation.packets.filter((p) => inside(p.sentAt) && p.tcp),
    states: (host: string) =>
      conversation.states.filter((s) => inside(s.time) && s.host === host).map((s) => s.to),
  };
}

/** [from, flags, relative seq, relative ack, window, length] of TCP packets. */
function segments(packets: readonly PacketRecord[]) {
  return packets.map((p) => [
    p.from,
    p.tcp!.flags,
    p.tcp!.relativeSeq,
    p.tcp!.relativeAck,
    p.tcp!.effectiveWindow,
    p.tcp!.length,
  ]);
}

describe('the seed story', () => {
  it('has eight chapters in order, each on its own span of virtual time', () => {
    expect(story.chapters.map((c) => c.title)).toEqual([
      'The three-way handshake',
      'Sending data: the sliding window',
      'A lost segment: retransmission on timeout',
      'Duplicate ACKs and fast retransmit',
      'A zero window and the window probe',
      'The four-way close, and a lost final ACK',
      'A forced close: RST',
      'UDP: datagrams, no handshake, no ACK',
    ]);
    for (let i = 1; i < story.chapters.length; i++) {
      expect(story.chapters[i]!.from).toBe(story.chapters[i - 1]!.to);
    }
    expect(story.chapters.every((c) => c.summary.length > 0 && c.explanation.length > c.summary.length)).toBe(
      true,
    );
  });

  it('1: SYN seq=x; SYN-ACK seq=y ack=x+1; ACK seq=x+1 ack=y+1', () => {
    const c = chapter(1);
    const flow = conversation.flows[0]!;
    const x = flow.isnA!;
    const y = flow.isnB!;
    expect([flow.a.host, flow.b.host, flow.b.port]).toEqual(['client', 'server', STORY_SERVER_PORT]);
    expect(c.tcp.map((p) => [p.from, p.tcp!.flags, p.tcp!.seq, p.tcp!.ack, p.tcp!.mss])).toEqual([
      ['client', 'SYN', x, undefined, 1024],
      ['server', 'SYN,ACK', y, (x + 1) >>> 0, 1024],
      ['client', 'ACK', (x + 1) >>> 0, (y + 1) >>> 0, undefined],
    ]);
    expect(c.summary).toContain(`x = ${x}, y = ${y}`);
    expect(c.absolute).toBe(true);
    expect(c.states('client')).toEqual(['SYN-SENT', 'ESTABLISHED']);
    expect(c.states('server')).toEqual(['SYN-RECEIVED', 'ESTABLISHED']);
    // The server offers its 6144-byte buffer as its window.
    expect(c.tcp[1]!.tcp!.window).toBe(6144);
  });

  it('2: four 1024-byte segments, the fourth lost; ACK 3073 with window 3072; no more than 3072 bytes outstanding after it', () => {
    const c = chapter(2);
    const data = c.tcp.filter((p) => p.from === 'client' && p.tcp!.length > 0);
    expect(
      data.slice(0, 4).map((p) => [p.tcp!.relativeSeq, p.tcp!.length, p.dropped ?? 'delivered']),
    ).toEqual([
      [1, 1024, 'delivered'],
      [1025, 1024, 'delivered'],
      [2049, 1024, 'delivered'],
      [3073, 1024, 'loss'],
    ]);
    // The four went out together: a 4096-byte window.
    expect(new Set(data.slice(0, 4).map((p) => p.sentAt)).size).toBe(1);
    const acks = c.tcp.filter((p) => p.from === 'server');
    const seedAck = acks.find((p) => p.tcp!.relativeAck === 3073)!;
    expect([
      seedAck.tcp!.flags,
      seedAck.tcp!.effectiveWindow,
      seedAck.tcp!.length,
      seedAck.tcp!.dupAck,
    ]).toEqual(['ACK', 3072, 0, undefined]);
    // Within that window: what the client sends afterwards ends at 3073 + 3072 at most.
    const after = data.filter((p) => p.sentAt >= seedAck.arrivedAt!);
    expect(after.map((p) => [p.tcp!.relativeSeq, p.tcp!.length])).toEqual([
      [4097, 1024],
      [5121, 1024],
    ]);
    expect(Math.max(...after.map((p) => p.tcp!.relativeSeq + p.tcp!.length))).toBe(3073 + 3072);
    // The server can only repeat ACK 3073.
    expect(acks.filter((p) => p.tcp!.dupAck).map((p) => [p.tcp!.relativeAck, p.tcp!.dupAck])).toEqual([
      [3073, 1],
      [3073, 2],
    ]);
  });

  it('3: the timer resends seq 3073; one ACK 6145 covers it all (window 0); the window update releases the held bytes', () => {
    const c = chapter(3);
    expect(segments(c.tcp)).toEqual([
      ['client', 'ACK', 3073, 1, 65535, 1024],
      ['server', 'ACK', 1, 6145, 0, 0],
      ['server', 'ACK', 1, 6145, 6144, 0],
      // The 2048 bytes chapter 2's window held back leave only now.
      ['client', 'ACK', 6145, 1, 65535, 1024],
      ['client', 'PSH,ACK', 7169, 1, 65535, 1024],
      ['server', 'ACK', 1, 8193, 5120, 0],
    ]);
    expect(c.tcp[0]!.tcp!.retransmission).toBe('rto');
    expect(c.tcp[1]!.tcp!.zeroWindow).toBe(true);
    expect(c.tcp[2]!.tcp!.windowUpdate).toBe(true);
    expect(c.tcp[3]!.sentAt).toBe(c.tcp[2]!.arrivedAt);
  });

  it("4: the server's fifth segment is lost; three duplicate ACKs; fast retransmit", () => {
    const c = chapter(4);
    const sent = c.tcp.filter((p) => p.from === 'server' && p.tcp!.length > 0);
    expect(sent.filter((p) => p.dropped).map((p) => p.tcp!.relativeSeq)).toEqual([4097]);
    const dups = c.tcp.filter((p) => p.from === 'client' && p.tcp!.dupAck);
    expect(dups.map((p) => [p.tcp!.relativeAck, p.tcp!.dupAck])).toEqual([
      [4097, 1],
      [4097, 2],
      [4097, 3],
    ]);
    const resent = sent.filter((p) => p.tcp!.retransmission);
    expect(resent.map((p) => [p.tcp!.relativeSeq, p.tcp!.length, p.tcp!.retransmission])).toEqual([
      [4097, 1024, 'fast-retransmit'],
    ]);
    // Resent as soon as the third duplicate arrived, long before a timeout.
    expect(resent[0]!.sentAt).toBe(dups[2]!.arrivedAt);
    const last = c.tcp.filter((p) => p.from === 'client').at(-1)!;
    expect(last.tcp!.relativeAck).toBe(9 * 1024 + 1);
  });

  it('5: window 0, one-byte probes at growing intervals, then a window update', () => {
    const c = chapter(5);
    const zero = c.tcp.filter((p) => p.from === 'server' && p.tcp!.zeroWindow);
    expect(zero.length).toBeGreaterThanOrEqual(3);
    const probes = c.tcp.filter((p) => p.from === 'client' && p.tcp!.windowProbe);
    expect(probes.map((p) => p.tcp!.length)).toEqual([1, 1]);
    expect(probes[0]!.tcp!.relativeSeq).toBe(probes[1]!.tcp!.relativeSeq);
    // The persist timer backs off: the second interval is twice the first.
    const firstWait = probes[0]!.sentAt - zero[0]!.arrivedAt!;
    expect(probes[1]!.sentAt - probes[0]!.sentAt).toBe(2 * firstWait);
    const update = c.tcp.find((p) => p.from === 'server' && p.tcp!.windowUpdate)!;
    expect(update.tcp!.effectiveWindow).toBe(6144);
    // When the window opens, the probed byte goes again with new data. The receiver refused the probe's
    // byte, so this is new data, not a retransmission (as the stack's counters and Wireshark count it).
    const resumed = c.tcp.find((p) => p.from === 'client' && p.sentAt >= update.arrivedAt!)!;
    expect([resumed.tcp!.relativeSeq, resumed.tcp!.length, resumed.tcp!.retransmission]).toEqual([
      probes[0]!.tcp!.relativeSeq,
      1024,
      undefined,
    ]);
    expect(probes.map((p) => p.tcp!.retransmission)).toEqual([undefined, undefined]);
    const server = story.stage.server!;
    // Chapters 2-3: 4096 + 4096 bytes; chapter 5: 8192.
    expect(story.stage.serverBytesRead).toBe(8192 + 8192);
    expect(server.status().bytesReceived).toBe(8192 + 8192);
  });

  it('6: through FIN-WAIT-1, FIN-WAIT-2, CLOSE-WAIT, LAST-ACK and TIME-WAIT; the lost final ACK brings the FIN again', () => {
    const c = chapter(6);
    expect(c.states('client')).toEqual(['FIN-WAIT-1', 'FIN-WAIT-2', 'TIME-WAIT', 'CLOSED']);
    expect(c.states('server')).toEqual(['CLOSE-WAIT', 'LAST-ACK', 'CLOSED']);
    const fins = c.tcp.filter((p) => p.from === 'server' && p.tcp!.flags.includes('FIN'));
    expect(fins.map((p) => p.tcp!.retransmission ?? 'first')).toEqual(['first', 'fin']);
    expect(fins[0]!.tcp!.relativeSeq).toBe(fins[1]!.tcp!.relativeSeq);
    const finalAcks = c.tcp.filter(
      (p) => p.from === 'client' && p.tcp!.relativeAck === fins[0]!.tcp!.relativeSeq + 1,
    );
    expect(finalAcks.map((p) => p.dropped ?? 'delivered')).toEqual(['loss', 'delivered']);
    // Half close: the server sent data after the client's FIN.
    const clientFin = c.tcp.find((p) => p.from === 'client' && p.tcp!.flags.includes('FIN'))!;
    const late = c.tcp.filter((p) => p.from === 'server' && p.tcp!.length > 0 && p.sentAt > clientFin.sentAt);
    expect(late.map((p) => p.tcp!.length)).toEqual([300]);
    // TIME-WAIT lasts 2 MSL from the last FIN it acknowledged.
    const closed = conversation.states.find((s) => s.host === 'client' && s.from === 'TIME-WAIT')!;
    expect(closed.time - finalAcks[1]!.sentAt).toBe(60_000);
  });

  it('7: a second connection aborted with RST; the server learns ECONNRESET', () => {
    const c = chapter(7);
    const flow = conversation.flows[1]!;
    expect(flow.a.port).not.toBe(conversation.flows[0]!.a.port);
    const rst = c.tcp.filter((p) => p.tcp!.flags.includes('RST'));
    expect(rst.map((p) => [p.from, p.tcp!.flags, p.tcp!.relativeSeq])).toEqual([['client', 'RST', 101]]);
    expect(c.states('client')).toEqual(['SYN-SENT', 'ESTABLISHED', 'CLOSED']);
    expect(c.states('server')).toEqual(['SYN-RECEIVED', 'ESTABLISHED', 'CLOSED']);
    expect(conversation.notes.some((n) => n.host === 'server' && n.text.includes('ECONNRESET'))).toBe(true);
  });

  it('8: UDP datagrams with no handshake and no ACK; the lost one is not sent again', () => {
    const c = chapter(8);
    expect(c.tcp).toEqual([]);
    const udp = c.packets.filter((p) => p.udp);
    expect(
      udp.map((p) => [
        p.from,
        p.udp!.dstPort === STORY_UDP_PORT ? 'to echo' : 'echo',
        p.udp!.length,
        p.dropped ?? 'delivered',
      ]),
    ).toEqual([
      ['client', 'to echo', 5, 'delivered'],
      ['server', 'echo', 5, 'delivered'],
      ['client', 'to echo', 3, 'delivered'],
      ['server', 'echo', 3, 'delivered'],
      ['client', 'to echo', 3, 'loss'],
      ['client', 'to echo', 5, 'delivered'],
      ['server', 'echo', 5, 'delivered'],
    ]);
    expect(conversation.notes.some((n) => n.text === 'application received "hello", "one", "three"')).toBe(
      true,
    );
  });

  it('repeats exactly: same seed, same capture; another seed changes only ISNs and ports', () => {
    const again = runSeedStory();
    expect(again.stage.network.pcap()).toEqual(story.stage.network.pcap());
    const other = runSeedStory({ seed: 2 }).stage.network.conversation();
    expect(other.flows[0]!.isnA).not.toBe(conversation.flows[0]!.isnA);
    const shape = (c: Conversation) =>
      c.packets.map((p) => [p.from, p.tcp?.flags, p.tcp?.relativeSeq, p.tcp?.relativeAck, p.dropped]);
    expect(shape(other)).toEqual(shape(conversation));
  });
});
