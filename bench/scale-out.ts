import { performance } from 'node:perf_hooks';
import type { CleanupStack } from './cleanup.js';
import { closedLoop } from './closed-loop.js';
import { expectStatus, HttpClient } from './http-client.js';
import { executeAsync, executeSync } from './outpost-scenarios.js';
import type { BenchParams } from './params.js';
import { CpuMeter, cpuReport } from './process-cpu.js';
import { RssSampler } from './process-memory.js';
import { clusterStack, singleStack, type ServedStack } from './scale-out-stacks.js';
import { perSecond, ratio, summarize } from './stats.js';

/*
 * `npm run bench -- --scenario scale-out`: the same jobs through one orchestrator on SQLite and
 * Prosody, then through `--instances` orchestrators on PostgreSQL and ejabberd, the load spread
 * over the instances as a round-robin load balancer would (docs/deploy.md, a cluster).
 */

type Note = (text: string) => void;
const seconds = (ms: number) => Math.round(ms) / 1000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One keep-alive client per instance; operation `i` goes to instance `i mod n`. */
class RoundRobin {
  readonly clients: HttpClient[];
  constructor(urls: string[], connections: number) {
    this.clients = urls.map((url) => new HttpClient(url, connections));
  }
  pick(index: number): HttpClient {
    return this.clients[index % this.clients.length]!;
  }
  close(): void {
    for (const client of this.clients) client.close();
  }
}

/** Until every instance lists every bench agent as online: followers copy the dispatcher's registry. */
async function untilAgentsOnline(stack: ServedStack): Promise<void> {
  const clients = stack.urls.map((url) => new HttpClient(url, 1, 5000));
  const online = async (client: HttpClient) => {
    const answer = await client.request('GET', '/admin/agents', undefined, { authorization: `Bearer ${stack.adminToken}` }).catch(() => undefined);
    return answer?.status === 200 && (JSON.parse(answer.body) as { agents: unknown[] }).agents.length >= stack.agents;
  };
  try {
    for (const until = Date.now() + 60_000; Date.now() < until; await sleep(250)) {
      if ((await Promise.all(clients.map(online))).every(Boolean)) return;
    }
    throw new Error(`the ${stack.agents} agents were not all online within 60 s`);
  } finally {
    for (const client of clients) client.close();
  }
}

/** Until no job is accepted or running any more, or `timeoutMs` passed; whether they all ended. */
async function untilNoneUnfinished(client: HttpClient, timeoutMs: number): Promise<boolean> {
  for (const until = performance.now() + timeoutMs; performance.now() < until; await sleep(100)) {
    const answer = expectStatus(await client.request('GET', '/jobs?status=accepted&status=running&limit=1'), 200, 'job list');
    if ((JSON.parse(answer.body) as { jobs: unknown[] }).jobs.length === 0) return true;
  }
  return false;
}

async function failedJobs(client: HttpClient): Promise<number> {
  const answer = expectStatus(await client.request('GET', '/jobs?status=failed&status=dismissed&limit=1000'), 200, 'job list');
  return (JSON.parse(answer.body) as { jobs: unknown[] }).jobs.length;
}

async function measure(stack: ServedStack, params: BenchParams, note: Note) {
  await untilAgentsOnline(stack);
  const clients = new RoundRobin(stack.urls, params.concurrency);
  const loop = (count: number, operation: (index: number) => Promise<void>) =>
    closedLoop({ count, concurrency: params.concurrency, timeLimitMs: params.phaseSeconds * 1000, operation });
  try {
    const warm = await loop(params.warmup, (i) => executeSync(clients.pick(i)));
    if (warm.errors > 0) throw new Error(`warm-up failed ${warm.errors} times: ${warm.firstError}`);

    let cpu = new CpuMeter(stack.cpuParts);
    let rss = new RssSampler(stack.memoryParts, 100);
    cpu.start();
    const sync = await loop(params.syncJobs, (i) => executeSync(clients.pick(i)));
    const syncFigures = {
      jobs: sync.completed,
      errors: sync.errors,
      firstError: sync.firstError,
      jobsPerSecond: perSecond(sync.completed, sync.elapsedMs),
      latencyMs: summarize(sync.latenciesMs),
      cpu: cpuReport(cpu.stop(), sync.completed, sync.elapsedMs),
      rssMiB: rss.report(),
    };
    note(`  sync: ${syncFigures.jobsPerSecond} jobs/s, p50 ${syncFigures.latencyMs?.p50} ms, ${sync.errors} errors`);

    cpu = new CpuMeter(stack.cpuParts);
    rss = new RssSampler(stack.memoryParts, 100);
    cpu.start();
    const started = performance.now();
    const submit = await loop(params.asyncJobs, async (i) => void (await executeAsync(clients.pick(i))));
    const allEnded = await untilNoneUnfinished(clients.pick(0), Math.max(1000, params.phaseSeconds * 1000 - (performance.now() - started)));
    const elapsedMs = performance.now() - started;
    const asyncFigures = {
      submitted: submit.completed,
      submitErrors: submit.errors,
      firstError: submit.firstError,
      submitLatencyMs: summarize(submit.latenciesMs),
      allEnded,
      elapsedSeconds: seconds(elapsedMs),
      jobsPerSecond: perSecond(submit.completed, elapsedMs),
      cpu: cpuReport(cpu.stop(), submit.completed, elapsedMs),
      rssMiB: rss.report(),
    };
    note(`  async: ${asyncFigures.jobsPerSecond} jobs/s end to end, all ended: ${allEnded}`);
    return { instances: stack.urls.length, sync: syncFigures, async: asyncFigures, failedOrDismissed: await failedJobs(clients.pick(0)) };
  } finally {
    clients.close();
  }
}

export async function scaleOutScenario(params: BenchParams, stack: CleanupStack, note: Note) {
  const options = { agents: params.agents, slotsPerAgent: params.slotsPerAgent, cpuProfileDir: params.cpuProfileDir };
  note('scale-out.single: one orchestrator, SQLite, private Prosody');
  const single = await stack.scoped('single', async (scope) => measure(await singleStack(options, scope), params, note));
  note(`scale-out.cluster: ${params.instances} orchestrators, private PostgreSQL, private ejabberd`);
  const cluster = await stack.scoped('cluster', async (scope) => measure(await clusterStack({ ...options, instances: params.instances }, scope), params, note));
  return {
    single,
    cluster,
    ratios: {
      meaning: 'cluster divided by single, same run: throughput above 1 and latency below 1 favour the cluster',
      syncThroughput: ratio(cluster.sync.jobsPerSecond, single.sync.jobsPerSecond),
      syncLatencyP50: ratio(cluster.sync.latencyMs?.p50, single.sync.latencyMs?.p50),
      syncLatencyP99: ratio(cluster.sync.latencyMs?.p99, single.sync.latencyMs?.p99),
      asyncThroughput: ratio(cluster.async.jobsPerSecond, single.async.jobsPerSecond),
    },
  };
}
