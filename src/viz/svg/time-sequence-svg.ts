/**
 * The time-sequence graph of one direction of a TCP connection, as Stevens drew them and tcptrace and
 * Wireshark still do: time across, sequence number up. Each data segment the sender transmits is a
 * vertical bar covering its bytes; the ACK line below shows how far the receiver has acknowledged, and the
 * receive-window line above it (ACK + advertised window) how far the sender may go. A stalled transfer is
 * a flat ACK line; a loss shows as a bar repeated later (retransmission); a full receive window as bars
 * touching the window line.
 *
 * Bars are placed at the sender's transmission time and ACKs at their arrival at the sender, i.e. what a
 * capture taken at the sender shows.
 */

import { TCP_ACK, TCP_FIN, TCP_SYN } from '../../wire/tcp.js';
import type { Conversation, PacketRecord } from '../conversation.js';
import { describePacket } from '../packet-details.js';
import { DROP_COLOR, RETRANSMISSION_COLOR } from '../style-palette.js';
import {
  byteTickText,
  LinearScale,
  niceByteTicks,
  type PlotArea,
  renderAxes,
  renderLegend,
  renderTitle,
} from './chart-axes.js';
import { sharedTimeTicks } from './line-chart.js';
import { element, line, polyline, svgDocument, textElement, tooltip } from './svg-markup.js';

export interface TimeSequenceOptions {
  readonly flowId: number;
  /** The data direction: from the flow's endpoint a (default: the direction that carried more bytes). */
  readonly fromA?: boolean;
  readonly width?: number;
  readonly height?: number;
  readonly title?: string;
  /** Hover text per segment up to this many segments (default 2000), to keep huge graphs light. */
  readonly maxTooltips?: number;
  /** The time axis, fixed (shared with the connection's other charts). */
  readonly timeRange?: readonly [number, number];
}

const DATA_COLOR = '#0969da';
const ACK_COLOR = '#24292f';
const WINDOW_COLOR = '#1a7f37';
const SACK_COLOR = '#8250df';

/** The direction of a flow that carried more payload (a's when equal). */
export function mainDirection(conversation: Conversation, flowId: number): boolean {
  const flow = conversation.flows[flowId];
  return !flow || flow.bytesAtoB >= flow.bytesBtoA;
}

/**
 * What a time-sequence graph of one direction shows: the segments its sender transmitted that carry data,
 * SYN or FIN (in send order), and the ACKs that reached the sender (in arrival order).
 */
export function timeSequencePackets(
  conversation: Conversation,
  flowId: number,
  fromA: boolean,
): { segments: PacketRecord[]; acks: PacketRecord[] } {
  const flow = conversation.flows[flowId];
  const segments: PacketRecord[] = [];
  const acks: PacketRecord[] = [];
  if (!flow) return { segments, acks };
  const sender = fromA ? flow.a.host : flow.b.host;
  for (const p of conversation.packets) {
    const s = p.tcp;
    if (!s || s.flowId !== flowId) continue;
    if (s.fromA === fromA && p.from === sender) {
      if (s.length > 0 || s.flagBits & (TCP_SYN | TCP_FIN)) segments.push(p);
    } else if (s.fromA !== fromA && p.to === sender && p.arrivedAt !== undefined && s.flagBits & TCP_ACK) {
      acks.push(p);
    }
  }
  acks.sort(
    (x, y) => x.arrivedAt! - y.arrivedAt! || (x.arrivalOrder ?? x.order) - (y.arrivalOrder ?? y.order),
  );
  return { segments, acks };
}

