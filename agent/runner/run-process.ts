import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PRIVATE_DIR } from '../jobs/work-dir.js';
import { buildArgv } from './build-argv.js';
import { confinePaths } from './confine-paths.js';
import { formatBytes } from './capture-buffers.js';
import { childEnv } from './child-env.js';
import { collectOutputs } from './collect-outputs.js';
import { deadlinePassedFailure, exitFailure, signalFailure, spawnFailure, timeoutFailure, type TimeLimit } from './failure-messages.js';
import { ProgressCoalescer } from './progress-coalescer.js';
import { createProgressParser } from './progress-parser.js';
import { DEFAULT_KILL_GRACE_MS, DEFAULT_MAX_STDOUT_BYTES, type RunOutcome, type RunRequest } from './run-types.js';
import { superviseChild, type ChildResult } from './supervise-child.js';

export type { LocalOutputValue, RunOutcome, RunRequest } from './run-types.js';

/** Nothing was sent: the run was stopped before its program started. */
const KILLED_BEFORE_START: RunOutcome = { status: 'killed', signal: 'SIGTERM' };

/** Runs one job's program to its end and describes how it ended. Never rejects. */
export async function runProcess(request: RunRequest): Promise<RunOutcome> {
  const progress = new ProgressCoalescer((report) => {
    try {
      request.onProgress(report.progress, report.message);
    } catch {
      // A faulty listener must not break the run it listens to.
    }
  });
  try {
    return await run(request, progress);
  } catch (error) {
    return { status: 'failed', code: 'internal', message: error instanceof Error ? error.message : String(error) };
  } finally {
    progress.flush();
  }
}

async function run(request: RunRequest, progress: ProgressCoalescer): Promise<RunOutcome> {
  const { service, signal } = request;
  if (signal.aborted) return KILLED_BEFORE_START;
  const confined = await confinePaths(service, request.inputs);
  if (!confined.ok) return { status: 'failed', code: 'invalid-inputs', message: confined.message };
  const argv = buildArgv(service, confined.inputs);
  if (!argv.ok) return { status: 'failed', code: 'invalid-inputs', message: argv.message };
  const serviceMs = service.timeoutSeconds * 1000;
  const { deadline } = request;
  const untilDeadline = deadline ? deadline.getTime() - Date.now() : Number.POSITIVE_INFINITY;
  if (deadline && untilDeadline <= 0) return deadlinePassedFailure(deadline);
  const limit: TimeLimit = deadline && untilDeadline < serviceMs ? { kind: 'deadline', deadline } : { kind: 'service' };
  const timeoutMs = Math.min(serviceMs, untilDeadline);
  const parseLine = createProgressParser(service.progress);
  const workDir = path.resolve(request.workDir);
  await mkdir(workDir, { recursive: true, mode: PRIVATE_DIR });
  if (signal.aborted) return KILLED_BEFORE_START;

  const maxStdoutBytes = request.maxStdoutBytes ?? DEFAULT_MAX_STDOUT_BYTES;
  const readsStdout = Object.values(service.outputs).some((output) => output.from.kind === 'stdout');
  const result = await superviseChild(
    {
      executable: service.executable,
      args: argv.args,
      ...(argv.stdin !== undefined && { stdin: argv.stdin }),
      cwd: workDir,
      env: childEnv(workDir, request.jobId, service.env),
    },
    {
      timeoutMs,
      signal,
      killGraceMs: request.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
      ...(readsStdout && { maxStdoutBytes }),
      onLine: (line) => {
        const parsed = parseLine(line);
        if (parsed) progress.push(parsed);
        return !parsed?.json;
      },
    },
  );
  return outcomeOf(result, request, { workDir, timeoutMs, limit, maxStdoutBytes });
}

async function outcomeOf(
  result: ChildResult,
  request: RunRequest,
  run: { workDir: string; timeoutMs: number; limit: TimeLimit; maxStdoutBytes: number },
): Promise<RunOutcome> {
  if (result.kind === 'spawn-error') return spawnFailure(request.service.executable, result.error);
  const { stopReason, stderr } = result;
  if (stopReason === 'abort') return { status: 'killed', signal: result.stopSignal ?? 'SIGTERM' };
  if (stopReason === 'timeout') return timeoutFailure(run.timeoutMs, run.limit, stderr);
  if (stopReason === 'stdout-limit') {
    return { status: 'failed', code: 'output', message: `stdout exceeds ${formatBytes(run.maxStdoutBytes)}` };
  }
  if (result.signal !== null) return signalFailure(result.signal, stderr);
  if (result.exitCode !== 0) return exitFailure(result.exitCode ?? -1, stderr);
  const collected = await collectOutputs(request.service.outputs, result.stdout, run.workDir, run.maxStdoutBytes);
  return collected.ok ? { status: 'completed', outputs: collected.outputs } : { status: 'failed', code: 'output', message: collected.message };
}
