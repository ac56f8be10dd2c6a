/**
 * The terminal ladder diagram: one vertical timeline per host, time running down the left, and one
 * arrow per packet from the sender's timeline to the receiver's, labelled with what a reader of the
 * protocol wants (flags, seq, ack, window, length, options). Each side's TCP state is written beside its
 * timeline where it changes; lost packets end in an X; retransmissions, duplicate ACKs and window events
 * are named on the arrow.
 *
 *          ms        client                               server
 *                   10.0.0.1                             10.0.0.2
 *           0     SYN-SENT │ SYN seq=0 win=65535 <mss 1460>   │ LISTEN
 *                          ├────────────────────────────────>│ 10
 *          10              │                                 │ SYN-RECEIVED
 *
 * A text row can only hold a level arrow, so each arrow is drawn at its send time and its arrival time is
 * written at the arrowhead when it differs. Plain mode is escape-free text; color mode adds ANSI colors
 * (the caller decides, e.g. from `process.stdout.isTTY`).
 */
import type { TcpStateName } from '../trace/events.js';
import type { Conversation, NoteRecord, PacketRecord } from './conversation.js';
import { statesAt } from './conversation.js';
import { countPackets, countsText } from './conversation-counts.js';
import {
  type LadderSelection,
  type LadderSelectionOptions,
  packetColumns,
  selectLadder,
} from './ladder-selection.js';
import {
  dropText,
  formatTime,
  numberingText,
  type PacketLabelOptions,
  packetKind,
  packetLabel,
  packetRemarks,
  timeDecimals,
} from './packet-label.js';
import { TERMINAL_PACKET_STYLE } from './style-palette.js';
import { TextRow, type TextStyle, textWidth, wrapText } from './text-canvas.js';

export interface LadderTextOptions extends PacketLabelOptions, LadderSelectionOptions {
  /** Target line width in columns (default 100); very narrow widths are widened to stay legible. */
  readonly width?: number;
  /** ANSI colors (default false). */
  readonly color?: boolean;
  /** A heading, e.g. 'Chapter 1: the three-way handshake'. */
  readonly title?: string;
  /** One or more sentences explaining what the diagram shows, wrapped to the width. */
  readonly caption?: string;
  /** Only what happened from this absolute time on; the states in force then head the timelines. */
  readonly from?: number;
  /** End with a one-line count of packets, losses and retransmissions (default true). */
  readonly footer?: boolean;
  /** Draw at most this many packets (default: all); the footer says how many were left out. */
  readonly maxPackets?: number;
}

const DEFAULT_WIDTH = 100;
const MIN_GAP = 24;

type Entry =
  | { kind: 'states'; time: number; order: number; items: { host: number; text: string }[] }
  | { kind: 'note'; time: number; order: number; host: number; text: string }
  | { kind: 'packet'; time: number; order: number; packet: PacketRecord; from: number; to: number };

