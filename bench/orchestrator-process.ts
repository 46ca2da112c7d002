import { pino } from 'pino';
import { issueUserToken } from '../src/auth/token-command.js';
import { startOrchestrator, type RunningOrchestrator } from '../src/main.js';
import { FINISHED_STATUSES, type JobRecord } from '../src/store/job-record.js';
import { HealthSampler } from './orchestrator-health.js';
import { CONFIG_ENV, type Announcement, type BenchOrchestratorConfig, type JobTimings, type Reply, type Request } from './orchestrator-ipc.js';
import { summarize } from './stats.js';

/*
 * The orchestrator of a benchmark run, in a process of its own so that the load generator does
 * not share its event loop. The parent asks it, over IPC, what only the orchestrator knows.
 */

const config = JSON.parse(process.env[CONFIG_ENV] ?? 'null') as BenchOrchestratorConfig | null;
const send = (message: Announcement | Reply) => process.send?.(message);
const health = new HealthSampler();

async function awaitAgents(orchestrator: RunningOrchestrator, processId: string, count: number, timeoutMs: number) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const agents = orchestrator.registry.process(processId)?.agents.length ?? 0;
    if (agents >= count) return { agents };
    if (Date.now() > until) throw new Error(`only ${agents} of ${count} agents offer '${processId}' after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Resolves once every job is finished or `timeoutMs` passed. One listener on the event stream,
 * not a waiter per job: thousands of waiters on one abort signal cost the orchestrator more CPU
 * per job than what is measured.
 */
function awaitJobs(orchestrator: RunningOrchestrator, ids: string[], timeoutMs: number) {
  const waiting = new Set(ids);
  return new Promise<{ finished: number; unfinished: number }>((resolve) => {
    const done = () => {
      stop();
      clearTimeout(timer);
      resolve({ finished: ids.length - waiting.size, unfinished: waiting.size });
    };
    const stop = orchestrator.lifecycle.events.listen((event) => {
      if (event.type === 'finished' && waiting.delete(event.job.id) && waiting.size === 0) done();
    });
    const timer = setTimeout(done, Math.max(1, Math.round(timeoutMs)));
    for (const id of ids) {
      const job = orchestrator.jobStore.get(id);
      if (job && FINISHED_STATUSES.includes(job.status)) waiting.delete(id);
    }
    if (waiting.size === 0) done();
  });
}

const between = (from: string | null, to: string | null) => (from && to ? Date.parse(to) - Date.parse(from) : undefined);
const defined = (values: (number | undefined)[]) => values.filter((value): value is number => value !== undefined);

function jobTimings(orchestrator: RunningOrchestrator, since: string): JobTimings {
  const jobs: JobRecord[] = orchestrator.jobStore.list({ createdFrom: since, limit: 1_000_000, offset: 0 }).jobs;
  const statuses: Record<string, number> = {};
  for (const job of jobs) statuses[job.status] = (statuses[job.status] ?? 0) + 1;
  const finished = jobs.filter((job) => FINISHED_STATUSES.includes(job.status));
  return {
    statuses,
    queuedMs: summarize(defined(finished.map((job) => between(job.created, job.started)))),
    runningMs: summarize(defined(finished.map((job) => between(job.started, job.finished)))),
    createdToFinishedMs: summarize(defined(finished.map((job) => between(job.created, job.finished)))),
  };
}

async function answer(orchestrator: RunningOrchestrator, request: Request): Promise<unknown> {
  switch (request.type) {
    case 'await-agents':
      return awaitAgents(orchestrator, request.processId, request.count, request.timeoutMs);
    case 'await-jobs':
      return awaitJobs(orchestrator, request.ids, request.timeoutMs);
    case 'job-timings':
      return jobTimings(orchestrator, request.since);
    case 'fleet-status':
      return orchestrator.registry.counts();
    case 'user-tokens':
      return { tokens: await Promise.all(Array.from({ length: request.count }, async (_, i) => (await issueUserToken(orchestrator.users, `bench-user-${i + 1}`, 'user', 'bench')).token)) };
    case 'queued':
      return { queued: orchestrator.lifecycle.queued() };
    case 'health':
      return health.take();
  }
}

async function main(): Promise<void> {
  if (!config || !process.send) throw new Error(`run by the bench only: needs an IPC channel and ${CONFIG_ENV}`);
  const orchestrator = await startOrchestrator(config, pino({ level: config.logLevel }, pino.destination(2)));
  // Exit through process.exit, so a requested --cpu-prof profile gets written.
  const stop = () => void orchestrator.stop().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.once('disconnect', stop);
  process.on('message', (message: Request & { id: string }) => {
    answer(orchestrator, message).then(
      (value) => send({ id: message.id, ok: true, value }),
      (error: Error) => send({ id: message.id, ok: false, message: error.message }),
    );
  });
  send({ type: 'ready', url: orchestrator.url });
}

main().catch((error: Error) => {
  send({ type: 'failed', message: error.message });
  process.exit(1);
});
