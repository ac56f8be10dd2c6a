/**
 * Geometric checks of a ladder diagram as a browser draws it: no label covers another label or any
 * arrow's visible length, and time is linear (one scale) and monotonic within each unbroken span, with
 * breaks only where nothing is in flight. Used on the SVG ladder (ladder-layout.test.ts) and on the
 * report's on-demand ladder in Chromium (test/web/large-report.test.ts).
 *
 * The checks read the SVG (text position, rotation, length of its characters in the monospace font at
 * 0.6 em per character) and sample points, independently of how the renderer placed things.
 */
import { expect } from 'vitest';
import type { Conversation } from '../../src/viz/conversation.js';

interface Label {
  id: string;
  x: number;
  y: number;
  angle: number;
  width: number;
}
interface Shaft {
  id: string;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

const FONT = 11;
const ASCENT = 9;
const DESCENT = 3;

function decode(text: string): string {
  return text
    .replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

export function parse(svg: string): { labels: Label[]; shafts: Shaft[] } {
  const labels: Label[] = [];
  for (const m of svg.matchAll(
    /<g class="packet-label" data-packet="(\d+)"[^>]*>.*?<\/title><text ([^>]*)>(.*?)<\/text><\/g>/gs,
  )) {
    const attrs = m[2]!;
    const x = Number(/(?:^| )x="([-\d.]+)"/.exec(attrs)![1]);
    const y = Number(/(?:^| )y="([-\d.]+)"/.exec(attrs)![1]);
    const angle = Number(/rotate\(([-\d.]+)/.exec(attrs)?.[1] ?? 0);
    // A <tspan> of remarks starts one character (dx = 0.6 em) after the label.
    const content = decode(m[3]!.replace(/<tspan[^>]*>/, ' '));
    labels.push({ id: m[1]!, x, y, angle, width: [...content.replace(/\s+$/, '')].length * FONT * 0.6 });
  }
  const shafts: Shaft[] = [];
  for (const m of svg.matchAll(
    /<g class="packet[ "][^>]*data-packet="(\d+)"[^>]*>.*?<\/title><line x1="([-\d.]+)" y1="([-\d.]+)" x2="([-\d.]+)" y2="([-\d.]+)"/gs,
  )) {
    shafts.push({ id: m[1]!, x1: +m[2]!, y1: +m[3]!, x2: +m[4]!, y2: +m[5]! });
  }
  return { labels, shafts };
}

/** Whether point (px, py) lies inside the label's glyph box, shrunk by `inset` on every side. */
function insideLabel(l: Label, px: number, py: number, inset = 0.75): boolean {
  const a = (-l.angle * Math.PI) / 180;
  const dx = px - l.x;
  const dy = py - l.y;
  const lx = dx * Math.cos(a) - dy * Math.sin(a);
  const ly = dx * Math.sin(a) + dy * Math.cos(a);
  return lx > inset && lx < l.width - inset && ly > -ASCENT + inset && ly < DESCENT - inset;
}

function labelPoints(l: Label): [number, number][] {
  const a = (l.angle * Math.PI) / 180;
  const points: [number, number][] = [];
  for (let along = 0; along <= l.width; along += 2) {
    for (let up = -ASCENT; up <= DESCENT; up += 2) {
      points.push([
        l.x + along * Math.cos(a) - up * Math.sin(a),
        l.y + along * Math.sin(a) + up * Math.cos(a),
      ]);
    }
  }
  return points;
}

export function checkLayout(svg: string, what: string): void {
  const { labels, shafts } = parse(svg);
  expect(labels.length, what).toBeGreaterThan(0);
  // Every arrow has its label (along the arrow, or in the column beside the ladder).
  expect(labels.map((l) => l.id).sort(), what).toEqual(shafts.map((s) => s.id).sort());
  for (const l of labels) {
    for (const s of shafts) {
      const steps = Math.ceil(Math.hypot(s.x2 - s.x1, s.y2 - s.y1));
      for (let i = 0; i <= steps; i++) {
        const px = s.x1 + ((s.x2 - s.x1) * i) / steps;
        const py = s.y1 + ((s.y2 - s.y1) * i) / steps;
        if (insideLabel(l, px, py)) {
          throw new Error(
            `${what}: the label of packet ${l.id} covers the arrow of packet ${s.id} at ${px},${py}`,
          );
        }
      }
    }
    for (const other of labels) {
      if (other === l) continue;
      if (labelPoints(l).some(([px, py]) => insideLabel(other, px, py))) {
        throw new Error(`${what}: the labels of packets ${l.id} and ${other.id} overlap`);
      }
    }
  }
}

/** Every arrow starts at the y its send time maps to in its span; spans go down in time order. */
export function checkTimeScale(svg: string, c: Conversation, what: string): void {
  const msPerPx = 1 / Number(/data-px-per-ms="([\d.e-]+)"/.exec(svg)![1]);
  const spans = [
    ...svg.matchAll(
      /<line x1="[-\d.]+" y1="([-\d.]+)" x2="[-\d.]+" y2="([-\d.]+)"[^>]*class="time-span" data-t0="([-\d.]+)" data-t1="([-\d.]+)"/g,
    ),
  ].map((m) => ({ y0: +m[1]!, y1: +m[2]!, t0: +m[3]!, t1: +m[4]! }));
  expect(spans.length, what).toBeGreaterThan(0);
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i]!;
    // Linear: the span's height is its duration at the one scale (rounding to 0.01 px aside).
    expect(Math.abs(s.y1 - s.y0 - (s.t1 - s.t0) / msPerPx), what).toBeLessThan(0.05);
    if (i > 0) {
      expect(s.t0, what).toBeGreaterThan(spans[i - 1]!.t1);
      expect(s.y0, what).toBeGreaterThan(spans[i - 1]!.y1);
    }
  }
  const byId = new Map(c.packets.map((p) => [String(p.id), p]));
  const { shafts } = parse(svg);
  for (const shaft of shafts) {
    const p = byId.get(shaft.id)!;
    const t = p.sentAt - c.timeOrigin;
    const span = spans.find((s) => s.t0 - 1e-6 <= t && t <= s.t1 + 1e-6);
    expect(span, `${what}: packet ${p.id} sent at ${t} lies in a span`).toBeDefined();
    expect(
      Math.abs(shaft.y1 - (span!.y0 + (t - span!.t0) / msPerPx)),
      `${what}: packet ${p.id}`,
    ).toBeLessThan(0.05);
    if (p.arrivedAt !== undefined && !p.dropped) {
      // Nothing in flight crosses a break: the arrival lies in the same span.
      expect(p.arrivedAt - c.timeOrigin, `${what}: packet ${p.id} arrives in its span`).toBeLessThanOrEqual(
        span!.t1 + 1e-6,
      );
    }
  }
}
