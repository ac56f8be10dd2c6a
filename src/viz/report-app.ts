/**
 * The report's script, run by the browser on the data report-data.ts packed: the packet list (only the
 * rows in view exist in the page, so 57,000 packets scroll as lightly as 50), its filter, the zoomable
 * time-sequence graphs on canvas, and the ladder diagram of any stretch of the conversation, drawn when
 * asked for (a click in a graph or on a row) instead of for the whole run up front.
 *
 * These functions are written into the report as their own source text (html-report.ts,
 * REPORT_FUNCTIONS), so they use nothing but each other and the browser: they import only types.
 */
import type { ReportData, TimeSequenceData } from './report-data.js';
import type { Point, Quad, Segment } from './svg/label-geometry.js';

/** The colors and names the script needs from the palette, passed in with the data. */
export interface ReportStyle {
  /** By PACKET_KINDS index. */
  readonly kindColors: readonly string[];
  readonly kindNames: readonly string[];
  readonly dropColor: string;
  readonly retransmissionColor: string;
}

/** What the script exposes on `window.tcptsReport`, for a reader's console and for tests. */
export interface ReportHandle {
  readonly count: number;
  rowText(index: number): string;
  /** Packet indexes the filter keeps. */
  shown(): number;
  openLadder(timeMs: number): { first: number; last: number };
  /** The visible time range of a time-sequence graph (ms). */
  view(graph: number): { t0: number; t1: number; s0: number; s1: number };
  /** The time (ms) under a point of a graph's canvas, in CSS pixels from its top-left corner. */
  timeAt(graph: number, x: number): number;
  readonly readyAt: number;
}

/** Reads `count` LEB128 integers from base64; zigzag-decoded and summed when `delta` (report-data.ts). */
export function decodeColumn(text: string, count: number, delta: boolean): Float64Array {
  const binary = atob(text);
  const out = new Float64Array(count);
  let at = 0;
  let previous = 0;
  for (let i = 0; i < count; i++) {
    let b = binary.charCodeAt(at++);
    let value = b & 0x7f;
    let scale = 0x80;
    while (b >= 0x80) {
      b = binary.charCodeAt(at++);
      value += (b & 0x7f) * scale;
      scale *= 0x80;
    }
    if (delta) {
      previous += value % 2 === 0 ? value / 2 : -(value + 1) / 2;
      out[i] = previous;
    } else {
      out[i] = value;
    }
  }
  return out;
}

export interface ReportPackets {
  readonly count: number;
  readonly ids: Float64Array;
  /** µs from the origin. */
  readonly sent: Float64Array;
  /** Arrival minus send, µs (0 when there is no arrival: see marks). */
  readonly flight: Float64Array;
  readonly from: Float64Array;
  readonly to: Float64Array;
  readonly protocol: Float64Array;
  readonly kind: Float64Array;
  readonly marks: Float64Array;
  readonly frameLength: Float64Array;
  /** A packet's words: its label, then its remarks, separated by U+0002. */
  rowWords(index: number): string;
}

/** The packet columns of the report's data, and each row's words put back together from its template. */
export function decodeReportPackets(data: ReportData): ReportPackets {
  const n = data.count;
  const template = decodeColumn(data.template, n, false);
  // Template parts and numbers: each number is the change from the previous packet of its template.
  const templateParts = data.templates.map((t) => t.split('\u0001'));
  const numberStart = new Uint32Array(n + 1);
  let numberCount = 0;
  for (let i = 0; i < n; i++) {
    numberStart[i] = numberCount;
    numberCount += templateParts[template[i]!]!.length - 1;
  }
  numberStart[n] = numberCount;
  const numbers = decodeColumn(data.numbers, numberCount, false);
  const previous = templateParts.map((parts) => new Float64Array(parts.length - 1));
  for (let i = 0; i < n; i++) {
    const last = previous[template[i]!]!;
    for (let j = 0; j < last.length; j++) {
      const v = numbers[numberStart[i]! + j]!;
      last[j] = last[j]! + (v % 2 === 0 ? v / 2 : -(v + 1) / 2);
      numbers[numberStart[i]! + j] = last[j]!;
    }
  }
  return {
    count: n,
    ids: decodeColumn(data.id, n, true),
    sent: decodeColumn(data.sent, n, true),
    flight: decodeColumn(data.flight, n, true),
    from: decodeColumn(data.from, n, false),
    to: decodeColumn(data.to, n, false),
    protocol: decodeColumn(data.protocol, n, false),
    kind: decodeColumn(data.kind, n, false),
    marks: decodeColumn(data.marks, n, false),
    frameLength: decodeColumn(data.frameLength, n, true),
    rowWords(i) {
      const parts = templateParts[template[i]!]!;
      let text = parts[0]!;
      for (let j = 1; j < parts.length; j++) text += String(numbers[numberStart[i]! + j - 1]) + parts[j];
      return text;
    },
  };
}

/** The plane geometry of label-geometry.ts, handed to the script as functions. */
export interface LabelGeometry {
  textQuad(origin: Point, u: Point, width: number, ascent: number, descent: number): Quad;
  quadsOverlap(q1: Quad, q2: Quad, slack?: number): boolean;
  segmentHitsQuad(s: Segment, quad: Quad): boolean;
  calloutBaselines(anchorYs: readonly number[], ascent: number, descent: number): number[];
}

