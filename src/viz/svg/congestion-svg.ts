/**
 * Congestion control over time for one sender (RFC 5681): the congestion window, the slow-start threshold
 * and the bytes in flight, from the `tcp.metrics` samples the sender traced. Slow start shows as cwnd
 * climbing steeply, congestion avoidance as a gentle slope, a loss as a drop with ssthresh set to about
 * half the flight size.
 */
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

export function renderCongestionSvg(conversation: Conversation, selection: SenderSelection): string {
  const samples = metricsOf(conversation, selection);
  const origin = conversation.timeOrigin;
  const t = (m: MetricsSample) => m.time - origin;
  // Keep ssthresh in view only where it is a real threshold near the window; the initial "infinite"
  // value would flatten everything else.
  const cwndMax = Math.max(0, ...samples.map((m) => Math.max(m.cwnd, m.bytesInFlight)));
  const ssthreshShown = (m: MetricsSample) =>
    Number.isFinite(m.ssthresh) && m.ssthresh < UNSET_SSTHRESH && m.ssthresh <= Math.max(4 * cwndMax, 1)
      ? m.ssthresh
      : undefined;
  return renderLineChart({
    title: selection.title ?? `Congestion window: ${selection.host}`,
    width: selection.width,
    height: selection.height,
    xLabel: 'time (ms)',
    yLabel: 'bytes',
    yFormat: byteTickText,
    yBytes: true,
    className: 'congestion',
    emptyText: 'No congestion-control samples were traced.',
    series: [
      { name: 'cwnd', color: '#0969da', points: samples.map((m) => [t(m), m.cwnd]), holdToEnd: false },
      {
        name: 'ssthresh',
        color: '#cf222e',
        dashed: true,
        points: samples.map((m) => [t(m), ssthreshShown(m)]),
      },
      { name: 'bytes in flight', color: '#8c959f', points: samples.map((m) => [t(m), m.bytesInFlight]) },
    ],
  });
}
