/**
 * The ladder diagram as SVG: a vertical timeline per host, time flowing down, and a slanted arrow from
 * each packet's send time on the sender's line to its arrival time on the receiver's, so the slope of an
 * arrow is the delay and the arrows in flight at one moment are those crossing a horizontal line.
 *
 * Time is linear: one scale for the whole diagram, so 10 ms is the same height everywhere. Long quiet
 * gaps (nothing in flight, e.g. a 60 s TIME-WAIT) are cut out and drawn as a visible break (≈) that says
 * how much time it hides; within each unbroken span the scale holds exactly.
 *
 * Segments a host sent at one instant to the same peer, with the same fate, are one burst and drawn as
 * one arrow ("seq=1:3073 len=3×1024"). Labels lie along their arrows, on the side and at the end where
 * they cover nothing: no arrow, no other label, no timeline; each label is tried at several places and
 * the first free one is taken. States and notes sit in the margins outside the outer timelines, where no
 * arrow runs. A legend under the diagram names every mark.
 */
import type { Conversation, PacketRecord } from '../conversation.js';
import { type LadderSelectionOptions, packetColumns, selectLadder } from '../ladder-selection.js';
import { describePacket } from '../packet-details.js';
import {
  dropText,
  formatTime,
  numberingText,
  type PacketLabelOptions,
  packetKind,
  packetLabel,
  packetRemarks,
  timeDecimals,
} from '../packet-label.js';
import { DROP_COLOR, RETRANSMISSION_COLOR, STATE_COLOR, SVG_PACKET_COLOR } from '../style-palette.js';
import { niceTicks } from './chart-axes.js';
import {
  calloutBaselines,
  type Point,
  type Quad,
  quadsOverlap,
  rectQuad,
  type Segment,
  segmentHitsQuad,
  textQuad,
} from './label-geometry.js';
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
  /** Width to fill, in pixels (default 1200); wider when labels need it. */
  readonly width?: number;
  /** Draw the legend of marks (default true). */
  readonly legend?: boolean;
}

const LABEL_FONT = 11;
/** Glyph box of a LABEL_FONT line around its baseline. */
const ASCENT = 9;
const DESCENT = 3;
const HEADER = 64;
const TIME_MARGIN = 70;
/** Room outside the outer timelines for state tags and notes. */
const SIDE = 210;
/** Pixels a typical one-way delay takes. */
const FLIGHT_PX = 56;
/** A quiet gap taller than this (at the diagram's scale) becomes a break. */
const MAX_QUIET_PX = 220;
const BREAK_PX = 34;
/** The unbroken spans together stay below this height (the scale shrinks if needed). */
const MAX_TIME_PX = 6000;
/** Gap between a label and its arrow. */
const LABEL_GAP = 2;
const HALO = {
  stroke: '#ffffff',
  'stroke-width': 3,
  'stroke-linejoin': 'round',
  'paint-order': 'stroke',
} as const;

/** One arrow: a single packet, or a burst of segments sent together with the same fate. */
interface Arrow {
  readonly packets: readonly PacketRecord[];
  readonly from: number;
  readonly to: number;
  readonly sentAt: number;
  readonly arrivedAt?: number;
  readonly label: string;
  readonly remarks: string;
}

