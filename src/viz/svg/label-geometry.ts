/**
 * Plane geometry for placing labels without hiding anything: a label is a (possibly rotated) rectangle,
 * given by its four corners; an arrow is a segment. Convex polygons are tested with the separating-axis
 * theorem, segments against polygons by containment and edge crossings.
 *
 * The functions use nothing but each other, so the HTML report's script carries their source text
 * (html-report.ts) and places its labels with the same rules.
 */

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface Segment {
  readonly a: Point;
  readonly b: Point;
}

/** Four corners in order around the rectangle. */
export type Quad = readonly [Point, Point, Point, Point];

/** Axis-aligned rectangle as a quad. */
export function rectQuad(x: number, y: number, width: number, height: number): Quad {
  return [
    { x, y },
    { x: x + width, y },
    { x: x + width, y: y + height },
    { x, y: y + height },
  ];
}

/**
 * The box of a text line of `width` whose baseline starts at `origin` and runs along the unit vector `u`;
 * `ascent` above the baseline, `descent` below (above = the side of the normal (u.y, -u.x)).
 */
export function textQuad(origin: Point, u: Point, width: number, ascent: number, descent: number): Quad {
  const n = { x: u.y, y: -u.x };
  const at = (along: number, up: number): Point => ({
    x: origin.x + u.x * along + n.x * up,
    y: origin.y + u.y * along + n.y * up,
  });
  return [at(0, -descent), at(width, -descent), at(width, ascent), at(0, ascent)];
}

export function project(quad: Quad, axis: Point): [number, number] {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const p of quad) {
    const v = p.x * axis.x + p.y * axis.y;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}

/** Whether two convex quads overlap by more than `slack` (touching edges do not count). */
export function quadsOverlap(q1: Quad, q2: Quad, slack = 0.5): boolean {
  for (const quad of [q1, q2]) {
    for (let i = 0; i < 4; i++) {
      const p = quad[i]!;
      const q = quad[(i + 1) % 4]!;
      const length = Math.hypot(q.x - p.x, q.y - p.y) || 1;
      const axis = { x: -(q.y - p.y) / length, y: (q.x - p.x) / length };
      const [a0, a1] = project(q1, axis);
      const [b0, b1] = project(q2, axis);
      if (a1 - slack <= b0 || b1 - slack <= a0) return false;
    }
  }
  return true;
}

export function cross(o: Point, a: Point, b: Point): number {
  return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

export function segmentsCross(p1: Point, p2: Point, q1: Point, q2: Point): boolean {
  const d1 = cross(q1, q2, p1);
  const d2 = cross(q1, q2, p2);
  const d3 = cross(p1, p2, q1);
  const d4 = cross(p1, p2, q2);
  return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0));
}

export function inside(quad: Quad, p: Point): boolean {
  let sign = 0;
  for (let i = 0; i < 4; i++) {
    const c = cross(quad[i]!, quad[(i + 1) % 4]!, p);
    if (Math.abs(c) < 1e-9) return false;
    const s = c > 0 ? 1 : -1;
    if (sign === 0) sign = s;
    else if (s !== sign) return false;
  }
  return true;
}

/** Whether a segment passes through the inside of a convex quad. */
export function segmentHitsQuad(s: Segment, quad: Quad): boolean {
  if (inside(quad, s.a) || inside(quad, s.b)) return true;
  for (let i = 0; i < 4; i++) if (segmentsCross(s.a, s.b, quad[i]!, quad[(i + 1) % 4]!)) return true;
  return false;
}

/**
 * Baselines for labels written in a column beside a ladder (those with no free place along their
 * arrows), given the heights of their arrows' anchors in increasing order: each label as near its
 * anchor's height as the one above allows, one line (plus 2 px) apart.
 */
export function calloutBaselines(anchorYs: readonly number[], ascent: number, descent: number): number[] {
  const baselines: number[] = [];
  let previous = Number.NEGATIVE_INFINITY;
  for (const y of anchorYs) {
    previous = Math.max(y + ascent / 2, previous + ascent + descent + 2);
    baselines.push(previous);
  }
  return baselines;
}
