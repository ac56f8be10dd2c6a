/**
 * The lab's ladder diagram, built as the run goes: a packet's arrow is appended when it is sent, its tip
 * follows the "now" line while it travels, and it is finished (arrow head or loss mark, label) when the
 * link delivers or loses it. Nothing already drawn is drawn again, so a frame costs what happened in it.
 *
 * Time runs down, linearly (`scale` px per ms), so slopes show delay. A silence longer than `gapMs`
 * (waiting out a retransmission timeout, TIME-WAIT) is cut short and marked with ≈ and its length. Only
 * the newest MAX_ITEMS items stay in the page; `replay` draws the ladder again as it was at any instant
 * (rewind), laid out exactly as it was live, since the layout depends on the packets' times alone.
 *
 * Class names and data attributes are those of the report's ladder (svg/ladder-svg.ts): `g.packet`
 * with `packet-KIND`, `packet-lost`, `packet-retransmission`, `data-packet(s)`, `g.packet-label`.
 */
import type { PacketLabelOptions } from '../src/viz/packet-label.js';
import { dropText, packetKind, packetLabel, packetRemarks } from '../src/viz/packet-label.js';
import { DROP_COLOR, RETRANSMISSION_COLOR, SVG_PACKET_COLOR } from '../src/viz/style-palette.js';
import type { LivePacket } from './live-conversation.js';

const SVG = 'http://www.w3.org/2000/svg';
/** Items (arrows, state names, breaks) kept in the page; older ones are dropped from the DOM. */
export const MAX_ITEMS = 300;
const TRIM_BATCH = 60;
/** Travelling packets moved per frame; the others jump to their arrival. */
const MOVING_LINES = 32;
const TOP = 28;
const LABEL_GAP = 13;
const SIDE = 150;
/** px the lifelines reach below the lowest drawing each time they grow. */
const GROWTH = 3000;

export interface LadderLayout {
  /** Hosts left and right. */
  readonly hosts: readonly [string, string];
  /** px per ms of virtual time. */
  readonly scale: number;
  /** A silence longer than this (ms) is cut short. */
  readonly gapMs: number;
  /** One-way delay of the link, ms: where a travelling packet is expected to be. */
  readonly delayMs: number;
}

interface Span {
  /** Virtual time and y where the span begins. */
  readonly t0: number;
  readonly y0: number;
  /** Time of the last thing drawn before the break that opened this span. */
  readonly after: number;
}

interface Arrow {
  readonly group: SVGGElement;
  readonly packets: LivePacket[];
  /** The line of each packet, in the order of `packets` (none when the arrow is not drawn). */
  shaft: SVGLineElement[];
  labelled: boolean;
  /** In the page (false: laid out only, as more came in one frame than a frame draws). */
  readonly drawn: boolean;
}

function svg<K extends keyof SVGElementTagNameMap>(
  name: K,
  attributes: Record<string, string | number>,
  text?: string,
): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attributes)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function plainData(p: LivePacket): boolean {
  const s = p.tcp;
  return !!s && s.length > 0 && !/SYN|FIN|RST/.test(s.flags) && !s.retransmission && !s.windowProbe;
}

export class LiveLadder {
  readonly svg: SVGSVGElement;
  private readonly items: SVGGElement;
  private readonly nowLine: SVGLineElement;
  private readonly moving: SVGSVGElement;
  private readonly nowText: SVGTextElement;
  private readonly lifelines: SVGLineElement[];
  private readonly names: SVGTextElement[];
  private readonly head: SVGSVGElement;
  private layout: LadderLayout;
  private width = 900;
  private spans: Span[] = [];
  /** Latest time anything drawn happened at (a send, an arrival). */
  private lastTime = 0;
  /** Packets drawn on their way, by id: their arrow and their place in it. */
  private readonly inFlight = new Map<number, { arrow: Arrow; index: number }>();
  /** Packets whose arrival has not been taken into the layout yet. */
  private pending: LivePacket[] = [];
  private readonly byPacket = new Map<number, Arrow>();
  private lastArrow: Arrow | undefined;
  private lastLabelY: [number, number] = [-1e9, -1e9];
  private lastStateY = new Map<string, number>();
  private bottom = TOP;
  /** Smallest y still in the page (older items were dropped): the camera stops there. */
  private top = 0;
  private follow = true;
  /** y shown at the top of the viewport. */
  private camera = 0;
  private nowY = 0;
  private viewHeight = 600;
  /** y down to which the lifelines are drawn: extended in large steps. */
  private allocated = 0;
  /** Draw into the DOM (false while laying out what will not be shown). */
  render = true;
  labels: PacketLabelOptions = { relative: true };