interface Span {
  readonly t0: number;
  readonly t1: number;
  readonly y0: number;
}

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
  const arrows = groupBursts(packets, hostIndex, options);
  const states = view.states.filter((s) => hostIndex.has(s.host) && s.time <= until);
  const notes = selection.notes ? view.notes.filter((n) => hostIndex.has(n.host) && n.time <= until) : [];

  // --- Time: one linear scale, quiet gaps cut out ---------------------------------------------------
  const delays = arrows
    .filter((a) => a.arrivedAt !== undefined && a.arrivedAt > a.sentAt)
    .map((a) => a.arrivedAt! - a.sentAt)
    .sort((x, y) => x - y);
  const typicalDelay = delays.length ? delays[Math.floor(delays.length / 2)]! : undefined;
  const times = new Set<number>();
  for (const a of arrows) {
    times.add(a.sentAt);
    times.add(endTime(a, typicalDelay));
  }
  for (const s of states) times.add(s.time);
  for (const n of notes) times.add(n.time);
  const sorted = [...times].sort((x, y) => x - y);
  let scale: number;
  if (typicalDelay !== undefined) scale = FLIGHT_PX / typicalDelay;
  else {
    const gaps = sorted
      .slice(1)
      .map((t, i) => t - sorted[i]!)
      .filter((g) => g > 0)
      .sort((x, y) => x - y);
    scale = gaps.length ? 20 / gaps[Math.floor(gaps.length / 2)]! : 1;
  }
  // Intervals during which something is in flight: no break may cut an arrow. quiet[i]: nothing is in
  // flight between sorted[i] and sorted[i + 1].
  const flights = arrows
    .map((a) => [a.sentAt, endTime(a, typicalDelay)] as const)
    .sort((x, y) => x[0] - y[0]);
  const quiet: boolean[] = [];
  let f = 0;
  let busyEnd = Number.NEGATIVE_INFINITY;
  for (const t of sorted) {
    while (f < flights.length && flights[f]![0] <= t) busyEnd = Math.max(busyEnd, flights[f++]![1]);
    quiet.push(busyEnd <= t);
  }
  const breakAfter = (i: number, pxPerMs: number) =>
    quiet[i]! && (sorted[i + 1]! - sorted[i]!) * pxPerMs > MAX_QUIET_PX;
  // Keep the total height in bounds: shrink the scale until the unbroken time fits.
  for (let round = 0; round < 20; round++) {
    let unbroken = 0;
    for (let i = 0; i + 1 < sorted.length; i++)
      if (!breakAfter(i, scale)) unbroken += sorted[i + 1]! - sorted[i]!;
    if (unbroken * scale <= MAX_TIME_PX) break;
    scale = MAX_TIME_PX / unbroken;
  }
  const spans: Span[] = [];
  const breaks: { y: number; hidden: number }[] = [];
  let y = HEADER + 24;
  if (sorted.length) {
    let spanStart = sorted[0]!;
    for (let i = 0; i < sorted.length; i++) {
      const last = i + 1 === sorted.length;
      if (last || breakAfter(i, scale)) {
        spans.push({ t0: spanStart, t1: sorted[i]!, y0: y });
        y += (sorted[i]! - spanStart) * scale;
        if (!last) {
          breaks.push({ y: y + BREAK_PX / 2, hidden: sorted[i + 1]! - sorted[i]! });
          y += BREAK_PX;
          spanStart = sorted[i + 1]!;
        }
      }
    }
  }
  const yOf = (t: number): number => {
    let span = spans[0];
    for (const s of spans) if (s.t0 <= t) span = s;
    return span ? span.y0 + (Math.min(t, span.t1) - span.t0) * scale : y;
  };
  const timeBottom = y;

  // --- Columns: fill the width, but give the longest label room -----------------------------------
  const labelWidth = (a: Arrow) =>
    monospaceWidth(a.remarks ? `${a.label} ${a.remarks}` : a.label, LABEL_FONT);
  const longest = arrows.reduce((m, a) => Math.max(m, labelWidth(a)), 0);
  const target = options.width ?? 1200;
  const lanes = Math.max(1, hosts.length - 1);
  const spacing = Math.max(longest + 48, 240, (target - TIME_MARGIN - 2 * SIDE) / lanes);
  const xs = hosts.map((_, i) => TIME_MARGIN + SIDE + i * spacing);
  const width = xs[xs.length - 1]! + SIDE;

  const parts: string[] = [];
  const body: string[] = [];

  // --- Arrows ----------------------------------------------------------------------------------------
  const segments: (Segment & { ends: readonly Point[] })[] = [];
  const drawn = arrows.map((a) => {
    const x1 = xs[a.from]!;
    const x2 = xs[a.to]!;
    const y1 = yOf(a.sentAt);
    const y2 = yOf(endTime(a, typicalDelay));
    const lost = a.packets[0]!.dropped !== undefined || a.arrivedAt === undefined;
    // A lost packet stops two thirds of the way, on the slope it would have had.
    const end = lost ? { x: x1 + (x2 - x1) * 0.66, y: y1 + (y2 - y1) * 0.66 } : { x: x2, y: y2 };
    const start = { x: x1, y: y1 };
    segments.push({ a: start, b: end, ends: [start, end] });
    return { arrow: a, start, end, lost };
  });

  // --- Margins: states and notes outside the outer timelines ---------------------------------------
  const obstacles: Quad[] = [];
  const marginItems: string[] = [];
  const nextFree = new Map<string, number>();
  const place = (host: number, at: number, height: number): number => {
    const side = host === 0 ? 'left' : host === hosts.length - 1 ? 'right' : `mid${host}`;
    let top = Math.max(at, nextFree.get(side) ?? Number.NEGATIVE_INFINITY);
    // Never inside a break's band: below it.
    for (const b of breaks) if (top < b.y + 9 && top + height > b.y - 9) top = b.y + 9;
    nextFree.set(side, top + height + 2);
    return top;
  };
  type MarginEvent = { time: number; order: number; host: number; state?: string; note?: string };
  const marginEvents: MarginEvent[] = [
    ...states.map((s) => ({ time: s.time, order: s.order, host: hostIndex.get(s.host)!, state: s.to })),
    ...notes.map((n) => ({ time: n.time, order: n.order, host: hostIndex.get(n.host)!, note: n.text })),
  ].sort((a, b) => a.time - b.time || a.order - b.order);
  for (const m of marginEvents) {
    const x = xs[m.host]!;
    const left = m.host === 0 && hosts.length > 1;
    const my = yOf(m.time);
    if (m.state) {
      const tagWidth = monospaceWidth(m.state, LABEL_FONT) + 10;
      const top = place(m.host, my - 8, 16);
      const rx = left ? x - 8 - tagWidth : x + 8;
      obstacles.push(rectQuad(rx, top, tagWidth, 16));
      marginItems.push(stateTag(m.state, x, my, rx, top, tagWidth));
    } else if (m.note) {
      const chars = Math.floor((SIDE - 20) / (LABEL_FONT * 0.6));
      const lines = wrap(`* ${m.note}`, chars);
      const height = lines.length * 13;
      const top = place(m.host, my - 10, height);
      const w = Math.max(...lines.map((l) => monospaceWidth(l, LABEL_FONT)));
      const nx = left ? x - 10 - w : x + 10;
      obstacles.push(rectQuad(nx, top, w, height));
      marginItems.push(
        element(
          'text',
          {
            class: 'note',
            'font-family': MONOSPACE,
            'font-size': LABEL_FONT,
            'font-style': 'italic',
            fill: '#57606a',
          },
          lines.map((l, i) => element('tspan', { x: nx, y: top + 10 + i * 13 }, escapeXml(l))),
        ),
      );
    }
  }

  // --- Labels along their arrows, where they hide nothing ------------------------------------------
  const lifelines: Segment[] = xs.map((x) => ({ a: { x, y: HEADER - 12 }, b: { x, y: timeBottom + 24 } }));
  for (const b of breaks) obstacles.push(rectQuad(TIME_MARGIN, b.y - 8, width - TIME_MARGIN, 16));
  const labelParts: string[] = [];
  const markParts: string[] = [];
  const shaftParts: string[] = [];
  /** Labels with no free place along their arrows (a dense burst): written in a column beside the ladder. */
  const callouts: { anchor: Point; width: number; text: (origin: Point) => string }[] = [];
  drawn.forEach((d) => {
    const { arrow, start, end, lost } = d;
    const p = arrow.packets[0]!;
    const kind = packetKind(p);
    const resent = p.tcp?.retransmission !== undefined;
    const color = lost && p.dropped ? DROP_COLOR : resent ? RETRANSMISSION_COLOR : SVG_PACKET_COLOR[kind];
    const labelColor = resent ? '#9a6700' : SVG_PACKET_COLOR[kind];
    const details = tooltip(arrow.packets.map((q) => describePacket(q, conversation, options)).join('\n\n'));
    const stroke = { stroke: color, 'stroke-width': kind === 'data' ? 2 : 1.5 };
    const shaft: string[] = [details];
    const mark: string[] = [];
    if (lost) {
      shaft.push(
        line(start.x, start.y, end.x, end.y, {
          ...stroke,
          // Dashed, so the arrow it shares its first stretch with (the rest of its burst) shows through.
          'stroke-dasharray': p.dropped ? '7 4' : '5 4',
        }),
      );
      if (p.dropped) {
        mark.push(
          line(end.x - 6, end.y - 6, end.x + 6, end.y + 6, { stroke: DROP_COLOR, 'stroke-width': 2.5 }),
        );
        mark.push(
          line(end.x - 6, end.y + 6, end.x + 6, end.y - 6, { stroke: DROP_COLOR, 'stroke-width': 2.5 }),
        );
      }
    } else {
      const dx = end.x - start.x;
      const dy = end.y - start.y;
      const length = Math.hypot(dx, dy) || 1;
      const ux = dx / length;
      const uy = dy / length;
      const head = 9;
      const bx = end.x - ux * head;
      const by = end.y - uy * head;
      shaft.push(line(start.x, start.y, bx, by, stroke));
      const px = -uy * 4;
      const py = ux * 4;
      mark.push(
        element('polygon', {
          points: `${num(end.x)},${num(end.y)} ${num(bx + px)},${num(by + py)} ${num(bx - px)},${num(by - py)}`,
          fill: color,
        }),
      );
    }
    if (arrow.packets.length > 1) {
      // A burst: one tick per segment across the shaft, so the count can be seen as well as read.
      const n = arrow.packets.length;
      for (let i = 0; i < n; i++) {
        const f = 0.15 + (0.25 * i) / Math.max(1, n - 1);
        const cx = start.x + (end.x - start.x) * f;
        const cy = start.y + (end.y - start.y) * f;
        mark.push(element('circle', { cx, cy, r: 2.2, fill: color }));
      }
    }
    // Where arrows are too dense for a label to sit anywhere without covering one (a bulk transfer), the
    // label goes to the column beside the ladder.
    const placed = placeLabel(d, labelWidth(arrow), segments, lifelines, obstacles);
    if (placed.free) obstacles.push(placed.quad);
    const remarks = arrow.remarks
      ? element(
          'tspan',
          { dx: LABEL_FONT * 0.6, fill: '#bc4c00', 'font-weight': 600 },
          escapeXml(arrow.remarks),
        )
      : '';
    const text = (origin: Point, angle: number) =>
      element(
        'text',
        {
          x: origin.x,
          y: origin.y,
          transform: angle ? `rotate(${num(angle)} ${num(origin.x)} ${num(origin.y)})` : undefined,
          'font-family': MONOSPACE,
          'font-size': LABEL_FONT,
          fill: labelColor,
          ...HALO,
        },
        escapeXml(arrow.label) + remarks,
      );
    const classes = ['packet', `packet-${kind}`];
    if (p.dropped) classes.push('packet-lost');
    if (resent) classes.push('packet-retransmission');
    if (arrow.packets.length > 1) classes.push('packet-burst');
    const ids = {
      'data-packet': p.id,
      'data-packets': arrow.packets.length > 1 ? arrow.packets.map((q) => q.id).join(' ') : undefined,
    };
    shaftParts.push(element('g', { class: classes.join(' '), ...ids }, shaft));
    if (placed.free)
      labelParts.push(
        element('g', { class: 'packet-label', ...ids }, [details, text(placed.origin, placed.angle)]),
      );
    else {
      // Anchored where the arrow ends on the right (a lost one: at its X), so the leader to the column
      // runs where no arrow is.
      const anchor = d.lost ? d.end : d.start.x > d.end.x ? d.start : d.end;
      callouts.push({
        anchor,
        width: labelWidth(arrow),
        text: (origin) =>
          element('g', { class: 'packet-label', ...ids, 'data-callout': '' }, [details, text(origin, 0)]),
      });
    }
    markParts.push(element('g', { class: 'packet-mark', ...ids }, mark));
  });

  // The column: labels in the order of their arrows, each as near its arrow's height as the one above
  // allows (one line apart), tied to it by a dotted leader; it lies right of the margins, where nothing
  // else is drawn.
  const column = width + 8;
  let totalWidth = width;
  const leaders: string[] = [];
  callouts.sort((p, q) => p.anchor.y - q.anchor.y);
  const baselines = calloutBaselines(
    callouts.map((callout) => callout.anchor.y),
    ASCENT,
    DESCENT,
  );
  const calloutY = baselines.at(-1) ?? Number.NEGATIVE_INFINITY;
  for (const [k, callout] of callouts.entries()) {
    const baseline = baselines[k]!;
    leaders.push(
      line(callout.anchor.x, callout.anchor.y, column - 3, baseline - ASCENT / 2 + 1, {
        class: 'label-leader',
        stroke: '#8c959f',
        'stroke-width': 0.8,
        'stroke-dasharray': '1 2',
      }),
    );
    labelParts.push(callout.text({ x: column, y: baseline }));
    totalWidth = Math.max(totalWidth, column + callout.width + 12);
  }

  // --- Assemble -------------------------------------------------------------------------------------
  const legendTop = Math.max(timeBottom + 40 + (omitted ? 20 : 0), calloutY + 24);
  const legend =
    options.legend === false
      ? { height: 0, markup: '' }
      : legendMarkup(TIME_MARGIN, legendTop, width - TIME_MARGIN - 16, conversation, packets, options);
  const height = legendTop + legend.height + 8;
  parts.push(element('rect', { x: 0, y: 0, width: totalWidth, height, fill: '#ffffff' }));
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
    const addresses = (conversation.addresses[host] ?? [])
      .filter((a) => a !== host && !host.startsWith(`${a}:`))
      .join(', ');
    if (addresses)
      parts.push(
        textElement(x, 40, addresses, { 'text-anchor': 'middle', 'font-size': 11, fill: '#57606a' }),
      );
  });
  // Timelines, interrupted at each break.
  const cuts = [HEADER - 12, ...breaks.flatMap((b) => [b.y - 7, b.y + 7]), timeBottom + 24];
  xs.forEach((x) => {
    for (let i = 0; i + 1 < cuts.length; i += 2)
      parts.push(
        line(x, cuts[i]!, x, cuts[i + 1]!, { stroke: '#8c959f', 'stroke-width': 2, class: 'timeline' }),
      );
  });
  parts.push(
    textElement(TIME_MARGIN - 8, 40, 'ms', { 'text-anchor': 'end', 'font-size': 11, fill: '#57606a' }),
  );
  body.push(timeAxis(spans, scale, conversation.timeOrigin, sorted));
  for (const b of breaks) body.push(breakMark(b.y, width, b.hidden, xs));
  body.push(element('g', { class: 'leaders' }, leaders));
  body.push(element('g', { class: 'arrows' }, shaftParts));
  body.push(element('g', { class: 'labels' }, labelParts));
  body.push(element('g', { class: 'marks' }, markParts));
  body.push(element('g', { class: 'margins' }, marginItems));
  if (omitted) {
    body.push(
      textElement(
        TIME_MARGIN,
        timeBottom + 44,
        `… ${omitted} more packet${omitted === 1 ? '' : 's'} not drawn`,
        {
          'font-size': 12,
          fill: '#57606a',
        },
      ),
    );
  }
  body.push(legend.markup);
  return svgDocument(totalWidth, height, [...parts, ...body], {
    class: 'ladder',
    role: 'img',
    'aria-label': 'Ladder diagram',
    'data-px-per-ms': String(scale),
  });
}

