/**
 * Layout of the SVG ladder, checked geometrically on the demo's chapters and a lossy bulk transfer:
 * no label covers another label or any arrow's visible length, and time is linear (one scale) and
 * monotonic within each unbroken span, with breaks only where nothing is in flight.
 *
 * The checks read the SVG as a browser would (text position, rotation, length of its characters in the
 * monospace font at 0.6 em per character) and sample points, independently of how the renderer placed
 * things.
 */
import { describe, expect, it } from 'vitest';
import { runSeedStory } from '../../src/sim/scenarios/seed-story/seed-story.js';
import { TransferScenario } from '../../src/sim/scenarios/transfer.js';
import type { Conversation } from '../../src/viz/conversation.js';
import { renderLadderSvg } from '../../src/viz/svg/ladder-svg.js';

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

function parse(svg: string): { labels: Label[]; shafts: Shaft[] } {
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

function checkLayout(svg: string, what: string, everyArrowLabelled = true): void {
  const { labels, shafts } = parse(svg);
  expect(labels.length, what).toBeGreaterThan(0);
  if (everyArrowLabelled) expect(labels.length, what).toBe(shafts.length);
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
function checkTimeScale(svg: string, c: Conversation, what: string): void {
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

describe('the SVG ladder layout', () => {
  const story = runSeedStory({ seed: 1 });
  const conversation = story.stage.network.conversation();

  for (const chapter of story.chapters) {
    it(`chapter ${chapter.number} (${chapter.title}): labels cover nothing; time is linear per span`, () => {
      const svg = renderLadderSvg(conversation, {
        hosts: ['client', 'server'],
        from: chapter.from,
        to: chapter.to,
      });
      checkLayout(svg, `chapter ${chapter.number}`);
      checkTimeScale(svg, conversation, `chapter ${chapter.number}`);
    });
  }

  it('a lossy bulk transfer (the first 200 packets): the same holds', () => {
    const scenario = new TransferScenario({ clientBytes: 200_000, serverBytes: 0, seed: 7, loss: 0.03 });
    scenario.runToEnd();
    const c = scenario.network.conversation();
    const svg = renderLadderSvg(c, { maxPackets: 200 });
    // Too dense to label every arrow: those left unlabelled keep their tooltip; the rest cover nothing.
    checkLayout(svg, 'bulk', false);
    expect(parse(svg).labels.length).toBeGreaterThan(20);
    checkTimeScale(svg, c, 'bulk');
  });

  it('cuts the 60 s TIME-WAIT out as a break that says how long it is', () => {
    const six = story.chapters[5]!;
    const svg = renderLadderSvg(conversation, { hosts: ['client', 'server'], from: six.from, to: six.to });
    const hidden = [...svg.matchAll(/class="time-break" data-hidden-ms="([\d.]+)"/g)].map((m) =>
      Number(m[1]),
    );
    expect(hidden.some((h) => h > 59_000)).toBe(true);
    expect(svg).toContain('≈ 60 s without a packet');
  });

  it('draws the burst of chapter 2 as one arrow', () => {
    const two = story.chapters[1]!;
    const svg = renderLadderSvg(conversation, { hosts: ['client', 'server'], from: two.from, to: two.to });
    expect(svg).toMatch(
      /class="packet packet-data packet-burst" data-packet="\d+" data-packets="\d+ \d+ \d+"/,
    );
    expect(svg).toContain('>ACK seq=1:3073 ack=1 win=65535 len=3×1024<');
  });
});
