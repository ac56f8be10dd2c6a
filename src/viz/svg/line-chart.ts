/**
 * A small x/y chart of named series (lines, staircases or dots), the base of the congestion-window and
 * RTT pictures. A series may have gaps: a point whose y is undefined breaks its line.
 */
import {
  type LegendEntry,
  LinearScale,
  niceByteTicks,
  niceTicks,
  type PlotArea,
  renderAxes,
  renderLegend,
  renderTitle,
} from './chart-axes.js';
import { element, polyline, svgDocument, textElement } from './svg-markup.js';

export interface ChartSeries {
  readonly name: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number | undefined])[];
  /** 'step' (hold each value until the next point, default), 'line', or 'dots'. */
  readonly style?: 'step' | 'line' | 'dots';
  readonly dashed?: boolean;
  /** Continue the last value to the right edge (for quantities that hold until changed). */
  readonly holdToEnd?: boolean;
}

export interface LineChartSpec {
  readonly title: string;
  readonly width?: number;
  readonly height?: number;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly ChartSeries[];
  readonly yFormat?: (value: number, ticks: readonly number[]) => string;
  /** Byte quantities: ticks powers of two apart. */
  readonly yBytes?: boolean;
  /** Class names added to the root element. */
  readonly className?: string;
  readonly emptyText?: string;
  /** The x domain, fixed (e.g. one connection's span, shared by all its charts so they line up). */
  readonly xRange?: readonly [number, number];
  /** The y axis stops here; a series above it is drawn along the top edge (the caller says so). */
  readonly yLimit?: number;
}

export function renderLineChart(spec: LineChartSpec): string {
  const width = spec.width ?? 900;
  const height = spec.height ?? 300;
  const area: PlotArea = { left: 78, top: 56, width: width - 78 - 24, height: height - 56 - 50 };
  const parts: string[] = [
    element('rect', { x: 0, y: 0, width, height, fill: '#ffffff' }),
    renderTitle(12, 22, spec.title),
  ];
  const className = `chart${spec.className ? ` ${spec.className}` : ''}`;

  let xMin = Number.POSITIVE_INFINITY;
  let xMax = Number.NEGATIVE_INFINITY;
  let yMax = 0;
  for (const s of spec.series) {
    for (const [px, py] of s.points) {
      xMin = Math.min(xMin, px);
      xMax = Math.max(xMax, px);
      if (py !== undefined) yMax = Math.max(yMax, py);
    }
  }
  if (spec.yLimit !== undefined) yMax = Math.min(yMax, spec.yLimit);
  if (spec.xRange && Number.isFinite(xMin)) [xMin, xMax] = spec.xRange;
  if (!Number.isFinite(xMin)) {
    parts.push(
      textElement(area.left, area.top + 20, spec.emptyText ?? 'Nothing to plot.', { fill: '#57606a' }),
    );
    return svgDocument(width, height, parts, { class: className, role: 'img', 'aria-label': spec.title });
  }
  const xTicks = sharedTimeTicks(xMin, xMax, spec.xRange);
  const yTicks = spec.yBytes ? niceByteTicks(0, yMax, 5) : niceTicks(0, yMax, 5);
  const x = new LinearScale(xTicks.min, xTicks.max, area.left, area.left + area.width);
  const y = new LinearScale(yTicks.min, yTicks.max, area.top + area.height, area.top);
  parts.push(
    renderAxes({
      area,
      x: { ticks: xTicks.ticks, scale: x, label: spec.xLabel },
      y: { ticks: yTicks.ticks, scale: y, label: spec.yLabel, format: spec.yFormat },
    }),
  );

  const legend: LegendEntry[] = [];
  for (const s of spec.series) {
    if (s.points.length === 0) continue;
    const style = s.style ?? 'step';
    legend.push({
      label: s.name,
      color: s.color,
      shape: style === 'dots' ? 'dot' : s.dashed ? 'dashed' : 'line',
    });
    if (style === 'dots') {
      // Dots that land on the same pixel are drawn once: 20,000 RTT samples of a long run are a few
      // hundred visible dots.
      const seen = new Set<string>();
      const dots: string[] = [];
      for (const [px, py] of s.points) {
        if (py === undefined) continue;
        const cx = x.map(px);
        const cy = y.map(Math.min(py, yTicks.max));
        const key = `${Math.round(cx)},${Math.round(cy)}`;
        if (seen.has(key)) continue;
        seen.add(key);
        dots.push(element('circle', { cx, cy, r: 2.5, fill: s.color }));
      }
      parts.push(element('g', { class: 'series', 'data-series': s.name }, dots));
      continue;
    }
    // Split at gaps; a staircase holds its last value until the next point (or the edge).
    const runs: [number, number][][] = [];
    let run: [number, number][] | undefined;
    s.points.forEach(([px, py], i) => {
      if (py === undefined) {
        if (run && style === 'step') run.push([x.map(px), run[run.length - 1]![1]]);
        run = undefined;
        return;
      }
      if (!run) {
        run = [];
        runs.push(run);
      }
      run.push([x.map(px), y.map(Math.min(py, yTicks.max))]);
      if (i === s.points.length - 1 && s.holdToEnd) run.push([area.left + area.width, y.map(py)]);
    });
    const lines = runs.map((r) =>
      polyline(
        onePixelColumns(r),
        { stroke: s.color, 'stroke-width': 1.75, 'stroke-dasharray': s.dashed ? '6 4' : undefined },
        style === 'step',
      ),
    );
    parts.push(element('g', { class: 'series', 'data-series': s.name }, lines));
  }
  parts.push(renderLegend(area.left, 44, legend));
  return svgDocument(width, height, parts, { class: className, role: 'img', 'aria-label': spec.title });
}

/**
 * Time ticks: round ones over the data, or, for a fixed range shared by several charts, exactly that
 * range (ticks inside it), so every chart of a connection maps a time to the same x.
 */
export function sharedTimeTicks(
  min: number,
  max: number,
  range: readonly [number, number] | undefined,
): { ticks: number[]; min: number; max: number } {
  if (!range) return niceTicks(min, max, 8);
  const [from, to] = range[1] > range[0] ? range : [range[0], range[0] + 1];
  const ticks = niceTicks(from, to, 8).ticks.filter((t) => t >= from - 1e-9 && t <= to + 1e-9);
  return { ticks, min: from, max: to };
}

/**
 * The vertices of a line that a reader can tell apart: within one pixel column only the first, the
 * lowest, the highest and the last are kept, in their order, which draws the same picture (a run's
 * 20,000 cwnd samples become at most four per pixel across).
 */
export function onePixelColumns(points: readonly [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  let start = 0;
  while (start < points.length) {
    const column = Math.round(points[start]![0]);
    let end = start + 1;
    while (end < points.length && Math.round(points[end]![0]) === column) end++;
    if (end - start <= 4) {
      for (let i = start; i < end; i++) out.push(points[i]!);
    } else {
      let low = start;
      let high = start;
      for (let i = start; i < end; i++) {
        if (points[i]![1] < points[low]![1]) low = i;
        if (points[i]![1] > points[high]![1]) high = i;
      }
      for (const i of [...new Set([start, low, high, end - 1])].sort((a, b) => a - b)) out.push(points[i]!);
    }
    start = end;
  }
  return out;
}