/** When an arrow's drawing ends: its arrival, or for a lost or unfinished one a typical flight later. */
function endTime(a: Arrow, typicalDelay: number | undefined): number {
  return a.arrivedAt ?? a.sentAt + (typicalDelay ?? 0);
}

/** Bursts: TCP segments one host sent at one instant to the same peer, with the same fate and no remark. */
function groupBursts(
  packets: readonly PacketRecord[],
  hostIndex: ReadonlyMap<string, number>,
  options: PacketLabelOptions,
): Arrow[] {
  const arrows: Arrow[] = [];
  let run: PacketRecord[] = [];
  const flush = () => {
    if (run.length) arrows.push(makeArrow(run, hostIndex, options));
    run = [];
  };
  for (const p of packets) {
    const prev = run[run.length - 1];
    if (prev && !sameBurst(prev, p)) flush();
    run.push(p);
  }
  flush();
  return arrows;
}

function quiet(p: PacketRecord): boolean {
  return packetRemarks(p).every((r) => r.kind === 'dup-ack');
}

function sameBurst(a: PacketRecord, b: PacketRecord): boolean {
  return (
    a.tcp !== undefined &&
    b.tcp !== undefined &&
    a.from === b.from &&
    a.to === b.to &&
    a.sentAt === b.sentAt &&
    a.arrivedAt === b.arrivedAt &&
    !a.dropped &&
    !b.dropped &&
    a.tcp.flowId === b.tcp.flowId &&
    a.tcp.flags.replace('PSH,', '') === b.tcp.flags.replace('PSH,', '') &&
    quiet(a) &&
    quiet(b) &&
    a.tcp.length > 0 === b.tcp.length > 0
  );
}

