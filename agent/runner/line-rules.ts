import { LinearRegExp } from '../../protocol/index.js';
import type { OutputLineRule } from '../services/service-definition.js';
import { MAX_PROGRESS_MESSAGE } from './progress-parser.js';

/** What an output line means under a service's rules (WPS Remote `[Logging]`). */
export type LineVerdict =
  | { action: 'ignore' }
  | { action: 'progress'; percent: number }
  | { action: 'log' | 'abort'; message: string };

/**
 * Returns a function applying `rules` to one output line: the first rule whose regex matches
 * decides. `progress` takes the percent from group 1 (a rule whose group is not a number decides
 * nothing); `log` and `abort` take the text of the last group that matched, else the whole match.
 * The regexes run in linear time, so no line can stall the agent.
 */
export function createLineRules(rules: OutputLineRule[] = []): (line: string) => LineVerdict | undefined {
  const compiled = rules.map(({ pattern, action }) => ({ regex: LinearRegExp.cached(pattern), action }));
  return (line) => {
    for (const { regex, action } of compiled) {
      const match = regex.exec(line);
      if (!match) continue;
      if (action === 'ignore') return { action };
      if (action === 'progress') {
        const percent = Number.parseFloat(match[1] ?? '');
        return Number.isFinite(percent) ? { action, percent: Math.min(100, Math.max(0, Math.round(percent))) } : undefined;
      }
      const text = match.slice(1).findLast((group) => group !== undefined) ?? match[0] ?? '';
      return { action, message: text.trim().slice(0, MAX_PROGRESS_MESSAGE) };
    }
    return undefined;
  };
}
