/**
 * A band per connection end showing its TCP state over time (RFC 9293 §3.3.2), colored per state: the
 * handshake's SYN-SENT and SYN-RECEIVED, the long ESTABLISHED, and the close's FIN-WAIT, CLOSE-WAIT,
 * LAST-ACK and TIME-WAIT side by side for the two hosts.
 */
import type { Conversation, StateChange } from '../conversation.js';
import { STATE_COLOR } from '../style-palette.js';
import {
  CompressedTimeScale,
  type LegendEntry,
  LinearScale,
  legendRows,
  renderLegend,
  renderTitle,
} from './chart-axes.js';
import { sharedTimeTicks } from './line-chart.js';
import { element, line, MONOSPACE, monospaceWidth, svgDocument, textElement, tooltip } from './svg-markup.js';

export interface StateTimelineOptions {
  /** Hosts to include, in this order (default: the conversation's). */
  readonly hosts?: readonly string[];
  readonly width?: number;
  readonly title?: string;
  /** Only this connection's ends, each lane named by its host. */
  readonly flowId?: number;
  /**
   * A linear time axis over exactly this range, with the plot area of the line charts, so the lanes line
   * up with the connection's other charts (default: a compressed axis over the whole conversation).
   */
  readonly timeRange?: readonly [number, number];
}

const ROW_HEIGHT = 26;

interface Lane {
  host: string;
  label: string;
  changes: StateChange[];
}