function makeArrow(
  run: PacketRecord[],
  hostIndex: ReadonlyMap<string, number>,
  options: PacketLabelOptions,
): Arrow {
  const first = run[0]!;
  const common = {
    packets: run,
    from: hostIndex.get(first.from)!,
    to: hostIndex.get(first.to)!,
    sentAt: first.sentAt,
    ...(first.arrivedAt !== undefined ? { arrivedAt: first.arrivedAt } : {}),
  };
  const remarkOf = (p: PacketRecord) => packetRemarks(p).map((r) => r.text);
  if (run.length === 1) {
    const remarks = remarkOf(first);
    if (first.dropped) remarks.push(dropText(first.dropped));
    return { ...common, label: packetLabel(first, options), remarks: remarks.map((r) => `[${r}]`).join(' ') };
  }
  const last = run[run.length - 1]!;
  const n = run.length;
  let label = packetLabel(first, options);
  const lengths = new Set(run.map((p) => p.tcp!.length));
  if (first.tcp!.length > 0) {
    const seqOf = (p: PacketRecord) => ((options.relative ?? true) ? p.tcp!.relativeSeq : p.tcp!.seq);
    const endSeq = (seqOf(last) + last.tcp!.length) >>> 0;
    const total = run.reduce((s, p) => s + p.tcp!.length, 0);
    label = label
      .replace(/^PSH,/, '')
      .replace(/seq=\d+/, `seq=${seqOf(first)}:${endSeq}`)
      .replace(/len=\d+/, lengths.size === 1 ? `len=${n}×${first.tcp!.length}` : `len=${total} in ${n}`);
  } else {
    label = `${n} × ${label}`;
  }
  const dups = run.map((p) => p.tcp!.dupAck).filter((d): d is number => d !== undefined);
  const remarks = dups.length
    ? `[dup ACK ${dups.length === 1 ? `#${dups[0]}` : `#${dups[0]}–#${dups[dups.length - 1]}`}]`
    : '';
  return { ...common, label, remarks };
}

