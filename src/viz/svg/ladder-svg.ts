/**
 * The ladder diagram as SVG: a vertical timeline per host, time flowing down, and a slanted arrow per
 * packet from its send time on the sender's line to its arrival time on the receiver's, so delay and
 * packets in flight are visible. Lost packets stop half way in an X; states are tagged on the timelines in
 * their colors; hovering an arrow shows everything known about the packet.
 *
 * Time runs down at a compressed scale: every send, arrival and state change gets its own row, gaps grow
 * with elapsed time but are capped, so a 60-second TIME-WAIT does not push the rest off the page. The
 * time of each row is written in the left margin.
 */
import type { Conversation, PacketRecord } from '../conversation.js';
import { type LadderSelectionOptions, packetColumns, selectLadder } from '../ladder-selection.js';
import { describePacket } from '../packet-details.js';
import {
  dropText,
  formatTime,
  type PacketLabelOptions,
  packetKind,
  packetLabel,
  packetRemarks,
  timeDecimals,
} from '../packet-label.js';
import { DROP_COLOR, RETRANSMISSION_COLOR, STATE_COLOR, SVG_PACKET_COLOR } from '../style-palette.js';
import {
  element,
  escapeXml,
  line,
  MONOSPACE,
  monospaceWidth,
  num,
  svgDocument,
  textElement,
  tooltip,
} from './svg-markup.js';

export interface LadderSvgOptions extends PacketLabelOptions, LadderSelectionOptions {
  /** Draw at most this many packets (default 600); a line at the bottom says how many were left out. */
  readonly maxPackets?: number;
}

const LABEL_FONT = 11;
const HEADER = 64;
const TIME_MARGIN = 64;
const ROW = 16;
const MAX_GAP = 90;
const TYPICAL_FLIGHT = 40;
/** A white outline under label text keeps it legible where arrows cross it. */
const HALO = {
  stroke: '#ffffff',
  'stroke-width': 3,
  'stroke-linejoin': 'round',
  'paint-order': 'stroke',
} as const;

type Moment =
  | { kind: 'send' | 'arrive'; time: number; order: number; packet: PacketRecord }
  | { kind: 'state'; time: number; order: number; host: number; text: string }
  | { kind: 'note'; time: number; order: number; host: number; text: string };

