/**
 * Everything known about one packet, as a few lines of text: the tooltip of an arrow and the detail of a
 * table row.
 */
import type { Conversation, PacketRecord } from './conversation.js';
import { dropText, formatTime, type PacketLabelOptions, packetLabel, packetRemarks } from './packet-label.js';

export function describePacket(
  p: PacketRecord,
  conversation: Conversation,
  options: PacketLabelOptions = {},
): string {
  const origin = conversation.timeOrigin;
  const t = (time: number) => `${formatTime(time, origin, 3).replace(/\.?0+$/, '')} ms`;
  const lines: string[] = [];
  lines.push(`#${p.id} ${p.from} → ${p.to}${p.link ? ` on ${p.link}` : ''}, ${p.frameLength} bytes`);
  if (p.dropped) lines.push(`sent ${t(p.sentAt)}, ${dropText(p.dropped)}`);
  else if (p.arrivedAt === undefined) lines.push(`sent ${t(p.sentAt)}, still in flight`);
  else if (conversation.vantage === 'capture') lines.push(`seen ${t(p.sentAt)}`);
  else {
    const flight = Math.round((p.arrivedAt - p.sentAt) * 1000) / 1000;
    lines.push(`sent ${t(p.sentAt)}, arrived ${t(p.arrivedAt)} (${flight} ms in flight)`);
  }
  lines.push(packetLabel(p, { ...options, tcpOptions: 'all' }));
  const s = p.tcp;
  if (s) {
    const relative = options.relative ?? true;
    lines.push(
      relative
        ? `absolute seq=${s.seq}${s.ack !== undefined ? ` ack=${s.ack}` : ''}, ports ${s.srcPort} > ${s.dstPort}`
        : `relative seq=${s.relativeSeq}${s.relativeAck !== undefined ? ` ack=${s.relativeAck}` : ''}, ports ${s.srcPort} > ${s.dstPort}`,
    );
    if (s.effectiveWindow !== s.window)
      lines.push(`window field ${s.window}, scaled to ${s.effectiveWindow} bytes`);
    if (s.options) lines.push(`options: ${s.options}`);
  }
  if (p.ipv6) {
    const ip = p.ipv6;
    const fragment = ip.fragment
      ? ` frag id=${ip.fragment.identification} off=${ip.fragment.offset}${ip.fragment.more ? ' M' : ''}`
      : '';
    lines.push(`IPv6 ${ip.src} > ${ip.dst} hlim=${ip.hopLimit} plen=${ip.payloadLength}${fragment}`);
  }
  if (p.ipv4) {
    const ip = p.ipv4;
    lines.push(
      `IPv4 ${ip.src} > ${ip.dst} id=${ip.id} ttl=${ip.ttl} len=${ip.totalLength}${ip.dontFragment ? ' DF' : ''}`,
    );
  }
  for (const r of packetRemarks(p)) lines.push(r.text);
  const preview = s?.preview ?? p.udp?.preview;
  if (preview) lines.push(`data: ${preview}`);
  return lines.join('\n');
}
