/**
 * A row of terminal cells that text can be drawn into at any column, each cell with an optional style,
 * rendered either as plain text or with ANSI SGR escape sequences (ECMA-48 §8.3.117).
 */

export type TextStyle =
  | 'bold'
  | 'dim'
  | 'italic'
  | 'red'
  | 'green'
  | 'yellow'
  | 'blue'
  | 'magenta'
  | 'cyan'
  | 'gray'
  | 'bold-red'
  | 'bold-cyan'
  | 'bold-yellow'
  | 'dim-italic';

const SGR: Record<TextStyle, string> = {
  bold: '1',
  dim: '2',
  italic: '3',
  red: '31',
  green: '32',
  yellow: '33',
  blue: '34',
  magenta: '35',
  cyan: '36',
  gray: '90',
  'bold-red': '1;31',
  'bold-cyan': '1;36',
  'bold-yellow': '1;33',
  'dim-italic': '2;3',
};

export class TextRow {
  private readonly chars: string[] = [];
  private readonly styles: (TextStyle | undefined)[] = [];

  /** Writes `text` starting at `column` (cells to the left stay as they are). */
  put(column: number, text: string, style?: TextStyle): this {
    let x = Math.max(0, column);
    for (const ch of text) {
      while (this.chars.length < x) {
        this.chars.push(' ');
        this.styles.push(undefined);
      }
      this.chars[x] = ch;
      this.styles[x] = style;
      x++;
    }
    return this;
  }

  /** Writes `text` so that it ends just before `endColumn`. */
  putEndingAt(endColumn: number, text: string, style?: TextStyle): this {
    return this.put(endColumn - [...text].length, text, style);
  }

  charAt(column: number): string {
    return this.chars[column] ?? ' ';
  }

  /** True when every cell in [from, to) is blank. */
  isBlank(from: number, to: number): boolean {
    for (let x = Math.max(0, from); x < to; x++) if ((this.chars[x] ?? ' ') !== ' ') return false;
    return true;
  }

  render(color: boolean): string {
    let end = this.chars.length;
    while (end > 0 && this.chars[end - 1] === ' ') end--;
    if (!color) return this.chars.slice(0, end).join('');
    let out = '';
    let current: TextStyle | undefined;
    for (let x = 0; x < end; x++) {
      const style = this.styles[x];
      if (style !== current) {
        if (current) out += '\u001b[0m';
        if (style) out += `\u001b[${SGR[style]}m`;
        current = style;
      }
      out += this.chars[x];
    }
    if (current) out += '\u001b[0m';
    return out;
  }
}

/** Splits text into lines of at most `width` characters, at spaces where possible. */
export function wrapText(text: string, width: number): string[] {
  const max = Math.max(1, width);
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/ +/)) {
      let rest = word;
      while ([...rest].length > max) {
        if (line) {
          lines.push(line);
          line = '';
        }
        const chars = [...rest];
        lines.push(chars.slice(0, max).join(''));
        rest = chars.slice(max).join('');
      }
      if (!line) line = rest;
      else if ([...line].length + 1 + [...rest].length <= max) line += ` ${rest}`;
      else {
        lines.push(line);
        line = rest;
      }
    }
    lines.push(line);
  }
  return lines;
}

/** Display width (code points; the diagrams use no double-width characters of their own). */
export function textWidth(text: string): number {
  return [...text].length;
}
