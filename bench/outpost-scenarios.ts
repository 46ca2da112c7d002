import { performance } from 'node:perf_hooks';
import { closedLoop } from './closed-loop.js';
import { expectStatus, HttpClient } from './http-client.js';
import { BENCH_PROCESS, type OutpostCluster } from './outpost-cluster.js';
import type { BenchParams } from './params.js';
import { CpuMeter, cpuReport } from './process-cpu.js';
import { RssSampler } from './process-memory.js';
import { perSecond, summarize } from './stats.js';

const EXECUTE = `/processes/${BENCH_PROCESS}/execution`;
const seconds = (ms: number) => Math.round(ms) / 1000;

export async function executeSync(client: HttpClient): Promise<void> {
  const answer = expectStatus(await client.request('POST', EXECUTE, { inputs: {} }), 200, 'sync execution');
  if (!answer.body.includes('PROGRESS 50')) throw new Error(`sync execution: unexpected result ${answer.body.slice(0, 200)}`);
}

export async function executeAsync(client: HttpClient, headers: Record<string, string> = {}): Promise<string> {
  const answer = expectStatus(await client.request('POST', EXECUTE, { inputs: {} }, { prefer: 'respond-async', ...headers }), 201, 'async execution');
  const id = String(answer.headers.location ?? '').split('/').pop();
  if (!id) throw new Error('async execution: 201 without a Location');
  return id;
}

/** Untimed jobs, so that sockets, statements and JIT are warm before anything is measured. */
export async function warmUp(cluster: OutpostCluster, params: BenchParams): Promise<void> {
  if (params.warmup === 0) return;
  const client = new HttpClient(cluster.orchestrator.url, params.concurrency);
  try {
    const result = await closedLoop({ count: params.warmup, concurrency: params.concurrency, timeLimitMs: params.phaseSeconds * 1000, operation: () => executeSync(client) });
    if (result.errors > 0) throw new Error(`warm-up failed ${result.errors} times: ${result.firstError}`);
  } finally {
    client.close();
  }
}

/** `syncJobs` sync executions by `concurrency` clients, each waiting for its result before the next. */
export async function syncScenario(cluster: OutpostCluster, params: BenchParams) {
  const client = new HttpClient(cluster.orchestrator.url, params.concurrency);
  try {
    const since = new Date().toISOString();
    const cpu = new CpuMeter(cluster.cpuParts);
    const rss = new RssSampler(cluster.memoryParts, 100);
    cpu.start();
    const run = await closedLoop({ count: params.syncJobs, concurrency: params.concurrency, timeLimitMs: params.phaseSeconds * 1000, operation: () => executeSync(client) });
    return {
      jobs: run.completed,
      errors: run.errors,
      firstError: run.firstError,
      stoppedByTimeLimit: run.timedOut,
      elapsedSeconds: seconds(run.elapsedMs),
      jobsPerSecond: perSecond(run.completed, run.elapsedMs),
      latencyMs: summarize(run.latenciesMs),
      cpu: cpuReport(cpu.stop(), run.completed, run.elapsedMs),
      rssMiB: rss.report(),
      orchestratorView: await cluster.orchestrator.request({ type: 'job-timings', since }),
    };
  } finally {
    client.close();
  }
}

/** How many async jobs, within what time, and the headers of the `index`th submission. */
export interface AsyncLoad {
  jobs: number;
  seconds: number;
  headers: (index: number) => Record<string, string>;
}

/**
 * `asyncJobs` submitted by `concurrency` clients, then awaited: jobs per second from first submit to
 * last finish, and how many jobs waited in the queue once the last was accepted.
 */
export async function asyncScenario(cluster: OutpostCluster, params: BenchParams, load: AsyncLoad = { jobs: params.asyncJobs, seconds: params.phaseSeconds, headers: () => ({}) }) {
  const client = new HttpClient(cluster.orchestrator.url, params.concurrency);
  try {
    const since = new Date().toISOString();
    const ids: string[] = [];
    const cpu = new CpuMeter(cluster.cpuParts);
    const rss = new RssSampler(cluster.memoryParts, 100);
    cpu.start();
    const started = performance.now();
    const submit = await closedLoop({
      count: load.jobs,
      concurrency: params.concurrency,
      timeLimitMs: load.seconds * 1000,
      operation: async (index) => void ids.push(await executeAsync(client, load.headers(index))),
    });
    const { queued } = await cluster.orchestrator.request({ type: 'queued' });
    // Submitting and waiting share one phase budget, so the phase stays bounded like the others.
    const remainingMs = Math.max(1000, Math.round(load.seconds * 1000 - (performance.now() - started)));
    const waited = await cluster.orchestrator.request({ type: 'await-jobs', ids, timeoutMs: remainingMs });
    const elapsedMs = performance.now() - started;
    const cpuUsed = cpu.stop();
    const rssMiB = rss.report();
    return {
      submitted: submit.completed,
      submitErrors: submit.errors,
      firstError: submit.firstError,
      submitPerSecond: perSecond(submit.completed, submit.elapsedMs),
      submitLatencyMs: summarize(submit.latenciesMs),
      queuedWhenSubmitted: queued,
      finished: waited.finished,
      unfinished: waited.unfinished,
      elapsedSeconds: seconds(elapsedMs),
      jobsPerSecond: perSecond(waited.finished, elapsedMs),
      cpu: cpuReport(cpuUsed, waited.finished, elapsedMs),
      rssMiB,
      orchestratorView: await cluster.orchestrator.request({ type: 'job-timings', since }),
    };
  } finally {
    client.close();
  }
}
