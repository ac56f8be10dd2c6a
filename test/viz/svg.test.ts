import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../src/trace/events.js';
import { conversationFromTrace } from '../../src/viz/conversation-from-trace.js';
import { byteTickText, niceByteTicks, niceTicks } from '../../src/viz/svg/chart-axes.js';
import { flightFromPackets, renderCongestionSvg } from '../../src/viz/svg/congestion-svg.js';
import { renderLadderSvg } from '../../src/viz/svg/ladder-svg.js';
import { renderRttSvg } from '../../src/viz/svg/rtt-svg.js';
import { renderStateTimelineSvg } from '../../src/viz/svg/state-timeline-svg.js';
import { escapeXml, num } from '../../src/viz/svg/svg-markup.js';
import { renderTimeSequenceSvg } from '../../src/viz/svg/time-sequence-svg.js';
import { TCP_PSH, TCP_SYN } from '../../src/wire/tcp.js';
import { checkMarkup } from './markup-check.js';
import {
  client,
  clientConn,
  close,
  events,
  fromClient,
  fromServer,
  handshake,
  lossAndRetransmission,
  server,
  slidingWindow,
} from './scenarios.js';
import { TraceScript } from './trace-script.js';

function wellFormed(svg: string): void {
  expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  expect(svg.endsWith('</svg>')).toBe(true);
  expect(checkMarkup(svg).problems).toEqual([]);
}

/** The coordinates of the first <line> inside each element with the given class. */
function firstLines(
  svg: string,
  className: string,
): { id: string; x1: number; y1: number; x2: number; y2: number }[] {
  const out: { id: string; x1: number; y1: number; x2: number; y2: number }[] = [];
  const re = new RegExp(
    `<g class="${className}(?: [^"]*)?" data-packet="(\\d+)">.*?<line x1="([-\\d.]+)" y1="([-\\d.]+)" x2="([-\\d.]+)" y2="([-\\d.]+)"`,
    'gs',
  );
  for (const m of svg.matchAll(re)) out.push({ id: m[1]!, x1: +m[2]!, y1: +m[3]!, x2: +m[4]!, y2: +m[5]! });
  return out;
}

function metrics(time: number, cwnd: number, ssthresh: number, srtt: number): TraceEvent {
  return {
    kind: 'tcp.metrics',
    time,
    host: 'client',
    conn: clientConn,
    cwnd,
    ssthresh,
    srtt,
    rttvar: srtt / 2,
    rto: 200,
    sendWindow: 4096,
    receiveWindow: 65535,
    bytesInFlight: 1000,
  };
}

