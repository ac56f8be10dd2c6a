/**
 * One self-contained HTML file describing a conversation: the ladder diagram (per chapter when the
 * caller names chapters), per TCP connection its time-sequence graphs, congestion window and RTT, the
 * TCP state timeline, counters, and a list of every packet. Styles, pictures, data and the one script are
 * inline and nothing is fetched, so the file can be mailed, archived and opened offline.
 *
 * It stays small and quick for large runs: the packets travel as packed columns (report-data.ts) and the
 * script (report-app.ts) draws from them only what is looked at — the rows of the packet list in view,
 * the time-sequence graphs on canvas (zoomable), and the ladder around a point clicked. A conversation
 * short enough for one picture (maxLadderPackets) also gets its whole ladder as SVG, readable without
 * the script.
 */
import type { Conversation, TcpFlow } from './conversation.js';
import { CAUSE_NAMES, countConversation, countsText } from './conversation-counts.js';
import { numberingText, type PacketLabelOptions } from './packet-label.js';
import { decodeColumn, decodeReportPackets, type ReportStyle, reportApp } from './report-app.js';
import { encodeReportData, PACKET_KINDS, type TimeSequenceData } from './report-data.js';
import { DROP_COLOR, RETRANSMISSION_COLOR, SVG_PACKET_COLOR } from './style-palette.js';
import { renderCongestionSvg } from './svg/congestion-svg.js';
import {
  calloutBaselines,
  cross,
  inside,
  project,
  quadsOverlap,
  rectQuad,
  segmentHitsQuad,
  segmentsCross,
  textQuad,
} from './svg/label-geometry.js';
import { renderLadderSvg } from './svg/ladder-svg.js';
import { renderRttSvg } from './svg/rtt-svg.js';
import { renderStateTimelineSvg } from './svg/state-timeline-svg.js';
import { escapeXml as escapeHtml } from './svg/svg-markup.js';

/** A stretch of the conversation with its own ladder diagram and explanation. */
export interface ReportChapter {
  readonly title: string;
  readonly caption?: string;
  /** Absolute times on the conversation's clock: [from, to). */
  readonly from: number;
  readonly to: number;
}

/** Counter tables: group (e.g. a host) → counter name → value, like one `nstat` column per host. */
export type ReportCounters = Readonly<Record<string, Readonly<Record<string, number>>>>;

export interface HtmlReportOptions extends PacketLabelOptions {
  readonly title: string;
  /** A paragraph under the title. */
  readonly description?: string;
  readonly counters?: ReportCounters;
  /** Show counters that are zero in every group (default false, as `nstat` without -z). */
  readonly zeroCounters?: boolean;
  readonly chapters?: readonly ReportChapter[];
  /** Hosts of the ladder diagrams, left to right (default: the conversation's order). */
  readonly hosts?: readonly string[];
  /**
   * Arrows per ladder diagram drawn in full as SVG (default 600). A longer conversation's ladder is drawn
   * by the report's script, a stretch at a time.
   */
  readonly maxLadderPackets?: number;
  /** Connections that get their own charts (default 20). */
  readonly maxFlowCharts?: number;
}

