import type { CodeOptions } from 'ajv';
import { RE2JS, RE2JSException, RE2JSSyntaxException } from 're2js';

/**
 * Regular expressions that agents publish (an input's `pattern`, a service file's `progress`) are
 * run by RE2 (re2js), whose matching time grows linearly with the text. A backtracking engine,
 * such as JavaScript's own RegExp, can spend minutes on `^(a+)+$` against `aaa…!` and stall the
 * whole process meanwhile. A pattern is read as JSON Schema reads `pattern`: ECMAScript with the
 * `u` flag; it must be valid ECMAScript, so that the schema Outpost publishes means what it says
 * to clients, and must keep to what RE2 can run. What differs is listed in docs/protocol.md §4.1.1
 * (InputSpec).
 */

/** Why a pattern cannot be used, as a phrase that follows the pattern's name: `is not a valid …`. */
export class PatternError extends Error {}

const MAX_CACHED_PATTERNS = 1024;
const compiledPatterns = new Map<string, LinearRegExp>();

/**
 * A compiled pattern; like a RegExp with the `u` flag, without its global state. Throws
 * PatternError when the pattern is not valid ECMAScript or needs what RE2 lacks.
 */
export class LinearRegExp {
  readonly source: string;
  readonly #re2: RE2JS;

  constructor(source: string) {
    checkEcmaScriptSyntax(source);
    const unsupported = unsupportedFeature(source);
    if (unsupported) throw new PatternError(`${UNSUPPORTED} ${unsupported}`);
    this.source = source;
    this.#re2 = compileRe2(source);
  }

  /**
   * The pattern compiled once: a service's patterns are used by every run of it, and compiling
   * costs RE2 far more than a match on a short line. The cache forgets everything past its size.
   */
  static cached(source: string): LinearRegExp {
    let compiled = compiledPatterns.get(source);
    if (!compiled) {
      if (compiledPatterns.size >= MAX_CACHED_PATTERNS) compiledPatterns.clear();
      compiled = new LinearRegExp(source);
      compiledPatterns.set(source, compiled);
    }
    return compiled;
  }

  /** How many capture groups the pattern has. */
  get groupCount(): number {
    return this.#re2.groupCount();
  }

  /** Whether the pattern matches anywhere in `text`. */
  test(text: string): boolean {
    return this.#re2.test(text);
  }

  /** The first match and its capture groups (undefined for a group that took no part), or null. */
  exec(text: string): (string | undefined)[] | null {
    return this.#re2.exec(text) as (string | undefined)[] | null;
  }

  toString(): string {
    return `/${this.source}/u`;
  }
}

/**
 * The engine ajv runs `pattern` with (ajv option `code.regExp`). ajv always asks for the `u` flag
 * (its `unicodeRegExp` default). `code` would only be written into standalone validation code,
 * which Outpost does not generate.
 */
export const linearRegExpEngine: NonNullable<CodeOptions['regExp']> = Object.assign(
  (pattern: string, flags: string) => {
    if (flags !== 'u') throw new PatternError(`flags '${flags}' are not supported (patterns are read with the u flag)`);
    return new LinearRegExp(pattern);
  },
  { code: 'linearRegExpEngine' },
);

const UNSUPPORTED = 'uses a feature the linear-time engine does not support:';

function checkEcmaScriptSyntax(source: string): void {
  try {
    // Only parsed, never run against a text, so this cannot backtrack.
    new RegExp(source, 'u');
  } catch (err) {
    throw new PatternError(`is not a valid regular expression: ${(err as Error).message}`);
  }
}

/**
 * Escapes and groups RE2 lacks, found before re2js translates the pattern: its translation would
 * turn `\k<name>` and `\8` into plain text and a surrogate pair into two characters that never
 * match. Each token is an escape, a lookaround opener or one code point.
 */
const TOKEN = /\\(?:k<[^>]*>|[1-9]\d*|u[dD][89a-fA-F][0-9a-fA-F]{2}|.)|\(\?<?[=!]|./gsu;

function unsupportedFeature(source: string): string | undefined {
  let inClass = false;
  for (const [token] of source.matchAll(TOKEN)) {
    if (token === '[') inClass = true;
    else if (token === ']') inClass = false;
    else if (/^\\(?:k|[1-9])/.test(token)) return `backreference ${token}`;
    else if (/^\\u.{4}$/.test(token)) return `surrogate escape ${token} (write the character as \\u{…})`;
    else if (token.startsWith('(?') && !inClass) return `${token.includes('<') ? 'lookbehind' : 'lookahead'} ${token}…)`;
  }
  return undefined;
}

function compileRe2(source: string): RE2JS {
  try {
    return RE2JS.compile(RE2JS.translateRegExp(source));
  } catch (err) {
    if (err instanceof RE2JSSyntaxException) {
      const input = err.getPattern();
      throw new PatternError(`${UNSUPPORTED} ${err.getDescription()}${input ? ` \`${input}\`` : ''}`);
    }
    if (err instanceof RE2JSException) throw new PatternError(`${UNSUPPORTED} ${err.message}`);
    throw err;
  }
}
