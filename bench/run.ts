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
import { median, ratio } from './stats.js';

/*
 * `npm run bench`: Outpost's own figures and the peer's (Celery + RabbitMQ) with the same counts
 * and concurrency, one after the other so they never share the cores, in rounds, and their ratios.
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
async function outpostFigures(params: BenchParams, stack: CleanupStack, firstRound: boolean) {
  return stack.scoped('outpost', async (scope) => {
    const { cluster, idleRssMiB } = await warmCluster(params, scope);
    note(`outpost.sync: ${params.syncJobs} jobs, ${params.concurrency} at a time`);
    const sync = await syncScenario(cluster, params).catch(failed);
    if (!('error' in sync)) note(`  ${sync.jobsPerSecond} jobs/s, p50 ${sync.latencyMs?.p50} ms, ${sync.errors} errors`);
    note(`outpost.async: ${params.asyncJobs} jobs submitted, then awaited`);
    const async = await asyncScenario(cluster, params).catch(failed);
    if (!('error' in async)) note(`  ${async.jobsPerSecond} jobs/s end to end, ${async.unfinished} unfinished`);
    const deepQueue =
      params.deepJobs === 0 ? { skipped: '--deep-jobs 0' } : firstRound ? await deepQueueFigures(cluster, params) : { skipped: 'run in the first round only' };
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

type Side = { sync?: Figures; async?: Figures };

/** The figures the ratios compare, of one side. */
function headline(side: Side) {
  return {
    syncJobsPerSecond: side.sync?.jobsPerSecond,
    syncLatencyP50: side.sync?.latencyMs?.p50,
    syncLatencyP99: side.sync?.latencyMs?.p99,
    asyncJobsPerSecond: side.async?.jobsPerSecond,
  };
}
type Headline = ReturnType<typeof headline>;

function ratios(outpost: Headline, peer: Headline) {
  return {
    syncThroughput: ratio(outpost.syncJobsPerSecond, peer.syncJobsPerSecond),
    syncLatencyP50: ratio(outpost.syncLatencyP50, peer.syncLatencyP50),
    syncLatencyP99: ratio(outpost.syncLatencyP99, peer.syncLatencyP99),
    asyncThroughput: ratio(outpost.asyncJobsPerSecond, peer.asyncJobsPerSecond),
  };
}

/** Each headline figure's median over the rounds. */
function medians(sides: Side[]): Headline {
  const headlines = sides.map(headline);
  const of = (figure: keyof Headline) => median(headlines.map((figures) => figures[figure]));
  return { syncJobsPerSecond: of('syncJobsPerSecond'), syncLatencyP50: of('syncLatencyP50'), syncLatencyP99: of('syncLatencyP99'), asyncJobsPerSecond: of('asyncJobsPerSecond') };
}

/**
 * `--rounds` rounds, each starting both systems afresh and measuring one, then the other; the
 * order swaps every round (Outpost first, then the peer first). This machine's speed drifts by a
 * third within a minute (docs/decisions.md, Performance), so one system measured in a slow minute
 * and the other in a fast one made the ratio of one round say more about the machine than about
 * them; swapped turns weigh on both alike.
 */
async function comparison(params: BenchParams, stack: CleanupStack) {
  const rounds = [];
  for (let index = 0; index < params.rounds; index++) {
    const outpostFirst = index % 2 === 0;
    note(`round ${index + 1} of ${params.rounds}: ${outpostFirst ? 'Outpost, then the peer' : 'the peer, then Outpost'}`);
    const measureOutpost = () => outpostFigures(params, stack, index === 0).catch(failed);
    let outpost: Awaited<ReturnType<typeof measureOutpost>>;
    let peer: Awaited<ReturnType<typeof peerFigures>>;
    if (outpostFirst) {
      outpost = await measureOutpost();
      peer = await peerFigures(params, stack);
    } else {
      peer = await peerFigures(params, stack);
      outpost = await measureOutpost();
    }
    const order = outpostFirst ? ['outpost', 'celery'] : ['celery', 'outpost'];
    rounds.push({ order, outpost, peer: { celery: peer }, ratios: ratios(headline(outpost as Side), headline(peer as Side)) });
  }
  const outpost = medians(rounds.map((round) => round.outpost as Side));
  const celery = medians(rounds.map((round) => round.peer.celery as Side));
  return {
    rounds,
    medians: { outpost, celery },
    ratios: { meaning: "Outpost's median over the rounds divided by the peer's: throughput above 1 and latency below 1 favour Outpost", ...ratios(outpost, celery) },
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
