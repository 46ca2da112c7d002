import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
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
import { chooseFormats } from './output-formats.js';
import { createLineRules } from './line-rules.js';
import { forRun, runDirsOf } from '../services/run-id.js';
import { DEFAULT_KILL_GRACE_MS, DEFAULT_MAX_STDOUT_BYTES, type RunOutcome, type RunRequest } from './run-types.js';
import { superviseChild, type ChildResult } from './supervise-child.js';
import type { LocalOutputSpec } from '../services/service-definition.js';

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
  const { signal } = request;
  const service = forRun(request.service, request.jobId);
  if (signal.aborted) return KILLED_BEFORE_START;
  const confined = await confinePaths(service, request.inputs);
  if (!confined.ok) return { status: 'failed', code: 'invalid-inputs', message: confined.message };
  const argv = buildArgv(service, confined.inputs);
  if (!argv.ok) return { status: 'failed', code: 'invalid-inputs', message: argv.message };
  const formats = chooseFormats(service.outputs, request.formats);
  if (!formats.ok) return { status: 'failed', code: 'invalid-inputs', message: formats.message };
  const serviceMs = service.timeoutSeconds * 1000;
  const { deadline } = request;
  const untilDeadline = deadline ? deadline.getTime() - Date.now() : Number.POSITIVE_INFINITY;
  if (deadline && untilDeadline <= 0) return deadlinePassedFailure(deadline);
  const limit: TimeLimit = deadline && untilDeadline < serviceMs ? { kind: 'deadline', deadline } : { kind: 'service' };
  const timeoutMs = Math.min(serviceMs, untilDeadline);
  const parseLine = createProgressParser(service.progress);
  const applyRules = createLineRules(service.lineRules);
  const workDir = path.resolve(request.workDir);
  // Synchronous: one system call on the agent's own disk costs a third of the CPU of a trip through libuv's pool.
  for (const dir of [workDir, ...runDirsOf(request.service, request.jobId)]) mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR });
  for (const file of argv.files ?? []) await writeFile(path.join(workDir, file.name), file.content, { mode: 0o600 });
  if (signal.aborted) return KILLED_BEFORE_START;

  const maxStdoutBytes = request.maxStdoutBytes ?? DEFAULT_MAX_STDOUT_BYTES;
  const readsStdout = Object.values(formats.outputs).some((output) => output.from.kind === 'stdout');
  const failed = new AbortController();
  let abortMessage = '';
  let percent = 0;
  const result = await superviseChild(
    {
      executable: service.executable,
      args: [...argv.args, ...formats.args],
      ...(argv.stdin !== undefined && { stdin: argv.stdin }),
      cwd: workDir,
      env: childEnv(workDir, request.jobId, service.env),
    },
    {
      timeoutMs,
      signal,
      failSignal: failed.signal,
      killGraceMs: request.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
      ...(readsStdout && { maxStdoutBytes }),
      ...(request.start && { start: request.start }),
      onLine: (line) => {
        const verdict = applyRules(line);
        if (verdict?.action === 'ignore') return false;
        if (verdict?.action === 'abort' && !failed.signal.aborted) {
          abortMessage = verdict.message;
          failed.abort();
        }
        if (verdict?.action === 'log') progress.push({ progress: percent, message: verdict.message });
        const parsed = verdict?.action === 'progress' ? { progress: verdict.percent, json: false } : verdict ? undefined : parseLine(line);
        if (parsed) progress.push(parsed);
        percent = parsed?.progress ?? percent;
        return !parsed?.json;
      },
    },
  );
  if (result.kind === 'exited' && result.stopReason === 'line-rule') {
    return { status: 'failed', code: 'aborted', message: abortMessage || 'the program reported a failure', ...(result.stderr && { stderr: result.stderr }) };
  }
  return outcomeOf(result, { ...request, service }, { workDir, timeoutMs, limit, maxStdoutBytes, outputs: formats.outputs });
}

async function outcomeOf(
  result: ChildResult,
  request: RunRequest,
  run: { workDir: string; timeoutMs: number; limit: TimeLimit; maxStdoutBytes: number; outputs: Record<string, LocalOutputSpec> },
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
  const collected = await collectOutputs(run.outputs, result.stdout, run.workDir, run.maxStdoutBytes);
  return collected.ok ? { status: 'completed', outputs: collected.outputs } : { status: 'failed', code: 'output', message: collected.message };
}
