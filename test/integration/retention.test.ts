import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { JobEvent } from '../../src/jobs/job-events.js';
import { AuditStore, commandLineAction } from '../../src/store/audit-store.js';
import { openDatabase } from '../../src/store/database.js';
import { eventually, startCluster, type Cluster } from '../helpers/cluster.js';
import { writeProperties, writeScript } from '../helpers/temp-services.js';

const KEEP_SECONDS = 3;

describe('retention: finished jobs, their files and old audit entries go after --keep-jobs', function () {
  this.timeout(30_000);
  let cluster: Cluster;
  let servicesDir: string;
  const removed: JobEvent[] = [];

  before(async function () {
    cluster = await startCluster({ keepJobs: KEEP_SECONDS, tuning: { retention: { intervalMs: 100, batchSize: 1 } } });
    servicesDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-services-'));
    const fileOutput = JSON.stringify({ report: { type: 'file', from: 'file:report.txt' } });
    await writeScript(servicesDir, 'bin/report.sh', 'echo done > report.txt');
    await writeScript(servicesDir, 'bin/slow.sh', 'sleep 30');
    await writeProperties(servicesDir, 'report.properties', { service: 'report', executable: 'bin/report.sh', outputs: fileOutput });
    await writeProperties(servicesDir, 'brief.properties', { service: 'brief', executable: 'bin/report.sh', outputs: fileOutput, keep_jobs: '1' });
    await writeProperties(servicesDir, 'slow.properties', { service: 'slow', executable: 'bin/slow.sh', max_parallel: '1' });
    await cluster.addAgent('keeper', servicesDir, { slots: 3 });
    cluster.orchestrator.lifecycle.events.listen((event) => {
      if (event.type === 'removed') removed.push(event);
    });
  });
  after(async function () {
    await cluster.stop();
    await rm(servicesDir, { recursive: true, force: true });
  });

  const url = (route: string) => `${cluster.orchestrator.url}${route}`;
  const submit = async (process: string) => {
    const response = await cluster.api(url(`/processes/${process}/execution`), { method: 'POST', headers: { 'content-type': 'application/json', Prefer: 'respond-async' }, body: '{}' });
    expect(response.status).to.equal(201);
    return ((await response.json()) as { jobID: string }).jobID;
  };
  const statusOf = async (jobId: string) => {
    const response = await cluster.api(url(`/jobs/${jobId}`));
    const body = (await response.json()) as { status?: string; detail?: string };
    return response.status === 404 ? `404 ${body.detail}` : body.status;
  };
  const until = (jobId: string, status: string, timeoutMs = 10_000) =>
    eventually(async () => ((await statusOf(jobId)) === status ? true : undefined), timeoutMs, `job ${jobId} ${status}`);
  const resultsOf = (jobId: string) => path.join(cluster.dataDir, 'results', jobId);
  // The files go right after the record.
  const filesGone = (jobId: string) => eventually(() => (existsSync(resultsOf(jobId)) ? undefined : true), 2000, `files of ${jobId} removed`);

  it("removes each finished job after its keep time (the process's own or the server's), never running or waiting ones", async function () {
    const db = openDatabase(path.join(cluster.dataDir, 'outpost.db'));
    // Jobs take their process's keep time once the orchestrator has recorded it from the catalog.
    const keepOf = db.prepare('SELECT keep_seconds FROM process_retention WHERE process_id = ?').pluck();
    expect(await eventually(() => keepOf.get('brief'), 3000, 'keep_jobs of brief recorded')).to.equal(1);
    expect(keepOf.get('report')).to.equal(undefined);
    const kept = await submit('report');
    const brief = await submit('brief');
    await until(kept, 'successful');
    await until(brief, 'successful');
    expect(existsSync(path.join(resultsOf(kept), 'report'))).to.equal(true);
    expect(existsSync(path.join(resultsOf(brief), 'report'))).to.equal(true);
    const running = await submit('slow');
    await until(running, 'running');
    const waiting = await submit('slow');
    expect(await statusOf(waiting)).to.equal('accepted');

    // An audit entry as old as the keep time goes with the jobs; a new one stays.
    const audit = new AuditStore(db);
    await audit.record(commandLineAction('agent.add', 'old@example.org'), new Date(Date.now() - 3600_000));
    // Dated a minute ahead, so that however slowly the test runs it stays younger than the keep time.
    await audit.record(commandLineAction('agent.add', 'new@example.org'), new Date(Date.now() + 60_000));

    // `brief` keeps its jobs 1 s (keep_jobs=1): gone well before the server's 3 s have passed for the other.
    await until(brief, `404 job '${brief}' does not exist`, 5000);
    expect(await statusOf(kept)).to.equal('successful');
    await filesGone(brief);

    await until(kept, `404 job '${kept}' does not exist`, 8000);
    await filesGone(kept);
    expect(await statusOf(running)).to.equal('running');
    expect(await statusOf(waiting)).to.equal('accepted');
    expect(removed.map((event) => [event.job.id, event.type === 'removed' && event.reason])).to.deep.equal([[brief, 'expired'], [kept, 'expired']]);
    expect((await audit.list({ limit: 10, offset: 0 })).entries.map((entry) => entry.target)).to.deep.equal(['new@example.org']);
    db.close();
  });
});
