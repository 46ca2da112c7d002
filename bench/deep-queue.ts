import { performance } from 'node:perf_hooks';
import { closedLoop } from './closed-loop.js';
import { HttpClient } from './http-client.js';
import type { OutpostCluster } from './outpost-cluster.js';
import { executeAsync } from './outpost-scenarios.js';
import type { BenchParams } from './params.js';
import { CpuMeter, cpuReport } from './process-cpu.js';
import { perSecond, summarize } from './stats.js';

const seconds = (ms: number) => Math.round(ms) / 1000;

/**
 * `deepJobs` async jobs from `deepUsers` users taking turns, submitted as fast as the clients
 * can, so that most of them wait in the orchestrator's queue; then awaited. The figures that
 * matter are the queue's depth and how long jobs waited in it (`orchestratorView.queuedMs`).
 */
export async function deepQueueScenario(cluster: OutpostCluster, params: BenchParams) {
  const { tokens } = await cluster.orchestrator.request({ type: 'user-tokens', count: params.deepUsers });
  const client = new HttpClient(cluster.orchestrator.url, params.concurrency);
  try {
    const since = new Date().toISOString();
    const ids: string[] = [];
    const cpu = new CpuMeter(cluster.cpuParts);
    cpu.start();
    const started = performance.now();
    const submit = await closedLoop({
      count: params.deepJobs,
      concurrency: params.concurrency,
      timeLimitMs: params.deepSeconds * 1000,
      operation: async (index) => void ids.push(await executeAsync(client, { authorization: `Bearer ${tokens[index % tokens.length]}` })),
    });
    const { queued } = await cluster.orchestrator.request({ type: 'queued' });
    const remainingMs = Math.max(1000, Math.round(params.deepSeconds * 1000 - (performance.now() - started)));
    const waited = await cluster.orchestrator.request({ type: 'await-jobs', ids, timeoutMs: remainingMs });
    const elapsedMs = performance.now() - started;
    const cpuUsed = cpu.stop();
    return {
      users: params.deepUsers,
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
      orchestratorView: await cluster.orchestrator.request({ type: 'job-timings', since }),
    };
  } finally {
    client.close();
  }
}