  constructor(
    private readonly container: HTMLElement,
    layout: LadderLayout,
  ) {
    this.layout = layout;
    this.svg = svg('svg', { class: 'ladder', role: 'img' });
    const frame = svg('g', { class: 'frame' });
    this.lifelines = [0, 1].map(() => svg('line', { class: 'lifeline' }));
    this.names = [0, 1].map(() => svg('text', { class: 'host-name', 'text-anchor': 'middle' }));
    this.items = svg('g', { class: 'items' });
    this.nowLine = svg('line', { class: 'now' });
    this.nowText = svg('text', { class: 'now-label' });
    frame.append(...this.lifelines);
    this.svg.append(frame, this.items);
    // What moves every frame (the now line, packets on their way) is drawn on a layer of its own, so the
    // drawing underneath is not painted again each frame; a packet's line joins it when it lands.
    this.moving = svg('svg', { class: 'ladder-moving' });
    this.moving.append(this.nowLine, this.nowText);
    container.replaceChildren(this.svg, this.moving);
    // The hosts' names stay above the moving drawing.
    this.head = svg('svg', { class: 'ladder-head', height: 24 });
    this.head.append(...this.names);
    container.before(this.head);
    container.classList.add('ladder-viewport');
    container.addEventListener('mouseover', (event) => {
      const group = (event.target as Element).closest?.('g.packet');
      const arrow = group ? this.byPacket.get(Number(group.getAttribute('data-packet'))) : undefined;
      if (arrow) this.tooltip(arrow);
    });
    // The view moves by a transform, which the browser composites without laying the page out again;
    // the wheel moves it by hand, and following the now line stops until the line is back in view.
    container.addEventListener(
      'wheel',
      (event) => {
        event.preventDefault();
        this.camera = Math.max(this.top, Math.min(this.bottom, this.camera + event.deltaY));
        this.follow = this.nowY >= this.camera && this.nowY <= this.camera + this.viewHeight;
        this.placeCamera();
      },
      { passive: false },
    );
    this.reset(layout);
  }

  reset(layout: LadderLayout = this.layout): void {
    this.layout = layout;
    this.width = Math.max(640, Math.floor(this.container.clientWidth || 900));
    this.viewHeight = this.container.clientHeight || 600;
    this.camera = 0;
    this.allocated = 0;
    this.items.replaceChildren();
    this.moving.replaceChildren(this.nowLine, this.nowText);
    this.spans = [{ t0: 0, y0: TOP + 8, after: 0 }];
    this.lastTime = Number.NaN;
    this.pending = [];
    this.inFlight.clear();
    this.byPacket.clear();
    this.lastArrow = undefined;
    this.lastLabelY = [-1e9, -1e9];
    this.lastStateY.clear();
    this.bottom = TOP + 40;
    this.top = 0;
    this.follow = true;
    this.names.forEach((name, i) => {
      name.textContent = this.layout.hosts[i]!;
      name.setAttribute('x', String(this.hostX(i)));
      name.setAttribute('y', '18');
    });
    this.head.setAttribute('width', String(this.width));
    this.frame();
  }

  private hostX(i: number): number {
    return i === 0 ? SIDE : this.width - SIDE;
  }

  private side(host: string): number {
    return host === this.layout.hosts[0] ? 0 : 1;
  }

  /** y of virtual time t: linear within a span, squeezed across a break. */
  y(t: number): number {
    const spans = this.spans;
    let i = spans.length - 1;
    while (i > 0 && spans[i]!.t0 > t) i--;
    const span = spans[i]!;
    const next = spans[i + 1];
    const scale = this.layout.scale;
    if (next && t > next.after) {
      // Inside a cut silence: the break's few pixels stand for all of it.
      const yAfter = span.y0 + (next.after - span.t0) * scale;
      return yAfter + ((t - next.after) / (next.t0 - next.after || 1)) * (next.y0 - yAfter);
    }
    return span.y0 + (Math.max(t, span.t0) - span.t0) * scale;
  }

  private breakHeight(): number {
    return Math.min(48, this.layout.gapMs * this.layout.scale);
  }