export function renderHtmlReport(conversation: Conversation, options: HtmlReportOptions): string {
  const sections: { id: string; title: string; html: string }[] = [];
  const labelOptions: PacketLabelOptions = {
    relative: options.relative,
    tcpOptions: options.tcpOptions,
    ports: options.ports,
  };
  const data = encodeReportData(conversation, {
    ...labelOptions,
    hosts: options.hosts,
    numbering: numberingText(conversation.packets, labelOptions),
  });
  // The whole ladder as one SVG when it fits one picture; else the script draws it a stretch at a time.
  const wholeLadder =
    Boolean(options.chapters?.length) || conversation.packets.length <= (options.maxLadderPackets ?? 600);

  sections.push({
    id: 'ladder',
    title: 'Ladder diagram',
    html: wholeLadder
      ? ladderSection(conversation, options, labelOptions)
      : `<p class="caption">${conversation.packets.length} packets: the ladder shows ${LADDER_WINDOW_TEXT}. Click a point in a time-sequence graph, or a row of the packet list, to see the ladder there.</p>${ladderWindow(true)}`,
  });
  const flowsHtml = flowSections(conversation, options, data.timeSequences);
  if (flowsHtml) {
    sections.push({
      id: 'connections',
      title: 'TCP connections',
      html: wholeLadder ? `${flowsHtml}${ladderWindow(false)}` : flowsHtml,
    });
  }
  if (conversation.states.length) {
    sections.push({
      id: 'states',
      title: 'TCP states',
      html: figure(renderStateTimelineSvg(conversation, { hosts: options.hosts, width: 960 })),
    });
  }
  sections.push({ id: 'counters', title: 'Counters', html: countersSection(conversation, options) });
  sections.push({ id: 'packets', title: 'Packets', html: packetList(conversation) });

  const nav = sections.map((s) => `<a href="#${s.id}">${escapeHtml(s.title)}</a>`).join('');
  const body = sections
    .map((s) => `<section id="${s.id}"><h2>${escapeHtml(s.title)}</h2>${s.html}</section>`)
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>${escapeHtml(options.title)}</h1>${options.description ? `<p>${escapeHtml(options.description)}</p>` : ''}<p class="summary">${escapeHtml(summaryLine(conversation))}</p><nav>${nav}</nav></header>
<main>
${body}
</main>
<noscript><p class="muted">The packet list, the time-sequence graphs and the ladder of long runs are drawn by the report's script.</p></noscript>
<script type="application/json" id="report-data">${scriptText(data)}</script>
<script>${appScript()}</script>
</body>
</html>
`;
}

const LADDER_WINDOW_TEXT = '40 packets at a time (◀ earlier, later ▶)';

/** The ladder of a stretch of packets, drawn by the script: open from the start, or hidden until asked. */
function ladderWindow(open: boolean): string {
  const heading = open ? '' : '<h3>Ladder around the point clicked</h3>';
  return `<div id="ladder-window"${open ? '' : ' hidden=""'}>${heading}<p><button type="button" class="ladder-earlier">◀ earlier</button> <button type="button" class="ladder-later">later ▶</button> <span class="ladder-window-caption muted"></span></p><figure class="ladder ladder-window-figure"></figure></div>`;
}

const REPORT_STYLE: ReportStyle = {
  kindColors: PACKET_KINDS.map((k) => SVG_PACKET_COLOR[k]),
  kindNames: PACKET_KINDS,
  dropColor: DROP_COLOR,
  retransmissionColor: RETRANSMISSION_COLOR,
};

/** JSON inside a script element: '<' escaped so that no string in the data can close the element. */
function scriptText(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

/**
 * The report's script: the source text of the functions it needs, then a call with the data. Transpilers
 * that keep function names wrap nested functions in a `__name(fn, "name")` helper defined outside the
 * functions' text, so the script defines it as the identity.
 */
function appScript(): string {
  const functions = [
    // label-geometry.ts, for placing the on-demand ladder's labels as the SVG ladder's are.
    rectQuad,
    textQuad,
    project,
    quadsOverlap,
    cross,
    segmentsCross,
    inside,
    segmentHitsQuad,
    calloutBaselines,
    decodeColumn,
    decodeReportPackets,
    reportApp,
  ]
    .map((f) => f.toString())
    .join('\n');
  return `(function(){var __name=function(f){return f};\n${functions}\nreportApp(JSON.parse(document.getElementById('report-data').textContent),${scriptText(REPORT_STYLE)},{textQuad:textQuad,quadsOverlap:quadsOverlap,segmentHitsQuad:segmentHitsQuad,calloutBaselines:calloutBaselines});})();`;
}

const STYLE = `
:root{color-scheme:light;--fg:#24292f;--muted:#57606a;--line:#d0d7de;--bg:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 ui-sans-serif,system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:#fff}
header{padding:20px 28px 12px;border-bottom:1px solid var(--line);background:var(--bg)}
h1{margin:0 0 6px;font-size:22px}
h2{margin:28px 0 10px;font-size:18px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{margin:20px 0 6px;font-size:15px}
.summary{color:var(--muted);margin:4px 0}
nav a{margin-right:16px;color:#0969da;text-decoration:none}
nav a:hover{text-decoration:underline}
main{padding:0 28px 40px}
figure{margin:8px 0 16px;overflow-x:auto;border:1px solid var(--line);border-radius:6px;background:#fff}
figure svg{display:block}
figure.chart svg{max-width:100%;height:auto}
figure.ladder svg{width:100%;height:auto}
.caption{margin:4px 0 8px;max-width:80ch}
.muted{color:var(--muted)}
table{border-collapse:collapse;font-size:12px}
th,td{border:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top}
th{background:var(--bg);position:sticky;top:0}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.info{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;white-space:nowrap}
tr.lost td{background:#ffebe9}
tr.retransmission td{background:#fff8c5}
tr:hover td{background:#ddf4ff}
.tag{display:inline-block;margin-left:6px;padding:0 6px;border-radius:10px;font-size:11px;background:#fff1e5;color:#bc4c00}
.kind-syn{color:#1a7f37}.kind-fin{color:#8250df}.kind-rst{color:#cf222e}.kind-data{color:#0969da}
.kind-udp{color:#1f6feb}.kind-icmp{color:#9a6700}.kind-arp,.kind-other{color:#6e7781}
.table-wrap{max-height:70vh;overflow:auto;border:1px solid var(--line);border-radius:6px}
table.packets{width:100%}
table.packets td{white-space:nowrap;height:24px}
table.packets tbody tr[data-index]{cursor:pointer}
figure canvas.time-sequence{display:block;width:100%;max-width:960px;height:auto;cursor:crosshair}
#ladder-window figure svg{display:block;max-width:100%;height:auto}
svg .packet:hover line,svg .segment:hover line{stroke-width:3}
`;

/** A chart with a caption that says how to read it. */
function chart(svg: string, caption: string): string {
  return `${figure(svg)}<p class="caption muted">${escapeHtml(caption)}</p>`;
}

function figure(svg: string, chart = true): string {
  return `<figure class="${chart ? 'chart' : 'ladder'}">${svg}</figure>`;
}

function summaryLine(c: Conversation): string {
  const span = Math.round((c.endTime - c.startTime) * 1000) / 1000;
  const parts = [
    countsText(countConversation(c)),
    `${c.flows.length} TCP connection${c.flows.length === 1 ? '' : 's'}`,
    `hosts ${c.hosts.join(', ') || 'none'}`,
    `${span} ms`,
  ];
  if (c.vantage === 'capture') {
    const start =
      c.wallClockStart !== undefined ? ` started ${new Date(c.wallClockStart).toISOString()}` : '';
    parts.push(`from a capture${start} (one time per packet)`);
  } else {
    parts.push('from a simulation trace');
  }
  return parts.join(' · ');
}

function ladderSection(
  c: Conversation,
  options: HtmlReportOptions,
  labelOptions: PacketLabelOptions,
): string {
  const common = { ...labelOptions, hosts: options.hosts, maxPackets: options.maxLadderPackets };
  if (!options.chapters?.length) return figure(renderLadderSvg(c, common), false);
  return options.chapters
    .map((chapter) => {
      const caption = chapter.caption ? `<p class="caption">${escapeHtml(chapter.caption)}</p>` : '';
      const svg = renderLadderSvg(c, { ...common, from: chapter.from, to: chapter.to });
      return `<h3>${escapeHtml(chapter.title)}</h3>${caption}${figure(svg, false)}`;
    })
    .join('\n');
}

function endpointText(e: TcpFlow['a']): string {
  const where = `${e.address}:${e.port}`;
  return e.host === where ? where : `${e.host} ${where}`;
}

function flowSections(
  c: Conversation,
  options: HtmlReportOptions,
  timeSequences: readonly TimeSequenceData[],
): string {
  const max = options.maxFlowCharts ?? 20;
  const out: string[] = [];
  c.flows.forEach((flow, i) => {
    const title = `Connection ${flow.id + 1}: ${endpointText(flow.a)} ↔ ${endpointText(flow.b)}`;
    const counts = countsText(countConversation(c, flow.id), { packets: false });
    const facts = `${flow.packets} packets; ${flow.bytesAtoB} bytes ${flow.a.host} → ${flow.b.host}, ${flow.bytesBtoA} bytes ${flow.b.host} → ${flow.a.host}${counts ? `; ${counts}` : ''}`;
    out.push(
      `<h3 id="connection-${flow.id + 1}">${escapeHtml(title)}</h3><p class="muted">${escapeHtml(facts)}</p>`,
    );
    if (i >= max) {
      out.push('<p class="muted">Charts are drawn for the first connections only.</p>');
      return;
    }
    // Every chart of the connection shares one time axis (the connection's span) and one plot area, so
    // a loss in the time-sequence graph lines up with the cwnd drop and the RTT sample beneath it.
    const range: [number, number] = [flow.firstTime - c.timeOrigin, flow.lastTime - c.timeOrigin];
    const directions: boolean[] = [];
    if (flow.bytesAtoB > 0) directions.push(true);
    if (flow.bytesBtoA > 0) directions.push(false);
    if (directions.length === 0) out.push('<p class="muted">No data was transferred on this connection.</p>');
    for (const fromA of directions) {
      const sender = fromA ? flow.a.host : flow.b.host;
      const graph = timeSequences.findIndex((t) => t.flowId === flow.id && t.fromA === fromA);
      out.push(
        chart(
          `<canvas class="time-sequence" data-index="${graph}" width="960" height="420" aria-label="${escapeHtml(timeSequences[graph]!.title)}"></canvas>`,
          'Time-sequence: each data segment is a short vertical bar at the time it was sent, as high as the ' +
            'bytes it carries (relative sequence numbers); a bar repeated later is a retransmission, a red ' +
            'one was lost. The dark staircase is the acknowledged number as ACKs reach the sender, the ' +
            "green one the right edge of the receiver's window (ACK + window): the sender may not go above " +
            'it, so bars pressed against it mean the receiver is the limit. Purple bars are SACK blocks. ' +
            'The slope is the throughput. Wheel to zoom (shift: time only), drag a rectangle to zoom into ' +
            'it, double-click to see the whole connection again, click to see the ladder at that time.',
        ),
      );
      if (c.metrics.some((m) => m.host === sender && m.flowId === flow.id)) {
        out.push(
          chart(
            renderCongestionSvg(c, {
              host: sender,
              flowId: flow.id,
              width: 960,
              timeRange: range,
              title: `Congestion window: ${sender} (connection ${flow.id + 1})`,
            }),
            'Congestion control at the sender (RFC 5681): cwnd is what the network is trusted with, rwnd ' +
              'what the receiver offers; the sender keeps at most the smaller of the two in flight. Bytes ' +
              'in flight are counted from the packets at every send and every ACK. Slow start doubles ' +
              'cwnd each round trip; a loss halves it and sets ssthresh.',
          ),
        );
      }
      const rttPoints =
        c.rttSamples.filter((r) => r.host === sender && r.flowId === flow.id).length +
        c.metrics.filter((m) => m.host === sender && m.flowId === flow.id && m.srtt > 0).length;
      if (rttPoints >= 2) {
        out.push(
          chart(
            renderRttSvg(c, {
              host: sender,
              flowId: flow.id,
              width: 960,
              timeRange: range,
              title: `Round-trip time: ${sender} (connection ${flow.id + 1})`,
            }),
            'Round-trip time seen by the sender: green dots are samples from the packets (data sent, first ' +
              "ACK covering it; retransmitted data is skipped, Karn's rule), blue the smoothed RTT and red the " +
              'retransmission timeout the stack computed from them (RFC 6298).',
          ),
        );
      }
    }
    if (c.states.some((st) => st.flowId === flow.id)) {
      out.push(
        chart(
          renderStateTimelineSvg(c, {
            flowId: flow.id,
            width: 960,
            timeRange: range,
            title: `TCP states (connection ${flow.id + 1})`,
          }),
          "Each end's state over the same time axis (RFC 9293 §3.3.2).",
        ),
      );
    }
  });
  return out.join('\n');
}

function countersSection(c: Conversation, options: HtmlReportOptions): string {
  const out: string[] = [];
  // What the pictures show, counted.
  const rows: [string, string | number][] = [];
  const lost = c.packets.filter((p) => p.dropped);
  rows.push(['packets', c.packets.length]);
  for (const protocol of ['tcp', 'udp', 'icmp', 'arp', 'ipv4', 'ipv6', 'other'] as const) {
    const n = c.packets.filter((p) => p.protocol === protocol).length;
    if (n) rows.push([`${protocol} packets`, n]);
  }
  if (c.vantage === 'link') {
    rows.push(['lost on the links', lost.length]);
    const duplicated = c.packets.filter((p) => p.duplicate).length;
    const corrupted = c.packets.filter((p) => p.corrupted).length;
    const reordered = c.packets.filter((p) => p.reordered).length;
    if (duplicated) rows.push(['duplicated by the links', duplicated]);
    if (corrupted) rows.push(['corrupted by the links', corrupted]);
    if (reordered) rows.push(['reordered by the links', reordered]);
  }
  rows.push(['TCP connections', c.flows.length]);
  const counts = countConversation(c);
  rows.push(['TCP retransmissions', counts.retransmissions]);
  for (const [cause, name] of CAUSE_NAMES) {
    const n = counts.retransmissionsByCause[cause];
    if (n) rows.push([`  of which ${name}`, n]);
  }
  if (counts.spuriousRetransmissions) rows.push(['  of which spurious', counts.spuriousRetransmissions]);
  if (counts.zeroWindowProbes) rows.push(['zero-window probes', counts.zeroWindowProbes]);
  if (counts.duplicateAcks) rows.push(['duplicate ACKs', counts.duplicateAcks]);
  if (counts.zeroWindows) rows.push(['zero-window advertisements', counts.zeroWindows]);
  if (counts.windowUpdates) rows.push(['window updates', counts.windowUpdates]);
  if (c.drops.length) rows.push(['dropped by the stacks', c.drops.length]);
  out.push('<h3>This conversation</h3><table><tbody>');
  for (const [name, value] of rows)
    out.push(`<tr><th>${escapeHtml(name)}</th><td class="num">${value}</td></tr>`);
  out.push('</tbody></table>');

  if (c.drops.length) {
    const byReason = new Map<string, number>();
    for (const d of c.drops) {
      const key = `${d.host}\u0000${d.layer}\u0000${d.reason}`;
      byReason.set(key, (byReason.get(key) ?? 0) + 1);
    }
    out.push(
      '<h3>Dropped by the stacks</h3><table><thead><tr><th>host</th><th>layer</th><th>reason</th><th>count</th></tr></thead><tbody>',
    );
    for (const [key, n] of byReason) {
      const [host, layer, reason] = key.split('\u0000');
      out.push(
        `<tr><td>${escapeHtml(host!)}</td><td>${escapeHtml(layer!)}</td><td>${escapeHtml(reason!)}</td><td class="num">${n}</td></tr>`,
      );
    }
    out.push('</tbody></table>');
  }

  const groups = Object.keys(options.counters ?? {});
  if (options.counters && groups.length) {
    const names: string[] = [];
    const seen = new Set<string>();
    for (const g of groups) {
      for (const name of Object.keys(options.counters[g]!)) {
        if (!seen.has(name)) {
          seen.add(name);
          names.push(name);
        }
      }
    }
    out.push('<h3>Stack counters</h3><table><thead><tr><th>counter</th>');
    for (const g of groups) out.push(`<th>${escapeHtml(g)}</th>`);
    out.push('</tr></thead><tbody>');
    for (const name of names) {
      const values = groups.map((g) => options.counters![g]![name]);
      if (!options.zeroCounters && values.every((v) => !v)) continue;
      out.push(`<tr><th>${escapeHtml(name)}</th>`);
      for (const v of values) out.push(`<td class="num">${v === undefined ? '' : v}</td>`);
      out.push('</tr>');
    }
    out.push('</tbody></table>');
  }
  return out.join('');
}

/**
 * The packet list: the script fills it with the rows in view (from the packed columns), so its size does
 * not depend on the run's; the filter keeps the rows holding every word typed ('retrans', 'server SYN',
 * 'dup ACK'), case-insensitive.
 */
function packetList(c: Conversation): string {
  const link = c.vantage === 'link';
  return [
    '<p><label>Filter: <input id="packet-filter" type="search" size="40" placeholder="e.g. retransmission, dup ACK, server FIN"></label> <span id="packet-filter-count" class="muted"></span></p>',
    '<div class="table-wrap" id="packet-scroll"><table class="packets"><thead><tr><th>No.</th>',
    link ? '<th>sent (ms)</th><th>arrived (ms)</th>' : '<th>time (ms)</th>',
    '<th>from</th><th>to</th><th>protocol</th><th>length</th><th>info</th></tr></thead><tbody></tbody></table></div>',
  ].join('');
}
