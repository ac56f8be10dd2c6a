/**
 * The conversation as the interactive report carries it: columns of numbers packed as variable-length
 * integers (deltas, zigzag) and written in base64, so a 50 MiB transfer's 57,000 packets take about a
 * megabyte instead of the eighteen an HTML row or an SVG element per packet would.
 *
 * Every packet keeps its exact words: the text of a row (label and remarks) is split into a template
 * (the words, shared by thousands of packets: 'PSH,ACK seq=# ack=# win=# len=#') and its numbers, each
 * number stored as the difference from the same number in the previous packet of that template — a bulk
 * transfer's sequence numbers then cost two bytes. The browser (report-app.ts) puts the text back
 * together, character for character what packetLabel and packetRemarks say.
 *
 * Times are whole microseconds from the conversation's origin (captures carry microseconds; simulated
 * clocks are coarser).
 */
import { TCP_FIN, TCP_SYN } from '../wire/tcp.js';
import type { Conversation, PacketRecord } from './conversation.js';
import {
  dropText,
  type PacketKind,
  type PacketLabelOptions,
  packetKind,
  packetLabel,
  packetRemarks,
  timeDecimals,
} from './packet-label.js';
import { timeSequencePackets } from './svg/time-sequence-svg.js';

/** Separates a template's label from its remarks, and the remarks from each other. */
export const REMARK_SEPARATOR = '\u0002';
/** Stands for one number in a template. */
export const NUMBER_PLACEHOLDER = '\u0001';

export const PACKET_KINDS: readonly PacketKind[] = [
  'syn',
  'fin',
  'rst',
  'data',
  'ack',
  'udp',
  'icmp',
  'arp',
  'other',
];

/** Bits of a packet's `marks` column. */
export const MARK_LOST = 1;
export const MARK_RETRANSMISSION = 2;
/** No arrival time: lost, still in flight, or (for a capture) the one time is the send time. */
export const MARK_NO_ARRIVAL = 4;

/** Bits of a time-sequence segment's `marks` column. */
export const SEGMENT_RETRANSMISSION = 1;
export const SEGMENT_LOST = 2;

/** One direction of a TCP connection for the time-sequence graph; every column is packed (see above). */
export interface TimeSequenceData {
  readonly flowId: number;
  readonly fromA: boolean;
  readonly title: string;
  /** Segments with data, SYN or FIN, at their send time: time, relative seq, sequence space, marks. */
  readonly segments: number;
  readonly segmentTime: string;
  readonly segmentSeq: string;
  readonly segmentSpan: string;
  readonly segmentMarks: string;
  /** ACKs at their arrival at the sender: time, relative ack, ack + window (the window's right edge). */
  readonly acks: number;
  readonly ackTime: string;
  readonly ackValue: string;
  readonly ackEdge: string;
  /** SACK blocks, at the arrival of the ACK that carried them: time, left edge, right edge. */
  readonly sacks: number;
  readonly sackTime: string;
  readonly sackLeft: string;
  readonly sackRight: string;
  /** The connection's span, shared with its other charts (µs from the origin). */
  readonly range: readonly [number, number];
}

export interface ReportData {
  readonly count: number;
  /** Lifelines, left to right. */
  readonly hosts: readonly string[];
  /** Every name a packet is from or to (hosts first). */
  readonly names: readonly string[];
  /** A simulation knows send and arrival times; a capture one time per packet. */
  readonly link: boolean;
  readonly decimals: number;
  readonly protocols: readonly string[];
  readonly templates: readonly string[];
  readonly numbering: string;
  /** Packet columns, one value per packet. */
  readonly id: string;
  readonly sent: string;
  readonly flight: string;
  readonly from: string;
  readonly to: string;
  readonly protocol: string;
  readonly kind: string;
  readonly marks: string;
  readonly frameLength: string;
  readonly template: string;
  /** The numbers of every packet's template, one after the other. */
  readonly numbers: string;
  readonly timeSequences: readonly TimeSequenceData[];
}

/** Unsigned LEB128 bytes, growing as needed. */
class VarintWriter {
  private bytes = new Uint8Array(1024);
  private length = 0;

