import { LinearRegExp } from '../../protocol/index.js';
import type { OutputLineRule } from './service-definition.js';
import { fail } from './validation.js';

const ACTIONS: readonly OutputLineRule['action'][] = ['ignore', 'progress', 'log', 'abort'];

/**
 * The `[Logging]` section of a service.config: `stdout_parser` lists regexes and `stdout_action`
 * one action per regex, both written `[a, b, …]` and split at commas as WPS Remote splits them.
 * Like Python's `re.match`, a regex must match at the start of the line. Python escapes of
 * punctuation (`\:`, `\%`) are taken as the plain character, which is what they mean there.
 */
export function parseLogging(section: Record<string, string>): OutputLineRule[] {
  const patterns = list('stdout_parser', section['stdout_parser']);
  const actions = list('stdout_action', section['stdout_action']);
  if (patterns.length !== actions.length) {
    fail(`[Logging]: stdout_parser lists ${patterns.length} regexes but stdout_action ${actions.length} actions`);
  }
  return patterns.map((source, i) => {
    const action = actions[i] as OutputLineRule['action'];
    if (!ACTIONS.includes(action)) fail(`[Logging]: action '${action}' is not one of ${ACTIONS.join(', ')}`);
    const pattern = `^(?:${withoutPunctuationEscapes(source)})`;
    let groups: number;
    try {
      groups = new LinearRegExp(pattern).groupCount;
    } catch (err) {
      return fail(`[Logging]: stdout_parser '${source}' ${(err as Error).message}`);
    }
    if (action === 'progress' && groups < 1) fail(`[Logging]: stdout_parser '${source}' needs a capture group for the percent`);
    return { pattern, action };
  });
}

function list(key: string, value: string | undefined): string[] {
  if (value === undefined) return [];
  const text = value.trim();
  if (!text.startsWith('[') || !text.endsWith(']')) fail(`[Logging]: ${key} must be a list written [a, b, …]`);
  const inner = text.slice(1, -1).trim();
  return inner === '' ? [] : inner.split(',').map((item) => item.trim());
}

/**
 * ECMAScript's `u` mode allows escaping only its syntax characters (and `-` in a class); Python
 * allows any punctuation. Outside those, `\X` of punctuation is just `X`.
 */
function withoutPunctuationEscapes(source: string): string {
  return source.replace(/\\(.)/gsu, (escape, char: string) => (/[!"#%&',:;<=>@_`~]/.test(char) ? char : escape));
}