/**
 * Tries places along the arrow, nearest the sender first, above then below it, then a little further
 * off; takes the first whose box touches no other arrow, timeline or placed label.
 */
function placeLabel(
  d: { start: Point; end: Point },
  width: number,
  segments: readonly (Segment & { ends: readonly Point[] })[],
  lifelines: readonly Segment[],
  obstacles: readonly Quad[],
): { origin: Point; angle: number; quad: Quad; free: boolean } {
  // Text reads left to right: lay it along the arrow from its left end.
  const rightward = d.end.x >= d.start.x;
  const left = rightward ? d.start : d.end;
  const right = rightward ? d.end : d.start;
  const dx = right.x - left.x;
  const dy = right.y - left.y;
  const length = Math.hypot(dx, dy) || 1;
  const u = { x: dx / length, y: dy / length };
  const n = { x: u.y, y: -u.x };
  const angle = (Math.atan2(dy, dx) * 180) / Math.PI;
  const room = length - 2 * 12;
  const nearSender = rightward ? 12 : Math.max(12, length - 12 - width);
  const nearReceiver = rightward ? Math.max(12, length - 12 - width) : 12;
  const middle = Math.max(12, (length - width) / 2);
  const alongs = room >= width ? [nearSender, middle, nearReceiver] : [nearSender];
  const offsets = [LABEL_GAP + DESCENT, -(LABEL_GAP + ASCENT)];
  for (let k = 1; k <= 3; k++) offsets.push(LABEL_GAP + DESCENT + 13 * k, -(LABEL_GAP + ASCENT) - 13 * k);
  let first: { origin: Point; angle: number; quad: Quad } | undefined;
  for (const off of offsets) {
    for (const along of alongs) {
      const origin = { x: left.x + u.x * along + n.x * off, y: left.y + u.y * along + n.y * off };
      const quad = textQuad(origin, u, width, ASCENT, DESCENT);
      first ??= { origin, angle, quad };
      // Only what is near needs the exact test: compare vertical extents first (cheap, and most fail).
      const [top, bottom] = extent(quad);
      const near = (q: readonly Point[]) => {
        let t = extents.get(q);
        if (!t) {
          t = extent(q);
          extents.set(q, t);
        }
        return t[0] < bottom && t[1] > top;
      };
      if (obstacles.some((o) => near(o) && quadsOverlap(o, quad))) continue;
      if (lifelines.some((s) => segmentHitsQuad(s, quad))) continue;
      // Its own arrow too: a label sits beside its arrow, never on it.
      if (segments.some((s) => near(s.ends) && segmentHitsQuad(s, quad))) continue;
      return { origin, angle, quad, free: true };
    }
  }
  return { ...first!, free: false };
}

