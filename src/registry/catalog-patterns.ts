import { LinearRegExp, PatternError, type InvalidFile, type ProcessSpec } from '../../protocol/index.js';

export interface CheckedCatalog {
  processes: ProcessSpec[];
  /** The agent's own invalid files, then the processes refused here. */
  invalid: InvalidFile[];
  refused: InvalidFile[];
}

/**
 * The reference agent refuses a pattern the linear-time engine cannot run, but any XMPP account
 * of an agent domain can send a catalog: such a process is not offered, and is listed with the
 * agent's invalid files instead, with the reason the reference agent would give (after the process id).
 */
export function refuseUnsupportedPatterns(processes: ProcessSpec[], invalid: InvalidFile[]): CheckedCatalog {
  const accepted: ProcessSpec[] = [];
  const refused: InvalidFile[] = [];
  for (const spec of processes) {
    const reason = patternProblem(spec);
    if (reason === undefined) accepted.push(spec);
    else refused.push({ file: spec.file, reason });
  }
  return { processes: accepted, invalid: [...invalid, ...refused], refused };
}

function patternProblem(spec: ProcessSpec): string | undefined {
  for (const [name, input] of Object.entries(spec.inputs)) {
    if (input.pattern === undefined) continue;
    try {
      new LinearRegExp(input.pattern);
    } catch (err) {
      if (err instanceof PatternError) return `process '${spec.id}': input '${name}': pattern ${err.message}`;
      throw err;
    }
  }
  return undefined;
}
