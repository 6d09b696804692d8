import { ExpressionError } from './expression-error';
import { quoteSource } from './quote-source';

export type TemplatePart =
  | { readonly kind: 'text'; readonly text: string }
  /** `source` is the trimmed text between `${` and `}`; `start` is the offset of `${` in the template. */
  | { readonly kind: 'expression'; readonly source: string; readonly start: number };

/**
 * Splits a template string into literal text and `${...}` expressions. `$${` is an escape for a literal `${`
 * wherever it occurs; any other `$` is literal, so `$$${a}` is the text `$${a}`. To write a dollar sign right
 * before a value use `${"$" + price}`. The closing `}` is the first one outside a quoted string, so
 * `${a == "}"}` works. An unterminated `${` is an ExpressionError.
 */
export function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let text = '';
  let i = 0;
  while (i < template.length) {
    const dollar = template.indexOf('$', i);
    if (dollar === -1) {
      text += template.slice(i);
      break;
    }
    text += template.slice(i, dollar);
    if (template.startsWith('$${', dollar)) {
      text += '${';
      i = dollar + 3;
    } else if (template.startsWith('${', dollar)) {
      const close = closingBrace(template, dollar + 2);
      if (close === -1) {
        throw new ExpressionError(`unterminated '\${' at position ${dollar} in ${quoteSource(template)}`, template, {
          position: dollar,
        });
      }
      if (text !== '') parts.push({ kind: 'text', text });
      text = '';
      parts.push({ kind: 'expression', source: template.slice(dollar + 2, close).trim(), start: dollar });
      i = close + 1;
    } else {
      text += '$';
      i = dollar + 1;
    }
  }
  if (text !== '') parts.push({ kind: 'text', text });
  return parts;
}

/** True when the string is exactly one `${...}` and nothing else, so interpolation keeps the value's type. */
export function isWholeExpression(template: string): boolean {
  if (!template.startsWith('${')) return false;
  try {
    const parts = parseTemplate(template);
    return parts.length === 1 && parts[0]?.kind === 'expression';
  } catch {
    return false;
  }
}

/**
 * True when the string contains an unescaped `${`. A malformed one (unterminated) also counts, so callers pass
 * the string on to interpolation or validation, which report the error, instead of treating it as plain text.
 */
export function hasExpressions(template: string): boolean {
  if (!template.includes('${')) return false;
  try {
    return parseTemplate(template).some((part) => part.kind === 'expression');
  } catch {
    return true;
  }
}

/** Index of the `}` closing an expression that starts at `from`, skipping quoted strings; -1 when there is none. */
function closingBrace(template: string, from: number): number {
  let quote: string | undefined;
  for (let i = from; i < template.length; i++) {
    const char = template[i];
    if (quote) {
      // A backslash escapes the next character inside a string literal, as in jsep.
      if (char === '\\') i++;
      else if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") {
      quote = char;
    } else if (char === '}') {
      return i;
    }
  }
  return -1;
}