export function renderLadderSvg(conversation: Conversation, options: LadderSvgOptions = {}): string {
  const selection = selectLadder(conversation, options);
  const { view, hosts, hostIndex } = selection;
  const maxPackets = options.maxPackets ?? 600;

  let packets = view.packets.filter((p) => packetColumns(selection, p) !== undefined);
  const omitted = Math.max(0, packets.length - maxPackets);
  let until = Number.POSITIVE_INFINITY;
  if (omitted > 0) {
    packets = packets.slice(0, maxPackets);
    until = packets[packets.length - 1]!.sentAt;
  }

  const moments: Moment[] = [];
  for (const p of packets) {
    moments.push({ kind: 'send', time: p.sentAt, order: p.order, packet: p });
    if (p.arrivedAt !== undefined) {
      moments.push({ kind: 'arrive', time: p.arrivedAt, order: p.arrivalOrder ?? p.order, packet: p });
    }
  }
  for (const s of view.states) {
    const host = hostIndex.get(s.host);
    if (host !== undefined && s.time <= until)
      moments.push({ kind: 'state', time: s.time, order: s.order, host, text: s.to });
  }
  if (selection.notes) {
    for (const n of view.notes) {
      const host = hostIndex.get(n.host);
      if (host !== undefined && n.time <= until)
        moments.push({ kind: 'note', time: n.time, order: n.order, host, text: n.text });
    }
  }
  // Stable: a capture's arrival shares its send's time and order and stays after it.
  moments.sort((a, b) => a.time - b.time || a.order - b.order);

  const origin = conversation.timeOrigin;
  const decimals = timeDecimals(
    moments.map((m) => m.time),
    origin,
  );
  const scale = pixelsPerMs(packets, moments);

  // Vertical positions: each labelled moment gets a row of its own; elapsed time adds capped space.
  const sendY = new Map<number, number>();
  const arriveY = new Map<number, number>();
  const momentY: number[] = [];
  let y = HEADER + 16;
  let lastLabelledY = Number.NEGATIVE_INFINITY;
  let previousTime: number | undefined;
  for (const m of moments) {
    if (previousTime !== undefined && m.time > previousTime) {
      y += Math.min(MAX_GAP, Math.max(6, (m.time - previousTime) * scale));
    }
    if (m.kind !== 'arrive') {
      y = Math.max(y, lastLabelledY + ROW);
      lastLabelledY = y;
    }
    previousTime = m.time;
    momentY.push(y);
    if (m.kind === 'send') sendY.set(m.packet.id, y);
    else if (m.kind === 'arrive') arriveY.set(m.packet.id, y);
  }
  const bottom = y + 36 + (omitted ? 20 : 0);

  // Horizontal positions: room for the longest label between neighbouring timelines, for state tags
  // left of the first timeline and right of the last.
  const labels = new Map<number, { label: string; remarks: string }>();
  let longest = 0;
  for (const p of packets) {
    const label = packetLabel(p, options);
    const remarks = packetRemarks(p)
      .map((r) => `[${r.text}]`)
      .join(' ');
    labels.set(p.id, { label, remarks });
    longest = Math.max(longest, monospaceWidth(remarks ? `${label} ${remarks}` : label, LABEL_FONT));
  }
  const stateWidth = (text: string) => monospaceWidth(text, LABEL_FONT) + 12;
  let leftRoom = 90;
  let rightRoom = 90;
  for (const m of moments) {
    if (m.kind === 'state' && m.host === 0) leftRoom = Math.max(leftRoom, stateWidth(m.text) + 16);
    if (m.kind === 'state' && m.host === hosts.length - 1)
      rightRoom = Math.max(rightRoom, stateWidth(m.text) + 16);
    if (m.kind === 'note' && m.host === hosts.length - 1 && hosts.length === 1) {
      rightRoom = Math.max(rightRoom, monospaceWidth(m.text, LABEL_FONT) + 16);
    }
  }
  const spacing = Math.min(900, Math.max(280, longest + 48));
  const xs = hosts.map((_, i) => TIME_MARGIN + leftRoom + i * spacing);
  const width = xs[xs.length - 1]! + rightRoom;

  const parts: string[] = [];
  parts.push(element('rect', { x: 0, y: 0, width, height: bottom, fill: '#ffffff' }));

  // Hosts and their timelines.
  hosts.forEach((host, i) => {
    const x = xs[i]!;
    parts.push(
      textElement(x, 22, host, {
        'text-anchor': 'middle',
        'font-size': 14,
        'font-weight': 600,
        fill: '#24292f',
      }),
    );
    const addresses = (conversation.addresses[host] ?? []).filter((a) => a !== host).join(', ');
    if (addresses)
      parts.push(
        textElement(x, 40, addresses, { 'text-anchor': 'middle', 'font-size': 11, fill: '#57606a' }),
      );
    parts.push(line(x, HEADER - 12, x, bottom - 20, { stroke: '#8c959f', 'stroke-width': 2 }));
  });
  parts.push(
    textElement(TIME_MARGIN - 8, 40, 'ms', { 'text-anchor': 'end', 'font-size': 11, fill: '#57606a' }),
  );

  // Time of each row, when it changed and there is room.
  let lastTimeY = Number.NEGATIVE_INFINITY;
  let lastTimeText = '';
  moments.forEach((m, i) => {
    const text = formatTime(m.time, origin, decimals);
    const my = momentY[i]!;
    if (text === lastTimeText || my - lastTimeY < 13) return;
    parts.push(
      textElement(TIME_MARGIN - 8, my + 4, text, {
        'text-anchor': 'end',
        'font-size': 11,
        fill: '#57606a',
        'font-family': MONOSPACE,
      }),
    );
    parts.push(line(TIME_MARGIN - 4, my, TIME_MARGIN, my, { stroke: '#8c959f' }));
    lastTimeY = my;
    lastTimeText = text;
  });

  // Arrows first, then all labels above them, so no later arrow is drawn across an earlier label.
  const drawn = packets.map((p) =>
    packetArrow(
      p,
      xs[hostIndex.get(p.from)!]!,
      xs[hostIndex.get(p.to)!]!,
      sendY.get(p.id)!,
      arriveY.get(p.id),
      labels.get(p.id)!,
      conversation,
      options,
    ),
  );
  parts.push(
    element(
      'g',
      { class: 'arrows' },
      drawn.map((d) => d.shaft),
    ),
  );
  parts.push(
    element(
      'g',
      { class: 'labels' },
      drawn.map((d) => d.label),
    ),
  );
  parts.push(
    element(
      'g',
      { class: 'marks' },
      drawn.map((d) => d.mark),
    ),
  );

  moments.forEach((m, i) => {
    const my = momentY[i]!;
    if (m.kind === 'state') parts.push(stateTag(m.text, xs[m.host]!, my, m.host === 0 && hosts.length > 1));
    else if (m.kind === 'note') {
      const last = m.host === hosts.length - 1 && hosts.length > 1;
      parts.push(
        textElement(last ? xs[m.host]! - 8 : xs[m.host]! + 8, my - 4, m.text, {
          'text-anchor': last ? 'end' : 'start',
          'font-size': LABEL_FONT,
          'font-style': 'italic',
          fill: '#57606a',
          class: 'note',
          ...HALO,
        }),
      );
    }
  });

  if (omitted) {
    parts.push(
      textElement(TIME_MARGIN, bottom - 8, `… ${omitted} more packet${omitted === 1 ? '' : 's'} not drawn`, {
        'font-size': 12,
        fill: '#57606a',
      }),
    );
  }
  return svgDocument(width, bottom, parts, { class: 'ladder', role: 'img', 'aria-label': 'Ladder diagram' });
}

