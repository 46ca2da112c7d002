import { LinearRegExp, PatternError } from '../../protocol/index.js';

/** One progress report: percent 0..100 (integer) and an optional message. */
export interface Progress {
  progress: number;
  message?: string;
}

export interface ParsedProgress extends Progress {
  /** A JSON progress line is protocol, not program output: it is removed from stdout. */
  json: boolean;
}

/** Progress messages travel in a protocol field of at most this many characters. */
export const MAX_PROGRESS_MESSAGE = 1000;

/**
 * Returns a function reading progress from one output line (terminator removed): JSON lines
 * `{"progress":N,"message":"…"}` always, otherwise the service's regex whose first capture
 * group is the percent. The regex runs in linear time, so a line cannot stall the agent.
 * Throws PatternError if the regex is invalid or needs a feature that engine lacks.
 */
export function createProgressParser(pattern?: string): (line: string) => ParsedProgress | undefined {
  const regex = pattern === undefined ? undefined : compileProgressPattern(pattern);
  return (line) => {
    const fromJson = parseJsonProgress(line);
    if (fromJson) return { ...fromJson, json: true };
    const captured = regex?.exec(line)?.[1];
    const percent = captured === undefined ? Number.NaN : Number.parseFloat(captured);
    return Number.isFinite(percent) ? { progress: clampPercent(percent), json: false } : undefined;
  };
}

/** The service's `progress` regex; a PatternError's message names it: `'progress' is not …`. */
export function compileProgressPattern(pattern: string): LinearRegExp {
  try {
    return LinearRegExp.cached(pattern);
  } catch (err) {
    if (err instanceof PatternError) throw new PatternError(`'progress' ${err.message}`);
    throw err;
  }
}

function parseJsonProgress(line: string): Progress | undefined {
  const text = line.trim();
  if (!text.startsWith('{') || !text.endsWith('}')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { progress, message, ...rest } = value as Record<string, unknown>;
  // Only the exact progress shape is taken, so a program's own one-line JSON results are left alone.
  if (Object.keys(rest).length > 0 || typeof progress !== 'number' || !Number.isFinite(progress)) return undefined;
  if (message !== undefined && typeof message !== 'string') return undefined;
  const result: Progress = { progress: clampPercent(progress) };
  if (message !== undefined) result.message = message.slice(0, MAX_PROGRESS_MESSAGE);
  return result;
}

function clampPercent(value: number): number {
  return Math.min(100, Math.max(0, Math.round(value)));
}