export function renderStateTimelineSvg(
  conversation: Conversation,
  options: StateTimelineOptions = {},
): string {
  const width = options.width ?? 900;
  const title = options.title ?? 'TCP states';
  const hosts = options.hosts ?? conversation.hosts;
  const lanes: Lane[] = [];
  const byKey = new Map<string, Lane>();
  for (const s of conversation.states) {
    if (!hosts.includes(s.host)) continue;
    if (options.flowId !== undefined && s.flowId !== options.flowId) continue;
    const key = `${s.host} ${s.local} ${s.remote}`;
    let lane = byKey.get(key);
    if (!lane) {
      const listener = s.remote.startsWith('0.0.0.0:');
      lane = {
        host: s.host,
        label:
          options.flowId !== undefined
            ? s.host
            : `${s.host} ${s.local}${listener ? ' (listening)' : ` ↔ ${s.remote}`}`,
        changes: [],
      };
      byKey.set(key, lane);
      lanes.push(lane);
    }
    lane.changes.push(s);
  }
  lanes.sort((a, b) => hosts.indexOf(a.host) - hosts.indexOf(b.host));

  const labelWidth = Math.min(360, Math.max(120, ...lanes.map((l) => monospaceWidth(l.label, 11) + 16)));
  const aligned = options.timeRange !== undefined;
  // Aligned with the line charts: their plot area starts 78 px in and ends 24 px before the edge.
  const left = aligned ? 78 : labelWidth + 12;
  const right = width - 24;
  const top = 40;
  const legend: LegendEntry[] = [];
  for (const lane of lanes) {
    for (const c of lane.changes) {
      if (c.to !== 'CLOSED' && !legend.some((e) => e.label === c.to))
        legend.push({ label: c.to, color: STATE_COLOR[c.to], shape: 'box' });
    }
  }
  const legendWidth = width - 24;
  const height = top + Math.max(1, lanes.length) * ROW_HEIGHT + 52 + legendRows(legend, legendWidth) * 16;
  const parts: string[] = [
    element('rect', { x: 0, y: 0, width, height, fill: '#ffffff' }),
    renderTitle(12, 22, title),
  ];
  if (lanes.length === 0) {
    parts.push(textElement(12, top + 18, 'No TCP state changes were traced.', { fill: '#57606a' }));
    return svgDocument(width, height, parts, {
      class: 'chart state-timeline',
      role: 'img',
      'aria-label': title,
    });
  }

  const origin = conversation.timeOrigin;
  const start = conversation.startTime - origin;
  const end = Math.max(start, conversation.endTime - origin);
  const instants = [start, end];
  for (const lane of lanes) for (const c of lane.changes) instants.push(c.time - origin);
  const x = aligned
    ? linearTime(options.timeRange!, left, right)
    : new CompressedTimeScale(instants, left, right);
  const bottom = top + lanes.length * ROW_HEIGHT;
  // Ticks at the instants where something changed, as many as fit.
  let lastLabel = Number.NEGATIVE_INFINITY;
  x.knots.forEach((t, i) => {
    const px = x.positions[i]!;
    parts.push(line(px, top, px, bottom, { stroke: '#eaeef2' }));
    const text = String(ms(t));
    if (px - lastLabel < monospaceWidth(text, 12) + 8) return;
    parts.push(textElement(px, bottom + 16, text, { 'text-anchor': 'middle', fill: '#57606a' }));
    lastLabel = px;
  });
  for (const [t0, t1] of x.shortened) {
    // A break in the axis: this stretch is drawn shorter than it lasted.
    const mid = (x.map(t0) + x.map(t1)) / 2;
    parts.push(
      element('g', { class: 'axis-break' }, [
        tooltip(`${ms(t1 - t0)} ms, drawn shorter`),
        textElement(mid, bottom + 4, '≈', { 'text-anchor': 'middle', 'font-size': 14, fill: '#57606a' }),
      ]),
    );
  }
  const axisTitle = x.shortened.length ? 'time (ms; long stretches drawn shorter, marked ≈)' : 'time (ms)';
  parts.push(
    textElement((left + right) / 2, bottom + 34, axisTitle, { 'text-anchor': 'middle', fill: '#24292f' }),
  );

  lanes.forEach((lane, row) => {
    const y = top + row * ROW_HEIGHT;
    parts.push(
      aligned
        ? textElement(left - 6, y + 17, lane.label, {
            'text-anchor': 'end',
            'font-family': MONOSPACE,
            'font-size': 11,
            fill: '#24292f',
          })
        : textElement(8, y + 17, lane.label, { 'font-family': MONOSPACE, 'font-size': 11, fill: '#24292f' }),
    );
    lane.changes.forEach((change, i) => {
      // RFC 9293: CLOSED is "no connection"; the band simply ends there.
      if (change.to === 'CLOSED') return;
      const next = lane.changes[i + 1];
      const t0 = change.time - origin;
      const t1 = (next ? next.time : conversation.endTime) - origin;
      const x0 = x.map(t0);
      const x1 = Math.max(x0 + 2, x.map(t1));
      const band = [
        tooltip(`${lane.label}\n${change.to} from ${ms(t0)} ms${next ? ` to ${ms(t1)} ms` : ''}`),
        element('rect', {
          x: x0,
          y: y + 4,
          width: x1 - x0,
          height: ROW_HEIGHT - 8,
          fill: STATE_COLOR[change.to],
          stroke: '#ffffff',
          'stroke-width': 0.5,
        }),
      ];
      if (monospaceWidth(change.to, 10) + 6 < x1 - x0) {
        band.push(
          textElement(x0 + 3, y + 17, change.to, {
            'font-family': MONOSPACE,
            'font-size': 10,
            fill: '#24292f',
          }),
        );
      }
      parts.push(element('g', { class: 'state-band', 'data-state': change.to }, band));
    });
  });
  parts.push(renderLegend(12, bottom + 58, legend, legendWidth));
  return svgDocument(width, height, parts, {
    class: 'chart state-timeline',
    role: 'img',
    'aria-label': title,
  });
}

function ms(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** A linear axis in the shape of CompressedTimeScale: ticks at round times, nothing shortened. */
function linearTime(
  range: readonly [number, number],
  left: number,
  right: number,
): { knots: number[]; positions: number[]; shortened: [number, number][]; map: (t: number) => number } {
  const ticks = sharedTimeTicks(range[0], range[1], range);
  const scale = new LinearScale(ticks.min, ticks.max, left, right);
  const map = (t: number) => Math.max(left, Math.min(right, scale.map(t)));
  return { knots: ticks.ticks, positions: ticks.ticks.map(map), shortened: [], map };
}
