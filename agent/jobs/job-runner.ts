import { rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { AgentMessage, OrchestratorMessage, TerminalEvent } from '../../src/protocol/index.js';
import type { ServiceDefinition } from '../services/service-definition.js';
import type { LocalOutputValue, RunOutcome, runProcess } from '../runner/run-process.js';
import type { Outbox } from './outbox.js';
import { forgetRun, jobDir, recordRun } from './leftover-runs.js';

type ExecuteMessage = Extract<OrchestratorMessage, { type: 'execute' }>;
type OutputsMessage = Extract<AgentMessage, { type: 'completed' }>['outputs'];

export interface RunningJob {
  job: string;
  process: string;
  seq: number;
  abort: AbortController;
}

export interface JobRunnerOptions {
  workDir: string;
  outbox: Outbox;
  send: (message: AgentMessage) => Promise<void>;
  run: typeof runProcess;
  killGraceMs?: number;
  logger: Logger;
  onFinished: () => void;
}

/** One job's run on this agent: numbered events out, a terminal event into the outbox. */
export async function runJob(options: JobRunnerOptions, service: ServiceDefinition, request: ExecuteMessage, running: RunningJob): Promise<void> {
  const { logger, send } = options;
  const next = () => ++running.seq;
  const workDir = jobDir(options.workDir, request.job);
  send({ v: 1, type: 'accepted', job: request.job, seq: next() }).catch(() => undefined);
  let recorded: Promise<void> = Promise.resolve();
  const outcome = await options.run({
    jobId: request.job,
    service,
    inputs: request.inputs,
    workDir,
    signal: running.abort.signal,
    ...(request.deadline === undefined ? {} : { deadline: new Date(request.deadline) }),
    ...(options.killGraceMs === undefined ? {} : { killGraceMs: options.killGraceMs }),
    onSpawn: (pid) => (recorded = recordRun(options.workDir, request.job, pid).catch(() => undefined)),
    onProgress: (progress, message) => {
      send({ v: 1, type: 'progress', job: request.job, seq: next(), progress, ...(message ? { message: message.slice(0, 1000) } : {}) }).catch(() => undefined);
    },
  });
  const event = terminalEvent(request.job, next(), outcome);
  logger.info({ job: request.job, process: request.process, outcome: event.type }, 'run finished');
  await options.outbox.add(event);
  await rm(workDir, { recursive: true, force: true });
  await recorded;
  await forgetRun(options.workDir, request.job);
  options.onFinished();
}

function terminalEvent(job: string, seq: number, outcome: RunOutcome): TerminalEvent {
  switch (outcome.status) {
    case 'completed':
      return inlineOutputs(job, seq, outcome.outputs);
    case 'killed':
      return { v: 1, type: 'killed', job, seq, signal: outcome.signal };
    case 'failed': {
      const { status: _status, stderr, ...failure } = outcome;
      return { v: 1, type: 'failed', job, seq, ...failure, message: failure.message.slice(0, 2000), ...(stderr ? { stderr: stderr.slice(-8192) } : {}) };
    }
  }
}

/** Values travel inside the body; anything that would break the body limit fails the job clearly. */
function inlineOutputs(job: string, seq: number, outputs: Record<string, LocalOutputValue>): TerminalEvent {
  const inline: OutputsMessage = {};
  for (const [name, output] of Object.entries(outputs)) {
    if (output.kind === 'file') {
      return { v: 1, type: 'failed', job, seq, code: 'output', message: `output '${name}' is a file; file outputs need an upload URL from the orchestrator` };
    }
    inline[name] = { value: output.value };
  }
  const size = Buffer.byteLength(JSON.stringify(inline));
  if (size > 60 * 1024) {
    return { v: 1, type: 'failed', job, seq, code: 'output', message: `outputs of ${size} bytes are too large to send inline (limit 61440)` };
  }
  return { v: 1, type: 'completed', job, seq, outputs: inline };
}