  /**
   * Takes the time `t` of the next thing to draw. Arrivals up to `t` count as drawn moments; a silence
   * longer than gapMs since the last moment, with nothing on the way, opens a new span after a break.
   * This depends on the packets' times only, so a replay lays everything out as the live run did.
   */
  private advanceTo(t: number): void {
    const travelling = this.fold(t);
    if (Number.isNaN(this.lastTime)) {
      this.spans = [{ t0: t, y0: TOP + 8, after: t }];
      this.lastTime = t;
      return;
    }
    if (t - this.lastTime > this.layout.gapMs && !travelling) {
      const y0 = this.y(this.lastTime) + this.breakHeight();
      const silence = t - this.lastTime;
      this.spans.push({ t0: t, y0, after: this.lastTime });
      if (this.render) this.drawBreak(y0 - this.breakHeight() / 2, silence);
    }
    if (t > this.lastTime) this.lastTime = t;
  }

  /** Takes arrivals up to `t` into the layout; true when a packet is still on the way at `t`. */
  private fold(t: number): boolean {
    let kept = 0;
    for (const p of this.pending) {
      const end = p.dropped ? p.sentAt : p.arrivedAt;
      if (end !== undefined && end <= t) {
        if (end > this.lastTime) this.lastTime = end;
      } else this.pending[kept++] = p;
    }
    this.pending.length = kept;
    return kept > 0;
  }

  private drawBreak(y: number, silence: number): void {
    const g = svg('g', { class: 'break', 'data-y': y });
    for (const i of [0, 1]) {
      g.append(
        svg('text', { x: this.hostX(i), y: y + 4, 'text-anchor': 'middle', class: 'break-mark' }, '≈'),
      );
    }
    g.append(
      svg(
        'text',
        { x: this.width / 2, y: y + 4, 'text-anchor': 'middle', class: 'break-text' },
        `≈ ${formatSilence(silence)} later`,
      ),
    );
    this.addItem(g);
  }

  private addItem(g: SVGGElement): void {
    this.items.append(g);
    if (this.items.childElementCount <= MAX_ITEMS + TRIM_BATCH) return;
    // Old items leave in batches. Only the camera's upper stop moves: the SVG keeps its size and
    // viewBox (see `frame`), so dropping them costs no layout of what stays.
    while (this.items.childElementCount > MAX_ITEMS) {
      const first = this.items.firstElementChild as SVGGElement;
      const id = Number(first.getAttribute('data-packet'));
      if (id) {
        const arrow = this.byPacket.get(id);
        for (const line of arrow?.shaft ?? []) line.remove();
        for (const p of arrow?.packets ?? []) {
          this.byPacket.delete(p.id);
          this.inFlight.delete(p.id);
        }
      }
      first.remove();
    }
    const next = this.items.firstElementChild;
    this.top = Math.max(0, Number(next?.getAttribute('data-y') ?? 0) - TOP - 10);
  }

  /** A packet was sent. */
  packetSent(p: LivePacket): void {
    this.advanceTo(p.sentAt);
    this.pending.push(p);
    const last = this.lastArrow;
    const y = this.y(p.sentAt);
    if (y > this.bottom) this.bottom = y;
    // Segments of one burst (same sender, same instant) share one label. A burst laid out without being
    // drawn is not joined by segments that are drawn (their lines would have no arrow in the page).
    if (
      last &&
      last.drawn === this.render &&
      last.packets[0]!.from === p.from &&
      last.packets[0]!.sentAt === p.sentAt &&
      plainData(last.packets[0]!) &&
      plainData(p)
    ) {
      last.packets.push(p);
      this.byPacket.set(p.id, last);
      if (!this.render) return;
      last.group.setAttribute('data-packets', last.packets.map((q) => q.id).join(' '));
      last.group.classList.add('packet-burst');
      const shaft = this.shaftFor(p);
      last.shaft.push(shaft);
      this.inFlight.set(p.id, { arrow: last, index: last.packets.length - 1 });
      return;
    }
    const kind = packetKind(p);
    const classes = ['packet', `packet-${kind}`];
    if (p.tcp?.retransmission) classes.push('packet-retransmission');
    const group = svg('g', {
      class: classes.join(' '),
      'data-packet': p.id,
      'data-t': p.sentAt,
      'data-y': y,
    });
    const arrow: Arrow = { group, packets: [p], shaft: [], labelled: false, drawn: this.render };
    this.lastArrow = arrow;
    this.byPacket.set(p.id, arrow);
    if (!this.render) return;
    arrow.shaft.push(this.shaftFor(p));
    this.inFlight.set(p.id, { arrow, index: 0 });
    this.addItem(group);
  }

