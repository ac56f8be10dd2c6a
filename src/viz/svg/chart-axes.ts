/**
 * Scales, "nice" tick values and the frame of an x/y chart (axes, grid, tick labels, titles, legend),
 * shared by the time-sequence, congestion-window, RTT and state-timeline pictures.
 */
import { element, escapeXml, line, num, textElement } from './svg-markup.js';

export class LinearScale {
  constructor(
    readonly domainMin: number,
    readonly domainMax: number,
    readonly rangeMin: number,
    readonly rangeMax: number,
  ) {}

  map(value: number): number {
    const span = this.domainMax - this.domainMin;
    if (span === 0) return (this.rangeMin + this.rangeMax) / 2;
    return this.rangeMin + ((value - this.domainMin) / span) * (this.rangeMax - this.rangeMin);
  }
}

/**
 * A time axis that stays linear for the short intervals between the given instants and shortens the long
 * ones logarithmically, so a 60-second TIME-WAIT does not squeeze a 30-millisecond handshake into a
 * pixel. An interval counts as long when it exceeds four times the median interval.
 */
export class CompressedTimeScale {
  /** The instants, sorted and distinct, and where each one is drawn. */
  readonly knots: readonly number[];
  readonly positions: readonly number[];
  /** The intervals drawn shorter than they were. */
  readonly shortened: readonly (readonly [number, number])[];

  constructor(times: readonly number[], rangeMin: number, rangeMax: number) {
    const knots = [...new Set(times.filter(Number.isFinite))].sort((a, b) => a - b);
    if (knots.length === 0) knots.push(0);
    if (knots.length === 1) knots.push(knots[0]! + 1);
    const gaps = knots.slice(1).map((t, i) => t - knots[i]!);
    const sorted = [...gaps].sort((a, b) => a - b);
    const limit = 4 * sorted[Math.floor(sorted.length / 2)]!;
    const shortened: [number, number][] = [];
    const widths = gaps.map((dt, i) => {
      if (dt <= limit) return dt;
      shortened.push([knots[i]!, knots[i + 1]!]);
      return limit * (1 + Math.log2(dt / limit));
    });
    const total = widths.reduce((a, b) => a + b, 0);
    const positions = [rangeMin];
    for (const w of widths)
      positions.push(positions[positions.length - 1]! + (w / total) * (rangeMax - rangeMin));
    this.knots = knots;
    this.positions = positions;
    this.shortened = shortened;
  }

  map(t: number): number {
    const k = this.knots;
    const p = this.positions;
    if (t <= k[0]!) return p[0]!;
    if (t >= k[k.length - 1]!) return p[p.length - 1]!;
    let lo = 0;
    let hi = k.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (k[mid]! <= t) lo = mid;
      else hi = mid;
    }
    return p[lo]! + ((t - k[lo]!) / (k[hi]! - k[lo]!)) * (p[hi]! - p[lo]!);
  }
}

/**
 * About `count` round tick values (1, 2 or 5 times a power of ten apart) covering [min, max], and the
 * domain widened to the outer ticks.
 */
export function niceTicks(
  min: number,
  max: number,
  count = 6,
): { ticks: number[]; min: number; max: number } {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return { ticks: [0], min: 0, max: 1 };
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const lo = Math.floor(min / step) * step;
  const hi = Math.ceil(max / step) * step;
  // Rounded to the step's decimals so 3 * 0.2 is 0.6, not 0.6000000000000001.
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  const ticks: number[] = [];
  for (let i = 0; lo + i * step <= hi + step / 2; i++) ticks.push(Number((lo + i * step).toFixed(decimals)));
  return { ticks, min: lo, max: hi };
}

/**
 * Ticks for byte quantities: powers of two apart (256, 1K, 4K, 64K ...), so windows and buffer sizes,
 * which are usually binary, fall on grid lines.
 */
export function niceByteTicks(
  min: number,
  max: number,
  count = 6,
): { ticks: number[]; min: number; max: number } {
  if (!Number.isFinite(min) || !Number.isFinite(max) || max - min < 8) return niceTicks(min, max, count);
  const raw = (max - min) / Math.max(1, count);
  const step = 2 ** Math.ceil(Math.log2(raw));
  const lo = Math.floor(min / step) * step;
  const hi = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  for (let v = lo; v <= hi; v += step) ticks.push(v);
  return { ticks, min: lo, max: hi };
}

/** Tick text: thousands grouped with thin spaces avoided (plain), decimals only when the step needs them. */
export function tickText(value: number, ticks: readonly number[]): string {
  const step = ticks.length > 1 ? Math.abs(ticks[1]! - ticks[0]!) : 1;
  const decimals = step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(step)));
  const text = value.toFixed(decimals);
  return text === '-0' ? '0' : text;
}

/** Bytes as a short tick label: 0, 512, 4K, 1.5M (binary multiples, as TCP windows are usually seen). */
export function byteTickText(value: number, ticks: readonly number[]): string {
  const step = ticks.length > 1 ? Math.abs(ticks[1]! - ticks[0]!) : 1;
  const unit = (size: number, suffix: string) => {
    const n = value / size;
    return `${Number.isInteger(n) ? n : n.toFixed(step >= size ? 0 : 1)}${suffix}`;
  };
  if (value !== 0 && step >= 512 * 1024) return unit(1024 * 1024, 'M');
  if (value !== 0 && step >= 512) return unit(1024, 'K');
  return tickText(value, ticks);
}