  /** A non-negative integer below 2^53. */
  unsigned(value: number): void {
    if (this.length + 8 > this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    let v = value;
    while (v >= 0x80) {
      this.bytes[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.bytes[this.length++] = v;
  }

  /** Any integer of magnitude below 2^52: zigzag, so small negative deltas stay small. */
  signed(value: number): void {
    this.unsigned(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  base64(): string {
    return base64(this.bytes.subarray(0, this.length));
  }
}

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** RFC 4648 §4 base64 (the core has no Buffer; btoa wants a binary string). */
export function base64(bytes: Uint8Array): string {
  const out: string[] = [];
  let chunk = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i]!;
    const b = i + 1 < bytes.length ? bytes[i + 1]! : 0;
    const c = i + 2 < bytes.length ? bytes[i + 2]! : 0;
    chunk += BASE64_ALPHABET[a >> 2]!;
    chunk += BASE64_ALPHABET[((a & 3) << 4) | (b >> 4)]!;
    chunk += i + 1 < bytes.length ? BASE64_ALPHABET[((b & 15) << 2) | (c >> 6)]! : '=';
    chunk += i + 2 < bytes.length ? BASE64_ALPHABET[c & 63]! : '=';
    if (chunk.length >= 8192) {
      out.push(chunk);
      chunk = '';
    }
  }
  out.push(chunk);
  return out.join('');
}

/** A column of integers stored as differences from the previous value. */
class DeltaColumn {
  private readonly writer = new VarintWriter();
  private previous = 0;
  count = 0;

  push(value: number): void {
    this.writer.signed(value - this.previous);
    this.previous = value;
    this.count++;
  }

  base64(): string {
    return this.writer.base64();
  }
}

/** A column of small non-negative integers (indexes, bit sets). */
class PlainColumn {
  private readonly writer = new VarintWriter();

  push(value: number): void {
    this.writer.unsigned(value);
  }

  base64(): string {
    return this.writer.base64();
  }
}

/** Decimal numbers a template may stand for: no sign, no leading zero, exact as a double. */
const NUMBER_RUN = /\d+/g;
const MAX_DIGITS = 15;

/** The words and numbers of one row's text. */
export function splitTemplate(text: string): { template: string; numbers: number[] } {
  const numbers: number[] = [];
  const template = text.replace(NUMBER_RUN, (digits) => {
    if (digits.length > MAX_DIGITS || (digits.length > 1 && digits[0] === '0')) return digits;
    numbers.push(Number(digits));
    return NUMBER_PLACEHOLDER;
  });
  return { template, numbers };
}

/** What a packet's row says: its label, then each remark (its loss first, as the table always did). */
export function rowText(p: PacketRecord, labelOptions: PacketLabelOptions): string {
  const remarks = packetRemarks(p).map((r) => r.text);
  if (p.dropped) remarks.unshift(dropText(p.dropped));
  return [packetLabel(p, labelOptions), ...remarks].join(REMARK_SEPARATOR);
}

const micro = (ms: number) => Math.round(ms * 1000);

export function encodeReportData(
  conversation: Conversation,
  options: PacketLabelOptions & { readonly hosts?: readonly string[]; readonly numbering?: string },
): ReportData {
  const origin = conversation.timeOrigin;
  const hosts = options.hosts ?? conversation.hosts;
  const names = [...hosts];
  const nameIndex = new Map(names.map((n, i) => [n, i]));
  const indexOf = (name: string) => {
    let i = nameIndex.get(name);
    if (i === undefined) {
      i = names.length;
      names.push(name);
      nameIndex.set(name, i);
    }
    return i;
  };
  const protocols: string[] = [];
  const templates: string[] = [];
  const templateIndex = new Map<string, number>();
  // The previous numbers of each template, so every number is stored as its change.
  const previousNumbers: number[][] = [];
  const columns = {
    id: new DeltaColumn(),
    sent: new DeltaColumn(),
    flight: new DeltaColumn(),
    from: new PlainColumn(),
    to: new PlainColumn(),
    protocol: new PlainColumn(),
    kind: new PlainColumn(),
    marks: new PlainColumn(),
    frameLength: new DeltaColumn(),
    template: new PlainColumn(),
    numbers: new VarintWriter(),
  };
  for (const p of conversation.packets) {
    columns.id.push(p.id);
    columns.sent.push(micro(p.sentAt - origin));
    let marks = 0;
    if (p.dropped) marks |= MARK_LOST;
    if (p.tcp?.retransmission) marks |= MARK_RETRANSMISSION;
    if (p.arrivedAt === undefined) marks |= MARK_NO_ARRIVAL;
    columns.flight.push(
      p.arrivedAt === undefined ? 0 : micro(p.arrivedAt - origin) - micro(p.sentAt - origin),
    );
    columns.marks.push(marks);
    columns.from.push(indexOf(p.from));
    columns.to.push(indexOf(p.to));
    const protocol = p.protocol.toUpperCase();
    let pi = protocols.indexOf(protocol);
    if (pi < 0) pi = protocols.push(protocol) - 1;
    columns.protocol.push(pi);
    columns.kind.push(PACKET_KINDS.indexOf(packetKind(p)));
    columns.frameLength.push(p.frameLength);
    const { template, numbers } = splitTemplate(rowText(p, options));
    let ti = templateIndex.get(template);
    if (ti === undefined) {
      ti = templates.push(template) - 1;
      templateIndex.set(template, ti);
      previousNumbers.push(numbers.map(() => 0));
    }
    columns.template.push(ti);
    const previous = previousNumbers[ti]!;
    numbers.forEach((n, i) => {
      columns.numbers.signed(n - previous[i]!);
      previous[i] = n;
    });
  }
  return {
    count: conversation.packets.length,
    hosts,
    names,
    link: conversation.vantage === 'link',
    decimals: timeDecimals(
      conversation.packets.flatMap((p) => [p.sentAt, p.arrivedAt ?? p.sentAt]),
      origin,
    ),
    protocols,
    templates,
    numbering: options.numbering ?? '',
    id: columns.id.base64(),
    sent: columns.sent.base64(),
    flight: columns.flight.base64(),
    from: columns.from.base64(),
    to: columns.to.base64(),
    protocol: columns.protocol.base64(),
    kind: columns.kind.base64(),
    marks: columns.marks.base64(),
    frameLength: columns.frameLength.base64(),
    template: columns.template.base64(),
    numbers: columns.numbers.base64(),
    timeSequences: timeSequences(conversation),
  };
}

/** Each direction of each connection that carried data (the connections with charts). */
function timeSequences(conversation: Conversation, maxFlows = 20): TimeSequenceData[] {
  const out: TimeSequenceData[] = [];
  for (const flow of conversation.flows.slice(0, maxFlows)) {
    for (const fromA of [true, false]) {
      if ((fromA ? flow.bytesAtoB : flow.bytesBtoA) > 0) out.push(timeSequence(conversation, flow.id, fromA));
    }
  }
  return out;
}

/**
 * The time-sequence graph's data (Stevens's picture, as tcptrace and Wireshark draw it): segments at the
 * sender's transmission time, ACKs and SACK blocks at their arrival at the sender — what a capture taken
 * at the sender shows.
 */
export function timeSequence(conversation: Conversation, flowId: number, fromA: boolean): TimeSequenceData {
  const flow = conversation.flows[flowId]!;
  const sender = fromA ? flow.a : flow.b;
  const receiver = fromA ? flow.b : flow.a;
  const origin = conversation.timeOrigin;
  const seg = {
    time: new DeltaColumn(),
    seq: new DeltaColumn(),
    span: new DeltaColumn(),
    marks: new PlainColumn(),
  };
  const ack = { time: new DeltaColumn(), value: new DeltaColumn(), edge: new DeltaColumn() };
  const sack = { time: new DeltaColumn(), left: new DeltaColumn(), right: new DeltaColumn() };
  const { segments, acks } = timeSequencePackets(conversation, flowId, fromA);
  for (const p of segments) {
    const s = p.tcp!;
    seg.time.push(micro(p.sentAt - origin));
    seg.seq.push(s.relativeSeq);
    seg.span.push(s.length + (s.flagBits & TCP_SYN ? 1 : 0) + (s.flagBits & TCP_FIN ? 1 : 0));
    seg.marks.push((s.retransmission ? SEGMENT_RETRANSMISSION : 0) | (p.dropped ? SEGMENT_LOST : 0));
  }
  for (const p of acks) {
    const s = p.tcp!;
    const time = micro(p.arrivedAt! - origin);
    const value = s.relativeAck ?? 0;
    ack.time.push(time);
    ack.value.push(value);
    ack.edge.push(value + s.effectiveWindow);
    for (const b of s.sack ?? []) {
      sack.time.push(time);
      sack.left.push(b.left);
      sack.right.push(b.right);
    }
  }
  return {
    flowId,
    fromA,
    title: `Time-sequence: ${sender.host} ${sender.address}:${sender.port} → ${receiver.host} ${receiver.address}:${receiver.port}`,
    segments: seg.time.count,
    segmentTime: seg.time.base64(),
    segmentSeq: seg.seq.base64(),
    segmentSpan: seg.span.base64(),
    segmentMarks: seg.marks.base64(),
    acks: ack.time.count,
    ackTime: ack.time.base64(),
    ackValue: ack.value.base64(),
    ackEdge: ack.edge.base64(),
    sacks: sack.time.count,
    sackTime: sack.time.base64(),
    sackLeft: sack.left.base64(),
    sackRight: sack.right.base64(),
    range: [micro(flow.firstTime - origin), micro(flow.lastTime - origin)],
  };
}
