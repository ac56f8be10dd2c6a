import { describe, expect, it } from 'vitest';
import { runSeedStory } from '../../src/sim/scenarios/seed-story/seed-story.js';
import { renderStoryReport } from '../../src/sim/scenarios/seed-story/story-report.js';
import { conversationFromTrace } from '../../src/viz/conversation-from-trace.js';
import { renderHtmlReport } from '../../src/viz/html-report.js';
import { decodeReportPackets } from '../../src/viz/report-app.js';
import type { ReportData } from '../../src/viz/report-data.js';
import { checkMarkup } from './markup-check.js';
import {
  clientConn,
  close,
  events,
  fromClient,
  fromServer,
  lossAndRetransmission,
  slidingWindow,
} from './scenarios.js';
import { TraceScript } from './trace-script.js';

/** Matches in the markup (the script's own text left out). */
function count(text: string, pattern: RegExp): number {
  return text.replace(/<script[^>]*>[\s\S]*?<\/script>/g, '').match(pattern)?.length ?? 0;
}

/** The data the report's script draws from. */
function reportData(html: string): ReportData {
  const json = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)![1]!;
  return JSON.parse(json) as ReportData;
}

/** The packet list's rows as the script writes them: number, sent, arrived, from, to, words. */
function packetRows(html: string): string[][] {
  const data = reportData(html);
  const p = decodeReportPackets(data);
  return Array.from({ length: p.count }, (_, i) => [
    String(p.ids[i]),
    String(p.sent[i]! / 1000),
    p.marks[i]! & 4 ? '—' : String((p.sent[i]! + p.flight[i]!) / 1000),
    data.names[p.from[i]!]!,
    data.names[p.to[i]!]!,
    data.protocols[p.protocol[i]!]!,
    String(p.frameLength[i]),
    p.rowWords(i).replaceAll('\u0002', ' | '),
  ]);
}