export function renderLadderText(conversation: Conversation, options: LadderTextOptions = {}): string {
  const color = options.color ?? false;
  const width = options.width ?? DEFAULT_WIDTH;
  const selection = selectLadder(conversation, options);
  const { hosts, hostIndex } = selection;
  const out: string[] = [];

  if (options.title) out.push(new TextRow().put(0, options.title, 'bold').render(color));
  if (options.caption) for (const line of wrapText(options.caption, width)) out.push(line);
  if (options.title || options.caption) out.push('');
  if (hosts.length === 0) {
    out.push('(no hosts)');
    return `${out.join('\n')}\n`;
  }

  const all = collectEntries(selection);
  // Cut after the last packet allowed, keeping the states and notes up to it.
  const maxPackets = options.maxPackets ?? Number.POSITIVE_INFINITY;
  let cut = all.length;
  let seen = 0;
  for (let i = 0; i < all.length; i++) {
    if (all[i]!.kind === 'packet' && ++seen > maxPackets) {
      cut = i;
      break;
    }
  }
  const entries = all.slice(0, cut);
  const omitted = all.slice(cut).filter((e) => e.kind === 'packet').length;
  const initial = options.from !== undefined ? statesBefore(conversation, options.from, hostIndex) : [];
  const origin = conversation.timeOrigin;
  const decimals = timeDecimals(
    entries.flatMap((e) =>
      e.kind === 'packet' ? [e.packet.sentAt, e.packet.arrivedAt ?? e.packet.sentAt] : [e.time],
    ),
    origin,
  );
  const time = (t: number) => formatTime(t, origin, decimals);

  // Column layout: time | state area of the first host | timelines with gaps | state area of the last host.
  const n = hosts.length;
  // A capture names hosts by their address; do not print it twice.
  const addresses = hosts.map((h) => (conversation.addresses[h] ?? []).filter((a) => a !== h).join(','));
  let timeWidth = 2;
  let leftWidth = 0;
  let rightWidth = 0;
  const fitSide = (host: number, text: string) => {
    if (host === 0) leftWidth = Math.max(leftWidth, textWidth(text) + 1);
    if (host === n - 1 && n > 1) rightWidth = Math.max(rightWidth, textWidth(text) + 1);
  };
  for (const item of initial) fitSide(item.host, item.text);
  for (const e of entries) {
    timeWidth = Math.max(timeWidth, time(e.time).length);
    if (e.kind === 'states') for (const item of e.items) fitSide(item.host, item.text);
    if (e.kind === 'packet' && e.packet.arrivedAt !== undefined && e.packet.arrivedAt !== e.packet.sentAt) {
      fitSide(e.to, time(e.packet.arrivedAt));
    }
  }
  leftWidth = Math.max(leftWidth, Math.ceil(Math.max(textWidth(hosts[0]!), textWidth(addresses[0]!)) / 2));
  if (n > 1) {
    rightWidth = Math.max(
      rightWidth,
      Math.ceil(Math.max(textWidth(hosts[n - 1]!), textWidth(addresses[n - 1]!)) / 2),
    );
  }
  const firstX = timeWidth + 2 + leftWidth;
  const gap = n > 1 ? Math.max(MIN_GAP, Math.floor((width - firstX - n - rightWidth) / (n - 1))) : 0;
  const xs = hosts.map((_, i) => firstX + i * (gap + 1));

  const timelineStyle: TextStyle = 'gray';
  const base = () => {
    const row = new TextRow();
    for (const x of xs) row.put(x, '│', timelineStyle);
    return row;
  };
  let lastTime: string | undefined;
  const stampTime = (row: TextRow, t: number) => {
    const text = time(t);
    if (text !== lastTime) {
      row.putEndingAt(timeWidth, text, 'dim');
      lastTime = text;
    }
  };
  const putState = (row: TextRow, host: number, text: string) => {
    if (host === 0) row.putEndingAt(xs[0]! - 1, text, 'bold-cyan');
    else row.put(xs[host]! + 2, text, 'bold-cyan');
  };

  // Header: host names and addresses centred on their timelines.
  const nameRow = new TextRow().putEndingAt(timeWidth, 'ms', 'dim');
  const addressRow = new TextRow();
  const topRow = new TextRow();
  hosts.forEach((_, i) => {
    nameRow.put(xs[i]! - Math.floor(textWidth(hosts[i]!) / 2), hosts[i]!, 'bold');
    if (addresses[i]) addressRow.put(xs[i]! - Math.floor(textWidth(addresses[i]!) / 2), addresses[i]!, 'dim');
    topRow.put(xs[i]!, '┬', timelineStyle);
  });
  out.push(nameRow.render(color));
  if (addresses.some((a) => a)) out.push(addressRow.render(color));
  out.push(topRow.render(color));
  if (initial.length) {
    const row = base();
    for (const item of initial) putState(row, item.host, item.text);
    out.push(row.render(color));
  }

  for (const e of entries) {
    if (e.kind === 'states') {
      const row = base();
      stampTime(row, e.time);
      for (const item of e.items) putState(row, item.host, item.text);
      out.push(row.render(color));
    } else if (e.kind === 'note') {
      const right = e.host === n - 1 && n > 1;
      const lines = wrapText(`* ${e.text}`, Math.max(8, gap - 3));
      lines.forEach((line, i) => {
        const row = base();
        if (i === 0) stampTime(row, e.time);
        if (right) row.putEndingAt(xs[e.host]! - 1, line, 'dim-italic');
        else row.put(xs[e.host]! + 2, line, 'dim-italic');
        out.push(row.render(color));
      });
    } else {
      for (const row of packetRows(e, xs, time, stampTime, base, options)) out.push(row.render(color));
    }
  }
  out.push(base().render(color));

  if (options.footer ?? true) {
    const packets = entries
      .filter((e) => e.kind === 'packet')
      .map((e) => (e as { packet: PacketRecord }).packet);
    const parts = [countsText(countPackets(packets, conversation))];
    if (omitted) parts.push(`${omitted} more not shown`);
    out.push(new TextRow().put(0, parts.join(', '), 'dim').render(color));
    const numbering = numberingText(packets, options);
    if (numbering) out.push(new TextRow().put(0, numbering, 'dim').render(color));
  }
  return `${out.join('\n')}\n`;
}

function collectEntries(selection: LadderSelection): Entry[] {
  const { view, hostIndex } = selection;
  const entries: Entry[] = [];
  for (const p of view.packets) {
    const columns = packetColumns(selection, p);
    if (columns === undefined) continue;
    entries.push({ kind: 'packet', time: p.sentAt, order: p.order, packet: p, ...columns });
  }
  for (const s of view.states) {
    const host = hostIndex.get(s.host);
    if (host === undefined) continue;
    entries.push({ kind: 'states', time: s.time, order: s.order, items: [{ host, text: s.to }] });
  }
  if (selection.notes) {
    for (const note of view.notes as readonly NoteRecord[]) {
      const host = hostIndex.get(note.host);
      if (host === undefined) continue;
      entries.push({ kind: 'note', time: note.time, order: note.order, host, text: note.text });
    }
  }
  entries.sort((x, y) => x.time - y.time || x.order - y.order);
  // State changes of different hosts at the same instant share a row.
  const merged: Entry[] = [];
  for (const e of entries) {
    const last = merged[merged.length - 1];
    if (
      e.kind === 'states' &&
      last?.kind === 'states' &&
      last.time === e.time &&
      !last.items.some((i) => i.host === e.items[0]!.host)
    ) {
      last.items.push(e.items[0]!);
    } else {
      merged.push(e);
    }
  }
  return merged;
}