describe('svg markup', () => {
  it('escapes text for elements and attributes, and replaces characters XML forbids', () => {
    expect(escapeXml(`<a href="x">&'`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&#39;');
    expect(escapeXml('bell\u0007tab\tok')).toBe('bell\ufffdtab\tok');
  });

  it('writes short coordinates', () => {
    expect([num(12), num(3.5), num(1 / 3), num(-0.001), num(Number.NaN)]).toEqual([
      '12',
      '3.5',
      '0.33',
      '0',
      '0',
    ]);
  });

  it('picks round ticks, and powers of two for bytes', () => {
    expect(niceTicks(0, 4097, 6).ticks).toEqual([0, 1000, 2000, 3000, 4000, 5000]);
    expect(niceTicks(0.2, 0.9, 4).ticks).toEqual([0.2, 0.4, 0.6, 0.8, 1]);
    const bytes = niceByteTicks(0, 4097, 6);
    expect(bytes.ticks).toEqual([0, 1024, 2048, 3072, 4096, 5120]);
    expect(bytes.ticks.map((t) => byteTickText(t, bytes.ticks))).toEqual(['0', '1K', '2K', '3K', '4K', '5K']);
    const big = niceByteTicks(0, 3_000_000, 3);
    expect(big.ticks.map((t) => byteTickText(t, big.ticks))).toEqual(['0', '1M', '2M', '3M']);
  });
});

describe('renderLadderSvg', () => {
  const loss = conversationFromTrace(events(lossAndRetransmission()));

  it('draws one slanted arrow per packet from send to arrival, in time order', () => {
    const svg = renderLadderSvg(loss);
    wellFormed(svg);
    const arrows = firstLines(svg, 'packet');
    expect(arrows.map((a) => a.id)).toEqual(loss.packets.map((p) => String(p.id)));
    let previous = Number.NEGATIVE_INFINITY;
    arrows.forEach((a, i) => {
      const p = loss.packets[i]!;
      expect(a.y1).toBeGreaterThan(previous);
      previous = a.y1;
      // Every link here has a 10 ms delay, so every arrow (or the stub of a lost one) goes down.
      expect(a.y2).toBeGreaterThan(a.y1);
      expect(a.x2 > a.x1).toBe(p.from === 'client');
    });
  });

  it('labels arrows, ends a lost one in an X, marks the retransmission and tags states', () => {
    const svg = renderLadderSvg(loss);
    expect(svg).toContain('>SYN seq=0 win=65535 &lt;mss 1460&gt;</text>');
    expect(svg).toContain('>SYN,ACK seq=0 ack=1 win=4096 &lt;mss 1460&gt;</text>');
    expect(svg.match(/class="packet [^"]*packet-lost/g)).toHaveLength(1);
    expect(svg).toMatch(
      /<g class="packet-mark" data-packet="5">(<line [^>]*stroke="#cf222e"[^>]*\/>){2}<\/g>/,
    );
    expect(svg).toMatch(/<g class="packet-label" data-packet="5">.*?len=1000<tspan[^>]*>\[lost\]<\/tspan>/s);
    expect(svg.match(/class="packet [^"]*packet-retransmission/g)).toHaveLength(1);
    expect(svg).toContain('[retransmission (timeout)]</tspan>');
    for (const state of ['LISTEN', 'SYN-SENT', 'SYN-RECEIVED', 'ESTABLISHED'])
      expect(svg).toContain(`>${state}</text>`);
    // Notes sit in the margin, wrapped to its width.
    expect(svg).toMatch(
      /<text class="note"[^>]*><tspan[^>]*>\* retransmission timer<\/tspan><tspan[^>]*>expired<\/tspan>/,
    );
    expect(svg).toContain('<title>#5 client → server on lan, 1054 bytes\nsent 101 ms, lost\n');
  });

  it('escapes host names', () => {
    const t = new TraceScript();
    const odd = { name: 'a<b>&"c', ip: '10.0.0.7', mac: 7 };
    const other = { name: "d'e", ip: '10.0.0.8', mac: 8 };
    t.send(0, odd, other, fromClient(0, undefined, TCP_SYN), 5);
    const svg = renderLadderSvg(conversationFromTrace(events(t)));
    wellFormed(svg);
    expect(svg).toContain('>a&lt;b&gt;&amp;&quot;c</text>');
    expect(svg).toContain('>d&#39;e</text>');
    expect(svg).not.toContain('a<b>');
  });

  it('draws only the packets of a time window, and says how many it left out', () => {
    const c = conversationFromTrace(events(slidingWindow()));
    const windowed = renderLadderSvg(c, { from: 100, to: 120 });
    expect(firstLines(windowed, 'packet').map((a) => a.id)).toEqual(['4', '5', '6', '7']);
    const capped = renderLadderSvg(c, { maxPackets: 3 });
    wellFormed(capped);
    expect(firstLines(capped, 'packet')).toHaveLength(3);
    expect(capped).toContain('… 5 more packets not drawn</text>');
  });
});

describe('renderTimeSequenceSvg', () => {
  it('draws each data segment as a bar, the lost one and the retransmission set apart, with ACK and window lines', () => {
    const c = conversationFromTrace(events(lossAndRetransmission()));
    const svg = renderTimeSequenceSvg(c, { flowId: 0 });
    wellFormed(svg);
    expect(svg).toContain('Time-sequence: client 10.0.0.1:49152 → server 10.0.0.2:80</text>');
    // SYN, three first transmissions and one retransmission.
    expect(svg.match(/<g class="segment[ "]/g)).toHaveLength(5);
    expect(svg.match(/class="segment segment-lost"/g)).toHaveLength(1);
    expect(svg.match(/class="segment segment-retransmission"/g)).toHaveLength(1);
    expect(svg).toMatch(
      /<polyline points="[^"]+" fill="none" stroke="#24292f" stroke-width="1.5" class="ack-line"\/>/,
    );
    expect(svg).toMatch(/class="window-line"/);
    expect(svg).toContain('>receive window</text>');
    // The bars of the retransmission and of the lost original cover the same sequence range.
    const bar = (cls: string) =>
      new RegExp(
        `class="${cls}"><title>[^<]*</title><line x1="[\\d.]+" y1="([\\d.]+)" x2="[\\d.]+" y2="([\\d.]+)"`,
      ).exec(svg)!;
    expect(bar('segment segment-lost').slice(1)).toEqual(bar('segment segment-retransmission').slice(1));
  });

  it('says when a direction carried nothing', () => {
    const c = conversationFromTrace(events(handshake()));
    const none = renderTimeSequenceSvg(conversationFromTrace([]), { flowId: 0 });
    wellFormed(none);
    expect(none).toContain('No data in this direction.');
    wellFormed(renderTimeSequenceSvg(c, { flowId: 0, fromA: false }));
  });
});

