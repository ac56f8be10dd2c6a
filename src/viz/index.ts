/**
 * Pictures of conversations: build a `Conversation` from a simulation trace or a capture, then draw it as
 * a terminal ladder diagram, SVG charts, or one self-contained HTML report. Browser-safe: no Node APIs.
 */
export type {
  ArpSummary,
  Conversation,
  FlowEndpoint,
  IcmpSummary,
  Ipv4Summary,
  LinkDropReason,
  MetricsSample,
  NoteRecord,
  PacketProtocol,
  PacketRecord,
  RetransmissionCause,
  RetransmitRecord,
  RttSample,
  StackDrop,
  StateChange,
  TcpFlow,
  TcpSummary,
  TimeWindow,
  UdpSummary,
} from './conversation.js';
export { sliceConversation, statesAt, TCP_STATE_NAMES } from './conversation.js';
export {
  CAUSE_NAMES,
  type ConversationCounts,
  countConversation,
  countPackets,
  countsText,
  retransmissionText,
} from './conversation-counts.js';
export {
  type CapturedFrame,
  type ConversationFromPcapOptions,
  conversationFromPcap,
} from './conversation-from-pcap.js';
export {
  ConversationBuilder,
  type ConversationFromTraceOptions,
  conversationFromTrace,
  hostOfDevice,
} from './conversation-from-trace.js';
export {
  type DecodedFrame,
  decodeEthernetFrame,
  decodeLinkFrame,
  LINKTYPE_IPV4,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_NULL,
} from './decode-frame.js';
export {
  type HtmlReportOptions,
  type ReportChapter,
  type ReportCounters,
  renderHtmlReport,
} from './html-report.js';
export { type LadderTextOptions, renderLadderText } from './ladder-text.js';
export { describePacket } from './packet-details.js';
export {
  formatTime,
  type PacketLabelOptions,
  type PacketRemark,
  packetLabel,
  packetRemarks,
  tcpLabel,
} from './packet-label.js';
export { renderCongestionSvg, type SenderSelection } from './svg/congestion-svg.js';
export { type LadderSvgOptions, renderLadderSvg } from './svg/ladder-svg.js';
export { renderRttSvg } from './svg/rtt-svg.js';
export { renderStateTimelineSvg, type StateTimelineOptions } from './svg/state-timeline-svg.js';
export { escapeXml } from './svg/svg-markup.js';
export { mainDirection, renderTimeSequenceSvg, type TimeSequenceOptions } from './svg/time-sequence-svg.js';
export { tcpFlagNames } from './tcp-flow-analysis.js';
