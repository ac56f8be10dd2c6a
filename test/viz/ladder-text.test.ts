import { describe, expect, it } from 'vitest';
import { conversationFromTrace } from '../../src/viz/conversation-from-trace.js';
import { renderLadderText } from '../../src/viz/ladder-text.js';
import { stripAnsi } from './markup-check.js';
import { close, events, lossAndRetransmission, slidingWindow } from './scenarios.js';

function lines(text: string): string[] {
  return text.split('\n');
}

/** Index of the first line containing `needle`, failing the test when there is none. */
function lineOf(all: string[], needle: string, from = 0): number {
  const i = all.findIndex((l, n) => n >= from && l.includes(needle));
  expect(i, `no line contains ${JSON.stringify(needle)}\n${all.join('\n')}`).toBeGreaterThanOrEqual(0);
  return i;
}

describe('renderLadderText', () => {
  const conversation = conversationFromTrace(events(close(slidingWindow(), 200, 3073, 1)), {
    hosts: ['client', 'server'],
  });

  it('labels the handshake arrows with relative numbers in order (RFC 9293 §3.5)', () => {
    const text = renderLadderText(conversation, { to: 100 });
    const all = lines(text);
    const syn = lineOf(all, 'SYN seq=0 win=65535 <mss 1460>');
    const synAck = lineOf(all, 'SYN,ACK seq=0 ack=1 win=4096 <mss 1460>');
    const ack = lineOf(all, 'ACK seq=1 ack=1 win=65535 len=0');
    expect(syn).toBeLessThan(synAck);
    expect(synAck).toBeLessThan(ack);
    // Each label is followed by its arrow: rightward for the client's segments, leftward for the server's.
    expect(all[syn + 1]).toMatch(/├─+>│/);
    expect(all[synAck + 1]).toMatch(/│<─+┤/);
    expect(all[ack + 1]).toMatch(/├─+>│/);
  });

  it('writes each state beside its own timeline at the row where it changes', () => {
    const all = lines(renderLadderText(conversation, { to: 100 }));
    const header = lineOf(all, 'client');
    const clientX = all[header + 2]!.indexOf('┬');
    const serverX = all[header + 2]!.lastIndexOf('┬');
    expect(serverX).toBeGreaterThan(clientX);

    const first = lineOf(all, 'SYN-SENT');
    expect(all[first]).toMatch(/^\s*0\s+SYN-SENT │/);
    expect(all[first]!.indexOf('SYN-SENT')).toBeLessThan(clientX);
    expect(all[first]!.indexOf('LISTEN')).toBeGreaterThan(serverX);

    const synReceived = lineOf(all, 'SYN-RECEIVED');
    expect(all[synReceived]).toMatch(/^\s*10\s/);
    expect(all[synReceived]!.indexOf('SYN-RECEIVED')).toBeGreaterThan(serverX);
    expect(synReceived).toBeGreaterThan(lineOf(all, 'SYN seq=0'));
    expect(synReceived).toBeLessThan(lineOf(all, 'SYN,ACK'));

    const clientEstablished = lineOf(all, 'ESTABLISHED');
    expect(all[clientEstablished]).toMatch(/^\s*20\s+ESTABLISHED │/);
    const serverEstablished = lineOf(all, 'ESTABLISHED', clientEstablished + 1);
    expect(all[serverEstablished]).toMatch(/^\s*30\s+│\s+│ ESTABLISHED$/);
    expect(serverEstablished).toBeGreaterThan(lineOf(all, 'ACK seq=1 ack=1'));
  });

  it("shows the seed's sliding-window numbers: four 1024-byte segments, then ACK 3073 window 3072", () => {
    const all = lines(renderLadderText(conversation, { from: 100, to: 200 }));
    const seqs = [1, 1025, 2049, 3073].map((s) => lineOf(all, `PSH,ACK seq=${s} ack=1 win=65535 len=1024`));
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    const ack = lineOf(all, 'ACK seq=1 ack=3073 win=3072 len=0');
    expect(ack).toBeGreaterThan(seqs[3]!);
    // The window slice starts with both connections established; the server also still listens.
    const initial = all.findIndex((l) => l.includes('ESTABLISHED'));
    expect(all[initial]).toMatch(/ESTABLISHED │\s+│ LISTEN,ESTABLISHED$/);
    expect(all.slice(-3)).toEqual([
      '5 packets',
      "seq/ack relative: 0 is each side's initial sequence number (its SYN)",
      '',
    ]);
  });

  it('writes arrival times at the arrowhead when they differ from the send time', () => {
    const all = lines(renderLadderText(conversation, { to: 100 }));
    const arrow = lineOf(all, 'SYN seq=0') + 1;
    expect(all[arrow]).toMatch(/├─+>│ 10$/);
    const back = lineOf(all, 'SYN,ACK') + 1;
    expect(all[back]).toMatch(/^\s+20 │<─+┤$/);
  });

  it('marks a lost segment with an X and its retransmission with the cause', () => {
    const c = conversationFromTrace(events(lossAndRetransmission()));
    const all = lines(renderLadderText(c, { from: 100 }));
    const lost = lineOf(all, 'PSH,ACK seq=1001 ack=1 win=65535 len=1000');
    expect(all[lost + 1]).toMatch(/├─+X lost\s+│$/);
    expect(all[lost + 1]).not.toContain('>');
    const resent = lineOf(all, 'PSH,ACK seq=1001', lost + 2);
    // The note and the retransmission share time 300, written once on the note's row.
    expect(all[resent - 1]).toMatch(/^\s*300\s+│ \* retransmission timer expired\s+│$/);
    expect(all[resent]).toMatch(/^\s+│ PSH,ACK seq=1001 ack=1 win=65535 len=1000/);
    expect(all.slice(resent, resent + 2).join('\n')).toContain('[retransmission (timeout)]');
    expect(lineOf(all, 'ACK seq=1 ack=1001 win=4096 len=0 [dup ACK #1]')).toBeGreaterThan(lost);
    expect(all[all.length - 3]).toBe('7 packets, 1 lost, 1 retransmission (1 timeout), 1 duplicate ACK');
  });

  it('is escape-free in plain mode and colored (with the same text) in color mode', () => {
    const c = conversationFromTrace(events(lossAndRetransmission()));
    const plain = renderLadderText(c, { title: 'Loss', caption: 'A segment is lost.' });
    const colored = renderLadderText(c, { title: 'Loss', caption: 'A segment is lost.', color: true });
    expect(plain).not.toContain('\u001b');
    expect(colored).toContain('\u001b[');
    expect(colored).toContain('\u001b[1;31mX'); // the loss in bold red
    expect(stripAnsi(colored)).toBe(plain);
  });

  it('prints title and caption first, wrapped to the width', () => {
    const caption =
      'The client picks its initial sequence number x and sends SYN; the server answers with its own y and acknowledges x+1.';
    const text = renderLadderText(conversation, {
      title: 'Chapter 1: handshake',
      caption,
      width: 60,
      to: 100,
    });
    const all = lines(text);
    expect(all[0]).toBe('Chapter 1: handshake');
    expect(all[1]!.length).toBeLessThanOrEqual(60);
    expect(all.slice(1, 4).join(' ')).toContain(caption.slice(0, 100));
  });

  it('keeps rows within the requested width when the labels fit', () => {
    const text = renderLadderText(conversation, { width: 90 });
    for (const l of lines(text)) expect([...l].length).toBeLessThanOrEqual(90);
  });

  it('can show absolute sequence numbers and every option', () => {
    const all = lines(renderLadderText(conversation, { to: 100, relative: false, tcpOptions: 'none' }));
    lineOf(all, 'SYN seq=1000 win=65535');
    lineOf(all, 'SYN,ACK seq=5000 ack=1001 win=4096');
    lineOf(all, 'ACK seq=1001 ack=5001 win=65535 len=0');
    expect(all.join('\n')).not.toContain('<mss');
  });

  it('draws the four-way close with every state', () => {
    const all = lines(renderLadderText(conversation, { from: 200 }));
    const order = [
      'FIN-WAIT-1',
      'FIN,ACK seq=3073 ack=1',
      'CLOSE-WAIT',
      'ACK seq=1 ack=3074',
      'FIN-WAIT-2',
      'LAST-ACK',
      'FIN,ACK seq=1 ack=3074',
      'TIME-WAIT',
      'ACK seq=3074 ack=2',
      'CLOSED',
    ].map((needle) => lineOf(all, needle));
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('stops after maxPackets and says how many it left out', () => {
    const all = lines(renderLadderText(conversation, { maxPackets: 2 }));
    lineOf(all, 'SYN,ACK seq=0 ack=1');
    expect(all.some((l) => l.includes('ACK seq=1 ack=1 '))).toBe(false);
    expect(all[all.length - 3]).toBe('2 packets, 10 more not shown');
  });

  it('says so when there is nothing to draw', () => {
    const empty = conversationFromTrace([]);
    expect(renderLadderText(empty)).toBe('(no hosts)\n');
  });
});