  private shaftFor(p: LivePacket): SVGLineElement {
    const from = this.side(p.from);
    const x = this.hostX(from);
    const y = this.y(p.sentAt);
    const color = p.tcp?.retransmission ? RETRANSMISSION_COLOR : SVG_PACKET_COLOR[packetKind(p)];
    const line = svg('line', { x1: x, y1: y, x2: x, y2: y, stroke: color, 'data-packet': p.id });
    this.moving.append(line);
    return line;
  }

  private finish(arrow: Arrow, p: LivePacket): void {
    this.inFlight.delete(p.id);
    const index = arrow.packets.indexOf(p);
    const line = arrow.shaft[index];
    if (!line) return;
    // A segment of a burst that arrived with the one before it would be drawn on top of it: one line
    // shows both (a burst of 40 segments was 40 lines and heads in the same place, each of them work for
    // every frame's paint). The label still counts every segment.
    const before = arrow.packets[index - 1];
    if (before && !p.dropped && !before.dropped && before.arrivedAt === p.arrivedAt) {
      line.remove();
      if (!arrow.labelled) this.label(arrow, this.hostX(this.side(p.from)), this.y(p.sentAt), this.endOf(p));
      else if (index === arrow.packets.length - 1) this.writeLabel(arrow);
      return;
    }
    arrow.group.prepend(line);
    const from = this.side(p.from);
    const x1 = this.hostX(from);
    const x2 = this.hostX(1 - from);
    const y1 = this.y(p.sentAt);
    let end: { x: number; y: number };
    if (p.dropped) {
      // Lost on the way: the arrow stops partway, with a cross.
      const t = p.sentAt + this.layout.delayMs * 0.45;
      end = { x: x1 + (x2 - x1) * 0.45, y: this.y(t) };
      arrow.group.classList.add('packet-lost');
      const cross = svg('path', {
        d: `M${end.x - 5},${end.y - 5}L${end.x + 5},${end.y + 5}M${end.x - 5},${end.y + 5}L${end.x + 5},${end.y - 5}`,
        stroke: DROP_COLOR,
        'stroke-width': 2,
        class: 'loss-mark',
      });
      arrow.group.append(cross);
    } else {
      end = { x: x2, y: this.y(p.arrivedAt ?? p.sentAt) };
      const dx = end.x - x1;
      const dy = end.y - y1;
      const length = Math.hypot(dx, dy) || 1;
      const ux = dx / length;
      const uy = dy / length;
      const bx = end.x - ux * 8;
      const by = end.y - uy * 8;
      arrow.group.append(
        svg('polygon', {
          points: `${end.x},${end.y} ${bx - uy * 3.5},${by + ux * 3.5} ${bx + uy * 3.5},${by - ux * 3.5}`,
          fill: line.getAttribute('stroke') ?? '#57606a',
        }),
      );
    }
    line.setAttribute('x2', String(end.x));
    line.setAttribute('y2', String(end.y));
    if (end.y > this.bottom) this.bottom = end.y;
    if (index === 0 || !arrow.labelled) this.label(arrow, x1, y1, end);
    else if (index === arrow.packets.length - 1) this.writeLabel(arrow);
  }

  /** Where a delivered packet's arrow ends. */
  private endOf(p: LivePacket): { x: number; y: number } {
    return { x: this.hostX(1 - this.side(p.from)), y: this.y(p.arrivedAt ?? p.sentAt) };
  }

  private label(arrow: Arrow, x1: number, y1: number, end: { x: number; y: number }): void {
    if (arrow.labelled) return;
    const p = arrow.packets[0]!;
    const side = this.side(p.from);
    // Labels sit along their own arrow. Where arrows are too dense for that (less than a line below the
    // last label on that side), the label shows while the pointer is on the arrow or the packet is
    // selected; the event list has every packet too.
    const crowded = y1 - this.lastLabelY[side] < LABEL_GAP;
    if (!crowded) this.lastLabelY[side] = y1;
    arrow.labelled = true;
    const angle = (Math.atan2(end.y - y1, end.x - x1) * 180) / Math.PI;
    const flip = Math.abs(angle) > 90;
    const shown = flip ? angle - 180 : angle;
    const ax = x1 + (end.x - x1) * 0.06;
    const ay = y1 + (end.y - y1) * 0.06;
    const text = svg('text', {
      x: ax,
      y: ay - 4,
      transform: `rotate(${shown.toFixed(2)} ${ax.toFixed(1)} ${ay.toFixed(1)})`,
      'text-anchor': flip ? 'end' : 'start',
    });
    const label = svg('g', {
      class: crowded ? 'packet-label on-hover' : 'packet-label',
      'data-packet': p.id,
    });
    label.append(text);
    arrow.group.append(label);
    this.writeLabel(arrow);
  }