describe('congestion, RTT and state charts', () => {
  const t = slidingWindow();
  for (const e of [
    metrics(40, 14600, 0xffffffff, 0),
    metrics(130, 16060, 0xffffffff, 20),
    metrics(150, 5000, 8030, 22),
  ])
    t.add(e);
  const c = conversationFromTrace(events(close(t, 200, 3073, 1)));

  it('plots cwnd and bytes in flight, and ssthresh only once it is a real threshold', () => {
    const svg = renderCongestionSvg(c, { host: 'client', flowId: 0 });
    wellFormed(svg);
    const series = (name: string) =>
      new RegExp(`<g class="series" data-series="${name}">(.*?)</g>`).exec(svg)?.[1] ?? '';
    expect(series('cwnd').match(/<polyline/g)).toHaveLength(1);
    expect(series('bytes in flight').match(/<polyline/g)).toHaveLength(1);
    // Two "infinite" samples, then 8030: one run of one point.
    expect(
      series('ssthresh')
        .match(/<polyline points="([^"]+)"/)![1]!
        .split(' '),
    ).toHaveLength(1);
    expect(renderCongestionSvg(c, { host: 'server' })).toContain(
      'No congestion-control samples were traced.',
    );
  });

  it('samples bytes in flight at each send: a burst of N segments is N x len in flight before its ACK', () => {
    // Five 1000-byte segments leave at one instant (100 ms); the first ACK (for three of them) reaches
    // the sender at 130 ms, the second (all five) at 140 ms.
    const burst = handshake();
    const N = 5;
    const LEN = 1000;
    for (let i = 0; i < N; i++)
      burst.send(100, client, server, fromClient(1 + LEN * i, 1, TCP_PSH, { payload: LEN }), 110);
    burst.send(120, server, client, fromServer(1, 1 + 3 * LEN, 0), 130);
    burst.send(130, server, client, fromServer(1, 1 + N * LEN, 0), 140);
    const conversation = conversationFromTrace(events(burst));
    const flight = flightFromPackets(conversation, 'client', 0);
    const at = (time: number) => flight.filter(([t]) => t === time).map(([, bytes]) => bytes);
    // One sample per segment at the send instant, climbing by len each: N x len before any ACK.
    expect(at(100)).toEqual([1000, 2000, 3000, 4000, 5000]);
    expect(at(130)).toEqual([2000]);
    expect(at(140)).toEqual([0]);
    // Nothing was in flight before the burst: the SYN's sample is 0 once the SYN,ACK acknowledged it.
    expect(flight.filter(([t]) => t < 100).every(([, bytes]) => bytes === 0)).toBe(true);

    // The chart draws those samples: at the burst's x the staircase climbs from one segment's height
    // to N segments' (the steps between share one pixel column, so only the lowest and highest stay).
    const svg = renderCongestionSvg(conversation, { host: 'client', flowId: 0 });
    const line = /<g class="series" data-series="bytes in flight"><polyline points="([^"]+)"/.exec(svg)![1]!;
    const vertices = line.split(' ').map((v) => v.split(',').map(Number) as [number, number]);
    const baseline = vertices[0]![1];
    const burstX = vertices.find(([, y]) => y < baseline)![0];
    const heights = [...new Set(vertices.filter(([x]) => x === burstX).map(([, y]) => baseline - y))];
    expect(heights[0]).toBe(0);
    expect(Math.max(...heights) / heights[1]!).toBeCloseTo(N, 2);
  });

  it('plots the smoothed RTT, the RTO and one dot per measured sample', () => {
    const svg = renderRttSvg(c, { host: 'client', flowId: 0 });
    wellFormed(svg);
    const samples = c.rttSamples.filter((r) => r.host === 'client');
    expect(samples.length).toBeGreaterThan(1);
    expect(svg.match(/<circle /g)!.length).toBe(samples.length + 1); // + the legend's dot
    expect(svg).toContain('data-series="smoothed RTT"');
    expect(svg).toContain('data-series="RTO"');
  });

  it('draws a band per state per connection end, in order, and none after CLOSED', () => {
    const svg = renderStateTimelineSvg(c);
    wellFormed(svg);
    const bands = [...svg.matchAll(/<g class="state-band" data-state="([A-Z0-9-]+)"><title>([^\n]+)/g)].map(
      (m) => `${m[2]!.split(' ')[0]} ${m[1]}`,
    );
    expect(bands).toEqual([
      'client SYN-SENT',
      'client ESTABLISHED',
      'client FIN-WAIT-1',
      'client FIN-WAIT-2',
      'client TIME-WAIT',
      'server LISTEN',
      'server SYN-RECEIVED',
      'server ESTABLISHED',
      'server CLOSE-WAIT',
      'server LAST-ACK',
    ]);
    expect(svg).toContain('server 10.0.0.2:80 (listening)</text>');
    expect(renderStateTimelineSvg(conversationFromTrace([]))).toContain('No TCP state changes were traced.');
  });
});

describe('the markup checker these tests rely on', () => {
  it('catches misnested tags, unclosed tags, bare ampersands and unquoted attributes', () => {
    expect(checkMarkup('<a><b></a></b>').problems).not.toEqual([]);
    expect(checkMarkup('<a><b/>').problems).toEqual(['unclosed: a']);
    expect(checkMarkup('<a>x & y</a>').problems).toEqual(['bare & at 5']);
    expect(checkMarkup('<a x=1></a>').problems).not.toEqual([]);
    expect(checkMarkup('<a x="1">&amp;&#39;</a>').problems).toEqual([]);
    expect(checkMarkup('<p><meta charset="utf-8"><br></p>', true).problems).toEqual([]);
  });
});