/** Pixels per millisecond that make a typical one-way delay about TYPICAL_FLIGHT pixels tall. */
function pixelsPerMs(packets: readonly PacketRecord[], moments: readonly Moment[]): number {
  const delays = packets
    .filter((p) => p.arrivedAt !== undefined && p.arrivedAt > p.sentAt)
    .map((p) => p.arrivedAt! - p.sentAt)
    .sort((a, b) => a - b);
  if (delays.length) return TYPICAL_FLIGHT / delays[Math.floor(delays.length / 2)]!;
  const gaps: number[] = [];
  for (let i = 1; i < moments.length; i++) {
    const dt = moments[i]!.time - moments[i - 1]!.time;
    if (dt > 0) gaps.push(dt);
  }
  gaps.sort((a, b) => a - b);
  return gaps.length ? ROW / gaps[Math.floor(gaps.length / 2)]! : 1;
}

interface DrawnPacket {
  /** The line (drawn first, under everything). */
  readonly shaft: string;
  /** The label with its backing. */
  readonly label: string;
  /** Arrowhead, or the X of a loss and its words (drawn last, so no label hides them). */
  readonly mark: string;
}

function packetArrow(
  p: PacketRecord,
  x1: number,
  x2: number,
  y1: number,
  y2: number | undefined,
  text: { label: string; remarks: string },
  conversation: Conversation,
  options: PacketLabelOptions,
): DrawnPacket {
  const kind = packetKind(p);
  const resent = p.tcp?.retransmission !== undefined;
  const color = p.dropped ? DROP_COLOR : resent ? RETRANSMISSION_COLOR : SVG_PACKET_COLOR[kind];
  const labelColor = resent ? '#9a6700' : SVG_PACKET_COLOR[kind];
  const rightward = x2 > x1;
  const details = tooltip(describePacket(p, conversation, options));
  const shaft: string[] = [details];
  const mark: string[] = [];
  const stroke = { stroke: color, 'stroke-width': kind === 'data' ? 2 : 1.5 };

  if (p.dropped || y2 === undefined) {
    // Lost (or still in flight when the record ends): the arrow stops two thirds of the way, past the
    // labels that crowd the sender's side.
    const xm = x1 + (x2 - x1) * 0.66;
    const ym = y1 + TYPICAL_FLIGHT / 2;
    shaft.push(line(x1, y1, xm, ym, { ...stroke, 'stroke-dasharray': p.dropped ? undefined : '5 4' }));
    if (p.dropped) {
      mark.push(line(xm - 6, ym - 6, xm + 6, ym + 6, { stroke: DROP_COLOR, 'stroke-width': 2.5 }));
      mark.push(line(xm - 6, ym + 6, xm + 6, ym - 6, { stroke: DROP_COLOR, 'stroke-width': 2.5 }));
    }
    mark.push(
      textElement(rightward ? xm + 10 : xm - 10, ym + 4, p.dropped ? dropText(p.dropped) : 'in flight', {
        'text-anchor': rightward ? 'start' : 'end',
        'font-size': LABEL_FONT,
        'font-weight': 600,
        fill: p.dropped ? DROP_COLOR : '#57606a',
        ...HALO,
      }),
    );
  } else {
    // The shaft stops at the arrowhead's base so the tip lands exactly on the receiver's timeline.
    const dx = x2 - x1;
    const dy = y2 - y1;
    const length = Math.hypot(dx, dy) || 1;
    const ux = dx / length;
    const uy = dy / length;
    const head = 9;
    const bx = x2 - ux * head;
    const by = y2 - uy * head;
    shaft.push(line(x1, y1, bx, by, stroke));
    const px = -uy * 4;
    const py = ux * 4;
    mark.push(
      element('polygon', {
        points: `${num(x2)},${num(y2)} ${num(bx + px)},${num(by + py)} ${num(bx - px)},${num(by - py)}`,
        fill: color,
      }),
    );
  }

  // A light backing keeps the label readable where other arrows cross it (glyph halos alone leave the
  // gaps between words open).
  const labelWidth = monospaceWidth(text.remarks ? `${text.label} ${text.remarks}` : text.label, LABEL_FONT);
  const remarks = text.remarks
    ? element('tspan', { dx: LABEL_FONT * 0.6, fill: '#bc4c00', 'font-weight': 600 }, escapeXml(text.remarks))
    : '';
  const label = [
    details,
    element('rect', {
      x: rightward ? x1 + 6 : x1 - 10 - labelWidth,
      y: y1 - 14,
      width: labelWidth + 4,
      height: 13,
      fill: '#ffffff',
      'fill-opacity': 0.85,
    }),
    element(
      'text',
      {
        x: rightward ? x1 + 8 : x1 - 8,
        y: y1 - 4,
        'text-anchor': rightward ? 'start' : 'end',
        'font-family': MONOSPACE,
        'font-size': LABEL_FONT,
        fill: labelColor,
      },
      escapeXml(text.label) + remarks,
    ),
  ];
  const classes = ['packet', `packet-${kind}`];
  if (p.dropped) classes.push('packet-lost');
  if (resent) classes.push('packet-retransmission');
  const id = p.id;
  return {
    shaft: element('g', { class: classes.join(' '), 'data-packet': id }, shaft),
    label: element('g', { class: 'packet-label', 'data-packet': id }, label),
    mark: element('g', { class: 'packet-mark', 'data-packet': id }, mark),
  };
}

function stateTag(state: string, x: number, y: number, left: boolean): string {
  const width = monospaceWidth(state, LABEL_FONT) + 10;
  const rx = left ? x - 8 - width : x + 8;
  const fill = STATE_COLOR[state as keyof typeof STATE_COLOR] ?? '#eaeef2';
  return element('g', { class: 'state' }, [
    element('rect', {
      x: rx,
      y: y - 9,
      width,
      height: 16,
      rx: 4,
      fill,
      stroke: '#57606a',
      'stroke-width': 0.5,
    }),
    textElement(rx + 5, y + 3, state, {
      'font-family': MONOSPACE,
      'font-size': LABEL_FONT,
      'font-weight': 600,
      fill: '#24292f',
    }),
    element('circle', { cx: x, cy: y, r: 3, fill: '#24292f' }),
  ]);
}