  private writeLabel(arrow: Arrow): void {
    const text = arrow.group.querySelector('g.packet-label text');
    if (!text) return;
    const p = arrow.packets[0]!;
    let words = packetLabel(p, this.labels);
    if (arrow.packets.length > 1) {
      const last = arrow.packets[arrow.packets.length - 1]!.tcp!;
      const end = (this.labels.relative ?? true) ? last.relativeSeq + last.length : last.seq + last.length;
      words += ` … ${arrow.packets.length} segments, to ${end >>> 0}`;
    }
    const remarks = packetRemarks(p).map((r) => r.text);
    if (p.dropped) remarks.unshift(dropText(p.dropped));
    text.textContent = words;
    if (remarks.length) {
      const tspan = svg('tspan', { class: 'remark', dx: 6 }, remarks.join(', '));
      text.append(tspan);
    }
  }

  /** The arrow's tooltip, written when the pointer reaches it (writing it for every packet is costly). */
  private tooltip(arrow: Arrow): void {
    let title = arrow.group.querySelector<SVGTitleElement>('title');
    if (!title) {
      title = svg('title', {});
      arrow.group.prepend(title);
    }
    title.textContent = arrow.packets
      .map((p) => {
        const fate = p.dropped
          ? dropText(p.dropped)
          : p.arrivedAt !== undefined
            ? `arrived ${(p.arrivedAt - p.sentAt).toFixed(3)} ms later`
            : 'on the way';
        return `#${p.id} ${p.from} → ${p.to} at ${p.sentAt.toFixed(3)} ms: ${packetLabel(p, this.labels)} (${fate})`;
      })
      .join('\n');
  }

  /**
   * `count` packets before `time` were laid out but not drawn (more came in one frame than a frame can
   * draw); a replay (selecting an event) draws them.
   */
  notDrawn(count: number, time: number): void {
    const y = this.y(time) - 3;
    const g = svg('g', { class: 'not-drawn', 'data-y': y });
    g.append(
      svg(
        'text',
        { x: this.width / 2, y, 'text-anchor': 'middle' },
        `… ${count} packets too fast to draw live: pause and pick an event to see them`,
      ),
    );
    this.addItem(g);
  }

  /** A connection changed state: its name is written beside the host's lifeline. */
  stateChanged(host: string, to: string, time: number): void {
    this.advanceTo(time);
    if (!this.render) return;
    const side = this.side(host);
    let y = this.y(time);
    const previous = this.lastStateY.get(host) ?? -1e9;
    if (y - previous < 12) y = previous + 12;
    this.lastStateY.set(host, y);
    if (y > this.bottom) this.bottom = y;
    const x = side === 0 ? this.hostX(0) - 8 : this.hostX(1) + 8;
    const g = svg('g', { class: 'state', 'data-y': y, 'data-t': time });
    g.append(svg('text', { x, y: y + 4, 'text-anchor': side === 0 ? 'end' : 'start' }, to));
    this.addItem(g);
  }

  /**
   * Moves travelling packets and the now line to `now`; `waiting` says what the stack waits for, shown
   * beside the line.
   */
  update(now: number, waiting = ''): void {
    // Many packets on the way (a large window): only the first MOVING_LINES are moved each frame.
    let moved = 0;
    for (const { arrow, index } of this.inFlight.values()) {
      const p = arrow.packets[index]!;
      const line = arrow.shaft[index];
      if (!line) continue;
      const lostAt = p.dropped ? p.sentAt + this.layout.delayMs * 0.45 : undefined;
      if ((p.arrivedAt !== undefined && p.arrivedAt <= now) || (lostAt !== undefined && lostAt <= now)) {
        this.finish(arrow, p);
        continue;
      }
      if (moved++ >= MOVING_LINES) continue;
      const from = this.side(p.from);
      const x1 = this.hostX(from);
      const x2 = this.hostX(1 - from);
      const travel = p.arrivedAt !== undefined ? p.arrivedAt - p.sentAt : this.layout.delayMs;
      const f = Math.min(0.96, Math.max(0, (now - p.sentAt) / (travel || 1)));
      line.setAttribute('x2', String(x1 + (x2 - x1) * f));
      line.setAttribute('y2', String(this.y(Math.min(now, p.sentAt + travel))));
    }
    // The now line: where the clock is; during a long silence it stops at the break and says so.
    let nowY: number;
    if (!Number.isNaN(this.lastTime)) this.fold(now);
    if (Number.isNaN(this.lastTime)) nowY = TOP + 8;
    else if (now - this.lastTime > this.layout.gapMs && this.pending.length === 0)
      nowY = this.y(this.lastTime) + this.breakHeight();
    else nowY = this.y(now);
    if (nowY > this.bottom) this.bottom = nowY;
    this.nowLine.setAttribute('x1', '8');
    this.nowLine.setAttribute('x2', String(this.width - 8));
    this.nowLine.setAttribute('y1', String(nowY));
    this.nowLine.setAttribute('y2', String(nowY));
    this.nowText.setAttribute('x', String(this.width - 10));
    this.nowText.setAttribute('y', String(nowY - 4));
    this.nowText.setAttribute('text-anchor', 'end');
    this.nowText.textContent = `now ${formatClock(now)}${waiting ? ` · ${waiting}` : ''}`;
    this.nowY = nowY;
    this.frame();
    if (this.follow) this.camera = Math.max(this.top, nowY - this.viewHeight * 0.75);
    this.placeCamera();
  }