/** Vertical extents of obstacles and arrows, computed once each. */
const extents = new WeakMap<readonly Point[], [number, number]>();

/** Smallest and largest y of some points. */
function extent(points: readonly Point[]): [number, number] {
  let top = Number.POSITIVE_INFINITY;
  let bottom = Number.NEGATIVE_INFINITY;
  for (const p of points) {
    if (p.y < top) top = p.y;
    if (p.y > bottom) bottom = p.y;
  }
  return [top, bottom];
}

function wrap(text: string, chars: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(' ')) {
    if (current && current.length + 1 + word.length > chars) {
      lines.push(current);
      current = word;
    } else current = current ? `${current} ${word}` : word;
  }
  if (current) lines.push(current);
  return lines;
}

function timeAxis(spans: readonly Span[], scale: number, origin: number, times: readonly number[]): string {
  const out: string[] = [];
  const decimals = timeDecimals([...times], origin);
  for (const s of spans) {
    const height = (s.t1 - s.t0) * scale;
    const ticks =
      height < 30
        ? [s.t0 - origin]
        : niceTicks(s.t0 - origin, s.t1 - origin, Math.max(2, Math.floor(height / 45))).ticks.filter(
            (t) => t >= s.t0 - origin - 1e-9 && t <= s.t1 - origin + 1e-9,
          );
    if (
      !ticks.some((t) => Math.abs(t - (s.t0 - origin)) < 1e-9) &&
      (ticks.length === 0 || (ticks[0]! - (s.t0 - origin)) * scale > 14)
    )
      ticks.unshift(s.t0 - origin);
    for (const t of ticks) {
      const ty = s.y0 + (t + origin - s.t0) * scale;
      out.push(line(TIME_MARGIN - 4, ty, TIME_MARGIN, ty, { stroke: '#8c959f' }));
      out.push(
        textElement(TIME_MARGIN - 8, ty + 4, formatTime(t + origin, origin, decimals), {
          'text-anchor': 'end',
          'font-size': 11,
          fill: '#57606a',
          'font-family': MONOSPACE,
        }),
      );
    }
    out.push(
      line(TIME_MARGIN, s.y0, TIME_MARGIN, s.y0 + height, {
        stroke: '#8c959f',
        class: 'time-span',
        'data-t0': num(s.t0 - origin),
        'data-t1': num(s.t1 - origin),
      }),
    );
  }
  return element('g', { class: 'time-axis' }, out);
}

