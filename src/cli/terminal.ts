/**
 * The terminal side of the commands: whether to color (a TTY, unless NO_COLOR says otherwise, see
 * no-color.org; FORCE_COLOR or --color always force it), how wide to draw, a few ANSI styles for headings,
 * and a progress bar on stderr for long runs.
 */
import type { OutputStream } from './command-line.js';
import { UsageError } from './command-line.js';

export type ColorChoice = 'auto' | 'always' | 'never';

export function colorChoice(text: string | undefined): ColorChoice {
  if (text === undefined) return 'auto';
  if (text === 'auto' || text === 'always' || text === 'never') return text;
  throw new UsageError(`--color wants auto, always or never; got '${text}'`);
}

/** Whether to write ANSI colors to `stream`. */
export function useColor(
  stream: OutputStream,
  env: Readonly<Record<string, string | undefined>>,
  choice: ColorChoice = 'auto',
): boolean {
  if (choice !== 'auto') return choice === 'always';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

/** Columns to draw in: the terminal's width (capped for legibility), or 100 when not a terminal. */
export function drawingWidth(stream: OutputStream, max = 120): number {
  const columns = stream.isTTY ? stream.columns : undefined;
  if (columns === undefined || !Number.isFinite(columns)) return 100;
  return Math.max(72, Math.min(max, columns - 1));
}

type Style = 'bold' | 'dim' | 'cyan' | 'green' | 'yellow' | 'red' | 'magenta' | 'bold-cyan' | 'reverse';

const SGR: Record<Style, string> = {
  bold: '1',
  dim: '2',
  cyan: '36',
  green: '32',
  yellow: '33',
  red: '31',
  magenta: '35',
  'bold-cyan': '1;36',
  reverse: '7',
};

/** Styles text when `color` is on; plain text otherwise. */
export function paint(color: boolean, style: Style, text: string): string {
  return color ? `\u001b[${SGR[style]}m${text}\u001b[0m` : text;
}

/**
 * A one-line progress bar redrawn in place with a carriage return. It only draws on a terminal; on
 * anything else (a file, a pipe, a test) it stays silent.
 */
export class ProgressBar {
  private readonly active: boolean;
  private lastDrawn = -1;
  private lastText = '';

  constructor(
    private readonly stream: OutputStream,
    private readonly label: string,
    private readonly width = 30,
  ) {
    this.active = stream.isTTY === true;
  }

  /** Shows `fraction` (0..1) with a short status text. Redraws only when something visible changed. */
  update(fraction: number, text = ''): void {
    if (!this.active) return;
    const filled = Math.round(Math.max(0, Math.min(1, fraction)) * this.width);
    const percent = Math.floor(Math.max(0, Math.min(1, fraction)) * 100);
    if (percent === this.lastDrawn && text === this.lastText) return;
    this.lastDrawn = percent;
    this.lastText = text;
    const bar = `${'█'.repeat(filled)}${'░'.repeat(this.width - filled)}`;
    this.stream.write(`\r\u001b[2K${this.label} ${bar} ${String(percent).padStart(3)}% ${text}`);
  }

  /** Clears the line. */
  done(): void {
    if (this.active && this.lastDrawn >= 0) this.stream.write('\r\u001b[2K');
  }
}
