import { parse, type ParseEntry } from 'shell-quote';
import { fail } from './validation.js';

/**
 * Splits `customargs` (or an input's `arg`, named by `subject`) into words the way a shell would
 * (quotes, backslashes), but expands nothing: `$HOME` stays the five characters `$HOME`.
 * Operators, globs and comments are refused, since no shell ever runs the command to give them a meaning.
 */
export function splitCustomArgs(text: string, subject = "'customargs'"): string[] {
  checkQuotesClosed(text, subject);
  // shell-quote substitutes variables; a stand-in for `$` hides them and is turned back afterwards.
  const dollar = unusedChar(text);
  const hidden = text.replace(/(?<!\\)((?:\\\\)*)\$(?!')/g, `$1${dollar}`);
  return parse(hidden).map((entry) => {
    const word = typeof entry === 'string' ? entry.replaceAll(dollar, '$') : fail(refusal(subject, entry, dollar));
    if (word.includes('\0')) fail(`${subject} must not contain a NUL character`);
    return word;
  });
}

function refusal(subject: string, entry: Exclude<ParseEntry, string>, dollar: string): string {
  const shown = (raw: string) => raw.replaceAll(dollar, '$');
  if ('comment' in entry) return `${subject} contains a comment '#${shown(entry.comment)}' (it is never run by a shell)`;
  if (entry.op === 'glob') return `${subject} contains a wildcard '${shown(entry.pattern)}' (it is never expanded; quote it)`;
  return `${subject} contains a shell operator '${entry.op}' (it is never run by a shell)`;
}

/** shell-quote drops a quote it cannot pair; a shell would refuse the line, and so do we. */
function checkQuotesClosed(text: string, subject: string): void {
  let quote: '"' | "'" | "$'" | undefined;
  let dollarAt = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote === "'") {
      if (c === "'") quote = undefined;
    } else if (c === '\\') {
      if (i === text.length - 1) fail(`${subject} ends with a lone backslash`);
      i++;
    } else if (quote) {
      if (c === quote.at(-1)) quote = undefined;
    } else if (c === '$') {
      dollarAt = i;
    } else if (c === "'") {
      quote = dollarAt === i - 1 ? "$'" : "'";
    } else if (c === '"') {
      quote = '"';
    }
  }
  if (quote) fail(`${subject} has an unclosed ${quote.at(-1)} quote`);
}

function unusedChar(text: string): string {
  let code = 0xe000;
  while (text.includes(String.fromCharCode(code))) code++;
  return String.fromCharCode(code);
}