function breakMark(y: number, width: number, hidden: number, xs: readonly number[]): string {
  const text = `≈ ${hidden >= 1000 ? `${(hidden / 1000).toFixed(hidden >= 10_000 ? 0 : 1)} s` : `${Math.round(hidden)} ms`} without a packet`;
  const parts = [
    element('rect', {
      x: TIME_MARGIN - 60,
      y: y - 7,
      width: width - TIME_MARGIN + 60,
      height: 14,
      fill: '#f6f8fa',
    }),
    line(TIME_MARGIN - 60, y - 7, width, y - 7, { stroke: '#d0d7de', 'stroke-dasharray': '3 3' }),
    line(TIME_MARGIN - 60, y + 7, width, y + 7, { stroke: '#d0d7de', 'stroke-dasharray': '3 3' }),
    ...xs.map((x) =>
      textElement(x, y + 4, '≈', { 'text-anchor': 'middle', 'font-size': 13, fill: '#57606a' }),
    ),
    textElement(TIME_MARGIN - 8, y + 4, '≈', { 'text-anchor': 'end', 'font-size': 13, fill: '#57606a' }),
    textElement((xs[0]! + (xs[1] ?? xs[0]! + 200)) / 2, y + 4, text, {
      'text-anchor': 'middle',
      'font-size': 11,
      fill: '#57606a',
    }),
  ];
  return element('g', { class: 'time-break', 'data-hidden-ms': num(hidden) }, parts);
}

function stateTag(state: string, x: number, y: number, rx: number, top: number, width: number): string {
  const fill = STATE_COLOR[state as keyof typeof STATE_COLOR] ?? '#eaeef2';
  return element('g', { class: 'state' }, [
    element('rect', {
      x: rx,
      y: top,
      width,
      height: 16,
      rx: 4,
      fill,
      stroke: '#57606a',
      'stroke-width': 0.5,
    }),
    textElement(rx + 5, top + 12, state, {
      'font-family': MONOSPACE,
      'font-size': LABEL_FONT,
      'font-weight': 600,
      fill: '#24292f',
    }),
    element('circle', { cx: x, cy: y, r: 3, fill: '#24292f' }),
  ]);
}

