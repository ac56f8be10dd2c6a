/**
 * Congestion control over time for one sender (RFC 5681): the congestion window, the slow-start threshold
 * and the bytes in flight, from the `tcp.metrics` samples the sender traced. Slow start shows as cwnd
 * climbing steeply, congestion avoidance as a gentle slope, a loss as a drop with ssthresh set to about
 * half the flight size.
 */

import { TCP_FIN, TCP_SYN } from '../../wire/tcp.js';
import type { Conversation, MetricsSample } from '../conversation.js';
import { byteTickText } from './chart-axes.js';
import { renderLineChart } from './line-chart.js';

export interface SenderSelection {
  /** The sending host whose metrics to plot. */
  readonly host: string;
  /** One connection of that host (default: all its samples). */
  readonly flowId?: number;
  readonly width?: number;
  readonly height?: number;
  readonly title?: string;
  /** The time axis, fixed (shared with the connection's other charts). */
  readonly timeRange?: readonly [number, number];
}

/**
 * An ssthresh this large means "not set yet": RFC 5681 §3.1 starts it arbitrarily high, and stacks
 * trace that as 2^32-1, 2^31-1 or Infinity.
 */
const UNSET_SSTHRESH = 0x3fffffff;

export function metricsOf(conversation: Conversation, selection: SenderSelection): MetricsSample[] {
  return conversation.metrics.filter(
    (m) => m.host === selection.host && (selection.flowId === undefined || m.flowId === selection.flowId),
  );
}

/**
 * Bytes in flight as the packets show them, sampled at every segment the sender sends and every ACK that
 * reaches it: the highest sequence number sent minus the highest acknowledged (SND.NXT - SND.UNA on the
 * wire), so a burst shows as a step up the moment it leaves, not when the next ACK comes back.
 */
export function flightFromPackets(
  conversation: Conversation,
  host: string,
  flowId: number,
): [number, number][] {
  const flow = conversation.flows[flowId];
  if (!flow) return [];
  const fromA = flow.a.host === host;
  const origin = conversation.timeOrigin;
  const events: { time: number; order: number; sent?: number; acked?: number }[] = [];
  for (const p of conversation.packets) {
    const s = p.tcp;
    if (!s || s.flowId !== flowId) continue;
    if (s.fromA === fromA && p.from === host) {
      const length = s.length + (s.flagBits & TCP_SYN ? 1 : 0) + (s.flagBits & TCP_FIN ? 1 : 0);
      if (length > 0) events.push({ time: p.sentAt, order: p.order, sent: s.relativeSeq + length });
    } else if (
      s.fromA !== fromA &&
      p.to === host &&
      p.arrivedAt !== undefined &&
      s.relativeAck !== undefined
    ) {
      events.push({ time: p.arrivedAt, order: p.arrivalOrder ?? p.order, acked: s.relativeAck });
    }
  }
  events.sort((x, y) => x.time - y.time || x.order - y.order);
  let sent = 0;
  let acked = 0;
  const points: [number, number][] = [];
  for (const e of events) {
    if (e.sent !== undefined) sent = Math.max(sent, e.sent);
    if (e.acked !== undefined) acked = Math.max(acked, e.acked);
    points.push([e.time - origin, Math.max(0, sent - Math.max(acked, 1))]);
  }
  return points;
}

export function renderCongestionSvg(conversation: Conversation, selection: SenderSelection): string {
  const samples = metricsOf(conversation, selection);
  const origin = conversation.timeOrigin;
  const t = (m: MetricsSample) => m.time - origin;
  const flight =
    selection.flowId !== undefined
      ? flightFromPackets(conversation, selection.host, selection.flowId)
      : samples.map((m): [number, number] => [t(m), m.bytesInFlight]);
  // What actually limits the sender: the smaller of cwnd and the peer's window. When cwnd grows far
  // above both the window and the flight (an application- or window-limited sender), the axis stops a
  // little above them and cwnd runs along the top edge, as the title says.
  const windowMax = Math.max(0, ...samples.map((m) => m.sendWindow), ...flight.map((f) => f[1]));
  const cwndMax = Math.max(0, ...samples.map((m) => m.cwnd));
  const clipped = windowMax > 0 && cwndMax > 4 * windowMax;
  const yLimit = clipped ? windowMax * 1.5 : undefined;
  const ssthreshShown = (m: MetricsSample) =>
    Number.isFinite(m.ssthresh) &&
    m.ssthresh < UNSET_SSTHRESH &&
    m.ssthresh <= Math.max(4 * Math.max(cwndMax, windowMax), 1)
      ? m.ssthresh
      : undefined;
  const title = selection.title ?? `Congestion window: ${selection.host}`;
  return renderLineChart({
    title: clipped ? `${title} (cwnd grows to ${byteText(cwndMax)}, above the top edge)` : title,
    width: selection.width,
    height: selection.height,
    xLabel: 'time (ms)',
    yLabel: 'bytes',
    yFormat: byteTickText,
    yBytes: true,
    className: 'congestion',
    emptyText: 'No congestion-control samples were traced.',
    ...(selection.timeRange ? { xRange: selection.timeRange } : {}),
    ...(yLimit !== undefined ? { yLimit } : {}),
    series: [
      { name: 'cwnd', color: '#0969da', points: samples.map((m) => [t(m), m.cwnd]), holdToEnd: false },
      {
        name: 'ssthresh',
        color: '#cf222e',
        dashed: true,
        points: samples.map((m) => [t(m), ssthreshShown(m)]),
      },
      {
        name: "rwnd (the peer's window)",
        color: '#1a7f37',
        dashed: true,
        points: samples.map((m) => [t(m), m.sendWindow]),
      },
      { name: 'bytes in flight', color: '#8c959f', points: flight },
    ],
  });
}

function byteText(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}
