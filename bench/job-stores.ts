import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { openDatabase } from '../src/store/database.js';
import type { JobStoreApi } from '../src/store/job-store-api.js';
import { PostgresJobStore } from '../src/store/postgres/postgres-job-store.js';
import { openPostgres } from '../src/store/postgres/postgres-pool.js';
import { SqliteJobStore } from '../src/store/sqlite-job-store.js';
import { perSecond, summarize } from './stats.js';

/*
 * `node dist/bench/job-stores.js [--jobs N] [--concurrency C] [--database postgres://…]`: the
 * writes of N jobs' lives (create, assign, running, one progress, finish), C jobs at a time,
 * through JobStoreApi on SQLite in a temporary file and, given --database, on that (empty)
 * PostgreSQL database. Wall time, each job's five writes, and this process's CPU per job. One JSON
 * document on stdout.
 */

const { values } = parseArgs({ options: { jobs: { type: 'string', default: '2000' }, concurrency: { type: 'string', default: '16' }, database: { type: 'string' } } });
const jobs = Number(values.jobs);
const concurrency = Number(values.concurrency);

async function lives(store: JobStoreApi, prefix: string) {
  const latencies: number[] = [];
  const cpu = process.cpuUsage();
  const start = performance.now();
  let next = 0;
  const worker = async () => {
    for (let n = next++; n < jobs; n = next++) {
      const id = `${prefix}-${n}`;
      const began = performance.now();
      const now = new Date().toISOString();
      await store.create({
        id, processId: 'echo', status: 'accepted', owner: 'bench', agent: null, inputs: { echo: 'hello' }, execution: { response: 'document' },
        progress: 0, message: null, created: now, started: null, finished: null, updated: now, results: null, error: null, lastSeq: 0, dismissedBy: null,
      });
      await store.assign(id, 'agent@bench/a');
      await store.markRunning(id, 'agent@bench/a', now);
      await store.recordProgress(id, 1, 50, 'halfway');
      await store.finish(id, 2, { status: 'successful', results: { echo: { value: 'hello' } } });
      latencies.push(performance.now() - began);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { jobsPerSecond: perSecond(jobs, elapsed), jobMs: summarize(latencies), cpuMsPerJob: Math.round(((used.user + used.system) / 1000 / jobs) * 1000) / 1000 };
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-bench-stores-'));
try {
  const db = openDatabase(path.join(dir, 'outpost.db'));
  const sqlite = await lives(new SqliteJobStore(db), 'sqlite');
  db.close();
  let postgres;
  if (values.database) {
    const pool = await openPostgres(values.database);
    postgres = await lives(new PostgresJobStore(pool), `pg-${Date.now()}`);
    await pool.end();
  }
  process.stdout.write(`${JSON.stringify({ jobs, concurrency, loadAverage1m: os.loadavg()[0], sqlite, postgres: postgres ?? null }, null, 2)}\n`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
