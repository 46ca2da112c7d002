import type { Failure } from './run-types.js';

/** Keeps a quoted stderr line well inside the protocol's 2000-character message limit. */
const MAX_QUOTED_LINE = 1000;

export function spawnFailure(executable: string, error: NodeJS.ErrnoException): Failure {
  const message =
    error.code === 'ENOENT'
      ? `executable '${executable}' not found`
      : error.code === 'EACCES'
        ? `executable '${executable}' is not executable`
        : `could not start '${executable}': ${error.message}`;
  return { status: 'failed', code: 'spawn', message };
}

export function exitFailure(exitCode: number, stderr: string): Failure {
  const line = lastNonEmptyLine(stderr);
  const message = line === undefined ? `exited with code ${exitCode}` : `exited with code ${exitCode}: ${line.slice(0, MAX_QUOTED_LINE)}`;
  return { status: 'failed', code: 'exit', message, exitCode, ...stderrField(stderr) };
}

export function signalFailure(signal: string, stderr: string): Failure {
  return { status: 'failed', code: 'signal', message: `killed by signal ${signal}`, signal, ...stderrField(stderr) };
}

/** Which limit ended the run: the service's `timeout`, or the job's deadline from `execute` when it came first. */
export type TimeLimit = { kind: 'service' } | { kind: 'deadline'; deadline: Date };

export function timeoutFailure(timeoutMs: number, limit: TimeLimit, stderr: string): Failure {
  const which = limit.kind === 'service' ? "the service's timeout" : `the job's deadline, ${limit.deadline.toISOString()}`;
  return { status: 'failed', code: 'timeout', message: `timed out after ${formatSeconds(timeoutMs)} s (${which})`, ...stderrField(stderr) };
}

export function deadlinePassedFailure(deadline: Date): Failure {
  return { status: 'failed', code: 'timeout', message: `not started: the job's deadline, ${deadline.toISOString()}, had passed` };
}

/** Whole seconds as they are (`3600`), shorter times to a tenth (`0.3`). */
function formatSeconds(ms: number): string {
  return String(Math.round(Math.max(0, ms) / 100) / 10);
}

function lastNonEmptyLine(text: string): string | undefined {
  return text
    .split(/\r\n|\n|\r/)
    .map((line) => line.trim())
    .findLast((line) => line !== '');
}

function stderrField(stderr: string): { stderr?: string } {
  return stderr === '' ? {} : { stderr };
}