/** Each host's open connections' states just before `time` (CLOSED ones omitted), joined per host. */
function statesBefore(
  conversation: Conversation,
  time: number,
  hostIndex: ReadonlyMap<string, number>,
): { host: number; text: string }[] {
  const perHost = new Map<number, TcpStateName[]>();
  for (const s of statesAt(conversation, time, false)) {
    const host = hostIndex.get(s.host);
    if (host === undefined || s.state === 'CLOSED') continue;
    const list = perHost.get(host) ?? [];
    if (!list.includes(s.state)) list.push(s.state);
    perHost.set(host, list);
  }
  return [...perHost].map(([host, states]) => ({ host, text: states.join(',') }));
}

function packetRows(
  e: Extract<Entry, { kind: 'packet' }>,
  xs: readonly number[],
  time: (t: number) => string,
  stampTime: (row: TextRow, t: number) => void,
  base: () => TextRow,
  options: LadderTextOptions,
): TextRow[] {
  const p = e.packet;
  const rightward = e.to > e.from;
  const xFrom = xs[e.from]!;
  const xTo = xs[e.to]!;
  const lo = Math.min(xFrom, xTo);
  const hi = Math.max(xFrom, xTo);
  const available = Math.max(8, hi - lo - 3);
  const kind = packetKind(p);
  const remarks = packetRemarks(p);
  const resent = p.tcp?.retransmission !== undefined;
  const labelStyle: TextStyle | undefined = resent ? 'yellow' : TERMINAL_PACKET_STYLE[kind];
  const arrowStyle: TextStyle | undefined = p.dropped ? 'red' : labelStyle;

  // Label lines: the label, then its remarks in brackets on the same line when they fit.
  const lines: { text: string; style: TextStyle | undefined }[][] = wrapText(
    packetLabel(p, options),
    available,
  ).map((text) => [{ text, style: labelStyle }]);
  if (remarks.length) {
    const remarkText = remarks.map((r) => `[${r.text}]`).join(' ');
    const remarkStyle: TextStyle = remarks[0]!.kind === 'retransmission' ? 'bold-yellow' : 'yellow';
    const last = lines[lines.length - 1]!;
    const lastWidth = last.reduce((w, s) => w + textWidth(s.text), 0);
    if (lastWidth + 1 + textWidth(remarkText) <= available)
      last.push({ text: ` ${remarkText}`, style: remarkStyle });
    else for (const text of wrapText(remarkText, available)) lines.push([{ text, style: remarkStyle }]);
  }

  const rows: TextRow[] = [];
  lines.forEach((segments, i) => {
    const row = base();
    if (i === 0) stampTime(row, p.sentAt);
    const lineWidth = segments.reduce((w, s) => w + textWidth(s.text), 0);
    let x = rightward ? xFrom + 2 : xFrom - 1 - lineWidth;
    for (const s of segments) {
      row.put(x, s.text, s.style);
      x += textWidth(s.text);
    }
    rows.push(row);
  });

  const arrow = base();
  for (let x = lo + 1; x < hi; x++) arrow.put(x, xs.includes(x) ? '┼' : '─', arrowStyle);
  arrow.put(xFrom, rightward ? '├' : '┤', arrowStyle);
  if (p.dropped) {
    const mid = Math.floor((lo + hi) / 2);
    const text = dropText(p.dropped);
    // Erase the far half of the line: the frame never got there.
    if (rightward) {
      for (let x = mid + 1; x < hi; x++)
        arrow.put(x, xs.includes(x) ? '│' : ' ', xs.includes(x) ? 'gray' : undefined);
      arrow.put(mid, 'X', 'bold-red').put(mid + 2, text, 'bold-red');
    } else {
      for (let x = lo + 1; x < mid; x++)
        arrow.put(x, xs.includes(x) ? '│' : ' ', xs.includes(x) ? 'gray' : undefined);
      arrow.put(mid, 'X', 'bold-red').putEndingAt(mid - 1, text, 'bold-red');
    }
  } else {
    arrow.put(rightward ? xTo - 1 : xTo + 1, rightward ? '>' : '<', arrowStyle);
    const arrival =
      p.arrivedAt === undefined
        ? 'in flight'
        : time(p.arrivedAt) !== time(p.sentAt)
          ? time(p.arrivedAt)
          : undefined;
    if (arrival) {
      if (rightward) arrow.put(xTo + 2, arrival, 'dim');
      else arrow.putEndingAt(xTo - 1, arrival, 'dim');
    }
  }
  rows.push(arrow);
  return rows;
}