export interface PlotArea {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

export interface AxesSpec {
  readonly area: PlotArea;
  readonly x: {
    readonly ticks: readonly number[];
    readonly scale: LinearScale;
    readonly label: string;
    readonly format?: (v: number, ticks: readonly number[]) => string;
  };
  readonly y: {
    readonly ticks: readonly number[];
    readonly scale: LinearScale;
    readonly label: string;
    readonly format?: (v: number, ticks: readonly number[]) => string;
  };
}

/** Grid lines, axis lines, tick labels and axis titles. */
export function renderAxes(spec: AxesSpec): string {
  const { area, x, y } = spec;
  const bottom = area.top + area.height;
  const right = area.left + area.width;
  const parts: string[] = [];
  const formatX = x.format ?? tickText;
  const formatY = y.format ?? tickText;
  for (const t of x.ticks) {
    const px = x.scale.map(t);
    if (px < area.left - 0.5 || px > right + 0.5) continue;
    parts.push(line(px, area.top, px, bottom, { stroke: '#eaeef2' }));
    parts.push(
      textElement(px, bottom + 16, formatX(t, x.ticks), { 'text-anchor': 'middle', fill: '#57606a' }),
    );
  }
  for (const t of y.ticks) {
    const py = y.scale.map(t);
    if (py < area.top - 0.5 || py > bottom + 0.5) continue;
    parts.push(line(area.left, py, right, py, { stroke: '#eaeef2' }));
    parts.push(
      textElement(area.left - 6, py + 4, formatY(t, y.ticks), { 'text-anchor': 'end', fill: '#57606a' }),
    );
  }
  parts.push(
    element('rect', {
      x: area.left,
      y: area.top,
      width: area.width,
      height: area.height,
      fill: 'none',
      stroke: '#8c959f',
    }),
  );
  parts.push(
    textElement(area.left + area.width / 2, bottom + 34, x.label, {
      'text-anchor': 'middle',
      fill: '#24292f',
    }),
  );
  const yLabelX = 14;
  const yLabelY = area.top + area.height / 2;
  parts.push(
    textElement(yLabelX, yLabelY, y.label, {
      'text-anchor': 'middle',
      fill: '#24292f',
      transform: `rotate(-90 ${num(yLabelX)} ${num(yLabelY)})`,
    }),
  );
  return parts.join('');
}

export interface LegendEntry {
  readonly label: string;
  readonly color: string;
  /** 'line' (default), 'dashed', 'bar' or 'dot'. */
  readonly shape?: 'line' | 'dashed' | 'bar' | 'dot' | 'box';
}

const LEGEND_ROW = 16;

function legendItemWidth(e: LegendEntry): number {
  return 18 + e.label.length * 6.8 + 16;
}

/** How many rows `renderLegend` needs for these entries within `maxWidth`. */
export function legendRows(entries: readonly LegendEntry[], maxWidth = Number.POSITIVE_INFINITY): number {
  let rows = entries.length ? 1 : 0;
  let used = 0;
  for (const e of entries) {
    const w = legendItemWidth(e);
    if (used > 0 && used + w > maxWidth) {
      rows++;
      used = 0;
    }
    used += w;
  }
  return rows;
}

/** A legend starting at (x, y), wrapping onto further rows below when wider than `maxWidth`. */
export function renderLegend(
  x: number,
  y: number,
  entries: readonly LegendEntry[],
  maxWidth = Number.POSITIVE_INFINITY,
): string {
  const parts: string[] = [];
  let cx = x;
  let cy = y;
  for (const e of entries) {
    const w = legendItemWidth(e);
    if (cx > x && cx - x + w > maxWidth) {
      cx = x;
      cy += LEGEND_ROW;
    }
    const shape = e.shape ?? 'line';
    if (shape === 'bar')
      parts.push(line(cx + 7, cy - 9, cx + 7, cy + 1, { stroke: e.color, 'stroke-width': 3 }));
    else if (shape === 'dot') parts.push(element('circle', { cx: cx + 7, cy: cy - 4, r: 3, fill: e.color }));
    else if (shape === 'box') {
      parts.push(
        element('rect', {
          x: cx,
          y: cy - 10,
          width: 14,
          height: 10,
          fill: e.color,
          stroke: '#57606a',
          'stroke-width': 0.5,
        }),
      );
    } else {
      parts.push(
        line(cx, cy - 4, cx + 14, cy - 4, {
          stroke: e.color,
          'stroke-width': 2,
          'stroke-dasharray': shape === 'dashed' ? '4 3' : undefined,
        }),
      );
    }
    parts.push(textElement(cx + 18, cy, e.label, { fill: '#24292f' }));
    cx += w;
  }
  return element('g', { class: 'legend' }, parts);
}

/** The chart title, top left. */
export function renderTitle(x: number, y: number, title: string): string {
  return element('text', { x, y, 'font-size': 14, 'font-weight': 600, fill: '#24292f' }, escapeXml(title));
}
