/**
 * Time charts for the lab, drawn on canvas as the run goes: each frame draws only the points that came
 * since the previous one. The axes grow by steps (time by half again, values to the next round number)
 * so a full redraw happens a few dozen times in a run, not every frame. The "now" line is an element
 * over the canvas, moved without touching the plot.
 *
 * `drawUntil(t)` shows the chart as it was at time t (rewind): the points after t are left out.
 */

export type SeriesStyle = 'line' | 'step' | 'dots' | 'bars';

export interface SeriesSpec {
  readonly name: string;
  readonly color: string;
  readonly style: SeriesStyle;
  readonly dash?: readonly number[];
  /** Left out of the legend (e.g. one of several similar series). */
  readonly hidden?: boolean;
}

export interface ChartSpec {
  readonly title: string;
  /** What the chart shows and how to read it. */
  readonly caption: string;
  readonly series: readonly SeriesSpec[];
  /** Writes a value of the y axis ('64 KiB', '12 ms'). */
  readonly format: (value: number) => string;
  readonly height?: number;
}

interface SeriesData {
  readonly spec: SeriesSpec;
  readonly t: number[];
  readonly v: number[];
  /** Second value of a bar (its other end). */
  readonly v2: number[];
  drawn: number;
}

const MARGIN_LEFT = 70;
const MARGIN_RIGHT = 12;
const MARGIN_TOP = 8;
const MARGIN_BOTTOM = 22;
const FALLBACK_WIDTH = 900;

/** 1, 2 or 5 times a power of ten, at least `value`. */
export function niceCeiling(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 5, 10]) if (m * power >= value) return m * power;
  return 10 * power;
}

export class LiveChart {
  readonly element: HTMLElement;
  private readonly plot: HTMLCanvasElement;
  /** The now line: an element moved by a transform, so moving it repaints nothing. */
  private readonly nowLine: HTMLDivElement;
  private readonly series: SeriesData[];
  private width = FALLBACK_WIDTH;
  private readonly height: number;
  private t0 = 0;
  private t1 = 1;
  private yMax = 1;
  /** Fixed time axis (a story chapter); otherwise it grows with the run. */
  private fixedTime = false;
  /** Time up to which points are drawn. */
  private drawnUntil = Number.NEGATIVE_INFINITY;
  private empty = true;

  constructor(
    parent: HTMLElement,
    width: number,
    private readonly spec: ChartSpec,
  ) {
    this.width = width;
    this.height = spec.height ?? 170;
    this.series = spec.series.map((s) => ({ spec: s, t: [], v: [], v2: [], drawn: 0 }));
    const element = document.createElement('figure');
    element.className = 'live-chart';
    const title = document.createElement('figcaption');
    const strong = document.createElement('b');
    strong.textContent = spec.title;
    const legend = document.createElement('span');
    legend.className = 'legend';
    for (const s of spec.series) {
      if (s.hidden) continue;
      const item = document.createElement('span');
      item.className = 'legend-item';
      item.style.setProperty('--swatch', s.color);
      item.textContent = s.name;
      legend.append(item);
    }
    const caption = document.createElement('small');
    caption.textContent = spec.caption;
    title.append(strong, ' ', legend, document.createElement('br'), caption);
    const stack = document.createElement('div');
    stack.className = 'canvas-stack';
    this.plot = document.createElement('canvas');
    this.nowLine = document.createElement('div');
    this.nowLine.className = 'chart-now';
    this.nowLine.style.top = `${MARGIN_TOP}px`;
    this.nowLine.style.height = `${this.height - MARGIN_TOP - MARGIN_BOTTOM}px`;
    stack.append(this.plot, this.nowLine);
    element.append(title, stack);
    parent.append(element);
    this.element = element;
    this.resize();
  }

