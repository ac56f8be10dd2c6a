/**
 * A strict little markup checker for the tests: every tag closed in order (HTML void elements excepted),
 * attribute values quoted, every '&' the start of an entity, no '<' inside text. Returns the problems
 * found (empty when the markup is well-formed) and the element names in document order.
 */

const VOID_ELEMENTS = new Set([
  'meta',
  'link',
  'br',
  'hr',
  'img',
  'input',
  'col',
  'area',
  'base',
  'source',
  'wbr',
]);
const ENTITY = /^&(?:[a-zA-Z]+|#[0-9]+|#x[0-9a-fA-F]+);/;

export interface MarkupCheck {
  problems: string[];
  elements: string[];
}

export function checkMarkup(markup: string, html = false): MarkupCheck {
  const problems: string[] = [];
  const elements: string[] = [];
  const stack: string[] = [];
  let i = 0;
  const checkText = (text: string, where: number) => {
    for (let j = text.indexOf('&'); j >= 0; j = text.indexOf('&', j + 1)) {
      if (!ENTITY.test(text.slice(j))) problems.push(`bare & at ${where + j}`);
    }
    if (text.includes('>') && !html) problems.push(`bare > at ${where}`);
  };
  while (i < markup.length) {
    const lt = markup.indexOf('<', i);
    if (lt < 0) {
      checkText(markup.slice(i), i);
      break;
    }
    checkText(markup.slice(i, lt), i);
    if (markup.startsWith('<!--', lt)) {
      const end = markup.indexOf('-->', lt);
      if (end < 0) return { problems: [...problems, 'unclosed comment'], elements };
      i = end + 3;
      continue;
    }
    if (markup.startsWith('<!', lt)) {
      const end = markup.indexOf('>', lt);
      i = end + 1;
      continue;
    }
    const match =
      /^<(\/?)([a-zA-Z][a-zA-Z0-9:-]*)((?:\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*="[^"<]*")*)\s*(\/?)>/.exec(
        markup.slice(lt),
      );
    if (!match) {
      problems.push(`malformed tag at ${lt}: ${markup.slice(lt, lt + 60)}`);
      i = lt + 1;
      continue;
    }
    const [whole, closing, name, attributes, selfClosing] = match;
    checkText(
      attributes!.replace(/="[^"]*"/g, (v) => v.replace(/>/g, '')),
      lt,
    );
    const lower = name!.toLowerCase();
    if (closing) {
      const open = stack.pop();
      if (open !== name) problems.push(`</${name}> closes <${open}> at ${lt}`);
    } else {
      elements.push(name!);
      if (!selfClosing && !(html && VOID_ELEMENTS.has(lower))) {
        if (html && (lower === 'style' || lower === 'script')) {
          const end = markup.indexOf(`</${name}>`, lt);
          if (end < 0) problems.push(`unclosed <${name}>`);
          i = end + name!.length + 3;
          continue;
        }
        stack.push(name!);
      }
    }
    i = lt + whole!.length;
  }
  if (stack.length) problems.push(`unclosed: ${stack.join(' ')}`);
  return { problems, elements };
}

/** The ANSI escape sequences (CSI ... m) removed. */
export function stripAnsi(text: string): string {
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}