/** The marks a reader meets, each drawn as it appears in the diagram, wrapped to the width. */
function legendMarkup(
  x0: number,
  y0: number,
  width: number,
  conversation: Conversation,
  packets: readonly PacketRecord[],
  options: PacketLabelOptions,
): { height: number; markup: string } {
  const items: { sample: (x: number, y: number) => string; text: string; sampleWidth?: number }[] = [
    {
      sample: (x, y) => line(x, y, x + 22, y + 4, { stroke: SVG_PACKET_COLOR.data, 'stroke-width': 2 }),
      text: 'data',
    },
    {
      sample: (x, y) => line(x, y, x + 22, y + 4, { stroke: SVG_PACKET_COLOR.ack, 'stroke-width': 1.5 }),
      text: 'ACK',
    },
    {
      sample: (x, y) => line(x, y, x + 22, y + 4, { stroke: SVG_PACKET_COLOR.syn, 'stroke-width': 1.5 }),
      text: 'SYN',
    },
    {
      sample: (x, y) => line(x, y, x + 22, y + 4, { stroke: SVG_PACKET_COLOR.fin, 'stroke-width': 1.5 }),
      text: 'FIN',
    },
    {
      sample: (x, y) => line(x, y, x + 22, y + 4, { stroke: SVG_PACKET_COLOR.rst, 'stroke-width': 1.5 }),
      text: 'RST',
    },
    {
      sample: (x, y) => line(x, y, x + 22, y + 4, { stroke: RETRANSMISSION_COLOR, 'stroke-width': 2 }),
      text: 'retransmission [its cause: timeout, fast retransmit, SYN, FIN]',
    },
    {
      sample: (x, y) =>
        [
          line(x, y, x + 14, y + 3, { stroke: DROP_COLOR, 'stroke-width': 2, 'stroke-dasharray': '7 4' }),
          line(x + 10, y - 3, x + 18, y + 5, { stroke: DROP_COLOR, 'stroke-width': 2.5 }),
          line(x + 10, y + 5, x + 18, y - 3, { stroke: DROP_COLOR, 'stroke-width': 2.5 }),
        ].join(''),
      text: 'lost on the link',
    },
    {
      sample: (x, y) =>
        [
          line(x, y, x + 22, y + 4, { stroke: SVG_PACKET_COLOR.data, 'stroke-width': 2 }),
          ...[0, 1, 2].map((i) =>
            element('circle', { cx: x + 4 + i * 6, cy: y + 1 + i, r: 2.2, fill: SVG_PACKET_COLOR.data }),
          ),
        ].join(''),
      text: 'burst: segments sent together (seq=a:b len=n×size)',
    },
    {
      sample: (x, y) =>
        textElement(x, y + 4, '[…]', { 'font-size': 11, fill: '#bc4c00', 'font-weight': 600 }),
      text: 'zero-window probe, dup ACK #n, zero window, window update',
    },
    {
      sample: (x, y) =>
        textElement(x, y + 4, '<sack a-b>', { 'font-size': 11, fill: '#57606a', 'font-family': MONOSPACE }),
      text: 'SACK blocks: bytes received beyond the ACK',
      sampleWidth: 72,
    },
    {
      sample: (x, y) => textElement(x + 4, y + 4, '≈', { 'font-size': 13, fill: '#57606a' }),
      text: 'time cut out (nothing in flight)',
    },
  ];
  const out: string[] = [
    textElement(x0, y0 + 4, 'Marks:', { 'font-size': 11, 'font-weight': 600, fill: '#24292f' }),
  ];
  let x = x0 + 48;
  let y = y0;
  for (const item of items) {
    const sampleWidth = item.sampleWidth ?? 28;
    const w = sampleWidth + item.text.length * 6.2 + 20;
    if (x + w > x0 + width) {
      x = x0 + 48;
      y += 18;
    }
    out.push(item.sample(x, y));
    out.push(textElement(x + sampleWidth, y + 4, item.text, { 'font-size': 11, fill: '#57606a' }));
    x += w;
  }
  const numbering = numberingText(packets, options);
  void conversation;
  if (numbering) {
    y += 18;
    out.push(textElement(x0 + 48, y + 4, numbering, { 'font-size': 11, fill: '#57606a' }));
  }
  return { height: y - y0 + 16, markup: element('g', { class: 'legend' }, out) };
}