export function renderTimeSequenceSvg(conversation: Conversation, options: TimeSequenceOptions): string {
  const width = options.width ?? 900;
  const height = options.height ?? 420;
  const flow = conversation.flows[options.flowId];
  const fromA = options.fromA ?? mainDirection(conversation, options.flowId);
  const sender = flow ? (fromA ? flow.a : flow.b) : undefined;
  const receiver = flow ? (fromA ? flow.b : flow.a) : undefined;
  const title =
    options.title ??
    (sender && receiver
      ? `Time-sequence: ${sender.host} ${sender.address}:${sender.port} → ${receiver.host} ${receiver.address}:${receiver.port}`
      : 'Time-sequence');

  const { segments, acks } = timeSequencePackets(conversation, options.flowId, fromA);

  const origin = conversation.timeOrigin;
  const area: PlotArea = { left: 78, top: 56, width: width - 78 - 24, height: height - 56 - 50 };
  const parts: string[] = [
    element('rect', { x: 0, y: 0, width, height, fill: '#ffffff' }),
    renderTitle(12, 22, title),
  ];
  if (segments.length === 0 && acks.length === 0) {
    parts.push(textElement(area.left, area.top + 20, 'No data in this direction.', { fill: '#57606a' }));
    return svgDocument(width, height, parts, {
      class: 'chart time-sequence',
      role: 'img',
      'aria-label': title,
    });
  }

  let tMin = Number.POSITIVE_INFINITY;
  let tMax = Number.NEGATIVE_INFINITY;
  let dataMax = 0;
  let windowMax = 0;
  const end = (p: PacketRecord) => {
    const s = p.tcp!;
    return s.relativeSeq + s.length + (s.flagBits & TCP_SYN ? 1 : 0) + (s.flagBits & TCP_FIN ? 1 : 0);
  };
  for (const p of segments) {
    tMin = Math.min(tMin, p.sentAt - origin);
    tMax = Math.max(tMax, p.sentAt - origin);
    dataMax = Math.max(dataMax, end(p));
  }
  for (const p of acks) {
    const s = p.tcp!;
    tMin = Math.min(tMin, p.arrivedAt! - origin);
    tMax = Math.max(tMax, p.arrivedAt! - origin);
    dataMax = Math.max(dataMax, s.relativeAck ?? 0);
    windowMax = Math.max(windowMax, (s.relativeAck ?? 0) + s.effectiveWindow);
  }
  const xTicks = sharedTimeTicks(tMin, tMax, options.timeRange);
  // A receive window far above everything sent would flatten the data into the floor: then the window
  // line is drawn along the top edge instead, and the legend says so.
  const windowClipped = windowMax > 4 * dataMax && dataMax > 0;
  const yTicks = niceByteTicks(0, windowClipped ? dataMax * 1.25 : Math.max(dataMax, windowMax), 6);
  const x = new LinearScale(xTicks.min, xTicks.max, area.left, area.left + area.width);
  const y = new LinearScale(yTicks.min, yTicks.max, area.top + area.height, area.top);
  parts.push(
    renderAxes({
      area,
      x: { ticks: xTicks.ticks, scale: x, label: 'time (ms)' },
      y: { ticks: yTicks.ticks, scale: y, label: 'relative sequence number (bytes)', format: byteTickText },
    }),
  );

  // Receive window and ACK lines: staircases that step when each ACK reaches the sender.
  const windowPoints: [number, number][] = [];
  const ackPoints: [number, number][] = [];
  const sackBars: string[] = [];
  for (const p of acks) {
    const s = p.tcp!;
    const px = x.map(p.arrivedAt! - origin);
    ackPoints.push([px, y.map(s.relativeAck ?? 0)]);
    windowPoints.push([px, y.map(Math.min(yTicks.max, (s.relativeAck ?? 0) + s.effectiveWindow))]);
    for (const b of s.sack ?? []) {
      sackBars.push(
        line(px, y.map(b.left), px, y.map(b.right), {
          stroke: SACK_COLOR,
          'stroke-width': 3,
          'stroke-opacity': 0.7,
        }),
      );
    }
  }
  const right = area.left + area.width;
  if (ackPoints.length) {
    ackPoints.push([right, ackPoints[ackPoints.length - 1]![1]]);
    windowPoints.push([right, windowPoints[windowPoints.length - 1]![1]]);
  }
  parts.push(
    polyline(windowPoints, { stroke: WINDOW_COLOR, 'stroke-width': 1.5, class: 'window-line' }, true),
  );
  parts.push(polyline(ackPoints, { stroke: ACK_COLOR, 'stroke-width': 1.5, class: 'ack-line' }, true));
  parts.push(element('g', { class: 'sack' }, sackBars));

  const maxTooltips = options.maxTooltips ?? 2000;
  const bars = segments.map((p) => {
    const s = p.tcp!;
    const px = x.map(p.sentAt - origin);
    const y0 = y.map(s.relativeSeq);
    const y1 = Math.min(y0 - 2, y.map(end(p)));
    const color = p.dropped ? DROP_COLOR : s.retransmission ? RETRANSMISSION_COLOR : DATA_COLOR;
    const bar = [
      line(px, y0, px, y1, { stroke: color, 'stroke-width': 2 }),
      line(px - 3, y0, px + 3, y0, { stroke: color }),
      line(px - 3, y1, px + 3, y1, { stroke: color }),
    ];
    if (p.dropped) {
      bar.push(line(px - 4, y1 - 8, px + 4, y1 - 2, { stroke: DROP_COLOR, 'stroke-width': 1.5 }));
      bar.push(line(px - 4, y1 - 2, px + 4, y1 - 8, { stroke: DROP_COLOR, 'stroke-width': 1.5 }));
    }
    if (segments.length <= maxTooltips) bar.unshift(tooltip(describePacket(p, conversation)));
    const classes = ['segment'];
    if (p.dropped) classes.push('segment-lost');
    if (s.retransmission) classes.push('segment-retransmission');
    return element('g', { class: classes.join(' ') }, bar);
  });
  parts.push(element('g', { class: 'segments' }, bars));

  const legend: { label: string; color: string; shape?: 'line' | 'bar' }[] = [
    { label: 'data', color: DATA_COLOR, shape: 'bar' },
  ];
  if (segments.some((p) => p.tcp!.retransmission))
    legend.push({ label: 'retransmission', color: RETRANSMISSION_COLOR, shape: 'bar' });
  if (segments.some((p) => p.dropped)) legend.push({ label: 'lost', color: DROP_COLOR, shape: 'bar' });
  legend.push(
    { label: 'ACK', color: ACK_COLOR },
    {
      label: windowClipped ? 'receive window (above the top)' : 'receive window',
      color: WINDOW_COLOR,
    },
  );
  if (sackBars.length) legend.push({ label: 'SACK', color: SACK_COLOR, shape: 'bar' });
  parts.push(renderLegend(area.left, 44, legend));
  return svgDocument(width, height, parts, {
    class: 'chart time-sequence',
    role: 'img',
    'aria-label': title,
  });
}
