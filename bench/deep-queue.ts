import type { OutpostCluster } from './outpost-cluster.js';
import { asyncScenario } from './outpost-scenarios.js';
import type { BenchParams } from './params.js';

/**
 * `deepJobs` async jobs from `deepUsers` users taking turns, submitted as fast as the clients
 * are answered, so that most of them wait in the orchestrator's queue; then awaited. The figures
 * that matter are the queue's depth and how long jobs waited in it (`orchestratorView.queuedMs`).
 */
export async function deepQueueScenario(cluster: OutpostCluster, params: BenchParams) {
  const { tokens } = await cluster.orchestrator.request({ type: 'user-tokens', count: params.deepUsers });
  const headers = (index: number) => ({ authorization: `Bearer ${tokens[index % tokens.length]}` });
  return { users: params.deepUsers, ...(await asyncScenario(cluster, params, { jobs: params.deepJobs, seconds: params.deepSeconds, headers })) };
}
