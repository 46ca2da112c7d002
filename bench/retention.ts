import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { DEFAULT_RETENTION_BATCH } from '../src/jobs/retention-sweep.js';
import { openDatabase } from '../src/store/database.js';
import { JobStore } from '../src/store/job-store.js';
import { JobRetention } from '../src/store/job-retention.js';
import { summarize } from './stats.js';

/*
 * `node dist/bench/retention.js [--jobs N] [--batch N]`: how long one retention batch holds the
 * store (and so may delay dispatch) on a database of N finished jobs, half of them past the
 * default keep time of a week. One JSON document on stdout.
 */

const DAY_MS = 24 * 3600_000;
const KEEP_MS = 7 * DAY_MS;

const { values } = parseArgs({ options: { jobs: { type: 'string', default: '100000' }, batch: { type: 'string', default: String(DEFAULT_RETENTION_BATCH) } } });
const jobs = Number(values.jobs);
const batch = Number(values.batch);
const dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-bench-retention-'));
try {
  const db = openDatabase(path.join(dir, 'outpost.db'));
  const store = new JobStore(db);
  const now = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  db.transaction(() => {
    for (let i = 0; i < jobs; i += 1) {
      // Spread evenly over the last two weeks: the older half has been kept long enough.
      const finished = now - (i / jobs) * 2 * KEEP_MS;
      const running = i % 100 === 0;
      store.create({
        id: `job-${i}`, processId: `process-${i % 50}`, status: running ? 'running' : 'successful', owner: 'bench', agent: 'agent@bench/a',
        inputs: { text: 'hello' }, execution: { response: 'document' }, progress: 100, message: null,
        created: iso(finished - 1000), started: iso(finished - 500), finished: running ? null : iso(finished), updated: iso(finished),
        results: running ? null : { result: { value: 'hello' } }, error: null, lastSeq: 2, dismissedBy: null,
      });
    }
  })();
  // As a server's database between its writes: the seeding transaction's WAL written back.
  db.pragma('wal_checkpoint(TRUNCATE)');
  const retention = new JobRetention(db);
  // A few processes keep their jobs for their own time, as service files may ask.
  for (let p = 0; p < 5; p += 1) retention.setProcessKeep(`process-${p}`, (p + 1) * 24 * 3600);
  const times: number[] = [];
  // CPU time beside wall time: on a busy machine the wall time is mostly waiting for the disk and the cores.
  const cpuTimes: number[] = [];
  let removed = 0;
  for (;;) {
    const start = performance.now();
    const cpu = process.cpuUsage();
    const count = retention.expire(KEEP_MS, new Date(now), batch).length;
    times.push(performance.now() - start);
    const used = process.cpuUsage(cpu);
    cpuTimes.push((used.user + used.system) / 1000);
    removed += count;
    if (count < batch) break;
  }
  process.stdout.write(
    `${JSON.stringify({
      jobs,
      batchSize: batch,
      removed,
      batches: times.length,
      firstBatchMs: Math.round(times[0]! * 100) / 100,
      batchMs: summarize(times),
      batchCpuMs: summarize(cpuTimes),
      loadAverage1m: os.loadavg()[0],
      totalMs: Math.round(times.reduce((a, b) => a + b, 0)),
      left: (db.prepare('SELECT count(*) AS n FROM jobs').get() as { n: number }).n,
    }, null, 2)}\n`,
  );
  db.close();
} finally {
  await rm(dir, { recursive: true, force: true });
}
