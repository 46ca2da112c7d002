import { celeryPeer, type PeerReport } from './celery-peer.js';
import { CleanupStack, stopOnSignals } from './cleanup.js';
import { machineFacts } from './machine.js';
import { deepQueueScenario } from './deep-queue.js';
import { startOutpostCluster, type OutpostCluster } from './outpost-cluster.js';
import { asyncScenario, syncScenario, warmUp } from './outpost-scenarios.js';
import { loadParams, paramsOrExit, USAGE, type BenchParams } from './params.js';
import { RssSampler } from './process-memory.js';
import { scaleOutScenario } from './scale-out.js';
import { soakScenario } from './soak.js';
import { ratio } from './stats.js';

/*
 * `npm run bench`: Outpost's own figures, then the peer's (Celery + RabbitMQ) with the same
 * counts and concurrency, one after the other so they never share the cores, and their ratios.
 * One JSON document goes to stdout; notes go to stderr.
 */

const note = (text: string) => process.stderr.write(`bench: ${text}\n`);
/** A failed part becomes `{error}` in the report, and the run's exit code says something failed. */
const failed = (error: unknown) => {
  process.exitCode = 1;
  note(`failed: ${(error as Error).message}`);
  return { error: (error as Error).message };
};

type Figures = { jobsPerSecond?: number; latencyMs?: { p50: number; p99: number } | null };

/** Prosody, the orchestrator and the agents, started and warmed up. */
async function warmCluster(params: BenchParams, scope: CleanupStack) {
  note(`starting Prosody, the orchestrator and ${params.agents} agent(s) with ${params.slotsPerAgent} slot(s) each`);
  const cluster = await startOutpostCluster(params, scope);
  const sampler = new RssSampler(cluster.memoryParts);
  const idleRssMiB = sampler.current();
  sampler.report();
  note(`idle RSS, MiB: ${JSON.stringify(idleRssMiB)}`);
  note(`warming up with ${params.warmup} jobs`);
  await warmUp(cluster, params);
  return { cluster, idleRssMiB };
}

/** Outpost's scenarios on one cluster; a scenario that fails is reported as such and the others still run. */
async function outpostFigures(params: BenchParams, stack: CleanupStack) {
  return stack.scoped('outpost', async (scope) => {
    const { cluster, idleRssMiB } = await warmCluster(params, scope);
    note(`outpost.sync: ${params.syncJobs} jobs, ${params.concurrency} at a time`);
    const sync = await syncScenario(cluster, params).catch(failed);
    if (!('error' in sync)) note(`  ${sync.jobsPerSecond} jobs/s, p50 ${sync.latencyMs?.p50} ms, ${sync.errors} errors`);
    note(`outpost.async: ${params.asyncJobs} jobs submitted, then awaited`);
    const async = await asyncScenario(cluster, params).catch(failed);
    if (!('error' in async)) note(`  ${async.jobsPerSecond} jobs/s end to end, ${async.unfinished} unfinished`);
    const deepQueue = params.deepJobs === 0 ? { skipped: '--deep-jobs 0' } : await deepQueueFigures(cluster, params);
    return { idleRssMiB, sync, async, deepQueue };
  });
}

/** The soak: one stack, `soakJobs` jobs, and what each of its processes holds before and after. */
async function soakFigures(params: BenchParams, stack: CleanupStack) {
  return stack.scoped('soak', async (scope) => {
    const { cluster } = await warmCluster(params, scope);
    note(`soak: ${params.soakJobs} jobs, ${params.concurrency} at a time`);
    return soakScenario(cluster, params, note);
  });
}

async function deepQueueFigures(cluster: OutpostCluster, params: BenchParams) {
  note(`outpost.deepQueue: ${params.deepJobs} async jobs from ${params.deepUsers} users, submitted at once, then awaited`);
  const deep = await deepQueueScenario(cluster, params).catch(failed);
  if (!('error' in deep)) note(`  ${deep.queuedWhenSubmitted} queued after submitting, queued p50 ${deep.orchestratorView.queuedMs?.p50} ms, ${deep.unfinished} unfinished`);
  return deep;
}

async function peerFigures(params: BenchParams, stack: CleanupStack): Promise<PeerReport | { available: true; error: string }> {
  if (params.peer === 'none') return { available: false, reason: 'skipped (--peer none)' };
  note(`peer.celery: private RabbitMQ, Celery prefork ${params.peerWorkers}, same jobs`);
  try {
    const report = await stack.scoped('peer', (scope) => celeryPeer(params, scope));
    if (!report.available) note(`peer not available: ${report.reason}`);
    return report;
  } catch (error) {
    return { available: true, ...failed(error) };
  }
}

function ratios(outpost: { sync?: Figures; async?: Figures }, peer: { sync?: Figures; async?: Figures }) {
  return {
    meaning: 'Outpost divided by the peer, same run: throughput above 1 and latency below 1 favour Outpost',
    syncThroughput: ratio(outpost.sync?.jobsPerSecond, peer.sync?.jobsPerSecond),
    syncLatencyP50: ratio(outpost.sync?.latencyMs?.p50, peer.sync?.latencyMs?.p50),
    syncLatencyP99: ratio(outpost.sync?.latencyMs?.p99, peer.sync?.latencyMs?.p99),
    asyncThroughput: ratio(outpost.async?.jobsPerSecond, peer.async?.jobsPerSecond),
  };
}

/** Outpost's figures, then the peer's, and their ratios. */
async function comparison(params: BenchParams, stack: CleanupStack) {
  const outpost = await outpostFigures(params, stack).catch(failed);
  const peer = await peerFigures(params, stack);
  return {
    outpost,
    peer: { celery: peer },
    ratios: ratios(outpost as { sync?: Figures; async?: Figures }, peer as { sync?: Figures; async?: Figures }),
  };
}

async function main(): Promise<void> {
  const params = paramsOrExit('bench', process.argv.slice(2), (argv) => loadParams(argv, process.env), USAGE);
  const stack = new CleanupStack();
  stopOnSignals(stack);
  const report: Record<string, unknown> = {
    machine: machineFacts(),
    parameters: {
      ...params,
      totalSlots: params.agents * params.slotsPerAgent,
      workers: 'both sides run as many jobs at once: Celery prefork = peerWorkers, by default agents × slots (totalSlots)',
      agentFrom: 'dist/outpost-agent.tgz installed offline into a temporary prefix, as on a remote machine',
      job: '/bin/echo PROGRESS 50, one progress update (Outpost service noop; Celery task bench.noop)',
      layout: 'Prosody, orchestrator, each agent and the HTTP load generator run as separate processes on this machine',
    },
  };
  try {
    if (params.scenario === 'soak') report['soak'] = await soakFigures(params, stack).catch(failed);
    else if (params.scenario === 'scale-out') report['scaleOut'] = await scaleOutScenario(params, stack, note).catch(failed);
    else Object.assign(report, await comparison(params, stack));
  } finally {
    await stack.run();
  }
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

await main();
