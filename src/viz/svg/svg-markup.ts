/**
 * SVG as strings: escaping, elements, numbers. Every picture is built from these so that no text from a
 * trace (host names, notes, payload previews) can break out of its element.
 */

const XML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Escapes text for XML/HTML content and attribute values. Characters XML 1.0 forbids (C0 controls other
 * than tab, LF and CR) are replaced by U+FFFD so that the SVG stays well-formed.
 */
export function escapeXml(text: string): string {
  return text
    .replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!)
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd');
}

/** A coordinate with at most two decimals and no trailing zeros ('12', '3.5', '-0.25'). */
export function num(value: number): string {
  if (!Number.isFinite(value)) return '0';
  const rounded = Math.round(value * 100) / 100;
  return Object.is(rounded, -0) ? '0' : String(rounded);
}

export type Attributes = Readonly<Record<string, string | number | undefined | false>>;

function attributeText(attributes: Attributes): string {
  let out = '';
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    out += ` ${name}="${typeof value === 'number' ? num(value) : escapeXml(value)}"`;
  }
  return out;
}

/** An element; `children` is markup (already escaped), or omitted for an empty element. */
export function element(
  name: string,
  attributes: Attributes = {},
  children?: string | readonly string[],
): string {
  const content =
    children === undefined ? undefined : typeof children === 'string' ? children : children.join('');
  return content === undefined || content === ''
    ? `<${name}${attributeText(attributes)}/>`
    : `<${name}${attributeText(attributes)}>${content}</${name}>`;
}

/** A text element whose content is escaped. */
export function textElement(x: number, y: number, content: string, attributes: Attributes = {}): string {
  return element('text', { x, y, ...attributes }, escapeXml(content));
}

/** A <title> child: browsers show it as a tooltip on hover, no script needed. */
export function tooltip(content: string): string {
  return element('title', {}, escapeXml(content));
}

export function line(x1: number, y1: number, x2: number, y2: number, attributes: Attributes = {}): string {
  return element('line', { x1, y1, x2, y2, ...attributes });
}

/** A polyline through the points; with `step`, horizontal then vertical between points (a staircase). */
export function polyline(
  points: readonly (readonly [number, number])[],
  attributes: Attributes = {},
  step = false,
): string {
  if (points.length === 0) return '';
  const coords: string[] = [];
  let previous: readonly [number, number] | undefined;
  for (const p of points) {
    if (step && previous) coords.push(`${num(p[0])},${num(previous[1])}`);
    coords.push(`${num(p[0])},${num(p[1])}`);
    previous = p;
  }
  return element('polyline', { points: coords.join(' '), fill: 'none', ...attributes });
}

/** The root element of a standalone or inline SVG picture. */
export function svgDocument(
  width: number,
  height: number,
  body: string | readonly string[],
  attributes: Attributes = {},
): string {
  return element(
    'svg',
    {
      xmlns: 'http://www.w3.org/2000/svg',
      width,
      height,
      viewBox: `0 0 ${num(width)} ${num(height)}`,
      'font-family': 'ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
      'font-size': 12,
      ...attributes,
    },
    body,
  );
}

/** Monospace font stack for labels whose width is estimated from their length. */
export const MONOSPACE = 'ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace';

/** Approximate advance of one monospace character at `fontSize` (about 0.6 em in common fonts). */
export function monospaceWidth(text: string, fontSize: number): number {
  return [...text].length * fontSize * 0.6;
}
