import { closedLoop } from './closed-loop.js';
import type { FleetParams } from './fleet-params.js';
import { fleetProcessId } from './fleet-process.js';
import { expectStatus, HttpClient } from './http-client.js';
import { perSecond, summarize } from './stats.js';

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

/** One read repeated `count` times, one at a time: its latencies, and how many processes the last answer listed. */
async function reads(client: HttpClient, count: number, path: () => string) {
  let last = '{}';
  const run = await closedLoop({
    count,
    concurrency: 1,
    timeLimitMs: 120_000,
    operation: async () => void (last = expectStatus(await client.request('GET', path()), 200, 'read').body),
  });
  // Parsed once, outside the timed requests: the figure is the server's and the transfer's.
  const listed = (JSON.parse(last) as { processes?: unknown[] }).processes?.length ?? 1;
  return { latencyMs: summarize(run.latenciesMs), errors: run.errors, firstError: run.firstError, itemsInLastAnswer: listed };
}

/**
 * What clients see while the whole fleet is connected: process list and description reads, then
 * sync executions of random fleet processes, one at a time, over at least two ping intervals so
 * that liveness rounds and the agents' own pings and presences fall into it.
 */
export async function fleetMeasurements(url: string, params: FleetParams, usernames: string[], note: (text: string) => void, readsDone: () => Promise<unknown>) {
  const client = new HttpClient(url, 2);
  const processId = () => fleetProcessId(params.ids, pick(usernames), 1 + Math.floor(Math.random() * params.processes));
  try {
    note(`reads: ${params.requests} × GET /processes?limit=1000, ${params.requests} × GET /processes/{id}`);
    const list = await reads(client, params.requests, () => '/processes?limit=1000');
    const description = await reads(client, params.requests, () => `/processes/${processId()}`);
    await readsDone();
    note(`executions: sync, one at a time, for ${params.executeSeconds} s`);
    const run = await closedLoop({
      count: Number.MAX_SAFE_INTEGER,
      concurrency: 1,
      timeLimitMs: params.executeSeconds * 1000,
      operation: async () => {
        const answer = expectStatus(await client.request('POST', `/processes/${processId()}/execution`, { inputs: {} }), 200, 'sync execution');
        if (!answer.body.includes('done')) throw new Error(`sync execution: unexpected result ${answer.body.slice(0, 200)}`);
      },
    });
    return {
      processesList: { path: '/processes?limit=1000', ...list },
      processDescription: { path: '/processes/{random id}', ...description },
      executions: {
        mode: 'sync, one at a time, a random process of a random agent',
        seconds: params.executeSeconds,
        jobs: run.completed,
        jobsPerSecond: perSecond(run.completed, run.elapsedMs),
        errors: run.errors,
        firstError: run.firstError,
        latencyMs: summarize(run.latenciesMs),
      },
    };
  } finally {
    client.close();
  }
}