describe('renderHtmlReport', () => {
  const t = lossAndRetransmission();
  t.add({
    kind: 'tcp.metrics',
    time: 120,
    host: 'client',
    conn: clientConn,
    cwnd: 2920,
    ssthresh: 0xffffffff,
    srtt: 20,
    rttvar: 10,
    rto: 200,
    sendWindow: 4096,
    receiveWindow: 65535,
    bytesInFlight: 2000,
  });
  t.add({
    kind: 'tcp.metrics',
    time: 300,
    host: 'client',
    conn: clientConn,
    cwnd: 1460,
    ssthresh: 2920,
    srtt: 20,
    rttvar: 10,
    rto: 400,
    sendWindow: 4096,
    receiveWindow: 65535,
    bytesInFlight: 1000,
  });
  const conversation = conversationFromTrace(events(close(t, 400, 3001, 1)));
  const html = renderHtmlReport(conversation, {
    title: 'Loss & recovery <demo>',
    description: 'A lost segment is retransmitted when the timer fires.',
    counters: {
      client: { TcpRetransSegs: 1, IpInReceives: 6, UdpNoPorts: 0 },
      server: { TcpRetransSegs: 0, IpInReceives: 7 },
    },
  });

  it('is one well-formed, self-contained document', () => {
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    expect(checkMarkup(html, true).problems).toEqual([]);
    expect(html).toContain('<title>Loss &amp; recovery &lt;demo&gt;</title>');
    expect(html).toContain('<meta charset="utf-8">');
    // Nothing fetched; the data and the script that draws from it are inline, and nothing else runs.
    expect(html.match(/<script[ >]/g)).toHaveLength(2);
    expect(html).toContain('<script type="application/json" id="report-data">{');
    expect(html.replace(/<script[^>]*>[\s\S]*?<\/script>/g, '')).not.toMatch(
      /<script|<link|<img|<iframe|\ssrc=|url\(|@import/i,
    );
    expect(html.match(/https?:\/\/[^"\s]*/g)!.every((u) => u === 'http://www.w3.org/2000/svg')).toBe(true);
    // No string of the data can end its script element early.
    const script = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)![1]!;
    expect(script).not.toContain('<');
  });

  it('has one chart each: ladder, time-sequence (canvas), congestion window and RTT per data sender, states', () => {
    expect(count(html, /<svg /g)).toBe(5);
    expect(count(html, /<svg [^>]*class="ladder"/g)).toBe(1);
    // Only the client sent data: one zoomable graph, drawn by the script from the data's first series.
    expect(count(html, /<canvas class="time-sequence" data-index="0"/g)).toBe(1);
    expect(count(html, /<canvas /g)).toBe(1);
    expect(reportData(html).timeSequences.map((t) => [t.flowId, t.fromA, t.segments, t.acks])).toEqual([
      // SYN, three data segments, the retransmission, FIN; SYN-ACK, four ACKs and the server's FIN.
      [0, true, 6, 6],
    ]);
    expect(count(html, /<svg [^>]*class="chart congestion"/g)).toBe(1); // only the client traced metrics
    // Only the data sender's RTT: the server's single handshake sample would be a chart of one dot.
    expect(count(html, /<svg [^>]*class="chart rtt"/g)).toBe(1);
    // The connection's states on its charts' time axis, and every connection's states at the end.
    expect(count(html, /<svg [^>]*class="chart state-timeline"/g)).toBe(2);
    expect(html).toContain('>Congestion window: client (connection 1)</text>');
    expect(count(html, /<svg /g)).toBe(count(html, /<\/svg>/g));
  });

  it('lists every packet with its label, losses and retransmissions set apart', () => {
    const rows = packetRows(html);
    expect(rows).toHaveLength(conversation.packets.length);
    expect(rows[0]).toEqual([
      '1',
      '0',
      '10',
      'client',
      'server',
      'TCP',
      '58',
      'SYN seq=0 win=65535 <mss 1460>',
    ]);
    expect(rows[4]).toEqual([
      '5',
      '101',
      '—',
      'client',
      'server',
      'TCP',
      '1054',
      'PSH,ACK seq=1001 ack=1 win=65535 len=1000 | lost',
    ]);
    expect(rows[7]![7]).toBe('ACK seq=1 ack=1001 win=4096 len=0 | dup ACK #1');
    expect(rows[8]![7]).toBe('PSH,ACK seq=1001 ack=1 win=65535 len=1000 | retransmission (timeout)');
    const p = decodeReportPackets(reportData(html));
    expect(Array.from(p.marks).map((m) => m & 3)).toEqual(
      conversation.packets.map((q) => (q.dropped ? 1 : 0) | (q.tcp?.retransmission ? 2 : 0)),
    );
  });

  it('shows the conversation counters and the stacks counters side by side, zeros left out', () => {
    expect(html).toContain('<tr><th>lost on the links</th><td class="num">1</td></tr>');
    expect(html).toContain('<tr><th>TCP retransmissions</th><td class="num">1</td></tr>');
    expect(html).toContain('<th>counter</th><th>client</th><th>server</th>');
    expect(html).toContain('<tr><th>TcpRetransSegs</th><td class="num">1</td><td class="num">0</td></tr>');
    expect(html).toContain('<tr><th>IpInReceives</th><td class="num">6</td><td class="num">7</td></tr>');
    expect(html).not.toContain('UdpNoPorts');
  });

  it('gives each chapter its own ladder and caption', () => {
    const c = conversationFromTrace(events(slidingWindow()));
    const report = renderHtmlReport(c, {
      title: 'Chapters',
      chapters: [
        { title: 'Handshake', caption: 'SYN, SYN-ACK, ACK.', from: 0, to: 100 },
        { title: 'Sliding window', caption: 'Window 4096, then ACK 3073 window 3072.', from: 100, to: 200 },
      ],
    });
    expect(checkMarkup(report, true).problems).toEqual([]);
    expect(count(report, /<svg [^>]*class="ladder"/g)).toBe(2);
    expect(report).toMatch(
      /<h3>Handshake<\/h3><p class="caption">SYN, SYN-ACK, ACK.<\/p><figure class="ladder"><svg /,
    );
    const [first, second] = report.split('<h3>Sliding window</h3>');
    expect(first).toContain('>SYN seq=0 win=65535 &lt;mss 1460&gt;</text>');
    expect(first).not.toContain('>PSH,ACK seq=1 ');
    expect(second!.split('</section>')[0]).toContain('>ACK seq=1 ack=3073 win=3072 len=0</text>');
  });

  it('escapes host names everywhere', () => {
    const s = new TraceScript();
    const a = { name: 'cli<ent> & co', ip: '10.0.0.1', mac: 1 };
    const b = { name: 'srv"1"', ip: '10.0.0.2', mac: 2 };
    s.send(0, a, b, fromClient(0, undefined, 0x02), 5);
    s.send(5, b, a, fromServer(0, 1, 0x02), 10);
    const report = renderHtmlReport(conversationFromTrace(events(s)), { title: 'odd names' });
    expect(checkMarkup(report, true).problems).toEqual([]);
    expect(report).not.toContain('cli<ent>');
    expect(report).toContain('cli&lt;ent&gt; &amp; co');
    expect(report).toContain('srv&quot;1&quot;');
  });

  it('lists every packet of a long conversation, and leaves its ladder to the script, a stretch at a time', () => {
    const report = renderHtmlReport(conversation, { title: 'long', maxLadderPackets: 3 });
    expect(checkMarkup(report, true).problems).toEqual([]);
    expect(packetRows(report)).toHaveLength(conversation.packets.length);
    expect(count(report, /<svg [^>]*class="ladder"/g)).toBe(0);
    expect(report).toContain(
      `<p class="caption">${conversation.packets.length} packets: the ladder shows 40`,
    );
    expect(report).toMatch(/<section id="ladder">.*<div id="ladder-window">/s);
    // A short one has its whole ladder, and the stretch around a click waits hidden under the charts.
    expect(html).toMatch(/<section id="connections">.*<div id="ladder-window" hidden="">/s);
  });
});

describe('the charts of one connection', () => {
  it('share one time axis: the same range mapped to the same x in every chart', () => {
    const story = runSeedStory({ seed: 1 });
    const report = renderStoryReport(story);
    const section = report.slice(report.indexOf('id="connection-1"'), report.indexOf('id="connection-2"'));
    const charts = [
      ...section.matchAll(/<(?:svg|canvas) [^>]*class="(?:chart )?([a-z-]+)"[\s\S]*?<\/(?:svg|canvas)>/g),
    ];
    expect(charts.map((m) => m[1])).toEqual([
      'time-sequence',
      'congestion',
      'rtt',
      'time-sequence',
      'congestion',
      'rtt',
      'state-timeline',
    ]);
    // The x of the tick labelled 1000 (ms) is the same in every SVG chart...
    const xs = charts
      .filter((m) => m[0].startsWith('<svg'))
      .map((m) => {
        const tick = /<text x="([\d.]+)" y="[\d.]+"[^>]*>1000<\/text>/.exec(m[0]);
        return tick ? Number(tick[1]) : undefined;
      });
    expect(new Set(xs).size).toBe(1);
    expect(xs[0]).toBeDefined();
    // ...and the time-sequence graphs start on the connection's span, in the same plot area.
    const conversation = story.stage.network.conversation();
    const flow = conversation.flows[0]!;
    const span = [flow.firstTime - conversation.timeOrigin, flow.lastTime - conversation.timeOrigin].map(
      (t) => Math.round(t * 1000),
    );
    const series = reportData(report).timeSequences.filter((t) => t.flowId === 0);
    expect(series).toHaveLength(2);
    for (const t of series) expect(t.range).toEqual(span);
  });
});