  /** Sizes the canvases to `width` CSS pixels. */
  resize(width = this.width): void {
    this.width = width;
    const ratio = globalThis.devicePixelRatio || 1;
    const canvas = this.plot;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(this.height * ratio);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${this.height}px`;
    canvas.getContext('2d')!.setTransform(ratio, 0, 0, ratio, 0, 0);
    this.redraw();
  }

  /** Shows only the first `count` series in the legend (the others are unused in this run). */
  limitLegend(count: number): void {
    this.element.querySelectorAll<HTMLElement>('.legend-item').forEach((item, i) => {
      item.hidden = i >= count;
    });
  }

  /** Drops every point and starts the time axis at `t0` (fixed up to `t1` when given). */
  reset(t0: number, t1?: number): void {
    for (const s of this.series) {
      s.t.length = 0;
      s.v.length = 0;
      s.v2.length = 0;
      s.drawn = 0;
    }
    this.t0 = t0;
    this.fixedTime = t1 !== undefined;
    this.t1 = t1 ?? t0 + 1;
    this.yMax = 1;
    this.drawnUntil = t0;
    this.empty = true;
    this.redraw();
  }

  /** Sets the initial span of a growing time axis (e.g. a few round trips). */
  expectSpan(ms: number): void {
    if (!this.fixedTime && this.t1 - this.t0 < ms) {
      this.t1 = this.t0 + ms;
      this.redraw();
    }
  }

  add(series: number, t: number, v: number, v2 = v): void {
    const s = this.series[series]!;
    s.t.push(t);
    s.v.push(v);
    s.v2.push(v2);
  }

  /** True when nothing was added. */
  get isEmpty(): boolean {
    return this.series.every((s) => s.t.length === 0);
  }

  /**
   * Draws what was added since the last call, up to time `now`, and moves the now line there. A `now`
   * earlier than the last one (rewind) draws the plot again up to it.
   */
  drawUntil(now: number): void {
    let rescale = now < this.drawnUntil;
    if (!this.fixedTime && now > this.t1) {
      this.t1 = this.t0 + Math.max((now - this.t0) * 1.5, 1);
      rescale = true;
    }
    for (const s of this.series) {
      for (let i = s.drawn; i < s.t.length; i++) {
        if (s.t[i]! > now) break;
        const top = Math.max(s.v[i]!, s.v2[i]!);
        if (top > this.yMax) {
          this.yMax = niceCeiling(top * 1.1);
          rescale = true;
        }
      }
    }
    this.drawnUntil = now;
    if (rescale) this.redraw();
    else this.drawNew(now);
    this.drawNow(now);
  }

  private x(t: number): number {
    return (
      MARGIN_LEFT + ((t - this.t0) / (this.t1 - this.t0 || 1)) * (this.width - MARGIN_LEFT - MARGIN_RIGHT)
    );
  }

  private y(v: number): number {
    const h = this.height - MARGIN_TOP - MARGIN_BOTTOM;
    return MARGIN_TOP + h - (v / this.yMax) * h;
  }

  /** The whole plot again: axes, then every point up to `until`. */
  private redraw(until = this.drawnUntil): void {
    const g = this.plot.getContext('2d');
    if (!g) return;
    g.clearRect(0, 0, this.width, this.height);
    this.drawAxes(g);
    for (const s of this.series) s.drawn = 0;
    this.empty = true;
    this.drawNew(until);
  }

  private drawAxes(g: CanvasRenderingContext2D): void {
    g.save();
    g.font = '11px ui-sans-serif, system-ui, sans-serif';
    g.fillStyle = '#57606a';
    g.strokeStyle = '#eaeef2';
    g.lineWidth = 1;
    const bottom = this.height - MARGIN_BOTTOM;
    const right = this.width - MARGIN_RIGHT;
    g.textAlign = 'right';
    g.textBaseline = 'middle';
    for (let i = 0; i <= 4; i++) {
      const v = (this.yMax * i) / 4;
      const y = Math.round(this.y(v)) + 0.5;
      g.beginPath();
      g.moveTo(MARGIN_LEFT, y);
      g.lineTo(right, y);
      g.stroke();
      g.fillText(this.spec.format(v), MARGIN_LEFT - 6, y);
    }
    const span = this.t1 - this.t0;
    const step = niceCeiling(span / 8);
    g.textAlign = 'center';
    g.textBaseline = 'top';
    const first = Math.ceil(this.t0 / step) * step;
    for (let t = first; t <= this.t1 + 1e-9; t += step) {
      const x = Math.round(this.x(t)) + 0.5;
      g.beginPath();
      g.moveTo(x, MARGIN_TOP);
      g.lineTo(x, bottom);
      g.stroke();
      g.fillText(formatMs(t, step), x, bottom + 4);
    }
    g.strokeStyle = '#8c959f';
    g.beginPath();
    g.moveTo(MARGIN_LEFT + 0.5, MARGIN_TOP);
    g.lineTo(MARGIN_LEFT + 0.5, bottom + 0.5);
    g.lineTo(right, bottom + 0.5);
    g.stroke();
    g.restore();
  }

  /** Points not drawn yet with t <= until, each series continuing from its last drawn point. */
  private drawNew(until: number): void {
    const g = this.plot.getContext('2d');
    if (!g) return;
    g.save();
    g.beginPath();
    g.rect(MARGIN_LEFT, 0, this.width - MARGIN_LEFT, this.height - MARGIN_BOTTOM + 1);
    g.clip();
    for (const s of this.series) {
      const start = s.drawn;
      let end = start;
      while (end < s.t.length && s.t[end]! <= until) end++;
      if (end === start) continue;
      this.empty = false;
      g.strokeStyle = s.spec.color;
      g.fillStyle = s.spec.color;
      g.lineWidth = 1.5;
      g.setLineDash(s.spec.dash ? [...s.spec.dash] : []);
      const style = s.spec.style;
      if (style === 'dots') {
        // Thousands of dots land on the same pixels in a long run: each pixel is filled once.
        let lastX = Number.NaN;
        let lastY = Number.NaN;
        for (let i = start; i < end; i++) {
          const x = Math.round(this.x(s.t[i]!));
          const y = Math.round(this.y(s.v[i]!));
          if (x === lastX && y === lastY) continue;
          lastX = x;
          lastY = y;
          g.fillRect(x - 1.5, y - 1.5, 3, 3);
        }
      } else if (style === 'bars') {
        g.beginPath();
        for (let i = start; i < end; i++) {
          const x = this.x(s.t[i]!);
          g.moveTo(x, this.y(s.v[i]!));
          g.lineTo(x, this.y(s.v2[i]!));
        }
        g.lineWidth = 3;
        g.stroke();
      } else {
        g.beginPath();
        let from = start;
        if (start > 0) g.moveTo(this.x(s.t[start - 1]!), this.y(s.v[start - 1]!));
        else {
          g.moveTo(this.x(s.t[0]!), this.y(s.v[0]!));
          from = 1;
        }
        // Points that land on the pixel of the last one drawn add nothing but work (a long run has
        // tens of thousands): they are skipped, except the last, so the line ends where the data does.
        let lastX = Number.NaN;
        let lastY = Number.NaN;
        for (let i = from; i < end; i++) {
          const x = this.x(s.t[i]!);
          const y = this.y(s.v[i]!);
          if (i < end - 1 && Math.round(x) === lastX && Math.round(y) === lastY) continue;
          if (style === 'step') g.lineTo(x, this.y(s.v[i - 1]!));
          g.lineTo(x, y);
          lastX = Math.round(x);
          lastY = Math.round(y);
        }
        g.stroke();
      }
      s.drawn = end;
    }
    g.restore();
  }

  private drawNow(now: number): void {
    const shown = now >= this.t0 && now <= this.t1;
    this.nowLine.hidden = !shown;
    if (shown) this.nowLine.style.transform = `translateX(${this.x(now).toFixed(1)}px)`;
  }

  /** Whether anything is drawn (for tests and for hiding an unused chart). */
  get hasDrawn(): boolean {
    return !this.empty;
  }
}

/** A time on an axis whose ticks are `step` ms apart: '250 ms', '1.5 s'. */
export function formatMs(t: number, step: number): string {
  if (step >= 1000 || Math.abs(t) >= 10_000) {
    const decimals = step >= 1000 ? 0 : step >= 100 ? 1 : 2;
    return `${(t / 1000).toFixed(decimals)} s`;
  }
  const decimals = step >= 1 ? 0 : step >= 0.1 ? 1 : 2;
  return `${t.toFixed(decimals)} ms`;
}

/** Bytes on an axis: '0', '48 KiB', '1.5 MiB'. */
export function formatBytes(n: number): string {
  if (n === 0) return '0';
  if (n < 1024) return `${Math.round(n)} B`;
  if (n < 1024 * 1024) return `${+(n / 1024).toFixed(1)} KiB`;
  return `${+(n / 1024 / 1024).toFixed(2)} MiB`;
}