export function reportApp(data: ReportData, style: ReportStyle, geometry: LabelGeometry): void {
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const REMARK = '\u0002';
  const MARK_LOST = 1;
  const MARK_RETRANSMISSION = 2;
  const MARK_NO_ARRIVAL = 4;
  const packets = decodeReportPackets(data);
  const column = decodeColumn;
  const { count: n, ids, sent, flight, from, to, protocol, kind, marks, frameLength } = packets;
  const rowWords = packets.rowWords;

  function timeText(micros: number): string {
    return (micros / 1000).toFixed(data.decimals);
  }

  function arrival(i: number): number | undefined {
    return marks[i]! & MARK_NO_ARRIVAL ? undefined : sent[i]! + flight[i]!;
  }

  function escapeText(text: string): string {
    return text.replace(/[&<>"]/g, (c) =>
      c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;',
    );
  }

  // ---- the packet list -----------------------------------------------------------------------------

  const scroller = document.getElementById('packet-scroll') as HTMLDivElement | null;
  const tbody = scroller?.querySelector('tbody') ?? null;
  const filterInput = document.getElementById('packet-filter') as HTMLInputElement | null;
  const filterCount = document.getElementById('packet-filter-count');
  let shown: Uint32Array = Uint32Array.from({ length: n }, (_, i) => i);
  let rowHeight = 22;
  let searchable: string[] | undefined;

  function rowHtml(i: number): string {
    const words = rowWords(i).split(REMARK);
    const classes: string[] = [];
    if (marks[i]! & MARK_LOST) classes.push('lost');
    if (marks[i]! & MARK_RETRANSMISSION) classes.push('retransmission');
    const at = arrival(i);
    const cells = [`<td class="num">${ids[i]}</td>`, `<td class="num">${timeText(sent[i]!)}</td>`];
    if (data.link) {
      cells.push(
        `<td class="num">${at !== undefined ? timeText(at) : marks[i]! & MARK_LOST ? '—' : '…'}</td>`,
      );
    }
    cells.push(
      `<td>${escapeText(data.names[from[i]!]!)}</td>`,
      `<td>${escapeText(data.names[to[i]!]!)}</td>`,
      `<td>${escapeText(data.protocols[protocol[i]!]!)}</td>`,
      `<td class="num">${frameLength[i]}</td>`,
      `<td class="info kind-${style.kindNames[kind[i]!]}">${escapeText(words[0]!)}${words
        .slice(1)
        .map((w) => `<span class="tag">${escapeText(w)}</span>`)
        .join('')}</td>`,
    );
    return `<tr data-index="${i}"${classes.length ? ` class="${classes.join(' ')}"` : ''}>${cells.join('')}</tr>`;
  }

  const columnsCount = data.link ? 8 : 7;
  let renderedFrom = -1;
  let renderedTo = -1;

  function renderRows(force: boolean): void {
    if (!scroller || !tbody) return;
    const first = Math.max(0, Math.floor(scroller.scrollTop / rowHeight) - 10);
    const visible = Math.ceil(scroller.clientHeight / rowHeight) + 20;
    const last = Math.min(shown.length, first + visible);
    if (!force && first === renderedFrom && last === renderedTo) return;
    renderedFrom = first;
    renderedTo = last;
    const rows: string[] = [
      `<tr class="spacer" aria-hidden="true"><td colspan="${columnsCount}" style="height:${first * rowHeight}px;padding:0;border:0"></td></tr>`,
    ];
    for (let k = first; k < last; k++) rows.push(rowHtml(shown[k]!));
    rows.push(
      `<tr class="spacer" aria-hidden="true"><td colspan="${columnsCount}" style="height:${(shown.length - last) * rowHeight}px;padding:0;border:0"></td></tr>`,
    );
    tbody.innerHTML = rows.join('');
  }

  function measureRows(): void {
    const row = tbody?.querySelector('tr[data-index]') as HTMLTableRowElement | null;
    if (row && row.offsetHeight > 0 && row.offsetHeight !== rowHeight) {
      rowHeight = row.offsetHeight;
      renderRows(true);
    }
  }

  function applyFilter(): void {
    const words = (filterInput?.value ?? '').toLowerCase().split(/\s+/).filter(Boolean);
    if (words.length === 0) {
      shown = Uint32Array.from({ length: n }, (_, i) => i);
    } else {
      searchable ??= Array.from({ length: n }, (_, i) => {
        const at = arrival(i);
        return [
          ids[i],
          timeText(sent[i]!),
          at !== undefined ? timeText(at) : '',
          data.names[from[i]!],
          data.names[to[i]!],
          data.protocols[protocol[i]!],
          frameLength[i],
          rowWords(i).split(REMARK).join(' '),
        ]
          .join(' ')
          .toLowerCase();
      });
      const keep: number[] = [];
      for (let i = 0; i < n; i++) if (words.every((w) => searchable![i]!.includes(w))) keep.push(i);
      shown = Uint32Array.from(keep);
    }
    if (filterCount) filterCount.textContent = words.length ? `${shown.length} of ${n} packets` : '';
    if (scroller) scroller.scrollTop = 0;
    renderRows(true);
  }

  if (scroller && tbody) {
    renderRows(true);
    measureRows();
    let pending = false;
    scroller.addEventListener('scroll', () => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        renderRows(false);
      });
    });
    tbody.addEventListener('click', (event) => {
      const row = (event.target as Element).closest('tr[data-index]');
      if (row) openLadder(sent[Number(row.getAttribute('data-index'))]! / 1000, true);
    });
  }
  if (filterInput) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    filterInput.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(applyFilter, 120);
    });
  }

  // ---- the ladder of a stretch of packets ----------------------------------------------------------

  const ladderPanel = document.getElementById('ladder-window');
  const LADDER_PACKETS = 40;
  // Label text: 11 px monospace, 0.6 em per character; the box above and below the baseline, and the
  // gap kept from the arrow.
  const LABEL_FONT = 11;
  const LABEL_ASCENT = 9;
  const LABEL_DESCENT = 3;
  const LABEL_GAP = 2.5;

  /** The first packet sent at or after `micros` (n when none). */
  function firstSentAtOrAfter(micros: number): number {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sent[mid]! < micros) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  function svgText(x: number, y: number, text: string, attributes: string): string {
    return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attributes}>${escapeText(text)}</text>`;
  }

  /**
   * Packets [first, last) as a ladder: one lifeline per host, time down at one linear scale (so slopes
   * show delay), segments sent together drawn as one arrow, each label along its arrow on a white halo
   * that leaves the arrow itself visible.
   */
  function ladderSvg(first: number, last: number): string {
    const lifelines = [...data.hosts];
    for (let i = first; i < last; i++) {
      for (const name of [data.names[from[i]!]!, data.names[to[i]!]!]) {
        if (!lifelines.includes(name)) lifelines.push(name);
      }
    }
    // Bursts: consecutive packets with the same ends, times and kind, and nothing special about them.
    const groups: number[][] = [];
    for (let i = first; i < last; i++) {
      const g = groups[groups.length - 1];
      const j = g?.[g.length - 1];
      if (
        g &&
        j !== undefined &&
        from[j] === from[i] &&
        to[j] === to[i] &&
        sent[j] === sent[i] &&
        arrival(j) === arrival(i) &&
        kind[j] === kind[i] &&
        marks[i] === marks[j] &&
        !(marks[i]! & (MARK_LOST | MARK_RETRANSMISSION))
      ) {
        g.push(i);
      } else {
        groups.push([i]);
      }
    }
    // Time runs down at one scale within each span; an idle stretch longer than the rest of the stretch
    // and than four times the longest flight (TIME-WAIT, a long backoff) is cut out as a break, so it
    // does not squeeze the rest.
    let longestFlight = 0;
    for (let i = first; i < last; i++) {
      const at = arrival(i);
      if (at !== undefined) longestFlight = Math.max(longestFlight, at - sent[i]!);
    }
    /** When an arrow's drawing ends: its arrival, or for a lost one a flight later. */
    const endOf = (i: number) => arrival(i) ?? (marks[i]! & MARK_LOST ? sent[i]! + longestFlight : sent[i]!);
    const intervals: [number, number][] = [];
    for (let i = first; i < last; i++) intervals.push([sent[i]!, endOf(i)]);
    intervals.sort((p, q) => p[0] - q[0]);
    const whole = Math.max(...intervals.map((v) => v[1])) - intervals[0]![0];
    // Only a gap that is most of the stretch is cut: shorter waits keep their true length.
    const cut = Math.max(4 * longestFlight, 1000, whole / 2);
    const spans: { t0: number; t1: number; y0: number }[] = [];
    for (const [s0, s1] of intervals) {
      const open = spans[spans.length - 1];
      if (open && s0 - open.t1 <= cut) open.t1 = Math.max(open.t1, s1);
      else spans.push({ t0: s0, t1: s1, y0: 0 });
    }
    const width = 960;
    const left = 130;
    const right = 60;
    const top = 44;
    const BREAK = 34;
    const duration = spans.reduce((sum, sp) => sum + (sp.t1 - sp.t0), 0);
    const plotWanted = Math.min(1400, Math.max(260, groups.length * 30)) - BREAK * (spans.length - 1);
    const scale = duration > 0 ? Math.max(40, plotWanted) / duration : 1;
    let nextY = top;
    for (const sp of spans) {
      sp.y0 = nextY;
      nextY = sp.y0 + (sp.t1 - sp.t0) * scale + BREAK;
    }
    const plot = nextY - BREAK - top;
    const y = (micros: number) => {
      let sp = spans[0]!;
      for (const candidate of spans) if (candidate.t0 <= micros) sp = candidate;
      return sp.y0 + (micros - sp.t0) * scale;
    };
    const gap = lifelines.length > 1 ? (width - left - right) / (lifelines.length - 1) : 0;
    const x = (name: string) => left + lifelines.indexOf(name) * gap;
    const height = top + plot + 40;
    const parts: string[] = [
      `<rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>`,
      `<defs><marker id="ladder-window-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs>`,
    ];
    for (const name of lifelines) {
      parts.push(
        `<line x1="${x(name)}" y1="${top - 8}" x2="${x(name)}" y2="${top + plot + 8}" stroke="#8c959f" stroke-dasharray="4 4"/>`,
        svgText(x(name), top - 16, name, 'text-anchor="middle" font-weight="600" font-size="13"'),
      );
    }
    let lastTimeLabel = Number.NEGATIVE_INFINITY;
    for (const g of groups) {
      const i = g[0]!;
      const ty = y(sent[i]!);
      if (ty - lastTimeLabel >= 13) {
        parts.push(
          svgText(
            left - 60,
            ty + 4,
            `${timeText(sent[i]!)} ms`,
            'text-anchor="end" font-size="11" fill="#57606a"',
          ),
        );
        lastTimeLabel = ty;
      }
    }
    // Arrows first, so every label can be placed knowing all of them.
    const arrows = groups.map((g) => {
      const i = g[0]!;
      const x1 = x(data.names[from[i]!]!);
      const x2 = x(data.names[to[i]!]!);
      const y1 = y(sent[i]!);
      const at = arrival(i);
      const lost = (marks[i]! & MARK_LOST) !== 0;
      // A capture has one time per packet: the arrow is level. A lost frame stops halfway, at an X.
      const y2 = y(at ?? endOf(i));
      const ex = lost ? x1 + (x2 - x1) * 0.5 : x2;
      const ey = lost ? y1 + (y2 - y1) * 0.5 : y2;
      return { g, i, lost, shaft: { a: { x: x1, y: y1 }, b: { x: ex, y: ey } } };
    });
    const shafts = arrows.map((a) => a.shaft);
    const placedLabels: Quad[] = [];
    // The column of crowded-out labels starts just right of the last lifeline; a label along its arrow
    // ends before it (a lost arrow's label, centred on a half-length shaft, could otherwise reach into it).
    const column = Math.max(...lifelines.map((name) => x(name))) + 28;
    const labelsEnd = Math.min(width, column - LABEL_GAP);
    /** Labels with no free place along their arrows (a dense burst): written in a column beside the ladder. */
    const callouts: {
      anchor: { x: number; y: number };
      html: string;
      width: number;
      i: number;
      title: string;
    }[] = [];
    for (const { g, i, lost, shaft } of arrows) {
      const { a, b } = shaft;
      const color = lost
        ? style.dropColor
        : marks[i]! & MARK_RETRANSMISSION
          ? style.retransmissionColor
          : style.kindColors[kind[i]!]!;
      const words = rowWords(i).split(REMARK);
      let label = words[0]!;
      if (g.length > 1) label += ` … ×${g.length} (to #${ids[g[g.length - 1]!]})`;
      const tags = words.slice(1).join(', ');
      const title = g.map((k) => `#${ids[k]} ${rowWords(k).split(REMARK).join(' · ')}`).join('\n');
      const c = (v: number) => v.toFixed(2);
      const arrow = [
        `<title>${escapeText(title)}</title>`,
        `<line x1="${c(a.x)}" y1="${c(a.y)}" x2="${c(b.x)}" y2="${c(b.y)}" stroke="${color}" stroke-width="${g.length > 1 ? 3 : 1.5}"${lost ? ' stroke-dasharray="5 3"' : ' marker-end="url(#ladder-window-arrow)"'}/>`,
      ];
      if (lost) {
        arrow.push(
          `<path d="M${c(b.x - 5)},${c(b.y - 5)} L${c(b.x + 5)},${c(b.y + 5)} M${c(b.x - 5)},${c(b.y + 5)} L${c(b.x + 5)},${c(b.y - 5)}" stroke="${style.dropColor}" stroke-width="2"/>`,
        );
      }
      parts.push(`<g class="packet" data-packet="${ids[i]}">${arrow.join('')}</g>`);
      // The label runs along its arrow, left to right, just above or below it, where it covers no other
      // label and no arrow; where none is free (a dense burst) it goes to the column beside the ladder.
      const length = Math.hypot(b.x - a.x, b.y - a.y) || 1;
      const u =
        b.x >= a.x
          ? { x: (b.x - a.x) / length, y: (b.y - a.y) / length }
          : { x: (a.x - b.x) / length, y: (a.y - b.y) / length };
      const normal = { x: u.y, y: -u.x };
      const chars = [...label].length + (tags ? 1 + [...tags].length + 2 : 0);
      const labelWidth = chars * LABEL_FONT * 0.6;
      let spot: { origin: { x: number; y: number }; quad: Quad } | undefined;
      for (const f of [0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8]) {
        for (const side of [1, -1]) {
          const px = a.x + (b.x - a.x) * f - u.x * (labelWidth / 2);
          const py = a.y + (b.y - a.y) * f - u.y * (labelWidth / 2);
          const lift = side > 0 ? LABEL_GAP + LABEL_DESCENT : -(LABEL_GAP + LABEL_ASCENT);
          const origin = { x: px + normal.x * lift, y: py + normal.y * lift };
          const quad = geometry.textQuad(origin, u, labelWidth, LABEL_ASCENT, LABEL_DESCENT);
          if (quad.some((q) => q.x < 0 || q.x > labelsEnd || q.y < 0 || q.y > height)) continue;
          if (placedLabels.some((other) => geometry.quadsOverlap(quad, other, 0.5))) continue;
          if (shafts.some((sh) => geometry.segmentHitsQuad(sh, quad))) continue;
          spot = { origin, quad };
          break;
        }
        if (spot) break;
      }
      const content = `${escapeText(label)}${tags ? `<tspan dx="${LABEL_FONT * 0.6}" font-weight="600" fill="#bc4c00">[${escapeText(tags)}]</tspan>` : ''}`;
      if (!spot) {
        // Anchored where the arrow ends on the right (a lost one: at its X), so the leader to the
        // column runs where no arrow is.
        const anchor = lost ? b : a.x > b.x ? a : b;
        callouts.push({
          anchor,
          html: `font-size="${LABEL_FONT}" fill="${color}">${content}`,
          width: labelWidth,
          i,
          title,
        });
        continue;
      }
      placedLabels.push(spot.quad);
      const angle = (Math.atan2(u.y, u.x) * 180) / Math.PI;
      const { x: ox, y: oy } = spot.origin;
      parts.push(
        `<g class="packet-label" data-packet="${ids[i]}"><title>${escapeText(title)}</title><text x="${c(ox)}" y="${c(oy)}" transform="rotate(${c(angle)} ${c(ox)} ${c(oy)})" ${`font-size="${LABEL_FONT}" fill="${color}">${content}`}</text></g>`,
      );
    }
    // The column: labels in the order of their arrows, each as near its arrow's height as the one above
    // allows (one line apart), tied to its arrow by a dotted leader. Nothing else is drawn there.
    const two = (v: number) => v.toFixed(2);
    let totalWidth = width;
    let totalHeight = height;
    callouts.sort((p, q) => p.anchor.y - q.anchor.y);
    const baselines = geometry.calloutBaselines(
      callouts.map((callout) => callout.anchor.y),
      LABEL_ASCENT,
      LABEL_DESCENT,
    );
    for (const [k, callout] of callouts.entries()) {
      const calloutY = baselines[k]!;
      const { anchor } = callout;
      parts.push(
        `<line class="label-leader" x1="${two(anchor.x)}" y1="${two(anchor.y)}" x2="${two(column - 3)}" y2="${two(calloutY - LABEL_ASCENT / 2 + 1)}" stroke="#8c959f" stroke-width="0.8" stroke-dasharray="1 2"/>`,
        `<g class="packet-label" data-packet="${ids[callout.i]}" data-callout=""><title>${escapeText(callout.title)}</title><text x="${two(column)}" y="${two(calloutY)}" ${callout.html}</text></g>`,
      );
      totalWidth = Math.max(totalWidth, column + callout.width + 12);
      totalHeight = Math.max(totalHeight, calloutY + LABEL_DESCENT + 12);
    }
    parts[0] = `<rect x="0" y="0" width="${totalWidth}" height="${totalHeight}" fill="#fff"/>`;
    // The time spans, at one scale (what a reader, or a test, measures slopes by), and the breaks.
    spans.forEach((sp, k) => {
      const y1 = sp.y0 + (sp.t1 - sp.t0) * scale;
      parts.push(
        `<line x1="${left - 50}" y1="${sp.y0.toFixed(2)}" x2="${left - 50}" y2="${y1.toFixed(2)}" stroke="#d0d7de" class="time-span" data-t0="${sp.t0 / 1000}" data-t1="${sp.t1 / 1000}"/>`,
      );
      const next = spans[k + 1];
      if (next) {
        parts.push(
          svgText(
            left - 50,
            y1 + BREAK / 2 + 4,
            `≈ ${timeText(next.t0 - sp.t1)} ms without a packet`,
            'font-size="11" fill="#57606a" class="time-break"',
          ),
        );
      }
    });
    return `<svg xmlns="${SVG_NS}" class="ladder ladder-window-svg" data-px-per-ms="${scale * 1000}" viewBox="0 0 ${totalWidth} ${totalHeight}" width="${totalWidth}" height="${totalHeight}" font-family="ui-monospace,Menlo,Consolas,monospace">${parts.join('')}</svg>`;
  }

  let ladderFirst = 0;

  function showLadder(first: number): { first: number; last: number } {
    const start = Math.max(0, Math.min(first, n - LADDER_PACKETS));
    const end = Math.min(n, start + LADDER_PACKETS);
    ladderFirst = start;
    if (ladderPanel && n > 0) {
      ladderPanel.hidden = false;
      const caption = ladderPanel.querySelector('.ladder-window-caption');
      const figure = ladderPanel.querySelector('.ladder-window-figure');
      if (caption) {
        caption.textContent = `Packets #${ids[start]}–#${ids[end - 1]} of ${n}, ${timeText(sent[start]!)}–${timeText(sent[end - 1]!)} ms${data.numbering ? `; ${data.numbering}` : ''}.`;
      }
      if (figure) figure.innerHTML = ladderSvg(start, end);
    }
    return { first: start, last: end };
  }

  function openLadder(timeMs: number, scroll: boolean): { first: number; last: number } {
    const at = Math.min(n - 1, firstSentAtOrAfter(Math.round(timeMs * 1000)));
    const shownRange = showLadder(at - Math.floor(LADDER_PACKETS / 4));
    if (scroll && ladderPanel) ladderPanel.scrollIntoView({ block: 'start' });
    return shownRange;
  }

  if (ladderPanel) {
    ladderPanel
      .querySelector('.ladder-earlier')
      ?.addEventListener('click', () => showLadder(ladderFirst - LADDER_PACKETS));
    ladderPanel
      .querySelector('.ladder-later')
      ?.addEventListener('click', () => showLadder(ladderFirst + LADDER_PACKETS));
    if (!ladderPanel.hidden) showLadder(0);
  }

  // ---- time-sequence graphs ------------------------------------------------------------------------

  interface Graph {
    readonly canvas: HTMLCanvasElement;
    readonly series: TimeSequenceData;
    readonly segTime: Float64Array;
    readonly segSeq: Float64Array;
    readonly segSpan: Float64Array;
    readonly segMarks: Float64Array;
    readonly ackTime: Float64Array;
    readonly ackValue: Float64Array;
    readonly ackEdge: Float64Array;
    readonly sackTime: Float64Array;
    readonly sackLeft: Float64Array;
    readonly sackRight: Float64Array;
    readonly full: { t0: number; t1: number; s0: number; s1: number };
    view: { t0: number; t1: number; s0: number; s1: number };
  }

  const WIDTH = 960;
  const HEIGHT = 420;
  // The plot area of every chart of a connection (line-chart.ts), so this graph's time axis lines up
  // with the SVG charts beneath it.
  const AREA = { left: 78, top: 56, width: WIDTH - 78 - 24, height: HEIGHT - 56 - 50 };
  const COLORS = { data: '#0969da', ack: '#24292f', window: '#1a7f37', sack: '#8250df' };

  function niceStep(range: number, count: number): number {
    const raw = range / Math.max(1, count);
    const power = 10 ** Math.floor(Math.log10(raw));
    const f = raw / power;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * power;
  }

  function byteStep(range: number, count: number): number {
    const raw = range / Math.max(1, count);
    let step = 1;
    while (step < raw) step *= 2;
    return step;
  }

  function byteText(v: number, step: number): string {
    if (step >= 1048576 && v % 1048576 === 0) return `${v / 1048576}M`;
    if (step >= 1024 && v % 1024 === 0) return `${v / 1024}K`;
    return String(v);
  }

  /** Largest index with a[index] <= value, or -1. */
  function lastAtOrBefore(a: Float64Array, value: number): number {
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (a[mid]! <= value) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  function drawGraph(g: Graph): void {
    const ratio = window.devicePixelRatio || 1;
    const ctx = g.canvas.getContext('2d');
    if (!ctx) return;
    if (g.canvas.width !== WIDTH * ratio) {
      g.canvas.width = WIDTH * ratio;
      g.canvas.height = HEIGHT * ratio;
    }
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, WIDTH, HEIGHT);
    const { t0, t1, s0, s1 } = g.view;
    const px = (micros: number) => AREA.left + ((micros - t0) / (t1 - t0)) * AREA.width;
    const py = (seq: number) => AREA.top + AREA.height - ((seq - s0) / (s1 - s0)) * AREA.height;
    ctx.font = '600 14px ui-sans-serif,system-ui,sans-serif';
    ctx.fillStyle = '#24292f';
    ctx.fillText(g.series.title, 12, 22);

    // Axes and grid.
    ctx.font = '11px ui-sans-serif,system-ui,sans-serif';
    ctx.strokeStyle = '#eaeef2';
    ctx.lineWidth = 1;
    const tStep = niceStep((t1 - t0) / 1000, 8) * 1000;
    ctx.textAlign = 'center';
    ctx.fillStyle = '#57606a';
    for (let t = Math.ceil(t0 / tStep) * tStep; t <= t1 + 1e-9; t += tStep) {
      const x = px(t);
      ctx.beginPath();
      ctx.moveTo(x, AREA.top);
      ctx.lineTo(x, AREA.top + AREA.height);
      ctx.stroke();
      const ms = t / 1000;
      ctx.fillText(
        String(Math.abs(ms) < 1e-9 ? 0 : Number(ms.toPrecision(12))),
        x,
        AREA.top + AREA.height + 16,
      );
    }
    const sStep = byteStep(s1 - s0, 6);
    ctx.textAlign = 'right';
    for (let s = Math.ceil(s0 / sStep) * sStep; s <= s1; s += sStep) {
      const y = py(s);
      ctx.beginPath();
      ctx.moveTo(AREA.left, y);
      ctx.lineTo(AREA.left + AREA.width, y);
      ctx.stroke();
      ctx.fillText(byteText(s, sStep), AREA.left - 6, y + 4);
    }
    ctx.textAlign = 'center';
    ctx.fillText('time (ms)', AREA.left + AREA.width / 2, HEIGHT - 12);
    ctx.save();
    ctx.translate(16, AREA.top + AREA.height / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText('relative sequence number (bytes)', 0, 0);
    ctx.restore();
    ctx.strokeStyle = '#8c959f';
    ctx.strokeRect(AREA.left, AREA.top, AREA.width, AREA.height);

    ctx.save();
    ctx.beginPath();
    ctx.rect(AREA.left, AREA.top, AREA.width, AREA.height);
    ctx.clip();
    // ACK line and the window's right edge: staircases stepping when each ACK reaches the sender.
    const firstAck = Math.max(0, lastAtOrBefore(g.ackTime, t0));
    const lastAck = lastAtOrBefore(g.ackTime, t1);
    for (const [values, color] of [
      [g.ackEdge, COLORS.window],
      [g.ackValue, COLORS.ack],
    ] as const) {
      if (g.ackTime.length === 0) continue;
      ctx.strokeStyle = color;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      let previousY = py(values[firstAck]!);
      ctx.moveTo(Math.max(AREA.left, px(g.ackTime[firstAck]!)), previousY);
      for (let k = firstAck + 1; k <= lastAck; k++) {
        const x = px(g.ackTime[k]!);
        ctx.lineTo(x, previousY);
        previousY = py(values[k]!);
        ctx.lineTo(x, previousY);
      }
      ctx.lineTo(AREA.left + AREA.width, previousY);
      ctx.stroke();
    }
    // SACK blocks.
    ctx.strokeStyle = COLORS.sack;
    ctx.globalAlpha = 0.7;
    ctx.lineWidth = 3;
    ctx.beginPath();
    for (
      let k = Math.max(0, lastAtOrBefore(g.sackTime, t0));
      k < g.sackTime.length && g.sackTime[k]! <= t1;
      k++
    ) {
      const x = px(g.sackTime[k]!);
      ctx.moveTo(x, py(g.sackLeft[k]!));
      ctx.lineTo(x, py(g.sackRight[k]!));
    }
    ctx.stroke();
    ctx.globalAlpha = 1;
    // Segments: a bar over the bytes each carries, in the color of what happened to it.
    const firstSeg = Math.max(0, lastAtOrBefore(g.segTime, t0));
    const lastSeg = lastAtOrBefore(g.segTime, t1);
    for (const wanted of [0, 1, 2]) {
      ctx.strokeStyle =
        wanted === 0 ? COLORS.data : wanted === 1 ? style.retransmissionColor : style.dropColor;
      ctx.lineWidth = 2;
      ctx.beginPath();
      for (let k = firstSeg; k <= lastSeg; k++) {
        const m = g.segMarks[k]!;
        const group = m & 2 ? 2 : m & 1 ? 1 : 0;
        if (group !== wanted) continue;
        const x = px(g.segTime[k]!);
        const y0 = py(g.segSeq[k]!);
        const y1 = Math.min(y0 - 2, py(g.segSeq[k]! + g.segSpan[k]!));
        ctx.moveTo(x, y0);
        ctx.lineTo(x, y1);
        // End ticks tell adjacent segments apart once they are tall enough to see.
        if (y0 - y1 >= 6) {
          ctx.moveTo(x - 3, y0);
          ctx.lineTo(x + 3, y0);
          ctx.moveTo(x - 3, y1);
          ctx.lineTo(x + 3, y1);
        }
        if (wanted === 2) {
          ctx.moveTo(x - 4, y1 - 8);
          ctx.lineTo(x + 4, y1 - 2);
          ctx.moveTo(x - 4, y1 - 2);
          ctx.lineTo(x + 4, y1 - 8);
        }
      }
      ctx.stroke();
    }
    ctx.restore();

    // Legend.
    const legend: [string, string][] = [['data', COLORS.data]];
    if (g.segMarks.some((m) => (m & 1) !== 0)) legend.push(['retransmission', style.retransmissionColor]);
    if (g.segMarks.some((m) => (m & 2) !== 0)) legend.push(['lost', style.dropColor]);
    legend.push(['ACK', COLORS.ack], ['receive window', COLORS.window]);
    if (g.sackTime.length) legend.push(['SACK', COLORS.sack]);
    let lx = AREA.left;
    ctx.textAlign = 'left';
    for (const [label, color] of legend) {
      ctx.fillStyle = color;
      ctx.fillRect(lx, 38, 14, 4);
      ctx.fillStyle = '#24292f';
      ctx.fillText(label, lx + 18, 44);
      lx += 18 + ctx.measureText(label).width + 18;
    }
    const zoomed =
      g.view.t0 !== g.full.t0 ||
      g.view.t1 !== g.full.t1 ||
      g.view.s0 !== g.full.s0 ||
      g.view.s1 !== g.full.s1;
    if (zoomed) {
      ctx.textAlign = 'right';
      ctx.fillStyle = '#57606a';
      ctx.fillText('zoomed: double-click for the whole connection', WIDTH - 24, 44);
    }
  }

  const graphs: Graph[] = [];
  document.querySelectorAll<HTMLCanvasElement>('canvas.time-sequence').forEach((canvas) => {
    const series = data.timeSequences[Number(canvas.dataset.index)];
    if (!series) return;
    const segTime = column(series.segmentTime, series.segments, true);
    const segSeq = column(series.segmentSeq, series.segments, true);
    const segSpan = column(series.segmentSpan, series.segments, true);
    const ackValue = column(series.ackValue, series.acks, true);
    const ackEdge = column(series.ackEdge, series.acks, true);
    let top = 0;
    for (let k = 0; k < series.segments; k++) top = Math.max(top, segSeq[k]! + segSpan[k]!);
    let edgeTop = 0;
    for (let k = 0; k < series.acks; k++) {
      top = Math.max(top, ackValue[k]!);
      edgeTop = Math.max(edgeTop, ackEdge[k]!);
    }
    // A window far above everything sent would flatten the data into the floor: the edge then runs
    // above the top until the reader zooms.
    const sTop = edgeTop > 4 * top && top > 0 ? top * 1.25 : Math.max(top, edgeTop, 1);
    const [r0, r1] = series.range;
    const full = { t0: r0, t1: r1 > r0 ? r1 : r0 + 1000, s0: 0, s1: sTop * 1.02 };
    const g: Graph = {
      canvas,
      series,
      segTime,
      segSeq,
      segSpan,
      segMarks: column(series.segmentMarks, series.segments, false),
      ackTime: column(series.ackTime, series.acks, true),
      ackValue,
      ackEdge,
      sackTime: column(series.sackTime, series.sacks, true),
      sackLeft: column(series.sackLeft, series.sacks, true),
      sackRight: column(series.sackRight, series.sacks, true),
      full,
      view: { ...full },
    };
    graphs.push(g);
    drawGraph(g);

    /** The plot point under a mouse event, in the data's units (µs, bytes). */
    const pointOf = (event: MouseEvent) => {
      const box = canvas.getBoundingClientRect();
      const cx = ((event.clientX - box.left) / box.width) * WIDTH;
      const cy = ((event.clientY - box.top) / box.height) * HEIGHT;
      const v = g.view;
      return {
        cx,
        cy,
        t: v.t0 + ((cx - AREA.left) / AREA.width) * (v.t1 - v.t0),
        s: v.s0 + ((AREA.top + AREA.height - cy) / AREA.height) * (v.s1 - v.s0),
      };
    };
    // Wheel: zoom around the pointer (shift: time only). Drag: zoom into the rectangle drawn. Click:
    // the ladder around that time. Double-click: the whole connection again.
    canvas.addEventListener(
      'wheel',
      (event) => {
        event.preventDefault();
        const p = pointOf(event);
        const f = Math.exp(event.deltaY / 500);
        const v = g.view;
        const t0 = p.t - (p.t - v.t0) * f;
        const t1 = p.t + (v.t1 - p.t) * f;
        if (t1 - t0 < 1) return;
        g.view = event.shiftKey
          ? { ...v, t0, t1 }
          : { t0, t1, s0: p.s - (p.s - v.s0) * f, s1: p.s + (v.s1 - p.s) * f };
        drawGraph(g);
      },
      { passive: false },
    );
    let dragFrom: ReturnType<typeof pointOf> | undefined;
    canvas.addEventListener('mousedown', (event) => {
      dragFrom = pointOf(event);
    });
    canvas.addEventListener('mousemove', (event) => {
      if (!dragFrom) return;
      const p = pointOf(event);
      drawGraph(g);
      const ctx = canvas.getContext('2d')!;
      ctx.strokeStyle = '#0969da';
      ctx.setLineDash([4, 3]);
      ctx.strokeRect(dragFrom.cx, dragFrom.cy, p.cx - dragFrom.cx, p.cy - dragFrom.cy);
      ctx.setLineDash([]);
    });
    canvas.addEventListener('mouseup', (event) => {
      const start = dragFrom;
      dragFrom = undefined;
      if (!start) return;
      const p = pointOf(event);
      if (Math.abs(p.cx - start.cx) < 5 && Math.abs(p.cy - start.cy) < 5) {
        drawGraph(g);
        openLadder(p.t / 1000, true);
        return;
      }
      g.view = {
        t0: Math.min(start.t, p.t),
        t1: Math.max(start.t, p.t, Math.min(start.t, p.t) + 1),
        s0: Math.min(start.s, p.s),
        s1: Math.max(start.s, p.s, Math.min(start.s, p.s) + 1),
      };
      drawGraph(g);
    });
    canvas.addEventListener('dblclick', () => {
      g.view = { ...g.full };
      drawGraph(g);
    });
  });

  const handle: ReportHandle = {
    count: n,
    rowText: (i) => rowWords(i),
    shown: () => shown.length,
    openLadder: (t) => openLadder(t, false),
    view: (k) => {
      const v = graphs[k]!.view;
      return { t0: v.t0 / 1000, t1: v.t1 / 1000, s0: v.s0, s1: v.s1 };
    },
    timeAt: (k, cssX) => {
      const g = graphs[k]!;
      const x = (cssX / g.canvas.getBoundingClientRect().width) * WIDTH;
      return (g.view.t0 + ((x - AREA.left) / AREA.width) * (g.view.t1 - g.view.t0)) / 1000;
    },
    readyAt: performance.now(),
  };
  (window as unknown as { tcptsReport: ReportHandle }).tcptsReport = handle;
  document.documentElement.dataset.ready = 'true';
}