  private placeCamera(): void {
    const transform = `translateY(${-this.camera}px)`;
    this.svg.style.transform = transform;
    this.moving.style.transform = transform;
  }

  /**
   * The SVG's size and viewBox are set once per run, as large as the viewport, and never change: the
   * drawing below them shows because the layers do not clip (overflow: visible in lab.css), and the
   * camera moves them by a transform. A new size or viewBox makes the browser lay out the whole drawing
   * again (12-15 ms of layout in a frame of a 16 MiB run, each time the SVG grew); only the lifelines
   * grow, by GROWTH px at a time.
   */
  private frame(): void {
    if (this.allocated === 0) {
      for (const layer of [this.svg, this.moving]) {
        layer.setAttribute('width', String(this.width));
        layer.setAttribute('height', String(this.viewHeight));
        layer.setAttribute('viewBox', `0 0 ${this.width} ${this.viewHeight}`);
      }
    }
    if (this.bottom + this.viewHeight <= this.allocated) return;
    this.allocated = Math.ceil((this.bottom + this.viewHeight + GROWTH) / 1000) * 1000;
    this.lifelines.forEach((line, i) => {
      const x = this.hostX(i);
      line.setAttribute('x1', String(x));
      line.setAttribute('x2', String(x));
      line.setAttribute('y1', String(TOP));
      line.setAttribute('y2', String(this.allocated));
    });
  }

  /** Writes every label again (after the numbering changed). */
  relabel(labels: PacketLabelOptions): void {
    this.labels = labels;
    const seen = new Set<Arrow>();
    for (const arrow of this.byPacket.values()) {
      if (seen.has(arrow)) continue;
      seen.add(arrow);
      if (arrow.labelled) this.writeLabel(arrow);
      arrow.group.querySelector('title')?.remove();
    }
  }

  /**
   * Draws the ladder again as it was at `until`: the layout of everything before, the newest MAX_ITEMS
   * items in the page, travelling packets where they were then.
   */
  replay(
    events: readonly (
      | { kind: 'packet'; time: number; packet: LivePacket }
      | { kind: 'state'; time: number; host: string; to: string }
    )[],
    until: number,
    selected?: number,
  ): void {
    this.reset();
    let end = 0;
    while (end < events.length && events[end]!.time <= until) end++;
    const start = Math.max(0, end - MAX_ITEMS);
    for (let i = 0; i < end; i++) {
      this.render = i >= start;
      const e = events[i]!;
      if (e.kind === 'packet') this.packetSent(e.packet);
      else this.stateChanged(e.host, e.to, e.time);
    }
    this.render = true;
    if (start > 0) this.top = Math.max(0, this.y(events[start]!.time) - TOP - 10);
    this.follow = true;
    this.update(until);
    this.select(selected);
  }

  /** Packets drawn on their way (sent, not yet arrived or lost). */
  get travelling(): number {
    return this.inFlight.size;
  }

  /** Marks one packet's arrow (or none). */
  select(packetId: number | undefined): void {
    for (const e of this.items.querySelectorAll('g.selected')) e.classList.remove('selected');
    if (packetId === undefined) return;
    const arrow = this.byPacket.get(packetId);
    arrow?.group.classList.add('selected');
  }
}

export function formatClock(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(3)} s` : `${ms.toFixed(3)} ms`;
}

function formatSilence(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}
