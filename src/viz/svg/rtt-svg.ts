/**
 * Round-trip time over time for one sender: the smoothed RTT and the retransmission timeout the sender
 * computed (RFC 6298 §2), and the individual RTT samples measured from the packets (segment sent, first
 * ACK covering it received, retransmitted segments skipped by Karn's rule). A capture has no traced
 * metrics, so its chart shows the measured samples alone.
 */
import type { Conversation } from '../conversation.js';
import { metricsOf, type SenderSelection } from './congestion-svg.js';
import { renderLineChart } from './line-chart.js';

export function renderRttSvg(conversation: Conversation, selection: SenderSelection): string {
  const origin = conversation.timeOrigin;
  const samples = metricsOf(conversation, selection);
  // Before the first measurement stacks report srtt as 0 (RFC 6298 §2.1: no estimate yet).
  const measured = samples.filter((m) => m.srtt > 0);
  const rtts = conversation.rttSamples.filter(
    (r) => r.host === selection.host && (selection.flowId === undefined || r.flowId === selection.flowId),
  );
  return renderLineChart({
    title: selection.title ?? `Round-trip time: ${selection.host}`,
    width: selection.width,
    height: selection.height,
    xLabel: 'time (ms)',
    yLabel: 'ms',
    className: 'rtt',
    emptyText: 'No round-trip time was measured.',
    ...(selection.timeRange ? { xRange: selection.timeRange } : {}),
    series: [
      { name: 'RTO', color: '#cf222e', dashed: true, points: samples.map((m) => [m.time - origin, m.rto]) },
      { name: 'smoothed RTT', color: '#0969da', points: measured.map((m) => [m.time - origin, m.srtt]) },
      {
        name: 'RTT sample',
        color: '#1a7f37',
        style: 'dots',
        points: rtts.map((r) => [r.time - origin, r.rtt]),
      },
    ],
  });
}
