import { rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { AgentMessage, OrchestratorMessage, TerminalEvent } from '../../protocol/index.js';
import type { ServiceDefinition } from '../services/service-definition.js';
import type { RunOutcome, runProcess } from '../runner/run-process.js';
import type { Outbox } from './outbox.js';
import type { RunJournal } from './run-journal.js';
import type { RunFolders } from './run-folders.js';
import { runDirsOf } from '../services/run-id.js';
import type { ServerTrust } from '../../xmpp/server-trust.js';
import { DeliveryError, deliverOutputs, type DeliveryOptions, type UploadTarget } from './upload-outputs.js';
import { InputFetchError, fetchFileInputs, type FetchLimits } from './fetch-inputs.js';
import { QuietStart } from './quiet-start.js';

type ExecuteMessage = Extract<OrchestratorMessage, { type: 'execute' }>;

export interface RunningJob {
  job: string;
  process: string;
  seq: number;
  abort: AbortController;
  /** From the job's latest `execute`. */
  upload: UploadTarget | undefined;
}

export interface JobRunnerOptions {
  /** Where each run's folder comes from and goes back to. */
  folders: RunFolders;
  /** Where each run is written down before its program starts, so that a later start can end it. */
  journal: RunJournal;
  outbox: Outbox;
  send: (message: AgentMessage) => Promise<void>;
  run: typeof runProcess;
  killGraceMs?: number;
  /** Uploads, and fetches of files sent inline, verify the orchestrator as the XMPP link verifies the server. */
  serverTrust?: ServerTrust;
  /** How far file inputs are fetched from. */
  fetchLimits: FetchLimits;
  logger: Logger;
  /** The run is over: its slot is free (called before the terminal event goes out, so the orchestrator can reuse it at once). */
  onSlotFree: () => void;
  /** The terminal event is in the outbox and the work directory is gone. */
  onFinished: () => void;
  /** How long a new run stays silent before `accepted` (quiet-start.ts). */
  quietStartMs?: number;
}

/** One job's run on this agent: numbered events out, a terminal event into the outbox. */
export async function runJob(options: JobRunnerOptions, service: ServiceDefinition, request: ExecuteMessage, running: RunningJob): Promise<void> {
  const { logger, send } = options;
  const next = () => ++running.seq;
  const workDir = options.folders.take(request.job);
  const quietStart = new QuietStart(
    () => send({ v: 1, type: 'accepted', job: request.job, seq: next() }).catch(() => undefined),
    (progress, message) => send({ v: 1, type: 'progress', job: request.job, seq: next(), progress, ...(message ? { message: message.slice(0, 1000) } : {}) }).catch(() => undefined),
    options.quietStartMs,
  );
  const unrecorded = recordStart(options.journal, request.job);
  const fetched = unrecorded ?? (await fetchFileInputs(service, request.inputs, workDir, { limits: options.fetchLimits, trust: options.serverTrust ?? {}, signal: running.abort.signal }).then(
    (inputs): { inputs: Record<string, unknown> } => ({ inputs }),
    (error: unknown): RunOutcome => fetchFailure(error, running.abort.signal),
  ));
  const outcome = 'status' in fetched ? fetched : await options.run({
    jobId: request.job,
    service,
    inputs: fetched.inputs,
    workDir,
    signal: running.abort.signal,
    ...(request.deadline === undefined ? {} : { deadline: new Date(request.deadline) }),
    ...(request.formats === undefined ? {} : { formats: request.formats }),
    ...(options.killGraceMs === undefined ? {} : { killGraceMs: options.killGraceMs }),
    onProgress: (progress, message) => quietStart.progress(progress, message),
  });
  if (!unrecorded) recordEnd(options.journal, request.job, logger);
  const delivery = { upload: running.upload, signal: running.abort.signal, trust: options.serverTrust ?? {}, logger: logger.child({ job: request.job }) };
  // Numbered once the outputs are delivered, after whatever the quiet start sent meanwhile.
  const terminalSeq = () => {
    quietStart.end();
    return next();
  };
  const event = await terminalEvent(request.job, service, terminalSeq, outcome, delivery);
  logger.info({ job: request.job, process: request.process, outcome: event.type }, 'run finished');
  options.onSlotFree();
  await options.outbox.add(event);
  await options.folders.give(workDir);
  for (const dir of runDirsOf(service, request.job)) await rm(dir, { recursive: true, force: true });
  options.onFinished();
}

/** A file input that could not be fetched ends the run before it starts (docs/protocol.md, file inputs). */
function fetchFailure(error: unknown, signal: AbortSignal): RunOutcome {
  if (signal.aborted) return { status: 'killed', signal: 'SIGTERM' };
  const message = error instanceof Error ? error.message : String(error);
  return { status: 'failed', code: error instanceof InputFetchError ? 'input' : 'internal', message };
}

/** Orphan safety comes first: a run that cannot be written down is not started. */
function recordStart(journal: RunJournal, job: string): RunOutcome | undefined {
  try {
    journal.started(job);
    return undefined;
  } catch (error) {
    return { status: 'failed', code: 'internal', message: `the run could not be recorded before its start: ${(error as Error).message}` };
  }
}

/** A lost `end` only makes the next start look for processes of a run that has none left. */
function recordEnd(journal: RunJournal, job: string, logger: Logger): void {
  try {
    journal.ended(job);
  } catch (error) {
    logger.warn({ job, err: (error as Error).message }, 'the end of a run could not be recorded');
  }
}

async function terminalEvent(job: string, service: ServiceDefinition, seq: () => number, outcome: RunOutcome, delivery: DeliveryOptions): Promise<TerminalEvent> {
  switch (outcome.status) {
    case 'completed':
      try {
        const outputs = await deliverOutputs(outcome.outputs, service.outputs, delivery);
        return { v: 1, type: 'completed', job, seq: seq(), outputs };
      } catch (error) {
        // A kill while the outputs were on their way ends the job like a kill of the program.
        if (delivery.signal.aborted) return { v: 1, type: 'killed', job, seq: seq() };
        const code = error instanceof DeliveryError ? 'output' : 'internal';
        return { v: 1, type: 'failed', job, seq: seq(), code, message: String((error as Error).message).slice(0, 2000) };
      }
    case 'killed':
      return { v: 1, type: 'killed', job, seq: seq(), signal: outcome.signal };
    case 'failed': {
      const { status: _status, stderr, ...failure } = outcome;
      return { v: 1, type: 'failed', job, seq: seq(), ...failure, message: failure.message.slice(0, 2000), ...(stderr ? { stderr: stderr.slice(-8192) } : {}) };
    }
  }
}
